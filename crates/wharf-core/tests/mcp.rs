//! `server.json` validation end to end: the official examples, documents that
//! break rules (alone and many at once), hostile input, the URL policy and the
//! `_meta` policy.

use serde_json::{json, Value};
use std::path::PathBuf;
use wharf_core::mcp::{
    validate, Argument, InputFormat, Problem, ServerJson, Transport, UrlPolicy,
    MAX_PUBLISHER_META_BYTES, PUBLISHER_PROVIDED_KEY,
};

fn fixtures(kind: &str) -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mcp")
        .join(kind);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn problems(doc: &Value, policy: UrlPolicy) -> Vec<Problem> {
    match validate(doc, policy) {
        Ok(_) => vec![],
        Err(problems) => problems,
    }
}

fn paths(doc: &Value, policy: UrlPolicy) -> Vec<String> {
    problems(doc, policy).into_iter().map(|p| p.path).collect()
}

/// A valid starting point that tests modify one field at a time.
fn base() -> Value {
    json!({
        "name": "io.github.alice/weather",
        "description": "Weather forecasts",
        "version": "1.0.0"
    })
}

fn with_package(package: Value) -> Value {
    let mut doc = base();
    doc["packages"] = json!([package]);
    doc
}

fn npm(extra: Value) -> Value {
    let mut package = json!({
        "registryType": "npm",
        "identifier": "@alice/weather",
        "version": "1.0.0",
        "transport": {"type": "stdio"}
    });
    for (k, v) in extra.as_object().unwrap() {
        package[k] = v.clone();
    }
    with_package(package)
}

#[test]
fn every_official_example_passes_under_production() {
    let valid = fixtures("valid");
    assert!(valid.len() >= 19, "fixtures missing: found {}", valid.len());
    for (name, doc) in valid {
        let (server, stored) =
            validate(&doc, UrlPolicy::Production).unwrap_or_else(|p| panic!("{name}: {p:#?}"));
        assert_eq!(server.name, doc["name"], "{name}");
        assert_eq!(server.version, doc["version"], "{name}");
        assert_eq!(
            server.packages.len(),
            doc["packages"].as_array().map_or(0, Vec::len)
        );
        assert_eq!(
            server.remotes.len(),
            doc["remotes"].as_array().map_or(0, Vec::len)
        );
        // Nothing but `_meta` is changed in what gets stored.
        let mut without_meta = doc.clone();
        without_meta.as_object_mut().unwrap().remove("_meta");
        let mut stored_without_meta = stored.clone();
        stored_without_meta.as_object_mut().unwrap().remove("_meta");
        assert_eq!(stored_without_meta, without_meta, "{name}");
    }
}

#[test]
fn each_invalid_example_fails_with_exactly_its_problem() {
    let expected = [
        ("bad-name-pattern", "name", "separated by '/'"),
        ("description-too-long", "description", "got 103"),
        ("missing-name", "name", "is required"),
        (
            "package-version-latest",
            "packages[0].version",
            "'latest' is reserved",
        ),
        (
            "positional-argument-missing-value",
            "packages[0].packageArguments[0]",
            "value or a valueHint",
        ),
    ];
    let invalid = fixtures("invalid");
    assert_eq!(invalid.len(), expected.len());
    for ((name, doc), (want_name, path, says)) in invalid.iter().zip(expected) {
        assert_eq!(name, want_name);
        let found = problems(doc, UrlPolicy::Production);
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        assert_eq!(found[0].path, path, "{name}");
        assert!(
            found[0].message.contains(says),
            "{name}: {}",
            found[0].message
        );
    }
}

#[test]
fn a_document_with_many_errors_reports_all_of_them() {
    let doc = json!({
        "name": "no-slash",
        "description": "",
        "version": "^1.0.0",
        "title": "   ",
        "websiteUrl": "http://example.com",
        "repository": {"url": "https://github.com/a/b", "source": "github", "subfolder": "../up"},
        "icons": [{"src": "https://example.com/i.png", "mimeType": "image/gif", "sizes": ["48", "any"]}],
        "packages": [
            {
                "registryType": "npm",
                "identifier": "Bad Name",
                "fileSha256": "ABC",
                "transport": {"type": "stdio", "url": "https://example.com"},
                "environmentVariables": [{"name": "OK"}, {"name": "1BAD"}, {"name": "OK"}],
                "packageArguments": [
                    {"type": "named", "name": "--dir <path>"},
                    {"type": "named", "name": "--port", "default": "--port=1"},
                    {"type": "positional"}
                ]
            },
            {"registryType": "rubygems", "identifier": "x", "transport": {"type": "carrier-pigeon"}},
            {"registryType": "oci", "identifier": "docker.io/a/b:1", "version": "1", "registryBaseUrl": "https://docker.io"},
            "not an object"
        ],
        "remotes": [
            {"type": "stdio", "url": "https://example.com"},
            {"type": "sse", "url": "https://example.com/{missing}"},
            {"type": "streamable-http", "url": "https://10.0.0.1/mcp"}
        ],
        "_meta": {PUBLISHER_PROVIDED_KEY: "not an object"}
    });
    let found = paths(&doc, UrlPolicy::Production);
    assert_eq!(
        found,
        [
            "name",
            "description",
            "version",
            "title",
            "websiteUrl",
            "repository.subfolder",
            "icons[0].mimeType",
            "icons[0].sizes[0]",
            "packages[0].identifier",
            "packages[0].fileSha256",
            "packages[0].version",
            "packages[0].fileSha256",
            "packages[0].packageArguments[0].name",
            "packages[0].packageArguments[1].default",
            "packages[0].packageArguments[2]",
            "packages[0].environmentVariables[1].name",
            "packages[0].environmentVariables[2].name",
            "packages[0].transport.url",
            "packages[1].registryType",
            "packages[1].transport.type",
            "packages[2].version",
            "packages[2].registryBaseUrl",
            "packages[2].transport",
            "packages[3]",
            "remotes[0].type",
            "remotes[1].url",
            "remotes[2].url",
            r#"_meta["io.modelcontextprotocol.registry/publisher-provided"]"#,
        ]
    );
}

#[test]
fn hostile_identifiers_never_pass() {
    let hostile = [
        "; rm -rf /",
        "pkg; rm -rf /",
        "$(id)",
        "`id`",
        "pkg|sh",
        "a&b",
        "pkg\nid",
        "pkg\0",
    ];
    for registry_type in ["npm", "pypi", "oci", "nuget", "mcpb", "cargo", "unknown"] {
        for identifier in hostile {
            let doc = with_package(json!({
                "registryType": registry_type,
                "identifier": identifier,
                "transport": {"type": "stdio"}
            }));
            let found = paths(&doc, UrlPolicy::Dev);
            assert!(
                found.contains(&"packages[0].identifier".to_owned()),
                "{registry_type} {identifier:?}: {found:?}"
            );
        }
    }
}

#[test]
fn hostile_versions_hints_and_argument_names_never_pass() {
    for (field, value, path) in [
        ("version", json!("1.0.0; rm -rf /"), "packages[0].version"),
        ("version", json!("$(id)"), "packages[0].version"),
        ("runtimeHint", json!("npx `id`"), "packages[0].runtimeHint"),
        ("runtimeHint", json!("npx|sh"), "packages[0].runtimeHint"),
        (
            "runtimeArguments",
            json!([{"type": "named", "name": "--x=$(id)"}]),
            "packages[0].runtimeArguments[0].name",
        ),
        (
            "packageArguments",
            json!([{"type": "named", "name": "--a;reboot"}]),
            "packages[0].packageArguments[0].name",
        ),
    ] {
        let doc = npm(json!({ field: value }));
        assert_eq!(paths(&doc, UrlPolicy::Dev), [path], "{field} {value}");
    }
    let mut doc = base();
    doc["version"] = json!("1.0.0`id`");
    assert_eq!(paths(&doc, UrlPolicy::Dev), ["version"]);
}

#[test]
fn registry_types_follow_the_official_field_rules() {
    let sha = "fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce";
    let cases = [
        (
            json!({"registryType": "npm", "identifier": "a"}),
            vec!["packages[0].version"],
        ),
        (
            json!({"registryType": "pypi", "identifier": "a"}),
            vec!["packages[0].version"],
        ),
        (
            json!({"registryType": "nuget", "identifier": "A"}),
            vec!["packages[0].version"],
        ),
        (
            json!({"registryType": "cargo", "identifier": "a"}),
            vec!["packages[0].version"],
        ),
        (
            json!({"registryType": "npm", "identifier": "a", "version": "1", "fileSha256": sha}),
            vec!["packages[0].fileSha256"],
        ),
        (
            json!({"registryType": "pypi", "identifier": "a", "version": "1", "fileSha256": sha}),
            vec!["packages[0].fileSha256"],
        ),
        (
            json!({"registryType": "oci", "identifier": "a/b:1", "fileSha256": sha}),
            vec!["packages[0].fileSha256"],
        ),
        (
            json!({"registryType": "oci", "identifier": "a/b:1", "version": "1"}),
            vec!["packages[0].version"],
        ),
        (
            json!({"registryType": "oci", "identifier": "a/b:1", "registryBaseUrl": "https://example.com"}),
            vec!["packages[0].registryBaseUrl"],
        ),
        (
            json!({"registryType": "mcpb", "identifier": "https://example.com/a.mcpb"}),
            vec!["packages[0].fileSha256"],
        ),
        (
            json!({"registryType": "mcpb", "identifier": "https://example.com/a.mcpb", "fileSha256": sha, "registryBaseUrl": "https://example.com"}),
            vec!["packages[0].registryBaseUrl"],
        ),
        (
            json!({"registryType": "mcpb", "identifier": "https://example.com/a.mcpb", "fileSha256": sha.to_uppercase()}),
            vec!["packages[0].fileSha256"],
        ),
        (
            json!({"registryType": "mcpb", "identifier": "https://example.com/a.mcpb", "fileSha256": &sha[1..]}),
            vec!["packages[0].fileSha256"],
        ),
        (
            json!({"registryType": "npm", "identifier": "a", "version": "1", "registryBaseUrl": "http://example.com"}),
            vec!["packages[0].registryBaseUrl"],
        ),
        (
            json!({"registryType": "NPM", "identifier": "a", "version": "1"}),
            vec!["packages[0].registryType"],
        ),
    ];
    for (mut package, want) in cases {
        package["transport"] = json!({"type": "stdio"});
        let doc = with_package(package.clone());
        assert_eq!(paths(&doc, UrlPolicy::Production), want, "{package}");
    }
    // The passing counterparts.
    for package in [
        json!({"registryType": "npm", "identifier": "a", "version": "1", "registryBaseUrl": "https://packages.example.com"}),
        json!({"registryType": "oci", "identifier": "a/b:1"}),
        json!({"registryType": "mcpb", "identifier": "https://example.com/a.mcpb", "fileSha256": sha}),
        json!({"registryType": "mcpb", "identifier": "https://example.com/a.mcpb", "fileSha256": sha, "version": "1.0.0"}),
    ] {
        let mut package = package;
        package["transport"] = json!({"type": "stdio"});
        assert_eq!(
            paths(&with_package(package.clone()), UrlPolicy::Production),
            Vec::<String>::new(),
            "{package}"
        );
    }
}

#[test]
fn private_and_loopback_urls_are_refused_in_production_and_allowed_in_dev() {
    let hosts = [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.20",
        "169.254.169.254",
        "[fd00::1]",
        "[fe80::1]",
    ];
    for host in hosts {
        let url = format!("https://{host}/x");
        let mut doc = base();
        doc["websiteUrl"] = json!(url);
        doc["icons"] = json!([{"src": url}]);
        doc["repository"] = json!({"url": url, "source": "gitea"});
        doc["remotes"] = json!([{"type": "sse", "url": url}]);
        doc["packages"] = json!([{
            "registryType": "npm", "identifier": "a", "version": "1",
            "registryBaseUrl": url, "transport": {"type": "stdio"}
        }]);
        assert_eq!(
            paths(&doc, UrlPolicy::Production),
            [
                "websiteUrl",
                "repository.url",
                "icons[0].src",
                "packages[0].registryBaseUrl",
                "remotes[0].url"
            ],
            "{host}"
        );
        assert_eq!(paths(&doc, UrlPolicy::Dev), Vec::<String>::new(), "{host}");
    }
}

/// The same URL as the website, the repository and a remote.
fn with_urls(host: &str) -> Value {
    let url = format!("https://{host}/mcp");
    let mut doc = base();
    doc["websiteUrl"] = json!(url);
    doc["repository"] = json!({"url": url, "source": "gitea"});
    doc["remotes"] = json!([{"type": "streamable-http", "url": url}]);
    doc
}

#[test]
fn production_policy_refuses_ipv4_embedded_in_ipv6_and_special_ranges() {
    for (host, says) in [
        ("[::127.0.0.1]", "loopback"),
        ("[::7f00:1]", "loopback"),
        ("[64:ff9b::7f00:1]", "loopback"),
        ("[64:ff9b::a9fe:a9fe]", "private or special-purpose address"),
        ("[::ffff:0:7f00:1]", "loopback"),
        ("[2002:7f00:1::]", "loopback"),
        ("[2002:a9fe:a9fe::]", "private or special-purpose address"),
        ("[100::1]", "private or special-purpose address"),
        ("192.0.0.1", "private or special-purpose address"),
        ("198.18.0.1", "private or special-purpose address"),
        ("192.0.2.1", "private or special-purpose address"),
        ("metadata.google.internal", "internal-only name"),
    ] {
        let doc = with_urls(host);
        let found = problems(&doc, UrlPolicy::Production);
        let found_paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            found_paths,
            ["websiteUrl", "repository.url", "remotes[0].url"],
            "{host}"
        );
        for problem in &found {
            assert!(
                problem.message.contains(&format!("the host '{host}' is"))
                    && problem.message.contains(says),
                "{host}: {problem}"
            );
        }
        assert_eq!(paths(&doc, UrlPolicy::Dev), Vec::<String>::new(), "{host}");
    }
}

#[test]
fn public_addresses_and_names_pass_under_production() {
    for host in [
        "93.184.216.34",
        "8.8.8.8",
        "[2606:4700::1111]",
        "[2002:5db8:d822::]",
        "[64:ff9b::808:808]",
        "example.com",
        "api.acme.io",
    ] {
        assert_eq!(
            paths(&with_urls(host), UrlPolicy::Production),
            Vec::<String>::new(),
            "{host}"
        );
    }
}

#[test]
fn plain_http_is_for_dev_remotes_on_loopback_and_nothing_else() {
    let remote = |url: &str| {
        let mut doc = base();
        doc["remotes"] = json!([{"type": "streamable-http", "url": url}]);
        doc
    };
    for url in ["http://localhost:8080/mcp", "http://127.0.0.1/mcp"] {
        assert_eq!(
            paths(&remote(url), UrlPolicy::Dev),
            Vec::<String>::new(),
            "{url}"
        );
        assert_eq!(
            paths(&remote(url), UrlPolicy::Production),
            ["remotes[0].url"],
            "{url}"
        );
    }
    assert_eq!(
        paths(&remote("http://example.com/mcp"), UrlPolicy::Dev),
        ["remotes[0].url"]
    );
    let mut doc = base();
    doc["websiteUrl"] = json!("http://localhost/");
    assert_eq!(paths(&doc, UrlPolicy::Dev), ["websiteUrl"]);
}

#[test]
fn package_transport_urls_may_name_loopback_and_must_resolve_their_variables() {
    let doc = npm(json!({
        "transport": {"type": "streamable-http", "url": "http://localhost:{PORT}/{--base}/{target}"},
        "environmentVariables": [{"name": "PORT", "default": "8080"}],
        "packageArguments": [
            {"type": "named", "name": "--base", "value": "mcp"},
            {"type": "positional", "valueHint": "target"}
        ]
    }));
    assert_eq!(paths(&doc, UrlPolicy::Production), Vec::<String>::new());
    let doc = npm(json!({
        "transport": {"type": "sse", "url": "https://example.com/{API_KEY}/sse",
                      "headers": [{"name": "API_KEY"}]}
    }));
    let found = problems(&doc, UrlPolicy::Production);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "packages[0].transport.url");
    assert!(
        found[0].message.contains("{API_KEY}"),
        "{}",
        found[0].message
    );
}

#[test]
fn meta_keeps_only_the_publisher_provided_object() {
    let mut doc = base();
    doc["_meta"] = json!({
        PUBLISHER_PROVIDED_KEY: {"tool": "ci", "nested": {"a": [1, 2]}},
        "io.modelcontextprotocol.registry/official": {"status": "active", "isLatest": true},
        "com.example/other": 1
    });
    let (server, stored) = validate(&doc, UrlPolicy::Production).unwrap();
    assert_eq!(
        stored["_meta"],
        json!({PUBLISHER_PROVIDED_KEY: {"tool": "ci", "nested": {"a": [1, 2]}}})
    );
    let provided = server.meta.unwrap().publisher_provided.unwrap();
    assert_eq!(provided["tool"], "ci");

    let mut doc = base();
    doc["_meta"] = json!({"io.modelcontextprotocol.registry/official": {"status": "deleted"}});
    let (server, stored) = validate(&doc, UrlPolicy::Production).unwrap();
    assert!(stored.get("_meta").is_none());
    assert!(server.meta.is_none());

    let mut doc = base();
    doc["_meta"] = json!("not an object");
    assert_eq!(paths(&doc, UrlPolicy::Production), ["_meta"]);
}

#[test]
fn publisher_provided_meta_is_limited_to_4096_bytes() {
    // {"k":"…"} is 8 bytes of JSON around the string.
    let sized = |total: usize| {
        let mut doc = base();
        doc["_meta"] = json!({PUBLISHER_PROVIDED_KEY: {"k": "x".repeat(total - 8)}});
        doc
    };
    assert!(validate(&sized(MAX_PUBLISHER_META_BYTES), UrlPolicy::Production).is_ok());
    let found = problems(&sized(MAX_PUBLISHER_META_BYTES + 1), UrlPolicy::Production);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].path,
        r#"_meta["io.modelcontextprotocol.registry/publisher-provided"]"#
    );
    assert!(
        found[0].message.contains("4097 bytes"),
        "{}",
        found[0].message
    );
}

#[test]
fn unknown_fields_are_accepted_and_stored() {
    let mut doc = base();
    doc["x-custom"] = json!({"anything": true});
    doc["packages"] = json!([{
        "registryType": "pypi", "identifier": "weather", "version": "1.0",
        "transport": {"type": "stdio"}, "postInstallInstructions": [{"description": "d"}]
    }]);
    let (_, stored) = validate(&doc, UrlPolicy::Production).unwrap();
    assert_eq!(stored["x-custom"], json!({"anything": true}));
    assert_eq!(
        stored["packages"][0]["postInstallInstructions"][0]["description"],
        "d"
    );
}

#[test]
fn members_of_the_wrong_type_are_reported_not_skipped() {
    let doc = json!({
        "name": 7, "description": null, "version": ["1"],
        "packages": {}, "remotes": "none", "icons": [5], "repository": []
    });
    assert_eq!(
        paths(&doc, UrlPolicy::Production),
        [
            "name",
            "description",
            "version",
            "repository",
            "icons[0]",
            "packages",
            "remotes"
        ]
    );
    assert_eq!(paths(&json!([1, 2]), UrlPolicy::Production), [""]);
    assert_eq!(
        paths(&json!({}), UrlPolicy::Production),
        ["name", "description", "version"]
    );
}

#[test]
fn a_blank_repository_counts_as_absent() {
    let mut doc = base();
    doc["repository"] = json!({"url": "", "source": ""});
    assert!(validate(&doc, UrlPolicy::Production).is_ok());
    // As the official registry serves servers published without one.
    doc["repository"] = json!({});
    assert!(validate(&doc, UrlPolicy::Production).is_ok());
    doc["repository"] = json!({"id": 7});
    assert_eq!(paths(&doc, UrlPolicy::Production), ["repository.id"]);
    doc["repository"] = json!({"url": "https://github.com/a/b"});
    assert_eq!(paths(&doc, UrlPolicy::Production), ["repository.source"]);
}

#[test]
fn icon_rules_follow_the_schema() {
    let icons = |icon: Value| {
        let mut doc = base();
        doc["icons"] = json!([icon]);
        paths(&doc, UrlPolicy::Production)
    };
    assert!(icons(json!({"src": "https://a.example/i.svg", "mimeType": "image/svg+xml", "sizes": ["any", "512x512"], "theme": "dark"})).is_empty());
    assert_eq!(icons(json!({"mimeType": "image/png"})), ["icons[0].src"]);
    assert_eq!(
        icons(json!({"src": "data:image/png;base64,AAAA"})),
        ["icons[0].src"]
    );
    assert_eq!(
        icons(json!({"src": format!("https://a.example/{}", "i".repeat(240))})),
        ["icons[0].src"]
    );
    assert_eq!(
        icons(json!({"src": "https://a.example/i", "sizes": ["48x", "x48", "big"]})),
        [
            "icons[0].sizes[0]",
            "icons[0].sizes[1]",
            "icons[0].sizes[2]"
        ]
    );
    assert_eq!(
        icons(json!({"src": "https://a.example/i", "theme": "blue"})),
        ["icons[0].theme"]
    );
}

#[test]
fn the_typed_view_matches_the_document() {
    let doc = npm(json!({
        "transport": {"type": "streamable-http", "url": "http://127.0.0.1:{--port}/mcp",
                      "headers": [{"name": "X-Key", "isSecret": true}]},
        "packageArguments": [
            {"type": "named", "name": "--port", "format": "number", "default": "3000", "isRepeated": true},
            {"type": "positional", "valueHint": "dir", "variables": {"x": {"choices": ["a"]}}}
        ],
        "environmentVariables": [{"name": "TOKEN", "isRequired": true, "isSecret": true}]
    }));
    let (server, _) = validate(&doc, UrlPolicy::Production).unwrap();
    let package = &server.packages[0];
    assert_eq!(package.kind(), Some(wharf_core::mcp::RegistryType::Npm));
    match &package.transport {
        Transport::StreamableHttp { url, headers } => {
            assert_eq!(url, "http://127.0.0.1:{--port}/mcp");
            assert_eq!(headers[0].name, "X-Key");
            assert!(headers[0].input.is_secret);
        }
        other => panic!("{other:?}"),
    }
    match &package.package_arguments[0] {
        Argument::Named {
            name,
            is_repeated,
            input,
        } => {
            assert_eq!(name, "--port");
            assert!(is_repeated);
            assert_eq!(input.format, InputFormat::Number);
            assert_eq!(input.default.as_deref(), Some("3000"));
        }
        other => panic!("{other:?}"),
    }
    match &package.package_arguments[1] {
        Argument::Positional {
            value_hint, input, ..
        } => {
            assert_eq!(value_hint.as_deref(), Some("dir"));
            assert_eq!(input.variables["x"].choices, ["a"]);
        }
        other => panic!("{other:?}"),
    }
    let env = &package.environment_variables[0];
    assert!(env.input.is_required && env.input.is_secret);
    assert_eq!(env.input.format, InputFormat::String);

    // The typed view serializes back to the same camelCase shape.
    let again: ServerJson = serde_json::from_value(serde_json::to_value(&server).unwrap()).unwrap();
    assert_eq!(again, server);
    let written = serde_json::to_value(&server).unwrap();
    assert_eq!(
        written["packages"][0]["packageArguments"][1]["valueHint"],
        "dir"
    );
    assert_eq!(
        written["packages"][0]["transport"]["type"],
        "streamable-http"
    );
}

#[test]
fn remote_variables_reach_the_typed_view() {
    let mut doc = base();
    doc["remotes"] = json!([{
        "type": "sse",
        "url": "https://{tenant}.example.com/sse",
        "variables": {"tenant": {"isRequired": true}}
    }]);
    let (server, _) = validate(&doc, UrlPolicy::Production).unwrap();
    let remote = &server.remotes[0];
    assert!(matches!(&remote.transport, Transport::Sse { url, .. } if url.contains("{tenant}")));
    assert!(remote.variables["tenant"].is_required);
}
