//! PEP 440 versions, wrapped so the rest of Wharf never compares versions as strings.

use crate::name::printable;
use crate::ValidationError;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Longest version string accepted (security.md, "Input handling").
pub const MAX_VERSION_LEN: usize = 64;

/// A PEP 440 version. Equality and ordering follow PEP 440, so `1.0` == `1.0.0`
/// and `1.0rc10` > `1.0rc9`; [`Version::canonical`] is the stored spelling.
#[derive(Debug, Clone)]
pub struct Version {
    parsed: pep440_rs::Version,
    canonical: String,
}

impl Version {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.len() > MAX_VERSION_LEN {
            return Err(ValidationError::new(
                "invalid_version",
                format!("the version is longer than {MAX_VERSION_LEN} characters"),
            ));
        }
        // pep440_rs accepts surrounding whitespace; a version that reaches a
        // filename or a command line must not carry any.
        if raw.trim() != raw || raw.is_empty() {
            return Err(invalid(raw));
        }
        let parsed = pep440_rs::Version::from_str(raw).map_err(|_| invalid(raw))?;
        let canonical = parsed.to_string();
        Ok(Self { parsed, canonical })
    }

    /// The normalized spelling, e.g. `1.0rc1` for `1.0-RC.1`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    pub fn is_prerelease(&self) -> bool {
        self.parsed.any_prerelease()
    }
}

fn invalid(raw: &str) -> ValidationError {
    ValidationError::new(
        "invalid_version",
        format!(
            "'{}' is not a valid PEP 440 version (for example 1.0, 2.1.3rc1, 1.0.post1)",
            printable(raw)
        ),
    )
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.parsed == other.parsed
    }
}
impl Eq for Version {}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parsed.cmp(&other.parsed)
    }
}
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// Checks a `Requires-Python` value so that what the simple API advertises is
/// something pip and uv can parse.
pub fn validate_requires_python(raw: &str) -> Result<(), ValidationError> {
    pep440_rs::VersionSpecifiers::from_str(raw)
        .map(|_| ())
        .map_err(|_| {
            ValidationError::new(
                "invalid_requires_python",
                format!(
                    "Requires-Python '{}' is not a valid PEP 440 specifier set",
                    printable(raw)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn orders_per_pep_440_not_as_strings() {
        assert!(v("1.10") > v("1.9"));
        assert!(v("1.0rc10") > v("1.0rc9"));
        assert!(v("1.0") > v("1.0rc1"));
        assert!(v("1.0.post1") > v("1.0"));
        assert!(v("1.0.dev1") < v("1.0a1"));
        assert!(v("1!0.1") > v("2.0"));
        assert_eq!(v("1.0"), v("1.0.0"));
    }

    #[test]
    fn stores_the_canonical_spelling() {
        assert_eq!(v("1.0-RC.1").canonical(), "1.0rc1");
        assert_eq!(v("v2.0").canonical(), "2.0");
        assert_eq!(v("1.0.POST2").canonical(), "1.0.post2");
    }

    #[test]
    fn rejects_bad_versions() {
        for bad in [
            "",
            " 1.0",
            "1.0 ",
            "latest",
            "1.0; rm -rf /",
            "$(x)",
            "1..0",
        ] {
            assert_eq!(
                Version::parse(bad).unwrap_err().code,
                "invalid_version",
                "{bad:?}"
            );
        }
        let long = format!("1.{}", "0".repeat(MAX_VERSION_LEN));
        assert!(Version::parse(&long)
            .unwrap_err()
            .message
            .contains("longer"));
    }

    #[test]
    fn validates_requires_python() {
        assert!(validate_requires_python(">=3.8, <4").is_ok());
        assert!(validate_requires_python(">=3.8; rm").is_err());
    }

    proptest! {
        #[test]
        fn release_segments_order_numerically(a in 0u32..1000, b in 0u32..1000, c in 0u32..1000, d in 0u32..1000) {
            let left = v(&format!("{a}.{b}"));
            let right = v(&format!("{c}.{d}"));
            prop_assert_eq!(left.cmp(&right), (a, b).cmp(&(c, d)));
        }

        #[test]
        fn canonical_form_round_trips(a in 0u32..100, b in 0u32..100, pre in prop::option::of(0u32..20)) {
            let raw = match pre { Some(n) => format!("{a}.{b}RC{n}"), None => format!("{a}.{b}") };
            let once = v(&raw);
            let again = v(once.canonical());
            prop_assert_eq!(once.canonical(), again.canonical());
            prop_assert_eq!(once, again);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = Version::parse(&s);
        }
    }
}
