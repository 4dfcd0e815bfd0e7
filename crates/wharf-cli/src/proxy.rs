//! `wharf admin proxy [--npm] …`: the PyPI (or npm) proxy's status and
//! runtime rules, on the same database as `wharf serve`. A running server picks up a rule within
//! a few seconds.

use clap::Subcommand;
use std::io::Write;
use wharf_core::model::NewAuditEvent;
use wharf_core::proxy::{RuleKind, Spec};
use wharf_server::config::Config;
use wharf_server::services::proxy::{ProxyCore, RuleView};
use wharf_server::state::App;

#[derive(Subcommand)]
pub enum ProxyCommand {
    /// Settings, rules, what the proxy stored, and (for this process) its counters.
    Status {
        /// Print the JSON the API returns.
        #[arg(long)]
        json: bool,
    },
    /// Serve one version now, before its release cooldown ends.
    Allow {
        /// NAME==VERSION
        spec: String,
        /// Why; recorded in the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Take an `allow` back.
    Unallow { spec: String },
    /// Refuse a name or one version (NAME or NAME==VERSION) everywhere.
    Deny {
        spec: String,
        /// Why; recorded in the audit log and shown to clients.
        #[arg(long)]
        reason: String,
    },
    /// Take a `deny` back.
    Undeny { spec: String },
    /// Add a name to the allow-only list: once it has any name, only listed names are proxied.
    AllowOnly {
        name: String,
        /// Why; recorded in the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Take a name off the allow-only list.
    Unlist { name: String },
    /// The runtime rules (the configuration's own lists are in `status`).
    Rules,
}

pub async fn run(config: Config, npm: bool, command: ProxyCommand) -> anyhow::Result<()> {
    let app = App::attach(config).await?;
    let proxy: &ProxyCore = if npm {
        app.npm.proxy().map(|p| p.core()).ok_or_else(|| {
            anyhow::anyhow!("the npm proxy is off: set [proxy.npm] upstream in the configuration")
        })?
    } else {
        app.pypi_proxy.as_deref().map(|p| p.core()).ok_or_else(|| {
            anyhow::anyhow!("the PyPI proxy is off: set [proxy.pypi] upstream in the configuration")
        })?
    };
    // The command line acts as the operator: no user, a recognisable detail.
    let actor = || NewAuditEvent::new("", "");
    let add = |kind: RuleKind, spec: String, reason: String| async move {
        let checked = ProxyCore::check_rule(proxy.ecosystem, kind, &spec, &reason)?;
        let shown = checked.to_string();
        match proxy
            .add_rule(kind, checked, reason.trim().to_owned(), actor())
            .await?
        {
            Some(_) => eprintln!("added: {} {shown}", kind.as_str()),
            None => anyhow::bail!("the {} rule for {shown} exists already", kind.as_str()),
        }
        anyhow::Ok(())
    };
    let remove = |kind: RuleKind, spec: String| async move {
        let spec = Spec::parse_in(proxy.ecosystem, &spec)?;
        anyhow::ensure!(
            proxy.remove_rule(kind, &spec, actor()).await?,
            "there is no {} rule for {spec}",
            kind.as_str()
        );
        eprintln!("removed: {} {spec}", kind.as_str());
        anyhow::Ok(())
    };
    let mut out = std::io::stdout().lock();
    match command {
        ProxyCommand::Status { json } => {
            let status = proxy.status().await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?;
                return Ok(());
            }
            writeln!(out, "upstream         {}", status.upstream)?;
            writeln!(out, "min_release_age  {}", status.min_release_age)?;
            writeln!(out, "page_ttl         {}", status.page_ttl)?;
            for (label, list) in [
                ("allow_newer", &status.allow_newer),
                ("deny", &status.deny),
                ("allow_only", &status.allow_only),
            ] {
                if !list.is_empty() {
                    writeln!(out, "{label:<16} {}", list.join(", "))?;
                }
            }
            let s = &status.stored;
            writeln!(
                out,
                "stored           {} pages ({} not found upstream), {} projects, {} files served, {} held",
                s.pages, s.pages_missing, s.projects, s.files_published, s.files_held
            )?;
            writeln!(out, "rules            {}", status.rules.len())?;
            print_rules(&mut out, &status.rules)?;
            writeln!(
                out,
                "(per-process counters are on each server's /metrics and GET /api/v1/admin/proxy/{{pypi,npm}})"
            )?;
        }
        ProxyCommand::Allow { spec, reason } => add(RuleKind::Admit, spec, reason).await?,
        ProxyCommand::Unallow { spec } => remove(RuleKind::Admit, spec).await?,
        ProxyCommand::Deny { spec, reason } => add(RuleKind::Deny, spec, reason).await?,
        ProxyCommand::Undeny { spec } => remove(RuleKind::Deny, spec).await?,
        ProxyCommand::AllowOnly { name, reason } => add(RuleKind::AllowOnly, name, reason).await?,
        ProxyCommand::Unlist { name } => remove(RuleKind::AllowOnly, name).await?,
        ProxyCommand::Rules => {
            let rules: Vec<RuleView> = proxy
                .list_rules()
                .await?
                .iter()
                .map(RuleView::from)
                .collect();
            print_rules(&mut out, &rules)?;
        }
    }
    Ok(())
}

fn print_rules(out: &mut impl Write, rules: &[RuleView]) -> std::io::Result<()> {
    for r in rules {
        writeln!(
            out,
            "  {}\t{}\t{}\t{}\t{}",
            r.kind.as_str(),
            r.spec,
            r.created_at,
            r.created_by.as_deref().unwrap_or("(command line)"),
            r.reason
        )?;
    }
    Ok(())
}
