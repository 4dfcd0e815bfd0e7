//! A real `wharf serve` process on loopback, and the Python tools from the test
//! venv (`scripts/test-venv`) to drive it.

#![allow(dead_code)]

pub mod browser;
pub mod web;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const WHARF: &str = env!("CARGO_BIN_EXE_wharf");

/// A `wharf` command on a data directory; under `WHARF_TEST_BACKEND=postgres`
/// it also points at a schema of its own on the test PostgreSQL, created (and
/// migrated) on first use for that data directory.
pub fn wharf(data_dir: &Path) -> Command {
    let mut cmd = Command::new(WHARF);
    cmd.env("WHARF_LOG", "warn").arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url(data_dir) {
        cmd.env("WHARF_DATABASE_URL", url);
    }
    cmd
}

/// A URL to an empty schema of its own on the test PostgreSQL.
pub fn fresh_postgres_url() -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(wharf_db::testing::fresh_postgres_schema(
            &wharf_db::testing::postgres_base_url(),
        ))
        .unwrap()
}

pub fn database_url(data_dir: &Path) -> Option<String> {
    if !wharf_db::testing::backend_is_postgres() {
        return None;
    }
    let marker = data_dir.with_extension("database-url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Some(url);
    }
    let url = fresh_postgres_url();
    std::fs::write(&marker, &url).unwrap();
    run(Command::new(WHARF)
        .env("WHARF_LOG", "warn")
        .env("WHARF_DATABASE_URL", &url)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("migrate"));
    Some(url)
}

/// The venv with twine, uv, pip, build and poetry. Tests need it; they fail
/// with a clear message rather than pass without it.
pub fn venv() -> PathBuf {
    let path = std::env::var_os("WHARF_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.test-venv"));
    assert!(
        path.join("bin/twine").exists(),
        "the client tests need the test venv at {}: run ./scripts/test (or scripts/test-venv) first",
        path.display()
    );
    path
}

/// The real wheels `scripts/benign-wheels` downloads (`./scripts/test` sets this).
pub fn real_wheels() -> PathBuf {
    let dir = std::env::var_os("WHARF_TEST_BENIGN_WHEELS").map(PathBuf::from).expect(
        "this test serves real wheels: run ./scripts/test, or set WHARF_TEST_BENIGN_WHEELS=$(scripts/benign-wheels)",
    );
    assert!(dir.is_dir(), "{} is not a directory", dir.display());
    dir
}

pub fn tool(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// A minimal HTTP request to any loopback address: status and body.
pub fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    send_raw(addr, head.as_bytes())
}

/// Sends raw request bytes and reads the whole answer; status 0 if the
/// server could not be reached.
fn send_raw(addr: &str, raw: &[u8]) -> (u16, String) {
    match round_trip(addr, raw) {
        Some(answer) => (answer.status, answer.body),
        None => (0, String::new()),
    }
}

/// A JSON request with a bearer token: status and body.
pub fn send_json(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    let answer = round_trip(&server.addr.to_string(), raw.as_bytes()).expect("the server answers");
    (answer.status, answer.body)
}

/// Sends raw request bytes and reads the whole answer; `None` if the server
/// could not be reached.
pub fn round_trip(addr: &str, raw: &[u8]) -> Option<web::Answer> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw).ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Some(web::Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

/// Runs a command, panicking with its output if it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command expected to fail; returns stdout+stderr.
pub fn run_failing(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{cmd:?} should have failed:\n{text}");
    text
}

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
}

impl Server {
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with_env(data_dir, &[])
    }

    /// Starts `wharf serve` with extra environment (a shared database, Redis, S3).
    pub fn start_with_env(data_dir: &Path, env: &[(&str, String)]) -> Self {
        Self::start_logging_to(data_dir, env, Stdio::inherit())
    }

    /// Starts `wharf serve` with its log (stderr) going to `log`.
    pub fn start_logging_to(
        data_dir: &Path,
        env: &[(&str, String)],
        log: impl Into<Stdio>,
    ) -> Self {
        let addr = free_addr();
        let child = wharf(data_dir)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["serve", "--listen", &addr.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start wharf serve");
        let server = Self {
            child,
            addr,
            data_dir: data_dir.to_owned(),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.get("/healthz").0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("wharf did not become healthy on {}", self.addr);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A minimal HTTP/1.1 GET: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request(
            &format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.addr
            )
            .into_bytes(),
        )
    }

    pub fn request(&self, raw: &[u8]) -> (u16, String) {
        send_raw(&self.addr.to_string(), raw)
    }

    /// SIGTERM, then wait: the graceful path.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "wharf exited with {status} on SIGTERM");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("wharf did not stop within 15 s of SIGTERM");
    }

    /// SIGKILL: the crash path.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn admin(&self, args: &[&str]) -> String {
        admin(&self.data_dir, args)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `wharf admin …` on a data directory; returns stdout.
pub fn admin(data_dir: &Path, args: &[&str]) -> String {
    let out = run(wharf(data_dir).arg("admin").args(args));
    String::from_utf8(out.stdout).unwrap()
}

/// A user and a token for them.
pub fn token(data_dir: &Path, user: &str, scopes: &str) -> String {
    // The user may exist already; only the token matters here.
    let _ = wharf(data_dir)
        .args(["admin", "user", "create", user])
        .output()
        .unwrap();
    admin(
        data_dir,
        &["token", "create", "--user", user, "--scope", scopes],
    )
    .trim()
    .to_owned()
}

pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Writes a small Python project and builds its wheel and sdist with
/// `python -m build`; returns the dist directory.
pub fn build_project(root: &Path, name: &str, version: &str, backend: Backend) -> PathBuf {
    let module = name.replace('-', "_");
    let src = root.join(format!("{name}-{version}-src"));
    std::fs::create_dir_all(src.join(&module)).unwrap();
    std::fs::write(
        src.join(&module).join("__init__.py"),
        format!("VERSION = {version:?}\n"),
    )
    .unwrap();
    let build_system = match backend {
        Backend::Setuptools => {
            "requires = [\"setuptools>=75\"]\nbuild-backend = \"setuptools.build_meta\""
        }
        Backend::Hatchling => "requires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"",
    };
    std::fs::write(
        src.join("pyproject.toml"),
        format!(
            "[build-system]\n{build_system}\n\n[project]\nname = \"{name}\"\nversion = \"{version}\"\n\
             description = \"Wharf client test package\"\nrequires-python = \">=3.8\"\n"
        ),
    )
    .unwrap();
    let dist = root.join(format!("{name}-{version}-dist"));
    run(Command::new(tool("python"))
        .args(["-m", "build", "--no-isolation", "--outdir"])
        .arg(&dist)
        .arg(&src));
    dist
}

#[derive(Clone, Copy)]
pub enum Backend {
    Setuptools,
    Hatchling,
}

pub fn files_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// Every regular file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn twine_upload(server: &Server, token: &str, files: &[PathBuf]) -> Output {
    let mut cmd = Command::new(tool("twine"));
    cmd.args([
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
    ])
    .arg(server.url("/legacy/"))
    .args(["-u", "__token__", "-p", token])
    .args(files);
    cmd.output().unwrap()
}

/// A fresh venv with pip, installing from Wharf only.
pub fn pip_install(server: &Server, root: &Path, name: &str, spec: &[&str]) -> PathBuf {
    let env = root.join(format!("pip-{name}"));
    run(Command::new(tool("python"))
        .args(["-m", "venv", "--without-pip"])
        .arg(&env));
    run(Command::new(tool("python"))
        .args(["-m", "pip", "--python"])
        .arg(env.join("bin/python"))
        .args([
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
        ])
        .arg(server.url("/simple/"))
        .args(spec));
    env
}

pub fn python_says(env: &Path, code: &str) -> String {
    let out = run(Command::new(env.join("bin/python")).args(["-c", code]));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A `wharf worker` process, killed when dropped.
pub struct Worker {
    pub child: Child,
}

impl Worker {
    pub fn start(data_dir: &Path, env: &[(&str, String)]) -> Self {
        let child = wharf(data_dir)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .arg("worker")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start wharf worker");
        Self { child }
    }

    /// Sends a signal by name (STOP, KILL, TERM) to this worker only.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
