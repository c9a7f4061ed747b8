//! Local taxes, IMU (migration 0032; issue 7): see [`palazzo_store::tributi`].

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const UNITA: &str = "id, tenant_id, codice, foglio, particella, subalterno, indirizzo, oggetto";
const TITOLARITA: &str = "id, tenant_id, unita_id, codice_fiscale, possesso, periodi";

/// A JSON column read back into its domain type.
fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A domain value as its JSON column.
fn to_json(v: &impl Serialize, what: &str) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("{what}: {e}")))
}

fn unita_of<D: Dialect>(r: &DbRow<D>) -> Result<Unita>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
{
    let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    Ok(Unita {
        id: UnitaId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        data: NewUnita {
            codice: s("codice")?,
            foglio: s("foglio")?,
            particella: s("particella")?,
            subalterno: s("subalterno")?,
            indirizzo: s("indirizzo")?,
            oggetto: from_json(&s("oggetto")?, "tributi_unita.oggetto")?,
        },
    })
}

fn titolarita_of_row<D: Dialect>(r: &DbRow<D>) -> Result<Titolarita>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
{
    let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let cf = s("codice_fiscale")?;
    Ok(Titolarita {
        id: TitolaritaId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        data: NewTitolarita {
            unita: UnitaId(r.try_get("unita_id").map_err(db_err)?),
            codice_fiscale: CodiceFiscale::parse(&cf)
                .map_err(|e| corrupt("tributi_titolarita.codice_fiscale", e))?,
            possesso: from_json(&s("possesso")?, "tributi_titolarita.possesso")?,
            periodi: from_json(&s("periodi")?, "tributi_titolarita.periodi")?,
        },
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// See [`Store::tributi_unita`].
    pub async fn tributi_unita(&self, tenant: TenantId, id: UnitaId) -> Result<Option<Unita>> {
        let sql = format!("SELECT {UNITA} FROM tributi_unita WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(unita_of::<D>).transpose()
    }

    /// See [`Store::tributi_unita_by_codice`].
    pub async fn tributi_unita_by_codice(
        &self,
        tenant: TenantId,
        codice: &str,
    ) -> Result<Option<Unita>> {
        let sql = format!("SELECT {UNITA} FROM tributi_unita WHERE tenant_id = $1 AND codice = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(codice)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(unita_of::<D>).transpose()
    }

    /// See [`Store::titolarita_of`].
    pub async fn titolarita_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> Result<Vec<Titolarita>> {
        let sql = format!(
            "SELECT {TITOLARITA} FROM tributi_titolarita \
             WHERE tenant_id = $1 AND codice_fiscale = $2 ORDER BY unita_id, dal, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cf.canonical().as_str())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(titolarita_of_row::<D>).collect()
    }

    /// See [`Store::aliquote_imu`].
    pub async fn aliquote_imu(
        &self,
        tenant: TenantId,
        anno: i16,
    ) -> Result<Option<AliquoteImuRecord>> {
        let row = sqlx::query(
            "SELECT aliquote, updated_at, updated_by FROM tributi_aliquote_imu \
             WHERE tenant_id = $1 AND anno = $2",
        )
        .bind(tenant.0)
        .bind(i64::from(anno))
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(aliquote_of::<D>).transpose()
    }

    /// See [`Store::aliquote_imu_all`].
    pub async fn aliquote_imu_all(&self, tenant: TenantId) -> Result<Vec<AliquoteImuRecord>> {
        let rows = sqlx::query(
            "SELECT aliquote, updated_at, updated_by FROM tributi_aliquote_imu \
             WHERE tenant_id = $1 ORDER BY anno DESC",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(aliquote_of::<D>).collect()
    }
}

fn aliquote_of<D: Dialect>(r: &DbRow<D>) -> Result<AliquoteImuRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let aliquote: String = r.try_get("aliquote").map_err(db_err)?;
    Ok(AliquoteImuRecord {
        aliquote: from_json(&aliquote, "tributi_aliquote_imu.aliquote")?,
        updated_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("updated_at")
            .map_err(db_err)?
            .to_jiff(),
        updated_by: r.try_get("updated_by").map_err(db_err)?,
    })
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`StoreTx::upsert_tributi_unita`].
    pub async fn upsert_tributi_unita(&mut self, tenant: TenantId, u: &NewUnita) -> Result<Unita> {
        let oggetto = to_json(&u.oggetto, "tributi_unita.oggetto")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tributi_unita \
             (tenant_id, codice, foglio, particella, subalterno, indirizzo, oggetto) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, codice) DO UPDATE SET foglio = excluded.foglio, \
             particella = excluded.particella, subalterno = excluded.subalterno, \
             indirizzo = excluded.indirizzo, oggetto = excluded.oggetto \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(u.codice.as_str())
        .bind(u.foglio.as_str())
        .bind(u.particella.as_str())
        .bind(u.subalterno.as_str())
        .bind(u.indirizzo.as_str())
        .bind(oggetto.as_str())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Unita {
            id: UnitaId(id),
            tenant,
            data: u.clone(),
        })
    }

    /// See [`StoreTx::upsert_titolarita`].
    pub async fn upsert_titolarita(
        &mut self,
        tenant: TenantId,
        t: &NewTitolarita,
    ) -> Result<Option<Titolarita>> {
        let possesso = to_json(&t.possesso, "tributi_titolarita.possesso")?;
        let periodi = to_json(&t.periodi, "tributi_titolarita.periodi")?;
        let cf = t.codice_fiscale.canonical();
        // Only a unit of the same comune: another comune's id writes nothing.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO tributi_titolarita \
             (tenant_id, unita_id, codice_fiscale, dal, possesso, periodi) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE EXISTS (SELECT 1 FROM tributi_unita WHERE id = $2 AND tenant_id = $1) \
             ON CONFLICT (tenant_id, unita_id, codice_fiscale, dal) DO UPDATE SET \
             possesso = excluded.possesso, periodi = excluded.periodi \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(t.unita.0)
        .bind(cf.as_str())
        .bind(t.possesso.dal.to_sqlx())
        .bind(possesso.as_str())
        .bind(periodi.as_str())
        .fetch_optional(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(id.map(|id| Titolarita {
            id: TitolaritaId(id),
            tenant,
            data: NewTitolarita {
                codice_fiscale: cf,
                ..t.clone()
            },
        }))
    }

    /// See [`StoreTx::set_aliquote_imu`].
    pub async fn set_aliquote_imu(
        &mut self,
        tenant: TenantId,
        r: &AliquoteImuRecord,
    ) -> Result<()> {
        let aliquote = to_json(&r.aliquote, "tributi_aliquote_imu.aliquote")?;
        sqlx::query(
            "INSERT INTO tributi_aliquote_imu (tenant_id, anno, aliquote, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, anno) DO UPDATE SET aliquote = excluded.aliquote, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(tenant.0)
        .bind(i64::from(r.aliquote.anno))
        .bind(aliquote.as_str())
        .bind(r.updated_at.to_sqlx())
        .bind(r.updated_by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
