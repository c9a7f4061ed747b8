//! The store chosen at run time: SQLite or PostgreSQL, picked from the
//! database URL (`sqlite:` / `postgres:`), dispatched by enum (no boxing).

use std::path::Path;

use palazzo_store::*;
use palazzo_store_postgres::{PgStore, PgTx};
use palazzo_store_sqlite::{SqliteStore, SqliteTx};

/// An opened store.
#[derive(Clone, Debug)]
pub enum Db {
    /// Embedded SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL server.
    Postgres(PgStore),
}

/// A write transaction on either backend.
pub enum DbTx {
    /// SQLite.
    Sqlite(SqliteTx),
    /// PostgreSQL.
    Postgres(PgTx),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:…`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

impl Backend {
    /// The backend named by a database URL, if any.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

impl Db {
    /// Opens the database a URL names and runs its migrations.
    pub async fn open(url: &str) -> Result<Db> {
        match Backend::from_url(url) {
            Some(Backend::Sqlite) => Ok(Db::Sqlite(SqliteStore::open_url(url).await?)),
            Some(Backend::Postgres) => Ok(Db::Postgres(PgStore::open_url(url).await?)),
            None => Err(StoreError::Database(
                "database URL must start with sqlite: or postgres://".into(),
            )),
        }
    }

    /// Opens an existing database without creating or migrating it.
    pub async fn open_existing(url: &str) -> Result<Db> {
        match Backend::from_url(url) {
            Some(Backend::Sqlite) => Ok(Db::Sqlite(SqliteStore::open_existing(url).await?)),
            Some(Backend::Postgres) => Ok(Db::Postgres(PgStore::open_existing(url).await?)),
            None => Err(StoreError::Database(
                "database URL must start with sqlite: or postgres://".into(),
            )),
        }
    }

    /// Opens (creating) a SQLite file.
    pub async fn open_sqlite(path: &Path) -> Result<Db> {
        Ok(Db::Sqlite(SqliteStore::open(path).await?))
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs raw SQL, bypassing the application (tamper simulations in tests).
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        match self {
            Db::Sqlite(s) => s.execute_raw(sql).await,
            Db::Postgres(s) => s.execute_raw(sql).await,
        }
    }

    /// Writes a consistent copy of a SQLite database to `dest`. PostgreSQL
    /// installations are backed up with the server's own tools (pg_dump,
    /// base backups).
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        match self {
            Db::Sqlite(s) => s.backup_to(dest).await,
            Db::Postgres(_) => Err(StoreError::Database(
                "PostgreSQL installations are backed up with pg_dump or base backups".into(),
            )),
        }
    }

    /// Closes the connections.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(s) => s.close().await,
            Db::Postgres(s) => s.close().await,
        }
    }
}

/// Forwards a call to whichever backend `self` holds.
macro_rules! dispatch {
    ($self:expr, $s:ident => $call:expr) => {
        match $self {
            Db::Sqlite($s) => $call,
            Db::Postgres($s) => $call,
        }
    };
}

macro_rules! dispatch_tx {
    ($self:expr, $t:ident => $call:expr) => {
        match $self {
            DbTx::Sqlite($t) => $call,
            DbTx::Postgres($t) => $call,
        }
    };
}

/// `Store` methods from [`palazzo_store::access_reads`], dispatched by backend.
macro_rules! dispatch_reads {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $( async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
            dispatch!(self, s => s.$name($($arg),*).await)
        } )*
    };
}

/// `StoreTx` methods from [`palazzo_store::access_writes`], dispatched by backend.
macro_rules! dispatch_writes {
    ($( $(#[$m:meta])* fn $name:ident(&mut self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $( async fn $name(&mut self $(, $arg: $ty)*) -> Result<$ret> {
            dispatch_tx!(self, t => t.$name($($arg),*).await)
        } )*
    };
}

impl Store for Db {
    palazzo_store::access_reads!(dispatch_reads);
    palazzo_store::protocol_reads!(dispatch_reads);
    palazzo_store::filing_reads!(dispatch_reads);
    palazzo_store::emergency_reads!(dispatch_reads);
    palazzo_store::registro_reads!(dispatch_reads);
    palazzo_store::anagrafe_reads!(dispatch_reads);
    palazzo_store::certificate_reads!(dispatch_reads);
    palazzo_store::pratiche_reads!(dispatch_reads);
    palazzo_store::mail_reads!(dispatch_reads);
    palazzo_store::booking_reads!(dispatch_reads);
    palazzo_store::tributi_reads!(dispatch_reads);
    palazzo_store::avvisi_reads!(dispatch_reads);
    palazzo_store::tari_reads!(dispatch_reads);
    palazzo_store::canone_reads!(dispatch_reads);

    type Tx = DbTx;

    async fn begin(&self) -> Result<DbTx> {
        match self {
            Db::Sqlite(s) => Ok(DbTx::Sqlite(s.begin().await?)),
            Db::Postgres(s) => Ok(DbTx::Postgres(s.begin().await?)),
        }
    }
    async fn ping(&self) -> Result<()> {
        dispatch!(self, s => s.ping().await)
    }
    async fn tenants(&self) -> Result<Vec<Tenant>> {
        dispatch!(self, s => s.tenants().await)
    }
    async fn offices(&self, t: TenantId) -> Result<Vec<Office>> {
        dispatch!(self, s => s.offices(t).await)
    }
    async fn services(&self, t: TenantId) -> Result<Vec<Service>> {
        dispatch!(self, s => s.services(t).await)
    }
    async fn faqs(&self, t: TenantId) -> Result<Vec<Faq>> {
        dispatch!(self, s => s.faqs(t).await)
    }
    async fn rating_summaries(&self, t: TenantId) -> Result<Vec<RatingSummary>> {
        dispatch!(self, s => s.rating_summaries(t).await)
    }
    async fn population_counts(&self, t: TenantId) -> Result<PopulationCounts> {
        dispatch!(self, s => s.population_counts(t).await)
    }
    async fn ledger_events(&self, t: TenantId, from: u64, to: u64) -> Result<Vec<LedgerEvent>> {
        dispatch!(self, s => s.ledger_events(t, from, to).await)
    }
    async fn ledger_size(&self, t: TenantId) -> Result<u64> {
        dispatch!(self, s => s.ledger_size(t).await)
    }
    async fn checkpoints(&self, t: TenantId) -> Result<Vec<CheckpointRecord>> {
        dispatch!(self, s => s.checkpoints(t).await)
    }
    async fn latest_checkpoint(&self, t: TenantId) -> Result<Option<CheckpointRecord>> {
        dispatch!(self, s => s.latest_checkpoint(t).await)
    }
    async fn signing_keys(&self, t: TenantId) -> Result<Vec<SigningKeyRecord>> {
        dispatch!(self, s => s.signing_keys(t).await)
    }
}

impl StoreTx for DbTx {
    palazzo_store::access_writes!(dispatch_writes);
    palazzo_store::protocol_writes!(dispatch_writes);
    palazzo_store::filing_writes!(dispatch_writes);
    palazzo_store::emergency_writes!(dispatch_writes);
    palazzo_store::registro_writes!(dispatch_writes);
    palazzo_store::anagrafe_writes!(dispatch_writes);
    palazzo_store::certificate_writes!(dispatch_writes);
    palazzo_store::pratiche_writes!(dispatch_writes);
    palazzo_store::mail_writes!(dispatch_writes);
    palazzo_store::booking_writes!(dispatch_writes);
    palazzo_store::tributi_writes!(dispatch_writes);
    palazzo_store::avvisi_writes!(dispatch_writes);
    palazzo_store::tari_writes!(dispatch_writes);
    palazzo_store::canone_writes!(dispatch_writes);

    async fn insert_tenant(&mut self, v: &NewTenant) -> Result<Tenant> {
        dispatch_tx!(self, t => t.insert_tenant(v).await)
    }
    async fn update_tenant(&mut self, v: &Tenant) -> Result<()> {
        dispatch_tx!(self, t => t.update_tenant(v).await)
    }
    async fn insert_office(&mut self, id: TenantId, v: &NewOffice) -> Result<Office> {
        dispatch_tx!(self, t => t.insert_office(id, v).await)
    }
    async fn insert_service(&mut self, id: TenantId, v: &NewService) -> Result<Service> {
        dispatch_tx!(self, t => t.insert_service(id, v).await)
    }
    async fn update_service(&mut self, v: &Service) -> Result<()> {
        dispatch_tx!(self, t => t.update_service(v).await)
    }
    async fn insert_faq(&mut self, id: TenantId, v: &NewFaq) -> Result<Faq> {
        dispatch_tx!(self, t => t.insert_faq(id, v).await)
    }
    async fn insert_rating(&mut self, id: TenantId, v: &NewRating) -> Result<()> {
        dispatch_tx!(self, t => t.insert_rating(id, v).await)
    }
    async fn append_event(&mut self, id: TenantId, v: &NewEvent) -> Result<LedgerEvent> {
        dispatch_tx!(self, t => t.append_event(id, v).await)
    }
    async fn append_events(&mut self, id: TenantId, v: &[NewEvent]) -> Result<Vec<LedgerEvent>> {
        dispatch_tx!(self, t => t.append_events(id, v).await)
    }
    async fn insert_checkpoint(&mut self, id: TenantId, v: &CheckpointRecord) -> Result<()> {
        dispatch_tx!(self, t => t.insert_checkpoint(id, v).await)
    }
    async fn insert_signing_key(&mut self, id: TenantId, v: &SigningKeyRecord) -> Result<()> {
        dispatch_tx!(self, t => t.insert_signing_key(id, v).await)
    }
    async fn commit(self) -> Result<()> {
        dispatch_tx!(self, t => t.commit().await)
    }
}
