//! `/npm/…`: an npm registry that the npm CLI uses unchanged, configured
//! with `npm config set registry <public_url>/npm/` and a Wharf token as the
//! `_authToken`.
//!
//! Package paths take both spellings npm uses for scoped names,
//! `@scope%2fname` and `@scope/name`, so they are parsed here from one
//! wildcard route rather than by the router. Errors have npm's shape,
//! `{"error": "<message>"}`, which the CLI prints after the status.

use crate::error::AppError;
use crate::ratelimit::{self, OnOutage};
use crate::routes::extract::MaybeAuth;
use crate::services::auth::Principal;
use crate::services::npm::{Npm, NpmError, PublishDocument};
use crate::state::App;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wharf_core::npm::PackageName;

/// The abbreviated packument's media type (npm's "corgi" documents).
const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// The npm routes, with the publish body limit.
pub fn router(app: &App) -> Router<App> {
    let limit = usize::try_from(app.npm.max_document_bytes()).unwrap_or(usize::MAX);
    Router::new()
        .route("/npm/-/whoami", get(whoami))
        .route("/npm/-/ping", get(ping))
        .route("/npm/-/v1/search", get(search))
        .route(
            "/npm/-/npm/v1/security/advisories/bulk",
            post(no_advisories),
        )
        .route("/npm/-/user/{user}", get(user))
        .route("/npm/-/package/{name}/dist-tags", get(dist_tags))
        .route(
            "/npm/-/package/{name}/dist-tags/{tag}",
            put(add_dist_tag).post(add_dist_tag).delete(remove_dist_tag),
        )
        .route("/npm/{*path}", get(read).put(write).delete(remove))
        .layer(DefaultBodyLimit::max(limit))
}

/// An npm error response: the status, and `{"error": …}` for the CLI.
pub struct NpmFailure(AppError);

/// What npm prints after the status line.
#[derive(Debug, Serialize)]
struct NpmErrorBody {
    error: String,
    /// Wharf's stable code for the refusal (a rule ID for a held tarball).
    code: &'static str,
}

impl<E: Into<AppError>> From<E> for NpmFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for NpmFailure {
    fn into_response(self) -> Response {
        let e = self.0;
        let headers = e.response_headers();
        let mut response = (
            e.status,
            Json(NpmErrorBody {
                error: e.message.clone(),
                code: e.code,
            }),
        )
            .into_response();
        for (name, value) in headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

impl From<NpmError> for AppError {
    fn from(e: NpmError) -> Self {
        match e {
            NpmError::Invalid(m) => AppError::bad_request("invalid", m),
            NpmError::Refused { code, message } => AppError::bad_request(code, message),
            NpmError::Forbidden(m) => AppError::forbidden("forbidden", m),
            NpmError::NotFound(m) => AppError::new(StatusCode::NOT_FOUND, "not_found", m),
            NpmError::Conflict(m) => AppError::forbidden("version_exists", m),
            NpmError::TooLarge(m) => AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            NpmError::Repo(e) => e.into(),
            NpmError::Blob(e) => e.into(),
            NpmError::Proxy(e) => e.into(),
            NpmError::Internal(m) => AppError::internal(m),
        }
    }
}

type NpmResult = Result<Response, NpmFailure>;

/// A request that must be authenticated, refused in npm's shape.
fn require(auth: MaybeAuth) -> Result<Principal, NpmFailure> {
    auth.0.ok_or_else(|| {
        NpmFailure(AppError::unauthorized(
            "missing_credentials",
            "log in first: set //<host>/npm/:_authToken to a Wharf API token in .npmrc",
        ))
    })
}

fn name_of(raw: &str) -> Result<PackageName, NpmFailure> {
    PackageName::parse(raw)
        .map_err(|e| NpmFailure(AppError::bad_request("invalid_name", e.message)))
}

/// What a path under `/npm/` names.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Packument(String),
    Version(String, String),
    Tarball(String, String),
    Revision(String),
    TarballRevision(String, String),
}

/// Splits a path under `/npm/` (already percent-decoded, so `@scope%2fname`
/// arrives as `@scope/name`) into the package and what of it is asked for.
fn target(path: &str) -> Option<Target> {
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let name = if parts[0].starts_with('@') {
        if parts.len() < 2 {
            return None;
        }
        let scoped = format!("{}/{}", parts[0], parts[1]);
        parts.drain(..2);
        scoped
    } else {
        parts.remove(0).to_owned()
    };
    Some(match parts.as_slice() {
        [] => Target::Packument(name),
        [version] => Target::Version(name, (*version).to_owned()),
        ["-", file] => Target::Tarball(name, (*file).to_owned()),
        ["-rev", _] => Target::Revision(name),
        ["-", file, "-rev", _] => Target::TarballRevision(name, (*file).to_owned()),
        _ => return None,
    })
}

fn unknown_path() -> NpmFailure {
    NpmFailure(AppError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such npm registry path",
    ))
}

/// `GET /npm/{name}`, `/npm/{name}/{version}`, `/npm/{name}/-/{file}.tgz`.
async fn read(State(app): State<App>, Path(path): Path<String>, headers: HeaderMap) -> NpmResult {
    match target(&path).ok_or_else(unknown_path)? {
        Target::Packument(name) => packument(&app, &name_of(&name)?, &headers).await,
        Target::Version(name, version) => {
            let doc = app.npm.version_document(&name_of(&name)?, &version).await?;
            Ok(Json(doc).into_response())
        }
        Target::Tarball(name, file) => {
            let record = app.npm.tarball(&name_of(&name)?, &file).await?;
            Ok(
                super::files::serve_blob(
                    &app,
                    &record.sha256,
                    "application/octet-stream",
                    &headers,
                )
                .await?,
            )
        }
        _ => Err(unknown_path()),
    }
}

async fn packument(app: &App, name: &PackageName, headers: &HeaderMap) -> NpmResult {
    let abbreviated = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(ABBREVIATED));
    let page = app.npm.packument_page(name, abbreviated).await?;
    let content_type = if abbreviated {
        ABBREVIATED
    } else {
        "application/json"
    };
    let etag = HeaderValue::from_str(&page.etag).map_err(AppError::internal)?;
    // A changed package is seen at once: clients revalidate with the ETag.
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::VARY, HeaderValue::from_static("Accept")),
    ];
    if super::simple::if_none_match(headers, &page.etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        page.body.clone(),
    )
        .into_response())
}

/// `PUT /npm/{name}` (publish, or an edited packument), `PUT /npm/{name}/-rev/{rev}`.
async fn write(
    State(app): State<App>,
    Path(path): Path<String>,
    auth: MaybeAuth,
    body: Bytes,
) -> NpmResult {
    let who = require(auth)?;
    let name = match target(&path).ok_or_else(unknown_path)? {
        Target::Packument(name) | Target::Revision(name) => name_of(&name)?,
        _ => return Err(unknown_path()),
    };
    let doc: PublishDocument = serde_json::from_slice(&body).map_err(|e| {
        NpmFailure(AppError::bad_request(
            "invalid_document",
            format!("the body is not an npm package document: {e}"),
        ))
    })?;
    if doc.attachments.is_empty() {
        app.npm.update(&who, &name, doc).await?;
        return Ok(Json(Ok200 { ok: true }).into_response());
    }
    let policy = &app.config.rate_limits.upload;
    ratelimit::check(&app, &who.rate_key(), policy, OnOutage::FailClosed).await?;
    let published = app.npm.publish(&who, name.as_str(), doc).await?;
    let mut response = (
        StatusCode::CREATED,
        Json(PublishReply {
            ok: true,
            id: published.name,
            version: published.version,
            status: published.status.as_str(),
        }),
    )
        .into_response();
    if let Some(notice) = published.notice {
        // The npm CLI prints this header as `npm notice …`.
        if let Ok(value) = HeaderValue::from_str(&notice) {
            response.headers_mut().insert("npm-notice", value);
        }
    }
    Ok(response)
}

/// `DELETE /npm/{name}/-rev/{rev}` (unpublish all) and
/// `DELETE /npm/{name}/-/{file}/-rev/{rev}` (the tarball of a version
/// already removed from the packument: nothing more to do).
async fn remove(State(app): State<App>, Path(path): Path<String>, auth: MaybeAuth) -> NpmResult {
    let who = require(auth)?;
    match target(&path).ok_or_else(unknown_path)? {
        Target::Revision(name) => {
            app.npm.unpublish_all(&who, &name_of(&name)?).await?;
        }
        Target::TarballRevision(name, _) => {
            // The version went with the packument update before it; the
            // tarball stays stored (the number is never reused) and unserved.
            app.npm.check_writable(&who, &name_of(&name)?).await?;
        }
        _ => return Err(unknown_path()),
    }
    Ok(Json(Ok200 { ok: true }).into_response())
}

#[derive(Serialize)]
struct Ok200 {
    ok: bool,
}

#[derive(Serialize)]
struct PublishReply {
    ok: bool,
    id: String,
    version: String,
    /// `published`, `pending` or `quarantined`.
    status: &'static str,
}

#[derive(Serialize)]
struct WhoAmI {
    username: String,
}

/// `npm whoami`.
async fn whoami(auth: MaybeAuth) -> NpmResult {
    let who = require(auth)?;
    Ok(Json(WhoAmI {
        username: Npm::whoami(&who),
    })
    .into_response())
}

#[derive(Serialize)]
struct Empty {}

/// `npm ping`.
async fn ping() -> Json<Empty> {
    Json(Empty {})
}

/// `npm audit` (run by every `npm install`): Wharf publishes no advisories;
/// what it holds back it does not serve.
async fn no_advisories() -> Json<Empty> {
    Json(Empty {})
}

#[derive(Serialize)]
struct UserDoc {
    name: String,
}

/// `GET /npm/-/user/org.couchdb.user:{name}`, asked by `npm owner add`.
async fn user(State(app): State<App>, Path(user): Path<String>) -> NpmResult {
    let name = user.strip_prefix("org.couchdb.user:").unwrap_or(&user);
    if !app.npm.user_exists(name).await? {
        return Err(NpmFailure(AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "there is no user '{}' in this registry",
                wharf_core::name::printable(name)
            ),
        )));
    }
    Ok(Json(UserDoc {
        name: name.to_owned(),
    })
    .into_response())
}

/// `npm dist-tag ls`.
async fn dist_tags(State(app): State<App>, Path(name): Path<String>) -> NpmResult {
    Ok(Json(app.npm.dist_tags(&name_of(&name)?).await?).into_response())
}

/// `npm dist-tag add`: the body is the version as a JSON string.
async fn add_dist_tag(
    State(app): State<App>,
    Path((name, tag)): Path<(String, String)>,
    auth: MaybeAuth,
    body: Bytes,
) -> NpmResult {
    let who = require(auth)?;
    let version: String = serde_json::from_slice(&body).map_err(|_| {
        NpmFailure(AppError::bad_request(
            "invalid_document",
            "the body must be the version as a JSON string, e.g. \"1.2.3\"",
        ))
    })?;
    app.npm
        .set_dist_tag(&who, &name_of(&name)?, &tag, &version)
        .await?;
    Ok(Json(Ok200 { ok: true }).into_response())
}

/// `npm dist-tag rm`.
async fn remove_dist_tag(
    State(app): State<App>,
    Path((name, tag)): Path<(String, String)>,
    auth: MaybeAuth,
) -> NpmResult {
    let who = require(auth)?;
    app.npm
        .remove_dist_tag(&who, &name_of(&name)?, &tag)
        .await?;
    Ok(Json(Ok200 { ok: true }).into_response())
}

/// `npm search`'s query.
#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    text: String,
    #[serde(default = "default_size")]
    size: i64,
    #[serde(default)]
    from: i64,
}

fn default_size() -> i64 {
    20
}

/// `GET /npm/-/v1/search?text=…`.
async fn search(State(app): State<App>, Query(q): Query<SearchQuery>) -> NpmResult {
    Ok(Json(app.npm.search(&q.text, q.size, q.from).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_packages_in_both_scoped_spellings() {
        assert_eq!(
            target("left-pad"),
            Some(Target::Packument("left-pad".into()))
        );
        assert_eq!(target("@a/b"), Some(Target::Packument("@a/b".into())));
        assert_eq!(
            target("@a/b/1.0.0"),
            Some(Target::Version("@a/b".into(), "1.0.0".into()))
        );
        assert_eq!(
            target("x/latest"),
            Some(Target::Version("x".into(), "latest".into()))
        );
        assert_eq!(
            target("@a/b/-/b-1.0.0.tgz"),
            Some(Target::Tarball("@a/b".into(), "b-1.0.0.tgz".into()))
        );
        assert_eq!(target("x/-rev/3-abc"), Some(Target::Revision("x".into())));
        assert_eq!(
            target("x/-/x-1.0.0.tgz/-rev/3-abc"),
            Some(Target::TarballRevision("x".into(), "x-1.0.0.tgz".into()))
        );
        for bad in ["", "@a", "x//y", "x/-/a/b", "x/1/2"] {
            assert_eq!(target(bad), None, "{bad}");
        }
    }
}
