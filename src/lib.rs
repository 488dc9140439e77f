//! MosaicDB: a masterless, PostgreSQL-wire-compatible distributed SQL database.
//!
//! The layers, in the order a query flows through them: `wire` (pgwire
//! sessions), `sql` (parse, classify, PostgreSQL → SQLite rewrite, types),
//! `plan` (shard pruning, sources), `exec` (running statements, here and on
//! peers), `store` (catalog, open segments, immutable shards), and
//! `cluster` (membership, node RPC, registry, catalog spreading). `node`
//! wires them together; `observe` holds the metrics every layer counts and
//! serves them with the node's health.
#![deny(unsafe_code)]
#![deny(clippy::await_holding_lock)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod auth;
pub mod client;
pub mod cluster;
pub mod config;
pub mod error;
pub mod exec;
pub mod node;
pub mod observe;
pub mod plan;
pub mod sql;
pub mod store;
pub mod types;
pub mod wire;

pub use error::{Error, Result};
