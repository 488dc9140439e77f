//! A node: open the store, serve the PostgreSQL protocol, shut down cleanly.

use crate::config::Config;
use crate::error::Result;

pub fn run(config: Config) -> Result<()> {
    let _ = config;
    Ok(())
}
