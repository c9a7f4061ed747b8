//! The writes: [`SqlTx`].

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::*;
use palazzo_store::*;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row, Transaction};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, db_err};

/// An open write transaction and the writes of [`StoreTx`] that both
/// backends share. Dropped without [`SqlTx::commit`] it rolls back.
pub struct SqlTx<D: Dialect> {
    tx: Transaction<'static, Db<D>>,
}

impl<D: Dialect> SqlTx<D> {
    /// Wraps a transaction the backend has begun (each backend begins its own
    /// way: `BEGIN IMMEDIATE` on SQLite).
    pub fn new(tx: Transaction<'static, Db<D>>) -> Self {
        SqlTx { tx }
    }

    /// The transaction's connection, for the writes a backend does its own way.
    pub fn conn(&mut self) -> &mut Conn<D> {
        &mut self.tx
    }

    /// See [`StoreTx::commit`].
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(db_err)
    }
}

/// A statement being built, with its binds so far.
type Stmt<'q, D> = Query<'q, Db<D>, Args<D>>;

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> Option<&'a str>: Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    Option<D::SmallInt>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`StoreTx::insert_tenant`].
    pub async fn insert_tenant(&mut self, t: &NewTenant) -> Result<Tenant> {
        let row = Self::bind_tenant(
            sqlx::query(
                "INSERT INTO tenants (slug, name, short_name, codice_catastale, codice_istat, codice_ipa, \
                 codice_fiscale, pec, email, phone, street, cap, locality, province, region, population, \
                 patron_saint, logo_svg, accessibility_url, is_default) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) RETURNING id",
            ),
            t,
        )
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let id: i64 = row.try_get("id").map_err(db_err)?;
        self.replace_hosts(id, &t.hostnames).await?;
        sqlx::query("INSERT INTO ledger_heads (tenant_id, size) VALUES ($1, 0)")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(Tenant {
            id: TenantId(id),
            data: t.clone(),
        })
    }

    /// See [`StoreTx::update_tenant`].
    pub async fn update_tenant(&mut self, t: &Tenant) -> Result<()> {
        let d = &t.data;
        let result = Self::bind_tenant(
            sqlx::query(
                "UPDATE tenants SET slug=$2, name=$3, short_name=$4, codice_catastale=$5, codice_istat=$6, \
                 codice_ipa=$7, codice_fiscale=$8, pec=$9, email=$10, phone=$11, street=$12, cap=$13, \
                 locality=$14, province=$15, region=$16, population=$17, patron_saint=$18, logo_svg=$19, \
                 accessibility_url=$20, is_default=$21 WHERE id=$1",
            )
            .bind(t.id.0),
            d,
        )
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        if D::rows_affected(&result) == 0 {
            return Err(StoreError::NotFound);
        }
        self.replace_hosts(t.id.0, &d.hostnames).await
    }

    /// See [`StoreTx::insert_office`].
    pub async fn insert_office(&mut self, tenant: TenantId, o: &NewOffice) -> Result<Office> {
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
        Ok(Office {
            id: OfficeId(id),
            tenant,
            data: o.clone(),
        })
    }

    /// See [`StoreTx::insert_service`].
    pub async fn insert_service(&mut self, tenant: TenantId, s: &NewService) -> Result<Service> {
        let row = Self::bind_service(
            sqlx::query(
                "INSERT INTO services (tenant_id, slug, category, title, active, status_reason, summary, \
                 audience, how_to, needed, achieved, times, costs, access, online_url, conditions, office_id, \
                 topics, service_type, audience_type) \
                 SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20 \
                 WHERE EXISTS (SELECT 1 FROM offices WHERE id = $17 AND tenant_id = $1) RETURNING id",
            )
            .bind(tenant.0),
            s,
        )
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let id: i64 = row.try_get("id").map_err(db_err)?;
        Ok(Service {
            id: ServiceId(id),
            tenant,
            data: s.clone(),
        })
    }

    /// See [`StoreTx::update_service`].
    pub async fn update_service(&mut self, s: &Service) -> Result<()> {
        let result = Self::bind_service(
            sqlx::query(
                "UPDATE services SET slug=$3, category=$4, title=$5, active=$6, status_reason=$7, summary=$8, \
                 audience=$9, how_to=$10, needed=$11, achieved=$12, times=$13, costs=$14, access=$15, \
                 online_url=$16, conditions=$17, office_id=$18, topics=$19, service_type=$20, audience_type=$21 \
                 WHERE id=$1 AND tenant_id=$2 \
                 AND EXISTS (SELECT 1 FROM offices WHERE id = $18 AND tenant_id = $2)",
            )
            .bind(s.id.0)
            .bind(s.tenant.0),
            &s.data,
        )
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        if D::rows_affected(&result) == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// See [`StoreTx::insert_faq`].
    pub async fn insert_faq(&mut self, tenant: TenantId, f: &NewFaq) -> Result<Faq> {
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
        Ok(Faq {
            id,
            data: f.clone(),
        })
    }

    /// See [`StoreTx::insert_rating`]. `stars` and `answer` are bound as the
    /// dialect's [`Dialect::SmallInt`].
    pub async fn insert_rating(&mut self, tenant: TenantId, r: &NewRating) -> Result<()> {
        sqlx::query(
            "INSERT INTO ratings (tenant_id, page, stars, answer, comment, day) VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(tenant.0)
        .bind(&r.page)
        .bind(D::SmallInt::from(r.stars))
        .bind(r.answer.map(D::SmallInt::from))
        .bind(&r.comment)
        .bind(r.day.to_sqlx())
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(db_err)
    }

    /// See [`StoreTx::append_event`].
    pub async fn append_event(&mut self, tenant: TenantId, e: &NewEvent) -> Result<LedgerEvent> {
        self.append_events(tenant, std::slice::from_ref(e))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// See [`StoreTx::append_events`].
    pub async fn append_events(
        &mut self,
        tenant: TenantId,
        events: &[NewEvent],
    ) -> Result<Vec<LedgerEvent>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let count = i64::try_from(events.len()).map_err(|e| corrupt("events", e))?;
        // DECISIONS 7: the gap-free counter row, incremented inside this
        // transaction, once for the whole group.
        let head = sqlx::query(
            "UPDATE ledger_heads SET size = size + $2 WHERE tenant_id = $1 RETURNING size, last_time",
        )
        .bind(tenant.0)
        .bind(count)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let size: i64 = head.try_get("size").map_err(db_err)?;
        let mut last = head
            .try_get::<jiff_sqlx::Timestamp, _>("last_time")
            .map_err(db_err)?
            .to_jiff();
        let first = to_u64(size - count, "seq")?;
        // DECISIONS 8: each time is read after the counter row is held, and
        // never before the previous event's (a clock stepping back, or two
        // instances whose clocks disagree, cannot invert the order).
        let mut out = Vec::with_capacity(events.len());
        for (i, e) in (0u64..).zip(events) {
            let event = build_event(tenant, first + i, registration_time_after(last), e)?;
            last = event.time;
            out.push(event);
        }
        sqlx::query("UPDATE ledger_heads SET last_time = $2 WHERE tenant_id = $1")
            .bind(tenant.0)
            .bind(last.to_sqlx())
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        // One multi-row INSERT per chunk (8 parameters a row stay far below
        // either backend's parameter limit).
        for chunk in out.chunks(256) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let b = r * 8;
                    format!(
                        "(${},${},${},${},${},${},${},${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO ledger_events (tenant_id, seq, tenant_slug, time, kind, subject, state_hash, leaf_hash) \
                 VALUES {}",
                rows.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ev in chunk {
                q = q
                    .bind(tenant.0)
                    .bind(to_i64(ev.seq, "seq")?)
                    .bind(ev.tenant_slug.clone())
                    .bind(ev.time.to_sqlx())
                    .bind(ev.kind.clone())
                    .bind(ev.subject.clone())
                    .bind(ev.state_hash.to_vec())
                    .bind(ev.leaf_hash.to_vec());
            }
            q.execute(&mut *self.tx).await.map_err(db_err)?;
        }
        Ok(out)
    }

    /// See [`StoreTx::insert_checkpoint`].
    pub async fn insert_checkpoint(
        &mut self,
        tenant: TenantId,
        c: &CheckpointRecord,
    ) -> Result<()> {
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

    /// See [`StoreTx::insert_signing_key`].
    pub async fn insert_signing_key(
        &mut self,
        tenant: TenantId,
        k: &SigningKeyRecord,
    ) -> Result<()> {
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

    /// Binds the 20 tenant columns, in the order of `insert_tenant` (`$1..$20`)
    /// and `update_tenant` (`$2..$21`, after the id).
    fn bind_tenant<'q>(q: Stmt<'q, D>, t: &NewTenant) -> Stmt<'q, D> {
        q.bind(&t.slug)
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
    }

    /// Binds the 19 service columns after the keys, in the order of
    /// `insert_service` (`$2..$20`) and `update_service` (`$3..$21`).
    fn bind_service<'q>(q: Stmt<'q, D>, s: &NewService) -> Stmt<'q, D> {
        let (active, reason) = status_columns(&s.status);
        q.bind(&s.slug)
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
    }
}
