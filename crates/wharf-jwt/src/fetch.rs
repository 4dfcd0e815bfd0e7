//! Fetching the key set from the identity provider: bounded in time and
//! size, https only unless explicitly allowed.

use crate::jwks::{parse_key_set, KeySet};
use crate::{JwtConfigError, JwtError};
use std::time::Duration;

/// Real key sets are a few KiB; the cap keeps a misbehaving endpoint from
/// filling memory.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Redirects are followed (some providers move their JWKS), but not forever.
const MAX_REDIRECTS: usize = 3;

/// Fetches one JWKS URL.
pub(crate) struct JwksFetcher {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl JwksFetcher {
    /// A fetcher for `url`, already checked by [`JwtSettings::validate`](crate::JwtSettings::validate).
    pub(crate) fn new(
        url: reqwest::Url,
        timeout: Duration,
        allow_insecure: bool,
    ) -> Result<Self, JwtConfigError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // Also applies to redirects: an https URL can't bounce us to http.
            .https_only(!allow_insecure)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .user_agent(concat!("wharf-jwt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JwtConfigError::HttpClient {
                reason: e.to_string(),
            })?;
        Ok(Self { client, url })
    }

    /// Fetches and parses the key set. Any failure is
    /// [`JwtError::KeysUnavailable`]: the token was not at fault.
    pub(crate) async fn fetch(&self) -> Result<KeySet, JwtError> {
        let body = self.fetch_body().await.map_err(|reason| {
            tracing::warn!(url = %self.url, %reason, "JWKS fetch failed");
            JwtError::KeysUnavailable(reason)
        })?;
        parse_key_set(&body).map_err(|reason| {
            tracing::warn!(url = %self.url, %reason, "JWKS is unreadable");
            JwtError::KeysUnavailable(reason)
        })
    }

    async fn fetch_body(&self) -> Result<Vec<u8>, String> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch the JWKS: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the JWKS endpoint answered {status}"));
        }
        let too_large = || format!("the JWKS is larger than {} KiB", MAX_JWKS_BYTES / 1024);
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
        {
            return Err(too_large());
        }
        // The declared length may be absent or false; count as we read.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("cannot read the JWKS: {e}"))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
