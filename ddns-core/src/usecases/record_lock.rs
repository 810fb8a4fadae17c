//! One order per record: the sets of one record within a process take
//! turns, so that the DNS change and the store write of one request are
//! never interleaved with another request's for the same record.
//!
//! [`RecordLocks`] hands out one async mutex per [`RecordKey`], created on
//! first use and dropped when its last holder or waiter is gone, so memory
//! follows the records being changed right now. Unrelated records never
//! wait for each other. Waiters are served in arrival order (tokio's mutex
//! is fair), so the request answered last is the one whose value stays.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OwnedMutexGuard;

use crate::domain::record::RecordKey;

/// The per-record turns of one service.
#[derive(Debug, Default)]
pub(crate) struct RecordLocks {
    turns: Mutex<HashMap<RecordKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// A record's turn; the next waiter goes when it is dropped.
#[derive(Debug)]
pub(crate) struct RecordTurn<'a> {
    locks: &'a RecordLocks,
    key: RecordKey,
    guard: Option<OwnedMutexGuard<()>>,
}

impl RecordLocks {
    fn turns(&self) -> MutexGuard<'_, HashMap<RecordKey, Arc<tokio::sync::Mutex<()>>>> {
        // Entries are inserted and removed whole: valid after a panic.
        self.turns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for `key`'s turn.
    pub(crate) async fn lock(&self, key: RecordKey) -> RecordTurn<'_> {
        let mutex = self.turns().entry(key.clone()).or_default().clone();
        let guard = mutex.lock_owned().await;
        RecordTurn {
            locks: self,
            key,
            guard: Some(guard),
        }
    }

    /// Records with a turn held or awaited (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.turns().len()
    }
}

impl Drop for RecordTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut turns = self.locks.turns();
        // Only the map holds it: nobody holds or awaits this record's turn.
        if turns
            .get(&self.key)
            .is_some_and(|mutex| Arc::strong_count(mutex) == 1)
        {
            turns.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hostname::Hostname;
    use crate::domain::record::RecordType;

    fn key(name: &str) -> RecordKey {
        RecordKey::new(Hostname::parse(name).unwrap(), RecordType::A)
    }

    #[tokio::test]
    async fn turns_of_one_record_wait_and_others_do_not() {
        let locks = Arc::new(RecordLocks::default());
        let first = locks.lock(key("a.example.com")).await;
        // Another record is not blocked.
        let other = locks.lock(key("b.example.com")).await;
        drop(other);
        let waiting = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _turn = locks.lock(key("a.example.com")).await;
            })
        };
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "the second turn waits for the first"
        );
        drop(first);
        waiting.await.unwrap();
        assert_eq!(locks.len(), 0, "released turns leave nothing behind");
    }
}
