//! Appointment booking (migration 0027; issue 6, part 7).

use jiff_sqlx::ToSqlx;
use palazzo_domain::appuntamenti::CalendarSpec;
use palazzo_store::rows::{corrupt, to_hash};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

const COLUMNS: &str = "id, tenant_id, office_id, slot_start, slot_end, slot_date, seat, \
    service_slug, topic, reason, name, surname, email, phone, user_id, code_sha256, state, \
    created_at, changed_at, changed_by, reminder_sent_at, reminder_code";

fn booking_of<D: Dialect>(r: &DbRow<D>) -> Result<Booking>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
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
    let code: Vec<u8> = r.try_get("code_sha256").map_err(db_err)?;
    let state = s("state")?;
    Ok(Booking {
        id: BookingId(i("id")?),
        tenant: TenantId(i("tenant_id")?),
        data: NewBooking {
            office: OfficeId(i("office_id")?),
            slot_start: t("slot_start")?,
            slot_end: t("slot_end")?,
            slot_date: r
                .try_get::<jiff_sqlx::Date, _>("slot_date")
                .map_err(db_err)?
                .to_jiff(),
            seat: i("seat")?,
            service: o("service_slug")?,
            topic: s("topic")?,
            reason: s("reason")?,
            name: s("name")?,
            surname: s("surname")?,
            email: s("email")?,
            phone: o("phone")?,
            user: r
                .try_get::<Option<i64>, _>("user_id")
                .map_err(db_err)?
                .map(UserId),
            code_sha256: to_hash(&code, "appuntamenti.code_sha256")?,
            created_at: t("created_at")?,
            reminder_code: o("reminder_code")?,
        },
        state: BookingState::from_code(&state)
            .ok_or_else(|| corrupt("appuntamenti.state", &state))?,
        changed_at: ot("changed_at")?,
        changed_by: o("changed_by")?,
        reminder_sent_at: ot("reminder_sent_at")?,
    })
}

fn calendar_of<D: Dialect>(r: &DbRow<D>) -> Result<BookingCalendarRecord>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let spec: String = r.try_get("spec").map_err(db_err)?;
    let spec: CalendarSpec =
        serde_json::from_str(&spec).map_err(|e| corrupt("appuntamenti_calendari.spec", e))?;
    Ok(BookingCalendarRecord {
        office: OfficeId(r.try_get::<i64, _>("office_id").map_err(db_err)?),
        spec,
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
    for<'a> &'a [u8]: Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Vec<u8>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`Store::booking_calendar`].
    pub async fn booking_calendar(
        &self,
        tenant: TenantId,
        office: OfficeId,
    ) -> Result<Option<BookingCalendarRecord>> {
        let row = sqlx::query(
            "SELECT office_id, spec, updated_at, updated_by FROM appuntamenti_calendari \
             WHERE tenant_id = $1 AND office_id = $2",
        )
        .bind(tenant.0)
        .bind(office.0)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(calendar_of::<D>).transpose()
    }

    /// See [`Store::booking_calendars`].
    pub async fn booking_calendars(&self, tenant: TenantId) -> Result<Vec<BookingCalendarRecord>> {
        let rows = sqlx::query(
            "SELECT office_id, spec, updated_at, updated_by FROM appuntamenti_calendari \
             WHERE tenant_id = $1 ORDER BY office_id",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(calendar_of::<D>).collect()
    }

    /// See [`Store::booking`].
    pub async fn booking(&self, tenant: TenantId, id: BookingId) -> Result<Option<Booking>> {
        let sql = format!("SELECT {COLUMNS} FROM appuntamenti WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(booking_of::<D>).transpose()
    }

    /// See [`Store::booking_by_code`].
    pub async fn booking_by_code(
        &self,
        tenant: TenantId,
        code_sha256: &[u8],
    ) -> Result<Option<Booking>> {
        let sql =
            format!("SELECT {COLUMNS} FROM appuntamenti WHERE tenant_id = $1 AND code_sha256 = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(code_sha256)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(booking_of::<D>).transpose()
    }

    /// See [`Store::office_bookings`].
    pub async fn office_bookings(
        &self,
        tenant: TenantId,
        office: OfficeId,
        from: CivilDate,
        to: CivilDate,
    ) -> Result<Vec<Booking>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM appuntamenti WHERE tenant_id = $1 AND office_id = $2 \
             AND slot_date >= $3 AND slot_date <= $4 ORDER BY {}, seat, id",
            D::instant("slot_start")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(office.0)
            .bind(from.to_sqlx())
            .bind(to.to_sqlx())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(booking_of::<D>).collect()
    }

    /// See [`Store::user_bookings`].
    pub async fn user_bookings(&self, tenant: TenantId, user: UserId) -> Result<Vec<Booking>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM appuntamenti WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY {} DESC, id DESC",
            D::instant("slot_start")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(user.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(booking_of::<D>).collect()
    }

    /// See [`Store::bookings_to_remind`].
    pub async fn bookings_to_remind(
        &self,
        tenant: TenantId,
        day: CivilDate,
    ) -> Result<Vec<Booking>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM appuntamenti WHERE tenant_id = $1 AND slot_date = $2 \
             AND state = 'prenotato' AND reminder_sent_at IS NULL ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(day.to_sqlx())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(booking_of::<D>).collect()
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
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    jiff_sqlx::Date: Field<Db<D>>,
{
    /// See [`StoreTx::set_booking_calendar`].
    pub async fn set_booking_calendar(
        &mut self,
        tenant: TenantId,
        c: &BookingCalendarRecord,
    ) -> Result<()> {
        let spec = serde_json::to_string(&c.spec)
            .map_err(|e| StoreError::Database(format!("calendar spec: {e}")))?;
        sqlx::query(
            "INSERT INTO appuntamenti_calendari (tenant_id, office_id, spec, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, office_id) DO UPDATE SET spec = excluded.spec, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(tenant.0)
        .bind(c.office.0)
        .bind(spec.as_str())
        .bind(c.updated_at.to_sqlx())
        .bind(c.updated_by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// See [`StoreTx::insert_booking`].
    pub async fn insert_booking(
        &mut self,
        tenant: TenantId,
        b: &NewBooking,
    ) -> Result<Option<Booking>> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO appuntamenti (tenant_id, office_id, slot_start, slot_end, slot_date, \
             seat, service_slug, topic, reason, name, surname, email, phone, user_id, \
             code_sha256, state, created_at, reminder_code) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'prenotato',$16,$17) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(tenant.0)
        .bind(b.office.0)
        .bind(b.slot_start.to_sqlx())
        .bind(b.slot_end.to_sqlx())
        .bind(b.slot_date.to_sqlx())
        .bind(b.seat)
        .bind(b.service.as_deref())
        .bind(b.topic.as_str())
        .bind(b.reason.as_str())
        .bind(b.name.as_str())
        .bind(b.surname.as_str())
        .bind(b.email.as_str())
        .bind(b.phone.as_deref())
        .bind(b.user.map(|u| u.0))
        .bind(b.code_sha256.as_slice())
        .bind(b.created_at.to_sqlx())
        .bind(b.reminder_code.as_deref())
        .fetch_optional(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(id.map(|id| Booking {
            id: BookingId(id),
            tenant,
            data: b.clone(),
            state: BookingState::Prenotato,
            changed_at: None,
            changed_by: None,
            reminder_sent_at: None,
        }))
    }

    /// See [`StoreTx::set_booking_state`].
    pub async fn set_booking_state(
        &mut self,
        tenant: TenantId,
        id: BookingId,
        from: BookingState,
        to: BookingState,
        at: Timestamp,
        by: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE appuntamenti SET state = $4, changed_at = $5, changed_by = $6, \
             reminder_code = NULL \
             WHERE tenant_id = $1 AND id = $2 AND state = $3",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(from.code())
        .bind(to.code())
        .bind(at.to_sqlx())
        .bind(by)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::mark_booking_reminded`].
    pub async fn mark_booking_reminded(
        &mut self,
        tenant: TenantId,
        id: BookingId,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE appuntamenti SET reminder_sent_at = $3, reminder_code = NULL \
             WHERE tenant_id = $1 AND id = $2 AND reminder_sent_at IS NULL \
             AND state = 'prenotato'",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(at.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }
}
