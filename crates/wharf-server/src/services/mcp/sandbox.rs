//! Capturing a package (stdio) server's tools means running the package, so
//! it happens only inside a bubblewrap sandbox, and only when
//! `[mcp.capture] sandbox = true`.
//!
//! 1. Install, outside the sandbox, without running package code: a fresh
//!    virtual environment, and `pip install --only-binary :all:` of the pinned
//!    version from this registry's own index (so the package and everything
//!    it pulls in passed the gate). Wheels only: building an sdist would run
//!    its code here.
//! 2. Run the command the launch plan runs (the console script named after
//!    the package, as `uvx` does) inside `bwrap`: every namespace unshared, so
//!    no network at all; the system's `/usr` and the Python installation and
//!    the environment read-only; a throwaway home and `/tmp`; an empty
//!    environment but dummy values for the declared variables; CPU and memory
//!    limits through `prlimit`; and the capture's deadline.
//! 3. Speak MCP over its stdin and stdout, then stop it.
//!
//! If bubblewrap (or Python) is missing, the start-up log says so and package
//! servers are not captured: nothing ever runs unsandboxed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use wharf_core::mcp::{Package, RegistryType};
use wharf_upstream::mcp_client::{Capture, CaptureError, McpClient};

/// The value each declared variable gets when it has no default.
const DUMMY: &str = "wharf-capture-placeholder";

/// What the sandboxed server may use.
#[derive(Debug, Clone)]
pub struct SandboxLimits {
    /// Address space, bytes.
    pub memory_bytes: u64,
    /// CPU time, seconds.
    pub cpu_seconds: u64,
    /// The install step's deadline.
    pub install: std::time::Duration,
}

/// A checked sandbox: the tools were found and a sandbox started once.
#[derive(Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    prlimit: PathBuf,
    python: PathBuf,
    /// The Python installation the environments link to, bound read-only.
    python_prefix: PathBuf,
    /// This registry's simple index, the only one packages install from.
    index_url: String,
    work_dir: PathBuf,
    limits: SandboxLimits,
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

impl Sandbox {
    /// Finds bubblewrap, prlimit and Python, and starts a sandbox once to
    /// prove it works here; the error says what is missing.
    pub fn detect(
        index_url: String,
        work_dir: PathBuf,
        limits: SandboxLimits,
    ) -> Result<Self, String> {
        let bwrap = find("bwrap").ok_or(
            "bubblewrap (`bwrap`) is not installed: install Debian's `bubblewrap` package",
        )?;
        let prlimit = find("prlimit").ok_or("`prlimit` (util-linux) is not installed")?;
        let python = find("python3").ok_or("`python3` is not installed")?;
        let prefix = std::process::Command::new(&python)
            .args(["-c", "import sys; print(sys.base_prefix)"])
            .output()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        let python_prefix = PathBuf::from(String::from_utf8_lossy(&prefix.stdout).trim());
        if !prefix.status.success() || !python_prefix.is_absolute() {
            return Err("python3 does not say where it is installed".into());
        }
        let sandbox = Self {
            bwrap,
            prlimit,
            python,
            python_prefix,
            index_url,
            work_dir,
            limits,
        };
        let status = std::process::Command::new(&sandbox.prlimit)
            .args(sandbox.args(Path::new("/nonexistent"), &[], &["/usr/bin/true".into()]))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot start bubblewrap: {e}"))?;
        if !status.status.success() {
            return Err(format!(
                "bubblewrap cannot start a sandbox here: {}",
                String::from_utf8_lossy(&status.stderr).trim()
            ));
        }
        Ok(sandbox)
    }

    /// `argv` inside the sandbox, with `venv` (if it exists) read-only at the
    /// same path and `env` as the only variables besides PATH, HOME and TZ;
    /// its stdin and stdout piped, killed when dropped.
    pub fn command(
        &self,
        venv: &Path,
        env: &[(String, String)],
        argv: &[String],
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.prlimit);
        cmd.args(self.args(venv, env, argv))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// The arguments of `prlimit` that run `argv` in the sandbox.
    fn args(&self, venv: &Path, env: &[(String, String)], argv: &[String]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            format!("--as={}", self.limits.memory_bytes).into(),
            format!("--cpu={}", self.limits.cpu_seconds).into(),
            "--nofile=1024".into(),
            "--".into(),
            self.bwrap.clone().into(),
        ];
        let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
        push(&[
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--ro-bind",
            "/usr",
            "/usr",
        ]);
        for dir in ["/bin", "/lib", "/lib64", "/sbin"] {
            push(&["--ro-bind-try", dir, dir]);
        }
        push(&[
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--tmpfs",
            "/home",
            "--dir",
            "/home/capture",
            "--chdir",
            "/home/capture",
            "--setenv",
            "HOME",
            "/home/capture",
            "--setenv",
            "TZ",
            "UTC",
        ]);
        let mut bind = |path: &Path| {
            args.extend(["--ro-bind".into(), path.into(), path.into()]);
        };
        if !self.python_prefix.starts_with("/usr") {
            bind(&self.python_prefix);
        }
        if venv.is_dir() {
            bind(venv);
        }
        args.extend([
            "--setenv".into(),
            "PATH".into(),
            format!("{}:/usr/bin:/bin", venv.join("bin").display()).into(),
        ]);
        for (name, value) in env {
            args.extend(["--setenv".into(), name.into(), value.into()]);
        }
        args.push("--".into());
        args.extend(argv.iter().map(OsString::from));
        args
    }

    /// Whether the sandbox can capture this package: a PyPI package run
    /// over stdio.
    pub fn handles(package: &Package) -> bool {
        package.kind() == Some(RegistryType::Pypi)
            && matches!(package.transport, wharf_core::mcp::Transport::Stdio)
    }

    /// Installs the package, runs it in the sandbox and lists its tools.
    pub async fn capture(
        &self,
        client: &McpClient,
        package: &Package,
    ) -> Result<Capture, CaptureError> {
        let version = package
            .version
            .as_deref()
            .ok_or_else(|| CaptureError::Failed("the package's version is not pinned".into()))?;
        std::fs::create_dir_all(&self.work_dir)
            .map_err(|e| CaptureError::Failed(format!("cannot prepare the work directory: {e}")))?;
        let dir = tempfile::tempdir_in(&self.work_dir)
            .map_err(|e| CaptureError::Failed(format!("cannot prepare the work directory: {e}")))?;
        let venv = dir.path().join("venv");
        self.install(&venv, &package.identifier, version).await?;
        let entry = venv.join("bin").join(&package.identifier);
        if !entry.is_file() {
            return Err(CaptureError::Failed(format!(
                "{}=={version} has no console script named {0}, which its launch plan runs",
                package.identifier
            )));
        }
        let env: Vec<(String, String)> = package
            .environment_variables
            .iter()
            .map(|v| {
                let value = v
                    .input
                    .value
                    .clone()
                    .or_else(|| v.input.default.clone())
                    .unwrap_or_else(|| DUMMY.to_owned());
                (v.name.clone(), value)
            })
            .collect();
        let mut child = self
            .command(&venv, &env, &[entry.display().to_string()])
            .spawn()
            .map_err(|e| CaptureError::Failed(format!("cannot start the sandbox: {e}")))?;
        let captured = client.capture_stdio(&mut child).await;
        let _ = child.kill().await;
        captured
    }

    /// A fresh environment with the pinned version, wheels only, from this
    /// registry's index.
    async fn install(&self, venv: &Path, name: &str, version: &str) -> Result<(), CaptureError> {
        let run = |program: PathBuf, args: Vec<String>| async move {
            let out = tokio::time::timeout(
                self.limits.install,
                tokio::process::Command::new(&program)
                    .args(&args)
                    .env_remove("PIP_INDEX_URL")
                    .env_remove("PIP_EXTRA_INDEX_URL")
                    .env("PIP_CONFIG_FILE", "/dev/null")
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .output(),
            )
            .await
            .map_err(|_| CaptureError::TimedOut(self.limits.install))?
            .map_err(|e| CaptureError::Failed(format!("cannot run {}: {e}", program.display())))?;
            if out.status.success() {
                Ok(())
            } else {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let last = stderr
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                Err(CaptureError::Failed(format!(
                    "installing {name}=={version} from this registry failed: {}",
                    wharf_core::name::printable(last.trim())
                )))
            }
        };
        run(
            self.python.clone(),
            vec!["-m".into(), "venv".into(), venv.display().to_string()],
        )
        .await?;
        run(
            venv.join("bin/python"),
            vec![
                "-m".into(),
                "pip".into(),
                "install".into(),
                "--quiet".into(),
                "--disable-pip-version-check".into(),
                "--no-cache-dir".into(),
                "--only-binary".into(),
                ":all:".into(),
                "--index-url".into(),
                self.index_url.clone(),
                format!("{name}=={version}"),
            ],
        )
        .await
    }
}
