//! Findings and the report they make up.

use serde::{Deserialize, Serialize};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Shown in the report only.
    Warn,
    /// Held for review: hidden from the index until an administrator decides.
    Quarantine,
    /// Refused outright.
    Block,
}

impl Severity {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Quarantine => "quarantine",
            Self::Block => "block",
        }
    }
}

/// The outcome of a scan: the worst severity found, or a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing found, or only warnings.
    Pass,
    /// At least one `quarantine` finding and no `block`.
    Quarantine,
    /// At least one `block` finding.
    Block,
}

impl Verdict {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Quarantine => "quarantine",
            Self::Block => "block",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pass" => Self::Pass,
            "quarantine" => Self::Quarantine,
            "block" => Self::Block,
            _ => return None,
        })
    }
}

/// Where the code a finding is about runs: what decides whether it is a threat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    /// At import: a module's top level, or a function it calls.
    Import,
    /// At install from source: `setup.py`.
    Install,
    /// At every interpreter start: a `.pth` line.
    Pth,
    /// When a console or GUI script the package installs is run.
    EntryPoint,
    /// Only when a caller calls the function it is in.
    Call,
}

impl Context {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::Install => "install",
            Self::Pth => "pth",
            Self::EntryPoint => "entry-point",
            Self::Call => "call",
        }
    }

    /// Whether the code runs without anybody choosing to call it.
    pub fn runs_by_itself(self) -> bool {
        self != Self::Call
    }
}

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's stable ID, e.g. `code.download-exec`.
    pub rule: String,
    /// Its severity here; a rule may raise its own when a threat meets a capability.
    pub severity: Severity,
    /// The archive member, or none for findings about the project name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line within `file`, for text members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// A short, printable excerpt of what matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// One line a reviewer can act on.
    pub explanation: String,
    /// Where the code runs, for findings about code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
}

/// Everything a scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// In the order found.
    pub findings: Vec<Finding>,
    /// Members whose bytes the content rules read.
    pub files_scanned: u64,
    /// Bytes those members held.
    pub bytes_scanned: u64,
}

impl Report {
    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The worst severity present decides.
    pub fn verdict(&self) -> Verdict {
        match self.findings.iter().map(|f| f.severity).max() {
            Some(Severity::Block) => Verdict::Block,
            Some(Severity::Quarantine) => Verdict::Quarantine,
            Some(Severity::Warn) | None => Verdict::Pass,
        }
    }

    /// The findings at `severity` or worse.
    pub fn at_least(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity >= severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding {
            rule: "test.rule".into(),
            severity,
            file: None,
            line: None,
            evidence: None,
            explanation: "x".into(),
            context: None,
        }
    }

    #[test]
    fn the_worst_finding_decides_the_verdict() {
        let mut report = Report::default();
        assert_eq!(report.verdict(), Verdict::Pass);
        report.push(finding(Severity::Warn));
        assert_eq!(report.verdict(), Verdict::Pass);
        report.push(finding(Severity::Quarantine));
        assert_eq!(report.verdict(), Verdict::Quarantine);
        report.push(finding(Severity::Block));
        assert_eq!(report.verdict(), Verdict::Block);
        assert_eq!(report.at_least(Severity::Quarantine).count(), 2);
    }
}
