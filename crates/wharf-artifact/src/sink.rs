//! A way for scanners to see every member's bytes during the one checked pass, instead of
//! opening the archive a second time with a less careful reader.

/// Receives the content of each regular file as the reader decompresses it. A member is
/// offered only after its name has passed every check; if the archive is refused later,
/// the sink has seen part of it and should discard what it gathered.
pub trait MemberSink {
    /// A file starts. `size` is its declared size, which the reader enforces as it goes.
    /// Returning false skips its bytes (`chunk` and `end` are not called for it).
    fn begin(&mut self, name: &str, size: u64) -> bool;
    /// The next piece of the current file.
    fn chunk(&mut self, data: &[u8]);
    /// The current file is complete.
    fn end(&mut self);
}

/// A sink that wants nothing: plain reading.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSink;

impl MemberSink for NoSink {
    fn begin(&mut self, _name: &str, _size: u64) -> bool {
        false
    }
    fn chunk(&mut self, _data: &[u8]) {}
    fn end(&mut self) {}
}

/// Offers a member already held in memory.
pub(crate) fn offer(sink: &mut dyn MemberSink, name: &str, bytes: &[u8]) {
    if sink.begin(name, bytes.len() as u64) {
        sink.chunk(bytes);
        sink.end();
    }
}
