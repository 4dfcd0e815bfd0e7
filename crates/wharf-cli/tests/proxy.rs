//! The PyPI proxy with the real clients: pip and uv, given only Wharf's
//! index, install a local package and its dependency tree (requests,
//! urllib3, idna, certifi, charset-normalizer), which Wharf fetches from a
//! stand-in upstream on 127.0.0.1 serving the real wheels, and vets.

mod support;

use std::path::PathBuf;
use std::process::Command;
use support::*;
use wharf_testkit::fake_pypi::FakePypi;

/// The real wheels `scripts/benign-wheels` downloads (`./scripts/test` sets this).
fn real_wheels() -> PathBuf {
    let dir = std::env::var_os("WHARF_TEST_BENIGN_WHEELS").map(PathBuf::from).expect(
        "this test serves real wheels: run ./scripts/test, or set WHARF_TEST_BENIGN_WHEELS=$(scripts/benign-wheels)",
    );
    assert!(dir.is_dir(), "{} is not a directory", dir.display());
    dir
}

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
