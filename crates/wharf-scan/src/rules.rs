//! The catalog of rules: stable IDs, default severities, explanations.

use crate::report::Severity;

/// Bumped whenever a rule changes what it finds, so a rescan can tell old reports apart.
pub const RULES_VERSION: &str = "2026.12.1";

/// One rule as a reviewer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable ID; never reused for a different check.
    pub id: &'static str,
    /// The severity it has on its own. Content heuristics list their raised severity.
    pub severity: Severity,
    /// What it means, in one line.
    pub explanation: &'static str,
}

const fn rule(id: &'static str, severity: Severity, explanation: &'static str) -> Rule {
    Rule {
        id,
        severity,
        explanation,
    }
}

use Severity::{Block, Quarantine, Warn};

/// Every rule. Archive-structure rules (`archive.*`, `wheel.*`, `sdist.*`, `metadata.*`)
/// come from the checked reader and refuse the upload.
pub const RULES: &[Rule] = &[
    rule("archive.zip-bomb", Block, "the archive expands far beyond its compressed size"),
    rule("archive.too-large", Block, "a member or the whole archive exceeds the size limits once decompressed"),
    rule("archive.too-many-entries", Block, "the archive has more members than allowed"),
    rule("archive.path-traversal", Block, "a member's path is absolute or climbs out with '..'"),
    rule("archive.link", Block, "the archive holds a symlink or hardlink"),
    rule("archive.special-member", Block, "the archive holds a device, FIFO, sparse or other special member"),
    rule("archive.duplicate-entry", Block, "two members share a name, ignoring case and Unicode normalization"),
    rule("archive.inconsistent-headers", Block, "the archive's headers disagree, so tools could see different files"),
    rule("archive.polyglot", Block, "the file is valid as two archive formats at once"),
    rule("archive.prepended-data", Block, "bytes precede the archive"),
    rule("archive.trailing-data", Block, "bytes follow the archive"),
    rule("archive.bad-name", Block, "a member name is malformed"),
    rule("archive.corrupt", Block, "a member does not decompress cleanly"),
    rule("archive.encrypted", Block, "a member is encrypted"),
    rule("archive.compression-method", Block, "a member uses a compression method wheels may not use"),
    rule("archive.not-zip", Block, "a wheel that is not a ZIP archive"),
    rule("archive.not-tar-gz", Block, "an sdist that is not a gzipped tar archive"),
    rule("wheel.record-mismatch", Block, "a file's size or hash differs from RECORD, or RECORD lists a missing file"),
    rule("wheel.record-missing-entry", Block, "a file is missing from RECORD"),
    rule("wheel.record-invalid", Block, "RECORD is malformed"),
    rule("wheel.missing-dist-info", Block, "the wheel has no .dist-info directory"),
    rule("wheel.multiple-dist-info", Block, "the wheel has more than one .dist-info directory"),
    rule("wheel.missing-file", Block, "the wheel lacks METADATA, WHEEL or RECORD"),
    rule("sdist.layout", Block, "sdist members are not all inside one top-level directory"),
    rule("sdist.missing-pkg-info", Block, "the sdist has no PKG-INFO"),
    rule("npm.missing-package-json", Block, "the npm tarball has no package.json in its top-level directory"),
    rule("metadata.invalid", Block, "the core metadata is malformed"),
    rule("metadata.missing-field", Block, "the core metadata lacks a required field"),
    rule("metadata.too-large", Block, "the core metadata file is too large"),
    rule("metadata.mismatch", Block, "the filename's name or version disagrees with the metadata inside"),
    rule("metadata.layout-mismatch", Block, "the .dist-info or top-level directory names another project or version"),
    rule("install.pth-import", Quarantine, "a .pth file runs code at every interpreter start"),
    rule("install.setup-network", Quarantine, "setup.py touches the network at install time"),
    rule("install.setup-command", Warn, "setup.py runs commands at install time"),
    rule("code.exec-decoded-payload", Quarantine, "code is decoded (base64, hex, zlib, marshal) and executed"),
    rule("code.download-exec", Quarantine, "something is downloaded and executed"),
    rule("code.credential-exfil", Quarantine, "credential files or the environment are read in code that sends data over the network"),
    rule("code.credential-access", Warn, "credential files or an environment dump are read"),
    rule("code.obfuscated", Warn, "huge high-entropy lines or long encoded blobs; quarantine beside exec or network code"),
    rule("code.silent-subprocess", Warn, "a subprocess is started hidden or detached; quarantine beside network code"),
    rule("code.clipboard", Warn, "the clipboard is read; quarantine beside network code"),
    rule("code.obfuscated-exec", Quarantine, "code whose name or text is built at run time (joins, chr(), getattr, globals()) is executed"),
    rule("code.exec-hidden-code", Quarantine, "code hidden in data (an encoding, a compressed or marshalled blob) is executed"),
    rule("code.hidden-code", Warn, "code is hidden in data (an encoding, a compressed or marshalled blob) without being run here"),
    rule("code.unparsable", Warn, "a Python file could not be read as Python 3, so only its text was checked"),
    rule("code.reverse-shell", Quarantine, "a socket is wired to a shell's input and output"),
    rule("code.persistence", Quarantine, "code installs itself to run again: a Run key, a shell profile, cron, a service or a login item"),
    rule("code.spyware", Quarantine, "keystrokes, screenshots, browser data or wallets are captured; warning where the code runs only when called"),
    rule("code.host-beacon", Quarantine, "details of the host or the environment are sent over the network as soon as the code runs"),
    rule("code.clipboard-hijack", Quarantine, "the clipboard is read and replaced, as address-swapping malware does"),
    rule("code.process-injection", Quarantine, "code is written into another process's memory"),
    rule("code.process-memory", Quarantine, "another process's memory is read"),
    rule("code.destructive", Quarantine, "files or disks are wiped or encrypted wholesale"),
    rule("code.cryptominer", Quarantine, "a cryptocurrency miner is started"),
    rule("install.hidden-pip-install", Quarantine, "installation runs pip to install something the metadata does not declare"),
    rule("install.cmdclass-command", Quarantine, "a setup.py command class runs commands or network code at install time"),
    rule("install.npm-script", Warn, "package.json runs a command when the package is installed (preinstall, install, postinstall)"),
    rule("install.npm-native-build", Warn, "binding.gyp makes npm run node-gyp, which compiles native code at install"),
    rule("install.npm-script-threat", Quarantine, "a file an install script runs carries a threat heuristic (obfuscation, credential or environment reads, hidden processes)"),
    rule("binary.drop-exec", Quarantine, "a file is written and then executed"),
    rule("binary.bundled-executable", Quarantine, "an sdist carries a compiled executable (ELF, PE or Mach-O)"),
    rule("binary.wheel-executable", Warn, "a wheel carries an executable that is not an extension module"),
    rule("binary.npm-executable", Warn, "an npm package carries a compiled executable that is not a native addon"),
    rule("tool.hidden-instructions", Quarantine, "an MCP tool's text addresses the model (\"<IMPORTANT>\", \"do not tell the user\") instead of describing the tool"),
    rule("tool.shadowing", Quarantine, "an MCP tool's text tells the model how to use other tools or servers"),
    rule("tool.other-tools", Warn, "an MCP tool's text speaks of other tools or servers"),
    rule("tool.credential-reference", Quarantine, "an MCP tool's text mentions a secret file (SSH keys, cloud credentials, mcp.json, .env)"),
    rule("tool.exfiltration-hint", Quarantine, "an MCP tool's text names a URL and asks for data to be sent there"),
    rule("tool.invisible-text", Quarantine, "an MCP tool's text holds invisible or reordering characters"),
    rule("tool.name-lookalike", Quarantine, "an MCP tool's name has characters outside ASCII letters, digits, '_', '-' and '.'"),
    rule("tool.encoded-blob", Quarantine, "an MCP tool's text carries a long run of base64 or hex"),
    rule("tool.long-description", Warn, "an MCP tool's description is far longer than a tool needs"),
    rule("tool.changed-in-place", Quarantine, "an MCP server lists other tools than when the same version was first captured (a rug pull)"),
    rule("tool.changed", Warn, "an MCP server version's tools differ from the previous version's"),
    rule("tool.name-collision", Warn, "another server of the catalog exposes a tool of the same name"),
    rule("name.stdlib", Quarantine, "the project name shadows a standard-library module"),
    rule("name.typosquat", Quarantine, "the project name imitates a popular or existing project"),
    rule("name.ultra-normalized-collision", Quarantine, "the project name differs from an existing project only by separators or look-alike characters"),
];

/// The catalog entry for `id`. Every rule the scanner emits is listed.
pub fn lookup(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every rule ID spelled out in the scanner's sources has a catalog entry, so a
    /// report never names a rule a reviewer cannot look up.
    #[test]
    fn every_rule_the_scanner_emits_is_catalogued() {
        let sources = [
            include_str!("collect.rs"),
            include_str!("source.rs"),
            include_str!("binary.rs"),
            include_str!("names.rs"),
            include_str!("python/mod.rs"),
            include_str!("python/eval.rs"),
            include_str!("python/command.rs"),
            include_str!("tools.rs"),
            include_str!("npm.rs"),
        ];
        let families = ["\"code.", "\"install.", "\"binary.", "\"name.", "\"tool."];
        let mut checked = 0;
        for text in sources {
            for family in families {
                for (at, _) in text.match_indices(family) {
                    let rest = &text[at + 1..];
                    let id = &rest[..rest.find('"').expect("closing quote")];
                    if id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'-')
                    {
                        assert!(
                            lookup(id).is_some(),
                            "rule {id} is emitted but not catalogued"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 20, "only {checked} rule IDs found in the sources");
    }

    #[test]
    fn ids_are_unique_and_dotted() {
        let mut seen = HashSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.id), "duplicate rule {}", rule.id);
            let (family, name) = rule.id.split_once('.').expect("family.name");
            assert!(!family.is_empty() && !name.is_empty());
            assert!(rule
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'-'));
        }
    }
}
