//! `wharf admin …`: users and tokens, on the same database as `wharf serve`.

use clap::Subcommand;
use std::io::Write;
use wharf_core::model::FileStatus;
use wharf_core::Timestamp;
use wharf_server::config::Config;
use wharf_server::services::accounts::{Accounts, TokenRequest};
use wharf_server::services::audit::{AuditQuery, AuditReader};
use wharf_server::services::review::{Decision, HeldFileView, QueueView};
use wharf_server::state::{open_database, App, Ports};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The review queue: files verification held back.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// MCP namespaces: who may publish servers under which names.
    Namespace {
        #[command(subcommand)]
        command: NamespaceCommand,
    },
    /// The PyPI proxy (or with --npm the npm proxy): its status, and rules
    /// that deny, allow or admit early.
    Proxy {
        /// The npm proxy, whose specs are NAME or NAME@VERSION.
        #[arg(long)]
        npm: bool,
        #[command(subcommand)]
        command: crate::proxy::ProxyCommand,
    },
    /// Re-wrap every deployment credential's data key from WHARF_MASTER_KEY_PREVIOUS
    /// to WHARF_MASTER_KEY, online; safe to interrupt and run again.
    RotateKey,
    /// Re-run the current verification rules over stored files; a published
    /// file that newly fails goes to quarantine.
    Rescan {
        /// Only this project's files.
        #[arg(long)]
        project: Option<String>,
    },
    /// Read the audit log, newest first.
    Audit {
        /// Only events by this user.
        #[arg(long)]
        actor: Option<String>,
        /// Only this action, e.g. file.upload or token.revoke.
        #[arg(long)]
        action: Option<String>,
        /// Only events since a time (2026-11-23T10:00:00Z) or a span back from now (2h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// At most this many events (1-500).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
pub enum NamespaceCommand {
    /// Let a user publish servers whose names match GLOB (e.g. com.acme/*), ignoring case.
    Grant {
        glob: String,
        #[arg(long)]
        user: String,
    },
    /// Take a grant back.
    Revoke {
        glob: String,
        #[arg(long)]
        user: String,
    },
    /// List the grants.
    List,
}

#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// List held files with their findings.
    List {
        /// Also files whose verification has not finished.
        #[arg(long)]
        all: bool,
        /// Print the JSON the API returns.
        #[arg(long)]
        json: bool,
    },
    /// Publish a held file.
    Release {
        id: i64,
        /// Why; recorded in the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Keep a file out for good (also takes down a published one).
    Reject {
        id: i64,
        /// Why; recorded in the audit log.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read a web-login password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's web-login password, read from the first line of stdin.
    SetPassword {
        name: String,
        /// Required, so a password never goes on a command line.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// End every web session of a user, wherever they are logged in. Their
    /// API tokens stay valid (revoke those with `wharf admin token revoke`).
    Logout { name: String },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it alone on stdout (it is shown only once).
    Create {
        #[arg(long)]
        user: String,
        /// Comma-separated: read, publish, admin.
        #[arg(long)]
        scope: String,
        /// Restrict the token to this project (repeatable).
        #[arg(long = "project")]
        projects: Vec<String>,
        /// Restrict the token to MCP servers matching this glob, e.g.
        /// com.acme/* (repeatable). A restricted token reaches only what its
        /// --project and --namespace lists name.
        #[arg(long = "namespace")]
        namespaces: Vec<String>,
        /// Lifetime, e.g. 30d or 12h; default: no expiry.
        #[arg(long)]
        expires: Option<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List a user's tokens (never their secrets).
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a token by ID.
    Revoke { id: i64 },
}

pub async fn run(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    // These need the blob store as configured (S3 too), so the whole app.
    match command {
        AdminCommand::Quarantine { command } => return quarantine(config, command).await,
        AdminCommand::Rescan { project } => return rescan(config, project).await,
        AdminCommand::Namespace { command } => return namespace(config, command).await,
        AdminCommand::RotateKey => return rotate_key(config).await,
        AdminCommand::Proxy { npm, command } => {
            return crate::proxy::run(config, npm, command).await
        }
        _ => {}
    }
    let db = open_database(&config, false).await?;
    let blobs = wharf_blob::LocalBlobStore::open(config.blob_dir())?;
    let ports = Ports::new(db.clone(), std::sync::Arc::new(blobs));
    let accounts = Accounts::new(
        ports.users.clone(),
        ports.tokens.clone(),
        ports.sessions.clone(),
        ports.audit.clone(),
        config.security.session_ttl,
    );
    let mut out = std::io::stdout().lock();
    match command {
        AdminCommand::Quarantine { .. }
        | AdminCommand::Rescan { .. }
        | AdminCommand::Namespace { .. }
        | AdminCommand::Proxy { .. }
        | AdminCommand::RotateKey => {}
        AdminCommand::User {
            command:
                UserCommand::Create {
                    name,
                    admin,
                    password_stdin,
                },
        } => {
            // Read and check the password first, so a bad one creates no user.
            let password = if password_stdin {
                let password = read_password()?;
                wharf_server::services::passwords::validate_password(&password)?;
                Some(password)
            } else {
                None
            };
            let user = accounts.create_user(&name, admin).await?;
            if let Some(password) = password {
                accounts.set_password(&user.name, password).await?;
            }
            eprintln!(
                "created user '{}' (id {}){}",
                user.name,
                user.id,
                if admin { " as an administrator" } else { "" }
            );
        }
        AdminCommand::User {
            command: UserCommand::SetPassword { name, .. },
        } => {
            let ended = accounts.set_password(&name, read_password()?).await?;
            eprintln!("password set for '{name}'; {ended} web session(s) ended");
        }
        AdminCommand::User {
            command: UserCommand::Logout { name },
        } => {
            let ended = accounts.logout_user(&name).await?;
            eprintln!("{ended} web session(s) of '{name}' ended");
        }
        AdminCommand::Audit {
            actor,
            action,
            since,
            limit,
        } => {
            let query = AuditQuery {
                actor,
                action,
                since,
                cursor: None,
                limit: Some(limit),
            };
            let reader = AuditReader::new(ports.users.clone(), ports.audit.clone());
            let page = reader.read(query).await?;
            writeln!(
                out,
                "{:<6} {:<27} {:<12} {:<6} {:<16} {:<24} DETAIL",
                "ID", "AT", "USER", "TOKEN", "ACTION", "TARGET"
            )?;
            let id = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
            for e in page.events {
                // A user deleted since shows by the ID the event recorded.
                let user = e.actor_user_name.unwrap_or_else(|| id(e.actor_user_id));
                writeln!(
                    out,
                    "{:<6} {:<27} {:<12} {:<6} {:<16} {:<24} {}",
                    e.id,
                    e.at.to_rfc3339_micros(),
                    user,
                    id(e.actor_token_id),
                    e.action,
                    e.target,
                    e.detail
                )?;
            }
        }
        AdminCommand::Token { command } => match command {
            TokenCommand::Create {
                user,
                scope,
                projects,
                namespaces,
                expires,
                name,
            } => {
                let request = TokenRequest {
                    user: &user,
                    label: &name,
                    scopes: &scope,
                    projects: &projects,
                    namespaces: &namespaces,
                    expires_in: expires.as_deref(),
                    ip_hash: None,
                };
                let (token, record) = accounts.create_token(request).await?;
                writeln!(out, "{}", token.reveal())?;
                eprintln!(
                    "created token {} for '{user}' with scopes {}; it will not be shown again",
                    record.id, record.scopes
                );
            }
            TokenCommand::List { user } => {
                let tokens = accounts.list_tokens(&user).await?;
                writeln!(
                    out,
                    "{:<6} {:<20} {:<22} {:<20} {:<28} STATUS",
                    "ID", "NAME", "SCOPES", "RESTRICTED TO", "EXPIRES"
                )?;
                let now = Timestamp::now();
                for t in tokens {
                    let reach: Vec<&str> = t
                        .projects
                        .iter()
                        .map(|p| p.as_str())
                        .chain(t.namespaces.iter().map(String::as_str))
                        .collect();
                    let status = if t.is_revoked() {
                        "revoked"
                    } else if t.is_expired_at(now) {
                        "expired"
                    } else {
                        "active"
                    };
                    let expires = t
                        .expires_at
                        .map_or_else(|| "never".to_owned(), Timestamp::to_rfc3339_micros);
                    let reach = if reach.is_empty() {
                        "*".to_owned()
                    } else {
                        reach.join(",")
                    };
                    writeln!(
                        out,
                        "{:<6} {:<20} {:<22} {:<20} {:<28} {status}",
                        t.id, t.name, t.scopes, reach, expires
                    )?;
                }
            }
            TokenCommand::Revoke { id } => {
                if accounts.revoke_token(id).await? {
                    eprintln!("revoked token {id}");
                } else {
                    eprintln!("token {id} was already revoked");
                }
            }
        },
    }
    db.close().await;
    Ok(())
}

/// The first line of stdin, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on stdin: pipe it in, e.g. `printf '%s\\n' \"$PW\" | wharf admin user create NAME --password-stdin`");
    }
    Ok(password)
}

async fn quarantine(config: Config, command: QuarantineCommand) -> anyhow::Result<()> {
    let app = App::attach(config).await?;
    let mut out = std::io::stdout().lock();
    match command {
        QuarantineCommand::List { all, json } => {
            let statuses: &[FileStatus] = if all {
                &[FileStatus::Quarantined, FileStatus::Pending]
            } else {
                &[FileStatus::Quarantined]
            };
            let held = app.reviews.queue(statuses, 1000).await?;
            if json {
                let queue = QueueView {
                    files: held.iter().map(HeldFileView::from).collect(),
                };
                writeln!(out, "{}", serde_json::to_string(&queue)?)?;
                return Ok(());
            }
            if held.is_empty() {
                eprintln!("nothing is held");
            }
            for h in &held {
                writeln!(
                    out,
                    "{:>6}  {:<11}  {} {}  {}",
                    h.file.id,
                    h.file.status.as_str(),
                    h.project,
                    h.file.version,
                    h.file.filename
                )?;
                let findings: Vec<wharf_scan::Finding> = h
                    .report
                    .as_ref()
                    .and_then(|r| serde_json::from_str(&r.findings).ok())
                    .unwrap_or_default();
                for f in findings
                    .iter()
                    .filter(|f| f.severity >= wharf_scan::Severity::Quarantine)
                {
                    let place = f
                        .file
                        .as_deref()
                        .map(|m| format!(" in {m}"))
                        .unwrap_or_default();
                    let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
                    writeln!(
                        out,
                        "        {} {}{place}{line}: {}",
                        f.severity.as_str(),
                        f.rule,
                        f.explanation
                    )?;
                }
            }
        }
        QuarantineCommand::Release { id, reason } => {
            let held = app
                .reviews
                .decide(id, Decision::Release, &reason, None)
                .await?;
            eprintln!(
                "released {} (now {})",
                held.file.filename,
                held.file.status.as_str()
            );
        }
        QuarantineCommand::Reject { id, reason } => {
            let held = app
                .reviews
                .decide(id, Decision::Reject, &reason, None)
                .await?;
            eprintln!(
                "rejected {} (now {})",
                held.file.filename,
                held.file.status.as_str()
            );
        }
    }
    Ok(())
}

async fn rescan(config: Config, project: Option<String>) -> anyhow::Result<()> {
    let project = project
        .map(|p| wharf_core::ProjectName::parse(&p).map(|n| n.normalize()))
        .transpose()?;
    let app = App::attach(config).await?;
    let summary = app.verification.rescan(project.as_ref(), None).await?;
    eprintln!(
        "scanned {} files with rules {}: {} newly quarantined, {} still pending, {} errors",
        summary.scanned,
        wharf_scan::RULES_VERSION,
        summary.newly_quarantined.len(),
        summary.skipped_pending,
        summary.errors.len()
    );
    let mut out = std::io::stdout().lock();
    for name in &summary.newly_quarantined {
        writeln!(out, "quarantined {name}")?;
    }
    for e in &summary.errors {
        eprintln!("error: {e}");
    }
    anyhow::ensure!(summary.errors.is_empty(), "some files could not be scanned");
    Ok(())
}

async fn namespace(config: Config, command: NamespaceCommand) -> anyhow::Result<()> {
    let app = App::attach(config).await?;
    let user_named = |name: String| {
        let app = app.clone();
        async move {
            app.ports
                .users
                .find_user_by_name(&name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no user '{name}'"))
        }
    };
    match command {
        NamespaceCommand::Grant { glob, user } => {
            let user = user_named(user).await?;
            if app.catalog.grant(&glob, &user).await? {
                eprintln!("granted {glob} to {}", user.name);
            } else {
                eprintln!("{} already has {glob}", user.name);
            }
        }
        NamespaceCommand::Revoke { glob, user } => {
            let user = user_named(user).await?;
            if !app.catalog.revoke(&glob, &user).await? {
                anyhow::bail!("{} has no grant {glob}", user.name);
            }
            eprintln!("revoked {glob} from {}", user.name);
        }
        NamespaceCommand::List => {
            let mut out = std::io::stdout().lock();
            for g in app.ports.mcp.namespace_grants(None).await? {
                writeln!(out, "{}\t{}", g.glob, g.user)?;
            }
        }
    }
    Ok(())
}

async fn rotate_key(config: Config) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.security.master_key.is_some() && config.security.master_key_previous.is_some(),
        "set WHARF_MASTER_KEY to the new key and WHARF_MASTER_KEY_PREVIOUS to the current one \
         (on every instance too, so they open both while this runs), then run this again"
    );
    let app = App::attach(config).await?;
    let previous = app
        .vault_previous
        .clone()
        .ok_or_else(|| anyhow::anyhow!("WHARF_MASTER_KEY_PREVIOUS is not set"))?;
    anyhow::ensure!(
        previous.id() != app.vault.id(),
        "WHARF_MASTER_KEY and WHARF_MASTER_KEY_PREVIOUS are the same key"
    );
    let started = std::time::Instant::now();
    let done = app.deployments.rotate(&previous, &app.vault).await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "re-wrapped {} secrets from key {} to key {} in {:.2} s ({:.0} secrets/s)",
        done.rewrapped,
        previous.id(),
        app.vault.id(),
        secs,
        done.rewrapped as f64 / secs.max(1e-9)
    );
    app.ports
        .audit
        .record(
            wharf_core::model::NewAuditEvent::new(
                wharf_core::audit::VAULT_ROTATE_KEY,
                format!("key:{}", app.vault.id()),
            )
            .detail(
                serde_json::json!({ "from": previous.id(), "rewrapped": done.rewrapped })
                    .to_string(),
            ),
        )
        .await?;
    anyhow::ensure!(
        done.foreign == 0,
        "{} secrets are under a key that is neither of these; they were left as they are",
        done.foreign
    );
    eprintln!("now remove WHARF_MASTER_KEY_PREVIOUS from every instance");
    Ok(())
}
