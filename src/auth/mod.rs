//! Authentication: SCRAM-SHA-256 verifiers for roles (never a password on disk).
