//! TARI (migration 0034; issue 7): see [`palazzo_store::tari`].

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::tributi::{from_json, to_json};
use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const UTENZA: &str = "id, tenant_id, codice, codice_fiscale, dal, al, indirizzo, catasto, utenza, \
     riduzioni";

fn utenza_of<D: Dialect>(r: &DbRow<D>) -> Result<UtenzaTari>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
    bool: Field<Db<D>>,
{
    let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let cf = s("codice_fiscale")?;
    Ok(UtenzaTari {
        id: UtenzaTariId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        data: NewUtenzaTari {
            codice: s("codice")?,
            codice_fiscale: CodiceFiscale::parse(&cf)
                .map_err(|e| corrupt("tributi_utenze.codice_fiscale", e))?,
            indirizzo: s("indirizzo")?,
            catasto: s("catasto")?,
            utenza: from_json(&s("utenza")?, "tributi_utenze.utenza")?,
            dal: r
                .try_get::<jiff_sqlx::Date, _>("dal")
                .map_err(db_err)?
                .to_jiff(),
            al: r
                .try_get::<Option<jiff_sqlx::Date>, _>("al")
                .map_err(db_err)?
                .map(|d| d.to_jiff()),
            riduzioni: from_json(&s("riduzioni")?, "tributi_utenze.riduzioni")?,
        },
    })
}

fn tariffe_of<D: Dialect>(r: &DbRow<D>) -> Result<TariffeTariRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let tariffe: String = r.try_get("tariffe").map_err(db_err)?;
    Ok(TariffeTariRecord {
        tariffe: from_json(&tariffe, "tributi_tariffe_tari.tariffe")?,
        updated_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("updated_at")
            .map_err(db_err)?
            .to_jiff(),
        updated_by: r.try_get("updated_by").map_err(db_err)?,
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
    jiff_sqlx::Date: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
    bool: Field<Db<D>>,
{
    /// See [`Store::utenze_tari_of`].
    pub async fn utenze_tari_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> Result<Vec<UtenzaTari>> {
        let sql = format!(
            "SELECT {UTENZA} FROM tributi_utenze WHERE tenant_id = $1 AND codice_fiscale = $2 \
             ORDER BY codice, dal, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cf.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(utenza_of::<D>).collect()
    }

    /// See [`Store::contribuenti_tari`].
    pub async fn contribuenti_tari(
        &self,
        tenant: TenantId,
        anno: i16,
        after: &str,
        limit: u32,
    ) -> Result<Vec<CodiceFiscale>> {
        let first = jiff::civil::Date::new(anno, 1, 1).map_err(|e| corrupt("anno", e))?;
        let last = jiff::civil::Date::new(anno, 12, 31).map_err(|e| corrupt("anno", e))?;
        let rows = sqlx::query(
            "SELECT DISTINCT codice_fiscale FROM tributi_utenze \
             WHERE tenant_id = $1 AND codice_fiscale > $2 AND dal <= $3 \
             AND (al IS NULL OR al >= $4) ORDER BY codice_fiscale LIMIT $5",
        )
        .bind(tenant.0)
        .bind(after)
        .bind(last.to_sqlx())
        .bind(first.to_sqlx())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let cf: String = r.try_get("codice_fiscale").map_err(db_err)?;
                CodiceFiscale::parse(&cf).map_err(|e| corrupt("tributi_utenze.codice_fiscale", e))
            })
            .collect()
    }

    /// See [`Store::tariffe_tari`].
    pub async fn tariffe_tari(
        &self,
        tenant: TenantId,
        anno: i16,
    ) -> Result<Option<TariffeTariRecord>> {
        let row = sqlx::query(
            "SELECT tariffe, updated_at, updated_by FROM tributi_tariffe_tari \
             WHERE tenant_id = $1 AND anno = $2",
        )
        .bind(tenant.0)
        .bind(i64::from(anno))
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(tariffe_of::<D>).transpose()
    }

    /// See [`Store::versamenti_of`].
    pub async fn versamenti_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
        anno: i16,
    ) -> Result<Vec<VersamentoF24>> {
        let rows = sqlx::query(
            "SELECT riferimento, codice_fiscale, anno, codice_tributo, data, importo, ravvedimento \
             FROM tributi_versamenti WHERE tenant_id = $1 AND codice_fiscale = $2 AND anno = $3 \
             ORDER BY data, id",
        )
        .bind(tenant.0)
        .bind(cf.as_str())
        .bind(i64::from(anno))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
                let cf = s("codice_fiscale")?;
                let anno: i64 = r.try_get("anno").map_err(db_err)?;
                Ok(VersamentoF24 {
                    riferimento: s("riferimento")?,
                    codice_fiscale: CodiceFiscale::parse(&cf)
                        .map_err(|e| corrupt("tributi_versamenti.codice_fiscale", e))?,
                    anno: i16::try_from(anno).map_err(|e| corrupt("tributi_versamenti.anno", e))?,
                    codice_tributo: s("codice_tributo")?,
                    data: r
                        .try_get::<jiff_sqlx::Date, _>("data")
                        .map_err(db_err)?
                        .to_jiff(),
                    importo: palazzo_domain::money::Cents::from_cents(
                        r.try_get("importo").map_err(db_err)?,
                    ),
                    ravvedimento: r.try_get("ravvedimento").map_err(db_err)?,
                })
            })
            .collect()
    }

    /// See [`Store::tariffe_tari_all`].
    pub async fn tariffe_tari_all(&self, tenant: TenantId) -> Result<Vec<TariffeTariRecord>> {
        let rows = sqlx::query(
            "SELECT tariffe, updated_at, updated_by FROM tributi_tariffe_tari \
             WHERE tenant_id = $1 ORDER BY anno DESC",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(tariffe_of::<D>).collect()
    }
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
    bool: Field<Db<D>>,
{
    /// See [`StoreTx::upsert_utenza_tari`].
    pub async fn upsert_utenza_tari(
        &mut self,
        tenant: TenantId,
        u: &NewUtenzaTari,
    ) -> Result<UtenzaTari> {
        let utenza = to_json(&u.utenza, "tributi_utenze.utenza")?;
        let riduzioni = to_json(&u.riduzioni, "tributi_utenze.riduzioni")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tributi_utenze \
             (tenant_id, codice, codice_fiscale, dal, al, indirizzo, catasto, utenza, riduzioni) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant_id, codice, codice_fiscale, dal) DO UPDATE SET al = excluded.al, \
             indirizzo = excluded.indirizzo, catasto = excluded.catasto, \
             utenza = excluded.utenza, riduzioni = excluded.riduzioni \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(u.codice.as_str())
        .bind(u.codice_fiscale.as_str())
        .bind(u.dal.to_sqlx())
        .bind(u.al.map(|d| d.to_sqlx()))
        .bind(u.indirizzo.as_str())
        .bind(u.catasto.as_str())
        .bind(utenza.as_str())
        .bind(riduzioni.as_str())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(UtenzaTari {
            id: UtenzaTariId(id),
            tenant,
            data: u.clone(),
        })
    }

    /// See [`StoreTx::insert_versamento`].
    pub async fn insert_versamento(&mut self, tenant: TenantId, v: &VersamentoF24) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO tributi_versamenti (tenant_id, riferimento, codice_fiscale, anno, \
             codice_tributo, data, importo, ravvedimento) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, riferimento) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(v.riferimento.as_str())
        .bind(v.codice_fiscale.as_str())
        .bind(i64::from(v.anno))
        .bind(v.codice_tributo.as_str())
        .bind(v.data.to_sqlx())
        .bind(v.importo.cents())
        .bind(v.ravvedimento)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&done) == 1)
    }

    /// See [`StoreTx::set_tariffe_tari`].
    pub async fn set_tariffe_tari(
        &mut self,
        tenant: TenantId,
        r: &TariffeTariRecord,
    ) -> Result<()> {
        let tariffe = to_json(&r.tariffe, "tributi_tariffe_tari.tariffe")?;
        sqlx::query(
            "INSERT INTO tributi_tariffe_tari (tenant_id, anno, tariffe, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, anno) DO UPDATE SET tariffe = excluded.tariffe, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(tenant.0)
        .bind(i64::from(r.tariffe.anno))
        .bind(tariffe.as_str())
        .bind(r.updated_at.to_sqlx())
        .bind(r.updated_by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
