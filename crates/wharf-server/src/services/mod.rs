//! Services: the registry's rules, written against the ports and unaware of HTTP.

pub mod accounts;
pub mod archive;
pub mod audit;
pub mod auth;
pub mod deploy;
pub mod device;
pub mod index;
pub mod mcp;
pub mod npm;
pub mod passwords;
pub mod projects;
pub mod proxy;
pub mod reference_names;
pub mod review;
pub mod sessions;
pub mod staging;
pub mod upload;
pub mod verify;
pub mod yank;
