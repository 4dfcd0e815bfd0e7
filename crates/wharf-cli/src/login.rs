//! `wharf login`, `wharf whoami` and `wharf logout`: the client side of the
//! device flow (RFC 8628) and of `GET /api/v1/whoami`.

use crate::credentials::{self, Credentials};
use anyhow::{bail, Context};
use serde::Deserialize;
use std::time::{Duration, Instant};

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Deserialize)]
struct DeviceCode {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: u64,
    interval: u64,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

pub(crate) fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("wharf-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")
}

fn base_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("--url must start with https:// (or http:// for a local registry), e.g. https://wharf.example.com");
    }
    Ok(url.to_owned())
}

/// Asks for a code, tells the person where to approve it, polls until the
/// registry answers, and stores the token.
pub async fn login(url: &str, scope: Option<&str>) -> anyhow::Result<()> {
    let base = base_url(url)?;
    let http = client()?;
    let mut form = vec![("client_id", "wharf-cli")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = http
        .post(format!("{base}/api/v1/auth/device/code"))
        .form(&form)
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?;
    if !response.status().is_success() {
        bail!("{}", describe_failure(response).await);
    }
    let code: DeviceCode = response
        .json()
        .await
        .context("the registry's reply is not a device code")?;
    eprintln!("To log in, open {}", code.verification_uri);
    eprintln!("and enter the code: {}", code.user_code);
    if let Some(complete) = &code.verification_uri_complete {
        eprintln!("(or open {complete})");
    }
    eprintln!("Waiting for approval...");

    let deadline = Instant::now() + Duration::from_secs(code.expires_in);
    let mut interval = Duration::from_secs(code.interval.max(1));
    let token = loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            bail!("the code expired before it was approved; run `wharf login` again");
        }
        let response = http
            .post(format!("{base}/api/v1/auth/device/token"))
            .form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("device_code", code.device_code.as_str()),
                ("client_id", "wharf-cli"),
            ])
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            // A brief network error is no reason to give up on the code.
            Err(e) => {
                eprintln!("warning: polling failed ({e}); retrying");
                continue;
            }
        };
        if response.status().is_success() {
            let reply: TokenReply = response
                .json()
                .await
                .context("the registry's token reply is not valid")?;
            break reply.access_token;
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        match serde_json::from_str::<OAuthError>(&text) {
            Ok(e) if e.error == "authorization_pending" => {}
            Ok(e) if e.error == "slow_down" => interval += Duration::from_secs(5),
            Ok(e) if e.error == "access_denied" => bail!("the login was denied in the browser"),
            Ok(e) if e.error == "expired_token" => {
                bail!("the code expired before it was approved; run `wharf login` again")
            }
            Ok(e) => bail!("login failed: {}", e.error_description.unwrap_or(e.error)),
            Err(_) if status.is_server_error() => {
                eprintln!("warning: the registry answered {status}; retrying");
            }
            Err(_) => bail!("login failed: HTTP {status}"),
        }
    };
    let path = credentials::store(&Credentials {
        url: base.clone(),
        token,
    })?;
    eprintln!(
        "Logged in to {base}; the token is stored in {}",
        path.display()
    );
    Ok(())
}

#[derive(Deserialize)]
struct WhoAmI {
    user: WhoUser,
    scopes: Vec<String>,
    #[serde(default)]
    projects: Vec<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    token: Option<WhoToken>,
}

#[derive(Deserialize)]
struct WhoUser {
    name: String,
    is_admin: bool,
}

#[derive(Deserialize)]
struct WhoToken {
    id: i64,
    name: String,
    expires_at: Option<String>,
}

/// Prints who the stored token belongs to, and what it may do.
pub async fn whoami() -> anyhow::Result<String> {
    let creds = credentials::load()?;
    let response = client()?
        .get(format!("{}/api/v1/whoami", creds.url))
        .bearer_auth(&creds.token)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", creds.url))?;
    if !response.status().is_success() {
        bail!("{}", describe_failure(response).await);
    }
    let me: WhoAmI = response
        .json()
        .await
        .context("the registry's reply is not valid")?;
    let mut out = format!(
        "{}{} at {}\nscopes: {}\n",
        me.user.name,
        if me.user.is_admin { " (admin)" } else { "" },
        creds.url,
        me.scopes.join(", ")
    );
    if !me.projects.is_empty() {
        out.push_str(&format!("projects: {}\n", me.projects.join(", ")));
    }
    if !me.namespaces.is_empty() {
        out.push_str(&format!("namespaces: {}\n", me.namespaces.join(", ")));
    }
    if let Some(t) = me.token {
        out.push_str(&format!(
            "token: {} (id {}), expires {}\n",
            t.name,
            t.id,
            t.expires_at.as_deref().unwrap_or("never")
        ));
    }
    Ok(out)
}

/// The registry's own message, when it sent one.
async fn describe_failure(response: reqwest::Response) -> String {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned));
    match message {
        Some(m) => format!("{m} (HTTP {status})"),
        None => format!("the registry answered HTTP {status}"),
    }
}
