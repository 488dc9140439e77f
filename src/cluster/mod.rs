//! The cluster: SWIM membership over UDP (`membership`), the node RPC over
//! TCP on the same port (`rpc`), and what travels over them.

pub mod membership;
pub mod rpc;
