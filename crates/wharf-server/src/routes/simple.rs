//! `/simple/` and `/simple/{project}/`: the index that pip and uv read.

use crate::cache::{Page, SimpleFormat};
use crate::error::AppError;
use crate::negotiate::{choose, SimpleType};
use crate::state::App;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use wharf_core::name::normalize;

/// `GET /simple/`: every project with a listed file, as PEP 503 HTML or
/// PEP 691 JSON by `Accept`.
#[utoipa::path(
    get, path = "/simple/", operation_id = "simpleIndex", tag = "pypi",
    responses(
        (status = 200, content(
            (crate::pages::SimpleIndex = "application/vnd.pypi.simple.v1+json"),
            (String = "application/vnd.pypi.simple.v1+html"),
            (String = "text/html"),
        )),
        (status = 304, description = "the page has not changed (If-None-Match)"),
        (status = 406, body = crate::error::ErrorBody),
    )
)]
pub async fn index(State(app): State<App>, headers: HeaderMap) -> Result<Response, AppError> {
    let kind = negotiate(&headers)?;
    let format = page_format(kind);
    let page = app.index.index_page(format).await?;
    Ok(respond(&page, kind, &headers))
}

/// `/simple/{name}` without the slash: redirect to the canonical URL.
pub async fn project_no_slash(Path(name): Path<String>) -> Response {
    moved_to(&normalize(&name))
}

/// PEP 503 asks for a 301 to the normalized URL.
fn moved_to(normalized: &str) -> Response {
    let location = HeaderValue::from_str(&format!("/simple/{normalized}/"))
        .unwrap_or_else(|_| HeaderValue::from_static("/simple/"));
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// `GET /simple/{name}/`: a project's files, as PEP 503 HTML or PEP 691
/// JSON by `Accept`; a name that is not normalized gets a 301.
#[utoipa::path(
    get, path = "/simple/{name}/", operation_id = "simpleProject", tag = "pypi",
    params(("name" = String, Path, description = "the normalized project name")),
    responses(
        (status = 200, content(
            (crate::pages::SimpleProject = "application/vnd.pypi.simple.v1+json"),
            (String = "application/vnd.pypi.simple.v1+html"),
            (String = "text/html"),
        )),
        (status = 301, description = "to the normalized name"),
        (status = 304, description = "the page has not changed (If-None-Match)"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 406, body = crate::error::ErrorBody),
    )
)]
pub async fn project(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let normalized = normalize(&name);
    if normalized != name {
        // PEP 503: a non-normalized name redirects to the normalized URL.
        return Ok(moved_to(&normalized));
    }
    let kind = negotiate(&headers)?;
    let format = page_format(kind);
    let served = app
        .index
        .project_page(&normalized, format)
        .await?
        .ok_or_else(|| no_project(&normalized))?;
    let mut response = respond(&served.page, kind, &headers);
    if let Some(age) = served.stale_for {
        // RFC 9111's Age, and the (obsolete, still read) Warning 110.
        let h = response.headers_mut();
        h.insert(header::AGE, HeaderValue::from(age.as_secs()));
        h.insert(
            header::WARNING,
            HeaderValue::from_static("110 wharf \"Response is Stale\""),
        );
    }
    Ok(response)
}

fn no_project(name: &str) -> AppError {
    AppError::not_found(format!(
        "no project named '{}' in this registry",
        wharf_core::name::printable(name)
    ))
}

fn negotiate(headers: &HeaderMap) -> Result<SimpleType, AppError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    choose(accept).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "no acceptable content type: ask for application/vnd.pypi.simple.v1+json, \
             application/vnd.pypi.simple.v1+html or text/html",
        )
    })
}

fn page_format(kind: SimpleType) -> SimpleFormat {
    match kind {
        SimpleType::V1Json => SimpleFormat::Json,
        SimpleType::V1Html | SimpleType::TextHtml => SimpleFormat::Html,
    }
}

fn respond(page: &Page, kind: SimpleType, headers: &HeaderMap) -> Response {
    let etag = HeaderValue::from_str(&page.etag).expect("etag is ASCII");
    let base = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(kind.content_type()),
        ),
        (header::VARY, HeaderValue::from_static("Accept")),
        // Clients revalidate every time, which the ETag makes a cheap 304.
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=0, must-revalidate"),
        ),
        (header::ETAG, etag),
    ];
    if if_none_match(headers, &page.etag) {
        return (StatusCode::NOT_MODIFIED, base).into_response();
    }
    (StatusCode::OK, base, page.body.clone()).into_response()
}

/// Whether `If-None-Match` names this ETag (or `*`). Weak comparison, as RFC 9110 asks for GET.
pub fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let Some(value) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}
