//! PostgreSQL's built-in types as the system catalogs list them: oids,
//! names, array types, and how `format_type` and `to_regtype` name them.

use crate::types::PgType;

/// `format_type(oid, typmod)`: `integer`, `character varying(20)`, `numeric(10,2)`.
pub fn format_type(oid: i64, typmod: Option<i64>) -> String {
    let m = typmod.filter(|m| *m >= 4).map(|m| m - 4);
    let ty = u32::try_from(oid).ok().and_then(PgType::from_oid);
    match (oid, ty) {
        (_, Some(PgType::Varchar(_))) => PgType::Varchar(m.map(|n| n as u32)).display_name(),
        (_, Some(PgType::Bpchar(_))) => PgType::Bpchar(m.map(|n| n as u32)).display_name(),
        (_, Some(PgType::Geometry(_))) => {
            PgType::Geometry(typmod.filter(|m| *m >= 0).map(|m| m as i32)).display_name()
        }
        (_, Some(PgType::Vector(_))) => {
            PgType::Vector(typmod.filter(|m| *m >= 1).map(|m| m as u32)).display_name()
        }
        (_, Some(PgType::Numeric(_))) => {
            PgType::Numeric(m.map(|m| ((m >> 16) as u32, (m & 0xffff) as u32))).display_name()
        }
        (19, _) => "name".into(),
        (25, _) => "text".into(),
        (705, _) => "unknown".into(),
        (_, Some(t)) => t.display_name(),
        (18, _) => "\"char\"".into(),
        (1560, _) => "bit".into(),
        (1562, _) => "bit varying".into(),
        (26, _) => "oid".into(),
        (22, _) => "int2vector".into(),
        (30, _) => "oidvector".into(),
        (2205, _) => "regclass".into(),
        _ => match array_element(oid) {
            Some(elem) => format!("{}[]", format_type(elem, None)),
            None => "???".into(),
        },
    }
}

/// A built-in type as `pg_type` lists it: oid, name, length, category,
/// the oid of its array type, its collation (0 when not collatable).
pub struct BuiltinType {
    pub oid: i64,
    pub name: &'static str,
    pub len: i64,
    pub category: &'static str,
    pub array: i64,
    pub collation: i64,
}

const fn ty(
    oid: i64,
    name: &'static str,
    len: i64,
    category: &'static str,
    array: i64,
    collation: i64,
) -> BuiltinType {
    BuiltinType {
        oid,
        name,
        len,
        category,
        array,
        collation,
    }
}

/// The types MosaicDB supports (`PgType`) and the few more its catalogs
/// use (name, oid, "char", int2vector), with PostgreSQL's oids.
pub const BUILTIN_TYPES: &[BuiltinType] = &[
    ty(16, "bool", 1, "B", 1000, 0),
    ty(17, "bytea", -1, "U", 1001, 0),
    ty(18, "char", 1, "Z", 1002, 0),
    ty(19, "name", 64, "S", 1003, 950),
    ty(20, "int8", 8, "N", 1016, 0),
    ty(21, "int2", 2, "N", 1005, 0),
    ty(22, "int2vector", -1, "A", 1006, 0),
    ty(23, "int4", 4, "N", 1007, 0),
    ty(25, "text", -1, "S", 1009, 100),
    ty(26, "oid", 4, "N", 1028, 0),
    ty(114, "json", -1, "U", 199, 0),
    ty(700, "float4", 4, "N", 1021, 0),
    ty(701, "float8", 8, "N", 1022, 0),
    ty(1042, "bpchar", -1, "S", 1014, 100),
    ty(1043, "varchar", -1, "S", 1015, 100),
    ty(1082, "date", 4, "D", 1182, 0),
    ty(1114, "timestamp", 8, "D", 1115, 0),
    ty(1184, "timestamptz", 8, "D", 1185, 0),
    ty(1186, "interval", 16, "T", 1187, 0),
    ty(1700, "numeric", -1, "N", 1231, 0),
    ty(2950, "uuid", 16, "U", 2951, 0),
    ty(3802, "jsonb", -1, "U", 3807, 0),
    // Listed, not supported as column types: pgvector's client libraries
    // look them up beside `vector` (bit for its binary quantization).
    ty(1560, "bit", -1, "V", 1561, 0),
    ty(1562, "varbit", -1, "V", 1563, 0),
    ty(
        crate::types::vector::OID as i64,
        "vector",
        -1,
        "U",
        crate::types::vector::ARRAY_OID as i64,
        0,
    ),
    ty(
        crate::types::geometry::OID as i64,
        "geometry",
        -1,
        "U",
        crate::types::geometry::ARRAY_OID as i64,
        0,
    ),
];

/// Oids no object is given (`store::catalog`'s `next_oid` steps over
/// them): the built-in types that extensions define in PostgreSQL, whose
/// oids drivers expect above 16383 (asyncpg refuses an oid below it that
/// it has no codec for as an unknown standard type).
pub const RESERVED_OIDS: std::ops::RangeInclusive<i64> = 999_999_000..=999_999_999;

/// The oid of schema `public`, where pgvector's `vector` lives.
const PUBLIC_NAMESPACE: i64 = 2200;
/// The oid of schema `pg_catalog`, where PostgreSQL's own types live.
const PG_CATALOG_NAMESPACE: i64 = 11;

impl BuiltinType {
    /// The schema the type is in: `public` for `vector` (where
    /// `CREATE EXTENSION vector` puts it), `pg_catalog` for the rest.
    pub fn namespace(&self) -> i64 {
        if self.oid == crate::types::vector::OID as i64
            || self.oid == crate::types::geometry::OID as i64
        {
            PUBLIC_NAMESPACE
        } else {
            PG_CATALOG_NAMESPACE
        }
    }
}

/// The oid of a type by name, as `to_regtype` looks it up: `int4`,
/// `integer`, `character varying(10)`, `pg_catalog.text`, `text[]`; `None`
/// for a type MosaicDB does not have.
pub fn type_oid(name: &str) -> Option<i64> {
    let name = name.trim();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    // An array type by its own name: `_int4`, `_vector`.
    if let Some(elem) = name.strip_prefix('_') {
        if let Some(t) = BUILTIN_TYPES.iter().find(|t| t.name == elem) {
            return Some(t.array);
        }
    }
    if let Some(elem) = name.strip_suffix("[]") {
        let oid = type_oid(elem)?;
        return BUILTIN_TYPES.iter().find(|t| t.oid == oid).map(|t| t.array);
    }
    if let Some(t) = BUILTIN_TYPES.iter().find(|t| t.name == name) {
        return Some(t.oid);
    }
    let Ok(sqlparser::ast::Expr::Cast { data_type, .. }) =
        sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(&format!("NULL::{name}"))
            .and_then(|mut p| p.parse_expr())
    else {
        return None;
    };
    PgType::from_sql(&data_type).ok().map(|t| t.oid() as i64)
}

/// The element type of a built-in array type.
pub fn array_element(oid: i64) -> Option<i64> {
    BUILTIN_TYPES.iter().find(|t| t.array == oid).map(|t| t.oid)
}

/// The names of PostgreSQL 15's own types (pg_catalog's base and pseudo
/// types, information_schema's domains): a cast or column of one that
/// MosaicDB lacks is refused as not supported (0A000), where any other
/// unknown name does not exist (42704). Their array types (`_name`), the
/// `reg…` types and any `pg_…` name (the catalogs' row types, not listed
/// one by one) count as PostgreSQL's too.
const POSTGRES_TYPES: &[&str] = &[
    "aclitem",
    "any",
    "anyarray",
    "anycompatible",
    "anycompatiblearray",
    "anycompatiblemultirange",
    "anycompatiblenonarray",
    "anycompatiblerange",
    "anyelement",
    "anyenum",
    "anymultirange",
    "anynonarray",
    "anyrange",
    "bit",
    "bool",
    "box",
    "bpchar",
    "bytea",
    "char",
    "cid",
    "cidr",
    "circle",
    "cstring",
    "date",
    "datemultirange",
    "daterange",
    "event_trigger",
    "fdw_handler",
    "float4",
    "float8",
    "gtsvector",
    "index_am_handler",
    "inet",
    "int2",
    "int2vector",
    "int4",
    "int4multirange",
    "int4range",
    "int8",
    "int8multirange",
    "int8range",
    "internal",
    "interval",
    "json",
    "jsonb",
    "jsonpath",
    "language_handler",
    "line",
    "lseg",
    "macaddr",
    "macaddr8",
    "money",
    "name",
    "numeric",
    "nummultirange",
    "numrange",
    "oid",
    "oidvector",
    "path",
    "point",
    "polygon",
    "record",
    "refcursor",
    "table_am_handler",
    "text",
    "tid",
    "time",
    "timestamp",
    "timestamptz",
    "timetz",
    "trigger",
    "tsm_handler",
    "tsmultirange",
    "tsquery",
    "tsrange",
    "tstzmultirange",
    "tstzrange",
    "tsvector",
    "txid_snapshot",
    "unknown",
    "uuid",
    "varbit",
    "varchar",
    "void",
    "xid",
    "xid8",
    "xml",
    "cardinal_number",
    "character_data",
    "sql_identifier",
    "time_stamp",
    "yes_or_no",
];

/// PostgreSQL's object-identifier alias types.
const REG_TYPES: &[&str] = &[
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
];

/// 42704 for a type name (as written, unqualified) that is neither
/// MosaicDB's nor PostgreSQL's; `None` for a qualified name or one of
/// PostgreSQL's types.
pub fn no_such_type(written: &str) -> Option<crate::error::Error> {
    let name = match written.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None if written.contains('.') || written.contains('"') => return None,
        None => written.to_ascii_lowercase(),
    };
    let known = |n: &str| POSTGRES_TYPES.contains(&n) || REG_TYPES.contains(&n);
    let postgres =
        known(&name) || name.strip_prefix('_').is_some_and(known) || name.starts_with("pg_");
    (!postgres)
        .then(|| crate::error::Error::NoSuchObject(format!("type \"{name}\" does not exist")))
}

/// `no_such_type`'s error for an element type, said of its array type
/// (`type "nosuch[]" does not exist`, as PostgreSQL names it).
pub fn of_array(e: crate::error::Error) -> crate::error::Error {
    match e {
        crate::error::Error::NoSuchObject(m) => {
            crate::error::Error::NoSuchObject(m.replacen("\" does not", "[]\" does not", 1))
        }
        e => e,
    }
}
