//! What nodes say to each other over the RPC (`rpc`): requests and the
//! items that answer them. Rows travel as storage values (`Datum`), the
//! same values a local source yields, so a remote source and a local one
//! feed the merge identically.

use serde::{Deserialize, Serialize};

use crate::store::catalog::Entry;
use crate::types::coordination::{AdvisoryKey, LockMode, Notification};
use crate::types::datetime::StatementTimes;
use crate::types::Datum;

/// Rows per `Response::Rows` item: big enough to amortise a frame, small
/// enough to keep memory bounded on both ends.
pub const BATCH_ROWS: usize = 512;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Run a read-only query (PostgreSQL SQL) over this node's own data
    /// only: its open segments, the shards it sealed, and the replicas
    /// named in `replicas` (copies of shards whose home the asker cannot
    /// reach). Answered with `Rows` items.
    /// `skip` (table, id) names shards of this node's own that the asker
    /// reads from its copies: they are left out, and each must still be
    /// live here (else the request fails with `Error::StaleCopy`).
    Query {
        sql: String,
        params: Vec<Datum>,
        replicas: Vec<(String, String)>,
        skip: Vec<(String, String)>,
        /// The asker's transaction and statement times, which `now()`
        /// and its kin answer with.
        #[serde(default)]
        times: Option<StatementTimes>,
        /// Nodes that are down whose unsealed rows this node holds a copy
        /// of (`cluster::unsealed`), each with the epoch of the copy the
        /// asker counts on: read with this node's own rows.
        #[serde(default)]
        open_of: Vec<(String, u64)>,
        /// The nodes the asker reads (itself and its live peers): keys this
        /// node wrote during a split and has not settled with one of them
        /// yet are waited for (`exec::settle::wait_settled`).
        #[serde(default)]
        asker_live: Vec<String>,
    },
    /// Every catalog object this node has; answered with one `Catalog`.
    Catalog,
    /// Apply these catalog objects (last writer wins); answered with `Done`.
    ApplyCatalog(Vec<Entry>),
    /// What this node holds; answered with one `Holdings`.
    Holdings,
    /// The rows of this node's part of `table` (as in `Query`) that match
    /// `filter` (a PostgreSQL condition over the bare column names, `$n`
    /// from `params`), each as `[shard id or NULL for the open segment,
    /// row key, columns…]`; with `sealed_only`, the open segment is left
    /// out. Answered with `Rows` items.
    /// `columns`: the table's columns as the asker knows them (its
    /// transaction may have added, dropped or renamed some), which the rows
    /// are read as; absent, this node's own definition.
    Scan {
        table: String,
        filter: Option<String>,
        params: Vec<Datum>,
        sealed_only: bool,
        replicas: Vec<(String, String)>,
        skip: Vec<(String, String)>,
        #[serde(default)]
        columns: Option<Vec<crate::types::table::Column>>,
        /// As in `Query`.
        #[serde(default)]
        times: Option<StatementTimes>,
        /// A uniqueness probe (see `Probe`).
        #[serde(default)]
        probe: Option<Probe>,
        /// As in `Query`; copied rows come as `['open:<node>', row key, …]`.
        #[serde(default)]
        open_of: Vec<(String, u64)>,
        /// As in `Query`.
        #[serde(default)]
        asker_live: Vec<String>,
    },
    /// This node's own versions of the rows of `table` matching `filter`
    /// (as in `Scan`): its open segment and the shards it sealed, not its
    /// copies of other nodes' shards, each row as `[shard id or NULL, row
    /// key, version, columns…]`. Answered with `Rows` items. Settling the
    /// keys written during a split asks every node for them.
    Versions {
        table: String,
        filter: String,
        params: Vec<Datum>,
        columns: Vec<crate::types::table::Column>,
        /// The table's oid as the asker knows it: a node that knows another
        /// table of that name (one created again, its catalog not caught up
        /// yet) refuses, and the asker tries again later.
        oid: u32,
    },
    /// Rows of this node's shards that another node deleted or updated
    /// (committed there); answered with `Done`.
    Tombstones { table: String, rows: Vec<Tombstone> },
    /// Seal this node's open segment of `table` if it holds rows matching
    /// `filter` (as in `Scan`); answered with `Done`. Sent before an
    /// UPDATE/DELETE takes its node's write lock, so that no node waits for
    /// another's lock while holding its own.
    SealMatching {
        table: String,
        filter: Option<String>,
        params: Vec<Datum>,
    },
    /// Seal this node's open segment of a table now (`mosaic.seal`);
    /// answered with `Done` once the shards are in the manifest.
    /// With `nowait`, fail with 40001 instead of waiting for this node's
    /// write lock (the asker holds its own).
    Seal { table: String, nowait: bool },
    /// Empty this node's part of these tables (TRUNCATE); answered with `Done`.
    Truncate { tables: Vec<String> },
    /// Send a copy of a shard this node holds: one `ShardHeader`, then the
    /// file in `Chunk`s. The receiver verifies it against the id.
    FetchShard { id: String },
    /// The row keys tombstoned here of a shard this node holds; answered
    /// with one `Rids`.
    ShardTombstones { id: String },
    /// Forget a node that is gone for good (`mosaic.forget_node`);
    /// answered with `Done`.
    ForgetNode { node: String },
    /// The metadata (row count, zone maps, blooms) of shards this node
    /// holds; answered with one `Metas` (those it does not hold left out).
    ShardMetas { ids: Vec<String> },
    /// The sender's holdings, pushed when it starts holding unsealed rows
    /// of a table (so that no peer skips it for that table); answered with
    /// `Done`.
    Announce { node: String, holdings: Holdings },
    /// To the node that arbitrates row locks (`cluster::locks`): give
    /// these tables' row locks to transaction `token` of `node`, waiting
    /// for their holders unless `nowait`; answered with `Done`.
    LockRows {
        tables: Vec<String>,
        node: String,
        token: u64,
        nowait: bool,
    },
    /// Whether transaction `token` of `node` still holds these tables'
    /// row locks: `Done`, or a 40001 error.
    HoldsRows {
        tables: Vec<String>,
        node: String,
        token: u64,
    },
    /// Transaction `token` of `node` ended: its row locks go; answered
    /// with `Done`.
    UnlockRows { node: String, token: u64 },
    /// To the arbiter (`cluster::advisory`): give session `token` of `node`
    /// (backend `pid` there) the advisory lock `key` in `mode`; answered
    /// with `Done` once granted, or `Refused` when busy and `nowait`, or
    /// when not granted within the arbiter's poll time (the asker asks
    /// again).
    LockAdvisory {
        key: AdvisoryKey,
        mode: LockMode,
        node: String,
        token: u64,
        pid: i32,
        nowait: bool,
    },
    /// Session `token` of `node` lets go of `key` in `mode`; `Done`.
    UnlockAdvisory {
        key: AdvisoryKey,
        mode: LockMode,
        node: String,
        token: u64,
    },
    /// Session `token` of `node` ended: its advisory locks go; `Done`.
    EndAdvisorySession { node: String, token: u64 },
    /// Every advisory lock the arbiter granted; one `AdvisoryLocks`.
    AdvisoryLocks,
    /// The channels the sessions of `node` listen on now (all of them),
    /// so that the receiver forwards those channels' notifications;
    /// `version` (a clock reading of the sender's) orders announcements.
    /// Answered with `Done`.
    Listening {
        node: String,
        version: i64,
        channels: Vec<String>,
    },
    /// Notifications committed on the sender, in commit order, for this
    /// node's listeners; answered with `Done`.
    Notify { notes: Vec<Notification> },
    /// Copy shard `id` here from a holder now (a node handing its shards
    /// off before it stops); answered with `Done` once it is held.
    Replicate { id: String },
    /// Where this node's sequences stand (a backup); one `Sequences`.
    SequencePositions,
    /// Close this node's commit gate for backup `token` (`store::gate`),
    /// for at most `lease_ms`; `Done` once no commit is under way, an
    /// error when commits did not end in time.
    PauseCommits { token: u64, lease_ms: u64 },
    /// Open the gate backup `token` closed; `Done`.
    ResumeCommits { token: u64 },
    /// Send the file of shard `id` as it lies here, live or superseded
    /// since (a backup reads the shards of its cut, which compaction may
    /// have replaced meanwhile): as `FetchShard`, without table or
    /// tombstones in the header.
    FetchFile { id: String },
    /// Changes to the sender's unsealed rows, for the copy kept here
    /// while this node is its buddy (`cluster::unsealed`); answered with
    /// `Done`, or `Refused` when the push does not follow the last one
    /// applied (the sender then sends everything again).
    CopyUnsealed(crate::types::unsealed::UnsealedPush),
    /// Forget the copy of the sender's unsealed rows kept here; `Done`.
    DropUnsealedCopy { origin: String },
    /// What this node holds of `tables` now, in one snapshot (a backup's
    /// cut, taken while every gate is closed): one `Cut`, then an
    /// `OpenRows` item per batch of each table's unsealed rows.
    BackupCut { tables: Vec<String> },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Rows(Vec<Vec<Datum>>),
    Catalog(Vec<Entry>),
    Holdings(Holdings),
    Done,
    ShardHeader(ShardHeader),
    Chunk(Vec<u8>),
    Rids(Vec<i64>),
    Metas(Vec<crate::types::shard::ShardMeta>),
    /// A lock request that was not granted (see `Request::LockAdvisory`).
    Refused,
    AdvisoryLocks(Vec<crate::cluster::advisory::HeldLock>),
    Sequences(Vec<crate::types::backup::SequenceFloor>),
    Cut(crate::types::backup::NodeCut),
    OpenRows(crate::types::backup::OpenRows),
}

/// What comes before a shard file's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardHeader {
    /// The table's object id at the sender, so that a copy is never taken
    /// into a table that was dropped and created again under its name.
    pub table_oid: u32,
    pub byte_size: u64,
    /// Row keys tombstoned at the sender.
    pub tombstones: Vec<i64>,
}

/// Bytes of a shard file per `Chunk`.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The shards one node holds, as it announces them. `version` grows with
/// every change, so a peer keeps only the newest it has seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holdings {
    pub version: u64,
    pub shards: Vec<ShardInfo>,
    /// The residue class this node's sequences draw from, once chosen.
    pub seq_slot: Option<i64>,
    /// Tables with rows in this node's open segments (not in any shard yet).
    pub open_tables: Vec<String>,
    /// Where those rows are copied, when they are (`cluster::unsealed`).
    #[serde(default)]
    pub buddy: Option<crate::types::unsealed::Buddy>,
}

/// A `Scan` that checks values of a unique key a transaction wrote: while
/// a transaction on the asked node that has not ended holds one of them
/// (`store::inflight`), an older asker waits for it to end and a younger
/// one fails with 40001.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// The key's columns, whose values `params` binds in order, one key
    /// value after another.
    pub columns: Vec<String>,
    /// The asking node, and when its transaction began (microseconds).
    pub node: String,
    pub since: i64,
}

/// The small metadata of one shard that the registry keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub id: String,
    pub table: String,
    /// The node that sealed it (its home); the holder itself for its own.
    #[serde(default)]
    pub home: String,
    /// Rows not tombstoned.
    pub live_rows: i64,
    pub byte_size: u64,
    /// `types::shard::tombstone_digest` of the holder's tombstones of it:
    /// holders whose digests differ take in each other's (a union).
    #[serde(default)]
    pub tombstone_digest: u64,
}

pub use crate::types::shard::Tombstone;
