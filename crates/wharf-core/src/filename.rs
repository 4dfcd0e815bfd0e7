//! Distribution filenames: wheels (PEP 427/491) and sdists (PEP 625).
//!
//! A filename is parsed against the project it is uploaded to, because a legacy
//! sdist name like `my-pkg-1.0.tar.gz` is only unambiguous once the project
//! name is known.

use crate::name::{normalize, printable, NormalizedName};
use crate::{ValidationError, Version};

/// Longest filename accepted; most filesystems stop at 255 bytes.
pub const MAX_FILENAME_LEN: usize = 255;

/// Which kind of distribution a file is, named as the upload form's `filetype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistKind {
    BdistWheel,
    Sdist,
    /// An npm package tarball (`.tgz`), published through `/npm/`.
    NpmTarball,
}

impl DistKind {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "bdist_wheel" => Ok(Self::BdistWheel),
            "sdist" => Ok(Self::Sdist),
            other => Err(ValidationError::new(
                "invalid_filetype",
                format!(
                    "filetype '{}' is not accepted: Wharf takes 'bdist_wheel' (.whl) and 'sdist' (.tar.gz)",
                    printable(other)
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BdistWheel => "bdist_wheel",
            Self::Sdist => "sdist",
            Self::NpmTarball => "npm_tarball",
        }
    }

    /// A kind as stored: the upload form's two, or an npm tarball.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "npm_tarball" => Some(Self::NpmTarball),
            other => Self::parse(other).ok(),
        }
    }

    /// The ecosystem whose project rows hold files of this kind.
    pub fn ecosystem(self) -> &'static str {
        match self {
            Self::BdistWheel | Self::Sdist => crate::proxy::PYPI,
            Self::NpmTarball => crate::npm::NPM,
        }
    }
}

/// A parsed distribution filename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFilename {
    pub kind: DistKind,
    pub version: Version,
    /// Wheel tags `python-abi-platform`; empty for sdists.
    pub tags: String,
    /// The Python tag of a wheel (`py3`), or `source` for an sdist, as the
    /// upload form's `pyversion` must say.
    pub python_tag: String,
}

impl DistFilename {
    /// Parses `filename` as a distribution of `project`.
    pub fn parse(filename: &str, project: &NormalizedName) -> Result<Self, ValidationError> {
        check_safe(filename)?;
        if let Some(stem) = filename.strip_suffix(".whl") {
            parse_wheel(filename, stem, project)
        } else if let Some(stem) = filename.strip_suffix(".tar.gz") {
            parse_sdist(filename, stem, project)
        } else {
            Err(ValidationError::new(
                "invalid_filename",
                format!(
                    "'{}' has an extension Wharf does not accept: upload a wheel (.whl) or an sdist (.tar.gz)",
                    printable(filename)
                ),
            ))
        }
    }
}

/// Refuses anything that could escape a directory or a terminal.
fn check_safe(filename: &str) -> Result<(), ValidationError> {
    let problem = if filename.is_empty() {
        Some("the filename is empty")
    } else if filename.len() > MAX_FILENAME_LEN {
        Some("the filename is longer than 255 bytes")
    } else if filename.contains(['/', '\\']) {
        Some("the filename contains a path separator")
    } else if filename.chars().any(char::is_control) {
        Some("the filename contains a control character")
    } else if filename.starts_with('.') {
        Some("the filename starts with a dot")
    } else {
        None
    };
    match problem {
        Some(why) => Err(ValidationError::new(
            "invalid_filename",
            format!(
                "'{}' is not an acceptable filename: {why}",
                printable(filename)
            ),
        )),
        None => Ok(()),
    }
}

fn parse_wheel(
    filename: &str,
    stem: &str,
    project: &NormalizedName,
) -> Result<DistFilename, ValidationError> {
    let parts: Vec<&str> = stem.split('-').collect();
    let bad = |why: &str| {
        ValidationError::new(
            "invalid_filename",
            format!(
                "'{}' is not a valid wheel filename: {why} (expected {{name}}-{{version}}[-{{build}}]-{{python}}-{{abi}}-{{platform}}.whl)",
                printable(filename)
            ),
        )
    };
    let (name, version, build, tags) = match parts.as_slice() {
        [name, version, py, abi, plat] => (*name, *version, None, [*py, *abi, *plat]),
        [name, version, build, py, abi, plat] => {
            (*name, *version, Some(*build), [*py, *abi, *plat])
        }
        _ => return Err(bad("wrong number of '-' separated parts")),
    };
    if let Some(build) = build {
        if !build.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad("the build tag must start with a digit"));
        }
    }
    if tags.iter().any(|t| {
        t.is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
    }) {
        return Err(bad("a compatibility tag is empty or has characters other than letters, digits, '_' and '.'"));
    }
    check_name_part(filename, name, project)?;
    Ok(DistFilename {
        kind: DistKind::BdistWheel,
        version: Version::parse(version)?,
        tags: tags.join("-"),
        python_tag: tags[0].to_owned(),
    })
}

fn parse_sdist(
    filename: &str,
    stem: &str,
    project: &NormalizedName,
) -> Result<DistFilename, ValidationError> {
    // PEP 625 names never contain '-' in the name part, but older tools wrote
    // the project name verbatim, so try every split whose prefix is the project.
    let split = stem
        .match_indices('-')
        .map(|(i, _)| (&stem[..i], &stem[i + 1..]))
        .find(|(name, _)| normalize(name) == project.as_str());
    let Some((name, version)) = split else {
        return Err(name_mismatch(filename, project));
    };
    check_name_part(filename, name, project)?;
    Ok(DistFilename {
        kind: DistKind::Sdist,
        version: Version::parse(version)?,
        tags: String::new(),
        python_tag: "source".to_owned(),
    })
}

fn check_name_part(
    filename: &str,
    name: &str,
    project: &NormalizedName,
) -> Result<(), ValidationError> {
    if normalize(name) != project.as_str() {
        return Err(name_mismatch(filename, project));
    }
    Ok(())
}

fn name_mismatch(filename: &str, project: &NormalizedName) -> ValidationError {
    ValidationError::new(
        "filename_mismatch",
        format!(
            "'{}' does not start with the project name '{}-' (expected e.g. {}-1.0-py3-none-any.whl)",
            printable(filename),
            project.as_filename_part(),
            project.as_filename_part()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn project(s: &str) -> NormalizedName {
        NormalizedName::parse(s).unwrap()
    }

    #[test]
    fn parses_wheels() {
        let f =
            DistFilename::parse("demo_pkg-1.0rc1-py3-none-any.whl", &project("demo-pkg")).unwrap();
        assert_eq!(f.kind, DistKind::BdistWheel);
        assert_eq!(f.version.canonical(), "1.0rc1");
        assert_eq!(f.tags, "py3-none-any");
        assert_eq!(f.python_tag, "py3");
        let b = DistFilename::parse(
            "demo-2.0-1-cp311-cp311-manylinux_2_17_x86_64.whl",
            &project("demo"),
        )
        .unwrap();
        assert_eq!(b.python_tag, "cp311");
    }

    #[test]
    fn parses_pep_625_and_legacy_sdists() {
        let f = DistFilename::parse("demo_pkg-1.0.tar.gz", &project("Demo.Pkg")).unwrap();
        assert_eq!(
            (f.kind, f.version.canonical(), f.python_tag.as_str()),
            (DistKind::Sdist, "1.0", "source")
        );
        let legacy = DistFilename::parse("demo-pkg-1.0.tar.gz", &project("demo-pkg")).unwrap();
        assert_eq!(legacy.version.canonical(), "1.0");
    }

    #[test]
    fn refuses_bad_filenames_with_reasons() {
        let p = project("demo");
        let cases = [
            ("demo-1.0.zip", "invalid_filename", "extension"),
            ("demo-1.0.egg", "invalid_filename", "extension"),
            ("../demo-1.0.tar.gz", "invalid_filename", "separator"),
            ("demo-1.0\n.tar.gz", "invalid_filename", "control"),
            ("demo-1.0-py3.whl", "invalid_filename", "parts"),
            (
                "demo-1.0-x-py3-none-any.whl",
                "invalid_filename",
                "build tag",
            ),
            ("other-1.0-py3-none-any.whl", "filename_mismatch", "demo"),
            ("other-1.0.tar.gz", "filename_mismatch", "demo"),
            ("demo-1..0.tar.gz", "invalid_version", "PEP 440"),
            ("demo-1.0-py3-none-a;y.whl", "invalid_filename", "tag"),
        ];
        for (name, code, fragment) in cases {
            let err = DistFilename::parse(name, &p).unwrap_err();
            assert_eq!(err.code, code, "{name}");
            assert!(err.message.contains(fragment), "{name}: {}", err.message);
        }
    }

    proptest! {
        #[test]
        fn wheel_names_round_trip(name in "[a-z][a-z0-9]{0,8}(_[a-z0-9]{1,5})?", major in 0u32..50, minor in 0u32..50) {
            let p = NormalizedName::parse(&name).unwrap();
            let filename = format!("{}-{major}.{minor}-py3-none-any.whl", p.as_filename_part());
            let parsed = DistFilename::parse(&filename, &p).unwrap();
            prop_assert_eq!(parsed.version.canonical(), format!("{major}.{minor}"));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,100}") {
            let _ = DistFilename::parse(&s, &NormalizedName::parse("demo").unwrap());
        }
    }
}
