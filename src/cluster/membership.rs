//! SWIM membership (foca) over UDP. (Interface stand-in; replaced by the real module.)
#![allow(dead_code, unused_variables)]

use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub name: String,
    pub cluster_addr: SocketAddr,
    pub pg_addr: SocketAddr,
    pub incarnation: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberState {
    Alive,
    Suspect,
    Down,
    Left,
}
impl MemberState {
    pub fn as_str(&self) -> &'static str {
        match self {
            MemberState::Alive => "alive",
            MemberState::Suspect => "suspect",
            MemberState::Down => "down",
            MemberState::Left => "left",
        }
    }
}

pub enum Event {
    Up(Member),
    Down(Member),
    Message {
        origin: String,
        topic: String,
        version: u64,
        payload: Vec<u8>,
    },
}

pub struct MembershipOptions {
    pub socket: tokio::net::UdpSocket,
    pub me: Member,
    pub secret: Vec<u8>,
    pub seeds: Vec<String>,
    pub discover: Option<crate::config::Discover>,
}

pub struct Membership {
    me: Member,
}
impl Membership {
    pub fn start(
        opts: MembershipOptions,
        events: tokio::sync::mpsc::UnboundedSender<Event>,
    ) -> crate::error::Result<Arc<Membership>> {
        Ok(Arc::new(Membership { me: opts.me }))
    }
    pub fn me(&self) -> Member {
        self.me.clone()
    }
    pub fn members(&self) -> Vec<(Member, MemberState)> {
        vec![]
    }
    pub fn broadcast(&self, topic: &str, version: u64, payload: Vec<u8>) {}
    pub fn rejected_packets(&self) -> u64 {
        0
    }
    pub async fn leave(&self) {}
}
