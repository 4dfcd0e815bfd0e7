//! Any byte string given to the sdist reader must come back as `Ok` or `Err`, never a panic,
//! an abort, an out-of-memory or a hang.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use wharf_artifact::{read_sdist, Limits};

fuzz_target!(|data: &[u8]| {
    // The production limits: a crash here is a crash an upload could cause.
    let _ = read_sdist(Cursor::new(data), &Limits::default());
});
