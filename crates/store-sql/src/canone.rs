//! Canone unico patrimoniale (migration 0035; issue 7): see
//! [`palazzo_store::canone`].

use jiff_sqlx::ToSqlx;
use palazzo_domain::tributi::canone::TariffeCanone;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::decisions::{Decision, TARIFFE_CANONE};
use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const OCCUPAZIONE: &str = "id, tenant_id, codice, codice_fiscale, dal, al, descrizione, \
     indirizzo, zona, categoria, permanente, superficie_cm2, atto";

fn occupazione_of<D: Dialect>(r: &DbRow<D>) -> Result<OccupazioneCanone>
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
    let superficie: i64 = r.try_get("superficie_cm2").map_err(db_err)?;
    Ok(OccupazioneCanone {
        id: OccupazioneCanoneId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        data: NewOccupazioneCanone {
            codice: s("codice")?,
            codice_fiscale: CodiceFiscale::parse(&cf)
                .map_err(|e| corrupt("tributi_occupazioni.codice_fiscale", e))?,
            descrizione: s("descrizione")?,
            indirizzo: s("indirizzo")?,
            zona: s("zona")?,
            categoria: s("categoria")?,
            permanente: r.try_get("permanente").map_err(db_err)?,
            superficie_cm2: u32::try_from(superficie)
                .map_err(|e| corrupt("tributi_occupazioni.superficie_cm2", e))?,
            dal: r
                .try_get::<jiff_sqlx::Date, _>("dal")
                .map_err(db_err)?
                .to_jiff(),
            al: r
                .try_get::<Option<jiff_sqlx::Date>, _>("al")
                .map_err(db_err)?
                .map(|d| d.to_jiff()),
            atto: s("atto")?,
        },
    })
}

fn tariffe_of(d: Decision<TariffeCanone>) -> TariffeCanoneRecord {
    TariffeCanoneRecord {
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
    /// See [`Store::occupazioni_of`].
    pub async fn occupazioni_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> Result<Vec<OccupazioneCanone>> {
        let sql = format!(
            "SELECT {OCCUPAZIONE} FROM tributi_occupazioni \
             WHERE tenant_id = $1 AND codice_fiscale = $2 ORDER BY codice, dal, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cf.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(occupazione_of::<D>).collect()
    }

    /// See [`Store::contribuenti_canone`].
    pub async fn contribuenti_canone(
        &self,
        tenant: TenantId,
        anno: i16,
        after: &str,
        limit: u32,
    ) -> Result<Vec<CodiceFiscale>> {
        let first = jiff::civil::Date::new(anno, 1, 1).map_err(|e| corrupt("anno", e))?;
        let last = jiff::civil::Date::new(anno, 12, 31).map_err(|e| corrupt("anno", e))?;
        let rows = sqlx::query(
            "SELECT DISTINCT codice_fiscale FROM tributi_occupazioni \
             WHERE tenant_id = $1 AND codice_fiscale > $2 AND permanente = $3 AND dal <= $4 \
             AND (al IS NULL OR al >= $5) ORDER BY codice_fiscale LIMIT $6",
        )
        .bind(tenant.0)
        .bind(after)
        .bind(true)
        .bind(last.to_sqlx())
        .bind(first.to_sqlx())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let cf: String = r.try_get("codice_fiscale").map_err(db_err)?;
                CodiceFiscale::parse(&cf)
                    .map_err(|e| corrupt("tributi_occupazioni.codice_fiscale", e))
            })
            .collect()
    }

    /// See [`Store::tariffe_canone`].
    pub async fn tariffe_canone(
        &self,
        tenant: TenantId,
        anno: i16,
    ) -> Result<Option<TariffeCanoneRecord>> {
        let d = self.decision(TARIFFE_CANONE, tenant, anno).await?;
        Ok(d.map(tariffe_of))
    }

    /// See [`Store::tariffe_canone_all`].
    pub async fn tariffe_canone_all(&self, tenant: TenantId) -> Result<Vec<TariffeCanoneRecord>> {
        let all = self.decisions(TARIFFE_CANONE, tenant).await?;
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
    /// See [`StoreTx::upsert_occupazione`].
    pub async fn upsert_occupazione(
        &mut self,
        tenant: TenantId,
        o: &NewOccupazioneCanone,
    ) -> Result<OccupazioneCanone> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tributi_occupazioni (tenant_id, codice, codice_fiscale, dal, al, \
             descrizione, indirizzo, zona, categoria, permanente, superficie_cm2, atto) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (tenant_id, codice, codice_fiscale, dal) DO UPDATE SET al = excluded.al, \
             descrizione = excluded.descrizione, indirizzo = excluded.indirizzo, \
             zona = excluded.zona, categoria = excluded.categoria, \
             permanente = excluded.permanente, superficie_cm2 = excluded.superficie_cm2, \
             atto = excluded.atto \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(o.codice.as_str())
        .bind(o.codice_fiscale.as_str())
        .bind(o.dal.to_sqlx())
        .bind(o.al.map(|d| d.to_sqlx()))
        .bind(o.descrizione.as_str())
        .bind(o.indirizzo.as_str())
        .bind(o.zona.as_str())
        .bind(o.categoria.as_str())
        .bind(o.permanente)
        .bind(i64::from(o.superficie_cm2))
        .bind(o.atto.as_str())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(OccupazioneCanone {
            id: OccupazioneCanoneId(id),
            tenant,
            data: o.clone(),
        })
    }

    /// See [`StoreTx::set_tariffe_canone`].
    pub async fn set_tariffe_canone(
        &mut self,
        tenant: TenantId,
        r: &TariffeCanoneRecord,
    ) -> Result<()> {
        let d = Decision {
            value: &r.tariffe,
            updated_at: r.updated_at,
            updated_by: r.updated_by.clone(),
        };
        self.set_decision(TARIFFE_CANONE, tenant, r.tariffe.anno, &d)
            .await
    }
}
