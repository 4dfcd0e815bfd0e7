//! The bodies of the simple pages, in both forms: PEP 691 JSON and PEP 503 HTML.

use std::fmt::Write as _;
use std::time::SystemTime;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// The repository API version both forms declare.
const API_VERSION: &str = "1.4";

/// Everything but the characters that are plain in a path segment, so a file name with `/`
/// (or `+`, `%`) stays one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One file as a project page lists it.
#[derive(Debug, Clone)]
pub(super) struct Link {
    pub filename: String,
    pub url: String,
    pub sha256: String,
    pub size: u64,
    pub requires_python: Option<String>,
    pub upload_time: SystemTime,
    /// `Some` when yanked; empty for a yank without a reason.
    pub yank_reason: Option<String>,
    pub metadata_sha256: Option<String>,
}

/// A project page: the normalized name, its versions in file order, and its files.
pub(super) struct ProjectPage<'a> {
    pub name: &'a str,
    pub versions: &'a [String],
    pub links: &'a [Link],
}

/// `{origin}/files/{filename}`, with the file name escaped as one path segment.
pub(super) fn file_url(origin: &str, filename: &str) -> String {
    format!("{origin}/files/{}", escape_segment(filename))
}

/// `name` escaped as one path segment.
pub(super) fn escape_segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// Lowercase hex sha256 of `bytes`.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// A strong ETag for a body: its hash, quoted.
pub(super) fn etag(body: &[u8]) -> String {
    format!("\"{}\"", &sha256_hex(body)[..32])
}

/// The PEP 691 JSON form, with an `x-padding` field when `padding` is given.
pub(super) fn project_json(page: &ProjectPage<'_>, padding: Option<&str>) -> Vec<u8> {
    let files = page.links.iter().map(FileEntry::from).collect();
    let body = ProjectJson {
        meta: Meta::CURRENT,
        name: page.name,
        versions: page.versions,
        files,
        padding,
    };
    serde_json::to_vec(&body).expect("a page serializes")
}

/// The PEP 503 HTML form, with a comment holding `padding` when it is given.
pub(super) fn project_html(page: &ProjectPage<'_>, padding: Option<&str>) -> Vec<u8> {
    let name = escape_html(page.name);
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n    <title>Links for {name}</title>\n  </head>\n  <body>\n    <h1>Links for {name}</h1>\n"
    );
    for link in page.links {
        let _ = write!(
            html,
            "    <a href=\"{}#sha256={}\"",
            escape_html(&link.url),
            link.sha256
        );
        if let Some(spec) = &link.requires_python {
            let _ = write!(html, " data-requires-python=\"{}\"", escape_html(spec));
        }
        if let Some(hash) = &link.metadata_sha256 {
            let _ = write!(
                html,
                " data-core-metadata=\"sha256={hash}\" data-dist-info-metadata=\"sha256={hash}\""
            );
        }
        if let Some(reason) = &link.yank_reason {
            let _ = write!(html, " data-yanked=\"{}\"", escape_html(reason));
        }
        let _ = writeln!(html, ">{}</a><br />", escape_html(&link.filename));
    }
    if let Some(padding) = padding {
        let _ = writeln!(html, "    <!--{padding}-->");
    }
    html.push_str("  </body>\n</html>\n");
    html.into_bytes()
}

/// The JSON index of projects.
pub(super) fn index_json(names: &[String]) -> Vec<u8> {
    let body = IndexJson {
        meta: Meta::CURRENT,
        projects: names.iter().map(|name| ProjectRef { name }).collect(),
    };
    serde_json::to_vec(&body).expect("an index serializes")
}

/// The HTML index of projects.
pub(super) fn index_html(names: &[String]) -> Vec<u8> {
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n    <title>Simple index</title>\n  </head>\n  <body>\n"
    );
    for name in names {
        let _ = writeln!(
            html,
            "    <a href=\"/simple/{}/\">{}</a><br />",
            escape_segment(name),
            escape_html(name)
        );
    }
    html.push_str("  </body>\n</html>\n");
    html.into_bytes()
}

/// Renders a page padded to at least `size` bytes: `render` takes the padding text.
pub(super) fn padded(size: usize, render: impl Fn(Option<&str>) -> Vec<u8>) -> Vec<u8> {
    let bare = render(Some(""));
    if bare.len() >= size {
        return bare;
    }
    render(Some(&"x".repeat(size - bare.len())))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct Meta {
    #[serde(rename = "api-version")]
    api_version: &'static str,
}

impl Meta {
    const CURRENT: Meta = Meta {
        api_version: API_VERSION,
    };
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    meta: Meta,
    name: &'a str,
    versions: &'a [String],
    files: Vec<FileEntry<'a>>,
    /// Unknown keys are to be ignored (PEP 691), so this keeps the page valid.
    #[serde(rename = "x-padding", skip_serializing_if = "Option::is_none")]
    padding: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct FileEntry<'a> {
    filename: &'a str,
    url: &'a str,
    hashes: Hashes<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requires_python: Option<&'a str>,
    size: u64,
    /// PEP 700: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    upload_time: String,
    yanked: Yanked<'a>,
    core_metadata: CoreMetadata<'a>,
    /// The PEP 658 name upstream still sends beside PEP 714's `core-metadata`.
    data_dist_info_metadata: CoreMetadata<'a>,
}

impl<'a> From<&'a Link> for FileEntry<'a> {
    fn from(link: &'a Link) -> Self {
        let core_metadata = || match &link.metadata_sha256 {
            Some(sha256) => CoreMetadata::Hashes(Hashes { sha256 }),
            None => CoreMetadata::Absent(false),
        };
        FileEntry {
            filename: &link.filename,
            url: &link.url,
            hashes: Hashes {
                sha256: &link.sha256,
            },
            requires_python: link.requires_python.as_deref(),
            size: link.size,
            upload_time: humantime::format_rfc3339_micros(link.upload_time).to_string(),
            yanked: match link.yank_reason.as_deref() {
                None => Yanked::Flag(false),
                Some("") => Yanked::Flag(true),
                Some(reason) => Yanked::Reason(reason),
            },
            core_metadata: core_metadata(),
            data_dist_info_metadata: core_metadata(),
        }
    }
}

#[derive(Serialize)]
struct Hashes<'a> {
    sha256: &'a str,
}

/// `false`, `true` (yanked without a reason) or the reason.
#[derive(Serialize)]
#[serde(untagged)]
enum Yanked<'a> {
    Flag(bool),
    Reason(&'a str),
}

/// The metadata file's hashes, or `false` when there is none.
#[derive(Serialize)]
#[serde(untagged)]
enum CoreMetadata<'a> {
    Hashes(Hashes<'a>),
    Absent(bool),
}

#[derive(Serialize)]
struct IndexJson<'a> {
    meta: Meta,
    projects: Vec<ProjectRef<'a>>,
}

#[derive(Serialize)]
struct ProjectRef<'a> {
    name: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_reaches_the_size_asked_for() {
        let render = |padding: Option<&str>| format!("<{}>", padding.unwrap_or("")).into_bytes();
        assert_eq!(padded(100, render).len(), 100);
        assert_eq!(padded(1, render), b"<>");
    }

    #[test]
    fn file_names_stay_one_segment() {
        assert_eq!(
            file_url("http://h", "../a/b+c.whl"),
            "http://h/files/..%2Fa%2Fb%2Bc.whl"
        );
    }
}
