//! Node RPC over TCP.
