//! In-process caches. They are optimisations only: each entry has a short TTL,
//! and changes made through this process invalidate at once.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use wharf_core::model::FileRecord;

/// A rendered page, ready to send.
#[derive(Debug)]
pub struct Page {
    pub body: Bytes,
    /// Quoted strong ETag.
    pub etag: String,
    built: Instant,
}

impl Page {
    pub fn new(body: Bytes) -> Self {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&body);
        Self {
            etag: format!("\"{}\"", &hex::encode(digest)[..32]),
            body,
            built: Instant::now(),
        }
    }
}

/// Which rendering of a simple page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageFormat {
    Html,
    Json,
}

/// Rendered simple pages by project (the empty name is the index).
pub struct PageCache {
    ttl: Duration,
    pages: RwLock<HashMap<(String, PageFormat), Arc<Page>>>,
}

/// The key of the project index in [`PageCache`]; no project name is empty.
pub const INDEX_KEY: &str = "";

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pages: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, project: &str, format: PageFormat) -> Option<Arc<Page>> {
        let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
        let page = pages.get(&(project.to_owned(), format))?;
        (page.built.elapsed() < self.ttl).then(|| page.clone())
    }

    pub fn put(&self, project: &str, format: PageFormat, page: Arc<Page>) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        pages.insert((project.to_owned(), format), page);
    }

    /// Drops a project's pages and the index, after a change to the project.
    pub fn invalidate(&self, project: &str) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        pages.retain(|(name, _), _| name != project && name != INDEX_KEY);
    }
}

/// File records by filename, so a download costs no database round trip.
pub struct FileCache {
    ttl: Duration,
    files: RwLock<HashMap<String, (Instant, Arc<FileRecord>)>>,
}

/// Bound on cached records; past it the cache starts over, which is cheap
/// and keeps memory flat whatever the number of files.
const MAX_FILE_ENTRIES: usize = 50_000;

impl FileCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            files: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, filename: &str) -> Option<Arc<FileRecord>> {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        let (at, record) = files.get(filename)?;
        (at.elapsed() < self.ttl).then(|| record.clone())
    }

    pub fn put(&self, record: Arc<FileRecord>) {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        if files.len() >= MAX_FILE_ENTRIES {
            files.clear();
        }
        files.insert(record.filename.clone(), (Instant::now(), record));
    }

    /// Forgets every file of a project (after a yank or a status change).
    pub fn invalidate_project(&self, project_id: i64) {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        files.retain(|_, (_, record)| record.project_id != project_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_drops_the_project_and_the_index_only() {
        let cache = PageCache::new(Duration::from_secs(60));
        for name in ["a", "b", INDEX_KEY] {
            cache.put(
                name,
                PageFormat::Html,
                Arc::new(Page::new(Bytes::from_static(b"x"))),
            );
        }
        cache.invalidate("a");
        assert!(cache.get("a", PageFormat::Html).is_none());
        assert!(cache.get(INDEX_KEY, PageFormat::Html).is_none());
        assert!(cache.get("b", PageFormat::Html).is_some());
    }

    #[test]
    fn entries_expire() {
        let cache = PageCache::new(Duration::ZERO);
        cache.put(
            "a",
            PageFormat::Json,
            Arc::new(Page::new(Bytes::from_static(b"x"))),
        );
        assert!(cache.get("a", PageFormat::Json).is_none());
    }

    #[test]
    fn etags_follow_content() {
        let a = Page::new(Bytes::from_static(b"one"));
        let b = Page::new(Bytes::from_static(b"two"));
        assert_ne!(a.etag, b.etag);
        assert_eq!(a.etag, Page::new(Bytes::from_static(b"one")).etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
    }
}
