//! `wharf mcp …` and `wharf admin namespace …` against a real `wharf serve`.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::*;

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn validate_offline_prints_every_problem_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    write(
        &bad,
        r#"{"name": "no-slash", "description": "", "version": "^1.0",
        "packages": [{"registryType": "npm", "identifier": "$(id)", "version": "1.0.0", "transport": {"type": "stdio"}}]}"#,
    );
    let out = wharf(&dir.path().join("data"))
        .args(["mcp", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&out.stdout);
    for path in [
        "name:",
        "description:",
        "version:",
        "packages[0].identifier:",
    ] {
        assert!(
            printed.lines().any(|l| l.starts_with(path)),
            "no line for {path}:\n{printed}"
        );
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 problem(s)"));

    let good = dir.path().join("good.json");
    write(
        &good,
        r#"{"name": "com.acme/weather", "description": "Weather", "version": "1.0.0",
        "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/weather"}]}"#,
    );
    let out = run(wharf(&dir.path().join("data"))
        .args(["mcp", "validate"])
        .arg(&good));
    assert!(String::from_utf8_lossy(&out.stderr).contains("com.acme/weather 1.0.0 is valid"));
    let missing =
        run_failing(wharf(&dir.path().join("data")).args(["mcp", "validate", "/nonexistent.json"]));
    assert!(missing.contains("cannot read"), "{missing}");
}

#[test]
fn publish_with_the_stored_login_then_search() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");
    let credentials = dir.path().join("credentials.toml");
    write(
        &credentials,
        &format!("url = \"{}\"\ntoken = \"{token}\"\n", server.url("")),
    );
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).unwrap();
    let doc = dir.path().join("server.json");
    write(
        &doc,
        r#"{"name": "com.acme/weather", "description": "Forecasts for agents", "version": "1.0.0",
        "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/weather"}]}"#,
    );

    // Without a namespace grant the registry refuses, and the CLI says why.
    let refused = run_failing(
        wharf(&data)
            .env("WHARF_CREDENTIALS", &credentials)
            .args(["mcp", "publish"])
            .arg(&doc),
    );
    assert!(
        refused.contains("no permission for the namespace") && refused.contains("403"),
        "{refused}"
    );

    let granted = run(wharf(&data).args([
        "admin",
        "namespace",
        "grant",
        "com.acme/*",
        "--user",
        "alice",
    ]));
    assert!(String::from_utf8_lossy(&granted.stderr).contains("granted com.acme/* to alice"));
    let listed = server.admin(&["namespace", "list"]);
    assert!(listed.contains("com.acme/*\talice"), "{listed}");
    let bad =
        run_failing(wharf(&data).args(["admin", "namespace", "grant", "$(id)", "--user", "alice"]));
    assert!(bad.contains("NAMESPACE/NAME"), "{bad}");

    let out = run(wharf(&data)
        .env("WHARF_CREDENTIALS", &credentials)
        .args(["mcp", "publish"])
        .arg(&doc));
    assert!(String::from_utf8_lossy(&out.stderr).contains("published com.acme/weather 1.0.0"));
    let again = run_failing(
        wharf(&data)
            .env("WHARF_CREDENTIALS", &credentials)
            .args(["mcp", "publish"])
            .arg(&doc),
    );
    assert!(
        again.contains("cannot publish duplicate version") && again.contains("version:"),
        "{again}"
    );

    // The second search has spaces, which the query string must carry intact.
    for words in ["forecasts", "forecasts for agents"] {
        let found = run(wharf(&data).args(["mcp", "search", words, "--url", &server.url("")]));
        let text = String::from_utf8_lossy(&found.stdout);
        assert!(
            text.contains("com.acme/weather 1.0.0  Forecasts for agents"),
            "{words}: {text}"
        );
    }

    let audit = server.admin(&["audit", "--action", "mcp.namespace_grant"]);
    assert!(audit.contains("com.acme/*"), "{audit}");
    run(wharf(&data).args([
        "admin",
        "namespace",
        "revoke",
        "com.acme/*",
        "--user",
        "alice",
    ]));
    assert!(server.admin(&["namespace", "list"]).trim().is_empty());
}

#[test]
fn a_token_restricted_to_a_namespace_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    run(wharf(&data).args(["admin", "user", "create", "alice"]));
    run(wharf(&data).args([
        "admin",
        "namespace",
        "grant",
        "com.acme/*",
        "--user",
        "alice",
    ]));
    let token = server.admin(&[
        "token",
        "create",
        "--user",
        "alice",
        "--scope",
        "publish",
        "--namespace",
        "com.acme/weather*",
    ]);
    let credentials = dir.path().join("credentials.toml");
    write(
        &credentials,
        &format!(
            "url = \"{}\"\ntoken = \"{}\"\n",
            server.url(""),
            token.trim()
        ),
    );
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).unwrap();
    let me = run(wharf(&data)
        .env("WHARF_CREDENTIALS", &credentials)
        .arg("whoami"));
    let me = String::from_utf8_lossy(&me.stdout).into_owned();
    assert!(me.contains("namespaces: com.acme/weather*"), "{me}");
    let listed = server.admin(&["token", "list", "--user", "alice"]);
    assert!(listed.contains("com.acme/weather*"), "{listed}");

    let publish = |name: &str| {
        let doc = dir.path().join(format!("{}.json", name.replace('/', "_")));
        write(
            &doc,
            &format!(
                r#"{{"name": "{name}", "description": "Forecasts", "version": "1.0.0",
                "remotes": [{{"type": "streamable-http", "url": "https://mcp.acme.example/w"}}]}}"#
            ),
        );
        let mut cmd = wharf(&data);
        cmd.env("WHARF_CREDENTIALS", &credentials)
            .args(["mcp", "publish"])
            .arg(&doc);
        cmd
    };
    run(&mut publish("com.acme/weather-eu"));
    let refused = run_failing(&mut publish("com.acme/billing"));
    assert!(
        refused.contains("do not cover 'com.acme/billing'") && refused.contains("403"),
        "{refused}"
    );
    let bad = run_failing(wharf(&data).args([
        "admin",
        "token",
        "create",
        "--user",
        "alice",
        "--scope",
        "publish",
        "--namespace",
        "acme",
    ]));
    assert!(bad.contains("NAMESPACE/NAME"), "{bad}");
}

/// A third-party registry client, `mcp-registry-cli` from the package index, reads
/// Wharf's catalog: it lists and pages with cursors, searches and fetches versions
/// with no failure. It has its registry's address built in, so a small driver sets
/// its `BASE_URL` to this server; everything else is the client's own code.
#[test]
fn a_third_party_registry_client_lists_pages_searches_and_fetches_versions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with_env(&data, &[("WHARF_RATE_LIMIT_UPLOAD", "1000/min".into())]);
    let token = token(&data, "alice", "publish");
    run(wharf(&data).args([
        "admin",
        "namespace",
        "grant",
        "com.acme/*",
        "--user",
        "alice",
    ]));
    let publish = |name: &str, version: &str, description: &str| {
        let doc = serde_json::json!({
            "name": name, "description": description, "version": version,
            "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/x"}],
        });
        let (status, answer) =
            send_json(&server, "POST", "/v0.1/publish", &token, &doc.to_string());
        assert_eq!(status, 200, "{name} {version}: {answer}");
    };
    for i in 0..24 {
        publish(
            &format!("com.acme/tool-{i:02}"),
            "1.0.0",
            "A helper for agents",
        );
    }
    for version in ["1.0.0", "1.1.0", "2.0.0"] {
        publish("com.acme/weather", version, "Forecasts for agents");
    }

    let driver = dir.path().join("driver.py");
    write(
        &driver,
        r#"
import json, sys
from mcp_registry_cli import api
api.MCPRegistryAPI.BASE_URL = sys.argv[1]
client = api.MCPRegistryAPI()
names, pages, cursor = [], 0, None
while True:
    page = client.list_servers(cursor=cursor, limit=10)
    names += [f"{s.name} {s.version}" for s in page["servers"]]
    pages += 1
    cursor = page["next_cursor"]
    if not cursor:
        break
found = client.search_servers("forecasts", limit=50)
versions = client.get_server_versions("com.acme/weather")
print(json.dumps({
    "names": names, "pages": pages,
    "search": sorted({s.name for s in found["servers"]}),
    "versions": [v.version for v in versions],
    "statuses": sorted({v.status for v in versions}),
}))
"#,
    );
    let python = venv().join("bin/python");
    let out = run(std::process::Command::new(&python)
        .arg(&driver)
        .arg(server.url("")));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["pages"], 3, "{seen}");
    let names: Vec<&str> = seen["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 27, "{seen}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 27, "no entry twice across pages: {seen}");
    assert_eq!(seen["search"], serde_json::json!(["com.acme/weather"]));
    assert_eq!(
        seen["versions"],
        serde_json::json!(["2.0.0", "1.1.0", "1.0.0"])
    );
    assert_eq!(seen["statuses"], serde_json::json!(["active"]));

    // Its command line, with the same address.
    let listed = run(std::process::Command::new(&python).args([
        "-c",
        &format!(
            "import sys\nfrom mcp_registry_cli import api\napi.MCPRegistryAPI.BASE_URL = {:?}\nfrom mcp_registry_cli.cli import main\nsys.argv = ['mcp-registry', 'list', '--limit', '5']\nmain()",
            server.url("")
        ),
    ]));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("com.acme/tool-00"), "{text}");
}

#[test]
fn wharf_mcp_sync_mirrors_another_wharf_once_and_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let upstream_data = dir.path().join("upstream");
    let upstream = Server::start(&upstream_data);
    let token = token(&upstream_data, "alice", "publish");
    run(wharf(&upstream_data).args([
        "admin",
        "namespace",
        "grant",
        "com.acme/*",
        "--user",
        "alice",
    ]));
    for (name, version) in [
        ("com.acme/weather", "1.0.0"),
        ("com.acme/weather", "1.1.0"),
        ("com.acme/mail", "0.3.0"),
    ] {
        let doc = serde_json::json!({
            "name": name, "description": "For agents", "version": version,
            "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/x"}],
        });
        let (status, answer) =
            send_json(&upstream, "POST", "/v0.1/publish", &token, &doc.to_string());
        assert_eq!(status, 200, "{answer}");
    }

    let mirror_data = dir.path().join("mirror");
    let unconfigured = run_failing(wharf(&mirror_data).args(["mcp", "sync"]));
    assert!(
        unconfigured.contains("no upstream registry is configured"),
        "{unconfigured}"
    );

    let config = dir.path().join("wharf.toml");
    write(
        &config,
        &format!(
            "[[mcp.upstreams]]\nname = \"team\"\nurl = \"{}\"\nmin_release_age = \"0\"\n",
            upstream.url("")
        ),
    );
    let sync = || {
        let out = run(wharf(&mirror_data)
            .arg("--config")
            .arg(&config)
            .args(["mcp", "sync"]));
        String::from_utf8(out.stdout).unwrap()
    };
    let first = sync();
    assert!(
        first.starts_with("team: 1 page(s), 3 added (0 held)"),
        "{first}"
    );
    let again = sync();
    assert!(
        again.contains(", 0 added (0 held), 0 status change(s)"),
        "{again}"
    );

    // The mirror serves what it copied, marked with its origin.
    let mirror = Server::start_with_env(
        &mirror_data,
        &[("WHARF_CONFIG", config.display().to_string())],
    );
    let (status, body) = mirror.get("/v0.1/servers/com.acme%2Fweather/versions/latest");
    assert_eq!(status, 200, "{body}");
    let entry: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(entry["server"]["version"], "1.1.0");
    assert_eq!(entry["_meta"]["io.wharf/origin"]["registry"], "team");

    let bad = dir.path().join("bad.toml");
    write(
        &bad,
        "[[mcp.upstreams]]\nname = \"Bad Name\"\nurl = \"x\"\n",
    );
    let refused = run_failing(
        wharf(&mirror_data)
            .arg("--config")
            .arg(&bad)
            .args(["mcp", "sync"]),
    );
    assert!(refused.contains("mcp.upstreams.name"), "{refused}");
}
