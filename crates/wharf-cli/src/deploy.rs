//! `wharf deploy validate`: checks a deployment of a catalog server against
//! the registry you logged in to, and prints every problem, or the plan.

use crate::credentials;
use crate::login::client;
use anyhow::{bail, Context};
use clap::Subcommand;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum DeployCommand {
    /// Validate a deployment (a dry run: nothing is stored).
    Validate {
        /// The catalog server, e.g. com.acme/weather.
        #[arg(long)]
        server: String,
        /// An exact version, or latest.
        #[arg(long, default_value = "latest")]
        version: String,
        /// KEY=VALUE lines with the credentials (# starts a comment).
        #[arg(long)]
        env_file: Option<PathBuf>,
        /// NAME=VALUE for a declared argument (a flag such as --port, or a positional valueHint); repeatable.
        #[arg(long = "arg")]
        args: Vec<String>,
    },
}

pub async fn run(command: DeployCommand) -> anyhow::Result<()> {
    match command {
        DeployCommand::Validate {
            server,
            version,
            env_file,
            args,
        } => validate(&server, &version, env_file.as_deref(), &args).await,
    }
}

/// Reads `KEY=VALUE` lines; values may be wrapped in matching quotes.
fn read_env_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            bail!("{} line {}: expected KEY=VALUE", path.display(), n + 1);
        };
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)));
        out.insert(key.trim().to_owned(), unquoted.unwrap_or(value).to_owned());
    }
    Ok(out)
}

async fn validate(
    server: &str,
    version: &str,
    env_file: Option<&Path>,
    args: &[String],
) -> anyhow::Result<()> {
    let credentials_map = match env_file {
        Some(path) => read_env_file(path)?,
        None => BTreeMap::new(),
    };
    let mut arguments = BTreeMap::new();
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--arg takes NAME=VALUE, e.g. --arg --port=8080"))?;
        arguments.insert(name.to_owned(), value.to_owned());
    }
    let creds = credentials::load()?;
    let body = serde_json::json!({
        "server": server,
        "version": version,
        "credentials": credentials_map,
        "arguments": arguments,
    });
    let response = client()?
        .post(format!("{}/api/v1/deployments/validate", creds.url))
        .bearer_auth(&creds.token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", creds.url))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let mut out = std::io::stdout().lock();
    if !status.is_success() {
        for e in answer["details"]["errors"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "{}: {}: {}{}",
                e["field"].as_str().unwrap_or_default(),
                e["code"].as_str().unwrap_or_default(),
                e["message"].as_str().unwrap_or_default(),
                e["hint"]
                    .as_str()
                    .filter(|h| !h.is_empty())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            )?;
        }
        bail!(
            "{} (HTTP {status})",
            answer["message"]
                .as_str()
                .unwrap_or("the registry refused the deployment")
        );
    }
    writeln!(out, "{}", serde_json::to_string_pretty(&answer["plan"])?)?;
    eprintln!(
        "valid: {} {} as {}",
        answer["server"]["name"].as_str().unwrap_or(server),
        answer["server"]["version"].as_str().unwrap_or(version),
        answer["plan"]["runtime"].as_str().unwrap_or_default()
    );
    Ok(())
}
