//! Held catalog versions, for administrators: the list with each report,
//! holding a version by hand and releasing one, both audited, and the sync
//! state of each upstream.

use super::entries::{entry, ServerResponse};
use super::sync::SyncReport;
use super::{AuditDetail, Catalog, McpError, McpProblem};
use crate::services::auth::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_core::model::{HoldChange, McpHold, McpSyncState, McpVersion};
use wharf_core::{audit, Timestamp};

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 500;

/// Why an administrator holds or releases a version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// Recorded in the audit log (and, for a hold, in the report).
    pub reason: String,
}

/// A version that is not served, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldVersion {
    pub name: String,
    pub version: String,
    /// `checks`, `unverified`, `cooldown` or `admin`.
    pub hold: &'static str,
    /// The problems that hold it, each at its JSON location.
    pub report: Vec<McpProblem>,
    pub entry: ServerResponse,
}

/// Where the sync of one upstream stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamState {
    pub name: String,
    pub url: String,
    /// The `updated_since` of the next run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_water: Option<String>,
    /// A run cut short resumes at this cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `GET /api/v1/admin/mcp/sync`: every upstream, and every held version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncStatus {
    pub upstreams: Vec<UpstreamState>,
    pub held: Vec<HeldVersion>,
}

/// `POST /api/v1/admin/mcp/sync`: what each upstream's run did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncRun {
    pub reports: Vec<SyncReport>,
}

impl SyncRun {
    /// What the audit event of a run records: each upstream's counts.
    pub fn audit_detail(&self) -> String {
        serde_json::to_string(&self.reports).unwrap_or_default()
    }
}

impl HeldVersion {
    fn from_version(v: &McpVersion) -> Self {
        Self {
            name: v.name.clone(),
            version: v.version.clone(),
            hold: v.hold.map_or("", McpHold::as_str),
            report: serde_json::from_str(&v.report).unwrap_or_default(),
            entry: entry(v),
        }
    }
}

impl Catalog {
    fn require_admin(who: &Principal, what: &str) -> Result<(), McpError> {
        if who.acts_as_admin() {
            Ok(())
        } else {
            Err(McpError::Forbidden(format!(
                "to {what} needs an administrator and a token with the 'admin' scope"
            )))
        }
    }

    pub async fn sync_status(&self, who: &Principal) -> Result<SyncStatus, McpError> {
        Self::require_admin(who, "read the sync state")?;
        let states = self.repo.sync_states().await?;
        let upstreams = self
            .mirrors
            .iter()
            .map(|m| {
                let state = states
                    .iter()
                    .find(|s| s.upstream == m.upstream.name)
                    .cloned()
                    .unwrap_or_default();
                upstream_state(&m.upstream.name, &m.upstream.url, state)
            })
            .collect();
        let held = self
            .repo
            .held_mcp(None)
            .await?
            .iter()
            .map(HeldVersion::from_version)
            .collect();
        Ok(SyncStatus { upstreams, held })
    }

    /// Runs the sync of every upstream now; the caller records the audit
    /// event ([`SyncRun::audit_detail`]).
    pub async fn sync_now(&self, who: &Principal) -> Result<SyncRun, McpError> {
        Self::require_admin(who, "run the sync")?;
        if self.mirrors.is_empty() {
            return Err(McpError::NotFound(
                "no upstream registry is configured: add [[mcp.upstreams]] to the configuration"
                    .into(),
            ));
        }
        Ok(SyncRun {
            reports: self.sync_all().await,
        })
    }

    /// Holds one version (served no more), audited.
    pub async fn hold_version(
        &self,
        who: &Principal,
        name: &str,
        version: &str,
        body: HoldBody,
    ) -> Result<HeldVersion, McpError> {
        Self::require_admin(who, "hold a catalog version")?;
        let reason = check_reason(&body.reason)?;
        let current = self.find_any(name, version).await?;
        if current.hold.is_some() {
            return Err(McpError::Conflict(format!(
                "{name} {version} is held already ({})",
                current.hold.map_or("", McpHold::as_str)
            )));
        }
        let report = vec![McpProblem::at(
            "",
            format!("held by an administrator: {reason}"),
        )];
        self.change_hold(who, &current, Some(McpHold::Admin), Some(&report), reason)
            .await?;
        Ok(HeldVersion::from_version(
            &self.find_any(name, version).await?,
        ))
    }

    /// Releases one held version (served from now on, and not held again by
    /// its checks), audited.
    pub async fn release_version(
        &self,
        who: &Principal,
        name: &str,
        version: &str,
        body: HoldBody,
    ) -> Result<ServerResponse, McpError> {
        Self::require_admin(who, "release a catalog version")?;
        let reason = check_reason(&body.reason)?;
        let current = self.find_any(name, version).await?;
        if current.hold.is_none() {
            return Err(McpError::Conflict(format!("{name} {version} is not held")));
        }
        self.change_hold(who, &current, None, None, reason).await?;
        Ok(entry(&self.find_any(name, version).await?))
    }

    async fn find_any(&self, name: &str, version: &str) -> Result<McpVersion, McpError> {
        self.repo
            .mcp_version_any(name, version)
            .await?
            .ok_or_else(|| {
                McpError::NotFound(format!("server '{name}' has no version '{version}'"))
            })
    }

    async fn change_hold(
        &self,
        who: &Principal,
        current: &McpVersion,
        hold: Option<McpHold>,
        report: Option<&[McpProblem]>,
        reason: &str,
    ) -> Result<(), McpError> {
        let action = if hold.is_some() {
            audit::MCP_HOLD
        } else {
            audit::MCP_RELEASE
        };
        let event = who.event(
            action,
            &format!("mcp:{}", current.name),
            AuditDetail {
                version: Some(&current.version),
                message: Some(reason),
                status: current.hold.map(McpHold::as_str),
                ..Default::default()
            }
            .to_json(),
        );
        let changed = self
            .repo
            .change_mcp_hold(HoldChange {
                name: current.name.clone(),
                version: current.version.clone(),
                hold,
                report: report.map(|r| serde_json::to_string(r).unwrap_or_else(|_| "[]".into())),
                checks: None,
                released_by: hold.is_none().then_some(who.user.id),
                at: Timestamp::now(),
                audit: Some(event),
            })
            .await?;
        if changed {
            Ok(())
        } else {
            Err(McpError::NotFound(format!(
                "server '{}' has no version '{}'",
                current.name, current.version
            )))
        }
    }
}

fn check_reason(raw: &str) -> Result<&str, McpError> {
    let reason = raw.trim();
    let problem = if reason.is_empty() {
        Some("give a reason; it is recorded in the audit log".to_owned())
    } else if reason.chars().count() > MAX_REASON_CHARS {
        Some(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        ))
    } else if reason.chars().any(char::is_control) {
        Some("the reason must be printable text".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(McpError::invalid(
            "invalid reason",
            vec![McpProblem::at("reason", message)],
        )),
        None => Ok(reason),
    }
}

fn upstream_state(name: &str, url: &str, state: McpSyncState) -> UpstreamState {
    UpstreamState {
        name: name.to_owned(),
        url: url.to_owned(),
        high_water: state.high_water,
        resume_cursor: state.run_cursor,
        last_success_at: state.last_success_at.map(Timestamp::to_rfc3339_micros),
        last_error: state.last_error,
    }
}
