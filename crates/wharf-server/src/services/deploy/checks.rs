//! The checks, all run and all collected: identifier and version syntax,
//! existence (this registry first, then upstream; cached; failing closed),
//! `latest` resolved, and every credential and argument against what the
//! server declares.

use super::request::{DeployRequest, PackageChoice, Target as RequestTarget};
use super::{DeployError, Deployments, FieldError};
use crate::services::auth::Principal;
use crate::services::reference_names;
use std::collections::BTreeMap;
use wharf_core::mcp::{Argument, Input, InputFormat, Package, RegistryType, Transport};
use wharf_core::model::{FileStatus, McpStatus};
use wharf_core::{ProjectName, Version};
use wharf_upstream::{Lookup, UpstreamError};

/// The package to deploy, exactly pinned.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub server: Option<(String, String)>,
    pub package: Package,
    pub version: String,
    /// The package is hosted here, so the runner installs it from here.
    pub is_hosted: bool,
}

/// Characters that mean something to a shell, or end a line or a C string.
/// The plan is an argv array, never a shell string; refusing them anyway
/// stops a runner that joins argv into a command line from being exploited.
fn unsafe_char(c: char) -> bool {
    c.is_control() || c.is_whitespace() || ";&|`$()<>\\'\"*?[]{}!#~".contains(c)
}

fn check_identifier(
    field: &str,
    registry_type: &str,
    identifier: &str,
    errors: &mut Vec<FieldError>,
) {
    if identifier.chars().any(unsafe_char) {
        errors.push(FieldError::new(
            field,
            "unsafe_characters",
            "the identifier contains shell metacharacters, whitespace or control characters",
            "give the package name only, e.g. @scope/name or name",
        ));
        return;
    }
    let checked = match RegistryType::parse(registry_type) {
        Some(RegistryType::Npm) => wharf_core::mcp::check_npm_name(identifier),
        Some(RegistryType::Pypi) => wharf_core::mcp::check_pypi_name(identifier),
        Some(RegistryType::Oci) => Ok(()),
        _ => Err(format!(
            "registry type '{}' cannot be deployed",
            wharf_core::name::printable(registry_type)
        )),
    };
    if let Err(reason) = checked {
        errors.push(FieldError::new(
            field,
            "invalid_identifier",
            reason,
            "check the package name",
        ));
    }
}

fn check_version(field: &str, version: &str, errors: &mut Vec<FieldError>) {
    if version.chars().any(unsafe_char) {
        errors.push(FieldError::new(
            field,
            "unsafe_characters",
            "the version contains shell metacharacters, whitespace or control characters",
            "give an exact version such as 1.2.3",
        ));
        return;
    }
    if version.eq_ignore_ascii_case("latest") {
        errors.push(FieldError::new(
            field,
            "version_not_pinned",
            "a package reference needs an exact version; 'latest' would launch whatever is newest",
            "give an exact version such as 1.2.3",
        ));
        return;
    }
    if let Err(reason) = wharf_core::mcp::check_version(version) {
        errors.push(FieldError::new(
            field,
            "invalid_version",
            reason,
            "give an exact version such as 1.2.3",
        ));
    }
}

impl Deployments {
    /// Finds the package to deploy: the catalog server's chosen package, or
    /// the direct reference. A missing server or package is the only error,
    /// since nothing else can be checked without it.
    pub(super) async fn target_package(
        &self,
        request: &DeployRequest,
    ) -> Result<Target, DeployError> {
        match &request.target {
            RequestTarget::Server {
                name,
                version,
                package,
            } => {
                let wanted = (version != "latest").then_some(version.as_str());
                let found = self.catalog.mcp_version(name, wanted).await?;
                let Some(found) = found.filter(|v| v.status != McpStatus::Deleted) else {
                    return Err(DeployError::Invalid(vec![FieldError::new(
                        if wanted.is_some() {
                            "version"
                        } else {
                            "server"
                        },
                        "server_not_found",
                        match wanted {
                            Some(v) => format!(
                                "the catalog has no server '{}' at version '{}'",
                                wharf_core::name::printable(name),
                                wharf_core::name::printable(v)
                            ),
                            None => format!(
                                "the catalog has no server '{}'",
                                wharf_core::name::printable(name)
                            ),
                        },
                        "search the catalog with GET /v0/servers?search=…",
                    )]));
                };
                let document: wharf_core::mcp::ServerJson = serde_json::from_str(&found.document)
                    .map_err(|e| {
                    DeployError::Repo(wharf_core::ports::RepoError::Internal(e.to_string()))
                })?;
                let chosen = match package {
                    PackageChoice::First => document.packages.first(),
                    PackageChoice::Index(i) => document.packages.get(*i),
                    PackageChoice::Type(t) => {
                        document.packages.iter().find(|p| &p.registry_type == t)
                    }
                };
                let Some(chosen) = chosen.cloned() else {
                    return Err(DeployError::Invalid(vec![FieldError::new(
                        "package",
                        "package_not_found",
                        format!(
                            "server {} {} has no such package (it has {})",
                            found.name,
                            found.version,
                            document.packages.len()
                        ),
                        "choose a package by index or registryType",
                    )]));
                };
                Ok(Target {
                    server: Some((found.name.clone(), found.version.clone())),
                    package: chosen,
                })
            }
            RequestTarget::Direct {
                registry_type,
                identifier,
                version,
                environment_variables,
            } => Ok(Target {
                server: None,
                package: Package {
                    registry_type: registry_type.clone(),
                    registry_base_url: None,
                    identifier: identifier.clone(),
                    version: Some(version.clone()),
                    file_sha256: None,
                    runtime_hint: None,
                    transport: Transport::Stdio,
                    runtime_arguments: Vec::new(),
                    package_arguments: Vec::new(),
                    environment_variables: environment_variables.clone(),
                },
            }),
        }
    }

    /// The look-ups, once every offline check passed: the name policy for
    /// a direct reference, then existence. Returns the exact version.
    pub(super) async fn resolve(
        &self,
        who: &Principal,
        target: Target,
    ) -> Result<Resolved, DeployError> {
        let Target { server, package } = target;
        let field = "package";
        // A catalog server's packages met this check when they were published;
        // a direct reference is a name someone typed, where typos happen.
        if server.is_none() {
            let found = self
                .names
                .suspicious(
                    &package.registry_type,
                    &package.identifier,
                    Some(who.user.id),
                )
                .await?;
            if let Some(finding) = found {
                return Err(DeployError::Invalid(vec![FieldError::new(
                    format!("{field}.identifier"),
                    "suspected_typosquat",
                    reference_names::explain(&finding, &package.registry_type, &package.identifier),
                    "check the spelling of the package name",
                )]));
            }
        }
        let version = package.version.clone().unwrap_or_default();
        let is_hosted = if package.kind() != Some(RegistryType::Oci) {
            self.exists(&package, &version, field).await?
        } else {
            false
        };
        Ok(Resolved {
            server,
            package,
            version,
            is_hosted,
        })
    }

    /// Whether the version exists: here first, then upstream. `true` when
    /// it is hosted here.
    async fn exists(
        &self,
        package: &Package,
        version: &str,
        field: &str,
    ) -> Result<bool, DeployError> {
        let missing = || {
            DeployError::Invalid(vec![FieldError::new(
                format!("{field}.version"),
                "not_found",
                format!(
                    "{} {version} does not exist here or upstream",
                    package.identifier
                ),
                "check the name and the exact version",
            )])
        };
        if package.kind() == Some(RegistryType::Pypi) {
            // A project hosted here shadows any upstream one of the same name.
            let project = ProjectName::parse(&package.identifier)
                .map_err(|_| missing())?
                .normalize();
            if let Some(listing) = self.projects.listing(&project).await? {
                let wanted = Version::parse(version).map_err(|_| missing())?;
                let published = listing.files.iter().any(|f| {
                    f.status == FileStatus::Published
                        && Version::parse(&f.version).is_ok_and(|v| v == wanted)
                });
                return if published { Ok(true) } else { Err(missing()) };
            }
        }
        if package.kind() == Some(RegistryType::Npm) {
            // A package hosted under /npm/ shadows any upstream one too.
            if let Some(stored) = self.npm.npm_package(&package.identifier).await? {
                let published = stored.versions.iter().any(|v| {
                    v.version == version
                        && v.unpublished_at.is_none()
                        && v.file.status == FileStatus::Published
                });
                return if published { Ok(true) } else { Err(missing()) };
            }
        }
        let lookup = match package.kind() {
            Some(RegistryType::Npm) => self
                .upstream
                .npm_version(&package.identifier, version)
                .await
                .map(|l| l.found().is_some()),
            _ => self
                .upstream
                .pypi_version(&package.identifier, version)
                .await
                .map(|l| matches!(l, Lookup::Found(_))),
        };
        match lookup {
            Ok(true) => Ok(false),
            Ok(false) => Err(missing()),
            Err(UpstreamError::NotConfigured { registry }) => {
                Err(DeployError::Invalid(vec![FieldError::new(
                    format!("{field}.identifier"),
                    "not_found",
                    format!(
                        "{} is not hosted here and no upstream {registry} registry is configured",
                        package.identifier
                    ),
                    "ask an administrator to set the upstream URL",
                )]))
            }
            Err(e) => Err(DeployError::UpstreamUnavailable(vec![FieldError::new(
                format!("{field}.identifier"),
                "upstream_unavailable",
                e.to_string(),
                "retry later: nothing was stored",
            )])),
        }
    }
}

/// The package chosen, before any look-up.
pub struct Target {
    pub server: Option<(String, String)>,
    pub package: Package,
}

/// The offline checks of the package itself: identifier and version syntax,
/// a runtime for its type, and its declared variable names.
pub fn package_syntax(package: &Package, errors: &mut Vec<FieldError>) {
    let field = "package";
    check_identifier(
        &format!("{field}.identifier"),
        &package.registry_type,
        &package.identifier,
        errors,
    );
    if package.kind() != Some(RegistryType::Oci) {
        // The tag in an oci identifier is its version.
        let version = package.version.clone().unwrap_or_default();
        check_version(&format!("{field}.version"), &version, errors);
    }
    if !matches!(
        package.kind(),
        Some(RegistryType::Npm | RegistryType::Pypi | RegistryType::Oci)
    ) {
        errors.push(FieldError::new(
            format!("{field}.registryType"),
            "unsupported_runtime",
            format!(
                "packages of type '{}' have no runtime here",
                wharf_core::name::printable(&package.registry_type)
            ),
            "deploy an npm (npx), pypi (uvx) or oci (docker) package",
        ));
    }
    for (i, var) in package.environment_variables.iter().enumerate() {
        if !wharf_core::mcp::is_env_var_name(&var.name) {
            errors.push(FieldError::new(
                format!("environmentVariables[{i}].name"),
                "invalid_name",
                "an environment variable name is letters, digits and '_', not starting with a digit",
                "e.g. GITHUB_TOKEN",
            ));
        }
    }
}

/// Whether a variable holds a URL, by its name or its declared placeholder.
fn is_url_variable(name: &str, input: &Input) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.ends_with("_URL")
        || upper.ends_with("_URI")
        || upper == "URL"
        || input
            .placeholder
            .as_deref()
            .is_some_and(|p| p.starts_with("https://") || p.starts_with("http://"))
}

/// Checks one value against its declaration; pushes every problem.
fn check_value(field: &str, name: &str, input: &Input, value: &str, errors: &mut Vec<FieldError>) {
    if value.is_empty() {
        errors.push(FieldError::new(
            field,
            "empty_value",
            "the value is empty",
            "give a value or leave the variable out if it is optional",
        ));
        return;
    }
    if value.contains('\0') {
        errors.push(FieldError::new(
            field,
            "invalid_value",
            "the value contains a NUL byte",
            "remove it",
        ));
        return;
    }
    match input.format {
        InputFormat::Number if value.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) => {
            errors.push(FieldError::new(
                field,
                "invalid_format",
                "the value must be a number",
                "e.g. 8080",
            ));
        }
        InputFormat::Boolean if value != "true" && value != "false" => {
            errors.push(FieldError::new(
                field,
                "invalid_format",
                "the value must be true or false",
                "true or false",
            ));
        }
        _ => {}
    }
    if !input.choices.is_empty() && !input.choices.iter().any(|c| c == value) {
        errors.push(FieldError::new(
            field,
            "not_in_choices",
            "the value is not one of the declared choices",
            format!("one of: {}", input.choices.join(", ")),
        ));
    }
    if is_url_variable(name, input) {
        let absolute = (value.starts_with("https://") || value.starts_with("http://"))
            && value
                .split_once("://")
                .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !absolute || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.push(FieldError::new(
                field,
                "invalid_url",
                "the value must be an absolute http(s) URL",
                "e.g. https://api.example.com",
            ));
        }
    }
}

/// Checks credentials against the declared environment variables; returns the
/// values to store (declared defaults and fixed values included).
pub fn credentials(
    package: &Package,
    given: &BTreeMap<String, String>,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in given.keys() {
        let field = format!("credentials.{}", wharf_core::name::printable(name));
        if !wharf_core::mcp::is_env_var_name(name) {
            errors.push(FieldError::new(
                field,
                "invalid_name",
                "not a valid environment variable name",
                "letters, digits and '_', not starting with a digit",
            ));
        } else if !package
            .environment_variables
            .iter()
            .any(|v| &v.name == name)
        {
            errors.push(FieldError::new(
                field,
                "undeclared",
                "the server does not declare this variable; it would not be passed on",
                "remove it, or use a name the server declares",
            ));
        }
    }
    for declared in &package.environment_variables {
        let field = format!("credentials.{}", declared.name);
        let input = &declared.input;
        match (given.get(&declared.name), &input.value) {
            (Some(_), Some(_)) => errors.push(FieldError::new(
                field,
                "fixed_value",
                "the server fixes this variable's value; it cannot be set",
                "leave it out",
            )),
            (Some(value), None) => {
                check_value(&field, &declared.name, input, value, errors);
                out.insert(declared.name.clone(), value.clone());
            }
            (None, Some(fixed)) => {
                out.insert(declared.name.clone(), fixed.clone());
            }
            (None, None) => match &input.default {
                Some(default) => {
                    out.insert(declared.name.clone(), default.clone());
                }
                None if input.is_required => errors.push(FieldError::new(
                    field,
                    "missing_required",
                    "this variable is required",
                    input
                        .description
                        .clone()
                        .unwrap_or_else(|| "give it a value".into()),
                )),
                None => {}
            },
        }
    }
    out
}

/// An argument ready for argv: the flag (for named ones) and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgValue {
    pub runtime: bool,
    pub flag: Option<String>,
    pub value: String,
}

/// Checks arguments against `runtimeArguments` and `packageArguments`.
pub fn arguments(
    package: &Package,
    given: &BTreeMap<String, String>,
    errors: &mut Vec<FieldError>,
) -> Vec<ArgValue> {
    let declared: Vec<(bool, &Argument)> = package
        .runtime_arguments
        .iter()
        .map(|a| (true, a))
        .chain(package.package_arguments.iter().map(|a| (false, a)))
        .collect();
    let key = |a: &Argument| match a {
        Argument::Named { name, .. } => Some(name.clone()),
        Argument::Positional { value_hint, .. } => value_hint.clone(),
    };
    for name in given.keys() {
        if !declared
            .iter()
            .any(|(_, a)| key(a).as_deref() == Some(name.as_str()))
        {
            errors.push(FieldError::new(
                format!("arguments.{}", wharf_core::name::printable(name)),
                "undeclared",
                "the server declares no such argument",
                "use a declared flag (e.g. --port) or positional valueHint",
            ));
        }
    }
    let mut out = Vec::new();
    for (runtime, argument) in declared {
        let input = argument.input();
        let label = key(argument).unwrap_or_else(|| "(positional)".into());
        let field = format!("arguments.{label}");
        let flag = match argument {
            Argument::Named { name, .. } => Some(name.clone()),
            Argument::Positional { .. } => None,
        };
        let given_value = key(argument).and_then(|k| given.get(&k));
        let value = match (given_value, &input.value) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    field,
                    "fixed_value",
                    "the server fixes this argument; it cannot be set",
                    "leave it out",
                ));
                continue;
            }
            (Some(v), None) => v.clone(),
            (None, Some(fixed)) => fixed.clone(),
            (None, None) => match &input.default {
                Some(d) => d.clone(),
                None if input.is_required => {
                    errors.push(FieldError::new(
                        field,
                        "missing_required",
                        "this argument is required",
                        input.description.clone().unwrap_or_default(),
                    ));
                    continue;
                }
                None => continue,
            },
        };
        if given_value.is_some() {
            if value.chars().any(unsafe_char) {
                errors.push(FieldError::new(
                    &field,
                    "unsafe_value",
                    "the value contains shell metacharacters, whitespace or control characters",
                    "give a plain value",
                ));
                continue;
            }
            // `--require=/tmp/x.js` as a value would be read as a flag.
            if value.starts_with('-') {
                errors.push(FieldError::new(
                    &field,
                    "flag_value",
                    "the value starts with '-', so the program would read it as an option",
                    "values may not start with '-'; options must be declared by the server",
                ));
                continue;
            }
            check_value(&field, &label, input, &value, errors);
        }
        out.push(ArgValue {
            runtime,
            flag,
            value,
        });
    }
    out
}
