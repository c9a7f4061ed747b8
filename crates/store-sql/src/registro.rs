//! The registro giornaliero, checkpoint timestamps and job rows
//! (migration 0010; PR-9, DECISIONS 12, DESIGN "Jobs").

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::{EventRow, corrupt, to_hash, to_i64, to_u64};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::protocollo::{COLUMNS, registration_of};
use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const JOB_COLUMNS: &str =
    "tenant_id, kind, day, state, owner, attempts, claimed_at, finished_at, error";
const REGISTRO_COLUMNS: &str = "id, tenant_id, day, register, code, repertorio_number, \
    first_number, last_number, registrations, modifications, document_versions, \
    annulment_notices, pdf, xml, checkpoint_size, checkpoint_root, timestamped, produced_at, \
    produced_by, conservation_state, conservation_deadline";

fn day_of(s: &str, what: &str) -> Result<CivilDate> {
    s.parse().map_err(|e| corrupt(what, e))
}

fn ts<R: Row>(r: &R, col: &str) -> Result<Timestamp>
where
    for<'a> &'a str: ColumnIndex<R>,
    jiff_sqlx::Timestamp: Field<R::Database>,
{
    Ok(r.try_get::<jiff_sqlx::Timestamp, _>(col)
        .map_err(db_err)?
        .to_jiff())
}

fn opt_u64(v: Option<i64>, what: &str) -> Result<Option<u64>> {
    v.map(|v| to_u64(v, what)).transpose()
}

fn job_of<D: Dialect>(r: &DbRow<D>) -> Result<JobRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    let state: String = r.try_get("state").map_err(db_err)?;
    let day: String = r.try_get("day").map_err(db_err)?;
    let attempts: i64 = r.try_get("attempts").map_err(db_err)?;
    Ok(JobRecord {
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        kind: r.try_get("kind").map_err(db_err)?,
        day: day_of(&day, "jobs.day")?,
        state: JobState::from_code(&state).ok_or_else(|| corrupt("jobs.state", &state))?,
        owner: r.try_get("owner").map_err(db_err)?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt("jobs.attempts", e))?,
        claimed_at: ts(r, "claimed_at")?,
        finished_at: r
            .try_get::<Option<jiff_sqlx::Timestamp>, _>("finished_at")
            .map_err(db_err)?
            .map(|t| t.to_jiff()),
        error: r.try_get("error").map_err(db_err)?,
    })
}

fn registro_of<D: Dialect>(r: &DbRow<D>) -> Result<RegistroGiornaliero>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    Option<Vec<u8>>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let get_s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let get_i = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(db_err) };
    let get_oi =
        |c: &str| -> Result<Option<i64>> { r.try_get::<Option<i64>, _>(c).map_err(db_err) };
    let u32_of = |c: &str| -> Result<u32> {
        u32::try_from(get_i(c)?).map_err(|e| corrupt(&format!("registri_giornalieri.{c}"), e))
    };
    let state = get_s("conservation_state")?;
    let root: Option<Vec<u8>> = r.try_get("checkpoint_root").map_err(db_err)?;
    Ok(RegistroGiornaliero {
        id: RegistroId(get_i("id")?),
        tenant: TenantId(get_i("tenant_id")?),
        data: NewRegistroGiornaliero {
            day: day_of(&get_s("day")?, "registri_giornalieri.day")?,
            register: get_s("register")?,
            code: get_s("code")?,
            repertorio_number: u32_of("repertorio_number")?,
            first_number: opt_u64(get_oi("first_number")?, "registri_giornalieri.first_number")?,
            last_number: opt_u64(get_oi("last_number")?, "registri_giornalieri.last_number")?,
            registrations: u32_of("registrations")?,
            modifications: u32_of("modifications")?,
            document_versions: u32_of("document_versions")?,
            annulment_notices: u32_of("annulment_notices")?,
            pdf: serde_json::from_str(&get_s("pdf")?)
                .map_err(|e| corrupt("registri_giornalieri.pdf", e))?,
            xml: serde_json::from_str(&get_s("xml")?)
                .map_err(|e| corrupt("registri_giornalieri.xml", e))?,
            checkpoint_size: opt_u64(
                get_oi("checkpoint_size")?,
                "registri_giornalieri.checkpoint_size",
            )?,
            checkpoint_root: root
                .map(|r| to_hash(&r, "registri_giornalieri.checkpoint_root"))
                .transpose()?,
            timestamped: r.try_get("timestamped").map_err(db_err)?,
            produced_at: ts(r, "produced_at")?,
            produced_by: get_s("produced_by")?,
            conservation_state: ConservationState::from_code(&state)
                .ok_or_else(|| corrupt("registri_giornalieri.conservation_state", &state))?,
            conservation_deadline: day_of(
                &get_s("conservation_deadline")?,
                "registri_giornalieri.conservation_deadline",
            )?,
        },
    })
}

fn event_of<D: Dialect>(r: &DbRow<D>) -> Result<LedgerEvent>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    EventRow {
        tenant_id: r.try_get("tenant_id").map_err(db_err)?,
        seq: r.try_get("seq").map_err(db_err)?,
        tenant_slug: r.try_get("tenant_slug").map_err(db_err)?,
        time: ts(r, "time")?,
        kind: r.try_get("kind").map_err(db_err)?,
        subject: r.try_get("subject").map_err(db_err)?,
        state_hash: r.try_get("state_hash").map_err(db_err)?,
        leaf_hash: r.try_get("leaf_hash").map_err(db_err)?,
    }
    .into_event()
}

fn checkpoint_of<D: Dialect>(r: &DbRow<D>) -> Result<CheckpointRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    palazzo_store::rows::CheckpointRow {
        size: r.try_get("size").map_err(db_err)?,
        root: r.try_get("root").map_err(db_err)?,
        time: ts(r, "time")?,
        note: r.try_get("note").map_err(db_err)?,
        frontier: r.try_get("frontier").map_err(db_err)?,
    }
    .into_record()
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    Option<Vec<u8>>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::job`].
    pub async fn job(
        &self,
        tenant: TenantId,
        kind: &str,
        day: CivilDate,
    ) -> Result<Option<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND kind = $2 AND day = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(kind)
            .bind(day.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(job_of::<D>).transpose()
    }

    /// See [`Store::ledger_events_between`].
    pub async fn ledger_events_between(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<LedgerEvent>> {
        let sql = format!(
            "SELECT * FROM ledger_events WHERE tenant_id = $1 AND {t} >= {from} AND {t} < {to} \
             ORDER BY seq",
            t = D::instant("time"),
            from = D::instant("$2"),
            to = D::instant("$3"),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(from.to_sqlx())
            .bind(to.to_sqlx())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(event_of::<D>).collect()
    }

    /// See [`Store::ledger_size_before`].
    pub async fn ledger_size_before(&self, tenant: TenantId, at: Timestamp) -> Result<u64> {
        let sql = format!(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_events WHERE tenant_id = $1 AND {} < {}",
            D::instant("time"),
            D::instant("$2"),
        );
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(at.to_sqlx())
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        to_u64(n, "ledger size")
    }

    /// See [`Store::checkpoint_covering`].
    pub async fn checkpoint_covering(
        &self,
        tenant: TenantId,
        size: u64,
    ) -> Result<Option<CheckpointRecord>> {
        let row = sqlx::query(
            "SELECT * FROM ledger_checkpoints WHERE tenant_id = $1 AND size >= $2 \
             ORDER BY size LIMIT 1",
        )
        .bind(tenant.0)
        .bind(to_i64(size, "size")?)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(checkpoint_of::<D>).transpose()
    }

    /// See [`Store::checkpoint_timestamp`].
    pub async fn checkpoint_timestamp(
        &self,
        tenant: TenantId,
        size: u64,
    ) -> Result<Option<CheckpointTimestamp>> {
        let row = sqlx::query(
            "SELECT size, imprint, token, gen_time, tsa_url, created_at FROM checkpoint_timestamps \
             WHERE tenant_id = $1 AND size = $2",
        )
        .bind(tenant.0)
        .bind(to_i64(size, "size")?)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let imprint: Vec<u8> = r.try_get("imprint").map_err(db_err)?;
        Ok(Some(CheckpointTimestamp {
            size: to_u64(r.try_get("size").map_err(db_err)?, "size")?,
            imprint: to_hash(&imprint, "checkpoint_timestamps.imprint")?,
            token: r.try_get("token").map_err(db_err)?,
            gen_time: ts(&r, "gen_time")?,
            tsa_url: r.try_get("tsa_url").map_err(db_err)?,
            created_at: ts(&r, "created_at")?,
        }))
    }

    /// See [`Store::registrations_between`].
    pub async fn registrations_between(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Registration>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_entries WHERE tenant_id = $1 AND {t} >= {from} \
             AND {t} < {to} ORDER BY register, year, number",
            t = D::instant("registered_at"),
            from = D::instant("$2"),
            to = D::instant("$3"),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(from.to_sqlx())
            .bind(to.to_sqlx())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(registration_of::<D>).collect()
    }

    /// See [`Store::first_registration_time`].
    pub async fn first_registration_time(&self, tenant: TenantId) -> Result<Option<Timestamp>> {
        let row = sqlx::query(
            "SELECT registered_at FROM protocol_entries WHERE tenant_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(tenant.0)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(|r| ts(r, "registered_at")).transpose()
    }

    /// See [`Store::registri_giornalieri`].
    pub async fn registri_giornalieri(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<RegistroGiornaliero>> {
        let sql = format!(
            "SELECT {REGISTRO_COLUMNS} FROM registri_giornalieri WHERE tenant_id = $1 \
             ORDER BY day DESC, register LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(registro_of::<D>).collect()
    }

    /// See [`Store::registri_of_day`].
    pub async fn registri_of_day(
        &self,
        tenant: TenantId,
        day: CivilDate,
    ) -> Result<Vec<RegistroGiornaliero>> {
        let sql = format!(
            "SELECT {REGISTRO_COLUMNS} FROM registri_giornalieri WHERE tenant_id = $1 AND day = $2 \
             ORDER BY code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(day.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(registro_of::<D>).collect()
    }

    /// See [`Store::registro_giornaliero`].
    pub async fn registro_giornaliero(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<RegistroGiornaliero>> {
        let sql = format!(
            "SELECT {REGISTRO_COLUMNS} FROM registri_giornalieri WHERE tenant_id = $1 AND code = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(code)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(registro_of::<D>).transpose()
    }
}

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
    Vec<u8>: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    Option<Vec<u8>>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    /// See [`StoreTx::claim_job`].
    #[allow(clippy::too_many_arguments)]
    pub async fn claim_job(
        &mut self,
        tenant: TenantId,
        kind: &str,
        day: CivilDate,
        owner: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<bool> {
        let day = day.to_string();
        let inserted = sqlx::query(
            "INSERT INTO jobs (tenant_id, kind, day, state, owner, attempts, claimed_at) \
             VALUES ($1, $2, $3, 'running', $4, 1, $5) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.0)
        .bind(kind)
        .bind(day.as_str())
        .bind(owner)
        .bind(now.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        if D::rows_affected(&inserted) == 1 {
            return Ok(true);
        }
        // Take over a failed claim or one whose owner died; the guard in the
        // WHERE clause lets only one of several concurrent takers win.
        let sql = format!(
            "UPDATE jobs SET state = 'running', owner = $4, attempts = attempts + 1, \
             claimed_at = $5, finished_at = NULL, error = NULL \
             WHERE tenant_id = $1 AND kind = $2 AND day = $3 \
             AND (state = 'failed' OR (state = 'running' AND {} < {}))",
            D::instant("claimed_at"),
            D::instant("$6"),
        );
        let taken = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(kind)
            .bind(day.as_str())
            .bind(owner)
            .bind(now.to_sqlx())
            .bind(stale_before.to_sqlx())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        Ok(D::rows_affected(&taken) == 1)
    }

    /// See [`StoreTx::finish_job`].
    pub async fn finish_job(
        &mut self,
        tenant: TenantId,
        kind: &str,
        day: CivilDate,
        owner: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let state = if error.is_some() {
            JobState::Failed
        } else {
            JobState::Done
        };
        sqlx::query(
            "UPDATE jobs SET state = $5, finished_at = $6, error = $7 \
             WHERE tenant_id = $1 AND kind = $2 AND day = $3 AND owner = $4",
        )
        .bind(tenant.0)
        .bind(kind)
        .bind(day.to_string())
        .bind(owner)
        .bind(state.code())
        .bind(now.to_sqlx())
        .bind(error)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// See [`StoreTx::insert_checkpoint_timestamp`].
    pub async fn insert_checkpoint_timestamp(
        &mut self,
        tenant: TenantId,
        t: &CheckpointTimestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO checkpoint_timestamps (tenant_id, size, imprint, token, gen_time, tsa_url, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.0)
        .bind(to_i64(t.size, "size")?)
        .bind(t.imprint.as_slice())
        .bind(t.token.as_slice())
        .bind(t.gen_time.to_sqlx())
        .bind(t.tsa_url.as_str())
        .bind(t.created_at.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::insert_registro_giornaliero`].
    pub async fn insert_registro_giornaliero(
        &mut self,
        tenant: TenantId,
        r: &NewRegistroGiornaliero,
    ) -> Result<RegistroGiornaliero> {
        let json = |d: &DocumentRef| {
            serde_json::to_string(d).map_err(|e| StoreError::Database(e.to_string()))
        };
        let opt = |v: Option<u64>, what: &str| v.map(|v| to_i64(v, what)).transpose();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO registri_giornalieri (tenant_id, day, register, code, repertorio_number, \
             first_number, last_number, registrations, modifications, document_versions, \
             annulment_notices, pdf, xml, checkpoint_size, checkpoint_root, timestamped, \
             produced_at, produced_by, conservation_state, conservation_deadline) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(r.day.to_string())
        .bind(r.register.as_str())
        .bind(r.code.as_str())
        .bind(i64::from(r.repertorio_number))
        .bind(opt(r.first_number, "first_number")?)
        .bind(opt(r.last_number, "last_number")?)
        .bind(i64::from(r.registrations))
        .bind(i64::from(r.modifications))
        .bind(i64::from(r.document_versions))
        .bind(i64::from(r.annulment_notices))
        .bind(json(&r.pdf)?)
        .bind(json(&r.xml)?)
        .bind(opt(r.checkpoint_size, "checkpoint_size")?)
        .bind(r.checkpoint_root.map(|x| x.to_vec()))
        .bind(r.timestamped)
        .bind(r.produced_at.to_sqlx())
        .bind(r.produced_by.as_str())
        .bind(r.conservation_state.code())
        .bind(r.conservation_deadline.to_string())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(RegistroGiornaliero {
            id: RegistroId(id),
            tenant,
            data: r.clone(),
        })
    }
}
