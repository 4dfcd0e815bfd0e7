//! `[connections]`: how long a client may take to send a request's headers
//! or sit idle between requests, and how many connections it may hold open.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// Limits on TCP connections, applied before any request is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connections {
    /// How long a client has to send a request's headers, counted from when
    /// the server is ready for them; it also closes a keep-alive connection
    /// idle for that long. Default 10 s.
    pub header_read_timeout: Duration,
    /// Most connections one client (an IPv4 address, or an IPv6 /64) may
    /// hold open at once; trusted proxies are held only to the total. Default 64.
    pub max_per_client: usize,
    /// Most connections open at once, from everyone. Default 4096.
    pub max_total: usize,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_per_client: 64,
            max_total: 4096,
        }
    }
}

/// The file's `[connections]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConnections {
    header_read_timeout: Option<String>,
    max_per_client: Option<u64>,
    max_total: Option<u64>,
}

/// Environment variables win over the file.
pub(super) fn load(
    file: Option<FileConnections>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Connections, ConfigError> {
    let file = file.unwrap_or_default();
    let mut c = Connections::default();
    if let Some(raw) = env("WHARF_CONNECTIONS_HEADER_READ_TIMEOUT").or(file.header_read_timeout) {
        c.header_read_timeout = humantime::parse_duration(&raw)
            .ok()
            .filter(|d| (Duration::from_secs(1)..=Duration::from_secs(300)).contains(d))
            .ok_or_else(|| ConfigError::Invalid {
                field: "connections.header_read_timeout (WHARF_CONNECTIONS_HEADER_READ_TIMEOUT)",
                value: raw.clone(),
                fix: "give a duration between 1s and 5m; the default is 10s",
            })?;
    }
    let count = |field: &'static str,
                 var: &str,
                 from_file: Option<u64>,
                 max: u64,
                 fix: &'static str|
     -> Result<Option<usize>, ConfigError> {
        let raw = match env(var) {
            Some(raw) => raw,
            None => match from_file {
                Some(n) => n.to_string(),
                None => return Ok(None),
            },
        };
        match raw.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n as usize)),
            _ => Err(ConfigError::Invalid {
                field,
                value: raw,
                fix,
            }),
        }
    };
    if let Some(n) = count(
        "connections.max_per_client (WHARF_CONNECTIONS_MAX_PER_CLIENT)",
        "WHARF_CONNECTIONS_MAX_PER_CLIENT",
        file.max_per_client,
        100_000,
        "give a number between 1 and 100000; the default is 64",
    )? {
        c.max_per_client = n;
    }
    if let Some(n) = count(
        "connections.max_total (WHARF_CONNECTIONS_MAX_TOTAL)",
        "WHARF_CONNECTIONS_MAX_TOTAL",
        file.max_total,
        1_000_000,
        "give a number between 1 and 1000000, below the process's open-file limit; the default is 4096",
    )? {
        c.max_total = n;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env_of;

    #[test]
    fn defaults_bound_slow_clients_and_connection_counts() {
        let c = load(None, &env_of(&[])).unwrap();
        assert_eq!(c, Connections::default());
        assert_eq!(c.header_read_timeout, Duration::from_secs(10));
        assert_eq!((c.max_per_client, c.max_total), (64, 4096));
    }

    #[test]
    fn the_file_is_read_and_the_environment_wins() {
        let file: FileConnections =
            toml::from_str("header_read_timeout = \"30s\"\nmax_per_client = 8\nmax_total = 100\n")
                .unwrap();
        let c = load(Some(file), &env_of(&[])).unwrap();
        assert_eq!(c.header_read_timeout, Duration::from_secs(30));
        assert_eq!((c.max_per_client, c.max_total), (8, 100));

        let file: FileConnections = toml::from_str("max_per_client = 8\n").unwrap();
        let c = load(
            Some(file),
            &env_of(&[
                ("WHARF_CONNECTIONS_HEADER_READ_TIMEOUT", "2s"),
                ("WHARF_CONNECTIONS_MAX_PER_CLIENT", "500"),
                ("WHARF_CONNECTIONS_MAX_TOTAL", "20000"),
            ]),
        )
        .unwrap();
        assert_eq!(c.header_read_timeout, Duration::from_secs(2));
        assert_eq!((c.max_per_client, c.max_total), (500, 20_000));
    }

    #[test]
    fn zero_and_absurd_values_are_refused_naming_the_setting() {
        for (var, value, field) in [
            (
                "WHARF_CONNECTIONS_HEADER_READ_TIMEOUT",
                "0s",
                "header_read_timeout",
            ),
            (
                "WHARF_CONNECTIONS_HEADER_READ_TIMEOUT",
                "1h",
                "header_read_timeout",
            ),
            (
                "WHARF_CONNECTIONS_HEADER_READ_TIMEOUT",
                "soon",
                "header_read_timeout",
            ),
            ("WHARF_CONNECTIONS_MAX_PER_CLIENT", "0", "max_per_client"),
            ("WHARF_CONNECTIONS_MAX_PER_CLIENT", "-1", "max_per_client"),
            ("WHARF_CONNECTIONS_MAX_TOTAL", "0", "max_total"),
            ("WHARF_CONNECTIONS_MAX_TOTAL", "99999999", "max_total"),
        ] {
            let env = move |k: &str| (k == var).then(|| value.to_owned());
            let msg = load(None, &env).unwrap_err().to_string();
            assert!(
                msg.contains(&format!("connections.{field}")) && msg.contains(var),
                "{var}={value}: {msg}"
            );
            assert!(msg.contains("the default is"), "{msg}");
        }
        let file: FileConnections = toml::from_str("max_total = 0\n").unwrap();
        let msg = load(Some(file), &env_of(&[])).unwrap_err().to_string();
        assert!(msg.contains("connections.max_total"), "{msg}");
    }
}
