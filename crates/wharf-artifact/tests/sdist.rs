//! `read_sdist` against valid sdists and every hostile variant in `wharf_testkit::hostile`.

use std::io::{self, Read};
use std::sync::OnceLock;

use proptest::prelude::*;
use wharf_artifact::{read_sdist, ArtifactError, Limits, SdistInfo};
use wharf_testkit::hostile::{self, tar_type, RawTar};
use wharf_testkit::{gzip, SdistBuilder};

fn read(bytes: &[u8]) -> Result<SdistInfo, ArtifactError> {
    read_sdist(bytes, &Limits::default())
}

/// Reads `bytes`, expecting a refusal with `code` whose message mentions every `needle`.
#[track_caller]
fn refuse(bytes: &[u8], limits: &Limits, code: &str, needles: &[&str]) -> ArtifactError {
    let err = read_sdist(bytes, limits).expect_err("the sdist should be refused");
    assert_eq!(err.code(), code, "unexpected error: {err}");
    let message = err.to_string();
    for needle in needles {
        assert!(message.contains(needle), "'{needle}' not in: {message}");
    }
    err
}

#[track_caller]
fn refuse_default(bytes: &[u8], code: &str, needles: &[&str]) -> ArtifactError {
    refuse(bytes, &Limits::default(), code, needles)
}

#[test]
fn a_valid_sdist_is_read() {
    let builder = SdistBuilder::new("Demo.Pkg", "1.0")
        .requires_python(">=3.9")
        .summary("A demo")
        .file("src/demo_pkg/__init__.py", "print('hi')\n");
    let info = read(&builder.build()).expect("valid sdist");
    assert_eq!(info.top_dir, "demo_pkg-1.0");
    assert_eq!(info.metadata.name, "Demo.Pkg");
    assert_eq!(info.metadata.version, "1.0");
    assert_eq!(info.metadata.requires_python.as_deref(), Some(">=3.9"));
    assert_eq!(info.pkg_info_bytes, builder.pkg_info_bytes());
    // The directory entry, PKG-INFO, pyproject.toml and the module.
    assert_eq!(info.entry_count, 4);
    let content: usize = builder.members().iter().map(|(_, c)| c.len()).sum();
    assert_eq!(info.uncompressed_size, content as u64);
}

#[test]
fn long_names_from_gnu_and_pax_records_are_resolved() {
    let long = format!("demo_pkg-1.0/{}/module.py", "d".repeat(150));
    // The tar crate writes a GNU long-name record for this one.
    let builder = hostile::base_sdist().file(&long["demo_pkg-1.0/".len()..], "x = 1\n");
    let info = read(&builder.build()).expect("GNU long name");
    assert_eq!(info.entry_count, 5);

    let info = read(&hostile::sdist_with_pax_long_name(&long)).expect("pax path");
    assert_eq!(info.top_dir, "demo_pkg-1.0");

    // The resolved name is the one the path rules apply to.
    let evil = format!("demo_pkg-1.0/{}/../../../evil.py", "d".repeat(150));
    refuse_default(
        &hostile::sdist_with_pax_long_name(&evil),
        "archive.path-traversal",
        &["evil.py", "path traversal"],
    );
}

#[test]
fn links_are_refused() {
    refuse_default(
        &hostile::sdist_with_symlink(),
        "archive.link",
        &["'demo_pkg-1.0/link' is a link"],
    );
    refuse_default(
        &hostile::sdist_with_hardlink(),
        "archive.link",
        &["'demo_pkg-1.0/hard' is a link"],
    );
}

#[test]
fn devices_fifos_and_sparse_files_are_refused() {
    for (type_flag, kind) in [
        (tar_type::CHAR_DEVICE, "character device"),
        (tar_type::BLOCK_DEVICE, "block device"),
        (tar_type::FIFO, "FIFO"),
        (tar_type::GNU_SPARSE, "sparse file"),
        (b'V', "unknown type 'V'"),
    ] {
        refuse_default(
            &hostile::sdist_with_member_type(type_flag),
            "archive.special-member",
            &["'demo_pkg-1.0/special'", kind],
        );
    }
    let pax_sparse = RawTar::from_sdist(&hostile::base_sdist())
        .pax(tar_type::PAX, &[("GNU.sparse.major", b"1")])
        .entry(b"demo_pkg-1.0/sparse.bin", tar_type::FILE, b"x")
        .finish_gz();
    refuse_default(
        &pax_sparse,
        "archive.special-member",
        &["'demo_pkg-1.0/sparse.bin' is a sparse file"],
    );
}

#[test]
fn unsafe_paths_are_refused() {
    refuse_default(
        &hostile::sdist_with_path_traversal(),
        "archive.path-traversal",
        &["archive member 'demo_pkg-1.0/../../evil.py' escapes the archive (path traversal)"],
    );
    refuse_default(
        &hostile::sdist_with_absolute_path(),
        "archive.path-traversal",
        &["'/tmp/evil.py'", "absolute path"],
    );
    let control = RawTar::from_sdist(&hostile::base_sdist())
        .entry(b"demo_pkg-1.0/a\x1bb.py", tar_type::FILE, b"")
        .finish_gz();
    refuse_default(&control, "archive.bad-name", &["control character U+001B"]);
}

#[test]
fn duplicates_are_refused() {
    refuse_default(
        &hostile::sdist_with_duplicate_member(),
        "archive.duplicate-entry",
        &["'demo_pkg-1.0/PKG-INFO' duplicates 'demo_pkg-1.0/PKG-INFO'"],
    );
}

#[test]
fn the_layout_is_enforced() {
    refuse_default(
        &hostile::sdist_with_two_top_dirs(),
        "sdist.layout",
        &[
            "'other-1.0/setup.py'",
            "outside the top-level directory 'demo_pkg-1.0'",
        ],
    );
    refuse_default(
        &hostile::sdist_with_top_level_file(),
        "sdist.layout",
        &["'setup.py'", "not inside a top-level directory"],
    );
    refuse_default(
        &hostile::sdist_without_pkg_info(),
        "sdist.missing-pkg-info",
        &["sdist has no 'demo_pkg-1.0/PKG-INFO'"],
    );
    refuse_default(&gzip(&[0u8; 1024]), "archive.not-tar-gz", &["no members"]);
}

#[test]
fn extension_records_that_tools_disagree_on_are_refused() {
    refuse_default(
        &hostile::sdist_with_pax_size_mismatch(),
        "archive.inconsistent-headers",
        &["demo_pkg-1.0/extra.py", "pax size differs"],
    );
    refuse_default(
        &hostile::sdist_with_global_pax_path(),
        "archive.inconsistent-headers",
        &["global pax header sets 'path'"],
    );
    let dangling = RawTar::from_sdist(&hostile::base_sdist())
        .pax(tar_type::PAX, &[("path", b"demo_pkg-1.0/x")])
        .finish_gz();
    refuse_default(
        &dangling,
        "archive.inconsistent-headers",
        &["not followed by a member"],
    );
    let oversized = RawTar::from_sdist(&hostile::base_sdist())
        .entry(
            b"././@LongLink",
            tar_type::GNU_LONG_NAME,
            &vec![b'a'; 70_000],
        )
        .entry(b"demo_pkg-1.0/x", tar_type::FILE, b"")
        .finish_gz();
    refuse_default(
        &oversized,
        "archive.inconsistent-headers",
        &["GNU long name is larger than"],
    );
}

#[test]
fn data_after_the_archive_is_refused() {
    refuse_default(
        &hostile::sdist_with_trailing_tar_data(),
        "archive.trailing-data",
        &["end-of-archive marker"],
    );
    refuse_default(
        &hostile::sdist_with_trailing_garbage(),
        "archive.trailing-data",
        &["not gzip"],
    );
}

#[test]
fn a_tar_gz_that_is_also_another_format_is_refused() {
    let bytes = hostile::sdist_zip_polyglot();
    // The tar stream itself is fine: only the ZIP reading of the bytes is the problem.
    refuse_default(&bytes, "archive.polyglot", &["ZIP archive"]);
    refuse_default(
        &hostile::sdist_tar_polyglot(),
        "archive.polyglot",
        &["uncompressed tar archive"],
    );
}

#[test]
fn input_that_is_not_tar_gz_is_refused() {
    refuse_default(b"", "archive.not-tar-gz", &["too short"]);
    refuse_default(
        &hostile::base_wheel().build(),
        "archive.not-tar-gz",
        &["gzip signature"],
    );
    refuse_default(
        &gzip(
            b"this is not a tar archive, just text that goes on for a while. "
                .repeat(20)
                .as_slice(),
        ),
        "archive.not-tar-gz",
        &["tar structure is invalid"],
    );
    let sdist = hostile::base_sdist().build();
    refuse_default(
        &sdist[..sdist.len() / 2],
        "archive.not-tar-gz",
        &["gzip stream is corrupt or truncated"],
    );
}

fn bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| hostile::sdist_bomb(70))
}

#[test]
fn a_decompression_bomb_is_stopped() {
    let err = refuse_default(bomb(), "archive.zip-bomb", &["demo_pkg-1.0/zeros.bin"]);
    let ArtifactError::ZipBomb { uncompressed, .. } = err else {
        unreachable!("checked by code")
    };
    assert!(
        uncompressed < 66 * 1024 * 1024,
        "stopped early: {uncompressed}"
    );
}

#[test]
fn size_limits_apply() {
    let bytes = hostile::base_sdist().build();
    refuse(
        &bytes,
        &Limits {
            max_entries: 2,
            ..Limits::default()
        },
        "archive.too-many-entries",
        &["more than 2 members"],
    );
    refuse(
        &bytes,
        &Limits {
            max_member_size: 40,
            ..Limits::default()
        },
        "archive.too-large",
        &["demo_pkg-1.0/PKG-INFO", "40 bytes"],
    );
    refuse(
        &bytes,
        &Limits {
            max_total_uncompressed: 1000,
            ..Limits::default()
        },
        "archive.too-large",
        &["more than the limit of 1000 bytes"],
    );
    refuse(
        &bytes,
        &Limits {
            max_metadata_bytes: 10,
            ..Limits::default()
        },
        "metadata.too-large",
        &["'demo_pkg-1.0/PKG-INFO' is larger than the limit of 10 bytes"],
    );
}

#[test]
fn metadata_errors_name_the_member() {
    let bytes = SdistBuilder::new("demo", "1.0").metadata_name("").build();
    refuse_default(
        &bytes,
        "metadata.missing-field",
        &["'demo-1.0/PKG-INFO' lacks the required field 'Name'"],
    );
}

/// A reader that fails after `budget` bytes.
struct FailingReader<'a> {
    inner: &'a [u8],
    budget: usize,
}

impl Read for FailingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::other("network dropped"));
        }
        let len = buf.len().min(self.budget);
        let n = self.inner.read(&mut buf[..len])?;
        self.budget -= n;
        Ok(n)
    }
}

#[test]
fn a_failing_reader_is_not_blamed_on_the_uploader() {
    let bytes = hostile::base_sdist().build();
    for budget in [0, 1, 20, 200] {
        let reader = FailingReader {
            inner: &bytes,
            budget,
        };
        let err = read_sdist(reader, &Limits::default()).expect_err("the reader fails");
        assert_eq!(err.code(), "io", "budget {budget}: {err}");
    }
}

fn small_sdist() -> &'static [u8] {
    static SDIST: OnceLock<Vec<u8>> = OnceLock::new();
    SDIST.get_or_init(|| hostile::base_sdist().build())
}

#[test]
fn every_truncation_is_refused_without_panicking() {
    let bytes = small_sdist();
    for len in 0..bytes.len() {
        let err = read(&bytes[..len]).expect_err("a truncated sdist is invalid");
        assert!(err.is_client_error(), "length {len}: {err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn corrupted_bytes_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = small_sdist().to_vec();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        let _ = read(&bytes);
    }

    #[test]
    fn corrupted_tar_streams_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut tar = hostile::base_sdist().build_tar();
        for (index, value) in flips {
            let at = index.index(tar.len());
            tar[at] = value;
        }
        let _ = read(&gzip(&tar));
    }
}
