//! The name check for packages this registry does not host but points at: an
//! MCP server's upstream packages and a deployment's direct reference. They
//! meet the same typosquat rules as an upload's first file, against the
//! popular list of their ecosystem and this registry's own packages
//! (an upstream look-alike of an internal project is dependency confusion).
//! An administrator who checked a package trusts it in
//! `[verification] trusted_names`.

use std::sync::Arc;
use wharf_core::mcp::RegistryType;
use wharf_core::ports::{ProjectRepo, RepoError, VerificationRepo};
use wharf_scan::names::{Ecosystem, NameContext, PopularNames};
use wharf_scan::Finding;

/// The name check, with the ports it reads and the trusted exceptions.
#[derive(Clone)]
pub struct ReferenceNames {
    projects: Arc<dyn ProjectRepo>,
    verification: Arc<dyn VerificationRepo>,
    /// `[verification] trusted_names`: `registry:normalized-name`.
    trusted: Arc<[String]>,
}

impl ReferenceNames {
    pub fn new(
        projects: Arc<dyn ProjectRepo>,
        verification: Arc<dyn VerificationRepo>,
        trusted: &[String],
    ) -> Self {
        Self {
            projects,
            verification,
            trusted: trusted.into(),
        }
    }

    /// The first name-policy finding for `identifier`, if any; ecosystems
    /// without a popular list have none. A look-alike of a project `user_id`
    /// owns is theirs to publish; with None (a mirrored server) every hosted
    /// name counts.
    pub async fn suspicious(
        &self,
        registry_type: &str,
        identifier: &str,
        user_id: Option<i64>,
    ) -> Result<Option<Finding>, RepoError> {
        let ecosystem = match RegistryType::parse(registry_type) {
            Some(RegistryType::Npm) => Ecosystem::Npm,
            Some(RegistryType::Pypi) => Ecosystem::Pypi,
            _ => return Ok(None),
        };
        let trusted = format!("{registry_type}:{}", ecosystem.normalize(identifier));
        if self.trusted.contains(&trusted) {
            return Ok(None);
        }
        let local = match ecosystem {
            Ecosystem::Pypi => {
                // A project hosted here is what it is: its own name met the name
                // policy at its first upload, and it shadows any upstream look-alike.
                let hosted = match wharf_core::ProjectName::parse(identifier) {
                    Ok(name) => self.projects.find_project(&name.normalize()).await?,
                    Err(_) => None,
                };
                if hosted.is_some() {
                    return Ok(None);
                }
                // User IDs start at 1, so 0 owns nothing.
                self.verification
                    .published_names_not_owned_by(wharf_core::proxy::PYPI, user_id.unwrap_or(0))
                    .await?
            }
            Ecosystem::Npm => {
                // The same for a package hosted under `/npm/`.
                let hosted = match wharf_core::npm::PackageName::parse(identifier) {
                    Ok(name) => {
                        let key = wharf_core::NormalizedName::from_normalized(name.project_key());
                        self.projects.find_project(&key).await?
                    }
                    Err(_) => None,
                };
                if hosted.is_some() {
                    return Ok(None);
                }
                self.verification
                    .published_names_not_owned_by(wharf_core::npm::NPM, user_id.unwrap_or(0))
                    .await?
            }
        };
        let context = NameContext {
            popular: PopularNames::bundled(ecosystem),
            local: &local,
        };
        Ok(wharf_scan::scan_name(identifier, &context)
            .into_iter()
            .next())
    }
}

/// One line for an error message: the rule, what the name resembles, and the
/// way out.
pub fn explain(finding: &Finding, registry_type: &str, identifier: &str) -> String {
    format!(
        "{} (rule {}): if this is the package you mean, an administrator can trust it with \
         [verification] trusted_names = [\"{registry_type}:{identifier}\"]",
        finding.evidence.as_deref().unwrap_or(&finding.explanation),
        finding.rule
    )
}
