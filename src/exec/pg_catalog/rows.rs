//! The contents of each catalog relation, one function per relation that
//! MosaicDB has something to list in; the rest are empty. A row names the
//! columns it sets; the others are false, 0 or NULL by type.

use super::objects::{self, *};
use super::Relation;
use crate::error::Result;
use crate::exec::Session;
use crate::types::builtin::BUILTIN_TYPES;
use crate::types::table::TableDef;
use crate::types::{Datum, PgType};

use super::relations::Rows;

pub(super) fn t(s: impl Into<String>) -> Datum {
    Datum::Text(s.into())
}

pub(super) fn i(n: impl Into<i64>) -> Datum {
    Datum::Int(n.into())
}

pub(super) fn b(v: bool) -> Datum {
    Datum::Int(v as i64)
}

/// A row of `def` with the named columns set and the rest defaulted.
pub(super) fn row(def: &TableDef, vals: Vec<(&str, Datum)>) -> Vec<Datum> {
    let mut out: Vec<Datum> = def
        .columns
        .iter()
        .map(|c| match c.ty {
            PgType::Text | PgType::Timestamptz => Datum::Null,
            PgType::Float4 => Datum::Real(0.0),
            _ => Datum::Int(0),
        })
        .collect();
    for (name, v) in vals {
        if let Some(pos) = def.column_index(name) {
            out[pos] = v;
        }
    }
    out
}

/// A CHECK constraint's expression as `pg_constraint.conbin` holds it:
/// its definition (`CHECK (…) [NOT VALID]`) without the keywords.
pub(super) fn check_bin(def: &str) -> String {
    def.trim_start_matches("CHECK ")
        .trim_end_matches(" NOT VALID")
        .to_string()
}

/// An array type's pg_type row (`_name`, of element type `elem`).
pub(super) struct ArrayType<'a> {
    pub oid: i64,
    pub elem: i64,
    pub name: &'a str,
    pub namespace: i64,
    pub owner: i64,
    pub collation: i64,
}

pub(super) fn array_type_row(def: &TableDef, a: ArrayType<'_>) -> Vec<Datum> {
    row(
        def,
        vec![
            ("oid", i(a.oid)),
            ("typname", t(format!("_{}", a.name))),
            ("typnamespace", i(a.namespace)),
            ("typowner", i(a.owner)),
            ("typlen", i(-1)),
            ("typtype", t("b")),
            ("typcategory", t("A")),
            ("typisdefined", b(true)),
            ("typdelim", t(",")),
            ("typsubscript", t("array_subscript_handler")),
            ("typelem", i(a.elem)),
            ("typinput", t("array_in")),
            ("typoutput", t("array_out")),
            ("typreceive", t("array_recv")),
            ("typsend", t("array_send")),
            ("typalign", t("i")),
            ("typstorage", t("x")),
            ("typtypmod", i(-1)),
            ("typcollation", i(a.collation)),
        ],
    )
}

pub fn rows(sess: &Session, name: &str, def: &TableDef) -> Result<Rows> {
    Ok(match name {
        "pg_namespace" => namespaces(sess, def),
        "pg_class" => classes(sess, def),
        "pg_attribute" => attributes(sess, def),
        "pg_type" => {
            let mut rows = types(def);
            rows.extend(super::enums::type_rows(sess, def));
            rows.extend(super::domains::type_rows(sess, def));
            rows
        }
        "pg_enum" => super::enums::enum_rows(sess, def),
        "pg_proc" => super::functions::proc_rows(sess, def),
        "pg_index" => index_rows(sess, def),
        "pg_constraint" => {
            let mut rows = constraints(sess, def);
            rows.extend(super::domains::constraint_rows(sess, def));
            rows
        }
        "pg_attrdef" => attrdefs(sess, def),
        "pg_database" => vec![database(def)],
        "pg_roles" | "pg_user" => super::roles::roles(sess, def)?,
        "pg_auth_members" => super::roles::auth_members(sess, def)?,
        "pg_am" => [
            (HEAP_AM, "heap", "t"),
            (BTREE_AM, "btree", "i"),
            (objects::HNSW_AM, "hnsw", "i"),
            (objects::IVFFLAT_AM, "ivfflat", "i"),
        ]
        .into_iter()
        .map(|(oid, name, kind)| {
            row(
                def,
                vec![("oid", i(oid)), ("amname", t(name)), ("amtype", t(kind))],
            )
        })
        .collect(),
        "pg_settings" => settings(sess, def),
        "pg_locks" => super::locks::locks(sess, def)?,
        "pg_stat_activity" => super::activity::activity(sess, def)?,
        "pg_collation" => vec![
            collation(def, 100, "default", "d"),
            collation(def, 950, "C", "c"),
        ],
        "pg_tablespace" => vec![
            row(
                def,
                vec![
                    ("oid", i(1663)),
                    ("spcname", t("pg_default")),
                    ("spcowner", i(OWNER_OID)),
                ],
            ),
            row(
                def,
                vec![
                    ("oid", i(1664)),
                    ("spcname", t("pg_global")),
                    ("spcowner", i(OWNER_OID)),
                ],
            ),
        ],
        // PostgreSQL installs plpgsql in every database (exec::ddl::extension).
        "pg_extension" => vec![row(
            def,
            vec![
                ("oid", i(13559)),
                ("extname", t("plpgsql")),
                ("extowner", i(OWNER_OID)),
                ("extnamespace", i(PG_CATALOG_NS)),
                ("extrelocatable", b(false)),
                ("extversion", t("1.0")),
            ],
        )],
        "pg_tables" => tables_view(sess, def),
        "pg_views" => views_view(sess, def),
        "pg_matviews" => matviews_view(sess, def),
        "pg_sequence" => sequences(sess, def),
        "pg_description" => descriptions(sess, def),
        "pg_depend" => depends(sess, def),
        "pg_indexes" => indexes_view(sess, def),
        _ => vec![],
    })
}

fn namespaces(sess: &Session, def: &TableDef) -> Rows {
    let roles = super::oids_of(sess.roles());
    super::schemas(sess)
        .into_iter()
        .map(|(oid, name, created)| {
            let owner =
                (created.as_ref()).map_or(OWNER_OID, |d| super::roles::owner_oid(&roles, d));
            let acl = (created.as_ref()).map_or(Datum::Null, |d| super::roles::acl_datum(d));
            row(
                def,
                vec![
                    ("oid", i(oid)),
                    ("nspname", t(name)),
                    ("nspowner", i(owner)),
                    ("nspacl", acl),
                ],
            )
        })
        .collect()
}

fn classes(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    let tables = sess.catalog().tables();
    let roles = super::oids_of(sess.roles());
    for r in super::relations(sess.catalog().listed()) {
        let Relation {
            oid,
            name,
            namespace,
            kind,
            def: rel,
        } = r;
        let user = kind == 'r' || kind == 'm';
        out.push(row(
            def,
            vec![
                ("oid", i(oid)),
                ("relname", t(crate::types::schema::split(&name).1)),
                ("relnamespace", i(namespace)),
                ("relowner", i(super::roles::owner_oid(&roles, &rel))),
                ("relacl", super::roles::acl_datum(&rel)),
                ("relam", i(if user { HEAP_AM } else { 0 })),
                ("relfilenode", i(oid)),
                ("reltuples", Datum::Real(-1.0)),
                ("relhasindex", b(user && !objects::indexes(&rel).is_empty())),
                ("relpersistence", t(if rel.is_temp() { "t" } else { "p" })),
                ("relkind", t(kind.to_string())),
                ("relnatts", i(rel.columns.len() as i64)),
                ("relchecks", i(rel.checks.len() as i64)),
                (
                    "relhastriggers",
                    b(user && super::foreign::has_triggers(&tables, &rel)),
                ),
                (
                    "relispopulated",
                    b(!matches!(
                        rel.kind,
                        crate::types::table::RelKind::MatView {
                            populated: false,
                            ..
                        }
                    )),
                ),
                ("relreplident", t(if user { "d" } else { "n" })),
            ],
        ));
        if !user {
            continue;
        }
        for idx in objects::indexes(&rel) {
            out.push(row(
                def,
                vec![
                    ("oid", i(idx.oid)),
                    ("relname", t(idx.name.clone())),
                    ("relnamespace", i(namespace)),
                    ("relowner", i(super::roles::owner_oid(&roles, &rel))),
                    ("relam", i(objects::access_method(idx.method.as_deref()))),
                    ("relfilenode", i(idx.oid)),
                    ("reltuples", Datum::Real(-1.0)),
                    ("relpersistence", t("p")),
                    ("relkind", t("i")),
                    ("relnatts", i(idx.columns.len() as i64)),
                    ("relispopulated", b(true)),
                    ("relreplident", t("n")),
                ],
            ));
        }
    }
    out
}

pub(super) fn builtin(oid: u32) -> Option<&'static crate::types::builtin::BuiltinType> {
    BUILTIN_TYPES.iter().find(|bt| bt.oid == oid as i64)
}

pub(super) fn typmod(ty: &PgType) -> i64 {
    match ty {
        PgType::Varchar(Some(n)) | PgType::Bpchar(Some(n)) => *n as i64 + 4,
        PgType::Numeric(Some((p, s))) if *p > 0 => (((*p as i64) << 16) | *s as i64) + 4,
        // pgvector's typmod is the dimensions themselves.
        PgType::Vector(Some(n)) => *n as i64,
        // PostGIS's packs the type and SRID (`types::geometry`).
        PgType::Geometry(Some(m)) => i64::from(*m),
        _ => -1,
    }
}

/// A type's storage strategy (`typstorage`, `attstorage`): plain for
/// fixed-length types, main for numeric (1700), extended for the other
/// variable-length ones, as PostgreSQL's catalog has them.
pub(super) fn storage(oid: i64, len: i64) -> &'static str {
    match (oid, len) {
        (1700, _) => "m",
        (_, l) if l > 0 => "p",
        _ => "x",
    }
}

fn attributes(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    let mut push = |rel: i64, pos: usize, c: &crate::types::table::Column| {
        let oid = c.ty.oid();
        let bt = builtin(oid);
        let len = match c.ty {
            crate::types::PgType::Enum(_) => 4,
            _ => bt.map_or(-1, |x| x.len),
        };
        out.push(row(
            def,
            vec![
                ("attrelid", i(rel)),
                ("attname", t(c.name.clone())),
                ("atttypid", i(c.domain.as_ref().map_or(oid, |d| d.oid))),
                ("attstattarget", i(-1)),
                ("attlen", i(len)),
                ("attnum", i(pos as i64 + 1)),
                ("attcacheoff", i(-1)),
                (
                    "atttypmod",
                    i(if c.domain.is_some() {
                        -1
                    } else {
                        typmod(&c.ty)
                    }),
                ),
                ("attbyval", b(len > 0 && len <= 8)),
                ("attalign", t(if len > 0 && len < 4 { "c" } else { "i" })),
                ("attstorage", t(storage(i64::from(oid), len))),
                ("attcompression", t("")),
                ("attnotnull", b(c.not_null)),
                (
                    "atthasdef",
                    b(c.shown_default().is_some() || c.generated.is_some()),
                ),
                (
                    "attidentity",
                    t(match c.identity {
                        Some(crate::types::table::Identity::Always) => "a",
                        Some(crate::types::table::Identity::ByDefault) => "d",
                        None => "",
                    }),
                ),
                (
                    "attgenerated",
                    t(if c.generated.is_some() { "s" } else { "" }),
                ),
                ("attislocal", b(true)),
                ("attcollation", i(bt.map_or(0, |x| x.collation))),
            ],
        ));
    };
    for r in super::relations(sess.catalog().listed()) {
        for (pos, c) in r.def.columns.iter().enumerate() {
            push(r.oid, pos, c);
        }
        if r.kind == 'r' || r.kind == 'm' {
            for idx in objects::indexes(&r.def) {
                for (pos, &col) in idx.columns.iter().enumerate() {
                    if let Some(c) = r.def.columns.get(col) {
                        push(idx.oid, pos, c);
                    }
                }
            }
        }
    }
    out
}

fn types(def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for bt in BUILTIN_TYPES {
        let fixed = bt.len > 0;
        out.push(row(
            def,
            vec![
                ("oid", i(bt.oid)),
                ("typname", t(bt.name)),
                ("typnamespace", i(bt.namespace())),
                ("typowner", i(OWNER_OID)),
                ("typlen", i(bt.len)),
                ("typbyval", b(fixed && bt.len <= 8)),
                ("typtype", t("b")),
                ("typcategory", t(bt.category)),
                ("typisdefined", b(true)),
                ("typdelim", t(",")),
                ("typarray", i(bt.array)),
                ("typinput", t(format!("{}in", bt.name))),
                ("typoutput", t(format!("{}out", bt.name))),
                ("typreceive", t(format!("{}recv", bt.name))),
                ("typsend", t(format!("{}send", bt.name))),
                ("typalign", t(if fixed && bt.len < 4 { "c" } else { "i" })),
                ("typstorage", t(storage(bt.oid, bt.len))),
                ("typtypmod", i(-1)),
                ("typcollation", i(bt.collation)),
            ],
        ));
        out.push(array_type_row(
            def,
            ArrayType {
                oid: bt.array,
                elem: bt.oid,
                name: bt.name,
                namespace: bt.namespace(),
                owner: OWNER_OID,
                collation: bt.collation,
            },
        ));
    }
    out
}

fn index_rows(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for tdef in sess.catalog().tables() {
        for idx in objects::indexes(&tdef) {
            let n = idx.columns.len() as i64;
            let all: Vec<usize> = idx.columns.iter().chain(&idx.include).copied().collect();
            out.push(row(
                def,
                vec![
                    ("indexrelid", i(idx.oid)),
                    ("indrelid", i(tdef.oid)),
                    ("indnatts", i(all.len() as i64)),
                    ("indnkeyatts", i(n)),
                    ("indisunique", b(idx.unique)),
                    ("indisprimary", b(idx.primary)),
                    ("indimmediate", b(true)),
                    ("indisvalid", b(true)),
                    ("indisready", b(true)),
                    ("indislive", b(true)),
                    ("indkey", t(int2vector(&all))),
                    ("indcollation", t(vec!["0"; idx.columns.len()].join(" "))),
                    ("indclass", t(vec!["0"; idx.columns.len()].join(" "))),
                    ("indoption", t(indoption(&idx))),
                    ("indexprs", index_exprs(&idx)),
                    ("indpred", index_pred(&tdef, &idx)),
                ],
            ));
        }
    }
    out
}

/// `indoption`: each key's DESC / NULLS FIRST bits.
fn indoption(idx: &objects::Index) -> String {
    let v: Vec<String> = (0..idx.columns.len())
        .map(|k| idx.options.get(k).copied().unwrap_or(0).to_string())
        .collect();
    v.join(" ")
}

/// `indexprs`: PostgreSQL stores a node tree; clients only test it for
/// NULL, so the expressions' text stands in for it.
fn index_exprs(idx: &objects::Index) -> Datum {
    let e: Vec<&str> = idx.exprs.iter().filter_map(|e| e.as_deref()).collect();
    match e.is_empty() {
        true => Datum::Null,
        false => Datum::Text(format!("({})", e.join(", "))),
    }
}

/// `indpred`, likewise, as `pg_get_expr` prints it.
fn index_pred(tdef: &TableDef, idx: &objects::Index) -> Datum {
    match &idx.predicate {
        Some(p) => match crate::sql::index_expr::predicate_text(p, tdef, false) {
            Ok(text) => Datum::Text(text),
            Err(_) => Datum::Text(format!("({p})")),
        },
        None => Datum::Null,
    }
}

fn constraints(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for tdef in sess.catalog().tables() {
        let all = objects::indexes(&tdef)
            .into_iter()
            .filter_map(|i| i.constraint)
            .chain(objects::checks(&tdef));
        for c in all {
            let validated = tdef.is_validated(&c.name);
            let bin = check_bin(&c.def);
            out.push(row(
                def,
                vec![
                    ("oid", i(c.oid)),
                    ("conname", t(c.name)),
                    ("connamespace", i(objects::namespace_of(&tdef))),
                    ("contype", t(c.kind.to_string())),
                    ("convalidated", b(validated)),
                    ("conrelid", i(tdef.oid)),
                    ("conindid", i(c.index_oid)),
                    ("confupdtype", t(" ")),
                    ("confdeltype", t(" ")),
                    ("confmatchtype", t(" ")),
                    ("conislocal", b(true)),
                    ("connoinherit", b(c.kind != 'c')),
                    ("conkey", t(int2array(&c.columns))),
                    ("conbin", if c.kind == 'c' { t(bin) } else { Datum::Null }),
                ],
            ));
        }
    }
    for f in super::foreign::foreign_keys(&sess.catalog().tables()) {
        let action = |a: crate::types::foreign::Action| t(a.code().to_string());
        out.push(row(
            def,
            vec![
                ("oid", i(f.oid)),
                ("conname", t(f.fk.name.clone())),
                ("connamespace", i(objects::namespace_of(&f.table))),
                ("contype", t("f")),
                ("condeferrable", b(f.fk.deferrable)),
                ("condeferred", b(f.fk.initially_deferred)),
                ("convalidated", b(f.table.is_validated(&f.fk.name))),
                ("conrelid", i(f.table.oid)),
                ("conindid", i(f.index_oid)),
                ("confrelid", i(f.parent.oid)),
                ("confupdtype", action(f.fk.on_update)),
                ("confdeltype", action(f.fk.on_delete)),
                ("confmatchtype", t(if f.fk.match_full { "f" } else { "s" })),
                ("conislocal", b(true)),
                ("connoinherit", b(true)),
                ("conkey", t(int2array(&f.fk.columns))),
                ("confkey", t(int2array(&f.parent_columns))),
            ],
        ));
    }
    out
}

fn attrdefs(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for tdef in sess.catalog().tables() {
        for (pos, c) in tdef.columns.iter().enumerate() {
            let generated =
                (c.generated.as_deref()).map(|g| crate::sql::ddl::generated::shown(&tdef, g));
            if let Some(d) = generated.or_else(|| c.shown_default().map(objects::default_expr)) {
                out.push(row(
                    def,
                    vec![
                        (
                            "oid",
                            i(derived_oid("attrdef", &format!("{}.{}", tdef.name, c.name))),
                        ),
                        ("adrelid", i(tdef.oid)),
                        ("adnum", i(pos as i64 + 1)),
                        ("adbin", t(d)),
                    ],
                ));
            }
        }
    }
    out
}

fn database(def: &TableDef) -> Vec<Datum> {
    row(
        def,
        vec![
            ("oid", i(derived_oid("database", "mosaic"))),
            ("datname", t("mosaic")),
            ("datdba", i(OWNER_OID)),
            ("encoding", i(6)),
            ("datlocprovider", t("c")),
            ("datallowconn", b(true)),
            ("datconnlimit", i(-1)),
            ("dattablespace", i(1663)),
            ("datcollate", t("C.UTF-8")),
            ("datctype", t("C.UTF-8")),
        ],
    )
}

fn settings(sess: &Session, def: &TableDef) -> Rows {
    sess.settings
        .all()
        .into_iter()
        .map(|(name, value)| {
            // Durations in milliseconds, as pg_settings gives them.
            let duration = crate::exec::settings::DURATIONS.contains(&name.as_str());
            let value = match duration {
                true => sess.settings.millis(&name).to_string(),
                false => value,
            };
            row(
                def,
                vec![
                    ("unit", if duration { t("ms") } else { Datum::Null }),
                    ("name", t(name)),
                    ("setting", t(value.clone())),
                    ("context", t("user")),
                    ("vartype", t(if duration { "integer" } else { "string" })),
                    ("source", t("default")),
                    ("boot_val", t(value.clone())),
                    ("reset_val", t(value)),
                    ("pending_restart", b(false)),
                ],
            )
        })
        .collect()
}

fn collation(def: &TableDef, oid: i64, name: &str, provider: &str) -> Vec<Datum> {
    row(
        def,
        vec![
            ("oid", i(oid)),
            ("collname", t(name)),
            ("collnamespace", i(PG_CATALOG_NS)),
            ("collowner", i(OWNER_OID)),
            ("collprovider", t(provider)),
            ("collisdeterministic", b(true)),
            ("collencoding", i(-1)),
        ],
    )
}

fn tables_view(sess: &Session, def: &TableDef) -> Rows {
    sess.catalog()
        .listed()
        .iter()
        .filter(|tdef| tdef.is_table())
        .map(|tdef| {
            row(
                def,
                vec![
                    (
                        "schemaname",
                        t(if tdef.is_temp() {
                            "pg_temp_1"
                        } else {
                            tdef.schema_name()
                        }),
                    ),
                    ("tablename", t(tdef.rel_name())),
                    ("tableowner", t(sess.owner_of(&tdef.access))),
                    ("hasindexes", b(!objects::indexes(tdef).is_empty())),
                ],
            )
        })
        .collect()
}

/// What pg_depend says of sequences: each serial column's sequence, and
/// each OWNED BY sequence, belongs to its column (`a`); an identity
/// column's is internal to it (`i`).
fn depends(sess: &Session, def: &TableDef) -> Rows {
    const PG_CLASS: i64 = 1259;
    let relations = sess.catalog().listed();
    let mut owned: Vec<(i64, i64, usize, &str)> = super::serial_sequence_owners(&relations)
        .into_iter()
        .map(|(name, _, t, pos)| {
            let deptype = if t.columns[pos].identity.is_some() {
                "i"
            } else {
                "a"
            };
            (derived_oid("sequence", &name), t.oid as i64, pos, deptype)
        })
        .collect();
    for r in &relations {
        let Some((table, column)) = r.sequence().and_then(|s| s.owned_by.clone()) else {
            continue;
        };
        if let Some(t) = relations.iter().find(|t| t.name == table) {
            if let Some(pos) = t.column_index(&column) {
                owned.push((r.oid as i64, t.oid as i64, pos, "a"));
            }
        }
    }
    owned
        .into_iter()
        .map(|(seq, table, pos, deptype)| {
            row(
                def,
                vec![
                    ("classid", i(PG_CLASS)),
                    ("objid", i(seq)),
                    ("objsubid", i(0)),
                    ("refclassid", i(PG_CLASS)),
                    ("refobjid", i(table)),
                    ("refobjsubid", i(pos as i64 + 1)),
                    ("deptype", t(deptype)),
                ],
            )
        })
        .collect()
}

/// COMMENT ON texts of relations (objsubid 0) and their columns.
fn descriptions(sess: &Session, def: &TableDef) -> Rows {
    const PG_CLASS: i64 = 1259;
    let mut out = Vec::new();
    for r in sess.catalog().listed() {
        let columns = r.columns.iter().map(|c| c.comment.as_ref());
        for (sub, text) in std::iter::once(r.comment.as_ref())
            .chain(columns)
            .enumerate()
        {
            if let Some(text) = text {
                out.push(row(
                    def,
                    vec![
                        ("objoid", i(r.oid as i64)),
                        ("classoid", i(PG_CLASS)),
                        ("objsubid", i(sub as i64)),
                        ("description", t(text.clone())),
                    ],
                ));
            }
        }
    }
    out
}

fn sequences(sess: &Session, def: &TableDef) -> Rows {
    super::sequence_relations(sess)
        .iter()
        .filter_map(|r| {
            let s = r.def.sequence()?;
            Some(row(
                def,
                vec![
                    ("seqrelid", i(r.oid)),
                    ("seqtypid", i(s.ty.oid() as i64)),
                    ("seqstart", i(s.start)),
                    ("seqincrement", i(s.increment)),
                    ("seqmax", i(s.max)),
                    ("seqmin", i(s.min)),
                    ("seqcache", i(s.cache)),
                    ("seqcycle", b(s.cycle)),
                ],
            ))
        })
        .collect()
}

fn matviews_view(sess: &Session, def: &TableDef) -> Rows {
    sess.catalog()
        .listed()
        .iter()
        .filter_map(|m| {
            let crate::types::table::RelKind::MatView {
                query, populated, ..
            } = &m.kind
            else {
                return None;
            };
            Some(row(
                def,
                vec![
                    ("schemaname", t(m.schema_name())),
                    ("matviewname", t(m.rel_name())),
                    ("matviewowner", t(sess.owner_of(&m.access))),
                    ("hasindexes", b(!objects::indexes(m).is_empty())),
                    ("ispopulated", b(*populated)),
                    ("definition", t(objects::view_def(query))),
                ],
            ))
        })
        .collect()
}

fn views_view(sess: &Session, def: &TableDef) -> Rows {
    sess.catalog()
        .listed()
        .iter()
        .filter_map(|v| {
            let query = v.view_query()?;
            Some(row(
                def,
                vec![
                    ("schemaname", t(v.schema_name())),
                    ("viewname", t(v.rel_name())),
                    ("viewowner", t(sess.owner_of(&v.access))),
                    ("definition", t(objects::view_def(query))),
                ],
            ))
        })
        .collect()
}

fn indexes_view(sess: &Session, def: &TableDef) -> Rows {
    let mut out = Vec::new();
    for tdef in sess.catalog().tables() {
        for idx in objects::indexes(&tdef) {
            out.push(row(
                def,
                vec![
                    ("schemaname", t(tdef.schema_name())),
                    ("tablename", t(tdef.rel_name())),
                    ("indexname", t(idx.name.clone())),
                    ("indexdef", t(objects::index_def(&tdef, &idx))),
                ],
            ));
        }
    }
    out
}
