//! Creating, reading and deleting deployments, and rotating the master key.
//! Credentials are stored only as envelope-encrypted ciphertexts bound to
//! their deployment and variable; values are decrypted only for a runner
//! fetching the plan with `include=secrets`, which is audited.

use super::{DeployError, Deployments, Plan, Validated};
use crate::services::auth::Principal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use wharf_core::model::{Deployment, NewDeployment, StoredSecret};
use wharf_core::{audit, Scope, Timestamp};
use wharf_vault::{Binding, MasterKey, Sealed};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// Missing, or not this caller's: the same answer, so ids cannot be probed.
    #[error("no deployment with that ID that you may read")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadQuery(String),
    #[error("the stored credentials could not be decrypted: {0}")]
    Vault(String),
    /// A stored row that does not read back: ours, never the caller's.
    #[error("stored deployment data is unreadable: {0}")]
    Stored(String),
    #[error(transparent)]
    Repo(#[from] wharf_core::ports::RepoError),
}

fn to_stored(id: &str, name: &str, sealed: Sealed) -> StoredSecret {
    StoredSecret {
        deployment_id: id.to_owned(),
        name: name.to_owned(),
        key_id: sealed.key_id,
        wrapped_key: sealed.wrapped_key,
        ciphertext: sealed.ciphertext,
    }
}

fn to_sealed(s: &StoredSecret) -> Sealed {
    Sealed {
        key_id: s.key_id.clone(),
        wrapped_key: s.wrapped_key.clone(),
        ciphertext: s.ciphertext.clone(),
    }
}

/// A catalog server and its exact version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServerRef {
    pub name: String,
    pub version: Option<String>,
}

/// The package a deployment launches, exactly pinned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageRef {
    pub registry_type: String,
    pub identifier: String,
    pub version: String,
}

/// A stored deployment: metadata and variable names, never values.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentView {
    pub id: String,
    /// The owner's user name.
    pub owner: String,
    /// The catalog server, or null for a direct package reference.
    pub server: Option<ServerRef>,
    pub package: PackageRef,
    /// The names of the stored credentials, sorted.
    pub variables: Vec<String>,
    pub created_at: String,
    /// The launch plan, in the answer to its creation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
}

impl From<&Deployment> for DeploymentView {
    fn from(d: &Deployment) -> Self {
        Self {
            id: d.id.clone(),
            owner: d.owner.clone(),
            server: d.server_name.as_ref().map(|name| ServerRef {
                name: name.clone(),
                version: d.server_version.clone(),
            }),
            package: PackageRef {
                registry_type: d.registry_type.clone(),
                identifier: d.identifier.clone(),
                version: d.version.clone(),
            },
            variables: d.secret_names.clone(),
            created_at: d.created_at.to_rfc3339_micros(),
            plan: None,
        }
    }
}

/// One page of deployments, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPage {
    pub deployments: Vec<DeploymentView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A stored plan, with the credentials' values for a runner.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: Plan,
    /// What a runner should know before it runs the plan: the server's tools
    /// changed since the deployment was created.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `include=secrets` only: the value of each declared variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_values: Option<BTreeMap<String, String>>,
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    pub rewrapped: usize,
    /// Secrets under a key that is neither the old nor the new one.
    pub foreign: usize,
}

/// The most deployments one page lists.
pub const MAX_PAGE: i64 = 100;

/// The audit detail of a new deployment: what it launches, and which
/// variables it stores (never their values).
#[derive(Serialize)]
struct CreatedDetail<'a> {
    server: Option<String>,
    package: String,
    variables: Vec<&'a String>,
}

/// The audit detail of a secrets read: which variables left.
#[derive(Serialize)]
struct SecretsReadDetail<'a> {
    variables: Vec<&'a String>,
}

impl Deployments {
    /// Validates, then stores the deployment with its credentials encrypted.
    pub async fn create(
        &self,
        who: &Principal,
        body: &serde_json::Value,
    ) -> Result<DeploymentView, StoreError> {
        let Validated {
            server,
            registry_type,
            identifier,
            version,
            plan,
            credentials,
        } = self.validate(who, body).await?;
        // 128 random bits: the ID is also bound into every ciphertext's AAD.
        let id = hex::encode(rand::random::<[u8; 16]>());
        let mut secrets = Vec::with_capacity(credentials.len());
        for (name, value) in &credentials {
            let sealed = wharf_vault::seal(&self.vault, Binding::new(&id, name), value.as_bytes())
                .map_err(|e| StoreError::Vault(e.to_string()))?;
            secrets.push(to_stored(&id, name, sealed));
        }
        let plan_json = serde_json::to_string(&plan)
            .map_err(|e| StoreError::Stored(format!("the plan cannot be serialized: {e}")))?;
        let detail = CreatedDetail {
            server: server.as_ref().map(|(n, v)| format!("{n} {v}")),
            package: format!("{registry_type}:{identifier}@{version}"),
            variables: credentials.keys().collect(),
        };
        let audit = who.event(
            audit::DEPLOYMENT_CREATE,
            &format!("deployment:{id}"),
            serde_json::to_string(&detail).unwrap_or_default(),
        );
        // The tools users approve when they deploy: the plan warns once the
        // server's capture differs.
        let tools_hash = match &server {
            Some((name, version)) => self
                .catalog
                .mcp_version(name, Some(version))
                .await?
                .and_then(|v| v.tools)
                .and_then(|t| t.hash),
            None => None,
        };
        let (server_name, server_version) = server.unzip();
        self.store
            .create_deployment(NewDeployment {
                id: id.clone(),
                owner_user_id: who.user.id,
                server_name,
                server_version,
                registry_type,
                identifier,
                version,
                plan: plan_json,
                tools_hash,
                secrets,
                created_at: Timestamp::now(),
                audit,
            })
            .await?;
        let stored = self
            .store
            .deployment(&id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut view = DeploymentView::from(&stored);
        view.plan = Some(plan);
        Ok(view)
    }

    /// A deployment `who` may read: the scope first, then as [`Self::reachable`].
    async fn readable(&self, who: &Principal, id: &str) -> Result<Deployment, StoreError> {
        if !who.may_read_deployments() {
            return Err(StoreError::Forbidden(
                "reading deployments needs a token with the 'read' or 'deploy' scope",
            ));
        }
        self.reachable(who, id).await
    }

    /// The owner's, or any for an administrator acting as one; and only what
    /// the credential's restriction covers. Anything else is reported missing,
    /// so IDs cannot be probed.
    async fn reachable(&self, who: &Principal, id: &str) -> Result<Deployment, StoreError> {
        match self.store.deployment(id).await? {
            Some(d)
                if (d.owner_user_id == who.user.id || who.reads_all_deployments())
                    && reaches(who, &d) =>
            {
                Ok(d)
            }
            _ => Err(StoreError::NotFound),
        }
    }

    /// A page of the deployments `who` may read, newest first, as metadata.
    /// The cursor is the last entry's `createdAt` micros and ID.
    pub async fn list(
        &self,
        who: &Principal,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<DeploymentPage, StoreError> {
        if !who.may_read_deployments() {
            return Err(StoreError::Forbidden(
                "reading deployments needs a token with the 'read' or 'deploy' scope",
            ));
        }
        let limit = match limit {
            None => 50,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    StoreError::BadQuery(format!(
                        "limit must be a whole number from 1 to {MAX_PAGE}"
                    ))
                })?,
        };
        let after = cursor
            .map(|raw| {
                let parsed = raw.split_once('.').and_then(|(at, id)| {
                    let valid_id = !id.is_empty()
                        && id.len() <= 64
                        && id.bytes().all(|b| b.is_ascii_hexdigit());
                    Some((Timestamp(at.parse().ok()?), id.to_owned())).filter(|_| valid_id)
                });
                parsed.ok_or_else(|| {
                    StoreError::BadQuery("cursor is not one this API returned".to_owned())
                })
            })
            .transpose()?;
        let owner = (!who.reads_all_deployments()).then_some(who.user.id);
        let page = self.store.list_deployments(owner, after, limit + 1).await?;
        let more = page.len() as i64 > limit;
        let fetched = &page[..page.len().min(limit as usize)];
        let next_cursor = if more {
            fetched
                .last()
                .map(|d| format!("{}.{}", d.created_at.micros(), d.id))
        } else {
            None
        };
        // A restricted token's page leaves out what it does not cover, so a page
        // may hold fewer than `limit`; the cursor still moves past all of them.
        let deployments = fetched
            .iter()
            .filter(|d| reaches(who, d))
            .map(DeploymentView::from)
            .collect();
        Ok(DeploymentPage {
            deployments,
            next_cursor,
        })
    }

    /// Metadata and variable names, never values.
    pub async fn get(&self, who: &Principal, id: &str) -> Result<DeploymentView, StoreError> {
        let d = self.readable(who, id).await?;
        Ok(DeploymentView::from(&d))
    }

    /// The plan; with `include_secrets`, the values of the declared variables,
    /// for a runner (the deploy scope on the owner's token, or an administrator).
    pub async fn plan(
        &self,
        who: &Principal,
        id: &str,
        include_secrets: bool,
    ) -> Result<PlanView, StoreError> {
        let d = self.readable(who, id).await?;
        let plan: Plan = serde_json::from_str(&d.plan)
            .map_err(|e| StoreError::Stored(format!("the plan of {id}: {e}")))?;
        let warnings = self.tool_warnings(&d).await?;
        if !include_secrets {
            return Ok(PlanView {
                plan,
                warnings,
                env_values: None,
            });
        }
        let admin = who.reads_all_deployments();
        let runner = who.has_scope(Scope::Deploy) && d.owner_user_id == who.user.id;
        if !(admin || runner) {
            return Err(StoreError::Forbidden(
                "credentials are for runners: use a token with the 'deploy' scope (or an administrator's admin token)",
            ));
        }
        let mut values = BTreeMap::new();
        for s in self.store.deployment_secrets(id).await? {
            // Only declared names ever leave, whatever the table holds.
            if !plan.env.contains(&s.name) {
                continue;
            }
            // During a rotation a row may still be under the retiring key.
            let key = match &self.vault_previous {
                Some(previous) if previous.id() == s.key_id => previous.as_ref(),
                _ => self.vault.as_ref(),
            };
            let secret = wharf_vault::open(key, Binding::new(id, &s.name), &to_sealed(&s))
                .map_err(|_| StoreError::Vault(format!("variable {}", s.name)))?;
            let text = secret
                .expose_str()
                .ok_or_else(|| StoreError::Vault(format!("variable {} is not UTF-8", s.name)))?
                .to_owned();
            values.insert(s.name.clone(), text);
        }
        let detail = SecretsReadDetail {
            variables: values.keys().collect(),
        };
        self.audit
            .record(who.event(
                audit::DEPLOYMENT_SECRETS_READ,
                &format!("deployment:{id}"),
                serde_json::to_string(&detail).unwrap_or_default(),
            ))
            .await?;
        Ok(PlanView {
            plan,
            warnings,
            env_values: Some(values),
        })
    }

    /// A warning when the server version's latest capture lists other tools
    /// than the one the deployment was created with (a rug pull, or a
    /// capture that failed to show the same tools).
    async fn tool_warnings(&self, d: &Deployment) -> Result<Vec<String>, StoreError> {
        let (Some(name), Some(version), Some(approved)) =
            (&d.server_name, &d.server_version, &d.tools_hash)
        else {
            return Ok(Vec::new());
        };
        let now = self
            .catalog
            .mcp_version_any(name, version)
            .await?
            .and_then(|v| v.tools)
            .and_then(|t| t.hash);
        Ok(match now {
            Some(current) if &current != approved => vec![format!(
                "the tools of {name} {version} changed since this deployment was created \
                 (tool hash {approved}, now {current}): review them before running it"
            )],
            _ => Vec::new(),
        })
    }

    /// Deletes the deployment and destroys its ciphertexts.
    pub async fn delete(&self, who: &Principal, id: &str) -> Result<(), StoreError> {
        if !who.may_manage_deployments() {
            return Err(StoreError::Forbidden(
                "deleting a deployment needs a token with the 'deploy' or 'publish' scope",
            ));
        }
        self.reachable(who, id).await?;
        let audit = who.event(
            audit::DEPLOYMENT_DELETE,
            &format!("deployment:{id}"),
            "{}".to_owned(),
        );
        if !self.store.delete_deployment(id, audit).await? {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Re-wraps every data key under `new`, in batches, online: each row moves
    /// only if it is still under `old`, and an interrupted run resumes where it
    /// stopped (rows already under `new` are not touched again).
    pub async fn rotate(&self, old: &MasterKey, new: &MasterKey) -> Result<Rotation, StoreError> {
        const BATCH: i64 = 500;
        let mut done = Rotation::default();
        let mut skipped: std::collections::HashSet<(String, String)> = Default::default();
        loop {
            let batch = self
                .store
                .secrets_not_under(new.id(), BATCH + skipped.len() as i64)
                .await?;
            let todo: Vec<&StoredSecret> = batch
                .iter()
                .filter(|s| !skipped.contains(&(s.deployment_id.clone(), s.name.clone())))
                .collect();
            if todo.is_empty() {
                return Ok(done);
            }
            for s in todo {
                if s.key_id != old.id() {
                    done.foreign += 1;
                    skipped.insert((s.deployment_id.clone(), s.name.clone()));
                    continue;
                }
                let binding = Binding::new(&s.deployment_id, &s.name);
                let sealed =
                    wharf_vault::rewrap(old, new, binding, &to_sealed(s)).map_err(|_| {
                        StoreError::Vault(format!(
                            "deployment {} variable {}",
                            s.deployment_id, s.name
                        ))
                    })?;
                if self
                    .store
                    .rewrap_secret(s, &to_stored(&s.deployment_id, &s.name, sealed))
                    .await?
                {
                    done.rewrapped += 1;
                }
            }
        }
    }
}

/// Whether the credential's restriction covers a stored deployment.
fn reaches(who: &Principal, d: &Deployment) -> bool {
    who.may_touch_deployment(d.server_name.as_deref(), &d.registry_type, &d.identifier)
}
