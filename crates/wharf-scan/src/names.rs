//! Name policy: standard-library names, typosquats of popular and local projects, and
//! names that collide with an existing one once separators and look-alikes are ignored.
//!
//! Two ecosystems have popular lists shipped with Wharf (`data/popular-pypi.txt` and
//! `data/popular-npm.txt`, sources in their headers): PyPI names are compared
//! PEP 503-normalized, npm names lowercased, since npm keeps `.` and `_` distinct.

use crate::report::{Finding, Severity};
use std::collections::HashSet;
use std::sync::LazyLock;

const BUNDLED_PYPI: &str = include_str!("../data/popular-pypi.txt");
const BUNDLED_NPM: &str = include_str!("../data/popular-npm.txt");
const BUNDLED_STDLIB: &str = include_str!("../data/stdlib.txt");

/// Edit-distance matches against names shorter than this are too likely to be chance.
const MIN_EDIT_TARGET: usize = 5;

/// The registry whose naming rules a name follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    /// Python packages: PEP 503 names.
    Pypi,
    /// npm packages, scoped or not.
    Npm,
}

impl Ecosystem {
    /// The form names are compared in.
    pub fn normalize(self, name: &str) -> String {
        match self {
            Self::Pypi => wharf_core::name::normalize(name),
            Self::Npm => name.to_ascii_lowercase(),
        }
    }

    /// Affixes a squatter adds to a real name to make it look official.
    fn affixes(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Pypi => (
                &["python-", "py-", "python", "py"],
                &["-python", "-py", "python", "py"],
            ),
            Self::Npm => (&["node-", "js-"], &["-js", ".js", "js", "-node"]),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Pypi => "project",
            Self::Npm => "npm package",
        }
    }
}

/// The names a squatter would imitate, with their comparison forms precomputed.
pub struct PopularNames {
    ecosystem: Ecosystem,
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
    fn of(name: &str, ecosystem: Ecosystem) -> Self {
        let ultra = ultra_normalize(name);
        let mut words: Vec<String> = name
            .split(['-', '.', '_'])
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let words = (words.len() > 1).then(|| {
            words.sort();
            words
        });
        Self {
            name: name.to_owned(),
            skeleton: skeleton(&ultra),
            ultra,
            words,
            unprefixed: without_affix(name, ecosystem),
        }
    }
}

impl PopularNames {
    /// Parses one name per line of `ecosystem`; `#` starts a comment line.
    pub fn from_lines(text: &str, ecosystem: Ecosystem) -> Self {
        let mut entries = Vec::new();
        let mut exact = HashSet::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = ecosystem.normalize(line);
            if exact.insert(name.clone()) {
                entries.push(Forms::of(&name, ecosystem));
            }
        }
        Self {
            ecosystem,
            entries,
            exact,
        }
    }

    /// The list shipped with Wharf for `ecosystem`.
    pub fn bundled(ecosystem: Ecosystem) -> &'static Self {
        static PYPI: LazyLock<PopularNames> =
            LazyLock::new(|| PopularNames::from_lines(BUNDLED_PYPI, Ecosystem::Pypi));
        static NPM: LazyLock<PopularNames> =
            LazyLock::new(|| PopularNames::from_lines(BUNDLED_NPM, Ecosystem::Npm));
        match ecosystem {
            Ecosystem::Pypi => &PYPI,
            Ecosystem::Npm => &NPM,
        }
    }

    /// The ecosystem its names belong to.
    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `name` (in its comparison form) is on the list.
    pub fn contains(&self, name: &str) -> bool {
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

/// What a new name is compared with.
pub struct NameContext<'a> {
    /// Popular names from elsewhere; their ecosystem is the name's.
    pub popular: &'a PopularNames,
    /// This registry's names owned by someone else, normalized.
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

/// The name without its ecosystem's decorating prefix or suffix (`py`, `python`,
/// `node`, `js`), if it had one.
fn without_affix(name: &str, ecosystem: Ecosystem) -> Option<String> {
    let (prefixes, suffixes) = ecosystem.affixes();
    let stripped = prefixes
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .or_else(|| suffixes.iter().find_map(|s| name.strip_suffix(s)))?;
    let stripped = stripped.trim_matches(['-', '.']);
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

/// `listr2` beside `listr`, `json3` beside `json5`: npm packages number their
/// generations as new packages, so there a digit-only difference is not counted as
/// an edit. On PyPI the same shape is the classic `beautifulsoup4` confusion.
fn differ_only_in_digits(a: &str, b: &str) -> bool {
    let letters = |s: &str| {
        s.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    letters(a) == letters(b)
}

/// How `candidate` imitates `target`, if it does.
fn resemblance(candidate: &Forms, target: &Forms, ecosystem: Ecosystem) -> Option<&'static str> {
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
        return Some("it adds or drops a decorating prefix or suffix (py, python, node, js)");
    }
    if target.ultra.len() >= MIN_EDIT_TARGET
        && one_edit_apart(&candidate.ultra, &target.ultra)
        && !(ecosystem == Ecosystem::Npm && differ_only_in_digits(&candidate.name, &target.name))
    {
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
        context: None,
        fingerprint: None,
        history: None,
    }
}

/// The name-policy findings for `project`, a name of the popular list's ecosystem.
/// The standard-library rule applies to PyPI names only.
pub fn check(project: &str, context: &NameContext<'_>) -> Vec<Finding> {
    let ecosystem = context.popular.ecosystem;
    let project = ecosystem.normalize(project);
    let project = project.as_str();
    let mut out = Vec::new();
    let popular = context.popular.contains(project);
    if ecosystem == Ecosystem::Pypi
        && !popular
        && STDLIB.contains(project.replace('-', "_").as_str())
    {
        out.push(finding(
            "name.stdlib",
            format!("'{project}' is a standard-library module"),
            "installing it would shadow or confuse the standard-library module of that name",
        ));
    }
    let forms = Forms::of(project, ecosystem);
    if !popular {
        if let Some((target, how)) = context
            .popular
            .entries
            .iter()
            .find_map(|t| resemblance(&forms, t, ecosystem).map(|how| (t, how)))
        {
            out.push(finding(
                "name.typosquat",
                format!(
                    "'{project}' resembles the popular {} '{}': {how}",
                    ecosystem.noun(),
                    target.name
                ),
                "the name imitates a widely used project",
            ));
        }
    }
    for local in context.local.iter().filter(|l| l.as_str() != project) {
        let target = Forms::of(local, ecosystem);
        let Some(how) = resemblance(&forms, &target, ecosystem) else {
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
            popular: PopularNames::bundled(Ecosystem::Pypi),
            local: &local,
        };
        check(project, &context)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn the_bundled_list_is_loaded_and_normalized() {
        let popular = PopularNames::bundled(Ecosystem::Pypi);
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

    fn npm_rules(package: &str) -> Vec<String> {
        let context = NameContext {
            popular: PopularNames::bundled(Ecosystem::Npm),
            local: &[],
        };
        check(package, &context)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn the_npm_list_is_loaded_with_scopes_and_dots_kept() {
        let popular = PopularNames::bundled(Ecosystem::Npm);
        assert_eq!(popular.ecosystem(), Ecosystem::Npm);
        assert!(popular.len() >= 4000, "{}", popular.len());
        for name in ["express", "@types/node", "lodash.merge", "jsonstream"] {
            assert!(popular.contains(name), "{name}");
        }
    }

    #[test]
    fn popular_and_unrelated_npm_names_pass() {
        for name in [
            "express",
            "@types/node",
            "lodash.merge",
            "JSONStream",
            "@acme/mcp-server-billing",
            "acme-mcp-server",
            // A Python standard-library name means nothing on npm.
            "subprocess",
            // Generations are numbered, not squatted.
            "listr",
            "json3",
        ] {
            assert!(npm_rules(name).is_empty(), "{name}: {:?}", npm_rules(name));
        }
    }

    #[test]
    fn the_classic_npm_squats_are_caught() {
        for squat in [
            "expresss",
            "exprses",
            "crossenv",
            "cross_env",
            "mongose",
            "jquery.js",
            "node-lodash",
            "lodash-merge",
            "@types/nodes",
            "event-strearn",
        ] {
            let found = check(
                squat,
                &NameContext {
                    popular: PopularNames::bundled(Ecosystem::Npm),
                    local: &[],
                },
            );
            assert_eq!(
                found.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
                ["name.typosquat"],
                "{squat}"
            );
            let evidence = found[0].evidence.as_deref().unwrap_or_default();
            assert!(evidence.contains("popular npm package"), "{evidence}");
        }
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
