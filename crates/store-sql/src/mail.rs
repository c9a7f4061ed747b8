//! The e-mail outbox (migration 0026; issue 6).

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const COLUMNS: &str = "id, tenant_id, recipient, subject, text_body, html_body, reply_to, \
    related_kind, related_id, state, attempts, next_attempt_at, last_error, created_at, sent_at, \
    message_id";

fn mail_of<D: Dialect>(r: &DbRow<D>) -> Result<Mail>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    let s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let o =
        |c: &str| -> Result<Option<String>> { r.try_get::<Option<String>, _>(c).map_err(db_err) };
    let i = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(db_err) };
    let t = |c: &str| -> Result<Timestamp> {
        Ok(r.try_get::<jiff_sqlx::Timestamp, _>(c)
            .map_err(db_err)?
            .to_jiff())
    };
    let ot = |c: &str| -> Result<Option<Timestamp>> {
        Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(c)
            .map_err(db_err)?
            .map(|t| t.to_jiff()))
    };
    let related = match (
        o("related_kind")?,
        r.try_get::<Option<i64>, _>("related_id").map_err(db_err)?,
    ) {
        (Some(kind), Some(id)) => Some(MailRelated { kind, id }),
        (None, None) => None,
        _ => return Err(corrupt("mail_outbox.related", "incomplete")),
    };
    let state = s("state")?;
    Ok(Mail {
        id: MailId(i("id")?),
        tenant: TenantId(i("tenant_id")?),
        data: NewMail {
            recipient: s("recipient")?,
            subject: s("subject")?,
            text_body: s("text_body")?,
            html_body: o("html_body")?,
            reply_to: o("reply_to")?,
            related,
        },
        state: MailState::from_code(&state).ok_or_else(|| corrupt("mail_outbox.state", &state))?,
        attempts: u32::try_from(i("attempts")?).map_err(|e| corrupt("mail_outbox.attempts", e))?,
        next_attempt_at: t("next_attempt_at")?,
        last_error: o("last_error")?,
        created_at: t("created_at")?,
        sent_at: ot("sent_at")?,
        message_id: o("message_id")?,
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    /// See [`Store::mail`].
    pub async fn mail(&self, tenant: TenantId, id: MailId) -> Result<Option<Mail>> {
        let sql = format!("SELECT {COLUMNS} FROM mail_outbox WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(mail_of::<D>).transpose()
    }

    /// See [`Store::mails`].
    pub async fn mails(
        &self,
        tenant: TenantId,
        state: Option<MailState>,
        limit: u32,
    ) -> Result<Vec<Mail>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mail_outbox WHERE tenant_id = $1 \
             AND ($2 = '' OR state = $2) ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(state.map_or("", MailState::code))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(mail_of::<D>).collect()
    }

    /// See [`Store::mails_related`].
    pub async fn mails_related(&self, tenant: TenantId, kind: &str, id: i64) -> Result<Vec<Mail>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mail_outbox WHERE tenant_id = $1 AND related_kind = $2 \
             AND related_id = $3 ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(kind)
            .bind(id)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(mail_of::<D>).collect()
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
{
    /// See [`StoreTx::insert_mail`].
    pub async fn insert_mail(
        &mut self,
        tenant: TenantId,
        m: &NewMail,
        now: Timestamp,
    ) -> Result<MailId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_outbox (tenant_id, recipient, subject, text_body, html_body, \
             reply_to, related_kind, related_id, state, attempts, next_attempt_at, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'queued',0,$9,$9) RETURNING id",
        )
        .bind(tenant.0)
        .bind(m.recipient.as_str())
        .bind(m.subject.as_str())
        .bind(m.text_body.as_str())
        .bind(m.html_body.as_deref())
        .bind(m.reply_to.as_deref())
        .bind(m.related.as_ref().map(|r| r.kind.as_str()))
        .bind(m.related.as_ref().map(|r| r.id))
        .bind(now.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(MailId(id))
    }

    /// See [`StoreTx::claim_due_mails`].
    pub async fn claim_due_mails(
        &mut self,
        now: Timestamp,
        limit: u32,
        lease_until: Timestamp,
    ) -> Result<Vec<Mail>> {
        let sql = format!(
            "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'queued' AND {} <= {} \
             ORDER BY {}, id LIMIT $3{}) RETURNING {COLUMNS}",
            D::instant("next_attempt_at"),
            D::instant("$1"),
            D::instant("next_attempt_at"),
            D::skip_locked(),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.to_sqlx())
            .bind(lease_until.to_sqlx())
            .bind(i64::from(limit))
            .fetch_all(&mut *self.conn())
            .await
            .map_err(db_err)?;
        let mut mails = rows.iter().map(mail_of::<D>).collect::<Result<Vec<_>>>()?;
        mails.sort_by_key(|m| (m.tenant, m.id));
        Ok(mails)
    }

    /// See [`StoreTx::mark_mail_sent`].
    pub async fn mark_mail_sent(
        &mut self,
        tenant: TenantId,
        id: MailId,
        message_id: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE mail_outbox SET state = 'sent', sent_at = $3, message_id = $4, last_error = NULL \
             WHERE tenant_id = $1 AND id = $2 AND state = 'queued'",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(at.to_sqlx())
        .bind(message_id)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::mark_mail_failed`].
    pub async fn mark_mail_failed(
        &mut self,
        tenant: TenantId,
        id: MailId,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool> {
        let r = match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE mail_outbox SET last_error = $3, next_attempt_at = $4 \
                     WHERE tenant_id = $1 AND id = $2 AND state = 'queued'",
                )
                .bind(tenant.0)
                .bind(id.0)
                .bind(error)
                .bind(at.to_sqlx())
                .execute(&mut *self.conn())
                .await
            }
            None => {
                sqlx::query(
                    "UPDATE mail_outbox SET state = 'failed', last_error = $3 \
                     WHERE tenant_id = $1 AND id = $2 AND state = 'queued'",
                )
                .bind(tenant.0)
                .bind(id.0)
                .bind(error)
                .execute(&mut *self.conn())
                .await
            }
        }
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::requeue_mail`].
    pub async fn requeue_mail(
        &mut self,
        tenant: TenantId,
        id: MailId,
        now: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE mail_outbox SET state = 'queued', attempts = 0, next_attempt_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND state = 'failed'",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(now.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::requeue_failed_mails`].
    pub async fn requeue_failed_mails(&mut self, tenant: TenantId, now: Timestamp) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE mail_outbox SET state = 'queued', attempts = 0, next_attempt_at = $2 \
             WHERE tenant_id = $1 AND state = 'failed'",
        )
        .bind(tenant.0)
        .bind(now.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r))
    }
}
