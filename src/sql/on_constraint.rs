//! `INSERT … ON CONFLICT ON CONSTRAINT name`: the constraint's columns as
//! the conflict target, as if they were listed (`ON CONFLICT (a, b)`);
//! the primary key and UNIQUE constraints are named as PostgreSQL names
//! them. A name the table has no such constraint of is 42704.

use sqlparser::ast::{ConflictTarget, Ident, OnInsert, Statement};

use crate::error::{Error, Result};
use crate::sql::{object_name, Schema};

/// Replace `stmt`'s `ON CONFLICT ON CONSTRAINT name` with the columns.
pub fn resolve(stmt: &mut Statement, catalog: &dyn Schema) -> Result<()> {
    let Statement::Insert(ins) = stmt else {
        return Ok(());
    };
    let Some(OnInsert::OnConflict(oc)) = &mut ins.on else {
        return Ok(());
    };
    let Some(ConflictTarget::OnConstraint(name)) = &oc.conflict_target else {
        return Ok(());
    };
    let wanted = crate::sql::ident_name(
        name.0
            .last()
            .and_then(|p| p.as_ident())
            .ok_or_else(|| Error::Syntax(format!("constraint name {name}")))?,
    );
    let table_name = match &ins.table {
        sqlparser::ast::TableObject::TableName(n) => object_name(n),
        other => {
            return Err(Error::Unsupported(format!(
                "ON CONFLICT ON CONSTRAINT on {other}"
            )))
        }
    };
    let table = catalog
        .table(&table_name)
        .ok_or_else(|| Error::NoSuchTable(table_name.clone()))?;
    let key = table
        .unique_keys()
        .find(|k| table.key_constraint_name(k) == wanted)
        .ok_or_else(|| {
            Error::NoSuchObject(format!(
                "constraint \"{wanted}\" for table \"{}\" does not exist",
                table.name
            ))
        })?;
    let columns = key
        .iter()
        .filter_map(|&i| table.columns.get(i))
        .map(|c| Ident::with_quote('"', c.name.clone()))
        .collect();
    oc.conflict_target = Some(ConflictTarget::Columns {
        columns,
        predicate: None,
    });
    Ok(())
}
