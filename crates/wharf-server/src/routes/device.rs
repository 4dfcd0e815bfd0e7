//! RFC 8628 device authorization endpoints, as `wharf login` calls them:
//! `POST /api/v1/auth/device/code` and `POST /api/v1/auth/device/token`.
//! Bodies are `application/x-www-form-urlencoded` (RFC 8628 §3.1, §3.4);
//! errors use OAuth's `error` and `error_description`, plus Wharf's `message`.

use crate::error::{AppError, ErrorBody};
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::state::App;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_core::model::TokenRecord;
use wharf_core::ApiToken;

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A device authorization request (RFC 8628 §3.1).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeviceCodeRequest {
    /// The client, e.g. `wharf-cli`; at most 100 characters.
    #[serde(default)]
    client_id: Option<String>,
    /// Space-separated scopes (`read publish` when absent); `admin` needs an
    /// administrator to approve.
    #[serde(default)]
    scope: Option<String>,
}

/// A new code pair (RFC 8628 §3.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCodeReply {
    /// The secret the device polls with.
    pub device_code: String,
    /// What the person types at `verification_uri`, as `XXXX-XXXX`.
    pub user_code: String,
    pub verification_uri: String,
    /// `verification_uri` with the user code filled in.
    pub verification_uri_complete: String,
    /// Seconds the pair lives.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: i64,
    /// The scopes asked for, space-separated.
    pub scope: String,
}

/// `POST /api/v1/auth/device/code`: a new device code and user code.
#[utoipa::path(
    post, path = "/api/v1/auth/device/code", operation_id = "startDeviceLogin", tag = "auth",
    request_body(content = DeviceCodeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = DeviceCodeReply),
        (status = 400, description = "OAuth error `invalid_request` or `invalid_scope`", body = ErrorBody),
        (status = 429, description = "OAuth error `slow_down`: too many codes pending from this network, or the rate limit", body = ErrorBody),
        (status = 503, description = "OAuth error `temporarily_unavailable`: too many codes pending", body = ErrorBody),
    )
)]
pub async fn code(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<Form<DeviceCodeRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    let policy = &app.config.rate_limits.device;
    ratelimit::check(&app, &client_key(ip), policy, OnOutage::FailClosed).await?;
    let Form(req) = form
        .map_err(|e| AppError::oauth(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()))?;
    if req.client_id.as_ref().is_some_and(|c| c.len() > 100) {
        return Err(AppError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is at most 100 characters",
        ));
    }
    let grant = app.devices.start(req.scope.as_deref(), ip).await?;
    let verification_uri = format!("{}/device", super::web::public_base(&app, &headers));
    let reply = DeviceCodeReply {
        verification_uri_complete: format!("{verification_uri}?user_code={}", grant.user_code),
        verification_uri,
        device_code: grant.device_code,
        user_code: grant.user_code,
        expires_in: grant.expires_in,
        interval: grant.interval,
        scope: oauth_scope(&grant.scopes),
    };
    Ok(no_store(Json(reply).into_response()))
}

/// A device access token request (RFC 8628 §3.4).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeviceTokenRequest {
    /// Always `urn:ietf:params:oauth:grant-type:device_code`.
    #[serde(default)]
    grant_type: Option<String>,
    /// The `device_code` of the code pair.
    #[serde(default)]
    device_code: Option<String>,
}

/// The token of an approved device login (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceTokenReply {
    /// A new API token (`wharf_…`), shown once.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the token lives; null if it does not expire.
    pub expires_in: Option<i64>,
    /// Its scopes, space-separated.
    pub scope: String,
}

impl DeviceTokenReply {
    fn new(token: &ApiToken, record: &TokenRecord) -> Self {
        Self {
            access_token: token.reveal().to_owned(),
            token_type: "Bearer",
            expires_in: record
                .expires_at
                .map(|at| ((at.micros() - record.created_at.micros()) / 1_000_000).max(0)),
            scope: oauth_scope(&record.scopes),
        }
    }
}

/// `POST /api/v1/auth/device/token`: the device polls until approval.
#[utoipa::path(
    post, path = "/api/v1/auth/device/token", operation_id = "pollDeviceLogin", tag = "auth",
    request_body(content = DeviceTokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = DeviceTokenReply),
        (status = 400, description = "OAuth error (RFC 8628 §3.5): `authorization_pending`, \
            `slow_down` (with the new interval in `details.interval`), `access_denied`, \
            `expired_token`, `invalid_grant`, `invalid_request` or `unsupported_grant_type`; \
            `error_description` repeats `message`", body = ErrorBody),
    )
)]
pub async fn token(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    form: Result<Form<DeviceTokenRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    let Form(req) = form
        .map_err(|e| AppError::oauth(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()))?;
    if req.grant_type.as_deref() != Some(DEVICE_CODE_GRANT) {
        return Err(AppError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type must be {DEVICE_CODE_GRANT}"),
        ));
    }
    let device_code = req.device_code.unwrap_or_default();
    let (token, record) = app.devices.poll(&device_code, ip).await?;
    let reply = DeviceTokenReply::new(&token, &record);
    Ok(no_store(Json(reply).into_response()))
}

/// OAuth separates scopes with spaces; Wharf's own lists use commas.
fn oauth_scope(scopes: &wharf_core::Scopes) -> String {
    scopes.to_string().replace(',', " ")
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
