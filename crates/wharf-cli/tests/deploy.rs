//! `wharf deploy validate` and `wharf admin rotate-key` against a real
//! `wharf serve`: the plan or every problem, and a rotation after which only
//! the new master key decrypts.

mod support;

use support::*;

const KEY_1: &str = "Zq8tW3vN7yR1mK5pX2cB9dF4hJ6gL0sAeUiOoPq3";
const KEY_2: &str = "Hb4nM8rT2wQ6yV0kC3xZ7pL1jF5dG9sAeUiYoTu7";
const SECRET: &str = "ghp_neverPrintedAnywhere42";

/// A catalog server backed by a PyPI package hosted here; returns alice's token.
fn catalog(server: &Server, data: &std::path::Path, dir: &std::path::Path) -> String {
    let token = token(data, "alice", "publish");
    let wheel = wharf_testkit::WheelBuilder::new("weather-tool", "1.0");
    let path = dir.join(wheel.filename());
    std::fs::write(&path, wheel.build()).unwrap();
    let out = twine_upload(server, &token, &[path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run(wharf(data).args([
        "admin",
        "namespace",
        "grant",
        "com.acme/*",
        "--user",
        "alice",
    ]));
    let doc = r#"{"name": "com.acme/weather", "description": "Weather", "version": "1.0.0",
        "packages": [{"registryType": "pypi", "identifier": "weather-tool", "version": "1.0",
          "transport": {"type": "stdio"},
          "environmentVariables": [{"name": "API_TOKEN", "isRequired": true, "isSecret": true},
                                   {"name": "RETRIES", "format": "number"}]}]}"#;
    let (status, body) = send_json(server, "POST", "/v0/publish", &token, doc);
    assert_eq!(status, 200, "{body}");
    token
}

#[test]
fn deploy_validate_prints_the_plan_or_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with_env(&data, &[("WHARF_MASTER_KEY", KEY_1.to_owned())]);
    let token = catalog(&server, &data, dir.path());
    let credentials = dir.path().join("credentials.toml");
    std::fs::write(
        &credentials,
        format!("url = \"{}\"\ntoken = \"{token}\"\n", server.url("")),
    )
    .unwrap();

    let good = dir.path().join("good.env");
    std::fs::write(
        &good,
        format!("# the token\nAPI_TOKEN=\"{SECRET}\"\nRETRIES=3\n"),
    )
    .unwrap();
    let out = run(wharf(&data)
        .env("WHARF_CREDENTIALS", &credentials)
        .args([
            "deploy",
            "validate",
            "--server",
            "com.acme/weather",
            "--env-file",
        ])
        .arg(&good));
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan.contains("\"uvx\"") && plan.contains("\"weather-tool==1.0\""),
        "{plan}"
    );
    assert!(!plan.contains(SECRET), "the plan never holds a value");
    assert!(String::from_utf8_lossy(&out.stderr).contains("valid: com.acme/weather 1.0.0 as uvx"));

    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, "RETRIES=many\nEXTRA=1\n").unwrap();
    let out = wharf(&data)
        .env("WHARF_CREDENTIALS", &credentials)
        .args([
            "deploy",
            "validate",
            "--server",
            "com.acme/weather",
            "--env-file",
        ])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let problems = String::from_utf8_lossy(&out.stdout);
    for line in [
        "credentials.API_TOKEN: missing_required",
        "credentials.RETRIES: invalid_format",
        "credentials.EXTRA: undeclared",
    ] {
        assert!(problems.contains(line), "no '{line}' in:\n{problems}");
    }
}

#[test]
fn after_rotate_key_only_the_new_master_key_decrypts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with_env(&data, &[("WHARF_MASTER_KEY", KEY_1.to_owned())]);
    let token = catalog(&server, &data, dir.path());
    let body =
        format!(r#"{{"server": "com.acme/weather", "credentials": {{"API_TOKEN": "{SECRET}"}}}}"#);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, answer) = send_json(&server, "POST", "/api/v1/deployments", &token, &body);
        assert_eq!(status, 201, "{answer}");
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        ids.push(answer["id"].as_str().unwrap().to_owned());
    }
    server.stop();

    // Without the previous key set, rotate-key says what to do.
    let refused = run_failing(
        wharf(&data)
            .env("WHARF_MASTER_KEY", KEY_2)
            .args(["admin", "rotate-key"]),
    );
    assert!(refused.contains("WHARF_MASTER_KEY_PREVIOUS"), "{refused}");
    let out = run(wharf(&data)
        .env("WHARF_MASTER_KEY", KEY_2)
        .env("WHARF_MASTER_KEY_PREVIOUS", KEY_1)
        .args(["admin", "rotate-key"]));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("re-wrapped 3 secrets"), "{said}");
    let again = run(wharf(&data)
        .env("WHARF_MASTER_KEY", KEY_2)
        .env("WHARF_MASTER_KEY_PREVIOUS", KEY_1)
        .args(["admin", "rotate-key"]));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("re-wrapped 0 secrets"),
        "resumable"
    );

    let runner = support::admin(
        &data,
        &["token", "create", "--user", "alice", "--scope", "deploy"],
    );
    let runner = runner.trim();
    let plan_path = format!("/api/v1/deployments/{}/plan?include=secrets", ids[0]);
    let new_key = Server::start_with_env(&data, &[("WHARF_MASTER_KEY", KEY_2.to_owned())]);
    let (status, plan) = send_json(&new_key, "GET", &plan_path, runner, "");
    assert_eq!(status, 200, "{plan}");
    assert!(plan.contains(SECRET), "the new key decrypts");
    new_key.stop();
    let old_key = Server::start_with_env(&data, &[("WHARF_MASTER_KEY", KEY_1.to_owned())]);
    let (status, answer) = send_json(&old_key, "GET", &plan_path, runner, "");
    assert_eq!(status, 500, "the old key no longer decrypts: {answer}");
    assert!(!answer.contains(SECRET));
}
