//! The HTTP surfaces, one module each. Handlers extract, call a service and
//! map the result; the rules live in `services`.

pub mod admin;
pub mod api;
pub mod deploy;
pub mod device;
pub mod extract;
pub mod files;
pub mod health;
pub mod mcp;
pub mod mcp_admin;
pub mod npm;
pub mod proxy_admin;
pub mod review;
pub mod search;
pub mod simple;
pub mod upload;
pub mod web;
