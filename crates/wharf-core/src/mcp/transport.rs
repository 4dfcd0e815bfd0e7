//! Transports: a package's (`stdio` or http, launched locally) and a remote's
//! (http only, hosted).

use super::input::{
    check_header, check_input, check_named_list, check_template_name, literal_values, Declared,
};
use super::url::{check_url, Templates, UrlRole};
use super::walk::{child, Obj, Report};
use super::UrlPolicy;
use crate::name::printable;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stdio,
    Http,
}

fn kind(report: &mut Report, obj: Obj<'_, '_>) -> Option<Kind> {
    match report.req_str(obj, "type")? {
        "stdio" => Some(Kind::Stdio),
        "streamable-http" | "sse" => Some(Kind::Http),
        other => {
            report.fail(
                &child(obj.path, "type"),
                format!(
                    "'{}' is not a transport type; use stdio, streamable-http or sse",
                    printable(other)
                ),
            );
            None
        }
    }
}

/// A package's transport. Placeholders in its URL resolve against what the
/// package declares: environment variable names, argument names and
/// positional `valueHint`s (upstream's rule; headers do not count).
pub(super) fn check_package_transport(
    report: &mut Report,
    value: &Value,
    path: &str,
    declared: &Declared,
    policy: UrlPolicy,
) {
    let Some(obj) = report.object(value, path) else {
        return;
    };
    match kind(report, obj) {
        Some(Kind::Stdio) if obj.map.contains_key("url") => {
            report.fail(&child(path, "url"), "a stdio transport takes no url");
        }
        Some(Kind::Stdio) => {}
        Some(Kind::Http) => {
            if let Some(url) = report.req_str(obj, "url") {
                let templates = Templates::Vars {
                    declared,
                    declare_hint: "declare it in this package as an environment variable, an argument name or a positional valueHint",
                };
                report.check(
                    &child(path, "url"),
                    check_url(url, UrlRole::PackageTransport, policy, &templates),
                );
            }
            check_named_list(report, obj, "headers", check_header, &mut Declared::new());
        }
        None => {}
    }
}

/// A remote: streamable-http or sse, whose URL placeholders resolve against
/// the remote's own `variables`.
pub(super) fn check_remote(report: &mut Report, value: &Value, path: &str, policy: UrlPolicy) {
    let Some(obj) = report.object(value, path) else {
        return;
    };
    let kind = kind(report, obj);
    if kind == Some(Kind::Stdio) {
        report.fail(
            &child(path, "type"),
            "a remote must be streamable-http or sse; stdio is for packages",
        );
    }
    let mut declared = Declared::new();
    if let Some(vars) = obj.map.get("variables") {
        let vars_path = child(path, "variables");
        if let Some(vars) = report.object(vars, &vars_path) {
            for (name, input) in vars.map {
                let var_path = child(&vars_path, name);
                report.check(&var_path, check_template_name(name));
                if let Some(input) = report.object(input, &var_path) {
                    check_input(report, input);
                    declared.insert(name.clone(), literal_values(input));
                }
            }
        }
    }
    if let Some(url) = report.req_str(obj, "url") {
        if kind == Some(Kind::Http) {
            let templates = Templates::Vars {
                declared: &declared,
                declare_hint: "declare it under this remote's variables",
            };
            report.check(
                &child(path, "url"),
                check_url(url, UrlRole::Remote, policy, &templates),
            );
        }
    }
    check_named_list(report, obj, "headers", check_header, &mut Declared::new());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(report: Report) -> Vec<String> {
        report.problems.into_iter().map(|p| p.path).collect()
    }

    fn package(doc: Value, declared: &[&str], policy: UrlPolicy) -> Vec<String> {
        let declared: Declared = declared.iter().map(|d| (d.to_string(), vec![])).collect();
        let mut report = Report::default();
        check_package_transport(&mut report, &doc, "t", &declared, policy);
        paths(report)
    }

    fn remote(doc: Value, policy: UrlPolicy) -> Vec<String> {
        let mut report = Report::default();
        check_remote(&mut report, &doc, "r", policy);
        paths(report)
    }

    #[test]
    fn stdio_has_no_url_and_http_needs_one() {
        let p = UrlPolicy::Production;
        assert!(package(json!({"type": "stdio"}), &[], p).is_empty());
        assert_eq!(
            package(
                json!({"type": "stdio", "url": "https://a.example/"}),
                &[],
                p
            ),
            ["t.url"]
        );
        assert_eq!(package(json!({"type": "sse"}), &[], p), ["t.url"]);
        assert_eq!(package(json!({"type": "websocket"}), &[], p), ["t.type"]);
        assert_eq!(package(json!({}), &[], p), ["t.type"]);
        assert!(package(
            json!({"type": "streamable-http", "url": "https://a.example/mcp"}),
            &[],
            p
        )
        .is_empty());
    }

    #[test]
    fn package_url_placeholders_resolve_against_the_package() {
        let p = UrlPolicy::Production;
        let doc = json!({"type": "streamable-http", "url": "http://localhost:{--port}/{path}"});
        assert!(package(doc.clone(), &["--port", "path"], p).is_empty());
        assert_eq!(package(doc, &["--port"], p), ["t.url"]);
    }

    #[test]
    fn package_headers_are_checked() {
        let doc = json!({"type": "sse", "url": "https://a.example/sse", "headers": [{"name": "X Bad"}, {"name": "X-Ok"}, {"name": "X-Ok"}]});
        assert_eq!(
            package(doc, &[], UrlPolicy::Dev),
            ["t.headers[0].name", "t.headers[2].name"]
        );
    }

    #[test]
    fn remotes_are_http_only() {
        let p = UrlPolicy::Production;
        assert_eq!(
            remote(json!({"type": "stdio", "url": "https://a.example/"}), p),
            ["r.type"]
        );
        assert_eq!(remote(json!({"type": "sse"}), p), ["r.url"]);
        assert!(remote(json!({"type": "sse", "url": "https://a.example/sse"}), p).is_empty());
    }

    #[test]
    fn remote_placeholders_resolve_against_its_variables() {
        let p = UrlPolicy::Production;
        let ok = json!({
            "type": "streamable-http",
            "url": "https://{tenant_id}.example.com/mcp",
            "variables": {"tenant_id": {"isRequired": true}}
        });
        assert!(remote(ok, p).is_empty());
        let missing =
            json!({"type": "streamable-http", "url": "https://{tenant_id}.example.com/mcp"});
        assert_eq!(remote(missing, p), ["r.url"]);
        let bad_var = json!({
            "type": "sse", "url": "https://example.com/sse",
            "variables": {"t": {"format": "url"}, "a b": {}}
        });
        assert_eq!(
            remote(bad_var, p),
            [r#"r.variables["a b"]"#, "r.variables.t.format"]
        );
    }

    #[test]
    fn remote_hosts_follow_the_url_policy() {
        let doc = json!({"type": "sse", "url": "http://localhost:8080/sse"});
        assert_eq!(remote(doc.clone(), UrlPolicy::Production), ["r.url"]);
        assert!(remote(doc, UrlPolicy::Dev).is_empty());
        let doc = json!({"type": "sse", "url": "https://192.168.0.10/sse"});
        assert_eq!(remote(doc.clone(), UrlPolicy::Production), ["r.url"]);
        assert!(remote(doc, UrlPolicy::Dev).is_empty());
    }
}
