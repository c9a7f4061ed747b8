//! TARI (migration 0034; issue 7): see [`palazzo_store::tari`].

use jiff_sqlx::ToSqlx;
use palazzo_domain::tributi::tari::TariffeTari;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::decisions::{Decision, TARIFFE_TARI};
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

fn tariffe_of(d: Decision<TariffeTari>) -> TariffeTariRecord {
    TariffeTariRecord {
        tariffe: d.value,
        updated_at: d.updated_at,
        updated_by: d.updated_by,
    }
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
        let d = self.decision(TARIFFE_TARI, tenant, anno).await?;
        Ok(d.map(tariffe_of))
    }

    /// See [`Store::versamenti_of`].
    pub async fn versamenti_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
        anno: i16,
    ) -> Result<Vec<VersamentoF24>> {
        self.versamenti_anni(tenant, cf, anno, anno).await
    }

    /// See [`Store::versamenti_anni`].
    pub async fn versamenti_anni(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
        from: i16,
        to: i16,
    ) -> Result<Vec<VersamentoF24>> {
        let rows = sqlx::query(
            "SELECT riferimento, codice_fiscale, anno, codice_tributo, data, importo, ravvedimento \
             FROM tributi_versamenti WHERE tenant_id = $1 AND codice_fiscale = $2 \
             AND anno >= $3 AND anno <= $4 ORDER BY anno, data, id",
        )
        .bind(tenant.0)
        .bind(cf.as_str())
        .bind(i64::from(from))
        .bind(i64::from(to))
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
        let all = self.decisions(TARIFFE_TARI, tenant).await?;
        Ok(all.into_iter().map(tariffe_of).collect())
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
        let d = Decision {
            value: &r.tariffe,
            updated_at: r.updated_at,
            updated_by: r.updated_by.clone(),
        };
        self.set_decision(TARIFFE_TARI, tenant, r.tariffe.anno, &d)
            .await
    }
}
