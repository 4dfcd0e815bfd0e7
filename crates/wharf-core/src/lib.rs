//! Wharf's domain: the rules for names, versions, distribution filenames, API
//! tokens and MCP `server.json` documents, the records the registry keeps, and
//! the ports (traits) through which services reach storage. Nothing here
//! performs I/O.

pub mod audit;
pub mod filename;
pub mod glob;
pub mod mcp;
pub mod model;
pub mod name;
pub mod npm;
pub mod ports;
pub mod proxy;
pub mod ratelimit;
pub mod scope;
pub mod time;
pub mod token;
pub mod uri;
pub mod validation;
pub mod version;

pub use filename::{DistFilename, DistKind};
pub use name::{NormalizedName, ProjectName, UserName};
pub use scope::{Scope, Scopes};
pub use time::Timestamp;
pub use token::{ApiToken, TokenHash};
pub use validation::ValidationError;
pub use version::Version;
