//! The `wharf` command. Logs go to stderr; stdout carries only what a script
//! would capture (a new token, a listing).

mod admin;
mod credentials;
mod deploy;
mod login;
mod mcp;
mod proxy;
mod scan;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
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
        /// Production mode: refuse to start with weak security settings
        /// (same as WHARF_ENV=production).
        #[arg(long)]
        production: bool,
    },
    /// Apply database migrations, then exit.
    Migrate,
    /// Run verification jobs only (no HTTP), beside or apart from the servers.
    Worker {
        /// Scans to run at once [default: verification.workers].
        #[arg(long, env = "WHARF_VERIFY_WORKERS")]
        workers: Option<usize>,
    },
    /// Scan wheels and sdists on disk with the verification rules, offline.
    /// Exits 1 if any file would be held or refused.
    Scan {
        /// One JSON object per file and line, instead of text.
        #[arg(long)]
        json: bool,
        /// `.whl` or `.tar.gz` files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Log in to a registry through the browser (device flow) and store the token.
    Login {
        /// The registry's address, e.g. https://wharf.example.com.
        #[arg(long, env = "WHARF_URL")]
        url: String,
        /// Scopes to ask for, space- or comma-separated [default: read publish].
        #[arg(long)]
        scope: Option<String>,
    },
    /// Show who the stored token belongs to, and its scopes.
    Whoami,
    /// Forget the stored token (revoke it in the web UI to end it server-side).
    Logout,
    /// Deployments of MCP servers: validate one before a platform runs it.
    Deploy {
        #[command(subcommand)]
        command: deploy::DeployCommand,
    },
    /// The MCP server catalog: validate, publish, search.
    Mcp {
        #[command(subcommand)]
        command: mcp::McpCommand,
    },
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
    // Client commands need no server configuration.
    let (listen, production) = match cli.command {
        Command::Login { url, scope } => return login::login(&url, scope.as_deref()).await,
        Command::Whoami => {
            let text = login::whoami().await?;
            std::io::stdout().lock().write_all(text.as_bytes())?;
            return Ok(());
        }
        Command::Logout => {
            if credentials::remove()? {
                eprintln!("logged out: the stored token is gone (it stays valid until revoked or expired)");
            } else {
                eprintln!("not logged in");
            }
            return Ok(());
        }
        Command::Scan { json, ref files } => return scan::run(files, json),
        Command::Mcp { command } if !command.is_server_side() => return mcp::run(command).await,
        Command::Deploy { command } => return deploy::run(command).await,
        Command::Serve {
            ref listen,
            production,
            ..
        } => (listen.clone(), production),
        _ => (None, false),
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.data_dir.clone(),
        production,
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
        Command::Worker { workers } => {
            let mut config = config;
            if let Some(n) = workers {
                config.verification.workers = n;
            }
            anyhow::ensure!(
                config.verification.workers > 0,
                "a worker needs at least one scan slot: pass --workers N (N >= 1)"
            );
            wharf_server::run_worker(config).await?;
        }
        Command::Admin { command } => admin::run(config, command).await?,
        Command::Mcp { command } if command.is_server_side() => mcp::sync(config).await?,
        Command::Login { .. }
        | Command::Whoami
        | Command::Logout
        | Command::Scan { .. }
        | Command::Mcp { .. }
        | Command::Deploy { .. } => {}
    }
    Ok(())
}
