//! The records Wharf keeps. Repositories return these; services decide with them.

use crate::{DistKind, NormalizedName, Scopes, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    pub created_at: Timestamp,
}

/// An API token's stored record. The token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub scopes: Scopes,
    /// Projects this token is restricted to. With no namespaces either, empty
    /// means every project the user may touch.
    pub projects: Vec<NormalizedName>,
    /// MCP server-name globs this token is restricted to (`com.acme/*`). A
    /// token restricted in either way reaches only what its lists name.
    pub namespaces: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl TokenRecord {
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether the token is restricted to projects or namespaces at all.
    pub fn is_restricted(&self) -> bool {
        !self.projects.is_empty() || !self.namespaces.is_empty()
    }
}

/// What a new token is created with; `hash_hex` is SHA-256 of the plaintext.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub user_id: i64,
    pub name: String,
    pub hash_hex: String,
    pub scopes: Scopes,
    pub projects: Vec<NormalizedName>,
    pub namespaces: Vec<String>,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: i64,
    /// The name as first uploaded, for display.
    pub name: String,
    pub normalized: NormalizedName,
    pub created_at: Timestamp,
    pub origin: Origin,
}

/// Where a project's files come from. A name is one or the other for good:
/// a hosted name is never looked up upstream, and a proxied one takes no uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Uploaded to this registry.
    Local,
    /// Fetched from the upstream index through the proxy.
    Proxy,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Proxy => "proxy",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "local" => Some(Self::Local),
            "proxy" => Some(Self::Proxy),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: i64,
    pub project_id: i64,
    /// Canonical PEP 440 spelling.
    pub version: String,
    pub yank_reason: Option<String>,
    pub is_yanked: bool,
    pub created_at: Timestamp,
}

/// Where a file stands in the verification pipeline. Only `Published` files
/// are offered by the simple API and downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Pending,
    Published,
    Quarantined,
    Rejected,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Published => "published",
            Self::Quarantined => "quarantined",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => Self::Pending,
            "published" => Self::Published,
            "quarantined" => Self::Quarantined,
            "rejected" => Self::Rejected,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub id: i64,
    pub project_id: i64,
    pub version: String,
    pub filename: String,
    pub kind: DistKind,
    pub python_tag: String,
    pub size: i64,
    pub sha256: String,
    pub blake2_256: String,
    pub md5: String,
    pub requires_python: Option<String>,
    /// SHA-256 of the PEP 658 metadata file, when one is served.
    pub metadata_sha256: Option<String>,
    pub status: FileStatus,
    pub uploaded_at: Timestamp,
    pub uploader_id: i64,
}

/// What an upload checks about the project it adds to, without loading every
/// file row: the bytes stored under it (files of every status), its release
/// versions as stored, and whether it has a published file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTotals {
    pub total_bytes: u64,
    pub versions: Vec<String>,
    /// Whether any of its files is published (a new file is not its first).
    pub has_published: bool,
}

/// Everything the simple API and the project API show about one project.
#[derive(Debug, Clone)]
pub struct ProjectListing {
    pub project: Project,
    pub releases: Vec<Release>,
    pub files: Vec<FileRecord>,
    pub owners: Vec<String>,
}

/// A file that passed the upload checks and whose bytes are already stored.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub project_name: String,
    pub normalized: NormalizedName,
    pub version: String,
    pub summary: Option<String>,
    pub filename: String,
    pub kind: DistKind,
    pub python_tag: String,
    pub size: i64,
    pub sha256: String,
    pub blake2_256: String,
    pub md5: String,
    pub requires_python: Option<String>,
    pub metadata_sha256: Option<String>,
    pub status: FileStatus,
    pub uploader_id: i64,
    pub token_id: Option<i64>,
    pub uploaded_at: Timestamp,
    /// `Proxy` for a file the proxy fetched: its project is created without
    /// an owner, and `uploader_id` is the proxy's own user.
    pub origin: Origin,
    pub audit: NewAuditEvent,
    /// The verdict, when the uploader scanned the file before recording it:
    /// stored with the file in the same transaction (and `status` is the
    /// verdict's), instead of a queued job.
    pub verdict: Option<UploadVerdict>,
}

impl NewUpload {
    /// The file row as committed, built from what was written rather than
    /// read back: the release's version is `version` exactly, since the
    /// release was found or inserted by that string.
    pub fn into_record(self, id: i64, project_id: i64) -> FileRecord {
        FileRecord {
            id,
            project_id,
            version: self.version,
            filename: self.filename,
            kind: self.kind,
            python_tag: self.python_tag,
            size: self.size,
            sha256: self.sha256,
            blake2_256: self.blake2_256,
            md5: self.md5,
            requires_python: self.requires_python,
            metadata_sha256: self.metadata_sha256,
            status: self.status,
            uploaded_at: self.uploaded_at,
            uploader_id: self.uploader_id,
        }
    }
}

/// A verification verdict stored with the upload it judges.
#[derive(Debug, Clone)]
pub struct UploadVerdict {
    pub verdict: String,
    pub rules_version: String,
    /// The findings, as JSON.
    pub findings: String,
    pub scanned_at: Timestamp,
    /// The event of the status the verdict gave the file.
    pub audit: NewAuditEvent,
}

/// What recording an upload came to. Business outcomes are values, not errors.
#[derive(Debug, Clone)]
pub enum UploadOutcome {
    Created {
        file: FileRecord,
        created_project: bool,
        /// The verification job queued with it, for a `pending` file.
        verify_job: Option<i64>,
    },
    /// The same filename with the same bytes is already stored: a no-op.
    AlreadyExists { file: FileRecord },
    /// The filename is taken by different bytes; filenames are never reused.
    FilenameTaken { existing_sha256: String },
    /// The project exists and the uploader has no role in it.
    NotOwner,
    /// The project's files come from the other origin: an upload to a
    /// proxied name, or a proxied file of a name hosted here.
    OtherOrigin,
}

/// One append-only audit log entry. Never holds a secret.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub action: String,
    pub target: String,
    /// Extra facts as a JSON object.
    pub detail: String,
    pub ip_hash: Option<String>,
    pub at: Timestamp,
}

impl NewAuditEvent {
    /// An event happening now, on `target`, with no actor, IP or detail yet.
    pub fn new(action: &str, target: impl Into<String>) -> Self {
        Self {
            actor_user_id: None,
            actor_token_id: None,
            action: action.to_owned(),
            target: target.into(),
            detail: "{}".to_owned(),
            ip_hash: None,
            at: Timestamp::now(),
        }
    }

    /// Who acted: a user, and the token they used if any.
    pub fn by(mut self, user_id: Option<i64>, token_id: Option<i64>) -> Self {
        self.actor_user_id = user_id;
        self.actor_token_id = token_id;
        self
    }

    /// The salted hash of the client's IP, when the act came over HTTP.
    pub fn from_ip(mut self, ip_hash: Option<String>) -> Self {
        self.ip_hash = ip_hash;
        self
    }

    /// Extra facts, as a JSON object.
    pub fn detail(mut self, detail: String) -> Self {
        self.detail = detail;
        self
    }
}

/// An audit log entry as read back, with its actor's names as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    /// The acting user's name; `None` without an actor or if the user is gone.
    pub actor_user_name: Option<String>,
    /// The label of the token the actor used; `None` without one or if it is gone.
    pub actor_token_name: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip_hash: Option<String>,
    pub at: Timestamp,
}

/// Which audit events to read; unset filters match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    /// Only events older than this ID (the pagination cursor).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// A live web session. The cookie holds the session ID; the database holds
/// only its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// Sent back in every state-changing form of this session.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Redacts the CSRF token: debug output never carries auth context.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("csrf_token", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a new session is created with.
#[derive(Clone)]
pub struct NewSession {
    pub id_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where an RFC 8628 device authorization request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for a user to approve or deny it at `/device`.
    Pending,
    Approved,
    Denied,
    /// The device received its token; the code cannot be used again.
    Redeemed,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "redeemed" => Self::Redeemed,
            _ => return None,
        })
    }
}

/// A stored device authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    pub id: i64,
    /// Normalized: 8 letters, upper case, no dash.
    pub user_code: String,
    /// The scopes the token will carry once approved.
    pub scopes: Scopes,
    pub status: DeviceStatus,
    /// The minimum seconds between polls; grows by 5 on each `slow_down`.
    pub interval_secs: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_polled_at: Option<Timestamp>,
    /// Who approved or denied it.
    pub user_id: Option<i64>,
}

/// What a new device request is stored with; `device_code_hash` is the
/// SHA-256 of the device code, which itself is never stored.
#[derive(Debug, Clone)]
pub struct NewDeviceRequest {
    pub device_code_hash: String,
    pub user_code: String,
    /// The salted hash of the requesting client's rate-limit key, never
    /// the address itself.
    pub requester: String,
    pub scopes: Scopes,
    pub interval_secs: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How many device requests may be pending at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCaps {
    /// Across the registry: bounds the store.
    pub total: i64,
    /// From one client (an IPv4 address or an IPv6 /64): one client cannot
    /// fill the store and lock everyone else out.
    pub per_requester: i64,
}

/// What became of a new device request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceInsert {
    Created,
    /// `DeviceCaps::total` requests are pending.
    StoreFull,
    /// `DeviceCaps::per_requester` requests from this client are pending.
    RequesterFull,
}

/// One project found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub name: String,
    pub normalized: NormalizedName,
    pub summary: String,
}

/// A background job, as a worker claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// A JSON object; its shape belongs to the job kind.
    pub payload: String,
    /// How many times it has been claimed, this time included.
    pub attempts: i64,
    /// The lease: the job returns to the queue if not finished by then.
    pub locked_until: Timestamp,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    /// Failed for good (no retry left).
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// The job kind that verifies one uploaded file.
pub const VERIFY_JOB: &str = "verify";
/// Listing the tools of a catalog version's remote server.
pub const CAPTURE_JOB: &str = "mcp-capture";

/// A file's latest verification report, and the review decision on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub file_id: i64,
    /// `pass`, `quarantine` or `block`.
    pub verdict: String,
    pub rules_version: String,
    /// A JSON array of findings.
    pub findings: String,
    pub scanned_at: Timestamp,
    pub review: Option<Review>,
}

/// The stored decision of a reviewer who published a held file.
pub const REVIEW_RELEASED: &str = "released";
/// The stored decision of a reviewer who kept a file out for good.
pub const REVIEW_REJECTED: &str = "rejected";

/// The reports of a project's previous published release, which a new release's
/// findings are compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorRelease {
    pub version: String,
    pub reports: Vec<PriorReport>,
}

/// One published file's report in a [`PriorRelease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorReport {
    /// A JSON array of findings.
    pub findings: String,
    /// A reviewer released the file.
    pub released: bool,
}

/// An administrator's decision on a held file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// `released` or `rejected`.
    pub decision: String,
    pub reason: String,
    pub reviewer: Option<String>,
    pub at: Timestamp,
}

/// A scan's result to store, and the status change it makes.
#[derive(Debug, Clone)]
pub struct RecordVerdict {
    pub file_id: i64,
    pub verdict: String,
    pub rules_version: String,
    pub findings: String,
    pub scanned_at: Timestamp,
    /// The change applies only from one of these statuses, so a file an
    /// administrator decided on meanwhile keeps that decision.
    pub from: Vec<FileStatus>,
    pub to: FileStatus,
    /// The job this finishes, with the worker holding it. The verdict is
    /// stored only while the worker still holds the job.
    pub job: Option<(i64, String)>,
    pub audit: Option<NewAuditEvent>,
}

/// What storing a verdict came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictOutcome {
    Applied,
    /// The file is in another status now (or gone); nothing was changed.
    StatusChanged(Option<FileStatus>),
    /// The worker's lease ran out and another took the job; nothing was changed.
    JobLost,
}

/// An administrator's release or rejection of a held file.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub file_id: i64,
    pub from: Vec<FileStatus>,
    pub to: FileStatus,
    /// [`REVIEW_RELEASED`] or [`REVIEW_REJECTED`].
    pub decision: &'static str,
    pub reason: String,
    /// None for a decision made with the local CLI.
    pub reviewer_id: Option<i64>,
    pub at: Timestamp,
    pub audit: NewAuditEvent,
}

/// A file with its project's name and its report, for the review queue.
#[derive(Debug, Clone)]
pub struct HeldFile {
    pub file: FileRecord,
    pub project: String,
    pub report: Option<ScanReport>,
}

/// An MCP server version's lifecycle status, as the registry API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpStatus {
    Active,
    Deprecated,
    Deleted,
}

impl McpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deprecated => "deprecated",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "active" => Self::Active,
            "deprecated" => Self::Deprecated,
            "deleted" => Self::Deleted,
            _ => return None,
        })
    }
}

/// One published version of an MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpVersion {
    pub id: i64,
    pub server_id: i64,
    /// The server name as its first publisher spelled it.
    pub name: String,
    pub version: String,
    /// The stored server.json (validated, `_meta` reduced to what we keep).
    pub document: String,
    /// A JSON array: the checks each package passed at publish time.
    pub checks: String,
    pub status: McpStatus,
    pub status_message: Option<String>,
    pub is_latest: bool,
    pub published_at: Timestamp,
    pub updated_at: Timestamp,
    /// `local`, or the name of the upstream registry it is mirrored from.
    pub origin: String,
    /// Why the version is not served; None when it is.
    pub hold: Option<McpHold>,
    /// A JSON array of the problems that hold it (`[]` when none).
    pub report: String,
    /// When upstream published a mirrored version.
    pub upstream_published_at: Option<Timestamp>,
    /// Set when upstream changed a mirrored version's document after it
    /// was copied (the first copy is kept).
    pub conflict: Option<McpConflict>,
    /// What its latest capture came to, if it was captured.
    pub tools: Option<ToolsSummary>,
}

/// The latest capture of a version, in short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolsSummary {
    pub state: CaptureState,
    /// From the latest successful capture: the canonical hash, the tool
    /// names (a JSON array) and when.
    pub hash: Option<String>,
    pub names: Option<String>,
    pub captured_at: Option<Timestamp>,
}

/// Another document upstream served under a version already copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpConflict {
    /// SHA-256 (hex) of the other document, as upstream served it.
    pub sha256: String,
    /// When it was first seen.
    pub seen_at: Timestamp,
}

/// The origin of servers published here.
pub const LOCAL_ORIGIN: &str = "local";

/// Why a catalog version is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpHold {
    /// A check failed; the report says which.
    Checks,
    /// A check could not run (an upstream was unreachable); retried at the next sync.
    Unverified,
    /// Younger than its upstream's `min_release_age`.
    Cooldown,
    /// An administrator held it.
    Admin,
    /// Its server's tools: poisoned, or changed in place.
    Tools,
}

impl McpHold {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checks => "checks",
            Self::Unverified => "unverified",
            Self::Cooldown => "cooldown",
            Self::Admin => "admin",
            Self::Tools => "tools",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "checks" => Self::Checks,
            "unverified" => Self::Unverified,
            "cooldown" => Self::Cooldown,
            "admin" => Self::Admin,
            "tools" => Self::Tools,
            _ => return None,
        })
    }
}

/// A version copied from an upstream registry, checked, to store.
#[derive(Debug, Clone)]
pub struct MirrorVersion {
    /// The configured upstream's name: the server's origin.
    pub upstream: String,
    pub name: String,
    pub version: String,
    /// The document as stored: validated when it passed validation.
    pub document: String,
    /// SHA-256 (hex) of the document as upstream served it, recorded if it
    /// differs from the copy already kept.
    pub upstream_sha256: String,
    pub checks: String,
    pub status: McpStatus,
    pub status_message: Option<String>,
    pub hold: Option<McpHold>,
    pub report: String,
    pub upstream_published_at: Option<Timestamp>,
    pub at: Timestamp,
}

/// What storing a mirrored version came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorOutcome {
    /// A version new here.
    Added,
    /// Known already, with the same document and status.
    Unchanged,
    /// Known already; its upstream status changed and was copied.
    StatusChanged,
    /// Known already, and upstream now serves another document under the
    /// same version: the first copy is kept and the change recorded.
    Conflict,
    /// The name is local, or mirrored from another upstream: left alone.
    Shadowed { origin: String },
}

/// A change of a version's hold: set it, or release it.
#[derive(Debug, Clone)]
pub struct HoldChange {
    pub name: String,
    pub version: String,
    /// None releases the version.
    pub hold: Option<McpHold>,
    /// The problems found, when the checks ran again.
    pub report: Option<String>,
    pub checks: Option<String>,
    /// An administrator's release: checks do not hold it again.
    pub released_by: Option<i64>,
    pub at: Timestamp,
    pub audit: Option<NewAuditEvent>,
}

/// Where a sync of one upstream stands, shared by every instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpSyncState {
    pub upstream: String,
    /// The newest upstream `updatedAt` fully synced, as upstream spelled it.
    pub high_water: Option<String>,
    /// The run in progress: its `updated_since`, the cursor to resume at and
    /// the newest `updatedAt` it has seen, and when it started.
    pub run_since: Option<String>,
    pub run_cursor: Option<String>,
    pub run_max: Option<String>,
    pub run_started_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// What connecting to a server to list its tools came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureState {
    Captured,
    /// It answered 401 or 403: a capture sends no credentials.
    NeedsCredentials,
    Failed,
}

impl CaptureState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Captured => "captured",
            Self::NeedsCredentials => "needs-credentials",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "captured" => Self::Captured,
            "needs-credentials" => Self::NeedsCredentials,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// One capture of a version's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpCapture {
    pub id: i64,
    pub version_id: i64,
    pub state: CaptureState,
    /// The canonical hash of the tools (names, descriptions, input schemas).
    pub tools_hash: Option<String>,
    /// JSON arrays, as the server listed them.
    pub tools: String,
    pub prompts: String,
    pub resources: String,
    /// JSON array of the `tool.*` findings.
    pub findings: String,
    /// Why it failed, or what asked for credentials.
    pub detail: Option<String>,
    pub captured_at: Timestamp,
}

/// A capture to store; `tool_names` replace the version's names when it
/// captured something.
#[derive(Debug, Clone)]
pub struct NewCapture {
    pub version_id: i64,
    pub server_id: i64,
    pub state: CaptureState,
    pub tools_hash: Option<String>,
    pub tools: String,
    pub prompts: String,
    pub resources: String,
    pub findings: String,
    pub detail: Option<String>,
    pub tool_names: Vec<String>,
    pub at: Timestamp,
}

/// A validated version to store.
#[derive(Debug, Clone)]
pub struct NewMcpVersion {
    pub name: String,
    pub version: String,
    pub document: String,
    pub checks: String,
    pub title: String,
    pub description: String,
    pub publisher_id: i64,
    pub at: Timestamp,
    pub audit: NewAuditEvent,
}

/// What publishing came to. Business outcomes are values, not errors.
#[derive(Debug, Clone)]
pub enum McpPublishOutcome {
    Published(Box<McpVersion>),
    /// Versions are immutable.
    DuplicateVersion,
    /// The name belongs to someone who has not added this publisher.
    NotPublisher {
        owner: String,
    },
}

/// Filters of `GET /v0/servers`, already validated.
#[derive(Debug, Clone, Default)]
pub struct McpListQuery {
    /// Resume after this (server name, version), in name order.
    pub after: Option<(String, String)>,
    pub limit: i64,
    pub updated_since: Option<Timestamp>,
    /// `Some("latest")` keeps the latest version of each server.
    pub version: Option<String>,
    pub include_deleted: bool,
}

/// A namespace grant: a case-insensitive glob such as `com.acme/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceGrant {
    pub glob: String,
    pub user: String,
    pub created_at: Timestamp,
}

/// One encrypted credential as stored: never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub deployment_id: String,
    pub name: String,
    /// The master key that wraps `wrapped_key`.
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("deployment_id", &self.deployment_id)
            .field("name", &self.name)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A deployment to store, with its credentials already encrypted.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub id: String,
    pub owner_user_id: i64,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub registry_type: String,
    pub identifier: String,
    pub version: String,
    /// The launch plan as JSON (variable names only).
    pub plan: String,
    /// The tool hash of the server version's capture at creation, if any.
    pub tools_hash: Option<String>,
    pub secrets: Vec<StoredSecret>,
    pub created_at: Timestamp,
    pub audit: NewAuditEvent,
}

/// A stored deployment's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    pub owner_user_id: i64,
    pub owner: String,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub registry_type: String,
    pub identifier: String,
    pub version: String,
    pub plan: String,
    /// The tool hash of the server version's capture at creation, if any.
    pub tools_hash: Option<String>,
    /// Names of the stored credentials, sorted.
    pub secret_names: Vec<String>,
    pub created_at: Timestamp,
}
