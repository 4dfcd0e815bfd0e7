//! How a look-up fails. Every variant means "the answer is unknown" and a
//! check that needed it must fail closed; only [`UpstreamError::Unavailable`]
//! may succeed if tried again later.
//!
//! Reasons never quote a URL (the upstream address is configuration, and
//! errors reach users) and quote a caller's input only after
//! [`wharf_core::name::printable`] has bounded it.

/// Why an upstream look-up gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// No URL is configured for this registry, so it cannot be asked.
    #[error("no upstream {registry} registry is configured (set upstream.{registry}_url)")]
    NotConfigured {
        /// `"npm"` or `"pypi"`.
        registry: &'static str,
    },
    /// Upstream could not answer now: 429, 5xx, another unexpected status, a
    /// timeout, a connection error. Retryable.
    #[error("the upstream {registry} registry is unavailable ({reason}); try again later")]
    Unavailable {
        /// `"npm"` or `"pypi"`.
        registry: &'static str,
        /// What happened, for a person.
        reason: String,
    },
    /// The name or version may not be looked up (it could not be a package
    /// there, or is unsafe in a URL), or upstream's answer was unusable:
    /// too large, not JSON, the wrong shape, or about another package.
    #[error("upstream {registry} look-up refused: {reason}")]
    Invalid {
        /// `"npm"` or `"pypi"`.
        registry: &'static str,
        /// What is wrong, for a person.
        reason: String,
    },
    /// The settings are unusable; found once, by [`Upstream::new`](crate::Upstream::new).
    #[error("upstream settings: {0}")]
    Config(String),
}

impl UpstreamError {
    /// Whether the same look-up may succeed later (upstream was unavailable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// A stable machine-readable code for API errors and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured { .. } => "upstream_not_configured",
            Self::Unavailable { .. } => "upstream_unavailable",
            Self::Invalid { .. } => "upstream_invalid",
            Self::Config(_) => "upstream_misconfigured",
        }
    }

    pub(crate) fn unavailable(registry: &'static str, reason: impl Into<String>) -> Self {
        Self::Unavailable {
            registry,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(registry: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            registry,
            reason: reason.into(),
        }
    }
}
