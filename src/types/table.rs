//! A table's definition as the catalog keeps it and every layer reads it.

use serde::{Deserialize, Serialize};

use crate::types::foreign::ForeignKey;
use crate::types::PgType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: PgType,
    pub not_null: bool,
    /// The DEFAULT expression, as PostgreSQL SQL text. An identity
    /// column's is the `nextval` of its sequence.
    pub default: Option<String>,
    /// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// What rows stored before the column existed read for it, as
    /// PostgreSQL SQL text (PostgreSQL's `attmissingval`): the default it
    /// was added with, kept when SET/DROP DEFAULT changes the default.
    /// `None`: the current default (catalogs from before ALTER … DEFAULT).
    #[serde(default)]
    pub missing: Option<String>,
    /// Names this column had before RENAME COLUMN: shards sealed then
    /// store it under one of them.
    #[serde(default)]
    pub former_names: Vec<String>,
    /// COMMENT ON COLUMN.
    #[serde(default)]
    pub comment: Option<String>,
    /// The options and run of the implicit sequence of a serial or
    /// identity column, when they are not a serial's defaults.
    #[serde(default)]
    pub sequence: Option<Box<crate::types::sequence::SequenceDef>>,
    /// `GENERATED ALWAYS AS (expr) STORED`: the expression, as PostgreSQL
    /// SQL text over the table's other columns (`sql::ddl::generated`).
    #[serde(default)]
    pub generated: Option<String>,
    /// The types the column had before ALTER COLUMN … TYPE changes that
    /// convert its values, oldest first: sealed shards keep the values
    /// they were written with, and a read converts them (`stored_as_is`).
    #[serde(default)]
    pub earlier_types: Vec<PgType>,
    /// The domain the column's type is (`ty` is then its base type): a
    /// copy of its definition, rewritten by ALTER DOMAIN
    /// (`types::domain`).
    #[serde(default)]
    pub domain: Option<Box<crate::types::domain::DomainType>>,
}

impl Column {
    /// A column with no default, identity or history.
    pub fn new(name: impl Into<String>, ty: PgType, not_null: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            not_null,
            default: None,
            identity: None,
            comment: None,
            missing: None,
            former_names: vec![],
            sequence: None,
            generated: None,
            earlier_types: vec![],
            domain: None,
        }
    }

    /// The default an INSERT gives the column when it names no value: its
    /// own, else its domain's.
    pub fn effective_default(&self) -> Option<&str> {
        self.default
            .as_deref()
            .or_else(|| self.domain.as_ref().and_then(|d| d.default.as_deref()))
    }

    /// Whether a value this column's shards store as type `stored` reads
    /// as the column's value unchanged; when not, a read converts it (a
    /// shard sealed before ALTER COLUMN … TYPE converted the column).
    pub fn stored_as_is(&self, stored: &PgType) -> bool {
        self.earlier_types.is_empty() || same_values(stored, &self.ty)
    }

    /// The definition of this serial or identity column's implicit
    /// sequence (a serial's defaults unless options were given).
    pub fn sequence_def(&self) -> crate::types::sequence::SequenceDef {
        match &self.sequence {
            Some(def) => (**def).clone(),
            None => crate::types::sequence::SequenceDef::serial(self.ty.clone()),
        }
    }

    /// Every name a shard or open segment may store this column under:
    /// its name first, then its former names, latest first.
    pub fn storage_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.former_names.iter().rev().map(|n| n.as_str()))
    }

    /// What a row stored before the column existed reads for it, as
    /// PostgreSQL SQL (`None`: NULL).
    pub fn missing_value(&self) -> Option<&str> {
        match self.missing.as_deref() {
            Some("NULL") => None,
            Some(m) => Some(m),
            None => self.default.as_deref(),
        }
        .filter(|d| sequence_name(d).is_none())
    }

    /// The default PostgreSQL's catalogs show: an identity column has
    /// none (its sequence is its own, not a default).
    pub fn shown_default(&self) -> Option<&str> {
        match self.identity {
            Some(_) => None,
            None => self.default.as_deref(),
        }
    }
}

/// How an identity column takes values given by INSERT and UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Identity {
    /// Only with OVERRIDING SYSTEM VALUE (pg_attribute.attidentity `a`).
    Always,
    /// Like a default (`d`).
    ByDefault,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// The INCLUDE columns (stored alongside, not part of the key).
    #[serde(default)]
    pub include: Vec<String>,
    /// Each key column's operator class when it is not the default one
    /// (`varchar_pattern_ops`), in the order of `columns`; empty when
    /// every one is the default. It changes no answer here.
    #[serde(default)]
    pub opclasses: Vec<Option<String>>,
    /// Each key's expression (PostgreSQL SQL text) in the order of
    /// `columns`, whose entry is empty for an expression key; empty when
    /// no key is an expression.
    #[serde(default)]
    pub exprs: Vec<Option<String>>,
    /// The WHERE of a partial index (PostgreSQL SQL text).
    #[serde(default)]
    pub predicate: Option<String>,
    /// Each key's `indoption` bits (1: DESC, 2: NULLS FIRST) in the order
    /// of `columns`; empty when every one is 0. They change no answer.
    #[serde(default)]
    pub options: Vec<i16>,
    /// The access method when it is pgvector's `hnsw` or `ivfflat`
    /// (`sql::vector_index`), kept for the catalogs: nothing is built for
    /// it. `None`: btree.
    #[serde(default)]
    pub method: Option<String>,
    /// Storage parameters (`WITH (m = 16)`), as PostgreSQL prints them.
    #[serde(default)]
    pub with: Vec<(String, String)>,
}

impl Index {
    /// The expression of key `i`, if it is one.
    pub fn expr(&self, i: usize) -> Option<&str> {
        self.exprs.get(i).and_then(|e| e.as_deref())
    }

    /// Whether the index is more than a list of columns (an expression
    /// key or a predicate), which SQLite's own key checks cannot name.
    pub fn is_general(&self) -> bool {
        self.predicate.is_some() || self.exprs.iter().any(|e| e.is_some())
    }

    /// Whether shard files hold this index: a plain list of columns
    /// (expression and partial indexes only speed reads, and pgvector's
    /// methods have nothing built).
    pub fn in_shards(&self) -> bool {
        !self.is_general() && self.method.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TableDef {
    pub name: String,
    /// Stable object id, used as pg_class.oid and in RowDescription.
    pub oid: u32,
    pub columns: Vec<Column>,
    /// Column positions of the primary key (empty when there is none).
    pub primary_key: Vec<usize>,
    /// Each UNIQUE constraint (the primary key excluded).
    pub unique: Vec<UniqueKey>,
    /// CHECK constraints, as PostgreSQL SQL text.
    pub checks: Vec<String>,
    pub indexes: Vec<Index>,
    /// FOREIGN KEY constraints of this table (as the referencing table).
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// COMMENT ON TABLE (VIEW, SEQUENCE).
    #[serde(default)]
    pub comment: Option<String>,
    /// A table, or another kind of relation sharing its namespace.
    #[serde(default)]
    pub kind: RelKind,
    /// What ALTER TABLE left behind that reads of old shards need.
    #[serde(default)]
    pub altered: Box<Altered>,
    /// A temporary table (CREATE TEMP TABLE): its session's own, never in
    /// the shared catalog; what happens to it at COMMIT.
    #[serde(default)]
    pub temp: Option<OnCommit>,
    /// Its owner and access control list (GRANT, REVOKE).
    #[serde(default)]
    pub access: crate::types::acl::Access,
}

/// What COMMIT does to a temporary table (`ON COMMIT …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnCommit {
    PreserveRows,
    DeleteRows,
    Drop,
}

/// The traces of ALTER TABLE in a table's definition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Altered {
    /// The name given to each CHECK constraint (`CONSTRAINT n CHECK …`),
    /// by position in `checks`; a missing or `None` entry is named as
    /// PostgreSQL derives it.
    pub check_names: Vec<Option<String>>,
    /// Names of dropped columns (and former names of renamed ones that
    /// were dropped): older shards may still hold columns by these names,
    /// so no column may take one again.
    pub retired: Vec<String>,
    /// CHECK and FOREIGN KEY constraints added NOT VALID and not validated
    /// since, by name: rows written since are checked, older ones not.
    #[serde(default)]
    pub not_valid: Vec<String>,
    /// The primary key's name when the DDL gave it one (`CONSTRAINT n
    /// PRIMARY KEY`, RENAME CONSTRAINT); else `<table>_pkey`.
    #[serde(default)]
    pub pk_name: Option<String>,
}

/// What a catalog relation is, as `pg_class.relkind` tells them apart.
/// Tables, views and sequences share one namespace, one journal and one
/// way of spreading to every node.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum RelKind {
    #[default]
    Table,
    /// A view: its columns are the definition's `columns`; `query` is its
    /// defining query as PostgreSQL SQL, expanded wherever the view is
    /// named; `depends_on` are the relations the query names, which cannot
    /// be dropped while the view exists.
    View {
        query: String,
        depends_on: Vec<String>,
    },
    /// A materialized view: a table whose rows are its query's, as of its
    /// last REFRESH (none to read while not `populated`).
    MatView {
        query: String,
        depends_on: Vec<String>,
        populated: bool,
    },
    /// A sequence (CREATE SEQUENCE); it has no columns here.
    Sequence(Box<crate::types::sequence::SequenceDef>),
    /// An enum type (CREATE TYPE … AS ENUM). Not a relation: it shares
    /// the namespace (as a table's row type does in PostgreSQL), the
    /// journal and the spreading, and the catalog's relation lookups skip
    /// it.
    Enum(Box<crate::types::enums::EnumType>),
    /// A domain (CREATE DOMAIN), not a relation either.
    Domain(Box<crate::types::domain::DomainType>),
    /// A SQL function (CREATE FUNCTION … LANGUAGE sql), under its own key
    /// (`types::function::key`): not a relation either.
    Function(Box<crate::types::function::FunctionDef>),
    /// A schema (CREATE SCHEMA), under its own key (`types::schema::key`):
    /// not a relation; its name is `TableDef.name` less the key's prefix,
    /// its owner `TableDef.access`.
    Schema(String),
}

impl TableDef {
    /// Whether this is a session's temporary table.
    pub fn is_temp(&self) -> bool {
        self.temp.is_some()
    }

    /// The SQLite schema of the table's open segment on the session's
    /// connection: `temp` (the connection's own) for a temporary table.
    pub fn segment_schema(&self) -> &'static str {
        if self.is_temp() {
            "temp"
        } else {
            "main"
        }
    }

    /// The open segment as SQLite SQL names it: `main."t"` or `temp."t"`.
    pub fn segment(&self) -> String {
        format!(
            "{}.{}",
            self.segment_schema(),
            crate::types::quote(&self.name)
        )
    }

    /// Whether constraint `name` holds for every row (it was not added
    /// NOT VALID, or was validated since): pg_constraint.convalidated.
    pub fn is_validated(&self, name: &str) -> bool {
        !self.altered.not_valid.iter().any(|n| n == name)
    }

    /// Whether rows of this relation are stored (in segments and shards):
    /// a table or a materialized view.
    pub fn is_table(&self) -> bool {
        matches!(self.kind, RelKind::Table | RelKind::MatView { .. })
    }

    pub fn is_matview(&self) -> bool {
        matches!(self.kind, RelKind::MatView { .. })
    }

    /// The relations a view or materialized view reads.
    pub fn depends_on(&self) -> &[String] {
        match &self.kind {
            RelKind::View { depends_on, .. } | RelKind::MatView { depends_on, .. } => depends_on,
            _ => &[],
        }
    }

    /// The defining query of a view.
    pub fn view_query(&self) -> Option<&str> {
        match &self.kind {
            RelKind::View { query, .. } => Some(query),
            _ => None,
        }
    }

    /// The definition of a SQL function.
    pub fn function(&self) -> Option<&crate::types::function::FunctionDef> {
        match &self.kind {
            RelKind::Function(f) => Some(f),
            _ => None,
        }
    }

    /// Whether this is a relation (not a type or a function), as the
    /// catalog's relation lookups see it.
    pub fn is_relation(&self) -> bool {
        !matches!(
            self.kind,
            RelKind::Enum(_) | RelKind::Domain(_) | RelKind::Function(_) | RelKind::Schema(_)
        )
    }

    /// The schema the relation lives in (`types::schema::split`).
    pub fn schema_name(&self) -> &str {
        crate::types::schema::split(&self.name).0
    }

    /// The name SQLite knows this table's index `index` by in the open
    /// segment's database, where every schema's indexes share one
    /// namespace: qualified as the table is (`types::schema::beside`).
    pub fn index_storage_name(&self, index: &str) -> String {
        crate::types::schema::beside(&self.name, index)
    }

    /// The relation's name within its schema.
    pub fn rel_name(&self) -> &str {
        crate::types::schema::split(&self.name).1
    }

    /// The definition of a domain.
    pub fn domain_type(&self) -> Option<&crate::types::domain::DomainType> {
        match &self.kind {
            RelKind::Domain(d) => Some(d),
            _ => None,
        }
    }

    /// Whether this is a user-defined type (an enum type or a domain),
    /// which shares the relations' namespace as a row type would.
    pub fn is_user_type(&self) -> bool {
        matches!(self.kind, RelKind::Enum(_) | RelKind::Domain(_))
    }

    /// Whether a column of this relation is of domain `name`.
    pub fn uses_domain(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.domain.as_ref().is_some_and(|d| d.name == name))
    }

    /// The definition of an enum type.
    pub fn enum_type(&self) -> Option<&crate::types::enums::EnumType> {
        match &self.kind {
            RelKind::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// The enum types this relation's columns use, by name.
    pub fn uses_enum(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| matches!(&c.ty, crate::types::PgType::Enum(e) if e.name == name))
    }

    /// The definition of a sequence.
    pub fn sequence(&self) -> Option<&crate::types::sequence::SequenceDef> {
        match &self.kind {
            RelKind::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// The CHECK constraints' names, in the order of `checks`: the name
    /// given, or PostgreSQL's `<table>_<first column it mentions>_check`,
    /// numbered when repeated.
    pub fn check_constraint_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, check) in self.checks.iter().enumerate() {
            if let Some(Some(n)) = self.altered.check_names.get(i) {
                out.push(n.clone());
                continue;
            }
            let base = match self.check_column(check) {
                Some(c) => format!("{}_{}_check", self.rel_name(), self.columns[c].name),
                None => format!("{}_check", self.rel_name()),
            };
            let mut name = base.clone();
            let mut n = 0;
            while out.contains(&name) {
                n += 1;
                name = format!("{base}{n}");
            }
            out.push(name);
        }
        out
    }

    /// The column a CHECK constraint is named after, as PostgreSQL names
    /// it: the one column its expression reads, if it reads exactly one.
    pub fn check_column(&self, check: &str) -> Option<usize> {
        match self.check_columns(check).as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The columns (positions, in table order) a CHECK expression reads:
    /// the words outside its string literals that name a column.
    pub fn check_columns(&self, check: &str) -> Vec<usize> {
        let code: Vec<&str> = check.split('\'').step_by(2).collect();
        let words: Vec<&str> = code
            .iter()
            .flat_map(|part| part.split(|c: char| !(c.is_alphanumeric() || c == '_')))
            .collect();
        (0..self.columns.len())
            .filter(|&i| words.contains(&self.columns[i].name.as_str()))
            .collect()
    }

    /// Record on each serial or identity column that its implicit sequence
    /// is its own, which is otherwise read from the sequence's name
    /// (`<table>_<column>_seq`, as PostgreSQL named it): a rename of the
    /// table or the column must not take the sequence from it.
    pub fn freeze_sequence_owners(&mut self) {
        let (name, rel) = (self.name.clone(), self.rel_name().to_string());
        for c in &mut self.columns {
            let Some(seq) = c.default.as_deref().and_then(sequence_name) else {
                continue;
            };
            let own = crate::types::schema::beside(&name, &format!("{rel}_{}_seq", c.name));
            if seq != own || c.sequence.as_ref().is_some_and(|s| s.owned_by.is_some()) {
                continue;
            }
            let mut def = c.sequence_def();
            def.owned_by = Some((name.clone(), c.name.clone()));
            c.sequence = Some(Box::new(def));
        }
    }

    /// The table whose columns' implicit sequences say they own them is
    /// now named `new` (`freeze_sequence_owners` first).
    pub fn sequence_owners_renamed(&mut self, old: &str, new: &str) {
        for s in self.columns.iter_mut().filter_map(|c| c.sequence.as_mut()) {
            if let Some((t, _)) = s.owned_by.as_mut().filter(|(t, _)| t == old) {
                *t = new.to_string();
            }
        }
    }

    /// Whether no column may be named `name` because shards may hold an
    /// older column by that name.
    pub fn name_taken_in_storage(&self, name: &str) -> bool {
        self.altered.retired.iter().any(|r| r == name)
            || self
                .columns
                .iter()
                .any(|c| c.former_names.iter().any(|f| f == name))
    }

    /// Position of a column by name (names are stored lowercased unless quoted).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The primary key constraint's (and its index's) name.
    pub fn pk_name(&self) -> String {
        match &self.altered.pk_name {
            Some(n) => n.clone(),
            None => format!("{}_pkey", self.rel_name()),
        }
    }

    /// Every unique key of the table: the primary key first, then UNIQUE constraints.
    pub fn unique_keys(&self) -> impl Iterator<Item = &Vec<usize>> {
        std::iter::once(&self.primary_key)
            .filter(|k| !k.is_empty())
            .chain(self.unique.iter().map(|u| &u.columns))
    }

    /// The name of the constraint behind a unique key of this table, as
    /// PostgreSQL names it: `<table>_pkey`, the name given in `CONSTRAINT
    /// name UNIQUE (…)`, or `<table>_<columns>_key`.
    pub fn key_constraint_name(&self, key: &[usize]) -> String {
        if !self.primary_key.is_empty() && key == self.primary_key.as_slice() {
            return self.pk_name();
        }
        match self.unique.iter().find(|u| u.columns == key) {
            Some(u) => u.constraint_name(self),
            None => UniqueKey::derived_name(self, key),
        }
    }
}

/// A UNIQUE constraint: its columns and, when the DDL named it, its name.
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueKey {
    /// Column positions.
    pub columns: Vec<usize>,
    pub name: Option<String>,
}

impl UniqueKey {
    pub fn new(columns: Vec<usize>, name: Option<String>) -> UniqueKey {
        UniqueKey { columns, name }
    }

    /// The constraint's name: the one given, or PostgreSQL's
    /// `<table>_<col>_<col>_key`.
    pub fn constraint_name(&self, def: &TableDef) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => Self::derived_name(def, &self.columns),
        }
    }

    fn derived_name(def: &TableDef, key: &[usize]) -> String {
        let cols: Vec<&str> = key
            .iter()
            .filter_map(|&i| def.columns.get(i).map(|c| c.name.as_str()))
            .collect();
        format!("{}_{}_key", def.rel_name(), cols.join("_"))
    }
}

impl From<Vec<usize>> for UniqueKey {
    fn from(columns: Vec<usize>) -> UniqueKey {
        UniqueKey::new(columns, None)
    }
}

impl std::ops::Deref for UniqueKey {
    type Target = Vec<usize>;
    fn deref(&self) -> &Vec<usize> {
        &self.columns
    }
}

/// How a unique key reads and writes in `catalog.db` (JSON): a bare column
/// list when unnamed, as catalogs written before constraint names were
/// kept have it, or an object with the name.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ReadableKey {
    Columns(Vec<usize>),
    Named {
        columns: Vec<usize>,
        name: Option<String>,
    },
}

/// How a unique key travels between nodes (postcard, which is not
/// self-describing and so cannot read an untagged enum).
#[derive(Serialize, Deserialize)]
struct CompactKey(Vec<usize>, Option<String>);

impl Serialize for UniqueKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (columns, name) = (self.columns.clone(), self.name.clone());
        if !s.is_human_readable() {
            return CompactKey(columns, name).serialize(s);
        }
        match name {
            None => ReadableKey::Columns(columns),
            Some(n) => ReadableKey::Named {
                columns,
                name: Some(n),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for UniqueKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<UniqueKey, D::Error> {
        if !d.is_human_readable() {
            let CompactKey(columns, name) = CompactKey::deserialize(d)?;
            return Ok(UniqueKey { columns, name });
        }
        Ok(match ReadableKey::deserialize(d)? {
            ReadableKey::Columns(columns) => UniqueKey {
                columns,
                name: None,
            },
            ReadableKey::Named { columns, name } => UniqueKey { columns, name },
        })
    }
}

/// The sequence a `nextval('name')` default draws from.
/// Whether every value of type `a` is the same value of type `b`, as
/// stored: integers of any width, text and varchar, one enum, equal types.
pub fn same_values(a: &PgType, b: &PgType) -> bool {
    let int = |t: &PgType| matches!(t, PgType::Int2 | PgType::Int4 | PgType::Int8);
    let string = |t: &PgType| matches!(t, PgType::Text | PgType::Varchar(_));
    match (a, b) {
        (PgType::Enum(x), PgType::Enum(y)) => x.name == y.name,
        _ => a == b || (int(a) && int(b)) || (string(a) && string(b)),
    }
}

pub fn sequence_name(default: &str) -> Option<String> {
    let rest = default.strip_prefix("nextval('")?;
    let end = rest.find('\'')?;
    Some(rest[..end].to_string())
}

/// The sequence a column of a table being created makes its own and starts
/// over (a serial or identity column's implicit sequence; PostgreSQL drops
/// it with its table, so a table created again counts from 1): the one its
/// DEFAULT draws from, unless that is a sequence of its own (CREATE
/// SEQUENCE, one of `relations`) or the one a column of another relation
/// draws from (`DEFAULT nextval('t_id_seq')` shares it, as in PostgreSQL).
pub fn own_new_sequence(
    col: &Column,
    table: &str,
    relations: &[std::sync::Arc<TableDef>],
) -> Option<String> {
    let seq = col.default.as_deref().and_then(sequence_name)?;
    let shared = relations.iter().any(|r| {
        r.name == seq
            || (r.name != table
                && (r.columns.iter())
                    .any(|c| c.default.as_deref().and_then(sequence_name).as_deref() == Some(&seq)))
    });
    (!shared).then_some(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(unique: Vec<UniqueKey>) -> TableDef {
        TableDef {
            name: "t".into(),
            oid: 1,
            columns: ["a", "b"]
                .iter()
                .map(|n| Column::new(*n, PgType::Int4, false))
                .collect(),
            primary_key: vec![],
            unique,
            checks: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            comment: None,
            kind: Default::default(),
            altered: Default::default(),
            temp: None,
            access: Default::default(),
        }
    }

    #[test]
    fn catalogs_written_before_constraint_names_still_load() {
        let old = serde_json::to_string(&def(vec![]))
            .unwrap()
            .replace("\"unique\":[]", "\"unique\":[[0,1]]");
        let t: TableDef = serde_json::from_str(&old).unwrap();
        assert_eq!(t.unique, vec![UniqueKey::from(vec![0, 1])]);
        assert_eq!(t.key_constraint_name(&[0, 1]), "t_a_b_key");
    }

    #[test]
    fn catalogs_written_before_foreign_keys_still_load() {
        let old = serde_json::to_string(&def(vec![]))
            .unwrap()
            .replace(",\"foreign_keys\":[]", "");
        assert!(!old.contains("foreign_keys"), "{old}");
        let t: TableDef = serde_json::from_str(&old).unwrap();
        assert!(t.foreign_keys.is_empty());
    }

    #[test]
    fn foreign_keys_round_trip_as_json_and_postcard() {
        use crate::types::foreign::{Action, ForeignKey};
        let mut t = def(vec![]);
        t.foreign_keys.push(ForeignKey {
            name: "t_a_fkey".into(),
            columns: vec![0],
            parent: "p".into(),
            parent_columns: vec!["id".into()],
            on_delete: Action::Cascade,
            on_update: Action::SetDefault,
            match_full: true,
            deferrable: true,
            initially_deferred: false,
        });
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<TableDef>(&json).unwrap(), t);
        let bytes = postcard::to_allocvec(&t).unwrap();
        assert_eq!(postcard::from_bytes::<TableDef>(&bytes).unwrap(), t);
    }

    #[test]
    fn named_keys_round_trip_as_json_and_postcard() {
        let t = def(vec![
            UniqueKey::new(vec![0, 1], Some("uq_ab".into())),
            UniqueKey::from(vec![1]),
        ]);
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            json.contains("\"unique\":[{\"columns\":[0,1],\"name\":\"uq_ab\"},[1]]"),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<TableDef>(&json).unwrap(), t);
        let bytes = postcard::to_allocvec(&t).unwrap();
        assert_eq!(postcard::from_bytes::<TableDef>(&bytes).unwrap(), t);
        assert_eq!(t.key_constraint_name(&[0, 1]), "uq_ab");
        assert_eq!(t.key_constraint_name(&[1]), "t_b_key");
    }
}
