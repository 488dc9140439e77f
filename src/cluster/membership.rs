//! SWIM membership (foca) over UDP.
