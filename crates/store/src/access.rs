//! Records of sign-in and access (issue 3): users, identity links, sign-ins,
//! role grants, break-glass administrators and server-side sessions.

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Role;
use palazzo_domain::cbor::Value;
use palazzo_domain::ids::{CodiceFiscale, Email};
use serde::{Deserialize, Serialize};

use crate::{OfficeId, Recorded, TenantId};

/// Identifies a user within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// Identifies a break-glass administrator (installation-wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AdminId(pub i64);

/// How the citizen wants to receive notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeChannel {
    /// E-mail (default).
    #[default]
    Email,
    /// Text message to the mobile phone.
    Sms,
    /// Paper mail to the residence.
    Posta,
    /// The IO app.
    App,
}

impl NoticeChannel {
    /// Every channel, in display order.
    pub const ALL: [NoticeChannel; 4] = [
        NoticeChannel::Email,
        NoticeChannel::Sms,
        NoticeChannel::App,
        NoticeChannel::Posta,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            NoticeChannel::Email => "email",
            NoticeChannel::Sms => "sms",
            NoticeChannel::Posta => "posta",
            NoticeChannel::App => "app",
        }
    }

    /// The Italian label.
    pub fn label_it(self) -> &'static str {
        match self {
            NoticeChannel::Email => "E-mail",
            NoticeChannel::Sms => "SMS",
            NoticeChannel::Posta => "Posta ordinaria",
            NoticeChannel::App => "App IO",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<NoticeChannel> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// The editable data of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Codice fiscale from the verified identity (citizens; optional for staff).
    pub codice_fiscale: Option<CodiceFiscale>,
    /// Given name(s).
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth, when the identity provider releases it.
    pub birth_date: Option<Date>,
    /// Place of birth, when released.
    pub birth_place: Option<String>,
    /// Contact e-mail (completed by the user).
    pub email: Option<Email>,
    /// Contact phone (completed by the user).
    pub phone: Option<String>,
    /// Preferred channel for notices.
    pub notice_channel: NoticeChannel,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Owner.
    pub tenant: TenantId,
    /// Data.
    pub data: NewUser,
    /// First sign-in.
    pub created_at: Timestamp,
    /// Last change of the data.
    pub updated_at: Timestamp,
}

/// One way a user signs in: the `(issuer, subject)` pair of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLink {
    /// Provider entity id / issuer URL (`local` and `demo` for the built-ins).
    pub issuer: String,
    /// Subject at that provider.
    pub subject: String,
    /// The user.
    pub user: UserId,
    /// `spid`, `cie`, `oidc`, `demo`.
    pub provider: String,
    /// First sign-in through this link.
    pub first_seen: Timestamp,
    /// Last sign-in through this link.
    pub last_seen: Timestamp,
}

/// One sign-in of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// When.
    pub time: Timestamp,
    /// `spid`, `cie`, `oidc`, `demo`.
    pub provider: String,
    /// Level of assurance, if the provider states one.
    pub acr: Option<String>,
}

/// Where a role grant comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantSource {
    /// Assigned by an administrator in Palazzo.
    Admin,
    /// Mapped from the staff identity provider's groups at sign-in.
    Idp,
}

impl GrantSource {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            GrantSource::Admin => "admin",
            GrantSource::Idp => "idp",
        }
    }
}

/// A role held by a user in a comune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The user.
    pub user: UserId,
    /// The role.
    pub role: Role,
    /// The office for office-scoped roles; unset (0) otherwise.
    pub office: OfficeId,
    /// Who granted it.
    pub source: GrantSource,
    /// When.
    pub granted_at: Timestamp,
}

impl Recorded for RoleGrant {
    fn subject(&self) -> String {
        format!("user:{}", self.user.0)
    }
    fn state(&self) -> Value {
        Value::Map(vec![
            (
                Value::Text("role".into()),
                Value::Text(self.role.code().into()),
            ),
            (Value::Text("office".into()), Value::int(self.office.0)),
            (
                Value::Text("source".into()),
                Value::Text(self.source.code().into()),
            ),
        ])
    }
}

impl Recorded for User {
    fn subject(&self) -> String {
        format!("user:{}", self.id.0)
    }
    /// The ledger binds only that the profile changed, not its personal
    /// data: the state is the change time (data minimisation, GDPR art. 5).
    fn state(&self) -> Value {
        Value::Map(vec![(
            Value::Text("updated_at".into()),
            Value::Text(self.updated_at.to_string()),
        )])
    }
}

/// A new break-glass administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLocalAdmin {
    /// `None` = administrator of the platform; otherwise of that comune only.
    pub tenant: Option<TenantId>,
    /// Login name, unique in the installation.
    pub username: String,
    /// Name shown in the back office and the ledger.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_phc: String,
    /// TOTP shared secret (20 random bytes).
    pub totp_secret: Vec<u8>,
}

/// A stored break-glass administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAdmin {
    /// Id.
    pub id: AdminId,
    /// Data.
    pub data: NewLocalAdmin,
    /// Last TOTP time step accepted (replay protection).
    pub totp_last_step: u64,
    /// Consecutive failed attempts.
    pub failed_attempts: u32,
    /// Locked out until then.
    pub locked_until: Option<Timestamp>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A server-side session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie token.
    pub id_hash: [u8; 32],
    /// The comune (the host the cookie belongs to).
    pub tenant: TenantId,
    /// Signed-in user, if any.
    pub user: Option<UserId>,
    /// Signed-in break-glass administrator, if any.
    pub admin: Option<AdminId>,
    /// Synchronizer CSRF token.
    pub csrf: String,
    /// How the principal signed in.
    pub provider: Option<String>,
    /// Level of assurance of the sign-in.
    pub acr: Option<String>,
    /// Small JSON document: sign-in transaction, return path.
    pub data: String,
    /// Creation (absolute timeout counts from here).
    pub created_at: Timestamp,
    /// Last activity (idle timeout counts from here).
    pub last_seen: Timestamp,
    /// Absolute expiry.
    pub expires_at: Timestamp,
}

/// Identifies an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ApiTokenId(pub i64);

/// A new API key: a staff member's bearer token for the JSON API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// The comune it acts in.
    pub tenant: TenantId,
    /// The user it acts for (with the user's roles at each call).
    pub user: UserId,
    /// SHA-256 of the token; the token itself is never stored.
    pub token_hash: [u8; 32],
    /// What the owner calls it ("gestionale contabilità").
    pub label: String,
    /// Creation.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// A stored API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Id.
    pub id: ApiTokenId,
    /// Data.
    pub data: NewApiToken,
    /// Last call made with it (updated at most every few minutes).
    pub last_used_at: Option<Timestamp>,
    /// Revocation, if revoked.
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Usable at `now`: neither revoked nor expired.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.data.expires_at
    }
}

impl Recorded for ApiToken {
    fn subject(&self) -> String {
        format!("user:{}", self.data.user.0)
    }
    /// The key's id, label and validity; never the token or its hash.
    fn state(&self) -> Value {
        let t = |s: &str| Value::Text(s.to_owned());
        Value::Map(vec![
            (t("api_token"), Value::int(self.id.0)),
            (t("label"), t(&self.data.label)),
            (t("expires_at"), t(&self.data.expires_at.to_string())),
            (
                t("revoked_at"),
                self.revoked_at
                    .map_or(Value::Null, |r| Value::Text(r.to_string())),
            ),
        ])
    }
}
