//! Keys by `kid`, fetched on demand. The rules, in order:
//!
//! - Nothing usable cached (first use, or the last fetch gave an empty set):
//!   fetch. An empty set is never cached, so the next verify tries again.
//! - Known `kid`, keys younger than `key_max_age`: use the cached key.
//! - Unknown `kid`, or keys too old: one refresh, then no other refresh
//!   until `refresh_cooldown` has passed. Made-up `kid`s therefore cost
//!   the identity provider one request per cooldown, not one per token.
//! - If refreshing old keys fails, the old keys stay in use: an identity
//!   provider outage should not lock everyone out.
//!
//! Fetches are serialised by one lock, and a caller that waited for it uses
//! the fetch that finished meanwhile instead of starting another, so a burst
//! of tokens with a new `kid` causes one fetch.

use crate::fetch::JwksFetcher;
use crate::jwks::{KeySet, PublicKey};
use crate::JwtError;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The cached key set and the bookkeeping behind the refresh rules.
pub(crate) struct KeyCache {
    fetcher: JwksFetcher,
    state: RwLock<State>,
    /// Held for the whole of a fetch; never held with `state` across an await.
    fetching: tokio::sync::Mutex<()>,
    cooldown: Duration,
    max_age: Duration,
}

#[derive(Default)]
struct State {
    /// `None` until a fetch returned at least one usable key.
    current: Option<Cached>,
    /// When keys that were already cached were last refreshed; a first
    /// load does not count, or the first unknown `kid` would wait.
    last_refresh: Option<Instant>,
    /// Bumped by every fetch, to tell waiters one has happened.
    generation: u64,
}

struct Cached {
    keys: KeySet,
    fetched_at: Instant,
}

/// What the cached state says, before any fetch.
enum Lookup {
    /// Known, and either young or not refreshable yet.
    Usable(Arc<PublicKey>),
    /// Known, old, and refreshable.
    Stale(Arc<PublicKey>),
    Unknown,
    /// Unknown, and refreshing is cooling down.
    UnknownCoolingDown,
    NothingCached,
}

impl State {
    fn lookup(&self, kid: &str, now: Instant, cooldown: Duration, max_age: Duration) -> Lookup {
        let Some(cached) = &self.current else {
            return Lookup::NothingCached;
        };
        let may_refresh = self
            .last_refresh
            .is_none_or(|at| now.duration_since(at) >= cooldown);
        match cached.keys.get(kid) {
            Some(key) if now.duration_since(cached.fetched_at) < max_age || !may_refresh => {
                Lookup::Usable(key.clone())
            }
            Some(key) => Lookup::Stale(key.clone()),
            None if may_refresh => Lookup::Unknown,
            None => Lookup::UnknownCoolingDown,
        }
    }

    /// The answer for `kid` after someone else's fetch: no second fetch.
    fn answer_without_fetching(&self, kid: &str) -> Result<Arc<PublicKey>, JwtError> {
        match &self.current {
            None => Err(JwtError::KeysUnavailable(
                "the key set could not be loaded just now".to_owned(),
            )),
            Some(cached) => cached.keys.get(kid).cloned().ok_or(JwtError::UnknownKey),
        }
    }
}

impl KeyCache {
    /// An empty cache over `fetcher`.
    pub(crate) fn new(fetcher: JwksFetcher, cooldown: Duration, max_age: Duration) -> Self {
        Self {
            fetcher,
            state: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
            cooldown,
            max_age,
        }
    }

    /// The key named `kid`, fetching the key set when the rules above allow.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<PublicKey>, JwtError> {
        let (seen_generation, lookup) = {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            let lookup = state.lookup(kid, Instant::now(), self.cooldown, self.max_age);
            (state.generation, lookup)
        };
        let stale_key = match lookup {
            Lookup::Usable(key) => return Ok(key),
            Lookup::UnknownCoolingDown => return Err(JwtError::UnknownKey),
            Lookup::Stale(key) => Some(key),
            Lookup::Unknown | Lookup::NothingCached => None,
        };
        let _fetching = match &stale_key {
            // Someone is already refreshing; the old key is still the best we know.
            Some(key) => match self.fetching.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(key.clone()),
            },
            None => self.fetching.lock().await,
        };
        {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            if state.generation != seen_generation {
                return state.answer_without_fetching(kid);
            }
        }

        let fetched = self.fetcher.fetch().await;

        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.generation += 1;
        let now = Instant::now();
        if state.current.is_some() {
            state.last_refresh = Some(now);
        }
        match fetched {
            Ok(keys) if keys.is_empty() => {
                tracing::warn!("the JWKS has no usable keys; it is not cached");
                state.current = None;
                Err(JwtError::KeysUnavailable(
                    "the identity provider publishes no usable keys".to_owned(),
                ))
            }
            Ok(keys) => {
                let key = keys.get(kid).cloned().ok_or(JwtError::UnknownKey);
                state.current = Some(Cached {
                    keys,
                    fetched_at: now,
                });
                key
            }
            Err(error) => stale_key.ok_or(error),
        }
    }
}
