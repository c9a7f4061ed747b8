//! Hand-offs (tracciabilità interna, issue 4 part 4; TI-5): a registration
//! or a whole fascicolo is assigned to an office or to a named person of the
//! comune's staff, per competenza or per conoscenza; it is accepted or
//! refused with a reason, forwarded, and closed; each step is appended with
//! its actor and time and ledgered.
//!
//! - **Who acts.** A hand-off to an office: the staff who work that office
//!   ([`palazzo_domain::access::Principal::can_work_office`]). A hand-off to
//!   a person: that person, or whoever manages the office's hand-offs (its
//!   responsabile, a dirigente: [`palazzo_domain::access::Principal::can_manage_office`]);
//!   a colleague of the same office gets [`ServiceError::Forbidden`].
//! - **Refused hand-offs come back.** Every hand-off records the desk it
//!   was assigned from ([`HandoffDesk`]). A refused one waits at that desk,
//!   flagged "Rifiutata" with the reason and who refused it, until the desk
//!   re-assigns it ([`App::reassign_refused_handoff`]: a new hand-off whose
//!   parent is the refused one) or takes note of it
//!   ([`App::acknowledge_refused_handoff`]: a `preso_atto` step).
//! - **Forwarding is one transaction**: the forwarded hand-off ends as
//!   `inoltrato` and its continuation starts, in one store call
//!   ([`palazzo_store::StoreTx::forward_handoff`]) with its two ledger
//!   events — one per record whose state changes, so `palazzo verify` finds
//!   each record's state in its last event (LOG-6: no silent path; the count
//!   is the two events forwarding always had, now in one commit).

use std::collections::BTreeMap;

use jiff::Timestamp;
use palazzo_domain::access::{Permission, Principal};
use palazzo_domain::protocollo;
use palazzo_store::*;

use crate::access::Actor;
use crate::ledger::{record, state_hash};
use crate::protocollo::operator;
use crate::{App, ServiceError, ServiceResult};

/// What a step of a hand-off does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffAction {
    /// Take the document in charge.
    Accept,
    /// Refuse it, with a reason.
    Reject,
    /// Done (for a hand-off per conoscenza: seen).
    Close,
}

/// Whom a hand-off goes to: an office, a person of the comune's staff, or a
/// person within a named office. A person without an office goes to the
/// one office they work in; one who works in several (or in all, as a
/// dirigente) needs the office named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandoffTarget {
    /// The office.
    pub office: Option<OfficeId>,
    /// The person.
    pub user: Option<UserId>,
}

impl From<OfficeId> for HandoffTarget {
    fn from(office: OfficeId) -> Self {
        HandoffTarget {
            office: Some(office),
            user: None,
        }
    }
}

impl HandoffTarget {
    /// A person, in the one office they work in.
    pub fn person(user: UserId) -> Self {
        HandoffTarget {
            office: None,
            user: Some(user),
        }
    }

    /// A person within an office.
    pub fn person_in(user: UserId, office: OfficeId) -> Self {
        HandoffTarget {
            office: Some(office),
            user: Some(user),
        }
    }
}

/// A refused hand-off back at the desk it was assigned from, with the
/// refusal (its reason in `note`, the refuser in `actor`, its time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedHandoff {
    /// The refused hand-off.
    pub handoff: Handoff,
    /// The `rifiutato` step.
    pub refusal: HandoffStep,
}

/// How long documents wait in one office (or with one person of it) before
/// someone acts on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeWait {
    /// The office.
    pub office: OfficeId,
    /// `None`: every hand-off of the office; a person: those assigned to
    /// them by name in that office.
    pub user: Option<UserId>,
    /// Hand-offs acted upon (accepted, refused, forwarded or closed).
    pub handled: u32,
    /// Hand-offs still waiting.
    pub waiting: u32,
    /// Average wait of the handled ones.
    pub average: jiff::SignedDuration,
    /// Longest wait, handled or still waiting (measured to now).
    pub longest: jiff::SignedDuration,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

fn display_name(u: &User) -> String {
    format!("{} {}", u.data.given_name, u.data.family_name)
}

impl App {
    /// A hand-off the actor may act on: one of an office they work in, or
    /// one assigned to them by name, or to a colleague of an office whose
    /// hand-offs they manage. A fascicolo's hand-off is also inside the
    /// fascicolo's restricted area, if any (TI-6): for an outsider it does
    /// not exist.
    /// A hand-off that someone who works office cases may see: it exists,
    /// and a fascicolo's hand-off is of a fascicolo visible to the actor.
    async fn visible_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
    ) -> ServiceResult<Handoff> {
        actor.require(Permission::WorkOfficeCases)?;
        let h = self
            .db()
            .handoff(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if let HandoffSubject::Fascicolo(f) = h.data.subject {
            self.visible_fascicolo(tenant, actor, f).await?;
        }
        Ok(h)
    }

    async fn actionable_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
    ) -> ServiceResult<Handoff> {
        let h = self.visible_handoff(tenant, actor, id).await?;
        match h.data.user {
            None => Self::can_act_in(actor, h.data.office)?,
            Some(u) if actor.user == Some(u) => {}
            Some(_) if actor.principal.can_manage_office(h.data.office.0) => {}
            Some(_) => return Err(ServiceError::Forbidden),
        }
        Ok(h)
    }

    pub(crate) fn can_act_in(actor: &Actor, office: OfficeId) -> ServiceResult<()> {
        actor.require(Permission::WorkOfficeCases)?;
        if actor.principal.can_work_office(office.0) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// May the actor work what comes back to `desk`? The office's staff, or
    /// the person themself.
    fn can_work_desk(actor: &Actor, desk: HandoffDesk) -> ServiceResult<()> {
        match desk {
            HandoffDesk::Office(o) => Self::can_act_in(actor, o),
            HandoffDesk::User(u) => {
                actor.require(Permission::WorkOfficeCases)?;
                if actor.user == Some(u) {
                    Ok(())
                } else {
                    Err(ServiceError::Forbidden)
                }
            }
        }
    }

    /// The office and person a hand-off goes to, validated: the office
    /// exists; the person is a user of this comune who holds a staff role
    /// that works the offices' cases (an active member of staff: revoking
    /// their roles ends it), works in the office named, or else in exactly
    /// one office, which the hand-off then names.
    pub(crate) async fn handoff_target(
        &self,
        tenant: TenantId,
        target: HandoffTarget,
    ) -> ServiceResult<(OfficeId, Option<UserId>)> {
        self.check_office(tenant, target.office).await?;
        let Some(user) = target.user else {
            return target.office.map(|o| (o, None)).ok_or_else(|| {
                invalid(
                    "handoff_destinatario_mancante",
                    "Indica l'ufficio o la persona a cui assegnare.",
                )
            });
        };
        let u = self.db().user(tenant, user).await?.ok_or_else(|| {
            invalid(
                "handoff_persona_sconosciuta",
                "La persona indicata non fa parte del personale del Comune.",
            )
        })?;
        let principal = Principal {
            grants: self.grants_of(tenant, &u).await?,
        };
        let name = display_name(&u);
        if !principal.can(Permission::WorkOfficeCases) {
            return Err(invalid(
                "handoff_persona_non_abilitata",
                format!(
                    "{name} non ha un ruolo attivo del personale che lavora le pratiche degli uffici: non può ricevere assegnazioni."
                ),
            ));
        }
        let office = match target.office {
            Some(o) if principal.can_work_office(o.0) => o,
            Some(_) => {
                return Err(invalid(
                    "handoff_persona_fuori_ufficio",
                    format!("{name} non lavora nell'ufficio indicato."),
                ));
            }
            None => match principal.work_offices()[..] {
                [o] => OfficeId(o),
                _ => {
                    return Err(invalid(
                        "handoff_ufficio_mancante",
                        format!("{name} lavora in più uffici: indica anche l'ufficio."),
                    ));
                }
            },
        };
        Ok((office, Some(user)))
    }

    /// Assigns a registered document to an office or a person, per
    /// competenza or per conoscenza (LG §3; TI-5). The protocol desk and
    /// the offices that work the document may assign; the refusal comes
    /// back to the person who assigned it. Ledgered as `handoff.assigned`.
    pub async fn assign_protocol(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
        kind: HandoffKind,
        target: impl Into<HandoffTarget>,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        actor.require(Permission::RegisterProtocol)?;
        self.assignable_registration(tenant, actor, registration)
            .await?;
        let (office, user) = self.handoff_target(tenant, target.into()).await?;
        self.new_handoff(
            tenant,
            actor,
            NewHandoff {
                subject: HandoffSubject::Registration(registration),
                kind,
                office,
                user,
                parent: None,
                desk: self.desk_of(tenant, actor).await?,
            },
            note,
        )
        .await
    }

    /// The desk of a first assignment: the person who makes it, when they
    /// are a user of the comune (a break-glass administrator is not).
    pub(crate) async fn desk_of(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Option<HandoffDesk>> {
        Ok(match actor.user {
            Some(u) if self.db().user(tenant, u).await?.is_some() => Some(HandoffDesk::User(u)),
            _ => None,
        })
    }

    async fn assignable_registration(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<()> {
        let reg = self.protocol_entry(tenant, actor, registration).await?;
        if reg.annulment.is_some() {
            return Err(invalid(
                "protocollo_annullato",
                "La registrazione è annullata e non può essere assegnata.",
            ));
        }
        Ok(())
    }

    /// Stores a new hand-off of a registration or fascicolo with its first
    /// step, ledgered as `handoff.assigned` (one state machine for both
    /// subjects, TI-5).
    pub(crate) async fn new_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        new: NewHandoff,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        let note = check_note(note)?;
        let t = self.tenant(tenant)?;
        let at = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        let h = tx.insert_handoff(tenant, &new, at).await?;
        tx.append_handoff_step(
            tenant,
            h.id,
            HandoffState::Assegnato.code(),
            &operator(actor),
            at,
            note.as_deref(),
        )
        .await?;
        record(&mut tx, &t, "handoff.assigned", &h).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(h)
    }

    /// Accepts, refuses (with a reason) or closes a hand-off the actor may
    /// act on. Ledgered as `handoff.<state>`. A refused hand-off goes back
    /// to the desk it came from.
    pub async fn act_on_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
        action: HandoffAction,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        let mut h = self.actionable_handoff(tenant, actor, id).await?;
        let note = check_note(note)?;
        let (from, to) = match (action, h.state, h.data.kind) {
            (HandoffAction::Accept, HandoffState::Assegnato, HandoffKind::Competenza) => {
                (HandoffState::Assegnato, HandoffState::Accettato)
            }
            (HandoffAction::Reject, HandoffState::Assegnato, HandoffKind::Competenza) => {
                if note.is_none() {
                    return Err(invalid(
                        "handoff_motivo_mancante",
                        "Per rifiutare un'assegnazione indica il motivo.",
                    ));
                }
                (HandoffState::Assegnato, HandoffState::Rifiutato)
            }
            (HandoffAction::Close, s @ (HandoffState::Assegnato | HandoffState::Accettato), _) => {
                (s, HandoffState::Chiuso)
            }
            _ => return Err(not_now()),
        };
        let t = self.tenant(tenant)?;
        let at = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        if !tx.set_handoff_state(tenant, h.id, from, to, at).await? {
            return Err(not_now());
        }
        tx.append_handoff_step(
            tenant,
            h.id,
            to.code(),
            &operator(actor),
            at,
            note.as_deref(),
        )
        .await?;
        h.state = to;
        h.updated_at = at;
        record(&mut tx, &t, &format!("handoff.{}", to.code()), &h).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(h)
    }

    /// Forwards a hand-off to another office or person: this one ends as
    /// `inoltrato` and a new one continues the route, in one transaction
    /// (the store's [`StoreTx::forward_handoff`]): a refused target leaves
    /// the hand-off open and unchanged. The new one comes from the
    /// forwarded one's desk: its person when assigned by name, else its
    /// office. A restricted fascicolo goes only to an office or person
    /// inside its area (TI-6).
    pub async fn forward_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
        target: impl Into<HandoffTarget>,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        let mut h = self.actionable_handoff(tenant, actor, id).await?;
        let (office, user) = self.handoff_target(tenant, target.into()).await?;
        if (office, user) == (h.data.office, h.data.user) {
            return Err(if user.is_some() {
                invalid(
                    "handoff_stessa_persona",
                    "Il documento è già assegnato a questa persona.",
                )
            } else {
                invalid(
                    "handoff_stesso_ufficio",
                    "Il documento è già assegnato a questo ufficio.",
                )
            });
        }
        if let HandoffSubject::Fascicolo(f) = h.data.subject {
            self.check_target_in_area(tenant, f, office, user).await?;
        }
        let from = match h.state {
            s @ (HandoffState::Assegnato | HandoffState::Accettato) => s,
            _ => return Err(not_now()),
        };
        let note = check_note(note)?;
        let next = NewHandoff {
            subject: h.data.subject,
            kind: h.data.kind,
            office,
            user,
            parent: Some(h.id),
            desk: Some(match h.data.user {
                Some(u) => HandoffDesk::User(u),
                None => HandoffDesk::Office(h.data.office),
            }),
        };
        let t = self.tenant(tenant)?;
        let at = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        let new = tx
            .forward_handoff(
                tenant,
                h.id,
                from,
                &next,
                (&operator(actor), note.as_deref()),
                at,
            )
            .await?
            .ok_or_else(not_now)?;
        // LOG-6: one event. The continuation's state is bound on the
        // forwarded hand-off, whose `handoff.inoltrato` event records both.
        let bound = state_hash(&new)?;
        tx.bind_handoff_continuation(tenant, h.id, new.id, bound)
            .await?;
        h.state = HandoffState::Inoltrato;
        h.updated_at = at;
        h.continuation = Some((new.id, bound));
        record(&mut tx, &t, "handoff.inoltrato", &h).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(new)
    }

    /// A refused hand-off still waiting at its desk, for someone who works
    /// that desk.
    async fn returned_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
    ) -> ServiceResult<Handoff> {
        let h = self.visible_handoff(tenant, actor, id).await?;
        let Some(desk) = h.data.desk else {
            return Err(invalid(
                "handoff_senza_provenienza",
                "Questa assegnazione non indica da dove fu assegnata: per continuare, assegna di nuovo il documento.",
            ));
        };
        Self::can_work_desk(actor, desk)?;
        if h.state != HandoffState::Rifiutato
            || !self
                .db()
                .returned_handoffs(tenant, desk)
                .await?
                .iter()
                .any(|x| x.id == h.id)
        {
            return Err(not_now());
        }
        Ok(h)
    }

    /// Re-assigns a refused hand-off from the desk it came back to: a new
    /// hand-off of the same subject and kind, continuing the refused one
    /// (its parent) and from the same desk. It leaves the desk's
    /// "Rifiutate". Ledgered as `handoff.assigned`.
    pub async fn reassign_refused_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
        target: impl Into<HandoffTarget>,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        let h = self.returned_handoff(tenant, actor, id).await?;
        let (office, user) = self.handoff_target(tenant, target.into()).await?;
        match h.data.subject {
            HandoffSubject::Registration(r) => {
                self.assignable_registration(tenant, actor, r).await?;
            }
            HandoffSubject::Fascicolo(f) => {
                self.assignable_fascicolo(tenant, actor, f).await?;
                self.check_target_in_area(tenant, f, office, user).await?;
            }
        }
        let new = NewHandoff {
            subject: h.data.subject,
            kind: h.data.kind,
            office,
            user,
            parent: Some(h.id),
            desk: h.data.desk,
        };
        match self.new_handoff(tenant, actor, new, note).await {
            // A hand-off continues in one other only (migration 0022): a
            // re-assignment that committed meanwhile wins.
            Err(ServiceError::Store(StoreError::Conflict(_))) => Err(not_now()),
            other => other,
        }
    }

    /// The desk takes note of a refused hand-off without re-assigning it:
    /// a `preso_atto` step (the hand-off stays `rifiutato`); it leaves the
    /// desk's "Rifiutate". Ledgered as `handoff.preso_atto` with the
    /// hand-off's (unchanged) state.
    pub async fn acknowledge_refused_handoff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: HandoffId,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        let h = self.returned_handoff(tenant, actor, id).await?;
        let note = check_note(note)?;
        let t = self.tenant(tenant)?;
        let at = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        tx.note_refused_handoff(tenant, h.id, &operator(actor), at, note.as_deref())
            .await?
            .ok_or_else(not_now)?;
        record(&mut tx, &t, "handoff.preso_atto", &h).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(h)
    }

    /// Leaves out the hand-offs of restricted fascicoli the actor may not
    /// read (TI-6).
    async fn readable_handoffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
        all: Vec<Handoff>,
    ) -> ServiceResult<Vec<Handoff>> {
        let mut out = Vec::with_capacity(all.len());
        for h in all {
            if let HandoffSubject::Fascicolo(f) = h.data.subject
                && self.visible_fascicolo(tenant, actor, f).await.is_err()
            {
                continue;
            }
            out.push(h);
        }
        Ok(out)
    }

    /// The open hand-offs of an office (its inbox), oldest first:
    /// registrations and fascicoli, to the office or to a person of it. The
    /// hand-off of a restricted fascicolo the actor may not read is left
    /// out (TI-6).
    pub async fn office_inbox(
        &self,
        tenant: TenantId,
        actor: &Actor,
        office: OfficeId,
    ) -> ServiceResult<Vec<Handoff>> {
        Self::can_act_in(actor, office)?;
        let all = self.db().office_handoffs(tenant, office, true).await?;
        self.readable_handoffs(tenant, actor, all).await
    }

    /// The open hand-offs assigned to the actor by name ("Le mie
    /// assegnazioni"), oldest first.
    pub async fn my_handoffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Handoff>> {
        actor.require(Permission::WorkOfficeCases)?;
        let Some(user) = actor.user else {
            return Ok(Vec::new());
        };
        let all = self.db().user_handoffs(tenant, user, true).await?;
        self.readable_handoffs(tenant, actor, all).await
    }

    /// The refused hand-offs back at a desk ("Rifiutate"), oldest first,
    /// each with its refusal, for the desk's staff (an office) or the
    /// person themself.
    pub async fn returned_handoffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
        desk: HandoffDesk,
    ) -> ServiceResult<Vec<ReturnedHandoff>> {
        Self::can_work_desk(actor, desk)?;
        let all = self.db().returned_handoffs(tenant, desk).await?;
        let mut out = Vec::new();
        for h in self.readable_handoffs(tenant, actor, all).await? {
            let refusal = self
                .db()
                .handoff_steps(tenant, h.data.subject)
                .await?
                .into_iter()
                .find(|s| s.handoff == h.id && s.action == HandoffState::Rifiutato.code())
                .ok_or_else(|| {
                    ServiceError::Internal("refused hand-off without its step".into())
                })?;
            out.push(ReturnedHandoff {
                handoff: h,
                refusal,
            });
        }
        Ok(out)
    }

    /// The refused hand-offs back at the actor's own desk (the person).
    pub async fn my_returned_handoffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<ReturnedHandoff>> {
        match actor.user {
            Some(u) => {
                self.returned_handoffs(tenant, actor, HandoffDesk::User(u))
                    .await
            }
            None => {
                actor.require(Permission::WorkOfficeCases)?;
                Ok(Vec::new())
            }
        }
    }

    /// The staff who may receive a hand-off by name (id and name, by
    /// family name): users of the comune with a role that works the
    /// offices' cases.
    pub async fn handoff_staff(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<(UserId, String)>> {
        actor.require(Permission::BackOffice)?;
        let grants = self.db().role_grants(tenant, None).await?;
        Ok(self
            .db()
            .staff_users(tenant)
            .await?
            .into_iter()
            .filter(|u| {
                grants.iter().any(|g| {
                    g.user == u.id && g.role.permissions().contains(&Permission::WorkOfficeCases)
                })
            })
            .map(|u| (u.id, display_name(&u)))
            .collect())
    }

    /// The names of staff people (hand-off assignees and desks), for the
    /// staff who read hand-offs: the name only, nothing else of the person.
    pub async fn staff_names(
        &self,
        tenant: TenantId,
        actor: &Actor,
        users: &[UserId],
    ) -> ServiceResult<BTreeMap<UserId, String>> {
        actor.require(Permission::BackOffice)?;
        let mut out = BTreeMap::new();
        for &u in users {
            if out.contains_key(&u) {
                continue;
            }
            if let Some(user) = self.db().user(tenant, u).await? {
                out.insert(u, display_name(&user));
            }
        }
        Ok(out)
    }

    /// How long documents and fascicoli wait in each office, and with each
    /// person assigned them by name: from assignment to the first action
    /// (accept, refuse, forward, close), and for those still waiting, until
    /// `now`. One row per office (every hand-off of it), followed by one
    /// per person of it.
    pub async fn office_waits(
        &self,
        tenant: TenantId,
        actor: &Actor,
        now: Timestamp,
    ) -> ServiceResult<Vec<OfficeWait>> {
        actor.require(Permission::SeeAllOffices)?;
        type Tally = (u32, u32, i128, jiff::SignedDuration);
        let mut per: BTreeMap<(i64, Option<i64>), Tally> = BTreeMap::new();
        let mut after = HandoffId(0);
        loop {
            let page = self.db().handoffs_by_id(tenant, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for h in &page {
                let waiting = h.state == HandoffState::Assegnato;
                let waited = if waiting {
                    now.duration_since(h.assigned_at)
                } else {
                    h.updated_at.duration_since(h.assigned_at)
                };
                let person = h.data.user.map(|u| u.0);
                let keys = [(h.data.office.0, None), (h.data.office.0, person)];
                for key in keys.iter().take(if person.is_some() { 2 } else { 1 }) {
                    let e = per.entry(*key).or_default();
                    if waiting {
                        e.1 += 1;
                    } else {
                        e.0 += 1;
                        e.2 += waited.as_micros();
                    }
                    e.3 = e.3.max(waited);
                }
            }
        }
        Ok(per
            .into_iter()
            .map(
                |((office, user), (handled, waiting, total, longest))| OfficeWait {
                    office: OfficeId(office),
                    user: user.map(UserId),
                    handled,
                    waiting,
                    average: if handled == 0 {
                        jiff::SignedDuration::ZERO
                    } else {
                        let avg = total / i128::from(handled);
                        jiff::SignedDuration::from_micros(i64::try_from(avg).unwrap_or(i64::MAX))
                    },
                    longest,
                },
            )
            .collect())
    }
}

pub(crate) fn not_now() -> ServiceError {
    invalid(
        "handoff_stato",
        "L'assegnazione non è più in uno stato che consente questa operazione.",
    )
}

fn check_note(note: Option<&str>) -> ServiceResult<Option<String>> {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) if n.chars().count() > protocollo::MAX_SUBJECT_CHARS => Err(invalid(
            "handoff_nota_troppo_lunga",
            "La nota non può superare 1000 caratteri.",
        )),
        Some(n) => Ok(Some(n.to_owned())),
    }
}
