//! Wheels (`.whl`): a strict ZIP with one `*.dist-info/` directory whose `RECORD` hashes
//! every other member.

use std::collections::HashMap;
use std::io::{Read, Seek};

use crate::limits::Budget;
use crate::record::{self, encode_digest, Hasher, RecordRow};
use crate::sink::{offer, MemberSink, NoSink};
use crate::zip_archive::{self, ZipLayout, ZipMember};
use crate::{metadata, ArtifactError, CoreMetadata, Limits};

/// What a wheel holds, once every check has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelInfo {
    /// The top-level metadata directory, e.g. `demo_pkg-1.0.dist-info` (no trailing slash).
    pub dist_info_dir: String,
    /// The parsed `METADATA`.
    pub metadata: CoreMetadata,
    /// The exact bytes of `METADATA`, to serve as the PEP 658 metadata file.
    pub metadata_bytes: Vec<u8>,
    /// Number of members, directories included.
    pub entry_count: usize,
    /// Bytes produced by decompressing every member.
    pub uncompressed_size: u64,
}

/// Reads and verifies a wheel: ZIP structure, member names, limits, the dist-info layout,
/// and every `RECORD` hash and size. Every member is decompressed exactly once.
pub fn read_wheel<R: Read + Seek>(reader: R, limits: &Limits) -> Result<WheelInfo, ArtifactError> {
    read_wheel_with(reader, limits, &mut NoSink)
}

/// [`read_wheel`], offering every file's bytes to `sink` as they are decompressed.
pub fn read_wheel_with<R: Read + Seek>(
    mut reader: R,
    limits: &Limits,
    sink: &mut dyn MemberSink,
) -> Result<WheelInfo, ArtifactError> {
    let layout = zip_archive::read_layout(&mut reader, limits)?;
    check_declared_sizes(&layout, limits)?;
    let dist_info_dir = find_dist_info(&layout.members)?;
    let by_name: HashMap<&str, &ZipMember> = layout.members.iter().map(|m| (m.name(), m)).collect();
    let required = |file: &str| {
        let path = format!("{dist_info_dir}/{file}");
        match by_name.get(path.as_str()) {
            Some(member) => Ok(*member),
            None => Err(ArtifactError::MissingFile { path }),
        }
    };
    let metadata_member = required("METADATA")?;
    required("WHEEL")?;
    let record_member = required("RECORD")?;

    let mut budget = Budget::new(limits);
    if record_member.uncompressed_size > limits.max_record_bytes {
        return Err(ArtifactError::MemberTooLarge {
            member: record_member.name().to_owned(),
            limit: limits.max_record_bytes,
        });
    }
    let record_bytes = read_whole(&mut reader, &layout, record_member, &mut budget)?;
    let rows = record::parse(&record_bytes, record_member.name())?;
    let rows = match_record(&rows, &layout, &dist_info_dir, record_member.name())?;
    offer(sink, record_member.name(), &record_bytes);

    let metadata_path = metadata_member.name();
    if metadata_member.uncompressed_size > limits.max_metadata_bytes {
        return Err(ArtifactError::MetadataTooLarge {
            file: metadata_path.to_owned(),
            limit: limits.max_metadata_bytes,
        });
    }
    let metadata_bytes = read_whole(&mut reader, &layout, metadata_member, &mut budget)?;
    if let Some(row) = rows.get(metadata_path) {
        let mut hasher = row
            .hash
            .as_ref()
            .map(|(algorithm, _)| Hasher::new(*algorithm));
        if let Some(h) = hasher.as_mut() {
            h.update(&metadata_bytes);
        }
        verify(metadata_member, row, metadata_bytes.len() as u64, hasher)?;
    }
    let metadata =
        metadata::parse_named(&metadata_bytes, limits.max_metadata_bytes, metadata_path)?;
    offer(sink, metadata_path, &metadata_bytes);

    for member in &layout.members {
        if member.name() == metadata_path || member.name() == record_member.name() {
            continue;
        }
        let row = rows.get(member.name());
        let mut hasher = row
            .and_then(|r| r.hash.as_ref())
            .map(|(algorithm, _)| Hasher::new(*algorithm));
        let offered = !member.is_dir() && sink.begin(member.name(), member.uncompressed_size);
        let produced =
            zip_archive::extract(&mut reader, &layout, member, &mut budget, &mut |chunk| {
                if let Some(h) = hasher.as_mut() {
                    h.update(chunk);
                }
                if offered {
                    sink.chunk(chunk);
                }
            })?;
        if offered {
            sink.end();
        }
        if let Some(row) = row {
            verify(member, row, produced, hasher)?;
        }
    }

    Ok(WheelInfo {
        dist_info_dir,
        metadata,
        metadata_bytes,
        entry_count: layout.members.len(),
        uncompressed_size: budget.uncompressed(),
    })
}

/// Refuses early on declared sizes. This is only a shortcut: `extract` refuses any member
/// that produces more than it declares, so the declared sizes cannot understate.
fn check_declared_sizes(layout: &ZipLayout, limits: &Limits) -> Result<(), ArtifactError> {
    let mut total = 0u64;
    for member in &layout.members {
        if member.uncompressed_size > limits.max_member_size {
            return Err(ArtifactError::MemberTooLarge {
                member: member.name().to_owned(),
                limit: limits.max_member_size,
            });
        }
        total = total.saturating_add(member.uncompressed_size);
        if total > limits.max_total_uncompressed {
            return Err(ArtifactError::ArchiveTooLarge {
                member: member.name().to_owned(),
                limit: limits.max_total_uncompressed,
            });
        }
    }
    Ok(())
}

/// Finds the one top-level `*.dist-info` directory (named by its members or by an entry).
fn find_dist_info(members: &[ZipMember]) -> Result<String, ArtifactError> {
    let mut found: Option<&str> = None;
    for member in members {
        let top = member.path.top();
        let is_inside = member.is_dir() || member.path.path().len() > top.len();
        if !top.ends_with(".dist-info") || !is_inside {
            continue;
        }
        match found {
            None => found = Some(top),
            Some(first) if first != top => {
                return Err(ArtifactError::MultipleDistInfo {
                    first: first.to_owned(),
                    second: top.to_owned(),
                })
            }
            Some(_) => {}
        }
    }
    found
        .map(str::to_owned)
        .ok_or(ArtifactError::MissingDistInfo)
}

/// Files whose hash RECORD cannot hold: RECORD itself, and the signatures of RECORD, which
/// PEP 427 leaves out of RECORD because they are computed after it.
fn is_exempt_from_hash(path: &str, dist_info_dir: &str, record_path: &str) -> bool {
    path == record_path
        || path == format!("{dist_info_dir}/RECORD.jws")
        || path == format!("{dist_info_dir}/RECORD.p7s")
}

/// Checks that RECORD and the archive list the same files, and indexes the rows by path.
fn match_record<'r>(
    rows: &'r [RecordRow],
    layout: &ZipLayout,
    dist_info_dir: &str,
    record_path: &str,
) -> Result<HashMap<&'r str, &'r RecordRow>, ArtifactError> {
    let members: HashMap<&str, &ZipMember> = layout.members.iter().map(|m| (m.name(), m)).collect();
    let mut by_path = HashMap::with_capacity(rows.len());
    for row in rows {
        let Some(member) = members.get(row.path.as_str()) else {
            return Err(ArtifactError::RecordMismatch {
                member: crate::member_path::display(row.path.as_bytes()),
                detail: format!(
                    "RECORD line {} lists it but the archive has no such member",
                    row.line
                ),
            });
        };
        if member.is_dir() {
            if row.hash.is_some() {
                return Err(ArtifactError::RecordMismatch {
                    member: member.name().to_owned(),
                    detail: "it is a directory but RECORD gives it a hash".into(),
                });
            }
        } else if row.hash.is_none() && !is_exempt_from_hash(&row.path, dist_info_dir, record_path)
        {
            return Err(ArtifactError::RecordInvalid {
                record: record_path.to_owned(),
                line: row.line,
                detail: format!("'{}' has no hash", member.name()),
            });
        }
        by_path.insert(row.path.as_str(), row);
    }
    for member in &layout.members {
        if member.is_dir() || by_path.contains_key(member.name()) {
            continue;
        }
        if !is_exempt_from_hash(member.name(), dist_info_dir, record_path) {
            return Err(ArtifactError::RecordMissingEntry {
                member: member.name().to_owned(),
            });
        }
    }
    Ok(by_path)
}

fn verify(
    member: &ZipMember,
    row: &RecordRow,
    produced: u64,
    hasher: Option<Hasher>,
) -> Result<(), ArtifactError> {
    let mismatch = |detail: String| ArtifactError::RecordMismatch {
        member: member.name().to_owned(),
        detail,
    };
    if let Some(size) = row.size {
        if size != produced {
            return Err(mismatch(format!(
                "RECORD gives its size as {size} bytes but it has {produced}"
            )));
        }
    }
    if let (Some((_, expected)), Some(hasher)) = (&row.hash, hasher) {
        let actual = hasher.finalize();
        if &actual != expected {
            return Err(mismatch(format!(
                "its digest is {} but RECORD says {}",
                encode_digest(&actual),
                encode_digest(expected)
            )));
        }
    }
    Ok(())
}

/// Decompresses a small member into memory; the caller has bounded its declared size, and
/// `extract` refuses anything beyond it.
fn read_whole<R: Read + Seek>(
    reader: &mut R,
    layout: &ZipLayout,
    member: &ZipMember,
    budget: &mut Budget<'_>,
) -> Result<Vec<u8>, ArtifactError> {
    let mut bytes = Vec::with_capacity(usize::try_from(member.uncompressed_size).unwrap_or(0));
    zip_archive::extract(reader, layout, member, budget, &mut |chunk| {
        bytes.extend_from_slice(chunk)
    })?;
    Ok(bytes)
}
