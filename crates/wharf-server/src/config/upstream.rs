//! `[upstream]`: the registries that packages not hosted here are checked
//! against. No default host: users give the URL `npm config get registry`
//! prints and their PyPI JSON API base.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;
use wharf_upstream::UpstreamSettings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileUpstream {
    npm_url: Option<String>,
    pypi_url: Option<String>,
    timeout: Option<String>,
    positive_ttl: Option<String>,
    negative_ttl: Option<String>,
}

pub(super) fn load(
    file: Option<FileUpstream>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<UpstreamSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let defaults = UpstreamSettings::default();
    let mut s = UpstreamSettings {
        npm_url: env("WHARF_UPSTREAM_NPM_URL")
            .or(file.npm_url)
            .filter(|u| !u.is_empty()),
        pypi_url: env("WHARF_UPSTREAM_PYPI_URL")
            .or(file.pypi_url)
            .filter(|u| !u.is_empty()),
        ..defaults
    };
    let duration = |field: &'static str, raw: Option<String>, default: Duration| match raw {
        None => Ok(default),
        Some(raw) => humantime::parse_duration(&raw).map_err(|_| ConfigError::Invalid {
            field,
            value: raw,
            fix: "give a duration such as 10s or 10m",
        }),
    };
    s.timeout = duration("upstream.timeout", file.timeout, s.timeout)?;
    s.positive_ttl = duration("upstream.positive_ttl", file.positive_ttl, s.positive_ttl)?;
    s.negative_ttl = duration("upstream.negative_ttl", file.negative_ttl, s.negative_ttl)?;
    Ok(s)
}
