//! The protocollo reads and writes (issue 4).

use jiff_sqlx::ToSqlx;
use palazzo_store::rows::{corrupt, registration_time_after, to_i64};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(e.to_string()))
}

/// The key of a fiscal code in `protocol_senders`: trimmed, ASCII upper case
/// (as the backfill of migration 0011 computes it).
fn sender_key(fiscal_code: &str) -> String {
    fiscal_code.trim().to_ascii_uppercase()
}

pub(crate) const COLUMNS: &str = "id, tenant_id, register, year, number, registered_at, flow, subject, \
    correspondents, received_number, received_date, primary_document, attachments, registered_by, \
    emergency, classification, office_id, annulled_at, annulled_by, annul_reason, annul_act, \
    changed_at, changed_by, segnatura_state, bindings";

pub(crate) fn registration_of<D: Dialect>(r: &DbRow<D>) -> Result<Registration>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let get_s = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let get_o =
        |c: &str| -> Result<Option<String>> { r.try_get::<Option<String>, _>(c).map_err(db_err) };
    let register = palazzo_domain_register(&get_s("register")?)?;
    let number: i64 = r.try_get("number").map_err(db_err)?;
    let year: i64 = r.try_get("year").map_err(db_err)?;
    let flow = get_s("flow")?;
    let annulled_at = r
        .try_get::<Option<jiff_sqlx::Timestamp>, _>("annulled_at")
        .map_err(db_err)?
        .map(|t| t.to_jiff());
    let annulment = match annulled_at {
        None => None,
        Some(at) => Some(Annulment {
            at,
            by: get_o("annulled_by")?.unwrap_or_default(),
            reason: get_o("annul_reason")?.unwrap_or_default(),
            act: get_o("annul_act")?.unwrap_or_default(),
        }),
    };
    Ok(Registration {
        id: RegistrationId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        year: i16::try_from(year).map_err(|e| corrupt("protocol_entries.year", e))?,
        number: u64::try_from(number)
            .ok()
            .and_then(|n| palazzo_domain::protocollo::ProtocolNumber::new(n).ok())
            .ok_or_else(|| corrupt("protocol_entries.number", number))?,
        registered_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("registered_at")
            .map_err(db_err)?
            .to_jiff(),
        data: NewRegistration {
            register,
            flow: palazzo_domain::protocollo::Flow::parse(&flow)
                .map_err(|e| corrupt("protocol_entries.flow", e))?,
            subject: get_s("subject")?,
            correspondents: serde_json::from_str(&get_s("correspondents")?)
                .map_err(|e| corrupt("protocol_entries.correspondents", e))?,
            received_number: get_o("received_number")?,
            received_date: r
                .try_get::<Option<jiff_sqlx::Date>, _>("received_date")
                .map_err(db_err)?
                .map(|d| d.to_jiff()),
            primary: serde_json::from_str(&get_s("primary_document")?)
                .map_err(|e| corrupt("protocol_entries.primary_document", e))?,
            attachments: serde_json::from_str(&get_s("attachments")?)
                .map_err(|e| corrupt("protocol_entries.attachments", e))?,
            registered_by: get_s("registered_by")?,
            emergency: get_o("emergency")?
                .map(|e| serde_json::from_str(&e))
                .transpose()
                .map_err(|e| corrupt("protocol_entries.emergency", e))?,
            classification: get_o("classification")?,
            office: r
                .try_get::<Option<i64>, _>("office_id")
                .map_err(db_err)?
                .map(OfficeId),
        },
        annulment,
        changed: match r
            .try_get::<Option<jiff_sqlx::Timestamp>, _>("changed_at")
            .map_err(db_err)?
        {
            None => None,
            Some(at) => Some(LastChange {
                at: at.to_jiff(),
                by: get_o("changed_by")?.unwrap_or_default(),
            }),
        },
        segnatura_state: bound_state(
            get_o("segnatura_state")?,
            "protocol_entries.segnatura_state",
        )?,
        bindings: bindings_of(get_o("bindings")?, "protocol_entries.bindings")?,
    })
}

const CHANGE_COLUMNS: &str = "registration_id, seq, at, actor, old_classification, \
    new_classification, old_office_id, new_office_id";

fn change_of<D: Dialect>(r: &DbRow<D>) -> Result<ProtocolChange>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let seq: i64 = r.try_get("seq").map_err(db_err)?;
    let office = |c: &str| -> Result<Option<OfficeId>> {
        Ok(r.try_get::<Option<i64>, _>(c)
            .map_err(db_err)?
            .map(OfficeId))
    };
    Ok(ProtocolChange {
        registration: RegistrationId(r.try_get("registration_id").map_err(db_err)?),
        seq: u32::try_from(seq).map_err(|e| corrupt("protocol_changes.seq", e))?,
        at: r
            .try_get::<jiff_sqlx::Timestamp, _>("at")
            .map_err(db_err)?
            .to_jiff(),
        by: r.try_get("actor").map_err(db_err)?,
        old_classification: r.try_get("old_classification").map_err(db_err)?,
        new_classification: r.try_get("new_classification").map_err(db_err)?,
        old_office: office("old_office_id")?,
        new_office: office("new_office_id")?,
    })
}

const HANDOFF_COLUMNS: &str = "id, tenant_id, registration_id, fascicolo_id, kind, office_id, user_id, parent_id, state, assigned_at, updated_at, desk_office_id, desk_user_id, continuation_id, continuation_state";

/// A state hash bound on another record (migration 0023), stored as 64
/// lower-case hex digits.
fn bound_state(v: Option<String>, what: &str) -> Result<Option<[u8; 32]>> {
    v.map(|h| {
        palazzo_domain::protocollo::Impronta::parse_hex(&h)
            .map(|i| *i.bytes())
            .map_err(|e| corrupt(what, e))
    })
    .transpose()
}

/// A stored list of bindings (migration 0029): a JSON array of
/// `{"subject": …, "state": <64 lower-case hex digits>}`; NULL is none.
pub(crate) fn bindings_of(v: Option<String>, what: &str) -> Result<Vec<Binding>> {
    #[derive(serde::Deserialize)]
    struct Stored {
        subject: String,
        state: String,
    }
    let Some(v) = v else { return Ok(Vec::new()) };
    let stored: Vec<Stored> = serde_json::from_str(&v).map_err(|e| corrupt(what, e))?;
    stored
        .into_iter()
        .map(|b| {
            Ok(Binding {
                subject: b.subject,
                state: bound_state(Some(b.state), what)?.unwrap_or_default(),
            })
        })
        .collect()
}

/// The stored form of a list of bindings; `None` for an empty one.
pub(crate) fn bindings_json(bindings: &[Binding]) -> Option<String> {
    if bindings.is_empty() {
        return None;
    }
    let list: Vec<serde_json::Value> = bindings
        .iter()
        .map(|b| serde_json::json!({"subject": b.subject, "state": bound_hex(b.state)}))
        .collect();
    Some(serde_json::Value::Array(list).to_string())
}

fn bound_hex(state: [u8; 32]) -> String {
    palazzo_domain::protocollo::Impronta::from_digest(state).hex()
}

fn handoff_of<D: Dialect>(r: &DbRow<D>) -> Result<Handoff>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    let kind: String = r.try_get("kind").map_err(db_err)?;
    let state: String = r.try_get("state").map_err(db_err)?;
    Ok(Handoff {
        id: HandoffId(r.try_get("id").map_err(db_err)?),
        tenant: TenantId(r.try_get("tenant_id").map_err(db_err)?),
        data: NewHandoff {
            subject: match (
                r.try_get::<Option<i64>, _>("registration_id")
                    .map_err(db_err)?,
                r.try_get::<Option<i64>, _>("fascicolo_id")
                    .map_err(db_err)?,
            ) {
                (Some(reg), None) => HandoffSubject::Registration(RegistrationId(reg)),
                (None, Some(f)) => HandoffSubject::Fascicolo(FascicoloRowId(f)),
                _ => return Err(corrupt("handoffs.subject", "not exactly one")),
            },
            kind: HandoffKind::from_code(&kind).ok_or_else(|| corrupt("handoffs.kind", &kind))?,
            office: OfficeId(r.try_get("office_id").map_err(db_err)?),
            user: r
                .try_get::<Option<i64>, _>("user_id")
                .map_err(db_err)?
                .map(UserId),
            parent: r
                .try_get::<Option<i64>, _>("parent_id")
                .map_err(db_err)?
                .map(HandoffId),
            desk: match (
                r.try_get::<Option<i64>, _>("desk_office_id")
                    .map_err(db_err)?,
                r.try_get::<Option<i64>, _>("desk_user_id")
                    .map_err(db_err)?,
            ) {
                (None, None) => None,
                (Some(o), None) => Some(HandoffDesk::Office(OfficeId(o))),
                (None, Some(u)) => Some(HandoffDesk::User(UserId(u))),
                _ => return Err(corrupt("handoffs.desk", "both office and user")),
            },
        },
        state: HandoffState::from_code(&state).ok_or_else(|| corrupt("handoffs.state", &state))?,
        assigned_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("assigned_at")
            .map_err(db_err)?
            .to_jiff(),
        updated_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("updated_at")
            .map_err(db_err)?
            .to_jiff(),
        continuation: match (
            r.try_get::<Option<i64>, _>("continuation_id")
                .map_err(db_err)?,
            bound_state(
                r.try_get::<Option<String>, _>("continuation_state")
                    .map_err(db_err)?,
                "handoffs.continuation_state",
            )?,
        ) {
            (None, None) => None,
            (Some(id), Some(state)) => Some((HandoffId(id), state)),
            _ => return Err(corrupt("handoffs.continuation", "id without state")),
        },
    })
}

/// The step by which the desk takes note of a refusal.
const NOTED: &str = "preso_atto";

/// A refused hand-off `h` still waits at its desk: nothing continues it and
/// the desk has not taken note of it.
const RETURN_PENDING: &str = "NOT EXISTS (SELECT 1 FROM handoffs c WHERE c.tenant_id = h.tenant_id \
     AND c.parent_id = h.id) AND NOT EXISTS (SELECT 1 FROM handoff_steps s \
     WHERE s.tenant_id = h.tenant_id AND s.handoff_id = h.id AND s.action = 'preso_atto')";

/// The column naming a hand-off's subject, and the subject's id.
fn subject_column(s: HandoffSubject) -> (&'static str, i64) {
    match s {
        HandoffSubject::Registration(r) => ("registration_id", r.0),
        HandoffSubject::Fascicolo(f) => ("fascicolo_id", f.0),
    }
}

fn palazzo_domain_register(s: &str) -> Result<palazzo_domain::protocollo::RegisterCode> {
    palazzo_domain::protocollo::RegisterCode::parse(s)
        .map_err(|e| corrupt("protocol_entries.register", e))
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
    /// See [`Store::registration`].
    pub async fn registration(
        &self,
        tenant: TenantId,
        id: RegistrationId,
    ) -> Result<Option<Registration>> {
        let sql =
            format!("SELECT {COLUMNS} FROM protocol_entries WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(registration_of::<D>).transpose()
    }

    /// See [`Store::protocol_changes`].
    pub async fn protocol_changes(
        &self,
        tenant: TenantId,
        id: RegistrationId,
    ) -> Result<Vec<ProtocolChange>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM protocol_changes WHERE tenant_id = $1 \
             AND registration_id = $2 ORDER BY seq"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(change_of::<D>).collect()
    }

    /// See [`Store::protocol_changes_since`].
    pub async fn protocol_changes_since(
        &self,
        tenant: TenantId,
        from: Timestamp,
    ) -> Result<Vec<ProtocolChange>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM protocol_changes WHERE tenant_id = $1 AND {at} >= {from} \
             ORDER BY {at}, registration_id, seq",
            at = D::instant("at"),
            from = D::instant("$2"),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(from.to_sqlx())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(change_of::<D>).collect()
    }

    /// See [`Store::registration_by_number`].
    pub async fn registration_by_number(
        &self,
        tenant: TenantId,
        register: &str,
        year: i16,
        number: u64,
    ) -> Result<Option<Registration>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_entries \
             WHERE tenant_id = $1 AND register = $2 AND year = $3 AND number = $4"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(register)
            .bind(i64::from(year))
            .bind(to_i64(number, "number")?)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(registration_of::<D>).transpose()
    }

    /// See [`Store::search_registrations`].
    pub async fn search_registrations(
        &self,
        tenant: TenantId,
        q: &RegistrationSearch,
        limit: u32,
    ) -> Result<Vec<Registration>> {
        enum Bind {
            I64(i64),
            Text(String),
            Time(Timestamp),
        }
        // `%`, `_` and the escape itself are literal in what the user typed.
        fn like(s: &str) -> String {
            let mut out = String::with_capacity(s.len() + 2);
            for c in s.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        }
        // Each clause takes the next parameter numbers.
        struct Where {
            clauses: Vec<String>,
            binds: Vec<Bind>,
        }
        impl Where {
            fn add(&mut self, clause: impl FnOnce(usize) -> String, b: Vec<Bind>) {
                let n = self.binds.len() + 1;
                self.binds.extend(b);
                self.clauses.push(clause(n));
            }
        }
        let mut w = Where {
            clauses: vec!["tenant_id = $1".to_owned(), "register = $2".to_owned()],
            binds: vec![Bind::I64(tenant.0), Bind::Text(q.register.clone())],
        };
        let col = D::instant("registered_at");
        if let Some(y) = q.year {
            w.add(|n| format!("year = ${n}"), vec![Bind::I64(i64::from(y))]);
        }
        if let Some(t) = q.from {
            let p = |n| D::instant(&format!("${n}"));
            w.add(|n| format!("{col} >= {}", p(n)), vec![Bind::Time(t)]);
        }
        if let Some(t) = q.until {
            let p = |n| D::instant(&format!("${n}"));
            w.add(|n| format!("{col} < {}", p(n)), vec![Bind::Time(t)]);
        }
        if let Some(c) = q
            .correspondent
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            w.add(
                |n| format!("LOWER(correspondents) LIKE ${n} ESCAPE '\\'"),
                vec![Bind::Text(format!("%{}%", like(&c.to_lowercase())))],
            );
        }
        for word in q.words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
            w.add(
                |n| format!("LOWER(subject) LIKE ${n} ESCAPE '\\'"),
                vec![Bind::Text(format!("%{}%", like(&word.to_lowercase())))],
            );
        }
        if let Some(c) = q
            .classification
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            w.add(
                |n| {
                    format!(
                        "(classification = ${n} OR classification LIKE ${} ESCAPE '\\')",
                        n + 1
                    )
                },
                vec![
                    Bind::Text(c.to_owned()),
                    Bind::Text(format!("{}.%", like(c))),
                ],
            );
        }
        if let Some(f) = q.flow {
            w.add(
                |n| format!("flow = ${n}"),
                vec![Bind::Text(f.code().to_owned())],
            );
        }
        if let Some(b) = q.before {
            w.add(|n| format!("id < ${n}"), vec![Bind::I64(b.0)]);
        }
        if q.unclassified {
            // TI-2: "da classificare" is an entry still without a class
            // that is not annulled.
            w.add(
                |_| "classification IS NULL AND annulled_at IS NULL".to_owned(),
                vec![],
            );
        }
        let Where { clauses, mut binds } = w;
        binds.push(Bind::I64(i64::from(limit)));
        // The "da classificare" list comes oldest first: the longest
        // waiting are the ones a limit must not cut.
        let order = if q.unclassified { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_entries WHERE {} ORDER BY id {order} LIMIT ${}",
            clauses.join(" AND "),
            binds.len()
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            query = match b {
                Bind::I64(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
                Bind::Time(t) => query.bind(t.to_sqlx()),
            };
        }
        let rows = query.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(registration_of::<D>).collect()
    }

    /// See [`Store::registrations`].
    pub async fn registrations(
        &self,
        tenant: TenantId,
        register: &str,
        year: i16,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Registration>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_entries \
             WHERE tenant_id = $1 AND register = $2 AND year = $3 AND number > $4 \
             ORDER BY number LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(register)
            .bind(i64::from(year))
            .bind(to_i64(after, "after")?)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(registration_of::<D>).collect()
    }
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
    /// See [`Store::registrations_by_id`].
    pub async fn registrations_by_id(
        &self,
        tenant: TenantId,
        after: RegistrationId,
        limit: u32,
    ) -> Result<Vec<Registration>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_entries WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(after.0)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(registration_of::<D>).collect()
    }

    /// See [`Store::registrations_from_sender`].
    pub async fn registrations_from_sender(
        &self,
        tenant: TenantId,
        fiscal_code: &str,
        limit: u32,
    ) -> Result<Vec<Registration>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM protocol_entries WHERE tenant_id = $1 AND flow = 'E' AND id IN \
             (SELECT registration_id FROM protocol_senders WHERE tenant_id = $2 AND fiscal_code = $3) \
             ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(tenant.0)
            .bind(sender_key(fiscal_code))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(registration_of::<D>).collect()
    }

    async fn handoff_rows(&self, sql: String, binds: &[i64]) -> Result<Vec<Handoff>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(handoff_of::<D>).collect()
    }

    /// See [`Store::handoff`].
    pub async fn handoff(&self, tenant: TenantId, id: HandoffId) -> Result<Option<Handoff>> {
        let sql =
            format!("SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE tenant_id = $1 AND id = $2");
        Ok(self.handoff_rows(sql, &[tenant.0, id.0]).await?.pop())
    }

    /// See [`Store::handoffs_of`].
    pub async fn handoffs_of(
        &self,
        tenant: TenantId,
        subject: HandoffSubject,
    ) -> Result<Vec<Handoff>> {
        let (column, id) = subject_column(subject);
        let sql = format!(
            "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE tenant_id = $1 AND {column} = $2 ORDER BY id"
        );
        self.handoff_rows(sql, &[tenant.0, id]).await
    }

    /// See [`Store::office_handoffs`].
    pub async fn office_handoffs(
        &self,
        tenant: TenantId,
        office: OfficeId,
        open_only: bool,
    ) -> Result<Vec<Handoff>> {
        let sql = format!(
            "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE tenant_id = $1 AND office_id = $2 \
             AND ($3 = 0 OR state IN ('assegnato', 'accettato')) ORDER BY assigned_at, id"
        );
        self.handoff_rows(sql, &[tenant.0, office.0, i64::from(open_only)])
            .await
    }

    /// See [`Store::user_handoffs`].
    pub async fn user_handoffs(
        &self,
        tenant: TenantId,
        user: UserId,
        open_only: bool,
    ) -> Result<Vec<Handoff>> {
        let sql = format!(
            "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE tenant_id = $1 AND user_id = $2 \
             AND ($3 = 0 OR state IN ('assegnato', 'accettato')) ORDER BY assigned_at, id"
        );
        self.handoff_rows(sql, &[tenant.0, user.0, i64::from(open_only)])
            .await
    }

    /// See [`Store::returned_handoffs`].
    pub async fn returned_handoffs(
        &self,
        tenant: TenantId,
        desk: HandoffDesk,
    ) -> Result<Vec<Handoff>> {
        let (column, id) = match desk {
            HandoffDesk::Office(o) => ("desk_office_id", o.0),
            HandoffDesk::User(u) => ("desk_user_id", u.0),
        };
        let sql = format!(
            "SELECT {HANDOFF_COLUMNS} FROM handoffs h WHERE h.tenant_id = $1 AND h.{column} = $2 \
             AND h.state = 'rifiutato' AND {RETURN_PENDING} ORDER BY h.updated_at, h.id"
        );
        self.handoff_rows(sql, &[tenant.0, id]).await
    }

    /// See [`Store::handoffs_by_id`].
    pub async fn handoffs_by_id(
        &self,
        tenant: TenantId,
        after: HandoffId,
        limit: u32,
    ) -> Result<Vec<Handoff>> {
        let sql = format!(
            "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        self.handoff_rows(sql, &[tenant.0, after.0, i64::from(limit)])
            .await
    }

    /// See [`Store::handoff_steps`].
    pub async fn handoff_steps(
        &self,
        tenant: TenantId,
        subject: HandoffSubject,
    ) -> Result<Vec<HandoffStep>> {
        let (column, id) = subject_column(subject);
        let sql = format!(
            "SELECT s.handoff_id, s.step, s.action, s.actor, s.at, s.note FROM handoff_steps s \
             JOIN handoffs h ON h.tenant_id = s.tenant_id AND h.id = s.handoff_id \
             WHERE s.tenant_id = $1 AND h.{column} = $2 ORDER BY s.at, s.handoff_id, s.step"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let step: i64 = r.try_get("step").map_err(db_err)?;
                Ok(HandoffStep {
                    handoff: HandoffId(r.try_get("handoff_id").map_err(db_err)?),
                    step: u32::try_from(step).map_err(|e| corrupt("handoff_steps.step", e))?,
                    action: r.try_get("action").map_err(db_err)?,
                    actor: r.try_get("actor").map_err(db_err)?,
                    at: r
                        .try_get::<jiff_sqlx::Timestamp, _>("at")
                        .map_err(db_err)?
                        .to_jiff(),
                    note: r.try_get("note").map_err(db_err)?,
                })
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
    Option<jiff_sqlx::Timestamp>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`StoreTx::next_protocol_number`].
    pub async fn next_protocol_number(
        &mut self,
        tenant: TenantId,
        register: &str,
        year: i16,
    ) -> Result<(u64, Timestamp)> {
        self.next_protocol_numbers(tenant, register, year, 1)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// See [`StoreTx::next_protocol_numbers`].
    pub async fn next_protocol_numbers(
        &mut self,
        tenant: TenantId,
        register: &str,
        year: i16,
        count: u32,
    ) -> Result<Vec<(u64, Timestamp)>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        // DECISIONS 7: one counter row per (tenant, register, year), taken
        // with UPDATE … RETURNING; it is created (value 0) the first time.
        let take = || {
            sqlx::query(
                "UPDATE protocol_counters SET value = value + $4 \
                 WHERE tenant_id = $1 AND register = $2 AND year = $3 RETURNING value, last_time",
            )
            .bind(tenant.0)
            .bind(register)
            .bind(i64::from(year))
            .bind(i64::from(count))
        };
        let row = match take()
            .fetch_optional(&mut *self.conn())
            .await
            .map_err(db_err)?
        {
            Some(row) => row,
            None => {
                sqlx::query(
                    "INSERT INTO protocol_counters (tenant_id, register, year, value, last_time) \
                     VALUES ($1, $2, $3, 0, $4) ON CONFLICT (tenant_id, register, year) DO NOTHING",
                )
                .bind(tenant.0)
                .bind(register)
                .bind(i64::from(year))
                .bind(Timestamp::UNIX_EPOCH.to_sqlx())
                .execute(&mut *self.conn())
                .await
                .map_err(db_err)?;
                take().fetch_one(&mut *self.conn()).await.map_err(db_err)?
            }
        };
        let value: i64 = row.try_get("value").map_err(db_err)?;
        let mut last = row
            .try_get::<jiff_sqlx::Timestamp, _>("last_time")
            .map_err(db_err)?
            .to_jiff();
        let first = u64::try_from(value - i64::from(count) + 1)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // DECISIONS 8: read the clock now that the row is held; each number
        // gets a time after the previous one's.
        let mut out = Vec::with_capacity(count as usize);
        for n in first..first + u64::from(count) {
            last = registration_time_after(last);
            out.push((n, last));
        }
        sqlx::query(
            "UPDATE protocol_counters SET last_time = $4 WHERE tenant_id = $1 AND register = $2 AND year = $3",
        )
        .bind(tenant.0)
        .bind(register)
        .bind(i64::from(year))
        .bind(last.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(out)
    }

    /// See [`StoreTx::insert_registration`].
    pub async fn insert_registration(
        &mut self,
        tenant: TenantId,
        r: &NewRegistration,
        year: i16,
        number: u64,
        at: Timestamp,
    ) -> Result<Registration> {
        let row = NumberedRegistration {
            data: r.clone(),
            year,
            number,
            at,
        };
        self.insert_registrations(tenant, std::slice::from_ref(&row))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// See [`StoreTx::insert_registrations`].
    pub async fn insert_registrations(
        &mut self,
        tenant: TenantId,
        rows: &[NumberedRegistration],
    ) -> Result<Vec<Registration>> {
        const COLS: usize = 16;
        let mut ids: std::collections::HashMap<(i64, i64), i64> =
            std::collections::HashMap::with_capacity(rows.len());
        // One multi-row INSERT per chunk; the ids come back with their
        // (year, number), since RETURNING does not promise an order.
        for chunk in rows.chunks(128) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let p: Vec<String> = (1..=COLS).map(|c| format!("${}", r * COLS + c)).collect();
                    format!("({})", p.join(","))
                })
                .collect();
            let sql = format!(
                "INSERT INTO protocol_entries (tenant_id, register, year, number, registered_at, flow, subject, \
                 correspondents, received_number, received_date, primary_document, attachments, registered_by, \
                 emergency, classification, office_id) VALUES {} RETURNING id, year, number",
                values.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                let r = &row.data;
                q = q
                    .bind(tenant.0)
                    .bind(r.register.as_str().to_owned())
                    .bind(i64::from(row.year))
                    .bind(to_i64(row.number, "number")?)
                    .bind(row.at.to_sqlx())
                    .bind(r.flow.code().to_owned())
                    .bind(r.subject.clone())
                    .bind(json(&r.correspondents)?)
                    .bind(r.received_number.clone())
                    .bind(r.received_date.map(|d| d.to_sqlx()))
                    .bind(json(&r.primary)?)
                    .bind(json(&r.attachments)?)
                    .bind(r.registered_by.clone())
                    .bind(r.emergency.as_ref().map(json).transpose()?)
                    .bind(r.classification.clone())
                    .bind(r.office.map(|o| o.0));
            }
            for ret in q.fetch_all(&mut *self.conn()).await.map_err(db_err)? {
                let id: i64 = ret.try_get("id").map_err(db_err)?;
                let year: i64 = ret.try_get("year").map_err(db_err)?;
                let number: i64 = ret.try_get("number").map_err(db_err)?;
                ids.insert((year, number), id);
            }
        }
        // The index of senders by fiscal code (migration 0011), for the
        // incoming entries.
        let mut senders: Vec<(String, i64)> = Vec::new();
        for row in rows {
            if row.data.flow != palazzo_domain::protocollo::Flow::Entrata {
                continue;
            }
            let key = (i64::from(row.year), to_i64(row.number, "number")?);
            let id = *ids.get(&key).ok_or(StoreError::NotFound)?;
            let mut codes: Vec<String> = row
                .data
                .correspondents
                .iter()
                .filter_map(|c| c.fiscal_code.as_deref().map(sender_key))
                .filter(|c| !c.is_empty())
                .collect();
            codes.sort();
            codes.dedup();
            senders.extend(codes.into_iter().map(|c| (c, id)));
        }
        for chunk in senders.chunks(256) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("(${},${},${})", r * 3 + 1, r * 3 + 2, r * 3 + 3))
                .collect();
            let sql = format!(
                "INSERT INTO protocol_senders (tenant_id, fiscal_code, registration_id) VALUES {}",
                values.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (code, id) in chunk {
                q = q.bind(tenant.0).bind(code.clone()).bind(*id);
            }
            q.execute(&mut *self.conn()).await.map_err(db_err)?;
        }
        rows.iter()
            .map(|row| {
                let key = (i64::from(row.year), to_i64(row.number, "number")?);
                Ok(Registration {
                    id: RegistrationId(*ids.get(&key).ok_or(StoreError::NotFound)?),
                    tenant,
                    year: row.year,
                    number: palazzo_domain::protocollo::ProtocolNumber::new(row.number)
                        .map_err(|e| StoreError::Database(e.to_string()))?,
                    registered_at: row.at,
                    data: row.data.clone(),
                    annulment: None,
                    changed: None,
                    segnatura_state: None,
                    bindings: Vec::new(),
                })
            })
            .collect()
    }

    /// See [`StoreTx::update_registration_assignment`].
    pub async fn update_registration_assignment(
        &mut self,
        tenant: TenantId,
        id: RegistrationId,
        change: &AssignmentChange,
    ) -> Result<ProtocolChange> {
        // Hold the row first (a no-op update takes its lock until commit),
        // so the values read next are the ones this change replaces.
        let held = sqlx::query(
            "UPDATE protocol_entries SET changed_at = changed_at \
             WHERE tenant_id = $1 AND id = $2 AND annulled_at IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        if D::rows_affected(&held) == 0 {
            return Err(StoreError::NotFound);
        }
        let before = sqlx::query(
            "SELECT classification, office_id FROM protocol_entries WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        let old_classification: Option<String> =
            before.try_get("classification").map_err(db_err)?;
        let old_office: Option<i64> = before.try_get("office_id").map_err(db_err)?;
        let new_office = change.office.map(|o| o.0);
        sqlx::query(
            "UPDATE protocol_entries SET classification = $3, office_id = $4, changed_at = $5, \
             changed_by = $6 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(change.classification.as_deref())
        .bind(new_office)
        .bind(change.at.to_sqlx())
        .bind(change.by.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO protocol_changes (tenant_id, registration_id, seq, at, actor, \
             old_classification, new_classification, old_office_id, new_office_id) \
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7, $8 FROM protocol_changes \
             WHERE tenant_id = $1 AND registration_id = $2 RETURNING seq",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(change.at.to_sqlx())
        .bind(change.by.as_str())
        .bind(old_classification.as_deref())
        .bind(change.classification.as_deref())
        .bind(old_office)
        .bind(new_office)
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(ProtocolChange {
            registration: id,
            seq: u32::try_from(seq).map_err(|e| corrupt("protocol_changes.seq", e))?,
            at: change.at,
            by: change.by.clone(),
            old_classification,
            new_classification: change.classification.clone(),
            old_office: old_office.map(OfficeId),
            new_office: change.office,
        })
    }

    /// See [`StoreTx::annul_registration`].
    pub async fn annul_registration(
        &mut self,
        tenant: TenantId,
        id: RegistrationId,
        a: &Annulment,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE protocol_entries SET annulled_at = $3, annulled_by = $4, annul_reason = $5, annul_act = $6 \
             WHERE tenant_id = $1 AND id = $2 AND annulled_at IS NULL",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(a.at.to_sqlx())
        .bind(a.by.as_str())
        .bind(a.reason.as_str())
        .bind(a.act.as_str())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::insert_handoff`].
    pub async fn insert_handoff(
        &mut self,
        tenant: TenantId,
        h: &NewHandoff,
        at: Timestamp,
    ) -> Result<Handoff> {
        // The subject must be a row of this tenant (TI-5: a registration or
        // a fascicolo; the CHECK of migration 0013 wants exactly one).
        // A person named must be a user of this tenant too.
        let (desk_office, desk_user) = match h.desk {
            None => (None, None),
            Some(HandoffDesk::Office(o)) => (Some(o.0), None),
            Some(HandoffDesk::User(u)) => (None, Some(u.0)),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO handoffs (tenant_id, registration_id, fascicolo_id, kind, office_id, user_id, \
             parent_id, state, assigned_at, updated_at, desk_office_id, desk_user_id) \
             SELECT $1, $2, $8, $3, $4, $5, $6, 'assegnato', $7, $7, $9, $10 \
             WHERE ($2 IS NULL OR EXISTS (SELECT 1 FROM protocol_entries WHERE tenant_id = $1 AND id = $2)) \
             AND ($8 IS NULL OR EXISTS (SELECT 1 FROM fascicoli WHERE tenant_id = $1 AND id = $8)) \
             AND EXISTS (SELECT 1 FROM offices WHERE tenant_id = $1 AND id = $4) \
             AND ($5 IS NULL OR EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $5)) \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(h.subject.registration().map(|r| r.0))
        .bind(h.kind.code())
        .bind(h.office.0)
        .bind(h.user.map(|u| u.0))
        .bind(h.parent.map(|p| p.0))
        .bind(at.to_sqlx())
        .bind(h.subject.fascicolo().map(|f| f.0))
        .bind(desk_office)
        .bind(desk_user)
        .fetch_optional(&mut *self.conn())
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        Ok(Handoff {
            id: HandoffId(id),
            tenant,
            data: h.clone(),
            state: HandoffState::Assegnato,
            assigned_at: at,
            updated_at: at,
            continuation: None,
        })
    }

    /// See [`StoreTx::bind_handoff_continuation`].
    pub async fn bind_handoff_continuation(
        &mut self,
        tenant: TenantId,
        id: HandoffId,
        continuation: HandoffId,
        state: [u8; 32],
    ) -> Result<()> {
        self.write_binding(
            "UPDATE handoffs SET continuation_id = $3, continuation_state = $4 \
             WHERE tenant_id = $1 AND id = $2",
            tenant,
            id.0,
            Some(continuation.0),
            bound_hex(state),
        )
        .await
    }

    /// See [`StoreTx::bind_registration_segnatura`].
    pub async fn bind_registration_segnatura(
        &mut self,
        tenant: TenantId,
        id: RegistrationId,
        state: [u8; 32],
    ) -> Result<()> {
        self.write_binding(
            "UPDATE protocol_entries SET segnatura_state = $3 WHERE tenant_id = $1 AND id = $2",
            tenant,
            id.0,
            None,
            bound_hex(state),
        )
        .await
    }

    /// See [`StoreTx::bind_registration_records`].
    pub async fn bind_registration_records(
        &mut self,
        tenant: TenantId,
        id: RegistrationId,
        bindings: &[Binding],
    ) -> Result<()> {
        // An empty list is stored as `[]`: written, so never again.
        self.write_binding(
            "UPDATE protocol_entries SET bindings = $3 WHERE tenant_id = $1 AND id = $2",
            tenant,
            id.0,
            None,
            bindings_json(bindings).unwrap_or_else(|| "[]".to_owned()),
        )
        .await
    }

    /// Runs `sql` (parameters: tenant, id, then `other` if any, then the
    /// binding as text: a state as hex, a list as JSON) on exactly one row
    /// (the bindings of migrations 0023 and 0029).
    async fn write_binding(
        &mut self,
        sql: &'static str,
        tenant: TenantId,
        id: i64,
        other: Option<i64>,
        binding: String,
    ) -> Result<()> {
        let mut q = sqlx::query(sql).bind(tenant.0).bind(id);
        if let Some(other) = other {
            q = q.bind(other);
        }
        let r = q
            .bind(binding)
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        if D::rows_affected(&r) == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// See [`StoreTx::set_handoff_state`].
    pub async fn set_handoff_state(
        &mut self,
        tenant: TenantId,
        id: HandoffId,
        from: HandoffState,
        to: HandoffState,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE handoffs SET state = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND state = $3",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(from.code())
        .bind(to.code())
        .bind(at.to_sqlx())
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(D::rows_affected(&r) == 1)
    }

    /// See [`StoreTx::forward_handoff`]. The four writes run inside a
    /// savepoint: whatever fails, none of them remains, even if the caller
    /// went on to commit its transaction.
    pub async fn forward_handoff(
        &mut self,
        tenant: TenantId,
        id: HandoffId,
        from: HandoffState,
        next: &NewHandoff,
        by: (&str, Option<&str>),
        at: Timestamp,
    ) -> Result<Option<Handoff>> {
        self.savepoint("SAVEPOINT palazzo_forward").await?;
        let done = self.forward_writes(tenant, id, from, next, by, at).await;
        if !matches!(done, Ok(Some(_))) {
            self.savepoint("ROLLBACK TO SAVEPOINT palazzo_forward")
                .await?;
        }
        self.savepoint("RELEASE SAVEPOINT palazzo_forward").await?;
        done
    }

    async fn savepoint(&mut self, sql: &'static str) -> Result<()> {
        sqlx::query(sql)
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn forward_writes(
        &mut self,
        tenant: TenantId,
        id: HandoffId,
        from: HandoffState,
        next: &NewHandoff,
        (actor, note): (&str, Option<&str>),
        at: Timestamp,
    ) -> Result<Option<Handoff>> {
        if !self
            .set_handoff_state(tenant, id, from, HandoffState::Inoltrato, at)
            .await?
        {
            return Ok(None);
        }
        self.append_handoff_step(tenant, id, HandoffState::Inoltrato.code(), actor, at, note)
            .await?;
        let next = NewHandoff {
            parent: Some(id),
            ..next.clone()
        };
        let h = self.insert_handoff(tenant, &next, at).await?;
        self.append_handoff_step(
            tenant,
            h.id,
            HandoffState::Assegnato.code(),
            actor,
            at,
            note,
        )
        .await?;
        Ok(Some(h))
    }

    /// See [`StoreTx::note_refused_handoff`].
    pub async fn note_refused_handoff(
        &mut self,
        tenant: TenantId,
        id: HandoffId,
        actor: &str,
        at: Timestamp,
        note: Option<&str>,
    ) -> Result<Option<HandoffStep>> {
        let sql = format!(
            "INSERT INTO handoff_steps (tenant_id, handoff_id, step, action, actor, at, note) \
             SELECT $1, $2, (SELECT COALESCE(MAX(step), 0) + 1 FROM handoff_steps \
             WHERE tenant_id = $1 AND handoff_id = $2), '{NOTED}', $3, $4, $5 \
             FROM handoffs h WHERE h.tenant_id = $1 AND h.id = $2 AND h.state = 'rifiutato' \
             AND {RETURN_PENDING} RETURNING step"
        );
        let step: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .bind(actor)
            .bind(at.to_sqlx())
            .bind(note)
            .fetch_optional(&mut *self.conn())
            .await
            .map_err(db_err)?;
        step.map(|step| {
            Ok(HandoffStep {
                handoff: id,
                step: u32::try_from(step).map_err(|e| corrupt("handoff_steps.step", e))?,
                action: NOTED.to_owned(),
                actor: actor.to_owned(),
                at,
                note: note.map(str::to_owned),
            })
        })
        .transpose()
    }

    /// See [`StoreTx::append_handoff_step`].
    pub async fn append_handoff_step(
        &mut self,
        tenant: TenantId,
        handoff: HandoffId,
        action: &str,
        actor: &str,
        at: Timestamp,
        note: Option<&str>,
    ) -> Result<HandoffStep> {
        let step: i64 = sqlx::query_scalar(
            "INSERT INTO handoff_steps (tenant_id, handoff_id, step, action, actor, at, note) \
             SELECT $1, $2, COALESCE(MAX(step), 0) + 1, $3, $4, $5, $6 FROM handoff_steps \
             WHERE tenant_id = $1 AND handoff_id = $2 RETURNING step",
        )
        .bind(tenant.0)
        .bind(handoff.0)
        .bind(action)
        .bind(actor)
        .bind(at.to_sqlx())
        .bind(note)
        .fetch_one(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(HandoffStep {
            handoff,
            step: u32::try_from(step).map_err(|e| corrupt("handoff_steps.step", e))?,
            action: action.to_owned(),
            actor: actor.to_owned(),
            at,
            note: note.map(str::to_owned),
        })
    }
}

/// The policy row's columns, read back as [`ProtocolPolicy`] (TI-2).
const POLICY_COLUMNS: &str =
    "classification_mandatory, classify_within_days, updated_at, updated_by";

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    bool: Field<Db<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// See [`Store::protocol_policy`].
    pub async fn protocol_policy(&self, tenant: TenantId) -> Result<Option<ProtocolPolicy>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM protocol_policies WHERE tenant_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let days: i64 = r.try_get("classify_within_days").map_err(db_err)?;
        Ok(Some(ProtocolPolicy {
            classification_mandatory: r.try_get("classification_mandatory").map_err(db_err)?,
            classify_within_days: u16::try_from(days)
                .map_err(|e| corrupt("protocol_policies.classify_within_days", e))?,
            updated_at: Some(
                r.try_get::<jiff_sqlx::Timestamp, _>("updated_at")
                    .map_err(db_err)?
                    .to_jiff(),
            ),
            updated_by: Some(r.try_get("updated_by").map_err(db_err)?),
        }))
    }
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: Param<'a, Db<D>>,
    bool: Field<Db<D>>,
    i64: Field<Db<D>>,
    jiff_sqlx::Timestamp: Field<Db<D>>,
{
    /// See [`StoreTx::set_protocol_policy`].
    pub async fn set_protocol_policy(
        &mut self,
        tenant: TenantId,
        p: &ProtocolPolicy,
    ) -> Result<()> {
        let (Some(at), Some(by)) = (p.updated_at, p.updated_by.as_deref()) else {
            return Err(StoreError::Database(
                "a protocol policy is stored with its time and author".into(),
            ));
        };
        sqlx::query(
            "INSERT INTO protocol_policies (tenant_id, classification_mandatory, \
             classify_within_days, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET \
             classification_mandatory = excluded.classification_mandatory, \
             classify_within_days = excluded.classify_within_days, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(tenant.0)
        .bind(p.classification_mandatory)
        .bind(i64::from(p.classify_within_days))
        .bind(at.to_sqlx())
        .bind(by)
        .execute(&mut *self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
