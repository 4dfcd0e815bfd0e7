//! Capturing what a version's remote server exposes: Wharf connects as an
//! MCP client (no credentials, through the guarded client of
//! `wharf_upstream::mcp_client`), lists tools, prompts and resources, and
//! judges the tools with the `tool.*` rules of `wharf_scan::tools`:
//! poisoning, a re-capture of the same version that differs (a rug pull),
//! a diff against the previous version, and tool names another server of
//! the catalog exposes. A quarantine-level finding holds the version, with
//! its report, like a package file held for review.
//!
//! Captures run from the job queue (after a publish or a sync adds a version
//! with a remote) and on an administrator's request.

use super::entries::not_found;
use super::{Catalog, McpError, McpProblem};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use wharf_core::model::{
    CaptureState, HoldChange, McpCapture, McpHold, McpVersion, NewCapture, CAPTURE_JOB,
};
use wharf_core::ports::RepoError;
use wharf_core::Timestamp;
use wharf_scan::tools::{self, Tool};
use wharf_scan::{Finding, Severity};
use wharf_upstream::mcp_client::{CaptureError, Transport};

/// What a capture of one version shows
/// (`GET /v0.1/x/io.wharf/servers/{name}/versions/{version}/tools`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolsView {
    pub name: String,
    pub version: String,
    /// `captured`, `needs-credentials`, `failed`, or `not-captured`.
    pub state: &'static str,
    /// The canonical hash of the tools (names, descriptions, input schemas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// As the server listed them.
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub prompts: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub resources: Vec<Value>,
    /// The `tool.*` findings: rule, severity, file (`tools/<name>`),
    /// evidence and explanation.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Value>,
    /// Why the capture failed, or what asked for credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The payload of a capture job.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CaptureJob {
    name: String,
    version: String,
}

impl ToolsView {
    fn of(v: &McpVersion, capture: Option<&McpCapture>) -> Self {
        let list = |raw: &str| serde_json::from_str::<Vec<Value>>(raw).unwrap_or_default();
        Self {
            name: v.name.clone(),
            version: v.version.clone(),
            state: capture.map_or("not-captured", |c| c.state.as_str()),
            tools_hash: capture.and_then(|c| c.tools_hash.clone()),
            captured_at: capture.map(|c| c.captured_at.to_rfc3339_micros()),
            tools: capture.map(|c| list(&c.tools)).unwrap_or_default(),
            prompts: capture.map(|c| list(&c.prompts)).unwrap_or_default(),
            resources: capture.map(|c| list(&c.resources)).unwrap_or_default(),
            findings: capture.map(|c| list(&c.findings)).unwrap_or_default(),
            detail: capture.and_then(|c| c.detail.clone()),
        }
    }
}

/// The remote a capture connects to: the first streamable-http or sse remote
/// whose URL is fixed (a URL with `{variables}` needs a deployer's values).
fn remote_of(document: &str) -> Option<(String, Transport)> {
    let doc: Value = serde_json::from_str(document).ok()?;
    doc.get("remotes")?.as_array()?.iter().find_map(|remote| {
        let transport = match remote.get("type")?.as_str()? {
            "streamable-http" => Transport::StreamableHttp,
            "sse" => Transport::Sse,
            _ => return None,
        };
        let url = remote.get("url")?.as_str()?;
        (!url.contains('{')).then(|| (url.to_owned(), transport))
    })
}

/// What a capture connects to.
enum Target {
    Remote(String, Transport),
    /// Run in the sandbox.
    Package(
        std::sync::Arc<super::sandbox::Sandbox>,
        Box<wharf_core::mcp::Package>,
    ),
}

/// The package a sandbox can run: the first PyPI stdio package.
fn sandboxed_package(document: &str) -> Option<wharf_core::mcp::Package> {
    let doc: Value = serde_json::from_str(document).ok()?;
    let packages: Vec<wharf_core::mcp::Package> =
        serde_json::from_value(doc.get("packages")?.clone()).ok()?;
    packages.into_iter().find(super::sandbox::Sandbox::handles)
}

/// A tool as the rules read it; a tool without a name is left out.
fn tool_of(value: &Value) -> Option<Tool> {
    Some(Tool {
        name: value.get("name")?.as_str()?.to_owned(),
        description: value
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        input_schema: value.get("inputSchema").cloned().unwrap_or(Value::Null),
    })
}

fn tools_in(raw: &str) -> Vec<Tool> {
    serde_json::from_str::<Vec<Value>>(raw)
        .unwrap_or_default()
        .iter()
        .filter_map(tool_of)
        .collect()
}

fn json_of<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

impl Catalog {
    /// Whether a version (its stored document) has something to capture,
    /// and capture is on.
    pub fn capturable(&self, document: &str) -> bool {
        self.capture.is_some()
            && (remote_of(document).is_some()
                || (self.sandbox.is_some() && sandboxed_package(document).is_some()))
    }

    /// Queues a capture of a version that has something to capture, for the
    /// workers.
    pub async fn queue_capture(
        &self,
        name: &str,
        version: &str,
        document: &str,
    ) -> Result<(), RepoError> {
        if !self.capturable(document) {
            return Ok(());
        }
        let payload = json_of(&CaptureJob {
            name: name.to_owned(),
            version: version.to_owned(),
        });
        self.jobs
            .enqueue(CAPTURE_JOB, &payload, Timestamp::now())
            .await
            .map(|_| ())
    }

    /// The latest capture of one served version.
    pub async fn tools(&self, name: &str, version: &str) -> Result<ToolsView, McpError> {
        let wanted = (version != "latest").then_some(version);
        let v = self
            .repo
            .mcp_version(name, wanted)
            .await?
            .ok_or_else(|| match wanted {
                Some(v) => McpError::NotFound(format!("server '{name}' has no version '{v}'")),
                None => not_found(name),
            })?;
        let capture = self.repo.last_capture(v.id, None).await?;
        Ok(ToolsView::of(&v, capture.as_ref()))
    }

    /// Captures one version now (held versions too: an administrator may
    /// want to see what holds it).
    pub async fn capture_now(&self, name: &str, version: &str) -> Result<ToolsView, McpError> {
        let v = self
            .repo
            .mcp_version_any(name, version)
            .await?
            .ok_or_else(|| {
                McpError::NotFound(format!("server '{name}' has no version '{version}'"))
            })?;
        let capture = self.capture_version(&v).await?;
        Ok(ToolsView::of(&v, Some(&capture)))
    }

    /// Connects, lists, judges and records; holds the version when a finding
    /// calls for review.
    pub async fn capture_version(&self, v: &McpVersion) -> Result<McpCapture, McpError> {
        let Some(client) = &self.capture else {
            return Err(McpError::Conflict(
                "capturing remote servers is off: set [mcp.capture] remote = true".into(),
            ));
        };
        let nothing = || {
            McpError::invalid(
                "nothing to capture",
                vec![McpProblem::at(
                    "remotes",
                    "this version has no streamable-http or sse remote with a fixed URL; package \
                     (stdio) servers are captured only in a sandbox ([mcp.capture] sandbox = true, \
                     PyPI packages)",
                )],
            )
        };
        let target = match (remote_of(&v.document), &self.sandbox) {
            (Some((url, transport)), _) => Target::Remote(url, transport),
            (None, Some(sandbox)) => Target::Package(
                sandbox.clone(),
                Box::new(sandboxed_package(&v.document).ok_or_else(nothing)?),
            ),
            (None, None) => return Err(nothing()),
        };
        let at = Timestamp::now();
        let mut new = NewCapture {
            version_id: v.id,
            server_id: v.server_id,
            state: CaptureState::Failed,
            tools_hash: None,
            tools: "[]".into(),
            prompts: "[]".into(),
            resources: "[]".into(),
            findings: "[]".into(),
            detail: None,
            tool_names: Vec::new(),
            at,
        };
        let mut hold: Vec<Finding> = Vec::new();
        let outcome = match target {
            Target::Remote(url, transport) => client.capture(&url, transport).await,
            Target::Package(sandbox, package) => sandbox.capture(client, &package).await,
        };
        match outcome {
            Ok(captured) => {
                let listed: Vec<Tool> = captured.tools.iter().filter_map(tool_of).collect();
                let hash = tools::tools_hash(&listed);
                let before = self
                    .repo
                    .last_capture(v.id, Some(CaptureState::Captured))
                    .await?;
                let findings = self.judge(v, before.as_ref(), &listed, &hash).await?;
                // Findings already seen on the same tools were reviewed then;
                // new tools, or new findings, are new evidence.
                let is_new = before.and_then(|b| b.tools_hash) != Some(hash.clone());
                if is_new {
                    hold = findings
                        .iter()
                        .filter(|f| f.severity >= Severity::Quarantine)
                        .cloned()
                        .collect();
                }
                new.state = CaptureState::Captured;
                new.tools_hash = Some(hash);
                new.tools = json_of(&captured.tools);
                new.prompts = json_of(&captured.prompts);
                new.resources = json_of(&captured.resources);
                new.findings = json_of(&findings);
                new.tool_names = listed.iter().map(|t| t.name.clone()).collect();
            }
            Err(CaptureError::NeedsCredentials { status }) => {
                new.state = CaptureState::NeedsCredentials;
                new.detail = Some(format!(
                    "the server answered {status}: it needs credentials, and a capture sends none"
                ));
            }
            Err(e) => new.detail = Some(e.to_string()),
        }
        let recorded = self.repo.record_capture(new).await?;
        if !hold.is_empty() && v.hold.is_none() {
            let report: Vec<McpProblem> = hold
                .iter()
                .map(|f| {
                    McpProblem::at(
                        f.file.clone().unwrap_or_default(),
                        format!(
                            "{}: {}{}",
                            f.rule,
                            f.explanation,
                            f.evidence
                                .as_deref()
                                .map(|e| format!(" ({e})"))
                                .unwrap_or_default()
                        ),
                    )
                })
                .collect();
            self.repo
                .change_mcp_hold(HoldChange {
                    name: v.name.clone(),
                    version: v.version.clone(),
                    hold: Some(McpHold::Tools),
                    report: Some(json_of(&report)),
                    checks: None,
                    released_by: None,
                    at,
                    audit: None,
                })
                .await?;
            tracing::warn!(server = %v.name, version = %v.version, "held for its tools");
        }
        Ok(recorded)
    }

    /// The `tool.*` findings over a capture: the rules over each tool, a
    /// change since the last capture of this version (or else since the
    /// previous version), and names other servers expose.
    async fn judge(
        &self,
        v: &McpVersion,
        before: Option<&McpCapture>,
        listed: &[Tool],
        hash: &str,
    ) -> Result<Vec<Finding>, RepoError> {
        let mut findings = tools::scan_tools(listed);
        match before {
            Some(before) if before.tools_hash.as_deref() != Some(hash) => {
                let diff = tools::diff_tools(&tools_in(&before.tools), listed);
                findings.extend(tools::changed_in_place(&diff));
            }
            Some(_) => {}
            None => {
                if let Some((version, previous)) = self.repo.previous_version_capture(v).await? {
                    let diff = tools::diff_tools(&tools_in(&previous.tools), listed);
                    findings.extend(tools::changed_since(&version, &diff));
                }
            }
        }
        let names: Vec<String> = listed.iter().map(|t| t.name.clone()).collect();
        let taken = self.repo.tool_name_owners(v.server_id, &names).await?;
        findings.extend(tools::collisions(&taken));
        Ok(findings)
    }

    /// Runs queued captures until none is ready; for `wharf serve`, `wharf
    /// worker` and tests. Returns how many ran.
    pub async fn run_capture_jobs(&self, worker: &str) -> Result<usize, RepoError> {
        let mut ran = 0;
        loop {
            let lease = self.capture_deadline * 2;
            let Some(job) = self
                .jobs
                .claim(worker, &[CAPTURE_JOB], Timestamp::now(), lease)
                .await?
            else {
                return Ok(ran);
            };
            ran += 1;
            let outcome = match serde_json::from_str::<CaptureJob>(&job.payload) {
                Ok(payload) => match self
                    .repo
                    .mcp_version_any(&payload.name, &payload.version)
                    .await?
                {
                    Some(v) => self
                        .capture_version(&v)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    // The version went (a local publish took a mirrored name over).
                    None => Ok(()),
                },
                Err(e) => Err(format!("the job's payload is not a capture: {e}")),
            };
            match outcome {
                Ok(()) => {
                    self.jobs.complete(job.id, worker).await?;
                }
                Err(error) => {
                    tracing::warn!(job = job.id, %error, "capture job failed");
                    self.jobs.fail(job.id, worker, &error, None).await?;
                }
            }
        }
    }

    /// The capture worker of `wharf serve` and `wharf worker`: drains the
    /// queue, then looks again every few seconds.
    pub async fn capture_periodically(app: crate::state::App, worker: String) {
        loop {
            if let Err(e) = app.catalog.run_capture_jobs(&worker).await {
                tracing::warn!(error = %e, "the capture queue could not be read");
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    }
}
