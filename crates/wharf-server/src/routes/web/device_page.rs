//! `/device`: a logged-in user approves or denies a device login (RFC 8628 §3.3).

use super::{error_page, message_page, render, WebUser};
use crate::error::AppError;
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::services::device;
use crate::state::App;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    user_name: &'a str,
    csrf: &'a str,
    user_code: &'a str,
    scopes: Option<String>,
    error: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

/// Every user code looked up counts, per IP and per user: a code is short
/// enough to type, so guessing must stay slow (RFC 8628 §5.1).
async fn limit_code_lookups(app: &App, ip: &ClientIp, user: &WebUser) -> Result<(), Response> {
    let policy = &app.config.rate_limits.device_verify;
    for key in [client_key(ip.0), format!("user:{}", user.session.user.id)] {
        ratelimit::check(app, &key, policy, OnOutage::FailClosed)
            .await
            .map_err(error_page)?;
    }
    Ok(())
}

pub async fn page(
    State(app): State<App>,
    ip: ClientIp,
    user: WebUser,
    Query(q): Query<DeviceQuery>,
) -> Response {
    let code = q.user_code.unwrap_or_default();
    let (status, scopes, error) = if code.is_empty() {
        (StatusCode::OK, None, None)
    } else {
        if let Err(refused) = limit_code_lookups(&app, &ip, &user).await {
            return refused;
        }
        match app
            .devices
            .find_pending(&code)
            .await
            .map_err(AppError::from)
        {
            Ok(request) => (StatusCode::OK, Some(request.scopes.to_string()), None),
            Err(e) if e.status.is_server_error() => return error_page(e),
            // The page answers a look-up: a code that is malformed names
            // no pending login either.
            Err(e) => (StatusCode::NOT_FOUND, None, Some(e.message)),
        }
    };
    // Only a well-formed code is echoed back into the form.
    let shown = device::normalize_user_code(&code)
        .map(|c| device::display_user_code(&c))
        .unwrap_or_default();
    render(
        status,
        &DevicePage {
            user_name: &user.session.user.name,
            csrf: &user.session.csrf_token,
            user_code: &shown,
            scopes,
            error: error.as_deref(),
        },
    )
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    action: String,
}

pub async fn decide(
    State(app): State<App>,
    ip: ClientIp,
    user: WebUser,
    Form(form): Form<DecideForm>,
) -> Response {
    if let Some(refused) = user.csrf_refusal(&form.csrf) {
        return refused;
    }
    if let Err(refused) = limit_code_lookups(&app, &ip, &user).await {
        return refused;
    }
    let approve = match form.action.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Choose approve or deny",
                "The form must say whether to approve or deny the device.",
                Some("/device"),
            )
        }
    };
    let decided = app
        .devices
        .decide(&user.principal(), &form.user_code, approve)
        .await
        .map_err(AppError::from);
    match decided {
        Ok(_) if approve => message_page(
            StatusCode::OK,
            "Device approved",
            "The device is logged in. You can return to your terminal.",
            None,
        ),
        Ok(_) => message_page(
            StatusCode::OK,
            "Device denied",
            "The device login was denied; the code cannot be used any more.",
            None,
        ),
        Err(e) if e.status.is_server_error() => error_page(e),
        Err(e) => render(
            e.status,
            &DevicePage {
                user_name: &user.session.user.name,
                csrf: &user.session.csrf_token,
                user_code: "",
                scopes: None,
                error: Some(&e.message),
            },
        ),
    }
}
