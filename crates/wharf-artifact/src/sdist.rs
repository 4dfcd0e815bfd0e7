//! Source distributions (`.tar.gz`): gzip around a tar with one top-level directory that
//! holds `PKG-INFO`.
//!
//! The tar crate is used in raw mode, so every header reaches us: we resolve GNU long names
//! and pax records ourselves, with a size cap, and refuse the combinations on which tar
//! readers disagree (a pax `size` that differs from the header, a global pax header that
//! renames members, two sources for one name).

use std::cell::Cell;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

use crate::limits::{Budget, Overrun};
use crate::member_path::{self, display, CollisionGuard, MemberPath};
use crate::polyglot::{is_tar_header, looks_like_zip, ZIP_TAIL_LEN};
use crate::sink::{offer, MemberSink, NoSink};
use crate::{metadata, ArtifactError, CoreMetadata, Limits};

/// What an sdist holds, once every check has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdistInfo {
    /// The single top-level directory, e.g. `demo_pkg-1.0`.
    pub top_dir: String,
    /// The parsed `{top_dir}/PKG-INFO`.
    pub metadata: CoreMetadata,
    /// The exact bytes of `PKG-INFO`.
    pub pkg_info_bytes: Vec<u8>,
    /// Number of members (files and directories; pax and long-name records excluded).
    pub entry_count: usize,
    /// Total size of the regular files' contents.
    pub uncompressed_size: u64,
}

/// Largest GNU long-name or pax record accepted; real ones are a few hundred bytes.
const MAX_EXTENSION_BYTES: u64 = 64 * 1024;

/// Reads and verifies an sdist: gzip and tar structure, member kinds and names, limits, the
/// single top-level directory and its `PKG-INFO`.
pub fn read_sdist<R: Read>(reader: R, limits: &Limits) -> Result<SdistInfo, ArtifactError> {
    read_sdist_with(reader, limits, &mut NoSink)
}

/// [`read_sdist`], offering every regular file's bytes to `sink` as they are decompressed.
pub fn read_sdist_with<R: Read>(
    reader: R,
    limits: &Limits,
    sink: &mut dyn MemberSink,
) -> Result<SdistInfo, ArtifactError> {
    let read = read_tar_gz(reader, limits, sink, "PKG-INFO")?;
    let pkg_info_path = format!("{}/PKG-INFO", read.top_dir);
    let Some(pkg_info_bytes) = read.manifest else {
        return Err(ArtifactError::MissingPkgInfo {
            expected: pkg_info_path,
        });
    };
    let metadata =
        metadata::parse_named(&pkg_info_bytes, limits.max_metadata_bytes, &pkg_info_path)?;
    Ok(SdistInfo {
        top_dir: read.top_dir,
        metadata,
        pkg_info_bytes,
        entry_count: read.entry_count,
        uncompressed_size: read.uncompressed_size,
    })
}

/// What the checked tar reader found: the one top-level directory, the bytes of
/// the manifest file directly inside it (`PKG-INFO`, `package.json`), if any.
pub(crate) struct TarGzRead {
    pub top_dir: String,
    pub manifest: Option<Vec<u8>>,
    pub entry_count: usize,
    pub uncompressed_size: u64,
}

/// Reads and verifies a gzipped tar whose members all sit in one top-level
/// directory, keeping the bytes of `{top}/{manifest}` (bounded by the metadata limit).
pub(crate) fn read_tar_gz<R: Read>(
    reader: R,
    limits: &Limits,
    sink: &mut dyn MemberSink,
    manifest: &'static str,
) -> Result<TarGzRead, ArtifactError> {
    let consumed = Rc::new(Cell::new(0u64));
    let mut source = Source {
        inner: reader,
        consumed: Rc::clone(&consumed),
        head: Vec::new(),
        tail: Vec::new(),
    };
    let mut magic = [0u8; 2];
    read_prefix(&mut source, &mut magic)?;
    if magic != [0x1f, 0x8b] {
        return Err(ArtifactError::NotTarGz {
            reason: "it does not start with the gzip signature".into(),
        });
    }
    let decoder = MultiGzDecoder::new(Cursor::new(magic).chain(source));
    let metered = Metered {
        inner: decoder,
        budget: Budget::new(limits),
        consumed,
    };
    let mut archive = tar::Archive::new(metered);
    let mut walk = Walk::new(limits, sink, manifest);
    walk.run(&mut archive)?;

    // The tar ends at its first zero block; what follows must be zero padding, and the gzip
    // stream must end with the file, or the upload carries a second payload.
    let mut metered = archive.into_inner();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match metered.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(match classify(e, "(after the tar end marker)", limits) {
                    ArtifactError::NotTarGz { .. } => ArtifactError::TrailingData {
                        detail: "bytes after the gzip stream are not gzip data".into(),
                    },
                    other => other,
                })
            }
        };
        if chunk[..n].iter().any(|&b| b != 0) {
            return Err(ArtifactError::TrailingData {
                detail: "non-zero data follows the tar end-of-archive marker".into(),
            });
        }
    }
    let source = metered.inner.into_inner().into_inner().1;
    if looks_like_zip(source.tail()) {
        return Err(ArtifactError::Polyglot {
            other_format: "ZIP archive",
        });
    }
    // Tools that sniff the format instead of trusting the extension try plain tar first.
    if is_tar_header(&source.head) {
        return Err(ArtifactError::Polyglot {
            other_format: "uncompressed tar archive",
        });
    }

    walk.finish()
}

fn read_prefix<R: Read>(source: &mut Source<R>, magic: &mut [u8; 2]) -> Result<(), ArtifactError> {
    let mut filled = 0;
    while filled < magic.len() {
        match source.read(&mut magic[filled..]) {
            Ok(0) => {
                return Err(ArtifactError::NotTarGz {
                    reason: "it is too short to be gzip data".into(),
                })
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(classify(e, "(gzip header)", &Limits::default())),
        }
    }
    Ok(())
}

/// The caller's reader: counts compressed bytes for the bomb ratio, remembers the start and
/// end of the file for the polyglot checks, and tags its own failures so they are not blamed on
/// the uploader.
struct Source<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl<R> Source<R> {
    fn tail(&self) -> &[u8] {
        &self.tail[self.tail.len().saturating_sub(ZIP_TAIL_LEN)..]
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.consumed
                    .set(self.consumed.get().saturating_add(n as u64));
                let head_room = 512usize.saturating_sub(self.head.len()).min(n);
                self.head.extend_from_slice(&buf[..head_room]);
                self.tail.extend_from_slice(&buf[..n]);
                if self.tail.len() > 2 * ZIP_TAIL_LEN {
                    self.tail.drain(..self.tail.len() - ZIP_TAIL_LEN);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(io::Error::new(e.kind(), SourceFailure(e))),
        }
    }
}

/// The decompressed tar stream: every byte is charged to the budget as it comes out.
struct Metered<'a, D> {
    inner: D,
    budget: Budget<'a>,
    consumed: Rc<Cell<u64>>,
}

impl<D: Read> Read for Metered<'_, D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.budget
                    .charge(n as u64, self.consumed.get())
                    .map_err(|overrun| io::Error::other(Refusal(overrun)))?;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) if payload::<SourceFailure>(&e).is_some() => Err(e),
            Err(e) => Err(io::Error::new(e.kind(), GzipFailure(e.to_string()))),
        }
    }
}

/// The caller's reader failed.
#[derive(Debug)]
struct SourceFailure(io::Error);

/// The gzip layer refused the data.
#[derive(Debug)]
struct GzipFailure(String);

/// A limit was crossed.
#[derive(Debug)]
struct Refusal(Overrun);

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for GzipFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "limit crossed: {:?}", self.0)
    }
}

impl std::error::Error for SourceFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
impl std::error::Error for GzipFailure {}
impl std::error::Error for Refusal {}

fn payload<T: std::error::Error + 'static>(e: &io::Error) -> Option<&T> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<T>())
}

/// Turns an I/O error from the reader stack into the error the caller sees.
fn classify(e: io::Error, member: &str, limits: &Limits) -> ArtifactError {
    if let Some(Refusal(overrun)) = payload::<Refusal>(&e) {
        return overrun.into_error(member, limits);
    }
    if payload::<SourceFailure>(&e).is_some() {
        return ArtifactError::Io {
            step: "reading the sdist",
            source: e,
        };
    }
    if let Some(GzipFailure(detail)) = payload::<GzipFailure>(&e) {
        return ArtifactError::NotTarGz {
            reason: format!("the gzip stream is corrupt or truncated ({detail})"),
        };
    }
    ArtifactError::NotTarGz {
        reason: format!("the tar structure is invalid ({e})"),
    }
}

/// Extension records waiting for the member they describe.
#[derive(Debug, Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    has_long_link: bool,
    pax: Option<Vec<(String, Vec<u8>)>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && !self.has_long_link && self.pax.is_none()
    }

    fn pax_value(&self, key: &str) -> Option<&[u8]> {
        self.pax
            .as_ref()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// The state of one pass over the tar members.
struct Walk<'l> {
    limits: &'l Limits,
    sink: &'l mut dyn MemberSink,
    guard: CollisionGuard,
    top: Option<String>,
    entry_count: usize,
    headers_seen: usize,
    content_size: u64,
    /// The manifest's file name, and its bytes once read.
    manifest_name: &'static str,
    manifest: Option<Vec<u8>>,
    pending: Pending,
    /// The member last seen, to name in errors raised while its data is skipped.
    current: String,
}

/// The kind of a tar member we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

impl<'l> Walk<'l> {
    fn new(limits: &'l Limits, sink: &'l mut dyn MemberSink, manifest_name: &'static str) -> Self {
        Self {
            limits,
            sink,
            guard: CollisionGuard::default(),
            top: None,
            entry_count: 0,
            headers_seen: 0,
            content_size: 0,
            manifest_name,
            manifest: None,
            pending: Pending::default(),
            current: "(first tar header)".into(),
        }
    }

    fn run<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<(), ArtifactError> {
        let limits = self.limits;
        let entries = archive
            .entries()
            .map_err(|e| classify(e, "(first tar header)", limits))?
            .raw(true);
        for entry in entries {
            let mut entry = entry.map_err(|e| classify(e, &self.current, limits))?;
            // Extension records count too, or an endless run of them would go unbounded.
            self.headers_seen += 1;
            if self.headers_seen > limits.max_entries.saturating_mul(4) {
                return Err(ArtifactError::TooManyEntries {
                    limit: limits.max_entries,
                });
            }
            match entry.header().entry_type().as_byte() {
                b'L' => {
                    let name = self.read_extension(&mut entry, "a GNU long name")?;
                    if self.pending.long_name.replace(name).is_some() {
                        return Err(extension_error("two GNU long names precede one member"));
                    }
                }
                b'K' => {
                    self.read_extension(&mut entry, "a GNU long link name")?;
                    self.pending.has_long_link = true;
                }
                b'x' => {
                    let records = self.read_pax(&mut entry, "a pax header")?;
                    if self.pending.pax.replace(records).is_some() {
                        return Err(extension_error("two pax headers precede one member"));
                    }
                }
                b'g' => {
                    let records = self.read_pax(&mut entry, "a global pax header")?;
                    // Python's tarfile applies these to every later member; we do not, so
                    // any that would change a member's identity or size is refused.
                    if let Some((key, _)) = records.iter().find(|(k, _)| {
                        matches!(k.as_str(), "path" | "linkpath" | "size")
                            || k.starts_with("GNU.sparse.")
                    }) {
                        return Err(extension_error(format!(
                            "a global pax header sets '{key}', which would apply to every later member"
                        )));
                    }
                }
                _ => self.member(&mut entry)?,
            }
        }
        if !self.pending.is_empty() {
            return Err(extension_error(
                "an extended header is not followed by a member",
            ));
        }
        Ok(())
    }

    fn read_extension<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        what: &str,
    ) -> Result<Vec<u8>, ArtifactError> {
        let size = entry
            .header()
            .entry_size()
            .map_err(|e| classify(e, &self.current, self.limits))?;
        if size > MAX_EXTENSION_BYTES {
            return Err(extension_error(format!(
                "{what} is larger than {MAX_EXTENSION_BYTES} bytes"
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry
            .take(MAX_EXTENSION_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| classify(e, &self.current, self.limits))?;
        Ok(bytes)
    }

    fn read_pax<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        what: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, ArtifactError> {
        let bytes = self.read_extension(entry, what)?;
        let mut records = Vec::new();
        for record in tar::PaxExtensions::new(&bytes) {
            let record = record.map_err(|_| extension_error(format!("{what} is malformed")))?;
            let key = record
                .key()
                .map_err(|_| extension_error(format!("{what} has a key that is not UTF-8")))?;
            records.push((key.to_owned(), record.value_bytes().to_vec()));
        }
        Ok(records)
    }

    fn member<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ArtifactError> {
        let limits = self.limits;
        self.entry_count += 1;
        if self.entry_count > limits.max_entries {
            return Err(ArtifactError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let pending = std::mem::take(&mut self.pending);
        let header = entry.header();
        let raw_name = match (pending.pax_value("path"), &pending.long_name) {
            (Some(_), Some(_)) => {
                return Err(extension_error(
                    "a member has both a GNU long name and a pax path",
                ))
            }
            (Some(path), None) => path.to_vec(),
            (None, Some(long)) => trim_nuls(long).to_vec(),
            (None, None) => header.path_bytes().into_owned(),
        };
        self.current = display(&raw_name);
        let path = member_path::check(&raw_name)?;
        let shown = path.name.clone();

        let type_flag = header.entry_type().as_byte();
        let kind = match type_flag {
            b'0' => Kind::File,
            // Old tars mark directories only by the trailing slash; tar readers agree on it.
            b'\0' if path.has_dir_suffix => Kind::Dir,
            b'\0' => Kind::File,
            b'5' => Kind::Dir,
            b'1' | b'2' => return Err(ArtifactError::Link { member: shown }),
            other => {
                let kind = match other {
                    b'3' => "character device".to_owned(),
                    b'4' => "block device".to_owned(),
                    b'6' => "FIFO".to_owned(),
                    b'7' => "contiguous file".to_owned(),
                    b'S' => "sparse file".to_owned(),
                    _ => format!("member of unknown type '{}'", display(&[other])),
                };
                return Err(ArtifactError::SpecialMember {
                    member: shown,
                    kind,
                });
            }
        };
        if pending.has_long_link {
            return Err(ArtifactError::inconsistent(
                &shown,
                "a GNU long link name precedes it but it is not a link",
            ));
        }
        if pending
            .pax
            .iter()
            .flatten()
            .any(|(k, _)| k.starts_with("GNU.sparse."))
        {
            return Err(ArtifactError::SpecialMember {
                member: shown,
                kind: "sparse file".into(),
            });
        }
        let size = header
            .entry_size()
            .map_err(|e| classify(e, &shown, limits))?;
        if let Some(pax_size) = pending.pax_value("size") {
            // Readers that honour pax `size` and readers that do not would split the
            // stream into different members.
            if std::str::from_utf8(pax_size)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                != Some(size)
            {
                return Err(ArtifactError::inconsistent(
                    &shown,
                    "its pax size differs from its header size",
                ));
            }
        }
        if kind == Kind::File && path.has_dir_suffix {
            return Err(ArtifactError::BadName {
                member: shown,
                reason: "a regular file's name ends with '/'".into(),
            });
        }
        if kind == Kind::Dir && size != 0 {
            return Err(ArtifactError::inconsistent(
                &shown,
                "a directory entry has content",
            ));
        }
        if size > limits.max_member_size {
            return Err(ArtifactError::MemberTooLarge {
                member: shown,
                limit: limits.max_member_size,
            });
        }
        self.guard.insert(&path)?;
        self.place(&path, kind)?;

        if kind == Kind::File {
            self.content_size = self.content_size.saturating_add(size);
            if Some(path.path()) == self.manifest_path().as_deref() {
                let bytes = self.read_manifest(entry, &shown, size)?;
                offer(self.sink, &shown, &bytes);
                self.manifest = Some(bytes);
            } else if self.sink.begin(&shown, size) {
                self.feed(entry, &shown, size)?;
            }
        }
        Ok(())
    }

    /// Keeps every member inside the one top-level directory.
    fn place(&mut self, path: &MemberPath, kind: Kind) -> Result<(), ArtifactError> {
        let top = path.top();
        let is_nested = path.path().len() > top.len();
        if !is_nested && kind == Kind::File {
            return Err(ArtifactError::SdistLayout {
                member: path.name.clone(),
                detail: "it is not inside a top-level directory".into(),
            });
        }
        match &self.top {
            None => self.top = Some(top.to_owned()),
            Some(expected) if expected != top => {
                return Err(ArtifactError::SdistLayout {
                    member: path.name.clone(),
                    detail: format!("it is outside the top-level directory '{expected}'"),
                })
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn manifest_path(&self) -> Option<String> {
        self.top
            .as_ref()
            .map(|top| format!("{top}/{}", self.manifest_name))
    }

    fn read_manifest<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        shown: &str,
        size: u64,
    ) -> Result<Vec<u8>, ArtifactError> {
        let max = self.limits.max_metadata_bytes;
        if size > max {
            return Err(ArtifactError::MetadataTooLarge {
                file: shown.to_owned(),
                limit: max,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry
            .take(max)
            .read_to_end(&mut bytes)
            .map_err(|e| classify(e, shown, self.limits))?;
        if bytes.len() as u64 != size {
            return Err(ArtifactError::NotTarGz {
                reason: format!("member '{shown}' is truncated"),
            });
        }
        Ok(bytes)
    }

    /// Streams a member's bytes to the sink; the metered decoder still counts them.
    fn feed<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        shown: &str,
        size: u64,
    ) -> Result<(), ArtifactError> {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut produced = 0u64;
        loop {
            let n = match entry.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(classify(e, shown, self.limits)),
            };
            produced += n as u64;
            self.sink.chunk(&buffer[..n]);
        }
        if produced != size {
            return Err(ArtifactError::NotTarGz {
                reason: format!("member '{shown}' is truncated"),
            });
        }
        self.sink.end();
        Ok(())
    }

    fn finish(self) -> Result<TarGzRead, ArtifactError> {
        let Some(top_dir) = self.top else {
            return Err(ArtifactError::NotTarGz {
                reason: "the tar archive has no members".into(),
            });
        };
        Ok(TarGzRead {
            top_dir,
            manifest: self.manifest,
            entry_count: self.entry_count,
            uncompressed_size: self.content_size,
        })
    }
}

fn extension_error(detail: impl Into<String>) -> ArtifactError {
    ArtifactError::InconsistentHeaders {
        location: "a tar extended header".into(),
        detail: detail.into(),
    }
}

fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_padding_is_trimmed_from_long_names() {
        assert_eq!(trim_nuls(b"abc\0\0"), b"abc");
        assert_eq!(trim_nuls(b"\0"), b"");
    }
}
