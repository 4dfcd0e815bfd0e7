//! `wharf mcp …`: validate a server.json offline, publish it with the stored
//! login, and search a registry's catalog.

use crate::credentials;
use crate::login::client;
use anyhow::{bail, Context};
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum McpCommand {
    /// Check a server.json against every rule, offline; prints each problem with its path.
    Validate {
        file: PathBuf,
        /// Apply production rules (no loopback or private addresses in URLs).
        #[arg(long)]
        production: bool,
    },
    /// Publish a server.json to the registry you logged in to (`wharf login`).
    Publish { file: PathBuf },
    /// Search the catalog by name, title and description.
    Search {
        text: String,
        /// The registry to search [default: the one you logged in to].
        #[arg(long, env = "WHARF_URL")]
        url: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Sync the catalog from the configured upstream registries ([[mcp.upstreams]]) once,
    /// as the server's own tool: it reads the server's configuration and database.
    Sync,
}

impl McpCommand {
    /// Whether the command works on this registry's own state (its
    /// configuration and database) rather than as a client.
    pub fn is_server_side(&self) -> bool {
        matches!(self, Self::Sync)
    }
}

/// `wharf mcp sync`: one run per upstream, a line per upstream; fails if any
/// run stopped early (its progress is kept: the next run resumes).
pub async fn sync(config: wharf_server::config::Config) -> anyhow::Result<()> {
    let app = wharf_server::state::App::attach(config)
        .await
        .context("opening the registry's state")?;
    if app.catalog.mirrors.is_empty() {
        bail!("no upstream registry is configured: add [[mcp.upstreams]] name = \"…\", url = \"…\" to the configuration");
    }
    let reports = app.catalog.sync_all().await;
    let mut failed = 0;
    let mut out = std::io::stdout().lock();
    for r in &reports {
        if r.skipped {
            writeln!(
                out,
                "{}: skipped, another instance is syncing it",
                r.upstream
            )?;
            continue;
        }
        writeln!(
            out,
            "{}: {} page(s), {} added ({} held), {} status change(s), {} conflict(s), {} unchanged, \
             {} shadowed by local names, {} filtered out, {} malformed, {} released{}",
            r.upstream,
            r.pages,
            r.added,
            r.held,
            r.status_changed,
            r.conflicts,
            r.unchanged,
            r.shadowed,
            r.filtered,
            r.malformed,
            r.released,
            if r.complete { "" } else { " (incomplete)" }
        )?;
        if let Some(error) = &r.error {
            failed += 1;
            writeln!(out, "{}: stopped early: {error}", r.upstream)?;
        }
    }
    app.db.close().await;
    if failed > 0 {
        bail!("{failed} upstream sync(s) stopped early; the next run resumes where each stopped");
    }
    Ok(())
}

pub async fn run(command: McpCommand) -> anyhow::Result<()> {
    match command {
        McpCommand::Validate { file, production } => validate(&file, production),
        McpCommand::Publish { file } => publish(&file).await,
        McpCommand::Search { text, url, limit } => search(&text, url, limit).await,
        McpCommand::Sync => bail!("`wharf mcp sync` needs the server's configuration"),
    }
}

fn read_json(file: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))
}

fn validate(file: &Path, production: bool) -> anyhow::Result<()> {
    let raw = read_json(file)?;
    let policy = if production {
        wharf_core::mcp::UrlPolicy::Production
    } else {
        wharf_core::mcp::UrlPolicy::Dev
    };
    match wharf_core::mcp::validate(&raw, policy) {
        Ok((server, _)) => {
            eprintln!(
                "{}: {} {} is valid",
                file.display(),
                server.name,
                server.version
            );
            Ok(())
        }
        Err(problems) => {
            let mut out = std::io::stdout().lock();
            for p in &problems {
                let at = if p.path.is_empty() {
                    "(document)"
                } else {
                    &p.path
                };
                writeln!(out, "{at}: {}", p.message)?;
            }
            bail!("{}: {} problem(s)", file.display(), problems.len())
        }
    }
}

/// The problem+json errors, one per line with their location.
fn describe_problem(text: &str, status: reqwest::StatusCode) -> String {
    let Ok(problem) = serde_json::from_str::<serde_json::Value>(text) else {
        return format!("the registry answered HTTP {status}");
    };
    let mut out = format!(
        "{} (HTTP {status})",
        problem["detail"]
            .as_str()
            .unwrap_or("the registry refused the request")
    );
    for e in problem["errors"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n  {}: {}",
            e["location"]
                .as_str()
                .filter(|l| !l.is_empty())
                .unwrap_or("(document)"),
            e["message"].as_str().unwrap_or_default()
        ));
    }
    out
}

async fn publish(file: &Path) -> anyhow::Result<()> {
    let raw = read_json(file)?;
    let creds = credentials::load()?;
    let response = client()?
        .post(format!("{}/v0/publish", creds.url))
        .bearer_auth(&creds.token)
        .json(&raw)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", creds.url))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{}", describe_problem(&text, status));
    }
    let entry: serde_json::Value =
        serde_json::from_str(&text).context("the registry's reply is not valid")?;
    eprintln!(
        "published {} {} to {}",
        entry["server"]["name"].as_str().unwrap_or_default(),
        entry["server"]["version"].as_str().unwrap_or_default(),
        creds.url
    );
    Ok(())
}

async fn search(text: &str, url: Option<String>, limit: u32) -> anyhow::Result<()> {
    let base = match url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => credentials::load()?.url,
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("version", "latest")
        .append_pair("limit", &limit.clamp(1, 100).to_string())
        .append_pair("search", text)
        .finish();
    let response = client()?
        .get(format!("{base}/v0/servers?{query}"))
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{}", describe_problem(&body, status));
    }
    let page: serde_json::Value =
        serde_json::from_str(&body).context("the registry's reply is not valid")?;
    let mut out = std::io::stdout().lock();
    let servers = page["servers"].as_array().cloned().unwrap_or_default();
    if servers.is_empty() {
        eprintln!("no servers match '{text}'");
    }
    for entry in servers {
        let s = &entry["server"];
        writeln!(
            out,
            "{} {}  {}",
            s["name"].as_str().unwrap_or_default(),
            s["version"].as_str().unwrap_or_default(),
            s["description"].as_str().unwrap_or_default()
        )?;
    }
    Ok(())
}
