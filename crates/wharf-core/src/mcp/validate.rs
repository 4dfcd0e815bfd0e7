//! The whole-document check: every rule, every problem, then the typed view
//! and the document to store.

use super::model::{ServerJson, PUBLISHER_PROVIDED_KEY};
use super::name::check_server_name;
use super::package::check_package;
use super::transport::check_remote;
use super::url::{check_url, Templates, UrlRole};
use super::version::check_version;
use super::walk::{child, index, Obj, Report};
use super::{Problem, UrlPolicy};
use crate::name::printable;
use serde_json::{Map, Value};

/// Limit on the serialized publisher-provided `_meta` object (upstream's 4 KB).
pub const MAX_PUBLISHER_META_BYTES: usize = 4096;
pub const MAX_DESCRIPTION_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 100;
/// The schema's limit on an icon `src`.
pub const MAX_ICON_SRC_LEN: usize = 255;
/// The schema's `mimeType` enum.
pub const ICON_MIME_TYPES: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/jpg",
    "image/svg+xml",
    "image/webp",
];

/// Validates a whole document, collecting all problems. On success, returns
/// the typed view and the document to store: the original JSON with `_meta`
/// reduced to the publisher-provided key (at most 4096 bytes serialized).
///
/// Fields the schema does not define are accepted and stored as sent; the
/// schema allows them, and dropping them would silently lose data.
pub fn validate(raw: &Value, policy: UrlPolicy) -> Result<(ServerJson, Value), Vec<Problem>> {
    let mut report = Report::default();
    let Some(doc) = report.object(raw, "") else {
        return Err(report.problems);
    };

    check_identity(&mut report, doc);
    check_links(&mut report, doc, policy);
    for (i, package) in report.opt_array(doc, "packages").iter().enumerate() {
        check_package(&mut report, package, &index("packages", i), policy);
    }
    for (i, remote) in report.opt_array(doc, "remotes").iter().enumerate() {
        check_remote(&mut report, remote, &index("remotes", i), policy);
    }
    let meta = sanitize_meta(&mut report, doc);

    if !report.problems.is_empty() {
        return Err(report.problems);
    }
    let mut stored = doc.map.clone();
    match meta {
        Some(meta) => stored.insert("_meta".to_owned(), meta),
        None => stored.remove("_meta"),
    };
    let stored = Value::Object(stored);
    // The walk above checked every member the typed view reads, so this only
    // fails if the two disagree, which is a bug; report it, don't panic.
    match serde_json::from_value::<ServerJson>(stored.clone()) {
        Ok(server) => Ok((server, stored)),
        Err(e) => Err(vec![Problem {
            path: String::new(),
            message: format!("the document passed validation but could not be read: {e}"),
        }]),
    }
}

fn check_identity(report: &mut Report, doc: Obj<'_, '_>) {
    if let Some(name) = report.req_str(doc, "name") {
        report.check("name", check_server_name(name));
    }
    if let Some(description) = report.req_str(doc, "description") {
        report.check(
            "description",
            check_text(description, 1, MAX_DESCRIPTION_CHARS),
        );
    }
    if let Some(version) = report.req_str(doc, "version") {
        report.check("version", check_version(version));
    }
    if let Some(title) = report.opt_str(doc, "title") {
        // Upstream also refuses a title of only whitespace.
        let result = check_text(title, 1, MAX_TITLE_CHARS).and_then(|()| {
            if title.trim().is_empty() {
                Err("must not be only whitespace".to_owned())
            } else {
                Ok(())
            }
        });
        report.check("title", result);
    }
}

/// Length in characters (the schema counts code points), and no control
/// characters other than newline and tab: these strings end up in terminals,
/// where an escape sequence could rewrite what a user sees.
fn check_text(text: &str, min: usize, max: usize) -> Result<(), String> {
    let len = text.chars().count();
    if len < min || len > max {
        return Err(format!("must be {min} to {max} characters (got {len})"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

fn check_links(report: &mut Report, doc: Obj<'_, '_>, policy: UrlPolicy) {
    let site = |url: &str| check_url(url, UrlRole::Site, policy, &Templates::None);
    if let Some(schema) = report.opt_str(doc, "$schema") {
        // Never fetched, so any host is fine; it only has to be a URL.
        report.check(
            "$schema",
            check_url(schema, UrlRole::Site, UrlPolicy::Dev, &Templates::None),
        );
    }
    if let Some(url) = report.opt_str(doc, "websiteUrl") {
        report.check("websiteUrl", site(url));
    }
    if let Some(repository) = doc.map.get("repository") {
        check_repository(report, repository, policy);
    }
    for (i, icon) in report.opt_array(doc, "icons").iter().enumerate() {
        let path = index("icons", i);
        let Some(icon) = report.object(icon, &path) else {
            continue;
        };
        if let Some(src) = report.req_str(icon, "src") {
            let result = if src.len() > MAX_ICON_SRC_LEN {
                Err(format!("must be at most {MAX_ICON_SRC_LEN} characters"))
            } else {
                site(src)
            };
            report.check(&child(&path, "src"), result);
        }
        if let Some(mime) = report.opt_str(icon, "mimeType") {
            if !ICON_MIME_TYPES.contains(&mime) {
                report.fail(
                    &child(&path, "mimeType"),
                    format!(
                        "'{}' is not accepted; use one of {}",
                        printable(mime),
                        ICON_MIME_TYPES.join(", ")
                    ),
                );
            }
        }
        for (size_path, size) in report.opt_str_array(icon, "sizes") {
            let is_size = size == "any"
                || size.split_once('x').is_some_and(|(w, h)| {
                    [w, h]
                        .iter()
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                });
            if !is_size {
                report.fail(
                    &size_path,
                    format!(
                        "'{}' is not a size; use WxH such as 48x48, or any",
                        printable(size)
                    ),
                );
            }
        }
        if let Some(theme) = report.opt_str(icon, "theme") {
            if theme != "light" && theme != "dark" {
                report.fail(&child(&path, "theme"), "must be light or dark");
            }
        }
    }
}

fn check_repository(report: &mut Report, value: &Value, policy: UrlPolicy) {
    let Some(repo) = report.object(value, "repository") else {
        return;
    };
    // Upstream treats a repository whose url and source are both empty or
    // missing as absent: publisher templates emit `{"url": "", "source": ""}`,
    // and the official registry serves `{}` for servers published without one.
    let is_blank = |key| match repo.map.get(key) {
        None => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if !(is_blank("url") && is_blank("source")) {
        if let Some(url) = report.req_str(repo, "url") {
            report.check(
                "repository.url",
                check_url(url, UrlRole::Site, policy, &Templates::None),
            );
        }
        // Any forge may be used; the source names it for tools.
        if let Some(source) = report.req_str(repo, "source") {
            let is_token = !source.is_empty()
                && source.len() <= 64
                && source
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !is_token {
                report.fail(
                    "repository.source",
                    "must name the hosting service in letters, digits, '-', '_' or '.', e.g. github",
                );
            }
        }
    }
    report.opt_str(repo, "id");
    if let Some(subfolder) = report.opt_str(repo, "subfolder") {
        report.check("repository.subfolder", check_subfolder(subfolder));
    }
}

/// A clean relative path inside the repository: no leading or trailing `/`,
/// no empty, `.` or `..` segments.
fn check_subfolder(path: &str) -> Result<(), String> {
    let is_clean = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && path.split('/').all(|s| !matches!(s, "" | "." | ".."));
    if is_clean {
        Ok(())
    } else {
        Err(format!(
            "'{}' must be a relative path inside the repository, such as src/server, without '..'",
            printable(path)
        ))
    }
}

/// Keeps only the publisher-provided `_meta` entry, which must be an object of
/// at most [`MAX_PUBLISHER_META_BYTES`]. Other keys are dropped silently, as
/// upstream does; the registry's own keys are set by the registry alone.
fn sanitize_meta(report: &mut Report, doc: Obj<'_, '_>) -> Option<Value> {
    let meta = doc.map.get("_meta")?;
    let meta = report.object(meta, "_meta")?;
    let provided = meta.map.get(PUBLISHER_PROVIDED_KEY)?;
    let path = child("_meta", PUBLISHER_PROVIDED_KEY);
    let provided = report.object(provided, &path)?;
    let size = serde_json::to_vec(provided.map).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_PUBLISHER_META_BYTES {
        report.fail(
            &path,
            format!("is {size} bytes; the limit is {MAX_PUBLISHER_META_BYTES} bytes of JSON"),
        );
        return None;
    }
    let mut kept = Map::new();
    kept.insert(
        PUBLISHER_PROVIDED_KEY.to_owned(),
        Value::Object(provided.map.clone()),
    );
    Some(Value::Object(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subfolders_are_clean_relative_paths() {
        for ok in ["src/everything", "a", "packages/mcp-server_2.0"] {
            assert_eq!(check_subfolder(ok), Ok(()), "{ok}");
        }
        for bad in [
            "/abs",
            "trailing/",
            "a//b",
            "../up",
            "a/../b",
            "./a",
            "a b",
            "a\\b",
            "",
        ] {
            assert!(check_subfolder(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_length_counts_characters_and_refuses_escapes() {
        assert_eq!(check_text(&"é".repeat(100), 1, 100), Ok(()));
        assert!(check_text(&"é".repeat(101), 1, 100)
            .unwrap_err()
            .contains("got 101"));
        assert!(check_text("", 1, 100).is_err());
        assert!(check_text("red \u{1b}[31m", 1, 100)
            .unwrap_err()
            .contains("control"));
        assert_eq!(check_text("two\nlines\tok", 1, 100), Ok(()));
    }
}
