//! MosaicDB's system views (`mosaic.nodes`, `mosaic.shards`,
//! `mosaic.conflicts`, `mosaic.health`, `mosaic.queries`) and the
//! session functions (version(), current_user, …).
//!
//! A system view is materialized into a session temp table right before a
//! statement that reads it runs, and the reference is pointed there; to
//! type inference it looks like any table (`SystemSchema`).

use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Statement};

use crate::error::Result;
use crate::exec::Session;
use crate::sql::object_name;
use crate::store::udf::session::SessionFunctions;
use crate::store::Store;
use crate::types::quote;
use crate::types::table::{self, TableDef};
use crate::types::{Datum, PgType};

pub const VIEWS: &[&str] = &[
    "mosaic.nodes",
    "mosaic.shards",
    "mosaic.conflicts",
    "mosaic.health",
    "mosaic.queries",
];

mod health;
mod queries;

/// The canonical name of a system relation a statement names, if it is
/// one: MosaicDB's own views, and PostgreSQL's catalogs (`pg_class` and
/// `pg_catalog.pg_class` alike, `information_schema.tables`).
pub fn system_name(name: &str) -> Option<String> {
    if VIEWS.contains(&name) {
        return Some(name.to_string());
    }
    let canonical = if name.starts_with("pg_catalog.") || name.starts_with("information_schema.") {
        name.to_string()
    } else if name.starts_with("pg_") && !name.contains('.') {
        format!("pg_catalog.{name}")
    } else {
        return None;
    };
    crate::exec::pg_catalog::definition(&canonical).map(|_| canonical)
}

fn col(name: &str, ty: PgType) -> table::Column {
    table::Column {
        name: name.into(),
        ty,
        not_null: false,
        default: None,
        identity: None,
        comment: None,
        missing: None,
        former_names: vec![],
        sequence: None,
        generated: None,
        earlier_types: vec![],
        domain: None,
    }
}

/// The definition of a system view, by its canonical name.
pub fn view(name: &str) -> Option<TableDef> {
    if let Some(def) = crate::exec::pg_catalog::definition(name) {
        return Some(def);
    }
    let columns = match name {
        "mosaic.nodes" => vec![
            col("node_name", PgType::Text),
            col("cluster_addr", PgType::Text),
            col("pg_addr", PgType::Text),
            col("state", PgType::Text),
            col("is_self", PgType::Bool),
            col("shard_count", PgType::Int8),
            col("buddy", PgType::Text),
        ],
        "mosaic.shards" => vec![
            col("shard_id", PgType::Text),
            col("table_name", PgType::Text),
            col("row_count", PgType::Int8),
            col("byte_size", PgType::Int8),
            col("home_node", PgType::Text),
            col("holders", PgType::Text),
            col("sealed", PgType::Bool),
        ],
        "mosaic.conflicts" => vec![
            col("table_name", PgType::Text),
            col("key", PgType::Jsonb),
            col("loser_node", PgType::Text),
            col("loser_version", PgType::Int8),
            col("loser_row", PgType::Jsonb),
            col("winner_node", PgType::Text),
            col("winner_version", PgType::Int8),
            col("winner_row", PgType::Jsonb),
            col("settled_at", PgType::Timestamptz),
            col("reason", PgType::Text),
        ],
        "mosaic.health" => vec![
            col("table_name", PgType::Text),
            col("shards", PgType::Int8),
            col("under_replicated", PgType::Int8),
            col("unreachable", PgType::Int8),
            col("open_rows", PgType::Jsonb),
        ],
        "mosaic.queries" => vec![
            col("pid", PgType::Int4),
            col("usename", PgType::Text),
            col("query", PgType::Text),
            col("query_start", PgType::Timestamptz),
            col("elapsed_ms", PgType::Int8),
            col("peers", PgType::Text),
            col("rows_sent", PgType::Int8),
            col("wait_event", PgType::Text),
        ],
        _ => return None,
    };
    Some(TableDef {
        name: name.to_string(),
        oid: 0,
        columns,
        primary_key: vec![],
        unique: vec![],
        checks: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        comment: None,
        kind: Default::default(),
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    })
}

/// The catalog as type inference sees it: user tables plus system views.
pub struct SystemSchema<'a>(pub &'a dyn crate::sql::Schema);

impl crate::sql::Schema for SystemSchema<'_> {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        view(name).map(Arc::new).or_else(|| self.0.table(name))
    }

    fn view(&self, name: &str) -> Option<Arc<TableDef>> {
        self.0.view(name)
    }

    fn function(&self, name: &str) -> Option<Arc<crate::types::function::FunctionDef>> {
        self.0.function(name)
    }
}

/// A system view's temp table is named by the view's unqualified name, so
/// that a column qualified by it (`pg_class.relname`, and after the
/// catalog rewrite `pg_catalog.pg_class.relname`) still resolves.
fn temp_name(view: &str) -> String {
    view.rsplit('.').next().unwrap_or(view).to_string()
}

/// Whether `stmt` reads a system view or catalog (materialized per run).
pub fn mentions_system_relation(stmt: &Statement, catalog: &dyn crate::sql::Schema) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_relations(stmt, |n| {
        let name = object_name(n);
        if catalog.table(&name).is_none() && system_name(&name).is_some() {
            found = true;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// Fill the temp tables of the system views `stmt` reads and point its
/// references at them.
pub fn materialize(sess: &mut Session, stmt: &mut Statement) -> Result<()> {
    let mut used = Vec::new();
    let _ = sqlparser::ast::visit_relations_mut(stmt, |n: &mut ObjectName| {
        let name = object_name(n);
        if sess.catalog().table(&name).is_some() {
            return ControlFlow::<()>::Continue(());
        }
        if let Some(name) = system_name(&name) {
            *n = ObjectName(vec![
                ObjectNamePart::Identifier(Ident::new("temp")),
                ObjectNamePart::Identifier(Ident::with_quote('"', temp_name(&name))),
            ]);
            used.push(name);
        }
        ControlFlow::<()>::Continue(())
    });
    used.sort();
    used.dedup();
    for name in used {
        let rows = match name.as_str() {
            "mosaic.nodes" => nodes(sess)?,
            "mosaic.shards" => shards(sess)?,
            "mosaic.conflicts" => conflicts(sess)?,
            "mosaic.health" => health::rows(sess)?,
            "mosaic.queries" => queries::rows(sess)?,
            other => crate::exec::pg_catalog::rows(sess, other)?,
        };
        let Some(def) = view(&name) else { continue };
        let t = quote(&temp_name(&name));
        let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
        // Typed columns, so that `oid = '16385'` compares as PostgreSQL does.
        let typed: Vec<String> = (def.columns.iter())
            .map(|c| format!("{} {}", quote(&c.name), c.ty.sqlite_decl()))
            .collect();
        sess.conn.batch(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS {t} ({}); DELETE FROM temp.{t};",
            typed.join(", ")
        ))?;
        let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let mut st = sess.conn.prepare(&format!(
            "INSERT INTO temp.{t} VALUES ({})",
            placeholders.join(", ")
        ))?;
        for r in rows {
            st.execute(&r)?;
        }
    }
    Ok(())
}

/// `mosaic.conflicts`: the versions settling tombstoned after a split
/// (`exec::settle`), as this node and every live peer recorded them, each
/// once (a query orders them as it asks).
fn conflicts(sess: &Session) -> Result<Vec<Vec<Datum>>> {
    let mut rows = Vec::new();
    for r in sess.conn.rows(
        "SELECT table_name, key, loser_node, loser_version, loser_row, winner_node,
                winner_version, winner_row, settled_at, reason FROM main._mosaic_conflicts",
        &[],
    )? {
        let mut r = r;
        let json = |d: &Datum| match d {
            Datum::Text(t) => crate::types::json::normalize_jsonb(t)
                .map(Datum::Text)
                .unwrap_or(Datum::Null),
            _ => Datum::Null,
        };
        for i in [1, 4, 7] {
            r[i] = json(&r[i]);
        }
        if let Datum::Int(micros) = r[8] {
            let text =
                crate::types::datetime::format_timestamptz(micros, crate::types::zone::Zone::UTC);
            r[8] = PgType::Timestamptz.parse_text(&text)?;
        }
        rows.push(r);
    }
    if let Some(c) = sess.cluster.as_ref().filter(|_| sess.has_peers()) {
        let answer = c.query_peers(&[], "SELECT * FROM mosaic.conflicts", &[])?;
        rows.extend(answer.into_rows());
    }
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| seen.insert(format!("{:?}", &r[..4])));
    Ok(rows)
}

/// `mosaic.nodes`: this node, then every member membership knows, with
/// the number of shards each holds (this node's from its manifest, the
/// others' from the registry) and the node its unsealed rows are copied
/// to, if any (`cluster::unsealed`).
fn nodes(sess: &Session) -> Result<Vec<Vec<Datum>>> {
    let shards = sess.conn.live_shards(None)?;
    let store = &sess.store;
    let mut out = vec![vec![
        Datum::Text(store.node_name.clone()),
        Datum::Text(store.addrs.read().cluster.clone()),
        Datum::Text(store.addrs.read().pg.clone()),
        Datum::Text("alive".into()),
        Datum::Int(1),
        Datum::Int(shards.len() as i64),
        sess.cluster
            .as_ref()
            .and_then(|c| c.buddy())
            .map_or(Datum::Null, |b| Datum::Text(b.node)),
    ]];
    if let Some(c) = &sess.cluster {
        let registry = c.registry();
        let mut members = c.members();
        members.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        for (m, state) in members {
            let h = registry.get(&m.name);
            let count = h.map_or(0, |h| h.shards.len());
            let buddy = h.and_then(|h| h.buddy.clone());
            out.push(vec![
                Datum::Text(m.name.clone()),
                Datum::Text(m.cluster_addr.to_string()),
                Datum::Text(m.pg_addr.to_string()),
                Datum::Text(state.as_str().into()),
                Datum::Int(0),
                Datum::Int(count as i64),
                buddy.map_or(Datum::Null, |b| Datum::Text(b.node)),
            ]);
        }
    }
    Ok(out)
}

/// `mosaic.shards`: every shard this node knows of, its own and those the
/// registry lists for other nodes, with the nodes that hold it.
fn shards(sess: &Session) -> Result<Vec<Vec<Datum>>> {
    struct Row {
        table: String,
        live_rows: i64,
        byte_size: i64,
        home: String,
        holders: Vec<String>,
    }
    let mut rows: std::collections::BTreeMap<String, Row> = Default::default();
    let me = sess.store.node_name.clone();
    for s in sess.conn.live_shards(None)? {
        let meta = sess.store.meta(&s.id)?;
        rows.insert(
            s.id.0.clone(),
            Row {
                table: s.table.clone(),
                live_rows: meta.row_count as i64 - s.tombstones,
                byte_size: meta.byte_size as i64,
                home: s.home.clone().unwrap_or_else(|| me.clone()),
                holders: vec![me.clone()],
            },
        );
    }
    if let Some(c) = &sess.cluster {
        let live: std::collections::HashSet<String> = c
            .members()
            .into_iter()
            .filter(|(_, s)| {
                !matches!(
                    s,
                    crate::cluster::membership::MemberState::Down
                        | crate::cluster::membership::MemberState::Left
                )
            })
            .map(|(m, _)| m.name)
            .collect();
        let mut registry: Vec<_> = c.registry().into_iter().collect();
        registry.sort_by(|a, b| a.0.cmp(&b.0));
        for (node, holdings) in registry {
            for s in holdings.shards {
                let row = rows.entry(s.id.clone()).or_insert_with(|| Row {
                    table: s.table.clone(),
                    live_rows: s.live_rows,
                    byte_size: s.byte_size as i64,
                    home: if s.home.is_empty() {
                        node.clone()
                    } else {
                        s.home.clone()
                    },
                    holders: vec![],
                });
                // A node declared down holds nothing anyone can read.
                if live.contains(&node) {
                    row.holders.push(node.clone());
                }
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|(id, r)| {
            vec![
                Datum::Text(id),
                Datum::Text(r.table),
                Datum::Int(r.live_rows),
                Datum::Int(r.byte_size),
                Datum::Text(r.home),
                Datum::Text(crate::types::array::format_array(
                    &r.holders.iter().map(Some).collect::<Vec<_>>(),
                )),
                Datum::Int(1),
            ]
        })
        .collect())
}

/// What the session functions (version(), current_user, current_setting,
/// the row version, the pg_catalog lookups) answer from, for store to
/// register on the session's connection.
pub(crate) fn session_functions(
    store: &Arc<Store>,
    user: &str,
    pid: i32,
    settings: &crate::exec::settings::Settings,
    row_version: Arc<std::sync::atomic::AtomicI64>,
    view: crate::exec::pg_catalog::SessionView,
) -> SessionFunctions {
    let role = Arc::new(parking_lot::RwLock::new(user.to_string()));
    SessionFunctions {
        user: Arc::new(parking_lot::RwLock::new(user.to_string())),
        role: role.clone(),
        pid,
        version: format!(
            "PostgreSQL {} (MosaicDB {}) on x86_64-pc-linux-gnu, compiled by rustc, 64-bit",
            crate::exec::settings::SERVER_VERSION,
            env!("CARGO_PKG_VERSION")
        ),
        settings: Arc::new(settings.clone()),
        lookup: crate::exec::pg_catalog::lookup(store, view, role),
        row_version,
        hlc: store.hlc.clone(),
        sequences: store.sequences.clone(),
        times: Default::default(),
        coordination: None,
        tokens: None,
        signals: None,
        drawn: Default::default(),
        random: Default::default(),
    }
}
