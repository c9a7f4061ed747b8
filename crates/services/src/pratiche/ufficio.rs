//! The office's work on a pratica besides the procedure's transitions
//! (issue 6, part 4): naming the responsabile del procedimento (art. 5
//! L. 241/1990), handing the pratica to another office per competenza,
//! asking another office of the comune for an internal opinion (art. 16-17)
//! and answering it, and the messages between the applicant and the
//! office.
//!
//! None of these changes the procedure's state: each is a step of the
//! pratica's history with the state unchanged (`from_state == to_state`),
//! and — as every call that changes a pratica — appends exactly **one**
//! ledger event (`pratica.evento` on the step, LOG-6) whose step binds the
//! other records the call wrote (the pratica after an assignment or a
//! transfer, the hand-offs of a transfer). The action codes are
//! `assegnazione`, `trasferimento`, `richiesta_parere_interno`,
//! `parere_interno` and `messaggio`; the personal area reads the messages
//! from the history by that code.

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::{TermRule, rome_date};
use palazzo_domain::procedimento::{Azione, Ruolo};
use palazzo_store::*;
use serde::{Deserialize, Serialize};

use super::presentazione::{binding, record_filed};
use super::procedura::{MAX_NOTE, PraticaView, invalid, staff_role};
use crate::access::Actor;
use crate::db::DbTx;
use crate::ledger::state_hash;
use crate::protocollo::operator;
use crate::registro_giornaliero::tenant_calendar;
use crate::{App, ServiceError, ServiceResult};

/// Action code of the naming of the responsabile del procedimento.
pub const ASSEGNAZIONE: &str = "assegnazione";
/// Action code of a hand-off to another office per competenza.
pub const TRASFERIMENTO: &str = "trasferimento";
/// Action code of an internal opinion requested from another office.
pub const RICHIESTA_PARERE: &str = "richiesta_parere_interno";
/// Action code of the answer of the office asked.
pub const PARERE: &str = "parere_interno";
/// Action code of a message between the applicant and the office.
pub const MESSAGGIO: &str = "messaggio";

/// Days an office has to give an opinion when the request names none
/// (art. 16 c.1 L. 241/1990: twenty days from the request).
pub const PARERE_GIORNI: u32 = 20;

/// The largest file a message or an opinion may carry.
pub const MAX_FILE: usize = 10 * 1024 * 1024;

/// The outcome of an internal opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EsitoParere {
    /// Favourable.
    Favorevole,
    /// Favourable on conditions (the text lists them).
    FavorevoleConPrescrizioni,
    /// Contrary.
    Contrario,
}

impl EsitoParere {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            EsitoParere::Favorevole => "favorevole",
            EsitoParere::FavorevoleConPrescrizioni => "favorevole_con_prescrizioni",
            EsitoParere::Contrario => "contrario",
        }
    }

    /// The Italian label.
    pub fn label(self) -> &'static str {
        match self {
            EsitoParere::Favorevole => "Favorevole",
            EsitoParere::FavorevoleConPrescrizioni => "Favorevole con prescrizioni",
            EsitoParere::Contrario => "Contrario",
        }
    }

    /// Parses a code.
    ///
    /// # Errors
    /// `parere_esito` for anything else.
    pub fn parse(s: &str) -> ServiceResult<Self> {
        match s {
            "favorevole" => Ok(EsitoParere::Favorevole),
            "favorevole_con_prescrizioni" => Ok(EsitoParere::FavorevoleConPrescrizioni),
            "contrario" => Ok(EsitoParere::Contrario),
            _ => Err(invalid(
                "parere_esito",
                "Scegli l'esito del parere: favorevole, favorevole con prescrizioni o contrario.",
            )),
        }
    }
}

/// The payload of an assignment step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssegnazionePayload {
    /// The responsabile named.
    pub responsabile: i64,
    /// Their name, as shown then.
    pub nome: String,
}

/// The payload of a transfer step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrasferimentoPayload {
    /// The office it came from.
    pub da_ufficio: i64,
    /// The office it went to.
    pub a_ufficio: i64,
    /// The hand-off of the registration to the new office.
    pub handoff: Option<i64>,
}

/// The payload of an internal opinion request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RichiestaParerePayload {
    /// The office asked.
    pub ufficio: i64,
    /// The office asking (the pratica's office then).
    pub ufficio_richiedente: i64,
    /// The days given.
    pub giorni: u32,
    /// The due date (Europe/Rome, administrative term).
    pub scadenza: Date,
}

/// The payload of an internal opinion.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParerePayload {
    /// The request step it answers.
    pub richiesta: u32,
    /// The office that gave it.
    pub ufficio: i64,
    /// Its outcome.
    pub esito: EsitoParere,
    /// The signed opinion, when one was sent.
    pub documento: Option<DocumentRef>,
}

/// The payload of a message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MessaggioPayload {
    /// The file that came with it.
    pub documento: Option<DocumentRef>,
}

/// An internal opinion requested, with its answer when given.
#[derive(Debug, Clone)]
pub struct ParereInterno {
    /// The pratica.
    pub pratica: PraticaId,
    /// The pratica's subject.
    pub oggetto: String,
    /// The request's step.
    pub seq: u32,
    /// The office asked.
    pub ufficio: OfficeId,
    /// The office asking.
    pub ufficio_richiedente: OfficeId,
    /// What is asked.
    pub testo: String,
    /// When it was asked.
    pub richiesto_il: Date,
    /// Due date.
    pub scadenza: Date,
    /// Who asked.
    pub richiesto_da: String,
    /// The answer.
    pub risposta: Option<ParereReso>,
    /// Pending past its due date.
    pub scaduto: bool,
}

/// The answer to an internal opinion request.
#[derive(Debug, Clone)]
pub struct ParereReso {
    /// Its step.
    pub seq: u32,
    /// The outcome.
    pub esito: EsitoParere,
    /// The text.
    pub testo: String,
    /// When.
    pub il: Date,
    /// Who.
    pub da: String,
    /// The file, if any.
    pub documento: Option<DocumentRef>,
}

/// The internal opinions of a history, each with its answer.
pub fn pareri_of(p: &Pratica, eventi: &[PraticaEvento], today: Date) -> Vec<ParereInterno> {
    let mut out: Vec<ParereInterno> = eventi
        .iter()
        .filter(|e| e.data.action == RICHIESTA_PARERE)
        .filter_map(|e| {
            let r: RichiestaParerePayload = serde_json::from_str(&e.data.payload).ok()?;
            Some(ParereInterno {
                pratica: p.id,
                oggetto: p.data.subject.clone(),
                seq: e.seq,
                ufficio: OfficeId(r.ufficio),
                ufficio_richiedente: OfficeId(r.ufficio_richiedente),
                testo: e.data.note.clone().unwrap_or_default(),
                richiesto_il: e.data.on_date,
                scadenza: r.scadenza,
                richiesto_da: e.data.actor.clone(),
                risposta: None,
                scaduto: false,
            })
        })
        .collect();
    for e in eventi.iter().filter(|e| e.data.action == PARERE) {
        let Ok(a) = serde_json::from_str::<ParerePayload>(&e.data.payload) else {
            continue;
        };
        if let Some(r) = out.iter_mut().find(|r| r.seq == a.richiesta) {
            r.risposta = Some(ParereReso {
                seq: e.seq,
                esito: a.esito,
                testo: e.data.note.clone().unwrap_or_default(),
                il: e.data.on_date,
                da: e.data.actor.clone(),
                documento: a.documento,
            });
        }
    }
    for r in &mut out {
        r.scaduto = r.risposta.is_none() && today > r.scadenza;
    }
    out
}

/// A message of the history as the views show it.
#[derive(Debug, Clone)]
pub struct Messaggio {
    /// Its step.
    pub seq: u32,
    /// When.
    pub at: Timestamp,
    /// From the applicant (else from the office).
    pub dal_richiedente: bool,
    /// Who wrote it.
    pub autore: String,
    /// The text.
    pub testo: String,
    /// Seen by the applicant (false: an internal note).
    pub pubblico: bool,
    /// The file.
    pub documento: Option<DocumentRef>,
}

/// The messages of a history, in order.
pub fn messaggi_of(eventi: &[PraticaEvento]) -> Vec<Messaggio> {
    eventi
        .iter()
        .filter(|e| e.data.action == MESSAGGIO)
        .map(|e| Messaggio {
            seq: e.seq,
            at: e.data.at,
            dal_richiedente: e.data.role == Ruolo::Cittadino.code(),
            autore: e.data.actor.clone(),
            testo: e.data.note.clone().unwrap_or_default(),
            pubblico: e.data.public,
            documento: serde_json::from_str::<MessaggioPayload>(&e.data.payload)
                .ok()
                .and_then(|m| m.documento),
        })
        .collect()
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct MessageInput {
    /// The text.
    pub text: String,
    /// For staff: whether the applicant sees it (false: an internal note).
    /// The applicant's messages are always seen by the office.
    pub public: bool,
    /// A file (the applicant's, or the office's).
    pub file: Option<super::Upload>,
}

/// An internal opinion to request.
#[derive(Debug, Clone)]
pub struct ParereRequest {
    /// The office asked.
    pub office: OfficeId,
    /// What is asked.
    pub text: String,
    /// The days given (default [`PARERE_GIORNI`]).
    pub days: Option<u32>,
}

/// The answer to an internal opinion request.
#[derive(Debug, Clone)]
pub struct ParereAnswer {
    /// The outcome.
    pub esito: EsitoParere,
    /// The text (the reasons, the prescriptions).
    pub text: String,
    /// The signed opinion.
    pub file: Option<super::Upload>,
}

fn changed() -> ServiceError {
    invalid(
        "pratica_stato_cambiato",
        "La pratica è cambiata nel frattempo: ricarica la pagina e verifica lo stato.",
    )
}

fn text_of(text: &str, empty_code: &'static str, empty: &str) -> ServiceResult<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(invalid(empty_code, empty));
    }
    if t.chars().count() > MAX_NOTE {
        return Err(invalid(
            "pratica_nota",
            format!("Il testo può avere al massimo {MAX_NOTE} caratteri."),
        ));
    }
    Ok(t.to_owned())
}

/// The actor's role on a pratica of an office they work in. Another
/// office's pratica (or another's, for a citizen) does not exist for them:
/// `NotFound`, so that callers need not load the pratica first to hide it;
/// `Forbidden` stays for what their role on the office does not allow.
fn office_role(actor: &Actor, p: &Pratica) -> ServiceResult<Ruolo> {
    if !actor.principal.can_work_office(p.data.office.0) {
        return Err(ServiceError::NotFound);
    }
    staff_role(actor, p.data.office)
}

/// The step of a call that leaves the procedure's state as it is.
struct Step<'a> {
    p: &'a Pratica,
    action: &'static str,
    role: Ruolo,
    who: String,
    note: Option<String>,
    payload: String,
    public: bool,
}

impl App {
    async fn name_of(&self, tenant: TenantId, u: UserId) -> ServiceResult<Option<String>> {
        Ok(self
            .db()
            .user(tenant, u)
            .await?
            .map(|u| format!("{} {}", u.data.given_name, u.data.family_name)))
    }

    /// The staff of an office who may be named responsabile of its
    /// pratiche: users holding a role on that office that works its cases
    /// (id and name, by family name).
    pub async fn office_members(
        &self,
        tenant: TenantId,
        actor: &Actor,
        office: OfficeId,
    ) -> ServiceResult<Vec<(UserId, String)>> {
        actor.require(Permission::WorkOfficeCases)?;
        let grants = self.db().role_grants(tenant, None).await?;
        Ok(self
            .db()
            .staff_users(tenant)
            .await?
            .into_iter()
            .filter(|u| {
                grants.iter().any(|g| {
                    g.user == u.id
                        && g.office == office
                        && g.role.permissions().contains(&Permission::WorkOfficeCases)
                })
            })
            .map(|u| {
                let name = format!("{} {}", u.data.given_name, u.data.family_name);
                (u.id, name)
            })
            .collect())
    }

    /// The name of the pratica's responsabile del procedimento, if named.
    pub async fn responsabile_name(
        &self,
        tenant: TenantId,
        p: &Pratica,
    ) -> ServiceResult<Option<String>> {
        match p.data.responsabile {
            Some(u) => self.name_of(tenant, u).await,
            None => Ok(None),
        }
    }

    /// The open pratiche assigned by name to the actor (their
    /// "assegnate a me"), in the offices they work in, nearest deadline
    /// first.
    pub async fn pratiche_assigned_to_me(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Pratica>> {
        actor.require(Permission::WorkOfficeCases)?;
        let Some(me) = actor.user else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for o in &self.portal(tenant).await?.offices {
            if !actor.principal.can_work_office(o.id.0) {
                continue;
            }
            out.extend(
                self.db()
                    .office_pratiche(tenant, o.id, PraticheFilter::Open)
                    .await?
                    .into_iter()
                    .filter(|p| p.data.responsabile == Some(me)),
            );
        }
        out.sort_by_key(|p| (p.data.deadline, p.id));
        Ok(out)
    }

    /// Writes one step that leaves the procedure's state as it is: the
    /// pratica `after` (when the call changes it, compare-and-swap on its
    /// state), the step binding it and `extra` records, files with it, the
    /// one ledger event, an e-mail.
    #[allow(clippy::too_many_arguments)]
    async fn write_office_step(
        &self,
        tenant: TenantId,
        tx: &mut DbTx,
        step: Step<'_>,
        after: Option<&Pratica>,
        mut bindings: Vec<Binding>,
        file: Option<&DocumentRef>,
        now: Timestamp,
    ) -> ServiceResult<PraticaEvento> {
        let t = self.tenant(tenant)?;
        let p = step.p;
        if let Some(after) = after {
            let change = PraticaChange {
                from_state: p.data.state.clone(),
                to_state: after.data.state.clone(),
                deadline: after.data.deadline,
                responsabile: after.data.responsabile,
                office: after.data.office,
                closed_at: after.closed_at,
            };
            if !tx.change_pratica(tenant, p.id, &change).await? {
                return Err(changed());
            }
            bindings.push(binding(after)?);
        }
        let evento = tx
            .insert_pratica_evento(
                tenant,
                p.id,
                &NewPraticaEvento {
                    action: step.action.to_owned(),
                    at: now,
                    on_date: rome_date(now),
                    actor: step.who,
                    role: step.role.code().to_owned(),
                    from_state: p.data.state.clone(),
                    to_state: p.data.state.clone(),
                    note: step.note,
                    payload: step.payload,
                    registration: None,
                    public: step.public,
                    bindings,
                },
            )
            .await?;
        if let Some(f) = file {
            tx.insert_allegato(
                tenant,
                &NewAllegato {
                    owner: AllegatoOwner::Pratica(p.id),
                    spec_id: step.action.to_owned(),
                    document: f.clone(),
                    event_seq: Some(evento.seq),
                },
                now,
            )
            .await?;
        }
        record_filed(tx, &t, None, &evento).await?;
        Ok(evento)
    }

    async fn staff_pratica(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
    ) -> ServiceResult<(Pratica, Ruolo)> {
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let role = office_role(actor, &p)?;
        Ok((p, role))
    }

    /// Names the responsabile del procedimento (art. 5 L. 241/1990): the
    /// dirigente or a responsabile of the office assigns the pratica to a
    /// member of its office (a user with a role on it). A step of the
    /// history; the state does not change.
    ///
    /// # Errors
    /// `NotFound` for a pratica of another office; `Forbidden` for an
    /// operatore; `pratica_stato_cambiato` when the state
    /// moved since `expected_state`; `pratica_responsabile_non_ammesso` for a
    /// user who is not of the office; `pratica_gia_assegnata` when they are
    /// the responsabile already; `pratica_conclusa` for a concluded one.
    pub async fn assign_pratica(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        user: UserId,
        expected_state: &str,
    ) -> ServiceResult<PraticaView> {
        let (p, role) = self.staff_pratica(tenant, actor, id).await?;
        if role == Ruolo::Operatore {
            return Err(ServiceError::Forbidden);
        }
        if p.data.state != expected_state {
            return Err(changed());
        }
        if p.closed_at.is_some() {
            return Err(invalid(
                "pratica_conclusa",
                "La pratica è conclusa: non si può più assegnare.",
            ));
        }
        let members = self.office_members(tenant, actor, p.data.office).await?;
        let Some((_, name)) = members.into_iter().find(|(u, _)| *u == user) else {
            return Err(invalid(
                "pratica_responsabile_non_ammesso",
                "La persona scelta non lavora nell'ufficio competente: scegli un componente dell'ufficio.",
            ));
        };
        if p.data.responsabile == Some(user) {
            return Err(invalid(
                "pratica_gia_assegnata",
                format!("{name} è già responsabile del procedimento."),
            ));
        }
        let mut after = p.clone();
        after.data.responsabile = Some(user);
        let payload = serde_json::to_string(&AssegnazionePayload {
            responsabile: user.0,
            nome: name.clone(),
        })
        .map_err(|e| ServiceError::Internal(format!("payload: {e}")))?;
        let now = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        self.write_office_step(
            tenant,
            &mut tx,
            Step {
                p: &p,
                action: ASSEGNAZIONE,
                role,
                who: operator(actor),
                note: Some(format!("Responsabile del procedimento: {name}")),
                payload,
                public: true,
            },
            Some(&after),
            Vec::new(),
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(pratica = id.0, responsabile = user.0, "pratica assigned");
        self.view_of_staff(tenant, actor, after).await
    }

    async fn view_of_staff(
        &self,
        tenant: TenantId,
        actor: &Actor,
        p: Pratica,
    ) -> ServiceResult<PraticaView> {
        match staff_role(actor, p.data.office) {
            Ok(_) => self.office_pratica(tenant, actor, p.id).await,
            // Transferred away: the caller no longer works it.
            Err(_) => self.pratica_view_as(tenant, p, Ruolo::Responsabile).await,
        }
    }

    /// Hands the pratica to another office per competenza (trasferimento):
    /// the competent office changes, the responsabile is cleared (the new
    /// office names its own), the protocol registration's hand-off per
    /// competenza is forwarded to the new office (or a new one is made
    /// when none is open), all in the one step, with the reason.
    ///
    /// # Errors
    /// `NotFound` for a pratica of another office; `Forbidden` for an
    /// operatore; `pratica_stesso_ufficio`;
    /// `pratica_ufficio_sconosciuto`; `pratica_motivo` without a reason;
    /// `pratica_stato_cambiato`; `pratica_conclusa`.
    pub async fn transfer_pratica(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        office: OfficeId,
        reason: &str,
        expected_state: &str,
    ) -> ServiceResult<PraticaView> {
        let (p, role) = self.staff_pratica(tenant, actor, id).await?;
        if role == Ruolo::Operatore {
            return Err(ServiceError::Forbidden);
        }
        if p.data.state != expected_state {
            return Err(changed());
        }
        if p.closed_at.is_some() {
            return Err(invalid(
                "pratica_conclusa",
                "La pratica è conclusa: non si può più trasferire.",
            ));
        }
        if office == p.data.office {
            return Err(invalid(
                "pratica_stesso_ufficio",
                "La pratica è già di questo ufficio: scegli un altro ufficio.",
            ));
        }
        let portal = self.portal(tenant).await?;
        let Some(target) = portal.office(office) else {
            return Err(invalid(
                "pratica_ufficio_sconosciuto",
                "L'ufficio scelto non esiste.",
            ));
        };
        let reason = text_of(
            reason,
            "pratica_motivo",
            "Indica il motivo del trasferimento per competenza.",
        )?;
        let who = operator(actor);
        let now = palazzo_store::rows::registration_time();
        let mut after = p.clone();
        after.data.office = office;
        after.data.responsabile = None;
        let open = self
            .db()
            .handoffs_of(tenant, HandoffSubject::Registration(p.data.registration))
            .await?
            .into_iter()
            .filter(|h| {
                h.data.kind == HandoffKind::Competenza
                    && h.data.office == p.data.office
                    && matches!(h.state, HandoffState::Assegnato | HandoffState::Accettato)
            })
            .max_by_key(|h| h.id);
        let mut tx = self.db().begin().await?;
        let mut bindings = Vec::new();
        let next = NewHandoff {
            subject: HandoffSubject::Registration(p.data.registration),
            kind: HandoffKind::Competenza,
            office,
            user: None,
            parent: open.as_ref().map(|h| h.id),
            desk: Some(HandoffDesk::Office(p.data.office)),
        };
        let new = match open {
            Some(mut h) => {
                // LOG-6: the forwarded hand-off and its continuation are
                // bound by the step, whose one event records them.
                let new = tx
                    .forward_handoff(tenant, h.id, h.state, &next, (&who, Some(&reason)), now)
                    .await?
                    .ok_or_else(changed)?;
                let bound = state_hash(&new)?;
                tx.bind_handoff_continuation(tenant, h.id, new.id, bound)
                    .await?;
                h.state = HandoffState::Inoltrato;
                h.updated_at = now;
                h.continuation = Some((new.id, bound));
                bindings.push(binding(&h)?);
                new
            }
            None => {
                let new = tx.insert_handoff(tenant, &next, now).await?;
                tx.append_handoff_step(
                    tenant,
                    new.id,
                    HandoffState::Assegnato.code(),
                    &who,
                    now,
                    Some(&reason),
                )
                .await?;
                new
            }
        };
        bindings.push(binding(&new)?);
        let payload = serde_json::to_string(&TrasferimentoPayload {
            da_ufficio: p.data.office.0,
            a_ufficio: office.0,
            handoff: Some(new.id.0),
        })
        .map_err(|e| ServiceError::Internal(format!("payload: {e}")))?;
        self.write_office_step(
            tenant,
            &mut tx,
            Step {
                p: &p,
                action: TRASFERIMENTO,
                role,
                who,
                note: Some(format!(
                    "Trasferita per competenza a {}: {reason}",
                    target.data.name
                )),
                payload,
                public: true,
            },
            Some(&after),
            bindings,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(
            pratica = id.0,
            from = p.data.office.0,
            to = office.0,
            "pratica transferred"
        );
        self.view_of_staff(tenant, actor, after).await
    }

    /// Asks another office of the comune for an internal opinion (art. 16
    /// L. 241/1990), with a text and a due date: `days` (default
    /// [`PARERE_GIORNI`]) calendar days from today, moved past a festivo
    /// (administrative term). Not seen by the applicant.
    ///
    /// # Errors
    /// `NotFound` for a pratica of another office;
    /// `pratica_parere_stesso_ufficio`, `pratica_ufficio_sconosciuto`,
    /// `pratica_parere_testo`, `pratica_parere_giorni` (1–90),
    /// `pratica_conclusa`.
    pub async fn request_parere(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        req: ParereRequest,
    ) -> ServiceResult<PraticaView> {
        let (p, role) = self.staff_pratica(tenant, actor, id).await?;
        if p.closed_at.is_some() {
            return Err(invalid(
                "pratica_conclusa",
                "La pratica è conclusa: non si possono più chiedere pareri.",
            ));
        }
        if req.office == p.data.office {
            return Err(invalid(
                "pratica_parere_stesso_ufficio",
                "Il parere si chiede a un altro ufficio del Comune.",
            ));
        }
        if self.portal(tenant).await?.office(req.office).is_none() {
            return Err(invalid(
                "pratica_ufficio_sconosciuto",
                "L'ufficio scelto non esiste.",
            ));
        }
        let days = req.days.unwrap_or(PARERE_GIORNI);
        if !(1..=90).contains(&days) {
            return Err(invalid(
                "pratica_parere_giorni",
                "Il termine per il parere va da 1 a 90 giorni.",
            ));
        }
        let text = text_of(
            &req.text,
            "pratica_parere_testo",
            "Scrivi che cosa chiedi all'ufficio.",
        )?;
        let now = palazzo_store::rows::registration_time();
        let today = rome_date(now);
        let t = self.tenant(tenant)?;
        let due = today
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .map_err(|e| ServiceError::Internal(format!("due date: {e}")))?;
        let due = tenant_calendar(&t)
            .shift_term_end(due, TermRule::Administrative)
            .map_err(|e| ServiceError::Internal(format!("due date: {e}")))?;
        let payload = serde_json::to_string(&RichiestaParerePayload {
            ufficio: req.office.0,
            ufficio_richiedente: p.data.office.0,
            giorni: days,
            scadenza: due,
        })
        .map_err(|e| ServiceError::Internal(format!("payload: {e}")))?;
        let mut tx = self.db().begin().await?;
        self.write_office_step(
            tenant,
            &mut tx,
            Step {
                p: &p,
                action: RICHIESTA_PARERE,
                role,
                who: operator(actor),
                note: Some(text),
                payload,
                public: false,
            },
            None,
            Vec::new(),
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        self.office_pratica(tenant, actor, id).await
    }

    /// The internal opinions asked of `office` (pending first, the nearest
    /// due date first), for its staff.
    pub async fn pareri_for_office(
        &self,
        tenant: TenantId,
        actor: &Actor,
        office: OfficeId,
    ) -> ServiceResult<Vec<ParereInterno>> {
        actor.require(Permission::WorkOfficeCases)?;
        if !actor.principal.can_work_office(office.0) {
            return Err(ServiceError::Forbidden);
        }
        let today = rome_date(Timestamp::now());
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for e in self
            .db()
            .pratica_eventi_by_action(tenant, RICHIESTA_PARERE)
            .await?
        {
            let Ok(r) = serde_json::from_str::<RichiestaParerePayload>(&e.data.payload) else {
                continue;
            };
            if r.ufficio != office.0 || !seen.insert(e.pratica) {
                continue;
            }
            let Some(p) = self.db().pratica(tenant, e.pratica).await? else {
                continue;
            };
            let eventi = self.db().pratica_eventi(tenant, p.id).await?;
            out.extend(
                pareri_of(&p, &eventi, today)
                    .into_iter()
                    .filter(|r| r.ufficio == office),
            );
        }
        out.sort_by_key(|r| (r.risposta.is_some(), r.scadenza, r.pratica, r.seq));
        Ok(out)
    }

    /// One internal opinion asked of an office the actor works in.
    pub async fn parere_for_office(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        seq: u32,
    ) -> ServiceResult<ParereInterno> {
        actor.require(Permission::WorkOfficeCases)?;
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let eventi = self.db().pratica_eventi(tenant, id).await?;
        let r = pareri_of(&p, &eventi, rome_date(Timestamp::now()))
            .into_iter()
            .find(|r| r.seq == seq)
            .ok_or(ServiceError::NotFound)?;
        if !actor.principal.can_work_office(r.ufficio.0)
            && !actor.principal.can_work_office(p.data.office.0)
        {
            return Err(ServiceError::NotFound);
        }
        Ok(r)
    }

    /// Answers the internal opinion `seq` asked of an office the actor works
    /// in (art. 16-17): favourable, favourable on conditions or contrary,
    /// with its text and optionally the signed PDF. Recorded in the
    /// history, seen by the requesting office.
    ///
    /// # Errors
    /// `NotFound` for a request that does not exist;
    /// `parere_ufficio_non_destinatario` when it was not asked of the
    /// actor's office; `parere_gia_reso`; `parere_testo`; the file's codes.
    pub async fn answer_parere(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        seq: u32,
        answer: ParereAnswer,
    ) -> ServiceResult<ParereInterno> {
        actor.require(Permission::WorkOfficeCases)?;
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let eventi = self.db().pratica_eventi(tenant, id).await?;
        let r = pareri_of(&p, &eventi, rome_date(Timestamp::now()))
            .into_iter()
            .find(|r| r.seq == seq)
            .ok_or(ServiceError::NotFound)?;
        if !actor.principal.can_work_office(r.ufficio.0) {
            return Err(invalid(
                "parere_ufficio_non_destinatario",
                "Il parere non è stato chiesto al tuo ufficio.",
            ));
        }
        if r.risposta.is_some() {
            return Err(invalid("parere_gia_reso", "Il parere è già stato reso."));
        }
        let text = text_of(
            &answer.text,
            "parere_testo",
            "Scrivi il testo del parere (le motivazioni o le prescrizioni).",
        )?;
        let file = match &answer.file {
            Some(f) => Some(self.check_message_file(f).await?),
            None => None,
        };
        let role = if actor.principal.can_manage_office(r.ufficio.0) {
            Ruolo::Responsabile
        } else {
            Ruolo::Operatore
        };
        let payload = serde_json::to_string(&ParerePayload {
            richiesta: seq,
            ufficio: r.ufficio.0,
            esito: answer.esito,
            documento: file.clone(),
        })
        .map_err(|e| ServiceError::Internal(format!("payload: {e}")))?;
        let now = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        self.write_office_step(
            tenant,
            &mut tx,
            Step {
                p: &p,
                action: PARERE,
                role,
                who: operator(actor),
                note: Some(text),
                payload,
                public: false,
            },
            None,
            Vec::new(),
            file.as_ref(),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        self.parere_for_office(tenant, actor, id, seq).await
    }

    /// A file with a message or an opinion: PDF, P7M, JPEG or PNG by
    /// content, at most [`MAX_FILE`] bytes.
    async fn check_message_file(&self, f: &super::Upload) -> ServiceResult<DocumentRef> {
        if f.bytes.len() > MAX_FILE {
            return Err(invalid(
                "allegato_troppo_grande",
                format!(
                    "Il file «{}» supera i {} MB ammessi.",
                    f.name,
                    MAX_FILE / (1024 * 1024)
                ),
            ));
        }
        if f.bytes.is_empty() {
            return Err(invalid(
                "allegato_vuoto",
                format!("Il file «{}» è vuoto.", f.name),
            ));
        }
        self.check_step_file(f).await
    }

    /// Sends a message in a pratica: from the applicant to the office
    /// (always seen by both), or from the office's staff to the applicant
    /// (e-mailed through the outbox) or as an internal note the applicant
    /// never sees (`public: false`). No state change.
    ///
    /// The applicant may write while the pratica is open and after its
    /// conclusion (to ask about the measure) until it is archived: an
    /// archived pratica is `pratica_archiviata`.
    ///
    /// # Errors
    /// `NotFound` for another's pratica (another office's, for staff);
    /// `messaggio_vuoto`, `pratica_nota` (too long), the file's codes
    /// (`allegato_tipo_non_ammesso`, `allegato_troppo_grande`),
    /// `pratica_archiviata`.
    pub async fn send_pratica_message(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        input: MessageInput,
    ) -> ServiceResult<PraticaView> {
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let applicant = matches!(actor.user, Some(u) if p.data.applicant_user == Some(u)
            && !actor.principal.can_work_office(p.data.office.0));
        let role = if applicant {
            super::bozze::citizen(actor)?;
            Ruolo::Cittadino
        } else {
            office_role(actor, &p)?
        };
        let text = text_of(
            &input.text,
            "messaggio_vuoto",
            "Scrivi il testo del messaggio.",
        )?;
        if applicant && self.archived(tenant, &p).await? {
            return Err(invalid(
                "pratica_archiviata",
                "La pratica è archiviata: per nuove richieste presenta una nuova istanza o scrivi all'ufficio.",
            ));
        }
        let file = match &input.file {
            Some(f) => Some(self.check_message_file(f).await?),
            None => None,
        };
        let public = applicant || input.public;
        let payload = serde_json::to_string(&MessaggioPayload {
            documento: file.clone(),
        })
        .map_err(|e| ServiceError::Internal(format!("payload: {e}")))?;
        let t = self.tenant(tenant)?;
        let now = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        self.write_office_step(
            tenant,
            &mut tx,
            Step {
                p: &p,
                action: MESSAGGIO,
                role,
                who: operator(actor),
                note: Some(text.clone()),
                payload,
                public,
            },
            None,
            Vec::new(),
            file.as_ref(),
            now,
        )
        .await?;
        let mailed = if !applicant && public {
            super::avvisi::messaggio(&t, &p, &text)
        } else {
            None
        };
        if let Some(m) = &mailed {
            self.queue_mail(&mut tx, tenant, m).await?;
        }
        tx.commit().await?;
        self.ledger_changed(tenant);
        if mailed.is_some() {
            self.wake_mail_worker();
        }
        if applicant {
            self.my_pratica(tenant, actor, id).await
        } else {
            self.office_pratica(tenant, actor, id).await
        }
    }

    /// Whether the pratica was archived (its state is reached by the
    /// procedure's `archiviazione`).
    async fn archived(&self, tenant: TenantId, p: &Pratica) -> ServiceResult<bool> {
        let Some(def) = self
            .service_definition(
                tenant,
                &p.data.service_slug,
                Some(p.data.definition_version),
            )
            .await?
        else {
            return Ok(false);
        };
        Ok(p.closed_at.is_some()
            && def
                .definition
                .procedure
                .transitions
                .iter()
                .any(|t| t.action == Azione::Archiviazione && t.to == p.data.state))
    }
}
