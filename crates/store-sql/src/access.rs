//! The access reads and writes (issue 3): users, identity links, sign-ins,
//! role grants, break-glass administrators and sessions.

use jiff_sqlx::ToSqlx;
use palazzo_store::ids::Email;
use palazzo_store::rows::{corrupt, to_hash, to_i64, to_u64};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::anagrafe::{PERSON_COLUMNS, person_of};
use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

fn ts<R: Row>(r: &R, col: &str) -> Result<Timestamp>
where
    for<'a> &'a str: ColumnIndex<R>,
    jiff_sqlx::Timestamp: Field<R::Database>,
{
    Ok(r.try_get::<jiff_sqlx::Timestamp, _>(col)
        .map_err(db_err)?
        .to_jiff())
}

fn opt_ts<R: Row>(r: &R, col: &str) -> Result<Option<Timestamp>>
where
    for<'a> &'a str: ColumnIndex<R>,
    Option<jiff_sqlx::Timestamp>: Field<R::Database>,
{
    Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(col)
        .map_err(db_err)?
        .map(|t| t.to_jiff()))
}

const USER_COLUMNS: &str = "id, tenant_id, codice_fiscale, given_name, family_name, birth_date, \
    birth_place, email, phone, notice_channel, created_at, updated_at";
const ADMIN_COLUMNS: &str = "id, tenant_id, username, display_name, password_phc, totp_secret, \
    totp_last_step, failed_attempts, locked_until, created_at";

/// Generates the `Store` methods of a backend from [`access_reads`]: each
/// one delegates to the shared [`SqlStore`] in `self.sql`.
#[macro_export]
macro_rules! delegate_reads {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $( async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> { self.sql.$name($($arg),*).await } )*
    };
}

/// Generates the `StoreTx` methods of a backend from [`access_writes`]: each
/// one delegates to the shared [`SqlTx`] in `self.sql`.
#[macro_export]
macro_rules! delegate_writes {
    ($( $(#[$m:meta])* fn $name:ident(&mut self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $( async fn $name(&mut self $(, $arg: $ty)*) -> Result<$ret> { self.sql.$name($($arg),*).await } )*
    };
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
    Option<i64>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::user`].
    pub async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_of::<D>).transpose()
    }

    /// See [`Store::user_by_link`].
    pub async fn user_by_link(
        &self,
        tenant: TenantId,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM users u JOIN identity_links l ON l.tenant_id = u.tenant_id AND l.user_id = u.id \
             WHERE u.tenant_id = $1 AND l.issuer = $2 AND l.subject = $3",
            prefixed("u", USER_COLUMNS)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(issuer)
            .bind(subject)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_of::<D>).transpose()
    }

    /// See [`Store::user_by_codice_fiscale`].
    pub async fn user_by_codice_fiscale(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND codice_fiscale = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cf.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_of::<D>).transpose()
    }

    /// See [`Store::staff_users`].
    pub async fn staff_users(&self, tenant: TenantId) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE tenant_id = $1 AND EXISTS \
             (SELECT 1 FROM role_grants g WHERE g.tenant_id = u.tenant_id AND g.user_id = u.id) \
             ORDER BY family_name, given_name, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(user_of::<D>).collect()
    }

    /// See [`Store::role_grants`].
    pub async fn role_grants(
        &self,
        tenant: TenantId,
        user: Option<UserId>,
    ) -> Result<Vec<RoleGrant>> {
        let rows = sqlx::query(
            "SELECT user_id, role, office_id, source, granted_at FROM role_grants \
             WHERE tenant_id = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY user_id, role, office_id",
        )
        .bind(tenant.0)
        .bind(user.map(|u| u.0))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role").map_err(db_err)?;
                let source: String = r.try_get("source").map_err(db_err)?;
                Ok(RoleGrant {
                    user: UserId(r.try_get("user_id").map_err(db_err)?),
                    role: role
                        .parse::<Role>()
                        .map_err(|e| corrupt("role_grants", e))?,
                    office: OfficeId(r.try_get("office_id").map_err(db_err)?),
                    source: match source.as_str() {
                        "admin" => GrantSource::Admin,
                        "idp" => GrantSource::Idp,
                        other => return Err(corrupt("role_grants", other)),
                    },
                    granted_at: ts(r, "granted_at")?,
                })
            })
            .collect()
    }

    /// See [`Store::identity_links`].
    pub async fn identity_links(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<IdentityLink>> {
        let rows = sqlx::query(
            "SELECT issuer, subject, user_id, provider, first_seen, last_seen FROM identity_links \
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY first_seen",
        )
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(IdentityLink {
                    issuer: r.try_get("issuer").map_err(db_err)?,
                    subject: r.try_get("subject").map_err(db_err)?,
                    user: UserId(r.try_get("user_id").map_err(db_err)?),
                    provider: r.try_get("provider").map_err(db_err)?,
                    first_seen: ts(r, "first_seen")?,
                    last_seen: ts(r, "last_seen")?,
                })
            })
            .collect()
    }

    /// See [`Store::sign_ins`].
    pub async fn sign_ins(
        &self,
        tenant: TenantId,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<SignIn>> {
        let rows = sqlx::query(
            "SELECT time, provider, acr FROM sign_ins WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY time DESC, id DESC LIMIT $3",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(SignIn {
                    time: ts(r, "time")?,
                    provider: r.try_get("provider").map_err(db_err)?,
                    acr: r.try_get("acr").map_err(db_err)?,
                })
            })
            .collect()
    }

    /// See [`Store::local_admin_by_username`].
    pub async fn local_admin_by_username(&self, username: &str) -> Result<Option<LocalAdmin>> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM local_admins WHERE username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(admin_of::<D>).transpose()
    }

    /// See [`Store::local_admin`].
    pub async fn local_admin(&self, id: AdminId) -> Result<Option<LocalAdmin>> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM local_admins WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(admin_of::<D>).transpose()
    }

    /// See [`Store::residents`].
    pub async fn residents(&self, tenant: TenantId, limit: u32) -> Result<Vec<PopPerson>> {
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM pop_persons WHERE tenant_id = $1 ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(person_of::<D>).collect()
    }

    /// See [`Store::resident`].
    pub async fn resident(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> Result<Option<PopPerson>> {
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM pop_persons WHERE tenant_id = $1 AND codice_fiscale = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(cf.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(person_of::<D>).transpose()
    }

    /// See [`Store::session`].
    pub async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT id_hash, tenant_id, user_id, admin_id, csrf, provider, acr, data, created_at, \
             last_seen, expires_at FROM sessions WHERE id_hash = $1",
        )
        .bind(&id_hash[..])
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(SessionRecord {
            id_hash: to_hash(
                &r.try_get::<Vec<u8>, _>("id_hash").map_err(db_err)?,
                "sessions.id_hash",
            )?,
            tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
            user: r
                .try_get::<Option<i64>, _>("user_id")
                .map_err(db_err)?
                .map(UserId),
            admin: r
                .try_get::<Option<i64>, _>("admin_id")
                .map_err(db_err)?
                .map(AdminId),
            csrf: r.try_get("csrf").map_err(db_err)?,
            provider: r.try_get("provider").map_err(db_err)?,
            acr: r.try_get("acr").map_err(db_err)?,
            data: r.try_get("data").map_err(db_err)?,
            created_at: ts(&r, "created_at")?,
            last_seen: ts(&r, "last_seen")?,
            expires_at: ts(&r, "expires_at")?,
        }))
    }
}

fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn user_of<D: Dialect>(r: &DbRow<D>) -> Result<User>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let cf: Option<String> = r.try_get("codice_fiscale").map_err(db_err)?;
    let email: Option<String> = r.try_get("email").map_err(db_err)?;
    let channel: String = r.try_get("notice_channel").map_err(db_err)?;
    Ok(User {
        id: UserId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        data: NewUser {
            codice_fiscale: cf
                .map(|c| c.parse::<CodiceFiscale>())
                .transpose()
                .map_err(|e| corrupt("users.codice_fiscale", e))?,
            given_name: r.try_get("given_name").map_err(db_err)?,
            family_name: r.try_get("family_name").map_err(db_err)?,
            birth_date: r
                .try_get::<Option<jiff_sqlx::Date>, _>("birth_date")
                .map_err(db_err)?
                .map(|d| d.to_jiff()),
            birth_place: r.try_get("birth_place").map_err(db_err)?,
            email: email
                .map(|e| e.parse::<Email>())
                .transpose()
                .map_err(|e| corrupt("users.email", e))?,
            phone: r.try_get("phone").map_err(db_err)?,
            notice_channel: NoticeChannel::from_code(&channel)
                .ok_or_else(|| corrupt("users.notice_channel", &channel))?,
        },
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

fn admin_of<D: Dialect>(r: &DbRow<D>) -> Result<LocalAdmin>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
{
    let failed: i64 = r.try_get("failed_attempts").map_err(db_err)?;
    Ok(LocalAdmin {
        id: AdminId(r.try_get("id").map_err(db_err)?),
        data: NewLocalAdmin {
            tenant: r
                .try_get::<Option<i64>, _>("tenant_id")
                .map_err(db_err)?
                .map(TenantId),
            username: r.try_get("username").map_err(db_err)?,
            display_name: r.try_get("display_name").map_err(db_err)?,
            password_phc: r.try_get("password_phc").map_err(db_err)?,
            totp_secret: r.try_get("totp_secret").map_err(db_err)?,
        },
        totp_last_step: to_u64(
            r.try_get("totp_last_step").map_err(db_err)?,
            "totp_last_step",
        )?,
        failed_attempts: u32::try_from(failed).map_err(|e| corrupt("failed_attempts", e))?,
        locked_until: opt_ts(r, "locked_until")?,
        created_at: ts(r, "created_at")?,
    })
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> Option<&'a str>: Param<'a, Db<D>>,
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    async fn exec(&mut self, q: sqlx::query::Query<'_, Db<D>, Args<D>>) -> Result<u64> {
        q.execute(&mut *self.conn())
            .await
            .map(|r| D::rows_affected(&r))
            .map_err(db_err)
    }

    /// See [`StoreTx::insert_user`].
    pub async fn insert_user(
        &mut self,
        tenant: TenantId,
        u: &NewUser,
        now: Timestamp,
    ) -> Result<User> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (tenant_id, codice_fiscale, given_name, family_name, birth_date, birth_place, \
             email, phone, notice_channel, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING id",
        )
        .bind(tenant.0)
        .bind(u.codice_fiscale.as_ref().map(CodiceFiscale::as_str))
        .bind(u.given_name.as_str())
        .bind(u.family_name.as_str())
        .bind(u.birth_date.map(|d| d.to_sqlx()))
        .bind(u.birth_place.as_deref())
        .bind(u.email.as_ref().map(Email::as_str))
        .bind(u.phone.as_deref())
        .bind(u.notice_channel.code())
        .bind(now.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(User {
            id: UserId(id),
            tenant,
            data: u.clone(),
            created_at: now,
            updated_at: now,
        })
    }

    /// See [`StoreTx::update_user`].
    pub async fn update_user(&mut self, u: &User) -> Result<()> {
        let d = &u.data;
        let n = self
            .exec(
                sqlx::query(
                    "UPDATE users SET codice_fiscale=$3, given_name=$4, family_name=$5, birth_date=$6, \
                     birth_place=$7, email=$8, phone=$9, notice_channel=$10, updated_at=$11 \
                     WHERE tenant_id=$1 AND id=$2",
                )
                .bind(u.tenant.0)
                .bind(u.id.0)
                .bind(d.codice_fiscale.as_ref().map(CodiceFiscale::as_str))
                .bind(d.given_name.as_str())
                .bind(d.family_name.as_str())
                .bind(d.birth_date.map(|d| d.to_sqlx()))
                .bind(d.birth_place.as_deref())
                .bind(d.email.as_ref().map(Email::as_str))
                .bind(d.phone.as_deref())
                .bind(d.notice_channel.code())
                .bind(u.updated_at.to_sqlx()),
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// See [`StoreTx::upsert_identity_link`].
    pub async fn upsert_identity_link(&mut self, tenant: TenantId, l: &IdentityLink) -> Result<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO identity_links (tenant_id, issuer, subject, user_id, provider, first_seen, last_seen) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7) \
                 ON CONFLICT (tenant_id, issuer, subject) DO UPDATE SET last_seen = excluded.last_seen",
            )
            .bind(tenant.0)
            .bind(l.issuer.as_str())
            .bind(l.subject.as_str())
            .bind(l.user.0)
            .bind(l.provider.as_str())
            .bind(l.first_seen.to_sqlx())
            .bind(l.last_seen.to_sqlx()),
        )
        .await
        .map(drop)
    }

    /// See [`StoreTx::insert_sign_in`].
    pub async fn insert_sign_in(
        &mut self,
        tenant: TenantId,
        user: UserId,
        s: &SignIn,
    ) -> Result<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sign_ins (tenant_id, user_id, time, provider, acr) VALUES ($1,$2,$3,$4,$5)",
            )
            .bind(tenant.0)
            .bind(user.0)
            .bind(s.time.to_sqlx())
            .bind(s.provider.as_str())
            .bind(s.acr.as_deref()),
        )
        .await
        .map(drop)
    }

    /// See [`StoreTx::insert_role_grant`].
    pub async fn insert_role_grant(&mut self, tenant: TenantId, g: &RoleGrant) -> Result<bool> {
        let n = self
            .exec(
                sqlx::query(
                    "INSERT INTO role_grants (tenant_id, user_id, role, office_id, source, granted_at) \
                     SELECT $1,$2,$3,$4,$5,$6 WHERE ($4 = 0 OR EXISTS \
                     (SELECT 1 FROM offices WHERE tenant_id = $1 AND id = $4)) \
                     ON CONFLICT (tenant_id, user_id, role, office_id) DO NOTHING",
                )
                .bind(tenant.0)
                .bind(g.user.0)
                .bind(g.role.code())
                .bind(g.office.0)
                .bind(g.source.code())
                .bind(g.granted_at.to_sqlx()),
            )
            .await?;
        Ok(n == 1)
    }

    /// See [`StoreTx::delete_role_grant`].
    pub async fn delete_role_grant(
        &mut self,
        tenant: TenantId,
        user: UserId,
        role: Role,
        office: OfficeId,
    ) -> Result<bool> {
        let n = self
            .exec(
                sqlx::query(
                    "DELETE FROM role_grants WHERE tenant_id=$1 AND user_id=$2 AND role=$3 AND office_id=$4",
                )
                .bind(tenant.0)
                .bind(user.0)
                .bind(role.code())
                .bind(office.0),
            )
            .await?;
        Ok(n == 1)
    }

    /// See [`StoreTx::insert_local_admin`].
    pub async fn insert_local_admin(
        &mut self,
        a: &NewLocalAdmin,
        now: Timestamp,
    ) -> Result<LocalAdmin> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO local_admins (tenant_id, username, display_name, password_phc, totp_secret, \
             totp_last_step, failed_attempts, locked_until, created_at) \
             VALUES ($1,$2,$3,$4,$5,0,0,NULL,$6) RETURNING id",
        )
        .bind(a.tenant.map(|t| t.0))
        .bind(a.username.as_str())
        .bind(a.display_name.as_str())
        .bind(a.password_phc.as_str())
        .bind(&a.totp_secret[..])
        .bind(now.to_sqlx())
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(LocalAdmin {
            id: AdminId(id),
            data: a.clone(),
            totp_last_step: 0,
            failed_attempts: 0,
            locked_until: None,
            created_at: now,
        })
    }

    /// See [`StoreTx::admin_sign_in_succeeded`].
    pub async fn admin_sign_in_succeeded(&mut self, id: AdminId, step: u64) -> Result<bool> {
        let n = self
            .exec(
                sqlx::query(
                    "UPDATE local_admins SET totp_last_step = $2, failed_attempts = 0, locked_until = NULL \
                     WHERE id = $1 AND totp_last_step < $2",
                )
                .bind(id.0)
                .bind(to_i64(step, "totp_last_step")?),
            )
            .await?;
        Ok(n == 1)
    }

    /// See [`StoreTx::admin_sign_in_failed`].
    pub async fn admin_sign_in_failed(
        &mut self,
        id: AdminId,
        max_failures: u32,
        lock_until: Timestamp,
    ) -> Result<()> {
        self.exec(
            sqlx::query(
                "UPDATE local_admins SET \
                 locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END, \
                 failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END \
                 WHERE id = $1",
            )
            .bind(id.0)
            .bind(i64::from(max_failures))
            .bind(lock_until.to_sqlx()),
        )
        .await
        .map(drop)
    }

    /// See [`StoreTx::insert_session`].
    pub async fn insert_session(&mut self, s: &SessionRecord) -> Result<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sessions (id_hash, tenant_id, user_id, admin_id, csrf, provider, acr, data, \
                 created_at, last_seen, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            )
            .bind(&s.id_hash[..])
            .bind(s.tenant.0)
            .bind(s.user.map(|u| u.0))
            .bind(s.admin.map(|a| a.0))
            .bind(s.csrf.as_str())
            .bind(s.provider.as_deref())
            .bind(s.acr.as_deref())
            .bind(s.data.as_str())
            .bind(s.created_at.to_sqlx())
            .bind(s.last_seen.to_sqlx())
            .bind(s.expires_at.to_sqlx()),
        )
        .await
        .map(drop)
    }

    /// See [`StoreTx::touch_session`].
    pub async fn touch_session(&mut self, id_hash: &[u8; 32], last_seen: Timestamp) -> Result<()> {
        self.exec(
            sqlx::query("UPDATE sessions SET last_seen = $2 WHERE id_hash = $1")
                .bind(&id_hash[..])
                .bind(last_seen.to_sqlx()),
        )
        .await
        .map(drop)
    }

    /// See [`StoreTx::update_session_data`].
    pub async fn update_session_data(&mut self, id_hash: &[u8; 32], data: &str) -> Result<()> {
        self.exec(
            sqlx::query("UPDATE sessions SET data = $2 WHERE id_hash = $1")
                .bind(&id_hash[..])
                .bind(data),
        )
        .await
        .map(drop)
    }

    /// See [`StoreTx::delete_session`].
    pub async fn delete_session(&mut self, id_hash: &[u8; 32]) -> Result<()> {
        self.exec(sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&id_hash[..]))
            .await
            .map(drop)
    }

    /// See [`StoreTx::delete_user_sessions`].
    pub async fn delete_user_sessions(&mut self, tenant: TenantId, user: UserId) -> Result<u64> {
        self.exec(
            sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.0)
                .bind(user.0),
        )
        .await
    }

    /// See [`StoreTx::delete_admin_sessions`].
    pub async fn delete_admin_sessions(&mut self, admin: AdminId) -> Result<u64> {
        self.exec(sqlx::query("DELETE FROM sessions WHERE admin_id = $1").bind(admin.0))
            .await
    }

    /// See [`StoreTx::delete_expired_sessions`].
    pub async fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64> {
        self.exec(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now.to_sqlx()))
            .await
    }
}
