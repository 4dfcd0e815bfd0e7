//! The client's IP address, decided once per request.
//!
//! `X-Forwarded-For` is believed only when the socket peer is a configured
//! trusted proxy (security.md "Client IP"); anyone else could write any
//! address there and pick their own rate-limit bucket.

use crate::config::Security;
use crate::error::AppError;
use crate::state::App;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub use crate::client::{client_key, IpHasher};

/// The client's address, as resolved by [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware: stores the [`ClientIp`] in the request's extensions.
pub async fn resolve(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // Without a socket address (an in-process call) there is no client to
    // name; the unspecified address gives such calls one shared bucket.
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let ip = client_ip(&app.config.security, peer, &forwarded);
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// Walks `X-Forwarded-For` from the right, past trusted proxies only: the
/// first hop not vouched for by a trusted proxy is the client. Entries
/// further left were written by the client itself and are ignored.
pub fn client_ip(security: &Security, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
    let mut current = peer.to_canonical();
    for hop in forwarded.iter().rev() {
        if !security.is_trusted_proxy(current) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(ip) => current = ip.to_canonical(),
            Err(_) => break,
        }
    }
    current
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IpNet;

    fn security(trusted: &[&str]) -> Security {
        Security {
            trusted_proxies: trusted.iter().map(|t| IpNet::parse(t).unwrap()).collect(),
            ..Security::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let s = security(&[]);
        assert_eq!(
            client_ip(&s, ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
        let s = security(&["10.0.0.1"]);
        assert_eq!(
            client_ip(&s, ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let s = security(&["10.0.0.0/8"]);
        // The client forged "6.6.6.6"; the proxy chain appended the real address.
        let hops = ["6.6.6.6", "198.51.100.7", "10.0.0.5"];
        assert_eq!(client_ip(&s, ip("10.0.0.1"), &hops), ip("198.51.100.7"));
        assert_eq!(client_ip(&s, ip("10.0.0.1"), &[]), ip("10.0.0.1"));
        assert_eq!(client_ip(&s, ip("10.0.0.1"), &["junk"]), ip("10.0.0.1"));
        assert_eq!(
            client_ip(&s, ip("::ffff:10.0.0.1"), &["192.0.2.1"]),
            ip("192.0.2.1")
        );
    }
}
