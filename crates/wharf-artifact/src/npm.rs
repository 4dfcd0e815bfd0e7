//! npm package tarballs (`.tgz`): gzip around a tar whose members all sit in one
//! top-level directory (`package/` for everything `npm pack` makes) that holds
//! `package.json`. Read with the same checks as an sdist: links, special members,
//! traversal, duplicate names, disagreeing headers, size and bomb limits.

use crate::sdist::read_tar_gz;
use crate::sink::{MemberSink, NoSink};
use crate::{ArtifactError, Limits};
use std::io::Read;

/// What an npm tarball holds, once every check has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmTarballInfo {
    /// The single top-level directory, normally `package`.
    pub top_dir: String,
    /// The exact bytes of `{top_dir}/package.json` (not parsed here).
    pub package_json: Vec<u8>,
    /// Number of members (files and directories).
    pub entry_count: usize,
    /// Total size of the regular files' contents.
    pub uncompressed_size: u64,
}

/// Reads and verifies an npm tarball.
pub fn read_npm_tarball<R: Read>(
    reader: R,
    limits: &Limits,
) -> Result<NpmTarballInfo, ArtifactError> {
    read_npm_tarball_with(reader, limits, &mut NoSink)
}

/// [`read_npm_tarball`], offering every regular file's bytes to `sink` as they are
/// decompressed.
pub fn read_npm_tarball_with<R: Read>(
    reader: R,
    limits: &Limits,
    sink: &mut dyn MemberSink,
) -> Result<NpmTarballInfo, ArtifactError> {
    let read = read_tar_gz(reader, limits, sink, "package.json")?;
    let Some(package_json) = read.manifest else {
        return Err(ArtifactError::MissingPackageJson {
            expected: format!("{}/package.json", read.top_dir),
        });
    };
    Ok(NpmTarballInfo {
        top_dir: read.top_dir,
        package_json,
        entry_count: read.entry_count,
        uncompressed_size: read.uncompressed_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tgz(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, *data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn reads_package_json_from_the_top_directory() {
        let bytes = tgz(&[
            (
                "package/package.json",
                br#"{"name":"demo","version":"1.0.0"}"#,
            ),
            ("package/index.js", b"module.exports = 1;\n"),
        ]);
        let info = read_npm_tarball(&bytes[..], &Limits::default()).unwrap();
        assert_eq!(info.top_dir, "package");
        assert_eq!(info.package_json, br#"{"name":"demo","version":"1.0.0"}"#);
        assert_eq!(info.entry_count, 2);
    }

    #[test]
    fn refuses_a_tarball_without_package_json_or_with_two_tops() {
        let bytes = tgz(&[("package/index.js", b"1")]);
        let e = read_npm_tarball(&bytes[..], &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "npm.missing-package-json");
        assert!(e.to_string().contains("package/package.json"), "{e}");
        let bytes = tgz(&[("package/package.json", b"{}"), ("other/x.js", b"1")]);
        let e = read_npm_tarball(&bytes[..], &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "sdist.layout");
    }
}
