//! The application state shared by every handler: configuration, the ports,
//! and the in-process caches.

use crate::cache::{FileCache, PageCache};
use crate::client::IpHasher;
use crate::config::Config;
use crate::ratelimit::{InProcessLimiter, RedisLimiter};
use crate::services::accounts::Accounts;
use crate::services::audit::AuditReader;
use crate::services::auth::Authenticator;
use crate::services::deploy::Deployments;
use crate::services::device::Devices;
use crate::services::index::Index;
use crate::services::mcp::Catalog;
use crate::services::projects::Projects;
use crate::services::proxy::{PypiProxy, PypiProxyParts};
use crate::services::reference_names::ReferenceNames;
use crate::services::review::Reviews;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use wharf_blob::{LocalBlobStore, S3BlobStore};
use wharf_core::model::DeviceCaps;
use wharf_core::ports::*;
use wharf_db::Database;
use wharf_jwt::JwtVerifier;

/// The storage ports, as trait objects so services never name a backend.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepo>,
    pub tokens: Arc<dyn TokenRepo>,
    pub projects: Arc<dyn ProjectRepo>,
    pub files: Arc<dyn FileRepo>,
    pub audit: Arc<dyn AuditLog>,
    pub sessions: Arc<dyn SessionRepo>,
    pub devices: Arc<dyn DeviceRepo>,
    pub search: Arc<dyn SearchRepo>,
    pub verification: Arc<dyn VerificationRepo>,
    pub mcp: Arc<dyn McpRepo>,
    pub proxy: Arc<dyn ProxyRepo>,
    pub npm: Arc<dyn NpmRepo>,
    pub deployments: Arc<dyn DeploymentRepo>,
    pub jobs: Arc<dyn JobQueue>,
    pub blobs: Arc<dyn BlobStore>,
}

impl Ports {
    pub fn new(db: Database, blobs: Arc<dyn BlobStore>) -> Self {
        let db = Arc::new(db);
        Self {
            users: db.clone(),
            tokens: db.clone(),
            projects: db.clone(),
            files: db.clone(),
            sessions: db.clone(),
            devices: db.clone(),
            search: db.clone(),
            verification: db.clone(),
            mcp: db.clone(),
            proxy: db.clone(),
            npm: db.clone(),
            deployments: db.clone(),
            jobs: db.clone(),
            audit: db,
            blobs,
        }
    }
}

#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    /// Keys the audit log's IP hashes (from the session secret).
    pub ip_hasher: IpHasher,
    /// Counters for `/metrics` (served on `metrics_listen` only).
    pub metrics: Arc<crate::metrics::Metrics>,
    pub ports: Ports,
    pub limiter: Arc<dyn RateLimiter>,
    pub db: Database,
    pub pages: Arc<PageCache>,
    pub file_index: Arc<FileCache>,
    /// Verification: uploads' scans, the queue's workers, rescans.
    pub verification: Arc<crate::services::verify::Verification>,
    pub uploads: crate::services::upload::Uploads,
    /// Look-ups in the configured upstream registries, cached.
    pub upstream: wharf_upstream::Upstream,
    /// Wraps the data keys of deployment credentials.
    pub vault: Arc<wharf_vault::MasterKey>,
    /// During a rotation, the key being retired: it only opens.
    pub vault_previous: Option<Arc<wharf_vault::MasterKey>>,
    /// The name check for packages referenced but not hosted here.
    pub names: ReferenceNames,
    pub deployments: Deployments,
    pub catalog: Catalog,
    pub projects: Projects,
    pub reviews: Reviews,
    pub index: Index,
    /// Turns a presented token or JWT into a principal.
    pub authenticator: Authenticator,
    /// The PyPI pull-through proxy, when `[proxy.pypi]` names an upstream.
    pub pypi_proxy: Option<Arc<PypiProxy>>,
    /// The npm registry under `/npm/`.
    pub npm: Arc<crate::services::npm::Npm>,
    /// Users, tokens, passwords and web sessions.
    pub accounts: Accounts,
    /// Device logins (RFC 8628).
    pub devices: Devices,
    /// Reads the audit log.
    pub audit: AuditReader,
}

impl crate::ratelimit::Limited for App {
    fn limiter(&self) -> &dyn RateLimiter {
        self.0.limiter.as_ref()
    }

    fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
    }
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error(transparent)]
    Database(#[from] wharf_db::DbError),
    #[error("the database schema is {pending} migration(s) behind this binary: run `wharf migrate` (or start with --migrate)")]
    SchemaBehind { pending: usize },
    #[error("{0}; fix redis_url (WHARF_REDIS_URL)")]
    Redis(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

impl App {
    /// Opens the database (migrating the embedded one), the blob store and
    /// the staging area, clearing any upload a crash left half-written.
    pub async fn open(config: Config, migrate: bool) -> Result<Self, StartError> {
        Self::open_with(config, migrate, true).await
    }

    /// Opens the same state for a tool beside a running server (`wharf
    /// worker`, `wharf admin …`): nothing is cleaned up, since the server's
    /// uploads in progress are not half-written leftovers.
    pub async fn attach(config: Config) -> Result<Self, StartError> {
        Self::open_with(config, false, false).await
    }

    async fn open_with(
        mut config: Config,
        migrate: bool,
        clean_staging: bool,
    ) -> Result<Self, StartError> {
        config.check_production()?;
        let db = open_database(&config, migrate).await?;
        if config.security.session_secret.is_none() {
            config.security.session_secret = Some(dev_secret(&config, "session-secret")?);
        }
        if config.security.master_key.is_none() {
            config.security.master_key = Some(dev_secret(&config, "master-key")?);
        }
        let (blobs, staged): (Arc<dyn BlobStore>, usize) = match &config.s3 {
            Some(s3) if clean_staging => (
                Arc::new(S3BlobStore::new(s3.clone())?),
                clean_dir(&config.tmp_dir())?,
            ),
            Some(s3) => (Arc::new(S3BlobStore::new(s3.clone())?), 0),
            None if clean_staging => {
                let local = LocalBlobStore::open(config.blob_dir())?;
                let staged = local.clean_staging().unwrap_or(0) + clean_dir(&config.tmp_dir())?;
                (Arc::new(local), staged)
            }
            None => (Arc::new(LocalBlobStore::open(config.blob_dir())?), 0),
        };
        if staged > 0 {
            tracing::info!(
                files = staged,
                "removed half-written uploads left by an earlier stop"
            );
        }
        let limiter: Arc<dyn RateLimiter> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisLimiter::new(url, &config.redis_key_prefix).map_err(StartError::Redis)?,
            ),
            None => Arc::new(InProcessLimiter::new()),
        };
        Self::from_parts(config, db.clone(), Ports::new(db, blobs), limiter)
    }

    pub fn from_parts(
        config: Config,
        db: Database,
        ports: Ports,
        limiter: Arc<dyn RateLimiter>,
    ) -> Result<Self, StartError> {
        // Keys are fetched on first use, so the identity provider need not be up now.
        let jwt = match &config.jwt {
            Some(j) => Some(JwtVerifier::new(j.settings.clone()).map_err(|e| {
                crate::config::ConfigError::Jwt {
                    setting: e.setting(),
                    reason: e.to_string(),
                }
            })?),
            None => None,
        };
        let ttl = Duration::from_secs(config.simple_cache_ttl_secs);
        let ip_hasher = IpHasher::new(
            config
                .security
                .session_secret
                .as_ref()
                .map(|s| s.expose_secret().as_bytes())
                .unwrap_or_default(),
        );
        let upstream = wharf_upstream::Upstream::new(config.upstream.clone())
            .map_err(|e| crate::config::ConfigError::Upstream(e.to_string()))?;
        // Tests that build an app from parts without a key get a random one.
        let vault = Arc::new(match &config.security.master_key {
            Some(key) => wharf_vault::MasterKey::from_config(key.expose_secret())
                .map_err(|e| crate::config::ConfigError::MasterKey(e.to_string()))?,
            None => wharf_vault::MasterKey::generate(),
        });
        let vault_previous = match &config.security.master_key_previous {
            Some(key) => Some(Arc::new(
                wharf_vault::MasterKey::from_config(key.expose_secret()).map_err(|e| {
                    crate::config::ConfigError::MasterKey(format!("WHARF_MASTER_KEY_PREVIOUS: {e}"))
                })?,
            )),
            None => None,
        };
        let names = ReferenceNames::new(
            ports.projects.clone(),
            ports.verification.clone(),
            &config.verification.trusted_names,
        );
        let deployments = Deployments {
            catalog: ports.mcp.clone(),
            projects: ports.projects.clone(),
            store: ports.deployments.clone(),
            audit: ports.audit.clone(),
            upstream: upstream.clone(),
            names: names.clone(),
            vault: vault.clone(),
            vault_previous: vault_previous.clone(),
            npm: ports.npm.clone(),
            simple_url: format!("{}/simple/", config.base_url()),
            npm_url: format!("{}/npm/", config.base_url()),
            npm_proxied: config.proxy_npm.is_some(),
        };
        let authenticator = Authenticator {
            tokens: ports.tokens.clone(),
            users: ports.users.clone(),
            audit: ports.audit.clone(),
            jwt: jwt.zip(config.jwt.clone()),
        };
        let pages = Arc::new(PageCache::new(ttl));
        let file_index = Arc::new(FileCache::new(ttl.max(Duration::from_secs(1))));
        let metrics = Arc::<crate::metrics::Metrics>::default();
        let verification = Arc::new(crate::services::verify::Verification::new(
            crate::services::verify::VerificationParts {
                settings: config.verification.clone(),
                tmp_dir: config.tmp_dir(),
                jobs: ports.jobs.clone(),
                repo: ports.verification.clone(),
                blobs: ports.blobs.clone(),
                metrics: metrics.clone(),
                pages: pages.clone(),
                file_index: file_index.clone(),
            },
        ));
        // With no scan workers here, fetched files still need one slot.
        let proxy_scan_slots = if config.verification.workers > 0 {
            verification.slots()
        } else {
            Arc::new(tokio::sync::Semaphore::new(1))
        };
        let pypi_proxy = match &config.proxy_pypi {
            Some(settings) => Some(
                PypiProxy::new(PypiProxyParts {
                    core: crate::services::proxy::CoreParts {
                        settings: settings.clone(),
                        repo: ports.proxy.clone(),
                        files: ports.files.clone(),
                        verification: ports.verification.clone(),
                        blobs: ports.blobs.clone(),
                        audit: ports.audit.clone(),
                        pages: pages.clone(),
                        metrics: metrics.clone(),
                        scan_slots: proxy_scan_slots.clone(),
                        tmp_dir: config.tmp_dir(),
                    },
                    projects: ports.projects.clone(),
                    file_index: file_index.clone(),
                })
                .map_err(|e| crate::config::ConfigError::Upstream(e.to_string()))?,
            ),
            None => None,
        };
        let npm_proxy = match &config.proxy_npm {
            Some(settings) => Some(
                crate::services::npm::NpmProxy::new(crate::services::npm::NpmProxyParts {
                    core: crate::services::proxy::CoreParts {
                        settings: settings.clone(),
                        repo: ports.proxy.clone(),
                        files: ports.files.clone(),
                        verification: ports.verification.clone(),
                        blobs: ports.blobs.clone(),
                        audit: ports.audit.clone(),
                        pages: pages.clone(),
                        metrics: metrics.clone(),
                        scan_slots: proxy_scan_slots,
                        tmp_dir: config.tmp_dir(),
                    },
                    projects: ports.projects.clone(),
                })
                .map_err(|e| crate::config::ConfigError::Upstream(e.to_string()))?,
            ),
            None => None,
        };
        let uploads = crate::services::upload::Uploads {
            projects: ports.projects.clone(),
            files: ports.files.clone(),
            blobs: ports.blobs.clone(),
            verification: ports.verification.clone(),
            audit: ports.audit.clone(),
            proxy: pypi_proxy.clone(),
        };
        let index = Index::new(
            ports.projects.clone(),
            ports.files.clone(),
            ports.blobs.clone(),
            pages.clone(),
            file_index.clone(),
            config.verification.show_pending,
            pypi_proxy.clone(),
        );
        let reviews = Reviews::new(
            ports.verification.clone(),
            ports.files.clone(),
            ports.projects.clone(),
            ports.audit.clone(),
            pages.clone(),
            file_index.clone(),
        );
        let projects = Projects::new(
            ports.projects.clone(),
            ports.search.clone(),
            pages.clone(),
            config.verification.show_pending,
            pypi_proxy.clone(),
        );
        let catalog = Catalog {
            repo: ports.mcp.clone(),
            users: ports.users.clone(),
            projects: ports.projects.clone(),
            npm: ports.npm.clone(),
            blobs: ports.blobs.clone(),
            upstream: upstream.clone(),
            names: names.clone(),
            url_policy: if config.security.production {
                wharf_core::mcp::UrlPolicy::Production
            } else {
                wharf_core::mcp::UrlPolicy::Dev
            },
            npm_url: config.upstream.npm_url.clone(),
            pypi_url: config.upstream.pypi_url.clone(),
            public_url: config.security.public_url.clone(),
            tmp_dir: config.tmp_dir(),
            mirrors: mirrors(&config.mcp_sync)?,
            sync_holder: format!("sync-{}-{:08x}", std::process::id(), rand::random::<u32>()),
            sync_running: tokio::sync::Mutex::new(()),
            sync_lease: config.mcp_sync.lease,
            capture: capture_client(&config)?,
            capture_deadline: config.mcp_sync.capture.timeout,
            sandbox: sandbox(&config),
            jobs: ports.jobs.clone(),
        };
        let accounts = Accounts::new(
            ports.users.clone(),
            ports.tokens.clone(),
            ports.sessions.clone(),
            ports.audit.clone(),
            config.security.session_ttl,
        );
        let devices = Devices::new(
            ports.devices.clone(),
            ip_hasher.clone(),
            DeviceCaps {
                total: config.security.device_code_cap,
                per_requester: config.security.device_code_cap_per_client,
            },
        );
        let audit = AuditReader::new(ports.users.clone(), ports.audit.clone());
        let npm = Arc::new(crate::services::npm::Npm::new(
            crate::services::npm::NpmParts {
                repo: ports.npm.clone(),
                users: ports.users.clone(),
                verification_repo: ports.verification.clone(),
                verification: verification.clone(),
                mcp: ports.mcp.clone(),
                blobs: ports.blobs.clone(),
                audit: ports.audit.clone(),
                pages: pages.clone(),
                registry_url: format!("{}/npm", config.base_url()),
                tmp_dir: config.tmp_dir(),
                max_tarball_bytes: config.max_upload_bytes,
                proxy: npm_proxy,
            },
        ));
        Ok(Self(Arc::new(AppInner {
            npm,
            metrics,
            ip_hasher,
            limiter,
            pages,
            file_index,
            verification,
            uploads,
            upstream,
            vault,
            vault_previous,
            names,
            deployments,
            catalog,
            projects,
            reviews,
            index,
            authenticator,
            pypi_proxy,
            accounts,
            devices,
            audit,
            config,
            ports,
            db,
        })))
    }
}

/// Opens the configured database. The embedded SQLite database is always
/// migrated; a shared PostgreSQL one only when `migrate` is set (`wharf
/// migrate`, or `serve --migrate`), since several instances share it and a
/// rollout migrates once, before the new instances start.
pub async fn open_database(config: &Config, migrate: bool) -> Result<Database, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let db = Database::connect(&config.database_url()).await?;
    if migrate || config.is_embedded_database() {
        db.migrate().await?;
    } else {
        let pending = db.pending_migrations().await?;
        if pending > 0 {
            return Err(StartError::SchemaBehind { pending });
        }
    }
    Ok(db)
}

/// Dev mode without `WHARF_SESSION_SECRET`: a random secret kept in the data
/// directory (mode 0600), so IP hashes stay comparable across restarts.
/// Production mode never gets here: it refuses to start without a secret.
/// A dev-mode secret kept in `data_dir/NAME` (0600), made on first start.
fn dev_secret(config: &Config, name: &str) -> Result<SecretString, StartError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = config.data_dir.join(name);
    let fail = |e: std::io::Error| StartError::DataDir {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= crate::config::MIN_SECRET_BYTES => {
            return Ok(SecretString::from(text.trim().to_owned()))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    let secret = hex::encode(rand::random::<[u8; 32]>());
    // Written beside and renamed, so a second process starting at the same
    // moment never reads a half-written secret.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    file.write_all(secret.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    // Whoever renames first wins; everyone then reads the winner's secret.
    match std::fs::hard_link(&tmp, &path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(fail(e)),
    }
    let _ = std::fs::remove_file(&tmp);
    let text = std::fs::read_to_string(&path).map_err(fail)?;
    Ok(SecretString::from(text.trim().to_owned()))
}

/// Creates `dir` if needed and removes everything in it; returns how many
/// entries were removed.
fn clean_dir(dir: &std::path::Path) -> Result<usize, StartError> {
    let fail = |e: std::io::Error| StartError::DataDir {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(fail)?;
        } else {
            std::fs::remove_file(&path).map_err(fail)?;
        }
        removed += 1;
    }
    Ok(removed)
}

/// A client per `[[mcp.upstreams]]` entry; a bad URL stops the start.
fn mirrors(
    sync: &crate::config::mcp::McpSync,
) -> Result<Vec<crate::services::mcp::sync::Mirror>, StartError> {
    sync.upstreams
        .iter()
        .map(|upstream| {
            let registry = wharf_upstream::mcp_registry::McpRegistry::new(
                "mcp.upstreams.url",
                &upstream.url,
                sync.timeout,
                sync.max_page_bytes,
            )
            .map_err(|e| crate::config::ConfigError::Upstream(e.to_string()))?;
            Ok(crate::services::mcp::sync::Mirror {
                upstream: upstream.clone(),
                registry,
            })
        })
        .collect()
}

/// The client that captures remote servers' tools, when capture is on.
/// Loopback servers are reachable only outside production (for tests and
/// local development); private addresses never are.
fn capture_client(
    config: &Config,
) -> Result<Option<wharf_upstream::mcp_client::McpClient>, StartError> {
    if !config.mcp_sync.capture.remote {
        return Ok(None);
    }
    let settings = wharf_upstream::mcp_client::CaptureSettings {
        deadline: config.mcp_sync.capture.timeout,
        allow_loopback: !config.security.production,
        ..Default::default()
    };
    wharf_upstream::mcp_client::McpClient::new(settings)
        .map(Some)
        .map_err(|e| crate::config::ConfigError::Upstream(e.to_string()).into())
}

/// The sandbox for package servers' captures, when asked for and working;
/// otherwise the log says why, and package servers are not captured.
fn sandbox(config: &Config) -> Option<Arc<crate::services::mcp::sandbox::Sandbox>> {
    let capture = &config.mcp_sync.capture;
    if !capture.sandbox {
        return None;
    }
    let index_url =
        capture
            .index_url
            .clone()
            .unwrap_or_else(|| match &config.security.public_url {
                Some(url) => format!("{}/simple/", url.trim_end_matches('/')),
                None => {
                    let mut addr = config.listen;
                    if addr.ip().is_unspecified() {
                        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                    }
                    format!("http://{addr}/simple/")
                }
            });
    let limits = crate::services::mcp::sandbox::SandboxLimits {
        memory_bytes: capture.memory_bytes,
        cpu_seconds: capture.timeout.as_secs().max(1),
        install: std::time::Duration::from_secs(300),
    };
    match crate::services::mcp::sandbox::Sandbox::detect(
        index_url,
        config.tmp_dir().join("capture"),
        limits,
    ) {
        Ok(sandbox) => Some(Arc::new(sandbox)),
        Err(why) => {
            tracing::error!(
                "[mcp.capture] sandbox = true, but {why}; package servers are not captured \
                 (they never run unsandboxed)"
            );
            None
        }
    }
}
