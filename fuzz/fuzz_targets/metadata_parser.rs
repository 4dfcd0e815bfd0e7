//! Any byte string given to the core-metadata parser must come back as `Ok` or `Err`, never
//! a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_artifact::parse_metadata;

fuzz_target!(|data: &[u8]| {
    let _ = parse_metadata(data);
});
