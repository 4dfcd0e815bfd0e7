//! The launch plan: an argv array with the version pinned, the names of the
//! declared environment variables (never their values), the transport, and
//! a client configuration to paste whose secrets are placeholders.

use super::checks::{ArgValue, Resolved};
use super::FieldError;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `npx`, `uvx` or `docker`: from the package type, never from its name.
    pub runtime: &'static str,
    pub argv: Vec<String>,
    /// Exactly the declared variables. The runner starts the process with
    /// these and nothing of its own environment.
    pub env: Vec<String>,
    pub transport: Value,
    pub client_config: Value,
}

/// Builds the plan; the inputs are already checked.
pub fn build(resolved: &Resolved, arguments: &[ArgValue]) -> Result<Plan, FieldError> {
    let package = &resolved.package;
    let version = &resolved.version;
    let env: Vec<String> = package
        .environment_variables
        .iter()
        .map(|v| v.name.clone())
        .collect();
    let push = |argv: &mut Vec<String>, runtime: bool| {
        for a in arguments.iter().filter(|a| a.runtime == runtime) {
            if let Some(flag) = &a.flag {
                argv.push(flag.clone());
            }
            argv.push(a.value.clone());
        }
    };
    let (runtime, argv) = match package.registry_type.as_str() {
        "npm" => {
            let mut argv = vec!["npx".to_owned()];
            push(&mut argv, true);
            argv.push("-y".into());
            argv.push(format!("{}@{version}", package.identifier));
            push(&mut argv, false);
            ("npx", argv)
        }
        "pypi" => {
            let mut argv = vec!["uvx".to_owned()];
            push(&mut argv, true);
            argv.push(format!("{}=={version}", package.identifier));
            push(&mut argv, false);
            ("uvx", argv)
        }
        "oci" => {
            let mut argv = vec!["docker".into(), "run".into(), "--rm".into(), "-i".into()];
            // `-e NAME` passes the variable from the runner's (exact) environment.
            for name in &env {
                argv.push("-e".into());
                argv.push(name.clone());
            }
            push(&mut argv, true);
            argv.push(package.identifier.clone());
            push(&mut argv, false);
            ("docker", argv)
        }
        other => {
            return Err(FieldError::new(
                "package.registryType",
                "unsupported_runtime",
                format!(
                    "packages of type '{}' have no runtime here",
                    wharf_core::name::printable(other)
                ),
                "deploy an npm, pypi or oci package",
            ))
        }
    };
    let transport = serde_json::to_value(&package.transport).unwrap_or(Value::Null);
    let key = resolved
        .server
        .as_ref()
        .map(|(name, _)| name.rsplit('/').next().unwrap_or(name).to_owned())
        .unwrap_or_else(|| {
            package
                .identifier
                .rsplit('/')
                .next()
                .unwrap_or(&package.identifier)
                .to_owned()
        });
    let placeholders: serde_json::Map<String, Value> = env
        .iter()
        .map(|name| (name.clone(), json!(format!("${{{name}}}"))))
        .collect();
    let client_config = json!({
        "mcpServers": {
            key: {
                "command": argv[0],
                "args": argv[1..],
                "env": placeholders,
            }
        }
    });
    Ok(Plan {
        runtime,
        argv,
        env,
        transport,
        client_config,
    })
}
