//! The server's one error type, and the one place it becomes a response.
//!
//! Policy: a failure the client can fix is a 4xx with a stable `error` code and
//! a message saying what to change. Anything else is logged with its cause and
//! a request ID, and answered with a 500 (or a 503 when a dependency is down)
//! carrying only that ID. An infrastructure failure is never a 400.
//!
//! The message also goes in the HTTP reason phrase, because twine prints the
//! reason phrase and not the body.

use crate::services::accounts::AccountError;
use crate::services::audit::AuditError;
use crate::services::auth::AuthFailure;
use crate::services::deploy::store::StoreError;
use crate::services::deploy::{DeployError, FieldError};
use crate::services::device::DeviceError;
use crate::services::mcp::{McpError, McpProblem};
use crate::services::passwords::PasswordError;
use crate::services::projects::ProjectError;
use crate::services::review::ReviewError;
use crate::services::yank::YankError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use wharf_core::ports::{BlobError, RepoError};
use wharf_core::ValidationError;
use wharf_jwt::JwtError;

/// Every error of the native API, `/api/v1/…`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine code, e.g. `file_exists`, `invalid_name`.
    pub error: &'static str,
    /// What went wrong and how to fix it, for a person.
    pub message: String,
    /// Structured details where there are several problems, e.g.
    /// `{"errors": [{"field", "code", "message", "hint"}]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    /// OAuth endpoints (RFC 6749 §5.2) repeat the message here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The details of a request with several problems.
#[derive(Debug, Serialize)]
pub struct FieldErrors<'a> {
    pub errors: &'a [FieldError],
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Extra headers, e.g. `WWW-Authenticate` on a 401.
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Seconds after which a retry may succeed: sent as `Retry-After`, in
    /// JSON and problem+json answers alike.
    pub retry_after: Option<u32>,
    /// OAuth endpoints (RFC 6749 §5.2) also carry the message as `error_description`.
    pub is_oauth: bool,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            headers: Vec::new(),
            retry_after: None,
            is_oauth: false,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A 401 that makes clients such as twine ask for credentials.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, code, message);
        e.headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"wharf\""),
        ));
        e
    }

    /// The headers the answer carries: the extra ones, and `Retry-After`.
    pub fn response_headers(&self) -> Vec<(header::HeaderName, HeaderValue)> {
        let mut all = self.headers.clone();
        if let Some(seconds) = self.retry_after {
            all.push((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        all
    }

    /// Says when to retry.
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_oauth_description(mut self) -> Self {
        self.is_oauth = true;
        self
    }

    /// An OAuth-shaped error (RFC 6749 §5.2): `error` is the RFC's code, and
    /// `error_description` (with Wharf's usual `message`) says what to do.
    pub fn oauth(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::new(status, code, message).with_oauth_description()
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// An unexpected failure: logged in full under a fresh request ID, shown
    /// to the client as that ID only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = request_id();
        tracing::error!(request_id = %id, error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("internal error; quote request ID {id} when reporting it"),
        )
    }

    /// A dependency (database, blob store) is down; the client may retry.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        let id = request_id();
        tracing::error!(request_id = %id, error = %cause, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the registry's storage is unavailable; retry shortly (request ID {id})"),
        )
        .with_retry_after(5)
    }
}

fn request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        Self::bad_request(e.code, e.message)
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable(_) => Self::unavailable(e),
            RepoError::Conflict(_) | RepoError::Internal(_) => Self::internal(e),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let headers = self.response_headers();
        let body = ErrorBody {
            error: self.code,
            message: self.message.clone(),
            details: self.details,
            error_description: self.is_oauth.then(|| self.message.clone()),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in headers {
            response.headers_mut().insert(name, value);
        }
        if let Ok(reason) =
            hyper::ext::ReasonPhrase::try_from(reason_phrase(&self.message).into_bytes())
        {
            response.extensions_mut().insert(reason);
        }
        response
    }
}

impl From<DeployError> for AppError {
    fn from(e: DeployError) -> Self {
        let details = |errors: &[FieldError]| {
            serde_json::to_value(FieldErrors { errors }).unwrap_or_default()
        };
        match e {
            DeployError::Invalid(errors) => AppError::bad_request(
                "validation_failed",
                format!("the deployment is not valid: {} problem(s)", errors.len()),
            )
            .with_details(details(&errors)),
            DeployError::UpstreamUnavailable(errors) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_unavailable",
                "an upstream registry could not be reached to check the package; nothing was stored, try again later",
            )
            .with_details(details(&errors))
            .with_retry_after(30),
            DeployError::Forbidden(m) => AppError::forbidden("insufficient_scope", m),
            DeployError::Repo(r) => r.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Deploy(d) => d.into(),
            StoreError::NotFound => AppError::not_found(e.to_string()),
            StoreError::Forbidden(m) => AppError::forbidden("insufficient_scope", m),
            StoreError::BadQuery(m) => AppError::bad_request("invalid_query", m),
            // Never says which bytes failed; a failure here is ours, not the caller's.
            StoreError::Vault(_) | StoreError::Stored(_) => AppError::internal(e),
            StoreError::Repo(r) => r.into(),
        }
    }
}

impl From<ProjectError> for AppError {
    fn from(e: ProjectError) -> Self {
        match e {
            ProjectError::Invalid(v) => v.into(),
            ProjectError::NotFound(_) => AppError::not_found(e.to_string()),
            ProjectError::Repo(r) => r.into(),
            ProjectError::Proxy(p) => p.into(),
        }
    }
}

impl From<ReviewError> for AppError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::Invalid(m) => AppError::bad_request("reason_required", m),
            ReviewError::BadName(v) => v.into(),
            ReviewError::AdminRequired(m) => AppError::forbidden("admin_required", m),
            ReviewError::NotFound(_) | ReviewError::ReportNotFound(_) => {
                AppError::not_found(e.to_string())
            }
            ReviewError::Conflict { .. } => {
                AppError::new(StatusCode::CONFLICT, "status_conflict", e.to_string())
            }
            ReviewError::Repo(r) => r.into(),
        }
    }
}

impl From<YankError> for AppError {
    fn from(e: YankError) -> Self {
        match e {
            YankError::Invalid(v) => v.into(),
            YankError::Forbidden(m) => AppError::forbidden("forbidden", m),
            YankError::NotFound(m) => AppError::not_found(m),
            YankError::Repo(r) => r.into(),
        }
    }
}

/// The details of an OAuth `slow_down`: the interval to keep from now on.
#[derive(Debug, Serialize)]
pub struct SlowDown {
    pub interval: i64,
}

/// The device flow's errors are OAuth errors (RFC 8628 §3.5) on the token
/// endpoint; the approval page shows the same status and message.
impl From<DeviceError> for AppError {
    fn from(e: DeviceError) -> Self {
        let message = e.to_string();
        let oauth = |status, code| AppError::oauth(status, code, message.clone());
        match e {
            DeviceError::Invalid(_) => oauth(StatusCode::BAD_REQUEST, "invalid_request"),
            DeviceError::InvalidScope(_) => oauth(StatusCode::BAD_REQUEST, "invalid_scope"),
            DeviceError::StoreFull => {
                oauth(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
                    .with_retry_after(60)
            }
            // One client's own backlog: a 429, not an outage for everyone.
            DeviceError::RequesterFull => {
                oauth(StatusCode::TOO_MANY_REQUESTS, "slow_down").with_retry_after(60)
            }
            DeviceError::AuthorizationPending => {
                oauth(StatusCode::BAD_REQUEST, "authorization_pending")
            }
            DeviceError::SlowDown { interval } => oauth(StatusCode::BAD_REQUEST, "slow_down")
                .with_details(serde_json::to_value(SlowDown { interval }).unwrap_or_default()),
            DeviceError::AccessDenied => oauth(StatusCode::BAD_REQUEST, "access_denied"),
            DeviceError::ExpiredToken => oauth(StatusCode::BAD_REQUEST, "expired_token"),
            DeviceError::InvalidGrant(_) => oauth(StatusCode::BAD_REQUEST, "invalid_grant"),
            // Only the approval page looks codes up by user code.
            DeviceError::UnknownUserCode => oauth(StatusCode::NOT_FOUND, "invalid_grant"),
            DeviceError::AdminScopeNeedsAdmin => oauth(StatusCode::FORBIDDEN, "access_denied"),
            DeviceError::Repo(r) => r.into(),
        }
    }
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Weak(v) => v.into(),
            // Never the caller's fault: the password was checked already.
            PasswordError::Hash(_) | PasswordError::Task(_) => AppError::internal(error_chain(&e)),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(v) => v.into(),
            AccountError::NoSuchToken(_) => AppError::not_found(e.to_string()),
            // Over HTTP the user is the session's or the token's, so a user
            // that is missing is an inconsistency of ours, not a bad request.
            AccountError::NoSuchUser(_) => AppError::internal(e),
            AccountError::Password(p) => p.into(),
            AccountError::Repo(r) => r.into(),
        }
    }
}

impl From<AuditError> for AppError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Invalid(v) => v.into(),
            AuditError::AdminRequired => AppError::forbidden("admin_required", e.to_string()),
            AuditError::Repo(r) => r.into(),
        }
    }
}

/// A credential that is refused is a 401 that says why; an identity
/// provider that cannot be reached is a 503.
impl From<AuthFailure> for AppError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Repo(r) => r.into(),
            AuthFailure::Expired(_) | AuthFailure::Jwt(JwtError::Expired) => {
                AppError::unauthorized("token_expired", e.to_string())
            }
            AuthFailure::Revoked => AppError::unauthorized("token_revoked", e.to_string()),
            AuthFailure::Jwt(JwtError::KeysUnavailable(cause)) => {
                tracing::warn!(error = %cause, "identity provider keys unavailable");
                AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "identity_provider_unavailable",
                    "the identity provider's signing keys cannot be fetched right now; retry shortly",
                )
                .with_retry_after(5)
            }
            AuthFailure::Jwt(_)
            | AuthFailure::NoSuchUser { .. }
            | AuthFailure::BadUserClaim { .. } => {
                AppError::unauthorized("invalid_token", e.to_string())
            }
            AuthFailure::Malformed(_) | AuthFailure::Unknown => {
                AppError::unauthorized("invalid_token", format!("invalid API token: {e}"))
            }
        }
    }
}

/// An error and its causes, `outer: inner: …`, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// A reason phrase must be visible ASCII; keep it to one short line.
fn reason_phrase(message: &str) -> String {
    let mut out: String = message
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(300)
        .collect();
    if out.is_empty() {
        out.push_str("Error");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_phrases_are_ascii_and_bounded() {
        assert_eq!(
            reason_phrase("File already exists ('é')"),
            "File already exists ('?')"
        );
        assert_eq!(reason_phrase("a\r\nb"), "a??b");
        assert_eq!(reason_phrase(&"x".repeat(1000)).len(), 300);
    }

    #[test]
    fn infrastructure_failures_are_never_client_errors() {
        let e = AppError::from(RepoError::Unavailable("connection refused".into()));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !e.message.contains("connection refused"),
            "the cause stays in the log"
        );
        let e = AppError::from(RepoError::Internal("syntax error near SELECT".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("SELECT"));
    }

    /// The hashing of a password that passed the checks failed: ours to
    /// fix, so a 500 with a request ID, never a 400 quoting argon2.
    #[test]
    fn password_hashing_failures_are_internal_errors() {
        let failed = PasswordError::Hash(argon2::password_hash::Error::Password);
        let e = AppError::from(AccountError::from(failed));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code, "internal_error");
        assert!(e.message.contains("request ID"), "{}", e.message);
        let weak = PasswordError::Weak(ValidationError::new("weak_password", "too short"));
        let e = AppError::from(AccountError::from(weak));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "weak_password");
    }

    /// A token the caller names and does not have is a 404; a user missing
    /// behind a live session or token is our inconsistency, a 500. Neither
    /// is a 400 "invalid_request".
    #[test]
    fn missing_tokens_and_users_are_not_bad_requests() {
        let e = AppError::from(AccountError::NoSuchToken(7));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.code, "not_found");
        assert!(e.message.contains("7"), "{}", e.message);
        let e = AppError::from(AccountError::NoSuchUser("alice".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("alice"), "the cause stays in the log");
    }
}

/// An RFC 9457 problem+json answer: the MCP registry API's error form.
pub struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<McpProblem>,
    pub retry_after: Option<u32>,
}

/// The body of a [`Problem`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemBody {
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Every problem found, each with its JSON location.
    pub errors: Vec<McpProblem>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<McpError> for Problem {
    fn from(e: McpError) -> Self {
        let simple = |status, title, detail: String| Problem {
            status,
            title,
            detail,
            errors: Vec::new(),
            retry_after: None,
        };
        match e {
            McpError::Invalid { detail, problems } => Problem {
                status: StatusCode::BAD_REQUEST,
                title: "Bad Request",
                detail,
                errors: problems,
                retry_after: None,
            },
            McpError::Forbidden(m) => simple(StatusCode::FORBIDDEN, "Forbidden", m),
            McpError::NotFound(m) => simple(StatusCode::NOT_FOUND, "Not Found", m),
            McpError::Conflict(m) => simple(StatusCode::CONFLICT, "Conflict", m),
            McpError::UpstreamUnavailable { detail, problems } => Problem {
                status: StatusCode::SERVICE_UNAVAILABLE,
                title: "Upstream Unavailable",
                detail,
                errors: problems,
                retry_after: Some(30),
            },
            McpError::Repo(r) => AppError::from(r).into(),
            McpError::Blob(b) => AppError::from(b).into(),
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        Problem {
            status: e.status,
            title: e.status.canonical_reason().unwrap_or("Error"),
            retry_after: e.retry_after,
            detail: e.message,
            errors: Vec::new(),
        }
    }
}

impl From<crate::services::proxy::ProxyError> for AppError {
    fn from(e: crate::services::proxy::ProxyError) -> Self {
        use crate::services::proxy::{ProxyError, RETRY_AFTER_SECS};
        let retry = RETRY_AFTER_SECS as u32;
        match e {
            ProxyError::Repo(e) => match e.as_ref() {
                RepoError::Unavailable(_) => Self::unavailable(e),
                _ => Self::internal(e),
            },
            ProxyError::Blob(e) => Self::internal(e),
            // Never a 404: pip would conclude that the package does not exist.
            ProxyError::Unavailable(_) | ProxyError::StillChecking { .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_unavailable",
                e.to_string(),
            )
            .with_retry_after(retry),
            ProxyError::BadUpstream(_) => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_invalid", e.to_string())
            }
            ProxyError::HashMismatch { .. } => Self::new(
                StatusCode::BAD_GATEWAY,
                "upstream_hash_mismatch",
                e.to_string(),
            ),
            ProxyError::Denied { .. } => Self::forbidden("denied", e.to_string()),
            ProxyError::Held { .. } => Self::forbidden("held", e.to_string()),
            ProxyError::Invalid(v) => v.into(),
            ProxyError::UpstreamName(_) => Self::forbidden("name_on_upstream", e.to_string()),
            ProxyError::Internal(_) => Self::internal(e),
        }
    }
}

impl From<crate::services::index::IndexError> for AppError {
    fn from(e: crate::services::index::IndexError) -> Self {
        match e {
            crate::services::index::IndexError::Repo(e) => e.into(),
            crate::services::index::IndexError::Proxy(e) => e.into(),
        }
    }
}

impl From<crate::services::upload::UploadError> for AppError {
    fn from(e: crate::services::upload::UploadError) -> Self {
        match e {
            crate::services::upload::UploadError::Invalid { code, message } => {
                AppError::bad_request(code, message)
            }
            crate::services::upload::UploadError::Forbidden { code, message } => {
                AppError::forbidden(code, message)
            }
            crate::services::upload::UploadError::Gone(message) => {
                AppError::new(StatusCode::GONE, "gone", message)
            }
            crate::services::upload::UploadError::Repo(e) => e.into(),
            crate::services::upload::UploadError::Blob(e) => e.into(),
            crate::services::upload::UploadError::Worker(e) => AppError::internal(e),
        }
    }
}
