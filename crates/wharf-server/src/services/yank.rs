//! Yanking and unyanking releases (PEP 592). A yanked release stays listed,
//! with its marker, and can be unyanked and yanked again.

use super::auth::Principal;
use super::projects::Projects;
use serde::Serialize;
use wharf_core::ports::RepoError;
use wharf_core::{audit, NormalizedName, Scope, ValidationError, Version};

#[derive(Debug, thiserror::Error)]
pub enum YankError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Longest yank reason kept; it is shown in every simple page.
pub const MAX_REASON_LEN: usize = 512;

/// The audit detail of a yank or unyank.
#[derive(Serialize)]
struct YankDetail<'a> {
    version: &'a str,
    reason: Option<&'a str>,
}

impl Projects {
    /// Sets (`Some(reason)`) or clears (`None`) the yank marker of a release.
    pub async fn set_yank(
        &self,
        who: &Principal,
        project: &str,
        version: &str,
        reason: Option<&str>,
    ) -> Result<(NormalizedName, String), YankError> {
        let project = NormalizedName::parse(project)?;
        let version = Version::parse(version)?;
        if let Some(reason) = reason {
            if reason.chars().count() > MAX_REASON_LEN
                || reason.chars().any(|c| c.is_control() && c != '\n')
            {
                return Err(ValidationError::new(
                    "invalid_reason",
                    format!("a yank reason is at most {MAX_REASON_LEN} printable characters"),
                )
                .into());
            }
        }
        if !who.has_scope(Scope::Publish) {
            return Err(YankError::Forbidden(
                "this API token lacks the 'publish' scope needed to yank".into(),
            ));
        }
        if !who.may_touch(&project) {
            return Err(YankError::Forbidden(format!(
                "this API token is restricted to other projects than '{project}'"
            )));
        }
        let Some(listing) = self.projects.listing(&project).await? else {
            return Err(YankError::NotFound(format!("no project named '{project}'")));
        };
        let found = listing.project;
        if !self.projects.is_owner(found.id, who.user.id).await? {
            return Err(YankError::Forbidden(format!(
                "user '{}' is not an owner of '{}'",
                who.user.name, found.name
            )));
        }
        // Releases match by PEP 440 equality: yanking 1.0.0 yanks release 1.0.
        let Some(stored) = listing
            .releases
            .iter()
            .find(|r| Version::parse(&r.version).is_ok_and(|v| v == version))
        else {
            return Err(YankError::NotFound(format!(
                "project '{project}' has no release {version}"
            )));
        };
        let action = if reason.is_some() {
            audit::RELEASE_YANK
        } else {
            audit::RELEASE_UNYANK
        };
        let event = who.event(
            action,
            &format!("project:{project}"),
            serde_json::to_string(&YankDetail {
                version: &stored.version,
                reason,
            })
            .unwrap_or_default(),
        );
        if !self
            .projects
            .set_yank(found.id, &stored.version, reason, event)
            .await?
        {
            return Err(YankError::NotFound(format!(
                "project '{project}' has no release {version}"
            )));
        }
        self.pages.invalidate(project.as_str());
        Ok((project, stored.version.clone()))
    }
}
