//! An upstream npm registry for the npm proxy: one packument at a time,
//! revalidated with its ETag, and the tarballs it lists, streamed.
//!
//! A packument is read strictly where it matters: it must be about the
//! package asked for, and a tarball URL off the allowed origins makes the
//! whole packument unusable rather than quietly shorter. Versions Wharf
//! cannot serve (not exact semver, no tarball, no SHA-512 or SHA-1 to check
//! the bytes against) are left out. Only what npm reads to install is kept:
//! never a version's `readme`.

use crate::index_client::{FileDownload, IndexClient, IndexSettings, PageFetch};
use crate::UpstreamError;
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use wharf_core::name::printable;
use wharf_core::npm::{NpmVersion, PackageName};

const REGISTRY: &str = "npm";
/// The full packument: the abbreviated one has no `time`, which the cooldown needs.
const ACCEPT_PACKUMENT: &str = "application/json";

/// The fields of a version document kept: what the npm CLI reads to
/// resolve, install and show a version.
const KEPT_FIELDS: &[&str] = &[
    "name",
    "version",
    "description",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
    "homepage",
    "repository",
    "keywords",
    "author",
    "main",
    "mcpName",
];

/// One version as upstream lists it, checked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UpstreamNpmVersion {
    /// The version document, reduced to [`KEPT_FIELDS`]; never `dist`.
    pub manifest: Map<String, Value>,
    /// Absolute, on an allowed origin.
    pub tarball: String,
    /// `sha512-<base64>`, when upstream gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// SHA-1, lowercase hex, when upstream gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shasum: Option<String>,
    /// When it was published (the packument's `time`), as upstream wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

impl UpstreamNpmVersion {
    /// The SHA-512 digest the tarball must have, decoded.
    pub fn sha512(&self) -> Option<Vec<u8>> {
        let encoded = self.integrity.as_deref()?.strip_prefix("sha512-")?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .filter(|d| d.len() == 64)
    }
}

/// A packument, reduced to what Wharf serves.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UpstreamPackument {
    pub name: String,
    #[serde(default)]
    pub dist_tags: BTreeMap<String, String>,
    /// By version.
    pub versions: BTreeMap<String, UpstreamNpmVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

/// Where the registry is (its root, which `npm config get registry` prints).
pub type NpmRegistrySettings = IndexSettings;

/// The client for one upstream npm registry.
pub struct NpmRegistry {
    client: IndexClient,
}

impl NpmRegistry {
    pub fn new(settings: NpmRegistrySettings) -> Result<Self, UpstreamError> {
        Ok(Self {
            client: IndexClient::new(REGISTRY, "proxy.npm", settings)?,
        })
    }

    /// The packument of `name`, revalidated with `etag` when a copy is held.
    pub async fn packument(
        &self,
        name: &PackageName,
        etag: Option<&str>,
    ) -> Result<PageFetch<UpstreamPackument>, UpstreamError> {
        let segment = crate::npm::name_segment(name.as_str())?;
        let what = format!("the packument of '{name}'");
        let url = self.client.url(&segment)?;
        let fetched = self.client.page(url, ACCEPT_PACKUMENT, etag, &what).await?;
        fetched.try_map(|raw| {
            self.read(name, &raw.body).map_err(|reason| {
                UpstreamError::invalid(REGISTRY, format!("{what} is refused: {reason}"))
            })
        })
    }

    /// Starts downloading a tarball URL from a checked packument.
    pub async fn download(&self, url: &str) -> Result<FileDownload, UpstreamError> {
        self.client.download(url).await
    }

    fn read(&self, name: &PackageName, body: &[u8]) -> Result<UpstreamPackument, String> {
        let document: Value =
            serde_json::from_slice(body).map_err(|e| format!("it is not JSON ({e})"))?;
        let document = document.as_object().ok_or("it is not a JSON object")?;
        if document.get("name").and_then(Value::as_str) != Some(name.as_str()) {
            return Err("it is not about the package asked for".into());
        }
        let time = document.get("time").and_then(Value::as_object);
        let time_of = |key: &str| {
            time.and_then(|t| t.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let mut versions = BTreeMap::new();
        if let Some(listed) = document.get("versions") {
            let listed = listed.as_object().ok_or("`versions` is not an object")?;
            for (version, manifest) in listed {
                if let Some(checked) = self.read_version(name, version, manifest, &time_of)? {
                    versions.insert(version.clone(), checked);
                }
            }
        }
        let mut dist_tags = BTreeMap::new();
        if let Some(tags) = document.get("dist-tags").and_then(Value::as_object) {
            for (tag, target) in tags {
                if let Some(target) = target.as_str() {
                    if versions.contains_key(target) && wharf_core::npm::check_tag(tag).is_ok() {
                        dist_tags.insert(tag.clone(), target.to_owned());
                    }
                }
            }
        }
        Ok(UpstreamPackument {
            name: name.as_str().to_owned(),
            dist_tags,
            versions,
            description: document
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            created: time_of("created"),
            modified: time_of("modified"),
        })
    }

    /// One version: `None` when it is left out, an error when the whole
    /// packument must be refused.
    fn read_version(
        &self,
        name: &PackageName,
        version: &str,
        manifest: &Value,
        time_of: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<UpstreamNpmVersion>, String> {
        if NpmVersion::parse(version).is_err() {
            return Ok(None);
        }
        let Some(manifest) = manifest.as_object() else {
            return Ok(None);
        };
        if manifest.get("name").and_then(Value::as_str) != Some(name.as_str())
            || manifest.get("version").and_then(Value::as_str) != Some(version)
        {
            return Err(format!(
                "version '{}' describes another package or version",
                printable(version)
            ));
        }
        let Some(dist) = manifest.get("dist").and_then(Value::as_object) else {
            return Ok(None);
        };
        let Some(tarball) = dist.get("tarball").and_then(Value::as_str) else {
            return Ok(None);
        };
        let url = reqwest::Url::parse(tarball).map_err(|_| {
            format!(
                "the tarball URL of '{}' is not absolute",
                printable(version)
            )
        })?;
        if !self.client.allowed(&url) {
            return Err(format!(
                "the tarball of '{}' points outside the allowed origins (add its origin to proxy.npm.file_origins if it is trusted)",
                printable(version)
            ));
        }
        let integrity = dist
            .get("integrity")
            .and_then(Value::as_str)
            .and_then(|all| all.split_whitespace().find(|i| i.starts_with("sha512-")))
            .map(str::to_owned);
        let shasum = dist
            .get("shasum")
            .and_then(Value::as_str)
            .filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase);
        let checked = UpstreamNpmVersion {
            manifest: manifest
                .iter()
                .filter(|(k, _)| KEPT_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            tarball: url.to_string(),
            integrity,
            shasum,
            published: time_of(version),
        };
        if checked.integrity.is_some() && checked.sha512().is_none() {
            return Err(format!(
                "the integrity of '{}' is not a SHA-512 digest",
                printable(version)
            ));
        }
        if checked.integrity.is_none() && checked.shasum.is_none() {
            // Nothing to check the bytes against.
            return Ok(None);
        }
        Ok(Some(checked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn registry() -> NpmRegistry {
        NpmRegistry::new(NpmRegistrySettings {
            index_url: "http://127.0.0.1:9/".into(),
            file_origins: vec![],
            timeout: Duration::from_secs(1),
            file_timeout: Duration::from_secs(1),
            max_page_bytes: 1 << 20,
        })
        .unwrap()
    }

    fn integrity() -> String {
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 64])
        )
    }

    fn packument(tarball: &str) -> String {
        serde_json::json!({
            "name": "demo",
            "dist-tags": {"latest": "1.0.0", "next": "9.9.9"},
            "time": {"created": "2020-01-01T00:00:00.000Z", "1.0.0": "2020-01-02T00:00:00.000Z"},
            "versions": {
                "1.0.0": {
                    "name": "demo", "version": "1.0.0", "readme": "long text",
                    "dependencies": {"ms": "^2.0.0"},
                    "dist": {"tarball": tarball, "integrity": integrity(), "shasum": "A".repeat(40)}
                },
                "1.0.1": {"name": "demo", "version": "1.0.1", "dist": {"tarball": tarball}},
                "latest": {"name": "demo", "version": "latest", "dist": {"tarball": tarball}}
            }
        })
        .to_string()
    }

    #[test]
    fn versions_keep_what_npm_installs_from() {
        let name = PackageName::parse("demo").unwrap();
        let page = registry()
            .read(
                &name,
                packument("http://127.0.0.1:9/demo/-/demo-1.0.0.tgz").as_bytes(),
            )
            .unwrap();
        assert_eq!(
            page.versions.len(),
            1,
            "no hash and not semver are left out"
        );
        let v = &page.versions["1.0.0"];
        assert_eq!(v.published.as_deref(), Some("2020-01-02T00:00:00.000Z"));
        assert_eq!(v.sha512().unwrap(), vec![7u8; 64]);
        assert_eq!(v.shasum.as_deref(), Some(&*"a".repeat(40)));
        assert!(v.manifest.contains_key("dependencies"));
        assert!(!v.manifest.contains_key("readme"));
        assert!(!v.manifest.contains_key("dist"));
        assert_eq!(
            page.dist_tags.len(),
            1,
            "a tag at a missing version is dropped"
        );
    }

    #[test]
    fn a_foreign_tarball_or_another_package_refuses_the_packument() {
        let name = PackageName::parse("demo").unwrap();
        let error = registry()
            .read(&name, packument("http://127.0.0.2:9/demo.tgz").as_bytes())
            .unwrap_err();
        assert!(error.contains("allowed origins"), "{error}");
        let other = PackageName::parse("other").unwrap();
        assert!(registry()
            .read(&other, packument("http://127.0.0.1:9/x.tgz").as_bytes())
            .is_err());
        for body in ["<html>", "[1]", r#"{"name":"demo","versions":[]}"#] {
            assert!(registry().read(&name, body.as_bytes()).is_err(), "{body}");
        }
    }
}
