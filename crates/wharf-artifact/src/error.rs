//! The one error type of this crate.
//!
//! Policy: every variant is a problem the caller can act on (refuse the upload and tell the
//! uploader why), its `Display` text is written for a person and names the offending archive
//! member, and [`ArtifactError::code`] gives a stable machine code for APIs and audit logs.
//! Member names inside messages are escaped, so a hostile name cannot inject control
//! characters into logs or terminals. Only a failure of the underlying reader is reported as
//! [`ArtifactError::Io`], and it says which step failed.

use std::io;

/// Why an archive or its metadata was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// The bytes are not a ZIP archive at all.
    #[error("not a ZIP archive: {reason}")]
    NotZip {
        /// What was wrong.
        reason: String,
    },

    /// The bytes are not a gzip-compressed tar archive.
    #[error("not a gzip-compressed tar archive: {reason}")]
    NotTarGz {
        /// What was wrong.
        reason: String,
    },

    /// The archive is readable as more than one format (for example tar and ZIP).
    #[error("archive is also readable as a {other_format} (polyglot files are refused)")]
    Polyglot {
        /// The second format the bytes parse as.
        other_format: &'static str,
    },

    /// Something precedes the first ZIP local header (self-extractor stubs, polyglots).
    #[error("data precedes the first ZIP member; a wheel must start with a local file header")]
    PrependedData,

    /// Something follows the end of the archive.
    #[error("unexpected data after the end of the archive: {detail}")]
    TrailingData {
        /// What follows and where.
        detail: String,
    },

    /// Two headers that must agree disagree, or the layout has gaps or overlaps.
    #[error("{location} is inconsistent: {detail}")]
    InconsistentHeaders {
        /// The member (`archive member 'x'`) or structure concerned.
        location: String,
        /// Which fields disagree.
        detail: String,
    },

    /// A member's compressed data is damaged.
    #[error("archive member '{member}' is corrupt: {detail}")]
    CorruptMember {
        /// The member, escaped for display.
        member: String,
        /// What failed.
        detail: String,
    },

    /// A ZIP member uses a compression method other than stored or deflate.
    #[error(
        "archive member '{member}' uses compression method {method}; only stored (0) and deflate (8) are allowed"
    )]
    CompressionMethod {
        /// The member, escaped for display.
        member: String,
        /// The method number from the central directory.
        method: u16,
    },

    /// A ZIP member is encrypted, so it cannot be verified.
    #[error("archive member '{member}' is encrypted")]
    Encrypted {
        /// The member, escaped for display.
        member: String,
    },

    /// Two members have the same name, or names that differ only by case or Unicode form.
    #[error(
        "archive member '{member}' duplicates '{existing}' (names must be unique ignoring case and Unicode normalization)"
    )]
    DuplicateEntry {
        /// The later member, escaped for display.
        member: String,
        /// The earlier member it collides with, escaped for display.
        existing: String,
    },

    /// A member name would be written outside the extraction directory.
    #[error("archive member '{member}' escapes the archive ({reason})")]
    PathTraversal {
        /// The member, escaped for display.
        member: String,
        /// `path traversal`, `absolute path` or `drive-letter path`.
        reason: &'static str,
    },

    /// A member name is not a clean, printable, relative UTF-8 path.
    #[error("archive member '{member}' has an unacceptable name: {reason}")]
    BadName {
        /// The member, escaped for display.
        member: String,
        /// Which rule the name breaks.
        reason: String,
    },

    /// A member is a symbolic or hard link.
    #[error("archive member '{member}' is a link; links are not allowed")]
    Link {
        /// The member, escaped for display.
        member: String,
    },

    /// A member is a device, FIFO, sparse file or another non-regular kind.
    #[error(
        "archive member '{member}' is a {kind}; only regular files and directories are allowed"
    )]
    SpecialMember {
        /// The member, escaped for display.
        member: String,
        /// What kind of member it is.
        kind: String,
    },

    /// The archive has more members than [`crate::Limits::max_entries`].
    #[error("archive has more than {limit} members")]
    TooManyEntries {
        /// The limit in force.
        limit: usize,
    },

    /// One member decompresses to more than [`crate::Limits::max_member_size`].
    #[error("archive member '{member}' is larger than the limit of {limit} bytes")]
    MemberTooLarge {
        /// The member, escaped for display.
        member: String,
        /// The limit in force.
        limit: u64,
    },

    /// The whole archive decompresses to more than [`crate::Limits::max_total_uncompressed`].
    #[error(
        "archive decompresses to more than the limit of {limit} bytes (reached at member '{member}')"
    )]
    ArchiveTooLarge {
        /// The member being read when the limit was crossed, escaped for display.
        member: String,
        /// The limit in force.
        limit: u64,
    },

    /// The archive expands far more than real packages do.
    #[error(
        "archive looks like a decompression bomb: {uncompressed} bytes from {compressed} compressed bytes exceeds ratio {max_ratio} (reached at member '{member}')"
    )]
    ZipBomb {
        /// The member being read when the rule tripped, escaped for display.
        member: String,
        /// Uncompressed bytes produced so far.
        uncompressed: u64,
        /// Compressed bytes they came from.
        compressed: u64,
        /// The ratio in force.
        max_ratio: u64,
    },

    /// The wheel has no top-level `*.dist-info/` directory.
    #[error("wheel has no top-level '*.dist-info' directory")]
    MissingDistInfo,

    /// The wheel has more than one top-level `*.dist-info/` directory.
    #[error("wheel has more than one top-level '*.dist-info' directory: '{first}' and '{second}'")]
    MultipleDistInfo {
        /// One directory, escaped for display.
        first: String,
        /// Another directory, escaped for display.
        second: String,
    },

    /// A file the wheel format requires is absent.
    #[error("wheel is missing required file '{path}'")]
    MissingFile {
        /// The expected path.
        path: String,
    },

    /// A member disagrees with its RECORD line, or RECORD lists a member that does not exist.
    #[error("archive member '{member}' does not match RECORD: {detail}")]
    RecordMismatch {
        /// The member, escaped for display.
        member: String,
        /// What disagrees.
        detail: String,
    },

    /// A member is not listed in RECORD.
    #[error("archive member '{member}' is not listed in RECORD")]
    RecordMissingEntry {
        /// The member, escaped for display.
        member: String,
    },

    /// RECORD cannot be parsed or uses a hash we do not accept.
    #[error("'{record}' line {line} is invalid: {detail}")]
    RecordInvalid {
        /// The RECORD member's path.
        record: String,
        /// The 1-based line where the bad row starts.
        line: usize,
        /// What is wrong.
        detail: String,
    },

    /// An sdist member lies outside the single top-level directory.
    #[error("archive member '{member}' breaks the sdist layout: {detail}")]
    SdistLayout {
        /// The member, escaped for display.
        member: String,
        /// What is wrong.
        detail: String,
    },

    /// The sdist has no `{top}/PKG-INFO`.
    #[error("sdist has no '{expected}'")]
    MissingPkgInfo {
        /// The path that was looked for.
        expected: String,
    },

    /// The npm tarball has no `{top}/package.json`.
    #[error("the npm tarball has no '{expected}'")]
    MissingPackageJson {
        /// The path that was looked for.
        expected: String,
    },

    /// Core metadata is malformed.
    #[error("'{file}' is not valid core metadata: {detail}")]
    MetadataInvalid {
        /// The metadata file (a member path, or `METADATA` for bare input).
        file: String,
        /// What is wrong.
        detail: String,
    },

    /// Core metadata lacks a required field.
    #[error("'{file}' lacks the required field '{field}'")]
    MetadataMissingField {
        /// The metadata file.
        file: String,
        /// The missing field.
        field: &'static str,
    },

    /// Core metadata is larger than [`crate::Limits::max_metadata_bytes`].
    #[error("'{file}' is larger than the limit of {limit} bytes")]
    MetadataTooLarge {
        /// The metadata file.
        file: String,
        /// The limit in force.
        limit: u64,
    },

    /// The reader handed to us failed; this is not the uploader's fault.
    #[error("I/O error while {step}")]
    Io {
        /// What we were doing.
        step: &'static str,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
}

impl ArtifactError {
    /// A stable machine-readable code, for API responses, metrics and audit logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotZip { .. } => "archive.not-zip",
            Self::NotTarGz { .. } => "archive.not-tar-gz",
            Self::Polyglot { .. } => "archive.polyglot",
            Self::PrependedData => "archive.prepended-data",
            Self::TrailingData { .. } => "archive.trailing-data",
            Self::InconsistentHeaders { .. } => "archive.inconsistent-headers",
            Self::CorruptMember { .. } => "archive.corrupt",
            Self::CompressionMethod { .. } => "archive.compression-method",
            Self::Encrypted { .. } => "archive.encrypted",
            Self::DuplicateEntry { .. } => "archive.duplicate-entry",
            Self::PathTraversal { .. } => "archive.path-traversal",
            Self::BadName { .. } => "archive.bad-name",
            Self::Link { .. } => "archive.link",
            Self::SpecialMember { .. } => "archive.special-member",
            Self::TooManyEntries { .. } => "archive.too-many-entries",
            Self::MemberTooLarge { .. } | Self::ArchiveTooLarge { .. } => "archive.too-large",
            Self::ZipBomb { .. } => "archive.zip-bomb",
            Self::MissingDistInfo => "wheel.missing-dist-info",
            Self::MultipleDistInfo { .. } => "wheel.multiple-dist-info",
            Self::MissingFile { .. } => "wheel.missing-file",
            Self::RecordMismatch { .. } => "wheel.record-mismatch",
            Self::RecordMissingEntry { .. } => "wheel.record-missing-entry",
            Self::RecordInvalid { .. } => "wheel.record-invalid",
            Self::SdistLayout { .. } => "sdist.layout",
            Self::MissingPkgInfo { .. } => "sdist.missing-pkg-info",
            Self::MissingPackageJson { .. } => "npm.missing-package-json",
            Self::MetadataInvalid { .. } => "metadata.invalid",
            Self::MetadataMissingField { .. } => "metadata.missing-field",
            Self::MetadataTooLarge { .. } => "metadata.too-large",
            Self::Io { .. } => "io",
        }
    }

    /// Whether the uploader can fix this (everything except a failing reader).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Io { .. })
    }

    pub(crate) fn io(step: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { step, source }
    }

    pub(crate) fn inconsistent(member: &str, detail: impl Into<String>) -> Self {
        Self::InconsistentHeaders {
            location: format!("archive member '{member}'"),
            detail: detail.into(),
        }
    }
}
