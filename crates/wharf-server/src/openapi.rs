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
        routes::mcp::list,
        routes::mcp::versions,
        routes::mcp::server_tools,
        routes::mcp::version,
        routes::mcp::publish_server,
        routes::mcp::validate_server,
        routes::mcp::version_status,
        routes::mcp::server_status,
        routes::mcp::add_publisher,
        routes::api::project,
        routes::api::yank_release,
        routes::api::unyank_release,
        routes::search::search,
        routes::simple::index,
        routes::simple::project,
        routes::files::download,
        routes::upload::upload,
        routes::review::queue,
        routes::review::release,
        routes::review::reject,
        routes::review::report,
        routes::proxy_admin::status,
        routes::mcp_admin::sync_status,
        routes::mcp_admin::sync_now,
        routes::mcp_admin::hold,
        routes::mcp_admin::release,
        routes::mcp_admin::capture,
        routes::proxy_admin::add_rule,
        routes::proxy_admin::remove_rule,
        routes::device::code,
        routes::device::token,
        routes::api::whoami,
        routes::admin::audit_log,
    ),
    modifiers(&TokenAuth, &RegistryApiV01),
    tags(
        (name = "deployments", description = "Validated MCP server deployments and their launch plans"),
        (name = "mcp", description = "The MCP server catalog: the official registry's API, under /v0 and /v0.1"),
        (name = "projects", description = "Projects, releases and files in the native API"),
        (name = "admin", description = "Administration: the review queue, the audit log and the proxy's rules"),
        (name = "pypi", description = "The PyPI-compatible surfaces: the simple API, downloads and twine uploads"),
        (name = "auth", description = "Device login (RFC 8628), as `wharf login` uses it, and the caller's identity"),
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

/// The registry API is served under `/v0.1` as well as `/v0`, with the same
/// routes; the document lists both.
struct RegistryApiV01;

impl Modify for RegistryApiV01 {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let copies: Vec<(String, utoipa::openapi::PathItem)> = openapi
            .paths
            .paths
            .iter()
            .filter_map(|(path, item)| {
                let rest = path.strip_prefix("/v0/")?;
                let mut item = item.clone();
                // Operation IDs are unique across the document.
                for operation in [
                    &mut item.get,
                    &mut item.post,
                    &mut item.put,
                    &mut item.patch,
                    &mut item.delete,
                ]
                .into_iter()
                .flatten()
                {
                    if let Some(id) = &mut operation.operation_id {
                        id.push_str("V01");
                    }
                }
                Some((format!("/v0.1/{rest}"), item))
            })
            .collect();
        openapi.paths.paths.extend(copies);
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
