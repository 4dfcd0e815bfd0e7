//! `/admin/review`: the review queue in the browser, for administrators. The
//! same decisions as the API and the CLI, with the same required reason.

use super::{error_page, message_page, render, WebUser};
use crate::services::review::{Decision, ReviewError};
use crate::state::App;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use wharf_core::model::FileStatus;
use wharf_scan::Finding;

/// One held file as the page shows it.
struct Row {
    id: i64,
    project: String,
    version: String,
    filename: String,
    status: &'static str,
    verdict: String,
    findings: Vec<Finding>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage<'a> {
    user_name: &'a str,
    csrf: &'a str,
    rows: Vec<Row>,
    error: Option<&'a str>,
}

/// Administrators only; anyone else is told so, without the queue.
fn refuse(user: &WebUser) -> Option<Response> {
    (!user.session.user.is_admin).then(|| {
        message_page(
            StatusCode::FORBIDDEN,
            "Administrators only",
            "The review queue is for administrators.",
            Some("/account/tokens"),
        )
    })
}

pub async fn page(State(app): State<App>, user: WebUser) -> Response {
    if let Some(refused) = refuse(&user) {
        return refused;
    }
    view(&app, &user, StatusCode::OK, None).await
}

async fn view(app: &App, user: &WebUser, status: StatusCode, error: Option<&str>) -> Response {
    let held = match app
        .reviews
        .queue(&[FileStatus::Quarantined, FileStatus::Pending], 500)
        .await
    {
        Ok(h) => h,
        Err(e) => return error_page(e.into()),
    };
    let rows = held
        .into_iter()
        .map(|h| Row {
            id: h.file.id,
            project: h.project,
            version: h.file.version,
            filename: h.file.filename,
            status: h.file.status.as_str(),
            verdict: h
                .report
                .as_ref()
                .map_or_else(|| "not scanned yet".to_owned(), |r| r.verdict.clone()),
            findings: h
                .report
                .as_ref()
                .and_then(|r| serde_json::from_str(&r.findings).ok())
                .unwrap_or_default(),
        })
        .collect();
    render(
        status,
        &ReviewPage {
            user_name: &user.session.user.name,
            csrf: &user.session.csrf_token,
            rows,
            error,
        },
    )
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    if let Some(refused) = user.csrf_refusal(&form.csrf) {
        return refused;
    }
    if let Some(refused) = refuse(&user) {
        return refused;
    }
    let decision = match form.decision.as_str() {
        "release" => Decision::Release,
        "reject" => Decision::Reject,
        _ => {
            return view(
                &app,
                &user,
                StatusCode::BAD_REQUEST,
                Some("Choose release or reject."),
            )
            .await
        }
    };
    let who = user.principal();
    match app
        .reviews
        .decide(id, decision, &form.reason, Some(&who))
        .await
    {
        Ok(_) => Redirect::to("/admin/review").into_response(),
        Err(ReviewError::Repo(e)) => error_page(e.into()),
        Err(e @ ReviewError::NotFound(_)) => {
            view(&app, &user, StatusCode::NOT_FOUND, Some(&e.to_string())).await
        }
        Err(e @ ReviewError::Conflict { .. }) => {
            view(&app, &user, StatusCode::CONFLICT, Some(&e.to_string())).await
        }
        Err(ReviewError::Invalid(message)) => {
            view(&app, &user, StatusCode::BAD_REQUEST, Some(&message)).await
        }
        // Not reachable from a decision; mapped like the API, to be safe.
        Err(e) => error_page(e.into()),
    }
}
