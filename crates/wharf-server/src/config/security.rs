//! Security settings: run mode, TLS awareness, trusted proxies, CORS,
//! sessions, and the checks production mode makes before it starts.

use super::ConfigError;
use secrecy::{ExposeSecret, SecretString};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Settings from security.md "Identity and tokens" and "Transport and browser".
#[derive(Debug, Clone)]
pub struct Security {
    /// Production mode (`--production` or `WHARF_ENV=production`): strict
    /// start-up checks, and `Secure` cookies. The default is dev mode.
    pub production: bool,
    /// Wharf runs behind a proxy that terminates TLS: sends HSTS and `Secure` cookies.
    pub behind_tls_proxy: bool,
    /// Peers whose `X-Forwarded-For` is believed. Empty: the socket address
    /// is always the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Origins that may call the API from a browser. Empty: none.
    pub cors_origins: Vec<String>,
    /// Keys the audit log's IP hashes. From `WHARF_SESSION_SECRET`; in dev
    /// mode a random one is kept in the data directory when unset.
    pub session_secret: Option<SecretString>,
    /// Wraps deployment credentials' data keys (wharf-vault). From
    /// `WHARF_MASTER_KEY` only; in dev mode a random one kept in
    /// `data_dir/master-key` stands in.
    pub master_key: Option<SecretString>,
    /// The key being rotated away from (`WHARF_MASTER_KEY_PREVIOUS`): still
    /// opens what it wraps until `wharf admin rotate-key` has re-wrapped it.
    pub master_key_previous: Option<SecretString>,
    /// How long a web session lives. Default 12 h.
    pub session_ttl: Duration,
    /// Most device-login requests pending at once. Default 10,000.
    pub device_code_cap: i64,
    /// Most device-login requests pending at once from one client (an IPv4
    /// address or an IPv6 /64). Default 20: a few people behind one NAT
    /// logging in at once, never the whole store.
    pub device_code_cap_per_client: i64,
    /// The address users reach Wharf at (`https://wharf.example.com`), for
    /// links handed to other programs; unset, the request's `Host` is used.
    pub public_url: Option<String>,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            production: false,
            behind_tls_proxy: false,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            session_secret: None,
            master_key: None,
            master_key_previous: None,
            session_ttl: Duration::from_secs(12 * 3600),
            device_code_cap: 10_000,
            device_code_cap_per_client: 20,
            public_url: None,
        }
    }
}

impl Security {
    /// Whether cookies get the `Secure` attribute: everywhere outside dev mode.
    pub fn secure_cookies(&self) -> bool {
        self.production || self.behind_tls_proxy
    }

    /// Whether responses carry `Strict-Transport-Security`.
    pub fn sends_hsts(&self) -> bool {
        self.behind_tls_proxy
    }

    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        self.cors_origins.iter().any(|o| o == origin)
    }
}

/// The shortest session secret accepted, in bytes (security.md "Secrets at rest").
pub const MIN_SECRET_BYTES: usize = 32;

/// Secrets from documentation and examples; refused in production mode.
const EXAMPLE_SECRETS: &[&str] = &["change-me", "changeme", "secret", "example", "wharf"];

/// Why a secret is weak, if it is: short, an example value, or made of very
/// few distinct characters (`aaaa…`).
pub fn secret_weakness(secret: &str) -> Option<&'static str> {
    let lower = secret.to_ascii_lowercase();
    if secret.len() < MIN_SECRET_BYTES {
        return Some("it is shorter than 32 bytes");
    }
    if EXAMPLE_SECRETS.iter().any(|e| lower.contains(e)) {
        return Some("it contains an example value");
    }
    let mut distinct: Vec<char> = secret.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 8 {
        return Some("it has fewer than 8 distinct characters");
    }
    None
}

/// What production mode refuses to start with. Each refusal names the
/// setting and the fix; every problem is listed, not just the first.
pub fn production_problems(
    security: &Security,
    listen: SocketAddr,
    jwks_url: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    match &security.session_secret {
        None => problems.push(
            "session secret (WHARF_SESSION_SECRET) is missing: set it to at least 32 random bytes, \
             e.g. the output of `openssl rand -base64 48`"
                .to_owned(),
        ),
        Some(secret) => {
            if let Some(why) = secret_weakness(secret.expose_secret()) {
                problems.push(format!(
                    "session secret (WHARF_SESSION_SECRET) is weak: {why}; use at least 32 random bytes, \
                     e.g. the output of `openssl rand -base64 48`"
                ));
            }
        }
    }
    match &security.master_key {
        None => problems.push(
            "master key (WHARF_MASTER_KEY) is missing: deployment credentials are encrypted under it; \
             set it to at least 32 random bytes, e.g. the output of `openssl rand -base64 32`"
                .to_owned(),
        ),
        Some(key) => {
            if let Err(e) = wharf_vault::MasterKey::from_config(key.expose_secret()) {
                problems.push(format!("master key (WHARF_MASTER_KEY): {e}"));
            }
            let same = security
                .session_secret
                .as_ref()
                .is_some_and(|s| s.expose_secret() == key.expose_secret());
            if same {
                problems.push(
                    "master key (WHARF_MASTER_KEY) is the same as WHARF_SESSION_SECRET: give each its own".to_owned(),
                );
            }
        }
    }
    if !listen.ip().is_loopback() && !security.behind_tls_proxy {
        problems.push(format!(
            "listen ({listen}) is not a loopback address and there is no TLS: put Wharf behind a \
             TLS-terminating proxy and set behind_tls_proxy = true (WHARF_BEHIND_TLS_PROXY=1), \
             or listen on 127.0.0.1"
        ));
    }
    if let Some(url) = jwks_url {
        if !url.starts_with("https://") {
            problems.push(format!(
                "jwt.jwks_url ({url}) is not https: keys fetched over plain http can be swapped in \
                 transit; use the identity provider's https JWKS URL"
            ));
        }
    }
    problems
}

/// An IP network in CIDR form (`10.0.0.0/8`, `::1/128`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (raw.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may arrive as an IPv4-mapped IPv6 address.
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Parses a list of networks (`trusted_proxies`).
pub(super) fn parse_nets(field: &'static str, raw: &[String]) -> Result<Vec<IpNet>, ConfigError> {
    raw.iter()
        .map(|r| {
            IpNet::parse(r).ok_or_else(|| ConfigError::Invalid {
                field,
                value: r.clone(),
                fix: "give IP addresses or CIDR networks, e.g. 10.0.0.0/8 or 127.0.0.1",
            })
        })
        .collect()
}

/// Parses CORS origins: `scheme://host[:port]`, exactly as browsers send them.
pub(super) fn parse_origins(
    field: &'static str,
    raw: &[String],
) -> Result<Vec<String>, ConfigError> {
    raw.iter()
        .map(|o| {
            let o = o.trim();
            let ok = (o.starts_with("https://") || o.starts_with("http://"))
                && !o.ends_with('/')
                && o.split_once("://").is_some_and(|(_, rest)| {
                    !rest.is_empty() && !rest.contains(['/', '*', '?', '#', ' '])
                });
            if ok {
                Ok(o.to_owned())
            } else {
                Err(ConfigError::Invalid {
                    field,
                    value: o.to_owned(),
                    fix: "give exact origins such as https://portal.example.com (no path, no wildcard)",
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_their_members_only() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(IpNet::parse("::1/128")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(IpNet::parse("localhost").is_none());
    }

    #[test]
    fn weak_secrets_are_named() {
        assert!(secret_weakness("short").unwrap().contains("32 bytes"));
        assert!(secret_weakness(&"a".repeat(40))
            .unwrap()
            .contains("distinct"));
        assert!(secret_weakness("change-me-change-me-change-me-change-me")
            .unwrap()
            .contains("example"));
        assert_eq!(secret_weakness("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1"), None);
    }

    #[test]
    fn production_lists_every_problem_with_its_fix() {
        let security = Security {
            production: true,
            session_secret: Some("tooshort".into()),
            ..Security::default()
        };
        let problems = production_problems(
            &security,
            "0.0.0.0:8080".parse().unwrap(),
            Some("http://idp.internal/jwks"),
        );
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("WHARF_SESSION_SECRET") && problems[0].contains("32"));
        assert!(problems[1].contains("WHARF_MASTER_KEY") && problems[1].contains("missing"));
        assert!(problems[2].contains("behind_tls_proxy"));
        assert!(problems[3].contains("jwt.jwks_url") && problems[3].contains("https"));
        let fine = Security {
            session_secret: Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".into()),
            master_key: Some("Zq8tW3vN7yR1mK5pX2cB9dF4hJ6gL0sAeUiOoPq3".into()),
            behind_tls_proxy: true,
            ..security
        };
        assert!(production_problems(
            &fine,
            "0.0.0.0:8080".parse().unwrap(),
            Some("https://idp/jwks")
        )
        .is_empty());
    }

    #[test]
    fn production_refuses_a_weak_example_or_reused_master_key() {
        let with_key = |key: &str| Security {
            production: true,
            session_secret: Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".into()),
            master_key: Some(key.to_owned().into()),
            ..Security::default()
        };
        let loopback = "127.0.0.1:8080".parse().unwrap();
        for weak in [
            "tiny1",
            "changeme-changeme-changeme-changeme-x",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            let problems = production_problems(&with_key(weak), loopback, None);
            assert_eq!(problems.len(), 1, "{weak}: {problems:?}");
            assert!(problems[0].contains("WHARF_MASTER_KEY"), "{problems:?}");
            assert!(!problems[0].contains(weak), "the value is never echoed");
        }
        let reused = with_key("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1");
        let problems = production_problems(&reused, loopback, None);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("same as WHARF_SESSION_SECRET")),
            "{problems:?}"
        );
        assert!(production_problems(
            &with_key("Zq8tW3vN7yR1mK5pX2cB9dF4hJ6gL0sAeUiOoPq3"),
            loopback,
            None
        )
        .is_empty());
    }

    #[test]
    fn origins_must_be_exact() {
        let ok = parse_origins("cors_origins", &["https://a.example:8443".into()]).unwrap();
        assert_eq!(ok, ["https://a.example:8443"]);
        for bad in [
            "*",
            "https://*.example",
            "https://a.example/",
            "a.example",
            "https://a/x",
        ] {
            assert!(
                parse_origins("cors_origins", &[bad.into()]).is_err(),
                "{bad}"
            );
        }
    }
}
