//! Working a pratica (issue 6, parts 3–5): every action of the office or
//! of the applicant is a transition of the service's procedure
//! (`palazzo_domain::procedimento`), checked against the state, the role
//! and the legal guards, applied with a compare-and-swap on the state,
//! appended to the pratica's history and ledgered. The legal clock is
//! recomputed from the dated history at every read (PROC-03).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::{Permission, Role};
use palazzo_domain::calendar::rome_date;
use palazzo_domain::procedimento::{Azione, Clock, ClockEvent, Ruolo, Transition};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow, RegisterCode};
use palazzo_store::*;

use super::definizioni::StoredDefinition;
use super::presentazione::{ONLINE_DESK, binding, record_filed, register_in_tx};
use crate::access::Actor;
use crate::protocollo::operator;
use crate::registro_giornaliero::tenant_calendar;
use crate::segnatura::servizio::SegnaturaStep;
use crate::{App, ServiceError, ServiceResult};

/// The longest note (a request, a message, the reasons of a measure).
pub const MAX_NOTE: usize = 4000;

/// An action on a pratica, as the office or the applicant gives it.
#[derive(Debug, Clone)]
pub struct ActInput {
    /// The action.
    pub action: Azione,
    /// The state the actor saw: the action fails if the pratica moved
    /// meanwhile (`pratica_stato_cambiato`), never applies twice.
    pub expected_state: String,
    /// The text of the request, message or measure.
    pub note: Option<String>,
    /// Files that go with it (the applicant's integration or
    /// observations): checked by content, registered with the step.
    pub files: Vec<super::Upload>,
}

/// A pratica with everything its page shows.
#[derive(Debug, Clone)]
pub struct PraticaView {
    /// The pratica.
    pub pratica: Pratica,
    /// Its history (for the applicant: the steps they may see).
    pub eventi: Vec<PraticaEvento>,
    /// The legal clock today.
    pub clock: Clock,
    /// The definition it follows.
    pub definition: StoredDefinition,
    /// Its files.
    pub allegati: Vec<Allegato>,
    /// The protocol registration of the istanza.
    pub registration: Option<Registration>,
    /// The competent office's name.
    pub office: String,
    /// The actions the viewer may take now, in the procedure's order.
    pub actions: Vec<Azione>,
    /// The viewer's role on it.
    pub role: Ruolo,
    /// The name of the responsabile del procedimento, when named (art. 5).
    pub responsabile: Option<String>,
    /// The internal opinions asked of other offices (staff only; empty
    /// for the applicant).
    pub pareri: Vec<super::ufficio::ParereInterno>,
    /// The messages the viewer sees, in order.
    pub messaggi: Vec<super::ufficio::Messaggio>,
}

pub(super) fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

/// The clock events of a history (the payloads that are one).
pub(crate) fn clock_events(eventi: &[PraticaEvento]) -> Vec<ClockEvent> {
    eventi
        .iter()
        .filter_map(|e| serde_json::from_str::<ClockEvent>(&e.data.payload).ok())
        .collect()
}

/// The role a staff actor works a pratica of `office` in.
pub(super) fn staff_role(actor: &Actor, office: OfficeId) -> ServiceResult<Ruolo> {
    actor.require(Permission::WorkOfficeCases)?;
    if !actor.principal.can_work_office(office.0) {
        return Err(ServiceError::Forbidden);
    }
    let p = &actor.principal;
    Ok(if p.has(Role::Dirigente) {
        Ruolo::Dirigente
    } else if p.can_manage_office(office.0) || p.has(Role::Responsabile) {
        Ruolo::Responsabile
    } else {
        Ruolo::Operatore
    })
}

/// Is `state` a conclusion (no action leaves it but archiving)?
pub(super) fn concluded(def: &StoredDefinition, state: &str) -> bool {
    def.definition
        .procedure
        .transitions
        .iter()
        .filter(|t| t.from == state)
        .all(|t| t.action == Azione::Archiviazione)
}

/// Actions that end with a measure sent to the applicant (registered as
/// outgoing, PDF).
fn is_measure(a: Azione) -> bool {
    matches!(
        a,
        Azione::Accoglimento
            | Azione::Rigetto
            | Azione::DivietoProsecuzione
            | Azione::Improcedibilita
            | Azione::RichiestaIntegrazione
            | Azione::PreavvisoRigetto
    )
}

fn measure_title(a: Azione) -> &'static str {
    match a {
        Azione::Integrazione => "Integrazione documentale",
        Azione::Osservazioni => "Osservazioni ai motivi ostativi (art. 10-bis L. 241/1990)",
        Azione::Accoglimento => "Provvedimento di accoglimento",
        Azione::Rigetto => "Provvedimento di diniego",
        Azione::DivietoProsecuzione => {
            "Divieto di prosecuzione dell'attività (art. 19 c.3 L. 241/1990)"
        }
        Azione::Improcedibilita => "Comunicazione di improcedibilità",
        Azione::RichiestaIntegrazione => {
            "Richiesta di integrazione documentale (art. 2 c.7 L. 241/1990)"
        }
        Azione::PreavvisoRigetto => "Comunicazione dei motivi ostativi (art. 10-bis L. 241/1990)",
        _ => "Comunicazione",
    }
}

/// A short Italian label of an action, for buttons and history.
pub fn action_label(a: Azione) -> &'static str {
    match a {
        Azione::PresaInCarico => "Prendi in carico",
        Azione::RichiestaIntegrazione => "Richiedi integrazione",
        Azione::Integrazione => "Invia integrazione",
        Azione::DecorrenzaIntegrazione => "Termine dell'integrazione decorso",
        Azione::PreavvisoRigetto => "Preavviso di rigetto (10-bis)",
        Azione::Osservazioni => "Invia osservazioni",
        Azione::RipresaIstruttoria => "Riprendi l'istruttoria",
        Azione::RichiestaParere => "Richiedi parere",
        Azione::ParereFavorevole => "Registra parere favorevole",
        Azione::ParereContrario => "Registra parere contrario",
        Azione::SilenzioParere => "Registra silenzio sul parere",
        Azione::NotificaControinteressati => "Notifica ai controinteressati",
        Azione::Opposizione => "Registra opposizione",
        Azione::Accoglimento => "Accogli",
        Azione::Rigetto => "Respingi",
        Azione::SilenzioAssenso => "Registra silenzio-assenso",
        Azione::DivietoProsecuzione => "Vieta la prosecuzione",
        Azione::Autotutela => "Autotutela",
        Azione::Improcedibilita => "Dichiara improcedibile",
        Azione::Ritiro => "Ritira la domanda",
        Azione::Archiviazione => "Archivia",
        Azione::RichiestaPotereSostitutivo => {
            "Chiedi l'intervento del titolare del potere sostitutivo"
        }
    }
}

/// Definitions read once per (service, version) while walking many
/// pratiche (a dashboard, the clock sweep), not once per pratica.
#[derive(Default)]
struct Definitions(std::collections::HashMap<(String, u32), Option<StoredDefinition>>);

impl Definitions {
    async fn of(
        &mut self,
        app: &App,
        tenant: TenantId,
        p: &Pratica,
    ) -> ServiceResult<Option<StoredDefinition>> {
        let key = (p.data.service_slug.clone(), p.data.definition_version);
        if let Some(d) = self.0.get(&key) {
            return Ok(d.clone());
        }
        let d = app.service_definition(tenant, &key.0, Some(key.1)).await?;
        self.0.insert(key, d.clone());
        Ok(d)
    }
}

impl App {
    async fn view_of(
        &self,
        tenant: TenantId,
        pratica: Pratica,
        role: Ruolo,
        public_only: bool,
    ) -> ServiceResult<PraticaView> {
        let definition = self
            .service_definition(
                tenant,
                &pratica.data.service_slug,
                Some(pratica.data.definition_version),
            )
            .await?
            .ok_or_else(|| ServiceError::Internal("pratica without definition".into()))?;
        let t = self.tenant(tenant)?;
        let calendar = tenant_calendar(&t);
        let all = self.db().pratica_eventi(tenant, pratica.id).await?;
        let events = clock_events(&all);
        let today = rome_date(Timestamp::now());
        let clock = definition
            .definition
            .procedure
            .clock(&calendar, &events, today)
            .map_err(|e| ServiceError::invalid(&e))?;
        let actions = if pratica.closed_at.is_some() {
            Vec::new()
        } else {
            let proc = &definition.definition.procedure;
            let mut out: Vec<Azione> = Vec::new();
            for tr in proc
                .transitions
                .iter()
                .filter(|t| t.from == pratica.data.state)
            {
                if !out.contains(&tr.action)
                    && proc
                        .transition(
                            &calendar,
                            &pratica.data.state,
                            tr.action,
                            role,
                            today,
                            &events,
                        )
                        .is_ok()
                {
                    out.push(tr.action);
                }
            }
            out
        };
        let pareri = if public_only {
            Vec::new()
        } else {
            super::ufficio::pareri_of(&pratica, &all, today)
        };
        let eventi: Vec<PraticaEvento> = if public_only {
            all.into_iter().filter(|e| e.data.public).collect()
        } else {
            all
        };
        let messaggi = super::ufficio::messaggi_of(&eventi);
        let responsabile = self.responsabile_name(tenant, &pratica).await?;
        // The applicant sees the files of the steps they see: not those of
        // an internal opinion or an internal note.
        let allegati: Vec<Allegato> = self
            .db()
            .allegati(tenant, AllegatoOwner::Pratica(pratica.id))
            .await?
            .into_iter()
            .filter(|a| match a.data.event_seq {
                Some(seq) if public_only => eventi.iter().any(|e| e.seq == seq),
                _ => true,
            })
            .collect();
        let registration = self
            .db()
            .registration(tenant, pratica.data.registration)
            .await?;
        let office = self
            .portal(tenant)
            .await?
            .office(pratica.data.office)
            .map(|o| o.data.name.clone())
            .unwrap_or_default();
        Ok(PraticaView {
            pratica,
            eventi,
            clock,
            definition,
            allegati,
            registration,
            office,
            actions,
            role,
            responsabile,
            pareri,
            messaggi,
        })
    }

    /// The view of a pratica in `role`, without the access checks (for a
    /// caller already checked, e.g. after transferring it away).
    pub(super) async fn pratica_view_as(
        &self,
        tenant: TenantId,
        pratica: Pratica,
        role: Ruolo,
    ) -> ServiceResult<PraticaView> {
        self.view_of(tenant, pratica, role, false).await
    }

    /// The pratiche of the signed-in citizen, newest first.
    pub async fn my_pratiche(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Pratica>> {
        let user = super::bozze::citizen(actor)?;
        Ok(self.db().pratiche_of(tenant, user).await?)
    }

    /// A pratica of the signed-in citizen (another person's does not exist
    /// for them), with the steps they may see and the actions open to
    /// them (C.SE.1.9, C.SE.1.10).
    pub async fn my_pratica(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
    ) -> ServiceResult<PraticaView> {
        let user = super::bozze::citizen(actor)?;
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .filter(|p| p.data.applicant_user == Some(user))
            .ok_or(ServiceError::NotFound)?;
        self.view_of(tenant, p, Ruolo::Cittadino, true).await
    }

    /// The document that went with step `seq` of the applicant's own
    /// pratica (a measure, a request, a notice, or the applicant's own
    /// integration as registered): the registration's primary document.
    /// `NotFound` for another's pratica, a step the applicant does not
    /// see, or one without a document.
    pub async fn my_pratica_document(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        seq: u32,
    ) -> ServiceResult<(Registration, DocumentRef)> {
        let view = self.my_pratica(tenant, actor, id).await?;
        let reg = view
            .eventi
            .iter()
            .find(|e| e.seq == seq)
            .and_then(|e| e.data.registration)
            .ok_or(ServiceError::NotFound)?;
        let reg = self
            .db()
            .registration(tenant, reg)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let doc = reg.data.primary.clone();
        Ok((reg, doc))
    }

    /// A pratica for the staff of its office (or who sees every office).
    pub async fn office_pratica(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
    ) -> ServiceResult<PraticaView> {
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let role = staff_role(actor, p.data.office)?;
        self.view_of(tenant, p, role, false).await
    }

    /// The open pratiche of an office with their clocks, the nearest
    /// deadline first (the office dashboard: overdue and near-due first).
    pub async fn office_pratiche(
        &self,
        tenant: TenantId,
        actor: &Actor,
        office: OfficeId,
    ) -> ServiceResult<Vec<(Pratica, Clock)>> {
        staff_role(actor, office)?;
        let t = self.tenant(tenant)?;
        let calendar = tenant_calendar(&t);
        let today = rome_date(Timestamp::now());
        let mut out = Vec::new();
        let mut definitions = Definitions::default();
        for p in self
            .db()
            .office_pratiche(tenant, office, PraticheFilter::Open)
            .await?
        {
            let Some(def) = definitions.of(self, tenant, &p).await? else {
                continue;
            };
            let events = clock_events(&self.db().pratica_eventi(tenant, p.id).await?);
            match def.definition.procedure.clock(&calendar, &events, today) {
                Ok(c) => out.push((p, c)),
                Err(e) => tracing::warn!(pratica = p.id.0, error = %e, "clock not computable"),
            }
        }
        out.sort_by_key(|(p, c)| (c.deadline, p.id));
        Ok(out)
    }

    /// Takes one action on a pratica (see the module doc). The applicant
    /// acts as `cittadino` on their own pratica; staff in the role their
    /// grants give them on its office. A measure (acceptance, refusal,
    /// requests and notices to the applicant) is rendered as a PDF and
    /// registered as outgoing with its segnatura, in the same transaction.
    ///
    /// # Errors
    /// `pratica_stato_cambiato` when the state moved meanwhile, the
    /// procedure's codes (`procedura_transizione_non_ammessa`,
    /// `procedura_ruolo_non_ammesso`, `procedura_integrazione_gia_richiesta`,
    /// `procedura_rigetto_senza_preavviso`…), `pratica_nota` for a missing
    /// or too long note where one is needed.
    pub async fn act_on_pratica(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: PraticaId,
        input: ActInput,
    ) -> ServiceResult<PraticaView> {
        let p = self
            .db()
            .pratica(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let role = match actor.user {
            Some(u)
                if p.data.applicant_user == Some(u)
                    && !actor.principal.can_work_office(p.data.office.0) =>
            {
                super::bozze::citizen(actor)?;
                Ruolo::Cittadino
            }
            _ => staff_role(actor, p.data.office)?,
        };
        let now = palazzo_store::rows::registration_time();
        self.apply_step(tenant, p, role, operator(actor), input, rome_date(now), now)
            .await
    }

    /// Applies one step as `role` on `today` (the procedure's checks, the
    /// document, the compare-and-swap, the history and the ledger).
    #[allow(clippy::too_many_arguments)]
    async fn apply_step(
        &self,
        tenant: TenantId,
        p: Pratica,
        role: Ruolo,
        who: String,
        input: ActInput,
        today: Date,
        now: Timestamp,
    ) -> ServiceResult<PraticaView> {
        let id = p.id;
        if p.data.state != input.expected_state || p.closed_at.is_some() {
            return Err(invalid(
                "pratica_stato_cambiato",
                "La pratica è cambiata nel frattempo: ricarica la pagina e verifica lo stato.",
            ));
        }
        let note = match input.note.as_deref().map(str::trim) {
            Some(n) if n.chars().count() > MAX_NOTE => {
                return Err(invalid(
                    "pratica_nota",
                    format!("Il testo può avere al massimo {MAX_NOTE} caratteri."),
                ));
            }
            Some("") | None => None,
            Some(n) => Some(n.to_owned()),
        };
        if is_measure(input.action) && note.is_none() {
            return Err(invalid(
                "pratica_nota",
                "Scrivi il testo della comunicazione o le motivazioni del provvedimento.",
            ));
        }
        let def = self
            .service_definition(
                tenant,
                &p.data.service_slug,
                Some(p.data.definition_version),
            )
            .await?
            .ok_or_else(|| ServiceError::Internal("pratica without definition".into()))?;
        let t = self.tenant(tenant)?;
        let calendar = tenant_calendar(&t);
        let eventi = self.db().pratica_eventi(tenant, id).await?;
        let mut events = clock_events(&eventi);
        let proc = &def.definition.procedure;
        let tr: Transition = proc
            .transition(&calendar, &p.data.state, input.action, role, today, &events)
            .map_err(|e| ServiceError::invalid(&e))?;
        if let Some(e) = &tr.event {
            events.push(e.clone());
        }
        let clock = proc
            .clock(&calendar, &events, today)
            .map_err(|e| ServiceError::invalid(&e))?;
        let closes = concluded(&def, &tr.to);

        // The document of the step, when there is one, rendered before
        // the transaction: a measure or communication to the applicant goes
        // out (sealed segnatura); the applicant's integration or
        // observations come in, with their files.
        let flow = if is_measure(input.action) {
            Some(Flow::Uscita)
        } else if matches!(input.action, Azione::Integrazione | Azione::Osservazioni) {
            Some(Flow::Entrata)
        } else {
            None
        };
        if flow.is_none() && !input.files.is_empty() {
            return Err(invalid(
                "allegato_non_previsto",
                "Questo passo della pratica non prevede allegati.",
            ));
        }
        let mut files = Vec::new();
        for f in &input.files {
            files.push(self.check_step_file(f).await?);
        }
        let measure = match flow {
            Some(_) => Some(self.render_measure(
                &t,
                &p,
                input.action,
                note.as_deref().unwrap_or(""),
                &clock,
                now,
                &files,
            )?),
            None => None,
        };
        let plan = match flow {
            Some(flow) => Some(self.segnatura_plan(&t, flow, SegnaturaStep::ByFlow)?),
            None => None,
        };
        let primary = match &measure {
            Some(pdf) => Some(
                self.documents()
                    .put_bytes(&format!("{}.pdf", input.action.code()), pdf)
                    .await?
                    .to_ref(),
            ),
            None => None,
        };
        let payload = match &tr.event {
            Some(e) => serde_json::to_string(e)
                .map_err(|e| ServiceError::Internal(format!("clock event json: {e}")))?,
            None => "{}".to_owned(),
        };

        for _ in 0..3 {
            let mut tx = self.db().begin().await?;
            // LOG-6: the records this step writes besides its own, bound by
            // the step (and the step by its registration, if any).
            let mut bindings = Vec::new();
            let mut registration = match (&primary, &plan) {
                (Some(primary), Some(plan)) => {
                    let new = NewRegistration {
                        register: RegisterCode::general(),
                        flow: flow.unwrap_or(Flow::Uscita),
                        subject: format!("{} – {}", measure_title(input.action), p.data.subject),
                        correspondents: vec![Correspondent {
                            kind: CorrespondentKind::PersonaFisica,
                            name: p.data.applicant_name.clone(),
                            fiscal_code: p.data.applicant_cf.clone(),
                            ipa: None,
                            email: p
                                .data
                                .applicant_email
                                .as_deref()
                                .and_then(|e| palazzo_domain::ids::Email::parse(e).ok()),
                            address: None,
                            per_conoscenza: false,
                        }],
                        received_number: None,
                        received_date: None,
                        primary: primary.clone(),
                        attachments: files.clone(),
                        registered_by: who.clone(),
                        emergency: None,
                        classification: self
                            .db()
                            .registration(tenant, p.data.registration)
                            .await?
                            .and_then(|r| r.data.classification),
                        office: Some(p.data.office),
                    };
                    let Some(reg) = register_in_tx(self, &mut tx, &t, &new, plan).await? else {
                        continue;
                    };
                    if let Some(f) = p.data.fascicolo {
                        let doc = FascicoloDocument {
                            registration: reg.id,
                            added_at: reg.registered_at,
                            added_by: who.clone(),
                        };
                        if tx.add_fascicolo_document(tenant, f, &doc).await? {
                            let mut documents = self.db().fascicolo_documents(tenant, f).await?;
                            documents.push(doc);
                            if let Some(fascicolo) = self.db().fascicolo(tenant, f).await? {
                                bindings.push(binding(&FascicoloState {
                                    fascicolo,
                                    documents,
                                })?);
                            }
                        }
                    }
                    Some(reg)
                }
                _ => None,
            };
            let change = PraticaChange {
                from_state: p.data.state.clone(),
                to_state: tr.to.clone(),
                deadline: Some(clock.deadline),
                responsabile: match (input.action, role, user_of(&who)) {
                    (Azione::PresaInCarico, Ruolo::Responsabile | Ruolo::Dirigente, Some(u)) => {
                        Some(u)
                    }
                    _ => p.data.responsabile,
                },
                office: p.data.office,
                closed_at: closes.then_some(now),
            };
            if !tx.change_pratica(tenant, id, &change).await? {
                return Err(invalid(
                    "pratica_stato_cambiato",
                    "La pratica è cambiata nel frattempo: ricarica la pagina e verifica lo stato.",
                ));
            }
            let mut after = p.clone();
            after.data.state = change.to_state.clone();
            after.data.deadline = change.deadline;
            after.data.responsabile = change.responsabile;
            after.closed_at = change.closed_at;
            bindings.push(binding(&after)?);
            let evento = tx
                .insert_pratica_evento(
                    tenant,
                    id,
                    &NewPraticaEvento {
                        action: input.action.code().to_owned(),
                        at: now,
                        on_date: today,
                        actor: who.clone(),
                        role: role.code().to_owned(),
                        from_state: p.data.state.clone(),
                        to_state: tr.to.clone(),
                        note: note.clone(),
                        payload: payload.clone(),
                        registration: registration.as_ref().map(|r| r.id),
                        public: true,
                        bindings,
                    },
                )
                .await?;
            for f in &files {
                tx.insert_allegato(
                    tenant,
                    &NewAllegato {
                        owner: AllegatoOwner::Pratica(id),
                        spec_id: input.action.code().to_owned(),
                        document: f.clone(),
                        event_seq: Some(evento.seq),
                    },
                    now,
                )
                .await?;
            }
            record_filed(&mut tx, &t, registration.as_mut(), &evento).await?;
            let mailed = if role == Ruolo::Cittadino {
                None
            } else {
                super::avvisi::passo(&t, &after, input.action, note.as_deref())
            };
            if let Some(m) = &mailed {
                self.queue_mail(&mut tx, tenant, m).await?;
            }
            tx.commit().await?;
            self.ledger_changed(tenant);
            if mailed.is_some() {
                self.wake_mail_worker();
            }
            tracing::info!(pratica = id.0, action = input.action.code(), to = %tr.to, "pratica step");
            return self
                .view_of(tenant, after, role, role == Ruolo::Cittadino)
                .await;
        }
        Err(ServiceError::Internal(
            "the register year kept changing during the step".into(),
        ))
    }

    /// The PDF of a measure or communication to the applicant (or of the
    /// applicant's integration), with the PROC-07 sentence when a final
    /// measure comes after the deadline.
    #[allow(clippy::too_many_arguments)]
    fn render_measure(
        &self,
        t: &Tenant,
        p: &Pratica,
        action: Azione,
        text: &str,
        clock: &Clock,
        now: Timestamp,
        files: &[DocumentRef],
    ) -> ServiceResult<Vec<u8>> {
        use palazzo_pdf::{Info, PdfWriter, Style};
        let pdf = |e: palazzo_pdf::PdfError| ServiceError::Internal(format!("measure pdf: {e}"));
        let title = measure_title(action);
        let mut w = PdfWriter::new(
            Info {
                title: format!("{title} – {}", p.data.subject),
                subject: p.data.subject.clone(),
                author: t.data.name.clone(),
                language: "it-IT".into(),
                created: now,
            },
            format!("{} – {}", t.data.name, p.data.subject),
        );
        w.paragraph(Style::Small, &t.data.name).map_err(pdf)?;
        w.paragraph(Style::Title, title).map_err(pdf)?;
        w.field("Destinatario", &p.data.applicant_name)
            .map_err(pdf)?;
        w.field("Oggetto", &p.data.subject).map_err(pdf)?;
        w.field(
            "Istanza ricevuta il",
            &p.data.received_on.strftime("%d/%m/%Y").to_string(),
        )
        .map_err(pdf)?;
        w.paragraph(Style::Heading, "Testo").map_err(pdf)?;
        for para in text.split("\n\n") {
            w.paragraph(Style::Body, para).map_err(pdf)?;
        }
        // Art. 2 c.9-quinquies L. 241/1990 (PROC-07).
        if matches!(action, Azione::Accoglimento | Azione::Rigetto)
            && let Some(late) = &clock.late_statement
        {
            w.paragraph(Style::Strong, late).map_err(pdf)?;
        }
        if !files.is_empty() {
            w.paragraph(Style::Heading, "Allegati").map_err(pdf)?;
            for f in files {
                w.field(&f.name, &format!("SHA-256 {}", f.sha256.hex()))
                    .map_err(pdf)?;
            }
        }
        w.paragraph(
            Style::Small,
            &format!(
                "Documento informatico registrato nel protocollo del {} e conservato nel fascicolo della pratica ({ONLINE_DESK}).",
                t.data.name
            ),
        )
        .map_err(pdf)?;
        w.finish().map_err(pdf)
    }
}

/// The user id in an operator string (`Name (user:12)` or `user:12`).
pub(super) fn user_of(who: &str) -> Option<UserId> {
    let start = who.rfind("user:")? + "user:".len();
    let digits: String = who[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(UserId)
}

/// Who the system acts as in the ledger and the history.
pub const SISTEMA: &str = "sistema";

impl App {
    /// The procedure clock's own steps on `today`, for every open pratica
    /// of every comune: what the law makes happen by the passing of time
    /// and Palazzo records as the `sistema` role — silenzio-assenso reached
    /// (art. 20 L. 241/1990, PROC-05), an integration window lapsed (art. 2
    /// c.7; DPR 31/2017 art. 11 c.5: improcedibile), the Soprintendenza's
    /// silence (DPR 31/2017 art. 11 c.9). Each pratica takes at most one
    /// step per sweep; the procedure's guards decide whether it is due.
    /// Returns the steps taken.
    pub async fn sweep_pratiche(&self, today: Date) -> ServiceResult<usize> {
        let mut taken = 0;
        for t in self.tenants() {
            let calendar = tenant_calendar(&t);
            let mut definitions = Definitions::default();
            let mut after = PraticaId(0);
            loop {
                let page = self.db().pratiche_by_id(t.id, after, 200).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for p in page.into_iter().filter(|p| p.closed_at.is_none()) {
                    let Some(def) = definitions.of(self, t.id, &p).await? else {
                        continue;
                    };
                    let events = clock_events(&self.db().pratica_eventi(t.id, p.id).await?);
                    let proc = &def.definition.procedure;
                    let due = proc
                        .transitions
                        .iter()
                        .filter(|tr| tr.from == p.data.state && tr.roles.contains(&Ruolo::Sistema))
                        .map(|tr| tr.action)
                        .find(|a| {
                            proc.transition(
                                &calendar,
                                &p.data.state,
                                *a,
                                Ruolo::Sistema,
                                today,
                                &events,
                            )
                            .is_ok()
                        });
                    let Some(action) = due else { continue };
                    let input = ActInput {
                        action,
                        expected_state: p.data.state.clone(),
                        note: None,
                        files: Vec::new(),
                    };
                    let id = p.id;
                    match self
                        .apply_step(
                            t.id,
                            p,
                            Ruolo::Sistema,
                            SISTEMA.to_owned(),
                            input,
                            today,
                            palazzo_store::rows::registration_time(),
                        )
                        .await
                    {
                        Ok(_) => taken += 1,
                        Err(e) => {
                            tracing::warn!(pratica = id.0, action = action.code(), error = %e, "procedure step not taken")
                        }
                    }
                }
            }
        }
        Ok(taken)
    }

    /// Runs until `shutdown` resolves, sweeping the procedure clocks every
    /// hour (and at start-up) with the Europe/Rome date of the moment.
    pub async fn run_procedure_clock(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            match self.sweep_pratiche(rome_date(Timestamp::now())).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(steps = n, "procedure clock steps taken"),
                Err(e) => tracing::warn!(error = %e, "procedure clock sweep failed"),
            }
        }
    }

    /// Stores a file sent with a step: PDF, signed P7M, JPEG or PNG by
    /// content, within the document store's size limit.
    pub(super) async fn check_step_file(&self, f: &super::Upload) -> ServiceResult<DocumentRef> {
        use crate::documents::{Kind, detect};
        let detected = detect(&f.bytes)?;
        if !matches!(
            detected.kind,
            Kind::Pdf | Kind::P7m | Kind::Jpeg | Kind::Png
        ) {
            return Err(invalid(
                "allegato_tipo_non_ammesso",
                format!(
                    "Il contenuto del file «{}» non è di un tipo ammesso (PDF, P7M, JPEG, PNG).",
                    f.name
                ),
            ));
        }
        let name = crate::documents::clean_name(&f.name)?;
        Ok(self.documents().put_bytes(&name, &f.bytes).await?.to_ref())
    }
}
