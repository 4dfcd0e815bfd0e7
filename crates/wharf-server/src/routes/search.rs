//! `GET /api/v1/search?q=…&limit=…`: projects by name and summary.

use crate::error::AppError;
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::state::App;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_LIMIT: i64 = 100;

/// A search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// 1 to 200 printable characters.
    q: Option<String>,
    /// 1 to 100; default 20.
    limit: Option<i64>,
}

/// `GET /api/v1/search?q=…&limit=…`: projects by name and summary.
#[utoipa::path(
    get, path = "/api/v1/search", operation_id = "searchProjects", tag = "projects",
    params(SearchQuery),
    responses(
        (status = 200, body = crate::services::projects::SearchReply),
        (status = 400, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    )
)]
pub async fn search(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let policy = &app.config.rate_limits.search;
    // A read: it keeps working when the limiter is down.
    let decision = ratelimit::check(&app, &client_key(ip), policy, OnOutage::FailOpen).await?;
    let Query(query) = query.map_err(|e| AppError::bad_request("invalid_query", e.body_text()))?;
    let q = query.q.unwrap_or_default();
    let q = q.trim();
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS || q.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_query",
            format!("q must be 1-{MAX_QUERY_CHARS} printable characters, e.g. ?q=http+client"),
        ));
    }
    let limit = query.limit.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let reply = app.projects.search(q, limit).await?;
    let mut response = Json(reply).into_response();
    if let Some(d) = decision {
        response
            .headers_mut()
            .extend(ratelimit::headers(policy, &d));
    }
    Ok(response)
}
