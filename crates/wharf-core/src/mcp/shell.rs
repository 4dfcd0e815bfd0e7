//! The one character rule for anything a client may paste into a command
//! line: identifiers, versions, runtime hints and argument names.
//!
//! Clients build commands such as `npx -y <identifier>@<version>`, and the
//! schema itself warns that some run them through a shell. So these fields are
//! held to printable ASCII without the characters a POSIX shell or `cmd.exe`
//! would act on. A legitimate package name or version never needs them.

use crate::name::printable;

/// Characters with a meaning to `sh` or `cmd.exe`: command separators,
/// substitution, redirection, quoting, globbing, history and variable
/// expansion (`%` for `cmd.exe`, `^` its escape).
const SHELL_SPECIAL: &[char] = &[
    ';', '&', '|', '`', '$', '(', ')', '<', '>', '\\', '\'', '"', '*', '?', '[', ']', '{', '}',
    '!', '~', '#', '%', '^',
];

/// Ok when `value` is printable ASCII with no whitespace and no shell-special
/// character; the error names the first offending character.
pub(super) fn check_shell_safe(value: &str) -> Result<(), String> {
    match value
        .chars()
        .find(|&c| !c.is_ascii_graphic() || SHELL_SPECIAL.contains(&c))
    {
        None => Ok(()),
        Some(c) if c.is_whitespace() || c.is_control() => Err(format!(
            "'{}' contains whitespace or a control character ({}), which a command line would split or act on",
            printable(value),
            c.escape_debug()
        )),
        Some(c) if !c.is_ascii() => Err(format!(
            "'{}' contains the non-ASCII character '{c}'; only ASCII is accepted here",
            printable(value)
        )),
        Some(c) => Err(format!(
            "'{}' contains '{c}', which a shell would interpret",
            printable(value)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_every_shell_special_character_and_whitespace() {
        for hostile in [
            "; rm -rf /",
            "$(id)",
            "`id`",
            "a|b",
            "a&&b",
            "a>b",
            "a<b",
            "a\\b",
            "'a'",
            "\"a\"",
            "a\nb",
            "a\0b",
            "a\tb",
            "*",
            "%PATH%",
            "a b",
            "naïve",
        ] {
            assert!(check_shell_safe(hostile).is_err(), "{hostile:?}");
        }
    }

    #[test]
    fn accepts_ordinary_names_and_versions() {
        for ok in [
            "@scope/pkg",
            "1.0.0-rc.1+build.5",
            "docker.io/org/image:1.2@sha256:abc",
            "--port",
            "https://example.com/a/b.mcpb",
        ] {
            assert_eq!(check_shell_safe(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn the_message_names_the_character() {
        let err = check_shell_safe("pkg;reboot").unwrap_err();
        assert!(err.contains("';'"), "{err}");
        let err = check_shell_safe("a\nb").unwrap_err();
        assert!(err.contains("\\n"), "{err}");
    }
}
