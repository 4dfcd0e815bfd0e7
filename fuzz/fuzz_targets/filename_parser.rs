//! Any string given to the distribution-filename parser must come back as `Ok` or `Err`,
//! never a panic.
//!
//! The project comes from the input too, so that matching names (and the legacy sdist split,
//! which depends on the project) are reached: everything before the first `-` is parsed as the
//! project name. The filename is also parsed against a fixed project whose normal form holds a
//! `-`, which is the case where a legacy sdist name has several possible splits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_core::{DistFilename, NormalizedName};

fuzz_target!(|data: &[u8]| {
    let Ok(filename) = std::str::from_utf8(data) else {
        return;
    };
    let prefix = filename.split_once('-').map_or(filename, |(name, _)| name);
    if let Ok(project) = NormalizedName::parse(prefix) {
        let _ = DistFilename::parse(filename, &project);
    }
    let fixed = NormalizedName::parse("demo-pkg").expect("a valid project name");
    let _ = DistFilename::parse(filename, &fixed);
});
