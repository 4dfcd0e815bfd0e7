//! Reading a distribution's archive for the gate: its metadata, its layout,
//! and (in the same pass) the verification rules' report. Uploads and the
//! proxy's fetched files go through the same reading.

use super::staging::StagedContent;
use std::io::BufReader;
use wharf_artifact::{ArtifactError, CoreMetadata, Limits};
use wharf_core::name::printable;
use wharf_core::{DistFilename, DistKind, NormalizedName, Version};
use wharf_scan::{Archive, Report};

/// Why an archive was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive breaks a rule; `code` is the rule's ID.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// Reading our own staged copy failed: our fault, not the sender's.
    #[error("archive check could not run: {0}")]
    Worker(String),
}

fn refused(code: &'static str, message: impl Into<String>) -> ArchiveError {
    ArchiveError::Refused {
        code,
        message: message.into(),
    }
}

pub(crate) struct ParsedArchive {
    /// The verification rules' report, when the archive was scanned as it was read.
    pub report: Option<Report>,
    pub metadata: CoreMetadata,
    /// The METADATA file to serve for PEP 658 (wheels only).
    pub metadata_file: Option<Vec<u8>>,
    /// The `.dist-info` directory of a wheel, or the top directory of an sdist.
    pub layout_dir: String,
}

/// Parses the staged archive on the blocking pool: archive reading is
/// synchronous and CPU-bound. With `scan`, the verification rules see every
/// member in the same pass.
pub(crate) async fn read_archive(
    content: &StagedContent,
    kind: DistKind,
    limits: Limits,
    scan: bool,
) -> Result<ParsedArchive, ArchiveError> {
    read_staged(content, move |reader| {
        let (report, archive) = if scan {
            let (report, archive) = wharf_scan::scan_and_read(reader, kind, &limits);
            (Some(report), archive?)
        } else {
            let archive = match kind {
                DistKind::BdistWheel => {
                    Archive::Wheel(wharf_artifact::read_wheel(reader, &limits)?)
                }
                DistKind::Sdist => Archive::Sdist(wharf_artifact::read_sdist(reader, &limits)?),
                DistKind::NpmTarball => {
                    Archive::Npm(wharf_artifact::read_npm_tarball(reader, &limits)?)
                }
            };
            (None, archive)
        };
        Ok(match archive {
            Archive::Wheel(w) => ParsedArchive {
                report,
                metadata: w.metadata,
                metadata_file: Some(w.metadata_bytes),
                layout_dir: w.dist_info_dir,
            },
            Archive::Sdist(s) => ParsedArchive {
                report,
                metadata: s.metadata,
                metadata_file: None,
                layout_dir: s.top_dir,
            },
            Archive::Npm(_) => {
                return Err(ArtifactError::Io {
                    step: "reading an npm tarball as a Python distribution",
                    source: std::io::Error::other("wrong archive kind"),
                })
            }
        })
    })
    .await
}

/// An npm tarball, read and scanned in one pass.
pub(crate) async fn read_npm(
    content: &StagedContent,
    limits: Limits,
) -> Result<(Report, wharf_artifact::NpmTarballInfo), ArchiveError> {
    read_staged(content, move |reader| {
        let (report, archive) = wharf_scan::scan_and_read(reader, DistKind::NpmTarball, &limits);
        match archive? {
            Archive::Npm(info) => Ok((report, info)),
            _ => Err(ArtifactError::Io {
                step: "reading an npm tarball",
                source: std::io::Error::other("the reader returned another kind"),
            }),
        }
    })
    .await
}

/// Runs `read` over the staged file on the blocking pool, and maps its error:
/// a refusal names its rule; a failure to read our own file is ours.
async fn read_staged<T: Send + 'static>(
    content: &StagedContent,
    read: impl FnOnce(BufReader<std::fs::File>) -> Result<T, ArtifactError> + Send + 'static,
) -> Result<T, ArchiveError> {
    let path = content.file.path().to_owned();
    let filename = content.filename.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<T, ArtifactError> {
        let file = std::fs::File::open(&path).map_err(|source| ArtifactError::Io {
            step: "opening the staged upload",
            source,
        })?;
        read(BufReader::new(file))
    })
    .await
    .map_err(|e| ArchiveError::Worker(e.to_string()))?;
    result.map_err(|e| {
        if e.is_client_error() {
            // The code is the verification rule's ID, so the refusal names it.
            refused(
                e.code(),
                format!("'{filename}' was refused by rule {} (block): {e}", e.code()),
            )
        } else {
            // A failing read of our own staged file is our fault, not the uploader's.
            ArchiveError::Worker(format!("reading staged '{filename}': {e}"))
        }
    })
}

/// The archive is the truth: its metadata must agree with the filename.
pub(crate) fn check_metadata(
    meta: &CoreMetadata,
    project: &NormalizedName,
    dist: &DistFilename,
    filename: &str,
) -> Result<(), ArchiveError> {
    if wharf_core::name::normalize(&meta.name) != project.as_str() {
        return Err(refused(
            "metadata.mismatch",
            format!(
                "'{filename}' contains metadata for project '{}', not '{project}'",
                printable(&meta.name)
            ),
        ));
    }
    let meta_version = Version::parse(&meta.version).map_err(|e| {
        refused(
            "metadata.mismatch",
            format!(
                "'{filename}' has an invalid metadata version: {}",
                e.message
            ),
        )
    })?;
    if meta_version != dist.version {
        return Err(refused(
            "metadata.mismatch",
            format!(
                "'{filename}' says version {} in its name but {} in its metadata",
                dist.version, meta_version
            ),
        ));
    }
    if meta
        .summary
        .as_ref()
        .is_some_and(|s| s.chars().count() > 512)
    {
        return Err(refused(
            "metadata_invalid",
            "the Summary metadata field is longer than 512 characters",
        ));
    }
    Ok(())
}

/// A wheel's `{name}-{version}.dist-info` (or an sdist's `{name}-{version}/`)
/// must name the same project and version as the file.
pub(crate) fn check_layout(
    dir: &str,
    project: &NormalizedName,
    dist: &DistFilename,
    kind: DistKind,
) -> Result<(), ArchiveError> {
    let stem = match kind {
        DistKind::BdistWheel => dir.strip_suffix(".dist-info").unwrap_or(dir),
        DistKind::Sdist | DistKind::NpmTarball => dir,
    };
    let matches = stem.rsplit_once('-').is_some_and(|(name, version)| {
        wharf_core::name::normalize(name) == project.as_str()
            && Version::parse(version).is_ok_and(|v| v == dist.version)
    });
    if !matches {
        let what = if kind == DistKind::BdistWheel {
            "its .dist-info directory"
        } else {
            "its top-level directory"
        };
        return Err(refused(
            "metadata.layout-mismatch",
            format!(
                "{what} '{}' does not match {project} {}",
                printable(dir),
                dist.version
            ),
        ));
    }
    Ok(())
}
