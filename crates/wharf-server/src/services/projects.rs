//! Projects as the native API shows them: one project's releases and files
//! (pending and held ones to its owners only), search, and yanking (in
//! `yank.rs`). Uploads have their own service.

use crate::cache::PageCache;
use crate::pages::{self, ProjectView};
use crate::services::auth::Principal;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use wharf_core::ports::{ProjectRepo, RepoError, SearchRepo};
use wharf_core::{NormalizedName, Scope, ValidationError};

/// Reads and yanks projects, and searches them.
pub struct Projects {
    pub(crate) projects: Arc<dyn ProjectRepo>,
    search: Arc<dyn SearchRepo>,
    /// Rendered simple pages, dropped when a release changes.
    pub(crate) pages: Arc<PageCache>,
    /// `[verification] show_pending`: pending files count as listed.
    show_pending: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Missing, or nothing in it the caller may see: the same answer.
    #[error("no project named '{0}'")]
    NotFound(NormalizedName),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// One search hit.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub name: String,
    pub normalized: String,
    pub summary: String,
    /// The project in the native API.
    pub url: String,
}

/// Search results, best first; an exact name first of all.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchReply {
    pub query: String,
    pub results: Vec<SearchResult>,
}

impl Projects {
    pub fn new(
        projects: Arc<dyn ProjectRepo>,
        search: Arc<dyn SearchRepo>,
        pages: Arc<PageCache>,
        show_pending: bool,
    ) -> Self {
        Self {
            projects,
            search,
            pages,
            show_pending,
        }
    }

    /// Releases, files, hashes, yank state and owners. Files still pending
    /// or held back are shown only to the project's owners (and to
    /// administrators acting as such), through a credential that reaches it.
    pub async fn view(
        &self,
        who: Option<&Principal>,
        name: &str,
    ) -> Result<ProjectView, ProjectError> {
        let normalized = NormalizedName::parse(name)?;
        let listing = self
            .projects
            .listing(&normalized)
            .await?
            .ok_or_else(|| ProjectError::NotFound(normalized.clone()))?;
        let is_owner = match who {
            // A restricted token sees another project as anyone would: its
            // restriction is on top of its user's rights.
            Some(p)
                if (p.has_scope(Scope::Read) || p.has_scope(Scope::Publish))
                    && p.may_touch(&normalized) =>
            {
                p.acts_as_admin()
                    || self
                        .projects
                        .is_owner(listing.project.id, p.user.id)
                        .await?
            }
            _ => false,
        };
        let has_listed = listing
            .files
            .iter()
            .any(|f| pages::is_listed(f.status, self.show_pending));
        if !has_listed && !is_owner {
            return Err(ProjectError::NotFound(normalized));
        }
        Ok(pages::project_api(&listing, is_owner))
    }

    /// Projects by name and summary, best first.
    pub async fn search(&self, query: &str, limit: i64) -> Result<SearchReply, RepoError> {
        let hits = self.search.search_projects(query, limit).await?;
        Ok(SearchReply {
            query: query.to_owned(),
            results: hits
                .into_iter()
                .map(|h| SearchResult {
                    url: format!("/api/v1/projects/{}", h.normalized),
                    normalized: h.normalized.as_str().to_owned(),
                    name: h.name,
                    summary: h.summary,
                })
                .collect(),
        })
    }
}
