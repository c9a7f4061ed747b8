//! Issued certificates (migration 0025; issue 5, part 3).

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::{corrupt, to_hash, to_i64, to_u64};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const COLUMNS: &str = "id, tenant_id, cti, doc_type, holder_cf, holder_surname, uso, \
    bollo_cents, issued_at, valid_until, pdf_sha256, pdf_size, kid, status_list, status_idx, \
    requested_by, channel, bollo_method, bollo_reference, bollo_recorded_at, bollo_recorded_by, \
    revoked_at, revoked_by, revocation_reason";

fn certificate_of<D: Dialect>(r: &DbRow<D>) -> Result<Certificate>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let o =
        |c: &str| -> Result<Option<String>> { r.try_get::<Option<String>, _>(c).map_err(db_err) };
    let i = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(db_err) };
    let t = |c: &str| -> Result<Option<Timestamp>> {
        Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(c)
            .map_err(db_err)?
            .map(|t| t.to_jiff()))
    };
    let cti: Vec<u8> = r.try_get("cti").map_err(db_err)?;
    let sha: Vec<u8> = r.try_get("pdf_sha256").map_err(db_err)?;
    let channel = s("channel")?;
    let bollo_paid = match (
        o("bollo_method")?,
        o("bollo_reference")?,
        t("bollo_recorded_at")?,
        o("bollo_recorded_by")?,
    ) {
        (None, None, None, None) => None,
        (Some(method), Some(reference), Some(recorded_at), Some(recorded_by)) => {
            Some(BolloPayment {
                method,
                reference,
                recorded_at,
                recorded_by,
            })
        }
        _ => return Err(corrupt("certificati.bollo", "incomplete")),
    };
    let revocation = match (t("revoked_at")?, o("revoked_by")?, o("revocation_reason")?) {
        (None, None, None) => None,
        (Some(at), Some(by), Some(reason)) => Some(Revocation { at, by, reason }),
        _ => return Err(corrupt("certificati.revocation", "incomplete")),
    };
    Ok(Certificate {
        id: CertificateId(i("id")?),
        tenant: TenantId(i("tenant_id")?),
        data: NewCertificate {
            cti: cti
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("certificati.cti", "not 16 bytes"))?,
            doc_type: s("doc_type")?,
            holder_cf: s("holder_cf")?
                .parse()
                .map_err(|e| corrupt("certificati.holder_cf", e))?,
            holder_surname: s("holder_surname")?,
            uso: s("uso")?,
            bollo_cents: i("bollo_cents")?,
            issued_at: t("issued_at")?
                .ok_or_else(|| corrupt("certificati.issued_at", "missing"))?,
            valid_until: r
                .try_get::<Option<jiff_sqlx::Date>, _>("valid_until")
                .map_err(db_err)?
                .map(|d| d.to_jiff()),
            pdf_sha256: to_hash(&sha, "certificati.pdf_sha256")?,
            pdf_size: to_u64(i("pdf_size")?, "certificati.pdf_size")?,
            kid: s("kid")?,
            status_list: i("status_list")?,
            status_idx: i("status_idx")?,
            requested_by: s("requested_by")?,
            channel: Channel::from_code(&channel)
                .ok_or_else(|| corrupt("certificati.channel", &channel))?,
        },
        bollo_paid,
        revocation,
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::certificate_by_cti`].
    pub async fn certificate_by_cti(
        &self,
        tenant: TenantId,
        cti: &[u8],
    ) -> Result<Option<Certificate>> {
        let sql = format!("SELECT {COLUMNS} FROM certificati WHERE tenant_id = $1 AND cti = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cti)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(certificate_of::<D>).transpose()
    }

    /// See [`Store::certificates_of`].
    pub async fn certificates_of(
        &self,
        tenant: TenantId,
        holder: &CodiceFiscale,
    ) -> Result<Vec<Certificate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificati WHERE tenant_id = $1 AND holder_cf = $2 ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(holder.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(certificate_of::<D>).collect()
    }

    /// See [`Store::certificates_by_id`].
    pub async fn certificates_by_id(
        &self,
        tenant: TenantId,
        after: CertificateId,
        limit: i64,
    ) -> Result<Vec<Certificate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificati WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(certificate_of::<D>).collect()
    }

    /// See [`Store::revoked_indices`].
    pub async fn revoked_indices(&self, tenant: TenantId, list: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT status_idx FROM certificati WHERE tenant_id = $1 AND status_list = $2 \
             AND revoked_at IS NOT NULL ORDER BY status_idx",
        )
        .bind(tenant.0)
        .bind(list)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(i,)| i).collect())
    }
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`StoreTx::insert_certificate`].
    pub async fn insert_certificate(
        &mut self,
        tenant: TenantId,
        c: &NewCertificate,
    ) -> Result<Certificate> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO certificati (tenant_id, cti, doc_type, holder_cf, holder_surname, uso, \
             bollo_cents, issued_at, valid_until, pdf_sha256, pdf_size, kid, status_list, \
             status_idx, requested_by, channel) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING id",
        )
        .bind(tenant.0)
        .bind(c.cti.as_slice())
        .bind(c.doc_type.as_str())
        .bind(c.holder_cf.as_str())
        .bind(c.holder_surname.as_str())
        .bind(c.uso.as_str())
        .bind(c.bollo_cents)
        .bind(c.issued_at.to_sqlx())
        .bind(c.valid_until.map(|d| d.to_sqlx()))
        .bind(c.pdf_sha256.as_slice())
        .bind(to_i64(c.pdf_size, "pdf_size")?)
        .bind(c.kid.as_str())
        .bind(c.status_list)
        .bind(c.status_idx)
        .bind(c.requested_by.as_str())
        .bind(c.channel.code())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Certificate {
            id: CertificateId(id),
            tenant,
            data: c.clone(),
            bollo_paid: None,
            revocation: None,
        })
    }

    /// See [`StoreTx::settle_certificate_bollo`].
    pub async fn settle_certificate_bollo(
        &mut self,
        tenant: TenantId,
        id: CertificateId,
        p: &BolloPayment,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE certificati SET bollo_method = $3, bollo_reference = $4, \
             bollo_recorded_at = $5, bollo_recorded_by = $6 \
             WHERE tenant_id = $1 AND id = $2 AND bollo_method IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(p.method.as_str())
        .bind(p.reference.as_str())
        .bind(p.recorded_at.to_sqlx())
        .bind(p.recorded_by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::revoke_certificate`].
    pub async fn revoke_certificate(
        &mut self,
        tenant: TenantId,
        id: CertificateId,
        rev: &Revocation,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE certificati SET revoked_at = $3, revoked_by = $4, revocation_reason = $5 \
             WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(rev.at.to_sqlx())
        .bind(rev.by.as_str())
        .bind(rev.reason.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }
}
