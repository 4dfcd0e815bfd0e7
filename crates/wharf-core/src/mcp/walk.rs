//! Reading untyped JSON while recording problems with their paths. Validation
//! walks the raw document rather than deserializing it, because serde stops at
//! the first error and we owe the publisher every one of them.

use super::Problem;
use serde_json::{Map, Value};

/// The problems found so far.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub problems: Vec<Problem>,
}

/// A JSON object and where it sits in the document.
#[derive(Clone, Copy)]
pub(super) struct Obj<'v, 'p> {
    pub map: &'v Map<String, Value>,
    pub path: &'p str,
}

impl Report {
    pub fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Records `Err` results of a rule at `path`.
    pub fn check(&mut self, path: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.fail(path, message);
        }
    }

    pub fn object<'v, 'p>(&mut self, value: &'v Value, path: &'p str) -> Option<Obj<'v, 'p>> {
        match value {
            Value::Object(map) => Some(Obj { map, path }),
            other => {
                self.fail(path, format!("must be an object, not {}", kind(other)));
                None
            }
        }
    }

    /// An optional string member; a present member of another type is a problem.
    pub fn opt_str<'v>(&mut self, obj: Obj<'v, '_>, key: &str) -> Option<&'v str> {
        match obj.map.get(key)? {
            Value::String(s) => Some(s),
            other => {
                self.fail(
                    &child(obj.path, key),
                    format!("must be a string, not {}", kind(other)),
                );
                None
            }
        }
    }

    pub fn req_str<'v>(&mut self, obj: Obj<'v, '_>, key: &str) -> Option<&'v str> {
        if !obj.map.contains_key(key) {
            self.fail(&child(obj.path, key), "is required");
            return None;
        }
        self.opt_str(obj, key)
    }

    pub fn opt_bool(&mut self, obj: Obj<'_, '_>, key: &str) {
        if let Some(other) = obj.map.get(key).filter(|v| !v.is_boolean()) {
            self.fail(
                &child(obj.path, key),
                format!("must be true or false, not {}", kind(other)),
            );
        }
    }

    /// An optional array member; missing or mistyped gives an empty slice.
    pub fn opt_array<'v>(&mut self, obj: Obj<'v, '_>, key: &str) -> &'v [Value] {
        match obj.map.get(key) {
            None => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.fail(
                    &child(obj.path, key),
                    format!("must be an array, not {}", kind(other)),
                );
                &[]
            }
        }
    }

    /// An optional array of strings, each paired with its path.
    pub fn opt_str_array<'v>(&mut self, obj: Obj<'v, '_>, key: &str) -> Vec<(String, &'v str)> {
        let base = child(obj.path, key);
        let mut out = Vec::new();
        for (i, item) in self.opt_array(obj, key).iter().enumerate() {
            let path = index(&base, i);
            match item {
                Value::String(s) => out.push((path, s.as_str())),
                other => self.fail(&path, format!("must be a string, not {}", kind(other))),
            }
        }
        out
    }
}

/// `parent.key`, or `parent["key"]` when the key is not a plain identifier
/// (`_meta` keys contain dots and slashes).
pub(super) fn child(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", Value::from(key)),
    }
}

pub(super) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_use_brackets_for_keys_that_are_not_identifiers() {
        assert_eq!(child("", "name"), "name");
        assert_eq!(child("packages[0]", "transport"), "packages[0].transport");
        assert_eq!(
            child("_meta", "io.example/key"),
            r#"_meta["io.example/key"]"#
        );
        assert_eq!(
            child("remotes[1].variables", "--port"),
            r#"remotes[1].variables["--port"]"#
        );
        assert_eq!(index("icons", 3), "icons[3]");
    }

    #[test]
    fn mistyped_members_are_reported_at_their_path() {
        let doc = serde_json::json!({"a": 1, "b": "x", "c": [1, "ok"], "d": "yes"});
        let mut report = Report::default();
        let obj = report.object(&doc, "").unwrap();
        assert_eq!(report.opt_str(obj, "a"), None);
        assert_eq!(report.req_str(obj, "b"), Some("x"));
        assert_eq!(report.req_str(obj, "missing"), None);
        let strings = report.opt_str_array(obj, "c");
        report.opt_bool(obj, "d");
        assert_eq!(strings, vec![("c[1]".to_owned(), "ok")]);
        let paths: Vec<_> = report.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["a", "missing", "c[0]", "d"]);
        assert_eq!(report.problems[1].message, "is required");
    }
}
