//! Deployment validation: everything about a requested deployment of an MCP
//! server is checked, and every problem collected, before any side effect.
//! The result is a launch plan: an argv array (never a shell string) with
//! the version pinned, and the names of exactly the declared variables.

pub mod checks;
pub mod plan;
pub mod request;
pub mod store;

use crate::services::auth::Principal;
use crate::services::reference_names::ReferenceNames;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use wharf_core::ports::{AuditLog, DeploymentRepo, McpRepo, ProjectRepo, RepoError};
use wharf_upstream::Upstream;
use wharf_vault::MasterKey;

pub use plan::Plan;

/// Validates deployments, stores them with their credentials encrypted,
/// and hands plans to runners. Built once, in `App::from_parts`.
pub struct Deployments {
    pub(crate) catalog: Arc<dyn McpRepo>,
    pub(crate) projects: Arc<dyn ProjectRepo>,
    pub(crate) store: Arc<dyn DeploymentRepo>,
    pub(crate) audit: Arc<dyn AuditLog>,
    pub(crate) upstream: Upstream,
    pub(crate) names: ReferenceNames,
    /// Wraps the data keys of new credentials.
    pub(crate) vault: Arc<MasterKey>,
    /// During a rotation, the key being retired: it only opens.
    pub(crate) vault_previous: Option<Arc<MasterKey>>,
    /// Packages hosted under `/npm/`, which shadow upstream ones.
    pub(crate) npm: Arc<dyn wharf_core::ports::NpmRepo>,
    /// This registry's simple index, the only one launch plans install from.
    pub(crate) simple_url: String,
    /// This registry's npm registry (`…/npm/`), which hosted npm packages install from.
    pub(crate) npm_url: String,
    /// Whether `[proxy.npm]` is on, so every npm package installs from `npm_url`.
    pub(crate) npm_proxied: bool,
}

/// One problem with a request. `message` and `hint` never quote a value the
/// caller sent: credentials are secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Every problem found; nothing was stored.
    #[error("the deployment is not valid: {} problem(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// An upstream registry could not answer; retry later. Nothing was stored.
    #[error("an upstream registry could not be reached to check the package")]
    UpstreamUnavailable(Vec<FieldError>),
    /// The credential's scopes or restriction do not allow this.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// A deployment that passed every check.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The catalog server and its exact version, when deployed from the catalog.
    pub server: Option<(String, String)>,
    pub registry_type: String,
    pub identifier: String,
    /// Always exact: `latest` was resolved.
    pub version: String,
    pub plan: Plan,
    /// Validated values by variable name, to be stored encrypted. Never logged.
    pub credentials: BTreeMap<String, String>,
}

/// A restricted token deploys only what its lists name, checked before any
/// look-up so that it learns nothing about the rest.
fn check_reach(who: &Principal, target: &request::Target) -> Result<(), DeployError> {
    let (server, registry_type, identifier) = match target {
        request::Target::Server { name, .. } => (Some(name.as_str()), "", ""),
        request::Target::Direct {
            registry_type,
            identifier,
            ..
        } => (None, registry_type.as_str(), identifier.as_str()),
    };
    if who.may_touch_deployment(server, registry_type, identifier) {
        return Ok(());
    }
    Err(DeployError::Forbidden(match server {
        Some(name) => format!(
            "this token's restriction does not cover the server '{}'",
            wharf_core::name::printable(name)
        ),
        None => format!(
            "this token's restriction does not cover the {} package '{}'; only PyPI projects \
             named in a token's project list can be deployed directly with a restricted token",
            wharf_core::name::printable(registry_type),
            wharf_core::name::printable(identifier)
        ),
    }))
}

impl Deployments {
    /// Runs every check on a request body from `who`; collects all problems.
    pub async fn validate(
        &self,
        who: &Principal,
        body: &serde_json::Value,
    ) -> Result<Validated, DeployError> {
        if !who.may_manage_deployments() {
            return Err(DeployError::Forbidden(
                "creating or validating a deployment needs a token with the 'deploy' or 'publish' scope"
                    .to_owned(),
            ));
        }
        let request = request::parse(body).map_err(DeployError::Invalid)?;
        check_reach(who, &request.target)?;
        let target = self.target_package(&request).await?;
        // Every offline check runs, whatever the others found: credentials
        // and arguments are checked against the declarations whether or
        // not the identifier is valid.
        let mut errors = Vec::new();
        checks::package_syntax(&target.package, &mut errors);
        let credentials = checks::credentials(&target.package, &request.credentials, &mut errors);
        let arguments = checks::arguments(&target.package, &request.arguments, &mut errors);
        if !errors.is_empty() {
            return Err(DeployError::Invalid(errors));
        }
        let resolved = self.resolve(who, target).await?;
        // Through the npm proxy every npm package is this registry's to serve.
        let npm_registry =
            (resolved.is_hosted || self.npm_proxied).then_some(self.npm_url.as_str());
        let plan = plan::build(&resolved, &arguments, &self.simple_url, npm_registry)
            .map_err(|e| DeployError::Invalid(vec![e]))?;
        Ok(Validated {
            server: resolved.server.clone(),
            registry_type: resolved.package.registry_type.clone(),
            identifier: resolved.package.identifier.clone(),
            version: resolved.version.clone(),
            plan,
            credentials,
        })
    }
}
