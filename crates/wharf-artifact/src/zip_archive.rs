//! A strict ZIP reader for wheels.
//!
//! We read the structure ourselves instead of through the `zip` crate because that crate is
//! built to be lenient: it tolerates prepended and trailing data, keeps only the last of two
//! members with the same name, never compares local headers with the central directory, and
//! pre-allocates from the entry count an archive claims. Each of those leniencies is a way for
//! two tools to see different files in the same wheel.
//!
//! What this module guarantees for an archive it accepts:
//! - the file is exactly: local members back to back from offset 0, the central directory,
//!   (a ZIP64 end record and locator,) the end record and its comment, with no gaps;
//! - every central directory entry agrees with its local header (name bytes, method, flags,
//!   CRC and sizes, or the data descriptor that carries them);
//! - every name passed [`member_path::check`] and no two names collide;
//! - only stored or deflated, unencrypted regular files and directories.
//!
//! Decompression ([`extract`]) counts the bytes it produces and stops at the first byte past
//! any limit or past the size the headers declare.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use flate2::bufread::DeflateDecoder;

use crate::limits::Budget;
use crate::member_path::{self, display, CollisionGuard, MemberPath};
use crate::polyglot::is_tar_header;
use crate::{ArtifactError, Limits};

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const ZIP64_END_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;

const LOCAL_HEADER_LEN: u64 = 30;
const CENTRAL_HEADER_LEN: usize = 46;
const END_LEN: u64 = 22;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_END_MIN_LEN: u64 = 56;
const MAX_COMMENT_LEN: u64 = 0xFFFF;

/// Compression method: no compression.
const STORED: u16 = 0;
/// Compression method: deflate.
const DEFLATED: u16 = 8;

/// Encryption (bit 0) and strong encryption (bit 6).
const FLAG_ENCRYPTED: u16 = 0x0041;
/// Sizes and CRC follow the data in a data descriptor.
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
/// The name is UTF-8 (otherwise readers decode it as code page 437).
const FLAG_UTF8: u16 = 0x0800;

const EXTRA_ZIP64: u16 = 0x0001;
/// Info-ZIP Unicode Path: some readers (the `zip` crate among them) take the name from it.
const EXTRA_UNICODE_PATH: u16 = 0x7075;

/// Decompression chunk size; large enough to be fast, small enough to stop a bomb promptly.
const CHUNK: usize = 64 * 1024;

/// One member, as agreed by its central directory entry and its local header.
#[derive(Debug, Clone)]
pub(crate) struct ZipMember {
    pub(crate) path: MemberPath,
    flags: u16,
    method: u16,
    crc32: u32,
    pub(crate) compressed_size: u64,
    pub(crate) uncompressed_size: u64,
    header_offset: u64,
    data_offset: u64,
}

impl ZipMember {
    pub(crate) fn name(&self) -> &str {
        &self.path.name
    }

    pub(crate) fn is_dir(&self) -> bool {
        self.path.has_dir_suffix
    }
}

/// The validated structure of a wheel.
#[derive(Debug)]
pub(crate) struct ZipLayout {
    /// Members in central directory order.
    pub(crate) members: Vec<ZipMember>,
    /// Sum of all members' compressed sizes: the denominator of the bomb ratio.
    pub(crate) compressed_total: u64,
}

/// Reads and validates the whole structure without decompressing anything.
pub(crate) fn read_layout<R: Read + Seek>(
    reader: &mut R,
    limits: &Limits,
) -> Result<ZipLayout, ArtifactError> {
    let file_len = reader
        .seek(SeekFrom::End(0))
        .map_err(ArtifactError::io("measuring the wheel"))?;
    let end = find_end_record(reader, file_len)?;
    if end.entries > limits.max_entries as u64 {
        return Err(ArtifactError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    check_start(reader, file_len, &end)?;

    let entries = read_central_directory(reader, &end)?;
    let mut guard = CollisionGuard::default();
    let mut members = Vec::with_capacity(entries.len());
    for entry in entries {
        let member = entry.validate()?;
        guard.insert(&member.path)?;
        members.push(member);
    }

    let mut extents = Vec::with_capacity(members.len());
    for member in &mut members {
        let end_offset = read_local_header(reader, member, end.cd_offset)?;
        extents.push((member.header_offset, end_offset, member.path.name.clone()));
    }
    check_contiguous(extents, end.cd_offset)?;

    let compressed_total = members
        .iter()
        .fold(0u64, |sum, m| sum.saturating_add(m.compressed_size));
    Ok(ZipLayout {
        members,
        compressed_total,
    })
}

/// Where the central directory is, from the end record (and the ZIP64 one if present).
#[derive(Debug)]
struct EndRecord {
    entries: u64,
    cd_offset: u64,
    cd_size: u64,
}

fn not_zip(reason: &str) -> ArtifactError {
    ArtifactError::NotZip {
        reason: reason.to_owned(),
    }
}

fn structure(detail: impl Into<String>) -> ArtifactError {
    ArtifactError::InconsistentHeaders {
        location: "the ZIP central directory".into(),
        detail: detail.into(),
    }
}

fn find_end_record<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
) -> Result<EndRecord, ArtifactError> {
    if file_len < END_LEN {
        return Err(not_zip(
            "it is too short to hold an end of central directory record",
        ));
    }
    let tail_len = file_len.min(END_LEN + MAX_COMMENT_LEN);
    let tail_start = file_len - tail_len;
    let tail = read_at(reader, tail_start, tail_len, "reading the end of the wheel")?;
    // The last signature wins, as in Python's zipfile (what pip uses); the record it starts
    // must then end exactly at the end of the file.
    let sig = END_SIG.to_le_bytes();
    let Some(at) = tail.windows(4).rposition(|w| w == sig) else {
        return Err(not_zip("it has no end of central directory record"));
    };
    let record = &tail[at..];
    if record.len() < END_LEN as usize {
        return Err(not_zip("the end of central directory record is truncated"));
    }
    let end_pos = tail_start + at as u64;
    let comment_len = u64::from(le16(record, 20));
    let record_end = end_pos + END_LEN + comment_len;
    if record_end < file_len {
        return Err(ArtifactError::TrailingData {
            detail: format!(
                "{} bytes follow the end of central directory record",
                file_len - record_end
            ),
        });
    }
    if record_end > file_len {
        return Err(not_zip("the archive comment runs past the end of the file"));
    }

    let (disk, cd_disk) = (le16(record, 4), le16(record, 6));
    let (entries_here, entries) = (le16(record, 8), le16(record, 10));
    let (cd_size, cd_offset) = (le32(record, 12), le32(record, 16));
    if disk != 0 || cd_disk != 0 || entries_here != entries {
        return Err(not_zip("multi-disk archives are not supported"));
    }

    let mut end = EndRecord {
        entries: u64::from(entries),
        cd_offset: u64::from(cd_offset),
        cd_size: u64::from(cd_size),
    };
    let mut cd_end = end_pos;
    if end_pos >= ZIP64_LOCATOR_LEN {
        let locator_pos = end_pos - ZIP64_LOCATOR_LEN;
        let locator = read_at(
            reader,
            locator_pos,
            ZIP64_LOCATOR_LEN,
            "reading the ZIP64 locator",
        )?;
        if le32(&locator, 0) == ZIP64_LOCATOR_SIG {
            let zip64 = read_zip64_end(reader, &locator, locator_pos)?;
            // Readers that ignore ZIP64 use the 32-bit fields; both views must agree.
            let agrees = (entries == 0xFFFF || u64::from(entries) == zip64.entries)
                && (cd_size == u32::MAX || u64::from(cd_size) == zip64.cd_size)
                && (cd_offset == u32::MAX || u64::from(cd_offset) == zip64.cd_offset);
            if !agrees {
                return Err(structure(
                    "the ZIP64 end record disagrees with the end record",
                ));
            }
            cd_end = zip64_end_offset(&locator);
            end = zip64;
        }
    }
    if end.cd_offset.checked_add(end.cd_size) != Some(cd_end) {
        return Err(structure(
            "the central directory does not end where the end record begins",
        ));
    }
    Ok(end)
}

fn zip64_end_offset(locator: &[u8]) -> u64 {
    le64(locator, 8)
}

fn read_zip64_end<R: Read + Seek>(
    reader: &mut R,
    locator: &[u8],
    locator_pos: u64,
) -> Result<EndRecord, ArtifactError> {
    let (disk, offset, disks) = (
        le32(locator, 4),
        zip64_end_offset(locator),
        le32(locator, 16),
    );
    if disk != 0 || disks > 1 {
        return Err(not_zip("multi-disk archives are not supported"));
    }
    if offset
        .checked_add(ZIP64_END_MIN_LEN)
        .is_none_or(|end| end > locator_pos)
    {
        return Err(structure("the ZIP64 locator points outside the archive"));
    }
    let record = read_at(
        reader,
        offset,
        ZIP64_END_MIN_LEN,
        "reading the ZIP64 end record",
    )?;
    if le32(&record, 0) != ZIP64_END_SIG {
        return Err(structure("the ZIP64 end record has a bad signature"));
    }
    // The record's size field excludes the signature and itself (12 bytes); extensible data
    // may follow the fixed part, but nothing may sit between the record and the locator.
    let record_size = le64(&record, 4);
    if offset
        .checked_add(12)
        .and_then(|o| o.checked_add(record_size))
        != Some(locator_pos)
        || record_size < ZIP64_END_MIN_LEN - 12
    {
        return Err(structure(
            "the ZIP64 end record does not end at the locator",
        ));
    }
    let (disk, cd_disk) = (le32(&record, 16), le32(&record, 20));
    let (entries_here, entries) = (le64(&record, 24), le64(&record, 32));
    if disk != 0 || cd_disk != 0 || entries_here != entries {
        return Err(not_zip("multi-disk archives are not supported"));
    }
    Ok(EndRecord {
        entries,
        cd_size: le64(&record, 40),
        cd_offset: le64(&record, 48),
    })
}

/// A wheel must begin with its first member: anything else in front is a self-extractor
/// stub or a polyglot, and may be what another tool reads instead.
fn check_start<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
    end: &EndRecord,
) -> Result<(), ArtifactError> {
    let head = read_at(
        reader,
        0,
        file_len.min(512),
        "reading the start of the wheel",
    )?;
    let is_empty_archive = end.entries == 0 && end.cd_offset == 0;
    if le32(&head, 0) != LOCAL_HEADER_SIG && !is_empty_archive {
        return Err(ArtifactError::PrependedData);
    }
    if head.len() == 512 && is_tar_header(&head) {
        return Err(ArtifactError::Polyglot {
            other_format: "tar archive",
        });
    }
    Ok(())
}

/// A central directory entry before validation.
struct CentralEntry {
    version_made_by: u16,
    flags: u16,
    method: u16,
    crc32: u32,
    compressed_size: u64,
    uncompressed_size: u64,
    disk_start: u32,
    external_attributes: u32,
    header_offset: u64,
    name: Vec<u8>,
    extra: Vec<u8>,
}

fn read_central_directory<R: Read + Seek>(
    reader: &mut R,
    end: &EndRecord,
) -> Result<Vec<CentralEntry>, ArtifactError> {
    reader
        .seek(SeekFrom::Start(end.cd_offset))
        .map_err(ArtifactError::io("seeking to the central directory"))?;
    let mut directory = BufReader::new(reader.by_ref().take(end.cd_size));
    let short = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            structure("the central directory is shorter than its entry count says")
        } else {
            ArtifactError::Io {
                step: "reading the central directory",
                source: e,
            }
        }
    };
    // The count is bounded by `max_entries` already, so this allocation is too.
    let mut entries = Vec::with_capacity(usize::try_from(end.entries).unwrap_or(0));
    for index in 0..end.entries {
        let mut fixed = [0u8; CENTRAL_HEADER_LEN];
        directory.read_exact(&mut fixed).map_err(short)?;
        if le32(&fixed, 0) != CENTRAL_HEADER_SIG {
            return Err(structure(format!(
                "entry {index} does not start with a central directory signature"
            )));
        }
        let mut name = vec![0u8; usize::from(le16(&fixed, 28))];
        let mut extra = vec![0u8; usize::from(le16(&fixed, 30))];
        let mut comment = vec![0u8; usize::from(le16(&fixed, 32))];
        directory.read_exact(&mut name).map_err(short)?;
        directory.read_exact(&mut extra).map_err(short)?;
        directory.read_exact(&mut comment).map_err(short)?;
        entries.push(CentralEntry {
            version_made_by: le16(&fixed, 4),
            flags: le16(&fixed, 8),
            method: le16(&fixed, 10),
            crc32: le32(&fixed, 16),
            compressed_size: u64::from(le32(&fixed, 20)),
            uncompressed_size: u64::from(le32(&fixed, 24)),
            disk_start: u32::from(le16(&fixed, 34)),
            external_attributes: le32(&fixed, 38),
            header_offset: u64::from(le32(&fixed, 42)),
            name,
            extra,
        });
    }
    let mut rest = [0u8; 1];
    if directory.read(&mut rest).map_err(short)? != 0 {
        return Err(structure(
            "the central directory has data after its last entry",
        ));
    }
    Ok(entries)
}

impl CentralEntry {
    fn validate(mut self) -> Result<ZipMember, ArtifactError> {
        let path = member_path::check(&self.name)?;
        let shown = display(&self.name);
        if self.flags & FLAG_UTF8 == 0 && !self.name.is_ascii() {
            return Err(ArtifactError::BadName {
                member: shown,
                reason:
                    "it is not ASCII but the UTF-8 flag is not set, so tools decode it differently"
                        .into(),
            });
        }
        if self.flags & FLAG_ENCRYPTED != 0 {
            return Err(ArtifactError::Encrypted { member: shown });
        }
        if self.method != STORED && self.method != DEFLATED {
            return Err(ArtifactError::CompressionMethod {
                member: shown,
                method: self.method,
            });
        }
        let extra = std::mem::take(&mut self.extra);
        let fields = ExtraFields::parse(&extra)
            .ok_or_else(|| ArtifactError::inconsistent(&shown, "its extra field is malformed"))?;
        if fields.has(EXTRA_UNICODE_PATH) {
            return Err(ArtifactError::BadName {
                member: shown,
                reason:
                    "it carries an Info-ZIP Unicode Path field, which some tools use to rename it"
                        .into(),
            });
        }
        self.apply_zip64(&fields).ok_or_else(|| {
            ArtifactError::inconsistent(&shown, "its ZIP64 extra field is too short")
        })?;
        if self.disk_start != 0 {
            return Err(not_zip("multi-disk archives are not supported"));
        }
        self.check_file_type(&path, &shown)?;
        if path.has_dir_suffix && self.uncompressed_size != 0 {
            return Err(ArtifactError::inconsistent(
                &shown,
                "a directory entry has content",
            ));
        }
        if self.method == STORED && self.compressed_size != self.uncompressed_size {
            return Err(ArtifactError::inconsistent(
                &shown,
                "a stored member's compressed and uncompressed sizes differ",
            ));
        }
        Ok(ZipMember {
            path,
            flags: self.flags,
            method: self.method,
            crc32: self.crc32,
            compressed_size: self.compressed_size,
            uncompressed_size: self.uncompressed_size,
            header_offset: self.header_offset,
            data_offset: 0,
        })
    }

    /// Replaces saturated 32-bit fields with their ZIP64 values, in the order the spec fixes.
    fn apply_zip64(&mut self, fields: &ExtraFields<'_>) -> Option<()> {
        let needs = [
            self.uncompressed_size == u64::from(u32::MAX),
            self.compressed_size == u64::from(u32::MAX),
            self.header_offset == u64::from(u32::MAX),
        ];
        let needs_disk = self.disk_start == 0xFFFF;
        if !needs.contains(&true) && !needs_disk {
            return Some(());
        }
        let data = fields.get(EXTRA_ZIP64)?;
        let mut at = 0;
        let mut next = || {
            let value = data.get(at..at + 8).map(|b| le64(b, 0));
            at += 8;
            value
        };
        if needs[0] {
            self.uncompressed_size = next()?;
        }
        if needs[1] {
            self.compressed_size = next()?;
        }
        if needs[2] {
            self.header_offset = next()?;
        }
        if needs_disk {
            self.disk_start = data.get(at..at + 4).map(|b| le32(b, 0))?;
        }
        Some(())
    }

    /// Unix tools store the file type in the high half of the external attributes; that is
    /// where a symlink hides in a ZIP.
    fn check_file_type(&self, path: &MemberPath, shown: &str) -> Result<(), ArtifactError> {
        const UNIX: u16 = 3;
        const MACOS: u16 = 19;
        if !matches!(self.version_made_by >> 8, UNIX | MACOS) {
            return Ok(());
        }
        let kind = match (self.external_attributes >> 16) & 0o170_000 {
            0 | 0o100_000 => return Ok(()),
            0o040_000 if path.has_dir_suffix => return Ok(()),
            0o040_000 => {
                return Err(ArtifactError::inconsistent(
                    shown,
                    "it is marked as a directory but its name does not end with '/'",
                ))
            }
            0o120_000 => {
                return Err(ArtifactError::Link {
                    member: shown.to_owned(),
                })
            }
            0o010_000 => "FIFO",
            0o020_000 => "character device",
            0o060_000 => "block device",
            0o140_000 => "socket",
            _ => "member of unknown type",
        };
        Err(ArtifactError::SpecialMember {
            member: shown.to_owned(),
            kind: kind.into(),
        })
    }
}

/// The `(id, data)` records of an extra field.
struct ExtraFields<'a> {
    records: Vec<(u16, &'a [u8])>,
}

impl<'a> ExtraFields<'a> {
    /// Returns `None` unless the records exactly fill the field.
    fn parse(mut extra: &'a [u8]) -> Option<Self> {
        let mut records = Vec::new();
        while !extra.is_empty() {
            let header = extra.get(..4)?;
            let len = usize::from(le16(header, 2));
            let data = extra.get(4..4 + len)?;
            records.push((le16(header, 0), data));
            extra = &extra[4 + len..];
        }
        Some(Self { records })
    }

    fn get(&self, id: u16) -> Option<&'a [u8]> {
        self.records.iter().find(|(i, _)| *i == id).map(|(_, d)| *d)
    }

    fn has(&self, id: u16) -> bool {
        self.get(id).is_some()
    }
}

/// Checks the local header against the central directory, sets `data_offset`, and returns
/// the offset just past the member (data and any data descriptor).
fn read_local_header<R: Read + Seek>(
    reader: &mut R,
    member: &mut ZipMember,
    cd_offset: u64,
) -> Result<u64, ArtifactError> {
    let shown = member.path.name.clone();
    let outside =
        || ArtifactError::inconsistent(&shown, "its local data lies outside the member area");
    let fits = |start: u64, len: u64| start.checked_add(len).is_some_and(|end| end <= cd_offset);
    if !fits(member.header_offset, LOCAL_HEADER_LEN) {
        return Err(outside());
    }
    let fixed = read_at(
        reader,
        member.header_offset,
        LOCAL_HEADER_LEN,
        "reading a local header",
    )?;
    if le32(&fixed, 0) != LOCAL_HEADER_SIG {
        return Err(ArtifactError::inconsistent(
            &shown,
            "no local file header at the offset the central directory gives",
        ));
    }
    let name_len = u64::from(le16(&fixed, 26));
    let extra_len = u64::from(le16(&fixed, 28));
    let variable_start = member.header_offset + LOCAL_HEADER_LEN;
    if !fits(variable_start, name_len + extra_len) {
        return Err(outside());
    }
    let variable = read_at(
        reader,
        variable_start,
        name_len + extra_len,
        "reading a local header",
    )?;
    let (local_name, local_extra) = variable.split_at(name_len as usize);
    if local_name != member.path.name.as_bytes() {
        return Err(ArtifactError::inconsistent(
            &shown,
            format!(
                "its local header names it '{}' but the central directory names it '{shown}'",
                display(local_name)
            ),
        ));
    }
    let flags = le16(&fixed, 6);
    if (flags ^ member.flags) & (FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR | FLAG_UTF8) != 0 {
        return Err(ArtifactError::inconsistent(
            &shown,
            "the local header and the central directory give different flags",
        ));
    }
    if le16(&fixed, 8) != member.method {
        return Err(ArtifactError::inconsistent(
            &shown,
            "the local header and the central directory give different compression methods",
        ));
    }
    let fields = ExtraFields::parse(local_extra)
        .ok_or_else(|| ArtifactError::inconsistent(&shown, "its local extra field is malformed"))?;
    if fields.has(EXTRA_UNICODE_PATH) {
        return Err(ArtifactError::BadName {
            member: shown,
            reason: "it carries an Info-ZIP Unicode Path field, which some tools use to rename it"
                .into(),
        });
    }
    let local_zip64 = fields.get(EXTRA_ZIP64);
    let mut local_usize = u64::from(le32(&fixed, 22));
    let mut local_csize = u64::from(le32(&fixed, 18));
    if let Some(data) = local_zip64 {
        // In a local header the ZIP64 field holds both sizes whenever either is saturated.
        if local_usize == u64::from(u32::MAX) || local_csize == u64::from(u32::MAX) {
            let sizes = data.get(..16).ok_or_else(|| {
                ArtifactError::inconsistent(&shown, "its local ZIP64 extra field is too short")
            })?;
            local_usize = le64(sizes, 0);
            local_csize = le64(sizes, 8);
        }
    }
    let local_crc = le32(&fixed, 14);

    member.data_offset = variable_start + name_len + extra_len;
    if !fits(member.data_offset, member.compressed_size) {
        return Err(outside());
    }
    let data_end = member.data_offset + member.compressed_size;
    let matches_central = |crc: u32, csize: u64, usize_: u64| {
        crc == member.crc32 && csize == member.compressed_size && usize_ == member.uncompressed_size
    };

    if flags & FLAG_DATA_DESCRIPTOR == 0 {
        if !matches_central(local_crc, local_csize, local_usize) {
            return Err(ArtifactError::inconsistent(
                &shown,
                "the local header and the central directory give different CRC or sizes",
            ));
        }
        return Ok(data_end);
    }

    // Streaming writers put zeros in the local header and the real values after the data.
    let zero_or_same = (local_crc == 0 || local_crc == member.crc32)
        && (local_csize == 0 || local_csize == member.compressed_size)
        && (local_usize == 0 || local_usize == member.uncompressed_size);
    if !zero_or_same {
        return Err(ArtifactError::inconsistent(
            &shown,
            "the local header and the central directory give different CRC or sizes",
        ));
    }
    let size_len: u64 = if local_zip64.is_some() { 8 } else { 4 };
    let longest = 4 + 4 + 2 * size_len;
    let available = cd_offset.saturating_sub(data_end).min(longest);
    let bytes = read_at(reader, data_end, available, "reading a data descriptor")?;
    let body = if le32_opt(&bytes, 0) == Some(DATA_DESCRIPTOR_SIG) {
        &bytes[4..]
    } else {
        &bytes[..]
    };
    let descriptor_len = (bytes.len() - body.len()) as u64 + 4 + 2 * size_len;
    let read_size = |at: usize| -> Option<u64> {
        let field = body.get(at..at + size_len as usize)?;
        Some(if size_len == 8 {
            le64(field, 0)
        } else {
            u64::from(le32(field, 0))
        })
    };
    let parsed = body
        .get(..4)
        .map(|b| le32(b, 0))
        .and_then(|crc| Some((crc, read_size(4)?, read_size(4 + size_len as usize)?)));
    match parsed {
        Some((crc, csize, usize_)) if matches_central(crc, csize, usize_) => {
            Ok(data_end + descriptor_len)
        }
        _ => Err(ArtifactError::inconsistent(
            &shown,
            "its data descriptor is missing or disagrees with the central directory",
        )),
    }
}

/// Members must tile the area before the central directory exactly: a gap can hide a second
/// archive, and overlapping members are how non-recursive zip bombs multiply their output.
fn check_contiguous(
    mut extents: Vec<(u64, u64, String)>,
    cd_offset: u64,
) -> Result<(), ArtifactError> {
    extents.sort_by_key(|(start, _, _)| *start);
    let mut expected = 0u64;
    for (start, end, name) in &extents {
        if *start != expected {
            let detail = if *start < expected {
                "it overlaps the member before it".to_owned()
            } else {
                format!("{} unexplained bytes precede it", start - expected)
            };
            return Err(ArtifactError::inconsistent(name, detail));
        }
        expected = *end;
    }
    if expected != cd_offset {
        return Err(structure(format!(
            "{} unexplained bytes lie between the last member and the central directory",
            cd_offset.saturating_sub(expected)
        )));
    }
    Ok(())
}

/// Decompresses one member, passing its bytes to `sink`. Counts every produced byte against
/// the member's declared size, `max_member_size` and the archive budget, and checks the CRC
/// and that the compressed data is used up exactly. Returns the number of bytes produced.
pub(crate) fn extract<R: Read + Seek>(
    reader: &mut R,
    layout: &ZipLayout,
    member: &ZipMember,
    budget: &mut Budget<'_>,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<u64, ArtifactError> {
    reader
        .seek(SeekFrom::Start(member.data_offset))
        .map_err(ArtifactError::io("seeking to a wheel member"))?;
    let source = FailureTracking {
        inner: reader.by_ref().take(member.compressed_size),
        failed: false,
    };
    let buffered = BufReader::with_capacity(CHUNK, source);
    let mut outflow = Outflow {
        member,
        compressed_total: layout.compressed_total,
        produced: 0,
        crc: crc32fast::Hasher::new(),
        sink,
    };
    let leftover = match member.method {
        DEFLATED => {
            let mut decoder = DeflateDecoder::new(buffered);
            let pumped = outflow.pump(&mut decoder, budget);
            let source_failed = decoder.get_ref().get_ref().failed;
            pumped.map_err(|e| outflow.read_error(e, source_failed))??;
            let rest = decoder.into_inner();
            rest.buffer().len() as u64 + rest.get_ref().inner.limit()
        }
        _ => {
            let mut plain = buffered;
            let pumped = outflow.pump(&mut plain, budget);
            let source_failed = plain.get_ref().failed;
            pumped.map_err(|e| outflow.read_error(e, source_failed))??;
            0
        }
    };
    outflow.finish(leftover)
}

/// Tells a failure of the caller's reader apart from corrupt compressed data.
struct FailureTracking<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for FailureTracking<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.failed = true)
    }
}

/// The checks applied to decompressed bytes as they come out.
struct Outflow<'m, 's> {
    member: &'m ZipMember,
    compressed_total: u64,
    produced: u64,
    crc: crc32fast::Hasher,
    sink: &'s mut dyn FnMut(&[u8]),
}

impl Outflow<'_, '_> {
    /// Reads everything; the outer error is an I/O failure, the inner one a broken rule.
    fn pump(
        &mut self,
        source: &mut dyn Read,
        budget: &mut Budget<'_>,
    ) -> io::Result<Result<(), ArtifactError>> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => return Ok(Ok(())),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Err(e) = self.accept(&buf[..n], budget) {
                return Ok(Err(e));
            }
        }
    }

    fn accept(&mut self, chunk: &[u8], budget: &mut Budget<'_>) -> Result<(), ArtifactError> {
        let name = self.member.name();
        let limits = budget.limits();
        self.produced += chunk.len() as u64;
        if self.produced > self.member.uncompressed_size {
            return Err(ArtifactError::inconsistent(
                name,
                format!(
                    "it decompresses to more than the {} bytes its headers declare",
                    self.member.uncompressed_size
                ),
            ));
        }
        if self.produced > limits.max_member_size {
            return Err(ArtifactError::MemberTooLarge {
                member: name.to_owned(),
                limit: limits.max_member_size,
            });
        }
        budget
            .charge(chunk.len() as u64, self.compressed_total)
            .map_err(|overrun| overrun.into_error(name, limits))?;
        self.crc.update(chunk);
        (self.sink)(chunk);
        Ok(())
    }

    fn read_error(&self, error: io::Error, source_failed: bool) -> ArtifactError {
        if source_failed {
            ArtifactError::Io {
                step: "reading a wheel member",
                source: error,
            }
        } else {
            ArtifactError::CorruptMember {
                member: self.member.name().to_owned(),
                detail: format!("its deflate stream is invalid ({error})"),
            }
        }
    }

    fn finish(self, leftover_compressed: u64) -> Result<u64, ArtifactError> {
        let name = self.member.name();
        if self.produced != self.member.uncompressed_size {
            return Err(ArtifactError::inconsistent(
                name,
                format!(
                    "it decompresses to {} bytes but its headers declare {}",
                    self.produced, self.member.uncompressed_size
                ),
            ));
        }
        if leftover_compressed != 0 {
            return Err(ArtifactError::inconsistent(
                name,
                format!(
                    "{leftover_compressed} compressed bytes follow the end of its deflate stream"
                ),
            ));
        }
        if self.crc.finalize() != self.member.crc32 {
            return Err(ArtifactError::CorruptMember {
                member: name.to_owned(),
                detail: "its CRC-32 does not match".into(),
            });
        }
        Ok(self.produced)
    }
}

fn read_at<R: Read + Seek>(
    reader: &mut R,
    offset: u64,
    len: u64,
    step: &'static str,
) -> Result<Vec<u8>, ArtifactError> {
    reader
        .seek(SeekFrom::Start(offset))
        .map_err(ArtifactError::io(step))?;
    // Callers only pass lengths bounded by the file size and small fixed maxima.
    let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
    reader
        .read_exact(&mut bytes)
        .map_err(ArtifactError::io(step))?;
    Ok(bytes)
}

fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn le32_opt(bytes: &[u8], at: usize) -> Option<u32> {
    bytes.get(at..at + 4).map(|b| le32(b, 0))
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_must_fill_their_space() {
        let good = [0x01, 0x00, 0x02, 0x00, 0xAA, 0xBB, 0x75, 0x70, 0x00, 0x00];
        let fields = ExtraFields::parse(&good).expect("well-formed");
        assert_eq!(fields.get(EXTRA_ZIP64), Some(&[0xAA, 0xBB][..]));
        assert!(fields.has(EXTRA_UNICODE_PATH));
        assert!(ExtraFields::parse(&good[..5]).is_none());
        assert!(ExtraFields::parse(&good[..3]).is_none());
    }
}
