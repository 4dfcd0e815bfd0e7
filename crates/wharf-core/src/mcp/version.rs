//! Server and package versions: what may be published, and how "latest" is ordered.

use super::shell::check_shell_safe;
use crate::name::printable;
use std::cmp::Ordering;

pub const MAX_VERSION_LEN: usize = 255;

/// A version must name one release: at most 255 characters, not `latest`, not
/// a range (`^1`, `~1`, `>=1`, `<=1`, `>1`, `<1`, `=1`, `*`, `1.x`, `1 || 2`,
/// `1 - 2`), and nothing a shell would act on.
///
/// Strict SemVer is not required (upstream decided the same); such versions
/// just rank below SemVer ones in [`compare_versions`].
pub fn check_version(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let len = v.chars().count();
    if len > MAX_VERSION_LEN {
        return Err(format!(
            "must be at most {MAX_VERSION_LEN} characters (got {len})"
        ));
    }
    // Any casing: `Latest` reads as the same moving target to a person.
    if v.eq_ignore_ascii_case("latest") {
        return Err("'latest' is reserved; publish a specific version".to_owned());
    }
    if looks_like_range(v) {
        return Err(format!(
            "'{}' looks like a version range; publish one specific version, e.g. 1.2.3",
            printable(v)
        ));
    }
    check_shell_safe(v)
}

fn looks_like_range(v: &str) -> bool {
    let v = v.trim();
    if v.starts_with(['^', '~', '>', '<', '=']) || v.contains("||") || v.contains(" - ") {
        return true;
    }
    // Wildcards stand for a whole component: `1.x`, `1.2.*`, `X`, `*`. Only the
    // release part counts, so a prerelease such as `1.0.0-x.1` is still exact.
    let release = v.split(['-', '+']).next().unwrap_or(v);
    release
        .trim_start_matches(['v', 'V'])
        .split('.')
        .any(|part| matches!(part, "x" | "X" | "*"))
}

/// Orders two versions for choosing "latest".
///
/// - Both strict SemVer 2.0: SemVer precedence, with prerelease identifiers
///   compared field by field (numeric ones as numbers, so `1.0.0-rc.10` >
///   `1.0.0-rc.9`, and `1.0.0` > `1.0.0-rc.10`). Build metadata does not count,
///   so `1.0.0+a` and `1.0.0+b` are `Equal`.
/// - One SemVer, one not: the SemVer one is greater.
/// - Neither: `None`, and the caller falls back to publish time.
///
/// A leading `v` makes a version non-SemVer, as in upstream's ordering, so
/// `v1.0.0` ranks below `0.0.1`. Keeping the rule shared means a client and
/// Wharf agree on which version is latest.
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => Some(
            (a.major, a.minor, a.patch)
                .cmp(&(b.major, b.minor, b.patch))
                .then_with(|| a.pre.cmp(&b.pre)),
        ),
        (Ok(_), Err(_)) => Some(Ordering::Greater),
        (Err(_), Ok(_)) => Some(Ordering::Less),
        (Err(_), Err(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_specific_versions() {
        for ok in [
            "1.0.0",
            "0.4.0-beta",
            "1.0.0-rc.10+build.7",
            "2024.06.01",
            "1.1298.0",
            "v2",
            "1.0.0-x.1",
        ] {
            assert_eq!(check_version(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_latest_and_ranges() {
        for (bad, says) in [
            ("latest", "reserved"),
            ("LATEST", "reserved"),
            ("^1.2.3", "range"),
            ("~1.2.3", "range"),
            (">=1.0.0", "range"),
            ("<=1.0.0", "range"),
            (">1", "range"),
            ("<2", "range"),
            ("=1.0.0", "range"),
            ("*", "range"),
            ("1.x", "range"),
            ("1.2.X", "range"),
            ("1.2.*", "range"),
            ("1.2 || 1.3", "range"),
            ("1.2||1.3", "range"),
            ("1.2.3 - 2.0.0", "range"),
            ("", "empty"),
        ] {
            let err = check_version(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn refuses_shell_metacharacters_and_overlong_versions() {
        for bad in ["1.0.0;id", "$(id)", "`id`", "1.0|x", "1.0 beta", "1.0\n"] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
        assert!(check_version(&"1".repeat(256)).unwrap_err().contains("255"));
        assert_eq!(check_version(&"1".repeat(255)), Ok(()));
    }

    #[test]
    fn orders_prereleases_by_semver_precedence() {
        use Ordering::*;
        let cases = [
            ("1.0.0-rc.10", "1.0.0-rc.9", Greater),
            ("1.0.0", "1.0.0-rc.10", Greater),
            ("1.0.0-alpha", "1.0.0-alpha.1", Less),
            ("1.0.0-alpha.beta", "1.0.0-beta", Less),
            ("1.0.0-beta.11", "1.0.0-beta.2", Greater),
            ("1.0.0-rc.1", "1.0.0-beta.11", Greater),
            ("1.0.0-1", "1.0.0-alpha", Less),
            ("1.10.0", "1.9.0", Greater),
            ("2.0.0", "10.0.0", Less),
            ("1.0.0+a", "1.0.0+b", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_versions(a, b), Some(want), "{a} vs {b}");
            assert_eq!(compare_versions(b, a), Some(want.reverse()), "{b} vs {a}");
        }
    }

    #[test]
    fn semver_outranks_other_versions_and_two_others_are_unordered() {
        assert_eq!(
            compare_versions("0.0.1", "2024.06"),
            Some(Ordering::Greater)
        );
        assert_eq!(compare_versions("v9.0.0", "0.0.1"), Some(Ordering::Less));
        assert_eq!(compare_versions("2024.06", "2024.07"), None);
        assert_eq!(compare_versions("1.0", "1.0.0-rc.1"), Some(Ordering::Less));
        // Leading zeros are not SemVer.
        assert_eq!(compare_versions("01.0.0", "1.0.0"), Some(Ordering::Less));
    }

    proptest! {
        #[test]
        fn numeric_prerelease_fields_compare_as_numbers(a in 0u64..10_000, b in 0u64..10_000) {
            let got = compare_versions(&format!("1.0.0-rc.{a}"), &format!("1.0.0-rc.{b}"));
            prop_assert_eq!(got, Some(a.cmp(&b)));
        }
    }
}
