//! `TestApp`: the real router over a temporary SQLite database and blob
//! directory, driven in-process.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use sha2::Digest;
use tower::ServiceExt;
use wharf_core::model::NewToken;
use wharf_core::{ApiToken, NormalizedName, Scopes, Timestamp};
use wharf_server::config::{Config, Overrides};
use wharf_server::services::accounts::TokenRequest;
use wharf_server::state::App;

pub struct TestApp {
    pub app: App,
    pub dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub reason: Option<String>,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// Asserts an error response: status, machine code, and a message fragment.
    pub fn assert_error(&self, status: StatusCode, code: &str, fragment: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        let body = self.json();
        assert_eq!(body["error"], code, "body: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(fragment),
            "message {message:?} lacks {fragment:?}"
        );
        // twine prints the reason phrase, so it must carry the same message (as ASCII).
        let expected: String = message
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(300)
            .collect();
        assert_eq!(
            self.reason.as_deref(),
            Some(expected.as_str()),
            "reason phrase"
        );
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            listen: None,
            data_dir: Some(dir.path().join("data")),
            production: false,
        };
        let mut config = Config::load(None, |_| None, &overrides).unwrap();
        // Tests upload freely; the rate-limit tests set their own policy.
        config.rate_limits.upload =
            wharf_core::ratelimit::RatePolicy::parse("upload", "100000/min").unwrap();
        if wharf_db::testing::backend_is_postgres() {
            let base = wharf_db::testing::postgres_base_url();
            config.database_url = Some(
                wharf_db::testing::fresh_postgres_schema(&base)
                    .await
                    .unwrap(),
            );
        }
        tweak(&mut config);
        let app = App::open(config, true).await.unwrap();
        let expected = if app.config.is_embedded_database() {
            wharf_db::Backend::Sqlite
        } else {
            wharf_db::Backend::Postgres
        };
        assert_eq!(
            app.db.backend(),
            expected,
            "the app runs on the configured backend"
        );
        Self { app, dir }
    }

    pub async fn user(&self, name: &str) {
        self.app.accounts.create_user(name, false).await.unwrap();
    }

    /// Grants an existing user the MCP namespace `glob`.
    pub async fn grant_namespace(&self, user: &str, glob: &str) {
        let user = self
            .app
            .ports
            .users
            .find_user_by_name(user)
            .await
            .unwrap()
            .unwrap();
        self.app.catalog.grant(glob, &user).await.unwrap();
    }

    /// An administrator (created) and a token with every scope.
    #[allow(dead_code)]
    pub async fn admin_token(&self, user: &str) -> String {
        self.app.accounts.create_user(user, true).await.unwrap();
        self.token(user, "read,publish,admin", &[]).await
    }

    /// A user (created if needed) and a token for them.
    pub async fn token(&self, user: &str, scopes: &str, projects: &[&str]) -> String {
        self.restricted_token(user, scopes, projects, &[]).await
    }

    /// A user (created if needed) and a token restricted to projects and MCP
    /// namespaces.
    pub async fn restricted_token(
        &self,
        user: &str,
        scopes: &str,
        projects: &[&str],
        namespaces: &[&str],
    ) -> String {
        if self
            .app
            .ports
            .users
            .find_user_by_name(user)
            .await
            .unwrap()
            .is_none()
        {
            self.user(user).await;
        }
        let projects: Vec<String> = projects.iter().map(|s| s.to_string()).collect();
        let namespaces: Vec<String> = namespaces.iter().map(|s| s.to_string()).collect();
        let req = TokenRequest {
            user,
            label: "test",
            scopes,
            projects: &projects,
            namespaces: &namespaces,
            expires_in: None,
            ip_hash: None,
        };
        let (token, _) = self.app.accounts.create_token(req).await.unwrap();
        token.reveal().to_owned()
    }

    /// A token whose expiry is already in the past.
    pub async fn expired_token(&self, user: &str) -> String {
        self.token(user, "read", &[]).await;
        let owner = self
            .app
            .ports
            .users
            .find_user_by_name(user)
            .await
            .unwrap()
            .unwrap();
        let token = ApiToken::generate();
        let new = NewToken {
            user_id: owner.id,
            name: "old".into(),
            hash_hex: token.hash().to_hex(),
            scopes: Scopes::parse("read,publish").unwrap(),
            projects: Vec::<NormalizedName>::new(),
            namespaces: Vec::new(),
            expires_at: Some(Timestamp(Timestamp::now().micros() - 1_000_000)),
        };
        let event = wharf_core::model::NewAuditEvent {
            actor_user_id: None,
            actor_token_id: None,
            action: "token.create".into(),
            target: String::new(),
            detail: "{}".into(),
            ip_hash: None,
            at: Timestamp::now(),
        };
        self.app
            .ports
            .tokens
            .create_token(new, event)
            .await
            .unwrap();
        token.reveal().to_owned()
    }

    /// Sends a request as if from 127.0.0.1 (see [`TestApp::send_from`]).
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        self.send_from("127.0.0.1:40000", request).await
    }

    /// Sends a request as if its TCP connection came from `peer`.
    pub async fn send_from(&self, peer: &str, mut request: Request<Body>) -> TestResponse {
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let response = wharf_server::router(self.app.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body,
            reason,
        }
    }

    pub async fn get(&self, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut req = Request::get(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A form post (`application/x-www-form-urlencoded`), with cookies.
    pub async fn post_form(
        &self,
        uri: &str,
        cookies: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req =
            Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn post_json(&self, uri: &str, token: Option<&str>, body: &str) -> TestResponse {
        let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    pub async fn upload(&self, token: Option<&str>, form: &UploadForm) -> TestResponse {
        let mut req = Request::post("/legacy/").header(header::CONTENT_TYPE, form.content_type());
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, basic(t));
        }
        self.send(req.body(Body::from(form.body())).unwrap()).await
    }

    pub fn tmp_entries(&self) -> usize {
        std::fs::read_dir(self.app.config.tmp_dir())
            .unwrap()
            .count()
    }
}

pub fn basic(token: &str) -> String {
    let raw = format!("__token__:{token}");
    format!("Basic {}", wharf_testkit::base64(raw.as_bytes()))
}

/// A legacy-upload form, as twine sends it; every field can be changed.
#[derive(Clone)]
pub struct UploadForm {
    pub fields: Vec<(String, String)>,
    pub filename: String,
    pub content: Vec<u8>,
}

const BOUNDARY: &str = "wharf-test-boundary-7MA4YWxkTrZu0gW";

impl UploadForm {
    /// A complete, valid form for a wheel or sdist's bytes.
    pub fn new(name: &str, version: &str, filename: &str, content: Vec<u8>) -> Self {
        let filetype = if filename.ends_with(".whl") {
            "bdist_wheel"
        } else {
            "sdist"
        };
        let pyversion = if filetype == "sdist" { "source" } else { "py3" };
        let fields = vec![
            (":action".into(), "file_upload".into()),
            ("protocol_version".into(), "1".into()),
            ("name".into(), name.into()),
            ("version".into(), version.into()),
            ("filetype".into(), filetype.into()),
            ("pyversion".into(), pyversion.into()),
            ("metadata_version".into(), "2.1".into()),
            (
                "sha256_digest".into(),
                hex::encode(sha2::Sha256::digest(&content)),
            ),
        ];
        Self {
            fields,
            filename: filename.into(),
            content,
        }
    }

    pub fn wheel(w: &wharf_testkit::WheelBuilder, name: &str, version: &str) -> Self {
        Self::new(name, version, &w.filename(), w.build())
    }

    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.fields.retain(|(k, _)| k != key);
        self.fields.push((key.into(), value.into()));
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.fields.retain(|(k, _)| k != key);
        self
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }

    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in &self.fields {
            out.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n",
                self.filename
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.content);
        out.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        out
    }
}

impl TestResponse {
    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The value set for cookie `name`, if this response sets it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    /// The value of a hidden form field in an HTML page.
    pub fn hidden_field(&self, name: &str) -> String {
        let text = self.text();
        let marker = format!("name=\"{name}\" value=\"");
        let start = text
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {text}"))
            + marker.len();
        text[start..].split('"').next().unwrap().to_owned()
    }
}

/// Serves `router` on a free 127.0.0.1 port for the rest of the test: a
/// stand-in for an upstream registry.
pub async fn serve_on_loopback(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}
