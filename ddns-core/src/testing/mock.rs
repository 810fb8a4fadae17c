//! `mockall` mocks of the two ports, for unit tests of code built on them.
//!
//! Enabled by the `mock` feature. [`MockRecordStore`] and [`MockDnsProvider`]
//! implement [`RecordStore`] and [`DnsProvider`]; set expectations with
//! `expect_*` as usual in mockall. An unexpected call panics, which is what
//! a test that says "the provider is never called" wants.

use async_trait::async_trait;

use crate::domain::hostname::Hostname;
use crate::domain::record::{
    AccessUpdate, ChangeUpdate, GroupMember, Record, RecordConfig, RecordKey,
};
use crate::domain::secret::SharedSecret;
use crate::domain::value::RecordValue;
use crate::error::Result;
use crate::ports::provider::{ChangeResult, DnsChange, DnsProvider};
use crate::ports::store::{ListCursor, RecordPage, RecordStore};

mockall::mock! {
    /// A mock [`RecordStore`].
    #[derive(Debug)]
    pub RecordStore {}

    #[async_trait]
    impl RecordStore for RecordStore {
        async fn get(&self, key: &RecordKey) -> Result<Option<Record>>;
        async fn discovery_group(&self, secret: &SharedSecret) -> Result<Vec<GroupMember>>;
        async fn followers(&self, source: &Hostname) -> Result<Vec<Record>>;
        async fn record_access(&self, key: &RecordKey, access: AccessUpdate) -> Result<()>;
        async fn record_change(&self, key: &RecordKey, change: ChangeUpdate) -> Result<bool>;
        async fn record_access_many(&self, updates: &[(RecordKey, AccessUpdate)]) -> Result<()>;
        async fn advance_replay_guard(&self, key: &RecordKey, timestamp: u64) -> Result<bool>;
        async fn create(&self, record: &Record) -> Result<()>;
        async fn update_config(&self, key: &RecordKey, config: &RecordConfig) -> Result<()>;
        async fn delete(&self, key: &RecordKey) -> Result<()>;
        async fn list_page(&self, cursor: Option<ListCursor>) -> Result<RecordPage>;
    }
}

mockall::mock! {
    /// A mock [`DnsProvider`].
    #[derive(Debug)]
    pub DnsProvider {}

    #[async_trait]
    impl DnsProvider for DnsProvider {
        async fn current(&self, key: &RecordKey) -> Result<Vec<RecordValue>>;
        async fn current_many(&self, keys: &[RecordKey]) -> Vec<Result<Vec<RecordValue>>>;
        fn max_batch_size(&self) -> usize;
        async fn apply(&self, changes: &[DnsChange]) -> Vec<ChangeResult>;
    }
}
