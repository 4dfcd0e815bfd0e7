//! Creating, reading and deleting deployments, and rotating the master key.
//! Credentials are stored only as envelope-encrypted ciphertexts bound to
//! their deployment and variable; values are decrypted only for a runner
//! fetching the plan with `include=secrets`, which is audited.

use super::{validate, DeployError, Plan, Validated};
use crate::services::auth::Principal;
use crate::state::App;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wharf_core::model::{Deployment, NewDeployment, StoredSecret};
use wharf_core::{Scope, Timestamp};
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

/// Validates, then stores the deployment with its credentials encrypted.
pub async fn create(
    app: &App,
    who: &Principal,
    body: &Value,
) -> Result<(Deployment, Plan), StoreError> {
    let Validated {
        server,
        registry_type,
        identifier,
        version,
        plan,
        credentials,
    } = validate(app, who, body).await?;
    // 128 random bits: the ID is also bound into every ciphertext's AAD.
    let id = hex::encode(rand::random::<[u8; 16]>());
    let mut secrets = Vec::with_capacity(credentials.len());
    for (name, value) in &credentials {
        let sealed = wharf_vault::seal(&app.vault, Binding::new(&id, name), value.as_bytes())
            .map_err(|e| StoreError::Vault(e.to_string()))?;
        secrets.push(to_stored(&id, name, sealed));
    }
    let plan_json = serde_json::to_string(&plan).unwrap_or_else(|_| "{}".into());
    let audit = who.event(
        "deployment.create",
        &format!("deployment:{id}"),
        json!({
            "server": server.as_ref().map(|(n, v)| format!("{n} {v}")),
            "package": format!("{registry_type}:{identifier}@{version}"),
            "variables": credentials.keys().collect::<Vec<_>>(),
        })
        .to_string(),
    );
    let (server_name, server_version) = server.unzip();
    app.ports
        .deployments
        .create_deployment(NewDeployment {
            id: id.clone(),
            owner_user_id: who.user.id,
            server_name,
            server_version,
            registry_type,
            identifier,
            version,
            plan: plan_json,
            secrets,
            created_at: Timestamp::now(),
            audit,
        })
        .await?;
    let stored = app
        .ports
        .deployments
        .deployment(&id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((stored, plan))
}

/// A deployment `who` may read: the scope first, then as [`reachable`].
async fn readable(app: &App, who: &Principal, id: &str) -> Result<Deployment, StoreError> {
    if !who.may_read_deployments() {
        return Err(StoreError::Forbidden(
            "reading deployments needs a token with the 'read' or 'deploy' scope",
        ));
    }
    reachable(app, who, id).await
}

/// The owner's, or any for an administrator acting as one; and only what
/// the credential's restriction covers. Anything else is reported missing,
/// so IDs cannot be probed.
async fn reachable(app: &App, who: &Principal, id: &str) -> Result<Deployment, StoreError> {
    let found = app.ports.deployments.deployment(id).await?;
    match found {
        Some(d)
            if (d.owner_user_id == who.user.id || who.reads_all_deployments())
                && reaches(who, &d) =>
        {
            Ok(d)
        }
        _ => Err(StoreError::NotFound),
    }
}

/// Whether the credential's restriction covers a stored deployment.
fn reaches(who: &Principal, d: &Deployment) -> bool {
    who.may_touch_deployment(d.server_name.as_deref(), &d.registry_type, &d.identifier)
}

/// The most deployments one page lists.
pub const MAX_PAGE: i64 = 100;

/// A page of the deployments `who` may read, newest first, as metadata.
/// The cursor is the last entry's `createdAt` micros and ID.
pub async fn list(
    app: &App,
    who: &Principal,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<Value, StoreError> {
    let limit = match limit {
        None => 50,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                StoreError::BadQuery(format!("limit must be a whole number from 1 to {MAX_PAGE}"))
            })?,
    };
    let after = cursor
        .map(|raw| {
            let parsed = raw.split_once('.').and_then(|(at, id)| {
                let valid_id =
                    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
                Some((Timestamp(at.parse().ok()?), id.to_owned())).filter(|_| valid_id)
            });
            parsed.ok_or_else(|| {
                StoreError::BadQuery("cursor is not one this API returned".to_owned())
            })
        })
        .transpose()?;
    if !who.may_read_deployments() {
        return Err(StoreError::Forbidden(
            "reading deployments needs a token with the 'read' or 'deploy' scope",
        ));
    }
    let owner = (!who.reads_all_deployments()).then_some(who.user.id);
    let page = app
        .ports
        .deployments
        .list_deployments(owner, after, limit + 1)
        .await?;
    let more = page.len() as i64 > limit;
    let fetched = &page[..page.len().min(limit as usize)];
    let next = if more {
        fetched
            .last()
            .map(|d| format!("{}.{}", d.created_at.micros(), d.id))
    } else {
        None
    };
    // A restricted token's page leaves out what it does not cover, so a page
    // may hold fewer than `limit`; the cursor still moves past all of them.
    let shown = fetched.iter().filter(|d| reaches(who, d));
    Ok(json!({
        "deployments": shown.map(metadata).collect::<Vec<_>>(),
        "nextCursor": next,
    }))
}

/// Metadata and variable names, never values.
pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Value, StoreError> {
    let d = readable(app, who, id).await?;
    Ok(metadata(&d))
}

pub fn metadata(d: &Deployment) -> Value {
    json!({
        "id": d.id,
        "owner": d.owner,
        "server": d.server_name.as_ref().map(|n| json!({ "name": n, "version": d.server_version })),
        "package": { "registryType": d.registry_type, "identifier": d.identifier, "version": d.version },
        "variables": d.secret_names,
        "createdAt": d.created_at.to_rfc3339_micros(),
    })
}

/// The plan; with `include_secrets`, the values of the declared variables,
/// for a runner (the deploy scope on the owner's token, or an administrator).
pub async fn plan(
    app: &App,
    who: &Principal,
    id: &str,
    include_secrets: bool,
) -> Result<Value, StoreError> {
    let d = readable(app, who, id).await?;
    let mut plan: Value = serde_json::from_str(&d.plan).unwrap_or(Value::Null);
    if !include_secrets {
        return Ok(plan);
    }
    let admin = who.reads_all_deployments();
    let runner = who.has_scope(Scope::Deploy) && d.owner_user_id == who.user.id;
    if !(admin || runner) {
        return Err(StoreError::Forbidden(
            "credentials are for runners: use a token with the 'deploy' scope (or an administrator's admin token)",
        ));
    }
    let declared: Vec<String> = plan["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut values = BTreeMap::new();
    for s in app.ports.deployments.deployment_secrets(id).await? {
        // Only declared names ever leave, whatever the table holds.
        if !declared.contains(&s.name) {
            continue;
        }
        // During a rotation a row may still be under the retiring key.
        let key = match &app.vault_previous {
            Some(previous) if previous.id() == s.key_id => previous.as_ref(),
            _ => app.vault.as_ref(),
        };
        let secret = wharf_vault::open(key, Binding::new(id, &s.name), &to_sealed(&s))
            .map_err(|_| StoreError::Vault(format!("variable {}", s.name)))?;
        let text = secret
            .expose_str()
            .ok_or_else(|| StoreError::Vault(format!("variable {} is not UTF-8", s.name)))?
            .to_owned();
        values.insert(s.name.clone(), text);
    }
    app.ports
        .audit
        .record(who.event(
            "deployment.secrets_read",
            &format!("deployment:{id}"),
            json!({ "variables": values.keys().collect::<Vec<_>>() }).to_string(),
        ))
        .await?;
    plan["envValues"] = json!(values);
    Ok(plan)
}

/// Deletes the deployment and destroys its ciphertexts.
pub async fn delete(app: &App, who: &Principal, id: &str) -> Result<(), StoreError> {
    if !who.may_manage_deployments() {
        return Err(StoreError::Forbidden(
            "deleting a deployment needs a token with the 'deploy' or 'publish' scope",
        ));
    }
    reachable(app, who, id).await?;
    let audit = who.event(
        "deployment.delete",
        &format!("deployment:{id}"),
        "{}".to_owned(),
    );
    if !app.ports.deployments.delete_deployment(id, audit).await? {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    pub rewrapped: usize,
    /// Secrets under a key that is neither the old nor the new one.
    pub foreign: usize,
}

/// Re-wraps every data key under `new`, in batches, online: each row moves
/// only if it is still under `old`, and an interrupted run resumes where it
/// stopped (rows already under `new` are not touched again).
pub async fn rotate(app: &App, old: &MasterKey, new: &MasterKey) -> Result<Rotation, StoreError> {
    const BATCH: i64 = 500;
    let mut done = Rotation::default();
    let mut skipped: std::collections::HashSet<(String, String)> = Default::default();
    loop {
        let batch = app
            .ports
            .deployments
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
            let sealed = wharf_vault::rewrap(old, new, binding, &to_sealed(s)).map_err(|_| {
                StoreError::Vault(format!(
                    "deployment {} variable {}",
                    s.deployment_id, s.name
                ))
            })?;
            if app
                .ports
                .deployments
                .rewrap_secret(s, &to_stored(&s.deployment_id, &s.name, sealed))
                .await?
            {
                done.rewrapped += 1;
            }
        }
    }
}
