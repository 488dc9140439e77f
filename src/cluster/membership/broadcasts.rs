//! Custom broadcasts: small versioned payloads keyed by (origin, topic) that
//! foca piggybacks on its gossip. This is foca's `BroadcastHandler`: it
//! decides what is new (keep disseminating, tell the node) and what is stale
//! (stop). It holds no socket and no foca state.

use std::collections::HashMap;
use std::sync::mpsc;

use foca::{BroadcastHandler, Invalidates};
use serde::{Deserialize, Serialize};

use super::{Event, Member};

/// The largest encoded item accepted for dissemination. Foca's packet
/// (1367 bytes) also holds a header with two identities (~50 bytes plus
/// each node name) and a 2-byte length prefix, so 1100 bytes fits for node
/// names up to ~80 characters.
pub(super) const MAX_ITEM: usize = 1100;

/// One broadcast as it travels.
#[derive(Serialize, Deserialize)]
struct Item {
    origin: String,
    topic: String,
    version: u64,
    payload: Vec<u8>,
}

/// Encodes a broadcast from `origin`.
pub(super) fn encode(
    origin: &str,
    topic: &str,
    version: u64,
    payload: &[u8],
) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(&Item {
        origin: origin.to_string(),
        topic: topic.to_string(),
        version,
        payload: payload.to_vec(),
    })
}

/// Identifies a queued broadcast; a newer version for the same (origin,
/// topic) evicts an older one still waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Key {
    origin: String,
    topic: String,
    version: u64,
}

impl Invalidates for Key {
    fn invalidates(&self, other: &Self) -> bool {
        self.origin == other.origin && self.topic == other.topic && self.version > other.version
    }
}

/// Remembers the newest version seen per (origin, topic) and hands new
/// messages from other nodes to the driver through `inbox`, which drains it
/// after foca's own notifications so a sender's `Up` comes before its
/// messages.
///
/// The map grows with the number of distinct (origin, topic) pairs and is
/// never pruned: topics are expected to be a small fixed set per node.
pub(super) struct Broadcasts {
    me: String,
    newest: HashMap<(String, String), u64>,
    inbox: mpsc::Sender<Event>,
}

impl Broadcasts {
    pub(super) fn new(me: String, inbox: mpsc::Sender<Event>) -> Broadcasts {
        Broadcasts {
            me,
            newest: HashMap::new(),
            inbox,
        }
    }
}

impl BroadcastHandler<Member> for Broadcasts {
    type Key = Key;
    type Error = postcard::Error;

    /// `sender` is `None` for our own `add_broadcast`: recorded (so the echo
    /// is stale) but not reported. Messages that carry our own name as the
    /// origin (from an earlier run of this node) are disseminated but not
    /// reported either.
    fn receive_item(
        &mut self,
        data: &[u8],
        sender: Option<&Member>,
    ) -> Result<Option<Key>, postcard::Error> {
        let item: Item = postcard::from_bytes(data)?;
        let slot = (item.origin, item.topic);
        if self
            .newest
            .get(&slot)
            .is_some_and(|&newest| newest >= item.version)
        {
            return Ok(None);
        }
        self.newest.insert(slot.clone(), item.version);
        let (origin, topic) = slot;
        if sender.is_some() && origin != self.me {
            // The receiver lives as long as the driver that owns us.
            let _ = self.inbox.send(Event::Message {
                origin: origin.clone(),
                topic: topic.clone(),
                version: item.version,
                payload: item.payload,
            });
        }
        Ok(Some(Key {
            origin,
            topic,
            version: item.version,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Member {
        Member {
            name: "peer".into(),
            cluster_addr: "127.0.0.1:7001".parse().unwrap(),
            pg_addr: "127.0.0.1:5433".parse().unwrap(),
            incarnation: 1,
        }
    }

    #[test]
    fn new_versions_are_reported_once_and_stale_ones_stop() {
        let (tx, rx) = mpsc::channel();
        let mut handler = Broadcasts::new("me".into(), tx);
        let from = peer();
        let v2 = encode("peer", "shards", 2, b"two").unwrap();
        assert!(handler.receive_item(&v2, Some(&from)).unwrap().is_some());
        assert!(handler.receive_item(&v2, Some(&from)).unwrap().is_none());
        let v1 = encode("peer", "shards", 1, b"one").unwrap();
        assert!(handler.receive_item(&v1, Some(&from)).unwrap().is_none());
        let other_topic = encode("peer", "load", 1, b"x").unwrap();
        assert!(handler
            .receive_item(&other_topic, Some(&from))
            .unwrap()
            .is_some());
        let got: Vec<Event> = rx.try_iter().collect();
        assert_eq!(
            got,
            vec![
                Event::Message {
                    origin: "peer".into(),
                    topic: "shards".into(),
                    version: 2,
                    payload: b"two".to_vec()
                },
                Event::Message {
                    origin: "peer".into(),
                    topic: "load".into(),
                    version: 1,
                    payload: b"x".to_vec()
                },
            ]
        );
    }

    #[test]
    fn own_messages_are_kept_but_not_reported() {
        let (tx, rx) = mpsc::channel();
        let mut handler = Broadcasts::new("me".into(), tx);
        let mine = encode("me", "shards", 5, b"mine").unwrap();
        assert!(handler.receive_item(&mine, None).unwrap().is_some());
        assert!(handler
            .receive_item(&mine, Some(&peer()))
            .unwrap()
            .is_none());
        let older_run = encode("me", "load", 9, b"old").unwrap();
        assert!(handler
            .receive_item(&older_run, Some(&peer()))
            .unwrap()
            .is_some());
        assert_eq!(rx.try_iter().count(), 0);
        assert!(handler.receive_item(b"\xff\xff\xff", None).is_err());
    }

    #[test]
    fn newer_version_invalidates_same_origin_and_topic_only() {
        let key = |origin: &str, topic: &str, version| Key {
            origin: origin.into(),
            topic: topic.into(),
            version,
        };
        assert!(key("a", "t", 2).invalidates(&key("a", "t", 1)));
        assert!(!key("a", "t", 1).invalidates(&key("a", "t", 2)));
        assert!(!key("a", "t", 2).invalidates(&key("a", "t", 2)));
        assert!(!key("a", "t", 2).invalidates(&key("b", "t", 1)));
        assert!(!key("a", "t", 2).invalidates(&key("a", "u", 1)));
    }
}
