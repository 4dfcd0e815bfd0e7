//! The core metadata parser (`METADATA` in wheels, `PKG-INFO` in sdists).
//!
//! The format is RFC 822 style headers, then an optional blank line and a body that holds the
//! description. We are stricter than Python's `email` module where leniency would let two
//! tools read the same file differently: a single-valued field may appear only once, every
//! header line must be `Name: value`, and a description may not come from two places.

use crate::{ArtifactError, Limits};

/// The fields of core metadata that the registry uses, plus every header in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    /// `Metadata-Version`, e.g. `2.1`.
    pub metadata_version: String,
    /// `Name`, as written (not normalized).
    pub name: String,
    /// `Version`, as written (not canonicalized).
    pub version: String,
    /// `Summary`.
    pub summary: Option<String>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
    /// The `Description` header or, when absent, the message body.
    pub description: Option<String>,
    /// `Description-Content-Type`.
    pub description_content_type: Option<String>,
    /// `License` (free text, may span lines).
    pub license: Option<String>,
    /// `License-Expression` (SPDX).
    pub license_expression: Option<String>,
    /// Every `Requires-Dist`, in order.
    pub requires_dist: Vec<String>,
    /// Every `Classifier`, in order.
    pub classifiers: Vec<String>,
    /// Every `Project-URL` (`label, url`), in order.
    pub project_urls: Vec<String>,
    /// `Home-page`.
    pub home_page: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Author-email`.
    pub author_email: Option<String>,
    /// `Keywords`.
    pub keywords: Option<String>,
    /// Every header as `(name as written, value)`, in file order; the body is not included.
    pub headers: Vec<(String, String)>,
}

/// Parses core metadata with the default size limit ([`Limits::max_metadata_bytes`]).
pub fn parse_metadata(bytes: &[u8]) -> Result<CoreMetadata, ArtifactError> {
    parse_metadata_with_limit(bytes, Limits::default().max_metadata_bytes)
}

/// Parses core metadata, refusing input longer than `max_bytes`.
pub fn parse_metadata_with_limit(
    bytes: &[u8],
    max_bytes: u64,
) -> Result<CoreMetadata, ArtifactError> {
    parse_named(bytes, max_bytes, "METADATA")
}

/// Fields that may appear more than once (core metadata 2.4).
const MULTIPLE_USE: &[&str] = &[
    "classifier",
    "dynamic",
    "license-file",
    "obsoletes",
    "obsoletes-dist",
    "platform",
    "project-url",
    "provides",
    "provides-dist",
    "provides-extra",
    "requires",
    "requires-dist",
    "requires-external",
    "supported-platform",
];

/// Fields whose value keeps its line breaks.
const MULTI_LINE: &[&str] = &["description", "license"];

/// Parses core metadata; `file` names the source in error messages.
pub(crate) fn parse_named(
    bytes: &[u8],
    max_bytes: u64,
    file: &str,
) -> Result<CoreMetadata, ArtifactError> {
    let invalid = |detail: String| ArtifactError::MetadataInvalid {
        file: file.to_owned(),
        detail,
    };
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max_bytes {
        return Err(ArtifactError::MetadataTooLarge {
            file: file.to_owned(),
            limit: max_bytes,
        });
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| invalid(format!("it is not valid UTF-8 ({e})")))?;

    let (raw_headers, body) = split_headers(text).map_err(invalid)?;
    let mut metadata = CoreMetadata::default();
    let mut seen_single: Vec<String> = Vec::new();
    for raw in raw_headers {
        let key = raw.name.to_ascii_lowercase();
        let value = raw.value(MULTI_LINE.contains(&key.as_str()));
        if !MULTIPLE_USE.contains(&key.as_str()) && is_known(&key) {
            if seen_single.contains(&key) {
                return Err(invalid(format!(
                    "header '{}' appears more than once",
                    raw.name
                )));
            }
            seen_single.push(key.clone());
        }
        metadata.apply(&key, &value);
        metadata.headers.push((raw.name.to_owned(), value));
    }

    if let Some(body) = body.filter(|b| !b.trim().is_empty()) {
        // The body is the description; a second one in a header would be shown by some
        // tools and not others.
        if metadata
            .description
            .as_deref()
            .is_some_and(|d| !d.trim().is_empty())
        {
            return Err(invalid(
                "it has both a Description header and a message body".into(),
            ));
        }
        metadata.description = Some(body.to_owned());
    }

    let missing = |field| ArtifactError::MetadataMissingField {
        file: file.to_owned(),
        field,
    };
    if metadata.metadata_version.is_empty() {
        return Err(missing("Metadata-Version"));
    }
    if metadata.name.is_empty() {
        return Err(missing("Name"));
    }
    if metadata.version.is_empty() {
        return Err(missing("Version"));
    }
    if !is_supported_metadata_version(&metadata.metadata_version) {
        return Err(invalid(format!(
            "Metadata-Version '{}' is not a supported version (1.x or 2.x)",
            metadata.metadata_version
        )));
    }
    Ok(metadata)
}

/// Tools must refuse a major version they do not know, per the core metadata spec.
fn is_supported_metadata_version(version: &str) -> bool {
    let Some((major, minor)) = version.split_once('.') else {
        return false;
    };
    let is_number =
        |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    is_number(major) && is_number(minor) && matches!(major, "1" | "2")
}

fn is_known(key: &str) -> bool {
    matches!(
        key,
        "metadata-version"
            | "name"
            | "version"
            | "summary"
            | "description"
            | "description-content-type"
            | "keywords"
            | "home-page"
            | "download-url"
            | "author"
            | "author-email"
            | "maintainer"
            | "maintainer-email"
            | "license"
            | "license-expression"
            | "requires-python"
    )
}

impl CoreMetadata {
    fn apply(&mut self, key: &str, value: &str) {
        let value = value.to_owned();
        match key {
            "metadata-version" => self.metadata_version = value,
            "name" => self.name = value,
            "version" => self.version = value,
            "summary" => self.summary = Some(value),
            "requires-python" => self.requires_python = Some(value),
            "description" => self.description = Some(value),
            "description-content-type" => self.description_content_type = Some(value),
            "license" => self.license = Some(value),
            "license-expression" => self.license_expression = Some(value),
            "requires-dist" => self.requires_dist.push(value),
            "classifier" => self.classifiers.push(value),
            "project-url" => self.project_urls.push(value),
            "home-page" => self.home_page = Some(value),
            "author" => self.author = Some(value),
            "author-email" => self.author_email = Some(value),
            "keywords" => self.keywords = Some(value),
            _ => {}
        }
    }
}

/// One header with its continuation lines, before unfolding.
struct RawHeader<'a> {
    name: &'a str,
    first: &'a str,
    continuations: Vec<&'a str>,
}

impl RawHeader<'_> {
    /// Unfolds the header. Multi-line fields keep their line breaks and lose the
    /// continuation prefix; other fields are joined into one line.
    fn value(&self, keeps_lines: bool) -> String {
        if keeps_lines {
            let mut value = self.first.trim_start().to_owned();
            for line in &self.continuations {
                value.push('\n');
                value.push_str(strip_continuation_prefix(line));
            }
            value.trim_end().to_owned()
        } else {
            let mut value = self.first.trim().to_owned();
            for line in &self.continuations {
                let line = line.trim();
                if !line.is_empty() {
                    value.push(' ');
                    value.push_str(line);
                }
            }
            value
        }
    }
}

/// Removes the indentation that folds a multi-line value. The core metadata spec asks for
/// 7 spaces and `|` (and shows 8 spaces and `|`); setuptools used 8 bare spaces.
fn strip_continuation_prefix(line: &str) -> &str {
    line.strip_prefix("       |")
        .or_else(|| line.strip_prefix("        |"))
        .or_else(|| line.strip_prefix("        "))
        .unwrap_or_else(|| line.trim_start())
}

/// Splits the text into headers and the body after the first blank line.
fn split_headers(text: &str) -> Result<(Vec<RawHeader<'_>>, Option<&str>), String> {
    let mut headers: Vec<RawHeader<'_>> = Vec::new();
    let mut rest = text;
    let mut line_number = 0usize;
    while !rest.is_empty() {
        line_number += 1;
        let (line, after) = match rest.find('\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        rest = after;
        if line.is_empty() {
            return Ok((headers, Some(rest)));
        }
        if line.starts_with([' ', '\t']) {
            let Some(current) = headers.last_mut() else {
                return Err(format!(
                    "line {line_number} is indented but continues no header"
                ));
            };
            current.continuations.push(line);
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("line {line_number} is not a 'Name: value' header"));
        };
        // RFC 5322 field names: printable ASCII without spaces or colons.
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("line {line_number} has an invalid header name"));
        }
        headers.push(RawHeader {
            name,
            first: value,
            continuations: Vec::new(),
        });
    }
    Ok((headers, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REALISTIC: &str = "Metadata-Version: 2.1\r
Name: demo-pkg
Version: 1.0.post1
Summary: A demo package
  that folds its summary
Home-page: https://example.org/demo
Author: Ada Lovelace
Author-email: Ada <ada@example.org>
License: MIT License
        
        Copyright (c) 2024 Ada
Keywords: demo,example
Classifier: Programming Language :: Python :: 3
Classifier: License :: OSI Approved :: MIT License
Requires-Python: >=3.9
Requires-Dist: requests>=2.31
Requires-Dist: rich; extra == \"cli\"
Provides-Extra: cli
Project-URL: Source, https://example.org/src
Project-URL: Issues, https://example.org/issues
Description-Content-Type: text/markdown
X-Custom: kept

# Demo

Body text with a colon: fine.
";

    #[test]
    fn parses_a_realistic_file_with_a_body_description() {
        let m = parse_metadata(REALISTIC.as_bytes()).expect("valid metadata");
        assert_eq!(m.metadata_version, "2.1");
        assert_eq!(m.name, "demo-pkg");
        assert_eq!(m.version, "1.0.post1");
        assert_eq!(
            m.summary.as_deref(),
            Some("A demo package that folds its summary")
        );
        assert_eq!(m.home_page.as_deref(), Some("https://example.org/demo"));
        assert_eq!(m.author.as_deref(), Some("Ada Lovelace"));
        assert_eq!(m.author_email.as_deref(), Some("Ada <ada@example.org>"));
        assert_eq!(
            m.license.as_deref(),
            Some("MIT License\n\nCopyright (c) 2024 Ada")
        );
        assert_eq!(m.keywords.as_deref(), Some("demo,example"));
        assert_eq!(
            m.classifiers,
            [
                "Programming Language :: Python :: 3",
                "License :: OSI Approved :: MIT License"
            ]
        );
        assert_eq!(m.requires_python.as_deref(), Some(">=3.9"));
        assert_eq!(
            m.requires_dist,
            ["requests>=2.31", "rich; extra == \"cli\""]
        );
        assert_eq!(
            m.project_urls,
            [
                "Source, https://example.org/src",
                "Issues, https://example.org/issues"
            ]
        );
        assert_eq!(m.description_content_type.as_deref(), Some("text/markdown"));
        assert_eq!(
            m.description.as_deref(),
            Some("# Demo\n\nBody text with a colon: fine.\n")
        );
        assert_eq!(m.headers.len(), 19);
        assert_eq!(m.headers[0], ("Metadata-Version".into(), "2.1".into()));
        assert_eq!(m.headers[18], ("X-Custom".into(), "kept".into()));
    }

    #[test]
    fn description_header_continuations_lose_their_prefix() {
        let text = "Metadata-Version: 1.2\nName: old\nVersion: 0.1\n\
Description: First line\n       |\n       |    indented code\n        |eight-space pipe\n        setuptools style\n\tother\n";
        let m = parse_metadata(text.as_bytes()).unwrap();
        assert_eq!(
            m.description.as_deref(),
            Some("First line\n\n    indented code\neight-space pipe\nsetuptools style\nother")
        );
    }

    #[test]
    fn header_names_are_case_insensitive() {
        let m = parse_metadata(b"metadata-version: 2.3\nNAME: x\nversion: 1\nrequires-DIST: y\n")
            .unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("x", "1"));
        assert_eq!(m.requires_dist, ["y"]);
        assert_eq!(m.headers[1].0, "NAME");
    }

    fn error_of(text: &str) -> ArtifactError {
        parse_metadata(text.as_bytes()).expect_err("should be refused")
    }

    #[test]
    fn required_fields_are_enforced() {
        for (text, field) in [
            ("Name: x\nVersion: 1\n", "Metadata-Version"),
            ("Metadata-Version: 2.1\nVersion: 1\n", "Name"),
            ("Metadata-Version: 2.1\nName: x\n", "Version"),
            ("Metadata-Version: 2.1\nName:   \nVersion: 1\n", "Name"),
            ("", "Metadata-Version"),
        ] {
            let err = error_of(text);
            assert!(
                matches!(err, ArtifactError::MetadataMissingField { field: f, .. } if f == field),
                "{text:?}: {err}"
            );
            assert_eq!(err.code(), "metadata.missing-field");
            assert!(err.to_string().contains(field));
        }
    }

    #[test]
    fn ambiguous_or_malformed_input_is_refused() {
        for (text, needle) in [
            (
                "Metadata-Version: 2.1\nName: a\nName: b\nVersion: 1\n",
                "'Name' appears more than once",
            ),
            (
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nnot a header\n",
                "line 4 is not",
            ),
            (" leading: continuation\n", "line 1 is indented"),
            (
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nBad Name: x\n",
                "invalid header name",
            ),
            (
                "Metadata-Version: 3.0\nName: a\nVersion: 1\n",
                "'3.0' is not a supported",
            ),
            (
                "Metadata-Version: two\nName: a\nVersion: 1\n",
                "not a supported",
            ),
            (
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: one\n\ntwo\n",
                "both a Description header and a message body",
            ),
        ] {
            let err = error_of(text);
            assert_eq!(err.code(), "metadata.invalid", "{text:?}");
            assert!(err.to_string().contains(needle), "{text:?}: {err}");
            assert!(
                err.to_string().starts_with("'METADATA' is not valid"),
                "{err}"
            );
        }
        let err = parse_metadata(b"Metadata-Version: 2.1\nName: \xff\nVersion: 1\n").unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn repeated_unknown_headers_are_kept_in_order() {
        let m = parse_metadata(b"Metadata-Version: 2.1\nName: a\nVersion: 1\nX-A: 1\nX-A: 2\n")
            .unwrap();
        assert_eq!(
            &m.headers[3..],
            [("X-A".into(), "1".into()), ("X-A".into(), "2".into())]
        );
    }

    #[test]
    fn a_whitespace_only_body_is_not_a_description() {
        let m =
            parse_metadata(b"Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: d\n\n \n")
                .unwrap();
        assert_eq!(m.description.as_deref(), Some("d"));
    }

    #[test]
    fn the_size_limit_counts_bytes_before_parsing() {
        let text = "Metadata-Version: 2.1\nName: a\nVersion: 1\n";
        assert!(parse_metadata_with_limit(text.as_bytes(), text.len() as u64).is_ok());
        let err = parse_metadata_with_limit(text.as_bytes(), text.len() as u64 - 1).unwrap_err();
        assert_eq!(err.code(), "metadata.too-large");
        let big = format!("{text}\n{}", "x".repeat(1 << 20));
        assert_eq!(
            parse_metadata(big.as_bytes()).unwrap_err().code(),
            "metadata.too-large"
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_metadata(&bytes);
        }

        #[test]
        fn never_panics_on_header_like_text(text in "([A-Za-z-]{0,12}:? ?[ -~\t|]{0,40}\r?\n){0,20}") {
            let _ = parse_metadata(text.as_bytes());
        }

        #[test]
        fn round_trips_simple_fields(name in "[A-Za-z][A-Za-z0-9._-]{0,30}", version in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}") {
            let text = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
            let m = parse_metadata(text.as_bytes()).unwrap();
            prop_assert_eq!(m.name, name);
            prop_assert_eq!(m.version, version);
        }
    }
}
