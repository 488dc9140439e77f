//! FOREIGN KEY clauses of CREATE TABLE and ALTER TABLE: read from the AST
//! (`Spec`, names only), then checked against the tables they join and
//! turned into the catalog's `ForeignKey` (`resolve`), with PostgreSQL's
//! errors for what it refuses.

use sqlparser::ast::{
    ColumnDef, ColumnOption, ConstraintReferenceMatchKind, CreateTable, ForeignKeyConstraint,
    ReferentialAction, TableConstraint,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name};
use crate::types::foreign::{Action, ForeignKey};
use crate::types::table::TableDef;
use crate::types::PgType;

/// A FOREIGN KEY as written, before it is checked against the tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub name: Option<String>,
    /// Referencing columns, by name.
    pub columns: Vec<String>,
    pub parent: String,
    /// Referenced columns, by name; empty: the parent's primary key.
    pub parent_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
    pub match_full: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

fn action(a: Option<&ReferentialAction>) -> Action {
    match a {
        None | Some(ReferentialAction::NoAction) => Action::NoAction,
        Some(ReferentialAction::Restrict) => Action::Restrict,
        Some(ReferentialAction::Cascade) => Action::Cascade,
        Some(ReferentialAction::SetNull) => Action::SetNull,
        Some(ReferentialAction::SetDefault) => Action::SetDefault,
    }
}

/// The spec of a FOREIGN KEY clause; `columns` are the referencing
/// columns (a column-level REFERENCES names its own column).
pub fn spec(fk: &ForeignKeyConstraint, name: Option<String>, columns: Vec<String>) -> Result<Spec> {
    let (deferrable, initially_deferred) = deferral(fk.characteristics.as_ref())?;
    let match_full = match fk.match_kind {
        None | Some(ConstraintReferenceMatchKind::Simple) => false,
        Some(ConstraintReferenceMatchKind::Full) => true,
        Some(ConstraintReferenceMatchKind::Partial) => {
            return Err(Error::Unsupported("MATCH PARTIAL".into()))
        }
    };
    let parent = object_name(&fk.foreign_table);
    let parent = parent
        .strip_prefix("public.")
        .unwrap_or(&parent)
        .to_string();
    Ok(Spec {
        name,
        columns,
        parent,
        parent_columns: fk.referred_columns.iter().map(ident_name).collect(),
        on_delete: action(fk.on_delete.as_ref()),
        on_update: action(fk.on_update.as_ref()),
        match_full,
        deferrable,
        initially_deferred,
    })
}

/// DEFERRABLE and INITIALLY DEFERRED (which implies it), with
/// PostgreSQL's check that a NOT DEFERRABLE constraint is not deferred.
fn deferral(c: Option<&sqlparser::ast::ConstraintCharacteristics>) -> Result<(bool, bool)> {
    let Some(c) = c else {
        return Ok((false, false));
    };
    if c.enforced == Some(false) {
        return Err(Error::Unsupported("NOT ENFORCED constraints".into()));
    }
    let deferred = c.initially == Some(sqlparser::ast::DeferrableInitial::Deferred);
    if c.deferrable == Some(false) && deferred {
        return Err(Error::Syntax(
            "constraint declared INITIALLY DEFERRED must be DEFERRABLE".into(),
        ));
    }
    Ok((c.deferrable == Some(true) || deferred, deferred))
}

/// The column-level `REFERENCES` clauses of a column definition.
pub fn column_specs(def: &ColumnDef) -> Result<Vec<Spec>> {
    let col = ident_name(&def.name);
    def.options
        .iter()
        .filter_map(|o| match &o.option {
            ColumnOption::ForeignKey(fk) => {
                Some(spec(fk, o.name.as_ref().map(ident_name), vec![col.clone()]))
            }
            _ => None,
        })
        .collect()
}

/// A table-level FOREIGN KEY constraint's spec, if `c` is one.
pub fn table_spec(c: &TableConstraint) -> Option<Result<Spec>> {
    match c {
        TableConstraint::ForeignKey(fk) => Some(spec(
            fk,
            fk.name.as_ref().map(ident_name),
            fk.columns.iter().map(ident_name).collect(),
        )),
        _ => None,
    }
}

/// Every FOREIGN KEY of a CREATE TABLE, column-level ones first, as
/// PostgreSQL creates them.
pub fn specs(ct: &CreateTable) -> Result<Vec<Spec>> {
    let mut out = Vec::new();
    for cd in &ct.columns {
        out.extend(column_specs(cd)?);
    }
    for c in &ct.constraints {
        if let Some(s) = table_spec(c) {
            out.push(s?);
        }
    }
    Ok(out)
}

/// Types a FOREIGN KEY may join, by PostgreSQL's operator families:
/// integers with integers, text with varchar, and otherwise one type.
fn family(ty: &PgType) -> String {
    match ty {
        PgType::Int2 | PgType::Int4 | PgType::Int8 => "integer".into(),
        PgType::Float4 | PgType::Float8 => "float".into(),
        PgType::Text | PgType::Varchar(_) => "text".into(),
        PgType::Bpchar(_) => "bpchar".into(),
        PgType::Numeric(_) => "numeric".into(),
        other => other.display_name(),
    }
}

fn missing_column(name: &str) -> Error {
    Error::UndefinedColumn(format!(
        "column \"{name}\" referenced in foreign key constraint does not exist"
    ))
}

/// Check `spec` of table `child` against `parent` (the same definition
/// for a self-reference) and build the constraint. `taken` says whether a
/// constraint name is already used on the child table.
pub fn resolve(
    spec: &Spec,
    child: &TableDef,
    parent: &TableDef,
    taken: &dyn Fn(&str) -> bool,
) -> Result<ForeignKey> {
    let columns = spec
        .columns
        .iter()
        .map(|c| child.column_index(c).ok_or_else(|| missing_column(c)))
        .collect::<Result<Vec<usize>>>()?;
    let parent_pos: Vec<usize> = if spec.parent_columns.is_empty() {
        if parent.primary_key.is_empty() {
            return Err(Error::InvalidForeignKey(format!(
                "there is no primary key for referenced table \"{}\"",
                parent.name
            )));
        }
        parent.primary_key.clone()
    } else {
        spec.parent_columns
            .iter()
            .map(|c| parent.column_index(c).ok_or_else(|| missing_column(c)))
            .collect::<Result<Vec<usize>>>()?
    };
    if parent_pos.len() != columns.len() {
        return Err(Error::InvalidForeignKey(
            "number of referencing and referenced columns for foreign key disagree".into(),
        ));
    }
    let mut wanted = parent_pos.clone();
    wanted.sort_unstable();
    let matches_key = parent.unique_keys().any(|k| {
        let mut k = k.clone();
        k.sort_unstable();
        k == wanted
    });
    if !matches_key {
        return Err(Error::InvalidForeignKey(format!(
            "there is no unique constraint matching given keys for referenced table \"{}\"",
            parent.name
        )));
    }
    let name = match &spec.name {
        Some(n) => n.clone(),
        None => default_name(child, &columns, taken),
    };
    for (&c, &p) in columns.iter().zip(&parent_pos) {
        let (ct, pt) = (&child.columns[c].ty, &parent.columns[p].ty);
        if family(ct) != family(pt) {
            return Err(Error::DatatypeMismatch(format!(
                "foreign key constraint \"{name}\" cannot be implemented"
            ))
            .with_detail(format!(
                "Key columns \"{}\" and \"{}\" are of incompatible types: {} and {}.",
                child.columns[c].name,
                parent.columns[p].name,
                ct.display_name(),
                pt.display_name()
            )));
        }
    }
    Ok(ForeignKey {
        name,
        columns,
        parent: parent.name.clone(),
        parent_columns: parent_pos
            .iter()
            .map(|&p| parent.columns[p].name.clone())
            .collect(),
        on_delete: spec.on_delete,
        on_update: spec.on_update,
        match_full: spec.match_full,
        deferrable: spec.deferrable,
        initially_deferred: spec.initially_deferred,
    })
}

/// PostgreSQL's name for an unnamed FOREIGN KEY: `<table>_<cols>_fkey`,
/// numbered when taken, within 63 bytes.
fn default_name(child: &TableDef, columns: &[usize], taken: &dyn Fn(&str) -> bool) -> String {
    let cols: Vec<&str> = columns
        .iter()
        .map(|&c| child.columns[c].name.as_str())
        .collect();
    let base = format!("{}_{}", child.rel_name(), cols.join("_"));
    let mut n = 0;
    loop {
        let suffix = if n == 0 {
            "fkey".to_string()
        } else {
            format!("fkey{n}")
        };
        let mut stem = base.clone();
        while stem.len() + 1 + suffix.len() > 63 {
            stem.pop();
        }
        let name = format!("{stem}_{suffix}");
        if !taken(&name) {
            return name;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::Statement;

    fn create(sql: &str) -> (TableDef, Vec<Spec>) {
        match crate::sql::parse(sql).unwrap().remove(0) {
            Statement::CreateTable(ct) => (
                crate::sql::ddl::create_table(&ct, 1).unwrap(),
                specs(&ct).unwrap(),
            ),
            other => panic!("not a create table: {other}"),
        }
    }

    #[test]
    fn column_and_table_level_keys() {
        let (p, _) = create("CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE)");
        let (c, specs) = create(
            "CREATE TABLE c (a int REFERENCES p ON DELETE CASCADE, b text, CONSTRAINT fk_b FOREIGN KEY (b) REFERENCES p (code) MATCH FULL ON UPDATE SET NULL)",
        );
        let no = |_: &str| false;
        let a = resolve(&specs[0], &c, &p, &no).unwrap();
        assert_eq!(a.name, "c_a_fkey");
        assert_eq!(a.parent_columns, vec!["id".to_string()]);
        assert_eq!(a.on_delete, Action::Cascade);
        let b = resolve(&specs[1], &c, &p, &no).unwrap();
        assert_eq!(
            (b.name.as_str(), b.on_update, b.match_full),
            ("fk_b", Action::SetNull, true)
        );
        let taken = |n: &str| n == "c_a_fkey";
        assert_eq!(
            resolve(&specs[0], &c, &p, &taken).unwrap().name,
            "c_a_fkey1"
        );
    }

    #[test]
    fn refusals() {
        let (p, _) = create("CREATE TABLE p (id int PRIMARY KEY, n int)");
        let (c, specs) =
            create("CREATE TABLE c (a text REFERENCES p, b int REFERENCES p (n), d int)");
        let no = |_: &str| false;
        let e = resolve(&specs[0], &c, &p, &no).unwrap_err();
        assert_eq!(e.sqlstate(), "42804");
        assert_eq!(
            e.detail(),
            Some("Key columns \"a\" and \"id\" are of incompatible types: text and integer.")
        );
        assert_eq!(
            resolve(&specs[1], &c, &p, &no).unwrap_err().sqlstate(),
            "42830"
        );
    }
}
