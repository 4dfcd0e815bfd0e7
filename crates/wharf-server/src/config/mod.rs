//! Wharf's configuration: one typed struct, read from a TOML file, then
//! `WHARF_*` environment variables, then command-line flags, and validated
//! once at start-up with errors that name the field and the fix.

mod connections;
pub mod mcp;
pub mod proxy;
mod security;
mod upstream;
mod verification;

pub use connections::Connections;
pub use security::{secret_weakness, IpNet, Security, MIN_SECRET_BYTES};
pub use verification::Verification;

use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use wharf_blob::S3Settings;
use wharf_core::ratelimit::RatePolicy;

/// Everything `wharf serve` and the admin commands need to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Directory for the SQLite database, blobs and temporary files. Default `./wharf-data`.
    pub data_dir: PathBuf,
    /// Database URL: `postgres://…` to scale out; default `sqlite://<data_dir>/wharf.db`.
    pub database_url: Option<String>,
    /// Largest file accepted by an upload, in bytes. Default 100 MiB.
    pub max_upload_bytes: u64,
    /// Largest total size of one project's files, in bytes. Default 10 GiB.
    pub max_project_bytes: u64,
    /// How long a rendered simple page may be served from memory before it is
    /// rebuilt, in seconds. Changes made through this process invalidate at
    /// once; the TTL bounds staleness for changes made elsewhere. Default 5.
    pub simple_cache_ttl_secs: u64,
    /// Redis URL for rate-limit buckets shared by every instance; without
    /// it, buckets live in this process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so deployments sharing a Redis keep apart. Default `wharf`.
    pub redis_key_prefix: String,
    /// Per endpoint class.
    pub rate_limits: RateLimits,
    /// An S3-compatible bucket for blobs; without it, blobs live under `data_dir`.
    pub s3: Option<S3Settings>,
    /// Run mode, proxies, CORS, sessions.
    pub security: Security,
    /// Header-read and idle timeout, and connection caps per client and in total.
    pub connections: Connections,
    /// Tokens from an external identity provider; off unless `[jwt]` is set.
    pub jwt: Option<JwtConfig>,
    /// A second address serving only `GET /metrics` (Prometheus); off by
    /// default. Keep it on an internal network: it is never on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    pub verification: Verification,
    /// Upstream npm and PyPI registries for MCP package checks; none by default.
    pub upstream: wharf_upstream::UpstreamSettings,
    /// `[proxy.pypi]`: the pull-through proxy, off unless an upstream is set.
    pub proxy_pypi: Option<proxy::ProxySettings>,
    /// `[proxy.npm]`: the npm pull-through proxy, off unless an upstream is set.
    pub proxy_npm: Option<proxy::ProxySettings>,
    /// `[mcp] public_read_cors`: send `Access-Control-Allow-Origin: *` (without
    /// credentials) on the registry API's reads, so browser-based MCP clients can
    /// read the catalog. Off by default.
    pub mcp_public_read_cors: bool,
    /// `[mcp]` sync: upstream registries mirrored into the catalog.
    pub mcp_sync: mcp::McpSync,
}

/// `[jwt]`: accept bearer JWTs from an identity provider.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub settings: wharf_jwt::JwtSettings,
    /// The claim holding the Wharf user name. Default `sub`.
    pub user_claim: String,
    /// Create a user on their first valid token. Default false: an
    /// administrator creates users first.
    pub create_users: bool,
    /// What a JWT may do. Default `read,publish`; `admin` still needs an admin user.
    pub scopes: wharf_core::Scopes,
}

/// Rate-limit policies per endpoint class (security.md "Rate limits").
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Every request, per client IP. Default `600/min`: 10/s sustained, with
    /// a burst of 600 so that one `pip install` of many packages fits.
    pub global: RatePolicy,
    /// Web login attempts, per IP and per account name. Default `5/min`.
    pub login: RatePolicy,
    /// Device-code requests, per IP. Default `5/min`.
    pub device: RatePolicy,
    /// Uploads, per token. Default `10/min`.
    pub upload: RatePolicy,
    /// Searches, per IP. Default `60/min`.
    pub search: RatePolicy,
    /// New API tokens, per user (web form). Default `20/h`: a token is for
    /// keeping, and per-token limits mean nothing if tokens are free.
    pub token_create: RatePolicy,
    /// User codes entered at `/device`, per IP and per user. Default `10/min`:
    /// a code is 8 characters people type, but never worth guessing.
    pub device_verify: RatePolicy,
}

impl Default for RateLimits {
    fn default() -> Self {
        let policy = |name, raw| RatePolicy::parse(name, raw).expect("valid default");
        Self {
            global: policy("global", "600/min"),
            login: policy("login", "5/min"),
            device: policy("device", "5/min"),
            upload: policy("upload", "10/min"),
            search: policy("search", "60/min"),
            token_create: policy("token_create", "20/h"),
            device_verify: policy("device_verify", "10/min"),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./wharf-data"),
            database_url: None,
            max_upload_bytes: 100 * MIB,
            max_project_bytes: 10 * 1024 * MIB,
            simple_cache_ttl_secs: 5,
            redis_url: None,
            redis_key_prefix: "wharf".to_owned(),
            rate_limits: RateLimits::default(),
            s3: None,
            security: Security::default(),
            connections: Connections::default(),
            jwt: None,
            metrics_listen: None,
            verification: Verification::default(),
            upstream: wharf_upstream::UpstreamSettings::default(),
            proxy_pypi: None,
            proxy_npm: None,
            mcp_public_read_cors: false,
            mcp_sync: mcp::McpSync::default(),
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The file's shape: every field optional, unknown fields refused so a typo
/// is an error rather than a silently ignored setting.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    max_upload_size: Option<SizeValue>,
    max_project_size: Option<SizeValue>,
    simple_cache_ttl_secs: Option<u64>,
    redis_url: Option<String>,
    redis_key_prefix: Option<String>,
    rate_limits: Option<FileRateLimits>,
    storage: Option<FileStorage>,
    production: Option<bool>,
    behind_tls_proxy: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    cors_origins: Option<Vec<String>>,
    session_ttl: Option<String>,
    device_code_cap: Option<i64>,
    device_code_cap_per_client: Option<i64>,
    public_url: Option<String>,
    jwt: Option<FileJwt>,
    metrics_listen: Option<String>,
    verification: Option<verification::FileVerification>,
    upstream: Option<upstream::FileUpstream>,
    proxy: Option<proxy::FileProxy>,
    connections: Option<connections::FileConnections>,
    mcp: Option<mcp::FileMcp>,
}

/// `[jwt]`. The HS256 secret is deliberately not here: environment only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJwt {
    issuer: Option<String>,
    audience: Option<String>,
    jwks_url: Option<String>,
    user_claim: Option<String>,
    create_users: Option<bool>,
    scopes: Option<String>,
    leeway: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStorage {
    s3: Option<FileS3>,
}

/// `[storage.s3]`. The access keys are deliberately not here: they come
/// from the environment only, so a config file never holds a credential.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileS3 {
    bucket: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    allow_http: Option<bool>,
    local_test_endpoint: Option<bool>,
    presign_ttl: Option<String>,
    upload_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRateLimits {
    global: Option<String>,
    login: Option<String>,
    device: Option<String>,
    upload: Option<String>,
    search: Option<String>,
    token_create: Option<String>,
    device_verify: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// Settings given on the command line; they win over the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// `--production`.
    pub production: bool,
}

/// A configuration problem, naming the field and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("config file {path} is not valid: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("invalid setting {setting}: {reason}")]
    Jwt {
        setting: &'static str,
        reason: String,
    },
    #[error("production mode refuses to start:\n  - {0}")]
    Production(String),
    #[error("invalid upstream setting: {0}")]
    Upstream(String),
    #[error("the master key (WHARF_MASTER_KEY) cannot be used: {0}")]
    MasterKey(String),
    #[error("invalid setting {field} = '{value}': {fix}")]
    Invalid {
        field: &'static str,
        value: String,
        fix: &'static str,
    },
}

impl Config {
    /// Builds the configuration from an optional file, an environment lookup
    /// (so tests need not touch the process environment) and CLI overrides.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    reason: e.message().to_owned(),
                })?
            }
            None => FileConfig::default(),
        };
        let mut config = Config::default();
        let listen = overrides
            .listen
            .clone()
            .or_else(|| env("WHARF_LISTEN"))
            .or(from_file.listen);
        if let Some(listen) = listen {
            config.listen = listen.parse().map_err(|_| ConfigError::Invalid {
                field: "listen (WHARF_LISTEN, --listen)",
                value: listen.clone(),
                fix: "give an IP address and port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080",
            })?;
        }
        if let Some(dir) = overrides
            .data_dir
            .clone()
            .or_else(|| env("WHARF_DATA_DIR").map(PathBuf::from))
            .or(from_file.data_dir)
        {
            if dir.as_os_str().is_empty() {
                return Err(ConfigError::Invalid {
                    field: "data_dir (WHARF_DATA_DIR, --data-dir)",
                    value: String::new(),
                    fix: "give a directory path, e.g. ./wharf-data",
                });
            }
            config.data_dir = dir;
        }
        config.database_url = env("WHARF_DATABASE_URL").or(from_file.database_url);
        if let Some(url) = &config.database_url {
            let known = ["sqlite:", "postgres://", "postgresql://"];
            if !known.iter().any(|scheme| url.starts_with(scheme)) {
                return Err(ConfigError::Invalid {
                    field: "database_url (WHARF_DATABASE_URL)",
                    value: url.split('@').next_back().unwrap_or_default().to_owned(),
                    fix: "use postgres://USER:PASSWORD@HOST/DB or sqlite://PATH, or leave it unset for the embedded database",
                });
            }
        }
        let upload = env("WHARF_MAX_UPLOAD_SIZE")
            .map(SizeValue::Text)
            .or(from_file.max_upload_size);
        if let Some(size) = upload {
            config.max_upload_bytes = parse_size(size, "max_upload_size (WHARF_MAX_UPLOAD_SIZE)")?;
        }
        if let Some(size) = from_file.max_project_size {
            config.max_project_bytes = parse_size(size, "max_project_size")?;
        }
        if let Some(ttl) = from_file.simple_cache_ttl_secs {
            config.simple_cache_ttl_secs = ttl;
        }
        config.redis_url = env("WHARF_REDIS_URL").or(from_file.redis_url);
        if let Some(url) = &config.redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid {
                    field: "redis_url (WHARF_REDIS_URL)",
                    value: url.split('@').next_back().unwrap_or_default().to_owned(),
                    fix: "use redis://HOST:PORT (or rediss:// for TLS), or leave it unset for in-process limits",
                });
            }
        }
        config.s3 = load_s3(
            from_file.storage.and_then(|s| s.s3).unwrap_or_default(),
            &env,
        )?;
        if let Some(prefix) = env("WHARF_REDIS_KEY_PREFIX").or(from_file.redis_key_prefix) {
            if prefix.is_empty()
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(ConfigError::Invalid {
                    field: "redis_key_prefix (WHARF_REDIS_KEY_PREFIX)",
                    value: prefix,
                    fix: "use letters, digits, '-', '_' or '.', e.g. wharf-prod",
                });
            }
            config.redis_key_prefix = prefix;
        }
        config.verification = verification::load(from_file.verification.take(), &env)?;
        config.upstream = upstream::load(from_file.upstream.take(), &env)?;
        config.proxy_pypi = proxy::load(from_file.proxy.as_mut(), &env)?;
        config.proxy_npm = proxy::load_npm(from_file.proxy.as_mut(), &env)?;
        config.connections = connections::load(from_file.connections.take(), &env)?;
        let mcp = from_file.mcp.take().unwrap_or_default();
        config.mcp_sync = mcp::load(&mcp)?;
        config.mcp_public_read_cors = match env("WHARF_MCP_PUBLIC_READ_CORS") {
            Some(raw) => match raw.as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(ConfigError::Invalid {
                        field: "mcp.public_read_cors (WHARF_MCP_PUBLIC_READ_CORS)",
                        value: raw,
                        fix: "use true or false",
                    })
                }
            },
            None => mcp.public_read_cors.unwrap_or(false),
        };
        let limits = from_file.rate_limits.unwrap_or_default();
        let r = &mut config.rate_limits;
        for (policy, name, from_file, field, var) in [
            (
                &mut r.global,
                "global",
                limits.global,
                "rate_limits.global (WHARF_RATE_LIMIT_GLOBAL)",
                "WHARF_RATE_LIMIT_GLOBAL",
            ),
            (
                &mut r.login,
                "login",
                limits.login,
                "rate_limits.login (WHARF_RATE_LIMIT_LOGIN)",
                "WHARF_RATE_LIMIT_LOGIN",
            ),
            (
                &mut r.device,
                "device",
                limits.device,
                "rate_limits.device (WHARF_RATE_LIMIT_DEVICE)",
                "WHARF_RATE_LIMIT_DEVICE",
            ),
            (
                &mut r.upload,
                "upload",
                limits.upload,
                "rate_limits.upload (WHARF_RATE_LIMIT_UPLOAD)",
                "WHARF_RATE_LIMIT_UPLOAD",
            ),
            (
                &mut r.search,
                "search",
                limits.search,
                "rate_limits.search (WHARF_RATE_LIMIT_SEARCH)",
                "WHARF_RATE_LIMIT_SEARCH",
            ),
            (
                &mut r.token_create,
                "token_create",
                limits.token_create,
                "rate_limits.token_create (WHARF_RATE_LIMIT_TOKEN_CREATE)",
                "WHARF_RATE_LIMIT_TOKEN_CREATE",
            ),
            (
                &mut r.device_verify,
                "device_verify",
                limits.device_verify,
                "rate_limits.device_verify (WHARF_RATE_LIMIT_DEVICE_VERIFY)",
                "WHARF_RATE_LIMIT_DEVICE_VERIFY",
            ),
        ] {
            if let Some(raw) = env(var).or(from_file) {
                *policy = RatePolicy::parse(name, &raw).map_err(|_| ConfigError::Invalid {
                    field,
                    value: raw.clone(),
                    fix: "give requests per window: N/s, N/min or N/h, e.g. 10/min",
                })?;
            }
        }
        let sec = &mut config.security;
        sec.production = overrides.production
            || match env("WHARF_ENV") {
                Some(mode) => match mode.as_str() {
                    "production" => true,
                    "development" | "dev" => false,
                    _ => {
                        return Err(ConfigError::Invalid {
                            field: "WHARF_ENV",
                            value: mode,
                            fix: "use production or development",
                        })
                    }
                },
                None => from_file.production.unwrap_or(false),
            };
        sec.behind_tls_proxy = env("WHARF_BEHIND_TLS_PROXY")
            .map(|v| matches!(v.as_str(), "1" | "true" | "yes"))
            .or(from_file.behind_tls_proxy)
            .unwrap_or(false);
        let list = |var: &str, from_file: Option<Vec<String>>| {
            env(var)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .or(from_file)
                .unwrap_or_default()
        };
        sec.trusted_proxies = security::parse_nets(
            "trusted_proxies (WHARF_TRUSTED_PROXIES)",
            &list("WHARF_TRUSTED_PROXIES", from_file.trusted_proxies),
        )?;
        sec.cors_origins = security::parse_origins(
            "cors_origins (WHARF_CORS_ORIGINS)",
            &list("WHARF_CORS_ORIGINS", from_file.cors_origins),
        )?;
        // The secret comes from the environment only, like the S3 keys.
        sec.session_secret = env("WHARF_SESSION_SECRET").map(SecretString::from);
        sec.master_key = env("WHARF_MASTER_KEY").map(SecretString::from);
        sec.master_key_previous = env("WHARF_MASTER_KEY_PREVIOUS").map(SecretString::from);
        if let Some(raw) = from_file.session_ttl {
            sec.session_ttl = humantime::parse_duration(&raw)
                .ok()
                .filter(|d| (60..=30 * 24 * 3600).contains(&d.as_secs()))
                .ok_or_else(|| ConfigError::Invalid {
                    field: "session_ttl",
                    value: raw.clone(),
                    fix: "give a duration between 1m and 30d, e.g. 12h",
                })?;
        }
        if let Some(cap) = from_file.device_code_cap {
            if !(1..=1_000_000).contains(&cap) {
                return Err(ConfigError::Invalid {
                    field: "device_code_cap",
                    value: cap.to_string(),
                    fix: "give a number between 1 and 1000000; the default is 10000",
                });
            }
            sec.device_code_cap = cap;
        }
        if let Some(cap) = from_file.device_code_cap_per_client {
            if !(1..=sec.device_code_cap).contains(&cap) {
                return Err(ConfigError::Invalid {
                    field: "device_code_cap_per_client",
                    value: cap.to_string(),
                    fix: "give a number between 1 and device_code_cap; the default is 20",
                });
            }
            sec.device_code_cap_per_client = cap;
        }
        if let Some(raw) = env("WHARF_METRICS_LISTEN").or(from_file.metrics_listen) {
            let addr: SocketAddr = raw.parse().map_err(|_| ConfigError::Invalid {
                field: "metrics_listen (WHARF_METRICS_LISTEN)",
                value: raw.clone(),
                fix: "give an IP address and port, e.g. 127.0.0.1:9090",
            })?;
            if addr == config.listen {
                return Err(ConfigError::Invalid {
                    field: "metrics_listen (WHARF_METRICS_LISTEN)",
                    value: raw,
                    fix: "use an address other than listen: metrics are never served publicly",
                });
            }
            config.metrics_listen = Some(addr);
        }
        if let Some(url) = env("WHARF_PUBLIC_URL").or(from_file.public_url) {
            let url = url.trim_end_matches('/').to_owned();
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.split_once("://").is_some_and(|(_, rest)| {
                    !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '@'])
                });
            if !ok {
                return Err(ConfigError::Invalid {
                    field: "public_url (WHARF_PUBLIC_URL)",
                    value: url,
                    fix: "give the scheme and host users reach Wharf at, e.g. https://wharf.example.com",
                });
            }
            config.security.public_url = Some(url);
        }
        config.jwt = load_jwt(from_file.jwt.unwrap_or_default(), &env, &config.security)?;
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("wharf.db").display()
            )
        })
    }

    /// `scheme://host[:port]` where clients reach this registry, for URLs
    /// handed to other programs without a request to read a `Host` from (a
    /// launch plan's index): `public_url`, or else the listen address, an
    /// unspecified one read as loopback.
    pub fn base_url(&self) -> String {
        if let Some(url) = &self.security.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let mut addr = self.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let scheme = if self.security.behind_tls_proxy {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{addr}")
    }

    /// Whether the database is the embedded SQLite one (migrated on every start).
    pub fn is_embedded_database(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// Where uploads are staged while they stream in; emptied at start-up.
    pub fn tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }
}

/// Refuses to start in production mode with any of security.md's weak
/// settings; the error lists every problem with its fix.
impl Config {
    pub fn check_production(&self) -> Result<(), ConfigError> {
        if !self.security.production {
            return Ok(());
        }
        let jwks_url = self
            .jwt
            .as_ref()
            .and_then(|j| j.settings.jwks_url.as_deref());
        let problems = security::production_problems(&self.security, self.listen, jwks_url);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Production(problems.join("\n  - ")))
        }
    }
}

/// `[jwt]` and `WHARF_JWT_*` (which win). Present only when an issuer is
/// set. An `http://` JWKS URL is allowed in dev mode only; production mode
/// refuses it at start-up (see `check_production`).
fn load_jwt(
    file: FileJwt,
    env: &impl Fn(&str) -> Option<String>,
    security: &Security,
) -> Result<Option<JwtConfig>, ConfigError> {
    let issuer = env("WHARF_JWT_ISSUER").or(file.issuer);
    let audience = env("WHARF_JWT_AUDIENCE").or(file.audience);
    let jwks_url = env("WHARF_JWT_JWKS_URL").or(file.jwks_url);
    let secret = env("WHARF_JWT_HS256_SECRET").map(SecretString::from);
    let Some(issuer) = issuer else {
        if audience.is_some() || jwks_url.is_some() || secret.is_some() {
            return Err(ConfigError::Jwt {
                setting: "jwt.issuer",
                reason: "JWT settings are given but no issuer: set jwt.issuer (WHARF_JWT_ISSUER) to the identity provider's `iss`".into(),
            });
        }
        return Ok(None);
    };
    let mut settings = wharf_jwt::JwtSettings::new(issuer, audience.unwrap_or_default());
    settings.jwks_url = jwks_url;
    settings.allow_insecure_jwks = !security.production;
    if let (Some(jwt), Some(session)) = (&secret, &security.session_secret) {
        use secrecy::ExposeSecret;
        if jwt.expose_secret() == session.expose_secret() {
            return Err(ConfigError::Jwt {
                setting: "WHARF_JWT_HS256_SECRET",
                reason: "it must not be the same secret as WHARF_SESSION_SECRET; give each its own"
                    .into(),
            });
        }
    }
    settings.hs256_secret = secret;
    if let Some(raw) = file.leeway {
        settings.leeway = humantime::parse_duration(&raw).map_err(|_| ConfigError::Jwt {
            setting: "jwt.leeway",
            reason: format!("'{raw}' is not a duration; give e.g. 60s"),
        })?;
    }
    settings.validate().map_err(|e| ConfigError::Jwt {
        setting: e.setting(),
        reason: e.to_string(),
    })?;
    let scopes_raw = file.scopes.unwrap_or_else(|| "read,publish".to_owned());
    let scopes = wharf_core::Scopes::parse(&scopes_raw).map_err(|e| ConfigError::Jwt {
        setting: "jwt.scopes",
        reason: e.message,
    })?;
    Ok(Some(JwtConfig {
        settings,
        user_claim: file.user_claim.unwrap_or_else(|| "sub".to_owned()),
        create_users: file.create_users.unwrap_or(false),
        scopes,
    }))
}

/// S3 settings from `[storage.s3]` and `WHARF_S3_*` (which win). Present only
/// when a bucket is named; then the keys must be in the environment.
fn load_s3(
    file: FileS3,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<S3Settings>, ConfigError> {
    let Some(bucket) = env("WHARF_S3_BUCKET").or(file.bucket) else {
        return Ok(None);
    };
    let missing = |field: &'static str| {
        ConfigError::Invalid {
        field,
        value: String::new(),
        fix: "set WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY in the environment (never in the config file)",
    }
    };
    let key_id = env("WHARF_S3_ACCESS_KEY_ID").ok_or_else(|| missing("WHARF_S3_ACCESS_KEY_ID"))?;
    let secret =
        env("WHARF_S3_SECRET_ACCESS_KEY").ok_or_else(|| missing("WHARF_S3_SECRET_ACCESS_KEY"))?;
    let region = env("WHARF_S3_REGION")
        .or(file.region)
        .unwrap_or_else(|| "us-east-1".to_owned());
    let mut s3 = S3Settings::new(bucket, region, key_id, secret.into());
    s3.endpoint = env("WHARF_S3_ENDPOINT").or(file.endpoint);
    let flag = |name: &str, from_file: Option<bool>| {
        env(name)
            .map(|v| matches!(v.as_str(), "1" | "true" | "yes"))
            .or(from_file)
            .unwrap_or(false)
    };
    s3.allow_http = flag("WHARF_S3_ALLOW_HTTP", file.allow_http);
    s3.local_test_endpoint = flag("WHARF_S3_LOCAL_TEST_ENDPOINT", file.local_test_endpoint);
    let duration =
        |field: &'static str, raw: Option<String>, default: std::time::Duration| match raw {
            None => Ok(default),
            Some(raw) => humantime::parse_duration(&raw).map_err(|_| ConfigError::Invalid {
                field,
                value: raw,
                fix: "give a duration such as 15m or 10m",
            }),
        };
    s3.presign_ttl = duration("storage.s3.presign_ttl", file.presign_ttl, s3.presign_ttl)?;
    s3.upload_timeout = duration(
        "storage.s3.upload_timeout",
        file.upload_timeout,
        s3.upload_timeout,
    )?;
    if s3
        .endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"))
        && !s3.allow_http
    {
        return Err(ConfigError::Invalid {
            field: "storage.s3.endpoint (WHARF_S3_ENDPOINT)",
            value: s3.endpoint.clone().unwrap_or_default(),
            fix: "use an https:// endpoint, or set allow_http = true for a trusted local endpoint",
        });
    }
    Ok(Some(s3))
}

fn parse_size(value: SizeValue, field: &'static str) -> Result<u64, ConfigError> {
    let invalid = |v: String| ConfigError::Invalid {
        field,
        value: v,
        fix: "give a size between 1 KiB and 10 GiB, as bytes or with a unit: 500KiB, 100MiB, 2GiB",
    };
    let bytes = match value {
        SizeValue::Bytes(n) => n,
        SizeValue::Text(text) => {
            let t = text.trim();
            let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            let (digits, unit) = t.split_at(split);
            let n: u64 = digits.parse().map_err(|_| invalid(text.clone()))?;
            let scale = match unit.trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "kib" | "kb" | "k" => 1024,
                "mib" | "mb" | "m" => MIB,
                "gib" | "gb" | "g" => 1024 * MIB,
                _ => return Err(invalid(text)),
            };
            n.checked_mul(scale).ok_or_else(|| invalid(text.clone()))?
        }
    };
    if !(1024..=10 * 1024 * MIB).contains(&bytes) {
        return Err(invalid(bytes.to_string()));
    }
    Ok(bytes)
}

/// A fake environment for the config tests: the listed variables only.
#[cfg(test)]
fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = Config::load(None, no_env, &Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./wharf-data"));
        assert_eq!(c.max_upload_bytes, 100 * MIB);
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wharf.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\ndata_dir = \"/from-file\"\nmax_upload_size = \"2MiB\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "WHARF_LISTEN").then(|| "127.0.0.1:2".to_owned());
        let c = Config::load(Some(&file), env, &Overrides::default()).unwrap();
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.data_dir, PathBuf::from("/from-file"));
        assert_eq!(c.max_upload_bytes, 2 * MIB);
        let flags = Overrides {
            listen: Some("127.0.0.1:3".into()),
            data_dir: Some("/flag".into()),
            production: false,
        };
        let c = Config::load(Some(&file), env, &flags).unwrap();
        assert_eq!((c.listen.port(), c.data_dir), (3, PathBuf::from("/flag")));
    }

    #[test]
    fn rate_limits_and_redis_are_configurable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wharf.toml");
        std::fs::write(
            &file,
            "redis_url = \"redis://127.0.0.1:6379\"\n[rate_limits]\nupload = \"3/h\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), no_env, &Overrides::default()).unwrap();
        assert_eq!(
            c.rate_limits.upload,
            RatePolicy::parse("upload", "3/h").unwrap()
        );
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        let env = |k: &str| (k == "WHARF_RATE_LIMIT_UPLOAD").then(|| "lots".to_owned());
        let msg = Config::load(None, env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("rate_limits.upload") && msg.contains("10/min"),
            "{msg}"
        );
        let env = |k: &str| (k == "WHARF_REDIS_URL").then(|| "http://x".to_owned());
        let msg = Config::load(None, env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("redis_url") && msg.contains("redis://"),
            "{msg}"
        );
    }

    #[test]
    fn s3_comes_from_the_file_and_keys_only_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wharf.toml");
        std::fs::write(
            &file,
            "[storage.s3]\nbucket = \"blobs\"\nendpoint = \"https://s3.internal\"\n",
        )
        .unwrap();
        let msg = Config::load(Some(&file), no_env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("WHARF_S3_ACCESS_KEY_ID") && msg.contains("never in the config file"),
            "{msg}"
        );
        let env = |k: &str| match k {
            "WHARF_S3_ACCESS_KEY_ID" => Some("id".to_owned()),
            "WHARF_S3_SECRET_ACCESS_KEY" => Some("s3cret-value".to_owned()),
            _ => None,
        };
        let c = Config::load(Some(&file), env, &Overrides::default()).unwrap();
        let s3 = c.s3.as_ref().unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.endpoint.as_deref()),
            ("blobs", Some("https://s3.internal"))
        );
        assert_eq!(s3.presign_ttl, std::time::Duration::from_secs(900));
        assert!(
            !format!("{c:?}").contains("s3cret-value"),
            "the secret never reaches debug output"
        );
        std::fs::write(
            &file,
            "[storage.s3]\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:9\"\n",
        )
        .unwrap();
        let msg = Config::load(Some(&file), env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("allow_http"), "{msg}");
        std::fs::write(
            &file,
            "[storage.s3]\nbucket = \"b\"\nsecret_access_key = \"x\"\n",
        )
        .unwrap();
        let msg = Config::load(Some(&file), env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown field"), "{msg}");
    }

    #[test]
    fn connection_limits_come_from_their_section_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wharf.toml");
        std::fs::write(
            &file,
            "[connections]\nheader_read_timeout = \"20s\"\nmax_per_client = 16\n",
        )
        .unwrap();
        let env = |k: &str| (k == "WHARF_CONNECTIONS_MAX_TOTAL").then(|| "512".to_owned());
        let c = Config::load(Some(&file), env, &Overrides::default()).unwrap();
        assert_eq!(
            c.connections.header_read_timeout,
            std::time::Duration::from_secs(20)
        );
        assert_eq!(
            (c.connections.max_per_client, c.connections.max_total),
            (16, 512)
        );
        std::fs::write(&file, "[connections]\nmax_per_client = 0\n").unwrap();
        let msg = Config::load(Some(&file), no_env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("connections.max_per_client") && msg.contains("between 1 and"),
            "{msg}"
        );
        std::fs::write(&file, "[connections]\nidle_timeout = \"5s\"\n").unwrap();
        let msg = Config::load(Some(&file), no_env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown field"), "{msg}");
        let defaults = Config::load(None, no_env, &Overrides::default()).unwrap();
        assert_eq!(defaults.connections, Connections::default());
    }

    #[test]
    fn public_url_is_a_scheme_and_host_only() {
        let env = |v: &'static str| move |k: &str| (k == "WHARF_PUBLIC_URL").then(|| v.to_owned());
        let c = Config::load(
            None,
            env("https://wharf.example.com/"),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            c.security.public_url.as_deref(),
            Some("https://wharf.example.com")
        );
        for bad in [
            "wharf.example.com",
            "https://a/b",
            "https://user@evil",
            "javascript:x",
        ] {
            let msg = Config::load(None, env(bad), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("public_url") && msg.contains("https://wharf.example.com"),
                "{bad}: {msg}"
            );
        }
    }

    #[test]
    fn errors_name_the_field_and_the_fix() {
        let bad_listen = Overrides {
            listen: Some("localhost".into()),
            data_dir: None,
            production: false,
        };
        let msg = Config::load(None, no_env, &bad_listen)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("listen") && msg.contains("e.g. 127.0.0.1:8080"),
            "{msg}"
        );

        let env = |k: &str| (k == "WHARF_MAX_UPLOAD_SIZE").then(|| "lots".to_owned());
        let msg = Config::load(None, env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("max_upload_size") && msg.contains("100MiB"),
            "{msg}"
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wharf.toml");
        std::fs::write(&file, "listne = \"x\"\n").unwrap();
        let msg = Config::load(Some(&file), no_env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("unknown field") && msg.contains("listne"),
            "{msg}"
        );

        let msg = Config::load(
            Some(&dir.path().join("missing.toml")),
            no_env,
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("cannot read config file"), "{msg}");

        let env = |k: &str| (k == "WHARF_DATABASE_URL").then(|| "mysql://u:pw@h/db".to_owned());
        let msg = Config::load(None, env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("postgres://") && !msg.contains("pw"), "{msg}");
    }
}
