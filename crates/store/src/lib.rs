//! The storage contract of Palazzo.
//!
//! Repository traits ([`Store`], [`StoreTx`]), the records they move
//! ([`model`]) and [`StoreError`]. Each backend crate (`palazzo-store-sqlite`,
//! `palazzo-store-postgres`) implements the traits with its own migrations;
//! [`conformance`] is the one suite that both must pass. Nothing above this
//! layer writes SQL.

pub mod conformance;
pub mod model;
pub mod rows;

use std::future::Future;

pub use model::*;

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The requested row does not exist (for this tenant).
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; the payload names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// Stored data could not be turned back into domain types (tampering or a bug).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database: {0}")]
    Database(String),
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Read access and transactions. Implemented once per backend.
///
/// Every call that reads tenant data takes the [`TenantId`]: there is no way to
/// read another comune's rows by accident.
pub trait Store: Clone + Send + Sync + 'static {
    /// A write transaction.
    type Tx: StoreTx;

    /// Starts a write transaction (on SQLite `BEGIN IMMEDIATE`, so writers queue
    /// instead of failing on lock upgrade).
    fn begin(&self) -> impl Future<Output = Result<Self::Tx>> + Send;

    /// Is the database reachable?
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    /// All tenants (enti), default first.
    fn tenants(&self) -> impl Future<Output = Result<Vec<Tenant>>> + Send;
    /// The offices (uffici) of a tenant, by name.
    fn offices(&self, tenant: TenantId) -> impl Future<Output = Result<Vec<Office>>> + Send;
    /// The service catalogue of a tenant, by category then title.
    fn services(&self, tenant: TenantId) -> impl Future<Output = Result<Vec<Service>>> + Send;
    /// The FAQ of a tenant, in display order.
    fn faqs(&self, tenant: TenantId) -> impl Future<Output = Result<Vec<Faq>>> + Send;
    /// Per-page rating aggregates of a tenant.
    fn rating_summaries(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<RatingSummary>>> + Send;

    /// Number of residents, families and addresses of the synthetic/imported population.
    fn population_counts(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<PopulationCounts>> + Send;

    /// Ledger events of a tenant with `from <= seq < to`, in order.
    fn ledger_events(
        &self,
        tenant: TenantId,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<LedgerEvent>>> + Send;
    /// The ledger size (number of leaves) of a tenant.
    fn ledger_size(&self, tenant: TenantId) -> impl Future<Output = Result<u64>> + Send;
    /// Every checkpoint of a tenant, by size.
    fn checkpoints(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<CheckpointRecord>>> + Send;
    /// The newest checkpoint of a tenant, if any.
    fn latest_checkpoint(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Option<CheckpointRecord>>> + Send;
    /// Public keys registered for a tenant.
    fn signing_keys(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<SigningKeyRecord>>> + Send;
}

/// A write transaction. Dropped without [`StoreTx::commit`] it rolls back.
pub trait StoreTx: Send {
    /// Inserts a tenant and its ledger head.
    fn insert_tenant(&mut self, t: &NewTenant) -> impl Future<Output = Result<Tenant>> + Send;
    /// Replaces the editable fields of a tenant.
    fn update_tenant(&mut self, t: &Tenant) -> impl Future<Output = Result<()>> + Send;
    /// Inserts an office.
    fn insert_office(
        &mut self,
        tenant: TenantId,
        o: &NewOffice,
    ) -> impl Future<Output = Result<Office>> + Send;
    /// Inserts a service card.
    fn insert_service(
        &mut self,
        tenant: TenantId,
        s: &NewService,
    ) -> impl Future<Output = Result<Service>> + Send;
    /// Replaces the fields of a service card.
    fn update_service(&mut self, s: &Service) -> impl Future<Output = Result<()>> + Send;
    /// Inserts an FAQ entry.
    fn insert_faq(
        &mut self,
        tenant: TenantId,
        f: &NewFaq,
    ) -> impl Future<Output = Result<Faq>> + Send;
    /// Stores one anonymous page rating.
    fn insert_rating(
        &mut self,
        tenant: TenantId,
        r: &NewRating,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Bulk-inserts a population batch (addresses, families, persons).
    fn insert_population(
        &mut self,
        tenant: TenantId,
        batch: &PopulationBatch,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Appends one ledger event: takes the next sequence number from the
    /// tenant's ledger head (`UPDATE … RETURNING`, DECISIONS 7), *then* reads
    /// the clock (DECISIONS 8), computes the leaf hash and stores the row.
    fn append_event(
        &mut self,
        tenant: TenantId,
        event: &NewEvent,
    ) -> impl Future<Output = Result<LedgerEvent>> + Send;
    /// Stores a signed checkpoint.
    fn insert_checkpoint(
        &mut self,
        tenant: TenantId,
        c: &CheckpointRecord,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Registers a public key.
    fn insert_signing_key(
        &mut self,
        tenant: TenantId,
        k: &SigningKeyRecord,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Commits.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
}
