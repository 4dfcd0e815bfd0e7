//! `S3BlobStore` against a real S3-compatible server: moto, started by
//! `scripts/test-services`. Each test makes a bucket of its own.

use object_store::aws::AmazonS3Builder;
use object_store::signer::{Method, Signer};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wharf_blob::{S3BlobStore, S3Settings};
use wharf_core::ports::{BlobError, BlobKey, BlobLocation, BlobStore};

const MIB: usize = 1024 * 1024;

fn endpoint() -> String {
    std::env::var("WHARF_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "WHARF_TEST_S3_ENDPOINT is not set: run ./scripts/test, or \
             `eval \"$(scripts/test-services)\"` first, which starts moto"
        )
    })
}

/// Settings for moto, which takes any credentials.
fn settings(bucket: &str) -> S3Settings {
    let mut settings = S3Settings::new(bucket, "us-east-1", "test", "test".into());
    settings.endpoint = Some(endpoint());
    settings.allow_http = true;
    settings.local_test_endpoint = true;
    settings
}

/// A new, empty bucket. moto needs no signature to create one.
async fn new_bucket() -> String {
    let bucket = format!("wharf-test-{:016x}", rand::random::<u64>());
    let reply = reqwest::Client::new()
        .put(format!("{}/{bucket}", endpoint()))
        .send()
        .await
        .expect("moto answers");
    assert!(reply.status().is_success(), "creating {bucket}: {reply:?}");
    bucket
}

async fn store_in_new_bucket() -> S3BlobStore {
    S3BlobStore::new(settings(&new_bucket().await)).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `len` seeded pseudo-random bytes to a file in `dir`; returns its
/// path and the blob key its content hashes to.
fn staged_file(dir: &Path, name: &str, len: usize, seed: u64) -> (PathBuf, BlobKey) {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; MIB];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        rng.fill(&mut chunk[..n]);
        hasher.update(&chunk[..n]);
        file.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    (path, BlobKey::for_sha256(&hex::encode(hasher.finalize())))
}

async fn presigned_url(store: &S3BlobStore, key: &BlobKey) -> String {
    match store.locate(key).await.unwrap() {
        BlobLocation::Redirect(url) => url,
        other => panic!("expected a redirect, got {other:?}"),
    }
}

/// What a client following the redirect gets: status and body.
async fn download(store: &S3BlobStore, key: &BlobKey) -> (u16, Vec<u8>) {
    let reply = reqwest::get(presigned_url(store, key).await).await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.bytes().await.unwrap().to_vec())
}

/// The response headers of a presigned HEAD, i.e. what S3 says about the
/// object. Signed, because moto refuses anonymous reads of encrypted objects.
async fn head_headers(store: &S3BlobStore, key: &BlobKey) -> reqwest::header::HeaderMap {
    let signer = AmazonS3Builder::new()
        .with_bucket_name(store.bucket())
        .with_region("us-east-1")
        .with_endpoint(endpoint())
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_allow_http(true)
        .build()
        .unwrap();
    let url = signer
        .signed_url(Method::HEAD, &key.as_str().into(), Duration::from_secs(60))
        .await
        .unwrap();
    let reply = reqwest::Client::new().head(url).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 200, "HEAD {key:?}");
    reply.headers().clone()
}

#[tokio::test]
async fn small_blob_is_served_through_a_presigned_url() {
    let store = store_in_new_bucket().await;
    let bytes = b"Metadata-Version: 2.1\nName: demo\n".to_vec();
    let key = BlobKey::for_sha256(&sha256_hex(&bytes));
    store.put_bytes(&key, bytes.clone()).await.unwrap();

    let (status, body) = download(&store, &key).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes);
}

#[tokio::test]
async fn presigned_url_lives_fifteen_minutes() {
    let secret = "s3cr3t-that-never-appears-in-urls";
    let store = S3BlobStore::new(S3Settings {
        secret_access_key: secret.into(),
        ..settings("wharf-test-presign")
    })
    .unwrap();
    let key = BlobKey::for_sha256(&"0".repeat(64));
    let url = presigned_url(&store, &key).await;
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    assert!(
        url.contains(&format!("/wharf-test-presign/{}?", key.as_str())),
        "path-style: {url}"
    );
    assert!(!url.contains(secret), "{url}");
}

#[tokio::test]
async fn large_file_goes_up_in_parts_and_comes_back_identical() {
    let store = store_in_new_bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let (staged, key) = staged_file(dir.path(), "upload", 20 * MIB, 1);

    store.put_file(&key, &staged).await.unwrap();

    assert!(!staged.exists(), "the staged file is consumed");
    let etag = head_headers(&store, &key).await["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        etag.trim_matches('"').ends_with("-3"),
        "three 8 MiB parts, etag {etag}"
    );
    let (status, body) = download(&store, &key).await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), 20 * MIB);
    assert_eq!(
        BlobKey::for_sha256(&sha256_hex(&body)),
        key,
        "same sha256 back"
    );
}

#[tokio::test]
async fn small_file_is_stored_and_consumed() {
    let store = store_in_new_bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let (staged, key) = staged_file(dir.path(), "upload", 3 * MIB + 7, 2);
    let expected = std::fs::read(&staged).unwrap();

    store.put_file(&key, &staged).await.unwrap();

    assert!(!staged.exists());
    assert_eq!(download(&store, &key).await, (200, expected));
}

#[tokio::test]
async fn second_put_of_a_key_succeeds_and_changes_nothing() {
    let store = store_in_new_bucket().await;
    let key = BlobKey::for_sha256(&"c".repeat(64));
    store.put_bytes(&key, b"first".to_vec()).await.unwrap();
    // Different bytes under the same key can only come from a bug, which is
    // exactly when create-only matters: the stored object must stay as it was.
    store.put_bytes(&key, b"second".to_vec()).await.unwrap();
    assert_eq!(download(&store, &key).await, (200, b"first".to_vec()));

    let dir = tempfile::tempdir().unwrap();
    let (staged, _) = staged_file(dir.path(), "small", 1000, 3);
    store.put_file(&key, &staged).await.unwrap();
    assert!(!staged.exists(), "consumed even when the key exists");
    assert_eq!(download(&store, &key).await, (200, b"first".to_vec()));
}

#[tokio::test]
async fn second_large_put_of_a_key_succeeds_and_changes_nothing() {
    let store = store_in_new_bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let (first, key) = staged_file(dir.path(), "first", 9 * MIB, 4);
    store.put_file(&key, &first).await.unwrap();
    let (second, _) = staged_file(dir.path(), "second", 10 * MIB, 5);

    store.put_file(&key, &second).await.unwrap();

    assert!(!second.exists());
    let (status, body) = download(&store, &key).await;
    assert_eq!(status, 200);
    assert_eq!(
        BlobKey::for_sha256(&sha256_hex(&body)),
        key,
        "still the first"
    );
}

#[tokio::test]
async fn check_passes_for_an_existing_bucket() {
    let store = store_in_new_bucket().await;
    store.check().await.unwrap();
}

#[tokio::test]
async fn check_names_a_missing_bucket() {
    let store = S3BlobStore::new(settings("wharf-test-no-such-bucket")).unwrap();
    let err = store.check().await.unwrap_err();
    let BlobError::Failed { step, key, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*step, key.as_str()),
        ("reach", "bucket wharf-test-no-such-bucket")
    );
    let message = err.to_string();
    assert!(message.contains("does not exist"), "{message}");
    assert!(!message.contains("test:test"), "{message}");
}

#[tokio::test]
async fn objects_are_encrypted_at_rest_outside_local_test_endpoints() {
    let bucket = new_bucket().await;
    let encrypted = S3BlobStore::new(S3Settings {
        local_test_endpoint: false,
        ..settings(&bucket)
    })
    .unwrap();
    let plain = S3BlobStore::new(settings(&bucket)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (large, large_key) = staged_file(dir.path(), "large", 9 * MIB, 6);
    let small_key = BlobKey::for_sha256(&sha256_hex(b"small"));
    let unencrypted_key = BlobKey::for_sha256(&sha256_hex(b"unencrypted"));

    encrypted
        .put_bytes(&small_key, b"small".to_vec())
        .await
        .unwrap();
    encrypted.put_file(&large_key, &large).await.unwrap();
    plain
        .put_bytes(&unencrypted_key, b"unencrypted".to_vec())
        .await
        .unwrap();

    for key in [&small_key, &large_key] {
        let headers = head_headers(&encrypted, key).await;
        assert_eq!(
            headers
                .get("x-amz-server-side-encryption")
                .map(|v| v.to_str().unwrap()),
            Some("AES256"),
            "{key:?}: {headers:?}"
        );
    }
    assert_eq!(
        download(&encrypted, &small_key).await,
        (200, b"small".to_vec()),
        "the presigned GET reads an encrypted object"
    );
    let headers = head_headers(&plain, &unencrypted_key).await;
    assert!(
        headers.get("x-amz-server-side-encryption").is_none(),
        "a local test endpoint is not asked to encrypt: {headers:?}"
    );
}

#[tokio::test]
async fn upload_past_its_deadline_fails_and_leaves_nothing() {
    let bucket = new_bucket().await;
    let store = S3BlobStore::new(S3Settings {
        upload_timeout: Duration::from_millis(1),
        ..settings(&bucket)
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (staged, key) = staged_file(dir.path(), "upload", 20 * MIB, 7);

    let err = store.put_file(&key, &staged).await.unwrap_err();

    let message = err.to_string();
    assert!(
        matches!(&err, BlobError::Failed { step: "store", key: k, .. } if k == key.as_str()),
        "{err:?}"
    );
    assert!(message.contains("deadline"), "{message}");
    assert!(staged.exists(), "a failed upload keeps the staged file");
    assert_eq!(
        download(&store, &key).await.0,
        404,
        "no object under the key"
    );
    // Nor a multipart upload left open (moto needs no signature to list them).
    let open_uploads = reqwest::get(format!("{}/{bucket}?uploads", endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        open_uploads.contains("<ListMultipartUploadsResult")
            && !open_uploads.contains("<UploadId>"),
        "{open_uploads}"
    );
}

#[tokio::test]
async fn upload_cut_off_part_way_is_aborted() {
    let bucket = new_bucket().await;
    // Long enough to get past the HEAD and open the multipart upload (a few
    // milliseconds on loopback), far too short for 20 MiB of parts (moto
    // takes a few hundred). Under heavy load the cut may come earlier; the
    // promises checked below hold either way.
    let store = S3BlobStore::new(S3Settings {
        upload_timeout: Duration::from_millis(50),
        ..settings(&bucket)
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (staged, key) = staged_file(dir.path(), "upload", 20 * MIB, 8);

    let err = store.put_file(&key, &staged).await.unwrap_err();

    assert!(err.to_string().contains("deadline of 50ms"), "{err}");
    assert_eq!(download(&store, &key).await.0, 404);
    let open_uploads = reqwest::get(format!("{}/{bucket}?uploads", endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        open_uploads.contains("<ListMultipartUploadsResult")
            && !open_uploads.contains("<UploadId>"),
        "the multipart upload was aborted: {open_uploads}"
    );
}

#[tokio::test]
async fn fetch_copies_an_object_to_a_local_file_and_reports_missing_ones() {
    let store = store_in_new_bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let (staged, key) = staged_file(dir.path(), "upload", 3 * MIB, 7);
    store.put_file(&key, &staged).await.unwrap();

    let copy = dir.path().join("copy");
    store.fetch_to(&key, &copy).await.unwrap();
    let body = std::fs::read(&copy).unwrap();
    assert_eq!(BlobKey::for_sha256(&sha256_hex(&body)), key);

    let missing = BlobKey::for_sha256(&"e".repeat(64));
    let err = store.fetch_to(&missing, &copy).await.unwrap_err();
    assert!(matches!(err, BlobError::NotFound(_)), "{err}");
}
