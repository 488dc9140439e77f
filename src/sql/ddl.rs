//! DDL: PostgreSQL CREATE TABLE / CREATE INDEX / ALTER TABLE ADD COLUMN
//! statements turned into catalog definitions.

use sqlparser::ast::{ColumnDef, ColumnOption, CreateIndex, CreateTable, Expr, TableConstraint};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name};
use crate::types::table::{Altered, Column, Index, TableDef, UniqueKey};
use crate::types::PgType;

pub mod foreign;
pub mod generated;
pub mod identity;

fn serial_kind(dt: &sqlparser::ast::DataType) -> Option<PgType> {
    match dt.to_string().to_lowercase().as_str() {
        "serial" | "serial4" => Some(PgType::Int4),
        "bigserial" | "serial8" => Some(PgType::Int8),
        "smallserial" | "serial2" => Some(PgType::Int2),
        _ => None,
    }
}

/// A column-level key constraint: `Some(name)`, the name given with
/// `CONSTRAINT name`, if the column has one.
type ColumnKey = Option<Option<String>>;

/// A column of table `table` as the catalog keeps it, plus its
/// column-level PRIMARY KEY and UNIQUE constraints.
pub fn column(table: &str, def: &ColumnDef) -> Result<(Column, ColumnKey, ColumnKey)> {
    let name = ident_name(&def.name);
    let domain = crate::types::domain::of_sql(&def.data_type).map(Box::new);
    let (ty, mut default) = match (serial_kind(&def.data_type), &domain) {
        (Some(ty), _) => (ty, Some(format!("nextval('{table}_{name}_seq')"))),
        (None, Some(d)) => (d.base.clone(), None),
        (None, None) => {
            crate::types::refuse_timestamp_column(&def.data_type)?;
            (PgType::from_sql(&def.data_type)?, None)
        }
    };
    let mut not_null = default.is_some();
    let (mut pk, mut unique, mut identity, mut sequence) = (None, None, None, None);
    let mut generated = None;
    for opt in &def.options {
        match &opt.option {
            ColumnOption::Null => not_null = false,
            ColumnOption::NotNull => not_null = true,
            ColumnOption::Default(e) => default = Some(e.to_string()),
            ColumnOption::PrimaryKey(c) => {
                refuse_deferrable(c.characteristics.as_ref())?;
                pk = Some(opt.name.as_ref().map(ident_name));
                not_null = true;
            }
            ColumnOption::Unique(u) => {
                refuse_key_options(u)?;
                unique = Some(opt.name.as_ref().map(ident_name))
            }
            ColumnOption::Check(_) => {}
            ColumnOption::Generated {
                generated_as,
                sequence_options,
                generation_expr: None,
                ..
            } => {
                identity = Some(identity_of(&ty, generated_as)?);
                sequence =
                    identity::sequence_def(&ty, sequence_options.as_deref().unwrap_or_default())?
                        .map(Box::new);
                default = Some(format!("nextval('{table}_{name}_seq')"));
                not_null = true;
            }
            ColumnOption::Generated {
                generation_expr: Some(e),
                ..
            } => generated = Some(e.to_string()),
            // Read by `foreign::column_specs`.
            ColumnOption::ForeignKey(_) => {}
            other => return Err(Error::Unsupported(format!("column option {other}"))),
        }
    }
    if generated.is_some() {
        let other = match (&identity, &default) {
            (Some(_), _) => "identity",
            (None, Some(_)) => "default",
            (None, None) => "",
        };
        if !other.is_empty() {
            return Err(Error::Syntax(format!(
                "both {other} and generation expression specified for column \"{name}\" of table \"{table}\""
            )));
        }
    }
    Ok((
        Column {
            name,
            ty,
            not_null,
            default,
            identity,
            comment: None,
            missing: None,
            former_names: vec![],
            sequence,
            generated,
            earlier_types: vec![],
            domain,
        },
        pk,
        unique,
    ))
}

/// An identity column's kind; its sequence is the implicit one a serial
/// column has, with the column's options.
pub fn identity_of(
    ty: &PgType,
    generated_as: &sqlparser::ast::GeneratedAs,
) -> Result<crate::types::table::Identity> {
    use crate::types::table::Identity;
    if !matches!(ty, PgType::Int2 | PgType::Int4 | PgType::Int8) {
        return Err(Error::DatatypeMismatch(
            "identity column type must be smallint, integer, or bigint".into(),
        ));
    }
    Ok(match generated_as {
        sqlparser::ast::GeneratedAs::Always => Identity::Always,
        sqlparser::ast::GeneratedAs::ByDefault => Identity::ByDefault,
        sqlparser::ast::GeneratedAs::ExpStored => {
            return Err(Error::Unsupported("generated columns".into()))
        }
    })
}

/// The CHECK constraints written on a column, each with the name given
/// it (`CONSTRAINT n CHECK …`), if any.
pub fn column_checks(def: &ColumnDef) -> Vec<(Option<String>, String)> {
    def.options
        .iter()
        .filter_map(|o| match &o.option {
            ColumnOption::Check(c) => Some((o.name.as_ref().map(ident_name), c.expr.to_string())),
            _ => None,
        })
        .collect()
}

fn key_columns(cols: &[Column], exprs: &[Expr], table: &str) -> Result<Vec<usize>> {
    exprs
        .iter()
        .map(|e| {
            let name = match e {
                Expr::Identifier(i) => ident_name(i),
                other => return Err(Error::Unsupported(format!("key on expression {other}"))),
            };
            cols.iter().position(|c| c.name == name).ok_or_else(|| {
                Error::NoSuchColumn(format!("{name}\" named in key does not exist in \"{table}"))
            })
        })
        .collect()
}

/// What CREATE TABLE can say that would change answers and is not built:
/// refused by name rather than accepted and ignored.
fn refuse_table_options(ct: &CreateTable) -> Result<()> {
    let refused = if ct.query.is_some() {
        Some("CREATE TABLE AS")
    } else if ct.temporary {
        Some("temporary tables")
    } else if ct.partition_by.is_some() || ct.partition_of.is_some() {
        Some("partitioned tables")
    } else if ct.inherits.is_some() {
        Some("INHERITS")
    } else if ct.like.is_some() {
        Some("CREATE TABLE … LIKE")
    } else if ct.on_commit.is_some() {
        Some("ON COMMIT")
    } else {
        None
    };
    match refused {
        Some(what) => Err(Error::Unsupported(what.into())),
        None => Ok(()),
    }
}

/// A UNIQUE or PRIMARY KEY constraint's options that would change what it
/// allows: NULLS NOT DISTINCT and DEFERRABLE are not built.
pub(crate) fn refuse_key_options(u: &sqlparser::ast::UniqueConstraint) -> Result<()> {
    if u.nulls_distinct == sqlparser::ast::NullsDistinctOption::NotDistinct {
        return Err(Error::Unsupported("UNIQUE NULLS NOT DISTINCT".into()));
    }
    refuse_deferrable(u.characteristics.as_ref())
}

/// DEFERRABLE and INITIALLY DEFERRED (which implies it) are not built;
/// NOT ENFORCED is not PostgreSQL 15 syntax.
pub(crate) fn refuse_deferrable(
    c: Option<&sqlparser::ast::ConstraintCharacteristics>,
) -> Result<()> {
    let Some(c) = c else { return Ok(()) };
    let deferred = c.initially == Some(sqlparser::ast::DeferrableInitial::Deferred);
    if c.deferrable == Some(true) || deferred {
        return Err(Error::Unsupported("DEFERRABLE constraints".into()));
    }
    if c.enforced == Some(false) {
        return Err(Error::Unsupported("NOT ENFORCED constraints".into()));
    }
    Ok(())
}

/// A table definition from CREATE TABLE; `oid` is the new table's id.
pub fn create_table(ct: &CreateTable, oid: u32) -> Result<TableDef> {
    refuse_table_options(ct)?;
    let name = object_name(&ct.name);
    let mut columns = Vec::new();
    let mut primary_key = Vec::new();
    let mut unique = Vec::new();
    let mut checks = Vec::new();
    let mut pk_name = None;
    for (i, cd) in ct.columns.iter().enumerate() {
        let (col, pk, uq) = column(&name, cd)?;
        if columns.iter().any(|c: &Column| c.name == col.name) {
            return Err(Error::ObjectExists(format!(
                "column \"{}\" specified more than once",
                col.name
            )));
        }
        if let Some(n) = pk {
            if !primary_key.is_empty() {
                return Err(Error::InvalidTableDefinition(format!(
                    "multiple primary keys for table \"{name}\" are not allowed"
                )));
            }
            primary_key = vec![i];
            pk_name = n;
        }
        if let Some(uq_name) = uq {
            unique.push(UniqueKey::new(vec![i], uq_name));
        }
        checks.extend(column_checks(cd));
        columns.push(col);
    }
    for c in &ct.constraints {
        match c {
            TableConstraint::PrimaryKey(pk) => {
                refuse_deferrable(pk.characteristics.as_ref())?;
                if !primary_key.is_empty() {
                    return Err(Error::InvalidTableDefinition(format!(
                        "multiple primary keys for table \"{name}\" are not allowed"
                    )));
                }
                let exprs: Vec<Expr> = pk.columns.iter().map(|c| c.column.expr.clone()).collect();
                primary_key = key_columns(&columns, &exprs, &name)?;
                pk_name = pk.name.as_ref().map(ident_name);
                for &k in &primary_key {
                    columns[k].not_null = true;
                }
            }
            TableConstraint::Unique(u) => {
                refuse_key_options(u)?;
                let exprs: Vec<Expr> = u.columns.iter().map(|c| c.column.expr.clone()).collect();
                unique.push(UniqueKey::new(
                    key_columns(&columns, &exprs, &name)?,
                    u.name.as_ref().map(ident_name),
                ));
            }
            TableConstraint::Check(ch) => {
                checks.push((ch.name.as_ref().map(ident_name), ch.expr.to_string()))
            }
            // Read by `foreign::specs`.
            TableConstraint::ForeignKey(_) => {}
            other => return Err(Error::Unsupported(format!("table constraint {other}"))),
        }
    }
    if columns.is_empty() {
        return Err(Error::Unsupported("tables without columns".into()));
    }
    let (check_names, checks) = checks.into_iter().unzip();
    Ok(TableDef {
        name,
        oid,
        columns,
        primary_key,
        unique,
        checks,
        altered: Box::new(Altered {
            check_names,
            pk_name,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// An index from CREATE INDEX on `table`: its keys (columns or
/// expressions), INCLUDE columns, predicate and PostgreSQL's default name.
pub fn create_index(ci: &CreateIndex, table: &TableDef) -> Result<Index> {
    use crate::sql::index_expr::{self, Key};
    if ci.nulls_distinct == Some(false) {
        return Err(Error::Unsupported("UNIQUE NULLS NOT DISTINCT".into()));
    }
    crate::sql::index::refuse_options(ci)?;
    let method = ci.using.as_ref().map(|u| u.to_string().to_lowercase());
    let vector = match method.as_deref() {
        Some(m) if crate::sql::vector_index::is_vector_method(m) => {
            Some(crate::sql::vector_index::check(ci, m, table)?)
        }
        _ => None,
    };
    let mut columns = Vec::new();
    let mut exprs = Vec::new();
    let mut parts = Vec::new();
    for c in &ci.columns {
        match index_expr::key(&c.column.expr, table)? {
            Key::Column(name) => {
                parts.push(name.clone());
                columns.push(name);
                exprs.push(None);
            }
            Key::Expr(text) => {
                parts.push(index_expr::name_part(&text, table)?);
                columns.push(String::new());
                exprs.push(Some(text));
            }
        }
    }
    if exprs.iter().all(|e| e.is_none()) {
        exprs.clear();
    }
    let predicate = match &ci.predicate {
        Some(p) => Some(index_expr::predicate(p, table)?),
        None => None,
    };
    let include = crate::sql::index::include_columns(ci, table)?;
    let name = match &ci.name {
        Some(n) => object_name(n),
        None => crate::sql::index::default_name(table.rel_name(), &parts, &include),
    };
    let (opclasses, method, with) = match vector {
        Some(v) => (
            v.opclass.map(|o| vec![Some(o)]).unwrap_or_default(),
            Some(v.method),
            v.with,
        ),
        None => (crate::sql::index::opclasses(ci)?, None, vec![]),
    };
    Ok(Index {
        name,
        columns,
        unique: ci.unique,
        include,
        opclasses,
        exprs,
        predicate,
        options: crate::sql::index::options(ci),
        method,
        with,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::Statement;

    fn table(sql: &str) -> TableDef {
        match crate::sql::parse(sql).unwrap().remove(0) {
            Statement::CreateTable(ct) => create_table(&ct, 1).unwrap(),
            other => panic!("not a create table: {other}"),
        }
    }

    #[test]
    fn columns_keys_and_serials() {
        let t = table(
            "CREATE TABLE Items (id serial PRIMARY KEY, \"Name\" text NOT NULL UNIQUE, qty int DEFAULT 0 CHECK (qty >= 0))",
        );
        assert_eq!(t.name, "items");
        assert_eq!(t.columns[0].ty, PgType::Int4);
        assert_eq!(
            t.columns[0].default.as_deref(),
            Some("nextval('items_id_seq')")
        );
        assert_eq!(t.columns[1].name, "Name");
        assert_eq!(t.primary_key, vec![0]);
        assert_eq!(t.unique, vec![UniqueKey::from(vec![1])]);
        assert_eq!(t.checks, vec!["qty >= 0".to_string()]);
    }

    #[test]
    fn named_unique_constraints_keep_their_name() {
        let t = table(
            "CREATE TABLE t (a int CONSTRAINT uq_a UNIQUE, b int, c int, CONSTRAINT uq_bc UNIQUE (b, c), UNIQUE (c))",
        );
        let names: Vec<String> = t.unique.iter().map(|u| u.constraint_name(&t)).collect();
        assert_eq!(names, ["uq_a", "uq_bc", "t_c_key"]);
        assert_eq!(t.unique[1].columns, vec![1, 2]);
    }

    #[test]
    fn table_level_primary_key() {
        let t = table("CREATE TABLE kv (a int, b text, PRIMARY KEY (a, b))");
        assert_eq!(t.primary_key, vec![0, 1]);
        assert!(t.columns[1].not_null);
    }
}
