//! Pages of an upstream MCP registry's `GET /v0.1/servers`, for the catalog
//! sync: what changed since a time, one page at a time, bounded in time and
//! size like every other upstream request. Entries are handed over as the
//! registry wrote them; checking them is the catalog's job.

use crate::fetch::{Fetched, Fetcher};
use crate::settings::base_url;
use crate::{UpstreamError, UpstreamSettings};
use serde_json::Value;
use std::time::Duration;

const REGISTRY: &str = "MCP";

/// The key of the official registry's metadata in each entry's `_meta`.
const OFFICIAL: &str = "io.modelcontextprotocol.registry/official";

/// One upstream registry that speaks `/v0.1`.
pub struct McpRegistry {
    base: String,
    fetcher: Fetcher,
}

/// One entry of a page: the `server.json` and the registry's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryEntry {
    /// The document as upstream served it (not checked).
    pub server: Value,
    pub status: Option<String>,
    pub status_message: Option<String>,
    pub published_at: Option<String>,
    pub updated_at: Option<String>,
}

/// One page, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryPage {
    pub entries: Vec<RegistryEntry>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

impl McpRegistry {
    /// `setting` names the configuration entry in errors, e.g.
    /// `mcp.upstreams[0].url`.
    pub fn new(
        setting: &'static str,
        url: &str,
        timeout: Duration,
        max_body_bytes: usize,
    ) -> Result<Self, UpstreamError> {
        let settings = UpstreamSettings {
            timeout,
            max_body_bytes,
            ..UpstreamSettings::default()
        };
        settings.check_limits()?;
        Ok(Self {
            base: base_url(setting, url)?,
            fetcher: Fetcher::new(&settings)?,
        })
    }

    /// Versions changed since `since` (an RFC 3339 time as upstream wrote it),
    /// from `cursor` on.
    pub async fn page(
        &self,
        since: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<RegistryPage, UpstreamError> {
        let mut url = reqwest::Url::parse(&format!("{}/v0.1/servers", self.base))
            .map_err(|e| UpstreamError::Config(format!("cannot build the page URL: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("limit", &limit.to_string());
            if let Some(since) = since {
                query.append_pair("updated_since", since);
            }
            if let Some(cursor) = cursor {
                query.append_pair("cursor", cursor);
            }
        }
        match self.fetcher.get(REGISTRY, url).await? {
            Fetched::Body(body) => parse_page(&body),
            Fetched::NotFound => Err(UpstreamError::invalid(
                REGISTRY,
                "answered 404 for /v0.1/servers: is the URL the registry's base address?",
            )),
        }
    }
}

/// Reads a page strictly where paging depends on it (`servers` must be an
/// array, `nextCursor` a string if present) and loosely inside entries: an
/// entry without a `server` object is handed on as `Value::Null`, so the
/// caller can count it without losing the rest of the page.
fn parse_page(body: &[u8]) -> Result<RegistryPage, UpstreamError> {
    let page: Value = serde_json::from_slice(body)
        .map_err(|e| UpstreamError::invalid(REGISTRY, format!("the page is not JSON: {e}")))?;
    let Some(servers) = page.get("servers").and_then(Value::as_array) else {
        return Err(UpstreamError::invalid(
            REGISTRY,
            "the page has no `servers` array",
        ));
    };
    let next_cursor = match page.get("metadata").and_then(|m| m.get("nextCursor")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(UpstreamError::invalid(
                REGISTRY,
                "the page's `metadata.nextCursor` is not a string",
            ))
        }
    };
    let entries = servers
        .iter()
        .map(|entry| {
            let official = entry.get("_meta").and_then(|m| m.get(OFFICIAL));
            let text = |key: &str| {
                official
                    .and_then(|o| o.get(key))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            RegistryEntry {
                server: entry
                    .get("server")
                    .filter(|s| s.is_object())
                    .cloned()
                    .unwrap_or(Value::Null),
                status: text("status"),
                status_message: text("statusMessage"),
                published_at: text("publishedAt"),
                updated_at: text("updatedAt"),
            }
        })
        .collect();
    Ok(RegistryPage {
        entries,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_page;

    #[test]
    fn a_page_reads_entries_metadata_and_cursor() {
        let page = parse_page(
            br#"{"servers":[{"server":{"name":"a/b","version":"1.0.0"},
                 "_meta":{"io.modelcontextprotocol.registry/official":{"status":"deleted",
                 "publishedAt":"2025-09-10T13:57:43Z","updatedAt":"2025-09-11T00:00:00Z"}}},
                 {"nothing":1}],
                 "metadata":{"nextCursor":"a/b:1.0.0","count":2}}"#,
        )
        .unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("a/b:1.0.0"));
        assert_eq!(page.entries[0].status.as_deref(), Some("deleted"));
        assert_eq!(
            page.entries[0].updated_at.as_deref(),
            Some("2025-09-11T00:00:00Z")
        );
        assert!(page.entries[1].server.is_null());
    }

    #[test]
    fn pages_that_break_paging_are_refused() {
        for (body, fragment) in [
            (&b"<html>"[..], "not JSON"),
            (br#"{"servers":{}}"#, "no `servers` array"),
            (
                br#"{"servers":[],"metadata":{"nextCursor":7}}"#,
                "nextCursor",
            ),
        ] {
            let error = parse_page(body).unwrap_err().to_string();
            assert!(error.contains(fragment), "{error}");
        }
    }
}
