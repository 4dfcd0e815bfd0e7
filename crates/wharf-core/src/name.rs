//! Python project names: PEP 508 validity and PEP 503 normalization.

use crate::ValidationError;
use std::fmt;

/// Longest project name accepted; PEP 508 sets no limit, but a name is a path
/// segment, a database key and a line in a page, so it must be bounded.
pub const MAX_NAME_LEN: usize = 128;

/// A project name as the author spelled it, checked against PEP 508.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectName(String);

/// A project name in PEP 503 normal form: lowercase, runs of `-_.` folded to `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct NormalizedName(String);

impl ProjectName {
    /// Checks `raw` against PEP 508: ASCII letters and digits, with `.`, `_`
    /// and `-` allowed only between them.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() {
            return Err(ValidationError::new(
                "invalid_name",
                "the project name is empty",
            ));
        }
        if raw.len() > MAX_NAME_LEN {
            return Err(ValidationError::new(
                "invalid_name",
                format!("the project name is longer than {MAX_NAME_LEN} characters"),
            ));
        }
        let bytes = raw.as_bytes();
        let is_alnum = |b: u8| b.is_ascii_alphanumeric();
        let is_inner = |b: u8| is_alnum(b) || matches!(b, b'.' | b'_' | b'-');
        if !is_alnum(bytes[0])
            || !is_alnum(bytes[bytes.len() - 1])
            || !bytes.iter().all(|&b| is_inner(b))
        {
            return Err(ValidationError::new(
                "invalid_name",
                format!(
                    "'{}' is not a valid project name: use ASCII letters, digits, and '.', '_' or '-' between them (PEP 508)",
                    printable(raw)
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalize(&self) -> NormalizedName {
        NormalizedName(normalize(&self.0))
    }
}

impl NormalizedName {
    /// Parses and normalizes in one step.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Ok(ProjectName::parse(raw)?.normalize())
    }

    /// Wraps a value that is already normalized, such as one read back from the
    /// database; panics in debug builds if it is not.
    pub fn from_normalized(value: String) -> Self {
        debug_assert_eq!(normalize(&value), value);
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used in wheel and sdist filenames, with `_` for `-` (PEP 491, PEP 625).
    pub fn as_filename_part(&self) -> String {
        self.0.replace('-', "_")
    }
}

impl fmt::Display for NormalizedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// PEP 503 normalization of any string (valid or not).
pub fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_separator_run = false;
    for c in raw.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    out
}

/// Characters that are invisible or reorder text: zero-width characters, bidi
/// controls, Unicode tags (which spell ASCII out of sight) and the byte-order mark.
/// Text that holds one shows a person something other than what a program reads.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}')
}

/// Makes untrusted text safe to quote in a message: control characters are
/// escaped and the length is capped, so an error never carries a terminal
/// escape sequence or a megabyte of input back to the user.
pub fn printable(raw: &str) -> String {
    let mut out: String = raw.chars().take(80).flat_map(char::escape_debug).collect();
    if raw.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_per_pep_503() {
        assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize("FRIENDLY.._-BARD"), "friendly-bard");
        assert_eq!(normalize("friendly_bard"), "friendly-bard");
        assert_eq!(
            NormalizedName::parse("Zope.Interface").unwrap().as_str(),
            "zope-interface"
        );
    }

    #[test]
    fn rejects_invalid_names_with_a_reason() {
        for bad in [
            "", "-lead", "trail_", "a b", "a;rm -rf", "naïve", "$(x)", "a/b",
        ] {
            let err = ProjectName::parse(bad).unwrap_err();
            assert_eq!(err.code, "invalid_name", "{bad}");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert!(ProjectName::parse(&long)
            .unwrap_err()
            .message
            .contains("longer"));
    }

    #[test]
    fn accepts_valid_names() {
        for good in ["a", "A1", "zope.interface", "my_pkg-2", "x.y_z-w"] {
            assert!(ProjectName::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\nb\x1b"), "a\\nb\\u{1b}");
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(s in "[A-Za-z0-9._-]{1,40}") {
            let once = normalize(&s);
            prop_assert_eq!(normalize(&once), once.clone());
            prop_assert!(!once.contains("--") && !once.contains('_') && !once.contains('.'));
        }

        #[test]
        fn valid_names_normalize_to_valid_names(s in "[A-Za-z0-9]([A-Za-z0-9._-]{0,30}[A-Za-z0-9])?") {
            let name = ProjectName::parse(&s).unwrap();
            prop_assert!(ProjectName::parse(name.normalize().as_str()).is_ok());
        }

        #[test]
        fn names_differing_only_in_case_and_separators_collide(s in "[a-z0-9]{1,10}", t in "[a-z0-9]{1,10}") {
            let a = NormalizedName::parse(&format!("{s}-{t}")).unwrap();
            let b = NormalizedName::parse(&format!("{}._{}", s.to_uppercase(), t)).unwrap();
            prop_assert_eq!(a, b);
        }
    }
}

/// A Wharf user name: 1–64 ASCII letters, digits, `-`, `_` or `.`, starting
/// with a letter or digit. Matched ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_alphanumeric())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(
                "invalid_user_name",
                "a user name is 1-64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod user_name_tests {
    use super::UserName;

    #[test]
    fn user_names_are_checked() {
        assert_eq!(UserName::parse("alice.b-2").unwrap().as_str(), "alice.b-2");
        for bad in ["", "-x", "a b", "a;b", &"a".repeat(65)] {
            assert_eq!(
                UserName::parse(bad).unwrap_err().code,
                "invalid_user_name",
                "{bad}"
            );
        }
    }
}
