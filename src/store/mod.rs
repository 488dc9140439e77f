//! Storage: the catalog, the node's open segments, immutable shards.

pub mod shard;
pub mod table;
