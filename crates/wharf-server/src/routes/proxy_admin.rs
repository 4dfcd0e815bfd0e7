//! `/api/v1/admin/proxy/{pypi,npm}`: a proxy's status and runtime rules,
//! for administrators acting as such.

use super::extract::Auth;
use crate::error::{AppError, ErrorBody};
use crate::services::auth::Principal;
use crate::services::proxy::{ProxyCore, ProxyStatus, RuleView};
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wharf_core::proxy::RuleKind;

/// A rule to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRuleBody {
    /// `deny` (a name or NAME==VERSION), `allow_only` (a name) or `admit`
    /// (NAME==VERSION, served before its cooldown ends).
    #[schema(value_type = String)]
    pub kind: RuleKind,
    pub spec: String,
    /// Why; recorded in the audit log.
    pub reason: String,
}

/// The rule to remove.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleQuery {
    /// `deny`, `allow_only` or `admit`.
    #[param(value_type = String)]
    pub kind: RuleKind,
    pub spec: String,
}

/// `GET /api/v1/admin/proxy/{ecosystem}`: settings, rules, stored counts, counters.
#[utoipa::path(
    get, path = "/api/v1/admin/proxy/{ecosystem}", operation_id = "proxyStatus", tag = "admin",
    params(("ecosystem" = String, Path, description = "`pypi` or `npm`")),
    responses(
        (status = 200, body = ProxyStatus),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "the proxy is off"),
    ),
    security(("token" = []))
)]
pub async fn status(
    State(app): State<App>,
    Auth(who): Auth,
    Path(ecosystem): Path<String>,
) -> Result<Json<ProxyStatus>, AppError> {
    let proxy = admin_proxy(&app, &who, &ecosystem, "read").await?;
    Ok(Json(proxy.status().await?))
}

/// `POST /api/v1/admin/proxy/{ecosystem}/rules`: adds a deny, allow-only or admit rule, audited.
#[utoipa::path(
    post, path = "/api/v1/admin/proxy/{ecosystem}/rules", operation_id = "addProxyRule", tag = "admin",
    params(("ecosystem" = String, Path, description = "`pypi` or `npm`")),
    request_body = NewRuleBody,
    responses(
        (status = 201, body = RuleView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "the proxy is off"),
        (status = 409, body = ErrorBody, description = "the same rule exists"),
    ),
    security(("token" = []))
)]
pub async fn add_rule(
    State(app): State<App>,
    Auth(who): Auth,
    Path(ecosystem): Path<String>,
    body: Result<Json<NewRuleBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<RuleView>), AppError> {
    let proxy = admin_proxy(&app, &who, &ecosystem, "change").await?;
    let Json(body) = body.map_err(|e| AppError::bad_request("invalid_body", e.body_text()))?;
    let spec = ProxyCore::check_rule(proxy.ecosystem, body.kind, &body.spec, &body.reason)?;
    let added = proxy
        .add_rule(
            body.kind,
            spec,
            body.reason.trim().to_owned(),
            who.event("", "", String::new()),
        )
        .await?
        .ok_or_else(|| {
            AppError::new(
                StatusCode::CONFLICT,
                "rule_exists",
                format!(
                    "the {} rule for '{}' exists already",
                    body.kind.as_str(),
                    body.spec.trim()
                ),
            )
        })?;
    Ok((StatusCode::CREATED, Json(RuleView::from(&added))))
}

/// `DELETE /api/v1/admin/proxy/{ecosystem}/rules?kind=&spec=`: removes a rule, audited.
#[utoipa::path(
    delete, path = "/api/v1/admin/proxy/{ecosystem}/rules", operation_id = "removeProxyRule", tag = "admin",
    params(("ecosystem" = String, Path, description = "`pypi` or `npm`"), RuleQuery),
    responses(
        (status = 204, description = "removed"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such rule, or the proxy is off"),
    ),
    security(("token" = []))
)]
pub async fn remove_rule(
    State(app): State<App>,
    Auth(who): Auth,
    Path(ecosystem): Path<String>,
    query: Result<Query<RuleQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, AppError> {
    let proxy = admin_proxy(&app, &who, &ecosystem, "change").await?;
    let Query(query) = query.map_err(|e| AppError::bad_request("invalid_query", e.body_text()))?;
    let spec = wharf_core::proxy::Spec::parse_in(proxy.ecosystem, &query.spec)?;
    if proxy
        .remove_rule(query.kind, &spec, who.event("", "", String::new()))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found(format!(
            "there is no {} rule for '{spec}'",
            query.kind.as_str()
        )))
    }
}

/// The proxy of `ecosystem`, for an administrator acting as one; a refusal is audited.
async fn admin_proxy<'a>(
    app: &'a App,
    who: &Principal,
    ecosystem: &str,
    what: &str,
) -> Result<&'a ProxyCore, AppError> {
    if !who.acts_as_admin() {
        app.audit.record_admin_refusal(who, "admin:proxy").await?;
        return Err(AppError::forbidden(
            "admin_required",
            format!("to {what} the proxy's settings needs an administrator and a token with the 'admin' scope"),
        ));
    }
    match ecosystem {
        "pypi" => app.pypi_proxy.as_deref().map(|p| p.core()).ok_or_else(|| {
            AppError::not_found(
                "the PyPI proxy is off: set [proxy.pypi] upstream in the configuration",
            )
        }),
        "npm" => app.npm.proxy().map(|p| p.core()).ok_or_else(|| {
            AppError::not_found(
                "the npm proxy is off: set [proxy.npm] upstream in the configuration",
            )
        }),
        other => Err(AppError::not_found(format!(
            "there is no '{}' proxy: the proxies are pypi and npm",
            wharf_core::name::printable(other)
        ))),
    }
}
