//! The package checks of a published server, in mcp.md's order, for every
//! package: syntax (done by validation), existence of the pinned version
//! (this registry first, then the configured upstream), and proof that the
//! package belongs to the server (the `mcpName` / `mcp-name:` marker, or,
//! for packages hosted here, the same owner). An upstream package's name is
//! checked for typosquatting before it is looked up. Problems are collected
//! for all packages; an unreachable upstream fails the whole publish, closed.

use super::Catalog;
use super::{McpError, McpProblem};
use crate::services::reference_names;
use serde::{Deserialize, Serialize};
use wharf_core::mcp::{has_pypi_marker, Package, RegistryType, ServerJson};
use wharf_core::model::FileStatus;
use wharf_core::ports::BlobKey;
use wharf_core::{ProjectName, Version};
use wharf_upstream::{Lookup, UpstreamError};

/// What was checked for one package, stored and shown under Wharf's `_meta` key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageCheck {
    /// Rows stored before the API's keys became camelCase say `registry_type`.
    #[serde(alias = "registry_type")]
    pub registry_type: String,
    pub identifier: String,
    pub version: Option<String>,
    /// `wharf` (hosted here), `upstream`, or `none` (not checked).
    pub source: String,
    /// `same-owner`, `marker`, or `not-checked`.
    pub ownership: String,
    pub verified: bool,
}

/// Why one package failed.
enum Failure {
    Problem(McpProblem),
    Unavailable(McpProblem),
}

fn problem(index: usize, field: &str, message: impl Into<String>) -> Failure {
    Failure::Problem(McpProblem::at(
        format!("packages[{index}].{field}"),
        message,
    ))
}

impl Catalog {
    /// Checks every package; all problems are reported together.
    /// `publisher` is who publishes here; None for a mirrored version, which
    /// proves ownership by markers only.
    pub async fn check_all(
        &self,
        publisher: Option<i64>,
        server: &ServerJson,
    ) -> Result<Vec<PackageCheck>, McpError> {
        let mut checks = Vec::new();
        let mut problems = Vec::new();
        let mut unavailable = Vec::new();
        for (index, package) in server.packages.iter().enumerate() {
            if let Err(failure) = self.check_base_url(index, package) {
                match failure {
                    Failure::Problem(p) | Failure::Unavailable(p) => problems.push(p),
                }
                continue;
            }
            let outcome = match package.kind() {
                Some(RegistryType::Pypi) => {
                    self.check_pypi(publisher, &server.name, index, package)
                        .await
                }
                Some(RegistryType::Npm) => {
                    self.check_npm(publisher, &server.name, index, package)
                        .await
                }
                // Other ecosystems are checked by syntax only (validation).
                _ => Ok(PackageCheck {
                    registry_type: package.registry_type.clone(),
                    identifier: package.identifier.clone(),
                    version: package.version.clone(),
                    source: "none".into(),
                    ownership: "not-checked".into(),
                    verified: false,
                }),
            };
            match outcome {
                Ok(check) => checks.push(check),
                Err(Failure::Problem(p)) => problems.push(p),
                Err(Failure::Unavailable(p)) => unavailable.push(p),
            }
        }
        if !unavailable.is_empty() {
            unavailable.extend(problems);
            return Err(McpError::UpstreamUnavailable {
                detail:
                    "an upstream registry could not be reached to check a package; nothing was \
                         published, try again later"
                        .into(),
                problems: unavailable,
            });
        }
        if !problems.is_empty() {
            return Err(McpError::invalid(
                format!("{} package check(s) failed", problems.len()),
                problems,
            ));
        }
        Ok(checks)
    }

    /// A client installs from `registryBaseUrl` when it is given, so it must be
    /// where Wharf checked the package: the configured upstream for its type,
    /// or this registry itself. Anything else would verify one package and
    /// launch another.
    fn check_base_url(&self, index: usize, package: &Package) -> Result<(), Failure> {
        let Some(given) = package.registry_base_url.as_deref() else {
            return Ok(());
        };
        let trim = |u: &str| u.trim_end_matches('/').to_owned();
        let mut allowed: Vec<String> = Vec::new();
        let upstream = match package.kind() {
            Some(RegistryType::Npm) => self.npm_url.as_deref(),
            Some(RegistryType::Pypi) => self.pypi_url.as_deref(),
            _ => None,
        };
        allowed.extend(upstream.map(trim));
        allowed.extend(self.public_url.as_deref().map(trim));
        if allowed.contains(&trim(given)) {
            return Ok(());
        }
        Err(problem(
            index,
            "registryBaseUrl",
            "Wharf checks packages in this registry and its configured upstream only: omit \
             registryBaseUrl, or give one of those",
        ))
    }

    async fn check_pypi(
        &self,
        publisher: Option<i64>,
        server_name: &str,
        index: usize,
        package: &Package,
    ) -> Result<PackageCheck, Failure> {
        let version = pinned(index, package)?;
        let project = ProjectName::parse(&package.identifier)
            .map_err(|e| problem(index, "identifier", e.message))?
            .normalize();
        let wanted = Version::parse(version).map_err(|e| problem(index, "version", e.message))?;
        let check = |source: &str, ownership: &str| PackageCheck {
            registry_type: RegistryType::Pypi.as_str().into(),
            identifier: package.identifier.clone(),
            version: Some(version.to_owned()),
            source: source.into(),
            ownership: ownership.into(),
            verified: true,
        };
        let listing = self
            .projects
            .listing(&project)
            .await
            .map_err(|e| Failure::Unavailable(McpProblem::at("", e.to_string())))?;
        // A project hosted here shadows any upstream one of the same name, so a
        // public package cannot stand in for an internal one.
        if let Some(listing) = listing {
            let files: Vec<_> = listing
                .files
                .iter()
                .filter(|f| Version::parse(&f.version).is_ok_and(|v| v == wanted))
                .collect();
            let published: Vec<_> = files
                .iter()
                .filter(|f| f.status == FileStatus::Published)
                .collect();
            if published.is_empty() {
                let why = if files.is_empty() {
                    format!(
                        "{} {version} does not exist in this registry",
                        package.identifier
                    )
                } else {
                    format!(
                        "{} {version} is not published here: it is pending verification or held for review",
                        package.identifier
                    )
                };
                return Err(problem(index, "version", why));
            }
            let owns = match publisher {
                Some(user_id) => self
                    .projects
                    .is_owner(listing.project.id, user_id)
                    .await
                    .map_err(|e| Failure::Unavailable(McpProblem::at("", e.to_string())))?,
                None => false,
            };
            if owns {
                return Ok(check("wharf", "same-owner"));
            }
            for file in published {
                let Some(sha) = &file.metadata_sha256 else {
                    continue;
                };
                if let Some(description) = self.local_description(sha).await {
                    if has_pypi_marker(&description, server_name) {
                        return Ok(check("wharf", "marker"));
                    }
                }
            }
            return Err(problem(
                index,
                "identifier",
                format!(
                    "ownership of {} is not proven: add `mcp-name: {server_name}` to its description, \
                     or publish as one of its owners",
                    package.identifier
                ),
            ));
        }
        self.check_name(publisher, index, package).await?;
        match self
            .upstream
            .pypi_version(&package.identifier, version)
            .await
        {
            Ok(Lookup::Found(found)) => {
                if found
                    .description
                    .as_deref()
                    .is_some_and(|d| has_pypi_marker(d, server_name))
                {
                    Ok(check("upstream", "marker"))
                } else {
                    Err(problem(
                        index,
                        "identifier",
                        format!(
                            "{} {version} upstream has no `mcp-name: {server_name}` in its description, \
                             so it is not proven to belong to this server",
                            package.identifier
                        ),
                    ))
                }
            }
            Ok(Lookup::NotFound) => Err(problem(
                index,
                "version",
                format!(
                    "{} {version} does not exist here or upstream",
                    package.identifier
                ),
            )),
            Err(e) => Err(upstream_failure(index, &e)),
        }
    }

    /// An upstream package whose name imitates a popular or local one is refused
    /// before it is looked up: the catalog would send every deployer to it.
    async fn check_name(
        &self,
        publisher: Option<i64>,
        index: usize,
        package: &Package,
    ) -> Result<(), Failure> {
        let found = self
            .names
            .suspicious(&package.registry_type, &package.identifier, publisher)
            .await
            .map_err(|e| Failure::Unavailable(McpProblem::at("", e.to_string())))?;
        match found {
            Some(finding) => Err(problem(
                index,
                "identifier",
                reference_names::explain(&finding, &package.registry_type, &package.identifier),
            )),
            None => Ok(()),
        }
    }

    /// A hosted wheel's METADATA description, read from its PEP 658 file.
    async fn local_description(&self, sha256: &str) -> Option<String> {
        let copy = tempfile::NamedTempFile::new_in(&self.tmp_dir).ok()?;
        self.blobs
            .fetch_to(&BlobKey::for_sha256(sha256), copy.path())
            .await
            .ok()?;
        let bytes = tokio::fs::read(copy.path()).await.ok()?;
        wharf_artifact::parse_metadata(&bytes).ok()?.description
    }

    async fn check_npm(
        &self,
        publisher: Option<i64>,
        server_name: &str,
        index: usize,
        package: &Package,
    ) -> Result<PackageCheck, Failure> {
        let version = pinned(index, package)?;
        if let Some(check) = self
            .check_hosted_npm(publisher, server_name, index, package, version)
            .await?
        {
            return Ok(check);
        }
        self.check_name(publisher, index, package).await?;
        match self.upstream.npm_version(&package.identifier, version).await {
            Ok(Lookup::Found(found)) => match found.mcp_name.as_deref() {
                Some(name) if name == server_name => Ok(PackageCheck {
                    registry_type: RegistryType::Npm.as_str().into(),
                    identifier: package.identifier.clone(),
                    version: Some(version.to_owned()),
                    source: "upstream".into(),
                    ownership: "marker".into(),
                    verified: true,
                }),
                Some(other) => Err(problem(
                    index,
                    "identifier",
                    format!(
                        "package.json of {}@{version} says mcpName '{}', not '{server_name}'",
                        package.identifier,
                        wharf_core::name::printable(other)
                    ),
                )),
                None => Err(problem(
                    index,
                    "identifier",
                    format!(
                        "package.json of {}@{version} has no mcpName; add \"mcpName\": \"{server_name}\" \
                         to prove the package belongs to this server",
                        package.identifier
                    ),
                )),
            },
            Ok(Lookup::NotFound) => Err(problem(
                index,
                "version",
                format!("{}@{version} does not exist upstream", package.identifier),
            )),
            Err(e) => Err(upstream_failure(index, &e)),
        }
    }
}

impl Catalog {
    /// A package hosted under `/npm/` is checked here, and upstream is never
    /// asked about it: the version must be installable here, and belong to
    /// the server by its publisher's ownership or by `mcpName` in its
    /// `package.json` (as the tarball has it). `None` if it is not hosted.
    async fn check_hosted_npm(
        &self,
        publisher: Option<i64>,
        server_name: &str,
        index: usize,
        package: &Package,
        version: &str,
    ) -> Result<Option<PackageCheck>, Failure> {
        let unavailable = |e: wharf_core::ports::RepoError| {
            Failure::Unavailable(McpProblem::at("", e.to_string()))
        };
        let Some(stored) = self
            .npm
            .npm_package(&package.identifier)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let Some(found) = stored
            .versions
            .iter()
            .find(|v| v.version == version && v.unpublished_at.is_none())
        else {
            return Err(problem(
                index,
                "version",
                format!("{}@{version} is not published here", package.identifier),
            ));
        };
        if found.file.status != FileStatus::Published {
            return Err(problem(
                index,
                "version",
                format!(
                    "{}@{version} is not published here: it is pending verification or held for review",
                    package.identifier
                ),
            ));
        }
        let check = |ownership: &str| PackageCheck {
            registry_type: RegistryType::Npm.as_str().into(),
            identifier: package.identifier.clone(),
            version: Some(version.to_owned()),
            source: "wharf".into(),
            ownership: ownership.into(),
            verified: true,
        };
        if let Some(user_id) = publisher {
            let user = self.users.get_user(user_id).await.map_err(unavailable)?;
            if user.is_some_and(|u| stored.owners.contains(&u.name)) {
                return Ok(Some(check("same-owner")));
            }
        }
        let mcp_name = serde_json::from_str::<serde_json::Value>(&found.manifest)
            .ok()
            .and_then(|m| m.get("mcpName").and_then(|n| n.as_str()).map(str::to_owned));
        if mcp_name.as_deref() == Some(server_name) {
            return Ok(Some(check("marker")));
        }
        Err(problem(
            index,
            "identifier",
            format!(
                "ownership of {} is not proven: add \"mcpName\": \"{server_name}\" to its package.json, \
                 or publish as one of its owners",
                package.identifier
            ),
        ))
    }
}

fn pinned(index: usize, package: &Package) -> Result<&str, Failure> {
    package.version.as_deref().ok_or_else(|| {
        problem(
            index,
            "version",
            "pin the package version: Wharf checks, records and launches exactly that version",
        )
    })
}

fn upstream_failure(index: usize, e: &UpstreamError) -> Failure {
    match e {
        UpstreamError::NotConfigured { registry } => problem(
            index,
            "identifier",
            format!(
                "the package is not hosted here and no upstream {registry} registry is configured"
            ),
        ),
        other => Failure::Unavailable(McpProblem::at(
            format!("packages[{index}].identifier"),
            format!("{other} ({})", other.code()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::PackageCheck;

    #[test]
    fn checks_stored_with_snake_case_keys_read_back_as_camel_case() {
        let stored = r#"[{"registry_type":"npm","identifier":"x","version":"1.0.0",
            "source":"upstream","ownership":"marker","verified":true}]"#;
        let checks: Vec<PackageCheck> = serde_json::from_str(stored).unwrap();
        assert_eq!(checks[0].registry_type, "npm");
        let shown = serde_json::to_value(&checks[0]).unwrap();
        assert_eq!(shown["registryType"], "npm");
        assert!(shown.get("registry_type").is_none());
    }
}
