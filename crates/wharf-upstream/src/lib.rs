//! Look-ups of one package version in an upstream npm or PyPI registry, for
//! the MCP package checks (does `name@version` exist upstream, and what
//! ownership marker does it carry).
//!
//! # Failing closed
//!
//! A look-up has three outcomes, and callers must treat them differently:
//!
//! - [`Lookup::Found`]: upstream answered 200 with a document for exactly
//!   the name and version asked. Only this outcome may let a check pass.
//! - [`Lookup::NotFound`]: upstream answered 404 or 410. The package or the
//!   version does not exist; the check fails.
//! - [`UpstreamError`]: we could not learn the answer (a 429, a 5xx, a
//!   timeout, an unreadable or oversized answer, no upstream configured).
//!   This is *not* "not found", and it is *not* "probably fine": the check
//!   fails, with a message saying whether trying again may help
//!   ([`UpstreamError::is_retryable`]).
//!
//! Nothing here turns an error into a pass, and a field that is missing or
//! has the wrong type reads as absent, so an ownership check against it fails.
//!
//! # Cost to upstream
//!
//! Answers are cached per `(registry, name, version)`: found answers for
//! `positive_ttl`, not-found answers for `negative_ttl`; errors are never
//! cached, so the next look-up asks again. Concurrent look-ups of one
//! uncached key share a single request (see `cache`).
//!
//! Names and versions are checked before any URL is built from them, and
//! redirects are followed only within the configured registry's origin.
//!
//! [`mcp_registry`] pages through an upstream MCP registry for the catalog sync.

mod cache;
mod error;
mod fetch;
pub mod index_client;
pub mod mcp_client;
pub mod mcp_registry;
mod npm;
pub mod npm_registry;
mod pypi;
mod settings;
pub mod simple;
mod upstream;

pub use error::UpstreamError;
pub use npm::NpmVersion;
pub use pypi::PypiVersion;
pub use settings::UpstreamSettings;
pub use upstream::{Lookup, Upstream};
