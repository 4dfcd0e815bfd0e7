//! `/`: what Wharf is, for a person who opens it in a browser, and where to go next.

use super::{public_base, render};
use crate::state::App;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    /// `scheme://host` for the install and upload commands.
    base: &'a str,
}

/// `GET /` (and `HEAD /`): the landing page. `POST /` stays twine's upload.
pub async fn page(State(app): State<App>, headers: HeaderMap) -> Response {
    let base = public_base(&app, &headers);
    render(StatusCode::OK, &HomePage { base: &base })
}
