//! RFC 8628 device authorization endpoints, as `wharf login` calls them:
//! `POST /api/v1/auth/device/code` and `POST /api/v1/auth/device/token`.
//! Bodies are `application/x-www-form-urlencoded` (RFC 8628 §3.1, §3.4);
//! errors use OAuth's `error` and `error_description`, plus Wharf's `message`.

use crate::error::AppError;
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::services::device::{self, DeviceError};
use crate::state::App;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use wharf_core::model::DeviceCaps;

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Debug, Deserialize)]
pub struct CodeRequest {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// `POST /api/v1/auth/device/code`: a new device code and user code.
pub async fn code(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<Form<CodeRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    let policy = &app.config.rate_limits.device;
    ratelimit::check(&app, &client_key(ip), policy, OnOutage::FailClosed).await?;
    let Form(req) =
        form.map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text()))?;
    if req.client_id.as_ref().is_some_and(|c| c.len() > 100) {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is at most 100 characters",
        ));
    }
    let scopes = device::parse_requested_scopes(req.scope.as_deref())
        .map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &e.message))?;
    let caps = DeviceCaps {
        total: app.config.security.device_code_cap,
        per_requester: app.config.security.device_code_cap_per_client,
    };
    let requester = app.ip_hasher.hash_key(&client_key(ip));
    let grant = device::start(&app.ports, scopes, caps, requester)
        .await
        .map_err(|e| match e {
            DeviceError::StoreFull => oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                &DeviceError::StoreFull.to_string(),
            )
            .with_retry_after(60),
            // One client's own backlog: a 429, not an outage for everyone.
            DeviceError::RequesterFull => oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                &DeviceError::RequesterFull.to_string(),
            )
            .with_retry_after(60),
            other => device_error(other),
        })?;
    let base = super::web::public_base(&app, &headers);
    let verification_uri = format!("{base}/device");
    let complete = format!("{verification_uri}?user_code={}", grant.user_code);
    let mut response = Json(json!({
        "device_code": grant.device_code,
        "user_code": grant.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": complete,
        "expires_in": grant.expires_in,
        "interval": grant.interval,
        "scope": grant.scopes.to_string().replace(',', " "),
    }))
    .into_response();
    no_store(&mut response);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    grant_type: Option<String>,
    #[serde(default)]
    device_code: Option<String>,
}

/// `POST /api/v1/auth/device/token`: the device polls until approval.
pub async fn token(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    let Form(req) =
        form.map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text()))?;
    if req.grant_type.as_deref() != Some(DEVICE_CODE_GRANT) {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("grant_type must be {DEVICE_CODE_GRANT}"),
        ));
    }
    let device_code = req.device_code.unwrap_or_default();
    let (token, record) = device::poll(&app.ports, &device_code, Some(app.ip_hasher.hash(ip)))
        .await
        .map_err(device_error)?;
    let expires_in = record
        .expires_at
        .map(|at| ((at.micros() - record.created_at.micros()) / 1_000_000).max(0));
    let mut response = Json(json!({
        "access_token": token.reveal(),
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": record.scopes.to_string().replace(',', " "),
    }))
    .into_response();
    no_store(&mut response);
    Ok(response)
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn device_error(e: DeviceError) -> AppError {
    match e {
        DeviceError::Repo(e) => e.into(),
        DeviceError::SlowDown { interval } => {
            let mut err = oauth_error(StatusCode::BAD_REQUEST, "slow_down", &e.to_string());
            err.details = Some(json!({ "interval": interval }));
            err
        }
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            other.oauth_code(),
            &other.to_string(),
        ),
    }
}

/// An OAuth-shaped error: `error` is the RFC code, `error_description` (and
/// Wharf's usual `message`) says what to do.
fn oauth_error(status: StatusCode, code: &'static str, message: &str) -> AppError {
    AppError::new(status, code, message).with_oauth_description()
}
