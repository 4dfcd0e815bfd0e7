//! `[mcp]` sync settings: the upstream registries the catalog mirrors
//! (`[[mcp.upstreams]]`, none by default) and how often workers sync.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;
use wharf_core::glob::NamespaceGlob;
use wharf_core::model::LOCAL_ORIGIN;

/// Mirroring upstream MCP registries into the catalog.
#[derive(Debug, Clone)]
pub struct McpSync {
    pub upstreams: Vec<McpUpstream>,
    /// How often `wharf serve` and `wharf worker` sync every upstream; None:
    /// only `wharf mcp sync` does. Default 1h.
    pub interval: Option<Duration>,
    /// Deadline of one page request. Default 30s.
    pub timeout: Duration,
    /// Largest page read. Default 16 MiB.
    pub max_page_bytes: usize,
    /// How long an instance's claim on an upstream's sync lasts without
    /// progress; a sync cut short is taken over after it. Default 5 min.
    pub lease: Duration,
    /// `[mcp.capture]`: listing each remote server's tools.
    pub capture: Capture,
}

/// `[mcp.capture]`: Wharf connects to each version's remote (streamable-http
/// or sse) as an MCP client, without credentials, and lists its tools,
/// prompts and resources. Package (stdio) servers are not captured.
#[derive(Debug, Clone)]
pub struct Capture {
    /// On by default.
    pub remote: bool,
    /// The whole capture of one server. Default 30s.
    pub timeout: Duration,
    /// Run PyPI stdio servers in a bubblewrap sandbox to list their tools.
    /// Off by default, since it runs the package.
    pub sandbox: bool,
    /// The index the sandbox installs from: this registry's `/simple/`
    /// (default: `public_url`, else the listen address).
    pub index_url: Option<String>,
    /// The sandboxed server's address space. Default 2 GiB.
    pub memory_bytes: u64,
}

impl Default for Capture {
    fn default() -> Self {
        Self {
            remote: true,
            timeout: Duration::from_secs(30),
            sandbox: false,
            index_url: None,
            memory_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

impl Default for McpSync {
    fn default() -> Self {
        Self {
            upstreams: Vec::new(),
            interval: Some(Duration::from_secs(3600)),
            timeout: Duration::from_secs(30),
            max_page_bytes: 16 * 1024 * 1024,
            lease: Duration::from_secs(300),
            capture: Capture::default(),
        }
    }
}

/// One `[[mcp.upstreams]]` entry.
#[derive(Debug, Clone)]
pub struct McpUpstream {
    /// Names the origin of what it brings; letters, digits and `-`.
    pub name: String,
    /// The registry's base address: pages come from `{url}/v0.1/servers`.
    pub url: String,
    /// Server-name globs to mirror; empty: every name.
    pub include: Vec<NamespaceGlob>,
    /// Server-name globs never mirrored, even when included.
    pub exclude: Vec<NamespaceGlob>,
    /// A version younger than this is held until it is old enough. Default 48h.
    pub min_release_age: Duration,
}

impl McpUpstream {
    /// Whether the filters let a server name in.
    pub fn admits(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|g| g.matches(name)))
            && !self.exclude.iter().any(|g| g.matches(name))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileMcp {
    pub(super) public_read_cors: Option<bool>,
    sync_interval: Option<String>,
    sync_timeout: Option<String>,
    sync_lease: Option<String>,
    max_page_bytes: Option<usize>,
    #[serde(default)]
    upstreams: Vec<FileUpstream>,
    capture: Option<FileCapture>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCapture {
    remote: Option<bool>,
    timeout: Option<String>,
    sandbox: Option<bool>,
    index_url: Option<String>,
    memory_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUpstream {
    name: String,
    url: String,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    min_release_age: Option<String>,
}

fn duration(field: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    if raw.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(raw).map_err(|_| ConfigError::Invalid {
        field,
        value: raw.to_owned(),
        fix: "give a duration such as 48h or 10m (\"0\" turns it off)",
    })
}

pub(super) fn load(file: &FileMcp) -> Result<McpSync, ConfigError> {
    let mut sync = McpSync::default();
    if let Some(raw) = &file.sync_interval {
        let d = duration("mcp.sync_interval", raw)?;
        sync.interval = (!d.is_zero()).then_some(d);
    }
    if let Some(raw) = &file.sync_timeout {
        sync.timeout = duration("mcp.sync_timeout", raw)?;
        if sync.timeout.is_zero() {
            return Err(ConfigError::Invalid {
                field: "mcp.sync_timeout",
                value: raw.clone(),
                fix: "give a duration above zero, such as 30s",
            });
        }
    }
    if let Some(raw) = &file.sync_lease {
        sync.lease = duration("mcp.sync_lease", raw)?;
        if sync.lease.is_zero() {
            return Err(ConfigError::Invalid {
                field: "mcp.sync_lease",
                value: raw.clone(),
                fix: "give a duration above zero, such as 5m",
            });
        }
    }
    if let Some(n) = file.max_page_bytes {
        if n == 0 {
            return Err(ConfigError::Invalid {
                field: "mcp.max_page_bytes",
                value: "0".into(),
                fix: "give a size in bytes above zero",
            });
        }
        sync.max_page_bytes = n;
    }
    if let Some(capture) = &file.capture {
        if let Some(remote) = capture.remote {
            sync.capture.remote = remote;
        }
        if let Some(sandbox) = capture.sandbox {
            sync.capture.sandbox = sandbox;
        }
        sync.capture.index_url.clone_from(&capture.index_url);
        if let Some(bytes) = capture.memory_bytes {
            if bytes < 64 * 1024 * 1024 {
                return Err(ConfigError::Invalid {
                    field: "mcp.capture.memory_bytes",
                    value: bytes.to_string(),
                    fix: "give at least 67108864 (64 MiB)",
                });
            }
            sync.capture.memory_bytes = bytes;
        }
        if let Some(raw) = &capture.timeout {
            sync.capture.timeout = duration("mcp.capture.timeout", raw)?;
            if sync.capture.timeout.is_zero() {
                return Err(ConfigError::Invalid {
                    field: "mcp.capture.timeout",
                    value: raw.clone(),
                    fix: "give a duration above zero, such as 30s",
                });
            }
        }
    }
    for entry in &file.upstreams {
        let valid_name = (1..=32).contains(&entry.name.len())
            && entry.name != LOCAL_ORIGIN
            && entry
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(ConfigError::Invalid {
                field: "mcp.upstreams.name",
                value: entry.name.clone(),
                fix: "give 1-32 lowercase letters, digits or '-', other than 'local'",
            });
        }
        if sync.upstreams.iter().any(|u| u.name == entry.name) {
            return Err(ConfigError::Invalid {
                field: "mcp.upstreams.name",
                value: entry.name.clone(),
                fix: "give each upstream its own name",
            });
        }
        let globs = |field: &'static str, raw: &[String]| {
            raw.iter()
                .map(|g| {
                    NamespaceGlob::parse(g).map_err(|e| ConfigError::Invalid {
                        field,
                        value: e.message,
                        fix: "give server-name globs such as io.github.acme/*",
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        sync.upstreams.push(McpUpstream {
            name: entry.name.clone(),
            url: entry.url.clone(),
            include: globs("mcp.upstreams.include", &entry.include)?,
            exclude: globs("mcp.upstreams.exclude", &entry.exclude)?,
            min_release_age: match &entry.min_release_age {
                Some(raw) => duration("mcp.upstreams.min_release_age", raw)?,
                None => Duration::from_secs(48 * 3600),
            },
        });
    }
    Ok(sync)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<McpSync, ConfigError> {
        load(&toml::from_str::<FileMcp>(text).unwrap())
    }

    #[test]
    fn no_upstream_by_default_and_an_hourly_sync() {
        let sync = parse("").unwrap();
        assert!(sync.upstreams.is_empty());
        assert_eq!(sync.interval, Some(Duration::from_secs(3600)));
    }

    #[test]
    fn an_upstream_with_filters_and_cooldown() {
        let sync = parse(
            r#"sync_interval = "0"
            [[upstreams]]
            name = "official"
            url = "http://127.0.0.1:9/"
            include = ["io.github.*/*"]
            exclude = ["io.github.evil/*"]
            min_release_age = "2h""#,
        )
        .unwrap();
        assert_eq!(sync.interval, None);
        let up = &sync.upstreams[0];
        assert_eq!(up.min_release_age, Duration::from_secs(7200));
        assert!(up.admits("io.github.alice/weather"));
        assert!(!up.admits("io.github.evil/weather"));
        assert!(!up.admits("com.acme/weather"));
    }

    #[test]
    fn bad_settings_name_the_field() {
        for (text, field) in [
            (
                "[[upstreams]]\nname = \"local\"\nurl = \"http://127.0.0.1:9\"",
                "mcp.upstreams.name",
            ),
            (
                "[[upstreams]]\nname = \"a\"\nurl = \"x\"\n[[upstreams]]\nname = \"a\"\nurl = \"y\"",
                "mcp.upstreams.name",
            ),
            (
                "[[upstreams]]\nname = \"a\"\nurl = \"x\"\ninclude = [\"nope\"]",
                "mcp.upstreams.include",
            ),
            (
                "[[upstreams]]\nname = \"a\"\nurl = \"x\"\nmin_release_age = \"soon\"",
                "mcp.upstreams.min_release_age",
            ),
            ("sync_timeout = \"0\"", "mcp.sync_timeout"),
        ] {
            match parse(text) {
                Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
