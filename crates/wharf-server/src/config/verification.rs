//! `[verification]`: how uploads are checked before they are listed.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// Verification settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Scans this process runs at once, for uploads and from the queue. Zero
    /// leaves every job to `wharf worker` processes.
    pub workers: usize,
    /// Whether files still being verified appear in `/simple`. Off: nothing
    /// is installable before it passed.
    pub show_pending: bool,
    /// How long a claimed job stays with its worker before another may take it.
    pub lease: Duration,
    /// How often an idle worker looks for queued jobs.
    pub poll_interval: Duration,
    /// How long an upload waits for its own verdict before answering with the
    /// file still pending (so `twine upload` then `pip install` just works).
    pub upload_wait: Duration,
    /// Upstream packages an administrator checked and trusts although their
    /// names resemble popular ones, as `npm:name` or `pypi:name`, normalized.
    pub trusted_names: Vec<String>,
}

impl Default for Verification {
    fn default() -> Self {
        Self {
            workers: 2,
            show_pending: false,
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            upload_wait: Duration::from_secs(30),
            trusted_names: Vec::new(),
        }
    }
}

/// The file's `[verification]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileVerification {
    workers: Option<usize>,
    show_pending: Option<bool>,
    lease: Option<String>,
    poll_interval: Option<String>,
    upload_wait: Option<String>,
    trusted_names: Option<Vec<String>>,
}

/// Environment variables win over the file.
pub(super) fn load(
    file: Option<FileVerification>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Verification, ConfigError> {
    let file = file.unwrap_or_default();
    let mut v = Verification::default();
    if let Some(raw) = env("WHARF_VERIFY_WORKERS") {
        v.workers = raw.parse().map_err(|_| ConfigError::Invalid {
            field: "verification.workers (WHARF_VERIFY_WORKERS)",
            value: raw,
            fix: "give a whole number; 0 leaves verification to `wharf worker`",
        })?;
    } else if let Some(n) = file.workers {
        v.workers = n;
    }
    if let Some(raw) = env("WHARF_VERIFY_SHOW_PENDING") {
        v.show_pending = matches!(raw.as_str(), "1" | "true" | "yes");
    } else if let Some(flag) = file.show_pending {
        v.show_pending = flag;
    }
    let duration = |field: &'static str, raw: Option<String>, default: Duration, min: Duration| {
        let Some(raw) = raw else {
            return Ok(default);
        };
        match humantime::parse_duration(&raw) {
            Ok(d) if d >= min => Ok(d),
            _ => Err(ConfigError::Invalid {
                field,
                value: raw,
                fix:
                    "give a duration such as 2m, 1s or 500ms, at least the minimum for this setting",
            }),
        }
    };
    v.lease = duration(
        "verification.lease (WHARF_VERIFY_LEASE)",
        env("WHARF_VERIFY_LEASE").or(file.lease),
        v.lease,
        Duration::from_secs(1),
    )?;
    v.poll_interval = duration(
        "verification.poll_interval (WHARF_VERIFY_POLL_INTERVAL)",
        env("WHARF_VERIFY_POLL_INTERVAL").or(file.poll_interval),
        v.poll_interval,
        Duration::from_millis(10),
    )?;
    v.upload_wait = duration(
        "verification.upload_wait (WHARF_VERIFY_UPLOAD_WAIT)",
        env("WHARF_VERIFY_UPLOAD_WAIT").or(file.upload_wait),
        v.upload_wait,
        Duration::ZERO,
    )?;
    let trusted = match env("WHARF_VERIFY_TRUSTED_NAMES") {
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => file.trusted_names.unwrap_or_default(),
    };
    v.trusted_names = trusted
        .iter()
        .map(|entry| trusted_name(entry))
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// `npm:Name` or `pypi:Name`, in the form the name check compares.
fn trusted_name(entry: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::Invalid {
        field: "verification.trusted_names (WHARF_VERIFY_TRUSTED_NAMES)",
        value: entry.to_owned(),
        fix: "give registry:name entries such as npm:left-pad or pypi:requests",
    };
    let (registry, name) = entry.split_once(':').ok_or_else(invalid)?;
    let ecosystem = match wharf_core::mcp::RegistryType::parse(registry) {
        Some(wharf_core::mcp::RegistryType::Npm) => wharf_scan::names::Ecosystem::Npm,
        Some(wharf_core::mcp::RegistryType::Pypi) => wharf_scan::names::Ecosystem::Pypi,
        _ => return Err(invalid()),
    };
    if name.is_empty() {
        return Err(invalid());
    }
    Ok(format!("{registry}:{}", ecosystem.normalize(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env_of;

    #[test]
    fn defaults_hide_pending_files_and_verify_in_process() {
        let v = load(None, &env_of(&[])).unwrap();
        assert_eq!(v, Verification::default());
        assert!(!v.show_pending);
        assert!(v.workers > 0);
    }

    #[test]
    fn environment_wins_and_bad_values_name_the_setting() {
        let file = FileVerification {
            workers: Some(4),
            lease: Some("5m".into()),
            ..FileVerification::default()
        };
        let v = load(
            Some(file),
            &env_of(&[
                ("WHARF_VERIFY_WORKERS", "0"),
                ("WHARF_VERIFY_SHOW_PENDING", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (v.workers, v.show_pending, v.lease),
            (0, true, Duration::from_secs(300))
        );
        let err = load(None, &env_of(&[("WHARF_VERIFY_LEASE", "10ms")])).unwrap_err();
        assert!(err.to_string().contains("verification.lease"), "{err}");
        let err = load(None, &env_of(&[("WHARF_VERIFY_WORKERS", "many")])).unwrap_err();
        assert!(err.to_string().contains("WHARF_VERIFY_WORKERS"), "{err}");
    }

    #[test]
    fn trusted_names_are_normalized_per_registry_and_checked() {
        let file = FileVerification {
            trusted_names: Some(vec!["pypi:Foo_Bar".into(), "npm:JSONStream2".into()]),
            ..FileVerification::default()
        };
        let v = load(Some(file), &env_of(&[])).unwrap();
        assert_eq!(v.trusted_names, ["pypi:foo-bar", "npm:jsonstream2"]);
        let v = load(
            None,
            &env_of(&[("WHARF_VERIFY_TRUSTED_NAMES", "npm:a.b , pypi:c.d")]),
        )
        .unwrap();
        assert_eq!(v.trusted_names, ["npm:a.b", "pypi:c-d"]);
        for bad in ["left-pad", "cargo:serde", "npm:"] {
            let file = FileVerification {
                trusted_names: Some(vec![bad.into()]),
                ..FileVerification::default()
            };
            let err = load(Some(file), &env_of(&[])).unwrap_err();
            assert!(err.to_string().contains("registry:name"), "{bad}: {err}");
        }
    }
}
