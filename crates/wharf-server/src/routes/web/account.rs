//! `/account/…`: login, logout, and the user's own API tokens.

use super::{
    cookie, error_page, message_page, render, safe_next, set_cookie, MaybeSession, WebUser,
};
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::services::accounts::{AccountError, TokenRequest};
use crate::services::sessions::{self, SESSION_COOKIE};
use crate::state::App;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use wharf_core::model::TokenRecord;
use wharf_core::{Scope, Timestamp};

/// A double-submit cookie guards the login form itself: there is no session
/// yet to hold a CSRF token, and this stops another site logging a browser
/// in to an account of the attacker's choosing.
const LOGIN_CSRF_COOKIE: &str = "wharf_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(app): State<App>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if session.is_some() {
        return Redirect::to(&next).into_response();
    }
    login_form(&app, StatusCode::OK, &next, "", None)
}

fn login_form(
    app: &App,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let csrf = sessions::random_secret();
    let mut response = render(
        status,
        &LoginPage {
            csrf: &csrf,
            next,
            username,
            error,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            app,
            LOGIN_CSRF_COOKIE,
            &csrf,
            "/account/login",
            Some(3600),
            "Strict",
        ),
    );
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// The one message for every failed login: it never says whether the user exists.
const LOGIN_FAILED: &str = "Invalid user name or password.";

pub async fn login(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !sessions::csrf_matches(expected, &form.csrf) {
        return login_form(
            &app,
            StatusCode::FORBIDDEN,
            &next,
            "",
            Some("The login form expired. Please try again."),
        );
    }
    // Per IP and per account: one address cannot try many accounts, and
    // many addresses cannot hammer one account.
    let policy = &app.config.rate_limits.login;
    for key in [
        client_key(ip),
        format!("user:{}", form.username.to_lowercase()),
    ] {
        if let Err(refused) = ratelimit::check(&app, &key, policy, OnOutage::FailClosed).await {
            return error_page(refused);
        }
    }
    let started = match app
        .accounts
        .login(&form.username, form.password, Some(app.ip_hasher.hash(ip)))
        .await
    {
        Ok(Some(started)) => started,
        Ok(None) => {
            app.metrics.count_login_failed();
            let shown = if form.username.len() <= 64 {
                form.username.as_str()
            } else {
                ""
            };
            return login_form(
                &app,
                StatusCode::UNAUTHORIZED,
                &next,
                shown,
                Some(LOGIN_FAILED),
            );
        }
        Err(e) => return error_page(e.into()),
    };
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &app,
            SESSION_COOKIE,
            &started.cookie_value,
            "/",
            Some(app.config.security.session_ttl.as_secs()),
            "Lax",
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &app,
            LOGIN_CSRF_COOKIE,
            "",
            "/account/login",
            Some(0),
            "Strict",
        ),
    );
    response
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(State(app): State<App>, user: WebUser, Form(form): Form<CsrfForm>) -> Response {
    if let Some(refused) = user.csrf_refusal(&form.csrf) {
        return refused;
    }
    if let Err(e) = app
        .accounts
        .logout(&user.cookie_value, &user.session, user.ip_hash.clone())
        .await
    {
        return error_page(e.into());
    }
    let mut response = Redirect::to("/account/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, SESSION_COOKIE, "", "/", Some(0), "Lax"),
    );
    response
}

/// One row of the token table, formatted for display.
struct TokenRow {
    id: i64,
    name: String,
    scopes: String,
    projects: String,
    created: String,
    expires: String,
    last_used: String,
    is_revoked: bool,
}

impl TokenRow {
    fn new(t: &TokenRecord) -> Self {
        let day = |ts: Timestamp| ts.to_rfc3339_micros()[..10].to_owned();
        let now = Timestamp::now();
        Self {
            id: t.id,
            name: t.name.clone(),
            scopes: t.scopes.to_string(),
            projects: if t.is_restricted() {
                t.projects
                    .iter()
                    .map(|p| p.as_str())
                    .chain(t.namespaces.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                "all".to_owned()
            },
            created: day(t.created_at),
            expires: match t.expires_at {
                None => "never".to_owned(),
                Some(at) if t.is_expired_at(now) => format!("expired {}", day(at)),
                Some(at) => day(at),
            },
            last_used: t
                .last_used_at
                .map(day)
                .unwrap_or_else(|| "never".to_owned()),
            is_revoked: t.is_revoked(),
        }
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage<'a> {
    user_name: &'a str,
    csrf: &'a str,
    is_admin: bool,
    tokens: Vec<TokenRow>,
    error: Option<&'a str>,
}

pub async fn tokens_page(State(app): State<App>, user: WebUser) -> Response {
    tokens_view(&app, &user, StatusCode::OK, None).await
}

async fn tokens_view(
    app: &App,
    user: &WebUser,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let tokens = match app.accounts.own_tokens(&user.session.user).await {
        Ok(t) => t,
        Err(e) => return error_page(e.into()),
    };
    render(
        status,
        &TokensPage {
            user_name: &user.session.user.name,
            csrf: &user.session.csrf_token,
            is_admin: user.session.user.is_admin,
            tokens: tokens.iter().rev().map(TokenRow::new).collect(),
            error,
        },
    )
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    read: Option<String>,
    #[serde(default)]
    publish: Option<String>,
    #[serde(default)]
    deploy: Option<String>,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    projects: String,
    #[serde(default)]
    namespaces: String,
    #[serde(default)]
    expires_in: String,
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct TokenCreatedPage<'a> {
    user_name: &'a str,
    csrf: &'a str,
    token: &'a str,
    name: &'a str,
    scopes: String,
}

pub async fn create_token(
    State(app): State<App>,
    user: WebUser,
    Form(form): Form<NewTokenForm>,
) -> Response {
    if let Some(refused) = user.csrf_refusal(&form.csrf) {
        return refused;
    }
    let policy = &app.config.rate_limits.token_create;
    let key = format!("user:{}", user.session.user.id);
    if let Err(refused) = ratelimit::check(&app, &key, policy, OnOutage::FailClosed).await {
        return error_page(refused);
    }
    let mut scopes = Vec::new();
    for (on, name) in [
        (&form.read, "read"),
        (&form.publish, "publish"),
        (&form.deploy, "deploy"),
        (&form.admin, "admin"),
    ] {
        if on.is_some() {
            scopes.push(name);
        }
    }
    // A session acts with the user's own rights: only an admin can mint an admin token.
    if form.admin.is_some() && !user.principal().may_grant(Scope::Admin) {
        return tokens_view(
            &app,
            &user,
            StatusCode::FORBIDDEN,
            Some("Only administrators can create admin tokens."),
        )
        .await;
    }
    if scopes.is_empty() {
        return tokens_view(
            &app,
            &user,
            StatusCode::BAD_REQUEST,
            Some("Choose at least one scope."),
        )
        .await;
    }
    let list = |raw: &str| -> Vec<String> {
        raw.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let projects = list(&form.projects);
    let namespaces = list(&form.namespaces);
    let request = TokenRequest {
        user: &user.session.user.name,
        label: form.name.trim(),
        scopes: &scopes.join(","),
        projects: &projects,
        namespaces: &namespaces,
        expires_in: Some(form.expires_in.as_str()).filter(|e| !e.is_empty()),
        ip_hash: user.ip_hash.clone(),
    };
    if request.label.is_empty() {
        return tokens_view(
            &app,
            &user,
            StatusCode::BAD_REQUEST,
            Some("Give the token a name."),
        )
        .await;
    }
    match app.accounts.create_token(request).await {
        Ok((token, record)) => render(
            StatusCode::OK,
            &TokenCreatedPage {
                user_name: &user.session.user.name,
                csrf: &user.session.csrf_token,
                token: token.reveal(),
                name: &record.name,
                scopes: record.scopes.to_string(),
            },
        ),
        Err(AccountError::Invalid(e)) => {
            tokens_view(&app, &user, StatusCode::BAD_REQUEST, Some(&e.message)).await
        }
        Err(e) => error_page(e.into()),
    }
}

pub async fn revoke_token(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = user.csrf_refusal(&form.csrf) {
        return refused;
    }
    let revoked = app
        .accounts
        .revoke_own_token(&user.session.user, id, user.ip_hash.clone())
        .await;
    match revoked {
        Ok(_) => Redirect::to("/account/tokens").into_response(),
        Err(AccountError::NoSuchToken(_)) => message_page(
            StatusCode::NOT_FOUND,
            "No such token",
            "You have no token with that ID.",
            Some("/account/tokens"),
        ),
        Err(e) => error_page(e.into()),
    }
}
