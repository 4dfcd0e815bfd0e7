//! What the npm CLI reads: packuments (full and abbreviated), version
//! documents and search results. Only versions whose tarball is published
//! here are shown, and `latest` always names one of them.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use wharf_core::model::FileStatus;
use wharf_core::npm::record::{StoredPackage, StoredVersion};
use wharf_core::npm::NpmVersion;

/// The fields of a version document that the abbreviated form keeps (npm's
/// "corgi" documents): what an installer needs, not the readme or scripts.
pub(super) const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "dist",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
];

/// A package's full packument (`Accept: application/json`).
#[derive(Debug, Serialize)]
pub struct Packument {
    #[serde(rename = "_id")]
    pub id: String,
    /// Changes with every write; `npm unpublish` and `npm owner` send it back.
    #[serde(rename = "_rev")]
    pub rev: String,
    pub name: String,
    #[serde(rename = "dist-tags")]
    pub dist_tags: BTreeMap<String, String>,
    pub versions: BTreeMap<String, Value>,
    pub time: BTreeMap<String, String>,
    pub maintainers: Vec<Maintainer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readme: Option<String>,
}

/// The abbreviated packument (`Accept: application/vnd.npm.install-v1+json`).
#[derive(Debug, Serialize)]
pub struct AbbreviatedPackument {
    pub name: String,
    pub modified: String,
    #[serde(rename = "dist-tags")]
    pub dist_tags: BTreeMap<String, String>,
    pub versions: BTreeMap<String, Value>,
}

/// An owner, as npm lists maintainers.
#[derive(Debug, Serialize)]
pub struct Maintainer {
    pub name: String,
}

/// `GET /npm/-/v1/search`, in npm's shape.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub objects: Vec<SearchObject>,
    pub total: usize,
    pub time: String,
}

#[derive(Debug, Serialize)]
pub struct SearchObject {
    pub package: SearchPackage,
    pub score: SearchScore,
    #[serde(rename = "searchScore")]
    pub search_score: f64,
}

#[derive(Debug, Serialize)]
pub struct SearchPackage {
    pub name: String,
    pub version: String,
    pub description: String,
    pub date: String,
    pub links: BTreeMap<String, String>,
    pub publisher: SearchUser,
    pub maintainers: Vec<SearchUser>,
}

#[derive(Debug, Serialize)]
pub struct SearchUser {
    pub username: String,
}

#[derive(Debug, Serialize)]
pub struct SearchScore {
    #[serde(rename = "final")]
    pub total: f64,
    pub detail: ScoreDetail,
}

/// npm's score parts; Wharf ranks by the text match only, so all are 1.
#[derive(Debug, Serialize)]
pub struct ScoreDetail {
    pub quality: f64,
    pub popularity: f64,
    pub maintenance: f64,
}

/// A package as clients may see it: its installable versions, in SemVer
/// order, and its tags pointing only at those.
pub struct PackageView<'a> {
    stored: &'a StoredPackage,
    registry_url: &'a str,
    /// Versions whose tarball is published and that are not unpublished.
    pub visible: Vec<&'a StoredVersion>,
    pub dist_tags: BTreeMap<String, String>,
}

impl<'a> PackageView<'a> {
    pub fn of(stored: &'a StoredPackage, registry_url: &'a str) -> Self {
        let mut visible: Vec<(NpmVersion, &StoredVersion)> = stored
            .versions
            .iter()
            .filter(|v| v.unpublished_at.is_none() && v.file.status == FileStatus::Published)
            .filter_map(|v| NpmVersion::parse(&v.version).ok().map(|n| (n, v)))
            .collect();
        visible.sort_by(|a, b| a.0.cmp(&b.0));
        let dist_tags = resolve_tags(
            &stored.dist_tags,
            &visible.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        );
        Self {
            stored,
            registry_url,
            visible: visible.into_iter().map(|(_, v)| v).collect(),
            dist_tags,
        }
    }

    /// The full packument.
    pub fn full(&self) -> Packument {
        let latest = self
            .dist_tags
            .get("latest")
            .and_then(|v| self.visible.iter().find(|s| &s.version == v));
        let latest_manifest = latest.map(|v| manifest_of(v));
        let text = |field: &str| {
            latest_manifest
                .as_ref()
                .and_then(|m| m.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let mut time = BTreeMap::new();
        time.insert(
            "created".to_owned(),
            self.stored.created_at.to_rfc3339_millis(),
        );
        time.insert(
            "modified".to_owned(),
            self.stored.updated_at.to_rfc3339_millis(),
        );
        for v in &self.visible {
            time.insert(v.version.clone(), v.published_at.to_rfc3339_millis());
        }
        Packument {
            id: self.stored.name.clone(),
            rev: self.rev(),
            name: self.stored.name.clone(),
            dist_tags: self.dist_tags.clone(),
            versions: self
                .visible
                .iter()
                .map(|v| (v.version.clone(), self.document(v)))
                .collect(),
            time,
            maintainers: self
                .stored
                .owners
                .iter()
                .map(|name| Maintainer { name: name.clone() })
                .collect(),
            description: text("description"),
            readme: text("readme"),
        }
    }

    /// The abbreviated packument.
    pub fn abbreviated(&self) -> AbbreviatedPackument {
        AbbreviatedPackument {
            name: self.stored.name.clone(),
            modified: self.stored.updated_at.to_rfc3339_millis(),
            dist_tags: self.dist_tags.clone(),
            versions: self
                .visible
                .iter()
                .map(|v| {
                    let Value::Object(full) = self.document(v) else {
                        unreachable!("documents are objects")
                    };
                    let kept: Map<String, Value> = full
                        .into_iter()
                        .filter(|(k, _)| ABBREVIATED_FIELDS.contains(&k.as_str()))
                        .collect();
                    (v.version.clone(), Value::Object(kept))
                })
                .collect(),
        }
    }

    /// One visible version's document.
    pub fn version_document(&self, version: &str) -> Option<Value> {
        self.visible
            .iter()
            .find(|v| v.version == version)
            .map(|v| self.document(v))
    }

    /// The newest visible version, for search results.
    pub fn latest(&self) -> Option<&'a StoredVersion> {
        let latest = self.dist_tags.get("latest")?;
        self.visible.iter().find(|v| &v.version == latest).copied()
    }

    /// A revision that changes with every write to the package.
    fn rev(&self) -> String {
        format!(
            "{}-{:x}",
            self.stored.versions.len(),
            self.stored.updated_at.micros()
        )
    }

    /// The manifest as published, with the fields the registry owns set:
    /// `_id`, `dist` (from the stored file) and `deprecated`.
    fn document(&self, v: &StoredVersion) -> Value {
        let mut doc = manifest_of(v);
        doc.insert("name".into(), Value::String(self.stored.name.clone()));
        doc.insert("version".into(), Value::String(v.version.clone()));
        doc.insert(
            "_id".into(),
            Value::String(format!("{}@{}", self.stored.name, v.version)),
        );
        let basename = self.stored.name.rsplit('/').next().unwrap_or_default();
        let dist = Dist {
            integrity: Some(v.integrity.clone()),
            shasum: Some(v.shasum.clone()),
            tarball: format!(
                "{}/{}/-/{basename}-{}.tgz",
                self.registry_url, self.stored.name, v.version
            ),
        };
        doc.insert(
            "dist".into(),
            serde_json::to_value(dist).unwrap_or(Value::Null),
        );
        if has_install_script(&doc) {
            doc.insert("hasInstallScript".into(), Value::Bool(true));
        }
        match &v.deprecated {
            Some(message) if !message.is_empty() => {
                doc.insert("deprecated".into(), Value::String(message.clone()));
            }
            _ => {
                doc.remove("deprecated");
            }
        }
        Value::Object(doc)
    }
}

/// A version's `dist` block.
#[derive(Debug, Serialize)]
pub(super) struct Dist {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shasum: Option<String>,
    pub tarball: String,
}

fn manifest_of(v: &StoredVersion) -> Map<String, Value> {
    match serde_json::from_str(&v.manifest) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn has_install_script(doc: &Map<String, Value>) -> bool {
    doc.get("scripts")
        .and_then(Value::as_object)
        .is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        })
}

/// The tags clients see: only those naming a visible version, and a
/// `latest` that always does (the newest stable visible version when the
/// stored one is held, unpublished or missing; the newest of any if none
/// is stable).
pub fn resolve_tags(
    stored: &[(String, String)],
    visible: &[NpmVersion],
) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = stored
        .iter()
        .filter(|(_, v)| visible.iter().any(|n| n.as_str() == v))
        .cloned()
        .collect();
    if !tags.contains_key("latest") {
        let newest = visible
            .iter()
            .rev()
            .find(|v| !v.is_prerelease())
            .or_else(|| visible.last());
        if let Some(newest) = newest {
            tags.insert("latest".into(), newest.as_str().to_owned());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(list: &[&str]) -> Vec<NpmVersion> {
        list.iter().map(|v| NpmVersion::parse(v).unwrap()).collect()
    }

    #[test]
    fn latest_moves_to_the_newest_visible_stable_version() {
        let stored = vec![
            ("latest".to_owned(), "2.0.0".to_owned()),
            ("next".to_owned(), "3.0.0-rc.1".to_owned()),
        ];
        let tags = resolve_tags(&stored, &versions(&["1.0.0", "1.5.0", "3.0.0-rc.1"]));
        assert_eq!(tags["latest"], "1.5.0");
        assert_eq!(tags["next"], "3.0.0-rc.1");
        let tags = resolve_tags(&stored, &versions(&["1.0.0", "2.0.0"]));
        assert_eq!(tags["latest"], "2.0.0");
        assert!(!tags.contains_key("next"));
        let tags = resolve_tags(&stored, &versions(&["0.1.0-alpha"]));
        assert_eq!(tags["latest"], "0.1.0-alpha");
        assert!(resolve_tags(&stored, &[]).is_empty());
    }
}
