//! Name policy: standard-library names, typosquats of popular and local projects, and
//! names that collide with an existing one once separators and look-alikes are ignored.
//!
//! Names arrive PEP 503-normalized (lowercase, runs of `-_.` as one `-`). The popular list
//! ships with Wharf (`data/popular-pypi.txt`, source in its header).

use crate::report::{Finding, Severity};
use std::collections::HashSet;
use std::sync::LazyLock;

const BUNDLED_POPULAR: &str = include_str!("../data/popular-pypi.txt");
const BUNDLED_STDLIB: &str = include_str!("../data/stdlib.txt");

/// Edit-distance matches against names shorter than this are too likely to be chance.
const MIN_EDIT_TARGET: usize = 5;

/// The names a squatter would imitate, with their comparison forms precomputed.
pub struct PopularNames {
    entries: Vec<Forms>,
    exact: HashSet<String>,
}

/// A name's forms for comparison.
struct Forms {
    name: String,
    ultra: String,
    skeleton: String,
    words: Option<Vec<String>>,
    unprefixed: Option<String>,
}

impl Forms {
    fn of(name: &str) -> Self {
        let ultra = ultra_normalize(name);
        let mut words: Vec<String> = name.split('-').map(str::to_owned).collect();
        let words = (words.len() > 1).then(|| {
            words.sort();
            words
        });
        Self {
            name: name.to_owned(),
            skeleton: skeleton(&ultra),
            ultra,
            words,
            unprefixed: without_py(name),
        }
    }
}

impl PopularNames {
    /// Parses one name per line; `#` starts a comment line.
    pub fn from_lines(text: &str) -> Self {
        let mut entries = Vec::new();
        let mut exact = HashSet::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = wharf_core::name::normalize(line);
            if exact.insert(name.clone()) {
                entries.push(Forms::of(&name));
            }
        }
        Self { entries, exact }
    }

    /// The list shipped with Wharf.
    pub fn bundled() -> &'static Self {
        static BUNDLED: LazyLock<PopularNames> =
            LazyLock::new(|| PopularNames::from_lines(BUNDLED_POPULAR));
        &BUNDLED
    }

    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn contains(&self, name: &str) -> bool {
        self.exact.contains(name)
    }
}

static STDLIB: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    BUNDLED_STDLIB
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// What a new project's name is compared with.
pub struct NameContext<'a> {
    /// Popular names from elsewhere.
    pub popular: &'a PopularNames,
    /// This registry's projects owned by someone else, PEP 503-normalized.
    pub local: &'a [String],
}

/// PyPI's ultra-normalization: no separators, and `o`/`0`, `l`/`i`/`1` as one.
pub fn ultra_normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'l' | 'i' => '1',
            other => other,
        })
        .collect()
}

/// Letter pairs that read as one letter in most fonts.
fn skeleton(ultra: &str) -> String {
    ultra
        .replace("rn", "m")
        .replace("vv", "w")
        .replace("c1", "d")
}

/// The name without a `py`/`python` prefix or suffix, if it had one.
fn without_py(name: &str) -> Option<String> {
    let prefixes = ["python-", "py-", "python", "py"];
    let suffixes = ["-python", "-py", "python", "py"];
    let stripped = prefixes
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .or_else(|| suffixes.iter().find_map(|s| name.strip_suffix(s)))?;
    let stripped = stripped.trim_matches('-');
    (stripped.len() >= 3).then(|| stripped.to_owned())
}

/// Damerau distance exactly 1: one insertion, deletion, substitution or adjacent swap.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Less => ra == &rb[1..],
        std::cmp::Ordering::Greater => &ra[1..] == rb,
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
    }
}

/// How `candidate` imitates `target`, if it does.
fn resemblance(candidate: &Forms, target: &Forms) -> Option<&'static str> {
    if candidate.name == target.name {
        return None;
    }
    if candidate.ultra == target.ultra {
        return Some("it differs only by separators or look-alike characters (0/o, 1/l/i)");
    }
    if candidate.skeleton == target.skeleton {
        return Some("it looks the same in most fonts (rn/m, vv/w, cl/d)");
    }
    if candidate.words.is_some() && candidate.words == target.words {
        return Some("it has the same words in another order");
    }
    let bare_c = candidate.unprefixed.as_deref().unwrap_or(&candidate.name);
    let bare_t = target.unprefixed.as_deref().unwrap_or(&target.name);
    if (candidate.unprefixed.is_some() || target.unprefixed.is_some()) && bare_c == bare_t {
        return Some("it adds or drops a py/python prefix or suffix");
    }
    if target.ultra.len() >= MIN_EDIT_TARGET && one_edit_apart(&candidate.ultra, &target.ultra) {
        return Some("one character is added, removed, changed or swapped");
    }
    None
}

fn finding(rule: &str, evidence: String, explanation: &str) -> Finding {
    Finding {
        rule: rule.to_owned(),
        severity: Severity::Quarantine,
        file: None,
        line: None,
        evidence: Some(evidence),
        explanation: explanation.to_owned(),
    }
}

/// The name-policy findings for `project` (PEP 503-normalized).
pub fn check(project: &str, context: &NameContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let popular = context.popular.contains(project);
    if !popular && STDLIB.contains(project.replace('-', "_").as_str()) {
        out.push(finding(
            "name.stdlib",
            format!("'{project}' is a standard-library module"),
            "installing it would shadow or confuse the standard-library module of that name",
        ));
    }
    let forms = Forms::of(project);
    if !popular {
        if let Some((target, how)) = context
            .popular
            .entries
            .iter()
            .find_map(|t| resemblance(&forms, t).map(|how| (t, how)))
        {
            out.push(finding(
                "name.typosquat",
                format!(
                    "'{project}' resembles the popular project '{}': {how}",
                    target.name
                ),
                "the name imitates a widely used project",
            ));
        }
    }
    for local in context.local.iter().filter(|l| l.as_str() != project) {
        let target = Forms::of(local);
        let Some(how) = resemblance(&forms, &target) else {
            continue;
        };
        let rule = if forms.ultra == target.ultra {
            "name.ultra-normalized-collision"
        } else {
            "name.typosquat"
        };
        out.push(finding(
            rule,
            format!("'{project}' resembles '{local}' in this registry: {how}"),
            "the name imitates a project someone else owns here",
        ));
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(project: &str, local: &[&str]) -> Vec<String> {
        let local: Vec<String> = local.iter().map(|s| (*s).to_owned()).collect();
        let context = NameContext {
            popular: PopularNames::bundled(),
            local: &local,
        };
        check(project, &context)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn the_bundled_list_is_loaded_and_normalized() {
        let popular = PopularNames::bundled();
        assert!(popular.len() >= 4000, "{}", popular.len());
        assert!(popular.contains("requests") && popular.contains("typing-extensions"));
    }

    #[test]
    fn popular_and_unrelated_names_pass() {
        for name in [
            "requests",
            "six",
            "urllib3",
            "pyyaml",
            "jinja2",
            "acme-billing-client",
        ] {
            assert!(
                rules(name, &[]).is_empty(),
                "{name}: {:?}",
                rules(name, &[])
            );
        }
    }

    #[test]
    fn the_classic_squats_are_caught() {
        for squat in [
            "reqeusts",
            "requestss",
            "reqests",
            "requets",
            "python-requests",
            "requests-py",
            "urlib3",
            "dateutil-python",
            "djang0",
            "colourama",
            "beautifulsoup",
        ] {
            let found = rules(squat, &[]);
            assert_eq!(found, ["name.typosquat"], "{squat}");
        }
    }

    #[test]
    fn standard_library_names_are_held() {
        assert_eq!(rules("subprocess", &[]), ["name.stdlib"]);
        assert!(
            rules("typing", &[]).is_empty(),
            "the typing backport is a popular project"
        );
    }

    #[test]
    fn local_projects_are_protected_too() {
        assert_eq!(
            rules("acme-b1lling", &["acme-billing"]),
            ["name.ultra-normalized-collision"]
        );
        assert_eq!(
            rules("acmebilling", &["acme-billing"]),
            ["name.ultra-normalized-collision"]
        );
        assert_eq!(
            rules("acme-bi11ing", &["acme-billing"]),
            ["name.ultra-normalized-collision"]
        );
        assert_eq!(
            rules("acme-bilyng", &["acme-billing"]),
            Vec::<String>::new()
        );
        assert_eq!(rules("acme-biling", &["acme-billing"]), ["name.typosquat"]);
        assert_eq!(rules("billing-acme", &["acme-billing"]), ["name.typosquat"]);
    }

    #[test]
    fn one_edit_means_exactly_one() {
        assert!(one_edit_apart("requests", "reqeusts"));
        assert!(one_edit_apart("requests", "requestss"));
        assert!(one_edit_apart("requests", "requets"));
        assert!(one_edit_apart("requests", "rexuests"));
        assert!(!one_edit_apart("requests", "requests"));
        assert!(!one_edit_apart("requests", "rqeuests1"));
        assert!(!one_edit_apart("abcdef", "badcef"));
    }
}
