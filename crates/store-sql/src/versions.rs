//! The versions of the documents of a registration (SYS-3; migration 0015).

use jiff_sqlx::ToSqlx;
use palazzo_domain::protocollo::Impronta;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const COLUMNS: &str = "id, tenant_id, registration_id, document_index, version, kind, file, \
    previous_sha256, reason, author, created_at";

fn version_of<D: Dialect>(r: &DbRow<D>) -> Result<DocumentVersion>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let get = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let int = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(db_err) };
    let kind = get("kind")?;
    let file = get("file")?;
    let previous = get("previous_sha256")?;
    let small = |c: &str| -> Result<u32> {
        u32::try_from(int(c)?).map_err(|e| corrupt("protocol_document_versions", e))
    };
    Ok(DocumentVersion {
        id: DocumentVersionId(int("id")?),
        tenant: TenantId(int("tenant_id")?),
        at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(db_err)?
            .to_jiff(),
        data: NewDocumentVersion {
            registration: RegistrationId(int("registration_id")?),
            document: small("document_index")?,
            version: small("version")?,
            kind: TipoModifica::from_code(&kind)
                .ok_or_else(|| corrupt("protocol_document_versions.kind", &kind))?,
            file: serde_json::from_str(&file)
                .map_err(|e| corrupt("protocol_document_versions.file", e))?,
            previous: Impronta::parse_hex(&previous)
                .map_err(|e| corrupt("protocol_document_versions.previous_sha256", e))?,
            reason: get("reason")?,
            author: get("author")?,
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
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// See [`Store::document_versions`].
    pub async fn document_versions(
        &self,
        tenant: TenantId,
        registration: RegistrationId,
    ) -> Result<Vec<DocumentVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_document_versions WHERE tenant_id = $1 \
             AND registration_id = $2 ORDER BY document_index, version"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(registration.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(version_of::<D>).collect()
    }

    /// See [`Store::document_versions_by_id`].
    pub async fn document_versions_by_id(
        &self,
        tenant: TenantId,
        after: DocumentVersionId,
        limit: u32,
    ) -> Result<Vec<DocumentVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_document_versions WHERE tenant_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(version_of::<D>).collect()
    }

    /// See [`Store::document_versions_between`].
    pub async fn document_versions_between(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<DocumentVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_document_versions WHERE tenant_id = $1 \
             AND {at} >= {from} AND {at} < {to} ORDER BY {at}, id",
            at = D::instant("created_at"),
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
        rows.iter().map(version_of::<D>).collect()
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
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// See [`StoreTx::insert_document_version`].
    pub async fn insert_document_version(
        &mut self,
        tenant: TenantId,
        v: &NewDocumentVersion,
        at: Timestamp,
    ) -> Result<Option<DocumentVersion>> {
        let file =
            serde_json::to_string(&v.file).map_err(|e| StoreError::Database(e.to_string()))?;
        // Only on a registration of this tenant that is not annulled (SYS-3:
        // an annulled registration takes no new version).
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO protocol_document_versions (tenant_id, registration_id, document_index, \
             version, kind, file, previous_sha256, reason, author, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
             WHERE EXISTS (SELECT 1 FROM protocol_entries WHERE tenant_id = $1 AND id = $2 \
             AND annulled_at IS NULL) \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(v.registration.0)
        .bind(i64::from(v.document))
        .bind(i64::from(v.version))
        .bind(v.kind.code())
        .bind(file)
        .bind(v.previous.hex())
        .bind(v.reason.as_str())
        .bind(v.author.as_str())
        .bind(at.to_sqlx())
        .fetch_optional(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(id.map(|id| DocumentVersion {
            id: DocumentVersionId(id),
            tenant,
            at,
            data: v.clone(),
        }))
    }
}
