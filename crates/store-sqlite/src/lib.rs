//! SQLite implementation of the Palazzo store: the embedded default.
//!
//! WAL journal with `synchronous = FULL` (DECISIONS 6: the database holds the
//! ledger and, later, protocol and acts), foreign keys on, a 5 s busy
//! timeout, and `BEGIN IMMEDIATE` for write transactions so writers queue
//! instead of failing when a read lock would need upgrading.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::*;
use palazzo_store::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// A SQLite write transaction.
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        other => StoreError::Database(other.to_string()),
    }
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

    async fn connect(options: SqliteConnectOptions) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(e.to_string()))
    }

    /// Runs a raw statement. For tests that simulate tampering and for the
    /// backup command; never used by the application's own writes.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err)
    }

    /// Writes a consistent copy of the database to `dest` (`VACUUM INTO`).
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_string_lossy().replace('\'', "''");
        self.execute_raw(&format!("VACUUM INTO '{dest}'")).await.map(|_| ())
    }

    /// Closes the pool (checkpoints the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn tenant_row(r: &SqliteRow) -> std::result::Result<TenantRow, sqlx::Error> {
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

fn office_row(r: &SqliteRow) -> std::result::Result<OfficeRow, sqlx::Error> {
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

fn service_row(r: &SqliteRow) -> std::result::Result<ServiceRow, sqlx::Error> {
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

fn event_row(r: &SqliteRow) -> std::result::Result<EventRow, sqlx::Error> {
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

fn checkpoint_row(r: &SqliteRow) -> std::result::Result<CheckpointRow, sqlx::Error> {
    Ok(CheckpointRow {
        size: r.try_get("size")?,
        root: r.try_get("root")?,
        time: r.try_get::<jiff_sqlx::Timestamp, _>("time")?.to_jiff(),
        note: r.try_get("note")?,
        frontier: r.try_get("frontier")?,
    })
}

const SERVICE_COLUMNS: &str = "id, tenant_id, slug, category, title, active, status_reason, summary, \
    audience, how_to, needed, achieved, times, costs, access, online_url, conditions, office_id, \
    topics, service_type, audience_type";

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        Ok(SqliteTx { tx })
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(db_err)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT * FROM tenants ORDER BY is_default DESC, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let hosts = sqlx::query("SELECT tenant_id, host FROM tenant_hosts ORDER BY tenant_id, position")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = tenant_row(r).map_err(db_err)?;
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

    async fn offices(&self, tenant: TenantId) -> Result<Vec<Office>> {
        let rows = sqlx::query("SELECT * FROM offices WHERE tenant_id = $1 ORDER BY name, id")
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| office_row(r).map_err(db_err)?.into_office()).collect()
    }

    async fn services(&self, tenant: TenantId) -> Result<Vec<Service>> {
        let sql = format!(
            "SELECT {SERVICE_COLUMNS} FROM services WHERE tenant_id = $1 ORDER BY category, title, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| service_row(r).map_err(db_err)?.into_service()).collect()
    }

    async fn faqs(&self, tenant: TenantId) -> Result<Vec<Faq>> {
        let rows = sqlx::query(
            "SELECT id, position, question, answer FROM faqs WHERE tenant_id = $1 ORDER BY position, id",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
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

    async fn rating_summaries(&self, tenant: TenantId) -> Result<Vec<RatingSummary>> {
        let rows = sqlx::query(
            "SELECT page, stars, COUNT(*) AS n FROM ratings WHERE tenant_id = $1 \
             GROUP BY page, stars ORDER BY page, stars",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: Vec<RatingSummary> = Vec::new();
        for r in &rows {
            let page: String = r.try_get("page").map_err(db_err)?;
            let stars: i64 = r.try_get("stars").map_err(db_err)?;
            let n: i64 = r.try_get("n").map_err(db_err)?;
            if out.last().is_none_or(|s| s.page != page) {
                out.push(RatingSummary { page: page.clone(), by_stars: [0; 5] });
            }
            let idx = usize::try_from(stars - 1).map_err(|_| StoreError::Corrupt("stars".into()))?;
            if let (Some(last), true) = (out.last_mut(), idx < 5) {
                last.by_stars[idx] = to_u64(n, "count")?;
            }
        }
        Ok(out)
    }

    async fn population_counts(&self, tenant: TenantId) -> Result<PopulationCounts> {
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

    async fn ledger_events(&self, tenant: TenantId, from: u64, to: u64) -> Result<Vec<LedgerEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM ledger_events WHERE tenant_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
        )
        .bind(tenant.0)
        .bind(to_i64(from, "from")?)
        .bind(to_i64(to, "to")?)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| event_row(r).map_err(db_err)?.into_event()).collect()
    }

    async fn ledger_size(&self, tenant: TenantId) -> Result<u64> {
        let size: Option<i64> = sqlx::query_scalar("SELECT size FROM ledger_heads WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        to_u64(size.unwrap_or(0), "ledger size")
    }

    async fn checkpoints(&self, tenant: TenantId) -> Result<Vec<CheckpointRecord>> {
        let rows = sqlx::query("SELECT * FROM ledger_checkpoints WHERE tenant_id = $1 ORDER BY size")
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| checkpoint_row(r).map_err(db_err)?.into_record()).collect()
    }

    async fn latest_checkpoint(&self, tenant: TenantId) -> Result<Option<CheckpointRecord>> {
        let row = sqlx::query(
            "SELECT * FROM ledger_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1",
        )
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| checkpoint_row(&r).map_err(db_err)?.into_record()).transpose()
    }

    async fn signing_keys(&self, tenant: TenantId) -> Result<Vec<SigningKeyRecord>> {
        let rows = sqlx::query(
            "SELECT purpose, key_name, public_key, created FROM signing_keys WHERE tenant_id = $1 ORDER BY created",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(SigningKeyRecord {
                    purpose: r.try_get("purpose").map_err(db_err)?,
                    key_name: r.try_get("key_name").map_err(db_err)?,
                    public_key: r.try_get("public_key").map_err(db_err)?,
                    created: r.try_get::<jiff_sqlx::Timestamp, _>("created").map_err(db_err)?.to_jiff(),
                })
            })
            .collect()
    }
}

impl StoreTx for SqliteTx {
    async fn insert_tenant(&mut self, t: &NewTenant) -> Result<Tenant> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tenants (slug, name, short_name, codice_catastale, codice_istat, codice_ipa, \
             codice_fiscale, pec, email, phone, street, cap, locality, province, region, population, \
             patron_saint, logo_svg, accessibility_url, is_default) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) RETURNING id",
        )
        .bind(&t.slug)
        .bind(&t.name)
        .bind(&t.short_name)
        .bind(t.codice_catastale.as_str())
        .bind(t.codice_istat.as_str())
        .bind(t.codice_ipa.as_str())
        .bind(t.codice_fiscale.as_str())
        .bind(t.pec.as_str())
        .bind(t.email.as_str())
        .bind(&t.phone)
        .bind(&t.address.street)
        .bind(t.address.cap.as_str())
        .bind(&t.address.locality)
        .bind(&t.address.province)
        .bind(&t.region)
        .bind(i64::from(t.population))
        .bind(&t.patron_saint)
        .bind(&t.logo_svg)
        .bind(&t.accessibility_url)
        .bind(t.is_default)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        self.replace_hosts(id, &t.hostnames).await?;
        sqlx::query("INSERT INTO ledger_heads (tenant_id, size) VALUES ($1, 0)")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(Tenant { id: TenantId(id), data: t.clone() })
    }

    async fn update_tenant(&mut self, t: &Tenant) -> Result<()> {
        let d = &t.data;
        let n = sqlx::query(
            "UPDATE tenants SET slug=$2, name=$3, short_name=$4, codice_catastale=$5, codice_istat=$6, \
             codice_ipa=$7, codice_fiscale=$8, pec=$9, email=$10, phone=$11, street=$12, cap=$13, \
             locality=$14, province=$15, region=$16, population=$17, patron_saint=$18, logo_svg=$19, \
             accessibility_url=$20, is_default=$21 WHERE id=$1",
        )
        .bind(t.id.0)
        .bind(&d.slug)
        .bind(&d.name)
        .bind(&d.short_name)
        .bind(d.codice_catastale.as_str())
        .bind(d.codice_istat.as_str())
        .bind(d.codice_ipa.as_str())
        .bind(d.codice_fiscale.as_str())
        .bind(d.pec.as_str())
        .bind(d.email.as_str())
        .bind(&d.phone)
        .bind(&d.address.street)
        .bind(d.address.cap.as_str())
        .bind(&d.address.locality)
        .bind(&d.address.province)
        .bind(&d.region)
        .bind(i64::from(d.population))
        .bind(&d.patron_saint)
        .bind(&d.logo_svg)
        .bind(&d.accessibility_url)
        .bind(d.is_default)
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.replace_hosts(t.id.0, &d.hostnames).await
    }

    async fn insert_office(&mut self, tenant: TenantId, o: &NewOffice) -> Result<Office> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO offices (tenant_id, slug, name, description, email, pec, phone, street, cap, \
             locality, province, opening_hours) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
        )
        .bind(tenant.0)
        .bind(&o.slug)
        .bind(&o.name)
        .bind(&o.description)
        .bind(o.email.as_ref().map(|e| e.as_str()))
        .bind(o.pec.as_ref().map(|e| e.as_str()))
        .bind(&o.phone)
        .bind(&o.address.street)
        .bind(o.address.cap.as_str())
        .bind(&o.address.locality)
        .bind(&o.address.province)
        .bind(&o.opening_hours)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(Office { id: OfficeId(id), tenant, data: o.clone() })
    }

    async fn insert_service(&mut self, tenant: TenantId, s: &NewService) -> Result<Service> {
        let (active, reason) = status_columns(&s.status);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO services (tenant_id, slug, category, title, active, status_reason, summary, \
             audience, how_to, needed, achieved, times, costs, access, online_url, conditions, office_id, \
             topics, service_type, audience_type) \
             SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20 \
             WHERE EXISTS (SELECT 1 FROM offices WHERE id = $17 AND tenant_id = $1) RETURNING id",
        )
        .bind(tenant.0)
        .bind(&s.slug)
        .bind(s.category.slug())
        .bind(&s.title)
        .bind(active)
        .bind(reason)
        .bind(&s.summary)
        .bind(&s.audience)
        .bind(&s.how_to)
        .bind(&s.needed)
        .bind(&s.achieved)
        .bind(&s.times)
        .bind(&s.costs)
        .bind(&s.access)
        .bind(&s.online_url)
        .bind(&s.conditions)
        .bind(s.office.0)
        .bind(join_topics(&s.topics))
        .bind(&s.service_type)
        .bind(&s.audience_type)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        Ok(Service { id: ServiceId(id), tenant, data: s.clone() })
    }

    async fn update_service(&mut self, s: &Service) -> Result<()> {
        let d = &s.data;
        let (active, reason) = status_columns(&d.status);
        let n = sqlx::query(
            "UPDATE services SET slug=$3, category=$4, title=$5, active=$6, status_reason=$7, summary=$8, \
             audience=$9, how_to=$10, needed=$11, achieved=$12, times=$13, costs=$14, access=$15, \
             online_url=$16, conditions=$17, office_id=$18, topics=$19, service_type=$20, audience_type=$21 \
             WHERE id=$1 AND tenant_id=$2 \
             AND EXISTS (SELECT 1 FROM offices WHERE id = $18 AND tenant_id = $2)",
        )
        .bind(s.id.0)
        .bind(s.tenant.0)
        .bind(&d.slug)
        .bind(d.category.slug())
        .bind(&d.title)
        .bind(active)
        .bind(reason)
        .bind(&d.summary)
        .bind(&d.audience)
        .bind(&d.how_to)
        .bind(&d.needed)
        .bind(&d.achieved)
        .bind(&d.times)
        .bind(&d.costs)
        .bind(&d.access)
        .bind(&d.online_url)
        .bind(&d.conditions)
        .bind(d.office.0)
        .bind(join_topics(&d.topics))
        .bind(&d.service_type)
        .bind(&d.audience_type)
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn insert_faq(&mut self, tenant: TenantId, f: &NewFaq) -> Result<Faq> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO faqs (tenant_id, position, question, answer) VALUES ($1,$2,$3,$4) RETURNING id",
        )
        .bind(tenant.0)
        .bind(f.position)
        .bind(&f.question)
        .bind(&f.answer)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(Faq { id, data: f.clone() })
    }

    async fn insert_rating(&mut self, tenant: TenantId, r: &NewRating) -> Result<()> {
        sqlx::query(
            "INSERT INTO ratings (tenant_id, page, stars, answer, comment, day) VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(tenant.0)
        .bind(&r.page)
        .bind(i64::from(r.stars))
        .bind(r.answer.map(i64::from))
        .bind(&r.comment)
        .bind(r.day.to_sqlx())
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(db_err)
    }

    async fn insert_population(&mut self, tenant: TenantId, b: &PopulationBatch) -> Result<()> {
        for a in &b.addresses {
            sqlx::query("INSERT INTO pop_addresses (tenant_id, id, street, civic, cap) VALUES ($1,$2,$3,$4,$5)")
                .bind(tenant.0)
                .bind(a.id)
                .bind(&a.street)
                .bind(&a.civic)
                .bind(a.cap.as_str())
                .execute(&mut *self.tx)
                .await
                .map_err(db_err)?;
        }
        for f in &b.families {
            sqlx::query("INSERT INTO pop_families (tenant_id, id, address_id) VALUES ($1,$2,$3)")
                .bind(tenant.0)
                .bind(f.id)
                .bind(f.address)
                .execute(&mut *self.tx)
                .await
                .map_err(db_err)?;
        }
        for p in &b.persons {
            sqlx::query(
                "INSERT INTO pop_persons (tenant_id, id, family_id, codice_fiscale, surname, name, sex, \
                 birth_date, birthplace, relation) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            )
            .bind(tenant.0)
            .bind(p.id)
            .bind(p.family)
            .bind(p.codice_fiscale.as_str())
            .bind(&p.surname)
            .bind(&p.name)
            .bind(sex_column(p.sex))
            .bind(p.birth_date.to_sqlx())
            .bind(p.birthplace.as_str())
            .bind(&p.relation)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn append_event(&mut self, tenant: TenantId, e: &NewEvent) -> Result<LedgerEvent> {
        // DECISIONS 7: the gap-free counter row, incremented inside this transaction.
        let next: i64 = sqlx::query_scalar(
            "UPDATE ledger_heads SET size = size + 1 WHERE tenant_id = $1 RETURNING size",
        )
        .bind(tenant.0)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let seq = to_u64(next - 1, "seq")?;
        // DECISIONS 8: the time is read after the counter row is held.
        let event = build_event(tenant, seq, registration_time(), e)?;
        sqlx::query(
            "INSERT INTO ledger_events (tenant_id, seq, tenant_slug, time, kind, subject, state_hash, leaf_hash) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        )
        .bind(tenant.0)
        .bind(next - 1)
        .bind(&event.tenant_slug)
        .bind(event.time.to_sqlx())
        .bind(&event.kind)
        .bind(&event.subject)
        .bind(event.state_hash.as_slice())
        .bind(event.leaf_hash.as_slice())
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(event)
    }

    async fn insert_checkpoint(&mut self, tenant: TenantId, c: &CheckpointRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO ledger_checkpoints (tenant_id, size, root, time, note, frontier) VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(tenant.0)
        .bind(to_i64(c.size, "size")?)
        .bind(c.root.as_slice())
        .bind(c.time.to_sqlx())
        .bind(&c.note)
        .bind(&c.frontier)
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(db_err)
    }

    async fn insert_signing_key(&mut self, tenant: TenantId, k: &SigningKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (tenant_id, purpose, key_name, public_key, created) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant.0)
        .bind(&k.purpose)
        .bind(&k.key_name)
        .bind(&k.public_key)
        .bind(k.created.to_sqlx())
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(db_err)
    }

    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(db_err)
    }
}

impl SqliteTx {
    async fn replace_hosts(&mut self, tenant: i64, hosts: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM tenant_hosts WHERE tenant_id = $1")
            .bind(tenant)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        for (i, h) in hosts.iter().enumerate() {
            sqlx::query("INSERT INTO tenant_hosts (host, tenant_id, position) VALUES ($1,$2,$3)")
                .bind(h)
                .bind(tenant)
                .bind(i64::try_from(i).unwrap_or(i64::MAX))
                .execute(&mut *self.tx)
                .await
                .map_err(db_err)?;
        }
        Ok(())
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
