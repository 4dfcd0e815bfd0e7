//! Broken and malicious archives, for testing that readers refuse them.
//!
//! Real writers refuse to produce most of these, so this module has its own minimal ZIP
//! writer ([`RawZip`]) and tar writer ([`RawTar`]) that write exactly what they are told.
//! Each named function documents the one defect it plants; everything else about the
//! archive is valid, so a reader that refuses it can only be refusing that defect.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

use crate::{gzip, record_for, SdistBuilder, WheelBuilder};

/// ZIP compression method numbers.
pub const STORED: u16 = 0;
/// Deflate.
pub const DEFLATED: u16 = 8;
/// bzip2, which wheels may not use.
pub const BZIP2: u16 = 12;

/// Unix mode bits for a regular file, as stored in the high half of external attributes.
pub const MODE_FILE: u32 = 0o100_644;
/// Unix mode bits for a symbolic link.
pub const MODE_SYMLINK: u32 = 0o120_777;
/// Unix mode bits for a FIFO.
pub const MODE_FIFO: u32 = 0o010_644;

/// One member for [`RawZip`]. Fields default to an honest, deflated regular file.
#[derive(Debug, Clone)]
pub struct RawEntry {
    /// The name in the central directory.
    pub name: Vec<u8>,
    /// The name in the local header, when it should differ from `name`.
    pub local_name: Option<Vec<u8>>,
    /// The uncompressed content.
    pub data: Vec<u8>,
    /// `STORED` and `DEFLATED` compress accordingly; any other method stores the data raw
    /// but labels it with that method.
    pub method: u16,
    /// General-purpose flags, written to both headers.
    pub flags: u16,
    /// Unix mode bits, written to the external attributes of a Unix-made entry.
    pub unix_mode: u32,
    /// Extra field for the local header only.
    pub local_extra: Vec<u8>,
    /// The uncompressed size to declare, when it should differ from the real one.
    pub declared_size: Option<u32>,
    /// Write CRC and sizes in a data descriptor after the data, as streaming writers do,
    /// leaving zeros in the local header.
    pub data_descriptor: bool,
    /// Bytes written just before the local header, outside any member.
    pub gap_before: Vec<u8>,
}

impl RawEntry {
    /// An honest deflated regular file.
    pub fn new(name: impl Into<Vec<u8>>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            local_name: None,
            data: data.into(),
            method: DEFLATED,
            flags: 0x0800,
            unix_mode: MODE_FILE,
            local_extra: Vec::new(),
            declared_size: None,
            data_descriptor: false,
            gap_before: Vec::new(),
        }
    }
}

/// A ZIP written byte by byte, with room for every kind of lie.
#[derive(Debug, Clone, Default)]
pub struct RawZip {
    /// Members in order.
    pub entries: Vec<RawEntry>,
    /// Bytes before the first member (offsets in the archive include them).
    pub prefix: Vec<u8>,
    /// Bytes after the end of central directory record.
    pub suffix: Vec<u8>,
}

impl RawZip {
    /// A raw ZIP of every member of a valid wheel, deflated.
    pub fn from_wheel(wheel: &WheelBuilder) -> Self {
        Self::from_members(wheel.members())
    }

    /// A raw ZIP of the given members, deflated.
    pub fn from_members(members: Vec<(String, Vec<u8>)>) -> Self {
        Self {
            entries: members
                .into_iter()
                .map(|(name, data)| RawEntry::new(name, data))
                .collect(),
            ..Self::default()
        }
    }

    /// Appends a member.
    pub fn push(mut self, entry: RawEntry) -> Self {
        self.entries.push(entry);
        self
    }

    /// Writes the archive.
    pub fn build(&self) -> Vec<u8> {
        let mut out = self.prefix.clone();
        let mut central = Vec::new();
        for entry in &self.entries {
            out.extend_from_slice(&entry.gap_before);
            let offset = out.len() as u32;
            let compressed = match entry.method {
                DEFLATED => deflate(&entry.data),
                _ => entry.data.clone(),
            };
            let mut crc = Crc::new();
            crc.update(&entry.data);
            let crc = crc.sum();
            let size = entry.declared_size.unwrap_or(entry.data.len() as u32);
            let local_name = entry.local_name.as_ref().unwrap_or(&entry.name);

            let flags = entry.flags | if entry.data_descriptor { 0x0008 } else { 0 };
            let (local_crc, local_csize, local_size) = if entry.data_descriptor {
                (0, 0, 0)
            } else {
                (crc, compressed.len() as u32, size)
            };

            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&entry.method.to_le_bytes());
            out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date: 1980-01-01
            out.extend_from_slice(&local_crc.to_le_bytes());
            out.extend_from_slice(&local_csize.to_le_bytes());
            out.extend_from_slice(&local_size.to_le_bytes());
            out.extend_from_slice(&(local_name.len() as u16).to_le_bytes());
            out.extend_from_slice(&(entry.local_extra.len() as u16).to_le_bytes());
            out.extend_from_slice(local_name);
            out.extend_from_slice(&entry.local_extra);
            out.extend_from_slice(&compressed);
            if entry.data_descriptor {
                out.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
                out.extend_from_slice(&crc.to_le_bytes());
                out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
                out.extend_from_slice(&size.to_le_bytes());
            }

            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&(3u16 << 8 | 20).to_le_bytes()); // made by Unix
            central.extend_from_slice(&20u16.to_le_bytes());
            central.extend_from_slice(&flags.to_le_bytes());
            central.extend_from_slice(&entry.method.to_le_bytes());
            central.extend_from_slice(&[0, 0, 0x21, 0]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes()); // extra
            central.extend_from_slice(&0u16.to_le_bytes()); // comment
            central.extend_from_slice(&0u16.to_le_bytes()); // disk
            central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            central.extend_from_slice(&(entry.unix_mode << 16).to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(&entry.name);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // disk numbers
        let count = self.entries.len() as u16;
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // comment length
        out.extend_from_slice(&self.suffix);
        out
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// The wheel most hostile variants start from: `demo-pkg` 1.0 with one module.
pub fn base_wheel() -> WheelBuilder {
    WheelBuilder::new("demo-pkg", "1.0")
        .summary("A demo package")
        .file("demo_pkg/__init__.py", "print('hello')\n")
}

/// The sdist most hostile variants start from: `demo-pkg` 1.0 with one module.
pub fn base_sdist() -> SdistBuilder {
    SdistBuilder::new("demo-pkg", "1.0").file("demo_pkg/__init__.py", "print('hello')\n")
}

/// A valid wheel written by [`RawZip`], recorded in RECORD with `extra` added as members.
fn wheel_with_members(extra: &[(&str, &[u8])]) -> RawZip {
    let mut wheel = base_wheel();
    for (path, contents) in extra {
        wheel = wheel.file(path, contents.to_vec());
    }
    RawZip::from_wheel(&wheel)
}

/// A wheel with a member named `../evil.py` (listed in RECORD).
pub fn wheel_with_path_traversal() -> Vec<u8> {
    wheel_with_members(&[("../evil.py", b"evil")]).build()
}

/// A wheel with a member named `/etc/evil.py` (listed in RECORD).
pub fn wheel_with_absolute_path() -> Vec<u8> {
    wheel_with_members(&[("/etc/evil.py", b"evil")]).build()
}

/// A wheel with a member whose name contains a backslash.
pub fn wheel_with_backslash_name() -> Vec<u8> {
    wheel_with_members(&[("demo_pkg\\evil.py", b"evil")]).build()
}

/// A wheel with `demo_pkg/__init__.py` twice, the second copy different from the first.
pub fn wheel_with_duplicate_entry() -> Vec<u8> {
    RawZip::from_wheel(&base_wheel())
        .push(RawEntry::new("demo_pkg/__init__.py", "import os\n"))
        .build()
}

/// A wheel with `demo_pkg/util.py` and `demo_pkg/UTIL.py`, which collide on
/// case-insensitive file systems.
pub fn wheel_with_case_collision() -> Vec<u8> {
    wheel_with_members(&[("demo_pkg/util.py", b"a"), ("demo_pkg/UTIL.py", b"b")]).build()
}

/// A valid wheel whose `demo_pkg/zeros.bin` holds `mib` MiB of zeros; deflate turns that
/// into about a thousandth of the size, far past the ratio rule once above 64 MiB.
pub fn zip_bomb_wheel(mib: usize) -> Vec<u8> {
    base_wheel()
        .file("demo_pkg/zeros.bin", vec![0u8; mib * 1024 * 1024])
        .build()
}

/// A wheel whose member declares 16 bytes uncompressed but inflates to 1 MiB: the lie that
/// lets a bomb slip past readers that trust declared sizes.
pub fn wheel_with_understated_size() -> Vec<u8> {
    let wheel = base_wheel().file("demo_pkg/data.bin", vec![0u8; 1024 * 1024]);
    let mut zip = RawZip::from_wheel(&wheel);
    for entry in &mut zip.entries {
        if entry.name == b"demo_pkg/data.bin" {
            entry.declared_size = Some(16);
        }
    }
    zip.build()
}

/// A valid wheel followed by eight stray bytes.
pub fn wheel_with_trailing_data() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    zip.suffix = b"TRAILING".to_vec();
    zip.build()
}

/// A valid wheel preceded by a shell stub, as self-extracting archives are.
pub fn wheel_with_prepended_data() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    zip.prefix = b"#!/bin/sh\nexec python3 -c 'evil'\n".to_vec();
    zip.build()
}

/// A wheel whose `demo_pkg/__init__.py` differs from the content RECORD hashed.
pub fn wheel_with_record_mismatch() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    for entry in &mut zip.entries {
        if entry.name == b"demo_pkg/__init__.py" {
            entry.data = b"print('HELLO')\n".to_vec();
        }
    }
    zip.build()
}

/// A wheel with `demo_pkg/hidden.py`, which RECORD does not list.
pub fn wheel_with_unrecorded_file() -> Vec<u8> {
    RawZip::from_wheel(&base_wheel())
        .push(RawEntry::new("demo_pkg/hidden.py", "import os\n"))
        .build()
}

/// A wheel whose RECORD lists `demo_pkg/ghost.py`, which the archive lacks.
pub fn wheel_with_record_listing_missing_file() -> Vec<u8> {
    let wheel = base_wheel();
    let mut members = wheel.members();
    let record_path = format!("{}/RECORD", wheel.dist_info_dir());
    members.retain(|(path, _)| *path != record_path);
    let mut listed = members.clone();
    listed.push(("demo_pkg/ghost.py".into(), b"boo".to_vec()));
    let record = record_for(&listed, &record_path);
    members.push((record_path, record));
    RawZip::from_members(members).build()
}

/// A wheel whose RECORD is replaced by `record`, verbatim.
pub fn wheel_with_record(record: &[u8]) -> Vec<u8> {
    let wheel = base_wheel();
    let record_path = format!("{}/RECORD", wheel.dist_info_dir());
    let mut zip = RawZip::from_wheel(&wheel);
    for entry in &mut zip.entries {
        if entry.name == record_path.as_bytes() {
            entry.data = record.to_vec();
        }
    }
    zip.build()
}

/// A wheel with bytes hidden between two members, where a second archive could live.
pub fn wheel_with_gap_between_members() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    zip.entries[1].gap_before = b"hidden payload".to_vec();
    zip.build()
}

/// A wheel whose module's local header names it `demo_pkg/other.py` while the central
/// directory says `demo_pkg/__init__.py`: tools reading either would see different files.
pub fn wheel_with_local_header_mismatch() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    zip.entries[0].local_name = Some(b"demo_pkg/other.py".to_vec());
    zip.build()
}

/// A wheel with `demo_pkg/link.py`, a symbolic link to `/etc/passwd` (listed in RECORD).
pub fn wheel_with_symlink() -> Vec<u8> {
    let mut zip = wheel_with_members(&[("demo_pkg/link.py", b"/etc/passwd")]);
    for entry in &mut zip.entries {
        if entry.name == b"demo_pkg/link.py" {
            entry.unix_mode = MODE_SYMLINK;
        }
    }
    zip.build()
}

/// A wheel with `demo_pkg/pipe`, marked as a FIFO (listed in RECORD).
pub fn wheel_with_fifo() -> Vec<u8> {
    let mut zip = wheel_with_members(&[("demo_pkg/pipe", b"")]);
    for entry in &mut zip.entries {
        if entry.name == b"demo_pkg/pipe" {
            entry.unix_mode = MODE_FIFO;
        }
    }
    zip.build()
}

/// A wheel whose module is labelled with compression `method` (stored bytes underneath).
pub fn wheel_with_compression_method(method: u16) -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    zip.entries[0].method = method;
    zip.build()
}

/// A wheel whose module has the encryption flag set.
pub fn wheel_with_encrypted_member() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    zip.entries[0].flags |= 0x0001;
    zip.build()
}

/// A wheel whose module has a non-ASCII name without the UTF-8 flag, which tools decode as
/// code page 437 or UTF-8 depending on who reads it.
pub fn wheel_with_unflagged_non_ascii_name() -> Vec<u8> {
    let mut zip = wheel_with_members(&[("demo_pkg/caf\u{e9}.py", b"x")]);
    for entry in &mut zip.entries {
        if entry.name == "demo_pkg/caf\u{e9}.py".as_bytes() {
            entry.flags &= !0x0800;
        }
    }
    zip.build()
}

/// A wheel with more than one top-level `.dist-info` directory.
pub fn wheel_with_two_dist_infos() -> Vec<u8> {
    wheel_with_members(&[("other-2.0.dist-info/METADATA", b"Name: other\n")]).build()
}

/// A ZIP of the base wheel without any `.dist-info` members.
pub fn wheel_without_dist_info() -> Vec<u8> {
    let mut members = base_wheel().members();
    members.retain(|(path, _)| !path.contains(".dist-info/"));
    RawZip::from_members(members).build()
}

/// The base wheel without `{dist-info}/{file}` (its RECORD does not list it either).
pub fn wheel_without(file: &str) -> Vec<u8> {
    let wheel = base_wheel();
    let dist_info = wheel.dist_info_dir();
    let record_path = format!("{dist_info}/RECORD");
    let missing = format!("{dist_info}/{file}");
    let mut members: Vec<_> = wheel
        .members()
        .into_iter()
        .filter(|(path, _)| *path != missing && *path != record_path)
        .collect();
    if file != "RECORD" {
        let record = record_for(&members, &record_path);
        members.push((record_path, record));
    }
    RawZip::from_members(members).build()
}

/// A wheel whose first 512 bytes are also a valid tar header: the first member's local
/// extra field carries a tar checksum, so tar readers accept the file too.
pub fn wheel_tar_polyglot() -> Vec<u8> {
    let mut zip = RawZip::from_wheel(&base_wheel());
    let header_len = 30 + zip.entries[0].name.len() + 4;
    let data_len = 512 - header_len;
    let mut extra = vec![0xFE, 0xCA];
    extra.extend_from_slice(&(data_len as u16).to_le_bytes());
    extra.extend(std::iter::repeat_n(0u8, data_len));
    zip.entries[0].local_extra = extra;
    let mut bytes = zip.build();
    let sum: u32 = bytes[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    bytes[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    bytes
}

/// Rewrites a comment-less ZIP so that a ZIP64 end record and locator precede its end
/// record. With `saturate`, the 32-bit end record fields are set to their "see ZIP64"
/// values; `entries64` makes the ZIP64 record claim a different entry count.
pub fn with_zip64_end_record(zip: &[u8], saturate: bool, entries64: Option<u64>) -> Vec<u8> {
    let end_at = zip.len() - 22;
    let end = &zip[end_at..];
    let entries = u16::from_le_bytes([end[10], end[11]]);
    let cd_size = u32::from_le_bytes([end[12], end[13], end[14], end[15]]);
    let cd_offset = u32::from_le_bytes([end[16], end[17], end[18], end[19]]);
    let mut out = zip[..end_at].to_vec();
    let zip64_at = out.len() as u64;
    out.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
    out.extend_from_slice(&44u64.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]); // disk numbers
    let count = entries64.unwrap_or(u64::from(entries));
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&u64::from(cd_size).to_le_bytes());
    out.extend_from_slice(&u64::from(cd_offset).to_le_bytes());
    out.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&zip64_at.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let mut end = end.to_vec();
    if saturate {
        end[8..12].copy_from_slice(&[0xFF; 4]);
        end[12..20].copy_from_slice(&[0xFF; 8]);
    }
    out.extend_from_slice(&end);
    out
}

/// A tar stream written header by header, with room for every kind of lie.
#[derive(Debug, Clone, Default)]
pub struct RawTar {
    bytes: Vec<u8>,
}

/// Tar type flags.
pub mod tar_type {
    /// Regular file.
    pub const FILE: u8 = b'0';
    /// Hard link.
    pub const HARD_LINK: u8 = b'1';
    /// Symbolic link.
    pub const SYMLINK: u8 = b'2';
    /// Character device.
    pub const CHAR_DEVICE: u8 = b'3';
    /// Block device.
    pub const BLOCK_DEVICE: u8 = b'4';
    /// Directory.
    pub const DIRECTORY: u8 = b'5';
    /// FIFO.
    pub const FIFO: u8 = b'6';
    /// pax header for the next member.
    pub const PAX: u8 = b'x';
    /// pax header for all later members.
    pub const PAX_GLOBAL: u8 = b'g';
    /// GNU long name for the next member.
    pub const GNU_LONG_NAME: u8 = b'L';
    /// GNU sparse file.
    pub const GNU_SPARSE: u8 = b'S';
}

impl RawTar {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every file of a valid sdist, in order.
    pub fn from_sdist(sdist: &SdistBuilder) -> Self {
        let mut tar = Self::new().entry(
            format!("{}/", sdist.top_dir()).as_bytes(),
            tar_type::DIRECTORY,
            b"",
        );
        for (path, contents) in sdist.members() {
            tar = tar.entry(path.as_bytes(), tar_type::FILE, &contents);
        }
        tar
    }

    /// A header (ustar, name up to 100 bytes, stored verbatim) followed by `data`.
    pub fn entry(self, name: &[u8], type_flag: u8, data: &[u8]) -> Self {
        self.entry_with_size(name, type_flag, data, data.len() as u64)
    }

    /// A header declaring `size` bytes, followed by `data` padded to a block.
    pub fn entry_with_size(mut self, name: &[u8], type_flag: u8, data: &[u8], size: u64) -> Self {
        self.bytes
            .extend_from_slice(&header(name, type_flag, size, b""));
        self.push_data(data);
        self
    }

    /// A link header pointing at `target`.
    pub fn link(mut self, name: &[u8], type_flag: u8, target: &[u8]) -> Self {
        self.bytes
            .extend_from_slice(&header(name, type_flag, 0, target));
        self
    }

    /// A pax header (`x`, or `g` for global) carrying `records` for what follows.
    pub fn pax(self, type_flag: u8, records: &[(&str, &[u8])]) -> Self {
        let mut body = Vec::new();
        for (key, value) in records {
            let payload_len = 1 + key.len() + 1 + value.len() + 1;
            // The length prefix counts its own digits.
            let mut total = payload_len + 1;
            while total != payload_len + total.to_string().len() {
                total = payload_len + total.to_string().len();
            }
            body.extend_from_slice(format!("{total} {key}=").as_bytes());
            body.extend_from_slice(value);
            body.push(b'\n');
        }
        self.entry(b"././@PaxHeader", type_flag, &body)
    }

    /// Raw bytes appended to the stream as they are.
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// The stream with its two zero blocks of end-of-archive marker.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0u8; 1024]);
        self.bytes
    }

    /// [`RawTar::finish`], gzip-compressed.
    pub fn finish_gz(self) -> Vec<u8> {
        gzip(&self.finish())
    }

    fn push_data(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        let padding = (512 - data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0u8, padding));
    }
}

/// A ustar header with a correct checksum.
fn header(name: &[u8], type_flag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut block = [0u8; 512];
    block[..name.len()].copy_from_slice(name);
    block[100..108].copy_from_slice(b"0000644\0");
    block[108..116].copy_from_slice(b"0000000\0");
    block[116..124].copy_from_slice(b"0000000\0");
    block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    block[136..148].copy_from_slice(b"00000000000\0");
    block[156] = type_flag;
    block[157..157 + link.len()].copy_from_slice(link);
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    block
}

fn base_sdist_tar() -> RawTar {
    RawTar::from_sdist(&base_sdist())
}

/// An sdist with `demo_pkg-1.0/link`, a symbolic link to `/etc/passwd`.
pub fn sdist_with_symlink() -> Vec<u8> {
    base_sdist_tar()
        .link(b"demo_pkg-1.0/link", tar_type::SYMLINK, b"/etc/passwd")
        .finish_gz()
}

/// An sdist with `demo_pkg-1.0/hard`, a hard link to `demo_pkg-1.0/PKG-INFO`.
pub fn sdist_with_hardlink() -> Vec<u8> {
    base_sdist_tar()
        .link(
            b"demo_pkg-1.0/hard",
            tar_type::HARD_LINK,
            b"demo_pkg-1.0/PKG-INFO",
        )
        .finish_gz()
}

/// An sdist with a member of the given type flag (device, FIFO, sparse, ...).
pub fn sdist_with_member_type(type_flag: u8) -> Vec<u8> {
    base_sdist_tar()
        .entry(b"demo_pkg-1.0/special", type_flag, b"")
        .finish_gz()
}

/// An sdist with a member named `demo_pkg-1.0/../../evil.py`.
pub fn sdist_with_path_traversal() -> Vec<u8> {
    base_sdist_tar()
        .entry(b"demo_pkg-1.0/../../evil.py", tar_type::FILE, b"evil")
        .finish_gz()
}

/// An sdist with a member named `/tmp/evil.py`.
pub fn sdist_with_absolute_path() -> Vec<u8> {
    base_sdist_tar()
        .entry(b"/tmp/evil.py", tar_type::FILE, b"evil")
        .finish_gz()
}

/// An sdist whose `setup.py` sits beside the top-level directory, in a second one.
pub fn sdist_with_two_top_dirs() -> Vec<u8> {
    base_sdist_tar()
        .entry(b"other-1.0/setup.py", tar_type::FILE, b"evil")
        .finish_gz()
}

/// An sdist with a regular file at the top level, outside any directory.
pub fn sdist_with_top_level_file() -> Vec<u8> {
    base_sdist_tar()
        .entry(b"setup.py", tar_type::FILE, b"evil")
        .finish_gz()
}

/// An sdist without `PKG-INFO`.
pub fn sdist_without_pkg_info() -> Vec<u8> {
    let sdist = base_sdist();
    let mut tar = RawTar::new();
    for (path, contents) in sdist.members() {
        if !path.ends_with("/PKG-INFO") {
            tar = tar.entry(path.as_bytes(), tar_type::FILE, &contents);
        }
    }
    tar.finish_gz()
}

/// An sdist with `PKG-INFO` twice: tar extractors keep the last copy, so the second
/// could smuggle different metadata past a reader that stops at the first.
pub fn sdist_with_duplicate_member() -> Vec<u8> {
    base_sdist_tar()
        .entry(
            b"demo_pkg-1.0/PKG-INFO",
            tar_type::FILE,
            b"Metadata-Version: 2.1\nName: evil\nVersion: 6.6.6\n",
        )
        .finish_gz()
}

/// An sdist with non-zero bytes after the tar end-of-archive marker.
pub fn sdist_with_trailing_tar_data() -> Vec<u8> {
    gzip(&[base_sdist_tar().finish(), b"PK hidden payload".to_vec()].concat())
}

/// A valid sdist followed by bytes that are not gzip.
pub fn sdist_with_trailing_garbage() -> Vec<u8> {
    let mut bytes = base_sdist().build();
    bytes.extend_from_slice(b"TRAILING");
    bytes
}

/// An sdist whose module has a pax `size` record that disagrees with its header size.
pub fn sdist_with_pax_size_mismatch() -> Vec<u8> {
    base_sdist_tar()
        .pax(tar_type::PAX, &[("size", b"4")])
        .entry(b"demo_pkg-1.0/extra.py", tar_type::FILE, b"evil!!!!")
        .finish_gz()
}

/// An sdist with a global pax header that renames every later member.
pub fn sdist_with_global_pax_path() -> Vec<u8> {
    RawTar::new()
        .pax(tar_type::PAX_GLOBAL, &[("path", b"evil.py")])
        .raw(&base_sdist_tar().finish())
        .finish_gz()
}

/// A valid sdist whose module's name comes from a pax `path` record longer than the
/// 100 bytes a ustar header holds.
pub fn sdist_with_pax_long_name(long_name: &str) -> Vec<u8> {
    base_sdist_tar()
        .pax(tar_type::PAX, &[("path", long_name.as_bytes())])
        .entry(b"placeholder", tar_type::FILE, b"x = 1\n")
        .finish_gz()
}

/// A valid tar.gz whose bytes end with a ZIP end-of-central-directory record, so ZIP
/// readers open it too. The record sits at the end of the last member's content, and the
/// gzip stream stores it uncompressed, with the record's comment covering the rest.
pub fn sdist_zip_polyglot() -> Vec<u8> {
    let mut eocd = 0x0605_4b50u32.to_le_bytes().to_vec();
    eocd.extend_from_slice(&[0u8; 18]);
    let build = |eocd: &[u8]| {
        gzip_stored(
            &base_sdist_tar()
                .entry(b"demo_pkg-1.0/z.bin", tar_type::FILE, eocd)
                .finish(),
        )
    };
    let draft = build(&eocd);
    let sig = 0x0605_4b50u32.to_le_bytes();
    let at = draft
        .windows(4)
        .rposition(|w| w == sig)
        .expect("the record is stored verbatim");
    let comment_len = (draft.len() - at - 22) as u16;
    eocd[20..22].copy_from_slice(&comment_len.to_le_bytes());
    build(&eocd)
}

/// A valid sdist whose first 512 bytes are also a plain tar header: the gzip header's file
/// name field carries the tar fields and checksum, so format-sniffing tar readers take the
/// file as an uncompressed tar.
pub fn sdist_tar_polyglot() -> Vec<u8> {
    let gz = base_sdist().build();
    let mut block = [b'a'; 512];
    // Gzip header with FNAME set; the name runs through the whole block.
    block[..10].copy_from_slice(&[0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 255]);
    block[100..108].copy_from_slice(b"0000644 ");
    block[108..116].copy_from_slice(b"0000000 ");
    block[116..124].copy_from_slice(b"0000000 ");
    block[124..136].copy_from_slice(b"00000000000 ");
    block[136..148].copy_from_slice(b"00000000000 ");
    block[156] = b'0';
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    block[148..156].copy_from_slice(format!("{sum:07o} ").as_bytes());
    let mut out = block.to_vec();
    out.push(0); // end of the file name
                 // The original member without its 10-byte header (it has no optional fields).
    out.extend_from_slice(&gz[10..]);
    out
}

/// An sdist whose `demo_pkg-1.0/zeros.bin` holds `mib` MiB of zeros.
pub fn sdist_bomb(mib: usize) -> Vec<u8> {
    base_sdist()
        .file("zeros.bin", vec![0u8; mib * 1024 * 1024])
        .build()
}

/// gzip with stored (uncompressed) deflate blocks, so chosen bytes appear verbatim in the
/// compressed file.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(0xFFFF).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(chunk) = chunks.next() {
        let is_final = chunks.peek().is_none();
        out.push(u8::from(is_final));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn raw_zip_of_a_wheel_has_one_entry_per_member() {
        let wheel = base_wheel();
        let bytes = RawZip::from_wheel(&wheel).build();
        let count = bytes.windows(4).filter(|w| *w == b"PK\x01\x02").count();
        assert_eq!(count, wheel.members().len());
    }

    #[test]
    fn stored_gzip_decodes_to_its_input() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(gzip_stored(&data).as_slice())
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, data);
    }

    #[test]
    fn raw_tar_is_readable_by_the_tar_crate() {
        let tar = RawTar::from_sdist(&base_sdist())
            .pax(tar_type::PAX, &[("path", b"demo_pkg-1.0/long")])
            .entry(b"x", tar_type::FILE, b"1")
            .finish();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names.last().map(String::as_str), Some("demo_pkg-1.0/long"));
        assert_eq!(names.len(), 5);
    }
}
