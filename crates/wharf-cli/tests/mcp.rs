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
