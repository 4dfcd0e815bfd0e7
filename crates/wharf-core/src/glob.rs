//! MCP server-name globs (`com.acme/*`): which names a namespace grant or a
//! restricted token covers. Globs come from users, so matching takes linear
//! work whatever the pattern, and a glob's size is bounded.

use crate::name::printable;
use crate::ValidationError;

/// The most `*` one glob may hold, and the most globs one token may carry:
/// a cap on the work one request can ask of the matcher, on top of its
/// linear time.
pub const MAX_STARS: usize = 4;
pub const MAX_TOKEN_GLOBS: usize = 32;

/// The longest glob accepted.
pub const MAX_GLOB_LEN: usize = 200;

/// A checked glob: `namespace/name` whose parts use letters, digits, `.`,
/// `-` (and `_` in the name) and at most [`MAX_STARS`] `*`; kept lowercase,
/// since names match ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamespaceGlob(String);

impl NamespaceGlob {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |message: String| ValidationError::new("invalid_namespace", message);
        let Some((namespace, name)) = raw.split_once('/') else {
            return Err(invalid(format!(
                "'{}' is not NAMESPACE/NAME, e.g. com.acme/*",
                printable(raw)
            )));
        };
        let ok = |part: &str, extra: &[u8]| {
            !part.is_empty()
                && part.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || b == b'*'
                        || b == b'.'
                        || b == b'-'
                        || extra.contains(&b)
                })
        };
        // An npm scope (`@acme/*`) is a namespace too.
        let namespace = namespace.strip_prefix('@').unwrap_or(namespace);
        if !ok(namespace, b"") || !ok(name, b"_") || raw.len() > MAX_GLOB_LEN {
            return Err(invalid(format!(
                "'{}' may use only letters, digits, '.', '-', '_' (in the name) and '*'",
                printable(raw)
            )));
        }
        if raw.bytes().filter(|&b| b == b'*').count() > MAX_STARS {
            return Err(invalid(format!(
                "'{raw}' has more than {MAX_STARS} '*'; use fewer, e.g. com.acme/*"
            )));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the glob covers the server `name`, ignoring case.
    pub fn matches(&self, name: &str) -> bool {
        matches(&self.0, name)
    }
}

impl std::fmt::Display for NamespaceGlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `glob` (e.g. `com.acme/*`) matches `name`, ignoring case. `*`
/// matches any run of characters other than `/`. For globs stored after
/// [`NamespaceGlob::parse`] checked them.
pub fn matches(glob: &str, name: &str) -> bool {
    match_steps(glob, name).0
}

/// The match and the number of steps it took. The probe froze a server with
/// `i/*a*a*a*a*b` against an exponential matcher: here `*` never crosses
/// `/`, so each `/`-separated segment is matched on its own by the greedy
/// two-pointer method, which retries only from the last star and takes at
/// most (glob length + 1) × (name length + 1) steps.
fn match_steps(glob: &str, name: &str) -> (bool, usize) {
    let mut steps = 0;
    let mut globs = glob.split('/');
    let mut names = name.split('/');
    loop {
        match (globs.next(), names.next()) {
            (None, None) => return (true, steps),
            (Some(g), Some(n)) => {
                if !segment_matches(g.as_bytes(), n.as_bytes(), &mut steps) {
                    return (false, steps);
                }
            }
            _ => return (false, steps),
        }
    }
}

/// One segment (no `/` on either side): greedy, remembering the last star
/// and how much of the name it has swallowed.
fn segment_matches(glob: &[u8], name: &[u8], steps: &mut usize) -> bool {
    let (mut g, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        *steps += 1;
        if g < glob.len() && glob[g] == b'*' {
            last_star = Some((g, n));
            g += 1;
        } else if g < glob.len() && glob[g].eq_ignore_ascii_case(&name[n]) {
            g += 1;
            n += 1;
        } else if let Some((star, swallowed)) = last_star {
            // Let the last star take one more character and retry after it.
            last_star = Some((star, swallowed + 1));
            g = star + 1;
            n = swallowed + 1;
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_case_insensitively_within_one_segment() {
        assert!(matches("com.acme/*", "com.acme/weather"));
        assert!(matches("com.acme/*", "COM.Acme/weather"));
        assert!(matches("io.github.*/*", "io.github.alice/tool"));
        assert!(!matches("com.acme/*", "com.acmex/weather"));
        assert!(!matches("com.acme/*", "com.acme.evil/weather"));
        assert!(!matches("com.*/*", "com.acme/a/b"), "* never crosses '/'");
        assert!(matches("com.acme/exact", "com.acme/Exact"));
        assert!(!matches("com.acme/exact", "com.acme/exactly"));
    }

    /// The probe's freeze: `i/*a*a*a*a*b` against `i/` + 198 `a`s took 6 s
    /// with the old backtracking matcher. The work is bounded by the sizes,
    /// whatever the pattern.
    #[test]
    fn glob_backtracking_freeze_is_linear() {
        let name = format!("i/{}", "a".repeat(198));
        for glob in ["i/*a*a*a*a*b", "i/*a*a*a*a*a*a*a*a*a*a*b", "i/*******b"] {
            let (matched, steps) = match_steps(glob, &name);
            assert!(!matched, "{glob}");
            let budget = (glob.len() + 1) * (name.len() + 1);
            assert!(steps <= budget, "{glob}: {steps} steps > {budget}");
        }
        assert!(matches("i/*a*a*a*a*", &name));
        assert!(
            NamespaceGlob::parse("i/*a*a*a*b").is_ok(),
            "four stars are allowed"
        );
        let five = NamespaceGlob::parse("i/*a*a*a*a*b").unwrap_err();
        assert!(five.message.contains("more than 4 '*'"), "{}", five.message);
    }

    #[test]
    fn globs_match_like_the_backtracking_definition() {
        fn reference(glob: &[u8], name: &[u8]) -> bool {
            match glob.split_first() {
                None => name.is_empty(),
                Some((b'*', rest)) => (0..=name.len())
                    .take_while(|&i| i == 0 || name[i - 1] != b'/')
                    .any(|i| reference(rest, &name[i..])),
                Some((&g, rest)) => name
                    .split_first()
                    .is_some_and(|(&n, tail)| n.eq_ignore_ascii_case(&g) && reference(rest, tail)),
            }
        }
        let globs = [
            "a*/*", "*b*", "a/b*c", "*", "**/x*", "a*b*a/*", "*/*/*", "ab", "",
        ];
        let names = [
            "ab/c", "a/b", "abba/x", "a/bxc", "/x", "aa/bb/cc", "ab", "", "b", "x/",
        ];
        for g in globs {
            for n in names {
                assert_eq!(
                    matches(g, n),
                    reference(g.as_bytes(), n.as_bytes()),
                    "{g} vs {n}"
                );
            }
        }
    }

    #[test]
    fn globs_are_name_shaped_and_kept_lowercase() {
        assert_eq!(
            NamespaceGlob::parse("Com.Acme/*").unwrap().as_str(),
            "com.acme/*"
        );
        assert!(NamespaceGlob::parse("io.github.*/*").is_ok());
        assert!(NamespaceGlob::parse("@acme/*")
            .unwrap()
            .matches("@acme/tool"));
        for bad in [
            "*",
            "com.acme/$(id)",
            "com acme/*",
            "/x",
            "x/",
            "@/x",
            "@@a/x",
            "a@b/x",
        ] {
            let e = NamespaceGlob::parse(bad).unwrap_err();
            assert_eq!(e.code, "invalid_namespace", "{bad}");
        }
        assert!(NamespaceGlob::parse(&format!("a/{}", "b".repeat(MAX_GLOB_LEN))).is_err());
    }
}
