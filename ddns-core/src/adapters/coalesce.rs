//! A decorator that merges concurrent DNS reads and changes into batches.
//!
//! When a whole ISP renumbers, a thousand hosts call `set` within seconds.
//! [`CoalescingProvider`] wraps any [`DnsProvider`] and batches while the
//! provider is busy, as databases commit in groups: a read or change that
//! finds the provider idle goes to it at once, and everything of the same
//! kind that arrives while a call is in flight goes together in the next
//! call. A fast provider (the embedded DNS) is never kept waiting, and a
//! slow one (Route 53, an RFC 2136 primary across the network) gets large
//! batches:
//!
//! - reads as one [`DnsProvider::current_many`] call;
//! - changes as [`DnsProvider::apply`] calls split at the provider's
//!   [`DnsProvider::max_batch_size`] and so that no batch changes one
//!   record twice; change batches go one at a time, in order of arrival.
//!
//! A window ([`CoalescingProvider::with_window`], none by default) makes
//! each batch wait that long for others before it goes; a batch that
//! reaches the maximum size goes at once. Every caller gets the result of
//! its own read or change.
//!
//! Each kind has at most one sending task at a time, which keeps sending
//! while batches wait and then stops; a caller that gives up waiting does
//! not strand the others. Outside a tokio runtime the decorator passes
//! calls straight through.

use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, oneshot};

use crate::domain::record::RecordKey;
use crate::domain::value::RecordValue;
use crate::error::{Error, Result};
use crate::ports::batching::{align_results, current_via_many, split_batches};
use crate::ports::provider::{ChangeResult, DnsChange, DnsProvider};

/// How long a call that finds the provider idle waits for others by
/// default: not at all (batches form while the provider is busy).
pub const DEFAULT_WINDOW: Duration = Duration::ZERO;

/// The result of one read.
type ReadResult = Result<Vec<RecordValue>>;

/// A batch sealed for sending: the items and, for each, the channel its
/// result goes back on.
type Batch<T, R> = (Vec<T>, Vec<oneshot::Sender<R>>);

/// Items waiting for the next call, and sealed batches waiting to be sent.
struct Queue<T, R> {
    items: Vec<T>,
    waiters: Vec<oneshot::Sender<R>>,
    /// Sealed batches in the order they were sealed (a batch is sealed
    /// when it reaches the maximum size, or when the sender takes it).
    ready: VecDeque<Batch<T, R>>,
    /// True while a sending task runs for this kind.
    busy: bool,
}

impl<T, R> Queue<T, R> {
    fn seal(&mut self) {
        if !self.items.is_empty() {
            let batch = (mem::take(&mut self.items), mem::take(&mut self.waiters));
            self.ready.push_back(batch);
        }
    }

    /// The next batch to send: the oldest sealed one, else the open one;
    /// `None` (and no longer busy) when nothing waits.
    fn next(&mut self) -> Option<Batch<T, R>> {
        if self.ready.is_empty() {
            self.seal();
        }
        let batch = self.ready.pop_front();
        if batch.is_none() {
            self.busy = false;
        }
        batch
    }
}

/// What joining a queue tells the caller to start.
enum Then {
    /// The provider was idle: start the sending task.
    Send,
    /// The sending task runs; a batch that just filled up cuts its window
    /// short.
    Nothing,
}

struct Gatherer<T, R> {
    queue: Mutex<Queue<T, R>>,
    /// Wakes a sending task waiting out its window when a batch fills up.
    full: Notify,
}

impl<T, R> Gatherer<T, R> {
    fn new() -> Self {
        Self {
            queue: Mutex::new(Queue {
                items: Vec::new(),
                waiters: Vec::new(),
                ready: VecDeque::new(),
                busy: false,
            }),
            full: Notify::new(),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue<T, R>> {
        // The queue is only pushed to and taken whole: valid after a panic.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn join(
        &self,
        items: impl IntoIterator<Item = T>,
        max: usize,
    ) -> (Vec<oneshot::Receiver<R>>, Then) {
        let mut queue = self.queue();
        let mut receivers = Vec::new();
        for item in items {
            let (tx, rx) = oneshot::channel();
            queue.items.push(item);
            queue.waiters.push(tx);
            receivers.push(rx);
        }
        if queue.items.len() >= max {
            queue.seal();
            // Only a sending task waiting out its window listens; no permit
            // is kept for a later window.
            self.full.notify_waiters();
        }
        let then = if queue.busy {
            Then::Nothing
        } else {
            queue.busy = true;
            Then::Send
        };
        (receivers, then)
    }

    /// The sending task's hold on the queue.
    fn sending(&self) -> Sending<'_, T, R> {
        Sending {
            gatherer: self,
            done: false,
        }
    }

    /// Waits up to `window` for the open batch to fill, unless a sealed
    /// batch waits already or nothing is open; none: no wait.
    async fn linger(&self, window: Duration) {
        if window.is_zero() {
            return;
        }
        // Listening before looking, so a batch that fills up in between
        // still ends the wait.
        let mut filled = std::pin::pin!(self.full.notified());
        filled.as_mut().enable();
        {
            let queue = self.queue();
            if !queue.ready.is_empty() || queue.items.is_empty() {
                return;
            }
        }
        // Either way the window is over.
        let _ = tokio::time::timeout(window, filled).await;
    }
}

/// A kind's sending task's hold on its queue: hands out batch after batch
/// and, if the task ends before the queue is empty (the provider panicked,
/// or the runtime is shutting down), fails every call still queued and
/// frees the kind for a new sending task.
struct Sending<'a, T, R> {
    gatherer: &'a Gatherer<T, R>,
    done: bool,
}

impl<T, R> Sending<'_, T, R> {
    /// The next batch to send, after the window; `None` when none waits
    /// (the kind is then free).
    async fn next(&mut self, window: Duration) -> Option<Batch<T, R>> {
        self.gatherer.linger(window).await;
        let batch = self.gatherer.queue().next();
        self.done = batch.is_none();
        batch
    }
}

impl<T, R> Drop for Sending<'_, T, R> {
    fn drop(&mut self) {
        if !self.done {
            let mut queue = self.gatherer.queue();
            // Dropping the senders tells each caller its batch was
            // abandoned.
            queue.items.clear();
            queue.waiters.clear();
            queue.ready.clear();
            queue.busy = false;
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Reads,
    Writes,
}

struct Shared {
    inner: Arc<dyn DnsProvider>,
    reads: Gatherer<RecordKey, ReadResult>,
    writes: Gatherer<DnsChange, ChangeResult>,
}

fn deliver<R>(waiters: Vec<oneshot::Sender<R>>, results: Vec<R>) {
    for (waiter, result) in waiters.into_iter().zip(results) {
        // The caller may have stopped waiting; that is fine.
        let _ = waiter.send(result);
    }
}

impl Shared {
    /// The sending task of `kind`: sends batch after batch (each after the
    /// window, if any) until none waits.
    async fn drain(&self, kind: Kind, window: Duration) {
        match kind {
            Kind::Reads => {
                let mut sending = self.reads.sending();
                while let Some((keys, waiters)) = sending.next(window).await {
                    let mut results = self.inner.current_many(&keys).await;
                    results.resize_with(keys.len(), || {
                        Err(Error::unavailable(
                            "the DNS provider answered fewer reads than asked",
                            false,
                        ))
                    });
                    deliver(waiters, results);
                }
            }
            Kind::Writes => {
                let mut sending = self.writes.sending();
                while let Some((changes, waiters)) = sending.next(window).await {
                    self.send_changes(changes, waiters).await;
                }
            }
        }
    }

    async fn send_changes(
        &self,
        changes: Vec<DnsChange>,
        waiters: Vec<oneshot::Sender<ChangeResult>>,
    ) {
        let mut waiters: Vec<Option<_>> = waiters.into_iter().map(Some).collect();
        for chunk in split_batches(&changes, self.inner.max_batch_size()) {
            let batch: Vec<DnsChange> = chunk.iter().map(|&i| changes[i].clone()).collect();
            let results = align_results(&batch, self.inner.apply(&batch).await);
            let chunk_waiters = chunk
                .iter()
                .filter_map(|&i| waiters.get_mut(i).and_then(Option::take))
                .collect();
            deliver(chunk_waiters, results);
        }
    }
}

/// A [`DnsProvider`] that batches the reads and changes of concurrent
/// callers.
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
                reads: Gatherer::new(),
                writes: Gatherer::new(),
            }),
            window: DEFAULT_WINDOW,
        }
    }

    /// Sets how long each batch waits for others before it goes (none by
    /// default: batches form while the provider is busy; a window only
    /// helps a provider that charges per call rather than per change).
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<dyn DnsProvider> {
        &self.shared.inner
    }

    /// Starts the sending task when joining asked for it, then waits for
    /// the results.
    async fn wait<R>(
        &self,
        runtime: &tokio::runtime::Handle,
        kind: Kind,
        (receivers, then): (Vec<oneshot::Receiver<Result<R>>>, Then),
    ) -> Vec<Result<R>> {
        if let Then::Send = then {
            let (shared, window) = (Arc::clone(&self.shared), self.window);
            runtime.spawn(async move { shared.drain(kind, window).await });
        }
        let mut results = Vec::with_capacity(receivers.len());
        for rx in receivers {
            results.push(rx.await.unwrap_or_else(|_| {
                Err(Error::unavailable(
                    "the batch holding this call was abandoned (the DNS provider failed or the runtime is shutting down)",
                    true,
                ))
            }));
        }
        results
    }
}

#[async_trait]
impl DnsProvider for CoalescingProvider {
    async fn current(&self, key: &RecordKey) -> Result<Vec<RecordValue>> {
        current_via_many(self, key).await
    }

    async fn current_many(&self, keys: &[RecordKey]) -> Vec<Result<Vec<RecordValue>>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.shared.inner.current_many(keys).await;
        };
        let max = self.shared.inner.max_batch_size();
        let joined = self.shared.reads.join(keys.iter().cloned(), max);
        self.wait(&runtime, Kind::Reads, joined).await
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
        let max = self.shared.inner.max_batch_size();
        let joined = self.shared.writes.join(changes.iter().cloned(), max);
        self.wait(&runtime, Kind::Writes, joined).await
    }
}
