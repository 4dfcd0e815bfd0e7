//! Layers every request passes through: who the client is, the global rate
//! limit, CORS, and the security headers.

pub mod client_ip;
pub mod cors;
pub mod global_limit;
pub mod security_headers;

pub use client_ip::ClientIp;
