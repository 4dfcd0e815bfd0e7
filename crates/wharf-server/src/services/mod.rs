//! Services: the registry's rules, written against the ports and unaware of HTTP.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod device;
pub mod passwords;
pub mod sessions;
pub mod staging;
pub mod upload;
pub mod yank;
