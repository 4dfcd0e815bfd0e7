//! What an API token may do. Scopes do not imply each other: a token gets
//! exactly the scopes it was created with.

use crate::ValidationError;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read private data through the API.
    Read,
    /// Upload files, yank and unyank releases of owned projects.
    Publish,
    /// Administer the registry.
    Admin,
    /// Fetch a deployment's launch plan with its credentials (a runner).
    Deploy,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Publish => "publish",
            Self::Admin => "admin",
            Self::Deploy => "deploy",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "read" => Ok(Self::Read),
            "publish" => Ok(Self::Publish),
            "admin" => Ok(Self::Admin),
            "deploy" => Ok(Self::Deploy),
            other => Err(ValidationError::new(
                "invalid_scope",
                format!(
                    "unknown scope '{}': use read, publish, admin or deploy",
                    crate::name::printable(other)
                ),
            )),
        }
    }
}

/// A set of scopes, stored as a comma-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses `read,publish`; an empty list is refused because a token that
    /// can do nothing is always a mistake.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut scopes = Vec::new();
        for part in raw.split(',').filter(|p| !p.trim().is_empty()) {
            let scope = Scope::parse(part)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(ValidationError::new(
                "invalid_scope",
                "give at least one scope: read, publish, admin or deploy",
            ));
        }
        Ok(Self(scopes))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_refuses_unknown_scopes() {
        let s = Scopes::parse("read, publish,read").unwrap();
        assert!(s.contains(Scope::Read) && s.contains(Scope::Publish) && !s.contains(Scope::Admin));
        assert_eq!(s.to_string(), "read,publish");
        assert_eq!(
            Scopes::parse("read,root").unwrap_err().code,
            "invalid_scope"
        );
        assert!(Scopes::parse("").is_err());
    }
}
