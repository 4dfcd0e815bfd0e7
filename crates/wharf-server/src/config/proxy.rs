//! `[proxy.pypi]` and `[proxy.npm]`: the pull-through proxies of an upstream
//! simple index and an upstream npm registry. Each is off unless its
//! `upstream` is set; there is no default upstream. Both take the same
//! settings, with their own names and versions in the lists.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;
use wharf_core::proxy::Spec;

/// One proxy's settings.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// The upstream index: a simple index (`…/simple/`) or an npm registry.
    pub upstream: String,
    /// Origins the upstream's file URLs may point at besides its own.
    pub file_origins: Vec<String>,
    /// Files younger than this (by upload time) are left out. Zero: off.
    pub min_release_age: Duration,
    /// Names exempt from the cooldown.
    pub allow_newer: Vec<Spec>,
    /// Names or versions refused everywhere (besides the runtime rules).
    pub deny: Vec<Spec>,
    /// When not empty, only these names are proxied (besides the runtime rules).
    pub allow_only: Vec<Spec>,
    /// How long a fetched page is served before it is revalidated.
    pub page_ttl: Duration,
    /// How long upstream's "no such project" is believed.
    pub not_found_ttl: Duration,
    /// Deadline to connect to upstream and to read a page.
    pub timeout: Duration,
    /// Deadline for one file download.
    pub file_timeout: Duration,
    pub max_page_bytes: u64,
    pub max_file_bytes: u64,
    /// How long a download waits for its file to be fetched and scanned
    /// before it is told to retry (503 with `Retry-After`).
    pub scan_wait: Duration,
}

/// The PyPI proxy's settings.
pub type PypiProxy = ProxySettings;

impl ProxySettings {
    /// The defaults, with `upstream` as the index.
    pub fn new(upstream: String) -> Self {
        Self {
            upstream,
            file_origins: Vec::new(),
            min_release_age: Duration::from_secs(48 * 3600),
            allow_newer: Vec::new(),
            deny: Vec::new(),
            allow_only: Vec::new(),
            page_ttl: Duration::from_secs(10 * 60),
            not_found_ttl: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            file_timeout: Duration::from_secs(10 * 60),
            max_page_bytes: 64 * 1024 * 1024,
            max_file_bytes: 1024 * 1024 * 1024,
            scan_wait: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProxy {
    pypi: Option<FileOneProxy>,
    npm: Option<FileOneProxy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileOneProxy {
    upstream: Option<String>,
    file_origins: Option<Vec<String>>,
    min_release_age: Option<String>,
    allow_newer: Option<Vec<String>>,
    deny: Option<Vec<String>>,
    allow_only: Option<Vec<String>>,
    page_ttl: Option<String>,
    not_found_ttl: Option<String>,
    timeout: Option<String>,
    file_timeout: Option<String>,
    max_page_bytes: Option<u64>,
    max_file_bytes: Option<u64>,
    scan_wait: Option<String>,
}

/// The setting names of one proxy, for messages and the environment.
struct Keys {
    upstream_env: &'static str,
    age_env: &'static str,
    min_release_age: &'static str,
    page_ttl: &'static str,
    not_found_ttl: &'static str,
    timeout: &'static str,
    file_timeout: &'static str,
    scan_wait: &'static str,
    sizes: &'static str,
    allow_newer: &'static str,
    deny: &'static str,
    allow_only: &'static str,
    spec_fix: &'static str,
    parse_spec: fn(&str) -> Result<Spec, wharf_core::ValidationError>,
}

const PYPI_KEYS: Keys = Keys {
    upstream_env: "WHARF_PROXY_PYPI_UPSTREAM",
    age_env: "WHARF_PROXY_PYPI_MIN_RELEASE_AGE",
    min_release_age: "proxy.pypi.min_release_age (WHARF_PROXY_PYPI_MIN_RELEASE_AGE)",
    page_ttl: "proxy.pypi.page_ttl",
    not_found_ttl: "proxy.pypi.not_found_ttl",
    timeout: "proxy.pypi.timeout",
    file_timeout: "proxy.pypi.file_timeout",
    scan_wait: "proxy.pypi.scan_wait",
    sizes: "proxy.pypi.max_page_bytes / max_file_bytes",
    allow_newer: "proxy.pypi.allow_newer",
    deny: "proxy.pypi.deny",
    allow_only: "proxy.pypi.allow_only",
    spec_fix: "give project names, or NAME==VERSION",
    parse_spec: Spec::parse,
};

const NPM_KEYS: Keys = Keys {
    upstream_env: "WHARF_PROXY_NPM_UPSTREAM",
    age_env: "WHARF_PROXY_NPM_MIN_RELEASE_AGE",
    min_release_age: "proxy.npm.min_release_age (WHARF_PROXY_NPM_MIN_RELEASE_AGE)",
    page_ttl: "proxy.npm.page_ttl",
    not_found_ttl: "proxy.npm.not_found_ttl",
    timeout: "proxy.npm.timeout",
    file_timeout: "proxy.npm.file_timeout",
    scan_wait: "proxy.npm.scan_wait",
    sizes: "proxy.npm.max_page_bytes / max_file_bytes",
    allow_newer: "proxy.npm.allow_newer",
    deny: "proxy.npm.deny",
    allow_only: "proxy.npm.allow_only",
    spec_fix: "give package names, or NAME@VERSION",
    parse_spec: Spec::parse_npm,
};

/// `[proxy.pypi]`. Environment variables (`WHARF_PROXY_PYPI_UPSTREAM`,
/// `WHARF_PROXY_PYPI_MIN_RELEASE_AGE`) win over the file.
pub(super) fn load(
    file: Option<&mut FileProxy>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<ProxySettings>, ConfigError> {
    load_one(file.and_then(|f| f.pypi.take()), env, &PYPI_KEYS)
}

/// `[proxy.npm]`, with `WHARF_PROXY_NPM_UPSTREAM` and
/// `WHARF_PROXY_NPM_MIN_RELEASE_AGE`.
pub(super) fn load_npm(
    file: Option<&mut FileProxy>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<ProxySettings>, ConfigError> {
    load_one(file.and_then(|f| f.npm.take()), env, &NPM_KEYS)
}

fn load_one(
    file: Option<FileOneProxy>,
    env: &impl Fn(&str) -> Option<String>,
    keys: &Keys,
) -> Result<Option<ProxySettings>, ConfigError> {
    let file = file.unwrap_or_default();
    let Some(upstream) = env(keys.upstream_env)
        .or(file.upstream)
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(None);
    };
    let mut p = ProxySettings::new(upstream);
    let duration = |field: &'static str, raw: Option<String>, default: Duration| match raw {
        None => Ok(default),
        Some(raw) if raw.trim() == "0" => Ok(Duration::ZERO),
        Some(raw) => humantime::parse_duration(&raw).map_err(|_| ConfigError::Invalid {
            field,
            value: raw,
            fix: "give a duration such as 48h or 10m (\"0\" turns it off)",
        }),
    };
    let positive = |field: &'static str, raw: Option<String>, default: Duration| {
        let d = duration(field, raw, default)?;
        if d.is_zero() {
            return Err(ConfigError::Invalid {
                field,
                value: "0".into(),
                fix: "give a duration above zero, such as 10s",
            });
        }
        Ok(d)
    };
    p.min_release_age = duration(
        keys.min_release_age,
        env(keys.age_env).or(file.min_release_age),
        p.min_release_age,
    )?;
    p.page_ttl = positive(keys.page_ttl, file.page_ttl, p.page_ttl)?;
    p.not_found_ttl = positive(keys.not_found_ttl, file.not_found_ttl, p.not_found_ttl)?;
    p.timeout = positive(keys.timeout, file.timeout, p.timeout)?;
    p.file_timeout = positive(keys.file_timeout, file.file_timeout, p.file_timeout)?;
    p.scan_wait = positive(keys.scan_wait, file.scan_wait, p.scan_wait)?;
    if let Some(n) = file.max_page_bytes {
        p.max_page_bytes = n;
    }
    if let Some(n) = file.max_file_bytes {
        p.max_file_bytes = n;
    }
    if p.max_page_bytes == 0 || p.max_file_bytes == 0 {
        return Err(ConfigError::Invalid {
            field: keys.sizes,
            value: "0".into(),
            fix: "give a size in bytes above zero",
        });
    }
    p.file_origins = file.file_origins.unwrap_or_default();
    let specs = |field: &'static str, raw: Option<Vec<String>>| {
        raw.unwrap_or_default()
            .iter()
            .map(|s| {
                (keys.parse_spec)(s).map_err(|e| ConfigError::Invalid {
                    field,
                    value: e.message,
                    fix: keys.spec_fix,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    p.allow_newer = specs(keys.allow_newer, file.allow_newer)?;
    p.deny = specs(keys.deny, file.deny)?;
    p.allow_only = specs(keys.allow_only, file.allow_only)?;
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileProxy {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn off_without_an_upstream_and_defaults_to_a_48h_cooldown() {
        assert!(load(None, &|_| None).unwrap().is_none());
        let p = load(
            Some(&mut file(
                "[pypi]\nupstream = \"http://127.0.0.1:1/simple/\"",
            )),
            &|_| None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.min_release_age, Duration::from_secs(48 * 3600));
        let off = load(
            Some(&mut file(
                "[pypi]\nupstream = \"http://127.0.0.1:1/simple/\"\nmin_release_age = \"0\"",
            )),
            &|_| None,
        )
        .unwrap()
        .unwrap();
        assert!(off.min_release_age.is_zero());
    }

    #[test]
    fn bad_settings_name_the_field() {
        for (text, field) in [
            ("min_release_age = \"soon\"", "min_release_age"),
            ("deny = [\"a b\"]", "proxy.pypi.deny"),
            ("timeout = \"0\"", "proxy.pypi.timeout"),
            ("max_file_bytes = 0", "max_file_bytes"),
        ] {
            let text = format!("[pypi]\nupstream = \"http://127.0.0.1:1/simple/\"\n{text}");
            let error = load(Some(&mut file(&text)), &|_| None)
                .unwrap_err()
                .to_string();
            assert!(error.contains(field), "{text}: {error}");
        }
    }

    #[test]
    fn the_npm_proxy_has_its_own_section_and_specs() {
        let mut both = file(
            "[pypi]\nupstream = \"http://127.0.0.1:1/simple/\"\n[npm]\nupstream = \"http://127.0.0.1:2/\"\ndeny = [\"@evil/pkg\", \"left-pad@1.3.0\"]",
        );
        let npm = load_npm(Some(&mut both), &|_| None).unwrap().unwrap();
        assert_eq!(npm.upstream, "http://127.0.0.1:2/");
        assert_eq!(npm.min_release_age, Duration::from_secs(48 * 3600));
        assert_eq!(npm.deny[1].to_string(), "left-pad@1.3.0");
        assert!(load(Some(&mut both), &|_| None).unwrap().is_some());
        let error = load_npm(
            Some(&mut file(
                "[npm]\nupstream = \"http://127.0.0.1:2/\"\ndeny = [\"x==1.0\"]",
            )),
            &|_| None,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("proxy.npm.deny"), "{error}");
        let env = |key: &str| (key == "WHARF_PROXY_NPM_MIN_RELEASE_AGE").then(|| "0".to_owned());
        let off = load_npm(
            Some(&mut file("[npm]\nupstream = \"http://127.0.0.1:2/\"")),
            &env,
        )
        .unwrap()
        .unwrap();
        assert!(off.min_release_age.is_zero());
    }
}
