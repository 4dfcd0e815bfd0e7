//! The pull-through proxy's records: cached upstream pages and the rules
//! (deny, allow-only, admit) an administrator sets at runtime.

use crate::model::NewAuditEvent;
use crate::name::{printable, ProjectName};
use crate::{NormalizedName, Timestamp, ValidationError, Version};

/// The ecosystem a proxy record belongs to, as stored.
pub const PYPI: &str = "pypi";

/// An upstream project page as stored for every instance to share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    pub ecosystem: String,
    pub name: String,
    /// `None`: upstream answered that it has no such project.
    pub body: Option<String>,
    pub etag: Option<String>,
    pub fetched_at: Timestamp,
}

/// What a runtime rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Refuse a name, or one version of it, everywhere.
    Deny,
    /// With any such rule (or the configuration's list), only listed names are proxied.
    AllowOnly,
    /// Serve one version before its release cooldown ends.
    Admit,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::AllowOnly => "allow_only",
            Self::Admit => "admit",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "deny" => Some(Self::Deny),
            "allow_only" => Some(Self::AllowOnly),
            "admit" => Some(Self::Admit),
            _ => None,
        }
    }
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRule {
    pub id: i64,
    pub kind: RuleKind,
    pub spec: Spec,
    pub reason: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

/// A rule to store, with its audit event.
#[derive(Debug, Clone)]
pub struct NewProxyRule {
    pub ecosystem: &'static str,
    pub kind: RuleKind,
    pub spec: Spec,
    pub reason: String,
    pub created_by: Option<i64>,
    pub audit: NewAuditEvent,
}

/// What the shared state holds for one ecosystem's proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProxyStats {
    /// Upstream pages stored.
    pub pages: i64,
    /// Of those, names upstream said it does not have.
    pub pages_missing: i64,
    /// Projects with at least one file fetched through the proxy.
    pub projects: i64,
    pub files_published: i64,
    /// Fetched files held for review or rejected.
    pub files_held: i64,
}

/// `name` or `name==version`: which project (normalized), and optionally
/// which version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub name: NormalizedName,
    pub version: Option<Version>,
}

impl Spec {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let (name, version) = match raw.split_once("==") {
            Some((name, version)) => (name.trim(), Some(version.trim())),
            None => (raw, None),
        };
        let name = ProjectName::parse(name)
            .map_err(|e| {
                ValidationError::new(
                    "invalid_spec",
                    format!(
                        "'{}' is not NAME or NAME==VERSION: {}",
                        printable(raw),
                        e.message
                    ),
                )
            })?
            .normalize();
        let version = version
            .map(|v| {
                Version::parse(v).map_err(|e| {
                    ValidationError::new(
                        "invalid_spec",
                        format!("'{}' has an invalid version: {}", printable(raw), e.message),
                    )
                })
            })
            .transpose()?;
        Ok(Self { name, version })
    }

    /// Whether this spec covers `version` of `name` (a whole-name spec covers every version).
    pub fn covers(&self, name: &str, version: Option<&Version>) -> bool {
        self.name.as_str() == name
            && match (&self.version, version) {
                (None, _) => true,
                (Some(want), Some(got)) => want == got,
                (Some(_), None) => false,
            }
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}=={}", self.name.as_str(), v.canonical()),
            None => f.write_str(self.name.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_normalized() {
        let spec = Spec::parse(" Foo_Bar == 1.0 ").unwrap();
        assert_eq!(spec.to_string(), "foo-bar==1.0");
        assert!(spec.covers("foo-bar", Some(&Version::parse("1.0.0").unwrap())));
        assert!(!spec.covers("foo-bar", Some(&Version::parse("1.1").unwrap())));
        assert!(!spec.covers("foo-bar", None));
        let whole = Spec::parse("foo-bar").unwrap();
        assert!(whole.covers("foo-bar", Some(&Version::parse("9").unwrap())));
        assert!(whole.covers("foo-bar", None));
        for bad in [
            "",
            "==1.0",
            "foo==",
            "foo==not a version",
            "foo;rm -rf /",
            "../x",
        ] {
            let e = Spec::parse(bad).unwrap_err();
            assert_eq!(e.code, "invalid_spec", "{bad}");
        }
    }
}
