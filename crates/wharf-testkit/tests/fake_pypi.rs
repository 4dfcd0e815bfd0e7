//! The stand-in upstream index, driven over loopback with a real HTTP client.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, VARY};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use wharf_testkit::fake_pypi::{
    default_upload_time, FakePypi, Fault, SLOW_FILE_PARTS, TRAVERSAL_FILENAME,
};
use wharf_testkit::{SdistBuilder, WheelBuilder};

const JSON: &str = "application/vnd.pypi.simple.v1+json";
const PIP_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

fn demo_wheel() -> WheelBuilder {
    WheelBuilder::new("demo-pkg", "1.0")
        .requires_python(">=3.9")
        .file("demo_pkg/__init__.py", "print('hi')\n")
}

/// A stand-in holding `demo-pkg` 1.0 (wheel and sdist) and 2.0 (wheel).
async fn upstream() -> FakePypi {
    let fake = FakePypi::start().await;
    let wheel = demo_wheel();
    fake.add_file(&wheel.filename(), wheel.build(), default_upload_time());
    let sdist = SdistBuilder::new("demo-pkg", "1.0").requires_python(">=3.8");
    fake.add_file(&sdist.filename(), sdist.build(), default_upload_time());
    let newer = WheelBuilder::new("demo-pkg", "2.0");
    fake.add_file(&newer.filename(), newer.build(), default_upload_time());
    fake
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn json_page(fake: &FakePypi, project: &str) -> Value {
    let response = client()
        .get(format!("{}{project}/", fake.simple_url()))
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn get_bytes(url: &str) -> Vec<u8> {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.bytes().await.unwrap().to_vec()
}

fn file_entry<'a>(page: &'a Value, filename: &str) -> &'a Value {
    page["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["filename"] == filename)
        .unwrap_or_else(|| panic!("no entry for {filename}"))
}

#[tokio::test]
async fn negotiates_json_and_html() {
    let fake = upstream().await;
    let url = format!("{}demo-pkg/", fake.simple_url());
    let cases = [
        (Some(PIP_ACCEPT), JSON),
        (Some("application/vnd.pypi.simple.latest+json"), JSON),
        (None, "text/html"),
        (Some("text/html"), "text/html"),
        (
            Some("application/vnd.pypi.simple.v1+json; q=0.5, text/html"),
            "text/html",
        ),
        (
            Some("application/vnd.pypi.simple.v1+html"),
            "application/vnd.pypi.simple.v1+html",
        ),
    ];
    for (accept, expected) in cases {
        let mut request = client().get(&url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], expected, "{accept:?}");
        assert_eq!(response.headers()[VARY], "Accept");
    }
    let refused = client()
        .get(&url)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn json_page_declares_what_it_serves() {
    let fake = upstream().await;
    let wheel = demo_wheel();
    let page = json_page(&fake, "demo-pkg").await;
    assert_eq!(page["meta"]["api-version"], "1.4");
    assert_eq!(page["name"], "demo-pkg");
    assert_eq!(page["versions"], serde_json::json!(["1.0", "2.0"]));
    assert_eq!(page["files"].as_array().unwrap().len(), 3);

    let entry = file_entry(&page, &wheel.filename());
    let url = entry["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/files/{}", fake.base_url(), wheel.filename())
    );
    let bytes = get_bytes(url).await;
    assert_eq!(bytes, wheel.build());
    assert_eq!(entry["hashes"]["sha256"], sha256_hex(&bytes));
    assert_eq!(entry["size"], bytes.len());
    assert_eq!(entry["requires-python"], ">=3.9");
    assert_eq!(entry["upload-time"], "2020-01-01T00:00:00.000000Z");
    assert_eq!(entry["yanked"], false);

    let metadata = get_bytes(&format!("{url}.metadata")).await;
    assert_eq!(metadata, wheel.metadata_bytes());
    assert_eq!(entry["core-metadata"]["sha256"], sha256_hex(&metadata));
    assert_eq!(entry["data-dist-info-metadata"], entry["core-metadata"]);

    let sdist = file_entry(&page, "demo_pkg-1.0.tar.gz");
    assert_eq!(sdist["requires-python"], ">=3.8");
    assert_eq!(sdist["core-metadata"], false);
    let missing = client()
        .get(format!("{}.metadata", sdist["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let newer = file_entry(&page, "demo_pkg-2.0-py3-none-any.whl");
    assert!(newer.get("requires-python").is_none());
}

#[tokio::test]
async fn html_page_carries_the_same_facts() {
    let fake = upstream().await;
    let wheel = demo_wheel();
    fake.yank(&wheel.filename(), Some("broken <build>"));
    let html = client()
        .get(format!("{}demo-pkg/", fake.simple_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sha = sha256_hex(&wheel.build());
    let metadata_sha = sha256_hex(&wheel.metadata_bytes());
    let anchor = format!(
        "<a href=\"{}/files/{}#sha256={sha}\" data-requires-python=\"&gt;=3.9\" data-core-metadata=\"sha256={metadata_sha}\" data-dist-info-metadata=\"sha256={metadata_sha}\" data-yanked=\"broken &lt;build&gt;\">{}</a>",
        fake.base_url(),
        wheel.filename(),
        wheel.filename(),
    );
    assert!(html.contains(&anchor), "{html}");
    assert!(html.contains("<meta name=\"pypi:repository-version\" content=\"1.4\">"));
    assert!(html.contains(">demo_pkg-1.0.tar.gz</a>"));
}

#[tokio::test]
async fn yanks_and_upload_times_can_change() {
    let fake = upstream().await;
    let filename = demo_wheel().filename();
    fake.yank(&filename, None);
    assert_eq!(
        file_entry(&json_page(&fake, "demo-pkg").await, &filename)["yanked"],
        true
    );
    fake.yank(&filename, Some("bad"));
    assert_eq!(
        file_entry(&json_page(&fake, "demo-pkg").await, &filename)["yanked"],
        "bad"
    );
    fake.unyank(&filename);
    let later = humantime::parse_rfc3339("2024-05-06T07:08:09.123456Z").unwrap();
    fake.set_upload_time(&filename, later);
    let page = json_page(&fake, "demo-pkg").await;
    let entry = file_entry(&page, &filename);
    assert_eq!(entry["yanked"], false);
    assert_eq!(entry["upload-time"], "2024-05-06T07:08:09.123456Z");
}

#[tokio::test]
async fn redirects_other_spellings_and_lists_projects() {
    let fake = upstream().await;
    let other = WheelBuilder::new("Other_Thing", "0.1");
    fake.add_file(&other.filename(), other.build(), SystemTime::now());
    let client = client();

    let moved = client
        .get(format!("{}Demo.PKG/", fake.simple_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(moved.headers()[LOCATION], "/simple/demo-pkg/");
    let no_slash = client
        .get(format!("{}demo-pkg", fake.simple_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(no_slash.status(), StatusCode::MOVED_PERMANENTLY);
    let unknown = client
        .get(format!("{}nothing-here/", fake.simple_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let index: Value = client
        .get(fake.simple_url())
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap()
        .json_bytes()
        .await;
    assert_eq!(
        index,
        serde_json::json!({"meta": {"api-version": "1.4"}, "projects": [{"name": "demo-pkg"}, {"name": "other-thing"}]})
    );
    let html = client
        .get(fake.simple_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<a href=\"/simple/other-thing/\">other-thing</a>"));
}

#[tokio::test]
async fn etag_answers_304_and_counts_it() {
    let fake = upstream().await;
    let url = format!("{}demo-pkg/", fake.simple_url());
    let first = client()
        .get(&url)
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap();
    let etag = first.headers()[ETAG].clone();
    let again = client()
        .get(&url)
        .header(ACCEPT, JSON)
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag);
    // The HTML form is another body, with another tag.
    let html = client()
        .get(&url)
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    assert_ne!(html.headers()[ETAG], etag);
    // A change to the page changes its tag.
    fake.yank(&demo_wheel().filename(), None);
    let changed = client()
        .get(&url)
        .header(ACCEPT, JSON)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(fake.page_requests("demo-pkg"), 4);
}

#[tokio::test]
async fn counts_requests_by_target() {
    let fake = upstream().await;
    let wheel = demo_wheel().filename();
    let base = fake.base_url();
    json_page(&fake, "demo-pkg").await;
    json_page(&fake, "demo-pkg").await;
    let _ = client()
        .get(format!("{}Demo_Pkg/", fake.simple_url()))
        .send()
        .await
        .unwrap();
    get_bytes(&format!("{base}/files/{wheel}")).await;
    get_bytes(&format!("{base}/files/{wheel}.metadata")).await;
    get_bytes(&format!("{base}/files/{wheel}.metadata")).await;
    let _ = client()
        .get(format!("{base}/elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(fake.page_requests("demo-pkg"), 3);
    assert_eq!(fake.page_requests("DEMO.pkg"), 3);
    assert_eq!(fake.file_requests(&wheel), 1);
    assert_eq!(fake.metadata_requests(&wheel), 2);
    assert_eq!(fake.file_requests("demo_pkg-1.0.tar.gz"), 0);
    assert_eq!(fake.total_requests(), 7);
}

#[tokio::test]
async fn status_fault_answers_every_request_and_still_counts() {
    let fake = upstream().await;
    fake.set_fault(Fault::Status(503));
    let page = client()
        .get(format!("{}demo-pkg/", fake.simple_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers()["retry-after"], "1");
    fake.set_fault(Fault::Status(500));
    let file = client()
        .get(format!(
            "{}/files/{}",
            fake.base_url(),
            demo_wheel().filename()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(fake.page_requests("demo-pkg"), 1);
    assert_eq!(fake.file_requests(&demo_wheel().filename()), 1);
    fake.clear_faults();
    json_page(&fake, "demo-pkg").await;
}

#[tokio::test]
async fn delay_fault_holds_every_answer() {
    let fake = upstream().await;
    fake.set_fault(Fault::Delay(Duration::from_secs(5)));
    let client = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = client
        .get(format!("{}demo-pkg/", fake.simple_url()))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    fake.set_fault(Fault::Delay(Duration::from_millis(150)));
    fake.set_fault(Fault::Delay(Duration::from_millis(100)));
    let started = Instant::now();
    let answer = reqwest::get(fake.simple_url()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn malformed_and_oversized_pages() {
    let fake = upstream().await;
    fake.set_fault(Fault::MalformedPage {
        project: "Demo_Pkg".to_owned(),
    });
    let body = client()
        .get(format!("{}demo-pkg/", fake.simple_url()))
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    fake.clear_faults();
    fake.set_fault(Fault::OversizedPage {
        project: "demo-pkg".to_owned(),
        bytes: 3 * 1024 * 1024,
    });
    for accept in [JSON, "text/html"] {
        let response = client()
            .get(format!("{}demo-pkg/", fake.simple_url()))
            .header(ACCEPT, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()[CONTENT_LENGTH], "3145728");
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len(), 3 * 1024 * 1024);
        if accept == JSON {
            let page: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(page["files"].as_array().unwrap().len(), 3);
        }
    }
}

#[tokio::test]
async fn hostile_file_entries() {
    let fake = upstream().await;
    let wheel = demo_wheel().filename();
    fake.set_fault(Fault::ForeignFileUrls {
        project: "demo-pkg".to_owned(),
    });
    let page = json_page(&fake, "demo-pkg").await;
    let url = file_entry(&page, &wheel)["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, format!("{}/files/{wheel}", fake.foreign_origin()));
    assert!(!url.starts_with(&fake.base_url()));
    let error = client().get(&url).send().await.unwrap_err();
    assert!(error.is_connect(), "{error}");

    fake.clear_faults();
    fake.set_fault(Fault::TraversalFilename {
        project: "demo-pkg".to_owned(),
    });
    let page = json_page(&fake, "demo-pkg").await;
    let entry = file_entry(&page, TRAVERSAL_FILENAME);
    let url = entry["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/files/..%2F..%2Fetc%2Fpasswd.whl", fake.base_url())
    );
    let bytes = get_bytes(url).await;
    assert_eq!(entry["hashes"]["sha256"], sha256_hex(&bytes));
    assert_eq!(fake.file_requests(TRAVERSAL_FILENAME), 1);
    let html = client()
        .get(format!("{}demo-pkg/", fake.simple_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(">../../etc/passwd.whl</a>"), "{html}");

    fake.clear_faults();
    fake.set_fault(Fault::RedirectElsewhere {
        project: "demo-pkg".to_owned(),
    });
    let redirected = client()
        .get(format!("{}demo-pkg/", fake.simple_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(redirected.status(), StatusCode::FOUND);
    assert_eq!(
        redirected.headers()[LOCATION],
        format!("{}/simple/demo-pkg/", fake.foreign_origin()).as_str()
    );
}

#[tokio::test]
async fn altered_bytes_miss_their_declared_hashes() {
    let fake = upstream().await;
    let wheel = demo_wheel().filename();
    let page = json_page(&fake, "demo-pkg").await;
    let entry = file_entry(&page, &wheel);
    let url = entry["url"].as_str().unwrap();
    fake.set_fault(Fault::WrongHash {
        filename: wheel.clone(),
    });
    let bytes = get_bytes(url).await;
    assert_eq!(entry["size"], bytes.len());
    assert_ne!(entry["hashes"]["sha256"], sha256_hex(&bytes));
    let metadata = get_bytes(&format!("{url}.metadata")).await;
    assert_eq!(entry["core-metadata"]["sha256"], sha256_hex(&metadata));

    fake.set_fault(Fault::WrongMetadataHash { filename: wheel });
    let metadata = get_bytes(&format!("{url}.metadata")).await;
    assert_ne!(entry["core-metadata"]["sha256"], sha256_hex(&metadata));
}

#[tokio::test]
async fn slow_file_arrives_whole_but_late() {
    let fake = upstream().await;
    let wheel = demo_wheel();
    let pause = Duration::from_millis(100);
    fake.set_fault(Fault::SlowFile {
        filename: wheel.filename(),
        pause,
    });
    let started = Instant::now();
    let response = client()
        .get(format!("{}/files/{}", fake.base_url(), wheel.filename()))
        .send()
        .await
        .unwrap();
    let expected = wheel.build();
    assert_eq!(
        response.headers()[CONTENT_LENGTH],
        expected.len().to_string().as_str()
    );
    assert_eq!(response.bytes().await.unwrap(), expected);
    assert!(started.elapsed() >= pause * SLOW_FILE_PARTS as u32);
}

#[tokio::test]
async fn an_outage_refuses_connections_until_it_comes_back_up() {
    let fake = upstream().await;
    let url = fake.simple_url();
    // One client throughout, so its pooled connection must not outlive the outage.
    let client = client();
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );

    fake.take_down().await;
    assert!(!fake.is_up());
    let error = client.get(&url).send().await.unwrap_err();
    assert!(error.is_connect() || error.is_request(), "{error}");
    let fresh = reqwest::get(&url).await.unwrap_err();
    assert!(fresh.is_connect(), "{fresh}");

    fake.bring_up().await;
    assert!(fake.is_up());
    assert_eq!(fake.simple_url(), url);
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(fake.total_requests(), 2);
}

#[tokio::test]
async fn add_dir_takes_wheels_and_sdists() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = demo_wheel();
    let sdist = SdistBuilder::new("demo-pkg", "1.0");
    std::fs::write(dir.path().join(wheel.filename()), wheel.build()).unwrap();
    std::fs::write(dir.path().join(sdist.filename()), sdist.build()).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a distribution").unwrap();
    let fake = FakePypi::start().await;
    assert_eq!(fake.add_dir(dir.path()), 2);
    let page = json_page(&fake, "demo-pkg").await;
    assert_eq!(page["files"].as_array().unwrap().len(), 2);
}

/// Every real wheel in `WHARF_BENIGN_WHEELS` (the directory `scripts/benign-wheels` prints)
/// is listed with metadata whose hash matches what is served.
#[tokio::test]
#[ignore = "needs real wheels: set WHARF_BENIGN_WHEELS to the directory scripts/benign-wheels prints"]
async fn add_dir_serves_real_wheels() {
    let dir = PathBuf::from(std::env::var_os("WHARF_BENIGN_WHEELS").expect("WHARF_BENIGN_WHEELS"));
    let fake = FakePypi::start().await;
    let count = fake.add_dir(&dir);
    assert!(count > 0);
    for project in [
        "requests",
        "urllib3",
        "idna",
        "certifi",
        "charset-normalizer",
    ] {
        let page = json_page(&fake, project).await;
        for entry in page["files"].as_array().unwrap() {
            let url = entry["url"].as_str().unwrap();
            let bytes = get_bytes(url).await;
            assert_eq!(entry["hashes"]["sha256"], sha256_hex(&bytes), "{url}");
            let metadata = get_bytes(&format!("{url}.metadata")).await;
            assert_eq!(
                entry["core-metadata"]["sha256"],
                sha256_hex(&metadata),
                "{url}"
            );
            assert!(entry["requires-python"].is_string(), "{url}");
        }
    }
}

/// Reads a response body as JSON without reqwest's `json` feature.
trait JsonBytes {
    async fn json_bytes(self) -> Value;
}

impl JsonBytes for reqwest::Response {
    async fn json_bytes(self) -> Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}
