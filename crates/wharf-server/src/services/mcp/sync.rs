//! Mirroring upstream MCP registries (`[[mcp.upstreams]]`) into the catalog.
//!
//! A sync pages through `GET /v0.1/servers?updated_since=…` with the cursor.
//! Each new version gets the checks of a local publish (the `server.json`
//! rules, package existence, ownership markers, name checks); one that fails
//! is kept but held, with its report, and never served. Status changes
//! upstream are copied; a different document under a version already copied
//! is recorded as a conflict and the first copy kept. Names published here
//! are never touched.
//!
//! Progress (the cursor, the newest `updatedAt` seen) is saved after every
//! page, so a run cut short resumes where it stopped; the high-water mark
//! moves only when a run reaches the last page. One instance syncs an
//! upstream at a time, under a lease in the database.

use super::{Catalog, McpError, McpProblem};
use crate::config::mcp::McpUpstream;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::time::{Duration, SystemTime};
use wharf_core::mcp::validate;
use wharf_core::model::{
    HoldChange, McpHold, McpStatus, McpSyncState, MirrorOutcome, MirrorVersion,
};
use wharf_core::ports::RepoError;
use wharf_core::Timestamp;
use wharf_upstream::mcp_registry::{McpRegistry, RegistryEntry};

/// Versions asked for per page (the registry API's maximum).
const PAGE_LIMIT: u32 = 100;
/// A run stops after this many pages: 1,000,000 versions.
const MAX_PAGES: usize = 10_000;
/// Entries of one page checked and stored at once.
const ENTRY_CONCURRENCY: usize = 8;
/// Upstream clocks and ours may disagree; the high-water mark stays this far
/// behind the start of the run, so a change made upstream while the run was
/// paging is read again by the next one.
const CLOCK_MARGIN: Duration = Duration::from_secs(300);

/// One configured upstream and its client.
pub struct Mirror {
    pub upstream: McpUpstream,
    pub registry: McpRegistry,
}

/// What one sync of one upstream did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub upstream: String,
    /// Another instance holds the lease: nothing was done.
    pub skipped: bool,
    /// The run reached the last page.
    pub complete: bool,
    pub pages: usize,
    /// Versions new here, served or held.
    pub added: usize,
    /// Of those added, how many are held (checks failed or could not run,
    /// or the cooldown).
    pub held: usize,
    pub status_changed: usize,
    /// Versions upstream changed in place: the first copy is kept.
    pub conflicts: usize,
    pub unchanged: usize,
    /// Names published here (or mirrored from another upstream): left alone.
    pub shadowed: usize,
    /// Names the include/exclude filters keep out.
    pub filtered: usize,
    /// Entries without a usable name, version or status.
    pub malformed: usize,
    /// Held versions checked again and now served.
    pub released: usize,
    /// Why the run stopped early; its progress is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SyncReport {
    /// Adds the counts of one entry's outcome.
    fn absorb(&mut self, other: &SyncReport) {
        self.added += other.added;
        self.held += other.held;
        self.status_changed += other.status_changed;
        self.conflicts += other.conflicts;
        self.unchanged += other.unchanged;
        self.shadowed += other.shadowed;
        self.filtered += other.filtered;
        self.malformed += other.malformed;
        self.released += other.released;
    }
}

/// Why a run stopped.
enum Stop {
    /// The upstream misbehaved; progress is kept and the next run resumes.
    Upstream(String),
    /// Another instance took the lease over (this one was too slow).
    LostLease,
    Repo(RepoError),
}

impl From<RepoError> for Stop {
    fn from(e: RepoError) -> Self {
        Self::Repo(e)
    }
}

impl Catalog {
    /// Syncs every configured upstream, one after the other, as this
    /// process. A run already under way here makes each report `skipped`.
    pub async fn sync_all(&self) -> Vec<SyncReport> {
        let Ok(_running) = self.sync_running.try_lock() else {
            return self
                .mirrors
                .iter()
                .map(|m| SyncReport {
                    upstream: m.upstream.name.clone(),
                    skipped: true,
                    ..SyncReport::default()
                })
                .collect();
        };
        let mut reports = Vec::new();
        for mirror in &self.mirrors {
            reports.push(self.sync(mirror, &self.sync_holder).await);
        }
        reports
    }

    /// Syncs every upstream every `interval`, for `wharf serve` and `wharf
    /// worker`; instances share the work through the leases.
    pub async fn sync_periodically(app: crate::state::App, interval: Duration) {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            for report in app.catalog.sync_all().await {
                match &report.error {
                    Some(error) => {
                        tracing::warn!(upstream = %report.upstream, %error, "MCP sync stopped early")
                    }
                    None if report.skipped => {}
                    None => tracing::info!(
                        upstream = %report.upstream,
                        added = report.added,
                        held = report.held,
                        status_changed = report.status_changed,
                        "MCP sync done"
                    ),
                }
            }
        }
    }

    /// One run for one upstream, under its lease. Never panics on upstream
    /// faults: they end the run with `error` set and the progress kept.
    pub async fn sync(&self, mirror: &Mirror, holder: &str) -> SyncReport {
        let name = mirror.upstream.name.clone();
        let mut report = SyncReport {
            upstream: name.clone(),
            ..SyncReport::default()
        };
        let lease_end = || Timestamp::now().plus(self.sync_lease);
        let state = match self.repo.take_sync_lease(&name, holder, lease_end()).await {
            Ok(Some(state)) => state,
            Ok(None) => {
                report.skipped = true;
                return report;
            }
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        let mut state = state;
        let outcome = self
            .page_through(mirror, holder, &mut state, &mut report)
            .await;
        let outcome = match outcome {
            Ok(()) => self
                .recheck_held(mirror, &mut report)
                .await
                .map_err(Stop::Repo),
            Err(stop) => Err(stop),
        };
        match outcome {
            Ok(()) => {}
            Err(Stop::LostLease) => {
                report.error =
                    Some("another instance took the sync lease over; this run stopped".into());
                return report;
            }
            Err(Stop::Upstream(why)) | Err(Stop::Repo(RepoError::Internal(why))) => {
                report.error = Some(why);
            }
            Err(Stop::Repo(e)) => report.error = Some(e.to_string()),
        }
        state.last_error = report.error.clone();
        if let Err(e) = self.repo.save_sync_state(&state, holder, lease_end()).await {
            tracing::warn!(upstream = %name, error = %e, "could not save the sync state");
        }
        if let Err(e) = self.repo.release_sync_lease(&name, holder).await {
            tracing::warn!(upstream = %name, error = %e, "could not release the sync lease");
        }
        report
    }

    async fn page_through(
        &self,
        mirror: &Mirror,
        holder: &str,
        state: &mut McpSyncState,
        report: &mut SyncReport,
    ) -> Result<(), Stop> {
        // Resume the run in progress, or start one from the high-water mark.
        if state.run_cursor.is_none() {
            state.run_since = state.high_water.clone();
            state.run_max = None;
            state.run_started_at = Some(Timestamp::now());
        }
        let since = state.run_since.clone();
        let mut cursor = state.run_cursor.clone();
        let mut seen: HashSet<String> = cursor.iter().cloned().collect();
        loop {
            if report.pages >= MAX_PAGES {
                return Err(Stop::Upstream(format!(
                    "upstream '{}' served more than {MAX_PAGES} pages in one run; stopped",
                    mirror.upstream.name
                )));
            }
            let page = mirror
                .registry
                .page(since.as_deref(), cursor.as_deref(), PAGE_LIMIT)
                .await
                .map_err(|e| Stop::Upstream(e.to_string()))?;
            report.pages += 1;
            for entry in &page.entries {
                if let Some(updated) = entry.updated_at.as_deref() {
                    if later(updated, state.run_max.as_deref()) {
                        state.run_max = Some(updated.to_owned());
                    }
                }
            }
            // Entries are checked at once (their look-ups overlap), then the
            // page is stored in one transaction.
            let upstream = &mirror.upstream;
            let prepared: Vec<Result<(Option<MirrorVersion>, SyncReport), Stop>> =
                futures_util::stream::iter(page.entries.into_iter().map(|entry| async move {
                    let mut delta = SyncReport::default();
                    self.prepare_entry(upstream, &entry, &mut delta)
                        .await
                        .map(|m| (m, delta))
                }))
                .buffered(ENTRY_CONCURRENCY)
                .collect()
                .await;
            let mut to_store = Vec::new();
            for item in prepared {
                let (mirrored, delta) = item?;
                report.absorb(&delta);
                to_store.extend(mirrored);
            }
            let outcomes = self.repo.mirror_mcp(&to_store).await?;
            for (mirrored, outcome) in to_store.iter().zip(&outcomes) {
                self.tally(mirrored, outcome, report).await?;
            }
            let Some(next) = page.next_cursor else {
                break;
            };
            if !seen.insert(next.clone()) {
                // Resuming at a cursor that loops would loop again: the next
                // run starts over from the high-water mark.
                state.run_cursor = None;
                return Err(Stop::Upstream(format!(
                    "upstream '{}' sent cursor '{}' twice: a cursor loop; the run stopped, and \
                     the next one starts again from the high-water mark",
                    mirror.upstream.name,
                    wharf_core::name::printable(&next)
                )));
            }
            cursor = Some(next);
            state.run_cursor = cursor.clone();
            if !self
                .repo
                .save_sync_state(state, holder, Timestamp::now().plus(self.sync_lease))
                .await?
            {
                return Err(Stop::LostLease);
            }
        }
        state.high_water = high_water(state);
        state.run_since = None;
        state.run_cursor = None;
        state.run_max = None;
        state.run_started_at = None;
        state.last_success_at = Some(Timestamp::now());
        report.complete = true;
        Ok(())
    }

    /// What to store for one entry, checked if it is new here; None for an
    /// entry left out (counted in `report`).
    async fn prepare_entry(
        &self,
        upstream: &McpUpstream,
        entry: &RegistryEntry,
        report: &mut SyncReport,
    ) -> Result<Option<MirrorVersion>, Stop> {
        let text = |key: &str| entry.server.get(key).and_then(|v| v.as_str());
        let (Some(name), Some(version)) = (text("name"), text("version")) else {
            report.malformed += 1;
            return Ok(None);
        };
        let status = match entry.status.as_deref() {
            None => McpStatus::Active,
            Some(raw) => match McpStatus::parse(raw) {
                Some(status) => status,
                None => {
                    report.malformed += 1;
                    return Ok(None);
                }
            },
        };
        if !upstream.admits(name) {
            report.filtered += 1;
            return Ok(None);
        }
        if self
            .repo
            .mcp_origin(name)
            .await?
            .is_some_and(|origin| origin != upstream.name)
        {
            report.shadowed += 1;
            return Ok(None);
        }
        let upstream_published_at = entry
            .published_at
            .as_deref()
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
            .map(Timestamp::from_system);
        let (document, validated) = match validate(&entry.server, self.url_policy) {
            Ok((server, document)) => (document.to_string(), Ok(server)),
            Err(problems) => (entry.server.to_string(), Err(problems)),
        };
        let mut mirrored = MirrorVersion {
            upstream: upstream.name.clone(),
            name: name.to_owned(),
            version: version.to_owned(),
            document,
            upstream_sha256: hex::encode(Sha256::digest(entry.server.to_string())),
            checks: "[]".into(),
            status,
            status_message: entry.status_message.clone(),
            hold: None,
            report: "[]".into(),
            upstream_published_at,
            at: Timestamp::now(),
        };
        // Checks run once, when a version is first copied: a known version
        // can only change status (or conflict).
        let known = self.repo.mcp_version_any(name, version).await?.is_some();
        if !known {
            let verdict = match validated {
                Ok(server) => self.check_mirrored(&server).await?,
                Err(problems) => Verdict::held(
                    McpHold::Checks,
                    problems
                        .into_iter()
                        .map(|p| McpProblem::at(p.path, p.message))
                        .collect(),
                ),
            };
            let verdict = verdict.or_cooldown(upstream, upstream_published_at);
            mirrored.hold = verdict.hold;
            mirrored.report = verdict.report_json();
            mirrored.checks = verdict.checks;
        }
        Ok(Some(mirrored))
    }

    /// Counts what storing a version came to, and queues the capture of a
    /// version new here.
    async fn tally(
        &self,
        mirrored: &MirrorVersion,
        outcome: &MirrorOutcome,
        report: &mut SyncReport,
    ) -> Result<(), Stop> {
        let (name, version) = (mirrored.name.as_str(), mirrored.version.as_str());
        match outcome {
            MirrorOutcome::Added => {
                report.added += 1;
                self.queue_capture(name, version, &mirrored.document)
                    .await?;
                if let Some(hold) = mirrored.hold {
                    report.held += 1;
                    tracing::info!(
                        server = name,
                        version,
                        hold = hold.as_str(),
                        "mirrored version held"
                    );
                }
            }
            MirrorOutcome::Unchanged => report.unchanged += 1,
            MirrorOutcome::StatusChanged => report.status_changed += 1,
            MirrorOutcome::Conflict => {
                report.conflicts += 1;
                tracing::warn!(
                    upstream = %mirrored.upstream,
                    server = name,
                    version,
                    "upstream changed a version in place; the first copy is kept"
                );
            }
            MirrorOutcome::Shadowed { .. } => report.shadowed += 1,
        }
        Ok(())
    }

    /// The package checks of a local publish, without a publisher: ownership
    /// is proven by markers only.
    async fn check_mirrored(&self, server: &wharf_core::mcp::ServerJson) -> Result<Verdict, Stop> {
        match self.check_all(None, server).await {
            Ok(checks) => Ok(Verdict {
                hold: None,
                problems: Vec::new(),
                checks: serde_json::to_string(&checks).unwrap_or_else(|_| "[]".into()),
            }),
            Err(McpError::Invalid { problems, .. }) => Ok(Verdict::held(McpHold::Checks, problems)),
            Err(McpError::UpstreamUnavailable { problems, .. }) => {
                Ok(Verdict::held(McpHold::Unverified, problems))
            }
            Err(McpError::Repo(e)) => Err(Stop::Repo(e)),
            Err(other) => Err(Stop::Repo(RepoError::Internal(other.to_string()))),
        }
    }

    /// Versions held by the cooldown or by checks that could not run are
    /// checked again; those that now pass are served.
    async fn recheck_held(
        &self,
        mirror: &Mirror,
        report: &mut SyncReport,
    ) -> Result<(), RepoError> {
        let held = self.repo.held_mcp(Some(&mirror.upstream.name)).await?;
        for version in held {
            if !matches!(version.hold, Some(McpHold::Cooldown | McpHold::Unverified)) {
                continue;
            }
            let raw: serde_json::Value =
                serde_json::from_str(&version.document).unwrap_or_default();
            let verdict = match validate(&raw, self.url_policy) {
                Ok((server, _)) => match self.check_mirrored(&server).await {
                    Ok(verdict) => verdict,
                    Err(Stop::Repo(e)) => return Err(e),
                    Err(_) => continue,
                },
                Err(_) => continue,
            };
            let verdict = verdict.or_cooldown(&mirror.upstream, version.upstream_published_at);
            if verdict.hold == version.hold {
                continue;
            }
            let released = verdict.hold.is_none();
            self.repo
                .change_mcp_hold(HoldChange {
                    name: version.name.clone(),
                    version: version.version.clone(),
                    hold: verdict.hold,
                    report: Some(verdict.report_json()),
                    checks: Some(verdict.checks.clone()),
                    released_by: None,
                    at: Timestamp::now(),
                    audit: None,
                })
                .await?;
            if released {
                report.released += 1;
            }
        }
        Ok(())
    }
}

/// What the checks of one mirrored version came to.
struct Verdict {
    hold: Option<McpHold>,
    problems: Vec<McpProblem>,
    checks: String,
}

impl Verdict {
    fn held(hold: McpHold, problems: Vec<McpProblem>) -> Self {
        Self {
            hold: Some(hold),
            problems,
            checks: "[]".into(),
        }
    }

    /// A version that passed is still held while it is younger than the
    /// upstream's `min_release_age` (an unknown publication time counts as now).
    fn or_cooldown(mut self, upstream: &McpUpstream, published: Option<Timestamp>) -> Self {
        if self.hold.is_some() || upstream.min_release_age.is_zero() {
            return self;
        }
        let published = published.unwrap_or_else(Timestamp::now);
        if published.plus(upstream.min_release_age) > Timestamp::now() {
            self.hold = Some(McpHold::Cooldown);
            self.problems = vec![McpProblem::at(
                "",
                format!(
                    "published upstream at {}; mirrored versions are served once they are {} old \
                     (min_release_age of upstream '{}')",
                    published.to_rfc3339_micros(),
                    humantime::format_duration(upstream.min_release_age),
                    upstream.name
                ),
            )];
        }
        self
    }

    fn report_json(&self) -> String {
        serde_json::to_string(&self.problems).unwrap_or_else(|_| "[]".into())
    }
}

/// Whether RFC 3339 time `a` is later than `b` (or `b` is unknown); a time
/// that does not parse is never later.
fn later(a: &str, b: Option<&str>) -> bool {
    let Ok(a) = humantime::parse_rfc3339_weak(a) else {
        return false;
    };
    match b.map(humantime::parse_rfc3339_weak) {
        Some(Ok(b)) => a > b,
        _ => true,
    }
}

/// The mark the next run asks from: the newest `updatedAt` this run saw, but
/// no later than its start (less the clock margin), so what changed upstream
/// during the run is read again; and never behind the previous mark.
fn high_water(state: &McpSyncState) -> Option<String> {
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
    };
    let seen = parse(&state.run_max);
    let started = state
        .run_started_at
        .map(|t| SystemTime::UNIX_EPOCH + Duration::from_micros(t.micros().max(0) as u64))
        .map(|t| t - CLOCK_MARGIN);
    let candidate = match (seen, started) {
        (Some(seen), Some(started)) => Some(seen.min(started)),
        (seen, _) => seen,
    };
    match (candidate, parse(&state.high_water)) {
        (Some(c), Some(previous)) if c <= previous => state.high_water.clone(),
        (Some(c), _) => Some(Timestamp::from_system(c).to_rfc3339_micros()),
        (None, _) => state.high_water.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(max: Option<&str>, started: &str, previous: Option<&str>) -> McpSyncState {
        McpSyncState {
            run_max: max.map(str::to_owned),
            run_started_at: Some(Timestamp::from_system(
                humantime::parse_rfc3339_weak(started).unwrap(),
            )),
            high_water: previous.map(str::to_owned),
            ..McpSyncState::default()
        }
    }

    #[test]
    fn the_mark_is_the_newest_change_seen() {
        let s = state(Some("2025-09-01T00:00:00Z"), "2026-12-01T00:00:00Z", None);
        assert_eq!(
            high_water(&s).as_deref(),
            Some("2025-09-01T00:00:00.000000Z")
        );
    }

    #[test]
    fn the_mark_stays_behind_the_start_of_the_run() {
        let s = state(Some("2026-12-01T00:10:00Z"), "2026-12-01T00:00:00Z", None);
        assert_eq!(
            high_water(&s).as_deref(),
            Some("2026-11-30T23:55:00.000000Z")
        );
    }

    #[test]
    fn the_mark_never_moves_back() {
        let s = state(
            Some("2025-01-01T00:00:00Z"),
            "2026-12-01T00:00:00Z",
            Some("2025-06-01T00:00:00Z"),
        );
        assert_eq!(high_water(&s).as_deref(), Some("2025-06-01T00:00:00Z"));
        let empty = state(None, "2026-12-01T00:00:00Z", Some("2025-06-01T00:00:00Z"));
        assert_eq!(high_water(&empty).as_deref(), Some("2025-06-01T00:00:00Z"));
    }

    #[test]
    fn unparsable_times_are_never_later() {
        assert!(!later("yesterday", None));
        assert!(later("2025-01-01T00:00:00Z", Some("nonsense")));
        assert!(!later("2025-01-01T00:00:00Z", Some("2025-01-02T00:00:00Z")));
    }
}
