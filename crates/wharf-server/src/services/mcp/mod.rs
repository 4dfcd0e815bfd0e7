//! The MCP server catalog: publishing with every check, reading, statuses,
//! namespaces and co-publishers. Errors carry each problem's JSON location,
//! for RFC 9457 problem+json answers.

pub mod capture;
pub mod entries;
pub mod holds;
pub mod namespaces;
pub mod packages;
pub mod publish;
pub mod sandbox;
pub mod status;
pub mod sync;

use crate::services::reference_names::ReferenceNames;
use std::path::PathBuf;
use std::sync::Arc;
use wharf_core::mcp::UrlPolicy;
use wharf_core::ports::{BlobError, BlobStore, McpRepo, ProjectRepo, RepoError, UserRepo};
use wharf_upstream::Upstream;

/// The MCP catalog: reads, publishing with every check, statuses,
/// namespace grants and co-publishers. Built once, in `App::from_parts`.
pub struct Catalog {
    pub(crate) repo: Arc<dyn McpRepo>,
    pub(crate) users: Arc<dyn UserRepo>,
    /// Packages hosted here shadow upstream ones, and prove ownership.
    pub(crate) projects: Arc<dyn ProjectRepo>,
    /// npm packages hosted here, the same.
    pub(crate) npm: Arc<dyn wharf_core::ports::NpmRepo>,
    /// Hosted wheels' metadata, read for the `mcp-name:` marker.
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) upstream: Upstream,
    pub(crate) names: ReferenceNames,
    pub(crate) url_policy: UrlPolicy,
    /// The registries a package's `registryBaseUrl` may name: the
    /// configured upstreams and this registry's public address.
    pub(crate) npm_url: Option<String>,
    pub(crate) pypi_url: Option<String>,
    pub(crate) public_url: Option<String>,
    /// Where hosted metadata is copied to be read.
    pub(crate) tmp_dir: PathBuf,
    /// The upstream registries mirrored into the catalog (`[[mcp.upstreams]]`).
    pub mirrors: Vec<sync::Mirror>,
    /// Connects to remote servers to list their tools; None when
    /// `[mcp.capture] remote = false`.
    pub(crate) capture: Option<wharf_upstream::mcp_client::McpClient>,
    pub(crate) capture_deadline: std::time::Duration,
    /// Runs PyPI stdio servers to list their tools; None unless
    /// `[mcp.capture] sandbox = true` and bubblewrap works here.
    pub(crate) sandbox: Option<Arc<sandbox::Sandbox>>,
    /// Where capture jobs wait for a worker.
    pub(crate) jobs: Arc<dyn wharf_core::ports::JobQueue>,
    /// How long a sync lease lasts without renewal; every page renews it.
    pub(crate) sync_lease: std::time::Duration,
    /// This process's name in the sync leases.
    pub(crate) sync_holder: String,
    /// Held while this process syncs.
    pub(crate) sync_running: tokio::sync::Mutex<()>,
}

/// The audit details of catalog changes: what changed, never secrets.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct AuditDetail<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<&'a [packages::PackageCheck]>,
}

impl AuditDetail<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One problem with a request, at a JSON location such as
/// `packages[0].identifier`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct McpProblem {
    pub location: String,
    pub message: String,
}

impl McpProblem {
    pub fn at(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// 400, with every problem found.
    #[error("{detail}")]
    Invalid {
        detail: String,
        problems: Vec<McpProblem>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// 409: the version is already in the state asked for.
    #[error("{0}")]
    Conflict(String),
    /// 503: an upstream registry could not answer; retry later. The check
    /// fails closed rather than publishing what it could not verify.
    #[error("{detail}")]
    UpstreamUnavailable {
        detail: String,
        problems: Vec<McpProblem>,
    },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl McpError {
    pub fn invalid(detail: impl Into<String>, problems: Vec<McpProblem>) -> Self {
        Self::Invalid {
            detail: detail.into(),
            problems,
        }
    }
}
