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
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use wharf_core::model::{FileRecord, FileStatus};
use wharf_core::ports::{BlobKey, BlobLocation};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files up to this size are read in one go; larger ones stream.
const SMALL_FILE: u64 = 256 * 1024;

pub async fn download(
    State(app): State<App>,
    Path((sha256, filename)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // A name ending in .metadata is the PEP 658 file of the distribution
    // without that suffix, unless a distribution is itself named so (none can be).
    let (record, want_metadata) = match find(&app, &filename).await? {
        Some(r) => (r, false),
        None => match filename.strip_suffix(".metadata") {
            Some(dist) => (
                find(&app, dist).await?.ok_or_else(|| missing(&filename))?,
                true,
            ),
            None => return Err(missing(&filename)),
        },
    };
    if record.sha256 != sha256 || record.status != FileStatus::Published {
        return Err(missing(&filename));
    }
    let (blob_sha, content_type) = if want_metadata {
        let sha = record
            .metadata_sha256
            .as_deref()
            .ok_or_else(|| missing(&filename))?;
        (sha, "text/plain; charset=utf-8")
    } else {
        (record.sha256.as_str(), content_type(&record.filename))
    };
    let etag = format!("\"{blob_sha}\"");
    let common = [
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is ASCII"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
    ];
    if if_none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let path = match app
        .ports
        .blobs
        .locate(&BlobKey::for_sha256(blob_sha))
        .await?
    {
        BlobLocation::LocalFile(path) => path,
        BlobLocation::Redirect(url) => {
            let location = HeaderValue::from_str(&url).map_err(AppError::internal)?;
            return Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response());
        }
    };
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| AppError::internal(format!("open {}: {e}", path.display())))?;
    let len = file.metadata().await.map_err(AppError::internal)?.len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, len));
    let (status, start, count) = match range {
        None | Some(RangeRequest::Ignored) => (StatusCode::OK, 0, len),
        Some(RangeRequest::Satisfiable(start, end)) => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(RangeRequest::Unsatisfiable) => {
            let content_range = HeaderValue::from_str(&format!("bytes */{len}")).expect("ASCII");
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, content_range)],
            )
                .into_response());
        }
    };
    let body = if count <= SMALL_FILE {
        let mut buf = vec![0u8; count as usize];
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(AppError::internal)?;
        file.read_exact(&mut buf)
            .await
            .map_err(AppError::internal)?;
        Body::from(buf)
    } else {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(AppError::internal)?;
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            file.take(count),
            128 * 1024,
        ))
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

async fn find(app: &App, filename: &str) -> Result<Option<Arc<FileRecord>>, AppError> {
    if let Some(hit) = app.file_index.get(filename) {
        return Ok(Some(hit));
    }
    let Some(record) = app.ports.files.find_file(filename).await? else {
        return Ok(None);
    };
    let record = Arc::new(record);
    app.file_index.put(record.clone());
    Ok(Some(record))
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
