//! The OpenAPI 3.1 document at `GET /api/openapi.json`, generated from the
//! typed request and response bodies and the handlers' annotations, so it
//! cannot drift from the code. A snapshot test shows every change in review.

use crate::routes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wharf",
        description = "A self-hosted, security-hardened registry for Python packages and MCP servers."
    ),
    paths(
        routes::deploy::validate,
        routes::deploy::create,
        routes::deploy::list,
        routes::deploy::get,
        routes::deploy::plan,
        routes::deploy::delete,
    ),
    modifiers(&TokenAuth),
    tags(
        (name = "deployments", description = "Validated MCP server deployments and their launch plans"),
    )
)]
pub struct WharfApi;

/// API tokens (`wharf_…`) or an identity provider's JWT, as a bearer token;
/// uploads take the same token as the password of `__token__`.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "an API token (`wharf_…`) or an identity provider's JWT; uploads send it \
                         as the password of the user `__token__`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, as JSON.
pub fn document() -> String {
    WharfApi::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(document).clone();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
