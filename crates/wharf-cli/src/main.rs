//! The `wharf` command. Logs go to stderr; stdout carries only what a script
//! would capture (a new token, a listing).

mod admin;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use wharf_server::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "wharf",
    version,
    about = "A self-hosted, security-hardened package registry"
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "WHARF_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the database, blobs and temporary files [default: ./wharf-data].
    #[arg(long, global = true, env = "WHARF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "WHARF_LISTEN")]
        listen: Option<String>,
        /// Apply database migrations first (always done for the embedded database).
        #[arg(long)]
        migrate: bool,
    },
    /// Apply database migrations, then exit.
    Migrate,
    /// Manage users and tokens (safe to run while the server runs).
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WHARF_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.data_dir.clone(),
    };
    let config = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok(), &overrides)?;
    match cli.command {
        Command::Serve { migrate, .. } => wharf_server::serve(config, migrate).await?,
        Command::Migrate => {
            wharf_server::state::open_database(&config, true)
                .await
                .context("migrating the database")?;
            eprintln!("database is up to date");
        }
        Command::Admin { command } => admin::run(config, command).await?,
    }
    Ok(())
}
