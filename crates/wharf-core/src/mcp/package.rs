//! One entry of `packages[]`: its identifier, version and the fields each
//! registry type requires or refuses.

use super::identifier::check_identifier;
use super::input::{check_argument, check_env_var, check_named_list, Declared};
use super::model::RegistryType;
use super::shell::check_shell_safe;
use super::transport::check_package_transport;
use super::url::{check_url, Templates, UrlRole};
use super::version::check_version;
use super::walk::{child, index, Report};
use super::UrlPolicy;
use crate::name::printable;
use serde_json::Value;

/// Longest `runtimeHint` accepted; real ones are words like `npx` or `docker`.
pub const MAX_RUNTIME_HINT_LEN: usize = 64;

pub(super) fn check_package(report: &mut Report, value: &Value, path: &str, policy: UrlPolicy) {
    let Some(obj) = report.object(value, path) else {
        return;
    };
    let kind = report.req_str(obj, "registryType").and_then(|raw| {
        let kind = RegistryType::parse(raw);
        if kind.is_none() {
            report.fail(
                &child(path, "registryType"),
                format!(
                    "'{}' is not a supported registry type; use one of npm, pypi, oci, nuget, mcpb, cargo",
                    printable(raw)
                ),
            );
        }
        kind
    });

    if let Some(identifier) = report.req_str(obj, "identifier") {
        let result = match kind {
            Some(kind) => check_identifier(kind, identifier, policy),
            None => check_shell_safe(identifier),
        };
        report.check(&child(path, "identifier"), result);
    }

    let version = report.opt_str(obj, "version");
    if let Some(version) = version {
        report.check(&child(path, "version"), check_version(version));
    }
    let base_url = report.opt_str(obj, "registryBaseUrl");
    let sha256 = report.opt_str(obj, "fileSha256");
    if let Some(sha256) = sha256 {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            report.fail(
                &child(path, "fileSha256"),
                "must be a SHA-256 digest: 64 lowercase hex digits",
            );
        }
    }
    if let Some(kind) = kind {
        check_type_rules(
            report,
            path,
            kind,
            version.is_some(),
            base_url.is_some(),
            sha256.is_some(),
        );
    }
    // Which base URLs are trusted is deployment configuration, checked by the
    // publish service; here it only has to be a well-formed public URL.
    if let (Some(url), Some(kind)) = (base_url, kind) {
        if !matches!(kind, RegistryType::Oci | RegistryType::Mcpb) {
            report.check(
                &child(path, "registryBaseUrl"),
                check_url(url, UrlRole::Site, policy, &Templates::None),
            );
        }
    }

    if let Some(hint) = report.opt_str(obj, "runtimeHint") {
        let result = check_shell_safe(hint).and_then(|()| {
            if hint.is_empty() || hint.len() > MAX_RUNTIME_HINT_LEN {
                Err(format!(
                    "must be 1 to {MAX_RUNTIME_HINT_LEN} characters, a command such as npx, uvx or docker"
                ))
            } else {
                Ok(())
            }
        });
        report.check(&child(path, "runtimeHint"), result);
    }

    let mut declared = Declared::new();
    for key in ["runtimeArguments", "packageArguments"] {
        let base = child(path, key);
        for (i, argument) in report.opt_array(obj, key).iter().enumerate() {
            check_argument(report, argument, &index(&base, i), &mut declared);
        }
    }
    check_named_list(
        report,
        obj,
        "environmentVariables",
        check_env_var,
        &mut declared,
    );

    match obj.map.get("transport") {
        Some(transport) => check_package_transport(
            report,
            transport,
            &child(path, "transport"),
            &declared,
            policy,
        ),
        None => report.fail(&child(path, "transport"), "is required"),
    }
}

/// The per-type field rules of the official validators: a package manager
/// needs a version to pin; an OCI image carries it in its tag; mcpb bundles
/// are downloaded by URL, so only they carry a file hash, and neither they nor
/// images take a registry base URL.
fn check_type_rules(
    report: &mut Report,
    path: &str,
    kind: RegistryType,
    has_version: bool,
    has_base_url: bool,
    has_sha256: bool,
) {
    let name = kind.as_str();
    let needs_version = matches!(
        kind,
        RegistryType::Npm | RegistryType::Pypi | RegistryType::Nuget | RegistryType::Cargo
    );
    if needs_version && !has_version {
        report.fail(
            &child(path, "version"),
            format!("is required for {name} packages, so the exact release is pinned"),
        );
    }
    if kind == RegistryType::Oci && has_version {
        report.fail(
            &child(path, "version"),
            "must not be set for oci packages; put the version in the identifier's tag, e.g. docker.io/org/image:1.2.0",
        );
    }
    if matches!(kind, RegistryType::Oci | RegistryType::Mcpb) && has_base_url {
        report.fail(
            &child(path, "registryBaseUrl"),
            format!("must not be set for {name} packages; the identifier is the full reference"),
        );
    }
    match (kind == RegistryType::Mcpb, has_sha256) {
        (true, false) => report.fail(
            &child(path, "fileSha256"),
            "is required for mcpb packages, so clients can verify the download",
        ),
        (false, true) => report.fail(
            &child(path, "fileSha256"),
            format!("must not be set for {name} packages; only mcpb bundles carry a file hash"),
        ),
        _ => {}
    }
}
