//! The `information_schema` views, with PostgreSQL 15's columns and the
//! values it gives for the same table, built from the same objects as the
//! `pg_catalog` relations (`objects::indexes`, `objects::checks`), so the
//! two never disagree.
//!
//! Column types are PostgreSQL's domains, which reach the client as their
//! base types: `sql_identifier` (name, sent as text here like every
//! `name`), `cardinal_number` (int4), `character_data` and `yes_or_no`
//! (varchar).

use super::objects::{self, Constraint, PUBLIC_NS};
use super::relations::{spec_definition, Rows};
use crate::exec::Session;
use crate::types::builtin::BUILTIN_TYPES;
use crate::types::schema::split;
use crate::types::table::{Column, TableDef};
use crate::types::{Datum, PgType};

/// The database name every `*_catalog` column holds.
const CATALOG: &str = "mosaic";

/// (view, columns) for each view, by unqualified name.
pub const RELATIONS: &[(&str, &str)] = &[
    ("tables", "table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, table_type character_data, self_referencing_column_name sql_identifier, reference_generation character_data, user_defined_type_catalog sql_identifier, user_defined_type_schema sql_identifier, user_defined_type_name sql_identifier, is_insertable_into yes_or_no, is_typed yes_or_no, commit_action character_data"),
    ("columns", "table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, column_name sql_identifier, ordinal_position cardinal_number, column_default character_data, is_nullable yes_or_no, data_type character_data, character_maximum_length cardinal_number, character_octet_length cardinal_number, numeric_precision cardinal_number, numeric_precision_radix cardinal_number, numeric_scale cardinal_number, datetime_precision cardinal_number, interval_type character_data, interval_precision cardinal_number, character_set_catalog sql_identifier, character_set_schema sql_identifier, character_set_name sql_identifier, collation_catalog sql_identifier, collation_schema sql_identifier, collation_name sql_identifier, domain_catalog sql_identifier, domain_schema sql_identifier, domain_name sql_identifier, udt_catalog sql_identifier, udt_schema sql_identifier, udt_name sql_identifier, scope_catalog sql_identifier, scope_schema sql_identifier, scope_name sql_identifier, maximum_cardinality cardinal_number, dtd_identifier sql_identifier, is_self_referencing yes_or_no, is_identity yes_or_no, identity_generation character_data, identity_start character_data, identity_increment character_data, identity_maximum character_data, identity_minimum character_data, identity_cycle yes_or_no, is_generated character_data, generation_expression character_data, is_updatable yes_or_no"),
    ("schemata", "catalog_name sql_identifier, schema_name sql_identifier, schema_owner sql_identifier, default_character_set_catalog sql_identifier, default_character_set_schema sql_identifier, default_character_set_name sql_identifier, sql_path character_data"),
    ("table_constraints", "constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name sql_identifier, table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, constraint_type character_data, is_deferrable yes_or_no, initially_deferred yes_or_no, enforced yes_or_no, nulls_distinct yes_or_no"),
    ("key_column_usage", "constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name sql_identifier, table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, column_name sql_identifier, ordinal_position cardinal_number, position_in_unique_constraint cardinal_number"),
    ("constraint_column_usage", "table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, column_name sql_identifier, constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name sql_identifier"),
    ("referential_constraints", "constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name sql_identifier, unique_constraint_catalog sql_identifier, unique_constraint_schema sql_identifier, unique_constraint_name sql_identifier, match_option character_data, update_rule character_data, delete_rule character_data"),
    ("check_constraints", "constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name sql_identifier, check_clause character_data"),
    ("views", "table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, view_definition character_data, check_option character_data, is_updatable yes_or_no, is_insertable_into yes_or_no, is_trigger_updatable yes_or_no, is_trigger_deletable yes_or_no, is_trigger_insertable_into yes_or_no"),
    ("sequences", "sequence_catalog sql_identifier, sequence_schema sql_identifier, sequence_name sql_identifier, data_type character_data, numeric_precision cardinal_number, numeric_precision_radix cardinal_number, numeric_scale cardinal_number, start_value character_data, minimum_value character_data, maximum_value character_data, increment character_data, cycle_option yes_or_no"),
    ("domains", "domain_catalog sql_identifier, domain_schema sql_identifier, domain_name sql_identifier, data_type character_data, character_maximum_length cardinal_number, character_octet_length cardinal_number, character_set_catalog sql_identifier, character_set_schema sql_identifier, character_set_name sql_identifier, collation_catalog sql_identifier, collation_schema sql_identifier, collation_name sql_identifier, numeric_precision cardinal_number, numeric_precision_radix cardinal_number, numeric_scale cardinal_number, datetime_precision cardinal_number, interval_type character_data, interval_precision cardinal_number, domain_default character_data, udt_catalog sql_identifier, udt_schema sql_identifier, udt_name sql_identifier, scope_catalog sql_identifier, scope_schema sql_identifier, scope_name sql_identifier, maximum_cardinality cardinal_number, dtd_identifier sql_identifier"),
    ("domain_constraints", "constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name sql_identifier, domain_catalog sql_identifier, domain_schema sql_identifier, domain_name sql_identifier, is_deferrable yes_or_no, initially_deferred yes_or_no"),
];

/// The definition of a view by unqualified name.
pub fn definition(name: &str) -> Option<TableDef> {
    let (_, spec) = RELATIONS.iter().find(|(n, _)| *n == name)?;
    Some(spec_definition(&format!("information_schema.{name}"), spec))
}

/// The rows of a view, as this session sees the catalog.
pub fn rows(sess: &Session, name: &str, def: &TableDef) -> Rows {
    match name {
        "tables" => tables(sess, def),
        "columns" => columns(sess, def),
        "views" => views(sess, def),
        "sequences" => sequences(sess, def),
        "schemata" => schemata(sess, def),
        "table_constraints" => table_constraints(sess, def),
        "key_column_usage" => key_column_usage(sess, def),
        "constraint_column_usage" => constraint_column_usage(sess, def),
        "check_constraints" => check_constraints(sess, def),
        "referential_constraints" => referential_constraints(sess, def),
        "domains" => domains(sess, def),
        "domain_constraints" => domain_constraints(sess, def),
        _ => vec![],
    }
}

fn t(s: impl Into<String>) -> Datum {
    Datum::Text(s.into())
}

fn i(n: impl Into<i64>) -> Datum {
    Datum::Int(n.into())
}

fn yes_no(v: bool) -> Datum {
    t(if v { "YES" } else { "NO" })
}

/// A row of `def` with the named columns set and the rest NULL.
fn row(def: &TableDef, vals: Vec<(&str, Datum)>) -> Vec<Datum> {
    let mut out = vec![Datum::Null; def.columns.len()];
    for (name, v) in vals {
        if let Some(pos) = def.column_index(name) {
            out[pos] = v;
        }
    }
    out
}

/// The schema a relation of pg_class's list lives in.
fn schema_name(r: &super::Relation) -> &str {
    objects::NAMESPACES
        .iter()
        .find(|(o, _)| *o == r.namespace)
        .map_or_else(|| crate::types::schema::split(&r.name).0, |(_, n)| n)
}

/// A relation's name within its schema.
fn rel_name(name: &str) -> &str {
    crate::types::schema::split(name).1
}

fn tables(sess: &Session, def: &TableDef) -> Rows {
    super::relations(sess.catalog().listed())
        .into_iter()
        .filter(|r| r.kind != 'S' && r.kind != 'm')
        .map(|r| {
            let base = r.kind == 'r';
            row(
                def,
                vec![
                    ("table_catalog", t(CATALOG)),
                    ("table_schema", t(schema_name(&r))),
                    ("table_name", t(rel_name(&r.name))),
                    (
                        "table_type",
                        t(match (base, r.def.is_temp()) {
                            (_, true) => "LOCAL TEMPORARY",
                            (true, false) => "BASE TABLE",
                            (false, false) => "VIEW",
                        }),
                    ),
                    ("is_insertable_into", yes_no(base)),
                    ("is_typed", yes_no(false)),
                ],
            )
        })
        .collect()
}

/// `information_schema.columns.data_type`: the type's name without its
/// modifiers.
fn data_type(ty: &PgType) -> String {
    match ty {
        PgType::Varchar(_) => "character varying".into(),
        PgType::Bpchar(_) => "character".into(),
        PgType::Numeric(_) => "numeric".into(),
        PgType::Enum(_) | PgType::Vector(_) | PgType::Geometry(_) => "USER-DEFINED".into(),
        PgType::Array(_) => "ARRAY".into(),
        other => other.display_name(),
    }
}

/// (character_maximum_length, character_octet_length): UTF8 takes up to
/// four bytes a character; an unbounded string up to 1 GB.
fn char_lengths(ty: &PgType) -> (Option<i64>, Option<i64>) {
    const UNBOUNDED: i64 = 1 << 30;
    match ty {
        PgType::Varchar(Some(n)) | PgType::Bpchar(Some(n)) => {
            (Some(*n as i64), Some(*n as i64 * 4))
        }
        PgType::Varchar(None) | PgType::Bpchar(None) | PgType::Text => (None, Some(UNBOUNDED)),
        _ => (None, None),
    }
}

/// (numeric_precision, numeric_precision_radix, numeric_scale).
fn numeric_facets(ty: &PgType) -> (Option<i64>, Option<i64>, Option<i64>) {
    match ty {
        PgType::Int2 => (Some(16), Some(2), Some(0)),
        PgType::Int4 => (Some(32), Some(2), Some(0)),
        PgType::Int8 => (Some(64), Some(2), Some(0)),
        PgType::Float4 => (Some(24), Some(2), None),
        PgType::Float8 => (Some(53), Some(2), None),
        PgType::Numeric(Some((p, s))) if *p > 0 => (Some(*p as i64), Some(10), Some(*s as i64)),
        PgType::Numeric(_) => (None, Some(10), None),
        _ => (None, None, None),
    }
}

fn datetime_precision(ty: &PgType) -> Option<i64> {
    match ty {
        PgType::Date => Some(0),
        PgType::Time | PgType::Timestamp | PgType::Timestamptz => Some(6),
        _ => None,
    }
}

fn opt(v: Option<i64>) -> Datum {
    v.map_or(Datum::Null, Datum::Int)
}

fn column_row(
    def: &TableDef,
    schema: &str,
    table: &str,
    rel: &TableDef,
    pos: usize,
    c: &Column,
) -> Vec<Datum> {
    let oid = c.ty.oid() as i64;
    let builtin = |oid: i64| {
        BUILTIN_TYPES
            .iter()
            .find(|bt| bt.oid == oid)
            .map_or("text", |bt| bt.name)
            .to_string()
    };
    let udt = match &c.ty {
        PgType::Enum(e) => split(&e.name).1.to_string(),
        // An array's udt is its array type, `_` and the element's name.
        PgType::Array(elem) => format!("_{}", builtin(i64::from(elem.oid()))),
        _ => builtin(oid),
    };
    let (max_len, octets) = char_lengths(&c.ty);
    let (precision, radix, scale) = numeric_facets(&c.ty);
    let ordinal = pos as i64 + 1;
    let domain_name = c.domain.as_ref().map_or("", |d| &d.name);
    let domain = |v: &str| match &c.domain {
        Some(_) => t(v),
        None => Datum::Null,
    };
    let mut identity = vec![];
    if let Some(kind) = c.identity {
        let seq = c.sequence_def();
        identity = vec![
            (
                "identity_generation",
                t(match kind {
                    crate::types::table::Identity::Always => "ALWAYS",
                    crate::types::table::Identity::ByDefault => "BY DEFAULT",
                }),
            ),
            ("identity_start", t(seq.start.to_string())),
            ("identity_increment", t(seq.increment.to_string())),
            ("identity_maximum", t(seq.max.to_string())),
            ("identity_minimum", t(seq.min.to_string())),
        ];
    }
    row(
        def,
        identity
            .into_iter()
            .chain(vec![
                ("table_catalog", t(CATALOG)),
                ("table_schema", t(schema)),
                ("table_name", t(table)),
                ("column_name", t(c.name.clone())),
                ("ordinal_position", i(ordinal)),
                (
                    "column_default",
                    c.shown_default()
                        .map_or(Datum::Null, |d| t(objects::default_expr(d))),
                ),
                ("is_nullable", yes_no(!c.not_null)),
                ("data_type", t(data_type(&c.ty))),
                ("character_maximum_length", opt(max_len)),
                ("character_octet_length", opt(octets)),
                ("numeric_precision", opt(precision)),
                ("numeric_precision_radix", opt(radix)),
                ("numeric_scale", opt(scale)),
                ("datetime_precision", opt(datetime_precision(&c.ty))),
                ("udt_catalog", t(CATALOG)),
                (
                    "udt_schema",
                    t(match &c.ty {
                        PgType::Enum(e) => split(&e.name).0,
                        PgType::Vector(_) | PgType::Geometry(_) => "public",
                        _ => "pg_catalog",
                    }),
                ),
                ("udt_name", t(udt)),
                ("dtd_identifier", t(ordinal.to_string())),
                ("domain_catalog", domain(CATALOG)),
                ("domain_schema", domain(split(domain_name).0)),
                ("domain_name", domain(split(domain_name).1)),
                ("is_self_referencing", yes_no(false)),
                ("is_identity", yes_no(c.identity.is_some())),
                ("identity_cycle", yes_no(false)),
                (
                    "is_generated",
                    t(if c.generated.is_some() {
                        "ALWAYS"
                    } else {
                        "NEVER"
                    }),
                ),
                (
                    "generation_expression",
                    (c.generated.as_deref()).map_or(Datum::Null, |g| {
                        t(crate::sql::ddl::generated::shown(rel, g))
                    }),
                ),
                (
                    "is_updatable",
                    yes_no(!crate::types::schema::BUILT_IN.contains(&schema) || schema == "public"),
                ),
            ])
            .collect(),
    )
}

fn columns(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for r in super::relations(sess.catalog().listed()) {
        let schema = schema_name(&r);
        for (pos, c) in r.def.columns.iter().enumerate() {
            out.push(column_row(def, schema, rel_name(&r.name), &r.def, pos, c));
        }
    }
    out
}

/// Sequences, as PostgreSQL lists them here: an identity column's is
/// internal to its column and left out.
fn sequences(sess: &Session, def: &TableDef) -> Rows {
    let relations = sess.catalog().listed();
    let identity: Vec<String> = super::serial_sequence_owners(&relations)
        .into_iter()
        .filter(|(_, _, t, pos)| t.columns[*pos].identity.is_some())
        .map(|(name, ..)| name)
        .collect();
    super::sequence_relations(sess)
        .iter()
        .filter(|r| !identity.contains(&r.name))
        .filter_map(|r| {
            let s = r.def.sequence()?;
            let bits: i64 = match s.ty {
                PgType::Int2 => 16,
                PgType::Int4 => 32,
                _ => 64,
            };
            Some(row(
                def,
                vec![
                    ("sequence_catalog", t(CATALOG)),
                    ("sequence_schema", t(schema_name(r))),
                    ("sequence_name", t(rel_name(&r.name))),
                    ("data_type", t(data_type(&s.ty))),
                    ("numeric_precision", i(bits)),
                    ("numeric_precision_radix", i(2)),
                    ("numeric_scale", i(0)),
                    ("start_value", t(s.start.to_string())),
                    ("minimum_value", t(s.min.to_string())),
                    ("maximum_value", t(s.max.to_string())),
                    ("increment", t(s.increment.to_string())),
                    ("cycle_option", yes_no(s.cycle)),
                ],
            ))
        })
        .collect()
}

/// Views are read-only here, so none is updatable or insertable into.
fn views(sess: &Session, def: &TableDef) -> Rows {
    sess.catalog()
        .listed()
        .iter()
        .filter_map(|v| {
            let query = v.view_query()?;
            Some(row(
                def,
                vec![
                    ("table_catalog", t(CATALOG)),
                    ("table_schema", t(v.schema_name())),
                    ("table_name", t(v.rel_name())),
                    ("view_definition", t(objects::view_def(query))),
                    ("check_option", t("NONE")),
                    ("is_updatable", yes_no(false)),
                    ("is_insertable_into", yes_no(false)),
                    ("is_trigger_updatable", yes_no(false)),
                    ("is_trigger_deletable", yes_no(false)),
                    ("is_trigger_insertable_into", yes_no(false)),
                ],
            ))
        })
        .collect()
}

fn schemata(sess: &Session, def: &TableDef) -> Rows {
    let owner = super::owner_name(sess);
    super::schemas(sess)
        .into_iter()
        .map(|(_, name, created)| {
            let owner = created
                .and_then(|d| d.access.owner.clone())
                .unwrap_or_else(|| owner.clone());
            row(
                def,
                vec![
                    ("catalog_name", t(CATALOG)),
                    ("schema_name", t(name)),
                    ("schema_owner", t(owner)),
                ],
            )
        })
        .collect()
}

/// The constraints of every user table, keys first, as pg_constraint has
/// them.
fn table_keys(sess: &Session) -> Vec<(std::sync::Arc<TableDef>, Vec<Constraint>)> {
    sess.catalog()
        .tables()
        .into_iter()
        .map(|tdef| {
            let cons = objects::indexes(&tdef)
                .into_iter()
                .filter_map(|i| i.constraint)
                .chain(objects::checks(&tdef))
                .collect();
            (tdef, cons)
        })
        .collect()
}

fn constraint_type(kind: char) -> &'static str {
    match kind {
        'p' => "PRIMARY KEY",
        'u' => "UNIQUE",
        'f' => "FOREIGN KEY",
        _ => "CHECK",
    }
}

/// The columns naming constraint `name` of the table with catalog name
/// `table` (the constraint lives in the table's schema).
fn constraint_cols(name: &str, table: &str) -> Vec<(&'static str, Datum)> {
    let (schema, rel) = crate::types::schema::split(table);
    vec![
        ("constraint_catalog", t(CATALOG)),
        ("constraint_schema", t(schema)),
        ("constraint_name", t(name)),
        ("table_catalog", t(CATALOG)),
        ("table_schema", t(schema)),
        ("table_name", t(rel)),
    ]
}

/// PostgreSQL lists each NOT NULL column as a CHECK constraint named
/// `<namespace oid>_<table oid>_<attnum>_not_null`.
fn not_null_name(tdef: &TableDef, pos: usize) -> String {
    format!("{PUBLIC_NS}_{}_{}_not_null", tdef.oid, pos + 1)
}

fn table_constraints(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for (tdef, cons) in table_keys(sess) {
        for c in cons {
            let mut vals = constraint_cols(&c.name, &tdef.name);
            vals.extend([
                ("constraint_type", t(constraint_type(c.kind))),
                ("is_deferrable", yes_no(false)),
                ("initially_deferred", yes_no(false)),
                ("enforced", yes_no(true)),
            ]);
            if c.kind == 'u' {
                vals.push(("nulls_distinct", yes_no(true)));
            }
            out.push(row(def, vals));
        }
        for f in foreign_of(sess, &tdef.name) {
            let mut vals = constraint_cols(&f.fk.name, &tdef.name);
            vals.extend([
                ("constraint_type", t("FOREIGN KEY")),
                ("is_deferrable", yes_no(f.fk.deferrable)),
                ("initially_deferred", yes_no(f.fk.initially_deferred)),
                ("enforced", yes_no(true)),
            ]);
            out.push(row(def, vals));
        }
        for (pos, col) in tdef.columns.iter().enumerate() {
            if !col.not_null {
                continue;
            }
            let mut vals = constraint_cols(&not_null_name(&tdef, pos), &tdef.name);
            vals.extend([
                ("constraint_type", t("CHECK")),
                ("is_deferrable", yes_no(false)),
                ("initially_deferred", yes_no(false)),
                ("enforced", yes_no(true)),
            ]);
            out.push(row(def, vals));
        }
    }
    out
}

fn key_column_usage(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for (tdef, cons) in table_keys(sess) {
        for c in cons.iter().filter(|c| c.kind != 'c') {
            for (n, &col) in c.columns.iter().enumerate() {
                let Some(column) = tdef.columns.get(col) else {
                    continue;
                };
                let mut vals = constraint_cols(&c.name, &tdef.name);
                vals.extend([
                    ("column_name", t(column.name.clone())),
                    ("ordinal_position", i(n as i64 + 1)),
                ]);
                out.push(row(def, vals));
            }
        }
        for f in foreign_of(sess, &tdef.name) {
            let unique: Vec<usize> = objects::indexes(&f.parent)
                .into_iter()
                .find(|ix| ix.name == f.unique_name)
                .map(|ix| ix.columns)
                .unwrap_or_default();
            for (n, (&col, pcol)) in f.fk.columns.iter().zip(&f.parent_columns).enumerate() {
                let Some(column) = tdef.columns.get(col) else {
                    continue;
                };
                let position = unique.iter().position(|u| u == pcol);
                let mut vals = constraint_cols(&f.fk.name, &tdef.name);
                vals.extend([
                    ("column_name", t(column.name.clone())),
                    ("ordinal_position", i(n as i64 + 1)),
                    (
                        "position_in_unique_constraint",
                        opt(position.map(|p| p as i64 + 1)),
                    ),
                ]);
                out.push(row(def, vals));
            }
        }
    }
    out
}

/// The FOREIGN KEYs of table `table`.
fn foreign_of(sess: &Session, table: &str) -> Vec<super::foreign::Foreign> {
    super::foreign::foreign_keys(&sess.catalog().tables())
        .into_iter()
        .filter(|f| f.table.name == table)
        .collect()
}

fn referential_constraints(sess: &Session, def: &TableDef) -> Rows {
    super::foreign::foreign_keys(&sess.catalog().tables())
        .into_iter()
        .map(|f| {
            row(
                def,
                vec![
                    ("constraint_catalog", t(CATALOG)),
                    ("constraint_schema", t(f.table.schema_name())),
                    ("constraint_name", t(f.fk.name.clone())),
                    ("unique_constraint_catalog", t(CATALOG)),
                    ("unique_constraint_schema", t(f.parent.schema_name())),
                    ("unique_constraint_name", t(f.unique_name.clone())),
                    (
                        "match_option",
                        t(if f.fk.match_full { "FULL" } else { "NONE" }),
                    ),
                    ("update_rule", t(f.fk.on_update.words())),
                    ("delete_rule", t(f.fk.on_delete.words())),
                ],
            )
        })
        .collect()
}

fn constraint_column_usage(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for (tdef, cons) in table_keys(sess) {
        for c in &cons {
            for &col in &c.columns {
                let Some(column) = tdef.columns.get(col) else {
                    continue;
                };
                let mut vals = constraint_cols(&c.name, &tdef.name);
                vals.push(("column_name", t(column.name.clone())));
                out.push(row(def, vals));
            }
        }
    }
    // A FOREIGN KEY uses the referenced table's columns.
    for f in super::foreign::foreign_keys(&sess.catalog().tables()) {
        for &col in &f.parent_columns {
            let Some(column) = f.parent.columns.get(col) else {
                continue;
            };
            let mut vals = constraint_cols(&f.fk.name, &f.parent.name);
            vals.push(("column_name", t(column.name.clone())));
            out.push(row(def, vals));
        }
    }
    out
}

/// A CHECK's clause as PostgreSQL deparses it without pretty-printing:
/// an operator expression keeps its own parentheses inside the clause's,
/// `((qty >= 0))`.
fn check_clause(def: &str) -> String {
    match def.strip_suffix(" NOT VALID") {
        Some(valid) => format!("{} NOT VALID", check_clause(valid)),
        None => check_expr_clause(def),
    }
}

fn check_expr_clause(def: &str) -> String {
    use sqlparser::ast::Expr;
    let inner = def.trim_start_matches("CHECK ").to_string();
    let mut e = match crate::sql::parse_expr(&inner) {
        Ok(e) => e,
        Err(_) => return inner,
    };
    while let Expr::Nested(n) = e {
        e = *n;
    }
    match e {
        Expr::BinaryOp { .. }
        | Expr::UnaryOp { .. }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::Between { .. }
        | Expr::Like { .. } => format!("({inner})"),
        _ => inner,
    }
}

/// One row per domain.
fn domains(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for d in sess.catalog().domain_types() {
        let (max_len, octets) = char_lengths(&d.base);
        let (precision, radix, scale) = numeric_facets(&d.base);
        let udt = BUILTIN_TYPES
            .iter()
            .find(|bt| bt.oid == i64::from(d.base.oid()))
            .map_or("text", |bt| bt.name);
        out.push(row(
            def,
            vec![
                ("domain_catalog", t(CATALOG)),
                ("domain_schema", t(split(&d.name).0)),
                ("domain_name", t(split(&d.name).1)),
                ("data_type", t(data_type(&d.base))),
                ("character_maximum_length", opt(max_len)),
                ("character_octet_length", opt(octets)),
                ("numeric_precision", opt(precision)),
                ("numeric_precision_radix", opt(radix)),
                ("numeric_scale", opt(scale)),
                ("datetime_precision", opt(datetime_precision(&d.base))),
                ("domain_default", d.default.clone().map_or(Datum::Null, t)),
                ("udt_catalog", t(CATALOG)),
                ("udt_schema", t("pg_catalog")),
                ("udt_name", t(udt)),
                ("dtd_identifier", t("1")),
            ],
        ));
    }
    out
}

/// One row per CHECK constraint of a domain.
fn domain_constraints(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for d in sess.catalog().domain_types() {
        for c in &d.checks {
            out.push(row(
                def,
                vec![
                    ("constraint_catalog", t(CATALOG)),
                    ("constraint_schema", t(split(&d.name).0)),
                    ("constraint_name", t(c.name.clone())),
                    ("domain_catalog", t(CATALOG)),
                    ("domain_schema", t(split(&d.name).0)),
                    ("domain_name", t(split(&d.name).1)),
                    ("is_deferrable", yes_no(false)),
                    ("initially_deferred", yes_no(false)),
                ],
            ));
        }
    }
    out
}

fn check_constraints(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for d in sess.catalog().domain_types() {
        for (_, name, text, _) in super::domains::checks(&d) {
            out.push(row(
                def,
                vec![
                    ("constraint_catalog", t(CATALOG)),
                    ("constraint_schema", t(split(&d.name).0)),
                    ("constraint_name", t(name)),
                    ("check_clause", t(check_clause(&text))),
                ],
            ));
        }
    }
    for (tdef, cons) in table_keys(sess) {
        for c in cons.iter().filter(|c| c.kind == 'c') {
            let clause = check_clause(&c.def);
            out.push(row(
                def,
                vec![
                    ("constraint_catalog", t(CATALOG)),
                    ("constraint_schema", t(tdef.schema_name())),
                    ("constraint_name", t(c.name.clone())),
                    ("check_clause", t(clause)),
                ],
            ));
        }
        for (pos, col) in tdef.columns.iter().enumerate() {
            if col.not_null {
                out.push(row(
                    def,
                    vec![
                        ("constraint_catalog", t(CATALOG)),
                        ("constraint_schema", t(tdef.schema_name())),
                        ("constraint_name", t(not_null_name(&tdef, pos))),
                        ("check_clause", t(format!("{} IS NOT NULL", col.name))),
                    ],
                ));
            }
        }
    }
    out
}
