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
    /// The same across releases while the rule, the member (without its versioned
    /// directory) and the code stay the same: see [`Finding::fingerprint_of`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// How it compares with the project's previous release, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

/// A finding's standing against the project's previous published release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum History {
    /// A reviewer released this finding, with this code, on `version`: it does
    /// not hold this release again.
    ReleasedBefore {
        /// The previous release.
        version: String,
    },
    /// `version` did not have it.
    NewSince {
        /// The previous release.
        version: String,
    },
}

impl Finding {
    /// SHA-256 over the rule, the member path with versioned directories made
    /// general (`demo-1.0/` and `demo-1.0.dist-info/`), and the evidence with its
    /// whitespace collapsed. A cryptographic hash, because new code must not be
    /// able to pass itself off as code a reviewer released.
    pub fn fingerprint_of(&self) -> String {
        use sha2::Digest;
        let path = self.file.as_deref().map(general_path).unwrap_or_default();
        let code = self
            .evidence
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut hash = sha2::Sha256::new();
        for part in [self.rule.as_str(), path.as_str(), code.as_str()] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }

    /// Whether it holds the file: a `quarantine` a reviewer already released on
    /// the previous release, with the same code, does not.
    pub fn holds(&self) -> bool {
        match self.severity {
            Severity::Block => true,
            Severity::Quarantine => !matches!(self.history, Some(History::ReleasedBefore { .. })),
            Severity::Warn => false,
        }
    }
}

/// A member path with the parts that change with every release made general:
/// an sdist's `name-version/` root and a wheel's `name-version.dist-info/` or
/// `.data/` directory.
fn general_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if part.ends_with(".dist-info") {
                "{dist-info}"
            } else if part.ends_with(".data") && i == 0 {
                "{data}"
            } else if i == 0 && parts.len() > 1 && is_versioned_root(part) {
                "{root}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `name-1.2.3`: a name, a dash, then a version starting with a digit.
fn is_versioned_root(part: &str) -> bool {
    part.rsplit_once('-').is_some_and(|(name, version)| {
        !name.is_empty() && version.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// What a project's previous published release had, for [`Report::remember`].
#[derive(Debug, Clone, Default)]
pub struct Previous {
    /// Its version, as stored.
    pub version: String,
    /// Fingerprints of every finding in its published files.
    pub seen: std::collections::HashSet<String>,
    /// Fingerprints of the holding findings a reviewer released.
    pub released: std::collections::HashSet<String>,
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

    /// The worst severity among the findings that hold the file decides.
    pub fn verdict(&self) -> Verdict {
        let holding = self.findings.iter().filter(|f| f.holds());
        match holding.map(|f| f.severity).max() {
            Some(Severity::Block) => Verdict::Block,
            Some(Severity::Quarantine) => Verdict::Quarantine,
            Some(Severity::Warn) | None => Verdict::Pass,
        }
    }

    /// Gives every finding its fingerprint.
    pub fn fingerprint(&mut self) {
        for finding in &mut self.findings {
            if finding.fingerprint.is_none() {
                finding.fingerprint = Some(finding.fingerprint_of());
            }
        }
    }

    /// Compares the findings with the project's previous published release: a
    /// holding finding a reviewer released there, with the same code, is
    /// "released before" and no longer holds; one that release did not have is
    /// "new since" it. Structural (`block`) findings are never carried over.
    pub fn remember(&mut self, previous: &Previous) {
        self.fingerprint();
        for finding in &mut self.findings {
            let print = finding.fingerprint.as_deref().unwrap_or_default();
            finding.history =
                if finding.severity == Severity::Quarantine && previous.released.contains(print) {
                    Some(History::ReleasedBefore {
                        version: previous.version.clone(),
                    })
                } else if !previous.seen.contains(print) {
                    Some(History::NewSince {
                        version: previous.version.clone(),
                    })
                } else {
                    None
                };
        }
    }

    /// The findings that hold the file.
    pub fn holding(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.holds())
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
            fingerprint: None,
            history: None,
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

    fn code_finding(rule: &str, file: &str, evidence: &str) -> Finding {
        Finding {
            rule: rule.into(),
            file: Some(file.into()),
            evidence: Some(evidence.into()),
            ..finding(Severity::Quarantine)
        }
    }

    #[test]
    fn fingerprints_ignore_versioned_directories_and_whitespace_only() {
        let a = code_finding("code.x", "demo-1.0/setup.py", "os.system( 'id' )");
        let b = code_finding("code.x", "demo-1.1/setup.py", "os.system(  'id' )");
        assert_eq!(a.fingerprint_of(), b.fingerprint_of());
        let wheel_a = code_finding("code.x", "demo-1.0.dist-info/entry_points.txt", "x");
        let wheel_b = code_finding("code.x", "demo-2.0.dist-info/entry_points.txt", "x");
        assert_eq!(wheel_a.fingerprint_of(), wheel_b.fingerprint_of());
        for other in [
            code_finding("code.y", "demo-1.0/setup.py", "os.system('id')"),
            code_finding("code.x", "demo-1.0/other.py", "os.system('id')"),
            code_finding("code.x", "demo-1.0/setup.py", "os.system('id; curl x')"),
        ] {
            assert_ne!(a.fingerprint_of(), other.fingerprint_of(), "{other:?}");
        }
        assert_eq!(general_path("pkg/mod.py"), "pkg/mod.py");
        assert_eq!(general_path("six.py"), "six.py");
    }

    #[test]
    fn findings_released_before_with_the_same_code_no_longer_hold() {
        let old = code_finding("code.x", "demo-1.0/setup.py", "os.system('id')");
        let mut previous = Previous {
            version: "1.0".into(),
            ..Previous::default()
        };
        previous.seen.insert(old.fingerprint_of());
        previous.released.insert(old.fingerprint_of());

        let mut report = Report::default();
        report.push(code_finding(
            "code.x",
            "demo-1.1/setup.py",
            "os.system('id')",
        ));
        report.remember(&previous);
        assert_eq!(report.verdict(), Verdict::Pass);
        assert_eq!(
            report.findings[0].history,
            Some(History::ReleasedBefore {
                version: "1.0".into()
            })
        );

        // One changed line is new, and holds.
        report.push(code_finding(
            "code.x",
            "demo-1.1/setup.py",
            "os.system('id; curl x | sh')",
        ));
        report.remember(&previous);
        assert_eq!(report.verdict(), Verdict::Quarantine);
        assert_eq!(
            report.findings[1].history,
            Some(History::NewSince {
                version: "1.0".into()
            })
        );

        // Structural findings are never carried over.
        let mut blocked = Report::default();
        let block = Finding {
            severity: Severity::Block,
            ..old.clone()
        };
        previous.released.insert(block.fingerprint_of());
        blocked.push(block);
        blocked.remember(&previous);
        assert_eq!(blocked.verdict(), Verdict::Block);
    }
}
