//! The wheel `RECORD` file: one CSV row `path,algorithm=digest,size` per member.

use std::collections::HashSet;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::member_path::display;
use crate::ArtifactError;

/// The spec says URL-safe base64 without padding; padded digests are accepted since they
/// decode to the same bytes.
const DIGEST_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Hash algorithms we verify. The spec allows any `hashlib` algorithm "sha256 or better";
/// weaker ones (md5, sha1) are refused because they prove nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

/// One parsed `RECORD` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordRow {
    /// The 1-based line where the row starts.
    pub(crate) line: usize,
    pub(crate) path: String,
    pub(crate) hash: Option<(HashAlgorithm, Vec<u8>)>,
    pub(crate) size: Option<u64>,
}

/// Parses `RECORD`; `record_path` names it in errors.
pub(crate) fn parse(bytes: &[u8], record_path: &str) -> Result<Vec<RecordRow>, ArtifactError> {
    let invalid = |line: usize, detail: String| ArtifactError::RecordInvalid {
        record: record_path.to_owned(),
        line,
        detail,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        invalid(line, "it is not valid UTF-8".into())
    })?;

    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for csv_row in CsvRows::new(text) {
        let (line, fields) = csv_row.map_err(|(line, detail)| invalid(line, detail))?;
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        let [path, hash, size]: [String; 3] = fields.try_into().map_err(|f: Vec<String>| {
            invalid(
                line,
                format!("expected 3 fields (path, hash, size), found {}", f.len()),
            )
        })?;
        if path.is_empty() {
            return Err(invalid(line, "the path is empty".into()));
        }
        if !seen.insert(path.clone()) {
            return Err(invalid(
                line,
                format!("'{}' is listed more than once", display(path.as_bytes())),
            ));
        }
        let hash = if hash.is_empty() {
            None
        } else {
            Some(parse_hash(&hash).map_err(|detail| invalid(line, detail))?)
        };
        let size = if size.is_empty() {
            None
        } else if size.bytes().all(|b| b.is_ascii_digit()) && size.len() <= 19 {
            Some(
                size.parse()
                    .map_err(|_| invalid(line, format!("size '{size}' is not a number")))?,
            )
        } else {
            return Err(invalid(
                line,
                format!("size '{}' is not a number", display(size.as_bytes())),
            ));
        };
        rows.push(RecordRow {
            line,
            path,
            hash,
            size,
        });
    }
    Ok(rows)
}

fn parse_hash(text: &str) -> Result<(HashAlgorithm, Vec<u8>), String> {
    let Some((name, encoded)) = text.split_once('=') else {
        return Err(format!(
            "hash '{}' is not 'algorithm=digest'",
            display(text.as_bytes())
        ));
    };
    let (algorithm, length) = match name {
        "sha256" => (HashAlgorithm::Sha256, 32),
        "sha384" => (HashAlgorithm::Sha384, 48),
        "sha512" => (HashAlgorithm::Sha512, 64),
        other => {
            return Err(format!(
                "hash algorithm '{}' is not accepted (use sha256, sha384 or sha512)",
                display(other.as_bytes())
            ))
        }
    };
    let digest = DIGEST_BASE64.decode(encoded).map_err(|_| {
        format!(
            "digest '{}' is not URL-safe base64",
            display(encoded.as_bytes())
        )
    })?;
    if digest.len() != length {
        return Err(format!(
            "{name} digest has {} bytes, expected {length}",
            digest.len()
        ));
    }
    Ok((algorithm, digest))
}

/// A running digest in whichever algorithm a `RECORD` row names.
#[derive(Debug, Clone)]
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn new(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
            HashAlgorithm::Sha384 => Self::Sha384(Sha384::new()),
            HashAlgorithm::Sha512 => Self::Sha512(Sha512::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha384(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    pub(crate) fn finalize(self) -> Vec<u8> {
        match self {
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// Encodes a digest the way `RECORD` writes it, for messages.
pub(crate) fn encode_digest(digest: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// An iterator over CSV rows as Python's `csv` module writes them: `,` separators, fields
/// quoted with `"` when needed, `""` for a quote inside a quoted field, `\n` or `\r\n` ends.
struct CsvRows<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

type CsvRow = Result<(usize, Vec<String>), (usize, String)>;

impl<'a> CsvRows<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            chars: text.chars().peekable(),
            line: 1,
        }
    }

    fn read_row(&mut self) -> CsvRow {
        let start_line = self.line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if self.chars.peek() == Some(&'"') {
                self.chars.next();
                loop {
                    match self.chars.next() {
                        None => return Err((start_line, "a quoted field is never closed".into())),
                        Some('"') if self.chars.peek() == Some(&'"') => {
                            self.chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                self.line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                fields.push(field);
                match self.next_separator() {
                    Ok(true) => continue,
                    Ok(false) => return Ok((start_line, fields)),
                    Err(()) => {
                        return Err((
                            start_line,
                            "unexpected character after a closing quote".into(),
                        ))
                    }
                }
            }
            while let Some(&c) = self.chars.peek() {
                if matches!(c, ',' | '\n' | '\r') {
                    break;
                }
                field.push(c);
                self.chars.next();
            }
            fields.push(field);
            match self.next_separator() {
                Ok(true) => continue,
                Ok(false) => return Ok((start_line, fields)),
                Err(()) => return Err((start_line, "stray carriage return".into())),
            }
        }
    }

    /// Consumes what follows a field: `Ok(true)` for `,`, `Ok(false)` for the end of the row.
    fn next_separator(&mut self) -> Result<bool, ()> {
        match self.chars.next() {
            Some(',') => Ok(true),
            None => Ok(false),
            Some('\n') => {
                self.line += 1;
                Ok(false)
            }
            Some('\r') if self.chars.peek() == Some(&'\n') => {
                self.chars.next();
                self.line += 1;
                Ok(false)
            }
            Some(_) => Err(()),
        }
    }
}

impl Iterator for CsvRows<'_> {
    type Item = CsvRow;

    fn next(&mut self) -> Option<CsvRow> {
        self.chars.peek()?;
        Some(self.read_row())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256_OF_HELLO: &str = "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ";

    #[test]
    fn parses_rows_with_quoting_and_crlf() {
        let text = format!(
            "demo/__init__.py,sha256={SHA256_OF_HELLO},5\r\n\"demo/a,b \"\"q\"\".py\",sha256={SHA256_OF_HELLO}=,5\ndemo-1.0.dist-info/RECORD,,\n\n"
        );
        let rows = parse(text.as_bytes(), "RECORD").expect("valid RECORD");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].path, "demo/__init__.py");
        assert_eq!(rows[0].size, Some(5));
        let (algorithm, digest) = rows[0].hash.clone().unwrap();
        assert_eq!(algorithm, HashAlgorithm::Sha256);
        assert_eq!(encode_digest(&digest), SHA256_OF_HELLO);
        assert_eq!(rows[1].path, "demo/a,b \"q\".py");
        assert_eq!(rows[1].line, 2);
        assert_eq!(rows[1].hash, rows[0].hash);
        assert_eq!((rows[2].hash.clone(), rows[2].size), (None, None));
        assert_eq!(rows[2].line, 3);
    }

    #[test]
    fn malformed_rows_name_their_line() {
        for (text, line, needle) in [
            ("a,sha256=x\n", 1, "expected 3 fields"),
            ("a,,\nb,md5=AAAA,1\n", 2, "'md5' is not accepted"),
            ("a,,\n\"b,,\n", 2, "never closed"),
            ("\"a\"x,,\n", 1, "after a closing quote"),
            ("a,sha256=!!!,1\n", 1, "not URL-safe base64"),
            ("a,sha256=AAAA,1\n", 1, "digest has 3 bytes"),
            ("a,,-1\n", 1, "is not a number"),
            ("a,,\na,,\n", 2, "listed more than once"),
            ("a,,\r\r\n", 1, "stray carriage return"),
            (",,\n", 1, "path is empty"),
        ] {
            let err = parse(text.as_bytes(), "d-1.dist-info/RECORD").expect_err(text);
            assert_eq!(err.code(), "wheel.record-invalid");
            assert!(
                matches!(&err, ArtifactError::RecordInvalid { line: l, .. } if *l == line),
                "{text:?}: {err}"
            );
            let message = err.to_string();
            assert!(message.contains(needle), "{text:?}: {message}");
            assert!(
                message.starts_with("'d-1.dist-info/RECORD' line"),
                "{message}"
            );
        }
    }

    #[test]
    fn hashers_match_known_digests() {
        let mut hasher = Hasher::new(HashAlgorithm::Sha256);
        hasher.update(b"hel");
        hasher.update(b"lo");
        assert_eq!(encode_digest(&hasher.finalize()), SHA256_OF_HELLO);
        assert_eq!(Hasher::new(HashAlgorithm::Sha384).finalize().len(), 48);
        assert_eq!(Hasher::new(HashAlgorithm::Sha512).finalize().len(), 64);
    }
}
