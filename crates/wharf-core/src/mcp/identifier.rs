//! Package identifiers, per ecosystem. npm and PyPI names are checked in full;
//! the other types get a conservative syntax check. Every identifier must also
//! pass [`check_shell_safe`], whatever its ecosystem would tolerate.

use super::model::RegistryType;
use super::shell::check_shell_safe;
use super::url::check_network_url;
use super::UrlPolicy;
use crate::name::{printable, ProjectName};

pub const MAX_NPM_NAME_LEN: usize = 214;
pub const MAX_NUGET_ID_LEN: usize = 100;
pub const MAX_CRATE_NAME_LEN: usize = 64;
/// Docker's limit on a repository name (domain and path).
pub const MAX_OCI_NAME_LEN: usize = 255;

/// Names npm reserves outright.
const NPM_RESERVED: &[&str] = &["node_modules", "favicon.ico"];

/// Node's core modules: npm refuses new packages with these names, because
/// `require("http")` would never reach them.
const NODE_BUILTINS: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// Checks an npm name against the rules `validate-npm-package-name` applies to
/// new packages: 1–214 characters, lowercase, URL-safe, no leading `.` or `_`,
/// not reserved nor a Node core module, and `@scope/name` with both parts valid.
///
/// Of the URL-safe punctuation npm allows, only `-`, `.` and `_` are accepted:
/// `~'!()*` are refused for new packages anyway, and are shell-special.
pub fn check_npm_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the npm package name is empty".to_owned());
    }
    if name.trim() != name {
        return Err("the npm package name has leading or trailing spaces".to_owned());
    }
    let len = name.chars().count();
    if len > MAX_NPM_NAME_LEN {
        return Err(format!(
            "npm package names are at most {MAX_NPM_NAME_LEN} characters (got {len})"
        ));
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return Err(format!(
            "'{}' has capital letters; npm package names are lowercase",
            printable(name)
        ));
    }
    if NPM_RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!("'{}' is a name npm reserves", printable(name)));
    }
    if NODE_BUILTINS.contains(&name) {
        return Err(format!(
            "'{}' is a Node.js core module name, which npm refuses for new packages",
            printable(name)
        ));
    }
    match name.strip_prefix('@') {
        Some(scoped) => {
            let Some((scope, package)) = scoped.split_once('/') else {
                return Err(format!(
                    "'{}' is scoped, so it must have the form @scope/name",
                    printable(name)
                ));
            };
            check_npm_part(scope, name)?;
            check_npm_part(package, name)
        }
        None => check_npm_part(name, name),
    }
}

fn check_npm_part(part: &str, whole: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!(
            "'{}' has an empty scope or name part",
            printable(whole)
        ));
    }
    if part.starts_with(['.', '_']) {
        return Err(format!(
            "'{}' has a part starting with '.' or '_', which npm does not allow",
            printable(whole)
        ));
    }
    if let Some(c) = part
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "'{}' contains '{}'; npm package names use lowercase letters, digits, '-', '.' and '_'",
            printable(whole),
            c.escape_debug()
        ));
    }
    Ok(())
}

/// Checks a PyPI project name against PEP 508 (the rule the rest of Wharf uses).
pub fn check_pypi_name(name: &str) -> Result<(), String> {
    ProjectName::parse(name).map(|_| ()).map_err(|e| e.message)
}

/// The identifier rule for one registry type.
pub(super) fn check_identifier(
    kind: RegistryType,
    identifier: &str,
    policy: UrlPolicy,
) -> Result<(), String> {
    check_shell_safe(identifier)?;
    match kind {
        RegistryType::Npm => check_npm_name(identifier),
        RegistryType::Pypi => check_pypi_name(identifier),
        RegistryType::Nuget => check_nuget_id(identifier),
        RegistryType::Cargo => check_crate_name(identifier),
        RegistryType::Oci => check_oci_reference(identifier, policy),
        RegistryType::Mcpb => check_network_url(identifier, policy)
            .map_err(|e| format!("an mcpb identifier is the bundle's download URL: {e}")),
    }
}

/// NuGet package IDs: word characters, with single `.` or `-` between runs.
fn check_nuget_id(id: &str) -> Result<(), String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = id.len() <= MAX_NUGET_ID_LEN
        && id
            .split(['.', '-'])
            .all(|run| !run.is_empty() && run.chars().all(is_word));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a NuGet package ID: up to {MAX_NUGET_ID_LEN} letters, digits and '_', with single '.' or '-' between them",
            printable(id)
        ))
    }
}

/// Crate names as the Rust registry takes them.
fn check_crate_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= MAX_CRATE_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a crate name: up to {MAX_CRATE_NAME_LEN} letters, digits, '-' and '_', starting with a letter",
            printable(name)
        ))
    }
}

/// An OCI image reference, `[registry/]repository(:tag|@digest)`, following the
/// distribution reference grammar. The version lives in the tag or digest, so
/// one of them is required, and `latest` (a moving tag) is refused like the
/// `latest` version is.
fn check_oci_reference(reference: &str, policy: UrlPolicy) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "'{}' is not an OCI image reference ({why}), e.g. docker.io/org/image:1.2.0",
            printable(reference)
        ))
    };
    let (name_and_tag, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_and_tag[..last_slash + i],
            Some(&name_and_tag[last_slash + i + 1..]),
        ),
        None => (name_and_tag, None),
    };
    if name.len() > MAX_OCI_NAME_LEN {
        return bad("the name is longer than 255 characters");
    }
    if let Some(digest) = digest {
        if !is_oci_digest(digest) {
            return bad("the digest must look like sha256:<64 hex digits>");
        }
    }
    match tag {
        Some(tag) if !is_oci_tag(tag) => return bad("the tag is malformed"),
        Some("latest") => {
            return Err(format!(
                "'{}' uses the moving tag 'latest'; pin a specific tag or digest",
                printable(reference)
            ))
        }
        None if digest.is_none() => return bad("it needs a tag or a digest to pin the version"),
        _ => {}
    }
    let mut components: Vec<&str> = name.split('/').collect();
    // Docker's rule: the first component is a registry host when it has a dot
    // or a port, or is `localhost`.
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost")
    {
        let host = components.remove(0);
        check_network_url(&format!("https://{host}/"), policy)
            .map_err(|e| format!("the image registry '{}': {e}", printable(host)))?;
    }
    if !components.iter().all(|c| is_oci_path_component(c)) {
        return bad("repository path components are lowercase letters and digits separated by '.', '_', '__' or '-'");
    }
    Ok(())
}

fn is_oci_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !edge_ok(bytes.first()) || !edge_ok(bytes.last()) {
        return false;
    }
    // Separators: one '.', one or two '_', or any run of '-'.
    component
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, "." | "_" | "__") || sep.chars().all(|c| c == '-'))
        && component
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn is_oci_tag(tag: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.starts_with(is_word)
        && tag.chars().all(|c| is_word(c) || c == '.' || c == '-')
}

fn is_oci_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    let hex_ok = match algorithm {
        "sha256" => {
            hex.len() == 64
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }
        "sha512" => {
            hex.len() == 128
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }
        _ => {
            hex.len() >= 32
                && hex
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-'))
        }
    };
    algorithm_ok && hex_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_accepts_valid_new_names() {
        for ok in [
            "some-package",
            "example.com",
            "under_score",
            "123numeric",
            "@npm/thingy",
            "@jane/foo.js",
            "@modelcontextprotocol/server-brave-search",
            "snyk",
        ] {
            assert_eq!(check_npm_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_npm_name(&"a".repeat(214)), Ok(()));
    }

    #[test]
    fn npm_refuses_what_validate_npm_package_name_refuses_for_new_packages() {
        for (bad, says) in [
            ("", "empty"),
            (" leading", "spaces"),
            ("trailing ", "spaces"),
            (".start", "'.' or '_'"),
            ("_start", "'.' or '_'"),
            ("@scope/.name", "'.' or '_'"),
            ("@_scope/name", "'.' or '_'"),
            ("Capital", "capital"),
            ("node_modules", "reserves"),
            ("favicon.ico", "reserves"),
            ("http", "core module"),
            ("fs", "core module"),
            ("crazy!", "'!'"),
            ("a~b", "'~'"),
            ("it's", "'\\''"),
            ("a(b)", "'('"),
            ("a*", "'*'"),
            ("a b", "' '"),
            ("a/b", "'/'"),
            ("@scope", "@scope/name"),
            ("@scope/", "empty"),
            ("@/name", "empty"),
            ("@a/b/c", "'/'"),
            ("ünicode", "'ü'"),
        ] {
            let err = check_npm_name(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        assert!(check_npm_name(&"a".repeat(215))
            .unwrap_err()
            .contains("214"));
    }

    #[test]
    fn pypi_follows_pep_508() {
        assert_eq!(check_pypi_name("weather-mcp-server"), Ok(()));
        assert_eq!(check_pypi_name("Zope.Interface_2"), Ok(()));
        for bad in ["", "-lead", "trail.", "a b", "a;b", "a/b"] {
            assert!(check_pypi_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hostile_identifiers_fail_for_every_registry_type() {
        for kind in RegistryType::ALL {
            for hostile in [
                "; rm -rf /",
                "pkg; rm -rf /",
                "$(id)",
                "`id`",
                "pkg|sh",
                "pkg&&id",
                "pkg\nid",
                "pkg\0",
                "pkg>out",
                "pkg name",
            ] {
                assert!(
                    check_identifier(kind, hostile, UrlPolicy::Dev).is_err(),
                    "{kind:?} {hostile:?}"
                );
            }
        }
    }

    #[test]
    fn other_types_get_a_syntax_check() {
        let ok = |kind, id: &str| {
            assert_eq!(
                check_identifier(kind, id, UrlPolicy::Production),
                Ok(()),
                "{id}"
            )
        };
        let bad = |kind, id: &str| {
            assert!(
                check_identifier(kind, id, UrlPolicy::Production).is_err(),
                "{id}"
            )
        };
        ok(RegistryType::Nuget, "Knapcode.SampleMcpServer");
        ok(RegistryType::Nuget, "My_Pkg-2.Core");
        bad(RegistryType::Nuget, "a..b");
        bad(RegistryType::Nuget, ".lead");
        ok(RegistryType::Cargo, "widget-mcp");
        ok(RegistryType::Cargo, "rust_faf_mcp");
        bad(RegistryType::Cargo, "1widget");
        bad(RegistryType::Cargo, "widget.mcp");
        bad(RegistryType::Cargo, &format!("a{}", "b".repeat(64)));
        ok(
            RegistryType::Mcpb,
            "https://github.com/o/r/releases/download/v1.0.2/text-editor.mcpb",
        );
        bad(
            RegistryType::Mcpb,
            "http://github.com/o/r/releases/download/v1/x.mcpb",
        );
        bad(RegistryType::Mcpb, "https://127.0.0.1/x.mcpb");
        bad(RegistryType::Mcpb, "https://github.com/x.mcpb?a=1&b=2");
    }

    #[test]
    fn oci_references_need_a_pinned_tag_or_digest() {
        let check = |id: &str| check_identifier(RegistryType::Oci, id, UrlPolicy::Production);
        for ok in [
            "docker.io/mcp/filesystem:1.0.2",
            "quay.io/myorg/my-mcp-server:1.0.0",
            "ghcr.io/owner/repo:v1.2.3",
            "example/database-manager-mcp:3.1.0",
            "registry.example.com:5000/a/b__c-d.e:1",
            "docker.io/org/img@sha256:fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce",
            "docker.io/org/img:1.0@sha256:fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("docker.io/mcp/filesystem", "tag or a digest"),
            ("docker.io/mcp/filesystem:latest", "'latest'"),
            ("docker.io/Mcp/filesystem:1", "lowercase"),
            ("docker.io/mcp/-fs:1", "lowercase"),
            ("docker.io/mcp/fs:", "tag"),
            ("docker.io/mcp/fs:.1", "tag"),
            ("docker.io/mcp/fs@sha256:abc", "digest"),
            ("localhost:5000/mcp/fs:1", "localhost"),
            ("10.0.0.8/mcp/fs:1", "private"),
            ("not-a-valid-reference::::", "OCI"),
        ] {
            let err = check(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert_eq!(
            check_identifier(RegistryType::Oci, "localhost:5000/mcp/fs:1", UrlPolicy::Dev),
            Ok(())
        );
    }
}
