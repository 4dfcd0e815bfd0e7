//! The launch plan: an argv array with the version pinned, the names of the
//! declared environment variables (never their values), the transport, and
//! a client configuration to paste whose secrets are placeholders.

use super::checks::{ArgValue, Resolved};
use super::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use wharf_core::mcp::{RegistryType, Transport};

/// How to launch a deployment: never a shell string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `npx`, `uvx` or `docker`: from the package type, never from its name.
    pub runtime: String,
    /// The command and its arguments, the version pinned.
    pub argv: Vec<String>,
    /// Exactly the declared variables. The runner starts the process with
    /// these and nothing of its own environment.
    pub env: Vec<String>,
    /// The package's transport, as its `server.json` declares it.
    #[schema(value_type = Object)]
    pub transport: Transport,
    /// A client configuration to paste; secrets are `${NAME}` placeholders.
    pub client_config: ClientConfig,
}

/// The `mcpServers` block MCP clients read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    pub mcp_servers: BTreeMap<String, ClientServer>,
}

/// One server in a client configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientServer {
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// Builds the plan; the inputs are already checked. A PyPI package installs
/// from `simple_url`, this registry's own index, and from nothing else: a
/// runner's uvx would otherwise resolve the name on its default (public)
/// index, where anyone can publish a look-alike or a higher version. An npm
/// package installs from `npm_registry` the same way, when this registry
/// serves it (hosted here, or through the npm proxy).
pub fn build(
    resolved: &Resolved,
    arguments: &[ArgValue],
    simple_url: &str,
    npm_registry: Option<&str>,
) -> Result<Plan, FieldError> {
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
    let (runtime, argv) = match package.kind() {
        Some(RegistryType::Npm) => {
            let mut argv = vec!["npx".to_owned()];
            if let Some(registry) = npm_registry {
                argv.push("--registry".into());
                argv.push(registry.to_owned());
            }
            push(&mut argv, true);
            argv.push("-y".into());
            argv.push(format!("{}@{version}", package.identifier));
            push(&mut argv, false);
            ("npx", argv)
        }
        Some(RegistryType::Pypi) => {
            let mut argv = vec![
                "uvx".to_owned(),
                "--default-index".to_owned(),
                simple_url.to_owned(),
            ];
            push(&mut argv, true);
            argv.push(format!("{}=={version}", package.identifier));
            push(&mut argv, false);
            ("uvx", argv)
        }
        Some(RegistryType::Oci) => {
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
        _ => {
            return Err(FieldError::new(
                "package.registryType",
                "unsupported_runtime",
                format!(
                    "packages of type '{}' have no runtime here",
                    wharf_core::name::printable(&package.registry_type)
                ),
                "deploy an npm, pypi or oci package",
            ))
        }
    };
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
    let placeholders = env
        .iter()
        .map(|name| (name.clone(), format!("${{{name}}}")))
        .collect();
    let server = ClientServer {
        command: argv[0].clone(),
        args: argv[1..].to_vec(),
        env: placeholders,
    };
    Ok(Plan {
        runtime: runtime.to_owned(),
        argv,
        env,
        transport: package.transport.clone(),
        client_config: ClientConfig {
            mcp_servers: BTreeMap::from([(key, server)]),
        },
    })
}
