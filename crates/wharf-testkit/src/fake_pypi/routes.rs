//! The stand-in's routes: each counts its request, applies the faults, then answers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt as _;

use super::negotiate::{negotiate, Format};
use super::pages::{self, Link, ProjectPage};
use super::{normalize, Dist, Fault, Shared, State as Inner, SLOW_FILE_PARTS, TRAVERSAL_FILENAME};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/simple", get(index_without_slash))
        .route("/simple/", get(index))
        .route("/simple/{project}", get(page_without_slash))
        .route("/simple/{project}/", get(project_page))
        .route("/files/{filename}", get(file))
        .fallback(unknown)
        .with_state(shared)
}

/// What a request asked for, for the counters.
enum Hit<'a> {
    Page(&'a str),
    File(&'a str),
    Metadata(&'a str),
    Other,
}

impl Shared {
    /// Counts a request, then applies the faults every request meets: waits out a
    /// [`Fault::Delay`], and answers a [`Fault::Status`] in place of the real answer.
    async fn arrive(&self, hit: Hit<'_>) -> Option<Response> {
        let (delay, status) = {
            let mut state = self.lock();
            let counts = &mut state.counts;
            counts.total += 1;
            let counter = match hit {
                Hit::Page(project) => Some((&mut counts.pages, project)),
                Hit::File(filename) => Some((&mut counts.files, filename)),
                Hit::Metadata(filename) => Some((&mut counts.metadata, filename)),
                Hit::Other => None,
            };
            if let Some((counter, key)) = counter {
                *counter.entry(key.to_owned()).or_default() += 1;
            }
            state.global_faults()
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        status.map(forced_status)
    }
}

impl Inner {
    /// The last [`Fault::Delay`] and [`Fault::Status`] set, if any.
    fn global_faults(&self) -> (Option<Duration>, Option<u16>) {
        let delay = self.faults.iter().rev().find_map(|fault| match fault {
            Fault::Delay(delay) => Some(*delay),
            _ => None,
        });
        let status = self.faults.iter().rev().find_map(|fault| match fault {
            Fault::Status(status) => Some(*status),
            _ => None,
        });
        (delay, status)
    }

    fn has_fault(&self, is_match: impl Fn(&Fault) -> bool) -> bool {
        self.faults.iter().any(is_match)
    }

    /// The project's files, in file-name order.
    fn project_dists(&self, project: &str) -> Vec<Dist> {
        self.dists
            .values()
            .filter(|dist| dist.project == project)
            .cloned()
            .collect()
    }
}

fn forced_status(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, format!("fault injected: {status}\n")).into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

async fn index_without_slash(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(answer) = shared.arrive(Hit::Other).await {
        return answer;
    }
    redirect(StatusCode::MOVED_PERMANENTLY, "/simple/")
}

async fn index(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(answer) = shared.arrive(Hit::Other).await {
        return answer;
    }
    let Some(format) = negotiate(accept(&headers)) else {
        return not_acceptable();
    };
    let mut names: Vec<String> = {
        let state = shared.lock();
        state
            .dists
            .values()
            .map(|dist| dist.project.clone())
            .collect()
    };
    names.sort();
    names.dedup();
    let body = match format {
        Format::Json => pages::index_json(&names),
        Format::Html(_) => pages::index_html(&names),
    };
    page_response(format, body, &headers)
}

async fn page_without_slash(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
) -> Response {
    let normalized = normalize(&project);
    if let Some(answer) = shared.arrive(Hit::Page(&normalized)).await {
        return answer;
    }
    let location = format!("/simple/{}/", pages::escape_segment(&normalized));
    redirect(StatusCode::MOVED_PERMANENTLY, &location)
}

async fn project_page(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Response {
    let normalized = normalize(&project);
    if let Some(answer) = shared.arrive(Hit::Page(&normalized)).await {
        return answer;
    }
    let location = format!("/simple/{}/", pages::escape_segment(&normalized));
    if project != normalized {
        return redirect(StatusCode::MOVED_PERMANENTLY, &location);
    }
    let Some(format) = negotiate(accept(&headers)) else {
        return not_acceptable();
    };
    let (dists, faults) = {
        let state = shared.lock();
        (
            state.project_dists(&normalized),
            PageFaults::of(&state, &normalized),
        )
    };
    if dists.is_empty() {
        return (StatusCode::NOT_FOUND, "no such project\n").into_response();
    }
    if faults.is_redirected {
        let elsewhere = format!("{}{location}", shared.foreign_origin());
        return redirect(StatusCode::FOUND, &elsewhere);
    }
    let origin = if faults.has_foreign_urls {
        shared.foreign_origin()
    } else {
        shared.origin()
    };
    let mut links: Vec<Link> = dists.iter().map(|dist| link(dist, &origin)).collect();
    if faults.has_traversal {
        links.push(Link {
            filename: TRAVERSAL_FILENAME.to_owned(),
            url: pages::file_url(&origin, TRAVERSAL_FILENAME),
            ..links[0].clone()
        });
    }
    let mut versions: Vec<String> = Vec::new();
    for dist in &dists {
        if !versions.contains(&dist.version) {
            versions.push(dist.version.clone());
        }
    }
    let page = ProjectPage {
        name: &normalized,
        versions: &versions,
        links: &links,
    };
    let render = |padding: Option<&str>| match format {
        Format::Json => pages::project_json(&page, padding),
        Format::Html(_) => pages::project_html(&page, padding),
    };
    let mut body = match faults.padded_size {
        Some(size) => pages::padded(size, render),
        None => render(None),
    };
    if faults.is_malformed {
        // No proper prefix of a JSON object parses.
        body.truncate(body.len() / 2);
    }
    page_response(format, body, &headers)
}

/// The faults that change one project's page.
struct PageFaults {
    is_malformed: bool,
    padded_size: Option<usize>,
    has_foreign_urls: bool,
    has_traversal: bool,
    is_redirected: bool,
}

impl PageFaults {
    fn of(state: &Inner, project: &str) -> PageFaults {
        let is_this = |name: &str| normalize(name) == project;
        PageFaults {
            is_malformed: state
                .has_fault(|f| matches!(f, Fault::MalformedPage { project } if is_this(project))),
            padded_size: state.faults.iter().rev().find_map(|f| match f {
                Fault::OversizedPage { project, bytes } if is_this(project) => Some(*bytes),
                _ => None,
            }),
            has_foreign_urls: state
                .has_fault(|f| matches!(f, Fault::ForeignFileUrls { project } if is_this(project))),
            has_traversal: state.has_fault(
                |f| matches!(f, Fault::TraversalFilename { project } if is_this(project)),
            ),
            is_redirected: state.has_fault(
                |f| matches!(f, Fault::RedirectElsewhere { project } if is_this(project)),
            ),
        }
    }
}

fn link(dist: &Dist, origin: &str) -> Link {
    Link {
        filename: dist.filename.clone(),
        url: pages::file_url(origin, &dist.filename),
        sha256: dist.sha256.clone(),
        size: dist.bytes.len() as u64,
        requires_python: dist.requires_python.clone(),
        upload_time: dist.upload_time,
        yank_reason: dist.yank_reason.clone(),
        metadata_sha256: dist.metadata.as_deref().map(pages::sha256_hex),
    }
}

async fn file(State(shared): State<Arc<Shared>>, Path(filename): Path<String>) -> Response {
    // No wheel or sdist name ends in `.metadata`, so the suffix is unambiguous.
    if let Some(wheel) = filename.strip_suffix(".metadata") {
        return metadata(&shared, wheel).await;
    }
    if let Some(answer) = shared.arrive(Hit::File(&filename)).await {
        return answer;
    }
    let (bytes, slow_pause, is_altered) = {
        let state = shared.lock();
        let bytes = match state.dists.get(&filename) {
            Some(dist) => dist.bytes.clone(),
            None => match traversal_target(&state, &filename) {
                Some(dist) => dist.bytes.clone(),
                None => return (StatusCode::NOT_FOUND, "no such file\n").into_response(),
            },
        };
        let slow_pause = state.faults.iter().rev().find_map(|f| match f {
            Fault::SlowFile {
                filename: name,
                pause,
            } if *name == filename => Some(*pause),
            _ => None,
        });
        let is_altered = state
            .has_fault(|f| matches!(f, Fault::WrongHash { filename: name } if *name == filename));
        (bytes, slow_pause, is_altered)
    };
    let bytes = if is_altered { altered(&bytes) } else { bytes };
    let length = bytes.len();
    let body = match slow_pause {
        Some(pause) => trickle(bytes, pause),
        None => Body::from(bytes),
    };
    file_response(body, length)
}

/// The file [`Fault::TraversalFilename`]'s extra entry stands for: its project's first.
fn traversal_target<'a>(state: &'a Inner, filename: &str) -> Option<&'a Dist> {
    if filename != TRAVERSAL_FILENAME {
        return None;
    }
    state.faults.iter().rev().find_map(|f| match f {
        Fault::TraversalFilename { project } => {
            let project = normalize(project);
            state.dists.values().find(|dist| dist.project == project)
        }
        _ => None,
    })
}

async fn metadata(shared: &Shared, wheel: &str) -> Response {
    if let Some(answer) = shared.arrive(Hit::Metadata(wheel)).await {
        return answer;
    }
    let (metadata, is_altered) = {
        let state = shared.lock();
        let metadata = state
            .dists
            .get(wheel)
            .and_then(|dist| dist.metadata.clone());
        let is_altered = state
            .has_fault(|f| matches!(f, Fault::WrongMetadataHash { filename } if filename == wheel));
        (metadata, is_altered)
    };
    let Some(metadata) = metadata else {
        return (StatusCode::NOT_FOUND, "no such metadata file\n").into_response();
    };
    let metadata = if is_altered {
        altered(&metadata)
    } else {
        metadata
    };
    let length = metadata.len();
    file_response(Body::from(metadata), length)
}

async fn unknown(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(answer) = shared.arrive(Hit::Other).await {
        return answer;
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// The bytes with the middle one flipped: same length, different hash.
fn altered(bytes: &Bytes) -> Bytes {
    let mut changed = bytes.to_vec();
    match changed.get_mut(bytes.len() / 2) {
        Some(byte) => *byte ^= 0xff,
        None => changed.push(0),
    }
    Bytes::from(changed)
}

/// A body sent in [`SLOW_FILE_PARTS`] parts, with `pause` before each.
fn trickle(bytes: Bytes, pause: Duration) -> Body {
    let part = bytes.len().div_ceil(SLOW_FILE_PARTS).max(1);
    let parts: Vec<Bytes> = (0..bytes.len())
        .step_by(part)
        .map(|start| bytes.slice(start..bytes.len().min(start + part)))
        .collect();
    let stream = futures_util::stream::iter(parts).then(move |part| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, Infallible>(part)
    });
    Body::from_stream(stream)
}

fn file_response(body: Body, length: usize) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // Set by hand: a trickled body has no size of its own, and the client should still
    // know how much is coming.
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=365000000, immutable, public"),
    );
    response
}

/// A page with its `Content-Type`, `Vary` and `ETag`, or a 304 if the client has it.
fn page_response(format: Format, body: Vec<u8>, request: &HeaderMap) -> Response {
    let etag = pages::etag(&body);
    let is_fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if is_fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("an ETag is hex in quotes"),
    );
    response
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let location = HeaderValue::from_str(location).expect("locations are escaped");
    (status, [(header::LOCATION, location)]).into_response()
}

fn not_acceptable() -> Response {
    (
        StatusCode::NOT_ACCEPTABLE,
        [(header::VARY, "Accept")],
        "no acceptable form: offered application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html\n",
    )
        .into_response()
}
