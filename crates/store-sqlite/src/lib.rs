//! SQLite implementation of the Palazzo store: the embedded default.
//!
//! WAL journal with `synchronous = FULL` (DECISIONS 6: the database holds the
//! ledger and, later, protocol and acts), foreign keys on, a 5 s busy
//! timeout, and `BEGIN IMMEDIATE` for write transactions so writers queue
//! instead of failing when a read lock would need upgrading.
//!
//! The queries shared with PostgreSQL live in `palazzo-store-sql`; this crate
//! owns the connection setup, the migrations, the backup and the population
//! insert (row by row: SQLite has no arrays to `UNNEST`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use palazzo_store::*;
use palazzo_store_sql::{Dialect, SqlStore, SqlTx, db_err, delegate_reads, delegate_writes};
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};

/// SQLite's answers to the shared SQL's questions.
enum SqliteDialect {}

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    /// `stars` and `answer` are `INTEGER`.
    type SmallInt = i64;

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    /// Seconds since the epoch with the fraction (`'subsec'`, SQLite 3.42).
    fn instant(expr: &str) -> String {
        format!("unixepoch({expr}, 'subsec')")
    }
}

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    sql: SqlStore<SqliteDialect>,
}

/// A SQLite write transaction.
pub struct SqliteTx {
    sql: SqlTx<SqliteDialect>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs the migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::connect(options).await
    }

    /// Opens a database from a `sqlite:` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::connect(options).await
    }

    /// Opens an existing database file without changing it (no creation, no
    /// migrations): for `palazzo verify` on a stopped or running installation.
    pub async fn open_existing(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db_err)?
            .create_if_missing(false)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(SqliteStore {
            sql: SqlStore::new(pool),
        })
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let store = SqliteStore {
            sql: SqlStore::new(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(self.sql.pool())
            .await
            .map_err(|e| StoreError::Database(e.to_string()))
    }

    /// Runs a raw statement. For tests that simulate tampering and for the
    /// backup command; never used by the application's own writes.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        self.sql.execute_raw(sql).await
    }

    /// Writes a consistent copy of the database to `dest` (`VACUUM INTO`).
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_string_lossy().replace('\'', "''");
        self.execute_raw(&format!("VACUUM INTO '{dest}'"))
            .await
            .map(|_| ())
    }

    /// Closes the pool (checkpoints the WAL).
    pub async fn close(&self) {
        self.sql.close().await;
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx> {
        let tx = self
            .sql
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        Ok(SqliteTx {
            sql: SqlTx::new(tx),
        })
    }

    async fn ping(&self) -> Result<()> {
        self.sql.ping().await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.sql.tenants().await
    }

    async fn offices(&self, tenant: TenantId) -> Result<Vec<Office>> {
        self.sql.offices(tenant).await
    }

    async fn services(&self, tenant: TenantId) -> Result<Vec<Service>> {
        self.sql.services(tenant).await
    }

    async fn faqs(&self, tenant: TenantId) -> Result<Vec<Faq>> {
        self.sql.faqs(tenant).await
    }

    async fn rating_summaries(&self, tenant: TenantId) -> Result<Vec<RatingSummary>> {
        self.sql.rating_summaries(tenant).await
    }

    async fn population_counts(&self, tenant: TenantId) -> Result<PopulationCounts> {
        self.sql.population_counts(tenant).await
    }

    async fn ledger_events(
        &self,
        tenant: TenantId,
        from: u64,
        to: u64,
    ) -> Result<Vec<LedgerEvent>> {
        self.sql.ledger_events(tenant, from, to).await
    }

    async fn ledger_size(&self, tenant: TenantId) -> Result<u64> {
        self.sql.ledger_size(tenant).await
    }

    async fn checkpoints(&self, tenant: TenantId) -> Result<Vec<CheckpointRecord>> {
        self.sql.checkpoints(tenant).await
    }

    async fn latest_checkpoint(&self, tenant: TenantId) -> Result<Option<CheckpointRecord>> {
        self.sql.latest_checkpoint(tenant).await
    }

    async fn signing_keys(&self, tenant: TenantId) -> Result<Vec<SigningKeyRecord>> {
        self.sql.signing_keys(tenant).await
    }

    palazzo_store::access_reads!(delegate_reads);
    palazzo_store::protocol_reads!(delegate_reads);
    palazzo_store::filing_reads!(delegate_reads);
    palazzo_store::emergency_reads!(delegate_reads);
    palazzo_store::registro_reads!(delegate_reads);
    palazzo_store::anagrafe_reads!(delegate_reads);
    palazzo_store::certificate_reads!(delegate_reads);
    palazzo_store::pratiche_reads!(delegate_reads);
    palazzo_store::mail_reads!(delegate_reads);
    palazzo_store::booking_reads!(delegate_reads);
    palazzo_store::tributi_reads!(delegate_reads);
    palazzo_store::avvisi_reads!(delegate_reads);
    palazzo_store::tari_reads!(delegate_reads);
    palazzo_store::canone_reads!(delegate_reads);
}

impl StoreTx for SqliteTx {
    async fn insert_tenant(&mut self, t: &NewTenant) -> Result<Tenant> {
        self.sql.insert_tenant(t).await
    }

    async fn update_tenant(&mut self, t: &Tenant) -> Result<()> {
        self.sql.update_tenant(t).await
    }

    async fn insert_office(&mut self, tenant: TenantId, o: &NewOffice) -> Result<Office> {
        self.sql.insert_office(tenant, o).await
    }

    async fn insert_service(&mut self, tenant: TenantId, s: &NewService) -> Result<Service> {
        self.sql.insert_service(tenant, s).await
    }

    async fn update_service(&mut self, s: &Service) -> Result<()> {
        self.sql.update_service(s).await
    }

    async fn insert_faq(&mut self, tenant: TenantId, f: &NewFaq) -> Result<Faq> {
        self.sql.insert_faq(tenant, f).await
    }

    async fn insert_rating(&mut self, tenant: TenantId, r: &NewRating) -> Result<()> {
        self.sql.insert_rating(tenant, r).await
    }

    async fn append_event(&mut self, tenant: TenantId, e: &NewEvent) -> Result<LedgerEvent> {
        self.sql.append_event(tenant, e).await
    }
    async fn append_events(
        &mut self,
        tenant: TenantId,
        events: &[NewEvent],
    ) -> Result<Vec<LedgerEvent>> {
        self.sql.append_events(tenant, events).await
    }

    async fn insert_checkpoint(&mut self, tenant: TenantId, c: &CheckpointRecord) -> Result<()> {
        self.sql.insert_checkpoint(tenant, c).await
    }

    async fn insert_signing_key(&mut self, tenant: TenantId, k: &SigningKeyRecord) -> Result<()> {
        self.sql.insert_signing_key(tenant, k).await
    }

    palazzo_store::access_writes!(delegate_writes);
    palazzo_store::protocol_writes!(delegate_writes);
    palazzo_store::filing_writes!(delegate_writes);
    palazzo_store::emergency_writes!(delegate_writes);
    palazzo_store::registro_writes!(delegate_writes);
    palazzo_store::anagrafe_writes!(delegate_writes);
    palazzo_store::certificate_writes!(delegate_writes);
    palazzo_store::pratiche_writes!(delegate_writes);
    palazzo_store::mail_writes!(delegate_writes);
    palazzo_store::booking_writes!(delegate_writes);
    palazzo_store::tributi_writes!(delegate_writes);
    palazzo_store::avvisi_writes!(delegate_writes);
    palazzo_store::tari_writes!(delegate_writes);
    palazzo_store::canone_writes!(delegate_writes);

    async fn commit(self) -> Result<()> {
        self.sql.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conformance() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("palazzo-sqlite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Database(e.to_string()))?;
        let path = dir.join("conformance.db");
        let _ = std::fs::remove_file(&path);
        let store = SqliteStore::open(&path).await?;
        palazzo_store::conformance::run_all(&store).await;
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
