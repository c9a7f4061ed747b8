//! The storage contract of Palazzo.
//!
//! Repository traits ([`Store`], [`StoreTx`]), the records they move
//! ([`model`]) and [`StoreError`]. Each backend crate (`palazzo-store-sqlite`,
//! `palazzo-store-postgres`) implements the traits with its own migrations;
//! [`conformance`] is the one suite that both must pass. Nothing above this
//! layer writes SQL.

pub mod access;
pub mod anagrafe;
pub mod appuntamenti;
pub mod canone;
pub mod certificati;
pub mod conformance;
pub mod emergenza;
pub mod fascicoli;
pub mod mail;
pub mod model;
pub mod pratiche;
pub mod protocollo;
pub mod registro;
pub mod rows;
pub mod segnatura;
pub mod tari;
pub mod tributi;
pub mod versions;

use std::future::Future;

// The types named in the access method lists, so the lists expand anywhere
// `palazzo_store::*` is imported.
pub use jiff::Timestamp;
pub use palazzo_domain::access::Role;
pub use palazzo_domain::ids::{self, CodiceFiscale};

pub use access::*;
pub use appuntamenti::*;
pub use canone::*;
pub use certificati::*;
pub use emergenza::*;
pub use fascicoli::*;
pub use mail::*;
pub use model::*;
pub use pratiche::*;
pub use protocollo::*;
pub use registro::*;
pub use segnatura::*;
pub use tari::*;
pub use tributi::*;
pub use versions::*;

/// Calls `$cb!` with the access reads of [`Store`] (issue 3), one
/// `fn name(&self, args) -> Ret;` each, so that the trait, the shared SQL
/// and every delegating implementation are written from one list.
#[macro_export]
macro_rules! access_reads {
    ($cb:ident) => {
        $cb! {
            /// A user by id.
            fn user(&self, tenant: TenantId, id: UserId) -> Option<User>;
            /// The user an identity `(issuer, subject)` is linked to.
            fn user_by_link(&self, tenant: TenantId, issuer: &str, subject: &str) -> Option<User>;
            /// The user with a codice fiscale.
            fn user_by_codice_fiscale(&self, tenant: TenantId, cf: &CodiceFiscale) -> Option<User>;
            /// Users holding at least one role grant, by family and given name.
            fn staff_users(&self, tenant: TenantId) -> Vec<User>;
            /// Role grants of a tenant, or of one user.
            fn role_grants(&self, tenant: TenantId, user: Option<UserId>) -> Vec<RoleGrant>;
            /// The identity links of a user.
            fn identity_links(&self, tenant: TenantId, user: UserId) -> Vec<IdentityLink>;
            /// The newest sign-ins of a user, newest first.
            fn sign_ins(&self, tenant: TenantId, user: UserId, limit: u32) -> Vec<SignIn>;
            /// A break-glass administrator by login name.
            fn local_admin_by_username(&self, username: &str) -> Option<LocalAdmin>;
            /// A break-glass administrator by id.
            fn local_admin(&self, id: AdminId) -> Option<LocalAdmin>;
            /// A session by the hash of its token.
            fn session(&self, id_hash: &[u8; 32]) -> Option<SessionRecord>;
            /// The first residents of the population register, by id (the demo sign-in page).
            fn residents(&self, tenant: TenantId, limit: u32) -> Vec<PopPerson>;
            /// A resident by codice fiscale.
            fn resident(&self, tenant: TenantId, cf: &CodiceFiscale) -> Option<PopPerson>;
            /// An API key by the SHA-256 of its token (any tenant: the caller checks).
            fn api_token(&self, token_hash: &[u8; 32]) -> Option<ApiToken>;
            /// The API keys of a user, newest first (revoked and expired included).
            fn api_tokens(&self, tenant: TenantId, user: UserId) -> Vec<ApiToken>;
        }
    };
}

/// Calls `$cb!` with the access writes of [`StoreTx`] (issue 3), like
/// [`access_reads`].
#[macro_export]
macro_rules! access_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts a user.
            fn insert_user(&mut self, tenant: TenantId, u: &NewUser, now: Timestamp) -> User;
            /// Replaces a user's data and `updated_at`.
            fn update_user(&mut self, u: &User) -> ();
            /// Inserts an identity link, or moves `last_seen` of an existing one.
            fn upsert_identity_link(&mut self, tenant: TenantId, l: &IdentityLink) -> ();
            /// Records a sign-in.
            fn insert_sign_in(&mut self, tenant: TenantId, user: UserId, s: &SignIn) -> ();
            /// Grants a role; false when the user already held it.
            fn insert_role_grant(&mut self, tenant: TenantId, g: &RoleGrant) -> bool;
            /// Revokes a role; false when the user did not hold it.
            fn delete_role_grant(&mut self, tenant: TenantId, user: UserId, role: Role, office: OfficeId) -> bool;
            /// Inserts a break-glass administrator.
            fn insert_local_admin(&mut self, a: &NewLocalAdmin, now: Timestamp) -> LocalAdmin;
            /// Records an accepted sign-in of an administrator whose TOTP code
            /// matched `step`: only if no code of this or a later step was
            /// accepted before (false: a replay, even a concurrent one).
            /// Resets the failure count and the lock.
            fn admin_sign_in_succeeded(&mut self, id: AdminId, step: u64) -> bool;
            /// Counts a failed sign-in of an administrator, atomically; the
            /// `max_failures`-th consecutive one locks the account until
            /// `lock_until` and restarts the count.
            fn admin_sign_in_failed(&mut self, id: AdminId, max_failures: u32, lock_until: Timestamp) -> ();
            /// Inserts a session.
            fn insert_session(&mut self, s: &SessionRecord) -> ();
            /// Moves a session's `last_seen`.
            fn touch_session(&mut self, id_hash: &[u8; 32], last_seen: Timestamp) -> ();
            /// Replaces a session's JSON data.
            fn update_session_data(&mut self, id_hash: &[u8; 32], data: &str) -> ();
            /// Deletes a session.
            fn delete_session(&mut self, id_hash: &[u8; 32]) -> ();
            /// Deletes every session of a user ("logout everywhere").
            fn delete_user_sessions(&mut self, tenant: TenantId, user: UserId) -> u64;
            /// Deletes every session of an administrator.
            fn delete_admin_sessions(&mut self, admin: AdminId) -> u64;
            /// Deletes the sessions past their absolute expiry.
            fn delete_expired_sessions(&mut self, now: Timestamp) -> u64;
            /// Inserts an API key.
            fn insert_api_token(&mut self, t: &NewApiToken) -> ApiToken;
            /// Revokes an API key of a user; false when it was not theirs or
            /// already revoked.
            fn revoke_api_token(&mut self, tenant: TenantId, user: UserId, id: ApiTokenId, at: Timestamp) -> bool;
            /// Moves an API key's `last_used_at`.
            fn touch_api_token(&mut self, id: ApiTokenId, at: Timestamp) -> ();
        }
    };
}

/// Calls `$cb!` with the protocollo reads of [`Store`] (issue 4).
#[macro_export]
macro_rules! protocol_reads {
    ($cb:ident) => {
        $cb! {
            /// A registration by id.
            fn registration(&self, tenant: TenantId, id: RegistrationId) -> Option<Registration>;
            /// The changes of a registration's classification and office, oldest first.
            fn protocol_changes(&self, tenant: TenantId, id: RegistrationId) -> Vec<ProtocolChange>;
            /// A registration by register, year and number.
            fn registration_by_number(&self, tenant: TenantId, register: &str, year: i16, number: u64) -> Option<Registration>;
            /// Registrations of a register and year with number > `after`, by number, at most `limit`.
            fn registrations(&self, tenant: TenantId, register: &str, year: i16, after: u64, limit: u32) -> Vec<Registration>;
            /// Registrations matching a search, newest first, at most `limit`.
            fn search_registrations(&self, tenant: TenantId, q: &RegistrationSearch, limit: u32) -> Vec<Registration>;
            /// Every registration of a tenant with id > `after`, by id, at most `limit` (verification).
            fn registrations_by_id(&self, tenant: TenantId, after: RegistrationId, limit: u32) -> Vec<Registration>;
            /// The incoming registrations whose sender has fiscal code
            /// `fiscal_code` (trimmed, case-insensitive), newest first, at most
            /// `limit` (indexed: the citizen's "Le mie protocollazioni").
            fn registrations_from_sender(&self, tenant: TenantId, fiscal_code: &str, limit: u32) -> Vec<Registration>;
            /// A hand-off by id.
            fn handoff(&self, tenant: TenantId, id: HandoffId) -> Option<Handoff>;
            /// The hand-offs of a registration or fascicolo, in order.
            fn handoffs_of(&self, tenant: TenantId, subject: HandoffSubject) -> Vec<Handoff>;
            /// Every step of every hand-off of a registration or fascicolo, in time order (the timeline).
            fn handoff_steps(&self, tenant: TenantId, subject: HandoffSubject) -> Vec<HandoffStep>;
            /// The hand-offs of an office in the given states, oldest first (the inbox).
            fn office_handoffs(&self, tenant: TenantId, office: OfficeId, open_only: bool) -> Vec<Handoff>;
            /// The hand-offs assigned by name to a person, oldest first; with
            /// `open_only` those still `assegnato` or `accettato` (the personal
            /// inbox, "Le mie assegnazioni").
            fn user_handoffs(&self, tenant: TenantId, user: UserId, open_only: bool) -> Vec<Handoff>;
            /// The refused hand-offs assigned from `desk` that the desk has
            /// neither re-assigned (no hand-off continues them) nor taken note
            /// of (no `preso_atto` step), oldest first: they are back in the
            /// desk's inbox, flagged "Rifiutata".
            fn returned_handoffs(&self, tenant: TenantId, desk: HandoffDesk) -> Vec<Handoff>;
            /// Every hand-off of a tenant with id > `after`, by id, at most `limit`.
            fn handoffs_by_id(&self, tenant: TenantId, after: HandoffId, limit: u32) -> Vec<Handoff>;
            /// The segnatura stored with a registration (Allegato 6), if any.
            fn segnatura(&self, tenant: TenantId, registration: RegistrationId) -> Option<SegnaturaRecord>;
            /// The registration of a received protocol message, by the sender's identifier.
            fn registration_by_sender(&self, tenant: TenantId, sender: &SenderIdentifier) -> Option<Registration>;
            /// Every segnatura of a tenant with registration id > `after`, by id, at most `limit` (verification).
            fn segnature_by_registration(&self, tenant: TenantId, after: RegistrationId, limit: u32) -> Vec<SegnaturaRecord>;
            /// The new versions of the documents of a registration (SYS-3),
            /// by document then version.
            fn document_versions(&self, tenant: TenantId, registration: RegistrationId) -> Vec<DocumentVersion>;
            /// Every document version of a tenant with id > `after`, by id, at most `limit` (verification).
            fn document_versions_by_id(&self, tenant: TenantId, after: DocumentVersionId, limit: u32) -> Vec<DocumentVersion>;
            /// The received notice of annulment of a registration (Allegato 6), if any.
            fn annulment_notice(&self, tenant: TenantId, registration: RegistrationId) -> Option<AnnulmentNotice>;
            /// Every received notice of annulment of a tenant with registration id > `after`, by id, at most `limit` (verification).
            fn annulment_notices(&self, tenant: TenantId, after: RegistrationId, limit: u32) -> Vec<AnnulmentNotice>;
            /// The comune's classification policy (TI-2), if it was ever set.
            fn protocol_policy(&self, tenant: TenantId) -> Option<ProtocolPolicy>;
        }
    };
}

/// Calls `$cb!` with the protocollo writes of [`StoreTx`] (issue 4).
#[macro_export]
macro_rules! protocol_writes {
    ($cb:ident) => {
        $cb! {
            /// Takes the next number of (register, year) — DECISIONS 7: the
            /// counter row, `UPDATE … RETURNING`, in this transaction — and
            /// the registration time, read after the row is held and never
            /// before the previous registration's (DECISIONS 8).
            fn next_protocol_number(&mut self, tenant: TenantId, register: &str, year: i16) -> (u64, Timestamp);
            /// Takes `count` consecutive numbers at once (group commit), each
            /// with its registration time, strictly increasing, read after the
            /// counter row is held (DECISIONS 7, 8).
            fn next_protocol_numbers(&mut self, tenant: TenantId, register: &str, year: i16, count: u32) -> Vec<(u64, Timestamp)>;
            /// Stores a registration with its number and time.
            fn insert_registration(&mut self, tenant: TenantId, r: &NewRegistration, year: i16, number: u64, at: Timestamp) -> Registration;
            /// Inserts several registrations with one statement (group
            /// commit); the result is in the order given.
            fn insert_registrations(&mut self, tenant: TenantId, rows: &[NumberedRegistration]) -> Vec<Registration>;
            /// Replaces the modifiable fields, classification and assignment,
            /// records who and when on the entry and appends the change, with
            /// the values before, to its history. Not found (nothing changes)
            /// when the entry is missing or annulled.
            fn update_registration_assignment(&mut self, tenant: TenantId, id: RegistrationId, change: &AssignmentChange) -> ProtocolChange;
            /// Annuls a registration; false when it was already annulled.
            fn annul_registration(&mut self, tenant: TenantId, id: RegistrationId, a: &Annulment) -> bool;
            /// Inserts a hand-off in state `assegnato`.
            fn insert_handoff(&mut self, tenant: TenantId, h: &NewHandoff, at: Timestamp) -> Handoff;
            /// Moves a hand-off from state `from` to `to`; false when it is no longer in `from`.
            fn set_handoff_state(&mut self, tenant: TenantId, id: HandoffId, from: HandoffState, to: HandoffState, at: Timestamp) -> bool;
            /// Forwards hand-off `id` in one step of the store: it moves from
            /// `from` to `inoltrato` with an `inoltrato` step, and `next` (whose
            /// parent is `id`) is inserted in state `assegnato` with its
            /// `assegnato` step, both at `at`, by `by` = (actor, note). `None`
            /// (nothing written) when `id` is no longer in `from`; an error when
            /// `next` cannot be stored, and then the caller's transaction must
            /// not be committed: no half-forward can remain.
            fn forward_handoff(&mut self, tenant: TenantId, id: HandoffId, from: HandoffState, next: &NewHandoff, by: (&str, Option<&str>), at: Timestamp) -> Option<Handoff>;
            /// Writes on forwarded hand-off `id` its continuation and the
            /// SHA-256 of the state that one was created with
            /// ([`Handoff::continuation`]), before the one `handoff.inoltrato`
            /// event records it (LOG-6).
            fn bind_handoff_continuation(&mut self, tenant: TenantId, id: HandoffId, continuation: HandoffId, state: [u8; 32]) -> ();
            /// Records that the desk took note of refused hand-off `id` (a
            /// `preso_atto` step); `None` (nothing written) unless it is
            /// refused and neither continued nor already noted.
            fn note_refused_handoff(&mut self, tenant: TenantId, id: HandoffId, actor: &str, at: Timestamp, note: Option<&str>) -> Option<HandoffStep>;
            /// Appends a step (its number is the next of the hand-off); returns it.
            fn append_handoff_step(&mut self, tenant: TenantId, handoff: HandoffId, action: &str, actor: &str, at: Timestamp, note: Option<&str>) -> HandoffStep;
            /// Stores the segnatura of a registration (Allegato 6; PR-2: in
            /// the registration's transaction). A sender identifier already
            /// stored is a [`StoreError::Conflict`].
            fn insert_segnatura(&mut self, tenant: TenantId, s: &NewSegnatura, at: Timestamp) -> SegnaturaRecord;
            /// Writes on registration `id` the SHA-256 of its segnatura
            /// record's state ([`Registration::segnatura_state`]), before the
            /// registration's one event records it (LOG-6).
            fn bind_registration_segnatura(&mut self, tenant: TenantId, id: RegistrationId, state: [u8; 32]) -> ();
            /// Writes on registration `id` the records filed with it in the
            /// same call ([`Registration::bindings`], migration 0029), before
            /// the registration's one event records it (LOG-6). Written
            /// once: a second write is refused.
            fn bind_registration_records(&mut self, tenant: TenantId, id: RegistrationId, bindings: &[Binding]) -> ();
            /// Stores a new version of a document of a registration (SYS-3),
            /// append-only; `None` when the registration is missing or
            /// annulled. A version number already taken for the same
            /// document is a [`StoreError::Conflict`].
            fn insert_document_version(&mut self, tenant: TenantId, v: &NewDocumentVersion, at: Timestamp) -> Option<DocumentVersion>;
            /// Stores a received notice of annulment; `None` (nothing
            /// written) when the registration already has one.
            fn insert_annulment_notice(&mut self, tenant: TenantId, n: &NewAnnulmentNotice, at: Timestamp) -> Option<AnnulmentNotice>;
            /// Sets the comune's classification policy (TI-2), replacing the previous one.
            fn set_protocol_policy(&mut self, tenant: TenantId, p: &ProtocolPolicy) -> ();
        }
    };
}

/// Calls `$cb!` with the titolario and fascicolo reads of [`Store`]
/// (issue 4, part 3).
#[macro_export]
macro_rules! filing_reads {
    ($cb:ident) => {
        $cb! {
            /// The versions of a tenant's titolario, oldest first.
            fn titolario_versions(&self, tenant: TenantId) -> Vec<TitolarioVersionInfo>;
            /// One version of a tenant's titolario with its voices; the newest when `version` is `None`.
            fn titolario_version(&self, tenant: TenantId, version: Option<u32>) -> Option<TitolarioVersion>;
            /// A fascicolo by row id.
            fn fascicolo(&self, tenant: TenantId, id: FascicoloRowId) -> Option<Fascicolo>;
            /// A fascicolo by its identifier (`2026-VI.3-12`, canonical).
            fn fascicolo_by_code(&self, tenant: TenantId, code: &str) -> Option<Fascicolo>;
            /// Fascicoli matching a query, by id.
            fn search_fascicoli(&self, tenant: TenantId, q: &FascicoloQuery) -> Vec<Fascicolo>;
            /// The documents of a fascicolo, in filing order.
            fn fascicolo_documents(&self, tenant: TenantId, id: FascicoloRowId) -> Vec<FascicoloDocument>;
            /// The fascicoli a registration is filed in, by id.
            fn fascicoli_of_registration(&self, tenant: TenantId, registration: RegistrationId) -> Vec<Fascicolo>;
            /// The documents of the fascicoli with `first <= id <= last` (verification).
            fn fascicolo_links(&self, tenant: TenantId, first: FascicoloRowId, last: FascicoloRowId) -> Vec<(FascicoloRowId, FascicoloDocument)>;
            /// The sub-fascicoli of a fascicolo (direct children), by id.
            fn fascicolo_children(&self, tenant: TenantId, parent: FascicoloRowId) -> Vec<Fascicolo>;
        }
    };
}

/// Calls `$cb!` with the titolario and fascicolo writes of [`StoreTx`].
#[macro_export]
macro_rules! filing_writes {
    ($cb:ident) => {
        $cb! {
            /// Stores a whole titolario version; an existing version number is a [`StoreError::Conflict`].
            fn insert_titolario_version(&mut self, v: &TitolarioVersion) -> ();
            /// Takes the next fascicolo number of (year, classification) —
            /// DECISIONS 7: the counter row, `UPDATE … RETURNING`, in this transaction.
            fn next_fascicolo_number(&mut self, tenant: TenantId, year: i16, classification: &str) -> u32;
            /// Stores a fascicolo with its identifier and number. A
            /// sub-fascicolo is stored only while its parent is open: the
            /// parent's row is held first (a concurrent closing waits or
            /// wins); a closed or missing parent is [`StoreError::NotFound`].
            fn insert_fascicolo(&mut self, tenant: TenantId, f: &NewFascicolo, code: &str, year: i16, number: u32, at: Timestamp) -> Fascicolo;
            /// Closes an open fascicolo; false when it was already closed.
            fn close_fascicolo(&mut self, tenant: TenantId, id: FascicoloRowId, c: &FascicoloClosure) -> bool;
            /// Files a document in an **open** fascicolo; false when the
            /// fascicolo is closed (or missing) or the document already in it.
            fn add_fascicolo_document(&mut self, tenant: TenantId, id: FascicoloRowId, d: &FascicoloDocument) -> bool;
            /// Takes a document out of an **open** fascicolo; false when the
            /// fascicolo is closed or the document not in it.
            fn remove_fascicolo_document(&mut self, tenant: TenantId, id: FascicoloRowId, registration: RegistrationId) -> bool;
            /// Sets (or, with `None`, lifts) the restricted area of a
            /// fascicolo (TI-6); false when the fascicolo does not exist.
            fn set_fascicolo_restriction(&mut self, tenant: TenantId, id: FascicoloRowId, restriction: Option<&FascicoloRestriction>) -> bool;
        }
    };
}

/// Calls `$cb!` with the emergency-register reads of [`Store`] (DPR
/// 445/2000 art. 63; PR-10).
#[macro_export]
macro_rules! emergency_reads {
    ($cb:ident) => {
        $cb! {
            /// An emergency session by id, with its authorisations.
            fn emergency_session(&self, tenant: TenantId, id: EmergencySessionId) -> Option<EmergencySession>;
            /// An emergency session by its code (unique within the AOO).
            fn emergency_session_by_code(&self, tenant: TenantId, code: &str) -> Option<EmergencySession>;
            /// Every emergency session of a tenant, newest start first.
            fn emergency_sessions(&self, tenant: TenantId) -> Vec<EmergencySession>;
            /// The registration that recovered emergency number `number` of
            /// the emergency register `register` (emergency → ordinary).
            fn registration_by_emergency(&self, tenant: TenantId, register: &str, number: u64) -> Option<Registration>;
            /// Every registration that recovered an entry of the emergency
            /// register `register`, by emergency number.
            fn emergency_recoveries(&self, tenant: TenantId, register: &str) -> Vec<Registration>;
        }
    };
}

/// Calls `$cb!` with the emergency-register writes of [`StoreTx`].
#[macro_export]
macro_rules! emergency_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts an emergency session (no authorisation yet); a code
            /// already used in the tenant is a [`StoreError::Conflict`].
            fn insert_emergency_session(&mut self, tenant: TenantId, s: &NewEmergencySession) -> EmergencySession;
            /// Appends an authorisation to a session that is still open;
            /// false when the session is closed or missing. A `seq` already
            /// taken is a [`StoreError::Conflict`].
            fn insert_emergency_authorisation(&mut self, tenant: TenantId, session: EmergencySessionId, a: &EmergencyAuthorisation) -> bool;
            /// Closes a session; false when it was already closed or missing.
            fn close_emergency_session(&mut self, tenant: TenantId, session: EmergencySessionId, c: &EmergencyClosure) -> bool;
        }
    };
}

/// Declares trait methods from an [`access_reads`] list.
macro_rules! declare_reads {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $( $(#[$m])* fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = Result<$ret>> + Send; )*
    };
}

/// Declares trait methods from an [`access_writes`] list.
macro_rules! declare_writes {
    ($( $(#[$m:meta])* fn $name:ident(&mut self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $( $(#[$m])* fn $name(&mut self $(, $arg: $ty)*) -> impl Future<Output = Result<$ret>> + Send; )*
    };
}

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The requested row does not exist (for this tenant).
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; the payload names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// Stored data could not be turned back into domain types (tampering or a bug).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database: {0}")]
    Database(String),
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Read access and transactions. Implemented once per backend.
///
/// Every call that reads tenant data takes the [`TenantId`]: there is no way to
/// read another comune's rows by accident.
pub trait Store: Clone + Send + Sync + 'static {
    /// A write transaction.
    type Tx: StoreTx;

    /// Starts a write transaction (on SQLite `BEGIN IMMEDIATE`, so writers queue
    /// instead of failing on lock upgrade).
    fn begin(&self) -> impl Future<Output = Result<Self::Tx>> + Send;

    /// Is the database reachable?
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    /// All tenants (enti), default first.
    fn tenants(&self) -> impl Future<Output = Result<Vec<Tenant>>> + Send;
    /// The offices (uffici) of a tenant, by name.
    fn offices(&self, tenant: TenantId) -> impl Future<Output = Result<Vec<Office>>> + Send;
    /// The service catalogue of a tenant, by category then title.
    fn services(&self, tenant: TenantId) -> impl Future<Output = Result<Vec<Service>>> + Send;
    /// The FAQ of a tenant, in display order.
    fn faqs(&self, tenant: TenantId) -> impl Future<Output = Result<Vec<Faq>>> + Send;
    /// Per-page rating aggregates of a tenant.
    fn rating_summaries(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<RatingSummary>>> + Send;

    /// Number of residents, families and addresses of the synthetic/imported population.
    fn population_counts(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<PopulationCounts>> + Send;

    /// Ledger events of a tenant with `from <= seq < to`, in order.
    fn ledger_events(
        &self,
        tenant: TenantId,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<LedgerEvent>>> + Send;
    /// The ledger size (number of leaves) of a tenant.
    fn ledger_size(&self, tenant: TenantId) -> impl Future<Output = Result<u64>> + Send;
    /// Every checkpoint of a tenant, by size.
    fn checkpoints(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<CheckpointRecord>>> + Send;
    /// The newest checkpoint of a tenant, if any.
    fn latest_checkpoint(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Option<CheckpointRecord>>> + Send;
    /// Public keys registered for a tenant.
    fn signing_keys(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<SigningKeyRecord>>> + Send;

    access_reads!(declare_reads);
    protocol_reads!(declare_reads);
    filing_reads!(declare_reads);
    emergency_reads!(declare_reads);
    registro_reads!(declare_reads);
    anagrafe_reads!(declare_reads);
    certificate_reads!(declare_reads);
    pratiche_reads!(declare_reads);
    mail_reads!(declare_reads);
    booking_reads!(declare_reads);
    tributi_reads!(declare_reads);
    avvisi_reads!(declare_reads);
    tari_reads!(declare_reads);
    canone_reads!(declare_reads);
}

/// A write transaction. Dropped without [`StoreTx::commit`] it rolls back.
pub trait StoreTx: Send {
    /// Inserts a tenant and its ledger head.
    fn insert_tenant(&mut self, t: &NewTenant) -> impl Future<Output = Result<Tenant>> + Send;
    /// Replaces the editable fields of a tenant.
    fn update_tenant(&mut self, t: &Tenant) -> impl Future<Output = Result<()>> + Send;
    /// Inserts an office.
    fn insert_office(
        &mut self,
        tenant: TenantId,
        o: &NewOffice,
    ) -> impl Future<Output = Result<Office>> + Send;
    /// Inserts a service card.
    fn insert_service(
        &mut self,
        tenant: TenantId,
        s: &NewService,
    ) -> impl Future<Output = Result<Service>> + Send;
    /// Replaces the fields of a service card.
    fn update_service(&mut self, s: &Service) -> impl Future<Output = Result<()>> + Send;
    /// Inserts an FAQ entry.
    fn insert_faq(
        &mut self,
        tenant: TenantId,
        f: &NewFaq,
    ) -> impl Future<Output = Result<Faq>> + Send;
    /// Stores one anonymous page rating.
    fn insert_rating(
        &mut self,
        tenant: TenantId,
        r: &NewRating,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Appends one ledger event: takes the next sequence number from the
    /// tenant's ledger head (`UPDATE … RETURNING`, DECISIONS 7), *then* reads
    /// the clock (DECISIONS 8), computes the leaf hash and stores the row.
    fn append_event(
        &mut self,
        tenant: TenantId,
        event: &NewEvent,
    ) -> impl Future<Output = Result<LedgerEvent>> + Send;
    /// Appends several ledger events in order, as [`StoreTx::append_event`]
    /// does for one, with one head update for all of them (group commit):
    /// consecutive sequence numbers, strictly increasing times.
    fn append_events(
        &mut self,
        tenant: TenantId,
        events: &[NewEvent],
    ) -> impl Future<Output = Result<Vec<LedgerEvent>>> + Send;
    /// Stores a signed checkpoint.
    fn insert_checkpoint(
        &mut self,
        tenant: TenantId,
        c: &CheckpointRecord,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Registers a public key.
    fn insert_signing_key(
        &mut self,
        tenant: TenantId,
        k: &SigningKeyRecord,
    ) -> impl Future<Output = Result<()>> + Send;

    access_writes!(declare_writes);
    protocol_writes!(declare_writes);
    filing_writes!(declare_writes);
    emergency_writes!(declare_writes);
    registro_writes!(declare_writes);
    anagrafe_writes!(declare_writes);
    certificate_writes!(declare_writes);
    pratiche_writes!(declare_writes);
    mail_writes!(declare_writes);
    booking_writes!(declare_writes);
    tributi_writes!(declare_writes);
    avvisi_writes!(declare_writes);
    tari_writes!(declare_writes);
    canone_writes!(declare_writes);

    /// Commits.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
}
