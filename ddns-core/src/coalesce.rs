//! A decorator that merges concurrent DNS changes into batches.
//!
//! When a whole ISP renumbers, a thousand hosts call `set` within seconds.
//! [`CoalescingProvider`] wraps any [`DnsProvider`] and holds each change
//! for a short window (default [`DEFAULT_WINDOW`]); everything that arrives
//! meanwhile is applied together, split at the provider's
//! [`DnsProvider::max_batch_size`] and so that no batch changes one record
//! twice. A batch that reaches the maximum size is sent at once. Batches go
//! to the provider one at a time, in order. Every caller gets the result of
//! its own change.
//!
//! The flush runs as a tokio task, so a caller that gives up waiting does
//! not strand the others. Outside a tokio runtime the decorator passes
//! changes straight through.

use std::fmt;
use std::mem;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::hostname::Hostname;
use crate::provider::{ChangeResult, DnsChange, DnsProvider, align_results, split_batches};
use crate::record::RecordType;

/// How long a change waits for others to join its batch by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_millis(20);

type Waiter = oneshot::Sender<ChangeResult>;

#[derive(Default)]
struct Pending {
    changes: Vec<DnsChange>,
    waiters: Vec<Waiter>,
    /// Bumped each time the pending batch is taken, so a timer started for
    /// an earlier batch does not flush a later one early.
    generation: u64,
}

struct Shared {
    inner: Arc<dyn DnsProvider>,
    pending: Mutex<Pending>,
    /// Held while a batch is with the provider: batches go one at a time.
    sending: tokio::sync::Mutex<()>,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // Pending is only pushed to and taken whole; it is valid after a panic.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the pending batch if it is still generation `generation`.
    fn take(&self, generation: Option<u64>) -> Option<(Vec<DnsChange>, Vec<Waiter>)> {
        let mut pending = self.pending();
        if generation.is_some_and(|g| g != pending.generation) || pending.changes.is_empty() {
            return None;
        }
        pending.generation += 1;
        Some((
            mem::take(&mut pending.changes),
            mem::take(&mut pending.waiters),
        ))
    }

    async fn send(&self, changes: Vec<DnsChange>, waiters: Vec<Waiter>) {
        let _turn = self.sending.lock().await;
        let max = self.inner.max_batch_size();
        let mut waiters: Vec<Option<Waiter>> = waiters.into_iter().map(Some).collect();
        for chunk in split_batches(&changes, max) {
            let batch: Vec<DnsChange> = chunk.iter().map(|&i| changes[i].clone()).collect();
            let results = align_results(&batch, self.inner.apply(&batch).await);
            for (index, result) in chunk.into_iter().zip(results) {
                if let Some(waiter) = waiters.get_mut(index).and_then(Option::take) {
                    // The caller may have stopped waiting; that is fine.
                    let _ = waiter.send(result);
                }
            }
        }
    }
}

/// A [`DnsProvider`] that batches the changes of concurrent callers.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use ddns_core::coalesce::CoalescingProvider;
/// use ddns_core::memory::MemoryProvider;
///
/// let dns = Arc::new(MemoryProvider::new());
/// let batched = CoalescingProvider::new(dns).with_window(Duration::from_millis(10));
/// # let _ = batched;
/// ```
pub struct CoalescingProvider {
    shared: Arc<Shared>,
    window: Duration,
}

impl fmt::Debug for CoalescingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoalescingProvider")
            .field("inner", &self.shared.inner)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl CoalescingProvider {
    /// Wraps `inner` with the default window.
    pub fn new(inner: Arc<dyn DnsProvider>) -> Self {
        Self {
            shared: Arc::new(Shared {
                inner,
                pending: Mutex::new(Pending::default()),
                sending: tokio::sync::Mutex::new(()),
            }),
            window: DEFAULT_WINDOW,
        }
    }

    /// Sets how long a change waits for others (tens of milliseconds is
    /// plenty: long enough to gather a burst, short enough not to be felt).
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<dyn DnsProvider> {
        &self.shared.inner
    }
}

#[async_trait]
impl DnsProvider for CoalescingProvider {
    async fn current(&self, name: &Hostname, record_type: RecordType) -> Result<Vec<IpAddr>> {
        self.shared.inner.current(name, record_type).await
    }

    fn max_batch_size(&self) -> usize {
        self.shared.inner.max_batch_size()
    }

    async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult> {
        if changes.is_empty() {
            return Vec::new();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return align_results(changes, self.shared.inner.apply(changes).await);
        };

        let mut receivers = Vec::with_capacity(changes.len());
        let (timer_for, full) = {
            let mut pending = self.shared.pending();
            let was_empty = pending.changes.is_empty();
            for change in changes {
                let (tx, rx) = oneshot::channel();
                pending.changes.push(change.clone());
                pending.waiters.push(tx);
                receivers.push(rx);
            }
            let full = pending.changes.len() >= self.shared.inner.max_batch_size();
            (was_empty.then_some(pending.generation), full)
        };

        if full {
            if let Some((batch, waiters)) = self.shared.take(None) {
                let shared = Arc::clone(&self.shared);
                runtime.spawn(async move { shared.send(batch, waiters).await });
            }
        } else if let Some(generation) = timer_for {
            let shared = Arc::clone(&self.shared);
            let window = self.window;
            runtime.spawn(async move {
                tokio::time::sleep(window).await;
                if let Some((batch, waiters)) = shared.take(Some(generation)) {
                    shared.send(batch, waiters).await;
                }
            });
        }

        let mut results = Vec::with_capacity(receivers.len());
        for rx in receivers {
            results.push(rx.await.unwrap_or_else(|_| {
                Err(Error::unavailable(
                    "the batch holding this change was abandoned (the DNS provider failed or the runtime is shutting down)",
                    true,
                ))
            }));
        }
        results
    }
}
