//! Inputs: environment variables, headers, arguments and the variables inside
//! them. Each checker also returns what the input declares for URL templates.

use super::model::InputFormat;
use super::shell::check_shell_safe;
use super::url::template_names;
use super::walk::{child, index, Obj, Report};
use crate::name::printable;
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest environment variable or header name accepted.
pub const MAX_INPUT_NAME_LEN: usize = 255;

/// Template variables a package or remote declares, each with the literal
/// values it may take.
pub(super) type Declared = BTreeMap<String, Vec<String>>;

/// Checks the members every input shares (`format`, `choices`, `default`,
/// `value`, `variables`, …).
pub(super) fn check_input(report: &mut Report, obj: Obj<'_, '_>) {
    for key in ["description", "placeholder"] {
        report.opt_str(obj, key);
    }
    let value = report.opt_str(obj, "value");
    let default = report.opt_str(obj, "default");
    report.opt_bool(obj, "isRequired");
    report.opt_bool(obj, "isSecret");

    let format = report.opt_str(obj, "format").and_then(|f| {
        let parsed = InputFormat::ALL.into_iter().find(|k| k.as_str() == f);
        if parsed.is_none() {
            report.fail(
                &child(obj.path, "format"),
                format!(
                    "'{}' is not a format; use string, number, boolean or filepath",
                    printable(f)
                ),
            );
        }
        parsed
    });

    if obj.map.contains_key("choices") {
        let choices = report.opt_str_array(obj, "choices");
        if matches!(obj.map.get("choices"), Some(Value::Array(a)) if a.is_empty()) {
            report.fail(
                &child(obj.path, "choices"),
                "must list at least one choice (or be left out)",
            );
        } else if !choices.is_empty() {
            for (key, given) in [("default", default), ("value", value)] {
                if let Some(given) = given.filter(|g| !choices.iter().any(|(_, c)| c == g)) {
                    report.fail(
                        &child(obj.path, key),
                        format!("'{}' is not one of the choices", printable(given)),
                    );
                }
            }
        }
    }

    // Only `default` is checked against the format: a `value` may be a
    // template such as `{port}` that is filled in later.
    if let (Some(format), Some(default)) = (format, default) {
        let fits = match format {
            InputFormat::Number => default.parse::<f64>().is_ok_and(f64::is_finite),
            InputFormat::Boolean => matches!(default, "true" | "false"),
            InputFormat::String | InputFormat::Filepath => !default.contains('\0'),
        };
        if !fits {
            report.fail(
                &child(obj.path, "default"),
                format!(
                    "'{}' is not a valid {} (numbers are decimal, booleans are true or false)",
                    printable(default),
                    format.as_str()
                ),
            );
        }
    }

    if let Some(vars) = obj.map.get("variables") {
        let path = child(obj.path, "variables");
        if let Some(vars) = report.object(vars, &path) {
            for (name, input) in vars.map {
                let var_path = child(&path, name);
                report.check(&var_path, check_template_name(name));
                if let Some(input) = report.object(input, &var_path) {
                    check_input(report, input);
                }
            }
        }
    }
}

/// The literal values an input may take: its value, default and choices.
pub(super) fn literal_values(obj: Obj<'_, '_>) -> Vec<String> {
    let strings = |key| obj.map.get(key).and_then(Value::as_str).map(str::to_owned);
    let choices = obj
        .map
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned);
    strings("value")
        .into_iter()
        .chain(strings("default"))
        .chain(choices)
        .collect()
}

/// A name usable as a `{placeholder}`: the same characters the URL parser takes.
pub(super) fn check_template_name(name: &str) -> Result<(), String> {
    match template_names(&format!("{{{name}}}")) {
        Ok(names) if names == [name] => Ok(()),
        _ => Err(format!(
            "'{}' is not a usable variable name; use letters, digits, '_', '-' and '.'",
            printable(name)
        )),
    }
}

/// A POSIX-style environment variable name: letters, digits and '_', not
/// starting with a digit, at most [`MAX_INPUT_NAME_LEN`] bytes.
pub fn is_env_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_INPUT_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An environment variable: a POSIX-style name plus the input members.
/// Returns the name when it is valid, for duplicate and template checks.
pub(super) fn check_env_var<'v>(
    report: &mut Report,
    value: &'v Value,
    path: &str,
) -> Option<&'v str> {
    let obj = report.object(value, path)?;
    check_input(report, obj);
    let name = report.req_str(obj, "name")?;
    if !is_env_var_name(name) {
        report.fail(
            &child(path, "name"),
            format!(
                "'{}' is not an environment variable name: letters, digits and '_', not starting with a digit",
                printable(name)
            ),
        );
        return None;
    }
    Some(name)
}

/// An HTTP header. Names are held to letters, digits, `-`, `_` and `.`: every
/// real header fits, and nothing in them can break a header line or a command.
pub(super) fn check_header<'v>(
    report: &mut Report,
    value: &'v Value,
    path: &str,
) -> Option<&'v str> {
    let obj = report.object(value, path)?;
    check_input(report, obj);
    let name = report.req_str(obj, "name")?;
    let is_valid = !name.is_empty()
        && name.len() <= MAX_INPUT_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !is_valid {
        report.fail(
            &child(path, "name"),
            format!(
                "'{}' is not an HTTP header name: letters, digits, '-', '_' and '.'",
                printable(name)
            ),
        );
        return None;
    }
    Some(name)
}

/// Checks a list of named inputs and reports a name declared twice, which
/// would leave a client guessing which declaration applies.
pub(super) fn check_named_list<'v>(
    report: &mut Report,
    obj: Obj<'v, '_>,
    key: &str,
    check_one: fn(&mut Report, &'v Value, &str) -> Option<&'v str>,
    declared: &mut Declared,
) {
    let base = child(obj.path, key);
    let mut seen = Vec::new();
    for (i, item) in report.opt_array(obj, key).iter().enumerate() {
        let path = index(&base, i);
        let Some(name) = check_one(report, item, &path) else {
            continue;
        };
        if seen.contains(&name) {
            report.fail(&child(&path, "name"), format!("'{name}' is declared twice"));
        }
        seen.push(name);
        if let Value::Object(map) = item {
            declared.insert(name.to_owned(), literal_values(Obj { map, path: &path }));
        }
    }
}

/// Longest `valueHint` accepted.
const MAX_LABEL_CHARS: usize = 200;

/// A label shown to people: printable text of 1 to [`MAX_LABEL_CHARS`] characters.
fn check_label(label: &str) -> Result<(), String> {
    if label.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(format!("is longer than {MAX_LABEL_CHARS} characters"));
    }
    if label
        .chars()
        .any(|c| c.is_control() || crate::name::is_invisible(c))
    {
        return Err(format!(
            "'{}' contains a control or invisible character; use printable text",
            printable(label)
        ));
    }
    Ok(())
}

/// A runtime or package argument. Records what it declares for templates:
/// a named argument by its flag name, a positional one by its `valueHint`
/// (upstream resolves `{x}` against both).
pub(super) fn check_argument(
    report: &mut Report,
    value: &Value,
    path: &str,
    declared: &mut Declared,
) {
    let Some(obj) = report.object(value, path) else {
        return;
    };
    check_input(report, obj);
    report.opt_bool(obj, "isRepeated");
    let kind = report.req_str(obj, "type");
    match kind {
        Some("named") => {
            let Some(name) = report.req_str(obj, "name") else {
                return;
            };
            if name.is_empty() {
                report.fail(&child(path, "name"), "must not be empty");
                return;
            }
            // Upstream refuses `<`, `>`, `$` and spaces, which catch names like
            // `--dir <path>`; the shell rule covers those and the rest.
            if let Err(e) = check_shell_safe(name) {
                report.fail(
                    &child(path, "name"),
                    format!("{e}; give only the flag, such as --port"),
                );
                return;
            }
            for key in ["value", "default"] {
                if let Some(given) = obj.map.get(key).and_then(Value::as_str) {
                    if given.starts_with(name) {
                        report.fail(
                            &child(path, key),
                            format!(
                                "starts with the flag name '{name}'; give only the value, the client adds the flag"
                            ),
                        );
                    }
                }
            }
            declared.insert(name.to_owned(), literal_values(obj));
        }
        Some("positional") => {
            let hint = report.opt_str(obj, "valueHint");
            if hint.is_none() && !obj.map.contains_key("value") {
                report.fail(path, "a positional argument needs a value or a valueHint");
            }
            if let Some(hint) = hint {
                // A label for people (`<YOUR_API_KEY>`, `src/server.py`); it never
                // reaches argv. One that is also a variable name can be used in
                // templates.
                if let Err(e) = check_label(hint) {
                    report.fail(&child(path, "valueHint"), e);
                } else if check_template_name(hint).is_ok() {
                    declared.insert(hint.to_owned(), literal_values(obj));
                }
            }
        }
        Some(other) => report.fail(
            &child(path, "type"),
            format!(
                "'{}' is not an argument type; use positional or named",
                printable(other)
            ),
        ),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(f: impl FnOnce(&mut Report)) -> Vec<(String, String)> {
        let mut report = Report::default();
        f(&mut report);
        report
            .problems
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    fn input_problems(doc: Value) -> Vec<(String, String)> {
        problems(|r| {
            let obj = r.object(&doc, "x").unwrap();
            check_input(r, obj);
        })
    }

    fn paths(found: &[(String, String)]) -> Vec<&str> {
        found.iter().map(|(p, _)| p.as_str()).collect()
    }

    #[test]
    fn a_well_formed_input_passes() {
        let doc = json!({
            "description": "d", "isRequired": true, "isSecret": false, "format": "number",
            "default": "3000", "choices": ["3000", "8080"], "placeholder": "port",
            "variables": {"host": {"default": "localhost"}}
        });
        assert_eq!(input_problems(doc), vec![]);
    }

    #[test]
    fn input_members_are_checked_at_their_paths() {
        let found = input_problems(json!({
            "format": "url", "isSecret": "yes", "choices": [], "description": 5
        }));
        assert_eq!(
            paths(&found),
            ["x.description", "x.isSecret", "x.format", "x.choices"]
        );
        assert!(found[2].1.contains("'url' is not a format"));
        assert!(found[3].1.contains("at least one choice"));
    }

    #[test]
    fn default_and_value_must_be_among_the_choices() {
        let found = input_problems(json!({"choices": ["a", "b"], "default": "c", "value": "b"}));
        assert_eq!(paths(&found), ["x.default"]);
        let found = input_problems(json!({"choices": ["a"], "default": "a", "value": "z"}));
        assert_eq!(paths(&found), ["x.value"]);
        assert!(found[0].1.contains("'z' is not one of the choices"));
    }

    #[test]
    fn a_default_must_fit_its_format() {
        assert_eq!(
            paths(&input_problems(
                json!({"format": "number", "default": "many"})
            )),
            ["x.default"]
        );
        assert_eq!(
            paths(&input_problems(
                json!({"format": "boolean", "default": "yes"})
            )),
            ["x.default"]
        );
        assert_eq!(
            input_problems(json!({"format": "boolean", "default": "false"})),
            vec![]
        );
        assert_eq!(
            input_problems(json!({"format": "number", "default": "-1.5"})),
            vec![]
        );
    }

    #[test]
    fn nested_variables_are_checked() {
        let found = input_problems(json!({"variables": {"bad name": {}, "ok": {"format": 1}}}));
        assert_eq!(
            paths(&found),
            [r#"x.variables["bad name"]"#, "x.variables.ok.format"]
        );
    }

    #[test]
    fn environment_variable_names_are_posix_names() {
        for ok in ["API_KEY", "_x", "a1"] {
            assert_eq!(
                problems(|r| {
                    check_env_var(r, &json!({"name": ok}), "e");
                }),
                vec![],
                "{ok}"
            );
        }
        for bad in ["1ABC", "API-KEY", "A B", "", "KEY;rm", "$(id)"] {
            let found = problems(|r| {
                check_env_var(r, &json!({"name": bad}), "e");
            });
            assert_eq!(paths(&found), ["e.name"], "{bad:?}");
        }
        assert_eq!(
            paths(&problems(|r| {
                check_env_var(r, &json!({}), "e");
            })),
            ["e.name"]
        );
    }

    #[test]
    fn header_names_are_tokens() {
        assert_eq!(
            problems(|r| {
                check_header(r, &json!({"name": "X-API-Key"}), "h");
            }),
            vec![]
        );
        for bad in ["X API", "X:Y", "X\r\nY", ""] {
            let found = problems(|r| {
                check_header(r, &json!({"name": bad}), "h");
            });
            assert_eq!(paths(&found), ["h.name"], "{bad:?}");
        }
    }

    fn argument(doc: Value) -> (Vec<(String, String)>, Declared) {
        let mut declared = Declared::new();
        let found = problems(|r| check_argument(r, &doc, "a", &mut declared));
        (found, declared)
    }

    #[test]
    fn named_arguments_have_a_plain_flag_name() {
        let (found, declared) =
            argument(json!({"type": "named", "name": "--port", "default": "3000"}));
        assert_eq!(found, vec![]);
        assert_eq!(declared["--port"], ["3000"]);
        for bad in ["--dir <path>", "--port 8080", "--x=$HOME", "--a;b", "--a>b"] {
            let (found, _) = argument(json!({"type": "named", "name": bad}));
            assert_eq!(paths(&found), ["a.name"], "{bad}");
        }
        assert_eq!(paths(&argument(json!({"type": "named"})).0), ["a.name"]);
    }

    #[test]
    fn a_value_or_default_may_not_repeat_the_flag() {
        let (found, _) = argument(
            json!({"type": "named", "name": "--port", "value": "--port=1", "default": "--port 2"}),
        );
        assert_eq!(paths(&found), ["a.value", "a.default"]);
        let (found, _) = argument(json!({"type": "named", "name": "-e", "value": "DB_TYPE={db}"}));
        assert_eq!(found, vec![]);
    }

    #[test]
    fn positional_arguments_need_a_value_or_a_hint() {
        let (found, _) = argument(json!({"type": "positional", "isRepeated": false}));
        assert_eq!(paths(&found), ["a"]);
        assert!(found[0].1.contains("value or a valueHint"));
        let (found, declared) =
            argument(json!({"type": "positional", "valueHint": "target_dir", "default": "/tmp"}));
        assert_eq!(found, vec![]);
        assert_eq!(declared["target_dir"], ["/tmp"]);
        assert_eq!(
            argument(json!({"type": "positional", "value": "mcp"})).0,
            vec![]
        );
        // Labels as real published servers write them are accepted; only a
        // hint that is a variable name is declared for templates.
        for label in [
            "<YOUR_API_KEY>",
            "src/server.py",
            "transactions:read,reimbursements:read",
            "a b",
        ] {
            let (found, declared) = argument(json!({"type": "positional", "valueHint": label}));
            assert_eq!(found, vec![], "{label}");
            assert!(declared.is_empty(), "{label}");
        }
        for bad in ["", "   ", "a\u{7}b", "a\u{202e}b"] {
            assert_eq!(
                paths(&argument(json!({"type": "positional", "valueHint": bad})).0),
                ["a.valueHint"],
                "{bad:?}"
            );
        }
        let long = "x".repeat(201);
        assert_eq!(
            paths(&argument(json!({"type": "positional", "valueHint": long})).0),
            ["a.valueHint"]
        );
    }

    #[test]
    fn argument_type_is_required_and_closed() {
        assert_eq!(paths(&argument(json!({"value": "x"})).0), ["a.type"]);
        assert_eq!(
            paths(&argument(json!({"type": "flag", "value": "x"})).0),
            ["a.type"]
        );
        assert_eq!(paths(&argument(json!("--port")).0), ["a"]);
    }
}
