//! MCP `server.json` (schema 2025-12-11): the typed model and the rules Wharf
//! applies before a document is stored. Pure code, no I/O.
//!
//! [`validate`] checks a whole document and reports every problem with its
//! JSON path, so a publisher fixes them all in one round. Decisions worth
//! knowing (each is commented where it is enforced):
//! - Unknown fields are accepted and kept, as the schema (no
//!   `additionalProperties: false`) allows; `_meta` is the one exception and
//!   is cut down to the publisher-provided key.
//! - Per-registry-type field rules follow the official validators: `version`
//!   is required for npm, pypi, nuget and cargo and refused for oci (the tag is
//!   the version); `registryBaseUrl` is refused for oci and mcpb; `fileSha256`
//!   is required for mcpb and refused for every other type.
//! - Which `registryBaseUrl` values are trusted is deployment configuration, so
//!   it is the publish service's check; here the URL only has to be well formed.
//! - URLs the registry or its users reach over the network (remotes, website,
//!   icons, repository, registry base) follow [`UrlPolicy`]. A package's
//!   transport URL is where the locally launched package listens, so loopback
//!   (and plain http to loopback) is normal there under either policy.

mod identifier;
mod input;
mod marker;
mod model;
mod name;
mod package;
mod shell;
mod transport;
mod url;
mod validate;
mod version;
mod walk;

use std::fmt;

pub use identifier::{check_npm_name, check_pypi_name};
pub use input::is_env_var_name;
pub use marker::has_pypi_marker;
pub use model::{
    Argument, Icon, Input, InputFormat, KeyValueInput, Meta, Package, RegistryType, Remote,
    Repository, ServerJson, Transport, PUBLISHER_PROVIDED_KEY,
};
pub use name::check_server_name;
pub use url::{classify_ip, HostClass};
pub use validate::{validate, MAX_PUBLISHER_META_BYTES};
pub use version::{check_version, compare_versions};

/// One rule a document broke, with where it broke it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// JSON path such as `packages[0].environmentVariables[2].name`; `""` is the root.
    pub path: String,
    /// What is wrong and what to do about it, for a person.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Which hosts a published URL may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPolicy {
    /// https only, and never a loopback, private (RFC 1918, fc00::/7),
    /// link-local or other special-purpose address (also embedded in IPv6),
    /// `localhost` or internal-only name such as `metadata.google.internal`:
    /// those reach into the registry's own network or a user's machine.
    Production,
    /// Private hosts allowed, and remotes may also use plain
    /// `http://localhost` / `http://127.0.0.1`, for a registry run on a laptop.
    Dev,
}
