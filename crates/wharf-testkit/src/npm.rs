//! npm packages built in memory: a tarball as `npm pack` lays it out
//! (`package/package.json` and files), and the document `npm publish` sends.

use crate::{base64, gzip};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Digest;
use std::collections::BTreeMap;

/// An npm package version to build.
#[derive(Debug, Clone)]
pub struct NpmPackage {
    /// The package name, scoped or not.
    pub name: String,
    /// Its version.
    pub version: String,
    manifest: Map<String, Value>,
    files: Vec<(String, Vec<u8>)>,
}

impl NpmPackage {
    /// A package with a description, `main` and one `index.js`.
    pub fn new(name: &str, version: &str) -> Self {
        let mut manifest = Map::new();
        manifest.insert("name".into(), Value::String(name.into()));
        manifest.insert("version".into(), Value::String(version.into()));
        manifest.insert(
            "description".into(),
            Value::String(format!("{name}, built for a test")),
        );
        manifest.insert("main".into(), Value::String("index.js".into()));
        Self {
            name: name.into(),
            version: version.into(),
            manifest,
            files: vec![("index.js".into(), b"module.exports = 42;\n".to_vec())],
        }
    }

    /// Sets a top-level `package.json` field.
    pub fn field(mut self, key: &str, value: Value) -> Self {
        self.manifest.insert(key.into(), value);
        self
    }

    /// Adds a lifecycle script (`postinstall`, …).
    pub fn script(mut self, name: &str, command: &str) -> Self {
        let scripts = self
            .manifest
            .entry("scripts")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = scripts {
            map.insert(name.into(), Value::String(command.into()));
        }
        self
    }

    /// Adds a dependency on `name` at `range`.
    pub fn dependency(mut self, name: &str, range: &str) -> Self {
        let deps = self
            .manifest
            .entry("dependencies")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = deps {
            map.insert(name.into(), Value::String(range.into()));
        }
        self
    }

    /// Adds a file under `package/`.
    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.into(), contents.into()));
        self
    }

    /// The `package.json` as built.
    pub fn manifest(&self) -> Value {
        Value::Object(self.manifest.clone())
    }

    /// The `.tgz`, with `package.json` as written by [`NpmPackage::manifest`].
    pub fn tarball(&self) -> Vec<u8> {
        self.tarball_with_manifest(&self.manifest())
    }

    /// A `.tgz` whose `package.json` is `manifest` (to make it disagree).
    pub fn tarball_with_manifest(&self, manifest: &Value) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut members = vec![(
            "package/package.json".to_owned(),
            serde_json::to_vec_pretty(manifest).expect("a Value serializes"),
        )];
        for (path, contents) in &self.files {
            members.push((format!("package/{path}"), contents.clone()));
        }
        for (path, contents) in members {
            let mut header = tar::Header::new_ustar();
            header.set_mode(0o644);
            header.set_size(contents.len() as u64);
            header.set_mtime(499_162_500);
            builder
                .append_data(&mut header, path, contents.as_slice())
                .expect("writing to a Vec cannot fail");
        }
        gzip(&builder.into_inner().expect("writing to a Vec cannot fail"))
    }

    /// The attachment's name, as npm writes it: the full name.
    pub fn attachment_name(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }

    /// The `PUT /npm/{name}` document carrying `tarball`, with its integrity.
    pub fn publish_document(&self, tarball: &[u8]) -> Value {
        let mut version = self.manifest.clone();
        let dist = Dist {
            integrity: integrity(tarball),
            shasum: shasum(tarball),
            tarball: format!("http://localhost/{}", self.attachment_name()),
        };
        version.insert(
            "dist".into(),
            serde_json::to_value(dist).expect("serializes"),
        );
        let document = PublishDocument {
            id: self.name.clone(),
            name: self.name.clone(),
            dist_tags: BTreeMap::from([("latest".to_owned(), self.version.clone())]),
            versions: BTreeMap::from([(self.version.clone(), Value::Object(version))]),
            attachments: BTreeMap::from([(
                self.attachment_name(),
                Attachment {
                    content_type: "application/octet-stream",
                    data: base64(tarball),
                    length: tarball.len(),
                },
            )]),
        };
        serde_json::to_value(document).expect("serializes")
    }
}

/// `sha512-<base64>`, as `dist.integrity` carries it.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha512-{}", base64(&sha2::Sha512::digest(bytes)))
}

/// SHA-1 in hex, as `dist.shasum` carries it.
pub fn shasum(bytes: &[u8]) -> String {
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Serialize)]
struct Dist {
    integrity: String,
    shasum: String,
    tarball: String,
}

#[derive(Serialize)]
struct PublishDocument {
    #[serde(rename = "_id")]
    id: String,
    name: String,
    #[serde(rename = "dist-tags")]
    dist_tags: BTreeMap<String, String>,
    versions: BTreeMap<String, Value>,
    #[serde(rename = "_attachments")]
    attachments: BTreeMap<String, Attachment>,
}

#[derive(Serialize)]
struct Attachment {
    content_type: &'static str,
    data: String,
    length: usize,
}
