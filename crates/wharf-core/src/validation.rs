//! The error for input that breaks a domain rule. It carries a stable code for
//! machines and a message that tells a person what to fix.

/// A rule that some input broke: a name, a version, a filename or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// Stable machine-readable code, e.g. `invalid_name`.
    pub code: &'static str,
    /// What went wrong and how to fix it, for a person.
    pub message: String,
}

impl ValidationError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
