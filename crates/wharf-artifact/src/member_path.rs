//! The rules every archive member name must follow, shared by wheels and sdists.
//!
//! A name is checked before anything else is done with the member, so later code can treat
//! it as a clean relative path with `/` separators.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::ArtifactError;

/// Longest member name accepted, in bytes; real packages stay far below it.
const MAX_NAME_BYTES: usize = 4096;
/// Longest path component accepted, in bytes (the common file-system limit).
const MAX_COMPONENT_BYTES: usize = 255;

/// A member name that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberPath {
    /// The name exactly as stored, including a trailing `/` for directories.
    pub(crate) name: String,
    /// Whether the name ends with `/`.
    pub(crate) has_dir_suffix: bool,
}

impl MemberPath {
    /// The path without the trailing `/` of a directory.
    pub(crate) fn path(&self) -> &str {
        self.name.strip_suffix('/').unwrap_or(&self.name)
    }

    /// The first path component.
    pub(crate) fn top(&self) -> &str {
        self.path().split('/').next().unwrap_or_default()
    }
}

/// Escapes a raw name for messages: invalid UTF-8 becomes U+FFFD and control characters are
/// escaped, so a hostile name cannot forge log lines.
pub(crate) fn display(raw: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(raw);
    let mut shown = String::with_capacity(lossy.len().min(MAX_NAME_BYTES));
    for c in lossy.chars().take(MAX_NAME_BYTES) {
        if c.is_control() || is_invisible(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Checks a raw member name against the path rules.
pub(crate) fn check(raw: &[u8]) -> Result<MemberPath, ArtifactError> {
    let bad = |reason: String| ArtifactError::BadName {
        member: display(raw),
        reason,
    };
    let escapes = |reason: &'static str| ArtifactError::PathTraversal {
        member: display(raw),
        reason,
    };

    let Ok(name) = std::str::from_utf8(raw) else {
        return Err(bad("it is not valid UTF-8".into()));
    };
    if name.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(bad(format!("it is longer than {MAX_NAME_BYTES} bytes")));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(bad(format!(
            "it contains control character U+{:04X}",
            c as u32
        )));
    }
    // Zero-width and bidirectional-override characters make two different names look the
    // same to a reviewer, which is how malicious files hide in plain sight.
    if let Some(c) = name.chars().find(|&c| is_invisible(c)) {
        return Err(bad(format!(
            "it contains invisible or bidirectional character U+{:04X}",
            c as u32
        )));
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(escapes("absolute path"));
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(escapes("drive-letter path"));
    }
    // Windows extractors treat `\` as a separator, so `..\x` is a traversal there.
    if name.split(['/', '\\']).any(|part| part == "..") {
        return Err(escapes("path traversal"));
    }
    if name.contains('\\') {
        return Err(bad("it contains a backslash".into()));
    }

    let has_dir_suffix = name.ends_with('/');
    let path = name.strip_suffix('/').unwrap_or(name);
    for part in path.split('/') {
        if part.is_empty() {
            return Err(bad("it has an empty path component".into()));
        }
        if part == "." {
            return Err(bad("it has a '.' path component".into()));
        }
        if part.len() > MAX_COMPONENT_BYTES {
            return Err(bad(format!(
                "a path component is longer than {MAX_COMPONENT_BYTES} bytes"
            )));
        }
    }
    Ok(MemberPath {
        name: name.to_owned(),
        has_dir_suffix,
    })
}

/// Characters that render as nothing or reorder text.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Refuses names that would land on the same file on a case-insensitive or
/// normalizing file system (macOS, Windows), where one member would silently replace another.
#[derive(Debug, Default)]
pub(crate) struct CollisionGuard {
    seen: HashMap<String, String>,
}

impl CollisionGuard {
    pub(crate) fn insert(&mut self, member: &MemberPath) -> Result<(), ArtifactError> {
        let key: String = member.path().nfc().collect::<String>().to_lowercase();
        if let Some(existing) = self.seen.get(&key) {
            return Err(ArtifactError::DuplicateEntry {
                member: display(member.name.as_bytes()),
                existing: display(existing.as_bytes()),
            });
        }
        self.seen.insert(key, member.name.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(raw: &[u8]) -> &'static str {
        match check(raw) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn ordinary_names_pass() {
        let member = check(b"demo_pkg/sub dir/m\xc3\xb6dule.py").expect("valid name");
        assert_eq!(member.path(), "demo_pkg/sub dir/m\u{f6}dule.py");
        assert_eq!(member.top(), "demo_pkg");
        assert!(!member.has_dir_suffix);
        let dir = check(b"demo_pkg/").expect("valid directory");
        assert!(dir.has_dir_suffix);
        assert_eq!(dir.path(), "demo_pkg");
    }

    #[test]
    fn traversal_and_absolute_forms_are_refused() {
        for raw in [
            &b"../evil"[..],
            b"a/../../evil",
            b"a/..",
            b"..\\evil",
            b"/etc/passwd",
            b"\\server\\share",
            b"C:/Windows/evil.dll",
            b"c:evil",
        ] {
            assert_eq!(code_of(raw), "archive.path-traversal", "{raw:?}");
        }
        let err = check(b"../evil").unwrap_err();
        assert_eq!(
            err.to_string(),
            "archive member '../evil' escapes the archive (path traversal)"
        );
    }

    #[test]
    fn unprintable_or_ambiguous_names_are_refused() {
        for raw in [
            &b""[..],
            b"a\nb.py",
            b"a\x00b",
            b"a\x7fb",
            b"\xff\xfe.py",
            b"a\\b.py",
            b"a//b.py",
            b"./a.py",
            b"a/./b.py",
            b"a/",
            "pkg/\u{202E}yp.exe".as_bytes(),
            "pkg/a\u{200B}.py".as_bytes(),
        ] {
            let expected = if raw == b"a/" {
                "ok"
            } else {
                "archive.bad-name"
            };
            assert_eq!(code_of(raw), expected, "{raw:?}");
        }
        assert_eq!(code_of(&[b'a'; 256]), "archive.bad-name");
        assert_eq!(code_of(&[b'a'; 255]), "ok");
    }

    #[test]
    fn messages_escape_control_characters() {
        let err = check(b"evil\x1b[31m.py").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("evil\\u{1b}[31m.py"), "{text}");
    }

    #[test]
    fn collisions_ignore_case_and_unicode_form() {
        let mut guard = CollisionGuard::default();
        guard.insert(&check(b"pkg/Readme.txt").unwrap()).unwrap();
        let err = guard
            .insert(&check(b"pkg/README.txt").unwrap())
            .unwrap_err();
        assert_eq!(err.code(), "archive.duplicate-entry");
        assert!(err
            .to_string()
            .contains("'pkg/README.txt' duplicates 'pkg/Readme.txt'"));

        // U+00E9 and "e" + U+0301 are the same name once normalized.
        guard
            .insert(&check("pkg/caf\u{e9}.py".as_bytes()).unwrap())
            .unwrap();
        let err = guard
            .insert(&check("pkg/cafe\u{301}.py".as_bytes()).unwrap())
            .unwrap_err();
        assert_eq!(err.code(), "archive.duplicate-entry");

        // A directory entry and a file entry with the same path are ambiguous too.
        guard.insert(&check(b"pkg/data/").unwrap()).unwrap();
        assert!(guard.insert(&check(b"pkg/data").unwrap()).is_err());
    }
}
