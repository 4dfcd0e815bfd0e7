//! An upstream simple index (PEP 503 HTML or PEP 691 JSON) for the PyPI
//! proxy: one project page at a time, revalidated with its ETag, and the
//! files it lists, streamed.
//!
//! A page is read strictly, because everything in it ends up on Wharf's own
//! pages: a file name with a path in it, a file URL on an origin that is not
//! allowed, or a malformed hash makes the whole page unusable rather than
//! quietly shorter. Entries Wharf cannot serve (no SHA-256, a kind of file it
//! does not host) are left out.

use crate::index_client::IndexClient;
pub use crate::index_client::{FileDownload, IndexSettings, PageFetch};
use crate::UpstreamError;
use reqwest::Url;

const REGISTRY: &str = "pypi";
const JSON: &str = "application/vnd.pypi.simple.v1+json";
const ACCEPT_PAGE: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/// Where the simple index is (`…/simple/`), which origins its files may
/// come from, and the limits on asking it.
pub type SimpleSettings = IndexSettings;

/// One file as the upstream page describes it, checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UpstreamFile {
    pub filename: String,
    /// Absolute, on an allowed origin.
    pub url: String,
    /// Lowercase hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// `Some("")` when yanked without a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yanked: Option<String>,
    /// RFC 3339, as upstream wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The SHA-256 of the PEP 658 metadata file, when upstream has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_metadata_sha256: Option<String>,
}

/// A project page, reduced to what Wharf serves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UpstreamPage {
    pub files: Vec<UpstreamFile>,
}

/// The client for one upstream simple index.
pub struct SimpleIndex {
    client: IndexClient,
}

impl SimpleIndex {
    pub fn new(settings: SimpleSettings) -> Result<Self, UpstreamError> {
        Ok(Self {
            client: IndexClient::new(REGISTRY, "proxy.pypi", settings)?,
        })
    }

    /// The page of `normalized` (a PEP 503-normalized name), revalidated with
    /// `etag` when a copy is held.
    pub async fn page(
        &self,
        normalized: &str,
        etag: Option<&str>,
    ) -> Result<PageFetch<UpstreamPage>, UpstreamError> {
        if normalized.is_empty()
            || !normalized
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
        {
            return Err(UpstreamError::invalid(
                REGISTRY,
                "the project name is not normalized",
            ));
        }
        let what = format!("the page of '{normalized}'");
        let url = self.client.url(&format!("{normalized}/"))?;
        let fetched = self.client.page(url, ACCEPT_PAGE, etag, &what).await?;
        fetched.try_map(|raw| {
            let is_json = raw
                .content_type
                .as_deref()
                .is_some_and(|v| v.trim_start().starts_with(JSON));
            let files = if is_json {
                parse_json(&raw.body)
            } else {
                parse_html(&raw.body)
            }
            .map_err(|reason| {
                UpstreamError::invalid(REGISTRY, format!("{what} is unusable: {reason}"))
            })?;
            self.check(&raw.url, files).map_err(|reason| {
                UpstreamError::invalid(REGISTRY, format!("{what} is refused: {reason}"))
            })
        })
    }

    /// Starts downloading `url`, which must be on an allowed origin (it came
    /// from a checked page). Redirects are refused.
    pub async fn download(&self, url: &str) -> Result<FileDownload, UpstreamError> {
        self.client.download(url).await
    }

    /// Resolves and checks each entry; see the module docs for what refuses
    /// a page and what only leaves an entry out.
    fn check(&self, page_url: &Url, raw: Vec<RawFile>) -> Result<UpstreamPage, String> {
        let mut files = Vec::with_capacity(raw.len());
        for entry in raw {
            let filename = entry.filename;
            if filename.is_empty()
                || filename.len() > 255
                || filename.contains(['/', '\\'])
                || filename.starts_with('.')
                || filename.chars().any(char::is_control)
            {
                return Err(format!(
                    "it lists a file named '{}', which is not a plain file name",
                    wharf_core::name::printable(&filename)
                ));
            }
            let url = page_url
                .join(&entry.url)
                .map_err(|e| format!("the URL of '{filename}' does not resolve: {e}"))?;
            if !self.client.allowed(&url) {
                return Err(format!(
                    "the URL of '{filename}' points outside the allowed origins (add its origin to proxy.pypi.file_origins if it is trusted)"
                ));
            }
            if !(filename.ends_with(".whl") || filename.ends_with(".tar.gz")) {
                continue;
            }
            let Some(sha256) = entry.sha256 else {
                continue;
            };
            if !is_sha256(&sha256) {
                return Err(format!("the SHA-256 of '{filename}' is not 64 hex digits"));
            }
            let core_metadata_sha256 = match entry.core_metadata {
                Some(sha) if is_sha256(&sha) => Some(sha.to_ascii_lowercase()),
                Some(_) => {
                    return Err(format!(
                        "the metadata SHA-256 of '{filename}' is not 64 hex digits"
                    ))
                }
                None => None,
            };
            let mut url = url;
            url.set_fragment(None);
            files.push(UpstreamFile {
                filename,
                url: url.to_string(),
                sha256: sha256.to_ascii_lowercase(),
                requires_python: entry.requires_python.filter(|s| !s.trim().is_empty()),
                yanked: entry.yanked,
                upload_time: entry.upload_time,
                size: entry.size,
                core_metadata_sha256,
            });
        }
        Ok(UpstreamPage { files })
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One entry before it is checked.
#[derive(Debug, Default)]
struct RawFile {
    filename: String,
    url: String,
    sha256: Option<String>,
    requires_python: Option<String>,
    yanked: Option<String>,
    upload_time: Option<String>,
    size: Option<u64>,
    core_metadata: Option<String>,
}

/// A PEP 691 page. Fields of the wrong type make the page unusable.
fn parse_json(body: &[u8]) -> Result<Vec<RawFile>, String> {
    #[derive(serde::Deserialize)]
    struct Page {
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: std::collections::BTreeMap<String, String>,
        #[serde(default, rename = "requires-python")]
        requires_python: Option<String>,
        #[serde(default)]
        yanked: Option<serde_json::Value>,
        #[serde(default, rename = "upload-time")]
        upload_time: Option<String>,
        #[serde(default)]
        size: Option<u64>,
        #[serde(default, rename = "core-metadata")]
        core_metadata: Option<serde_json::Value>,
        #[serde(default, rename = "dist-info-metadata")]
        dist_info_metadata: Option<serde_json::Value>,
    }
    let page: Page =
        serde_json::from_slice(body).map_err(|e| format!("not a PEP 691 JSON page ({e})"))?;
    page.files
        .into_iter()
        .map(|f| {
            let yanked = match f.yanked {
                None | Some(serde_json::Value::Bool(false)) | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::Bool(true)) => Some(String::new()),
                Some(serde_json::Value::String(reason)) => Some(reason),
                Some(_) => {
                    return Err(format!(
                        "'yanked' of '{}' is neither a boolean nor a string",
                        f.filename
                    ))
                }
            };
            let metadata = f.core_metadata.or(f.dist_info_metadata);
            let core_metadata = match metadata {
                Some(serde_json::Value::Object(hashes)) => hashes
                    .get("sha256")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                _ => None,
            };
            Ok(RawFile {
                sha256: f.hashes.get("sha256").cloned(),
                filename: f.filename,
                url: f.url,
                requires_python: f.requires_python,
                yanked,
                upload_time: f.upload_time,
                size: f.size,
                core_metadata,
            })
        })
        .collect()
}

/// A PEP 503 page: its anchors, with the `data-` attributes of PEP 592 and
/// PEP 658/714 and the `#sha256=` fragment. No upload times or sizes.
fn parse_html(body: &[u8]) -> Result<Vec<RawFile>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the HTML page is not UTF-8".to_owned())?;
    let mut files = Vec::new();
    let mut rest = text;
    while let Some(start) = find_ascii_ci(rest, "<a") {
        let after = &rest[start + 2..];
        if !after.starts_with(|c: char| c.is_ascii_whitespace()) {
            rest = after;
            continue;
        }
        let tag_end = after.find('>').ok_or("an <a> tag is not closed")?;
        let attributes = parse_attributes(&after[..tag_end]);
        let after_tag = &after[tag_end + 1..];
        let close = find_ascii_ci(after_tag, "</a>").ok_or("an <a> element is not closed")?;
        let filename = unescape(after_tag[..close].trim());
        rest = &after_tag[close + 4..];
        let Some(href) = attributes
            .iter()
            .find(|(k, _)| k == "href")
            .map(|(_, v)| v.clone())
        else {
            continue;
        };
        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let (url, fragment) = match href.split_once('#') {
            Some((url, fragment)) => (url.to_owned(), Some(fragment.to_owned())),
            None => (href.clone(), None),
        };
        let sha256 = fragment
            .as_deref()
            .and_then(|f| f.strip_prefix("sha256="))
            .map(str::to_owned);
        let core_metadata = attribute("data-core-metadata")
            .or_else(|| attribute("data-dist-info-metadata"))
            .and_then(|v| v.strip_prefix("sha256=").map(str::to_owned));
        files.push(RawFile {
            filename,
            url,
            sha256,
            requires_python: attribute("data-requires-python"),
            yanked: attribute("data-yanked"),
            upload_time: None,
            size: None,
            core_metadata,
        });
    }
    Ok(files)
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `name="value"` pairs of a tag, names lowercased and values unescaped;
/// a bare attribute has an empty value.
fn parse_attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = tag.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_ascii_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        while chars
            .next_if(|(_, c)| !c.is_ascii_whitespace() && *c != '=')
            .is_some()
        {}
        let end = chars.peek().map_or(tag.len(), |&(i, _)| i);
        let name = tag[start..end].to_ascii_lowercase();
        while chars.next_if(|(_, c)| c.is_ascii_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            if !name.is_empty() {
                out.push((name, String::new()));
            }
            continue;
        }
        while chars.next_if(|(_, c)| c.is_ascii_whitespace()).is_some() {}
        let value = match chars.peek() {
            Some(&(i, quote @ ('"' | '\''))) => {
                chars.next();
                let end = tag[i + 1..].find(quote).map_or(tag.len(), |e| i + 1 + e);
                while chars.next_if(|&(j, _)| j <= end).is_some() {}
                &tag[i + 1..end.min(tag.len())]
            }
            Some(&(i, _)) => {
                while chars.next_if(|(_, c)| !c.is_ascii_whitespace()).is_some() {}
                let end = chars.peek().map_or(tag.len(), |&(j, _)| j);
                &tag[i..end]
            }
            None => "",
        };
        if !name.is_empty() {
            out.push((name, unescape(value)));
        }
    }
    out
}

/// The character references PEP 503 pages use.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn index(origins: &[&str]) -> SimpleIndex {
        SimpleIndex::new(SimpleSettings {
            index_url: "http://127.0.0.1:9/simple/".into(),
            file_origins: origins.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_secs(1),
            file_timeout: Duration::from_secs(1),
            max_page_bytes: 1 << 20,
        })
        .unwrap()
    }

    fn page_url() -> Url {
        Url::parse("http://127.0.0.1:9/simple/demo/").unwrap()
    }

    #[test]
    fn html_pages_give_hashes_metadata_and_yanks() {
        let html = format!(
            r#"<!DOCTYPE html><html><body>
            <a href="../../files/demo-1.0-py3-none-any.whl#sha256={SHA}" data-requires-python="&gt;=3.8" data-core-metadata="sha256={SHA}">demo-1.0-py3-none-any.whl</a>
            <A HREF='/files/demo-0.9.tar.gz#sha256={SHA}' data-yanked="broken &amp; bad">demo-0.9.tar.gz</A>
            <a href="/files/demo-0.1.egg#sha256={SHA}">demo-0.1.egg</a>
            </body></html>"#
        );
        let raw = parse_html(html.as_bytes()).unwrap();
        let page = index(&[]).check(&page_url(), raw).unwrap();
        assert_eq!(page.files.len(), 2, "the .egg is left out");
        let wheel = &page.files[0];
        assert_eq!(
            wheel.url,
            "http://127.0.0.1:9/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(wheel.core_metadata_sha256.as_deref(), Some(SHA));
        assert_eq!(page.files[1].yanked.as_deref(), Some("broken & bad"));
    }

    #[test]
    fn json_pages_keep_pep_700_fields() {
        let json = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"name":"demo","files":[
              {{"filename":"demo-1.0.tar.gz","url":"http://127.0.0.1:9/f/demo-1.0.tar.gz","hashes":{{"sha256":"{SHA}"}},
                "upload-time":"2024-01-02T03:04:05.000000Z","size":12,"yanked":true,"core-metadata":false}},
              {{"filename":"demo-1.1.tar.gz","url":"http://127.0.0.1:9/f/demo-1.1.tar.gz","hashes":{{"md5":"x"}}}}
            ]}}"#
        );
        let page = index(&[])
            .check(&page_url(), parse_json(json.as_bytes()).unwrap())
            .unwrap();
        assert_eq!(page.files.len(), 1, "a file without a SHA-256 is left out");
        let f = &page.files[0];
        assert_eq!(
            f.upload_time.as_deref(),
            Some("2024-01-02T03:04:05.000000Z")
        );
        assert_eq!(f.size, Some(12));
        assert_eq!(f.yanked.as_deref(), Some(""));
        assert_eq!(f.core_metadata_sha256, None);
    }

    #[test]
    fn hostile_entries_refuse_the_page() {
        let entry = |filename: &str, url: &str, sha: &str| RawFile {
            filename: filename.into(),
            url: url.into(),
            sha256: Some(sha.into()),
            ..RawFile::default()
        };
        for (raw, expect) in [
            (
                entry("../../etc/passwd.whl", "/f/x.whl", SHA),
                "not a plain file name",
            ),
            (
                entry("a/b-1.0.tar.gz", "/f/x.tar.gz", SHA),
                "not a plain file name",
            ),
            (
                entry(
                    "demo-1.0.tar.gz",
                    "http://127.0.0.2:9/f/demo-1.0.tar.gz",
                    SHA,
                ),
                "outside the allowed origins",
            ),
            (
                entry("demo-1.0.tar.gz", "file:///etc/passwd", SHA),
                "outside the allowed origins",
            ),
            (
                entry("demo-1.0.tar.gz", "/f/demo-1.0.tar.gz", "abc"),
                "not 64 hex digits",
            ),
        ] {
            let error = index(&[]).check(&page_url(), vec![raw]).unwrap_err();
            assert!(error.contains(expect), "{error}");
        }
        // An allowed file origin is accepted.
        let page = index(&["http://127.0.0.2:9"])
            .check(
                &page_url(),
                vec![entry(
                    "demo-1.0.tar.gz",
                    "http://127.0.0.2:9/f/demo-1.0.tar.gz",
                    SHA,
                )],
            )
            .unwrap();
        assert_eq!(page.files.len(), 1);
    }

    #[test]
    fn malformed_pages_are_errors() {
        assert!(parse_json(b"{\"files\": [").is_err());
        assert!(parse_json(br#"{"files":[{"filename":"a","url":"b","yanked":3}]}"#).is_err());
        assert!(parse_html(b"<a href=\"x\">unclosed").is_err());
    }

    #[test]
    fn attributes_and_entities() {
        let attrs = parse_attributes(
            r#" href="a&amp;b" data-yanked  x=unquoted data-requires-python='&#62;=3' "#,
        );
        assert_eq!(
            attrs,
            vec![
                ("href".into(), "a&b".into()),
                ("data-yanked".into(), String::new()),
                ("x".into(), "unquoted".into()),
                ("data-requires-python".into(), ">=3".into()),
            ]
        );
    }
}
