//! Compiled executables where none belong: any in an sdist (which should be built from
//! source), and in a wheel any that is not an extension module or shared library.

use crate::report::{Finding, Severity};

/// The executable format `head` starts with, if any.
pub fn executable_format(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x7f, b'E', b'L', b'F', ..] => Some("ELF"),
        [b'M', b'Z', ..] if is_pe(head) => Some("PE"),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => Some("Mach-O"),
        // Fat Mach-O shares 0xCAFEBABE with Java classes; a fat header's count is small.
        [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, n, ..] if (1..=20).contains(n) => Some("Mach-O"),
        _ => None,
    }
}

/// An MZ header whose `e_lfanew` points at a PE signature inside what we have, or, when it
/// points further, any MZ header: DOS stubs are executables too.
fn is_pe(head: &[u8]) -> bool {
    let Some(offset) = head.get(0x3c..0x40) else {
        return head.len() >= 2;
    };
    let at = u32::from_le_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    match head.get(at..at + 4) {
        Some(signature) => signature == b"PE\0\0",
        None => true,
    }
}

/// Extension modules and libraries, which wheels exist to carry.
fn is_library(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    [".so", ".pyd", ".dll", ".dylib", ".node"]
        .iter()
        .any(|ext| base.ends_with(ext))
        || base.contains(".so.")
}

pub fn check(kind: wharf_core::DistKind, name: &str, head: &[u8]) -> Option<Finding> {
    let format = executable_format(head)?;
    let (rule, severity, explanation) = match kind {
        wharf_core::DistKind::Sdist => (
            "binary.bundled-executable",
            Severity::Quarantine,
            format!("a compiled {format} executable in a source distribution; sdists should build from source"),
        ),
        // npm packages ship prebuilt tools (esbuild, swc): worth a look, not a hold.
        wharf_core::DistKind::NpmTarball if !is_library(name) => (
            "binary.npm-executable",
            Severity::Warn,
            format!("a compiled {format} executable in an npm package"),
        ),
        wharf_core::DistKind::BdistWheel if !is_library(name) => (
            "binary.wheel-executable",
            Severity::Warn,
            format!("a compiled {format} executable that is not an extension module"),
        ),
        wharf_core::DistKind::BdistWheel | wharf_core::DistKind::NpmTarball => return None,
    };
    Some(Finding {
        rule: rule.to_owned(),
        severity,
        file: Some(name.to_owned()),
        line: None,
        evidence: Some(format!("{format} magic bytes")),
        explanation,
        context: None,
        fingerprint: None,
        history: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::DistKind;

    #[test]
    fn recognises_the_three_formats_and_not_java_classes() {
        assert_eq!(executable_format(b"\x7fELF\x02\x01\x01"), Some("ELF"));
        assert_eq!(
            executable_format(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0]),
            Some("Mach-O")
        );
        assert_eq!(
            executable_format(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
            Some("Mach-O")
        );
        assert_eq!(
            executable_format(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
            None
        );
        let mut pe = vec![0u8; 64];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe.extend_from_slice(b"PE\0\0");
        assert_eq!(executable_format(&pe[..64]), Some("PE"));
        pe[0x3c] = 0x10;
        assert_eq!(executable_format(&pe), None, "MZ text with no PE header");
        assert_eq!(executable_format(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn sdists_quarantine_and_wheels_allow_extension_modules() {
        let elf = b"\x7fELF\x02\x01\x01\x00";
        let sdist = check(DistKind::Sdist, "demo-1.0/bin/helper", elf).unwrap();
        assert_eq!(
            (sdist.rule.as_str(), sdist.severity),
            ("binary.bundled-executable", Severity::Quarantine)
        );
        assert!(check(
            DistKind::BdistWheel,
            "demo/_speedups.cpython-311-x86_64-linux-gnu.so",
            elf
        )
        .is_none());
        let tool = check(DistKind::BdistWheel, "demo-1.0.data/scripts/helper", elf).unwrap();
        assert_eq!(tool.severity, Severity::Warn);
    }
}
