//! The ports: small traits, one per area, through which services reach
//! storage. `wharf-db` implements the repositories for SQLite (and, later,
//! PostgreSQL); `wharf-blob` implements [`BlobStore`].

use crate::model::*;
use crate::{NormalizedName, Timestamp};
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// The one error type of the storage layer. Infrastructure failures only:
/// business outcomes (a taken filename, a missing owner role) are values.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule was broken, e.g. a user name that exists already.
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached; worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    async fn create_user(&self, name: &str, is_admin: bool) -> Result<User, RepoError>;
    /// Case-insensitive: `Alice` and `alice` are one user.
    async fn find_user_by_name(&self, name: &str) -> Result<Option<User>, RepoError>;
    async fn get_user(&self, id: i64) -> Result<Option<User>, RepoError>;
    /// Sets (or with `None` clears) the argon2id PHC string for web login,
    /// and in the same transaction ends every session of the user: whoever
    /// knew the old password must not stay logged in. Returns how many
    /// sessions ended.
    async fn set_password_hash(
        &self,
        user_id: i64,
        hash: Option<&str>,
        audit: NewAuditEvent,
    ) -> Result<u64, RepoError>;
    /// The user and their password hash, for web login only.
    async fn find_login(&self, name: &str) -> Result<Option<(User, Option<String>)>, RepoError>;
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn create_session(
        &self,
        session: NewSession,
        audit: NewAuditEvent,
    ) -> Result<(), RepoError>;
    /// The live session with this ID hash; an expired one is `None`.
    async fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, RepoError>;
    /// Ends a session server-side. False if there was none.
    async fn delete_session(&self, id_hash: &str) -> Result<bool, RepoError>;
    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, RepoError>;
    /// Ends every session of one user (`wharf admin user logout`); returns
    /// how many.
    async fn delete_user_sessions(
        &self,
        user_id: i64,
        audit: NewAuditEvent,
    ) -> Result<u64, RepoError>;
}

/// RFC 8628 device authorization requests, shared by every instance.
#[async_trait]
pub trait DeviceRepo: Send + Sync {
    /// Stores the request unless the caps on unexpired pending requests,
    /// in total or from its requester, are reached. Also forgets requests
    /// that expired long ago.
    async fn create_device_request(
        &self,
        request: NewDeviceRequest,
        caps: DeviceCaps,
    ) -> Result<DeviceInsert, RepoError>;
    async fn find_device_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceRequest>, RepoError>;
    async fn find_device_by_code_hash(
        &self,
        device_code_hash: &str,
    ) -> Result<Option<DeviceRequest>, RepoError>;
    /// A pending, unexpired request becomes approved or denied by `user_id`.
    /// False if it was not pending any more (or expired).
    async fn decide_device_request(
        &self,
        id: i64,
        user_id: i64,
        approve: bool,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError>;
    /// Records a poll at `at`, with the interval the device must keep from now on.
    async fn record_device_poll(
        &self,
        id: i64,
        at: Timestamp,
        interval_secs: i64,
    ) -> Result<(), RepoError>;
    /// An approved request becomes redeemed, and the token is created, in one
    /// transaction; `None` if it was not approved (e.g. redeemed already).
    async fn redeem_device_request(
        &self,
        id: i64,
        token: NewToken,
        audit: NewAuditEvent,
    ) -> Result<Option<TokenRecord>, RepoError>;
}

#[async_trait]
pub trait TokenRepo: Send + Sync {
    async fn create_token(
        &self,
        token: NewToken,
        audit: NewAuditEvent,
    ) -> Result<TokenRecord, RepoError>;
    /// One indexed lookup by the SHA-256 of the token; returns its owner too.
    async fn find_token_by_hash(
        &self,
        hash_hex: &str,
    ) -> Result<Option<(TokenRecord, User, String)>, RepoError>;
    async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenRecord>, RepoError>;
    async fn get_token(&self, id: i64) -> Result<Option<TokenRecord>, RepoError>;
    /// Returns false if there is no such token or it was revoked already.
    async fn revoke_token(&self, id: i64, audit: NewAuditEvent) -> Result<bool, RepoError>;
    async fn touch_token(&self, id: i64, at: Timestamp) -> Result<(), RepoError>;
}

#[async_trait]
pub trait ProjectRepo: Send + Sync {
    async fn find_project(&self, name: &NormalizedName) -> Result<Option<Project>, RepoError>;
    /// Every project with at least one published file, by normalized name.
    async fn list_projects(&self) -> Result<Vec<Project>, RepoError>;
    async fn is_owner(&self, project_id: i64, user_id: i64) -> Result<bool, RepoError>;
    /// The project and whether `user_id` owns it, in one query: what
    /// `find_project` then `is_owner` answer, for the upload path.
    async fn find_project_for(
        &self,
        name: &NormalizedName,
        user_id: i64,
    ) -> Result<Option<(Project, bool)>, RepoError>;
    /// The project with all its releases, files (of every status) and owners.
    async fn listing(&self, name: &NormalizedName) -> Result<Option<ProjectListing>, RepoError>;
    /// The project's stored bytes and release versions, in one query; `None`
    /// if there is no such project.
    async fn totals(&self, name: &NormalizedName) -> Result<Option<ProjectTotals>, RepoError>;
    /// Yanks (`Some(reason)`) or unyanks (`None`) a release. False if no such release.
    async fn set_yank(
        &self,
        project_id: i64,
        version: &str,
        reason: Option<&str>,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError>;
}

#[async_trait]
pub trait FileRepo: Send + Sync {
    async fn find_file(&self, filename: &str) -> Result<Option<FileRecord>, RepoError>;
    /// In one transaction: create the project (owned by the uploader) and the
    /// release if they are new, insert the file row and its audit event.
    async fn record_upload(&self, upload: NewUpload) -> Result<UploadOutcome, RepoError>;
}

/// Verification results and the review queue.
#[async_trait]
pub trait VerificationRepo: Send + Sync {
    /// One file with its project's name and its report.
    async fn held_file(&self, id: i64) -> Result<Option<HeldFile>, RepoError>;
    /// In one transaction: store the report, move the file between statuses,
    /// finish the job and write the audit event; or, if the file or the job
    /// moved on meanwhile, nothing.
    async fn record_verdict(&self, verdict: RecordVerdict) -> Result<VerdictOutcome, RepoError>;
    async fn report(&self, file_id: i64) -> Result<Option<ScanReport>, RepoError>;
    /// Files in one of `statuses`, oldest first, with their reports.
    async fn held_files(
        &self,
        statuses: &[FileStatus],
        limit: i64,
    ) -> Result<Vec<HeldFile>, RepoError>;
    /// Applies a review if the file is still in one of `review.from`;
    /// returns the file's status afterwards (None if there is no such file).
    async fn review(&self, review: NewReview) -> Result<Option<FileStatus>, RepoError>;
    /// Every file that a rescan looks at (all but rejected ones), optionally of one project.
    async fn files_to_rescan(
        &self,
        project: Option<&NormalizedName>,
    ) -> Result<Vec<FileRecord>, RepoError>;
    /// Normalized names of projects with a published file in which `user_id`
    /// has no role: what a new name of theirs must not imitate. A held or
    /// pending look-alike is not a name anyone relies on yet, and must not
    /// block the real one.
    /// Names (as published, not normalized) of `ecosystem`'s projects with a
    /// published file that `user_id` does not own: the local names a new
    /// name must not imitate.
    async fn published_names_not_owned_by(
        &self,
        ecosystem: &str,
        user_id: i64,
    ) -> Result<Vec<String>, RepoError>;
    /// The reports of the published files of the project's latest release other
    /// than `except_version` (latest by upload), if it has one.
    async fn prior_release(
        &self,
        project: &str,
        except_version: &str,
    ) -> Result<Option<PriorRelease>, RepoError>;
    /// Whether the project has a published file other than `except_file`.
    async fn has_other_published(
        &self,
        project_id: i64,
        except_file: i64,
    ) -> Result<bool, RepoError>;
}

/// The background job queue. On PostgreSQL a claim uses `FOR UPDATE SKIP
/// LOCKED`, so many workers take distinct jobs without waiting on each other.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues a job to run no earlier than `run_after`; returns its ID.
    async fn enqueue(
        &self,
        kind: &str,
        payload: &str,
        run_after: Timestamp,
    ) -> Result<i64, RepoError>;
    /// Takes the oldest ready job of one of `kinds` for `worker`, leased
    /// until `now + lease`. A running job whose lease ran out is ready again.
    async fn claim(
        &self,
        worker: &str,
        kinds: &[&str],
        now: Timestamp,
        lease: std::time::Duration,
    ) -> Result<Option<Job>, RepoError>;
    /// Takes one particular job if it is still queued (an upload verifying
    /// its own file at once); None if a worker has it already.
    async fn claim_id(
        &self,
        id: i64,
        worker: &str,
        now: Timestamp,
        lease: std::time::Duration,
    ) -> Result<Option<Job>, RepoError>;
    /// Marks a job done. False if `worker` no longer holds it (its lease ran
    /// out and another worker took it).
    async fn complete(&self, id: i64, worker: &str) -> Result<bool, RepoError>;
    /// Records a failure: back in the queue at `retry_at`, or failed for good
    /// without one. False if `worker` no longer holds it.
    async fn fail(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool, RepoError>;
    /// A job's status, for tests and the admin view.
    async fn job_status(&self, id: i64) -> Result<Option<JobStatus>, RepoError>;
}

/// The MCP server catalog.
#[async_trait]
pub trait McpRepo: Send + Sync {
    /// In one transaction: the server (owned by the publisher if new), the
    /// version, the latest flag recomputed, the search row and the audit event.
    async fn publish_mcp(&self, new: NewMcpVersion) -> Result<McpPublishOutcome, RepoError>;
    /// One version, or the latest when `version` is None.
    async fn mcp_version(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<McpVersion>, RepoError>;
    /// Every version of a server, oldest first.
    async fn mcp_versions(&self, name: &str) -> Result<Vec<McpVersion>, RepoError>;
    /// Versions in (name, publication) order.
    async fn list_mcp(&self, query: &McpListQuery) -> Result<Vec<McpVersion>, RepoError>;
    /// Latest versions whose name, title or description match, best first;
    /// a name match ranks above a description match.
    async fn search_mcp(
        &self,
        text: &str,
        include_deleted: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<McpVersion>, RepoError>;
    /// Sets the status of one version, or of every version when `version` is
    /// None; returns how many changed. The latest flag is recomputed.
    async fn set_mcp_status(
        &self,
        name: &str,
        version: Option<&str>,
        status: McpStatus,
        message: Option<&str>,
        audit: NewAuditEvent,
    ) -> Result<usize, RepoError>;
    /// The server's owner (user ID and name), if the name is taken here;
    /// None for a mirrored server.
    async fn mcp_owner(&self, name: &str) -> Result<Option<(i64, String)>, RepoError>;
    /// `local` or the upstream a server is mirrored from; None if unknown.
    async fn mcp_origin(&self, name: &str) -> Result<Option<String>, RepoError>;
    /// One version, held or not.
    async fn mcp_version_any(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<McpVersion>, RepoError>;
    /// Stores a page of mirrored versions in one transaction, each a new
    /// version, a status change, or a recorded conflict; the outcomes in the
    /// same order. Local names are never touched.
    async fn mirror_mcp(&self, page: &[MirrorVersion]) -> Result<Vec<MirrorOutcome>, RepoError>;
    /// Holds or releases one version; false if there is no such version.
    async fn change_mcp_hold(&self, change: HoldChange) -> Result<bool, RepoError>;
    /// Held versions, mirrored from `origin` if given, by name and version.
    async fn held_mcp(&self, origin: Option<&str>) -> Result<Vec<McpVersion>, RepoError>;
    /// Takes (or renews) the sync lease of `upstream` for `holder` until
    /// `until`; None while another holder's lease runs.
    async fn take_sync_lease(
        &self,
        upstream: &str,
        holder: &str,
        until: Timestamp,
    ) -> Result<Option<McpSyncState>, RepoError>;
    /// Saves progress and renews the lease; false if `holder` lost it.
    async fn save_sync_state(
        &self,
        state: &McpSyncState,
        holder: &str,
        until: Timestamp,
    ) -> Result<bool, RepoError>;
    async fn release_sync_lease(&self, upstream: &str, holder: &str) -> Result<(), RepoError>;
    async fn sync_states(&self) -> Result<Vec<McpSyncState>, RepoError>;
    async fn record_capture(&self, capture: NewCapture) -> Result<McpCapture, RepoError>;
    /// The latest capture of a version, or its latest in `state`.
    async fn last_capture(
        &self,
        version_id: i64,
        state: Option<CaptureState>,
    ) -> Result<Option<McpCapture>, RepoError>;
    /// The latest successful capture of the newest other version of the same
    /// server stored before this one, with that version.
    async fn previous_version_capture(
        &self,
        version: &McpVersion,
    ) -> Result<Option<(String, McpCapture)>, RepoError>;
    /// `(tool, server)` for each of `names` another server's capture lists.
    async fn tool_name_owners(
        &self,
        server_id: i64,
        names: &[String],
    ) -> Result<Vec<(String, String)>, RepoError>;
    async fn is_mcp_publisher(&self, name: &str, user_id: i64) -> Result<bool, RepoError>;
    /// False if they were one already.
    async fn add_mcp_publisher(
        &self,
        name: &str,
        user_id: i64,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError>;
    /// False if the grant existed already.
    async fn grant_namespace(
        &self,
        glob: &str,
        user_id: i64,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError>;
    /// False if there was no such grant.
    async fn revoke_namespace(
        &self,
        glob: &str,
        user_id: i64,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError>;
    async fn namespace_grants(
        &self,
        user_id: Option<i64>,
    ) -> Result<Vec<NamespaceGrant>, RepoError>;
}

/// Deployments and their encrypted credentials.
#[async_trait]
pub trait DeploymentRepo: Send + Sync {
    /// In one transaction: the deployment, its secrets and the audit event.
    async fn create_deployment(&self, new: NewDeployment) -> Result<(), RepoError>;
    async fn deployment(&self, id: &str) -> Result<Option<Deployment>, RepoError>;
    /// Newest first: `owner`'s deployments, or everyone's; after the
    /// `(created_at, id)` of the previous page's last one.
    async fn list_deployments(
        &self,
        owner: Option<i64>,
        after: Option<(Timestamp, String)>,
        limit: i64,
    ) -> Result<Vec<Deployment>, RepoError>;
    async fn deployment_secrets(&self, id: &str) -> Result<Vec<StoredSecret>, RepoError>;
    /// Deletes the deployment and destroys its ciphertexts; false if absent.
    async fn delete_deployment(&self, id: &str, audit: NewAuditEvent) -> Result<bool, RepoError>;
    /// Up to `limit` secrets whose key is not `key_id`, for rotation.
    async fn secrets_not_under(
        &self,
        key_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredSecret>, RepoError>;
    /// Replaces one secret's wrapping if it is still under `old.key_id`
    /// (so concurrent rotations cannot clobber each other); false if not.
    async fn rewrap_secret(
        &self,
        old: &StoredSecret,
        new: &StoredSecret,
    ) -> Result<bool, RepoError>;
    /// How many secrets each master key wraps.
    async fn secrets_by_key(&self) -> Result<Vec<(String, i64)>, RepoError>;
}

/// Project search: SQLite FTS5, or PostgreSQL tsvector plus pg_trgm.
#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// Projects with at least one published file whose name or summary
    /// matches `query` (plain words; no query syntax), best first.
    async fn search_projects(&self, query: &str, limit: i64) -> Result<Vec<SearchHit>, RepoError>;
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, event: NewAuditEvent) -> Result<(), RepoError>;
    /// Newest first, at most `limit`.
    async fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, RepoError>;
    /// Events matching every filter given, newest first.
    async fn query(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, RepoError>;
}

/// A content-addressed blob key: `sha256/ab/cd/abcd…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// The key for content whose SHA-256 is `hex` (64 lowercase hex characters).
    pub fn for_sha256(hex: &str) -> Self {
        debug_assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        Self(format!("sha256/{}/{}/{}", &hex[..2], &hex[2..4], hex))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a stored blob can be served.
#[derive(Debug, Clone)]
pub enum BlobLocation {
    /// A file on local disk, served directly (with Range support). It is not
    /// checked for existence; opening it is the check.
    LocalFile(PathBuf),
    /// A short-lived URL to redirect the client to (object storage).
    Redirect(String),
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} does not exist")]
    NotFound(String),
    #[error("blob store failed to {step} {key}: {reason}")]
    Failed {
        step: &'static str,
        key: String,
        reason: String,
    },
}

/// Immutable, content-addressed blob storage. Writes are create-only: a key
/// that exists is never overwritten (its content is the same by construction).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores the staged file under `key`, consuming it.
    async fn put_file(&self, key: &BlobKey, staged: &Path) -> Result<(), BlobError>;
    /// A hint that `staged` is likely to be stored soon: a store that must
    /// make it durable first may start on that now, in the background.
    /// `put_file` makes its own guarantees whether or not this was called.
    fn prepare_file(&self, _staged: &Path) {}
    /// Stores a small blob held in memory (e.g. a METADATA file).
    async fn put_bytes(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError>;
    async fn locate(&self, key: &BlobKey) -> Result<BlobLocation, BlobError>;
    /// Whether a blob is stored under `key`.
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;
    /// Copies a blob into the local file `dest` (created or truncated), for
    /// the verification worker to read.
    async fn fetch_to(&self, key: &BlobKey, dest: &Path) -> Result<(), BlobError>;
    /// Whether the store can be reached, for `/readyz`.
    async fn check(&self) -> Result<(), BlobError>;
}

/// Why a rate limiter could not decide.
#[derive(Debug, thiserror::Error)]
#[error("the rate limiter is unavailable: {0}")]
pub struct RateLimitUnavailable(pub String);

/// Rate-limit buckets: in process on one node, in Redis when scaled out so
/// the limit holds across instances.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request against `key` under `policy`.
    async fn acquire(
        &self,
        key: &str,
        policy: &crate::ratelimit::RatePolicy,
    ) -> Result<crate::ratelimit::RateDecision, RateLimitUnavailable>;
}

/// Hosted npm packages: versions, dist-tags, deprecations and unpublishes.
/// Tarballs are file rows (status, report and review as for any file).
#[async_trait]
pub trait NpmRepo: Send + Sync {
    /// A package with every version and tag; `None` if it is not hosted here.
    async fn npm_package(
        &self,
        name: &str,
    ) -> Result<Option<crate::npm::record::StoredPackage>, RepoError>;
    /// Records a version, its tarball's file row and its tags in one transaction.
    async fn publish_npm(
        &self,
        new: crate::npm::record::NewVersion,
    ) -> Result<crate::npm::record::PublishOutcome, RepoError>;
    /// Applies a change; false if it changed nothing (no such version or tag).
    async fn change_npm(
        &self,
        change: crate::npm::record::PackageChange,
    ) -> Result<bool, RepoError>;
    /// Hosted packages, other than `except`, with a live version depending on `name`.
    async fn npm_dependents(&self, name: &str, except: &str) -> Result<Vec<String>, RepoError>;
    /// Owners of hosted packages whose names start with `@scope/`.
    async fn npm_scope_owners(&self, scope: &str) -> Result<Vec<i64>, RepoError>;
    /// Packages with a published version matching `query`, best first.
    async fn search_npm(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<crate::npm::record::NpmHit>, RepoError>;
}

/// The proxy's shared state: upstream pages and runtime rules.
#[async_trait]
pub trait ProxyRepo: Send + Sync {
    async fn cached_page(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<crate::proxy::CachedPage>, RepoError>;
    /// Stores (or replaces) a page.
    async fn store_page(&self, page: &crate::proxy::CachedPage) -> Result<(), RepoError>;
    /// Marks a stored page as revalidated at `at` (upstream answered 304).
    async fn touch_page(&self, ecosystem: &str, name: &str, at: Timestamp)
        -> Result<(), RepoError>;
    async fn rules(&self, ecosystem: &str) -> Result<Vec<crate::proxy::ProxyRule>, RepoError>;
    /// Stores a rule with its audit event; `None` if the same rule exists.
    async fn add_rule(
        &self,
        rule: crate::proxy::NewProxyRule,
    ) -> Result<Option<crate::proxy::ProxyRule>, RepoError>;
    /// Removes a rule with its audit event; `false` if there was none.
    async fn remove_rule(
        &self,
        ecosystem: &str,
        kind: crate::proxy::RuleKind,
        spec: &str,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError>;
    /// The id of the user proxied files are recorded as uploaded by, made on first use.
    async fn proxy_user(&self) -> Result<i64, RepoError>;
    /// Counts of what the proxy stored.
    async fn stats(&self, ecosystem: &str) -> Result<crate::proxy::ProxyStats, RepoError>;
}
