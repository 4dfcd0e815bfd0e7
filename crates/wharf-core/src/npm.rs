//! npm's rules: package names, versions, and how a package's rows are keyed
//! beside PyPI projects in the shared tables.

use crate::mcp::check_npm_name;
use crate::name::printable;
use crate::ValidationError;

/// The ecosystem a project row, a proxy record or a scan belongs to, as stored.
pub const NPM: &str = "npm";

/// How long after publishing a version may be unpublished (npm's rule).
pub const UNPUBLISH_WINDOW: std::time::Duration = std::time::Duration::from_secs(72 * 3600);

/// A checked npm package name: lowercase, URL-safe, `name` or `@scope/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageName(String);

impl PackageName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        check_npm_name(raw).map_err(|m| ValidationError::new("invalid_name", m))?;
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `acme` of `@acme/tool`.
    pub fn scope(&self) -> Option<&str> {
        self.0
            .strip_prefix('@')
            .and_then(|s| s.split_once('/'))
            .map(|(scope, _)| scope)
    }

    /// The name without its scope: what the tarball's file name starts with.
    pub fn basename(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The key of its row in `projects.normalized`. PyPI's normalized names
    /// never hold `:`, so the two ecosystems cannot collide.
    pub fn project_key(&self) -> String {
        format!("{NPM}:{}", self.0)
    }

    /// The tarball's file name, as npm names it: `tool-1.2.3.tgz`.
    pub fn tarball_name(&self, version: &NpmVersion) -> String {
        format!("{}-{}.tgz", self.basename(), version.as_str())
    }

    /// [`tarball_name`](Self::tarball_name) of a version as stored.
    pub fn tarball_name_str(&self, version: &str) -> String {
        format!("{}-{version}.tgz", self.basename())
    }

    /// The stored file name, unique across packages: the tarball's path
    /// under the registry, `@acme/tool/-/tool-1.2.3.tgz`.
    pub fn file_key(&self, version: &NpmVersion) -> String {
        format!("{}/-/{}", self.0, self.tarball_name(version))
    }
}

impl std::fmt::Display for PackageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A published npm version: strict SemVer 2.0, as npm requires, without
/// build metadata (npm drops it, so `1.0.0+a` and `1.0.0+b` would be one version).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NpmVersion {
    raw: String,
    parsed: semver::Version,
}

impl NpmVersion {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |why: String| ValidationError::new("invalid_version", why);
        if raw.len() > 256 {
            return Err(invalid("an npm version is at most 256 characters".into()));
        }
        let parsed = semver::Version::parse(raw).map_err(|e| {
            invalid(format!(
                "'{}' is not a SemVer version such as 1.2.3 ({e})",
                printable(raw)
            ))
        })?;
        if !parsed.build.is_empty() {
            return Err(invalid(format!(
                "'{}' has build metadata (+{}); npm ignores it, so publish {} instead",
                printable(raw),
                parsed.build,
                semver::Version {
                    build: semver::BuildMetadata::EMPTY,
                    ..parsed.clone()
                }
            )));
        }
        Ok(Self {
            raw: raw.to_owned(),
            parsed,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_prerelease(&self) -> bool {
        !self.parsed.pre.is_empty()
    }
}

impl Ord for NpmVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parsed.cmp(&other.parsed)
    }
}

impl PartialOrd for NpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A dist-tag: not empty, not a version or range (npm's rule, so `npm install
/// pkg@tag` cannot be read two ways), and nothing a shell or a URL would act on.
pub fn check_tag(tag: &str) -> Result<(), ValidationError> {
    let invalid = |why: String| ValidationError::new("invalid_tag", why);
    if tag.is_empty() || tag.len() > 64 {
        return Err(invalid("a dist-tag has 1 to 64 characters".into()));
    }
    if !tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(invalid(format!(
            "'{}' may use only letters, digits, '-', '.' and '_'",
            printable(tag)
        )));
    }
    if semver::Version::parse(tag).is_ok() || semver::VersionReq::parse(tag).is_ok() {
        return Err(invalid(format!(
            "'{}' reads as a version or a range; a tag must not",
            printable(tag)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_key_their_rows_and_files() {
        let scoped = PackageName::parse("@acme/tool").unwrap();
        let v = NpmVersion::parse("1.2.3-beta.1").unwrap();
        assert_eq!(scoped.scope(), Some("acme"));
        assert_eq!(scoped.basename(), "tool");
        assert_eq!(scoped.project_key(), "npm:@acme/tool");
        assert_eq!(scoped.tarball_name(&v), "tool-1.2.3-beta.1.tgz");
        assert_eq!(scoped.file_key(&v), "@acme/tool/-/tool-1.2.3-beta.1.tgz");
        let plain = PackageName::parse("left-pad").unwrap();
        assert_eq!(plain.scope(), None);
        assert_eq!(
            plain.file_key(&NpmVersion::parse("1.0.0").unwrap()),
            "left-pad/-/left-pad-1.0.0.tgz"
        );
        for bad in ["", "Caps", "@acme", "a b", "../x", "fs", "x;rm"] {
            assert_eq!(
                PackageName::parse(bad).unwrap_err().code,
                "invalid_name",
                "{bad}"
            );
        }
    }

    #[test]
    fn versions_are_strict_semver_and_order_as_semver() {
        for bad in [
            "1.0",
            "v1.0.0",
            "1.0.0+build.1",
            "latest",
            "^1.0.0",
            "1.0.0;id",
        ] {
            assert_eq!(
                NpmVersion::parse(bad).unwrap_err().code,
                "invalid_version",
                "{bad}"
            );
        }
        let mut versions: Vec<NpmVersion> = ["1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.9"]
            .iter()
            .map(|v| NpmVersion::parse(v).unwrap())
            .collect();
        versions.sort();
        let order: Vec<&str> = versions.iter().map(NpmVersion::as_str).collect();
        assert_eq!(order, ["0.9.9", "1.2.0-rc.1", "1.2.0", "1.10.0"]);
        assert!(versions[1].is_prerelease());
    }

    #[test]
    fn tags_are_words_not_versions() {
        for ok in ["latest", "next", "beta", "release_2"] {
            assert!(check_tag(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1.0.0", "^1", "a b", "x/y", "x;y"] {
            assert_eq!(check_tag(bad).unwrap_err().code, "invalid_tag", "{bad}");
        }
    }
}

/// Records of hosted npm packages, as the repository reads and writes them.
pub mod record {
    use crate::model::{FileRecord, NewAuditEvent, NewUpload};
    use crate::Timestamp;

    /// A hosted package with everything its packument shows.
    #[derive(Debug, Clone)]
    pub struct StoredPackage {
        pub project_id: i64,
        pub name: String,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
        /// Owners' user names, sorted.
        pub owners: Vec<String>,
        /// Every version ever published, oldest first, unpublished ones included.
        pub versions: Vec<StoredVersion>,
        /// `(tag, version)`, sorted by tag.
        pub dist_tags: Vec<(String, String)>,
    }

    /// One published version.
    #[derive(Debug, Clone)]
    pub struct StoredVersion {
        pub id: i64,
        pub version: String,
        /// The version document as published, without `dist` (JSON).
        pub manifest: String,
        /// `sha512-<base64>`.
        pub integrity: String,
        /// SHA-1, hex.
        pub shasum: String,
        pub deprecated: Option<String>,
        pub published_at: Timestamp,
        pub unpublished_at: Option<Timestamp>,
        pub file: FileRecord,
    }

    /// A version to record: its tarball as an upload, and the npm fields.
    #[derive(Debug, Clone)]
    pub struct NewVersion {
        pub upload: NewUpload,
        pub manifest: String,
        pub integrity: String,
        pub shasum: String,
        /// Names of every package it depends on.
        pub dependencies: Vec<String>,
        /// Tags to point at it (`latest`, or the publish's `--tag`).
        pub tags: Vec<String>,
    }

    /// What recording a version came to.
    #[derive(Debug, Clone)]
    pub enum PublishOutcome {
        Created {
            file: Box<FileRecord>,
            created_project: bool,
            /// The verification job queued with it, for a `pending` file.
            verify_job: Option<i64>,
        },
        /// The version exists (or existed and was unpublished): never reused.
        VersionExists,
        /// The package exists and the publisher does not own it.
        NotOwner,
    }

    /// A change to one package, with its audit event.
    #[derive(Debug, Clone)]
    pub enum Change {
        /// Point `tag` at `version`, or remove it.
        Tag {
            tag: String,
            version: Option<String>,
        },
        /// Set (or clear, with `None`) versions' deprecation messages.
        Deprecate {
            versions: Vec<(String, Option<String>)>,
        },
        /// Unpublish one version at `at`; its tags that point at it go too.
        Unpublish { version: String, at: Timestamp },
        /// Add or remove an owner, by user ID.
        Owner { user_id: i64, add: bool },
    }

    /// A change and the event recorded in the same transaction.
    #[derive(Debug, Clone)]
    pub struct PackageChange {
        pub project_id: i64,
        pub change: Change,
        pub audit: NewAuditEvent,
    }

    /// A search hit.
    #[derive(Debug, Clone)]
    pub struct NpmHit {
        pub name: String,
        pub description: String,
        pub updated_at: Timestamp,
    }
}
