//! The typed view of a validated `server.json`. It is built only after
//! [`validate`](super::validate) passed, so these types describe shape and
//! leave the rules to the validator.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The only `_meta` key a publisher may set; everything else under `_meta` is dropped.
pub const PUBLISHER_PROVIDED_KEY: &str = "io.modelcontextprotocol.registry/publisher-provided";

/// A whole `server.json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerJson {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    pub description: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icons: Vec<Icon>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remotes: Vec<Remote>,
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Where the server's source lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    /// Empty, with `source`, for a repository upstream counts as absent.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subfolder: Option<String>,
}

/// An image a client may show for the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    pub src: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
}

/// `_meta` after sanitizing: only the publisher-provided object survives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(
        rename = "io.modelcontextprotocol.registry/publisher-provided",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub publisher_provided: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The package ecosystems a `registryType` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryType {
    Npm,
    Pypi,
    Oci,
    Nuget,
    Mcpb,
    Cargo,
}

impl RegistryType {
    pub const ALL: [RegistryType; 6] = [
        Self::Npm,
        Self::Pypi,
        Self::Oci,
        Self::Nuget,
        Self::Mcpb,
        Self::Cargo,
    ];

    /// The spelling used in `registryType`; matching is exact, as upstream's is.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Pypi => "pypi",
            Self::Oci => "oci",
            Self::Nuget => "nuget",
            Self::Mcpb => "mcpb",
            Self::Cargo => "cargo",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// A way to install and launch the server locally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub registry_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_base_url: Option<String>,
    pub identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_hint: Option<String>,
    pub transport: Transport,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_arguments: Vec<Argument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_arguments: Vec<Argument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_variables: Vec<KeyValueInput>,
}

impl Package {
    /// The ecosystem, once validation has guaranteed it is a known one.
    pub fn kind(&self) -> Option<RegistryType> {
        RegistryType::parse(&self.registry_type)
    }
}

/// How a client talks to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Transport {
    Stdio,
    StreamableHttp {
        url: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<KeyValueInput>,
    },
    Sse {
        url: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<KeyValueInput>,
    },
}

impl Transport {
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Stdio => None,
            Self::StreamableHttp { url, .. } | Self::Sse { url, .. } => Some(url),
        }
    }
}

/// A hosted endpoint: an http transport plus the variables its URL may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remote {
    #[serde(flatten)]
    pub transport: Transport,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Input>,
}

/// A value the user (or the publisher) supplies: an environment variable,
/// a header, an argument, or a variable inside one of those.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub is_required: bool,
    #[serde(default)]
    pub format: InputFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub is_secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Input>,
}

/// How an input's string is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    #[default]
    String,
    Number,
    Boolean,
    Filepath,
}

impl InputFormat {
    pub const ALL: [InputFormat; 4] = [Self::String, Self::Number, Self::Boolean, Self::Filepath];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Filepath => "filepath",
        }
    }
}

/// A named input: an environment variable or an HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValueInput {
    pub name: String,
    #[serde(flatten)]
    pub input: Input,
}

/// A command-line argument for the runtime or the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum Argument {
    /// A value inserted as is; `value_hint` labels it and names it in URL templates.
    Positional {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_hint: Option<String>,
        #[serde(default)]
        is_repeated: bool,
        #[serde(flatten)]
        input: Input,
    },
    /// A `--flag value` pair; `name` includes the dashes.
    Named {
        name: String,
        #[serde(default)]
        is_repeated: bool,
        #[serde(flatten)]
        input: Input,
    },
}

impl Argument {
    pub fn input(&self) -> &Input {
        match self {
            Self::Positional { input, .. } | Self::Named { input, .. } => input,
        }
    }
}
