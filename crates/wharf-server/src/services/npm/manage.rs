//! Changes after publishing, as the npm CLI makes them: dist-tags,
//! deprecations, unpublishes and owners, every one audited. `npm deprecate`,
//! `npm unpublish` and `npm owner` send back an edited packument; what
//! differs from the stored package is the change asked for.

use super::packument::{PackageView, ScoreDetail, SearchObject, SearchPackage, SearchResults};
use super::packument::{SearchScore, SearchUser};
use super::publish::PublishDocument;
use super::{Npm, NpmError};
use crate::services::auth::Principal;
use serde_json::Value;
use std::collections::BTreeMap;
use wharf_core::audit;
use wharf_core::npm::record::{Change, PackageChange, StoredPackage, StoredVersion};
use wharf_core::npm::{check_tag, PackageName, UNPUBLISH_WINDOW};
use wharf_core::Timestamp;

/// Search pages are at most this long, as npm's own API caps `size`.
pub const MAX_SEARCH_SIZE: i64 = 250;

impl Npm {
    /// `npm dist-tag ls`: the tags clients see.
    pub async fn dist_tags(
        &self,
        name: &PackageName,
    ) -> Result<BTreeMap<String, String>, NpmError> {
        let stored = self.stored(name).await?;
        Ok(PackageView::of(&stored, &self.registry_url).dist_tags)
    }

    /// `npm dist-tag add pkg@version tag`.
    pub async fn set_dist_tag(
        &self,
        who: &Principal,
        name: &PackageName,
        tag: &str,
        version: &str,
    ) -> Result<(), NpmError> {
        check_tag(tag).map_err(|e| NpmError::Invalid(e.message))?;
        let stored = self.writable(who, name).await?;
        let view = PackageView::of(&stored, &self.registry_url);
        if !view.visible.iter().any(|v| v.version == version) {
            return Err(NpmError::NotFound(format!(
                "'{name}' has no available version '{}' to tag",
                wharf_core::name::printable(version)
            )));
        }
        let change = Change::Tag {
            tag: tag.to_owned(),
            version: Some(version.to_owned()),
        };
        self.apply(
            who,
            &stored,
            change,
            audit::NPM_DIST_TAG,
            Detail::tag(tag, Some(version)),
        )
        .await
    }

    /// `npm dist-tag rm pkg tag`. `latest` always names a version, so it
    /// moves rather than goes.
    pub async fn remove_dist_tag(
        &self,
        who: &Principal,
        name: &PackageName,
        tag: &str,
    ) -> Result<(), NpmError> {
        if tag == "latest" {
            return Err(NpmError::Invalid(
                "the latest tag cannot be removed; point it at another version with npm dist-tag add"
                    .into(),
            ));
        }
        let stored = self.writable(who, name).await?;
        if !stored.dist_tags.iter().any(|(t, _)| t == tag) {
            return Err(NpmError::NotFound(format!(
                "'{name}' has no tag '{}'",
                wharf_core::name::printable(tag)
            )));
        }
        let change = Change::Tag {
            tag: tag.to_owned(),
            version: None,
        };
        self.apply(
            who,
            &stored,
            change,
            audit::NPM_DIST_TAG,
            Detail::tag(tag, None),
        )
        .await
    }

    /// A packument sent back edited (`PUT /npm/{name}` or `…/-rev/{rev}`
    /// without attachments): deprecations, removed versions, or owners.
    pub async fn update(
        &self,
        who: &Principal,
        name: &PackageName,
        doc: PublishDocument,
    ) -> Result<(), NpmError> {
        let stored = self.writable(who, name).await?;
        if let Some(sent) = doc.versions {
            let view = PackageView::of(&stored, &self.registry_url);
            let mut deprecations = Vec::new();
            for (version, manifest) in &sent {
                let Some(current) = view.visible.iter().find(|v| &v.version == version) else {
                    continue;
                };
                let wanted = manifest
                    .get("deprecated")
                    .and_then(Value::as_str)
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned);
                if wanted.as_deref().map(str::len).unwrap_or(0) > 1024 {
                    return Err(NpmError::Invalid(
                        "a deprecation message is at most 1024 characters".into(),
                    ));
                }
                if wanted != current.deprecated.clone().filter(|m| !m.is_empty()) {
                    deprecations.push((version.clone(), wanted));
                }
            }
            let removed: Vec<String> = view
                .visible
                .iter()
                .filter(|v| !sent.contains_key(&v.version))
                .map(|v| v.version.clone())
                .collect();
            for version in &removed {
                self.unpublish_one(who, &stored, version).await?;
            }
            if !deprecations.is_empty() {
                let detail = Detail::deprecations(&deprecations);
                let change = Change::Deprecate {
                    versions: deprecations,
                };
                self.apply(who, &stored, change, audit::NPM_DEPRECATE, detail)
                    .await?;
            }
            return Ok(());
        }
        if let Some(maintainers) = doc.maintainers {
            return self.set_owners(who, &stored, maintainers).await;
        }
        Err(NpmError::Invalid(
            "the document changes nothing Wharf understands: send versions (deprecate, unpublish) or maintainers (owner)"
                .into(),
        ))
    }

    /// `npm unpublish pkg --force`: every version, under the same rules as one.
    pub async fn unpublish_all(&self, who: &Principal, name: &PackageName) -> Result<(), NpmError> {
        let stored = self.writable(who, name).await?;
        let live: Vec<String> = stored
            .versions
            .iter()
            .filter(|v| v.unpublished_at.is_none())
            .map(|v| v.version.clone())
            .collect();
        // Checked for all before any goes, so a refusal leaves the package whole.
        for version in &live {
            self.check_unpublish(who, &stored, version).await?;
        }
        for version in &live {
            self.unpublish_one(who, &stored, version).await?;
        }
        Ok(())
    }

    /// npm's rule: within 72 hours of publishing, and only if no other
    /// package here depends on it; otherwise deprecate. Administrators acting
    /// as one may take a version down at any time (audited as any unpublish).
    async fn check_unpublish(
        &self,
        who: &Principal,
        stored: &StoredPackage,
        version: &str,
    ) -> Result<(), NpmError> {
        let Some(found) = stored
            .versions
            .iter()
            .find(|v| v.version == version && v.unpublished_at.is_none())
        else {
            return Err(NpmError::NotFound(format!(
                "'{}' has no version '{}' to unpublish",
                stored.name,
                wharf_core::name::printable(version)
            )));
        };
        let dependents = self.repo.npm_dependents(&stored.name, &stored.name).await?;
        match why_not_unpublish(
            &stored.name,
            found,
            Timestamp::now(),
            &dependents,
            who.acts_as_admin(),
        ) {
            Some(why) => Err(NpmError::Forbidden(why)),
            None => Ok(()),
        }
    }

    async fn unpublish_one(
        &self,
        who: &Principal,
        stored: &StoredPackage,
        version: &str,
    ) -> Result<(), NpmError> {
        self.check_unpublish(who, stored, version).await?;
        let change = Change::Unpublish {
            version: version.to_owned(),
            at: Timestamp::now(),
        };
        self.apply(
            who,
            stored,
            change,
            audit::NPM_UNPUBLISH,
            Detail::version(version),
        )
        .await
    }

    /// `npm owner add/rm`: the maintainers list sent back, compared with ours.
    async fn set_owners(
        &self,
        who: &Principal,
        stored: &StoredPackage,
        maintainers: Vec<super::publish::MaintainerEntry>,
    ) -> Result<(), NpmError> {
        let wanted: Vec<String> = maintainers.into_iter().map(|m| m.name).collect();
        if wanted.is_empty() {
            return Err(NpmError::Invalid(
                "a package keeps at least one owner".into(),
            ));
        }
        for name in wanted.iter().filter(|n| !stored.owners.contains(n)) {
            let Some(user) = self.users.find_user_by_name(name).await? else {
                return Err(NpmError::NotFound(format!(
                    "there is no user '{}' in this registry",
                    wharf_core::name::printable(name)
                )));
            };
            let change = Change::Owner {
                user_id: user.id,
                add: true,
            };
            self.apply(
                who,
                stored,
                change,
                audit::NPM_OWNER_ADD,
                Detail::user(name),
            )
            .await?;
        }
        for name in stored.owners.iter().filter(|n| !wanted.contains(n)) {
            let Some(user) = self.users.find_user_by_name(name).await? else {
                continue;
            };
            let change = Change::Owner {
                user_id: user.id,
                add: false,
            };
            self.apply(
                who,
                stored,
                change,
                audit::NPM_OWNER_REMOVE,
                Detail::user(name),
            )
            .await?;
        }
        Ok(())
    }

    /// `GET /npm/-/user/org.couchdb.user:{name}`: whether the user exists
    /// (`npm owner add` asks before sending the new list).
    pub async fn user_exists(&self, name: &str) -> Result<bool, NpmError> {
        Ok(self.users.find_user_by_name(name).await?.is_some())
    }

    /// `GET /npm/-/v1/search?text=&size=&from=`.
    pub async fn search(
        &self,
        text: &str,
        size: i64,
        from: i64,
    ) -> Result<SearchResults, NpmError> {
        let size = size.clamp(1, MAX_SEARCH_SIZE);
        let hits = self.repo.search_npm(text, size, from.max(0)).await?;
        let mut objects = Vec::with_capacity(hits.len());
        for hit in hits {
            let Some(stored) = self.repo.npm_package(&hit.name).await? else {
                continue;
            };
            let view = PackageView::of(&stored, &self.registry_url);
            let Some(latest) = view.latest() else {
                continue;
            };
            let users = |names: &[String]| {
                names
                    .iter()
                    .map(|n| SearchUser {
                        username: n.clone(),
                    })
                    .collect()
            };
            objects.push(SearchObject {
                package: SearchPackage {
                    name: stored.name.clone(),
                    version: latest.version.clone(),
                    description: hit.description,
                    date: latest.published_at.to_rfc3339_millis(),
                    links: BTreeMap::from([(
                        "npm".to_owned(),
                        format!("{}/{}", self.registry_url, stored.name),
                    )]),
                    publisher: SearchUser {
                        username: stored.owners.first().cloned().unwrap_or_default(),
                    },
                    maintainers: users(&stored.owners),
                },
                score: SearchScore {
                    total: 1.0,
                    detail: ScoreDetail {
                        quality: 1.0,
                        popularity: 1.0,
                        maintenance: 1.0,
                    },
                },
                search_score: 1.0,
            });
        }
        Ok(SearchResults {
            total: objects.len(),
            objects,
            time: Timestamp::now().to_rfc3339_millis(),
        })
    }

    /// Whether `who` may change the package.
    pub async fn check_writable(
        &self,
        who: &Principal,
        name: &PackageName,
    ) -> Result<(), NpmError> {
        self.writable(who, name).await.map(|_| ())
    }

    /// The stored package, if `who` may change it.
    async fn writable(
        &self,
        who: &Principal,
        name: &PackageName,
    ) -> Result<StoredPackage, NpmError> {
        Self::check_publisher(who, name)?;
        let stored = self.stored(name).await?;
        Self::check_owner(who, &stored)?;
        Ok(stored)
    }

    async fn apply(
        &self,
        who: &Principal,
        stored: &StoredPackage,
        change: Change,
        action: &str,
        detail: Detail,
    ) -> Result<(), NpmError> {
        let audit = who.event(action, &format!("npm:{}", stored.name), detail.to_json());
        self.repo
            .change_npm(PackageChange {
                project_id: stored.project_id,
                change,
                audit,
            })
            .await?;
        // The stored key, as `PackageName::project_key` writes it.
        self.pages
            .invalidate(&format!("{}:{}", wharf_core::npm::NPM, stored.name));
        Ok(())
    }
}

/// Why `version` may not be unpublished now, if it may not: npm's rule,
/// within 72 hours of publishing and only if no other package here depends
/// on it. Administrators acting as one may take a version down at any time.
fn why_not_unpublish(
    name: &str,
    version: &StoredVersion,
    now: Timestamp,
    dependents: &[String],
    by_admin: bool,
) -> Option<String> {
    if by_admin {
        return None;
    }
    let v = &version.version;
    let age = now.micros() - version.published_at.micros();
    if age > UNPUBLISH_WINDOW.as_micros() as i64 {
        return Some(format!(
            "{name}@{v} was published more than 72 hours ago and can no longer be unpublished; \
             deprecate it instead: npm deprecate {name}@{v} \"<message>\""
        ));
    }
    if !dependents.is_empty() {
        return Some(format!(
            "{name}@{v} cannot be unpublished: {} depend(s) on {name}; deprecate it instead",
            dependents.join(", ")
        ));
    }
    None
}

/// What an audit event of a change records.
#[derive(Debug, Default, serde::Serialize)]
struct Detail {
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deprecated: Vec<Deprecation>,
}

#[derive(Debug, serde::Serialize)]
struct Deprecation {
    version: String,
    message: Option<String>,
}

impl Detail {
    fn tag(tag: &str, version: Option<&str>) -> Self {
        Self {
            tag: Some(tag.to_owned()),
            version: version.map(str::to_owned),
            ..Self::default()
        }
    }

    fn version(version: &str) -> Self {
        Self {
            version: Some(version.to_owned()),
            ..Self::default()
        }
    }

    fn user(user: &str) -> Self {
        Self {
            user: Some(user.to_owned()),
            ..Self::default()
        }
    }

    fn deprecations(list: &[(String, Option<String>)]) -> Self {
        Self {
            deprecated: list
                .iter()
                .map(|(version, message)| Deprecation {
                    version: version.clone(),
                    message: message.clone(),
                })
                .collect(),
            ..Self::default()
        }
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::model::{FileRecord, FileStatus};
    use wharf_core::DistKind;

    fn version(published_at: Timestamp) -> StoredVersion {
        StoredVersion {
            id: 1,
            version: "1.0.0".into(),
            manifest: "{}".into(),
            integrity: String::new(),
            shasum: String::new(),
            deprecated: None,
            published_at,
            unpublished_at: None,
            file: FileRecord {
                id: 1,
                project_id: 1,
                version: "1.0.0".into(),
                filename: "x/-/x-1.0.0.tgz".into(),
                kind: DistKind::NpmTarball,
                python_tag: String::new(),
                size: 1,
                sha256: String::new(),
                blake2_256: String::new(),
                md5: String::new(),
                requires_python: None,
                metadata_sha256: None,
                status: FileStatus::Published,
                uploaded_at: published_at,
                uploader_id: 1,
            },
        }
    }

    #[test]
    fn unpublish_follows_npms_window_and_dependents() {
        let now = Timestamp::now();
        let hour = std::time::Duration::from_secs(3600);
        let fresh = version(Timestamp(now.micros() - 71 * hour.as_micros() as i64));
        let old = version(Timestamp(now.micros() - 73 * hour.as_micros() as i64));
        assert_eq!(why_not_unpublish("x", &fresh, now, &[], false), None);
        let too_old = why_not_unpublish("x", &old, now, &[], false).unwrap();
        assert!(
            too_old.contains("more than 72 hours") && too_old.contains("npm deprecate x@1.0.0"),
            "{too_old}"
        );
        let needed = why_not_unpublish("x", &fresh, now, &["app".into()], false).unwrap();
        assert!(needed.contains("app depend(s) on x"), "{needed}");
        assert_eq!(
            why_not_unpublish("x", &old, now, &["app".into()], true),
            None
        );
    }
}
