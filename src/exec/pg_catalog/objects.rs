//! The catalog objects PostgreSQL's catalogs list, derived from the one
//! catalog (`store::catalog`): namespaces, a table's indexes (its primary
//! key `<t>_pkey`, each UNIQUE under its given name or `<t>_<cols>_key`,
//! its declared indexes) and constraints, and their object ids.
//!
//! OIDs: a table's is `TableDef.oid`. Namespaces and the owner role have
//! PostgreSQL's fixed oids (pg_catalog 11, public 2200, the bootstrap
//! superuser 10). Every other object's oid is derived from its kind and
//! name — `2^30 + FNV-1a(kind, name) mod (2^30 - 1)` — so it is the same on
//! every node and across restarts, and never meets a table's oid (those
//! count up from 16384).

use crate::types::table::TableDef;

pub const PG_CATALOG_NS: i64 = 11;
pub const PUBLIC_NS: i64 = 2200;
pub const INFORMATION_SCHEMA_NS: i64 = 12001;
pub const MOSAIC_NS: i64 = 12002;
/// A session's own schema of temporary tables (each session sees only
/// its own).
pub const TEMP_NS: i64 = 12003;
/// PostgreSQL's bootstrap superuser; MosaicDB's owner of every object.
pub const OWNER_OID: i64 = 10;
pub const HEAP_AM: i64 = 2;
pub const BTREE_AM: i64 = 403;
/// pgvector's access methods, built in under fixed oids (beside the
/// `vector` type's, `types::vector::OID`).
pub const HNSW_AM: i64 = 8102;
pub const IVFFLAT_AM: i64 = 8103;

/// The `pg_am` oid of an index's access method.
pub fn access_method(method: Option<&str>) -> i64 {
    match method {
        Some("hnsw") => HNSW_AM,
        Some("ivfflat") => IVFFLAT_AM,
        _ => BTREE_AM,
    }
}

pub const NAMESPACES: &[(i64, &str)] = &[
    (PG_CATALOG_NS, "pg_catalog"),
    (PUBLIC_NS, "public"),
    (INFORMATION_SCHEMA_NS, "information_schema"),
    (MOSAIC_NS, "mosaic"),
    (TEMP_NS, "pg_temp_1"),
];

/// The oid of schema `name`: a built-in one's fixed oid, or one derived
/// from the name (the same on every node).
pub fn namespace_oid(name: &str) -> i64 {
    NAMESPACES
        .iter()
        .find(|(_, n)| *n == name)
        .map_or_else(|| derived_oid("namespace", name), |(oid, _)| *oid)
}

/// The oid of the schema relation `def` lives in.
pub fn namespace_of(def: &TableDef) -> i64 {
    if def.is_temp() {
        TEMP_NS
    } else {
        namespace_oid(def.schema_name())
    }
}

/// A stable oid for a named object of a kind (`index`, `constraint`, …).
pub fn derived_oid(kind: &str, name: &str) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in kind.bytes().chain([0]).chain(name.bytes()) {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    (1 << 30) + (h % ((1 << 30) - 1)) as i64
}

/// An index of a table, as pg_class/pg_index see it.
pub struct Index {
    pub oid: i64,
    pub name: String,
    /// Column positions, from 0.
    pub columns: Vec<usize>,
    pub unique: bool,
    pub primary: bool,
    /// INCLUDE column positions, from 0.
    pub include: Vec<usize>,
    /// Non-default operator classes of the key columns (see
    /// `types::table::Index`).
    pub opclasses: Vec<Option<String>>,
    /// Each key's expression (PostgreSQL SQL text) where it is one (its
    /// `columns` entry is then [`EXPR`]); empty when none is.
    pub exprs: Vec<Option<String>>,
    /// The WHERE of a partial index.
    pub predicate: Option<String>,
    /// Each key's `indoption` bits; empty when all are 0.
    pub options: Vec<i16>,
    /// pgvector's `hnsw` or `ivfflat`; `None`: btree.
    pub method: Option<String>,
    /// Storage parameters, as PostgreSQL prints them.
    pub with: Vec<(String, String)>,
    /// The constraint the index implements, if any.
    pub constraint: Option<Constraint>,
}

/// The `columns` entry of an expression key (attnum 0 in `indkey`).
pub const EXPR: usize = usize::MAX;

/// A constraint of a table, as pg_constraint sees it.
pub struct Constraint {
    pub oid: i64,
    pub name: String,
    /// `p`, `u` or `c`.
    pub kind: char,
    /// Column positions, from 0.
    pub columns: Vec<usize>,
    /// `PRIMARY KEY (id)`, `CHECK (qty >= 0)`.
    pub def: String,
    pub index_oid: i64,
}

fn column_list(t: &TableDef, cols: &[usize]) -> String {
    let names: Vec<&str> = cols
        .iter()
        .filter_map(|&i| t.columns.get(i).map(|c| c.name.as_str()))
        .collect();
    names.join(", ")
}

fn key_constraint(t: &TableDef, name: &str, kind: char, cols: &[usize], index: i64) -> Constraint {
    let what = if kind == 'p' { "PRIMARY KEY" } else { "UNIQUE" };
    Constraint {
        oid: derived_oid("constraint", &format!("{}.{name}", t.name)),
        name: name.to_string(),
        kind,
        columns: cols.to_vec(),
        def: format!("{what} ({})", column_list(t, cols)),
        index_oid: index,
    }
}

/// The table's indexes: primary key first, then UNIQUE constraints, then
/// declared indexes.
pub fn indexes(t: &TableDef) -> Vec<Index> {
    let mut out = Vec::new();
    let mut add = |name: String, columns: Vec<usize>, unique: bool, kind: Option<char>| {
        let oid = derived_oid("index", &format!("{}.{name}", t.name));
        let constraint = kind.map(|k| key_constraint(t, &name, k, &columns, oid));
        out.push(Index {
            oid,
            name,
            columns,
            unique,
            primary: kind == Some('p'),
            include: vec![],
            opclasses: vec![],
            exprs: vec![],
            predicate: None,
            options: vec![],
            method: None,
            with: vec![],
            constraint,
        });
    };
    if !t.primary_key.is_empty() {
        add(t.pk_name(), t.primary_key.clone(), true, Some('p'));
    }
    for u in &t.unique {
        add(u.constraint_name(t), u.columns.clone(), true, Some('u'));
    }
    for i in &t.indexes {
        let cols = i
            .columns
            .iter()
            .enumerate()
            .filter_map(|(k, c)| match i.expr(k) {
                Some(_) => Some(EXPR),
                None => t.column_index(c),
            })
            .collect();
        add(i.name.clone(), cols, i.unique, None);
    }
    let declared = out.len().saturating_sub(t.indexes.len());
    for (o, i) in out[declared..].iter_mut().zip(&t.indexes) {
        o.include = i.include.iter().filter_map(|c| t.column_index(c)).collect();
        o.opclasses = i.opclasses.clone();
        o.exprs = i.exprs.clone();
        o.predicate = i.predicate.clone();
        o.options = i.options.clone();
        o.method = i.method.clone();
        o.with = i.with.clone();
    }
    out
}

/// The table's CHECK constraints, named as PostgreSQL names them (see
/// `TableDef::check_constraint_names`).
pub fn checks(t: &TableDef) -> Vec<Constraint> {
    let mut out: Vec<Constraint> = Vec::new();
    for (check, name) in t.checks.iter().zip(t.check_constraint_names()) {
        let columns = t.check_columns(check);
        let mut def = if check.trim_start().starts_with('(') {
            format!("CHECK {check}")
        } else {
            format!("CHECK ({check})")
        };
        if !t.is_validated(&name) {
            def.push_str(" NOT VALID");
        }
        out.push(Constraint {
            oid: derived_oid("constraint", &format!("{}.{name}", t.name)),
            name,
            kind: 'c',
            columns,
            def,
            index_oid: 0,
        });
    }
    out
}

/// `CREATE [UNIQUE] INDEX name ON public.t USING btree (a, b) [INCLUDE (c)]
/// [WHERE …]`, as `pg_get_indexdef(oid)` prints it.
pub fn index_def(t: &TableDef, i: &Index) -> String {
    index_def_of(t, i, 0, false).unwrap_or_default()
}

/// `pg_get_indexdef(oid, col, pretty)`: the whole definition when `col`
/// is 0, else key `col` (from 1) alone; `None` past the keys.
pub fn index_def_of(t: &TableDef, i: &Index, col: usize, pretty: bool) -> Option<String> {
    if col > 0 {
        let k = col - 1;
        return match i.exprs.get(k).cloned().flatten() {
            Some(e) => crate::sql::index_expr::key_text(&e, t, pretty).ok(),
            None => {
                let c = i.columns.iter().chain(&i.include).nth(k)?;
                Some(t.columns.get(*c)?.name.clone())
            }
        };
    }
    let include = match i.include.is_empty() {
        true => String::new(),
        false => format!(" INCLUDE ({})", column_list(t, &i.include)),
    };
    let keys: Vec<String> = (0..i.columns.len())
        .filter_map(|k| key_text(t, i, k, pretty))
        .collect();
    let predicate = i
        .predicate
        .as_deref()
        .and_then(|p| crate::sql::index_expr::predicate_text(p, t, pretty).ok())
        .map(|p| format!(" WHERE {p}"))
        .unwrap_or_default();
    Some(format!(
        "CREATE {}INDEX {} ON {}{} USING {} ({}){include}{}{predicate}",
        if i.unique { "UNIQUE " } else { "" },
        i.name,
        if pretty { "" } else { "public." },
        t.name,
        i.method.as_deref().unwrap_or("btree"),
        keys.join(", "),
        crate::sql::vector_index::with_text(&i.with),
    ))
}

/// Key `k` of an index with its operator class when not the default and
/// its DESC / NULLS options.
fn key_text(t: &TableDef, i: &Index, k: usize, pretty: bool) -> Option<String> {
    let base = match i.exprs.get(k).cloned().flatten() {
        Some(e) => crate::sql::index_expr::key_text(&e, t, pretty).ok()?,
        None => t.columns.get(*i.columns.get(k)?)?.name.clone(),
    };
    let op = match i.opclasses.get(k).cloned().flatten() {
        Some(op) => format!(" {op}"),
        None => String::new(),
    };
    let bits = i.options.get(k).copied().unwrap_or(0);
    Some(format!(
        "{base}{op}{}",
        crate::sql::index::option_text(bits)
    ))
}

/// A list of column positions as `int2vector` text: attnums from 1, `1 2`.
pub fn int2vector(cols: &[usize]) -> String {
    let v: Vec<String> = cols
        .iter()
        .map(|&c| match c {
            EXPR => "0".to_string(),
            c => (c + 1).to_string(),
        })
        .collect();
    v.join(" ")
}

/// The same as an `int2[]`: `{1,2}`.
pub fn int2array(cols: &[usize]) -> String {
    let v: Vec<String> = cols.iter().map(|c| (c + 1).to_string()).collect();
    format!("{{{}}}", v.join(","))
}

/// A column default as PostgreSQL prints it back (`pg_get_expr`,
/// `information_schema.columns.column_default`): a serial's
/// `nextval('t_id_seq')` names its sequence as a `regclass`.
pub fn default_expr(default: &str) -> String {
    match crate::types::table::sequence_name(default) {
        Some(seq) if default == format!("nextval('{seq}')") => {
            format!("nextval('{seq}'::regclass)")
        }
        _ => default.to_string(),
    }
}

/// A view's definition as `pg_get_viewdef` and `pg_views.definition` give
/// it: the query as MosaicDB keeps it (PostgreSQL prints its own
/// deparsed form, qualified and indented differently), with PostgreSQL's
/// leading space and closing semicolon.
pub(crate) fn view_def(query: &str) -> String {
    format!(" {query};")
}
