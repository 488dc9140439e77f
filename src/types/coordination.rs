//! What sessions coordinate by across the cluster: advisory lock keys and
//! their modes, and LISTEN/NOTIFY notifications.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An advisory lock's key, as PostgreSQL keeps the two forms apart:
/// `pg_advisory_lock(1)` and `pg_advisory_lock(0, 1)` are different locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AdvisoryKey {
    Int8(i64),
    Pair(i32, i32),
}

impl AdvisoryKey {
    /// `pg_locks`' (classid, objid, objsubid): one bigint key is split into
    /// its high and low halves with objsubid 1, two int4 keys are classid
    /// and objid with objsubid 2 (as PostgreSQL shows them).
    pub fn pg_locks_ids(self) -> (i64, i64, i64) {
        match self {
            AdvisoryKey::Int8(k) => ((k as u64 >> 32) as i64, (k as u64 & 0xffff_ffff) as i64, 1),
            AdvisoryKey::Pair(a, b) => (a as u32 as i64, b as u32 as i64, 2),
        }
    }
}

/// A lock's mode: shared holders coexist, an exclusive holder is alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LockMode {
    Share,
    Exclusive,
}

impl LockMode {
    /// Whether holders of `self` and `other` (of different transactions or
    /// sessions) exclude each other.
    pub fn conflicts(self, other: LockMode) -> bool {
        self == LockMode::Exclusive || other == LockMode::Exclusive
    }

    /// The mode's name in `pg_locks` and in PostgreSQL's messages.
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::Share => "ShareLock",
            LockMode::Exclusive => "ExclusiveLock",
        }
    }
}

/// One notification (`NOTIFY channel, 'payload'`), as listeners receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub channel: String,
    pub payload: String,
    /// The sending session's backend pid (on its own node).
    pub pid: i32,
}

/// A payload must be shorter than this many bytes (PostgreSQL's limit).
pub const MAX_PAYLOAD: usize = 8000;

/// A channel name as PostgreSQL bounds it (NAMEDATALEN - 1 bytes).
const MAX_CHANNEL: usize = 63;

impl Notification {
    /// A notification checked as `NOTIFY` and `pg_notify` check it.
    pub fn new(channel: &str, payload: &str, pid: i32) -> Result<Notification> {
        if channel.is_empty() {
            return Err(Error::InvalidParameter(
                "channel name cannot be empty".into(),
            ));
        }
        if channel.len() > MAX_CHANNEL {
            return Err(Error::InvalidParameter("channel name too long".into()));
        }
        if payload.len() >= MAX_PAYLOAD {
            return Err(Error::InvalidParameter("payload string too long".into()));
        }
        Ok(Notification {
            channel: channel.to_string(),
            payload: payload.to_string(),
            pid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_show_in_pg_locks_as_postgresql_shows_them() {
        assert_eq!(AdvisoryKey::Int8(1).pg_locks_ids(), (0, 1, 1));
        assert_eq!(
            AdvisoryKey::Int8((5i64 << 32) | 7).pg_locks_ids(),
            (5, 7, 1)
        );
        assert_eq!(
            AdvisoryKey::Int8(-1).pg_locks_ids(),
            (4294967295, 4294967295, 1)
        );
        assert_eq!(AdvisoryKey::Pair(-1, 2).pg_locks_ids(), (4294967295, 2, 2));
    }

    #[test]
    fn payloads_and_channels_are_bounded() {
        assert!(Notification::new("c", &"x".repeat(7999), 1).is_ok());
        let e = Notification::new("c", &"x".repeat(8000), 1).unwrap_err();
        assert_eq!(e.sqlstate(), "22023");
        assert_eq!(
            Notification::new("", "", 1).unwrap_err().sqlstate(),
            "22023"
        );
    }
}
