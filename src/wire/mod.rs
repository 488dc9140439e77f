//! The PostgreSQL protocol, through pgwire. No SQLite here.
