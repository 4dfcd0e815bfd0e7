//! Server names: a reverse-DNS namespace, a slash, a name (`io.github.alice/weather`).

use crate::name::printable;

pub const MIN_SERVER_NAME_LEN: usize = 3;
pub const MAX_SERVER_NAME_LEN: usize = 200;

/// Checks the grammar `^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`, 3–200 characters,
/// with namespace and name each starting and ending with a letter or digit.
///
/// A one-character part (`io.x/y`) is accepted, as our spec reads; upstream's
/// regex happens to need two, which only makes it stricter than us.
pub fn check_server_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(MIN_SERVER_NAME_LEN..=MAX_SERVER_NAME_LEN).contains(&len) {
        return Err(format!(
            "must be {MIN_SERVER_NAME_LEN} to {MAX_SERVER_NAME_LEN} characters long (got {len})"
        ));
    }
    let Some((namespace, server)) = name.split_once('/') else {
        return Err(format!(
            "'{}' must be a namespace and a name separated by '/', e.g. io.github.alice/weather",
            printable(name)
        ));
    };
    if server.contains('/') {
        return Err(format!(
            "'{}' must contain exactly one '/'",
            printable(name)
        ));
    }
    check_part(namespace, "namespace", |b| b == b'.' || b == b'-')?;
    check_part(server, "name", |b| matches!(b, b'.' | b'_' | b'-'))
}

fn check_part(part: &str, what: &str, is_inner: impl Fn(u8) -> bool) -> Result<(), String> {
    let bytes = part.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(format!("the {what} before/after '/' is empty"));
    };
    if let Some(bad) = part
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || (c.is_ascii() && is_inner(c as u8))))
    {
        return Err(format!(
            "the {what} '{}' contains '{}', which server names do not allow",
            printable(part),
            bad.escape_debug()
        ));
    }
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(format!(
            "the {what} '{}' must start and end with a letter or digit",
            printable(part)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_reverse_dns_names() {
        for ok in [
            "io.github.alice/weather",
            "com.example/server_v2.1",
            "io.x/y",
            "a-b.c/d_e-f.g",
            "IO.Github.Alice/Weather",
        ] {
            assert_eq!(check_server_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_names_with_a_reason() {
        for (bad, says) in [
            ("ab", "3 to 200"),
            ("weather", "separated by '/'"),
            ("io.x/a/b", "exactly one '/'"),
            ("/weather", "empty"),
            ("io.x/", "empty"),
            ("-io.x/weather", "start and end"),
            ("io.x./weather", "start and end"),
            ("io.x/weather-", "start and end"),
            ("io.x/_weather", "start and end"),
            ("io_x/weather", "'_'"),
            ("io.x/wea ther", "' '"),
            ("io.x/wea;ther", "';'"),
            ("io.x/wéather", "contains"),
        ] {
            let err = check_server_name(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let long = format!("io.x/{}", "a".repeat(196));
        assert!(check_server_name(&long).unwrap_err().contains("got 201"));
        assert_eq!(check_server_name(&long[..200]), Ok(()));
    }
}
