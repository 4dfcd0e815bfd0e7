//! The request body: a catalog server (`server`, `version`, `package`), or a
//! direct package reference with its declared `environmentVariables`.

use super::FieldError;
use serde_json::Value;
use std::collections::BTreeMap;
use wharf_core::mcp::KeyValueInput;

/// Which package of a catalog server: its index, or its registry type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageChoice {
    First,
    Index(usize),
    Type(String),
}

#[derive(Debug, Clone)]
pub enum Target {
    Server {
        name: String,
        version: String,
        package: PackageChoice,
    },
    Direct {
        registry_type: String,
        identifier: String,
        version: String,
        environment_variables: Vec<KeyValueInput>,
    },
}

#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub target: Target,
    /// Values by variable name, still unchecked.
    pub credentials: BTreeMap<String, String>,
    /// Values by argument name (a named argument's flag, or a positional
    /// argument's valueHint), still unchecked.
    pub arguments: BTreeMap<String, String>,
}

fn string_map(body: &Value, key: &str, errors: &mut Vec<FieldError>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match body.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                match value {
                    Value::String(s) => {
                        out.insert(name.clone(), s.clone());
                    }
                    // Numbers and booleans are accepted in their JSON form.
                    Value::Number(n) => {
                        out.insert(name.clone(), n.to_string());
                    }
                    Value::Bool(b) => {
                        out.insert(name.clone(), b.to_string());
                    }
                    _ => errors.push(FieldError::new(
                        format!("{key}.{name}"),
                        "invalid_type",
                        "the value must be a string",
                        "send every value as a JSON string",
                    )),
                }
            }
        }
        Some(_) => errors.push(FieldError::new(
            key,
            "invalid_type",
            format!("'{key}' must be an object of names to values"),
            format!("e.g. \"{key}\": {{\"NAME\": \"value\"}}"),
        )),
    }
    out
}

fn text(body: &Value, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match body.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => None,
        Some(_) => {
            errors.push(FieldError::new(
                key,
                "invalid_type",
                format!("'{key}' must be a string"),
                "",
            ));
            None
        }
    }
}

/// Parses the body, reporting every shape problem at once.
pub fn parse(body: &Value) -> Result<DeployRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !body.is_object() {
        return Err(vec![FieldError::new(
            "",
            "invalid_body",
            "the body must be a JSON object",
            "send {\"server\": …, \"version\": …, \"credentials\": {…}} or a direct package reference",
        )]);
    }
    let credentials = string_map(body, "credentials", &mut errors);
    let arguments = string_map(body, "arguments", &mut errors);
    let target = match (body.get("server"), body.get("package")) {
        (Some(_), _) => {
            let name = text(body, "server", &mut errors).unwrap_or_default();
            let version = text(body, "version", &mut errors).unwrap_or_else(|| "latest".into());
            let package = match body.get("package") {
                None | Some(Value::Null) => PackageChoice::First,
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(i) => PackageChoice::Index(i as usize),
                    None => {
                        errors.push(FieldError::new(
                            "package",
                            "invalid_type",
                            "a package index is a whole number",
                            "",
                        ));
                        PackageChoice::First
                    }
                },
                Some(Value::String(t)) => PackageChoice::Type(t.clone()),
                Some(_) => {
                    errors.push(FieldError::new(
                        "package",
                        "invalid_type",
                        "with 'server', 'package' is an index or a registryType",
                        "e.g. \"package\": 0 or \"package\": \"npm\"",
                    ));
                    PackageChoice::First
                }
            };
            Target::Server {
                name,
                version,
                package,
            }
        }
        (None, Some(Value::Object(package))) => {
            let field = |key: &str, errors: &mut Vec<FieldError>| match package.get(key) {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    errors.push(FieldError::new(
                        format!("package.{key}"),
                        "missing_field",
                        format!("package.{key} is required and must be a string"),
                        "",
                    ));
                    String::new()
                }
            };
            let registry_type = field("registryType", &mut errors);
            let identifier = field("identifier", &mut errors);
            let version = field("version", &mut errors);
            let environment_variables = match body.get("environmentVariables") {
                None | Some(Value::Null) => Vec::new(),
                Some(v) => match serde_json::from_value::<Vec<KeyValueInput>>(v.clone()) {
                    Ok(list) => list,
                    Err(e) => {
                        errors.push(FieldError::new(
                            "environmentVariables",
                            "invalid_type",
                            format!("not a list of declared inputs: {e}"),
                            "each is {\"name\": \"…\", \"isRequired\": true, \"isSecret\": true, \"format\": \"string\"}",
                        ));
                        Vec::new()
                    }
                },
            };
            Target::Direct {
                registry_type,
                identifier,
                version,
                environment_variables,
            }
        }
        _ => {
            errors.push(FieldError::new(
                "",
                "missing_field",
                "say what to deploy: 'server' (a catalog name) or 'package' (a direct reference)",
                "{\"server\": \"com.acme/weather\", \"version\": \"latest\"} or {\"package\": {\"registryType\": \"npm\", \"identifier\": \"…\", \"version\": \"1.2.3\"}}",
            ));
            return Err(errors);
        }
    };
    if errors.is_empty() {
        Ok(DeployRequest {
            target,
            credentials,
            arguments,
        })
    } else {
        Err(errors)
    }
}
