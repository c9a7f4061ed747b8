//! API keys (issue 4, part 8): see [`palazzo_store::ApiToken`].

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::to_hash;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const COLUMNS: &str =
    "id, tenant_id, user_id, token_hash, label, created_at, expires_at, last_used_at, revoked_at";

fn token_of<D: Dialect>(r: &DbRow<D>) -> Result<ApiToken>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    let ts = |c: &str| -> Result<Timestamp> {
        Ok(r.try_get::<jiff_sqlx::Timestamp, _>(c)
            .map_err(db_err)?
            .to_jiff())
    };
    let opt_ts = |c: &str| -> Result<Option<Timestamp>> {
        Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(c)
            .map_err(db_err)?
            .map(|t| t.to_jiff()))
    };
    Ok(ApiToken {
        id: ApiTokenId(r.try_get("id").map_err(db_err)?),
        data: NewApiToken {
            tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
            user: UserId(r.try_get("user_id").map_err(db_err)?),
            token_hash: to_hash(
                &r.try_get::<Vec<u8>, _>("token_hash").map_err(db_err)?,
                "api_tokens.token_hash",
            )?,
            label: r.try_get("label").map_err(db_err)?,
            created_at: ts("created_at")?,
            expires_at: ts("expires_at")?,
        },
        last_used_at: opt_ts("last_used_at")?,
        revoked_at: opt_ts("revoked_at")?,
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    /// See [`Store::api_token`].
    pub async fn api_token(&self, token_hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&token_hash[..])
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(token_of::<D>).transpose()
    }

    /// See [`Store::api_tokens`].
    pub async fn api_tokens(&self, tenant: TenantId, user: UserId) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(user.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(token_of::<D>).collect()
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
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// See [`StoreTx::insert_api_token`].
    pub async fn insert_api_token(&mut self, t: &NewApiToken) -> Result<ApiToken> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (tenant_id, user_id, token_hash, label, created_at, expires_at) \
             VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        )
        .bind(t.tenant.0)
        .bind(t.user.0)
        .bind(&t.token_hash[..])
        .bind(t.label.as_str())
        .bind(t.created_at.to_sqlx())
        .bind(t.expires_at.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(ApiToken {
            id: ApiTokenId(id),
            data: t.clone(),
            last_used_at: None,
            revoked_at: None,
        })
    }

    /// See [`StoreTx::revoke_api_token`].
    pub async fn revoke_api_token(
        &mut self,
        tenant: TenantId,
        user: UserId,
        id: ApiTokenId,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $4 \
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(id.0)
        .bind(at.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::touch_api_token`].
    pub async fn touch_api_token(&mut self, id: ApiTokenId, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id.0)
            .bind(at.to_sqlx())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
