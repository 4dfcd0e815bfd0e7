//! The npm side: which names and versions may be asked about, the request
//! path, and reading a version document (`GET {base}/{name}/{version}`).

use crate::UpstreamError;
use serde_json::Value;
use wharf_core::name::printable;

const REGISTRY: &str = "npm";

/// npm's own limit on a package name.
const MAX_NAME_LEN: usize = 214;

/// node-semver's limit on a version string.
const MAX_VERSION_LEN: usize = 256;

/// One version of an npm package, as upstream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmVersion {
    /// The package name, as asked (upstream confirmed it).
    pub name: String,
    /// The version, as asked (upstream confirmed it).
    pub version: String,
    /// The version's `mcpName`, if it has one that is a string.
    pub mcp_name: Option<String>,
}

/// `name` as a request path segment: checked, with a scope's `/` escaped
/// (`@scope%2Fpkg`), as the npm registry expects.
///
/// A deliberately narrow reading of npm's rules: ASCII letters, digits, `.`,
/// `_` and `-` only, so nothing URL- or shell-special ever passes (npm also
/// allows `!*'()~`, which no package worth checking uses). Uppercase is let
/// through, because packages published before npm required lowercase keep
/// their names, and upstream names are case-sensitive.
pub(crate) fn name_segment(name: &str) -> Result<String, UpstreamError> {
    let refuse = |why: &str| {
        UpstreamError::invalid(
            REGISTRY,
            format!("`{}` is not an npm package name: {why}", printable(name)),
        )
    };
    if name.len() > MAX_NAME_LEN {
        return Err(refuse("it is longer than 214 characters"));
    }
    let (scope, bare) = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, bare)) => (Some(scope), bare),
            None => return Err(refuse("a scoped name is @scope/name")),
        },
        None => (None, name),
    };
    for part in scope.into_iter().chain([bare]) {
        check_name_part(part).map_err(refuse)?;
    }
    Ok(match scope {
        Some(scope) => format!("@{scope}%2F{bare}"),
        None => bare.to_owned(),
    })
}

fn check_name_part(part: &str) -> Result<(), &'static str> {
    if part.is_empty() {
        return Err("a name or scope is empty");
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("use ASCII letters, digits, `.`, `_` and `-` (and `@scope/` in front)");
    }
    if part.starts_with(['.', '_']) {
        return Err("it starts with `.` or `_`");
    }
    if part.contains("..") {
        return Err("it contains `..`");
    }
    Ok(())
}

/// Checks `version` is an exact semver version, not a dist-tag or a
/// range: the registry would resolve `latest` or `1.x` to some version, and
/// a check must be about the version that was pinned.
pub(crate) fn check_version(version: &str) -> Result<(), UpstreamError> {
    if version.len() <= MAX_VERSION_LEN && is_semver(version) {
        Ok(())
    } else {
        Err(UpstreamError::invalid(
            REGISTRY,
            format!(
                "`{}` is not an exact npm version (such as 1.2.3 or 2.0.0-rc.1)",
                printable(version)
            ),
        ))
    }
}

/// `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]` as semver 2.0 spells it.
fn is_semver(version: &str) -> bool {
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, prerelease) = match rest.split_once('-') {
        Some((core, prerelease)) => (core, Some(prerelease)),
        None => (rest, None),
    };
    let is_number = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'))
    };
    let are_identifiers = |parts: &str| {
        parts.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers.iter().all(|part| is_number(part))
        && prerelease.is_none_or(are_identifiers)
        && build.is_none_or(are_identifiers)
}

/// Reads a version document, which must be about exactly `name@version`.
pub(crate) fn parse_version(
    body: &[u8],
    name: &str,
    version: &str,
) -> Result<NpmVersion, UpstreamError> {
    let invalid = |reason: &str| UpstreamError::invalid(REGISTRY, reason);
    let document: Value =
        serde_json::from_slice(body).map_err(|_| invalid("the answer is not JSON"))?;
    let document = document
        .as_object()
        .ok_or_else(|| invalid("the answer is not a JSON object"))?;
    let answered_name = document.get("name").and_then(Value::as_str);
    let answered_version = document.get("version").and_then(Value::as_str);
    if answered_name != Some(name) {
        return Err(invalid("the answer is not about the package asked for"));
    }
    if answered_version != Some(version) {
        return Err(invalid("the answer is not about the version asked for"));
    }
    let mcp_name = match document.get("mcpName") {
        None | Some(Value::Null) => None,
        Some(Value::String(mcp_name)) => Some(mcp_name.clone()),
        // Read as absent, so an ownership check against it fails.
        Some(_) => {
            tracing::debug!(name, version, "npm `mcpName` is not a string; ignored");
            None
        }
    };
    Ok(NpmVersion {
        name: name.to_owned(),
        version: version.to_owned(),
        mcp_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_scoped_names_become_one_segment() {
        assert_eq!(name_segment("left-pad").unwrap(), "left-pad");
        assert_eq!(name_segment("JSONStream").unwrap(), "JSONStream");
        assert_eq!(
            name_segment("@modelcontextprotocol/server-everything").unwrap(),
            "@modelcontextprotocol%2Fserver-everything"
        );
        assert_eq!(name_segment("a.b_c-d").unwrap(), "a.b_c-d");
    }

    #[test]
    fn unsafe_or_impossible_names_are_refused() {
        for name in [
            "",
            "@",
            "@scope",
            "@scope/",
            "@/pkg",
            "@scope/pkg/extra",
            "a/b",
            "../x",
            "..",
            ".hidden",
            "_private",
            "@scope/.x",
            "a..b",
            "a b",
            "a\tb",
            "a\nb",
            "; rm -rf /",
            "$(id)",
            "`id`",
            "a?b",
            "a#b",
            "a%2Fb",
            "a&b",
            "a|b",
            "a\\b",
            "caf\u{e9}",
            "a\u{0}b",
            &"a".repeat(215),
        ] {
            let error = name_segment(name).expect_err(name);
            assert_eq!(error.code(), "upstream_invalid");
            assert!(!error.to_string().contains('\n'), "{error}");
        }
        assert!(name_segment(&"a".repeat(214)).is_ok());
    }

    #[test]
    fn only_exact_versions_are_asked_for() {
        for version in [
            "1.0.0",
            "0.1.2-rc.1",
            "1.0.0+build.5",
            "10.20.30-alpha-1",
            "1.0.0-0.3.7",
            "1.0.0-x.7.z.92+exp.sha.5114f85",
        ] {
            check_version(version).unwrap();
        }
        for version in [
            "",
            "latest",
            "next",
            "^1.0.0",
            "~1.0.0",
            ">=1",
            "1.x || 2",
            "v1.0.0",
            "1.0.0/../x",
            "1..0",
            "1.0.0 ",
            "1.0.0?x",
            "1.0.0#x",
            "1.0%2e0",
            "$(id)",
            "1.x",
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.0-",
            "1.0.0-rc..1",
            "1.0.0+",
            "1.0.0-rc_1",
        ] {
            assert!(check_version(version).is_err(), "{version:?}");
        }
    }

    #[test]
    fn the_document_must_be_about_what_was_asked() {
        let doc = br#"{"name":"demo","version":"1.0.0","mcpName":"io.github.a/demo"}"#;
        assert_eq!(
            parse_version(doc, "demo", "1.0.0")
                .unwrap()
                .mcp_name
                .as_deref(),
            Some("io.github.a/demo")
        );
        assert!(parse_version(doc, "other", "1.0.0").is_err());
        assert!(parse_version(doc, "demo", "1.0.1").is_err());
        assert!(parse_version(br#"{"version":"1.0.0"}"#, "demo", "1.0.0").is_err());
        assert!(parse_version(br#"{"name":7,"version":"1.0.0"}"#, "demo", "1.0.0").is_err());
        assert!(parse_version(b"[1]", "demo", "1.0.0").is_err());
        assert!(parse_version(b"<html>", "demo", "1.0.0").is_err());
    }

    #[test]
    fn a_marker_of_the_wrong_type_reads_as_absent() {
        for marker in [
            "42",
            "null",
            r#"["io.github.a/demo"]"#,
            r#"{"a":1}"#,
            "true",
        ] {
            let doc = format!(r#"{{"name":"demo","version":"1.0.0","mcpName":{marker}}}"#);
            let found = parse_version(doc.as_bytes(), "demo", "1.0.0").unwrap();
            assert_eq!(found.mcp_name, None, "{marker}");
        }
    }
}
