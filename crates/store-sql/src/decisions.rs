//! The decisions of a year a comune enters with their delibera — IMU
//! rates (migration 0032), TARI tariffs (0034), canone unico coefficients
//! (0035): one row per tenant and year holding the decision as JSON, with
//! who changed it last and when. One reader and one writer serve the
//! three tables.

use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use palazzo_store::{Result, TenantId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::tributi::{from_json, to_json};
use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

/// A table of decisions by year: its name and its JSON column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    name: &'static str,
    column: &'static str,
}

/// IMU rates.
pub(crate) const ALIQUOTE_IMU: Table = Table {
    name: "tributi_aliquote_imu",
    column: "aliquote",
};
/// TARI tariffs.
pub(crate) const TARIFFE_TARI: Table = Table {
    name: "tributi_tariffe_tari",
    column: "tariffe",
};
/// Canone unico coefficients.
pub(crate) const TARIFFE_CANONE: Table = Table {
    name: "tributi_tariffe_canone",
    column: "tariffe",
};

/// A stored decision.
pub(crate) struct Decision<T> {
    pub value: T,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

fn decision_of<D: Dialect, T: DeserializeOwned>(table: Table, r: &DbRow<D>) -> Result<Decision<T>>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let json: String = r.try_get(table.column).map_err(db_err)?;
    Ok(Decision {
        value: from_json(&json, &format!("{}.{}", table.name, table.column))?,
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
{
    /// The decision of `anno`, if entered.
    pub(crate) async fn decision<T: DeserializeOwned>(
        &self,
        table: Table,
        tenant: TenantId,
        anno: i16,
    ) -> Result<Option<Decision<T>>> {
        let sql = format!(
            "SELECT {}, updated_at, updated_by FROM {} WHERE tenant_id = $1 AND anno = $2",
            table.column, table.name
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(i64::from(anno))
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(|r| decision_of::<D, T>(table, r))
            .transpose()
    }

    /// The decisions of every year, newest first.
    pub(crate) async fn decisions<T: DeserializeOwned>(
        &self,
        table: Table,
        tenant: TenantId,
    ) -> Result<Vec<Decision<T>>> {
        let sql = format!(
            "SELECT {}, updated_at, updated_by FROM {} WHERE tenant_id = $1 ORDER BY anno DESC",
            table.column, table.name
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| decision_of::<D, T>(table, r)).collect()
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
{
    /// Sets (inserts or replaces) the decision of `anno`.
    pub(crate) async fn set_decision<T: Serialize>(
        &mut self,
        table: Table,
        tenant: TenantId,
        anno: i16,
        d: &Decision<&T>,
    ) -> Result<()> {
        let json = to_json(d.value, &format!("{}.{}", table.name, table.column))?;
        let sql = format!(
            "INSERT INTO {t} (tenant_id, anno, {c}, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, anno) DO UPDATE SET {c} = excluded.{c}, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            t = table.name,
            c = table.column
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(i64::from(anno))
            .bind(json.as_str())
            .bind(d.updated_at.to_sqlx())
            .bind(d.updated_by.as_str())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
