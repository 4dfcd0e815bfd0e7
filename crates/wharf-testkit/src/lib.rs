//! Test helpers that build Python package archives in memory.
//!
//! [`WheelBuilder`] and [`SdistBuilder`] make valid archives with the same writers real
//! tools use (the `zip` and `tar` crates), so every crate's tests can upload something
//! realistic. The [`hostile`] module makes the broken and malicious variants the archive
//! reader must refuse. [`fake_pypi`] is a stand-in upstream index on loopback for tests of
//! the pull-through proxy. This crate is for tests only; nothing here validates its input.

#![warn(missing_docs)]

use std::io::{Cursor, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest as _, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub mod fake_npm;
pub mod fake_pypi;
pub mod hostile;
pub mod malicious;
pub mod npm;

/// The name as it appears in file names: lowercase, runs of `-`, `_` and `.` replaced by a
/// single `_` (PEP 503 normalization, then `-` to `_` as wheel and sdist names require).
pub fn underscored_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('_');
            }
            in_separator_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    out
}

/// The `RECORD` hash field for `bytes`: `sha256=` and the URL-safe unpadded base64 digest.
pub fn record_hash(bytes: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)))
}

/// A `RECORD` file listing `members` with their hashes and sizes, plus itself at
/// `record_path` with empty fields. Paths containing `,` or `"` are quoted as Python's `csv`
/// module does.
pub fn record_for(members: &[(String, Vec<u8>)], record_path: &str) -> Vec<u8> {
    let mut record = String::new();
    for (path, contents) in members {
        record.push_str(&format!(
            "{},{},{}\n",
            csv_field(path),
            record_hash(contents),
            contents.len()
        ));
    }
    record.push_str(&format!("{},,\n", csv_field(record_path)));
    record.into_bytes()
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// Standard base64 with padding, for HTTP Basic credentials in tests.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                T[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Compresses `bytes` as a gzip stream (fast level: tests build large bombs with it).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder
        .write_all(bytes)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Core metadata fields shared by both builders.
#[derive(Debug, Clone)]
struct MetadataFields {
    name: String,
    version: String,
    metadata_name: Option<String>,
    metadata_version: Option<String>,
    summary: Option<String>,
    requires_python: Option<String>,
    description: Option<String>,
}

impl MetadataFields {
    fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            metadata_name: None,
            metadata_version: None,
            summary: None,
            requires_python: None,
            description: None,
        }
    }

    fn base(&self) -> String {
        format!("{}-{}", underscored_name(&self.name), self.version)
    }

    fn render(&self) -> Vec<u8> {
        let mut text = String::from("Metadata-Version: 2.1\n");
        let name = self.metadata_name.as_deref().unwrap_or(&self.name);
        let version = self.metadata_version.as_deref().unwrap_or(&self.version);
        text.push_str(&format!("Name: {name}\nVersion: {version}\n"));
        if let Some(summary) = &self.summary {
            text.push_str(&format!("Summary: {summary}\n"));
        }
        if let Some(spec) = &self.requires_python {
            text.push_str(&format!("Requires-Python: {spec}\n"));
        }
        if let Some(description) = &self.description {
            text.push_str("Description-Content-Type: text/markdown\n\n");
            text.push_str(description);
        }
        text.into_bytes()
    }
}

/// Builds a valid pure-Python wheel in memory.
#[derive(Debug, Clone)]
pub struct WheelBuilder {
    fields: MetadataFields,
    files: Vec<(String, Vec<u8>)>,
}

impl WheelBuilder {
    /// A wheel for `name` (as given, e.g. `demo-pkg`) at `version`, with no files yet.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            fields: MetadataFields::new(name, version),
            files: Vec::new(),
        }
    }

    /// Sets `Requires-Python`.
    pub fn requires_python(mut self, spec: &str) -> Self {
        self.fields.requires_python = Some(spec.to_owned());
        self
    }

    /// Sets `Summary`.
    pub fn summary(mut self, summary: &str) -> Self {
        self.fields.summary = Some(summary.to_owned());
        self
    }

    /// Sets the description, written as the METADATA body.
    pub fn description(mut self, description: &str) -> Self {
        self.fields.description = Some(description.to_owned());
        self
    }

    /// Overrides `Name:` in METADATA only, to build name-mismatch cases.
    pub fn metadata_name(mut self, name: &str) -> Self {
        self.fields.metadata_name = Some(name.to_owned());
        self
    }

    /// Overrides `Version:` in METADATA only, to build version-mismatch cases.
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.fields.metadata_version = Some(version.to_owned());
        self
    }

    /// Adds a file at `path` inside the wheel, e.g. `demo_pkg/__init__.py`.
    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_owned(), contents.into()));
        self
    }

    /// The wheel's file name, e.g. `demo_pkg-1.0-py3-none-any.whl`.
    pub fn filename(&self) -> String {
        format!("{}-py3-none-any.whl", self.fields.base())
    }

    /// The metadata directory, e.g. `demo_pkg-1.0.dist-info`.
    pub fn dist_info_dir(&self) -> String {
        format!("{}.dist-info", self.fields.base())
    }

    /// The exact METADATA bytes that [`WheelBuilder::build`] writes.
    pub fn metadata_bytes(&self) -> Vec<u8> {
        self.fields.render()
    }

    /// The WHEEL file.
    pub fn wheel_file_bytes(&self) -> Vec<u8> {
        b"Wheel-Version: 1.0\nGenerator: wharf-testkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            .to_vec()
    }

    /// Every member in archive order: the added files, then METADATA, WHEEL and a RECORD
    /// that lists all of them with correct hashes.
    pub fn members(&self) -> Vec<(String, Vec<u8>)> {
        let dist_info = self.dist_info_dir();
        let mut members = self.files.clone();
        members.push((format!("{dist_info}/METADATA"), self.metadata_bytes()));
        members.push((format!("{dist_info}/WHEEL"), self.wheel_file_bytes()));
        let record_path = format!("{dist_info}/RECORD");
        let record = record_for(&members, &record_path);
        members.push((record_path, record));
        members
    }

    /// The wheel's bytes: every member deflated, written by the `zip` crate.
    pub fn build(&self) -> Vec<u8> {
        self.write(false)
    }

    /// Like [`WheelBuilder::build`], but every member carries ZIP64 size fields, as some
    /// writers emit for files whose size they do not know in advance.
    pub fn build_zip64(&self) -> Vec<u8> {
        self.write(true)
    }

    fn write(&self, is_large: bool) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .unix_permissions(0o644)
            .large_file(is_large);
        for (path, contents) in self.members() {
            writer.start_file(path, options).expect("valid member name");
            writer
                .write_all(&contents)
                .expect("writing to a Vec cannot fail");
        }
        writer
            .finish()
            .expect("writing to a Vec cannot fail")
            .into_inner()
    }
}

/// Builds a valid sdist (`.tar.gz`) in memory.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    fields: MetadataFields,
    files: Vec<(String, Vec<u8>)>,
}

impl SdistBuilder {
    /// An sdist for `name` at `version`, holding PKG-INFO and a `pyproject.toml`.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            fields: MetadataFields::new(name, version),
            files: Vec::new(),
        }
    }

    /// Sets `Requires-Python`.
    pub fn requires_python(mut self, spec: &str) -> Self {
        self.fields.requires_python = Some(spec.to_owned());
        self
    }

    /// Sets `Summary`.
    pub fn summary(mut self, summary: &str) -> Self {
        self.fields.summary = Some(summary.to_owned());
        self
    }

    /// Sets the description, written as the PKG-INFO body.
    pub fn description(mut self, description: &str) -> Self {
        self.fields.description = Some(description.to_owned());
        self
    }

    /// Overrides `Name:` in PKG-INFO only.
    pub fn metadata_name(mut self, name: &str) -> Self {
        self.fields.metadata_name = Some(name.to_owned());
        self
    }

    /// Overrides `Version:` in PKG-INFO only.
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.fields.metadata_version = Some(version.to_owned());
        self
    }

    /// Adds a file at `path`, relative to the top-level directory.
    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_owned(), contents.into()));
        self
    }

    /// The sdist's file name, e.g. `demo_pkg-1.0.tar.gz`.
    pub fn filename(&self) -> String {
        format!("{}.tar.gz", self.fields.base())
    }

    /// The top-level directory, e.g. `demo_pkg-1.0`.
    pub fn top_dir(&self) -> String {
        self.fields.base()
    }

    /// The exact PKG-INFO bytes that [`SdistBuilder::build`] writes.
    pub fn pkg_info_bytes(&self) -> Vec<u8> {
        self.fields.render()
    }

    /// Every file with its full path: PKG-INFO, `pyproject.toml`, then the added files.
    pub fn members(&self) -> Vec<(String, Vec<u8>)> {
        let top = self.top_dir();
        let pyproject = format!(
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{}\"\nversion = \"{}\"\n",
            self.fields.name, self.fields.version
        );
        let mut members = vec![
            (format!("{top}/PKG-INFO"), self.pkg_info_bytes()),
            (format!("{top}/pyproject.toml"), pyproject.into_bytes()),
        ];
        for (path, contents) in &self.files {
            members.push((format!("{top}/{path}"), contents.clone()));
        }
        members
    }

    /// The uncompressed tar stream, written by the `tar` crate (GNU format, so long
    /// names get GNU long-name records).
    pub fn build_tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        dir.set_mtime(0);
        builder
            .append_data(&mut dir, format!("{}/", self.top_dir()), std::io::empty())
            .expect("writing to a Vec cannot fail");
        for (path, contents) in self.members() {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_size(contents.len() as u64);
            header.set_mtime(0);
            builder
                .append_data(&mut header, path, contents.as_slice())
                .expect("writing to a Vec cannot fail");
        }
        builder.into_inner().expect("writing to a Vec cannot fail")
    }

    /// The sdist's bytes.
    pub fn build(&self) -> Vec<u8> {
        gzip(&self.build_tar())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b"__token__:secret"), "X190b2tlbl9fOnNlY3JldA==");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn names_are_normalized_with_underscores() {
        assert_eq!(underscored_name("Demo.Pkg--x"), "demo_pkg_x");
        let wheel = WheelBuilder::new("demo-pkg", "1.0");
        assert_eq!(wheel.filename(), "demo_pkg-1.0-py3-none-any.whl");
        assert_eq!(wheel.dist_info_dir(), "demo_pkg-1.0.dist-info");
        assert_eq!(
            SdistBuilder::new("demo-pkg", "1.0").filename(),
            "demo_pkg-1.0.tar.gz"
        );
    }

    #[test]
    fn metadata_reflects_overrides() {
        let wheel = WheelBuilder::new("demo-pkg", "1.0")
            .metadata_name("other")
            .metadata_version("2.0")
            .requires_python(">=3.9")
            .summary("s")
            .description("# Hi\n");
        let text = String::from_utf8(wheel.metadata_bytes()).unwrap();
        assert_eq!(
            text,
            "Metadata-Version: 2.1\nName: other\nVersion: 2.0\nSummary: s\nRequires-Python: >=3.9\nDescription-Content-Type: text/markdown\n\n# Hi\n"
        );
    }

    #[test]
    fn record_quotes_awkward_paths() {
        let members = vec![("a,b.py".to_owned(), b"x".to_vec())];
        let record = String::from_utf8(record_for(&members, "d/RECORD")).unwrap();
        assert_eq!(
            record,
            format!("\"a,b.py\",{},1\nd/RECORD,,\n", record_hash(b"x"))
        );
    }

    #[test]
    fn builds_archives_that_start_with_their_magic() {
        let wheel = WheelBuilder::new("demo", "1.0")
            .file("demo/__init__.py", "")
            .build();
        assert_eq!(&wheel[..4], b"PK\x03\x04");
        let sdist = SdistBuilder::new("demo", "1.0").build();
        assert_eq!(&sdist[..2], &[0x1f, 0x8b]);
    }
}
