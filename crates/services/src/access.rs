//! Sign-in and access (issue 3): server-side sessions, the profile created at
//! the first sign-in, role grants, and the [`Actor`] every use case checks.
//!
//! Sessions (part 7): the cookie carries 32 random bytes; the store keeps
//! only their SHA-256. A session has an idle timeout and an absolute one; it
//! is replaced by a new one (new token, new CSRF token) at every sign-in, so a
//! token planted before sign-in is worthless after it (session fixation).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use palazzo_domain::access::{Grant, Permission, Principal, Role};
use palazzo_domain::ids::{CodiceFiscale, Email};
use palazzo_store::*;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ledger::record;
use crate::{App, ServiceError, ServiceResult};

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Without activity for this long, the session ends.
    pub idle: SignedDuration,
    /// Whatever the activity, the session ends this long after sign-in.
    pub absolute: SignedDuration,
    /// `last_seen` is written at most this often (saves a write per request).
    pub touch_every: SignedDuration,
}

impl Default for SessionPolicy {
    /// 30 minutes idle, 8 hours absolute (a working day at the desk).
    fn default() -> Self {
        SessionPolicy {
            idle: SignedDuration::from_mins(30),
            absolute: SignedDuration::from_hours(8),
            touch_every: SignedDuration::from_secs(60),
        }
    }
}

/// How long an anonymous session (one that only carries a sign-in in
/// progress) lives.
pub const PENDING_SESSION: SignedDuration = SignedDuration::from_mins(15);

/// The JSON kept in a session besides the principal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// Where to go back after signing in (a local path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    /// A sign-in in progress at an identity provider (state, nonce, PKCE
    /// verifier…), opaque to this module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<serde_json::Value>,
    /// Display name of the principal (for the header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A live session as the web layer sees it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The stored record.
    pub record: SessionRecord,
    /// Its decoded data.
    pub data: SessionData,
}

impl Session {
    /// Is someone signed in?
    pub fn is_signed_in(&self) -> bool {
        self.record.user.is_some() || self.record.admin.is_some()
    }
}

/// Who signs in, as established by an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// `spid`, `cie`, `oidc` or `demo`.
    pub provider: String,
    /// Provider entity id / issuer.
    pub issuer: String,
    /// Subject at the provider.
    pub subject: String,
    /// Level of assurance, if stated.
    pub acr: Option<String>,
    /// Verified codice fiscale (citizens).
    pub codice_fiscale: Option<CodiceFiscale>,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub birth_date: Option<jiff::civil::Date>,
    /// Place of birth.
    pub birth_place: Option<String>,
    /// E-mail released by the provider.
    pub email: Option<Email>,
    /// Phone released by the provider.
    pub phone: Option<String>,
}

/// Who a new session is for (see [`App::rotate_session`]).
#[derive(Debug, Clone, Default)]
pub struct SignedIn {
    /// The user, for sign-ins through an identity provider.
    pub user: Option<UserId>,
    /// The administrator, for break-glass sign-ins.
    pub admin: Option<AdminId>,
    /// `spid`, `cie`, `oidc`, `demo` or `local`.
    pub provider: String,
    /// Level of assurance.
    pub acr: Option<String>,
    /// Display name.
    pub name: String,
}

/// The acting principal of a request: who, and what they may do in the
/// current comune.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The signed-in user, if any.
    pub user: Option<UserId>,
    /// The signed-in break-glass administrator, if any.
    pub admin: Option<AdminId>,
    /// Roles in the current comune.
    pub principal: Principal,
    /// Display name.
    pub name: Option<String>,
    /// Level of assurance of the sign-in.
    pub acr: Option<String>,
}

impl Actor {
    /// Nobody signed in.
    pub fn anonymous() -> Self {
        Actor::default()
    }

    /// Requires permission `p`: [`ServiceError::Unauthenticated`] for
    /// anonymous visitors, [`ServiceError::Forbidden`] for others.
    pub fn require(&self, p: Permission) -> ServiceResult<()> {
        if self.principal.can(p) {
            Ok(())
        } else if self.user.is_none() && self.admin.is_none() {
            Err(ServiceError::Unauthenticated)
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// The signed-in user, or [`ServiceError::Unauthenticated`].
    pub fn require_user(&self) -> ServiceResult<UserId> {
        self.user.ok_or(ServiceError::Unauthenticated)
    }

    /// Who acted, for the records: `user:<id>`, `admin:<id>`, or the name
    /// of a command-line actor.
    pub fn who(&self) -> String {
        match (self.user, self.admin) {
            (Some(u), _) => format!("user:{}", u.0),
            (None, Some(a)) => format!("admin:{}", a.0),
            (None, None) => self.name.clone().unwrap_or_else(|| "anonymous".to_owned()),
        }
    }
}

/// A new random token and the hash stored for it.
fn new_token() -> (String, [u8; 32]) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored hash of a cookie token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn invalid(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

/// The ledger record of a first sign-in or a profile change: no personal
/// data, only that user `id` changed at `at`.
struct UserChange {
    user: UserId,
    at: Timestamp,
}

impl Recorded for UserChange {
    fn subject(&self) -> String {
        format!("user:{}", self.user.0)
    }
    fn state(&self) -> palazzo_domain::cbor::Value {
        use palazzo_domain::cbor::Value;
        Value::Map(vec![(
            Value::Text("at".into()),
            Value::Text(self.at.to_string()),
        )])
    }
}

impl App {
    /// The session policy.
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy::default()
    }

    /// Starts an anonymous session (for a sign-in in progress). Returns the
    /// cookie token.
    pub async fn start_session(
        &self,
        tenant: TenantId,
        data: &SessionData,
    ) -> ServiceResult<(String, Session)> {
        let now = Timestamp::now();
        self.insert_session(
            tenant,
            None,
            None,
            None,
            None,
            data,
            now,
            now + PENDING_SESSION,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_session(
        &self,
        tenant: TenantId,
        user: Option<UserId>,
        admin: Option<AdminId>,
        provider: Option<String>,
        acr: Option<String>,
        data: &SessionData,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> ServiceResult<(String, Session)> {
        let (token, id_hash) = new_token();
        let (csrf, _) = new_token();
        let record = SessionRecord {
            id_hash,
            tenant,
            user,
            admin,
            csrf,
            provider,
            acr,
            data: serde_json::to_string(data).map_err(|e| ServiceError::Internal(e.to_string()))?,
            created_at: now,
            last_seen: now,
            expires_at,
        };
        let mut tx = self.db().begin().await?;
        tx.insert_session(&record).await?;
        tx.commit().await?;
        Ok((
            token,
            Session {
                record,
                data: data.clone(),
            },
        ))
    }

    /// The live session of a cookie token in `tenant`, if any. Expired
    /// sessions (idle or absolute) are deleted and reported as absent; a
    /// session of another comune is absent (cookies are host-only, this is
    /// the second line).
    pub async fn load_session(
        &self,
        tenant: TenantId,
        token: &str,
    ) -> ServiceResult<Option<Session>> {
        if token.len() != 43 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some(record) = self.db().session(&hash).await? else {
            return Ok(None);
        };
        if record.tenant != tenant {
            return Ok(None);
        }
        let policy = self.session_policy();
        let now = Timestamp::now();
        if now >= record.expires_at || now >= record.last_seen + policy.idle {
            let mut tx = self.db().begin().await?;
            tx.delete_session(&hash).await?;
            tx.commit().await?;
            return Ok(None);
        }
        let mut record = record;
        if now >= record.last_seen + policy.touch_every {
            let mut tx = self.db().begin().await?;
            tx.touch_session(&hash, now).await?;
            tx.commit().await?;
            record.last_seen = now;
        }
        let data = serde_json::from_str(&record.data).unwrap_or_default();
        Ok(Some(Session { record, data }))
    }

    /// Replaces a session's data.
    pub async fn save_session_data(
        &self,
        session: &Session,
        data: &SessionData,
    ) -> ServiceResult<()> {
        let json =
            serde_json::to_string(data).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut tx = self.db().begin().await?;
        tx.update_session_data(&session.record.id_hash, &json)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn end_session(&self, session: &Session) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        tx.delete_session(&session.record.id_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the signed-in user or administrator ("esci da
    /// tutti i dispositivi"). Returns how many ended.
    pub async fn end_all_sessions(&self, session: &Session) -> ServiceResult<u64> {
        let mut tx = self.db().begin().await?;
        let n = match (session.record.user, session.record.admin) {
            (Some(u), _) => tx.delete_user_sessions(session.record.tenant, u).await?,
            (None, Some(a)) => tx.delete_admin_sessions(a).await?,
            (None, None) => {
                tx.delete_session(&session.record.id_hash).await?;
                1
            }
        };
        tx.commit().await?;
        Ok(n)
    }

    /// Runs until `shutdown` resolves, deleting expired sessions every ten
    /// minutes (idle ones are deleted when next presented; this removes the
    /// rest, so the table holds only live sessions).
    pub async fn run_session_sweeper(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            match self.sweep_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "session sweep failed"),
            }
        }
    }

    /// Deletes expired sessions (a periodic sweep).
    pub async fn sweep_sessions(&self) -> ServiceResult<u64> {
        let mut tx = self.db().begin().await?;
        let n = tx.delete_expired_sessions(Timestamp::now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Signs a principal in: ends the previous session (if any) and opens a
    /// new one with a fresh token and CSRF token (rotation).
    pub async fn rotate_session(
        &self,
        previous: Option<&Session>,
        tenant: TenantId,
        who: SignedIn,
    ) -> ServiceResult<(String, Session)> {
        let SignedIn {
            user,
            admin,
            provider,
            acr,
            name,
        } = who;
        if let Some(p) = previous {
            self.end_session(p).await?;
        }
        let now = Timestamp::now();
        let data = SessionData {
            return_to: None,
            pending: None,
            name: Some(name),
        };
        let absolute = if admin.is_some() {
            // Break-glass sessions are short.
            SignedDuration::from_hours(2)
        } else {
            self.session_policy().absolute
        };
        self.insert_session(
            tenant,
            user,
            admin,
            Some(provider),
            acr,
            &data,
            now,
            now + absolute,
        )
        .await
    }

    /// The actor of a session (anonymous without one).
    pub async fn actor(&self, session: Option<&Session>) -> ServiceResult<Actor> {
        let Some(s) = session else {
            return Ok(Actor::anonymous());
        };
        let tenant = s.record.tenant;
        let mut actor = Actor {
            user: s.record.user,
            admin: s.record.admin,
            principal: Principal::default(),
            name: s.data.name.clone(),
            acr: s.record.acr.clone(),
        };
        if let Some(u) = s.record.user {
            match self.user_grants(tenant, u).await? {
                Some(grants) => actor.principal.grants = grants,
                None => return Ok(Actor::anonymous()),
            }
        }
        if let Some(a) = s.record.admin {
            let Some(admin) = self.db().local_admin(a).await? else {
                return Ok(Actor::anonymous());
            };
            let role = match admin.data.tenant {
                None => Role::AdminPiattaforma,
                Some(t) if t == tenant => Role::AdminComune,
                // An administrator of another comune has no role here.
                Some(_) => return Ok(Actor::anonymous()),
            };
            actor.principal.grants.push(Grant { role, office: None });
        }
        Ok(actor)
    }

    /// The roles of user `u` in `tenant` now (`None`: no such user): the
    /// implicit cittadino role for a profile with a codice fiscale, and the
    /// granted ones. Sessions and API keys both act with these, so revoking
    /// a role takes effect at the next request.
    pub(crate) async fn user_grants(
        &self,
        tenant: TenantId,
        u: UserId,
    ) -> ServiceResult<Option<Vec<Grant>>> {
        let Some(user) = self.db().user(tenant, u).await? else {
            return Ok(None);
        };
        self.grants_of(tenant, &user).await.map(Some)
    }

    /// The grants of a user already read: citizen when they have a codice
    /// fiscale, plus every role granted to them.
    pub(crate) async fn grants_of(
        &self,
        tenant: TenantId,
        user: &User,
    ) -> ServiceResult<Vec<Grant>> {
        let u = user.id;
        let mut grants = Vec::new();
        if user.data.codice_fiscale.is_some() {
            grants.push(Grant {
                role: Role::Cittadino,
                office: None,
            });
        }
        for g in self.db().role_grants(tenant, Some(u)).await? {
            grants.push(Grant {
                role: g.role,
                office: (!g.office.is_unset()).then_some(g.office.0),
            });
        }
        Ok(grants)
    }

    /// Records a sign-in through an identity provider: finds the user by
    /// the identity link, else by codice fiscale (a citizen who signs in
    /// with CIE after SPID is the same person), else creates the profile
    /// from the verified claims (first access). Claims from the provider
    /// refresh the identity fields; contacts the user completed are kept.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0, provider = %id.provider))]
    pub async fn record_sign_in(
        &self,
        tenant: TenantId,
        id: &VerifiedIdentity,
    ) -> ServiceResult<User> {
        let t = self.tenant(tenant)?;
        let now = Timestamp::now();
        // Only a national digital identity (SPID, CIE) vouches for a codice
        // fiscale. Anything else (the comune's staff directory, whose
        // attributes staff may edit) never sets one, so it can never reach a
        // citizen's profile through it.
        let verified_cf = if proves_codice_fiscale(&id.provider) {
            id.codice_fiscale.clone()
        } else {
            None
        };
        let mut tx = self.db().begin().await?;
        let mut user = match tx_find_user(self, tenant, id, verified_cf.as_ref()).await? {
            Some(u) => u,
            None => {
                let new = NewUser {
                    codice_fiscale: verified_cf.clone(),
                    given_name: id.given_name.clone(),
                    family_name: id.family_name.clone(),
                    birth_date: id.birth_date,
                    birth_place: id.birth_place.clone(),
                    email: id.email.clone(),
                    phone: id.phone.clone(),
                    notice_channel: NoticeChannel::Email,
                };
                let u = tx.insert_user(tenant, &new, now).await.map_err(|e| match e {
                    // Two first sign-ins of the same person at once: the
                    // second one finds the profile on retry.
                    StoreError::Conflict(_) => invalid(
                        "identity_conflict",
                        "Il tuo profilo è in fase di creazione: riprova ad accedere tra qualche secondo.",
                    ),
                    e => e.into(),
                })?;
                record(
                    &mut tx,
                    &t,
                    "user.created",
                    &UserChange {
                        user: u.id,
                        at: now,
                    },
                )
                .await?;
                u
            }
        };
        // A stored codice fiscale never changes; an identity that states
        // another one for the same profile is refused.
        if let (Some(stored), Some(stated)) = (&user.data.codice_fiscale, &verified_cf)
            && stored != stated
        {
            tracing::warn!(
                code = "identity_mismatch",
                "identity states another codice fiscale than its profile"
            );
            return Err(invalid(
                "identity_mismatch",
                "L'identità digitale non corrisponde al profilo registrato. Rivolgiti al Comune.",
            ));
        }
        let refreshed = NewUser {
            codice_fiscale: user.data.codice_fiscale.clone().or(verified_cf),
            given_name: id.given_name.clone(),
            family_name: id.family_name.clone(),
            birth_date: id.birth_date.or(user.data.birth_date),
            birth_place: id.birth_place.clone().or(user.data.birth_place.clone()),
            email: user.data.email.clone().or(id.email.clone()),
            phone: user.data.phone.clone().or(id.phone.clone()),
            notice_channel: user.data.notice_channel,
        };
        if refreshed != user.data {
            user.data = refreshed;
            user.updated_at = now;
            tx.update_user(&user).await?;
        }
        tx.upsert_identity_link(
            tenant,
            &IdentityLink {
                issuer: id.issuer.clone(),
                subject: id.subject.clone(),
                user: user.id,
                provider: id.provider.clone(),
                first_seen: now,
                last_seen: now,
            },
        )
        .await?;
        tx.insert_sign_in(
            tenant,
            user.id,
            &SignIn {
                time: now,
                provider: id.provider.clone(),
                acr: id.acr.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(user)
    }

    /// The signed-in user's profile.
    pub async fn my_profile(&self, tenant: TenantId, actor: &Actor) -> ServiceResult<User> {
        actor.require(Permission::OwnProfile)?;
        let u = actor.require_user()?;
        self.db()
            .user(tenant, u)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// The signed-in user's newest sign-ins.
    pub async fn my_sign_ins(&self, tenant: TenantId, actor: &Actor) -> ServiceResult<Vec<SignIn>> {
        actor.require(Permission::OwnProfile)?;
        let u = actor.require_user()?;
        Ok(self.db().sign_ins(tenant, u, 50).await?)
    }

    /// Completes or changes the contacts and notice preference of the
    /// signed-in user (once-only: later forms reuse them).
    pub async fn update_my_contacts(
        &self,
        tenant: TenantId,
        actor: &Actor,
        email: Option<&str>,
        phone: Option<&str>,
        channel: &str,
    ) -> ServiceResult<User> {
        let mut user = self.my_profile(tenant, actor).await?;
        let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(Email::parse(e).map_err(|e| ServiceError::invalid(&e))?),
            None => None,
        };
        let phone = match phone.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(parse_phone(p)?),
            None => None,
        };
        let channel = NoticeChannel::from_code(channel).ok_or_else(|| {
            invalid(
                "notice_channel_unknown",
                "Il canale di comunicazione scelto non esiste.",
            )
        })?;
        match channel {
            NoticeChannel::Email if email.is_none() => {
                return Err(invalid(
                    "notice_channel_needs_email",
                    "Per ricevere le comunicazioni via e-mail indica un indirizzo e-mail.",
                ));
            }
            NoticeChannel::Sms if phone.is_none() => {
                return Err(invalid(
                    "notice_channel_needs_phone",
                    "Per ricevere le comunicazioni via SMS indica un numero di cellulare.",
                ));
            }
            _ => {}
        }
        let t = self.tenant(tenant)?;
        let now = Timestamp::now();
        user.data.email = email;
        user.data.phone = phone;
        user.data.notice_channel = channel;
        user.updated_at = now;
        let mut tx = self.db().begin().await?;
        tx.update_user(&user).await?;
        record(
            &mut tx,
            &t,
            "user.contacts_updated",
            &UserChange {
                user: user.id,
                at: now,
            },
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(user)
    }

    /// Everything Palazzo holds about the signed-in user (GDPR art. 15), as
    /// a JSON document.
    pub async fn my_personal_data(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<serde_json::Value> {
        let user = self.my_profile(tenant, actor).await?;
        let links = self.db().identity_links(tenant, user.id).await?;
        let sign_ins = self.db().sign_ins(tenant, user.id, u32::MAX).await?;
        let grants = self.db().role_grants(tenant, Some(user.id)).await?;
        let t = self.tenant(tenant)?;
        Ok(serde_json::json!({
            "titolare": { "ente": t.data.name, "codice_fiscale": t.data.codice_fiscale.as_str(), "pec": t.data.pec.as_str() },
            "generato_il": Timestamp::now().to_string(),
            "profilo": {
                "codice_fiscale": user.data.codice_fiscale.as_ref().map(CodiceFiscale::as_str),
                "nome": user.data.given_name,
                "cognome": user.data.family_name,
                "data_di_nascita": user.data.birth_date.map(|d| d.to_string()),
                "luogo_di_nascita": user.data.birth_place,
                "email": user.data.email.as_ref().map(Email::as_str),
                "telefono": user.data.phone,
                "canale_comunicazioni": user.data.notice_channel.code(),
                "creato_il": user.created_at.to_string(),
                "aggiornato_il": user.updated_at.to_string(),
            },
            "identita_digitali": links.iter().map(|l| serde_json::json!({
                "tipo": l.provider, "gestore": l.issuer, "primo_accesso": l.first_seen.to_string(), "ultimo_accesso": l.last_seen.to_string(),
            })).collect::<Vec<_>>(),
            "accessi": sign_ins.iter().map(|s| serde_json::json!({
                "quando": s.time.to_string(), "tipo": s.provider, "livello": s.acr,
            })).collect::<Vec<_>>(),
            "ruoli": grants.iter().map(|g| serde_json::json!({
                "ruolo": g.role.code(), "ufficio": (!g.office.is_unset()).then_some(g.office.0), "dal": g.granted_at.to_string(),
            })).collect::<Vec<_>>(),
        }))
    }

    /// Staff and their roles in a comune (admin page).
    pub async fn staff_with_roles(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<(User, Vec<RoleGrant>)>> {
        actor.require(Permission::ManageRoles)?;
        let users = self.db().staff_users(tenant).await?;
        let grants = self.db().role_grants(tenant, None).await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let mine = grants.iter().filter(|g| g.user == u.id).cloned().collect();
                (u, mine)
            })
            .collect())
    }

    /// Grants a role to the user with a codice fiscale (who must have signed
    /// in once). Only comune and platform administrators may; only platform
    /// administrators grant the platform role. Ledgered.
    pub async fn grant_role(
        &self,
        tenant: TenantId,
        actor: &Actor,
        user: UserId,
        role: Role,
        office: OfficeId,
    ) -> ServiceResult<bool> {
        self.change_role(tenant, actor, user, role, office, true)
            .await
    }

    /// Revokes a role. Same rules as [`App::grant_role`]. Ledgered.
    pub async fn revoke_role(
        &self,
        tenant: TenantId,
        actor: &Actor,
        user: UserId,
        role: Role,
        office: OfficeId,
    ) -> ServiceResult<bool> {
        self.change_role(tenant, actor, user, role, office, false)
            .await
    }

    async fn change_role(
        &self,
        tenant: TenantId,
        actor: &Actor,
        user: UserId,
        role: Role,
        office: OfficeId,
        grant: bool,
    ) -> ServiceResult<bool> {
        actor.require(Permission::ManageRoles)?;
        check_grant(actor, role, office)?;
        if grant {
            if self.db().user(tenant, user).await?.is_none() {
                return Err(ServiceError::NotFound);
            }
            if !office.is_unset()
                && !self
                    .db()
                    .offices(tenant)
                    .await?
                    .iter()
                    .any(|o| o.id == office)
            {
                return Err(invalid("office_unknown", "L'ufficio indicato non esiste."));
            }
        }
        let t = self.tenant(tenant)?;
        let g = RoleGrant {
            user,
            role,
            office,
            source: GrantSource::Admin,
            granted_at: Timestamp::now(),
        };
        let mut tx = self.db().begin().await?;
        let changed = if grant {
            tx.insert_role_grant(tenant, &g).await?
        } else {
            tx.delete_role_grant(tenant, user, role, office).await?
        };
        let kind = if grant {
            "role.granted"
        } else {
            "role.revoked"
        };
        if changed {
            record(&mut tx, &t, kind, &g).await?;
        }
        tx.commit().await?;
        if changed {
            self.ledger_changed(tenant);
            tracing::info!(user = user.0, role = %role, office = office.0, kind, "role changed");
        }
        Ok(changed)
    }

    /// Replaces the roles a staff provider grants a user (mapped from its
    /// groups at sign-in) with `roles`; roles assigned in Palazzo stay.
    /// Each change is ledgered.
    pub async fn sync_idp_roles(
        &self,
        tenant: TenantId,
        user: UserId,
        roles: &[(Role, OfficeId)],
    ) -> ServiceResult<()> {
        let t = self.tenant(tenant)?;
        let current: Vec<RoleGrant> = self
            .db()
            .role_grants(tenant, Some(user))
            .await?
            .into_iter()
            .filter(|g| g.source == GrantSource::Idp)
            .collect();
        let now = Timestamp::now();
        let mut tx = self.db().begin().await?;
        let mut changed = false;
        for g in &current {
            if !roles.contains(&(g.role, g.office)) {
                tx.delete_role_grant(tenant, user, g.role, g.office).await?;
                record(&mut tx, &t, "role.revoked", g).await?;
                changed = true;
            }
        }
        for &(role, office) in roles {
            if role == Role::AdminPiattaforma {
                continue; // never from a comune's provider
            }
            let g = RoleGrant {
                user,
                role,
                office,
                source: GrantSource::Idp,
                granted_at: now,
            };
            if tx.insert_role_grant(tenant, &g).await? {
                record(&mut tx, &t, "role.granted", &g).await?;
                changed = true;
            }
        }
        tx.commit().await?;
        if changed {
            self.ledger_changed(tenant);
        }
        Ok(())
    }
}

impl App {
    /// The user with a codice fiscale in a comune, for administrators.
    pub async fn find_user_by_codice_fiscale(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: &str,
    ) -> ServiceResult<User> {
        actor.require(Permission::ManageRoles)?;
        let cf = CodiceFiscale::parse(cf).map_err(|e| ServiceError::invalid(&e))?;
        self.db()
            .user_by_codice_fiscale(tenant, &cf)
            .await?
            .ok_or_else(|| {
                invalid(
                    "user_never_signed_in",
                    "Nessuna persona con questo codice fiscale ha mai effettuato l'accesso al sito del Comune.",
                )
            })
    }

    /// The first residents of the population register (the demonstration
    /// sign-in page; the web layer offers it only inside `palazzo demo`).
    pub async fn demo_residents(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> ServiceResult<Vec<PopPerson>> {
        Ok(self.db().residents(tenant, limit).await?)
    }

    /// A resident by codice fiscale (demonstration sign-in).
    pub async fn demo_resident(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> ServiceResult<Option<PopPerson>> {
        Ok(self.db().resident(tenant, cf).await?)
    }
}

/// Does a sign-in through `provider` prove the codice fiscale it states?
/// SPID and CIE do (and the demonstration's synthetic residents).
fn proves_codice_fiscale(provider: &str) -> bool {
    matches!(provider, "spid" | "cie" | "demo")
}

async fn tx_find_user(
    app: &App,
    tenant: TenantId,
    id: &VerifiedIdentity,
    verified_cf: Option<&CodiceFiscale>,
) -> ServiceResult<Option<User>> {
    if let Some(u) = app
        .db()
        .user_by_link(tenant, &id.issuer, &id.subject)
        .await?
    {
        return Ok(Some(u));
    }
    if let Some(cf) = verified_cf {
        return Ok(app.db().user_by_codice_fiscale(tenant, cf).await?);
    }
    Ok(None)
}

fn check_grant(actor: &Actor, role: Role, office: OfficeId) -> ServiceResult<()> {
    if role == Role::Cittadino {
        return Err(invalid(
            "role_not_grantable",
            "Il ruolo di cittadino deriva dall'identità digitale e non si assegna.",
        ));
    }
    if role == Role::AdminPiattaforma && !actor.principal.can(Permission::ManagePlatform) {
        return Err(ServiceError::Forbidden);
    }
    match (role.is_office_scoped(), office.is_unset()) {
        (true, true) => Err(invalid(
            "role_needs_office",
            "Questo ruolo si assegna per un ufficio: scegli l'ufficio.",
        )),
        (false, false) => Err(invalid(
            "role_without_office",
            "Questo ruolo vale per tutto il Comune: non indicare un ufficio.",
        )),
        _ => Ok(()),
    }
}

/// An Italian or international phone number: digits, spaces and an
/// optional leading `+`, 6 to 15 digits (ITU-T E.164).
fn parse_phone(p: &str) -> ServiceResult<String> {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let ok = p
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || (c == '+' && i == 0));
    if ok && (6..=15).contains(&digits) {
        Ok(p.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Err(invalid(
            "phone_invalid",
            "Il numero di telefono può contenere solo cifre, spazi e un + iniziale (da 6 a 15 cifre).",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(parse_phone("+39 333  1234567").unwrap(), "+39 333 1234567");
        assert!(parse_phone("333-1234567").is_err());
        assert!(parse_phone("12345").is_err());
        assert!(parse_phone("3+33").is_err());
    }

    #[test]
    fn grants_need_the_right_scope() {
        let admin = Actor {
            user: Some(UserId(1)),
            principal: Principal {
                grants: vec![Grant {
                    role: Role::AdminComune,
                    office: None,
                }],
            },
            ..Actor::default()
        };
        assert!(check_grant(&admin, Role::Operatore, OfficeId(2)).is_ok());
        assert!(check_grant(&admin, Role::Operatore, OfficeId(0)).is_err());
        assert!(check_grant(&admin, Role::Dirigente, OfficeId(2)).is_err());
        assert!(check_grant(&admin, Role::Cittadino, OfficeId(0)).is_err());
        assert!(matches!(
            check_grant(&admin, Role::AdminPiattaforma, OfficeId(0)),
            Err(ServiceError::Forbidden)
        ));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), ha);
    }
}
