//! Read caches: recent answers of hot reads (product details, listing and search pages),
//! keyed by strings that callers build from everything the answer depends on (a generation
//! number included where a write must make every page stale). A TTL bounds how long an
//! answer outlives a write this process did not see.
//!
//! Values are whatever the caller keeps — in process typically an `Arc` of the read model,
//! so a hit costs no copy. A cluster adapter implements `ReadCache<V>` for serde-able `V`
//! (or `Arc<T>` with serde-able `T`): GET, and on a miss the load then SET with EX; a
//! write's `invalidate` is a DEL plus a PUBLISH so processes drop their local copies, and
//! `invalidate_all` bumps a generation that is part of every key.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::{ServiceError, ServiceResult};

/// The load of a missing value. Boxed so the trait stays usable as `dyn ReadCache<V>`.
pub type Load<'a, V> = Pin<Box<dyn Future<Output = ServiceResult<V>> + Send + 'a>>;

#[async_trait::async_trait]
pub trait ReadCache<V>: Send + Sync
where
    V: Clone + Send + Sync + 'static,
{
    /// The cached value of `key`, or the result of `load` (kept if it succeeded; errors are
    /// never cached). Concurrent misses of one key run one load and share its result, so a
    /// hot key that expires costs one query, not one per waiting request.
    async fn get_or_load<'a>(&'a self, key: &'a str, load: Load<'a, V>) -> ServiceResult<V>;
    /// Drops `key`: the next read loads it again.
    async fn invalidate(&self, key: &str);
    /// Drops every key. Async because a cluster adapter needs a round trip for it.
    async fn invalidate_all(&self);
}

/// The in-process adapter: a moka cache, bounded in entries, with a time to live.
pub struct LocalReadCache<V> {
    cache: moka::future::Cache<String, V>,
}

impl<V> LocalReadCache<V>
where
    V: Clone + Send + Sync + 'static,
{
    pub fn new(max_entries: u64, ttl: Duration) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
        }
    }
}

#[async_trait::async_trait]
impl<V> ReadCache<V> for LocalReadCache<V>
where
    V: Clone + Send + Sync + 'static,
{
    async fn get_or_load<'a>(&'a self, key: &'a str, load: Load<'a, V>) -> ServiceResult<V> {
        self.cache
            .try_get_with_by_ref(key, load)
            .await
            .map_err(|e| {
                Arc::try_unwrap(e).unwrap_or_else(|shared| ServiceError::duplicate(&shared))
            })
    }

    async fn invalidate(&self, key: &str) {
        self.cache.invalidate(key).await;
    }

    async fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn cache() -> Arc<dyn ReadCache<Arc<String>>> {
        Arc::new(LocalReadCache::new(100, Duration::from_secs(60)))
    }

    /// A load that counts its runs and answers `value` after a moment.
    fn load<'a>(runs: &'a AtomicUsize, value: &'a str) -> Load<'a, Arc<String>> {
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Arc::new(value.to_owned()))
        })
    }

    #[tokio::test]
    async fn a_value_is_loaded_once_and_reloaded_after_invalidation() {
        let c = cache();
        let runs = AtomicUsize::new(0);
        assert_eq!(*c.get_or_load("a", load(&runs, "1")).await.unwrap(), "1");
        assert_eq!(*c.get_or_load("a", load(&runs, "2")).await.unwrap(), "1");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        c.invalidate("a").await;
        assert_eq!(*c.get_or_load("a", load(&runs, "2")).await.unwrap(), "2");
        assert_eq!(*c.get_or_load("b", load(&runs, "b")).await.unwrap(), "b");
        c.invalidate_all().await;
        assert_eq!(*c.get_or_load("a", load(&runs, "3")).await.unwrap(), "3");
        assert_eq!(*c.get_or_load("b", load(&runs, "4")).await.unwrap(), "4");
        assert_eq!(runs.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load() {
        let c = cache();
        let runs = AtomicUsize::new(0);
        let all =
            futures_util::future::join_all((0..10).map(|_| c.get_or_load("hot", load(&runs, "v"))))
                .await;
        assert!(all.iter().all(|r| r.as_ref().is_ok_and(|v| **v == "v")));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_reach_every_waiter_and_are_not_cached() {
        let c = cache();
        let runs = AtomicUsize::new(0);
        let failing = || -> Load<'_, Arc<String>> {
            Box::pin(async {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(ServiceError::NotFound("product"))
            })
        };
        let all =
            futures_util::future::join_all((0..3).map(|_| c.get_or_load("x", failing()))).await;
        assert!(
            all.iter()
                .all(|r| matches!(r, Err(ServiceError::NotFound("product"))))
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(
            *c.get_or_load("x", load(&runs, "found")).await.unwrap(),
            "found"
        );
    }
}
