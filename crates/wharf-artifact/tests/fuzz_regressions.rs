//! Inputs kept by the fuzzers in `fuzz/` (see `fuzz/README.md`), replayed on every test run.
//!
//! `fuzz/regressions/<target>/` holds inputs that once crashed or hung a fuzz target: each
//! must now come back as `Ok` or `Err` without panicking, and the wheel and sdist ones, all
//! malformed, must be refused. `fuzz/seeds/<target>/` holds the valid inputs every fuzzing run
//! starts from: each must still parse, or the fuzzers start from nothing useful.

use std::fmt::Debug;
use std::fs;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use wharf_artifact::{parse_metadata, read_sdist, read_wheel, ArtifactError, Limits};

/// The parser a fuzz target drives, as the target calls it.
#[derive(Debug, Clone, Copy)]
enum Target {
    WheelReader,
    SdistReader,
    MetadataParser,
}

impl Target {
    const ALL: [Self; 3] = [Self::WheelReader, Self::SdistReader, Self::MetadataParser];

    fn dir_name(self) -> &'static str {
        match self {
            Self::WheelReader => "wheel_reader",
            Self::SdistReader => "sdist_reader",
            Self::MetadataParser => "metadata_parser",
        }
    }

    /// Runs `bytes` through the parser; only whether it was accepted matters here.
    fn parse(self, bytes: &[u8]) -> Result<(), ArtifactError> {
        let limits = Limits::default();
        match self {
            Self::WheelReader => read_wheel(Cursor::new(bytes), &limits).map(drop),
            Self::SdistReader => read_sdist(Cursor::new(bytes), &limits).map(drop),
            Self::MetadataParser => parse_metadata(bytes).map(drop),
        }
    }
}

fn fuzz_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
}

/// Every file in `fuzz/<kind>/<target>/`, sorted; none when the directory does not exist.
fn inputs(kind: &str, target: Target) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir(kind).join(target.dir_name());
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect()
}

/// Parses `bytes`, turning a panic into a message that names the input.
fn parse_without_panic(
    target: Target,
    path: &Path,
    bytes: &[u8],
) -> Result<Result<(), ArtifactError>, String> {
    catch_unwind(AssertUnwindSafe(|| target.parse(bytes))).map_err(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(non-string panic payload)");
        format!("{:?} panicked on {}: {why}", target, path.display())
    })
}

#[track_caller]
fn assert_no_failures(failures: &[impl Debug]) {
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn no_regression_input_panics() {
    let mut failures = Vec::new();
    for target in Target::ALL {
        for (path, bytes) in inputs("regressions", target) {
            if let Err(panic) = parse_without_panic(target, &path, &bytes) {
                failures.push(panic);
            }
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn archive_regression_inputs_are_refused() {
    let mut failures = Vec::new();
    for target in [Target::WheelReader, Target::SdistReader] {
        for (path, bytes) in inputs("regressions", target) {
            // A panic is reported by `no_regression_input_panics`; here only `Ok` is wrong.
            if let Ok(Ok(())) = parse_without_panic(target, &path, &bytes) {
                failures.push(format!("{target:?} accepted {}", path.display()));
            }
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn every_seed_is_accepted() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for target in Target::ALL {
        for (path, bytes) in inputs("seeds", target) {
            seen += 1;
            match parse_without_panic(target, &path, &bytes) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.push(format!("{target:?} refused {}: {e}", path.display())),
                Err(panic) => failures.push(panic),
            }
        }
    }
    assert_no_failures(&failures);
    // The seeds are committed; finding none means the path above is wrong, not that all passed.
    assert!(seen > 0, "no seeds under {}", fuzz_dir("seeds").display());
}
