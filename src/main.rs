//! The `mosaic` binary: parse flags, build the Config, run the node.

use clap::Parser;
use mosaic::config::{Cli, Command, Config, ConfigCommand};

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Config(ConfigCommand::Check(args))) => return check(args),
        Some(Command::Backup(args)) => return report(backup(&args)),
        Some(Command::Restore(args)) => return report(restore(&args)),
        None => cli.serve,
    };
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mosaic: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match mosaic::node::run(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mosaic: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `mosaic config check`: the settings a node would start with, or why it
/// would not start.
fn check(args: mosaic::config::ServeArgs) -> std::process::ExitCode {
    let checked = Config::from_args(args).and_then(|c| mosaic::node::check(&c).map(|()| c));
    match checked {
        Ok(config) => {
            for (key, value) in config.settings() {
                match value.strip_prefix("# ") {
                    Some(note) => println!("# {key}: {note}"),
                    None => println!("{key} = {value}"),
                }
            }
            eprintln!("mosaic: configuration ok");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mosaic: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// A client command's outcome: its summary, or its error and exit code 1.
fn report(outcome: mosaic::Result<String>) -> std::process::ExitCode {
    match outcome {
        Ok(summary) => {
            println!("{summary}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mosaic: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `mosaic backup`: its summary line.
fn backup(args: &mosaic::config::BackupArgs) -> mosaic::Result<String> {
    let done = mosaic::client::backup(args)?;
    Ok(format!(
        "backup: {} shards in {} ({} copied now, {} bytes; the rest were there already)",
        done.shards,
        args.to.display(),
        done.copied,
        done.bytes
    ))
}

/// `mosaic restore`: its summary line.
fn restore(args: &mosaic::config::RestoreArgs) -> mosaic::Result<String> {
    let done = mosaic::client::restore(args)?;
    Ok(format!(
        "restore: {}; {} shards ({} bytes) from {}",
        done.catalog,
        done.shards,
        done.bytes,
        args.from.display()
    ))
}
