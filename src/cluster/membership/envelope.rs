//! The datagram envelope: every packet on the gossip port (and on the LAN
//! multicast group) is `HMAC-SHA256(secret, body) || body`, where `body` is
//! a one-byte kind followed by its payload. Nothing here touches a socket.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Member;
use crate::error::{Error, Result};

/// Length of the MAC that prefixes every datagram.
pub(super) const MAC_LEN: usize = 32;

/// The largest datagram we send or accept. 1400 bytes leaves room under a
/// 1500-byte MTU for IPv6 and for overlay networks (VXLAN and friends take
/// ~50 bytes), so gossip never relies on IP fragmentation.
pub(super) const MAX_DATAGRAM: usize = 1400;

/// What foca may put in one packet: the datagram less the MAC and kind byte.
pub(super) const MAX_GOSSIP_PACKET: usize = MAX_DATAGRAM - MAC_LEN - 1;

/// What a datagram carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    /// A foca packet, handed to `Foca::handle_data` as is.
    Gossip = 0,
    /// "Who are you?": sent to a seed or discovered address whose identity
    /// we do not know yet. Empty payload; answered with `Ident`.
    Probe = 1,
    /// The sender's `Member`; the receiver announces to it if it is new.
    Ident = 2,
    /// The sender's `Member`, leaving the cluster on purpose.
    Leave = 3,
}

/// A datagram whose MAC checked out.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Packet<'a> {
    Gossip(&'a [u8]),
    Probe,
    Ident(Member),
    Leave(Member),
}

/// The cluster secret, keyed once.
#[derive(Clone)]
pub(super) struct Auth {
    mac: Hmac<Sha256>,
}

impl Auth {
    /// Keys the MAC with the cluster secret; an empty secret is refused.
    pub(super) fn new(secret: &[u8]) -> Result<Auth> {
        if secret.is_empty() {
            return Err(Error::InvalidParameter(
                "the cluster secret must not be empty".to_string(),
            ));
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret).map_err(Error::internal)?;
        Ok(Auth { mac })
    }

    /// Frames `payload` as a datagram of `kind`.
    pub(super) fn seal(&self, kind: Kind, payload: &[u8]) -> Vec<u8> {
        let mut datagram = Vec::with_capacity(MAC_LEN + 1 + payload.len());
        datagram.resize(MAC_LEN, 0);
        datagram.push(kind as u8);
        datagram.extend_from_slice(payload);
        let mut mac = self.mac.clone();
        mac.update(&datagram[MAC_LEN..]);
        datagram[..MAC_LEN].copy_from_slice(&mac.finalize().into_bytes());
        datagram
    }

    /// Frames our identity as `Ident` or `Leave`.
    pub(super) fn seal_member(&self, kind: Kind, member: &Member) -> Result<Vec<u8>> {
        let payload = postcard::to_allocvec(member).map_err(Error::internal)?;
        Ok(self.seal(kind, &payload))
    }

    /// Checks the MAC (in constant time) and splits the datagram; the error
    /// says why it was dropped.
    pub(super) fn open<'a>(&self, datagram: &'a [u8]) -> Result<Packet<'a>, &'static str> {
        if datagram.len() <= MAC_LEN {
            return Err("too short");
        }
        if datagram.len() > MAX_DATAGRAM {
            return Err("too long");
        }
        let (tag, body) = datagram.split_at(MAC_LEN);
        let mut mac = self.mac.clone();
        mac.update(body);
        mac.verify_slice(tag).map_err(|_| "bad MAC")?;
        let (&kind, payload) = body.split_first().ok_or("too short")?;
        let member = || postcard::from_bytes::<Member>(payload).map_err(|_| "bad member");
        match kind {
            k if k == Kind::Gossip as u8 => Ok(Packet::Gossip(payload)),
            k if k == Kind::Probe as u8 && payload.is_empty() => Ok(Packet::Probe),
            k if k == Kind::Ident as u8 => Ok(Packet::Ident(member()?)),
            k if k == Kind::Leave as u8 => Ok(Packet::Leave(member()?)),
            _ => Err("unknown kind"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Member {
        Member {
            name: "n1".into(),
            cluster_addr: "127.0.0.1:7000".parse().unwrap(),
            pg_addr: "127.0.0.1:5432".parse().unwrap(),
            incarnation: 42,
        }
    }

    #[test]
    fn round_trips_every_kind() {
        let auth = Auth::new(b"s3cret").unwrap();
        let gossip = auth.seal(Kind::Gossip, b"foca bytes");
        assert_eq!(auth.open(&gossip), Ok(Packet::Gossip(b"foca bytes")));
        assert_eq!(auth.open(&auth.seal(Kind::Probe, &[])), Ok(Packet::Probe));
        let ident = auth.seal_member(Kind::Ident, &member()).unwrap();
        assert_eq!(auth.open(&ident), Ok(Packet::Ident(member())));
        let leave = auth.seal_member(Kind::Leave, &member()).unwrap();
        assert_eq!(auth.open(&leave), Ok(Packet::Leave(member())));
    }

    #[test]
    fn rejects_forged_truncated_and_malformed() {
        let auth = Auth::new(b"s3cret").unwrap();
        let other = Auth::new(b"other").unwrap();
        let datagram = auth.seal(Kind::Gossip, b"payload");
        assert_eq!(other.open(&datagram), Err("bad MAC"));
        let mut flipped = datagram.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(auth.open(&flipped), Err("bad MAC"));
        assert_eq!(auth.open(&datagram[..MAC_LEN]), Err("too short"));
        assert_eq!(auth.open(&[]), Err("too short"));
        assert_eq!(auth.open(&vec![0; MAX_DATAGRAM + 1]), Err("too long"));
        assert_eq!(
            auth.open(&auth.seal(Kind::Ident, b"\xff\xff")),
            Err("bad member")
        );
        assert_eq!(
            auth.open(&auth.seal(Kind::Probe, b"x")),
            Err("unknown kind")
        );
        let mut unknown = auth.seal(Kind::Gossip, b"");
        unknown[MAC_LEN] = 9;
        assert_eq!(auth.open(&unknown), Err("bad MAC"));
        assert!(Auth::new(b"").is_err());
    }
}
