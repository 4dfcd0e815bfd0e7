//! `read_wheel` against valid wheels and every hostile variant in `wharf_testkit::hostile`.

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::OnceLock;

use proptest::prelude::*;
use wharf_artifact::{read_wheel, ArtifactError, Limits, WheelInfo};
use wharf_testkit::hostile::{self, RawEntry, RawZip};
use wharf_testkit::{record_for, record_hash, WheelBuilder};

fn read(bytes: &[u8]) -> Result<WheelInfo, ArtifactError> {
    read_wheel(Cursor::new(bytes), &Limits::default())
}

/// Reads `bytes`, expecting a refusal with `code` whose message mentions every `needle`.
#[track_caller]
fn refuse(bytes: &[u8], limits: &Limits, code: &str, needles: &[&str]) -> ArtifactError {
    let err = read_wheel(Cursor::new(bytes), limits).expect_err("the wheel should be refused");
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
fn a_valid_wheel_is_read_completely() {
    let builder = WheelBuilder::new("demo-pkg", "1.0")
        .summary("A demo")
        .requires_python(">=3.9")
        .description("# Demo\n\nLong text.\n")
        .file("demo_pkg/__init__.py", "print('hi')\n")
        .file("demo_pkg/data, with comma.txt", "x");
    let info = read(&builder.build()).expect("valid wheel");
    assert_eq!(info.dist_info_dir, "demo_pkg-1.0.dist-info");
    assert_eq!(info.metadata.name, "demo-pkg");
    assert_eq!(info.metadata.version, "1.0");
    assert_eq!(info.metadata.summary.as_deref(), Some("A demo"));
    assert_eq!(info.metadata.requires_python.as_deref(), Some(">=3.9"));
    assert_eq!(
        info.metadata.description.as_deref(),
        Some("# Demo\n\nLong text.\n")
    );
    assert_eq!(info.metadata_bytes, builder.metadata_bytes());
    let members = builder.members();
    assert_eq!(info.entry_count, members.len());
    let total: usize = members.iter().map(|(_, c)| c.len()).sum();
    assert_eq!(info.uncompressed_size, total as u64);
}

#[test]
fn stored_members_directories_and_data_descriptors_are_accepted() {
    let wheel = hostile::base_wheel();
    let mut zip = RawZip::from_wheel(&wheel);
    zip.entries[0].method = hostile::STORED;
    zip.entries[1].data_descriptor = true;
    let mut dir = RawEntry::new("demo_pkg/", "");
    dir.unix_mode = 0o040_755;
    zip.entries.insert(0, dir);
    let info = read(&zip.build()).expect("valid wheel");
    assert_eq!(info.entry_count, wheel.members().len() + 1);
    assert_eq!(info.metadata.name, "demo-pkg");
}

#[test]
fn zip64_size_fields_are_understood() {
    let builder = hostile::base_wheel();
    let bytes = builder.build_zip64();
    let info = read(&bytes).expect("valid ZIP64 wheel");
    assert_eq!(info.metadata_bytes, builder.metadata_bytes());
}

#[test]
fn zip64_end_records_are_understood_and_cross_checked() {
    let plain = hostile::base_wheel().build();
    for saturate in [false, true] {
        let bytes = hostile::with_zip64_end_record(&plain, saturate, None);
        assert!(read(&bytes).is_ok(), "saturate = {saturate}");
    }
    refuse_default(
        &hostile::with_zip64_end_record(&plain, false, Some(5)),
        "archive.inconsistent-headers",
        &["ZIP64 end record disagrees"],
    );
    // Saturated fields leave the ZIP64 count as the only one, so it must be accurate.
    refuse_default(
        &hostile::with_zip64_end_record(&plain, true, Some(5)),
        "archive.inconsistent-headers",
        &["central directory"],
    );
}

#[test]
fn a_data_descriptor_that_disagrees_is_refused() {
    let mut zip = RawZip::from_wheel(&hostile::base_wheel());
    zip.entries[0].data_descriptor = true;
    let mut bytes = zip.build();
    // The descriptor's CRC sits right after its signature.
    let at = bytes
        .windows(4)
        .position(|w| w == 0x0807_4b50u32.to_le_bytes())
        .unwrap();
    bytes[at + 4] ^= 0xFF;
    refuse_default(
        &bytes,
        "archive.inconsistent-headers",
        &["demo_pkg/__init__.py", "data descriptor"],
    );
}

#[test]
fn traversal_and_absolute_names_are_refused() {
    refuse_default(
        &hostile::wheel_with_path_traversal(),
        "archive.path-traversal",
        &["archive member '../evil.py' escapes the archive (path traversal)"],
    );
    refuse_default(
        &hostile::wheel_with_absolute_path(),
        "archive.path-traversal",
        &["'/etc/evil.py'", "absolute path"],
    );
}

#[test]
fn unclean_names_are_refused() {
    refuse_default(
        &hostile::wheel_with_backslash_name(),
        "archive.bad-name",
        &["demo_pkg\\evil.py", "backslash"],
    );
    refuse_default(
        &hostile::wheel_with_unflagged_non_ascii_name(),
        "archive.bad-name",
        &["demo_pkg/caf", "UTF-8 flag"],
    );
}

#[test]
fn a_unicode_path_field_that_could_rename_a_member_is_refused() {
    let mut zip = RawZip::from_wheel(&hostile::base_wheel());
    let mut field = vec![0x75, 0x70, 10, 0, 1, 0, 0, 0, 0];
    field.extend_from_slice(b"x.py");
    field[2] = (field.len() - 4) as u8;
    zip.entries[0].local_extra = field;
    refuse_default(
        &zip.build(),
        "archive.bad-name",
        &["'demo_pkg/__init__.py'", "Unicode Path"],
    );
}

#[test]
fn duplicate_and_colliding_names_are_refused() {
    refuse_default(
        &hostile::wheel_with_duplicate_entry(),
        "archive.duplicate-entry",
        &["'demo_pkg/__init__.py' duplicates 'demo_pkg/__init__.py'"],
    );
    refuse_default(
        &hostile::wheel_with_case_collision(),
        "archive.duplicate-entry",
        &["'demo_pkg/UTIL.py' duplicates 'demo_pkg/util.py'"],
    );
}

fn bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| hostile::zip_bomb_wheel(70))
}

#[test]
fn a_zip_bomb_is_stopped_while_decompressing() {
    let bytes = bomb();
    assert!(bytes.len() < 1024 * 1024, "the bomb should be small");
    let err = refuse_default(bytes, "archive.zip-bomb", &["demo_pkg/zeros.bin"]);
    let ArtifactError::ZipBomb { uncompressed, .. } = err else {
        unreachable!("checked by code")
    };
    // Stopped within one chunk of the threshold, not after inflating all 70 MiB.
    let threshold = Limits::default().bomb_threshold;
    assert!(uncompressed > threshold && uncompressed <= threshold + 64 * 1024);
}

#[test]
fn the_same_bytes_pass_when_the_ratio_rule_allows_them() {
    let limits = Limits {
        bomb_threshold: 100 * 1024 * 1024,
        ..Limits::default()
    };
    let info = read_wheel(Cursor::new(bomb()), &limits).expect("allowed by the limits");
    assert!(info.uncompressed_size > 70 * 1024 * 1024);
}

#[test]
fn an_understated_size_is_caught_by_counting() {
    refuse_default(
        &hostile::wheel_with_understated_size(),
        "archive.inconsistent-headers",
        &["demo_pkg/data.bin", "more than the 16 bytes"],
    );
}

#[test]
fn size_limits_apply() {
    let bytes = hostile::base_wheel().build();
    refuse(
        &bytes,
        &Limits {
            max_entries: 3,
            ..Limits::default()
        },
        "archive.too-many-entries",
        &["more than 3 members"],
    );
    refuse(
        &bytes,
        &Limits {
            max_member_size: 20,
            ..Limits::default()
        },
        "archive.too-large",
        &["demo_pkg-1.0.dist-info/METADATA", "20 bytes"],
    );
    refuse(
        &bytes,
        &Limits {
            max_total_uncompressed: 100,
            ..Limits::default()
        },
        "archive.too-large",
        &["more than the limit of 100 bytes", "demo_pkg-1.0.dist-info"],
    );
    refuse(
        &bytes,
        &Limits {
            max_metadata_bytes: 10,
            ..Limits::default()
        },
        "metadata.too-large",
        &["'demo_pkg-1.0.dist-info/METADATA' is larger than the limit of 10 bytes"],
    );
    refuse(
        &bytes,
        &Limits {
            max_record_bytes: 10,
            ..Limits::default()
        },
        "archive.too-large",
        &["demo_pkg-1.0.dist-info/RECORD"],
    );
}

#[test]
fn framing_outside_the_archive_is_refused() {
    refuse_default(
        &hostile::wheel_with_trailing_data(),
        "archive.trailing-data",
        &["8 bytes follow"],
    );
    refuse_default(
        &hostile::wheel_with_prepended_data(),
        "archive.prepended-data",
        &["precedes the first ZIP member"],
    );
    refuse_default(
        &hostile::wheel_tar_polyglot(),
        "archive.polyglot",
        &["tar archive"],
    );
}

#[test]
fn non_zip_input_is_refused() {
    refuse_default(b"", "archive.not-zip", &["too short"]);
    refuse_default(
        &[7u8; 4096],
        "archive.not-zip",
        &["no end of central directory"],
    );
    refuse_default(
        &hostile::base_sdist().build(),
        "archive.not-zip",
        &["no end of central directory"],
    );
}

#[test]
fn local_headers_must_agree_with_the_central_directory() {
    refuse_default(
        &hostile::wheel_with_local_header_mismatch(),
        "archive.inconsistent-headers",
        &["'demo_pkg/__init__.py'", "'demo_pkg/other.py'"],
    );
}

#[test]
fn members_must_tile_the_archive_without_gaps() {
    refuse_default(
        &hostile::wheel_with_gap_between_members(),
        "archive.inconsistent-headers",
        &[
            "'demo_pkg-1.0.dist-info/METADATA'",
            "14 unexplained bytes precede it",
        ],
    );
}

#[test]
fn links_and_special_members_are_refused() {
    refuse_default(
        &hostile::wheel_with_symlink(),
        "archive.link",
        &["'demo_pkg/link.py' is a link"],
    );
    refuse_default(
        &hostile::wheel_with_fifo(),
        "archive.special-member",
        &["'demo_pkg/pipe' is a FIFO"],
    );
}

#[test]
fn only_stored_and_deflate_are_allowed() {
    refuse_default(
        &hostile::wheel_with_compression_method(hostile::BZIP2),
        "archive.compression-method",
        &["'demo_pkg/__init__.py' uses compression method 12"],
    );
    refuse_default(
        &hostile::wheel_with_encrypted_member(),
        "archive.encrypted",
        &["'demo_pkg/__init__.py' is encrypted"],
    );
}

#[test]
fn corrupt_data_is_refused() {
    let mut zip = RawZip::from_wheel(&hostile::base_wheel());
    zip.entries[0].method = hostile::STORED;
    let mut bytes = zip.build();
    let at = bytes
        .windows(5)
        .position(|w| w == b"print")
        .expect("stored data is verbatim");
    bytes[at] = b'P';
    refuse_default(
        &bytes,
        "archive.corrupt",
        &["'demo_pkg/__init__.py' is corrupt", "CRC-32"],
    );

    let mut zip = RawZip::from_wheel(&hostile::base_wheel());
    zip.entries[0].data = Vec::new();
    let mut bytes = zip.build();
    // An empty deflate stream is `03 00`; 0xFF is an invalid block type.
    let at = bytes
        .windows(2)
        .position(|w| w == [0x03, 0x00])
        .expect("the empty stream is present");
    bytes[at] = 0xFF;
    refuse_default(
        &bytes,
        "archive.corrupt",
        &["demo_pkg/__init__.py", "deflate"],
    );
}

#[test]
fn the_dist_info_layout_is_enforced() {
    refuse_default(
        &hostile::wheel_without_dist_info(),
        "wheel.missing-dist-info",
        &["no top-level '*.dist-info'"],
    );
    refuse_default(
        &hostile::wheel_with_two_dist_infos(),
        "wheel.multiple-dist-info",
        &["'other-2.0.dist-info'", "'demo_pkg-1.0.dist-info'"],
    );
    for file in ["METADATA", "WHEEL", "RECORD"] {
        let path = format!("'demo_pkg-1.0.dist-info/{file}'");
        refuse_default(
            &hostile::wheel_without(file),
            "wheel.missing-file",
            &[path.as_str()],
        );
    }
}

#[test]
fn record_hashes_and_sizes_are_verified() {
    refuse_default(
        &hostile::wheel_with_record_mismatch(),
        "wheel.record-mismatch",
        &["'demo_pkg/__init__.py' does not match RECORD", "digest"],
    );

    let wheel = hostile::base_wheel();
    let record_path = format!("{}/RECORD", wheel.dist_info_dir());
    let mut members = wheel.members();
    members.pop();
    let record = String::from_utf8(record_for(&members, &record_path)).unwrap();
    let wrong_size = record.replacen(",15\n", ",16\n", 1);
    assert_ne!(wrong_size, record, "the module is 15 bytes long");
    refuse_default(
        &hostile::wheel_with_record(wrong_size.as_bytes()),
        "wheel.record-mismatch",
        &["demo_pkg/__init__.py", "size as 16 bytes but it has 15"],
    );
}

#[test]
fn record_and_archive_must_list_the_same_files() {
    refuse_default(
        &hostile::wheel_with_unrecorded_file(),
        "wheel.record-missing-entry",
        &["'demo_pkg/hidden.py' is not listed in RECORD"],
    );
    refuse_default(
        &hostile::wheel_with_record_listing_missing_file(),
        "wheel.record-mismatch",
        &["'demo_pkg/ghost.py'", "no such member"],
    );
}

#[test]
fn malformed_record_files_are_refused() {
    let record_path = "demo_pkg-1.0.dist-info/RECORD";
    refuse_default(
        &hostile::wheel_with_record(b"just one field\n"),
        "wheel.record-invalid",
        &[record_path, "line 1", "expected 3 fields"],
    );
    let md5 = "demo_pkg/__init__.py,md5=AAAAAAAAAAAAAAAAAAAAAA,15\n";
    refuse_default(
        &hostile::wheel_with_record(md5.as_bytes()),
        "wheel.record-invalid",
        &["'md5' is not accepted"],
    );
    let unhashed = format!(
        "demo_pkg/__init__.py,,\ndemo_pkg-1.0.dist-info/METADATA,{},1\n",
        record_hash(b"")
    );
    refuse_default(
        &hostile::wheel_with_record(unhashed.as_bytes()),
        "wheel.record-invalid",
        &["'demo_pkg/__init__.py' has no hash"],
    );
}

#[test]
fn metadata_errors_name_the_member() {
    let bytes = WheelBuilder::new("demo-pkg", "1.0")
        .metadata_version("")
        .build();
    refuse_default(
        &bytes,
        "metadata.missing-field",
        &["'demo_pkg-1.0.dist-info/METADATA' lacks the required field 'Version'"],
    );
}

/// A reader that fails once `budget` bytes have been read.
struct FailingReader {
    inner: Cursor<Vec<u8>>,
    budget: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let len = buf.len().min(self.budget);
        let n = self.inner.read(&mut buf[..len])?;
        self.budget -= n;
        Ok(n)
    }
}

impl Seek for FailingReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn a_failing_reader_is_not_blamed_on_the_uploader() {
    let bytes = hostile::base_wheel().build();
    for budget in [0, 100, 1000] {
        let reader = FailingReader {
            inner: Cursor::new(bytes.clone()),
            budget,
        };
        let err = read_wheel(reader, &Limits::default()).expect_err("the reader fails");
        assert_eq!(err.code(), "io", "budget {budget}: {err}");
        assert!(!err.is_client_error());
    }
}

fn small_wheel() -> &'static [u8] {
    static WHEEL: OnceLock<Vec<u8>> = OnceLock::new();
    WHEEL.get_or_init(|| hostile::base_wheel().build())
}

#[test]
fn every_truncation_is_refused_without_panicking() {
    let bytes = small_wheel();
    for len in 0..bytes.len() {
        let err = read(&bytes[..len]).expect_err("a truncated wheel is invalid");
        assert!(err.is_client_error(), "length {len}: {err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn corrupted_bytes_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = small_wheel().to_vec();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        // Any answer is fine as long as it is an answer.
        let _ = read(&bytes);
    }
}
