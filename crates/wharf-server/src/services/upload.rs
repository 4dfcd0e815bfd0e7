//! Accepting an upload: every rule from the legacy upload API, in the order
//! that refuses cheaply first.
//!
//! Storage order is what keeps a crash harmless: the bytes go into the blob
//! store first (create-only, under their hash, durable), then one transaction
//! commits the rows, with the verification verdict when the upload reached
//! one itself. A crash between the two leaves an unreferenced blob, which is
//! invisible; never a row without its bytes.

use super::archive::{check_layout, check_metadata, read_archive, ArchiveError};
use super::auth::Principal;
use super::proxy::ProxyError;
use super::staging::StagedContent;
use super::verify::{UploadScan, UploadedFile};
use serde_json::json;
use std::sync::Arc;
use wharf_artifact::Limits;
use wharf_core::audit;
use wharf_core::model::{FileRecord, FileStatus, NewAuditEvent, NewUpload, Origin, UploadOutcome};
use wharf_core::name::printable;
use wharf_core::ports::{
    AuditLog, BlobError, BlobKey, BlobStore, FileRepo, ProjectRepo, RepoError, VerificationRepo,
};
use wharf_core::version::validate_requires_python;
use wharf_core::{
    DistFilename, DistKind, NormalizedName, ProjectName, Scope, Timestamp, ValidationError, Version,
};

/// The upload form's fields other than the file itself.
#[derive(Debug, Default)]
pub struct UploadFields {
    pub action: Option<String>,
    pub protocol_version: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub filetype: Option<String>,
    pub pyversion: Option<String>,
    pub md5_digest: Option<String>,
    pub sha256_digest: Option<String>,
    pub blake2_256_digest: Option<String>,
}

/// What a successful upload came to.
#[derive(Debug)]
pub struct Accepted {
    pub file: FileRecord,
    pub project: NormalizedName,
    /// False when the same bytes under the same filename were there already.
    pub created: bool,
    /// The verification job queued for the new file.
    pub verify_job: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0}")]
    Gone(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("archive check could not run: {0}")]
    Worker(String),
}

impl From<ArchiveError> for UploadError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Refused { code, message } => Self::Invalid { code, message },
            ArchiveError::Worker(reason) => Self::Worker(reason),
        }
    }
}

impl From<ValidationError> for UploadError {
    fn from(e: ValidationError) -> Self {
        Self::Invalid {
            code: e.code,
            message: e.message,
        }
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> UploadError {
    UploadError::Invalid {
        code,
        message: message.into(),
    }
}

fn forbidden(code: &'static str, message: impl Into<String>) -> UploadError {
    UploadError::Forbidden {
        code,
        message: message.into(),
    }
}

/// Uploads: the checks before and after a file's bytes arrive, and the
/// one transaction that records it.
pub struct Uploads {
    pub(crate) projects: Arc<dyn ProjectRepo>,
    pub(crate) files: Arc<dyn FileRepo>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    /// For the name check of a project's first file, judged inline.
    pub(crate) verification: Arc<dyn VerificationRepo>,
    /// Refusals by a verification rule are audited.
    pub(crate) audit: Arc<dyn AuditLog>,
    /// With the proxy on, a new project may not take an upstream name.
    pub(crate) proxy: Option<Arc<crate::services::proxy::PypiProxy>>,
}

impl Uploads {
    /// Checks that can run before the file's bytes are read: the token's scope,
    /// and, if the form named the project already, its restriction and ownership.
    /// Refusing here spares reading a large body that would be refused anyway.
    pub async fn precheck(&self, who: &Principal, name: Option<&str>) -> Result<(), UploadError> {
        if !who.has_scope(Scope::Publish) {
            return Err(forbidden(
                "insufficient_scope",
                "this API token lacks the 'publish' scope; create one with --scope publish",
            ));
        }
        if let Some(name) = name {
            let project = ProjectName::parse(name)?.normalize();
            self.check_project_rights(who, &project).await?;
        }
        Ok(())
    }

    async fn check_project_rights(
        &self,
        who: &Principal,
        project: &NormalizedName,
    ) -> Result<(), UploadError> {
        if !who.may_touch(project) {
            return Err(forbidden(
                "token_project_restricted",
                if who.projects.is_empty() {
                    format!(
                        "this API token is restricted to MCP namespaces and may not upload to '{project}'"
                    )
                } else {
                    format!(
                        "this API token is restricted to other projects and may not upload to '{project}'"
                    )
                },
            ));
        }
        if let Some((existing, is_owner)) =
            self.projects.find_project_for(project, who.user.id).await?
        {
            if existing.origin == Origin::Proxy {
                return Err(proxied_name(project));
            }
            if !is_owner {
                return Err(forbidden(
                    "not_owner",
                    format!(
                        "user '{}' is not an owner of project '{}'",
                        who.user.name, existing.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Validates and stores one uploaded file. With a scan slot (`scan`), the
    /// file is verified on the way and recorded with its verdict; without, it is
    /// recorded pending, with a verification job. A refusal by a verification
    /// rule (a hostile or inconsistent archive, as opposed to a form mistake)
    /// is audited: security reviewers want to see those attempts.
    pub async fn accept(
        &self,
        limits: &UploadLimits,
        who: &Principal,
        fields: UploadFields,
        content: Option<StagedContent>,
        scan: Option<UploadScan>,
    ) -> Result<Accepted, UploadError> {
        let named = fields.name.clone().unwrap_or_default();
        let filename = content.as_ref().map(|c| c.filename.clone());
        if let Some(proxy) = &self.proxy {
            proxy
                .check_new_local_name(&named, who.acts_as_admin())
                .await
                .map_err(|e| match e {
                    ProxyError::UpstreamName(_) => forbidden("name_on_upstream", e.to_string()),
                    other => UploadError::Worker(other.to_string()),
                })?;
        }
        let accepted = self
            .check_and_record(limits, who, fields, content, scan)
            .await;
        if let Err(UploadError::Invalid { code, message }) = &accepted {
            if wharf_scan::RULES.iter().any(|rule| rule.id == *code) {
                let target = format!("project:{}", wharf_core::name::normalize(&named));
                let detail = json!({ "filename": filename, "rule": code, "message": message });
                let event = who.event(audit::FILE_REFUSED, &target, detail.to_string());
                if let Err(e) = self.audit.record(event).await {
                    tracing::warn!(error = %e, rule = code, "could not audit a refused upload");
                }
            }
        }
        accepted
    }

    async fn check_and_record(
        &self,
        limits: &UploadLimits,
        who: &Principal,
        fields: UploadFields,
        content: Option<StagedContent>,
        mut scan: Option<UploadScan>,
    ) -> Result<Accepted, UploadError> {
        match fields.action.as_deref() {
            Some("file_upload") => {}
            Some(retired @ ("submit" | "doc_upload" | "remove_pkg" | "file_upload_legacy")) => {
                return Err(UploadError::Gone(format!(
                    "the '{retired}' action is no longer supported; upload files with ':action=file_upload'"
                )))
            }
            Some(other) => return Err(invalid("invalid_action", format!("unknown :action '{}'", printable(other)))),
            None => return Err(invalid("missing_field", "the form has no ':action' field; set it to 'file_upload'")),
        }
        if fields.protocol_version.as_deref().is_some_and(|v| v != "1") {
            return Err(invalid(
                "invalid_protocol_version",
                "unknown protocol_version; Wharf speaks protocol_version 1",
            ));
        }
        let name = required(&fields.name, "name")?;
        let version = required(&fields.version, "version")?;
        let filetype = required(&fields.filetype, "filetype")?;
        let content = content
            .ok_or_else(|| invalid("missing_field", "the form has no 'content' file part"))?;

        let project_name = ProjectName::parse(name)?;
        let project = project_name.normalize();
        let form_version = Version::parse(version)?;
        let kind = DistKind::parse(filetype)?;
        self.check_project_rights(who, &project).await?;

        let dist = DistFilename::parse(&content.filename, &project)?;
        if dist.kind != kind {
            return Err(invalid(
                "filetype_mismatch",
                format!(
                    "'{}' is not a {} file; set filetype to match the extension",
                    content.filename,
                    kind.as_str()
                ),
            ));
        }
        if dist.version != form_version {
            return Err(invalid(
                "version_mismatch",
                format!(
                    "the form says version {} but the filename '{}' says {}",
                    form_version, content.filename, dist.version
                ),
            ));
        }
        if kind == DistKind::BdistWheel && fields.pyversion.as_deref().is_none_or(str::is_empty) {
            return Err(invalid(
                "missing_field",
                "a wheel upload needs the 'pyversion' field (e.g. py3)",
            ));
        }
        check_digests(&fields, &content)?;
        if content.size == 0 {
            return Err(invalid(
                "empty_file",
                format!("'{}' is empty", content.filename),
            ));
        }

        // A filename, once used, is never reused for other bytes; the identical
        // file again is a no-op, since twine cannot skip existing files here.
        if let Some(existing) = self.files.find_file(&content.filename).await? {
            return if existing.sha256 == content.sha256 {
                Ok(Accepted {
                    file: existing,
                    project,
                    created: false,
                    verify_job: None,
                })
            } else {
                Err(file_exists(&content.filename))
            };
        }

        // The file is new: the blob store may start making it durable while the
        // archive and the project are checked.
        self.blobs.prepare_file(content.file.path());
        let parsed = read_archive(&content, kind, limits.archive.clone(), scan.is_some()).await?;
        check_metadata(&parsed.metadata, &project, &dist, &content.filename)?;
        check_layout(&parsed.layout_dir, &project, &dist, kind)?;
        let requires_python = parsed
            .metadata
            .requires_python
            .clone()
            .filter(|s| !s.trim().is_empty());
        if let Some(spec) = &requires_python {
            validate_requires_python(spec)?;
        }
        let totals = self.projects.totals(&project).await?;
        // A file of a release that exists under an equal PEP 440 spelling (1.0
        // beside 1.0.0) joins that release rather than starting a second one.
        let mut release_version = dist.version.canonical().to_owned();
        let first_file = totals.as_ref().is_none_or(|t| !t.has_published);
        if let Some(totals) = totals {
            let total = totals.total_bytes + content.size;
            if total > limits.max_project_bytes {
                return Err(invalid(
                    "project_too_large",
                    format!(
                        "project '{project}' would exceed its total size limit of {} bytes",
                        limits.max_project_bytes
                    ),
                ));
            }
            let same = |v: &&String| Version::parse(v).is_ok_and(|v| v == dist.version);
            if let Some(existing) = totals.versions.iter().find(same) {
                release_version = existing.clone();
            }
        }

        let (metadata_sha256, metadata_bytes) = match parsed.metadata_file {
            Some(bytes) => {
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                (Some(sha), Some(bytes))
            }
            None => (None, None),
        };
        let StagedContent {
            file,
            filename,
            size,
            sha256,
            blake2_256,
            md5,
        } = content;
        let staged_path = file.path().to_owned();
        // The two blobs are independent: storing them at once overlaps their syncs.
        let store_metadata = async {
            match (&metadata_sha256, metadata_bytes) {
                (Some(sha), Some(bytes)) => {
                    self.blobs.put_bytes(&BlobKey::for_sha256(sha), bytes).await
                }
                _ => Ok(()),
            }
        };
        let file_key = BlobKey::for_sha256(&sha256);
        let store_file = self.blobs.put_file(&file_key, &staged_path);
        // The verdict is reached while the blobs are being made durable.
        let judge = async {
            let (Some(scan), Some(report)) = (scan.as_mut(), parsed.report) else {
                return None;
            };
            let uploaded = UploadedFile {
                filename: &filename,
                project: project.as_str(),
                uploader_id: who.user.id,
                version: &release_version,
                first_file,
                kind,
            };
            match scan
                .judge(self.verification.as_ref(), report, &uploaded)
                .await
            {
                Ok(judged) => Some(judged),
                Err(e) => {
                    // The queue will verify it instead.
                    tracing::warn!(error = %e, file = %filename, "could not verify the upload inline");
                    None
                }
            }
        };
        let (stored, judged) = tokio::join!(
            async { tokio::try_join!(store_metadata, store_file) },
            judge
        );
        stored?;
        let _ = file.disown();
        let (status, verdict) = match judged {
            Some((status, verdict)) => (status, Some(verdict)),
            // Nothing is installable before verification passed.
            None => (FileStatus::Pending, None),
        };

        let now = Timestamp::now();
        let upload = NewUpload {
            project_name: project_name.as_str().to_owned(),
            normalized: project.clone(),
            version: release_version,
            summary: parsed.metadata.summary.clone(),
            filename: filename.clone(),
            kind,
            python_tag: dist.python_tag.clone(),
            size: size as i64,
            sha256: sha256.clone(),
            blake2_256,
            md5,
            requires_python,
            metadata_sha256,
            status,
            uploader_id: who.user.id,
            token_id: who.token_id(),
            uploaded_at: now,
            origin: Origin::Local,
            audit: NewAuditEvent {
                at: now,
                ..who.event(
                    "file.upload",
                    &format!("project:{project}"),
                    json!({ "filename": filename, "sha256": sha256, "size": size }).to_string(),
                )
            },
            verdict,
        };
        let judged = upload.verdict.is_some();
        match self.files.record_upload(upload).await? {
            UploadOutcome::Created {
                file, verify_job, ..
            } => {
                if let (true, Some(scan)) = (judged, &scan) {
                    scan.recorded(&file.filename, file.status);
                }
                Ok(Accepted {
                    file,
                    project,
                    created: true,
                    verify_job,
                })
            }
            UploadOutcome::AlreadyExists { file } => Ok(Accepted {
                file,
                project,
                created: false,
                verify_job: None,
            }),
            UploadOutcome::FilenameTaken { .. } => Err(file_exists(&filename)),
            UploadOutcome::OtherOrigin => Err(proxied_name(&project)),
            UploadOutcome::NotOwner => Err(forbidden(
                "not_owner",
                format!(
                    "user '{}' is not an owner of project '{project}'",
                    who.user.name
                ),
            )),
        }
    }
}

/// Size limits for uploads.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub max_project_bytes: u64,
    pub archive: Limits,
}

fn required<'a>(field: &'a Option<String>, name: &str) -> Result<&'a str, UploadError> {
    field
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid("missing_field", format!("the form has no '{name}' field")))
}

fn proxied_name(project: &NormalizedName) -> UploadError {
    forbidden(
        "proxied_name",
        format!(
            "'{project}' is served from the upstream index through this registry's proxy; \
             a proxied name takes no uploads (publish under another name)"
        ),
    )
}

fn file_exists(filename: &str) -> UploadError {
    invalid(
        "file_exists",
        format!(
            "File already exists ('{filename}', with different contents). A filename can never be reused; \
             bump the version or add a build tag"
        ),
    )
}

/// At least one digest must be sent, and every one sent must match.
fn check_digests(fields: &UploadFields, content: &StagedContent) -> Result<(), UploadError> {
    let given = [
        ("md5_digest", &fields.md5_digest, &content.md5),
        ("sha256_digest", &fields.sha256_digest, &content.sha256),
        (
            "blake2_256_digest",
            &fields.blake2_256_digest,
            &content.blake2_256,
        ),
    ];
    let mut any = false;
    for (field, sent, actual) in given {
        let Some(sent) = sent.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        any = true;
        if !sent.eq_ignore_ascii_case(actual) {
            return Err(invalid(
                "digest_mismatch",
                format!("{field} does not match the uploaded file: the upload was corrupted or the digest is wrong"),
            ));
        }
    }
    if !any {
        return Err(invalid(
            "missing_digest",
            "send at least one of sha256_digest, blake2_256_digest or md5_digest",
        ));
    }
    Ok(())
}
