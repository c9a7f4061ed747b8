//! The protocollo informatico (issue 4): registration, reassignment and
//! annulment, each one transaction with its ledger event.
//!
//! Registration is atomic (DPR 445/2000 art. 53 c.3; PR-2): the number is
//! taken from the register's counter row inside the transaction that stores
//! the entry and its ledger event, so a failure anywhere leaves neither a
//! consumed number nor a half-written entry. The number restarts on 1
//! January of the Europe/Rome calendar (art. 57, DECISIONS 8).

use jiff::Timestamp;
use palazzo_domain::access::Permission;
use palazzo_domain::protocollo::{
    self, Correspondent, Flow, ProtocolError, RegisterCode, check_correspondents, check_subject,
};
use palazzo_store::*;

use crate::access::Actor;
use crate::ledger::record;
use crate::segnatura::servizio::SegnaturaStep;
use crate::{App, ServiceError, ServiceResult};

/// The longest received-document number accepted.
pub const MAX_RECEIVED_NUMBER: usize = 100;

/// What a registration is made of, as the desk (or the API) gives it.
#[derive(Debug, Clone)]
pub struct RegistrationInput {
    /// The register; the general one when `None`.
    pub register: Option<RegisterCode>,
    /// In entrata, in uscita, interno.
    pub flow: Flow,
    /// Oggetto.
    pub subject: String,
    /// Mittente or destinatari.
    pub correspondents: Vec<Correspondent>,
    /// Number of the received document.
    pub received_number: Option<String>,
    /// Date of the received document.
    pub received_date: Option<jiff::civil::Date>,
    /// The primary document (already stored, by fingerprint).
    pub primary: DocumentRef,
    /// Attachments.
    pub attachments: Vec<DocumentRef>,
    /// Classification (titolario code such as `XI.2`).
    pub classification: Option<String>,
    /// The competent office.
    pub office: Option<OfficeId>,
    /// The emergency registration being recovered (art. 63), if any.
    pub emergency: Option<EmergencyRef>,
}

fn invalid(e: &ProtocolError) -> ServiceError {
    ServiceError::invalid(e)
}

/// The Europe/Rome civil year of an instant (the register year).
pub fn register_year(t: Timestamp) -> i16 {
    palazzo_domain::calendar::rome_date(t).year()
}

/// Who did it, as written in the register and the ledger.
pub(crate) fn operator(actor: &Actor) -> String {
    let who = match (actor.user, actor.admin) {
        (Some(u), _) => format!("user:{}", u.0),
        (None, Some(a)) => format!("admin:{}", a.0),
        (None, None) => "anonymous".to_owned(),
    };
    match &actor.name {
        Some(n) => format!("{n} ({who})"),
        None => who,
    }
}

impl App {
    pub(crate) async fn check_office(
        &self,
        tenant: TenantId,
        office: Option<OfficeId>,
    ) -> ServiceResult<()> {
        if let Some(o) = office
            && !self.portal(tenant).await?.offices.iter().any(|x| x.id == o)
        {
            return Err(ServiceError::Invalid {
                code: "office_unknown",
                message: "L'ufficio indicato non esiste.".into(),
            });
        }
        Ok(())
    }

    /// Registers a document (art. 53): number, time and fixed fields in one
    /// transaction with the ledger event `protocollo.registered`. An
    /// outgoing entry gets its sealed segnatura in the same transaction
    /// (Allegato 6; without an installed AOO seal it is refused:
    /// `segnatura_sigillo_mancante`).
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn register_protocol(
        &self,
        tenant: TenantId,
        actor: &Actor,
        input: RegistrationInput,
    ) -> ServiceResult<Registration> {
        // TI-2: under the "obbligatoria" policy a class is required here;
        // messages received through interoperability come in through
        // `register_protocol_with` and are registered "da classificare"
        // (see `classificazione`).
        actor.require(Permission::RegisterProtocol)?;
        self.check_classification_policy(tenant, input.classification.as_deref())
            .await?;
        self.register_protocol_with(tenant, actor, input, SegnaturaStep::ByFlow)
            .await
    }

    /// [`App::register_protocol`] with what to do about the segnatura.
    pub(crate) async fn register_protocol_with(
        &self,
        tenant: TenantId,
        actor: &Actor,
        input: RegistrationInput,
        segnatura: SegnaturaStep,
    ) -> ServiceResult<Registration> {
        actor.require(Permission::RegisterProtocol)?;
        let subject = check_subject(&input.subject).map_err(|e| invalid(&e))?;
        check_correspondents(input.flow, &input.correspondents).map_err(|e| invalid(&e))?;
        let received_number = match input.received_number.as_deref().map(str::trim) {
            Some(n)
                if n.chars().count() > MAX_RECEIVED_NUMBER || n.chars().any(char::is_control) =>
            {
                return Err(invalid(&ProtocolError::ReceivedNumber));
            }
            Some("") | None => None,
            Some(n) => Some(n.to_owned()),
        };
        // TI-2, TI-3: a voice open in the ente's current titolario (checked
        // again by the group commit if the titolario changed meanwhile).
        let (classification, checked_with) = self
            .check_classification_cached(tenant, input.classification.as_deref())
            .await?;
        self.check_office(tenant, input.office).await?;
        let t = self.tenant(tenant)?;
        let new = NewRegistration {
            register: input.register.unwrap_or_else(RegisterCode::general),
            flow: input.flow,
            subject,
            correspondents: input.correspondents,
            received_number,
            received_date: input.received_date,
            primary: input.primary,
            attachments: input.attachments,
            registered_by: operator(actor),
            emergency: input.emergency,
            classification,
            office: input.office,
        };
        // Allegato 6: the seal is loaded before the transaction.
        let segnatura = self.segnatura_plan(&t, new.flow, segnatura)?;
        // The segnatura names the class after the ente's current titolario,
        // read (and seeded if need be) before the transaction too.
        let titolario = match (&segnatura, &new.classification) {
            (crate::segnatura::servizio::SegnaturaPlan::Seal(_), Some(_)) => {
                Some(self.current_titolario(tenant).await?)
            }
            _ => None,
        };
        // Art. 53 c.3, PR-2: number, time, entry, ledger event and
        // segnatura in one transaction, shared with the registrations that
        // arrive meanwhile (group commit, see `group_commit`).
        let reg = self
            .commit_registration(tenant, new, segnatura, titolario, checked_with)
            .await?;
        tracing::info!(register = %reg.data.register, year = reg.year, number = %reg.number, "registered");
        Ok(reg)
    }

    /// A page of the register of `year` (general register), numbers after
    /// `after`, for staff who may read it.
    pub async fn protocol_register(
        &self,
        tenant: TenantId,
        actor: &Actor,
        year: i16,
        after: u64,
        limit: u32,
    ) -> ServiceResult<Vec<Registration>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self
            .db()
            .registrations(tenant, RegisterCode::general().as_str(), year, after, limit)
            .await?)
    }

    /// Registrations matching `q`, newest first (issue 4, part 8: search by
    /// year, date range, correspondent, subject words and class).
    pub async fn search_protocol(
        &self,
        tenant: TenantId,
        actor: &Actor,
        q: &RegistrationSearch,
        limit: u32,
    ) -> ServiceResult<Vec<Registration>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self.db().search_registrations(tenant, q, limit).await?)
    }

    /// A registration by number, for staff who may read the register.
    pub async fn protocol_by_number(
        &self,
        tenant: TenantId,
        actor: &Actor,
        year: i16,
        number: u64,
    ) -> ServiceResult<Option<Registration>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self
            .db()
            .registration_by_number(tenant, RegisterCode::general().as_str(), year, number)
            .await?)
    }

    /// A registration, for staff who may read the register.
    pub async fn protocol_entry(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
    ) -> ServiceResult<Registration> {
        actor.require(Permission::ReadProtocol)?;
        self.db()
            .registration(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Changes the modifiable fields, classification and assignment (LG §3:
    /// the only ones that may change), both given (`None` clears one).
    /// Ledgered as `protocollo.reassigned`.
    pub async fn reassign_protocol(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        classification: Option<&str>,
        office: Option<OfficeId>,
    ) -> ServiceResult<Registration> {
        self.update_protocol_assignment(tenant, actor, id, Some(classification), Some(office))
            .await
    }

    /// [`App::reassign_protocol`] where a field left out (the outer `None`)
    /// keeps its current value, as the JSON API's partial update wants: a
    /// body with only the office must not declassify the entry. A kept
    /// value is not checked again (a class closed since still classifies
    /// the entry, TI-3).
    pub async fn update_protocol_assignment(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        classification: Option<Option<&str>>,
        office: Option<Option<OfficeId>>,
    ) -> ServiceResult<Registration> {
        actor.require(Permission::RegisterProtocol)?;
        let classification = match classification {
            Some(c) => Some(self.check_classification(tenant, c).await?),
            None => None,
        };
        if let Some(o) = office {
            self.check_office(tenant, o).await?;
        }
        let mut reg = self.protocol_entry(tenant, actor, id).await?;
        if reg.annulment.is_some() {
            return Err(annulled());
        }
        let classification = classification.unwrap_or_else(|| reg.data.classification.clone());
        let office = office.unwrap_or(reg.data.office);
        // TI-2: where classification is mandatory a class can be changed,
        // never taken away.
        if classification.is_none()
            && reg.data.classification.is_some()
            && self.policy_in_force(tenant).await?.classification_mandatory
        {
            return Err(crate::classificazione::mandatory_refusal());
        }
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        // Art. 53 / PR-3: only classification and office change, and the
        // change keeps its author, its time and the values before. The store
        // refuses an entry annulled since it was read above (an annulment
        // that committed in between): nothing changes then.
        let change = AssignmentChange {
            classification,
            office,
            // Microseconds, as every backend stores them: the ledger state
            // must hash the same after a round trip.
            at: palazzo_store::rows::registration_time(),
            by: operator(actor),
        };
        match tx.update_registration_assignment(tenant, id, &change).await {
            Err(StoreError::NotFound) => return Err(annulled()),
            other => other?,
        };
        reg.data.classification = change.classification;
        reg.data.office = change.office;
        reg.changed = Some(LastChange {
            at: change.at,
            by: change.by,
        });
        record(&mut tx, &t, "protocollo.reassigned", &reg).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(reg)
    }

    /// Annuls a registration (art. 54): the whole registration, with the
    /// reason and the authorising act; it stays visible as annulled and its
    /// number is never reused. Ledgered as `protocollo.annulled`.
    pub async fn annul_protocol(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        reason: &str,
        act: &str,
    ) -> ServiceResult<Registration> {
        actor.require(Permission::AnnulProtocol)?;
        let (reason, act) = (reason.trim(), act.trim());
        if reason.is_empty() || act.is_empty() {
            return Err(ServiceError::Invalid {
                code: "protocollo_annullamento_incompleto",
                message: "Per annullare una registrazione indica il motivo e il provvedimento che lo autorizza.".into(),
            });
        }
        if reason.chars().count() > protocollo::MAX_SUBJECT_CHARS
            || act.chars().count() > protocollo::MAX_SUBJECT_CHARS
        {
            return Err(ServiceError::Invalid {
                code: "protocollo_annullamento_troppo_lungo",
                message: "Motivo e provvedimento non possono superare 1000 caratteri.".into(),
            });
        }
        let mut reg = self
            .db()
            .registration(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let t = self.tenant(tenant)?;
        let annulment = Annulment {
            // Microseconds, as every backend stores them: the ledger state
            // must hash the same after a round trip.
            at: palazzo_store::rows::registration_time(),
            by: operator(actor),
            reason: reason.to_owned(),
            act: act.to_owned(),
        };
        let mut tx = self.db().begin().await?;
        if !tx.annul_registration(tenant, id, &annulment).await? {
            return Err(ServiceError::Invalid {
                code: "protocollo_gia_annullato",
                message: "La registrazione è già annullata.".into(),
            });
        }
        reg.annulment = Some(annulment);
        record(&mut tx, &t, "protocollo.annulled", &reg).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(number = %reg.number, year = reg.year, "registration annulled");
        Ok(reg)
    }
}

pub use crate::handoffs::{HandoffAction, HandoffTarget, OfficeWait};

impl App {
    /// The whole route of a document: its hand-offs and every step.
    pub async fn protocol_route(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<(Vec<Handoff>, Vec<HandoffStep>)> {
        actor.require(Permission::ReadProtocol)?;
        let subject = HandoffSubject::Registration(registration);
        Ok((
            self.db().handoffs_of(tenant, subject).await?,
            self.db().handoff_steps(tenant, subject).await?,
        ))
    }

    /// The changes of a registration's classification and office (art. 53,
    /// PR-3): author, time, values before and after, oldest first.
    pub async fn protocol_changes(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<Vec<ProtocolChange>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self.db().protocol_changes(tenant, registration).await?)
    }
}

/// The refusal of a change to an annulled registration.
fn annulled() -> ServiceError {
    ServiceError::Invalid {
        code: "protocollo_annullato",
        message: "La registrazione è annullata e non può essere modificata.".into(),
    }
}
