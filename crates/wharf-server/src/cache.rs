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

/// Which rendering of a project's page is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageFormat {
    Simple(SimpleFormat),
    /// An npm packument, in full (`application/json`).
    NpmFull,
    /// An npm packument, abbreviated (`application/vnd.npm.install-v1+json`).
    NpmAbbreviated,
}

/// Which rendering of a simple page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimpleFormat {
    Html,
    Json,
}

impl From<SimpleFormat> for PageFormat {
    fn from(f: SimpleFormat) -> Self {
        Self::Simple(f)
    }
}

/// Rendered simple pages by project (the empty name is the index).
///
/// Rebuilds are single-flight: when a page is stale, one request rebuilds it
/// while the others keep serving the stale copy; when there is no copy, the
/// others wait for the one rebuild instead of all querying and rendering at
/// once (which, at 64 connections, turned every expiry into a latency spike).
pub struct PageCache {
    ttl: Duration,
    pages: RwLock<HashMap<PageKey, Arc<Page>>>,
    builds: std::sync::Mutex<HashMap<PageKey, Arc<tokio::sync::Mutex<()>>>>,
    /// Bumped by every invalidation, so a rebuild that read the database
    /// before a change cannot store its outdated page after it.
    generation: std::sync::atomic::AtomicU64,
}

/// A page's key: normalized project name (empty for the index) and format.
type PageKey = (String, PageFormat);

/// The key of the project index in [`PageCache`]; no project name is empty.
pub const INDEX_KEY: &str = "";

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pages: RwLock::new(HashMap::new()),
            builds: std::sync::Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A fresh page only.
    pub fn get(&self, project: &str, format: PageFormat) -> Option<Arc<Page>> {
        self.lookup(project, format)
            .filter(|p| p.built.elapsed() < self.ttl)
    }

    fn lookup(&self, project: &str, format: PageFormat) -> Option<Arc<Page>> {
        let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
        pages.get(&(project.to_owned(), format)).cloned()
    }

    /// Returns the cached page, or the result of `build` run by exactly one
    /// caller at a time per page. `build` may return `Ok(None)` (no such
    /// project), which is not cached.
    pub async fn get_or_build<E, F, Fut>(
        &self,
        project: &str,
        format: PageFormat,
        build: F,
    ) -> Result<Option<Arc<Page>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<Bytes>, E>>,
    {
        let stale = match self.lookup(project, format) {
            Some(page) if page.built.elapsed() < self.ttl => return Ok(Some(page)),
            other => other,
        };
        let key = (project.to_owned(), format);
        let lock = {
            let mut builds = self.builds.lock().unwrap_or_else(|e| e.into_inner());
            builds.entry(key.clone()).or_default().clone()
        };
        let result = {
            let _guard = match (lock.try_lock(), stale) {
                (Ok(guard), _) => guard,
                // Someone else is rebuilding: the stale copy is good enough meanwhile.
                (Err(_), Some(stale)) => return Ok(Some(stale)),
                (Err(_), None) => lock.lock().await,
            };
            self.build_locked(&key, build).await
        };
        // Forget the build lock once nobody holds it, so the map stays as
        // small as the set of pages being built right now.
        let mut builds = self.builds.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::strong_count(&lock) == 2 {
            builds.remove(&key);
        }
        result
    }

    async fn build_locked<E, F, Fut>(&self, key: &PageKey, build: F) -> Result<Option<Arc<Page>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<Bytes>, E>>,
    {
        // The rebuild we waited for may have finished.
        if let Some(page) = self.get(&key.0, key.1) {
            return Ok(Some(page));
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let Some(body) = build().await? else {
            return Ok(None);
        };
        let page = Arc::new(Page::new(body));
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            pages.insert(key.clone(), page.clone());
        }
        Ok(Some(page))
    }

    pub fn put(&self, project: &str, format: PageFormat, page: Arc<Page>) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        pages.insert((project.to_owned(), format), page);
    }

    /// Drops a project's pages and the index, after a change to the project.
    pub fn invalidate(&self, project: &str) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        pages.retain(|(name, _), _| name != project && name != INDEX_KEY);
    }

    /// Drops every page, after a change that may touch any of them (a proxy rule).
    pub fn clear(&self) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        pages.clear();
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
                PageFormat::Simple(SimpleFormat::Html),
                Arc::new(Page::new(Bytes::from_static(b"x"))),
            );
        }
        cache.invalidate("a");
        assert!(cache
            .get("a", PageFormat::Simple(SimpleFormat::Html))
            .is_none());
        assert!(cache
            .get(INDEX_KEY, PageFormat::Simple(SimpleFormat::Html))
            .is_none());
        assert!(cache
            .get("b", PageFormat::Simple(SimpleFormat::Html))
            .is_some());
    }

    #[test]
    fn entries_expire() {
        let cache = PageCache::new(Duration::ZERO);
        cache.put(
            "a",
            PageFormat::Simple(SimpleFormat::Json),
            Arc::new(Page::new(Bytes::from_static(b"x"))),
        );
        assert!(cache
            .get("a", PageFormat::Simple(SimpleFormat::Json))
            .is_none());
    }

    #[tokio::test]
    async fn concurrent_misses_build_once() {
        let cache = Arc::new(PageCache::new(Duration::from_secs(60)));
        let builds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (cache, builds) = (cache.clone(), builds.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_build("a", PageFormat::Simple(SimpleFormat::Json), || async {
                        builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(Some(Bytes::from_static(b"page")))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().unwrap().body.as_ref(), b"page");
        }
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(
            cache.builds.lock().unwrap().is_empty(),
            "build locks are forgotten after use"
        );
    }

    #[tokio::test]
    async fn a_build_that_raced_an_invalidation_is_not_stored() {
        let cache = PageCache::new(Duration::from_secs(60));
        let page = cache
            .get_or_build("a", PageFormat::Simple(SimpleFormat::Html), || async {
                cache.invalidate("a"); // a change lands while the page is being built
                Ok::<_, ()>(Some(Bytes::from_static(b"old")))
            })
            .await
            .unwrap();
        assert_eq!(
            page.unwrap().body.as_ref(),
            b"old",
            "the caller still gets its answer"
        );
        assert!(
            cache
                .get("a", PageFormat::Simple(SimpleFormat::Html))
                .is_none(),
            "but the outdated page is not cached"
        );
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
