//! DDL: CREATE/DROP TABLE, CREATE/DROP INDEX, ALTER TABLE, TRUNCATE.
//!
//! DESIGN: DDL is transactional, inside a transaction block or in one of
//! its own (autocommit). It runs on the session's connection to
//! `segments.db`, in the block's SQLite transaction, so three things
//! commit or roll back together with the block's rows: the open segment's
//! schema change, the shard manifest rows a DROP TABLE removes, and a
//! journal row holding the table's new catalog entry (`_mosaic_ddl`, see
//! `store::catalog`). Until COMMIT the new definitions are *staged* in the
//! catalog for this session only: the block's later statements see them,
//! other sessions see the committed catalog, and SQLite's snapshots give
//! them the committed segments and manifest (a table dropped by an open
//! block stays readable to them, shard files included).
//!
//! COMMIT publishes the block's journal rows to `catalog.db` and memory,
//! then does what cannot be undone: removing the shard files of dropped
//! tables and building new indexes into existing shards. A crash between
//! SQLite's commit and the publication is repaired at start by replaying
//! the journal. ROLLBACK (or a failed block) throws the staged definitions
//! away, SQLite having undone the rest; ROLLBACK TO SAVEPOINT puts back
//! the staged definitions the block had at the savepoint.
//!
//! Limits: sequences are not transactional (as in PostgreSQL), but a table
//! created anew starts its serial sequences at 1, and a rollback gives a
//! sequence back the value it had before. A rolled-back CREATE uses up an
//! object id. DDL takes the node's write lock like any write, so a block
//! holding DDL holds up other writers until it ends.

use std::collections::BTreeSet;
use std::sync::Arc;

use sqlparser::ast::{ObjectType, Statement};

use crate::error::{Error, Result};
use crate::exec::pg_catalog::objects;
use crate::exec::{Outcome, Session};
use crate::sql::{ddl, object_name};
use crate::store::catalog::{Change, Object, Staged};

mod alter;
mod comment;
pub(crate) mod domain;
mod enums;
mod function;
pub(crate) mod matview;
mod rename;
pub(crate) mod schema;
mod sequence;

/// Run DDL that MosaicDB's own parsers read.
pub fn pre_parsed(sess: &mut Session, ddl: &crate::exec::PreParsedDdl) -> Result<Outcome> {
    let mut ddl = ddl.clone();
    match &mut ddl {
        crate::exec::PreParsedDdl::AlterSequence(a) => {
            a.name = schema::resolve_relation(sess, &a.name)
        }
        crate::exec::PreParsedDdl::AlterIdentity(a) => {
            a.table = schema::resolve_relation(sess, &a.table)
        }
        // Resolved where it runs (IF EXISTS).
        crate::exec::PreParsedDdl::SetSchema(_) | crate::exec::PreParsedDdl::Domain(_) => {}
    }
    let ddl = &ddl;
    let target = match ddl {
        crate::exec::PreParsedDdl::AlterSequence(a) => Some(&a.name),
        crate::exec::PreParsedDdl::AlterIdentity(a) => Some(&a.table),
        crate::exec::PreParsedDdl::SetSchema(_) | crate::exec::PreParsedDdl::Domain(_) => None,
    };
    if let Some(def) = target.and_then(|t| sess.catalog().object(t)) {
        sess.check_owner(&def)?;
    }
    match ddl {
        crate::exec::PreParsedDdl::AlterSequence(a) => sequence::alter(sess, a),
        crate::exec::PreParsedDdl::AlterIdentity(a) if sess.is_temp(&a.table) => Err(
            Error::Unsupported(format!("ALTER TABLE on temporary table \"{}\"", a.table)),
        ),
        crate::exec::PreParsedDdl::AlterIdentity(a) => alter::alter_identity(sess, a),
        crate::exec::PreParsedDdl::SetSchema(set) if set.of_type => enums::set_schema(sess, set),
        crate::exec::PreParsedDdl::SetSchema(set) => rename::set_schema(sess, set),
        crate::exec::PreParsedDdl::Domain(d) => domain::run(sess, d),
    }
}
pub mod temp;
mod view;

use crate::types::shard::ShardId;
use crate::types::table::TableDef;

pub mod create_as;
pub mod extension;
mod foreign;
mod grant;
mod index;

/// What a transaction block's DDL changed so far, to publish at COMMIT or
/// undo at ROLLBACK.
#[derive(Debug, Default, Clone)]
pub struct Block {
    /// Journal rows written, in order.
    changes: Vec<Change>,
    /// Shards of dropped tables, whose files go once the drop commits.
    dropped_shards: Vec<ShardId>,
    /// Shards of dropped tables kept aside (`store::dropped`) until no
    /// newer definition can come: their metadata goes once the drop commits.
    kept_shards: Vec<ShardId>,
    /// Whether the block dropped a table (whose data is kept aside).
    dropped_tables: bool,
    /// Tables whose existing shards need the indexes they now declare.
    reindex: BTreeSet<String>,
    /// Sequences a CREATE TABLE restarted, with the value each had.
    sequences: Vec<(String, crate::types::sequence::SequenceDef, i64)>,
    /// Sequences dropped: their values are forgotten once the drop commits.
    forget_sequences: Vec<String>,
    /// Tables renamed (old name, new name), in order.
    renamed: Vec<(String, String)>,
    /// The session's temporary tables, once the block changed them.
    temps: Option<crate::store::catalog::Temps>,
    /// Roles changed (`None`: dropped), in order, which the session sees
    /// over the catalog's; journaled in `changes` too, published and
    /// pushed to every node at COMMIT.
    pub(crate) roles: Vec<(String, Option<crate::types::role::Role>)>,
}

impl Block {
    /// Whether the block renamed a table to `name` (ALTER TABLE … RENAME
    /// TO): other nodes know it by its old name until COMMIT.
    pub(crate) fn renamed_to(&self, name: &str) -> bool {
        self.renamed.iter().any(|(_, new)| new == name)
    }

    /// The block's view of the tables it changed.
    pub(crate) fn staged(&self) -> Staged {
        self.changes
            .iter()
            .filter_map(|c| match &c.object {
                Object::Table(def) => Some((c.name.clone(), def.clone())),
                Object::Role(_) => None,
            })
            .collect()
    }

    /// The session's temporary tables as the block left them, if it
    /// changed them.
    pub(crate) fn temps(&self) -> Option<&crate::store::catalog::Temps> {
        self.temps.as_ref()
    }
}

/// Run a DDL statement inside the session's open transaction (block or
/// autocommit). TRUNCATE outside a block takes [`truncate_now`] instead.
pub fn run(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    if let Statement::Truncate(_) = stmt {
        return truncate_in_block(sess, stmt);
    }
    run_with(sess, |sess| statement(sess, stmt))
}

/// Run DDL `f` as one statement of the session's open transaction; on
/// failure the block's DDL state is as it was.
pub fn run_with(
    sess: &mut Session,
    f: impl FnOnce(&mut Session) -> Result<Outcome>,
) -> Result<Outcome> {
    let before = sess.ddl.clone();
    let r = sess.in_statement(true, f);
    if r.is_err() {
        restore(sess, before);
    }
    r
}

fn statement(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    temp::refuse(sess, stmt)?;
    grant::authorize(sess, stmt)?;
    if crate::exec::roles::is_role_statement(stmt) {
        return crate::exec::roles::run(sess, stmt);
    }
    match stmt {
        Statement::Grant(_) | Statement::Revoke(_) => grant::statement(sess, stmt),
        Statement::CreateTable(ct) if ct.temporary && ct.query.is_none() => temp::create(sess, ct),
        Statement::Drop {
            object_type: ObjectType::Table,
            if_exists,
            names,
            cascade,
            ..
        } if !sess.temps_now().is_empty() => {
            let rest = temp::drop(sess, names)?;
            if rest.is_empty() {
                return Ok(Outcome::Command("DROP TABLE".into()));
            }
            drop(sess, &ObjectType::Table, *if_exists, *cascade, &rest)
        }
        Statement::CreateTable(ct) if ct.query.is_some() => create_as::create_table_as(sess, ct),
        Statement::Query(_) if create_as::is_select_into(stmt) => {
            create_as::select_into(sess, stmt)
        }
        Statement::CreateTable(ct) => {
            let name = object_name(&ct.name);
            schema::check_creatable(sess, &name)?;
            if relation_exists(sess, &name) {
                if ct.if_not_exists {
                    existing_skipped(sess, &name);
                    return Ok(Outcome::Command("CREATE TABLE".into()));
                }
                return Err(Error::TableExists(name));
            }
            let mut def = ddl::create_table(ct, sess.store.next_oid()?)?;
            schema::bind_default_sequences(sess, ct, &mut def)?;
            foreign::create_table(sess, ct, &mut def)?;
            create_table(sess, def)?;
            Ok(Outcome::Command("CREATE TABLE".into()))
        }
        Statement::CreateView(cv) => view::create(sess, cv),
        Statement::RefreshMaterializedView(r) => matview::refresh(sess, r),
        Statement::Comment {
            object_type,
            object_name,
            comment,
            ..
        } => comment::comment(sess, object_type, object_name, comment.as_deref()),
        Statement::CreateSequence {
            temporary,
            if_not_exists,
            name,
            sequence_options,
        } => sequence::create(sess, *temporary, *if_not_exists, name, sequence_options),
        Statement::CreateIndex(ci) => index::create(sess, ci),
        Statement::AlterIndex { name, operation } => index::alter(sess, name, operation),
        Statement::Drop {
            object_type: ObjectType::View,
            if_exists,
            names,
            cascade,
            ..
        } => view::drop(sess, *if_exists, *cascade, names),
        Statement::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => schema::create(sess, schema_name, *if_not_exists),
        Statement::Drop {
            object_type: ObjectType::Schema,
            if_exists,
            names,
            cascade,
            ..
        } => schema::drop(sess, *if_exists, *cascade, names),
        Statement::Drop {
            object_type: ObjectType::Type,
            if_exists,
            names,
            cascade,
            ..
        } => enums::drop(sess, *if_exists, *cascade, names),
        Statement::Drop {
            object_type: ObjectType::Sequence,
            if_exists,
            names,
            cascade,
            ..
        } => sequence::drop(sess, *if_exists, *cascade, names),
        Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => drop(sess, object_type, *if_exists, *cascade, names),
        Statement::AlterTable(at) => alter::alter_table(sess, at),
        Statement::AlterView(av) => rename::alter_view(sess, av),
        Statement::AlterSchema(a) => schema::alter(sess, a),
        Statement::CreateType {
            name,
            representation: Some(sqlparser::ast::UserDefinedTypeRepresentation::Enum { labels }),
        } => enums::create(sess, name, labels),
        Statement::CreateType { .. } => {
            Err(Error::Unsupported("CREATE TYPE other than AS ENUM".into()))
        }
        Statement::AlterType(at) => enums::alter(sess, at),

        Statement::CreateFunction(cf) => function::create(sess, cf),
        Statement::DropFunction(df) => function::drop(sess, df),
        Statement::CreateExtension(ce) => extension::create(sess, ce),
        Statement::DropExtension(de) => extension::drop(sess, de),
        _ => Err(Error::Unsupported(stmt.to_string())),
    }
}

fn create_table(sess: &mut Session, def: TableDef) -> Result<()> {
    if let Some(n) = &def.altered.pk_name {
        if relation_exists(sess, n) || def.unique.iter().any(|u| u.name.as_ref() == Some(n)) {
            return Err(Error::TableExists(n.clone()));
        }
    }
    for (i, u) in def.unique.iter().enumerate() {
        let name = u.constraint_name(&def);
        let repeated = def.unique[..i]
            .iter()
            .any(|o| o.constraint_name(&def) == name);
        if u.name.is_some() && (repeated || relation_exists(sess, &name)) {
            return Err(Error::TableExists(name));
        }
    }
    // A segment left by a table this node no longer knows (none should be)
    // must not lend its rows to the new table.
    let orphans = sess.conn.drop_segment(&def.name)?;
    sess.ddl.dropped_shards.extend(orphans);
    sess.conn.create_segment(&def)?;
    // PostgreSQL drops a serial column's sequence with its table, so a
    // table created anew counts from 1 again.
    let relations = sess.catalog().relations();
    for col in &def.columns {
        if let Some(seq) = crate::types::table::own_new_sequence(col, &def.name, &relations) {
            let seq_def = col.sequence_def();
            let old = sess.store.sequences.reset(&seq, &seq_def);
            sess.ddl.sequences.push((seq, seq_def, old));
        }
    }
    let name = def.name.clone();
    record(sess, &name, Some(def))
}

/// Whether a table, index or key constraint (PostgreSQL gives each an
/// index of the same name) is already called `name`, as this session sees
/// the catalog.
/// Whether a relation or an index has catalog name `name` (an index's is
/// qualified as its table's, `TableDef::index_storage_name`).
fn relation_exists(sess: &Session, name: &str) -> bool {
    sess.catalog().relations().iter().any(|t| {
        t.name == name
            || objects::indexes(t)
                .iter()
                .any(|i| t.index_storage_name(&i.name) == name)
    })
}

/// Whether `name` is a view, as this session sees the catalog.
fn is_view(sess: &Session, name: &str) -> bool {
    sess.catalog()
        .relation(name)
        .is_some_and(|r| r.view_query().is_some())
}

/// Write a table's new definition (or its drop) to the journal, in the
/// block's transaction, and stage it for this session.
fn record(sess: &mut Session, name: &str, mut def: Option<TableDef>) -> Result<()> {
    // A new object is its creator's; a changed one keeps its owner and
    // access list unless the change is to them.
    if let Some(new) = def.as_mut().filter(|d| d.access.owner.is_none()) {
        match sess.catalog().object(name) {
            Some(old) if old.access.owner.is_some() && new.access == Default::default() => {
                new.access = old.access.clone()
            }
            Some(_) => {}
            None => new.access.owner = Some(sess.current_role()),
        }
    }
    // A SQL function is inlined where a statement calls it; a DEFAULT or
    // CHECK runs inside SQLite, which cannot call one.
    if let Some(d) = def.as_ref().filter(|d| d.is_relation()) {
        let texts = d
            .columns
            .iter()
            .flat_map(|c| [c.default.as_deref(), c.generated.as_deref()])
            .flatten()
            .chain(d.checks.iter().map(String::as_str));
        for text in texts {
            if let Some(f) = crate::sql::functions::called(text, &sess.catalog()) {
                return Err(Error::Unsupported(format!(
                    "a DEFAULT, CHECK or generated column calling SQL function {f}"
                )));
            }
        }
        crate::sql::ddl::generated::validate(d)?;
    }
    // An enum column's DEFAULT label is checked when it is given.
    for c in def.iter().flat_map(|d| &d.columns) {
        if let (crate::types::PgType::Enum(t), Some(d)) = (&c.ty, &c.default) {
            if let Ok(sqlparser::ast::Expr::Value(v)) = crate::sql::parse_expr(d) {
                if let sqlparser::ast::Value::SingleQuotedString(s) = &v.value {
                    t.parse(s)?;
                }
            }
        }
    }
    // Types and relations share one namespace, as a relation's row type
    // shares PostgreSQL's pg_type with every other type.
    if let (Some(new), Some(old)) = (&def, sess.catalog().object(name)) {
        match (new.is_user_type(), old.is_user_type()) {
            (true, false) => {
                return Err(Error::ObjectExists(format!("type \"{name}\" already exists")))
            }
            (false, true) => {
                return Err(Error::ObjectExists(format!("type \"{name}\" already exists"))
                    .with_hint("A relation has an associated type of the same name, so you must use a name that doesn't conflict with any existing type."))
            }
            _ => {}
        }
    }
    let hlc = sess.store.hlc.now();
    let change =
        sess.store
            .catalog
            .journal(&sess.conn, name, Object::Table(def.map(Arc::new)), hlc)?;
    sess.ddl.changes.push(change);
    sess.stage_ddl();
    Ok(())
}

/// Run a write (INSERT, UPDATE) a DDL statement makes in the session's
/// transaction, prepared against the catalog as the session sees it now
/// (with the DDL's own changes).
fn write(sess: &mut Session, stmt: Statement) -> Result<Outcome> {
    let p = crate::exec::prepare_parsed(
        &sess.catalog(),
        crate::exec::Parsed::Statement(Box::new(stmt)),
        &[],
    )?;
    let Some(stmt) = p.stmt.clone() else {
        return Err(Error::Internal("a write without a statement".into()));
    };
    let run = |sess: &mut Session| -> Result<Outcome> {
        sess.conn.batch("SAVEPOINT mosaic_ddl_write")?;
        let r = crate::exec::write::run(sess, stmt.clone(), &p, &[], &mut |_| Ok(()));
        let end = match r {
            Ok(_) => "RELEASE mosaic_ddl_write",
            Err(_) => "ROLLBACK TO mosaic_ddl_write; RELEASE mosaic_ddl_write",
        };
        sess.conn.batch(end)?;
        r
    };
    // Undone by its savepoint, it may run again reading from the homes.
    crate::exec::remote::again_from_homes(sess, run)
}

/// IF EXISTS on an object that is not there: PostgreSQL's NOTICE
/// (`what` "table", "view", "index", …).
pub(crate) fn missing_skipped(sess: &Session, what: &str, name: &str) {
    sess.notice(
        "00000",
        format!("{what} \"{name}\" does not exist, skipping"),
    );
}

/// IF NOT EXISTS on a relation that is there: PostgreSQL's NOTICE.
pub(crate) fn existing_skipped(sess: &Session, name: &str) {
    sess.notice(
        "42P07",
        format!("relation \"{name}\" already exists, skipping"),
    );
}

/// Write a role's new state (`None`: dropped) to the journal, in the
/// block's transaction, and stage it for this session.
pub(crate) fn record_role(
    sess: &mut Session,
    name: String,
    role: Option<crate::types::role::Role>,
) -> Result<()> {
    let object = Object::Role(role.clone().map(Arc::new));
    let hlc = sess.store.hlc.now();
    let change = sess.store.catalog.journal(&sess.conn, &name, object, hlc)?;
    sess.ddl.changes.push(change);
    sess.ddl.roles.push((name, role));
    Ok(())
}

/// Put the block's DDL state back to `to` (a savepoint's, or the empty
/// state of a rollback): sequences restarted since get their value back,
/// and the staged catalog follows.
pub fn restore(sess: &mut Session, to: Block) {
    for (seq, def, old) in sess.ddl.sequences[to.sequences.len().min(sess.ddl.sequences.len())..]
        .iter()
        .rev()
    {
        sess.store.sequences.advance_to(seq, def, *old);
    }
    let changed = sess.ddl.changes.len() != to.changes.len();
    if sess.ddl.temps.is_some() || to.temps.is_some() {
        sess.store.catalog.touch();
    }
    sess.ddl = to;
    if changed {
        sess.stage_ddl();
    }
}

/// After the block's SQLite transaction committed: publish its DDL, do
/// the work that cannot be rolled back, and tell the cluster once.
pub fn publish(sess: &mut Session) -> Result<()> {
    let mut block = std::mem::take(&mut sess.ddl);
    if let Some(temps) = block.temps.take() {
        sess.temps = temps;
    }
    temp::after_commit(sess);
    sess.unstage_ddl();
    if block.changes.is_empty() {
        return Ok(());
    }
    sess.store.catalog.publish(&block.changes)?;
    for seq in &block.forget_sequences {
        if let Err(e) = sess.store.sequences.forget(seq) {
            tracing::warn!(sequence = %seq, error = %e, "forgetting a dropped sequence failed");
        }
    }
    sess.store.forget_shards(&block.dropped_shards);
    sess.store.forget_metas(&block.kept_shards);
    for table in &block.reindex {
        if let Err(e) = sess.store.index_shards(table) {
            // Shards without a declared index still answer correctly.
            tracing::warn!(table, error = %e, "building indexes into existing shards failed");
        }
    }
    for (old, new) in &block.renamed {
        if let Err(e) = sess.store.renamed_here(old, new) {
            tracing::warn!(table = %new, error = %e, "following a rename in copies of other nodes' rows failed");
        }
    }
    match &sess.cluster {
        Some(c) => {
            c.catalog_changed();
            c.follow_renames();
            if block.dropped_tables {
                c.settle_dropped();
            }
        }
        None => {
            sess.store.take_renamed();
            if block.dropped_tables {
                sess.store.purge_all_dropped()
            }
        }
    }
    Ok(())
}

fn drop(
    sess: &mut Session,
    kind: &ObjectType,
    if_exists: bool,
    cascade: bool,
    names: &[sqlparser::ast::ObjectName],
) -> Result<Outcome> {
    match kind {
        ObjectType::Table | ObjectType::MaterializedView => {
            let matview = *kind == ObjectType::MaterializedView;
            let mut dropping = Vec::new();
            for n in names {
                let name = object_name(n);
                let Some(rel) = sess.catalog().relation(&name) else {
                    let what = if matview {
                        "materialized view"
                    } else {
                        "table"
                    };
                    if if_exists {
                        missing_skipped(sess, what, &name);
                        continue;
                    }
                    return Err(Error::NoSuchRelation(format!(
                        "{what} \"{name}\" does not exist"
                    )));
                };
                if rel.is_table() && rel.is_matview() == matview {
                    dropping.push(name);
                    continue;
                }
                let hint = if rel.view_query().is_some() {
                    "Use DROP VIEW to remove a view."
                } else if rel.is_matview() {
                    "Use DROP MATERIALIZED VIEW to remove a materialized view."
                } else if rel.sequence().is_some() {
                    "Use DROP SEQUENCE to remove a sequence."
                } else {
                    "Use DROP TABLE to remove a table."
                };
                let what = if matview {
                    "a materialized view"
                } else {
                    "a table"
                };
                return Err(
                    Error::WrongObjectType(format!("\"{name}\" is not {what}")).with_hint(hint)
                );
            }
            for v in view::dependents(sess, &dropping, cascade)? {
                record(sess, &v, None)?;
            }
            for table in &dropping {
                for seq in sequence::owned_by(sess, table) {
                    record(sess, &seq, None)?;
                    sess.ddl.forget_sequences.push(seq);
                }
            }
            let dropped: Vec<String> = names.iter().map(object_name).collect();
            for child in foreign::before_drop(sess, &dropped, cascade)? {
                let name = child.name.clone();
                record(sess, &name, Some(child))?;
            }
            for n in names {
                let name = object_name(n);
                if let Some(def) = sess.catalog().table(&name) {
                    let shards = sess.conn.keep_dropped(&def)?;
                    sess.ddl.kept_shards.extend(shards);
                    sess.ddl.dropped_tables = true;
                    sess.ddl.reindex.remove(&name);
                    record(sess, &name, None)?;
                }
            }
            Ok(Outcome::Command(
                if matview {
                    "DROP MATERIALIZED VIEW"
                } else {
                    "DROP TABLE"
                }
                .into(),
            ))
        }
        ObjectType::Index => {
            for n in names {
                let name = object_name(n);
                let owner = schema::find_index(sess, &name);
                match owner {
                    Some((def, bare)) => {
                        let mut new = (*def).clone();
                        new.indexes.retain(|i| i.name != bare);
                        sess.conn.drop_index(&def.index_storage_name(&bare))?;
                        record(sess, &def.name, Some(new))?;
                    }
                    None if if_exists => missing_skipped(sess, "index", &name),
                    None => {
                        return Err(Error::NoSuchObject(format!(
                            "index \"{name}\" does not exist"
                        )))
                    }
                }
            }
            Ok(Outcome::Command("DROP INDEX".into()))
        }
        other => Err(Error::Unsupported(format!("DROP {other}"))),
    }
}

/// TRUNCATE outside a transaction block: each table's open segment and
/// shards leave at once, on this node and on every peer.
pub fn truncate_now(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    let Statement::Truncate(t) = stmt else {
        return Err(Error::Internal("not a TRUNCATE".into()));
    };
    for name in check_truncate(sess, t)? {
        truncate(sess, &name)?;
    }
    Ok(Outcome::Command("TRUNCATE TABLE".into()))
}

/// Every table TRUNCATE names exists. Returns the tables to empty: those named, and with CASCADE the tables
/// that reference them.
fn check_truncate(sess: &Session, t: &sqlparser::ast::Truncate) -> Result<Vec<String>> {
    for target in &t.table_names {
        let name = object_name(&target.name);
        match sess.catalog().table(&name) {
            Some(def) if !def.is_matview() => {}
            Some(_) => return Err(Error::WrongObjectType(format!("\"{name}\" is not a table"))),
            None if is_view(sess, &name) => {
                return Err(Error::WrongObjectType(format!("\"{name}\" is not a table")))
            }
            None => return Err(Error::NoSuchTable(name)),
        }
    }
    let mut names: Vec<String> = t.table_names.iter().map(|t| object_name(&t.name)).collect();
    let cascade = t.cascade == Some(sqlparser::ast::CascadeOption::Cascade);
    names.extend(foreign::before_truncate(sess, &names, cascade)?);
    Ok(names)
}

/// Empty a table: its open segment and every shard leave at once.
fn truncate(sess: &mut Session, table: &str) -> Result<()> {
    sess.store.truncate_local(table)?;
    if let Some(c) = &sess.cluster {
        // The copy of this node's unsealed rows empties before anyone
        // hears of it.
        c.copy_unsealed();
    }
    if let Some(c) = sess.cluster.as_ref().filter(|_| sess.has_peers()) {
        c.on_all_peers(
            &crate::cluster::proto::Request::Truncate {
                tables: vec![table.to_string()],
            },
            crate::cluster::QUERY_TIMEOUT,
        )?;
    }
    Ok(())
}

/// Whether a TRUNCATE restarts identity (and so changes the catalog).
pub fn restarts(t: &sqlparser::ast::Truncate) -> bool {
    t.identity == Some(sqlparser::ast::TruncateIdentityOption::Restart)
}

/// TRUNCATE inside a transaction block (pgbench -i runs `begin; truncate;
/// copy …; commit`), and every TRUNCATE … RESTART IDENTITY. The session
/// already holds the write lock, so the rows and the shard manifest
/// entries go on its own connection, under the block's transaction: a
/// ROLLBACK brings the table back, and the sequences' old runs with it.
pub fn truncate_in_block(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    let Statement::Truncate(t) = stmt else {
        return Err(Error::Internal("not a TRUNCATE".into()));
    };
    let names = check_truncate(sess, t)?;
    let restart = restarts(t);
    run_with(sess, |sess| {
        if restart {
            sequence::restart_owned(sess, &names)?;
        }
        for name in &names {
            let Some(def) = sess.catalog().table(name) else {
                continue;
            };
            // Copies of other nodes' shards read here, and the other
            // nodes' rows, are tombstoned in this transaction, like a
            // DELETE; then this node's own rows leave.
            crate::exec::write::delete_copied_rows(sess, &def)?;
            crate::exec::write::delete_remote_rows(sess, &def)?;
            sess.conn.empty_table(name, true)?;
        }
        Ok(Outcome::Command("TRUNCATE TABLE".into()))
    })
}
