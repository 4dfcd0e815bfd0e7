//! Reading the catalog: the registry API's envelopes, listing with cursors,
//! and search.

use super::packages::PackageCheck;
use super::{Catalog, McpError, McpProblem};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use wharf_core::model::{McpListQuery, McpStatus, McpVersion};
use wharf_core::Timestamp;

/// One catalog entry: the `server.json` as published, and the registry's
/// metadata beside it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerResponse {
    /// The `server.json` document, as published.
    #[schema(value_type = Object)]
    pub server: Value,
    #[serde(rename = "_meta")]
    pub meta: ResponseMeta,
}

/// The registry's metadata, under the registry's extension keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResponseMeta {
    #[serde(rename = "io.modelcontextprotocol.registry/official")]
    pub official: OfficialMeta,
    #[serde(rename = "io.wharf/verification")]
    pub verification: VerificationMeta,
    #[serde(rename = "io.wharf/origin")]
    pub origin: OriginMeta,
    /// The latest capture of the server's tools, once it was captured.
    #[serde(rename = "io.wharf/tools", skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsMeta>,
}

/// What the latest capture of a version's remote server listed, in short;
/// the whole list is at `GET /v0.1/x/io.wharf/servers/{name}/versions/{version}/tools`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolsMeta {
    /// `captured`, `needs-credentials` or `failed`.
    pub state: &'static str,
    /// From the latest successful capture: the canonical hash of the tools
    /// (names, descriptions, input schemas), their names, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
}

/// Where an entry comes from: published here, or mirrored from an upstream.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OriginMeta {
    /// `local`, or the configured name of the upstream registry.
    pub registry: String,
    /// When the upstream registry published a mirrored version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_published_at: Option<String>,
    /// Upstream served another document under this version after it was
    /// copied; the copy shown is the first one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictMeta>,
}

/// Another document served upstream under a version already copied.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictMeta {
    /// SHA-256 (hex) of the other document.
    pub sha256: String,
    pub seen_at: String,
}

/// The official registry's metadata of one version.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfficialMeta {
    /// `active`, `deprecated` or `deleted`.
    pub status: &'static str,
    pub published_at: String,
    pub updated_at: String,
    /// When `status` last changed (the publish time until then).
    pub status_changed_at: String,
    pub is_latest: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

/// What Wharf checked for each package of one version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationMeta {
    /// `verified` when every package was, else `partially-verified`.
    pub status: &'static str,
    pub packages: Vec<PackageCheck>,
}

/// A page of entries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerList {
    pub servers: Vec<ServerResponse>,
    pub metadata: ListMetadata,
}

/// Paging, and what a status change touched.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListMetadata {
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub count: usize,
    /// After a status change of every version: how many changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<usize>,
}

/// One entry: the stored server.json, and the registry's metadata beside it.
pub fn entry(v: &McpVersion) -> ServerResponse {
    let server: Value = serde_json::from_str(&v.document).unwrap_or(Value::Null);
    // Rows written before the keys became camelCase read back too.
    let packages: Vec<PackageCheck> = serde_json::from_str(&v.checks).unwrap_or_default();
    let verified = packages.iter().all(|p| p.verified);
    ServerResponse {
        server,
        meta: ResponseMeta {
            official: OfficialMeta {
                status: v.status.as_str(),
                published_at: v.published_at.to_rfc3339_micros(),
                updated_at: v.updated_at.to_rfc3339_micros(),
                // A version's row changes only by a status change after it is
                // published, so its update time is when the status changed.
                status_changed_at: v.updated_at.to_rfc3339_micros(),
                is_latest: v.is_latest,
                status_message: v.status_message.clone(),
            },
            verification: VerificationMeta {
                status: if verified {
                    "verified"
                } else {
                    "partially-verified"
                },
                packages,
            },
            tools: v.tools.as_ref().map(|t| ToolsMeta {
                state: t.state.as_str(),
                tools_hash: t.hash.clone(),
                names: t
                    .names
                    .as_deref()
                    .map(|n| serde_json::from_str(n).unwrap_or_default()),
                captured_at: t.captured_at.map(Timestamp::to_rfc3339_micros),
            }),
            origin: OriginMeta {
                registry: v.origin.clone(),
                upstream_published_at: v.upstream_published_at.map(Timestamp::to_rfc3339_micros),
                conflict: v.conflict.as_ref().map(|c| ConflictMeta {
                    sha256: c.sha256.clone(),
                    seen_at: c.seen_at.to_rfc3339_micros(),
                }),
            },
        },
    }
}

/// The raw query parameters of `GET /v0/servers`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `nextCursor` of the previous page, unchanged.
    pub cursor: Option<String>,
    /// 1 to 100; default 30.
    pub limit: Option<String>,
    /// Words, ranked over name, title and description; printable text.
    pub search: Option<String>,
    /// Only versions changed since this RFC 3339 time.
    pub updated_since: Option<String>,
    /// `latest`, or an exact version.
    pub version: Option<String>,
    /// `true` to list deleted versions too. With `updated_since` deleted
    /// versions are always listed (a sync must see deletions), so `false` is refused.
    pub include_deleted: Option<String>,
}

impl Catalog {
    /// Lists or searches. Listing pages by name (the cursor is `name:version`);
    /// a search is ranked, and its cursor is a position (`#N`).
    pub async fn list(&self, params: ListParams) -> Result<ServerList, McpError> {
        let mut problems = Vec::new();
        let limit = match params.limit.as_deref() {
            None => 30,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    problems.push(McpProblem::at(
                        "query.limit",
                        "limit must be a number from 1 to 100",
                    ));
                    30
                }
            },
        };
        let include_deleted = match params.include_deleted.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                problems.push(McpProblem::at(
                    "query.include_deleted",
                    "include_deleted must be true or false",
                ));
                false
            }
        };
        let updated_since = match params.updated_since.as_deref() {
            None => None,
            Some(raw) => match humantime::parse_rfc3339_weak(raw) {
                Ok(t) => Some(Timestamp::from_system(t)),
                Err(_) => {
                    problems.push(McpProblem::at(
                        "query.updated_since",
                        "updated_since must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
                    ));
                    None
                }
            },
        };
        // A sync asks for what changed since its last run: deletions are changes.
        let include_deleted = match (&updated_since, params.include_deleted.as_deref()) {
            (Some(_), Some("false")) => {
                problems.push(McpProblem::at(
                    "query.include_deleted",
                    "updated_since always includes deleted versions; drop include_deleted=false",
                ));
                true
            }
            (Some(_), _) => true,
            (None, _) => include_deleted,
        };
        if let Some(v) = params.version.as_deref() {
            if v != "latest" {
                if let Err(e) = wharf_core::mcp::check_version(v) {
                    problems.push(McpProblem::at("query.version", e));
                }
            }
        }
        let search = params
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > 200) {
            problems.push(McpProblem::at(
                "query.search",
                "search is longer than 200 characters",
            ));
        }
        if search.is_some_and(|s| s.chars().any(char::is_control)) {
            problems.push(McpProblem::at(
                "query.search",
                "search must be printable text; it contains a control character",
            ));
        }
        if !problems.is_empty() {
            return Err(McpError::invalid("invalid query parameters", problems));
        }

        if let Some(text) = search {
            let offset = match params.cursor.as_deref() {
                None => 0,
                Some(c) => c
                    .strip_prefix('#')
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n >= 0)
                    .ok_or_else(bad_cursor)?,
            };
            let found = self
                .repo
                .search_mcp(text, include_deleted, limit + 1, offset)
                .await?;
            let more = found.len() as i64 > limit;
            let page: Vec<&McpVersion> = found.iter().take(limit as usize).collect();
            let next = more.then(|| format!("#{}", offset + limit));
            return Ok(envelope(&page, next));
        }

        let after = match params.cursor.as_deref() {
            None => None,
            Some(c) => {
                let (name, version) = c.rsplit_once(':').ok_or_else(bad_cursor)?;
                Some((name.to_owned(), version.to_owned()))
            }
        };
        let query = McpListQuery {
            after,
            limit: limit + 1,
            updated_since,
            version: params.version.clone(),
            include_deleted,
        };
        let found = self.repo.list_mcp(&query).await?;
        let more = found.len() as i64 > limit;
        let page: Vec<&McpVersion> = found.iter().take(limit as usize).collect();
        let next = if more {
            page.last().map(|v| format!("{}:{}", v.name, v.version))
        } else {
            None
        };
        Ok(envelope(&page, next))
    }

    /// Every version of one server (deleted ones too, marked so), newest first.
    pub async fn versions(&self, name: &str) -> Result<ServerList, McpError> {
        let all = self.repo.mcp_versions(name).await?;
        if all.is_empty() {
            return Err(not_found(name));
        }
        // The repository lists them in publishing order.
        let refs: Vec<&McpVersion> = all.iter().rev().collect();
        Ok(envelope(&refs, None))
    }

    /// One version, or the latest.
    pub async fn version(&self, name: &str, version: &str) -> Result<ServerResponse, McpError> {
        let wanted = (version != "latest").then_some(version);
        match self.repo.mcp_version(name, wanted).await? {
            Some(v) => Ok(entry(&v)),
            None => Err(McpError::NotFound(match wanted {
                Some(v) => format!("server '{name}' has no version '{v}'"),
                None => format!("server '{name}' not found"),
            })),
        }
    }
}

fn bad_cursor() -> McpError {
    McpError::invalid(
        "invalid cursor",
        vec![McpProblem::at(
            "query.cursor",
            "use the nextCursor of a previous page, unchanged",
        )],
    )
}

fn envelope(page: &[&McpVersion], next_cursor: Option<String>) -> ServerList {
    let servers: Vec<ServerResponse> = page.iter().map(|v| entry(v)).collect();
    ServerList {
        metadata: ListMetadata {
            next_cursor,
            count: servers.len(),
            changed: None,
        },
        servers,
    }
}

pub fn not_found(name: &str) -> McpError {
    McpError::NotFound(format!("server '{name}' not found"))
}

/// Whether a status word is one the API accepts.
pub fn parse_status(raw: &str) -> Result<McpStatus, McpError> {
    McpStatus::parse(raw).ok_or_else(|| {
        McpError::invalid(
            "invalid status",
            vec![McpProblem::at(
                "status",
                format!(
                    "'{}' is not one of active, deprecated, deleted",
                    wharf_core::name::printable(raw)
                ),
            )],
        )
    })
}
