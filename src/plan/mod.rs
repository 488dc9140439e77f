//! Planning: resolve the tables a statement reads to their live shards and
//! open segments, prune shards, and build the SQL that runs over them.

pub mod prune;
