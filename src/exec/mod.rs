//! Statement execution on a session's SQLite connection.
