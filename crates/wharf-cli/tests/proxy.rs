//! The PyPI proxy with the real clients: pip and uv, given only Wharf's
//! index, install a local package and its dependency tree (requests,
//! urllib3, idna, certifi, charset-normalizer), which Wharf fetches from a
//! stand-in upstream on 127.0.0.1 serving the real wheels, and vets.

mod support;

use std::path::PathBuf;
use std::process::Command;
use support::*;
use wharf_testkit::fake_pypi::FakePypi;

/// A small project that depends on requests, built with `python -m build`.
fn build_dependent(root: &std::path::Path) -> PathBuf {
    let src = root.join("needs-requests-src");
    std::fs::create_dir_all(src.join("wharf_needs_requests")).unwrap();
    std::fs::write(
        src.join("wharf_needs_requests/__init__.py"),
        "import requests\nVERSION = '1.0'\n",
    )
    .unwrap();
    std::fs::write(
        src.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=75\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"wharf-needs-requests\"\nversion = \"1.0\"\ndescription = \"depends on requests\"\n\
         requires-python = \">=3.8\"\ndependencies = [\"requests\"]\n",
    )
    .unwrap();
    let dist = root.join("needs-requests-dist");
    run(Command::new(tool("python"))
        .args(["-m", "build", "--no-isolation", "--wheel", "--outdir"])
        .arg(&dist)
        .arg(&src));
    dist
}

#[test]
fn pip_and_uv_install_a_real_dependency_tree_through_the_proxy_alone() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let upstream = runtime.block_on(FakePypi::start());
    let served = upstream.add_dir(&real_wheels());
    assert!(served >= 5, "only {served} real wheels");

    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start_with_env(
        &data,
        &[("WHARF_PROXY_PYPI_UPSTREAM", upstream.simple_url())],
    );
    let token = token(&data, "alice", "publish");
    let dist = build_dependent(root.path());
    let out = twine_upload(&server, &token, &files_with(&dist, ".whl"));
    assert!(
        out.status.success(),
        "twine: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Upstream offers a higher version of the hosted name: never asked for.
    let shadow = wharf_testkit::WheelBuilder::new("wharf-needs-requests", "9.0");
    upstream.add_file(
        &shadow.filename(),
        shadow.build(),
        wharf_testkit::fake_pypi::default_upload_time(),
    );

    let env = pip_install(&server, root.path(), "proxy", &["wharf-needs-requests"]);
    assert_eq!(
        python_says(
            &env,
            "import wharf_needs_requests, requests, urllib3, idna, certifi, charset_normalizer; \
             print(wharf_needs_requests.VERSION, requests.__version__)"
        ),
        "1.0 2.34.2"
    );
    assert_eq!(upstream.page_requests("wharf-needs-requests"), 0);
    assert_eq!(upstream.file_requests(&shadow.filename()), 0);
    let fetched = upstream.file_requests("requests-2.34.2-py3-none-any.whl");
    assert_eq!(fetched, 1, "requests was fetched {fetched} times");

    // uv, into a fresh venv: every file now comes from Wharf's blob store.
    let before = upstream.total_requests();
    let uv_env = root.path().join("uv-env");
    run(Command::new(tool("uv"))
        .args(["venv", "--quiet"])
        .arg(&uv_env));
    run(Command::new(tool("uv"))
        .args(["pip", "install", "--no-cache", "--python"])
        .arg(uv_env.join("bin/python"))
        .args([
            "--index-url",
            &server.url("/simple/"),
            "wharf-needs-requests",
        ]));
    assert_eq!(
        python_says(
            &uv_env,
            "import wharf_needs_requests, requests; print(requests.__version__)"
        ),
        "2.34.2"
    );
    assert_eq!(
        upstream.total_requests(),
        before,
        "a warm proxy asks upstream nothing while pages are fresh"
    );
    drop(server);
    drop(upstream);
}

#[test]
fn the_admin_command_changes_the_rules_a_running_server_applies() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let upstream = runtime.block_on(FakePypi::start());
    let fresh = wharf_testkit::WheelBuilder::new("hotfix-lib", "2.0");
    upstream.add_file(
        &fresh.filename(),
        fresh.build(),
        std::time::SystemTime::now(),
    );
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let env = [("WHARF_PROXY_PYPI_UPSTREAM", upstream.simple_url())];
    let server = Server::start_with_env(&data, &env);
    let proxy = |args: &[&str]| {
        let mut cmd = wharf(&data);
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["admin", "proxy"])
            .args(args);
        cmd
    };

    // Inside the cooldown, the new version is held back.
    let (status, body) = server.get("/simple/hotfix-lib/");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(&fresh.filename()), "{body}");

    let refused = run_failing(&mut proxy(&["allow", "hotfix-lib", "--reason", "urgent"]));
    assert!(refused.contains("hotfix-lib==VERSION"), "{refused}");
    run(&mut proxy(&[
        "allow",
        "hotfix-lib==2.0",
        "--reason",
        "urgent fix",
    ]));
    let again = run_failing(&mut proxy(&[
        "allow",
        "hotfix-lib==2.0",
        "--reason",
        "twice",
    ]));
    assert!(again.contains("exists already"), "{again}");
    let rules = String::from_utf8(run(&mut proxy(&["rules"])).stdout).unwrap();
    assert!(
        rules.contains("admit\thotfix-lib==2.0") && rules.contains("urgent fix"),
        "{rules}"
    );

    // The server re-reads the rules within a few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, body) = server.get("/simple/hotfix-lib/");
        if body.contains(&fresh.filename()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the admit never took effect: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let status = String::from_utf8(run(&mut proxy(&["status"])).stdout).unwrap();
    assert!(
        status.contains(&upstream.simple_url()) && status.contains("2days"),
        "{status}"
    );
    let audit = admin(&data, &["audit", "--action", "proxy.rule.add"]);
    assert!(audit.contains("hotfix-lib==2.0"), "{audit}");
    run(&mut proxy(&["unallow", "hotfix-lib==2.0"]));
    let gone = run_failing(&mut proxy(&["unallow", "hotfix-lib==2.0"]));
    assert!(gone.contains("no admit rule"), "{gone}");

    // Without a proxy configured, the command says how to turn it on.
    let off = run_failing(wharf(&data).args(["admin", "proxy", "status"]));
    assert!(off.contains("[proxy.pypi] upstream"), "{off}");
    drop(server);
}
