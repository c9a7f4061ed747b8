//! The titolario and fascicolo reads and writes (issue 4, part 3).

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::corrupt;
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

/// Every column of a fascicolo, from the alias `f`.
const COLUMNS: &str = "f.id, f.tenant_id, f.code, f.year, f.classification, f.titolario_version, \
    f.number, f.kind, f.subject, f.office_id, f.responsible, f.participants, f.holder, f.parent_id, \
    f.opened_on, f.opened_at, f.opened_by, f.closed_on, f.closed_at, f.closed_by, f.restriction";

fn u32_of(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|e| corrupt(what, e))
}

fn fascicolo_of<D: Dialect>(r: &DbRow<D>) -> Result<Fascicolo>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let get_s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let get_i = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(db_err) };
    let kind = get_s("kind")?;
    let closed_at = r
        .try_get::<Option<jiff_sqlx::Timestamp>, _>("closed_at")
        .map_err(db_err)?
        .map(|t| t.to_jiff());
    let closure = match closed_at {
        None => None,
        Some(at) => Some(FascicoloClosure {
            on: r
                .try_get::<Option<jiff_sqlx::Date>, _>("closed_on")
                .map_err(db_err)?
                .map(|d| d.to_jiff())
                .ok_or_else(|| corrupt("fascicoli.closed_on", "missing"))?,
            at,
            by: r
                .try_get::<Option<String>, _>("closed_by")
                .map_err(db_err)?
                .unwrap_or_default(),
        }),
    };
    let year = get_i("year")?;
    Ok(Fascicolo {
        id: FascicoloRowId(get_i("id")?),
        tenant: TenantId(get_i("tenant_id")?),
        code: get_s("code")?,
        year: i16::try_from(year).map_err(|e| corrupt("fascicoli.year", e))?,
        number: u32_of(get_i("number")?, "fascicoli.number")?,
        data: NewFascicolo {
            classification: get_s("classification")?,
            titolario_version: u32_of(get_i("titolario_version")?, "fascicoli.titolario_version")?,
            kind: FascicoloKind::from_code(&kind)
                .ok_or_else(|| corrupt("fascicoli.kind", &kind))?,
            subject: get_s("subject")?,
            office: OfficeId(get_i("office_id")?),
            responsible: get_s("responsible")?,
            participants: serde_json::from_str(&get_s("participants")?)
                .map_err(|e| corrupt("fascicoli.participants", e))?,
            holder: r.try_get::<Option<String>, _>("holder").map_err(db_err)?,
            parent: r
                .try_get::<Option<i64>, _>("parent_id")
                .map_err(db_err)?
                .map(FascicoloRowId),
            opened_on: r
                .try_get::<jiff_sqlx::Date, _>("opened_on")
                .map_err(db_err)?
                .to_jiff(),
            opened_by: get_s("opened_by")?,
        },
        opened_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("opened_at")
            .map_err(db_err)?
            .to_jiff(),
        closure,
        restriction: r
            .try_get::<Option<String>, _>("restriction")
            .map_err(db_err)?
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| corrupt("fascicoli.restriction", e))?,
    })
}

fn document_of<D: Dialect>(r: &DbRow<D>) -> Result<FascicoloDocument>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    Ok(FascicoloDocument {
        registration: RegistrationId(r.try_get("registration_id").map_err(db_err)?),
        added_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("added_at")
            .map_err(db_err)?
            .to_jiff(),
        added_by: r.try_get("added_by").map_err(db_err)?,
    })
}

/// `%` and `_` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(words: &str) -> String {
    let mut out = String::from("%");
    for c in words.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
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
    jiff_sqlx::Date: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::titolario_versions`].
    pub async fn titolario_versions(&self, tenant: TenantId) -> Result<Vec<TitolarioVersionInfo>> {
        let rows = sqlx::query(
            "SELECT version, created_at, created_by, change FROM titolario_versions \
             WHERE tenant_id = $1 ORDER BY version",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TitolarioVersionInfo {
                    version: u32_of(
                        r.try_get("version").map_err(db_err)?,
                        "titolario_versions.version",
                    )?,
                    created_at: r
                        .try_get::<jiff_sqlx::Timestamp, _>("created_at")
                        .map_err(db_err)?
                        .to_jiff(),
                    created_by: r.try_get("created_by").map_err(db_err)?,
                    change: r.try_get("change").map_err(db_err)?,
                })
            })
            .collect()
    }

    /// See [`Store::titolario_version`].
    pub async fn titolario_version(
        &self,
        tenant: TenantId,
        version: Option<u32>,
    ) -> Result<Option<TitolarioVersion>> {
        let infos = self.titolario_versions(tenant).await?;
        let info = match version {
            None => infos.last().cloned(),
            Some(v) => infos.into_iter().find(|i| i.version == v),
        };
        let Some(info) = info else { return Ok(None) };
        let rows = sqlx::query(
            "SELECT code, titolo, classe, name, closed FROM titolario_classes \
             WHERE tenant_id = $1 AND version = $2 ORDER BY titolo, COALESCE(classe, 0)",
        )
        .bind(tenant.0)
        .bind(i64::from(info.version))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let classes = rows
            .iter()
            .map(|r| {
                let titolo: i64 = r.try_get("titolo").map_err(db_err)?;
                let classe: Option<i64> = r.try_get("classe").map_err(db_err)?;
                let closed: i64 = r.try_get("closed").map_err(db_err)?;
                Ok(TitolarioClass {
                    code: r.try_get("code").map_err(db_err)?,
                    titolo: u8::try_from(titolo)
                        .map_err(|e| corrupt("titolario_classes.titolo", e))?,
                    classe: classe
                        .map(u16::try_from)
                        .transpose()
                        .map_err(|e| corrupt("titolario_classes.classe", e))?,
                    name: r.try_get("name").map_err(db_err)?,
                    closed: closed != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(TitolarioVersion {
            tenant,
            info,
            classes,
        }))
    }

    async fn fascicolo_rows(&self, sql: String, binds: &[i64]) -> Result<Vec<Fascicolo>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(fascicolo_of::<D>).collect()
    }

    /// See [`Store::fascicolo`].
    pub async fn fascicolo(
        &self,
        tenant: TenantId,
        id: FascicoloRowId,
    ) -> Result<Option<Fascicolo>> {
        let sql = format!("SELECT {COLUMNS} FROM fascicoli f WHERE f.tenant_id = $1 AND f.id = $2");
        Ok(self.fascicolo_rows(sql, &[tenant.0, id.0]).await?.pop())
    }

    /// See [`Store::fascicolo_by_code`].
    pub async fn fascicolo_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<Fascicolo>> {
        let sql =
            format!("SELECT {COLUMNS} FROM fascicoli f WHERE f.tenant_id = $1 AND f.code = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(code)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(fascicolo_of::<D>).transpose()
    }

    /// See [`Store::search_fascicoli`].
    pub async fn search_fascicoli(
        &self,
        tenant: TenantId,
        q: &FascicoloQuery,
    ) -> Result<Vec<Fascicolo>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM fascicoli f WHERE f.tenant_id = $1 \
             AND ($2 IS NULL OR f.classification = $2) \
             AND ($3 IS NULL OR f.year = $3) \
             AND ($4 IS NULL OR LOWER(f.subject) LIKE $4 ESCAPE '\\') \
             AND ($5 IS NULL OR f.office_id = $5) \
             AND ($6 = 0 OR f.closed_at IS NULL) \
             AND f.id > $7 ORDER BY f.id LIMIT $8"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(q.classification.clone())
            .bind(q.year.map(i64::from))
            .bind(
                q.subject
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(like_pattern),
            )
            .bind(q.office.map(|o| o.0))
            .bind(i64::from(q.open_only))
            .bind(q.after.map_or(0, |a| a.0))
            .bind(i64::from(q.limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(fascicolo_of::<D>).collect()
    }

    /// See [`Store::fascicolo_documents`].
    pub async fn fascicolo_documents(
        &self,
        tenant: TenantId,
        id: FascicoloRowId,
    ) -> Result<Vec<FascicoloDocument>> {
        let rows = sqlx::query(
            "SELECT registration_id, added_at, added_by FROM fascicolo_documents \
             WHERE tenant_id = $1 AND fascicolo_id = $2 ORDER BY added_at, registration_id",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(document_of::<D>).collect()
    }

    /// See [`Store::fascicoli_of_registration`].
    pub async fn fascicoli_of_registration(
        &self,
        tenant: TenantId,
        registration: RegistrationId,
    ) -> Result<Vec<Fascicolo>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM fascicoli f JOIN fascicolo_documents d \
             ON d.tenant_id = f.tenant_id AND d.fascicolo_id = f.id \
             WHERE d.tenant_id = $1 AND d.registration_id = $2 ORDER BY f.id"
        );
        self.fascicolo_rows(sql, &[tenant.0, registration.0]).await
    }

    /// See [`Store::fascicolo_children`].
    pub async fn fascicolo_children(
        &self,
        tenant: TenantId,
        parent: FascicoloRowId,
    ) -> Result<Vec<Fascicolo>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM fascicoli f WHERE f.tenant_id = $1 AND f.parent_id = $2 ORDER BY f.id"
        );
        self.fascicolo_rows(sql, &[tenant.0, parent.0]).await
    }

    /// See [`Store::fascicolo_links`].
    pub async fn fascicolo_links(
        &self,
        tenant: TenantId,
        first: FascicoloRowId,
        last: FascicoloRowId,
    ) -> Result<Vec<(FascicoloRowId, FascicoloDocument)>> {
        let rows = sqlx::query(
            "SELECT fascicolo_id, registration_id, added_at, added_by FROM fascicolo_documents \
             WHERE tenant_id = $1 AND fascicolo_id >= $2 AND fascicolo_id <= $3 \
             ORDER BY fascicolo_id, registration_id",
        )
        .bind(tenant.0)
        .bind(first.0)
        .bind(last.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    FascicoloRowId(r.try_get("fascicolo_id").map_err(db_err)?),
                    document_of::<D>(r)?,
                ))
            })
            .collect()
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
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`StoreTx::insert_titolario_version`].
    pub async fn insert_titolario_version(&mut self, v: &TitolarioVersion) -> Result<()> {
        sqlx::query(
            "INSERT INTO titolario_versions (tenant_id, version, created_at, created_by, change) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(v.tenant.0)
        .bind(i64::from(v.info.version))
        .bind(v.info.created_at.to_sqlx())
        .bind(v.info.created_by.as_str())
        .bind(v.info.change.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        for c in &v.classes {
            sqlx::query(
                "INSERT INTO titolario_classes (tenant_id, version, code, titolo, classe, name, closed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(v.tenant.0)
            .bind(i64::from(v.info.version))
            .bind(c.code.as_str())
            .bind(i64::from(c.titolo))
            .bind(c.classe.map(i64::from))
            .bind(c.name.as_str())
            .bind(i64::from(c.closed))
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    /// See [`StoreTx::next_fascicolo_number`].
    pub async fn next_fascicolo_number(
        &mut self,
        tenant: TenantId,
        year: i16,
        classification: &str,
    ) -> Result<u32> {
        sqlx::query(
            "INSERT INTO fascicolo_counters (tenant_id, year, classification, value) \
             VALUES ($1, $2, $3, 0) ON CONFLICT (tenant_id, year, classification) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(i64::from(year))
        .bind(classification)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        let value: i64 = sqlx::query_scalar(
            "UPDATE fascicolo_counters SET value = value + 1 \
             WHERE tenant_id = $1 AND year = $2 AND classification = $3 RETURNING value",
        )
        .bind(tenant.0)
        .bind(i64::from(year))
        .bind(classification)
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        u32_of(value, "fascicolo_counters.value")
    }

    /// See [`StoreTx::insert_fascicolo`].
    pub async fn insert_fascicolo(
        &mut self,
        tenant: TenantId,
        f: &NewFascicolo,
        code: &str,
        year: i16,
        number: u32,
        at: Timestamp,
    ) -> Result<Fascicolo> {
        let participants = serde_json::to_string(&f.participants)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        // A sub-fascicolo only under an open parent, held meanwhile so that
        // a concurrent closing of the parent waits or wins.
        if let Some(p) = f.parent
            && !self.hold_open_fascicolo(tenant, p).await?
        {
            return Err(StoreError::NotFound);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO fascicoli (tenant_id, code, year, classification, titolario_version, number, \
             kind, subject, office_id, responsible, participants, holder, parent_id, opened_on, \
             opened_at, opened_by) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING id",
        )
        .bind(tenant.0)
        .bind(code)
        .bind(i64::from(year))
        .bind(f.classification.as_str())
        .bind(i64::from(f.titolario_version))
        .bind(i64::from(number))
        .bind(f.kind.code())
        .bind(f.subject.as_str())
        .bind(f.office.0)
        .bind(f.responsible.as_str())
        .bind(participants)
        .bind(f.holder.as_deref())
        .bind(f.parent.map(|p| p.0))
        .bind(f.opened_on.to_sqlx())
        .bind(at.to_sqlx())
        .bind(f.opened_by.as_str())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Fascicolo {
            id: FascicoloRowId(id),
            tenant,
            code: code.to_owned(),
            year,
            number,
            data: f.clone(),
            opened_at: at,
            closure: None,
            restriction: None,
        })
    }

    /// See [`StoreTx::close_fascicolo`].
    pub async fn close_fascicolo(
        &mut self,
        tenant: TenantId,
        id: FascicoloRowId,
        c: &FascicoloClosure,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE fascicoli SET closed_on = $3, closed_at = $4, closed_by = $5, revision = revision + 1 \
             WHERE tenant_id = $1 AND id = $2 AND closed_at IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(c.on.to_sqlx())
        .bind(c.at.to_sqlx())
        .bind(c.by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// Takes the fascicolo's row lock if it is open (TI-4): a concurrent
    /// closing either waits for this transaction or makes this false.
    async fn hold_open_fascicolo(&mut self, tenant: TenantId, id: FascicoloRowId) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE fascicoli SET revision = revision + 1 \
             WHERE tenant_id = $1 AND id = $2 AND closed_at IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::add_fascicolo_document`].
    pub async fn add_fascicolo_document(
        &mut self,
        tenant: TenantId,
        id: FascicoloRowId,
        d: &FascicoloDocument,
    ) -> Result<bool> {
        if !self.hold_open_fascicolo(tenant, id).await? {
            return Ok(false);
        }
        let r = sqlx::query(
            "INSERT INTO fascicolo_documents (tenant_id, fascicolo_id, registration_id, added_at, added_by) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE EXISTS (SELECT 1 FROM protocol_entries WHERE tenant_id = $1 AND id = $3) \
             ON CONFLICT (tenant_id, fascicolo_id, registration_id) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(d.registration.0)
        .bind(d.added_at.to_sqlx())
        .bind(d.added_by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::set_fascicolo_restriction`].
    pub async fn set_fascicolo_restriction(
        &mut self,
        tenant: TenantId,
        id: FascicoloRowId,
        restriction: Option<&FascicoloRestriction>,
    ) -> Result<bool> {
        let json = restriction
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let r = sqlx::query(
            "UPDATE fascicoli SET restriction = $3, revision = revision + 1 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(json.as_deref())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::remove_fascicolo_document`].
    pub async fn remove_fascicolo_document(
        &mut self,
        tenant: TenantId,
        id: FascicoloRowId,
        registration: RegistrationId,
    ) -> Result<bool> {
        if !self.hold_open_fascicolo(tenant, id).await? {
            return Ok(false);
        }
        let r = sqlx::query(
            "DELETE FROM fascicolo_documents \
             WHERE tenant_id = $1 AND fascicolo_id = $2 AND registration_id = $3",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(registration.0)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::like_pattern("Città 50%"), "%città 50\\%%");
        assert_eq!(super::like_pattern("a_b\\"), "%a\\_b\\\\%");
    }
}
