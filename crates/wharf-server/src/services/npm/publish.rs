//! `npm publish`: a `PUT /npm/{name}` document with one version and its
//! tarball as a base64 attachment. The tarball is the truth: it is read
//! strictly, its `package.json` must name the same package and version as
//! the document, and its bytes must match the integrity the client computed.

use super::{Npm, NpmError};
use crate::services::archive::{read_npm, ArchiveError};
use crate::services::auth::Principal;
use crate::services::staging::{StageError, Stager};
use crate::services::verify::UploadedFile;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Digest;
use std::collections::BTreeMap;
use wharf_artifact::Limits;
use wharf_core::audit;
use wharf_core::model::{FileStatus, NewAuditEvent, NewUpload, Origin};
use wharf_core::name::printable;
use wharf_core::npm::record::{NewVersion, PublishOutcome};
use wharf_core::npm::{check_tag, NpmVersion, PackageName};
use wharf_core::ports::BlobKey;
use wharf_core::{DistKind, NormalizedName, Timestamp};

/// The document `npm publish` sends, and the one `npm deprecate`,
/// `npm unpublish` and `npm owner` send back after editing a packument.
#[derive(Debug, Deserialize)]
pub struct PublishDocument {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "dist-tags", default)]
    pub dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub versions: Option<BTreeMap<String, Value>>,
    #[serde(rename = "_attachments", default)]
    pub attachments: BTreeMap<String, Attachment>,
    #[serde(default)]
    pub maintainers: Option<Vec<MaintainerEntry>>,
}

/// A tarball inside the publish document.
#[derive(Debug, Deserialize)]
pub struct Attachment {
    pub data: String,
    #[serde(default)]
    pub length: Option<u64>,
}

/// A maintainer as `npm owner add/rm` sends it back.
#[derive(Debug, Deserialize)]
pub struct MaintainerEntry {
    pub name: String,
}

/// What a publish came to, for the npm CLI (which prints `npm-notice`).
#[derive(Debug)]
pub struct Published {
    pub name: String,
    pub version: String,
    pub status: FileStatus,
    /// Said to the publisher as an `npm notice` when the file is not published.
    pub notice: Option<String>,
}

/// What the tarball must be, from the document.
struct Expected {
    name: PackageName,
    version: NpmVersion,
    manifest: Map<String, Value>,
    tarball: Vec<u8>,
    integrity: String,
    shasum: String,
    tags: Vec<String>,
}

impl Npm {
    /// Publishes the one version `doc` carries. A tarball a verification rule
    /// refuses is audited: reviewers want to see those attempts.
    pub async fn publish(
        &self,
        who: &Principal,
        url_name: &str,
        doc: PublishDocument,
    ) -> Result<Published, NpmError> {
        let published = self.publish_checked(who, url_name, doc).await;
        if let Err(NpmError::Refused { code, message }) = &published {
            let detail = Refusal {
                rule: code,
                message,
            };
            let event = who.event(
                audit::FILE_REFUSED,
                &format!("npm:{}", printable(url_name)),
                serde_json::to_string(&detail).unwrap_or_default(),
            );
            if let Err(e) = self.audit.record(event).await {
                tracing::warn!(error = %e, rule = code, "could not audit a refused npm publish");
            }
        }
        published
    }

    async fn publish_checked(
        &self,
        who: &Principal,
        url_name: &str,
        doc: PublishDocument,
    ) -> Result<Published, NpmError> {
        let expected = self.read_document(url_name, doc)?;
        let name = &expected.name;
        Self::check_publisher(who, name)?;
        let existing = self.repo.npm_package(name.as_str()).await?;
        match &existing {
            Some(stored) => {
                Self::check_owner(who, stored)?;
                if stored
                    .versions
                    .iter()
                    .any(|v| v.version == expected.version.as_str())
                {
                    return Err(republish(&expected.version));
                }
            }
            None => self.check_new_name(who, name).await?,
        }

        // Staged on disk like any upload, so the checked reader reads a file.
        let mut stager = Stager::create(
            &self.tmp_dir,
            &name.tarball_name(&expected.version),
            self.max_tarball_bytes,
        )
        .await
        .map_err(stage_error)?;
        stager.write(&expected.tarball).await.map_err(stage_error)?;
        let content = stager.finish().await.map_err(stage_error)?;
        self.blobs.prepare_file(content.file.path());
        let mut scan = self.verification.try_take_slot();
        let (report, info) = read_npm(&content, Limits::default())
            .await
            .map_err(|e| match e {
                ArchiveError::Refused { code, message } => NpmError::Refused { code, message },
                ArchiveError::Worker(reason) => NpmError::Internal(reason),
            })?;
        let inside = check_package_json(&info.package_json, &expected)?;

        let first_file = existing.as_ref().is_none_or(|s| {
            !s.versions
                .iter()
                .any(|v| v.file.status == FileStatus::Published)
        });
        let key = name.project_key();
        let filename = name.file_key(&expected.version);
        let judged = match scan.as_mut() {
            Some(scan) => {
                let uploaded = UploadedFile {
                    filename: &filename,
                    project: &key,
                    uploader_id: who.user.id,
                    version: expected.version.as_str(),
                    first_file,
                    kind: DistKind::NpmTarball,
                };
                match scan
                    .judge(self.verification_repo.as_ref(), report, &uploaded)
                    .await
                {
                    Ok(judged) => Some(judged),
                    Err(e) => {
                        tracing::warn!(error = %e, file = %filename, "could not verify the npm tarball inline");
                        None
                    }
                }
            }
            None => None,
        };
        self.blobs
            .put_file(&BlobKey::for_sha256(&content.sha256), content.file.path())
            .await?;
        let (status, verdict) = match judged {
            Some((status, verdict)) => (status, Some(verdict)),
            None => (FileStatus::Pending, None),
        };
        let crate::services::staging::StagedContent {
            file,
            size,
            sha256,
            blake2_256,
            md5,
            ..
        } = content;
        let _ = file.disown();

        let now = Timestamp::now();
        let summary = expected
            .manifest
            .get("description")
            .and_then(Value::as_str)
            .map(|d| d.chars().take(512).collect::<String>());
        let mut manifest = expected.manifest;
        // What npm runs and installs comes from the tarball, so these fields
        // are the tarball's, whatever the document said: a document cannot
        // hide an install script, a dependency, a command or claim an MCP server.
        for field in TARBALL_FIELDS {
            match inside.get(*field) {
                Some(value) => manifest.insert((*field).to_owned(), value.clone()),
                None => manifest.remove(*field),
            };
        }
        let dependencies = dependency_names(&manifest);
        // The registry writes these itself, from what it stored.
        for owned in ["dist", "_id", "deprecated", "_attachments"] {
            manifest.remove(owned);
        }
        let upload = NewUpload {
            project_name: name.as_str().to_owned(),
            normalized: NormalizedName::from_normalized(key.clone()),
            version: expected.version.as_str().to_owned(),
            summary,
            filename: filename.clone(),
            kind: DistKind::NpmTarball,
            python_tag: String::new(),
            size: size as i64,
            sha256: sha256.clone(),
            blake2_256,
            md5,
            requires_python: None,
            metadata_sha256: None,
            status,
            uploader_id: who.user.id,
            token_id: who.token_id(),
            uploaded_at: now,
            origin: Origin::Local,
            audit: NewAuditEvent {
                at: now,
                ..who.event(
                    audit::NPM_PUBLISH,
                    &format!("npm:{name}"),
                    AuditDetail {
                        version: expected.version.as_str(),
                        sha256: &sha256,
                        size,
                    }
                    .to_json(),
                )
            },
            verdict,
        };
        let judged = upload.verdict.is_some();
        let new = NewVersion {
            upload,
            manifest: Value::Object(manifest).to_string(),
            integrity: expected.integrity,
            shasum: expected.shasum,
            dependencies,
            tags: expected.tags,
        };
        let (file, verify_job) = match self.repo.publish_npm(new).await? {
            PublishOutcome::Created {
                file, verify_job, ..
            } => (file, verify_job),
            PublishOutcome::VersionExists => return Err(republish(&expected.version)),
            PublishOutcome::NotOwner => {
                return Err(NpmError::Forbidden(format!(
                    "user '{}' is not an owner of '{name}'",
                    who.user.name
                )))
            }
        };
        if let (true, Some(scan)) = (judged, &scan) {
            scan.recorded(&file.filename, file.status);
        }
        self.changed(name);
        let status = match verify_job {
            Some(job) => self.verification.verify_upload(job, file.id).await,
            None => file.status,
        };
        if status != FileStatus::Pending {
            self.changed(name);
        }
        let notice = match status {
            FileStatus::Published => None,
            FileStatus::Pending => Some(format!(
                "{name}@{} is stored and waits for verification; it can be installed once it passes",
                expected.version.as_str()
            )),
            other => Some(format!(
                "{name}@{} is {} by this registry's checks and cannot be installed until a reviewer releases it",
                expected.version.as_str(),
                other.as_str()
            )),
        };
        Ok(Published {
            name: name.as_str().to_owned(),
            version: expected.version.as_str().to_owned(),
            status,
            notice,
        })
    }

    /// The first version of a new name. In a scope, the scope must be the
    /// publisher's: granted to them (`wharf admin namespace grant '@acme/*'`),
    /// or not yet used here by anybody else. With the proxy on, a name
    /// upstream has would shadow it for every client: only an administrator
    /// may take one.
    async fn check_new_name(&self, who: &Principal, name: &PackageName) -> Result<(), NpmError> {
        if who.acts_as_admin() {
            return Ok(());
        }
        if let Some(proxy) = &self.proxy {
            let popular = name.scope().is_none()
                && wharf_scan::PopularNames::bundled(wharf_scan::names::Ecosystem::Npm)
                    .contains(name.as_str());
            if popular || proxy.is_known_upstream(name).await? {
                return Err(NpmError::Forbidden(
                    crate::services::proxy::ProxyError::UpstreamName(name.to_string()).to_string(),
                ));
            }
        }
        let Some(scope) = name.scope() else {
            return Ok(());
        };
        let grants = self.mcp.namespace_grants(None).await?;
        let scope_glob = |g: &str| g.starts_with(&format!("@{scope}/"));
        if grants
            .iter()
            .any(|g| g.user == who.user.name && wharf_core::glob::matches(&g.glob, name.as_str()))
        {
            return Ok(());
        }
        let granted_to_others = grants
            .iter()
            .any(|g| g.user != who.user.name && scope_glob(&g.glob));
        let owners = self.repo.npm_scope_owners(scope).await?;
        let used_by_others = owners.iter().any(|id| *id != who.user.id);
        if granted_to_others || (used_by_others && !owners.contains(&who.user.id)) {
            return Err(NpmError::Forbidden(format!(
                "the scope @{scope} belongs to other users of this registry; an administrator can grant it with \
                 `wharf admin namespace grant '@{scope}/*' --user {}`",
                who.user.name
            )));
        }
        Ok(())
    }

    /// Checks the document's shape and pulls out what the tarball must match.
    fn read_document(&self, url_name: &str, doc: PublishDocument) -> Result<Expected, NpmError> {
        let name = PackageName::parse(url_name).map_err(|e| NpmError::Invalid(e.message))?;
        if let Some(doc_name) = &doc.name {
            if doc_name != name.as_str() {
                return Err(NpmError::Invalid(format!(
                    "the document names '{}' but was sent to '{name}'",
                    printable(doc_name)
                )));
            }
        }
        let versions = doc.versions.unwrap_or_default();
        let mut versions = versions.into_iter();
        let (Some((raw_version, manifest)), None) = (versions.next(), versions.next()) else {
            return Err(NpmError::Invalid(
                "a publish carries exactly one version".into(),
            ));
        };
        let version = NpmVersion::parse(&raw_version).map_err(|e| NpmError::Invalid(e.message))?;
        let Value::Object(manifest) = manifest else {
            return Err(NpmError::Invalid(format!(
                "the document's version {raw_version} is not an object"
            )));
        };
        let field = |key: &str| manifest.get(key).and_then(Value::as_str);
        if field("name") != Some(name.as_str()) || field("version") != Some(version.as_str()) {
            return Err(NpmError::Invalid(format!(
                "the version document must name {name}@{}",
                version.as_str()
            )));
        }
        let mut attachments = doc.attachments.into_iter();
        let (Some((file, attachment)), None) = (attachments.next(), attachments.next()) else {
            return Err(NpmError::Invalid(
                "a publish carries exactly one tarball in _attachments".into(),
            ));
        };
        // npm names it after the full name (`@acme/tool-1.0.0.tgz`); older
        // clients after the base name.
        let full = format!("{name}-{}.tgz", version.as_str());
        if file != name.tarball_name(&version) && file != full {
            return Err(NpmError::Invalid(format!(
                "the tarball is named '{}', not '{}'",
                printable(&file),
                name.tarball_name(&version)
            )));
        }
        if attachment.data.len() as u64 > self.max_tarball_bytes / 3 * 4 + 4 {
            return Err(too_large(self.max_tarball_bytes));
        }
        let tarball = base64::engine::general_purpose::STANDARD
            .decode(attachment.data.as_bytes())
            .map_err(|e| NpmError::Invalid(format!("the tarball is not valid base64: {e}")))?;
        if tarball.len() as u64 > self.max_tarball_bytes {
            return Err(too_large(self.max_tarball_bytes));
        }
        if attachment.length.is_some_and(|n| n != tarball.len() as u64) {
            return Err(NpmError::Invalid(format!(
                "the tarball is {} bytes but its length says {}",
                tarball.len(),
                attachment.length.unwrap_or_default()
            )));
        }
        let integrity = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tarball))
        );
        let shasum = hex::encode(sha1::Sha1::digest(&tarball));
        let dist = manifest.get("dist").and_then(Value::as_object);
        let claimed = dist
            .and_then(|d| d.get("integrity"))
            .and_then(Value::as_str);
        match claimed {
            Some(claimed) if claimed.split_whitespace().any(|c| c == integrity) => {}
            Some(claimed) => {
                return Err(NpmError::Refused {
                    code: "integrity_mismatch",
                    message: format!(
                    "the tarball's SHA-512 does not match dist.integrity ({}); nothing was stored",
                    printable(claimed)
                ),
                })
            }
            None => {
                return Err(NpmError::Invalid(
                    "the version has no dist.integrity; publish with npm 5 or later".into(),
                ))
            }
        }
        if let Some(claimed) = dist.and_then(|d| d.get("shasum")).and_then(Value::as_str) {
            if claimed != shasum {
                return Err(NpmError::Refused {
                    code: "integrity_mismatch",
                    message: "the tarball's SHA-1 does not match dist.shasum; nothing was stored"
                        .into(),
                });
            }
        }
        let mut tags = Vec::new();
        for (tag, target) in &doc.dist_tags {
            check_tag(tag).map_err(|e| NpmError::Invalid(e.message))?;
            if target == version.as_str() {
                tags.push(tag.clone());
            }
        }
        if tags.is_empty() {
            tags.push("latest".into());
        }
        Ok(Expected {
            name,
            version,
            manifest,
            tarball,
            integrity,
            shasum,
            tags,
        })
    }
}

/// Fields of the stored version document taken from the tarball's own
/// `package.json` rather than from the publish document.
const TARBALL_FIELDS: &[&str] = &[
    "scripts",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "bundleDependencies",
    "bin",
    "mcpName",
    "gypfile",
];

/// The tarball's own `package.json` must be JSON naming the same package and
/// version as the document: what `npm install` unpacks is what was checked.
fn check_package_json(bytes: &[u8], expected: &Expected) -> Result<Map<String, Value>, NpmError> {
    let refused = |message: String| NpmError::Refused {
        code: "metadata.mismatch",
        message,
    };
    let Ok(Value::Object(inside)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(refused(
            "the tarball's package.json is not a JSON object".into(),
        ));
    };
    let field = |key: &str| inside.get(key).and_then(Value::as_str).unwrap_or_default();
    if field("name") != expected.name.as_str() {
        return Err(refused(format!(
            "the tarball's package.json names '{}', not '{}'",
            printable(field("name")),
            expected.name
        )));
    }
    if field("version") != expected.version.as_str() {
        return Err(refused(format!(
            "the tarball's package.json says version '{}', not '{}'",
            printable(field("version")),
            expected.version.as_str()
        )));
    }
    Ok(inside)
}

/// Every package a version depends on, of any kind an install resolves.
fn dependency_names(manifest: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<String> = ["dependencies", "optionalDependencies", "peerDependencies"]
        .iter()
        .filter_map(|k| manifest.get(*k).and_then(Value::as_object))
        .flat_map(|deps| deps.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// npm's own words, which users know.
fn republish(version: &NpmVersion) -> NpmError {
    NpmError::Conflict(format!(
        "You cannot publish over the previously published versions: {}.",
        version.as_str()
    ))
}

fn too_large(limit: u64) -> NpmError {
    NpmError::TooLarge(format!(
        "the tarball is larger than this registry's limit of {limit} bytes"
    ))
}

fn stage_error(e: StageError) -> NpmError {
    match e {
        StageError::TooLarge { limit } => too_large(limit),
        StageError::Io(e) => NpmError::Internal(format!("staging the tarball: {e}")),
    }
}

#[derive(serde::Serialize)]
struct Refusal<'a> {
    rule: &'a str,
    message: &'a str,
}

#[derive(serde::Serialize)]
struct AuditDetail<'a> {
    version: &'a str,
    sha256: &'a str,
    size: u64,
}

impl AuditDetail<'_> {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
