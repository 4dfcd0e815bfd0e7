//! Rendering the simple API (PEP 503 HTML and PEP 691 JSON, with the PEP 592,
//! 658/714, 700 and 792 additions) from a project listing. Pure functions.

use serde::Serialize;
use std::fmt::Write;
use utoipa::ToSchema;
use wharf_core::model::{FileRecord, FileStatus, ProjectListing, Release};
use wharf_core::uri::encode_path_segment;
use wharf_core::DistKind;
use wharf_core::{Timestamp, Version};

/// The simple API version these pages follow.
pub const API_VERSION: &str = "1.4";

/// A file as the simple API shows it: the record plus its release's yank state.
struct Listed<'a> {
    file: &'a FileRecord,
    release: Option<&'a Release>,
}

impl Listed<'_> {
    fn yank_reason(&self) -> Option<&str> {
        self.release
            .filter(|r| r.is_yanked)
            .map(|r| r.yank_reason.as_deref().unwrap_or(""))
    }
}

/// The URL of a file; its hash is in the path, so the URL is immutable.
pub fn file_url(file: &FileRecord) -> String {
    format!(
        "/files/{}/{}",
        file.sha256,
        encode_path_segment(&file.filename)
    )
}

/// Whether the index lists a file in `status`: published ones, and pending
/// ones too when `verification.show_pending` is on.
pub fn is_listed(status: FileStatus, show_pending: bool) -> bool {
    status == FileStatus::Published || (show_pending && status == FileStatus::Pending)
}

/// The listing as the index shows it: with `show_pending`, pending files
/// render as listed ones (the pages themselves list published files only).
pub fn as_indexed(listing: ProjectListing, show_pending: bool) -> ProjectListing {
    if !show_pending {
        return listing;
    }
    let mut listing = listing;
    for file in &mut listing.files {
        if file.status == FileStatus::Pending {
            file.status = FileStatus::Published;
        }
    }
    listing
}

/// Published files, sorted by version then filename, and the sorted versions.
fn visible(listing: &ProjectListing) -> (Vec<Listed<'_>>, Vec<String>) {
    let mut files: Vec<(Option<Version>, Listed<'_>)> = listing
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Published)
        .map(|file| {
            let release = listing.releases.iter().find(|r| r.version == file.version);
            (Version::parse(&file.version).ok(), Listed { file, release })
        })
        .collect();
    files.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.file.filename.cmp(&b.1.file.filename))
    });
    let mut versions: Vec<(Option<Version>, String)> = Vec::new();
    for (v, listed) in &files {
        if versions
            .last()
            .is_none_or(|(_, last)| *last != listed.file.version)
        {
            versions.push((v.clone(), listed.file.version.clone()));
        }
    }
    (
        files.into_iter().map(|(_, l)| l).collect(),
        versions.into_iter().map(|(_, s)| s).collect(),
    )
}

pub fn project_html(listing: &ProjectListing) -> String {
    html_from(&project_json(listing))
}

/// The PEP 503 page of a project page's files (local or proxied).
pub fn html_from(page: &SimpleProject) -> String {
    let name = escape(&page.name);
    let mut out = String::with_capacity(300 + page.files.len() * 400);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n    \
         <meta name=\"pypi:project-status\" content=\"active\">\n    <title>Links for {name}</title>\n  </head>\n  <body>\n    \
         <h1>Links for {name}</h1>\n"
    );
    for f in &page.files {
        let _ = write!(
            out,
            "    <a href=\"{}#sha256={}\"",
            escape(&f.url),
            f.hashes.sha256
        );
        if let Some(rp) = &f.requires_python {
            let _ = write!(out, " data-requires-python=\"{}\"", escape(rp));
        }
        if let MetadataFile::Hashes(meta) = &f.core_metadata {
            // data-dist-info-metadata is the pre-PEP 714 name older pip reads.
            let meta = &meta.sha256;
            let _ = write!(
                out,
                " data-core-metadata=\"sha256={meta}\" data-dist-info-metadata=\"sha256={meta}\""
            );
        }
        if let Yanked::Reason(reason) = &f.yanked {
            let _ = write!(out, " data-yanked=\"{}\"", escape(reason));
        }
        let _ = writeln!(out, ">{}</a><br />", escape(&f.filename));
    }
    out.push_str("  </body>\n</html>\n");
    out
}

/// `core-metadata` and `dist-info-metadata`: the metadata file's hashes, or
/// false when there is none (PEP 658/714).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MetadataFile {
    Hashes(Hashes),
    Absent(bool),
}

/// File hashes by algorithm.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hashes {
    pub sha256: String,
}

/// `yanked`: false, or the reason (PEP 592, as PEP 691 writes it).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Yanked {
    Reason(String),
    No(bool),
}

/// One file on a PEP 691 project page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SimpleFile {
    pub filename: String,
    pub url: String,
    pub hashes: Hashes,
    /// PEP 700; absent only for a proxied file whose upstream gave none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// PEP 700; absent only for a proxied file whose upstream gave none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<String>,
    pub yanked: Yanked,
    pub core_metadata: MetadataFile,
    /// The pre-PEP 714 name older pip reads.
    pub dist_info_metadata: MetadataFile,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
}

/// The API version of a simple page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimpleMeta {
    #[serde(rename = "api-version")]
    pub api_version: &'static str,
}

/// PEP 792's project status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectStatus {
    pub status: &'static str,
}

/// A PEP 691 project page (`application/vnd.pypi.simple.v1+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SimpleProject {
    pub meta: SimpleMeta,
    pub name: String,
    pub project_status: ProjectStatus,
    /// PEP 700: every version with a listed file.
    pub versions: Vec<String>,
    pub files: Vec<SimpleFile>,
}

/// One project on the PEP 691 index.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimpleIndexEntry {
    pub name: String,
}

/// The PEP 691 index of every project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimpleIndex {
    pub meta: SimpleMeta,
    pub projects: Vec<SimpleIndexEntry>,
}

pub fn project_json(listing: &ProjectListing) -> SimpleProject {
    let (files, versions) = visible(listing);
    let files = files
        .iter()
        .map(|listed| {
            let f = listed.file;
            let metadata = match &f.metadata_sha256 {
                Some(m) => MetadataFile::Hashes(Hashes { sha256: m.clone() }),
                None => MetadataFile::Absent(false),
            };
            SimpleFile {
                filename: f.filename.clone(),
                url: file_url(f),
                hashes: Hashes {
                    sha256: f.sha256.clone(),
                },
                size: Some(f.size),
                upload_time: Some(f.uploaded_at.to_rfc3339_micros()),
                yanked: match listed.yank_reason() {
                    Some(reason) => Yanked::Reason(reason.to_owned()),
                    None => Yanked::No(false),
                },
                core_metadata: metadata.clone(),
                dist_info_metadata: metadata,
                requires_python: f.requires_python.clone(),
            }
        })
        .collect();
    SimpleProject {
        meta: SimpleMeta {
            api_version: API_VERSION,
        },
        name: listing.project.normalized.as_str().to_owned(),
        project_status: ProjectStatus { status: "active" },
        versions,
        files,
    }
}

pub fn index_html(names: &[String]) -> String {
    let mut out = String::with_capacity(200 + names.len() * 60);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n    \
         <title>Simple index</title>\n  </head>\n  <body>\n"
    );
    for name in names {
        let n = escape(name);
        let _ = writeln!(out, "    <a href=\"/simple/{n}/\">{n}</a><br />");
    }
    out.push_str("  </body>\n</html>\n");
    out
}

pub fn index_json(names: &[String]) -> SimpleIndex {
    SimpleIndex {
        meta: SimpleMeta {
            api_version: API_VERSION,
        },
        projects: names
            .iter()
            .map(|n| SimpleIndexEntry { name: n.clone() })
            .collect(),
    }
}

/// A file's three digests.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileHashes {
    pub sha256: String,
    pub blake2b_256: String,
    pub md5: String,
}

/// One file of a release, in the native API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub filename: String,
    pub url: String,
    /// `bdist_wheel` or `sdist`.
    #[schema(value_type = String)]
    pub kind: DistKind,
    pub size: i64,
    pub hashes: FileHashes,
    pub requires_python: Option<String>,
    pub upload_time: String,
    /// `published`, or for owners also `pending`, `quarantined`, `rejected`.
    pub status: &'static str,
    pub has_metadata_file: bool,
}

/// One release, in the native API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseView {
    pub version: String,
    pub yanked: bool,
    pub yank_reason: Option<String>,
    pub created_at: String,
    pub files: Vec<FileView>,
}

/// The native API's view of a project (`GET /api/v1/projects/{name}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub name: String,
    pub normalized_name: String,
    /// When the project was first uploaded or proxied here; absent for a
    /// proxied project none of whose files was downloaded yet.
    pub created_at: Option<String>,
    /// `local` (uploaded here) or `proxy` (from the upstream index).
    #[schema(value_type = String)]
    pub origin: wharf_core::model::Origin,
    pub owners: Vec<String>,
    /// Oldest first; a release with no file the caller may see is left out.
    /// For a proxied project: the files downloaded through this registry.
    pub releases: Vec<ReleaseView>,
    /// A proxied project's upstream files that are not served yet, and why
    /// (`cooldown`, `denied`, `held`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_back: Vec<HeldBack>,
}

/// The native API's view of a project (`GET /api/v1/projects/{name}`).
pub fn project_api(listing: &ProjectListing, include_unpublished: bool) -> ProjectView {
    let mut releases: Vec<(Option<Version>, &Release)> = listing
        .releases
        .iter()
        .map(|r| (Version::parse(&r.version).ok(), r))
        .collect();
    releases.sort_by(|a, b| a.0.cmp(&b.0));
    let releases = releases
        .into_iter()
        .filter_map(|(_, r)| {
            let files: Vec<FileView> = listing
                .files
                .iter()
                .filter(|f| f.version == r.version)
                .filter(|f| include_unpublished || f.status == FileStatus::Published)
                .map(|f| FileView {
                    filename: f.filename.clone(),
                    url: file_url(f),
                    kind: f.kind,
                    size: f.size,
                    hashes: FileHashes {
                        sha256: f.sha256.clone(),
                        blake2b_256: f.blake2_256.clone(),
                        md5: f.md5.clone(),
                    },
                    requires_python: f.requires_python.clone(),
                    upload_time: f.uploaded_at.to_rfc3339_micros(),
                    status: f.status.as_str(),
                    has_metadata_file: f.metadata_sha256.is_some(),
                })
                .collect();
            (!files.is_empty()).then(|| ReleaseView {
                version: r.version.clone(),
                yanked: r.is_yanked,
                yank_reason: r.yank_reason.clone(),
                created_at: r.created_at.to_rfc3339_micros(),
                files,
            })
        })
        .collect();
    ProjectView {
        name: listing.project.name.clone(),
        normalized_name: listing.project.normalized.as_str().to_owned(),
        created_at: Some(Timestamp::to_rfc3339_micros(listing.project.created_at)),
        origin: listing.project.origin,
        owners: listing.owners.clone(),
        releases,
        held_back: Vec::new(),
    }
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_metacharacters() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
        );
    }
}

/// A file left out of a proxied page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldBack {
    pub filename: String,
    pub version: String,
    /// `cooldown`, `denied` or `held`.
    pub reason: &'static str,
    /// For a person.
    pub detail: String,
}
