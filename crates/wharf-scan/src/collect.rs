//! Gathers each member's bytes as the checked reader decompresses them, and runs the
//! content rules on it as soon as it is complete, so only one member is held at a time.

use crate::python::{self, CodeFinding};
use crate::report::{Context, Finding, Report, Severity};
use crate::{binary, source};
use wharf_artifact::MemberSink;
use wharf_core::DistKind;

/// Text members larger than this are scanned on their first this-many bytes, as text.
const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;
/// Enough for every executable magic number we look for.
const HEAD_BYTES: usize = 512;

/// What a member is to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Source code: Python, JavaScript or shell.
    Code,
    /// A `.pth` file, run by `site` at every interpreter start.
    Pth,
    /// An sdist's top-level `setup.py`, run at install time.
    SetupPy,
    /// A wheel's `entry_points.txt`: which functions become commands.
    EntryPoints,
    /// An npm package's top-level `package.json`: its install scripts.
    NpmManifest,
    /// An npm package's top-level `binding.gyp`: a native build at install.
    NativeBuild,
    /// Anything else: only its first bytes are looked at.
    Other,
}

fn role(kind: DistKind, name: &str) -> Role {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    if base.ends_with(".pth") {
        return Role::Pth;
    }
    if kind == DistKind::BdistWheel && base == "entry_points.txt" && lower.contains(".dist-info/") {
        return Role::EntryPoints;
    }
    if kind == DistKind::NpmTarball && lower.matches('/').count() == 1 {
        match base {
            "package.json" => return Role::NpmManifest,
            "binding.gyp" => return Role::NativeBuild,
            _ => {}
        }
    }
    // The sdist's own setup.py sits directly under its one top-level directory.
    if kind == DistKind::Sdist && base == "setup.py" && lower.matches('/').count() == 1 {
        return Role::SetupPy;
    }
    let code = [
        ".py", ".pyw", ".js", ".cjs", ".mjs", ".sh", ".bash", ".ps1", ".bat", ".cmd",
    ];
    if code.iter().any(|ext| base.ends_with(ext)) {
        Role::Code
    } else {
        Role::Other
    }
}

/// The sink handed to the archive reader.
pub struct Collector {
    kind: DistKind,
    report: Report,
    current: Option<Member>,
    /// Findings in functions, by index into the report, with what they would be if
    /// an entry point runs the function.
    in_functions: Vec<(usize, String, Severity)>,
    /// `module:function` of every console and GUI script.
    entry_points: Vec<(String, String)>,
    /// `.pth` lines (file, line number) and the modules each imports.
    pth_imports: Vec<(String, usize, Vec<String>)>,
    /// Python files whose import runs commands, executes code or uses the network.
    active_modules: Vec<String>,
    /// Functions of other modules (`pkg.helper.run`) that some file's top level calls,
    /// with that file.
    calls_at_top: Vec<(String, String)>,
    /// Files of an npm package that its install scripts start.
    install_started: Vec<String>,
}

struct Member {
    name: String,
    role: Role,
    head: Vec<u8>,
    text: Vec<u8>,
    /// The member was longer than `MAX_TEXT_BYTES`, so `text` is only its beginning.
    truncated: bool,
}

impl Collector {
    pub fn new(kind: DistKind) -> Self {
        Self {
            kind,
            report: Report::default(),
            current: None,
            in_functions: Vec::new(),
            entry_points: Vec::new(),
            pth_imports: Vec::new(),
            active_modules: Vec::new(),
            calls_at_top: Vec::new(),
            install_started: Vec::new(),
        }
    }

    /// The report, with findings in functions that an entry point runs judged as code
    /// that runs by itself.
    pub fn finish(mut self) -> Report {
        let kind = self.kind;
        for (index, function, if_run) in &self.in_functions {
            let finding = &mut self.report.findings[*index];
            let Some(file) = finding.file.as_deref() else {
                continue;
            };
            let runs = self
                .entry_points
                .iter()
                .any(|(module, target)| target == function && module_file_matches(module, file));
            if runs {
                finding.context = Some(Context::EntryPoint);
                finding.severity = finding.severity.max(*if_run);
                if let Some(stem) = finding.explanation.strip_suffix(", in a function") {
                    finding.explanation = format!("{stem}, when the installed command runs");
                }
                continue;
            }
            // Called from another module's top level: it runs when that module is imported.
            let caller = self.calls_at_top.iter().find(|(call, _)| {
                call.rsplit_once('.').is_some_and(|(module, name)| {
                    name == function && module_file_matches(module, package_path(kind, file))
                })
            });
            if let Some((_, importer)) = caller {
                finding.context = Some(Context::Import);
                finding.severity = finding.severity.max(*if_run);
                if let Some(stem) = finding.explanation.strip_suffix(", in a function") {
                    finding.explanation = format!("{stem}, when {importer} is imported");
                }
            }
        }
        self.judge_pth_imports();
        crate::npm::judge_started(&mut self.report.findings, &self.install_started);
        self.report
    }

    /// A `.pth` line that imports a module of this package runs that module's top
    /// level at every interpreter start.
    fn judge_pth_imports(&mut self) {
        for (file, line, modules) in &self.pth_imports {
            let Some(module) = modules.iter().find(|m| {
                self.active_modules
                    .iter()
                    .any(|active| module_file_matches(m, active))
            }) else {
                continue;
            };
            let finding = self.report.findings.iter_mut().find(|f| {
                f.rule == "install.pth-import"
                    && f.file.as_deref() == Some(file)
                    && f.line.and_then(|l| usize::try_from(l).ok()) == Some(*line)
            });
            if let Some(finding) = finding {
                finding.severity = finding.severity.max(Severity::Quarantine);
                finding.explanation = format!(
                    "this .pth line imports `{module}`, whose import runs commands, executes code or uses the network, at every interpreter start"
                );
            }
        }
    }

    fn push_code(&mut self, found: Vec<CodeFinding>) {
        for f in found {
            if f.finding.context == Some(Context::Call) {
                if let Some(function) = f.function {
                    self.in_functions
                        .push((self.report.findings.len(), function, f.if_run));
                }
            }
            self.report.findings.push(f.finding);
        }
    }
}

impl MemberSink for Collector {
    fn begin(&mut self, name: &str, _size: u64) -> bool {
        self.current = Some(Member {
            name: name.to_owned(),
            role: role(self.kind, name),
            head: Vec::with_capacity(HEAD_BYTES),
            text: Vec::new(),
            truncated: false,
        });
        self.report.files_scanned += 1;
        true
    }

    fn chunk(&mut self, data: &[u8]) {
        let Some(member) = self.current.as_mut() else {
            return;
        };
        self.report.bytes_scanned += data.len() as u64;
        if member.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - member.head.len()).min(data.len());
            member.head.extend_from_slice(&data[..take]);
        }
        if member.role != Role::Other && member.text.len() < MAX_TEXT_BYTES {
            let take = (MAX_TEXT_BYTES - member.text.len()).min(data.len());
            member.text.extend_from_slice(&data[..take]);
            member.truncated |= take < data.len();
        } else if member.role != Role::Other {
            member.truncated |= !data.is_empty();
        }
    }

    fn end(&mut self) {
        let Some(member) = self.current.take() else {
            return;
        };
        self.report
            .findings
            .extend(binary::check(self.kind, &member.name, &member.head));
        if member.role == Role::Other {
            return;
        }
        // Malformed UTF-8 is scanned as far as it decodes; hostile files need not be valid.
        let text = String::from_utf8_lossy(&member.text);
        let lower = member.name.to_ascii_lowercase();
        let python = match member.role {
            Role::SetupPy => Some(python::Kind::Setup),
            Role::Code if lower.ends_with(".py") || lower.ends_with(".pyw") => {
                Some(python::Kind::Module)
            }
            _ => None,
        };
        match (member.role, python) {
            (Role::Pth, _) => {
                let found = python::scan_pth(&member.name, &text);
                self.push_code(found);
                for (line, modules) in pth_imports(&text) {
                    self.pth_imports.push((member.name.clone(), line, modules));
                }
            }
            (Role::EntryPoints, _) => self.entry_points.extend(entry_points(&text)),
            (Role::NpmManifest, _) => {
                let (findings, started) = crate::npm::scan_manifest(&member.name, &text);
                self.report.findings.extend(findings);
                self.install_started.extend(started);
            }
            (Role::NativeBuild, _) => self
                .report
                .findings
                .push(crate::npm::native_build(&member.name)),
            (_, Some(_)) if member.truncated => {
                let reason = format!("larger than {} MiB", MAX_TEXT_BYTES >> 20);
                self.report
                    .findings
                    .push(unparsable(&member.name, &reason, None));
                let findings = source::scan(&member.name, &text, member.role);
                self.report.findings.extend(findings);
            }
            (_, Some(kind)) => {
                let package = python::package_of(package_path(self.kind, &member.name));
                match python::scan(&member.name, &text, kind, package) {
                    Ok(scanned) => {
                        if scanned.active_at_top {
                            self.active_modules.push(member.name.clone());
                        }
                        // A test module is imported by a test runner, not by the
                        // package's users: its top-level calls do not run on their import.
                        if !is_test_module(&member.name) {
                            for call in scanned.calls_at_top {
                                self.calls_at_top.push((call, member.name.clone()));
                            }
                        }
                        self.push_code(scanned.findings);
                    }
                    Err(reason) => {
                        let finding = unparsable(&member.name, &reason.reason, reason.line);
                        self.report.findings.push(finding);
                        let findings = source::scan(&member.name, &text, member.role);
                        self.report.findings.extend(findings);
                    }
                }
            }
            (_, None) => {
                let findings = source::scan(&member.name, &text, member.role);
                self.report.findings.extend(findings);
            }
        }
    }
}

/// A Python file that does not parse: judged by the text heuristics instead.
fn unparsable(name: &str, reason: &str, line: Option<u32>) -> Finding {
    Finding {
        rule: "code.unparsable".into(),
        severity: Severity::Warn,
        file: Some(name.to_owned()),
        line,
        evidence: Some(reason.to_owned()),
        explanation: "this Python file could not be read as Python 3 (the evidence says why), so only its text was checked"
            .into(),
        context: None,
        fingerprint: None,
        history: None,
    }
}

/// `module:function` of the console and GUI scripts in an `entry_points.txt`.
fn entry_points(text: &str) -> Vec<(String, String)> {
    let mut section = "";
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
            continue;
        }
        if !matches!(section, "console_scripts" | "gui_scripts") {
            continue;
        }
        let Some((_, target)) = line.split_once('=') else {
            continue;
        };
        // `module:attr [extra]`
        let target = target.split('[').next().unwrap_or("").trim();
        if let Some((module, function)) = target.split_once(':') {
            out.push((module.trim().to_owned(), function.trim().to_owned()));
        }
    }
    out
}

/// The modules each executed line of a `.pth` file imports, by line number:
/// `import a, b.c as d; …` gives `a` and `b.c`.
fn pth_imports(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line
            .strip_prefix("import ")
            .or_else(|| line.strip_prefix("import\t"))
        else {
            continue;
        };
        let statement = rest.split(';').next().unwrap_or("");
        let modules: Vec<String> = statement
            .split(',')
            .filter_map(|part| part.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        out.push((index + 1, modules));
    }
    out
}

/// A test suite's module: under a `tests`/`test`/`testing` directory, or named
/// `test_*.py`, `*_test.py` or `conftest.py`.
fn is_test_module(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let file = parts.pop().unwrap_or("");
    parts
        .iter()
        .any(|dir| matches!(*dir, "tests" | "test" | "testing"))
        || file.starts_with("test_")
        || file.ends_with("_test.py")
        || file == "conftest.py"
}

/// A member's path as a wheel would hold it: an sdist's root and `src/` left out.
fn package_path(kind: DistKind, file: &str) -> &str {
    let mut path = file;
    if kind == DistKind::Sdist {
        path = path.split_once('/').map_or(path, |(_, rest)| rest);
    }
    path.strip_prefix("src/").unwrap_or(path)
}

/// Whether `file` (a wheel member) is the source of `module`.
fn module_file_matches(module: &str, file: &str) -> bool {
    let path = module.replace('.', "/");
    file == format!("{path}.py") || file == format!("{path}/__init__.py")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_name_and_the_archive_kind() {
        assert_eq!(role(DistKind::Sdist, "demo-1.0/setup.py"), Role::SetupPy);
        assert_eq!(role(DistKind::Sdist, "demo-1.0/sub/setup.py"), Role::Code);
        assert_eq!(role(DistKind::BdistWheel, "demo/setup.py"), Role::Code);
        assert_eq!(role(DistKind::BdistWheel, "demo-init.PTH"), Role::Pth);
        assert_eq!(role(DistKind::BdistWheel, "demo/_speedups.so"), Role::Other);
        assert_eq!(role(DistKind::BdistWheel, "demo/run.sh"), Role::Code);
        assert_eq!(
            role(DistKind::BdistWheel, "demo-1.0.dist-info/entry_points.txt"),
            Role::EntryPoints
        );
    }

    #[test]
    fn entry_points_name_their_module_and_function() {
        let text = "[console_scripts]\ndemo = demo.cli:main [extra]\n\n[other]\nx = y:z\n";
        assert_eq!(entry_points(text), [("demo.cli".into(), "main".into())]);
        assert!(module_file_matches("demo.cli", "demo/cli.py"));
        assert!(module_file_matches("demo", "demo/__init__.py"));
        assert!(!module_file_matches("demo", "demo/cli.py"));
    }

    #[test]
    fn test_modules_are_told_apart() {
        for test in [
            "pkg/tests/test_io.py",
            "pkg/testing/__init__.py",
            "test_x.py",
            "pkg/conftest.py",
            "pkg/io_test.py",
        ] {
            assert!(is_test_module(test), "{test}");
        }
        for module in [
            "pkg/__init__.py",
            "pkg/testsuite.py",
            "pkg/attest.py",
            "contest.py",
        ] {
            assert!(!is_test_module(module), "{module}");
        }
    }

    #[test]
    fn pth_lines_name_the_modules_they_import() {
        let text = "# comment\nimport a, b.c as d; a.run()\n./src\nimport\te\n";
        assert_eq!(
            pth_imports(text),
            [
                (2, vec!["a".to_owned(), "b.c".to_owned()]),
                (4, vec!["e".to_owned()])
            ]
        );
    }
}
