//! What an [`S3BlobStore`](super::S3BlobStore) needs to know: plain data,
//! readable from a config file.

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// Where and how to reach the bucket. `Debug` shows the secret as `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    /// The bucket that holds every blob.
    pub bucket: String,
    /// The region the requests are signed for.
    pub region: String,
    /// Base URL of an S3-compatible service; without it, object_store's
    /// default endpoint for `region`.
    #[serde(default)]
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Whether an `http://` endpoint is accepted. Off: https only.
    #[serde(default)]
    pub allow_http: bool,
    /// Marks a throwaway endpoint (e.g. moto in tests): server-side
    /// encryption is not requested from it. Never set in production.
    #[serde(default)]
    pub local_test_endpoint: bool,
    /// How long a presigned download URL works. Default 15 minutes.
    #[serde(
        default = "S3Settings::default_presign_ttl",
        deserialize_with = "human_duration"
    )]
    pub presign_ttl: Duration,
    /// Deadline for one upload, all parts included. Default 10 minutes.
    #[serde(
        default = "S3Settings::default_upload_timeout",
        deserialize_with = "human_duration"
    )]
    pub upload_timeout: Duration,
}

impl S3Settings {
    /// Settings for a bucket over https, with the default TTL and deadline.
    pub fn new(
        bucket: impl Into<String>,
        region: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
    ) -> Self {
        Self {
            bucket: bucket.into(),
            region: region.into(),
            endpoint: None,
            access_key_id: access_key_id.into(),
            secret_access_key,
            allow_http: false,
            local_test_endpoint: false,
            presign_ttl: Self::default_presign_ttl(),
            upload_timeout: Self::default_upload_timeout(),
        }
    }

    /// 15 minutes: long enough to start a download, short enough that a
    /// leaked URL is soon useless.
    pub fn default_presign_ttl() -> Duration {
        Duration::from_secs(15 * 60)
    }

    /// 10 minutes: a 100 MiB upload at well under 1 MiB/s still fits.
    pub fn default_upload_timeout() -> Duration {
        Duration::from_secs(10 * 60)
    }
}

/// A duration written for people: `"15m"`, `"90s"`, `"1h 30m"`.
fn human_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!("'{text}' is not a duration like \"15m\": {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI-not-a-real-secret";

    #[test]
    fn debug_output_hides_the_secret() {
        let settings = S3Settings::new("blobs", "eu-west-1", "AKIDEXAMPLE", SECRET.into());
        let shown = format!("{settings:?} {settings:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(
            shown.contains("AKIDEXAMPLE"),
            "the rest stays readable: {shown}"
        );
    }

    #[test]
    fn reads_from_toml_with_defaults() {
        let settings: S3Settings = toml::from_str(&format!(
            "bucket = \"blobs\"\nregion = \"eu-west-1\"\naccess_key_id = \"AKIDEXAMPLE\"\n\
             secret_access_key = \"{SECRET}\"\nupload_timeout = \"2m\"\n"
        ))
        .unwrap();
        assert_eq!(settings.presign_ttl, Duration::from_secs(900));
        assert_eq!(settings.upload_timeout, Duration::from_secs(120));
        assert!(!settings.allow_http && !settings.local_test_endpoint);
        assert!(!format!("{settings:?}").contains(SECRET));
    }

    #[test]
    fn refuses_a_duration_without_unit() {
        let err = toml::from_str::<S3Settings>(
            "bucket = \"b\"\nregion = \"r\"\naccess_key_id = \"a\"\n\
             secret_access_key = \"s\"\npresign_ttl = \"900\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a duration"), "{err}");
    }
}
