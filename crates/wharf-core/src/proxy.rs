//! The pull-through proxy's records: cached upstream pages and the rules
//! (deny, allow-only, admit) an administrator sets at runtime.

use crate::model::NewAuditEvent;
use crate::name::{printable, ProjectName};
use crate::npm::{NpmVersion, PackageName};
use crate::{Timestamp, ValidationError, Version};

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

/// The ecosystem a proxy record belongs to, as stored.
pub const NPM: &str = "npm";

/// A name, or one version of it, in a rule: `name` or `name==version` for
/// PyPI (normalized, versions compared as PEP 440), `name` or
/// `name@version` for npm (exact, versions exact semver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The normalized PyPI name, or the exact npm name.
    pub name: String,
    pub version: Option<SpecVersion>,
}

/// The version in a rule, in its ecosystem's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecVersion {
    Pep440(Version),
    Npm(NpmVersion),
}

impl SpecVersion {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pep440(v) => v.canonical(),
            Self::Npm(v) => v.as_str(),
        }
    }
}

impl Spec {
    /// A PyPI spec.
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
                Version::parse(v)
                    .map(SpecVersion::Pep440)
                    .map_err(|e| invalid_version(raw, e))
            })
            .transpose()?;
        Ok(Self {
            name: name.as_str().to_owned(),
            version,
        })
    }

    /// An npm spec: `name`, `@scope/name`, or either with `@version`.
    pub fn parse_npm(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        // The version's `@` is the last one, and never the scope's leading one.
        let (name, version) = match raw.rfind('@') {
            Some(at) if at > 0 => (&raw[..at], Some(&raw[at + 1..])),
            _ => (raw, None),
        };
        let name = PackageName::parse(name).map_err(|e| {
            ValidationError::new(
                "invalid_spec",
                format!(
                    "'{}' is not NAME or NAME@VERSION: {}",
                    printable(raw),
                    e.message
                ),
            )
        })?;
        let version = version
            .map(|v| {
                NpmVersion::parse(v)
                    .map(SpecVersion::Npm)
                    .map_err(|e| invalid_version(raw, e))
            })
            .transpose()?;
        Ok(Self {
            name: name.as_str().to_owned(),
            version,
        })
    }

    /// A spec of `ecosystem` ([`PYPI`] or [`NPM`]).
    pub fn parse_in(ecosystem: &str, raw: &str) -> Result<Self, ValidationError> {
        if ecosystem == NPM {
            Self::parse_npm(raw)
        } else {
            Self::parse(raw)
        }
    }

    /// Whether this spec covers `version` of `name` (a whole-name spec covers every version).
    pub fn covers(&self, name: &str, version: Option<&SpecVersion>) -> bool {
        self.name == name
            && match (&self.version, version) {
                (None, _) => true,
                (Some(want), Some(got)) => want == got,
                (Some(_), None) => false,
            }
    }
}

fn invalid_version(raw: &str, e: ValidationError) -> ValidationError {
    ValidationError::new(
        "invalid_spec",
        format!("'{}' has an invalid version: {}", printable(raw), e.message),
    )
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(SpecVersion::Pep440(v)) => write!(f, "{}=={}", self.name, v.canonical()),
            Some(SpecVersion::Npm(v)) => write!(f, "{}@{}", self.name, v.as_str()),
            None => f.write_str(&self.name),
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
        let v = |raw| SpecVersion::Pep440(Version::parse(raw).unwrap());
        assert!(spec.covers("foo-bar", Some(&v("1.0.0"))));
        assert!(!spec.covers("foo-bar", Some(&v("1.1"))));
        assert!(!spec.covers("foo-bar", None));
        let whole = Spec::parse("foo-bar").unwrap();
        assert!(whole.covers("foo-bar", Some(&v("9"))));
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

    #[test]
    fn npm_specs_keep_the_scope_and_take_the_last_at() {
        let spec = Spec::parse_npm("@acme/tool@1.2.3").unwrap();
        assert_eq!(spec.name, "@acme/tool");
        assert_eq!(spec.to_string(), "@acme/tool@1.2.3");
        let v = |raw| SpecVersion::Npm(NpmVersion::parse(raw).unwrap());
        assert!(spec.covers("@acme/tool", Some(&v("1.2.3"))));
        assert!(!spec.covers("@acme/tool", Some(&v("1.2.4"))));
        let whole = Spec::parse_in(NPM, "left-pad").unwrap();
        assert!(whole.covers("left-pad", Some(&v("1.0.0"))));
        assert_eq!(Spec::parse_in(NPM, "@acme/tool").unwrap().version, None);
        for bad in [
            "",
            "@",
            "@acme",
            "x@latest",
            "x@^1.0.0",
            "a b",
            "x@1.0.0;id",
        ] {
            assert_eq!(
                Spec::parse_npm(bad).unwrap_err().code,
                "invalid_spec",
                "{bad}"
            );
        }
    }
}
