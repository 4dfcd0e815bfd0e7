//! A bounded TTL cache that folds concurrent look-ups of one key into one
//! upstream request.
//!
//! - A key is either ready (an answer and its expiry) or in flight (a
//!   `OnceCell` the first caller fills and everyone else awaits).
//! - The caller that fills the cell also settles the entry: an answer
//!   becomes ready for its TTL; an error removes the entry, so all current
//!   waiters get the error and the next look-up asks upstream again.
//! - If the filling caller is cancelled, `OnceCell` hands the work to one
//!   of the waiters, so a dropped request never wedges a key.
//! - When full, expired answers are evicted first, then the oldest answers
//!   until a tenth of the room is free (so eviction is not paid on every
//!   insert). In-flight entries are never evicted; there are at most as
//!   many as concurrent look-ups.

use crate::UpstreamError;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// What one look-up settles to; shared by everyone awaiting it.
type Shared<V> = Arc<OnceCell<Result<V, UpstreamError>>>;

/// One registry's answers, by (name, version).
pub(crate) struct LookupCache<V> {
    entries: Mutex<HashMap<CacheKey, Entry<V>>>,
    max_entries: usize,
}

/// A package version in the form the registry treats as the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub(crate) name: String,
    pub(crate) version: String,
}

enum Entry<V> {
    Ready {
        answer: V,
        stored_at: Instant,
        expires_at: Instant,
    },
    InFlight(Shared<V>),
}

impl<V: Clone> LookupCache<V> {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    /// The cached answer for `key`, or the one `fetch` produces (run by at
    /// most one caller at a time per key). `ttl` says how long an answer is kept.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        key: CacheKey,
        ttl: impl FnOnce(&V) -> Duration,
        fetch: F,
    ) -> Result<V, UpstreamError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, UpstreamError>>,
    {
        let shared = {
            let mut entries = self.lock();
            let now = Instant::now();
            match entries.get(&key) {
                Some(Entry::Ready {
                    answer, expires_at, ..
                }) if *expires_at > now => return Ok(answer.clone()),
                Some(Entry::InFlight(shared)) => shared.clone(),
                expired_or_absent => {
                    if expired_or_absent.is_none() {
                        make_room(&mut entries, self.max_entries, now);
                    }
                    let shared = Shared::default();
                    entries.insert(key.clone(), Entry::InFlight(shared.clone()));
                    shared
                }
            }
        };
        shared
            .get_or_init(|| async {
                let result = fetch().await;
                self.settle(&key, &shared, &result, ttl);
                result
            })
            .await
            .clone()
    }

    /// Replaces the in-flight entry `shared` with `result`'s answer, or
    /// removes it if `result` is an error. Runs with no await after the
    /// fetch, so it cannot be cancelled half-way.
    fn settle(
        &self,
        key: &CacheKey,
        shared: &Shared<V>,
        result: &Result<V, UpstreamError>,
        ttl: impl FnOnce(&V) -> Duration,
    ) {
        let mut entries = self.lock();
        let is_ours = matches!(entries.get(key), Some(Entry::InFlight(current)) if Arc::ptr_eq(current, shared));
        if !is_ours {
            return;
        }
        match result {
            Ok(answer) => {
                let now = Instant::now();
                entries.insert(
                    key.clone(),
                    Entry::Ready {
                        answer: answer.clone(),
                        stored_at: now,
                        expires_at: now + ttl(answer),
                    },
                );
            }
            Err(_) => {
                entries.remove(key);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Frees room for one more entry if `entries` is full: expired answers
/// first, then the oldest answers until a tenth of the room is free.
fn make_room<V>(entries: &mut HashMap<CacheKey, Entry<V>>, max_entries: usize, now: Instant) {
    if entries.len() < max_entries {
        return;
    }
    entries.retain(|_, entry| match entry {
        Entry::Ready { expires_at, .. } => *expires_at > now,
        Entry::InFlight(_) => true,
    });
    let target = max_entries.saturating_sub((max_entries / 10).max(1));
    if entries.len() <= target {
        return;
    }
    let mut by_age: Vec<(Instant, CacheKey)> = entries
        .iter()
        .filter_map(|(key, entry)| match entry {
            Entry::Ready { stored_at, .. } => Some((*stored_at, key.clone())),
            Entry::InFlight(_) => None,
        })
        .collect();
    by_age.sort_unstable_by_key(|(stored_at, _)| *stored_at);
    let excess = entries.len() - target;
    for (_, key) in by_age.into_iter().take(excess) {
        entries.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(name: &str) -> CacheKey {
        CacheKey {
            name: name.to_owned(),
            version: "1".to_owned(),
        }
    }

    #[tokio::test]
    async fn a_full_cache_drops_expired_answers_before_old_ones() {
        let cache = LookupCache::<u32>::new(3);
        let calls = AtomicUsize::new(0);
        let fetch = |value: u32| {
            let calls = &calls;
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            }
        };
        let long = |_: &u32| Duration::from_secs(3600);
        cache
            .get_or_fetch(key("old"), long, fetch(1))
            .await
            .unwrap();
        cache
            .get_or_fetch(key("short"), |_| Duration::ZERO, fetch(2))
            .await
            .unwrap();
        cache
            .get_or_fetch(key("new"), long, fetch(3))
            .await
            .unwrap();
        // Full: "short" has expired, so it goes and "old" stays.
        cache
            .get_or_fetch(key("fourth"), long, fetch(4))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(cache.get_or_fetch(key("old"), long, fetch(9)).await, Ok(1));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(cache.lock().len(), 3);
    }
}
