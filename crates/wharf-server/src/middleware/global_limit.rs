//! The global per-IP rate limit over every request (security.md "Rate
//! limits"). Endpoint classes with their own limits (login, device codes,
//! uploads, search) are checked in their handlers as well.

use super::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::state::App;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr};

pub async fn enforce(State(app): State<App>, request: Request, next: Next) -> Response {
    // Probes must answer even when a load balancer polls hard.
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    let ip = request
        .extensions()
        .get::<ClientIp>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0);
    let policy = &app.config.rate_limits.global;
    // Reads must not stop because Redis did; the classes that guard
    // writes and credentials fail closed on their own.
    match ratelimit::check(&app, &client_key(ip), policy, OnOutage::FailOpen).await {
        Ok(_) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}
