//! Projects as the native API shows them: one project's releases and files
//! (pending and held ones to its owners only), search, and yanking (in
//! `yank.rs`). Uploads have their own service.

use crate::cache::PageCache;
use crate::pages::{self, ProjectView};
use crate::services::auth::Principal;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use wharf_core::model::Origin;
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
    /// The pull-through proxy, for what a proxied project holds back.
    proxy: Option<Arc<crate::services::proxy::PypiProxy>>,
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
    #[error(transparent)]
    Proxy(#[from] crate::services::proxy::ProxyError),
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
        proxy: Option<Arc<crate::services::proxy::PypiProxy>>,
    ) -> Self {
        Self {
            projects,
            search,
            pages,
            show_pending,
            proxy,
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
        let listing = self.projects.listing(&normalized).await?;
        if let Some(proxy) = &self.proxy {
            if listing
                .as_ref()
                .is_none_or(|l| l.project.origin == Origin::Proxy)
            {
                return self.proxied_view(proxy, listing, normalized).await;
            }
        }
        let listing = listing.ok_or_else(|| ProjectError::NotFound(normalized.clone()))?;
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

    /// A proxied project: the files fetched so far (published ones only:
    /// nobody owns a proxied name), and what upstream lists that is held back.
    async fn proxied_view(
        &self,
        proxy: &Arc<crate::services::proxy::PypiProxy>,
        listing: Option<wharf_core::model::ProjectListing>,
        normalized: NormalizedName,
    ) -> Result<ProjectView, ProjectError> {
        let page = proxy.page(normalized.as_str()).await?;
        let held_back = page.map(|p| p.held_back);
        let mut view = match (listing, &held_back) {
            (Some(listing), _) => pages::project_api(&listing, false),
            (None, Some(_)) => ProjectView {
                name: normalized.as_str().to_owned(),
                normalized_name: normalized.as_str().to_owned(),
                created_at: None,
                origin: Origin::Proxy,
                owners: Vec::new(),
                releases: Vec::new(),
                held_back: Vec::new(),
            },
            (None, None) => return Err(ProjectError::NotFound(normalized)),
        };
        view.held_back = held_back.unwrap_or_default();
        Ok(view)
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
