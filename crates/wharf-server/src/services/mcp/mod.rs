//! The MCP server catalog: publishing with every check, reading, statuses,
//! namespaces and co-publishers. Errors carry each problem's JSON location,
//! for RFC 9457 problem+json answers.

pub mod entries;
pub mod namespaces;
pub mod packages;
pub mod publish;
pub mod status;

use wharf_core::ports::{BlobError, RepoError};

/// One problem with a request, at a JSON location such as
/// `packages[0].identifier`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
