//! pgvector's index access methods, `hnsw` and `ivfflat`, checked as
//! pgvector checks them (operator classes, one vector key, no UNIQUE, the
//! storage parameters `m`, `ef_construction` and `lists` and their bounds)
//! and kept in the catalog, so migrations that create them run and
//! `pg_indexes`, `pg_get_indexdef` and psql's `\d` show them. No structure
//! is built for them: a nearest-neighbour query reads each shard through
//! the vec0 table every shard keeps anyway (`plan::nearest`), or scans it,
//! and gives the exact answer (pgvector's indexes give an approximate one).

use sqlparser::ast::{CreateIndex, Expr, Value};

use crate::error::{Error, Result};
use crate::sql::ident_name;
use crate::types::table::TableDef;
use crate::types::PgType;

/// The access methods this module knows.
pub fn is_vector_method(method: &str) -> bool {
    matches!(method, "hnsw" | "ivfflat")
}

/// The operator classes of each method; the first of ivfflat's is its
/// default (hnsw has none).
fn opclasses(method: &str) -> &'static [&'static str] {
    match method {
        "hnsw" => &[
            "vector_l2_ops",
            "vector_ip_ops",
            "vector_cosine_ops",
            "vector_l1_ops",
        ],
        _ => &["vector_l2_ops", "vector_ip_ops", "vector_cosine_ops"],
    }
}

/// An integer storage parameter: (name, least, greatest).
fn parameters(method: &str) -> &'static [(&'static str, i64, i64)] {
    match method {
        "hnsw" => &[("m", 2, 100), ("ef_construction", 4, 1000)],
        _ => &[("lists", 1, 32768)],
    }
}

/// What an hnsw or ivfflat index keeps beside its key: its method, the
/// key's operator class (`None`: ivfflat's default) and its storage
/// parameters in the order given.
pub struct VectorIndex {
    pub method: String,
    pub opclass: Option<String>,
    pub with: Vec<(String, String)>,
}

/// Check CREATE INDEX … USING hnsw | ivfflat on `table`.
pub fn check(ci: &CreateIndex, method: &str, table: &TableDef) -> Result<VectorIndex> {
    if ci.unique {
        return Err(Error::NotSupported(format!(
            "access method \"{method}\" does not support unique indexes"
        )));
    }
    let [key] = ci.columns.as_slice() else {
        return Err(Error::NotSupported(format!(
            "access method \"{method}\" does not support multicolumn indexes"
        )));
    };
    if !ci.include.is_empty() {
        return Err(Error::NotSupported(format!(
            "access method \"{method}\" does not support included columns"
        )));
    }
    let ty = match &key.column.expr {
        Expr::Identifier(id) => {
            let name = ident_name(id);
            let i = table
                .column_index(&name)
                .ok_or_else(|| Error::NoSuchColumn(name.clone()))?;
            table.columns[i].ty.clone()
        }
        _ => {
            return Err(Error::Unsupported(format!(
                "an expression as the key of a {method} index"
            )))
        }
    };
    let opclass = key
        .operator_class
        .as_ref()
        .map(|o| o.to_string().to_lowercase());
    match &opclass {
        None if method == "hnsw" || !matches!(ty, PgType::Vector(_)) => {
            return Err(Error::NoSuchObject(format!(
                "data type {} has no default operator class for access method \"{method}\"",
                ty.without_modifiers().display_name()
            ))
            .with_hint("You must specify an operator class for the index or define a default operator class for the data type."));
        }
        Some(name) if !opclasses(method).contains(&name.as_str()) => {
            return Err(Error::NoSuchObject(format!(
                "operator class \"{name}\" does not exist for access method \"{method}\""
            )));
        }
        Some(name) if !matches!(ty, PgType::Vector(_)) => {
            return Err(Error::DatatypeMismatch(format!(
                "operator class \"{name}\" does not accept data type {}",
                ty.without_modifiers().display_name()
            )));
        }
        _ => {}
    }
    let with = storage_parameters(&ci.with, method)?;
    Ok(VectorIndex {
        method: method.to_string(),
        opclass,
        with,
    })
}

/// `WITH (m = 16, …)` checked as PostgreSQL's reloptions are, and as
/// PostgreSQL prints them back (`m='16'`).
fn storage_parameters(with: &[Expr], method: &str) -> Result<Vec<(String, String)>> {
    let known = parameters(method);
    let mut out: Vec<(String, String)> = Vec::new();
    for option in with {
        let (name, value) = match option {
            Expr::BinaryOp { left, right, .. } => (left.to_string().to_lowercase(), &**right),
            other => {
                return Err(Error::InvalidParameter(format!(
                    "unrecognized parameter \"{other}\""
                )))
            }
        };
        let Some((_, least, greatest)) = known.iter().find(|(n, _, _)| *n == name) else {
            return Err(Error::InvalidParameter(format!(
                "unrecognized parameter \"{name}\""
            )));
        };
        let text = match value {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.clone(),
                Value::SingleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            other => other.to_string(),
        };
        let n: i64 = text.trim().parse().map_err(|_| {
            Error::InvalidParameter(format!(
                "invalid value for integer option \"{name}\": {text}"
            ))
        })?;
        if !(*least..=*greatest).contains(&n) {
            return Err(Error::InvalidParameter(format!(
                "value {n} out of bounds for option \"{name}\""
            ))
            .with_detail(format!(
                "Valid values are between \"{least}\" and \"{greatest}\"."
            )));
        }
        out.retain(|(k, _)| *k != name);
        out.push((name, n.to_string()));
    }
    let get = |k: &str, default: i64| {
        out.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    };
    if method == "hnsw" && get("ef_construction", 64) < 2 * get("m", 16) {
        return Err(Error::InvalidParameter(
            "ef_construction must be greater than or equal to 2 * m".into(),
        ));
    }
    Ok(out)
}

/// Storage parameters as `pg_get_indexdef` prints them: ` WITH (m='16')`.
pub fn with_text(with: &[(String, String)]) -> String {
    if with.is_empty() {
        return String::new();
    }
    let items: Vec<String> = with.iter().map(|(k, v)| format!("{k}='{v}'")).collect();
    format!(" WITH ({})", items.join(", "))
}
