//! One distribution file as the stand-in holds it, and what it reads from the file's bytes.

use std::io::{Cursor, Read as _};
use std::time::SystemTime;

use bytes::Bytes;
use flate2::read::GzDecoder;

use super::pages::sha256_hex;

/// A wheel or sdist, with what its pages say about it.
#[derive(Debug, Clone)]
pub(super) struct Dist {
    pub filename: String,
    /// The PEP 503-normalized project name.
    pub project: String,
    pub version: String,
    pub bytes: Bytes,
    pub sha256: String,
    /// A wheel's `*.dist-info/METADATA`, served as `{filename}.metadata`.
    pub metadata: Option<Bytes>,
    pub requires_python: Option<String>,
    pub upload_time: SystemTime,
    /// `Some` when yanked; an empty reason is a yank without one.
    pub yank_reason: Option<String>,
}

impl Dist {
    pub fn new(filename: &str, bytes: Vec<u8>, upload_time: SystemTime) -> Dist {
        let kind = Kind::of(filename).unwrap_or_else(|| {
            panic!("`{filename}` is neither a wheel (`.whl`) nor an sdist (`.tar.gz`, `.zip`)")
        });
        let (name, version) = kind
            .name_and_version(filename)
            .unwrap_or_else(|| panic!("cannot read a project name and version from `{filename}`"));
        let metadata = match kind {
            Kind::Wheel => wheel_metadata(&bytes),
            Kind::TarSdist => tar_sdist_pkg_info(&bytes),
            // Nothing in a test needs `Requires-Python` from a zip sdist yet.
            Kind::ZipSdist => None,
        };
        let requires_python = metadata
            .as_deref()
            .and_then(|m| header_field(m, "Requires-Python"));
        Dist {
            filename: filename.to_owned(),
            project: normalize(name),
            version: version.to_owned(),
            sha256: sha256_hex(&bytes),
            bytes: Bytes::from(bytes),
            // An sdist's PKG-INFO is not offered: PEP 658 is for wheels here, as upstream.
            metadata: (kind == Kind::Wheel)
                .then_some(metadata)
                .flatten()
                .map(Bytes::from),
            requires_python,
            upload_time,
            yank_reason: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wheel,
    TarSdist,
    ZipSdist,
}

impl Kind {
    fn of(filename: &str) -> Option<Kind> {
        if filename.ends_with(".whl") {
            Some(Kind::Wheel)
        } else if filename.ends_with(".tar.gz") {
            Some(Kind::TarSdist)
        } else if filename.ends_with(".zip") {
            Some(Kind::ZipSdist)
        } else {
            None
        }
    }

    /// A wheel's first two `-` fields; an sdist's stem split at its last `-` (the name part
    /// of an old sdist may itself hold `-`).
    fn name_and_version(self, filename: &str) -> Option<(&str, &str)> {
        let (name, version) = match self {
            Kind::Wheel => {
                let mut fields = filename.split('-');
                (fields.next()?, fields.next()?)
            }
            Kind::TarSdist => filename.strip_suffix(".tar.gz")?.rsplit_once('-')?,
            Kind::ZipSdist => filename.strip_suffix(".zip")?.rsplit_once('-')?,
        };
        (!name.is_empty() && !version.is_empty()).then_some((name, version))
    }
}

/// The PEP 503 normal form of a project name: lowercase, with every run of `-`, `_` and `.`
/// replaced by a single `-`.
pub fn normalize(name: &str) -> String {
    crate::underscored_name(name).replace('_', "-")
}

/// A wheel's top-level `*.dist-info/METADATA`, or `None` if the bytes are not a readable zip
/// with one (the page then advertises no metadata, as it can serve none).
fn wheel_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let path = archive
        .file_names()
        .filter(|name| {
            name.split_once('/')
                .is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "METADATA")
        })
        .min()?
        .to_owned();
    let mut metadata = Vec::new();
    archive
        .by_name(&path)
        .ok()?
        .read_to_end(&mut metadata)
        .ok()?;
    Some(metadata)
}

/// A `.tar.gz` sdist's top-level `PKG-INFO`, or `None`.
fn tar_sdist_pkg_info(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let is_pkg_info = {
            let path = entry.path().ok()?;
            let parts: Vec<_> = path.components().collect();
            parts.len() == 2 && parts[1].as_os_str() == "PKG-INFO"
        };
        if is_pkg_info {
            let mut pkg_info = Vec::new();
            entry.read_to_end(&mut pkg_info).ok()?;
            return Some(pkg_info);
        }
    }
    None
}

/// The value of a core-metadata header field, read from the headers before the body.
fn header_field(metadata: &[u8], field: &str) -> Option<String> {
    let text = String::from_utf8_lossy(metadata);
    text.lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.eq_ignore_ascii_case(field))
        .map(|(_, value)| value.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SdistBuilder, WheelBuilder};

    #[test]
    fn names_and_versions_come_from_the_file_name() {
        let wheel = Kind::Wheel.name_and_version("Foo.Bar-1.0-py3-none-any.whl");
        assert_eq!(wheel, Some(("Foo.Bar", "1.0")));
        let sdist = Kind::TarSdist.name_and_version("old-style-name-2.0.tar.gz");
        assert_eq!(sdist, Some(("old-style-name", "2.0")));
        assert_eq!(normalize("Foo._Bar"), "foo-bar");
    }

    #[test]
    fn reads_requires_python_and_metadata_from_both_kinds() {
        let wheel = WheelBuilder::new("demo", "1.0").requires_python(">=3.9");
        let dist = Dist::new(&wheel.filename(), wheel.build(), SystemTime::now());
        assert_eq!(dist.requires_python.as_deref(), Some(">=3.9"));
        assert_eq!(dist.metadata.as_deref(), Some(&wheel.metadata_bytes()[..]));

        let sdist = SdistBuilder::new("demo", "1.0").requires_python(">=3.8");
        let dist = Dist::new(&sdist.filename(), sdist.build(), SystemTime::now());
        assert_eq!(dist.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(dist.metadata, None);
    }

    #[test]
    fn a_wheel_that_is_not_a_zip_advertises_no_metadata() {
        let dist = Dist::new(
            "demo-1.0-py3-none-any.whl",
            b"junk".to_vec(),
            SystemTime::now(),
        );
        assert_eq!(dist.metadata, None);
        assert_eq!(dist.project, "demo");
    }
}
