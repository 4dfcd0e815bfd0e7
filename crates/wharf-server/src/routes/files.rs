//! `/files/{sha256}/{filename}` and `…/{filename}.metadata`: downloads, with
//! ETag, single-range requests and immutable caching (the hash in the URL
//! means the bytes behind it never change).

use super::simple::if_none_match;
use crate::error::AppError;
use crate::state::App;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;
use wharf_core::ports::BlobLocation;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files up to this size are read in one go; larger ones stream.
const SMALL_FILE: u64 = 256 * 1024;

/// `GET /files/{sha256}/{filename}`: a published file, or with `.metadata`
/// its PEP 658 metadata file.
#[utoipa::path(
    get, path = "/files/{sha256}/{filename}", operation_id = "downloadFile", tag = "pypi",
    params(
        ("sha256" = String, Path, description = "the file's SHA-256, in hex"),
        ("filename" = String, Path, description = "the file name, or it plus `.metadata`"),
    ),
    responses(
        (status = 200, content((Vec<u8> = "application/octet-stream"))),
        (status = 206, description = "one byte range"),
        (status = 304, description = "unchanged (If-None-Match)"),
        (status = 302, description = "on S3: a presigned URL that lives 15 minutes"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 416, description = "the range is not satisfiable"),
    )
)]
pub async fn download(
    State(app): State<App>,
    Path((sha256, filename)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(download) = app.index.download(&sha256, &filename).await? else {
        return Err(missing(&filename));
    };
    let content_type = if download.is_metadata {
        "text/plain; charset=utf-8"
    } else {
        content_type(&download.filename)
    };
    serve_blob(&app, &download.blob_sha256, content_type, &headers).await
}

/// Serves the blob stored under `blob_sha`: immutable, with its hash as the
/// ETag, one byte range at most, or a redirect where the store gives one.
pub(crate) async fn serve_blob(
    app: &App,
    blob_sha: &str,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let etag = format!("\"{blob_sha}\"");
    let common = [
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is ASCII"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
    ];
    if if_none_match(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let path = match app.index.locate(blob_sha).await? {
        BlobLocation::LocalFile(path) => path,
        BlobLocation::Redirect(url) => {
            let location = HeaderValue::from_str(&url).map_err(AppError::internal)?;
            return Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response());
        }
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let served = tokio::task::spawn_blocking(move || open_blob(&path, range.as_deref()))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let (status, start, count, len, body) = match served {
        Served::Unsatisfiable { len } => {
            let content_range = HeaderValue::from_str(&format!("bytes */{len}")).expect("ASCII");
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, content_range)],
            )
                .into_response());
        }
        Served::Bytes {
            status,
            start,
            len,
            bytes,
        } => (status, start, bytes.len() as u64, len, Body::from(bytes)),
        Served::Stream {
            status,
            start,
            count,
            len,
            file,
        } => {
            let reader = tokio::fs::File::from_std(file).take(count);
            (
                status,
                start,
                count,
                len,
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                    reader,
                    128 * 1024,
                )),
            )
        }
    };
    let mut response = (status, common, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {start}-{}/{len}", start + count - 1);
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).expect("ASCII"),
        );
    }
    Ok(response)
}

/// What to send for a blob, decided in one blocking call: open, stat, and
/// for small files (or ranges) read, so a download costs one trip to the
/// blocking pool rather than one per file operation.
enum Served {
    Unsatisfiable {
        len: u64,
    },
    Bytes {
        status: StatusCode,
        start: u64,
        len: u64,
        bytes: Vec<u8>,
    },
    Stream {
        status: StatusCode,
        start: u64,
        count: u64,
        len: u64,
        file: std::fs::File,
    },
}

fn open_blob(path: &std::path::Path, range: Option<&str>) -> Result<Served, String> {
    use std::io::{Read, Seek};
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("open blob {}: {e}", path.display()))?;
    let len = file
        .metadata()
        .map_err(|e| format!("stat blob {}: {e}", path.display()))?
        .len();
    let (status, start, count) = match range.map(|r| parse_range(r, len)) {
        None | Some(RangeRequest::Ignored) => (StatusCode::OK, 0, len),
        Some(RangeRequest::Satisfiable(start, end)) => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(RangeRequest::Unsatisfiable) => return Ok(Served::Unsatisfiable { len }),
    };
    file.seek(std::io::SeekFrom::Start(start))
        .map_err(|e| format!("seek blob: {e}"))?;
    if count <= SMALL_FILE {
        let mut bytes = vec![0u8; count as usize];
        file.read_exact(&mut bytes)
            .map_err(|e| format!("read blob {}: {e}", path.display()))?;
        return Ok(Served::Bytes {
            status,
            start,
            len,
            bytes,
        });
    }
    Ok(Served::Stream {
        status,
        start,
        count,
        len,
        file,
    })
}

fn missing(filename: &str) -> AppError {
    AppError::not_found(format!(
        "no file '{}' here",
        wharf_core::name::printable(filename)
    ))
}

fn content_type(filename: &str) -> &'static str {
    if filename.ends_with(".whl") {
        "application/zip"
    } else if filename.ends_with(".tar.gz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// A header we do not act on (multiple ranges, other units): send it all.
    Ignored,
    Satisfiable(u64, u64),
    Unsatisfiable,
}

/// Parses a single `bytes=` range against a length (RFC 9110 §14.1.2).
/// A syntactically invalid header is ignored, as the RFC asks; a valid one
/// that selects no byte is unsatisfiable.
fn parse_range(header: &str, len: u64) -> RangeRequest {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeRequest::Ignored;
    };
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Ignored;
    };
    if spec.contains(',') {
        return RangeRequest::Ignored;
    }
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // A suffix range: the last N bytes.
        return match last.parse::<u64>() {
            Ok(0) => RangeRequest::Unsatisfiable,
            Ok(_) if len == 0 => RangeRequest::Unsatisfiable,
            Ok(n) => RangeRequest::Satisfiable(len.saturating_sub(n), len - 1),
            Err(_) => RangeRequest::Ignored,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeRequest::Ignored;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => end,
            _ => return RangeRequest::Ignored,
        }
    };
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Satisfiable(start, end.min(len - 1))
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::*;
    use super::*;

    #[test]
    fn parses_byte_ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Satisfiable(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Satisfiable(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Satisfiable(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), Satisfiable(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ignored);
        assert_eq!(parse_range("items=0-1", 100), Ignored);
        assert_eq!(parse_range("bytes=9-1", 100), Ignored);
        assert_eq!(parse_range("bytes=x-1", 100), Ignored);
    }
}
