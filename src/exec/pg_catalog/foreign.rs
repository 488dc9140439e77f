//! FOREIGN KEY constraints as PostgreSQL's catalogs show them: one
//! pg_constraint row (`contype 'f'`) per constraint, on the referencing
//! table, pointing at the parent's unique index; `pg_get_constraintdef`
//! prints it as PostgreSQL does.

use std::sync::Arc;

use super::objects::{derived_oid, indexes};
use crate::types::foreign::{Action, ForeignKey};
use crate::types::table::TableDef;

/// A FOREIGN KEY and what the catalogs say of it.
pub struct Foreign {
    pub oid: i64,
    pub table: Arc<TableDef>,
    pub fk: ForeignKey,
    pub parent: Arc<TableDef>,
    /// Referenced column positions in the parent.
    pub parent_columns: Vec<usize>,
    /// The parent's unique constraint (and index) the key matches.
    pub unique_name: String,
    pub index_oid: i64,
    /// `FOREIGN KEY (pid) REFERENCES p(id) ON DELETE CASCADE`.
    pub def: String,
}

/// An identifier as PostgreSQL prints it: bare when it can be.
fn ident(name: &str) -> String {
    crate::types::ident_text(name)
}

fn names(def: &TableDef, cols: &[usize]) -> String {
    cols.iter()
        .filter_map(|&c| def.columns.get(c).map(|c| ident(&c.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every FOREIGN KEY of `tables` whose parent is among them.
pub fn foreign_keys(tables: &[Arc<TableDef>]) -> Vec<Foreign> {
    let mut out = Vec::new();
    for t in tables {
        for fk in &t.foreign_keys {
            let Some(parent) = tables.iter().find(|p| p.name == fk.parent) else {
                continue;
            };
            let Some(parent_columns) = fk.parent_positions(parent) else {
                continue;
            };
            let mut wanted = parent_columns.clone();
            wanted.sort_unstable();
            let index = indexes(parent).into_iter().find(|i| {
                let mut c = i.columns.clone();
                c.sort_unstable();
                i.constraint.is_some() && c == wanted
            });
            let (unique_name, index_oid) = index.map_or((String::new(), 0), |i| (i.name, i.oid));
            let mut def = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                names(t, &fk.columns),
                match parent.schema_name() {
                    crate::types::schema::PUBLIC => ident(&parent.name),
                    s => format!("{}.{}", ident(s), ident(parent.rel_name())),
                },
                names(parent, &parent_columns)
            );
            if fk.match_full {
                def.push_str(" MATCH FULL");
            }
            if fk.on_update != Action::NoAction {
                def.push_str(&format!(" ON UPDATE {}", fk.on_update.words()));
            }
            if fk.on_delete != Action::NoAction {
                def.push_str(&format!(" ON DELETE {}", fk.on_delete.words()));
            }
            if fk.deferrable {
                def.push_str(" DEFERRABLE");
            }
            if fk.initially_deferred {
                def.push_str(" INITIALLY DEFERRED");
            }
            if !t.is_validated(&fk.name) {
                def.push_str(" NOT VALID");
            }
            out.push(Foreign {
                oid: derived_oid("constraint", &format!("{}.{}", t.name, fk.name)),
                table: t.clone(),
                fk: fk.clone(),
                parent: parent.clone(),
                parent_columns,
                unique_name,
                index_oid,
                def,
            });
        }
    }
    out
}

/// Whether a table has FOREIGN KEYs or is referenced by one
/// (`pg_class.relhastriggers`: PostgreSQL enforces them with triggers on
/// both tables, and psql reads this flag before it lists them).
pub fn has_triggers(tables: &[Arc<TableDef>], t: &TableDef) -> bool {
    !t.foreign_keys.is_empty()
        || tables
            .iter()
            .any(|o| o.foreign_keys.iter().any(|f| f.parent == t.name))
}
