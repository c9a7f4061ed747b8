//! The segnatura rows of the registrations (Allegato 6; migration 0008).

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const COLUMNS: &str = "tenant_id, registration_id, kind, document, created_at, \
    sender_ipa, sender_aoo, sender_register, sender_number, sender_date";

fn segnatura_of<D: Dialect>(r: &DbRow<D>) -> Result<SegnaturaRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let get_o =
        |c: &str| -> Result<Option<String>> { r.try_get::<Option<String>, _>(c).map_err(db_err) };
    let kind: String = r.try_get("kind").map_err(db_err)?;
    let document: String = r.try_get("document").map_err(db_err)?;
    let sender = match (
        get_o("sender_ipa")?,
        get_o("sender_aoo")?,
        get_o("sender_register")?,
        get_o("sender_number")?,
        get_o("sender_date")?,
    ) {
        (Some(amministrazione), Some(aoo), Some(registro), Some(numero), Some(data)) => {
            Some(SenderIdentifier {
                amministrazione,
                aoo,
                registro,
                numero,
                data: data
                    .parse()
                    .map_err(|e| corrupt("protocol_segnature.sender_date", e))?,
            })
        }
        (None, None, None, None, None) => None,
        _ => return Err(corrupt("protocol_segnature.sender", "incomplete")),
    };
    Ok(SegnaturaRecord {
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(db_err)?
            .to_jiff(),
        data: NewSegnatura {
            registration: RegistrationId(r.try_get("registration_id").map_err(db_err)?),
            kind: SegnaturaKind::from_code(&kind)
                .ok_or_else(|| corrupt("protocol_segnature.kind", &kind))?,
            document: serde_json::from_str(&document)
                .map_err(|e| corrupt("protocol_segnature.document", e))?,
            sender,
        },
    })
}

const NOTICE_COLUMNS: &str =
    "tenant_id, registration_id, received_at, reason, act, document, recorded_by";

fn notice_of<D: Dialect>(r: &DbRow<D>) -> Result<AnnulmentNotice>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let document: String = r.try_get("document").map_err(db_err)?;
    Ok(AnnulmentNotice {
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        received_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("received_at")
            .map_err(db_err)?
            .to_jiff(),
        data: NewAnnulmentNotice {
            registration: RegistrationId(r.try_get("registration_id").map_err(db_err)?),
            reason: r.try_get("reason").map_err(db_err)?,
            act: r.try_get("act").map_err(db_err)?,
            document: serde_json::from_str(&document)
                .map_err(|e| corrupt("protocol_annulment_notices.document", e))?,
            recorded_by: r.try_get("recorded_by").map_err(db_err)?,
        },
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::segnatura`].
    pub async fn segnatura(
        &self,
        tenant: TenantId,
        registration: RegistrationId,
    ) -> Result<Option<SegnaturaRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_segnature WHERE tenant_id = $1 AND registration_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(registration.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(segnatura_of::<D>).transpose()
    }

    /// See [`Store::registration_by_sender`].
    pub async fn registration_by_sender(
        &self,
        tenant: TenantId,
        sender: &SenderIdentifier,
    ) -> Result<Option<Registration>> {
        let id: Option<(i64,)> = sqlx::query_as(
            "SELECT registration_id FROM protocol_segnature WHERE tenant_id = $1 \
             AND sender_ipa = $2 AND sender_aoo = $3 AND sender_register = $4 \
             AND sender_number = $5 AND sender_date = $6",
        )
        .bind(tenant.0)
        .bind(sender.amministrazione.as_str())
        .bind(sender.aoo.as_str())
        .bind(sender.registro.as_str())
        .bind(sender.numero.as_str())
        .bind(sender.data.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        match id {
            None => Ok(None),
            Some((id,)) => self.registration(tenant, RegistrationId(id)).await,
        }
    }

    /// See [`Store::segnature_by_registration`].
    pub async fn segnature_by_registration(
        &self,
        tenant: TenantId,
        after: RegistrationId,
        limit: u32,
    ) -> Result<Vec<SegnaturaRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_segnature WHERE tenant_id = $1 AND registration_id > $2 \
             ORDER BY registration_id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(segnatura_of::<D>).collect()
    }

    /// See [`Store::annulment_notice`].
    pub async fn annulment_notice(
        &self,
        tenant: TenantId,
        registration: RegistrationId,
    ) -> Result<Option<AnnulmentNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM protocol_annulment_notices \
             WHERE tenant_id = $1 AND registration_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(registration.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(notice_of::<D>).transpose()
    }

    /// See [`Store::annulment_notices`].
    pub async fn annulment_notices(
        &self,
        tenant: TenantId,
        after: RegistrationId,
        limit: u32,
    ) -> Result<Vec<AnnulmentNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM protocol_annulment_notices \
             WHERE tenant_id = $1 AND registration_id > $2 ORDER BY registration_id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(notice_of::<D>).collect()
    }

    /// See [`Store::annulment_notices_between`].
    pub async fn annulment_notices_between(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<AnnulmentNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM protocol_annulment_notices WHERE tenant_id = $1 \
             AND {at} >= {from} AND {at} < {to} ORDER BY {at}, registration_id",
            at = D::instant("received_at"),
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
        rows.iter().map(notice_of::<D>).collect()
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
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`StoreTx::insert_segnatura`].
    pub async fn insert_segnatura(
        &mut self,
        tenant: TenantId,
        s: &NewSegnatura,
        at: Timestamp,
    ) -> Result<SegnaturaRecord> {
        let document =
            serde_json::to_string(&s.document).map_err(|e| StoreError::Database(e.to_string()))?;
        let sender = s.sender.as_ref();
        let date = sender.map(|x| x.data.to_string());
        sqlx::query(
            "INSERT INTO protocol_segnature (tenant_id, registration_id, kind, document, created_at, \
             sender_ipa, sender_aoo, sender_register, sender_number, sender_date) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
        )
        .bind(tenant.0)
        .bind(s.registration.0)
        .bind(s.kind.code())
        .bind(document)
        .bind(at.to_sqlx())
        .bind(sender.map(|x| x.amministrazione.as_str()))
        .bind(sender.map(|x| x.aoo.as_str()))
        .bind(sender.map(|x| x.registro.as_str()))
        .bind(sender.map(|x| x.numero.as_str()))
        .bind(date.as_deref())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(SegnaturaRecord {
            tenant,
            at,
            data: s.clone(),
        })
    }

    /// See [`StoreTx::insert_annulment_notice`].
    pub async fn insert_annulment_notice(
        &mut self,
        tenant: TenantId,
        n: &NewAnnulmentNotice,
        at: Timestamp,
    ) -> Result<Option<AnnulmentNotice>> {
        let document =
            serde_json::to_string(&n.document).map_err(|e| StoreError::Database(e.to_string()))?;
        let done = sqlx::query(
            "INSERT INTO protocol_annulment_notices (tenant_id, registration_id, received_at, \
             reason, act, document, recorded_by) VALUES ($1,$2,$3,$4,$5,$6,$7) \
             ON CONFLICT (tenant_id, registration_id) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(n.registration.0)
        .bind(at.to_sqlx())
        .bind(n.reason.as_str())
        .bind(n.act.as_str())
        .bind(document)
        .bind(n.recorded_by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok((D::rows_affected(&done) == 1).then(|| AnnulmentNotice {
            tenant,
            received_at: at,
            data: n.clone(),
        }))
    }
}
