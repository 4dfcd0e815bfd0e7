//! CORS from an explicit allowlist (security.md "Transport and browser").
//!
//! A listed origin gets its own origin echoed back, with credentials; any
//! other origin gets no CORS headers at all, so the browser keeps the
//! response from it. `*` is never sent, and an unlisted origin is never
//! reflected.
//!
//! The one exception is opt-in: with `[mcp] public_read_cors`, reads of the MCP
//! registry API answer `*` without credentials (a public catalog).

use crate::error::AppError;
use crate::state::App;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, DELETE";
const ALLOW_HEADERS: &str = "authorization, content-type";
const EXPOSE_HEADERS: &str = "etag, retry-after, ratelimit, ratelimit-policy";

/// Whether a request reads the MCP registry API (`GET`/`HEAD` under `/v0/` or
/// `/v0.1/`), which `[mcp] public_read_cors` opens to every origin.
fn is_public_read(request: &Request, method: &Method) -> bool {
    let path = request.uri().path();
    (method == Method::GET || method == Method::HEAD)
        && (path.starts_with("/v0/") || path.starts_with("/v0.1/"))
}

pub async fn apply(State(app): State<App>, request: Request, next: Next) -> Response {
    if app.config.mcp_public_read_cors && request.headers().contains_key(header::ORIGIN) {
        // A preflight names the method it asks for; a plain request is one.
        let asked = match request.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD) {
            Some(m) if request.method() == Method::OPTIONS => {
                Method::from_bytes(m.as_bytes()).unwrap_or(Method::OPTIONS)
            }
            _ => request.method().clone(),
        };
        if is_public_read(&request, &asked) {
            return public_read(request, next).await;
        }
    }
    allowlisted(app, request, next).await
}

/// Reads of the registry API for any origin: `*`, never with credentials, so a
/// browser sends no cookie and the answer is what anyone may read.
async fn public_read(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        preflight("GET, HEAD", "content-type")
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    response
}

/// The answer to an allowed preflight: which methods and headers may follow.
fn preflight(methods: &'static str, headers: &'static str) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(headers),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

async fn allowlisted(app: App, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| app.config.security.allows_origin(o));
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if is_preflight {
        if allowed {
            preflight(ALLOW_METHODS, ALLOW_HEADERS)
        } else {
            AppError::forbidden(
                "origin_not_allowed",
                "this origin may not call the API from a browser; add it to cors_origins",
            )
            .into_response()
        }
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Some(origin)) = (allowed, origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    response
}
