//! Online istanze, drafts, attachments and procedure history (migration
//! 0028; issue 6).

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::{corrupt, to_hash, to_i64, to_u64};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const DEFINITION_COLUMNS: &str =
    "id, tenant_id, service_slug, version, definition, created_by, created_at";
const BOZZA_COLUMNS: &str = "id, tenant_id, user_id, service_slug, definition_version, answers, \
    step, bozza_key, created_at, updated_at";
const ALLEGATO_COLUMNS: &str = "id, tenant_id, bozza_id, pratica_id, spec_id, name, media_type, \
    size, sha256, event_seq, uploaded_at";
const PRATICA_COLUMNS: &str = "id, tenant_id, service_slug, definition_version, \
    applicant_user_id, applicant_cf, applicant_name, applicant_email, subject, answers, \
    registration_id, fascicolo_id, office_id, responsabile_user_id, received_on, submitted_at, \
    state, deadline, pratica_key, closed_at";
const EVENTO_COLUMNS: &str = "tenant_id, pratica_id, seq, action, at, on_date, actor, role, \
    from_state, to_state, note, payload, registration_id, public, bindings";

/// The column readers every decoder here uses.
struct Cols<'r, D: Dialect>(&'r DbRow<D>);

impl<D: Dialect> Cols<'_, D>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    fn s(&self, c: &str) -> Result<String> {
        self.0.try_get::<String, _>(c).map_err(db_err)
    }
    fn os(&self, c: &str) -> Result<Option<String>> {
        self.0.try_get::<Option<String>, _>(c).map_err(db_err)
    }
    fn i(&self, c: &str) -> Result<i64> {
        self.0.try_get::<i64, _>(c).map_err(db_err)
    }
    fn oi(&self, c: &str) -> Result<Option<i64>> {
        self.0.try_get::<Option<i64>, _>(c).map_err(db_err)
    }
    fn u32(&self, c: &str) -> Result<u32> {
        let v = self.i(c)?;
        u32::try_from(v).map_err(|_| corrupt(c, v))
    }
    fn t(&self, c: &str) -> Result<Timestamp> {
        Ok(self
            .0
            .try_get::<jiff_sqlx::Timestamp, _>(c)
            .map_err(db_err)?
            .to_jiff())
    }
    fn ot(&self, c: &str) -> Result<Option<Timestamp>> {
        Ok(self
            .0
            .try_get::<Option<jiff_sqlx::Timestamp>, _>(c)
            .map_err(db_err)?
            .map(|t| t.to_jiff()))
    }
    fn od(&self, c: &str) -> Result<Option<jiff::civil::Date>> {
        Ok(self
            .0
            .try_get::<Option<jiff_sqlx::Date>, _>(c)
            .map_err(db_err)?
            .map(|d| d.to_jiff()))
    }
    fn d(&self, c: &str) -> Result<jiff::civil::Date> {
        self.od(c)?.ok_or_else(|| corrupt(c, "missing"))
    }
}

fn definition_of<D: Dialect>(r: &DbRow<D>) -> Result<ServiceDefinitionRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let c = Cols::<D>(r);
    Ok(ServiceDefinitionRecord {
        id: DefinitionId(c.i("id")?),
        tenant: TenantId(c.i("tenant_id")?),
        data: NewServiceDefinition {
            service_slug: c.s("service_slug")?,
            version: c.u32("version")?,
            definition: c.s("definition")?,
            created_by: c.s("created_by")?,
            created_at: c.t("created_at")?,
        },
    })
}

fn bozza_of<D: Dialect>(r: &DbRow<D>) -> Result<Bozza>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let c = Cols::<D>(r);
    Ok(Bozza {
        id: BozzaId(c.i("id")?),
        tenant: TenantId(c.i("tenant_id")?),
        data: NewBozza {
            user: UserId(c.i("user_id")?),
            service_slug: c.s("service_slug")?,
            definition_version: c.u32("definition_version")?,
            answers: c.s("answers")?,
            step: c.s("step")?,
            key: c.s("bozza_key")?,
        },
        created_at: c.t("created_at")?,
        updated_at: c.t("updated_at")?,
    })
}

fn allegato_of<D: Dialect>(r: &DbRow<D>) -> Result<Allegato>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let c = Cols::<D>(r);
    let owner = match (c.oi("bozza_id")?, c.oi("pratica_id")?) {
        (Some(b), None) => AllegatoOwner::Bozza(BozzaId(b)),
        (None, Some(p)) => AllegatoOwner::Pratica(PraticaId(p)),
        _ => return Err(corrupt("pratica_allegati.owner", "not exactly one")),
    };
    let sha: Vec<u8> = r.try_get("sha256").map_err(db_err)?;
    let event_seq = match c.oi("event_seq")? {
        Some(v) => Some(u32::try_from(v).map_err(|_| corrupt("pratica_allegati.event_seq", v))?),
        None => None,
    };
    Ok(Allegato {
        id: AllegatoId(c.i("id")?),
        tenant: TenantId(c.i("tenant_id")?),
        data: NewAllegato {
            owner,
            spec_id: c.s("spec_id")?,
            document: DocumentRef {
                name: c.s("name")?,
                media_type: c.s("media_type")?,
                size: to_u64(c.i("size")?, "pratica_allegati.size")?,
                sha256: palazzo_domain::protocollo::Impronta::from_digest(to_hash(
                    &sha,
                    "pratica_allegati.sha256",
                )?),
            },
            event_seq,
        },
        uploaded_at: c.t("uploaded_at")?,
    })
}

fn pratica_of<D: Dialect>(r: &DbRow<D>) -> Result<Pratica>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let c = Cols::<D>(r);
    Ok(Pratica {
        id: PraticaId(c.i("id")?),
        tenant: TenantId(c.i("tenant_id")?),
        data: NewPratica {
            service_slug: c.s("service_slug")?,
            definition_version: c.u32("definition_version")?,
            applicant_user: c.oi("applicant_user_id")?.map(UserId),
            applicant_cf: c.os("applicant_cf")?,
            applicant_name: c.s("applicant_name")?,
            applicant_email: c.os("applicant_email")?,
            subject: c.s("subject")?,
            answers: c.s("answers")?,
            registration: RegistrationId(c.i("registration_id")?),
            fascicolo: c.oi("fascicolo_id")?.map(FascicoloRowId),
            office: OfficeId(c.i("office_id")?),
            responsabile: c.oi("responsabile_user_id")?.map(UserId),
            received_on: c.d("received_on")?,
            submitted_at: c.t("submitted_at")?,
            state: c.s("state")?,
            deadline: c.od("deadline")?,
            key: c.s("pratica_key")?,
        },
        closed_at: c.ot("closed_at")?,
    })
}

fn evento_of<D: Dialect>(r: &DbRow<D>) -> Result<PraticaEvento>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let c = Cols::<D>(r);
    Ok(PraticaEvento {
        pratica: PraticaId(c.i("pratica_id")?),
        tenant: TenantId(c.i("tenant_id")?),
        seq: c.u32("seq")?,
        data: NewPraticaEvento {
            action: c.s("action")?,
            at: c.t("at")?,
            on_date: c.d("on_date")?,
            actor: c.s("actor")?,
            role: c.s("role")?,
            from_state: c.s("from_state")?,
            to_state: c.s("to_state")?,
            note: c.os("note")?,
            payload: c.s("payload")?,
            registration: c.oi("registration_id")?.map(RegistrationId),
            public: r.try_get::<bool, _>("public").map_err(db_err)?,
            bindings: crate::protocollo::bindings_of(c.os("bindings")?, "pratica_eventi.bindings")?,
        },
    })
}

fn owner_column(owner: AllegatoOwner) -> (&'static str, i64) {
    match owner {
        AllegatoOwner::Bozza(b) => ("bozza_id", b.0),
        AllegatoOwner::Pratica(p) => ("pratica_id", p.0),
    }
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::service_definition`].
    pub async fn service_definition(
        &self,
        tenant: TenantId,
        service: &str,
        version: Option<u32>,
    ) -> Result<Option<ServiceDefinitionRecord>> {
        let row = match version {
            Some(v) => {
                let sql = format!(
                    "SELECT {DEFINITION_COLUMNS} FROM service_definitions \
                     WHERE tenant_id = $1 AND service_slug = $2 AND version = $3"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant.0)
                    .bind(service)
                    .bind(i64::from(v))
                    .fetch_optional(self.pool())
                    .await
            }
            None => {
                let sql = format!(
                    "SELECT {DEFINITION_COLUMNS} FROM service_definitions \
                     WHERE tenant_id = $1 AND service_slug = $2 ORDER BY version DESC LIMIT 1"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant.0)
                    .bind(service)
                    .fetch_optional(self.pool())
                    .await
            }
        }
        .map_err(db_err)?;
        row.as_ref().map(definition_of::<D>).transpose()
    }

    /// See [`Store::current_service_definitions`].
    pub async fn current_service_definitions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<ServiceDefinitionRecord>> {
        let sql = format!(
            "SELECT {DEFINITION_COLUMNS} FROM service_definitions d WHERE tenant_id = $1 \
             AND version = (SELECT max(version) FROM service_definitions x \
                            WHERE x.tenant_id = d.tenant_id AND x.service_slug = d.service_slug) \
             ORDER BY service_slug"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(definition_of::<D>).collect()
    }

    /// See [`Store::bozza`].
    pub async fn bozza(
        &self,
        tenant: TenantId,
        user: UserId,
        id: BozzaId,
    ) -> Result<Option<Bozza>> {
        let sql = format!(
            "SELECT {BOZZA_COLUMNS} FROM pratica_bozze WHERE tenant_id = $1 AND user_id = $2 AND id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(user.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(bozza_of::<D>).transpose()
    }

    /// See [`Store::bozze_of`].
    pub async fn bozze_of(&self, tenant: TenantId, user: UserId) -> Result<Vec<Bozza>> {
        let sql = format!(
            "SELECT {BOZZA_COLUMNS} FROM pratica_bozze WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY {} DESC, id DESC",
            D::instant("updated_at")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(user.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(bozza_of::<D>).collect()
    }

    /// See [`Store::allegati`].
    pub async fn allegati(&self, tenant: TenantId, owner: AllegatoOwner) -> Result<Vec<Allegato>> {
        let (column, id) = owner_column(owner);
        let sql = format!(
            "SELECT {ALLEGATO_COLUMNS} FROM pratica_allegati WHERE tenant_id = $1 AND {column} = $2 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(allegato_of::<D>).collect()
    }

    /// See [`Store::pratica`].
    pub async fn pratica(&self, tenant: TenantId, id: PraticaId) -> Result<Option<Pratica>> {
        let sql =
            format!("SELECT {PRATICA_COLUMNS} FROM pratiche WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(pratica_of::<D>).transpose()
    }

    /// See [`Store::pratica_by_key`].
    pub async fn pratica_by_key(&self, tenant: TenantId, key: &str) -> Result<Option<Pratica>> {
        let sql = format!(
            "SELECT {PRATICA_COLUMNS} FROM pratiche WHERE tenant_id = $1 AND pratica_key = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(pratica_of::<D>).transpose()
    }

    /// See [`Store::pratiche_of`].
    pub async fn pratiche_of(&self, tenant: TenantId, user: UserId) -> Result<Vec<Pratica>> {
        let sql = format!(
            "SELECT {PRATICA_COLUMNS} FROM pratiche WHERE tenant_id = $1 AND applicant_user_id = $2 \
             ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(user.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(pratica_of::<D>).collect()
    }

    /// See [`Store::office_pratiche`].
    pub async fn office_pratiche(
        &self,
        tenant: TenantId,
        office: OfficeId,
        filter: PraticheFilter,
    ) -> Result<Vec<Pratica>> {
        let open = match filter {
            PraticheFilter::Open => " AND closed_at IS NULL",
            PraticheFilter::All => "",
        };
        // Dates are ISO text on SQLite and DATE on PostgreSQL: both order
        // by calendar; no deadline goes last.
        let sql = format!(
            "SELECT {PRATICA_COLUMNS} FROM pratiche WHERE tenant_id = $1 AND office_id = $2{open} \
             ORDER BY deadline IS NULL, deadline, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(office.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(pratica_of::<D>).collect()
    }

    /// See [`Store::pratiche_by_id`].
    pub async fn pratiche_by_id(
        &self,
        tenant: TenantId,
        after: PraticaId,
        limit: i64,
    ) -> Result<Vec<Pratica>> {
        let sql = format!(
            "SELECT {PRATICA_COLUMNS} FROM pratiche WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(pratica_of::<D>).collect()
    }

    /// See [`Store::pratica_eventi`].
    pub async fn pratica_eventi(
        &self,
        tenant: TenantId,
        pratica: PraticaId,
    ) -> Result<Vec<PraticaEvento>> {
        let sql = format!(
            "SELECT {EVENTO_COLUMNS} FROM pratica_eventi WHERE tenant_id = $1 AND pratica_id = $2 ORDER BY seq"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(pratica.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(evento_of::<D>).collect()
    }

    /// See [`Store::pratica_eventi_by_action`].
    pub async fn pratica_eventi_by_action(
        &self,
        tenant: TenantId,
        action: &str,
    ) -> Result<Vec<PraticaEvento>> {
        let sql = format!(
            "SELECT {EVENTO_COLUMNS} FROM pratica_eventi WHERE tenant_id = $1 AND action = $2 ORDER BY pratica_id, seq"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(action)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(evento_of::<D>).collect()
    }
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    for<'a> Option<&'a str>: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    bool: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`StoreTx::insert_service_definition`].
    pub async fn insert_service_definition(
        &mut self,
        tenant: TenantId,
        d: &NewServiceDefinition,
    ) -> Result<ServiceDefinitionRecord> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO service_definitions (tenant_id, service_slug, version, definition, \
             created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        )
        .bind(tenant.0)
        .bind(d.service_slug.as_str())
        .bind(i64::from(d.version))
        .bind(d.definition.as_str())
        .bind(d.created_by.as_str())
        .bind(d.created_at.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(ServiceDefinitionRecord {
            id: DefinitionId(id),
            tenant,
            data: d.clone(),
        })
    }

    /// See [`StoreTx::insert_bozza`].
    pub async fn insert_bozza(
        &mut self,
        tenant: TenantId,
        b: &NewBozza,
        now: Timestamp,
    ) -> Result<Bozza> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pratica_bozze (tenant_id, user_id, service_slug, definition_version, \
             answers, step, bozza_key, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id",
        )
        .bind(tenant.0)
        .bind(b.user.0)
        .bind(b.service_slug.as_str())
        .bind(i64::from(b.definition_version))
        .bind(b.answers.as_str())
        .bind(b.step.as_str())
        .bind(b.key.as_str())
        .bind(now.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Bozza {
            id: BozzaId(id),
            tenant,
            data: b.clone(),
            created_at: now,
            updated_at: now,
        })
    }

    /// See [`StoreTx::update_bozza`].
    pub async fn update_bozza(
        &mut self,
        tenant: TenantId,
        user: UserId,
        id: BozzaId,
        answers: &str,
        step: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE pratica_bozze SET answers = $4, step = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(id.0)
        .bind(answers)
        .bind(step)
        .bind(now.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::delete_bozza`].
    pub async fn delete_bozza(
        &mut self,
        tenant: TenantId,
        user: UserId,
        id: BozzaId,
    ) -> Result<bool> {
        let owned: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM pratica_bozze WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(id.0)
        .fetch_optional(&mut *self.conn())
        .await
        .map_err(db_err)?;
        if owned.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM pratica_allegati WHERE tenant_id = $1 AND bozza_id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        let r = sqlx::query("DELETE FROM pratica_bozze WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::insert_allegato`].
    pub async fn insert_allegato(
        &mut self,
        tenant: TenantId,
        a: &NewAllegato,
        now: Timestamp,
    ) -> Result<Allegato> {
        let (bozza, pratica) = match a.owner {
            AllegatoOwner::Bozza(b) => (Some(b.0), None),
            AllegatoOwner::Pratica(p) => (None, Some(p.0)),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pratica_allegati (tenant_id, bozza_id, pratica_id, spec_id, name, \
             media_type, size, sha256, event_seq, uploaded_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id",
        )
        .bind(tenant.0)
        .bind(bozza)
        .bind(pratica)
        .bind(a.spec_id.as_str())
        .bind(a.document.name.as_str())
        .bind(a.document.media_type.as_str())
        .bind(to_i64(a.document.size, "size")?)
        .bind(a.document.sha256.bytes().as_slice())
        .bind(a.event_seq.map(i64::from))
        .bind(now.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Allegato {
            id: AllegatoId(id),
            tenant,
            data: a.clone(),
            uploaded_at: now,
        })
    }

    /// See [`StoreTx::delete_allegato`].
    pub async fn delete_allegato(
        &mut self,
        tenant: TenantId,
        owner: AllegatoOwner,
        id: AllegatoId,
    ) -> Result<bool> {
        // Only a draft's files can be removed: a pratica's are part of
        // what was filed.
        let AllegatoOwner::Bozza(bozza) = owner else {
            return Ok(false);
        };
        let r = sqlx::query(
            "DELETE FROM pratica_allegati WHERE tenant_id = $1 AND bozza_id = $2 AND id = $3",
        )
        .bind(tenant.0)
        .bind(bozza.0)
        .bind(id.0)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::move_allegati`].
    pub async fn move_allegati(
        &mut self,
        tenant: TenantId,
        from: BozzaId,
        to: PraticaId,
    ) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE pratica_allegati SET bozza_id = NULL, pratica_id = $3 \
             WHERE tenant_id = $1 AND bozza_id = $2",
        )
        .bind(tenant.0)
        .bind(from.0)
        .bind(to.0)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r))
    }

    /// See [`StoreTx::insert_pratica`].
    pub async fn insert_pratica(&mut self, tenant: TenantId, p: &NewPratica) -> Result<Pratica> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pratiche (tenant_id, service_slug, definition_version, \
             applicant_user_id, applicant_cf, applicant_name, applicant_email, subject, answers, \
             registration_id, fascicolo_id, office_id, responsabile_user_id, received_on, \
             submitted_at, state, deadline, pratica_key) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) RETURNING id",
        )
        .bind(tenant.0)
        .bind(p.service_slug.as_str())
        .bind(i64::from(p.definition_version))
        .bind(p.applicant_user.map(|u| u.0))
        .bind(p.applicant_cf.as_deref())
        .bind(p.applicant_name.as_str())
        .bind(p.applicant_email.as_deref())
        .bind(p.subject.as_str())
        .bind(p.answers.as_str())
        .bind(p.registration.0)
        .bind(p.fascicolo.map(|f| f.0))
        .bind(p.office.0)
        .bind(p.responsabile.map(|u| u.0))
        .bind(p.received_on.to_sqlx())
        .bind(p.submitted_at.to_sqlx())
        .bind(p.state.as_str())
        .bind(p.deadline.map(|d| d.to_sqlx()))
        .bind(p.key.as_str())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(Pratica {
            id: PraticaId(id),
            tenant,
            data: p.clone(),
            closed_at: None,
        })
    }

    /// See [`StoreTx::change_pratica`].
    pub async fn change_pratica(
        &mut self,
        tenant: TenantId,
        id: PraticaId,
        c: &PraticaChange,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE pratiche SET state = $4, deadline = $5, responsabile_user_id = $6, \
             office_id = $7, closed_at = $8 \
             WHERE tenant_id = $1 AND id = $2 AND state = $3 AND closed_at IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(c.from_state.as_str())
        .bind(c.to_state.as_str())
        .bind(c.deadline.map(|d| d.to_sqlx()))
        .bind(c.responsabile.map(|u| u.0))
        .bind(c.office.0)
        .bind(c.closed_at.map(|t| t.to_sqlx()))
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::insert_pratica_evento`].
    pub async fn insert_pratica_evento(
        &mut self,
        tenant: TenantId,
        pratica: PraticaId,
        e: &NewPraticaEvento,
    ) -> Result<PraticaEvento> {
        // The transaction holds the pratica's row (or SQLite's single
        // writer): the next number is taken after the last one, and the
        // primary key refuses a duplicate if two writers ever raced.
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(max(seq), 0) FROM pratica_eventi WHERE tenant_id = $1 AND pratica_id = $2",
        )
        .bind(tenant.0)
        .bind(pratica.0)
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        let seq = last + 1;
        let bindings = crate::protocollo::bindings_json(&e.bindings);
        sqlx::query(
            "INSERT INTO pratica_eventi (tenant_id, pratica_id, seq, action, at, on_date, actor, \
             role, from_state, to_state, note, payload, registration_id, public, bindings) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
        )
        .bind(tenant.0)
        .bind(pratica.0)
        .bind(seq)
        .bind(e.action.as_str())
        .bind(e.at.to_sqlx())
        .bind(e.on_date.to_sqlx())
        .bind(e.actor.as_str())
        .bind(e.role.as_str())
        .bind(e.from_state.as_str())
        .bind(e.to_state.as_str())
        .bind(e.note.as_deref())
        .bind(e.payload.as_str())
        .bind(e.registration.map(|r| r.0))
        .bind(e.public)
        .bind(bindings.as_deref())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(PraticaEvento {
            pratica,
            tenant,
            seq: u32::try_from(seq).map_err(|_| corrupt("pratica_eventi.seq", seq))?,
            data: e.clone(),
        })
    }
}
