//! A decorator that merges concurrent DNS reads and changes into batches.
//!
//! When a whole ISP renumbers, a thousand hosts call `set` within seconds.
//! [`CoalescingProvider`] wraps any [`DnsProvider`] and holds each read or
//! change for a short window (default [`DEFAULT_WINDOW`]); everything of
//! the same kind that arrives meanwhile goes to the provider together:
//!
//! - reads as one [`DnsProvider::current_many`] call;
//! - changes as [`DnsProvider::apply`] calls split at the provider's
//!   [`DnsProvider::max_batch_size`] and so that no batch changes one
//!   record twice; change batches go one at a time, in order of arrival.
//!
//! A batch that reaches the maximum size is sent at once. Every caller gets
//! the result of its own read or change.
//!
//! Flushes run as tokio tasks, so a caller that gives up waiting does not
//! strand the others. Outside a tokio runtime the decorator passes calls
//! straight through.

use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::domain::record::RecordKey;
use crate::domain::value::RecordValue;
use crate::error::{Error, Result};
use crate::ports::batching::{align_results, current_via_many, split_batches};
use crate::ports::provider::{ChangeResult, DnsChange, DnsProvider};

/// How long a read or change waits for others to join its batch by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_millis(20);

/// The result of one read.
type ReadResult = Result<Vec<RecordValue>>;

/// A batch sealed for sending: the items and, for each, the channel its
/// result goes back on.
type Batch<T, R> = (Vec<T>, Vec<oneshot::Sender<R>>);

/// Items waiting for the next flush, and sealed batches waiting to be sent.
struct Queue<T, R> {
    items: Vec<T>,
    waiters: Vec<oneshot::Sender<R>>,
    /// Bumped each time the open batch is sealed, so a timer started for an
    /// earlier batch does not seal a later one early.
    generation: u64,
    /// Sealed batches in the order they were sealed; each flush task sends
    /// the oldest, so batches reach the provider in order.
    ready: VecDeque<Batch<T, R>>,
}

impl<T, R> Queue<T, R> {
    fn seal(&mut self) {
        if !self.items.is_empty() {
            self.generation += 1;
            let batch = (mem::take(&mut self.items), mem::take(&mut self.waiters));
            self.ready.push_back(batch);
        }
    }
}

/// What joining a queue tells the caller to start.
enum Then {
    /// The batch reached the maximum size and was sealed: send it now.
    Send,
    /// The caller opened a new batch: seal it when the window of this
    /// generation ends.
    Timer(u64),
    /// Someone else's timer or flush will take care of it.
    Nothing,
}

struct Gatherer<T, R> {
    queue: Mutex<Queue<T, R>>,
    /// Held while a batch of this kind is with the provider.
    turn: tokio::sync::Mutex<()>,
}

impl<T, R> Gatherer<T, R> {
    fn new() -> Self {
        Self {
            queue: Mutex::new(Queue {
                items: Vec::new(),
                waiters: Vec::new(),
                generation: 0,
                ready: VecDeque::new(),
            }),
            turn: tokio::sync::Mutex::new(()),
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
        let was_empty = queue.items.is_empty();
        let mut receivers = Vec::new();
        for item in items {
            let (tx, rx) = oneshot::channel();
            queue.items.push(item);
            queue.waiters.push(tx);
            receivers.push(rx);
        }
        let then = if queue.items.len() >= max {
            queue.seal();
            Then::Send
        } else if was_empty {
            Then::Timer(queue.generation)
        } else {
            Then::Nothing
        };
        (receivers, then)
    }

    /// Seals the open batch if it is still of `generation`.
    fn seal_if(&self, generation: u64) -> bool {
        let mut queue = self.queue();
        if queue.generation != generation || queue.items.is_empty() {
            return false;
        }
        queue.seal();
        true
    }

    /// Waits for this kind's turn, then takes the oldest sealed batch.
    async fn next_batch(&self) -> (tokio::sync::MutexGuard<'_, ()>, Option<Batch<T, R>>) {
        let turn = self.turn.lock().await;
        let batch = self.queue().ready.pop_front();
        (turn, batch)
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
    fn seal_if(&self, kind: Kind, generation: u64) -> bool {
        match kind {
            Kind::Reads => self.reads.seal_if(generation),
            Kind::Writes => self.writes.seal_if(generation),
        }
    }

    /// Sends the oldest sealed batch of `kind`.
    async fn flush(&self, kind: Kind) {
        match kind {
            Kind::Reads => {
                let (_turn, batch) = self.reads.next_batch().await;
                if let Some((keys, waiters)) = batch {
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
                let (_turn, batch) = self.writes.next_batch().await;
                if let Some((changes, waiters)) = batch {
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

    /// Sets how long a call waits for others (tens of milliseconds is
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

    /// Starts what joining asked for, then waits for the results.
    async fn wait<R>(
        &self,
        runtime: &tokio::runtime::Handle,
        kind: Kind,
        (receivers, then): (Vec<oneshot::Receiver<Result<R>>>, Then),
    ) -> Vec<Result<R>> {
        let shared = Arc::clone(&self.shared);
        match then {
            Then::Send => {
                runtime.spawn(async move { shared.flush(kind).await });
            }
            Then::Timer(generation) => {
                let window = self.window;
                runtime.spawn(async move {
                    tokio::time::sleep(window).await;
                    if shared.seal_if(kind, generation) {
                        shared.flush(kind).await;
                    }
                });
            }
            Then::Nothing => {}
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
