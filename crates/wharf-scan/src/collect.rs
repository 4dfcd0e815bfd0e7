//! Gathers each member's bytes as the checked reader decompresses them, and runs the
//! content rules on it as soon as it is complete, so only one member is held at a time.

use crate::report::Report;
use crate::{binary, install, source};
use wharf_artifact::MemberSink;
use wharf_core::DistKind;

/// Text members larger than this are scanned on their first this-many bytes.
const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
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
    /// Anything else: only its first bytes are looked at.
    Other,
}

fn role(kind: DistKind, name: &str) -> Role {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    if base.ends_with(".pth") {
        return Role::Pth;
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
}

struct Member {
    name: String,
    role: Role,
    head: Vec<u8>,
    text: Vec<u8>,
}

impl Collector {
    pub fn new(kind: DistKind) -> Self {
        Self {
            kind,
            report: Report::default(),
            current: None,
        }
    }

    pub fn finish(self) -> Report {
        self.report
    }
}

impl MemberSink for Collector {
    fn begin(&mut self, name: &str, _size: u64) -> bool {
        self.current = Some(Member {
            name: name.to_owned(),
            role: role(self.kind, name),
            head: Vec::with_capacity(HEAD_BYTES),
            text: Vec::new(),
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
        }
    }

    fn end(&mut self) {
        let Some(member) = self.current.take() else {
            return;
        };
        let findings = &mut self.report.findings;
        findings.extend(binary::check(self.kind, &member.name, &member.head));
        if member.role == Role::Other {
            return;
        }
        // Malformed UTF-8 is scanned as far as it decodes; hostile files need not be valid.
        let text = String::from_utf8_lossy(&member.text);
        findings.extend(source::scan(&member.name, &text, member.role));
        if member.role == Role::Pth {
            findings.extend(install::pth_imports(&member.name, &text));
        }
    }
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
    }
}
