//! `[proxy.pypi]`: the pull-through proxy of an upstream simple index. It is
//! off unless `upstream` is set; there is no default upstream.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;
use wharf_core::proxy::Spec;

/// The PyPI proxy's settings.
#[derive(Debug, Clone)]
pub struct PypiProxy {
    /// The upstream simple index, ending in `/simple/` or the like.
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

impl PypiProxy {
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
    pypi: Option<FilePypiProxy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FilePypiProxy {
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

/// Environment variables (`WHARF_PROXY_PYPI_UPSTREAM`,
/// `WHARF_PROXY_PYPI_MIN_RELEASE_AGE`) win over the file.
pub(super) fn load(
    file: Option<FileProxy>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<PypiProxy>, ConfigError> {
    let file = file.and_then(|f| f.pypi).unwrap_or_default();
    let Some(upstream) = env("WHARF_PROXY_PYPI_UPSTREAM")
        .or(file.upstream)
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(None);
    };
    let mut p = PypiProxy::new(upstream);
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
        "proxy.pypi.min_release_age (WHARF_PROXY_PYPI_MIN_RELEASE_AGE)",
        env("WHARF_PROXY_PYPI_MIN_RELEASE_AGE").or(file.min_release_age),
        p.min_release_age,
    )?;
    p.page_ttl = positive("proxy.pypi.page_ttl", file.page_ttl, p.page_ttl)?;
    p.not_found_ttl = positive(
        "proxy.pypi.not_found_ttl",
        file.not_found_ttl,
        p.not_found_ttl,
    )?;
    p.timeout = positive("proxy.pypi.timeout", file.timeout, p.timeout)?;
    p.file_timeout = positive("proxy.pypi.file_timeout", file.file_timeout, p.file_timeout)?;
    p.scan_wait = positive("proxy.pypi.scan_wait", file.scan_wait, p.scan_wait)?;
    if let Some(n) = file.max_page_bytes {
        p.max_page_bytes = n;
    }
    if let Some(n) = file.max_file_bytes {
        p.max_file_bytes = n;
    }
    if p.max_page_bytes == 0 || p.max_file_bytes == 0 {
        return Err(ConfigError::Invalid {
            field: "proxy.pypi.max_page_bytes / max_file_bytes",
            value: "0".into(),
            fix: "give a size in bytes above zero",
        });
    }
    p.file_origins = file.file_origins.unwrap_or_default();
    let specs = |field: &'static str, raw: Option<Vec<String>>| {
        raw.unwrap_or_default()
            .iter()
            .map(|s| {
                Spec::parse(s).map_err(|e| ConfigError::Invalid {
                    field,
                    value: e.message,
                    fix: "give project names, or NAME==VERSION",
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    p.allow_newer = specs("proxy.pypi.allow_newer", file.allow_newer)?;
    p.deny = specs("proxy.pypi.deny", file.deny)?;
    p.allow_only = specs("proxy.pypi.allow_only", file.allow_only)?;
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Option<FileProxy> {
        Some(toml::from_str(text).unwrap())
    }

    #[test]
    fn off_without_an_upstream_and_defaults_to_a_48h_cooldown() {
        assert!(load(None, &|_| None).unwrap().is_none());
        let p = load(
            file("[pypi]\nupstream = \"http://127.0.0.1:1/simple/\""),
            &|_| None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.min_release_age, Duration::from_secs(48 * 3600));
        let off = load(
            file("[pypi]\nupstream = \"http://127.0.0.1:1/simple/\"\nmin_release_age = \"0\""),
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
            let error = load(file(&text), &|_| None).unwrap_err().to_string();
            assert!(error.contains(field), "{text}: {error}");
        }
    }
}
