//! The verification rules Wharf runs over every upload before anyone can install it.
//!
//! Everything here is synchronous and pure: bytes in, a [`Report`] out. Nothing is
//! executed or written. The archive is read once, through `wharf-artifact`'s checked
//! readers, and each member's bytes are looked at as they are decompressed.
//!
//! A rule has a stable ID (`code.download-exec`), a [`Severity`] and a one-line
//! explanation; [`RULES`] lists them all. Heuristics come in two kinds: a *capability*
//! (network, subprocess, exec) is normal on its own, a *threat* (credential paths,
//! decoded payloads, obfuscation) is suspicious; both in the same file raise the severity.

#![warn(missing_docs)]

mod archive;
mod binary;
mod collect;
mod excerpt;
pub mod names;
mod npm;
mod python;
mod report;
mod rules;
mod source;
pub mod tools;

pub use names::{NameContext, PopularNames};
pub use report::{Context, Finding, History, Previous, Report, Severity, Verdict};
pub use rules::{Rule, RULES, RULES_VERSION};

use std::io::{Read, Seek};
use wharf_artifact::Limits;
use wharf_core::DistKind;

/// Reading the file itself failed: the scan did not run, and says nothing about the file.
#[derive(Debug, thiserror::Error)]
#[error("the file could not be read for scanning: {0}")]
pub struct ScanError(String);

/// Scans one distribution file: the archive checks, then the content rules over every
/// member. An archive the checked reader refuses yields a `block` finding, not an error.
pub fn scan_archive<R: Read + Seek>(
    reader: R,
    kind: DistKind,
    limits: &Limits,
) -> Result<Report, ScanError> {
    let (report, read) = scan_and_read(reader, kind, limits);
    match read {
        Err(e) if !e.is_client_error() => Err(ScanError(e.to_string())),
        Ok(_) | Err(_) => Ok(report),
    }
}

/// What the checked reader made of an archive, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Archive {
    /// A wheel's layout and metadata.
    Wheel(wharf_artifact::WheelInfo),
    /// An sdist's layout and metadata.
    Sdist(wharf_artifact::SdistInfo),
    /// An npm tarball's layout and `package.json`.
    Npm(wharf_artifact::NpmTarballInfo),
}

/// [`scan_archive`] that also hands back what the checked reader read, so a caller
/// that needs the archive's metadata too reads the archive once. The read's own
/// result comes back as it is: a refused archive is an `Err` there (and a `block`
/// finding in the report); a failure to read the file at all is an `Err` whose
/// [`ArtifactError::is_client_error`](wharf_artifact::ArtifactError::is_client_error)
/// is false, and then the report says nothing about the file.
pub fn scan_and_read<R: Read + Seek>(
    reader: R,
    kind: DistKind,
    limits: &Limits,
) -> (Report, Result<Archive, wharf_artifact::ArtifactError>) {
    let mut collector = collect::Collector::new(kind);
    let read = match kind {
        DistKind::BdistWheel => {
            wharf_artifact::read_wheel_with(reader, limits, &mut collector).map(Archive::Wheel)
        }
        DistKind::Sdist => {
            wharf_artifact::read_sdist_with(reader, limits, &mut collector).map(Archive::Sdist)
        }
        DistKind::NpmTarball => {
            wharf_artifact::read_npm_tarball_with(reader, limits, &mut collector).map(Archive::Npm)
        }
    };
    let mut report = collector.finish();
    if let Err(e) = &read {
        if e.is_client_error() {
            report.push(archive::finding(e));
        }
    }
    report.fingerprint();
    (report, read)
}

/// The name-policy findings for a project's first file: standard-library names,
/// typosquats of popular or local projects, and ultra-normalized collisions.
pub fn scan_name(project: &str, context: &NameContext<'_>) -> Vec<Finding> {
    names::check(project, context)
}
