//! The server-rendered web UI: the home page, login, tokens, device approval.
//!
//! Pages are askama templates, which escape every value by default; no user
//! text is ever marked safe. A session cookie authenticates the browser, and
//! every form that changes state carries the session's CSRF token.

mod account;
mod device_page;
mod home;
mod review_page;

use crate::error::AppError;
use crate::middleware::ClientIp;
use crate::services::auth::Principal;
use crate::services::sessions::{self, SESSION_COOKIE};
use crate::state::App;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use wharf_core::model::Session;

pub fn router() -> Router<App> {
    Router::new()
        // Only GET: lib.rs merges twine's `POST /` into the same route.
        .route("/", get(home::page))
        .route(
            "/account/login",
            get(account::login_page).post(account::login),
        )
        .route("/account/logout", post(account::logout))
        .route(
            "/account/tokens",
            get(account::tokens_page).post(account::create_token),
        )
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/device", get(device_page::page).post(device_page::decide))
        .route("/admin/review", get(review_page::page))
        .route("/admin/review/{id}", post(review_page::decide))
        .route("/static/wharf.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/wharf.css"),
    )
        .into_response()
}

/// `scheme://host` as the client addressed this server, for links handed to
/// another program (the device flow's verification URI). The host must look
/// like a host name; anything else falls back to the listen address.
pub fn public_base(app: &App, headers: &HeaderMap) -> String {
    if let Some(url) = &app.config.security.public_url {
        return url.clone();
    }
    let scheme = if app.config.security.behind_tls_proxy {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| app.config.listen.to_string());
    format!("{scheme}://{host}")
}

/// The value of one cookie from the `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly` always, `Secure` outside dev mode.
pub fn set_cookie(
    app: &App,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<u64>,
    same_site: &str,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if app.config.security.secure_cookies() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are ASCII")
}

/// The browser's live session, if its cookie names one.
pub struct MaybeSession(pub Option<(Session, String)>);

impl FromRequestParts<App> for MaybeSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(Self(None));
        };
        let value = value.to_owned();
        match app.accounts.session(&value).await {
            Ok(found) => Ok(Self(found.map(|s| (s, value)))),
            Err(e) => Err(error_page(AppError::from(e))),
        }
    }
}

/// A page that needs a login: without a session, the browser is sent to
/// the login page and brought back afterwards.
pub struct WebUser {
    pub session: Session,
    pub cookie_value: String,
    pub ip_hash: Option<String>,
}

impl FromRequestParts<App> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        let ip_hash = parts
            .extensions
            .get::<ClientIp>()
            .map(|ip| app.ip_hasher.hash(ip.0));
        match MaybeSession::from_request_parts(parts, app).await?.0 {
            Some((session, cookie_value)) => Ok(Self {
                session,
                cookie_value,
                ip_hash,
            }),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/account/tokens");
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                let target = format!("/account/login?{query}");
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

impl WebUser {
    /// The session as a principal: it acts with its user's own rights.
    pub fn principal(&self) -> Principal {
        Principal::for_session(self.session.user.clone(), self.ip_hash.clone())
    }

    /// The refusal for a form whose CSRF token is not this session's.
    pub fn csrf_refusal(&self, submitted: &str) -> Option<Response> {
        if sessions::csrf_matches(&self.session.csrf_token, submitted) {
            None
        } else {
            Some(message_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not issued to your current session. Reload the page and try again.",
                None,
            ))
        }
    }
}

/// Where to go after login: a local path only, never another site
/// (`//evil.example` and `/\evil.example` are other sites to a browser).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 512
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/account/tokens".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    link: Option<&'a str>,
}

/// A short page with a title and one message.
pub fn message_page(
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<&str>,
) -> Response {
    render(
        status,
        &MessagePage {
            title,
            message,
            link,
        },
    )
}

/// An error as a page, with the status and headers the JSON API would use.
pub fn error_page(e: AppError) -> Response {
    let mut response = message_page(e.status, "Something went wrong", &e.message, None);
    for (name, value) in e.response_headers() {
        response.headers_mut().insert(name, value);
    }
    response
}

/// Renders a template; pages are personal, so no cache may keep them.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => AppError::internal(format!("template failed: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/device?user_code=BCDF-GHJK")),
            "/device?user_code=BCDF-GHJK"
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/account/tokens", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/account/tokens");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("xwharf_session=no; wharf_session=yes; a=b"),
        );
        assert_eq!(cookie(&h, "wharf_session"), Some("yes"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
