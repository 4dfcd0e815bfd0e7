//! `POST /legacy/` (and `/legacy`, and `/`): the upload API of twine, uv and
//! poetry. Both paths answer directly, because twine and poetry abort on a
//! redirect.

use super::extract::Auth;
use crate::error::AppError;
use crate::ratelimit::{self, OnOutage};
use crate::services::staging::{StageError, Stager};
use crate::services::upload::{Accepted, UploadFields, UploadLimits};
use crate::state::App;
use axum::extract::{multipart::MultipartError, Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use wharf_artifact::Limits;
use wharf_core::model::FileStatus;

/// Room allowed for the form fields around the file itself.
pub const FORM_OVERHEAD: u64 = 16 * 1024 * 1024;
/// Largest text field kept; long descriptions are ignored anyway, since the
/// archive's own metadata is the truth.
const MAX_TEXT_FIELD: usize = 1024 * 1024;

/// What an upload became.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UploadReply {
    pub ok: bool,
    /// For a person: published, pending verification, or held for review.
    pub message: String,
    pub filename: String,
    pub sha256: String,
    /// `published`, `pending` or `quarantined`.
    pub status: &'static str,
    /// The download URL (served once published).
    pub url: String,
}

/// The twine upload form (`multipart/form-data`): `:action=file_upload`,
/// `protocol_version=1`, `name`, `version`, `filetype`, the digests the
/// client computed, and `content`.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form, which is read field by field as it streams"
)]
pub struct UploadForm {
    #[schema(rename = ":action", example = "file_upload")]
    action: String,
    protocol_version: String,
    name: String,
    version: String,
    /// `bdist_wheel` or `sdist`.
    filetype: String,
    sha256_digest: Option<String>,
    blake2_256_digest: Option<String>,
    md5_digest: Option<String>,
    #[schema(format = Binary, value_type = String)]
    content: Vec<u8>,
}

/// `POST /legacy/` (also `/legacy` and `/`): twine's upload. The file is
/// streamed, checked and verified before it is listed.
#[utoipa::path(
    post, path = "/legacy/", operation_id = "uploadFile", tag = "pypi",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = UploadReply),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn upload(
    State(app): State<App>,
    Auth(who): Auth,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let limit = app.config.max_upload_bytes;
    // Refuse an oversized body by its declared length, before reading any of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + FORM_OVERHEAD) {
        return Err(too_large(limit));
    }
    let mut multipart = multipart.map_err(|e| {
        AppError::bad_request(
            "invalid_form",
            format!("the upload must be multipart/form-data: {}", e.body_text()),
        )
    })?;
    app.uploads.precheck(&who, None).await?;
    let policy = &app.config.rate_limits.upload;
    let decision = ratelimit::check(&app, &who.rate_key(), policy, OnOutage::FailClosed).await?;

    let mut fields = UploadFields::default();
    let mut content = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| form_error(e, limit))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "content" {
            if content.is_some() {
                return Err(AppError::bad_request(
                    "invalid_form",
                    "the form has more than one 'content' part",
                ));
            }
            app.uploads.precheck(&who, fields.name.as_deref()).await?;
            let filename = field.file_name().map(str::to_owned).ok_or_else(|| {
                AppError::bad_request("missing_field", "the 'content' part has no filename")
            })?;
            let mut stager = Stager::create(&app.config.tmp_dir(), &filename, limit)
                .await
                .map_err(stage_error)?;
            while let Some(chunk) = field.chunk().await.map_err(|e| form_error(e, limit))? {
                stager.write(&chunk).await.map_err(stage_error)?;
            }
            content = Some(stager.finish().await.map_err(stage_error)?);
            continue;
        }
        let slot = match name.as_str() {
            ":action" => &mut fields.action,
            "protocol_version" => &mut fields.protocol_version,
            "name" => &mut fields.name,
            "version" => &mut fields.version,
            "filetype" => &mut fields.filetype,
            "pyversion" => &mut fields.pyversion,
            "md5_digest" => &mut fields.md5_digest,
            "sha256_digest" => &mut fields.sha256_digest,
            "blake2_256_digest" => &mut fields.blake2_256_digest,
            // Metadata fields, attestations and signatures: the archive is the
            // source of truth, so they are read past and dropped.
            _ => {
                drain(&mut field, limit).await?;
                continue;
            }
        };
        *slot = Some(read_text(&mut field, &name, limit).await?);
    }

    let limits = UploadLimits {
        max_file_bytes: limit,
        max_project_bytes: app.config.max_project_bytes,
        archive: Limits::default(),
    };
    let scan = app.verification.try_take_slot();
    let accepted = app
        .uploads
        .accept(&limits, &who, fields, content, scan)
        .await;
    let Accepted {
        file,
        project,
        created,
        verify_job,
    } = accepted?;
    app.metrics.count_upload();
    let status = match verify_job {
        Some(job) => app.verification.verify_upload(job, file.id).await,
        None => file.status,
    };
    if created {
        app.pages.invalidate(project.as_str());
        app.file_index.invalidate_project(file.project_id);
    }
    let message = match (created, status) {
        (false, _) => "identical file exists already; nothing changed".to_owned(),
        (true, FileStatus::Published) => "uploaded, verified and published".to_owned(),
        (true, FileStatus::Pending) => {
            "uploaded; verification is still running, and the file is listed once it passes"
                .to_owned()
        }
        (true, _) => format!(
            "uploaded, but held for review: verification found problems; \
             see the report at /api/v1/projects/{project}/releases/{}/files/{}/report",
            file.version, file.filename
        ),
    };
    let body = UploadReply {
        ok: true,
        message,
        url: crate::pages::file_url(&file),
        filename: file.filename,
        sha256: file.sha256,
        status: status.as_str(),
    };
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    if let Some(decision) = decision {
        response
            .headers_mut()
            .extend(ratelimit::headers(policy, &decision));
    }
    Ok(response)
}

async fn read_text(
    field: &mut axum::extract::multipart::Field<'_>,
    name: &str,
    limit: u64,
) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| form_error(e, limit))? {
        if buf.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(AppError::bad_request(
                "invalid_form",
                format!("form field '{name}' is larger than 1 MiB"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| {
        AppError::bad_request("invalid_form", format!("form field '{name}' is not UTF-8"))
    })
}

async fn drain(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: u64,
) -> Result<(), AppError> {
    while field
        .chunk()
        .await
        .map_err(|e| form_error(e, limit))?
        .is_some()
    {}
    Ok(())
}

fn too_large(limit: u64) -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        format!(
            "the file is larger than this registry's upload limit of {limit} bytes ({} MiB)",
            limit / (1024 * 1024)
        ),
    )
}

fn form_error(e: MultipartError, limit: u64) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(limit);
    }
    AppError::bad_request(
        "invalid_form",
        format!("the multipart form could not be read: {}", e.body_text()),
    )
}

fn stage_error(e: StageError) -> AppError {
    match e {
        StageError::TooLarge { limit } => too_large(limit),
        StageError::Io(e) => AppError::internal(format!("staging upload: {e}")),
    }
}
