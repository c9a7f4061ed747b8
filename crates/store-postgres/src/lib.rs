//! PostgreSQL implementation of the Palazzo store: the scale path.
//!
//! `synchronous_commit = on` is forced on every connection (DECISIONS 6).
//! Population batches are written with `UNNEST` arrays, one statement per
//! table.
//!
//! The queries shared with SQLite live in `palazzo-store-sql`; this crate
//! owns the connection setup, the migrations and the population insert.

use std::str::FromStr;

use palazzo_store::*;
use palazzo_store_sql::{Dialect, SqlStore, SqlTx, db_err, delegate_reads, delegate_writes};
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};

/// PostgreSQL's answers to the shared SQL's questions.
enum PgDialect {}

impl Dialect for PgDialect {
    type Db = Postgres;
    /// `stars` and `answer` are `SMALLINT`.
    type SmallInt = i16;

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn skip_locked() -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }
}

/// The PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PgStore {
    sql: SqlStore<PgDialect>,
}

/// A PostgreSQL write transaction.
pub struct PgTx {
    sql: SqlTx<PgDialect>,
}

impl PgStore {
    /// Connects to a `postgres://` URL and runs the migrations.
    pub async fn open_url(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(db_err)?
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let store = PgStore {
            sql: SqlStore::new(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to an existing Palazzo database without changing it (no
    /// migrations): for `palazzo verify`, which may run with a read-only role.
    pub async fn open_existing(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(PgStore {
            sql: SqlStore::new(pool),
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(self.sql.pool())
            .await
            .map_err(|e| StoreError::Database(e.to_string()))
    }

    /// Runs a raw statement. For tests that simulate tampering; never used
    /// by the application's own writes.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        self.sql.execute_raw(sql).await
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.sql.close().await;
    }
}

impl Store for PgStore {
    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx> {
        let tx = self.sql.pool().begin().await.map_err(db_err)?;
        Ok(PgTx {
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

impl StoreTx for PgTx {
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
    use sqlx::postgres::PgPool;

    use super::*;

    /// Runs the conformance suite in a fresh database on the server named by
    /// `PALAZZO_TEST_POSTGRES` (default: the local server on 127.0.0.1:5432).
    /// `scripts/test` guarantees a server; without one this test fails, it
    /// never skips.
    #[tokio::test]
    async fn conformance() -> Result<()> {
        let admin_url = std::env::var("PALAZZO_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let db = format!(
            "palazzo_conf_{}_{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        );
        let admin = PgPool::connect(&admin_url).await.map_err(db_err)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .execute(&admin)
            .await
            .map_err(db_err)?;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{db}"),
            None => return Err(StoreError::Database("bad URL".into())),
        };
        let store = PgStore::open_url(&url).await?;
        palazzo_store::conformance::run_all(&store).await;
        store.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {db}")))
            .execute(&admin)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
