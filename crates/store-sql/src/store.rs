//! The reads: [`SqlStore`], and the decoding of the rows they return.

use std::fmt;

use palazzo_store::rows::*;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Pool, Row, SqlSafeStr};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, db_err};

/// The connection pool of a backend and the reads of [`Store`], shared by
/// both backends.
pub struct SqlStore<D: Dialect> {
    pool: Pool<Db<D>>,
}

impl<D: Dialect> SqlStore<D> {
    /// Wraps an open pool (connected and configured by the backend).
    pub fn new(pool: Pool<Db<D>>) -> Self {
        SqlStore { pool }
    }

    /// The pool, for what the backend does itself: migrations and beginning
    /// transactions.
    pub fn pool(&self) -> &Pool<Db<D>> {
        &self.pool
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish()
    }
}

const SERVICE_COLUMNS: &str = "id, tenant_id, slug, category, title, active, status_reason, summary, \
    audience, how_to, needed, achieved, times, costs, access, online_url, conditions, office_id, \
    topics, service_type, audience_type";

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// Runs a raw statement, outside any transaction.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await
            .map(|r| D::rows_affected(&r))
            .map_err(db_err)
    }

    /// See [`Store::ping`].
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    /// See [`Store::tenants`].
    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT * FROM tenants ORDER BY is_default DESC, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let hosts =
            sqlx::query("SELECT tenant_id, host FROM tenant_hosts ORDER BY tenant_id, position")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = Self::tenant_row(r).map_err(db_err)?;
            let mut names = Vec::new();
            for h in &hosts {
                if h.try_get::<i64, _>("tenant_id").map_err(db_err)? == row.id {
                    names.push(h.try_get("host").map_err(db_err)?);
                }
            }
            out.push(row.into_tenant(names)?);
        }
        Ok(out)
    }

    /// See [`Store::offices`].
    pub async fn offices(&self, tenant: TenantId) -> Result<Vec<Office>> {
        let rows = self
            .tenant_rows(
                "SELECT * FROM offices WHERE tenant_id = $1 ORDER BY name, id",
                tenant,
            )
            .await?;
        rows.iter()
            .map(|r| Self::office_row(r).map_err(db_err)?.into_office())
            .collect()
    }

    /// See [`Store::services`].
    pub async fn services(&self, tenant: TenantId) -> Result<Vec<Service>> {
        let sql = format!(
            "SELECT {SERVICE_COLUMNS} FROM services WHERE tenant_id = $1 ORDER BY category, title, id"
        );
        let rows = self.tenant_rows(sqlx::AssertSqlSafe(sql), tenant).await?;
        rows.iter()
            .map(|r| Self::service_row(r).map_err(db_err)?.into_service())
            .collect()
    }

    /// See [`Store::faqs`].
    pub async fn faqs(&self, tenant: TenantId) -> Result<Vec<Faq>> {
        let rows = self
            .tenant_rows(
                "SELECT id, position, question, answer FROM faqs WHERE tenant_id = $1 ORDER BY position, id",
                tenant,
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Faq {
                    id: r.try_get("id").map_err(db_err)?,
                    data: NewFaq {
                        position: r.try_get("position").map_err(db_err)?,
                        question: r.try_get("question").map_err(db_err)?,
                        answer: r.try_get("answer").map_err(db_err)?,
                    },
                })
            })
            .collect()
    }

    /// See [`Store::rating_summaries`]. `stars` is read as the dialect's
    /// [`Dialect::SmallInt`].
    pub async fn rating_summaries(&self, tenant: TenantId) -> Result<Vec<RatingSummary>> {
        let rows = self
            .tenant_rows(
                "SELECT page, stars, COUNT(*) AS n FROM ratings WHERE tenant_id = $1 \
                 GROUP BY page, stars ORDER BY page, stars",
                tenant,
            )
            .await?;
        let mut out: Vec<RatingSummary> = Vec::new();
        for r in &rows {
            let page: String = r.try_get("page").map_err(db_err)?;
            let stars: i64 = r
                .try_get::<D::SmallInt, _>("stars")
                .map(Into::into)
                .map_err(db_err)?;
            let n: i64 = r.try_get("n").map_err(db_err)?;
            if out.last().is_none_or(|s| s.page != page) {
                out.push(RatingSummary {
                    page: page.clone(),
                    by_stars: [0; 5],
                });
            }
            let idx =
                usize::try_from(stars - 1).map_err(|_| StoreError::Corrupt("stars".into()))?;
            if let (Some(last), true) = (out.last_mut(), idx < 5) {
                last.by_stars[idx] = to_u64(n, "count")?;
            }
        }
        Ok(out)
    }

    /// See [`Store::population_counts`].
    pub async fn population_counts(&self, tenant: TenantId) -> Result<PopulationCounts> {
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM pop_persons WHERE tenant_id = $1) AS p, \
                    (SELECT COUNT(*) FROM pop_families WHERE tenant_id = $1) AS f, \
                    (SELECT COUNT(*) FROM pop_addresses WHERE tenant_id = $1) AS a",
        )
        .bind(tenant.0)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(PopulationCounts {
            persons: to_u64(r.try_get("p").map_err(db_err)?, "count")?,
            families: to_u64(r.try_get("f").map_err(db_err)?, "count")?,
            addresses: to_u64(r.try_get("a").map_err(db_err)?, "count")?,
        })
    }

    /// See [`Store::ledger_events`].
    pub async fn ledger_events(
        &self,
        tenant: TenantId,
        from: u64,
        to: u64,
    ) -> Result<Vec<LedgerEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM ledger_events WHERE tenant_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
        )
        .bind(tenant.0)
        .bind(to_i64(from, "from")?)
        .bind(to_i64(to, "to")?)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Self::event_row(r).map_err(db_err)?.into_event())
            .collect()
    }

    /// See [`Store::ledger_size`].
    pub async fn ledger_size(&self, tenant: TenantId) -> Result<u64> {
        let size: Option<i64> =
            sqlx::query_scalar("SELECT size FROM ledger_heads WHERE tenant_id = $1")
                .bind(tenant.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        to_u64(size.unwrap_or(0), "ledger size")
    }

    /// See [`Store::checkpoints`].
    pub async fn checkpoints(&self, tenant: TenantId) -> Result<Vec<CheckpointRecord>> {
        let rows = self
            .tenant_rows(
                "SELECT * FROM ledger_checkpoints WHERE tenant_id = $1 ORDER BY size",
                tenant,
            )
            .await?;
        rows.iter()
            .map(|r| Self::checkpoint_row(r).map_err(db_err)?.into_record())
            .collect()
    }

    /// See [`Store::latest_checkpoint`].
    pub async fn latest_checkpoint(&self, tenant: TenantId) -> Result<Option<CheckpointRecord>> {
        let row = sqlx::query(
            "SELECT * FROM ledger_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1",
        )
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| Self::checkpoint_row(&r).map_err(db_err)?.into_record())
            .transpose()
    }

    /// See [`Store::signing_keys`].
    pub async fn signing_keys(&self, tenant: TenantId) -> Result<Vec<SigningKeyRecord>> {
        let rows = self
            .tenant_rows(
                "SELECT purpose, key_name, public_key, created FROM signing_keys WHERE tenant_id = $1 ORDER BY created",
                tenant,
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SigningKeyRecord {
                    purpose: r.try_get("purpose").map_err(db_err)?,
                    key_name: r.try_get("key_name").map_err(db_err)?,
                    public_key: r.try_get("public_key").map_err(db_err)?,
                    created: r
                        .try_get::<jiff_sqlx::Timestamp, _>("created")
                        .map_err(db_err)?
                        .to_jiff(),
                })
            })
            .collect()
    }

    /// All rows of a `SELECT` whose one parameter, `$1`, is the tenant.
    async fn tenant_rows(&self, sql: impl SqlSafeStr, tenant: TenantId) -> Result<Vec<DbRow<D>>> {
        sqlx::query(sql)
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    fn tenant_row(r: &DbRow<D>) -> std::result::Result<TenantRow, sqlx::Error> {
        Ok(TenantRow {
            id: r.try_get("id")?,
            slug: r.try_get("slug")?,
            name: r.try_get("name")?,
            short_name: r.try_get("short_name")?,
            codice_catastale: r.try_get("codice_catastale")?,
            codice_istat: r.try_get("codice_istat")?,
            codice_ipa: r.try_get("codice_ipa")?,
            codice_fiscale: r.try_get("codice_fiscale")?,
            pec: r.try_get("pec")?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            street: r.try_get("street")?,
            cap: r.try_get("cap")?,
            locality: r.try_get("locality")?,
            province: r.try_get("province")?,
            region: r.try_get("region")?,
            population: r.try_get("population")?,
            patron_saint: r.try_get("patron_saint")?,
            logo_svg: r.try_get("logo_svg")?,
            accessibility_url: r.try_get("accessibility_url")?,
            is_default: r.try_get("is_default")?,
        })
    }

    fn office_row(r: &DbRow<D>) -> std::result::Result<OfficeRow, sqlx::Error> {
        Ok(OfficeRow {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenant_id")?,
            slug: r.try_get("slug")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            email: r.try_get("email")?,
            pec: r.try_get("pec")?,
            phone: r.try_get("phone")?,
            street: r.try_get("street")?,
            cap: r.try_get("cap")?,
            locality: r.try_get("locality")?,
            province: r.try_get("province")?,
            opening_hours: r.try_get("opening_hours")?,
        })
    }

    fn service_row(r: &DbRow<D>) -> std::result::Result<ServiceRow, sqlx::Error> {
        Ok(ServiceRow {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenant_id")?,
            slug: r.try_get("slug")?,
            category: r.try_get("category")?,
            title: r.try_get("title")?,
            active: r.try_get("active")?,
            status_reason: r.try_get("status_reason")?,
            summary: r.try_get("summary")?,
            audience: r.try_get("audience")?,
            how_to: r.try_get("how_to")?,
            needed: r.try_get("needed")?,
            achieved: r.try_get("achieved")?,
            times: r.try_get("times")?,
            costs: r.try_get("costs")?,
            access: r.try_get("access")?,
            online_url: r.try_get("online_url")?,
            conditions: r.try_get("conditions")?,
            office_id: r.try_get("office_id")?,
            topics: r.try_get("topics")?,
            service_type: r.try_get("service_type")?,
            audience_type: r.try_get("audience_type")?,
        })
    }

    fn event_row(r: &DbRow<D>) -> std::result::Result<EventRow, sqlx::Error> {
        Ok(EventRow {
            tenant_id: r.try_get("tenant_id")?,
            seq: r.try_get("seq")?,
            tenant_slug: r.try_get("tenant_slug")?,
            time: r.try_get::<jiff_sqlx::Timestamp, _>("time")?.to_jiff(),
            kind: r.try_get("kind")?,
            subject: r.try_get("subject")?,
            state_hash: r.try_get("state_hash")?,
            leaf_hash: r.try_get("leaf_hash")?,
        })
    }

    fn checkpoint_row(r: &DbRow<D>) -> std::result::Result<CheckpointRow, sqlx::Error> {
        Ok(CheckpointRow {
            size: r.try_get("size")?,
            root: r.try_get("root")?,
            time: r.try_get::<jiff_sqlx::Timestamp, _>("time")?.to_jiff(),
            note: r.try_get("note")?,
            frontier: r.try_get("frontier")?,
        })
    }
}
