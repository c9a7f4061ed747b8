//! Local taxes, IMU (migration 0032; issue 7): see [`palazzo_store::tributi`].

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::decisions::{ALIQUOTE_IMU, Decision};
use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const UNITA: &str = "id, tenant_id, codice, foglio, particella, subalterno, indirizzo, oggetto";
const TITOLARITA: &str = "id, tenant_id, unita_id, codice_fiscale, possesso, periodi";

/// A JSON column read back into its domain type.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A domain value as its JSON column.
pub(crate) fn to_json(v: &impl Serialize, what: &str) -> Result<String> {
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
            .bind(cf.as_str())
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
        let d = self.decision(ALIQUOTE_IMU, tenant, anno).await?;
        Ok(d.map(aliquote_of))
    }

    /// See [`Store::aliquote_imu_all`].
    pub async fn aliquote_imu_all(&self, tenant: TenantId) -> Result<Vec<AliquoteImuRecord>> {
        let all = self.decisions(ALIQUOTE_IMU, tenant).await?;
        Ok(all.into_iter().map(aliquote_of).collect())
    }
}

fn aliquote_of(d: Decision<palazzo_domain::tributi::imu::Aliquote>) -> AliquoteImuRecord {
    AliquoteImuRecord {
        aliquote: d.value,
        updated_at: d.updated_at,
        updated_by: d.updated_by,
    }
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
        let cf = &t.codice_fiscale;
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
            data: t.clone(),
        }))
    }

    /// See [`StoreTx::set_aliquote_imu`].
    pub async fn set_aliquote_imu(
        &mut self,
        tenant: TenantId,
        r: &AliquoteImuRecord,
    ) -> Result<()> {
        let d = Decision {
            value: &r.aliquote,
            updated_at: r.updated_at,
            updated_by: r.updated_by.clone(),
        };
        self.set_decision(ALIQUOTE_IMU, tenant, r.aliquote.anno, &d)
            .await
    }
}

const AVVISO: &str = "id, tenant_id, iuv_base, codice_avviso, codice_fiscale, tributo, anno, \
     versamento, importo, tefa, scadenza, stato, iupd, created_at, created_by, pagato_il, ricevuta";

fn avviso_of<D: Dialect>(r: &DbRow<D>) -> Result<Avviso>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let i = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(db_err) };
    let codice = s("codice_avviso")?;
    let cf = s("codice_fiscale")?;
    let stato = s("stato")?;
    Ok(Avviso {
        id: AvvisoId(i("id")?),
        tenant: TenantId(i("tenant_id")?),
        iuv_base: u64::try_from(i("iuv_base")?)
            .map_err(|e| corrupt("tributi_avvisi.iuv_base", e))?,
        codice_avviso: palazzo_domain::pagopa::CodiceAvviso::parse(&codice)
            .map_err(|e| corrupt("tributi_avvisi.codice_avviso", e))?,
        data: NewAvviso {
            codice_fiscale: CodiceFiscale::parse(&cf)
                .map_err(|e| corrupt("tributi_avvisi.codice_fiscale", e))?,
            tributo: s("tributo")?,
            anno: i16::try_from(i("anno")?).map_err(|e| corrupt("tributi_avvisi.anno", e))?,
            versamento: s("versamento")?,
            importo: palazzo_domain::money::Cents::from_cents(i("importo")?),
            tefa: palazzo_domain::money::Cents::from_cents(i("tefa")?),
            scadenza: r
                .try_get::<jiff_sqlx::Date, _>("scadenza")
                .map_err(db_err)?
                .to_jiff(),
            created_by: s("created_by")?,
        },
        stato: StatoAvviso::from_code(&stato)
            .ok_or_else(|| corrupt("tributi_avvisi.stato", format!("unknown state {stato:?}")))?,
        iupd: r.try_get("iupd").map_err(db_err)?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(db_err)?
            .to_jiff(),
        pagato_il: r
            .try_get::<Option<jiff_sqlx::Timestamp>, _>("pagato_il")
            .map_err(db_err)?
            .map(|t| t.to_jiff()),
        ricevuta: r.try_get("ricevuta").map_err(db_err)?,
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`Store::pagopa_ente`].
    pub async fn pagopa_ente(&self, tenant: TenantId) -> Result<Option<PagopaEnte>> {
        let row = sqlx::query(
            "SELECT segregazione, cbill, iban, conto_postale, intestatario, tefa_codice_fiscale, \
             tefa_iban, tefa_nome FROM pagopa_enti WHERE tenant_id = $1",
        )
        .bind(tenant.0)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.map(|r| {
            let seg: i64 = r.try_get("segregazione").map_err(db_err)?;
            Ok(PagopaEnte {
                segregazione: u16::try_from(seg)
                    .map_err(|e| corrupt("pagopa_enti.segregazione", e))?,
                cbill: r.try_get("cbill").map_err(db_err)?,
                iban: r.try_get("iban").map_err(db_err)?,
                conto_postale: r.try_get("conto_postale").map_err(db_err)?,
                intestatario: r.try_get("intestatario").map_err(db_err)?,
                tefa: match (
                    r.try_get::<Option<String>, _>("tefa_codice_fiscale")
                        .map_err(db_err)?,
                    r.try_get::<Option<String>, _>("tefa_iban")
                        .map_err(db_err)?,
                    r.try_get::<Option<String>, _>("tefa_nome")
                        .map_err(db_err)?,
                ) {
                    (Some(codice_fiscale), Some(iban), Some(nome)) => Some(BeneficiarioTefa {
                        codice_fiscale,
                        iban,
                        nome,
                    }),
                    _ => None,
                },
            })
        })
        .transpose()
    }

    /// See [`Store::avvisi_of`].
    pub async fn avvisi_of(&self, tenant: TenantId, cf: &CodiceFiscale) -> Result<Vec<Avviso>> {
        let sql = format!(
            "SELECT {AVVISO} FROM tributi_avvisi WHERE tenant_id = $1 AND codice_fiscale = $2 \
             ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cf.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(avviso_of::<D>).collect()
    }

    /// See [`Store::avviso_by_codice`].
    pub async fn avviso_by_codice(&self, tenant: TenantId, codice: &str) -> Result<Option<Avviso>> {
        let sql = format!(
            "SELECT {AVVISO} FROM tributi_avvisi WHERE tenant_id = $1 AND codice_avviso = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(codice)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(avviso_of::<D>).transpose()
    }

    /// See [`Store::avvisi_page`].
    pub async fn avvisi_page(
        &self,
        tenant: TenantId,
        after: AvvisoId,
        limit: u32,
    ) -> Result<Vec<Avviso>> {
        let sql = format!(
            "SELECT {AVVISO} FROM tributi_avvisi WHERE tenant_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(avviso_of::<D>).collect()
    }
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> Option<&'a str>: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`StoreTx::set_pagopa_ente`].
    pub async fn set_pagopa_ente(&mut self, tenant: TenantId, e: &PagopaEnte) -> Result<()> {
        sqlx::query(
            "INSERT INTO pagopa_enti \
             (tenant_id, segregazione, cbill, iban, conto_postale, intestatario, \
             tefa_codice_fiscale, tefa_iban, tefa_nome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant_id) DO UPDATE SET segregazione = excluded.segregazione, \
             cbill = excluded.cbill, iban = excluded.iban, conto_postale = excluded.conto_postale, \
             intestatario = excluded.intestatario, \
             tefa_codice_fiscale = excluded.tefa_codice_fiscale, \
             tefa_iban = excluded.tefa_iban, tefa_nome = excluded.tefa_nome",
        )
        .bind(tenant.0)
        .bind(i64::from(e.segregazione))
        .bind(e.cbill.as_str())
        .bind(e.iban.as_str())
        .bind(e.conto_postale.as_deref())
        .bind(e.intestatario.as_deref())
        .bind(e.tefa.as_ref().map(|t| t.codice_fiscale.as_str()))
        .bind(e.tefa.as_ref().map(|t| t.iban.as_str()))
        .bind(e.tefa.as_ref().map(|t| t.nome.as_str()))
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// See [`StoreTx::next_iuv`].
    pub async fn next_iuv(&mut self, tenant: TenantId) -> Result<u64> {
        // One statement: the row is locked (PostgreSQL) or the database
        // written (SQLite) until the transaction ends, so two notices never
        // take the same number.
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO tributi_iuv (tenant_id, prossimo) VALUES ($1, 1) \
             ON CONFLICT (tenant_id) DO UPDATE SET prossimo = tributi_iuv.prossimo + 1 \
             RETURNING prossimo",
        )
        .bind(tenant.0)
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        u64::try_from(next - 1).map_err(|e| corrupt("tributi_iuv.prossimo", e))
    }

    /// See [`StoreTx::insert_avviso`].
    pub async fn insert_avviso(
        &mut self,
        tenant: TenantId,
        iuv_base: u64,
        codice: &palazzo_domain::pagopa::CodiceAvviso,
        a: &NewAvviso,
        at: jiff::Timestamp,
    ) -> Result<Avviso> {
        let base =
            i64::try_from(iuv_base).map_err(|e| StoreError::Database(format!("iuv_base: {e}")))?;
        let cf = &a.codice_fiscale;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tributi_avvisi (tenant_id, iuv_base, codice_avviso, codice_fiscale, \
             tributo, anno, versamento, importo, tefa, scadenza, stato, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $12, $9, 'emesso', $10, $11) RETURNING id",
        )
        .bind(tenant.0)
        .bind(base)
        .bind(codice.to_string())
        .bind(cf.as_str())
        .bind(a.tributo.as_str())
        .bind(i64::from(a.anno))
        .bind(a.versamento.as_str())
        .bind(a.importo.cents())
        .bind(a.scadenza.to_sqlx())
        .bind(at.to_sqlx())
        .bind(a.created_by.as_str())
        .bind(a.tefa.cents())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Avviso {
            id: AvvisoId(id),
            tenant,
            iuv_base,
            codice_avviso: *codice,
            data: a.clone(),
            stato: StatoAvviso::Emesso,
            iupd: None,
            created_at: at,
            pagato_il: None,
            ricevuta: None,
        })
    }

    /// See [`StoreTx::update_avviso`].
    pub async fn update_avviso(
        &mut self,
        tenant: TenantId,
        a: &Avviso,
        from: StatoAvviso,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tributi_avvisi SET stato = $3, pagato_il = $4, ricevuta = $5 \
             WHERE tenant_id = $1 AND id = $2 AND stato = $6",
        )
        .bind(tenant.0)
        .bind(a.id.0)
        .bind(a.stato.code())
        .bind(a.pagato_il.map(|t| t.to_sqlx()))
        .bind(a.ricevuta.as_deref())
        .bind(from.code())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&done) == 1)
    }

    /// See [`StoreTx::set_avviso_iupd`].
    pub async fn set_avviso_iupd(
        &mut self,
        tenant: TenantId,
        id: AvvisoId,
        iupd: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE tributi_avvisi SET iupd = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .bind(iupd)
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
