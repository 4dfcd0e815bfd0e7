//! The PyPI side: which names and versions may be asked about, and reading
//! a release's JSON (`GET {base}/{name}/{version}/json`).

use crate::UpstreamError;
use serde_json::Value;
use wharf_core::name::printable;
use wharf_core::{ProjectName, Version};

const REGISTRY: &str = "pypi";

/// One release of a PyPI project, as upstream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PypiVersion {
    /// The project's name as upstream spells it (`info.name`).
    pub name: String,
    /// The version as upstream spells it (`info.version`); equal to the one
    /// asked for under PEP 440 (`1.0` answers for `1.0.0`).
    pub version: String,
    /// The release's long description (`info.description`), where an
    /// `mcp-name:` marker would be, if it is a string.
    pub description: Option<String>,
}

/// A PEP 508 name in PEP 503 normal form, which is both the request path
/// segment and the cache key, so `Foo.Bar` and `foo-bar` share one answer.
pub(crate) fn normalized_name(name: &str) -> Result<String, UpstreamError> {
    let refuse = |why: String| UpstreamError::invalid(REGISTRY, why);
    let project = ProjectName::parse(name).map_err(|e| refuse(e.message))?;
    // PEP 508 lets `a..b` through; nothing needs it, and `..` never reaches a path.
    if name.contains("..") {
        return Err(refuse(format!(
            "`{}` is not a PyPI project name: it contains `..`",
            printable(name)
        )));
    }
    Ok(project.normalize().as_str().to_owned())
}

/// Checks `version` is a PEP 440 version made only of characters that are
/// plain in a URL path (`!` is an epoch separator there).
pub(crate) fn check_version(version: &str) -> Result<(), UpstreamError> {
    Version::parse(version).map_err(|e| UpstreamError::invalid(REGISTRY, e.message))?;
    let is_plain = version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'!'))
        && !version.contains("..");
    if is_plain {
        Ok(())
    } else {
        Err(UpstreamError::invalid(
            REGISTRY,
            format!(
                "`{}` is not a PyPI version that can be looked up",
                printable(version)
            ),
        ))
    }
}

/// Reads a release's JSON, which must be about the project `normalized`
/// and a version equal to `version`.
pub(crate) fn parse_release(
    body: &[u8],
    normalized: &str,
    version: &str,
) -> Result<PypiVersion, UpstreamError> {
    let invalid = |reason: &str| UpstreamError::invalid(REGISTRY, reason);
    let document: Value =
        serde_json::from_slice(body).map_err(|_| invalid("the answer is not JSON"))?;
    let info = document
        .get("info")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("the answer has no `info` object"))?;
    let name = info
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the answer has no `info.name` string"))?;
    let answered_version = info
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the answer has no `info.version` string"))?;
    if wharf_core::name::normalize(name) != normalized {
        return Err(invalid("the answer is not about the project asked for"));
    }
    if !is_same_version(answered_version, version) {
        return Err(invalid("the answer is not about the version asked for"));
    }
    let description = match info.get("description") {
        Some(Value::String(text)) => Some(text.clone()),
        // PyPI sends null for an empty description; any other type is read
        // as absent, so an ownership check against it fails.
        _ => None,
    };
    Ok(PypiVersion {
        name: name.to_owned(),
        version: answered_version.to_owned(),
        description,
    })
}

fn is_same_version(answered: &str, asked: &str) -> bool {
    answered == asked
        || matches!(
            (Version::parse(answered), Version::parse(asked)),
            (Ok(answered), Ok(asked)) if answered == asked
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_per_pep_503() {
        assert_eq!(normalized_name("Foo.Bar").unwrap(), "foo-bar");
        assert_eq!(normalized_name("foo_-_bar").unwrap(), "foo-bar");
        assert_eq!(normalized_name("mcp").unwrap(), "mcp");
    }

    #[test]
    fn unsafe_or_impossible_names_are_refused() {
        for name in [
            "",
            "../x",
            "a/b",
            "a..b",
            "-a",
            "a-",
            "a b",
            "; rm -rf /",
            "$(id)",
            "a?b",
            "a#b",
            "a%2Fb",
            "a\u{7}",
        ] {
            let error = normalized_name(name).expect_err(name);
            assert_eq!(error.code(), "upstream_invalid");
        }
    }

    #[test]
    fn versions_are_pep_440_and_plain() {
        for version in ["1.0", "1.0.0rc1", "2!1.0", "1.0+local.7", "1.0.post1.dev2"] {
            check_version(version).unwrap();
        }
        for version in ["", "1.0 ", "latest", "1.0/../x", "1.0?x", "$(id)", "1 0"] {
            assert!(check_version(version).is_err(), "{version:?}");
        }
    }

    #[test]
    fn the_release_must_be_about_what_was_asked() {
        let doc = br#"{"info":{"name":"Foo.Bar","version":"1.0","description":"mcp-name: io.github.a/foo"}}"#;
        let found = parse_release(doc, "foo-bar", "1.0.0").unwrap();
        assert_eq!(found.name, "Foo.Bar");
        assert_eq!(found.version, "1.0");
        assert_eq!(
            found.description.as_deref(),
            Some("mcp-name: io.github.a/foo")
        );
        assert!(parse_release(doc, "foo-baz", "1.0").is_err());
        assert!(parse_release(doc, "foo-bar", "1.1").is_err());
        assert!(parse_release(br#"{"info":"x"}"#, "foo-bar", "1.0").is_err());
        assert!(parse_release(br#"{"info":{"name":"foo-bar"}}"#, "foo-bar", "1.0").is_err());
        assert!(parse_release(b"not json", "foo-bar", "1.0").is_err());
    }

    #[test]
    fn a_description_of_the_wrong_type_reads_as_absent() {
        for description in ["null", "42", r#"["mcp-name: x"]"#] {
            let doc =
                format!(r#"{{"info":{{"name":"a","version":"1","description":{description}}}}}"#);
            assert_eq!(
                parse_release(doc.as_bytes(), "a", "1").unwrap().description,
                None
            );
        }
    }
}
