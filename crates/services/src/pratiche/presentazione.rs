//! Submission of an istanza: one transaction (issue 6, part 2).
//!
//! The pratica is stored, registered in the protocollo with its attachments
//! (the istanza itself as a PDF/A, the files as attachments), filed in a new
//! fascicolo under the service's class, assigned to the competent office
//! and ledgered; the citizen gets at once the protocol number, the date,
//! the office and the legal deadline (art. 18-bis L. 241/1990; PROC-02;
//! C.SE.1.10). A submission is made once: the draft's key is the
//! idempotency key (a double click or a retried request answers with the
//! pratica already filed).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::moduli::{self, RawAnswers};
use palazzo_domain::procedimento::ClockEvent;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow, RegisterCode};
use palazzo_store::*;

use super::bozze::citizen;
use super::documento::{IstanzaDoc, render};
use super::form_error;
use crate::access::Actor;
use crate::db::DbTx;
use crate::ledger::{record, state_hash};
use crate::protocollo::register_year;
use crate::registro_giornaliero::tenant_calendar;
use crate::segnatura::servizio::{SegnaturaPlan, SegnaturaStep};
use crate::{App, ServiceError, ServiceResult};

/// What the citizen is told at once (PROC-02, C.SE.1.10).
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The pratica.
    pub pratica: Pratica,
    /// Its protocol registration.
    pub registration: Registration,
    /// The fascicolo's code.
    pub fascicolo: Option<String>,
    /// The competent office's name.
    pub office: String,
    /// The legal deadline.
    pub deadline: Option<Date>,
    /// Whether silence past the deadline means acceptance (art. 20).
    pub silenzio_assenso: bool,
    /// True when this answers a repeated submission of the same draft.
    pub repeated: bool,
}

/// Who filed, as the register and the fascicolo name them.
pub(crate) const ONLINE_DESK: &str = "Servizi online";

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

/// Takes the next number of the general register and stores `new` in
/// `tx`, with its segnatura when `plan` seals one. `None` when the year
/// turned between the guess and the counter (the caller starts again with
/// a fresh transaction; nothing was consumed once it is dropped). The
/// registration's event is appended by [`record_filed`], once the step of
/// the pratica that goes with it is written.
pub(crate) async fn register_in_tx(
    app: &App,
    tx: &mut DbTx,
    t: &Tenant,
    new: &NewRegistration,
    plan: &SegnaturaPlan,
) -> ServiceResult<Option<Registration>> {
    let year = register_year(Timestamp::now());
    let (number, at) = tx
        .next_protocol_number(t.id, new.register.as_str(), year)
        .await?;
    // DECISIONS 8: the register year is the Europe/Rome year of the
    // registration time, read once the counter row is held.
    if register_year(at) != year {
        return Ok(None);
    }
    let mut reg = tx.insert_registration(t.id, new, year, number, at).await?;
    app.segnatura_in_tx(tx, t, &mut reg, plan, None).await?;
    Ok(Some(reg))
}

/// The binding of `record`'s state (LOG-6, migration 0029).
pub(crate) fn binding(record: &impl Recorded) -> ServiceResult<Binding> {
    Ok(Binding {
        subject: record.subject(),
        state: state_hash(record)?,
    })
}

/// Appends the one ledger event of a call that wrote the step `evento` of a
/// pratica (LOG-6): with a document, `reg` binds the step (which binds the
/// pratica, fascicolo and hand-off it names) and its `protocollo.registered`
/// event records it; without, the step's own `pratica.evento` does.
pub(crate) async fn record_filed(
    tx: &mut DbTx,
    t: &Tenant,
    reg: Option<&mut Registration>,
    evento: &PraticaEvento,
) -> ServiceResult<()> {
    match reg {
        Some(reg) => {
            let bindings = vec![binding(evento)?];
            tx.bind_registration_records(t.id, reg.id, &bindings)
                .await?;
            reg.bindings = bindings;
            record(tx, t, "protocollo.registered", &*reg).await?;
        }
        None => {
            record(tx, t, "pratica.evento", evento).await?;
        }
    }
    Ok(())
}

/// The pratica's answer to a repeated submission.
async fn already_filed(
    app: &App,
    tenant: TenantId,
    user: UserId,
    key: &str,
) -> ServiceResult<Option<Submitted>> {
    let Some(p) = app.db().pratica_by_key(tenant, key).await? else {
        return Ok(None);
    };
    if p.data.applicant_user != Some(user) {
        return Ok(None);
    }
    let reg = app
        .db()
        .registration(tenant, p.data.registration)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let fascicolo = match p.data.fascicolo {
        Some(f) => app.db().fascicolo(tenant, f).await?.map(|f| f.code),
        None => None,
    };
    let portal = app.portal(tenant).await?;
    let office = portal
        .office(p.data.office)
        .map(|o| o.data.name.clone())
        .unwrap_or_default();
    let silenzio_assenso = app
        .service_definition(
            tenant,
            &p.data.service_slug,
            Some(p.data.definition_version),
        )
        .await?
        .is_some_and(|d| d.definition.procedure.silenzio_assenso);
    Ok(Some(Submitted {
        deadline: p.data.deadline,
        pratica: p,
        registration: reg,
        fascicolo,
        office,
        silenzio_assenso,
        repeated: true,
    }))
}

impl App {
    /// Submits a draft of the signed-in citizen (see the module doc).
    /// `key` is the draft's key as the confirmation page carried it;
    /// `declarations` the ticked declarations.
    ///
    /// # Errors
    /// The form's own codes (`modulo_campo_obbligatorio`,
    /// `modulo_allegato_mancante`, `modulo_dichiarazione_mancante`…),
    /// `pratica_chiave_non_valida` for a key that is not the draft's,
    /// `office_unknown` when the service card has no office.
    pub async fn submit_bozza(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BozzaId,
        key: &str,
        declarations: &RawAnswers,
    ) -> ServiceResult<Submitted> {
        let user = citizen(actor)?;
        let view = match self.bozza_view(tenant, actor, id).await {
            Ok(v) => v,
            Err(ServiceError::NotFound) => {
                // Already submitted (a double click, a retried request):
                // the same answer again, nothing filed twice.
                return already_filed(self, tenant, user, key)
                    .await?
                    .ok_or(ServiceError::NotFound);
            }
            Err(e) => return Err(e),
        };
        if view.bozza.data.key != key {
            return Err(invalid(
                "pratica_chiave_non_valida",
                "La pagina di conferma non corrisponde a questa bozza: ricaricala e riprova.",
            ));
        }
        let def = view.definition.definition.clone();
        let form = &def.form;
        let answers = moduli::parse_declarations(form, declarations, &view.answers)
            .map_err(|e| form_error(&e))?;
        let counts = view.attachment_counts();
        moduli::validate_all(form, &answers, &counts).map_err(|e| form_error(&e))?;
        let answers = answers.visible_only(form);

        let profile = self
            .db()
            .user(tenant, user)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let applicant = format!("{} {}", profile.data.given_name, profile.data.family_name)
            .trim()
            .to_owned();
        let cf = profile.data.codice_fiscale.clone();
        // Where the comune writes about the pratica (C.SE.1.2): the
        // profile's address, else the contact address given in the form
        // (the field the profile's e-mail would prefill).
        let email = profile
            .data
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .or_else(|| {
                form.steps
                    .iter()
                    .flat_map(|s| &s.fields)
                    .filter(|f| f.prefill == Some(moduli::Prefill::ProfiloEmail))
                    .find_map(|f| match answers.values.get(&f.id) {
                        Some(moduli::Value::Email(e)) => Some(e.as_str().to_owned()),
                        _ => None,
                    })
            });
        let portal = self.portal(tenant).await?;
        let card = portal
            .service(&view.bozza.data.service_slug)
            .ok_or(ServiceError::NotFound)?;
        let office = portal.office(card.data.office).cloned().ok_or_else(|| {
            invalid(
                "office_unknown",
                "Il servizio non ha un ufficio competente: contatta il Comune.",
            )
        })?;
        let t = self.tenant(tenant)?;
        let calendar = tenant_calendar(&t);

        // The istanza as a document (the primary document of the
        // registration), stored before the transaction.
        let sections: Vec<(String, Vec<(String, String)>)> = moduli::summary(form, &answers)
            .into_iter()
            .map(|s| (s.title, s.rows))
            .collect();
        let declared: Vec<String> = form
            .declarations
            .iter()
            .filter(|d| {
                matches!(
                    answers.get(&d.id),
                    Some(palazzo_domain::moduli::Value::Bool(true))
                )
            })
            .map(|d| d.text.clone())
            .collect();
        let files: Vec<(String, String)> = view
            .allegati
            .iter()
            .map(|a| (a.data.document.name.clone(), a.data.document.sha256.hex()))
            .collect();
        let answers_json = serde_json::to_string(&answers)
            .map_err(|e| ServiceError::Internal(format!("answers json: {e}")))?;
        let now = Timestamp::now();
        let pdf = render(&IstanzaDoc {
            comune: &t.data.name,
            service_title: &card.data.title,
            applicant: &applicant,
            applicant_cf: cf.as_ref().map(|c| c.as_str()),
            sections: &sections,
            declarations: &declared,
            files: &files,
            answers_json: &answers_json,
            submitted_at: now,
        })?;
        let primary = self
            .documents()
            .put_bytes("istanza.pdf", &pdf)
            .await?
            .to_ref();
        let subject = def.subject_for(&applicant);
        let correspondent = match &cf {
            Some(cf) => Correspondent::person(&applicant, cf),
            None => Correspondent {
                kind: CorrespondentKind::PersonaFisica,
                name: applicant.clone(),
                fiscal_code: None,
                ipa: None,
                email: profile.data.email.clone(),
                address: None,
                per_conoscenza: false,
            },
        };
        let titolario = self.current_titolario(tenant).await?;
        let classification = crate::fascicoli::check_open_voice(&titolario, &def.classification)?;
        let by = format!("{ONLINE_DESK} (user:{})", user.0);
        let new_reg = NewRegistration {
            register: RegisterCode::general(),
            flow: Flow::Entrata,
            subject: subject.clone(),
            correspondents: vec![correspondent],
            received_number: None,
            received_date: None,
            primary,
            attachments: view
                .allegati
                .iter()
                .map(|a| a.data.document.clone())
                .collect(),
            registered_by: by.clone(),
            emergency: None,
            classification: Some(classification.clone()),
            office: Some(office.id),
        };
        let plan = self.segnatura_plan(&t, Flow::Entrata, SegnaturaStep::ByFlow)?;

        for _ in 0..3 {
            let mut tx = self.db().begin().await?;
            let Some(mut reg) = register_in_tx(self, &mut tx, &t, &new_reg, &plan).await? else {
                continue;
            };
            let at = reg.registered_at;
            // Art. 2 c.6 L. 241/1990: the term runs from receipt, the
            // protocol date (art. 18-bis: the two cannot differ).
            let received_on = rome_date(at);
            let year = received_on.year();
            let number = tx
                .next_fascicolo_number(tenant, year, &classification)
                .await?;
            let code = format!("{year}-{classification}-{number}");
            let fascicolo = tx
                .insert_fascicolo(
                    tenant,
                    &NewFascicolo {
                        classification: classification.clone(),
                        titolario_version: titolario.info.version,
                        kind: FascicoloKind::Procedimento,
                        subject: subject.clone(),
                        office: office.id,
                        responsible: office.data.name.clone(),
                        participants: Vec::new(),
                        holder: Some(applicant.clone()),
                        parent: None,
                        opened_on: received_on,
                        opened_by: by.clone(),
                    },
                    &code,
                    year,
                    number,
                    at,
                )
                .await?;
            let doc = FascicoloDocument {
                registration: reg.id,
                added_at: at,
                added_by: by.clone(),
            };
            tx.add_fascicolo_document(tenant, fascicolo.id, &doc)
                .await?;
            let fascicolo_state = FascicoloState {
                fascicolo: fascicolo.clone(),
                documents: vec![doc],
            };
            let handoff = tx
                .insert_handoff(
                    tenant,
                    &NewHandoff {
                        subject: HandoffSubject::Registration(reg.id),
                        kind: HandoffKind::Competenza,
                        office: office.id,
                        user: None,
                        parent: None,
                        desk: None,
                    },
                    at,
                )
                .await?;
            tx.append_handoff_step(
                tenant,
                handoff.id,
                HandoffState::Assegnato.code(),
                &by,
                at,
                None,
            )
            .await?;

            let received = ClockEvent::Received { date: received_on };
            let clock = def
                .procedure
                .clock(&calendar, std::slice::from_ref(&received), received_on)
                .map_err(|e| ServiceError::invalid(&e))?;
            let state = def.procedure.initial_state.clone();
            let pratica = match tx
                .insert_pratica(
                    tenant,
                    &NewPratica {
                        service_slug: view.bozza.data.service_slug.clone(),
                        definition_version: view.definition.version,
                        applicant_user: Some(user),
                        applicant_cf: cf.as_ref().map(|c| c.as_str().to_owned()),
                        applicant_name: applicant.clone(),
                        applicant_email: email.clone(),
                        subject: subject.clone(),
                        answers: answers_json.clone(),
                        registration: reg.id,
                        fascicolo: Some(fascicolo.id),
                        office: office.id,
                        responsabile: None,
                        received_on,
                        submitted_at: at,
                        state: state.clone(),
                        deadline: Some(clock.deadline),
                        key: key.to_owned(),
                    },
                )
                .await
            {
                Ok(p) => p,
                Err(StoreError::Conflict(_)) => {
                    // Submitted meanwhile by a concurrent request: nothing
                    // of this one is kept.
                    drop(tx);
                    return already_filed(self, tenant, user, key)
                        .await?
                        .ok_or(ServiceError::NotFound);
                }
                Err(e) => return Err(e.into()),
            };
            tx.move_allegati(tenant, id, pratica.id).await?;
            if !tx.delete_bozza(tenant, user, id).await? {
                return Err(ServiceError::NotFound);
            }
            let evento = tx
                .insert_pratica_evento(
                    tenant,
                    pratica.id,
                    &NewPraticaEvento {
                        action: "presentazione".into(),
                        at,
                        on_date: received_on,
                        actor: format!("user:{}", user.0),
                        role: "cittadino".into(),
                        from_state: "bozza".into(),
                        to_state: state.clone(),
                        note: None,
                        payload: serde_json::to_string(&received).map_err(|e| {
                            ServiceError::Internal(format!("clock event json: {e}"))
                        })?,
                        registration: Some(reg.id),
                        public: true,
                        // LOG-6: the one event of the filing binds every
                        // record it wrote.
                        bindings: vec![
                            binding(&fascicolo_state)?,
                            binding(&handoff)?,
                            binding(&pratica)?,
                        ],
                    },
                )
                .await?;
            record_filed(&mut tx, &t, Some(&mut reg), &evento).await?;
            // C.SE.1.2: the receipt by e-mail too, committed with the filing.
            let mailed = super::avvisi::ricevuta(
                &t,
                &pratica,
                &reg,
                &card.data.title,
                &office.data.name,
                def.procedure.silenzio_assenso,
            );
            if let Some(m) = &mailed {
                self.queue_mail(&mut tx, tenant, m).await?;
            }
            tx.commit().await?;
            self.ledger_changed(tenant);
            if mailed.is_some() {
                self.wake_mail_worker();
            }
            tracing::info!(
                pratica = pratica.id.0,
                number = %reg.number,
                service = %pratica.data.service_slug,
                "istanza filed"
            );
            return Ok(Submitted {
                deadline: pratica.data.deadline,
                pratica,
                registration: reg,
                fascicolo: Some(fascicolo.code),
                office: office.data.name.clone(),
                silenzio_assenso: def.procedure.silenzio_assenso,
                repeated: false,
            });
        }
        Err(ServiceError::Internal(
            "the register year kept changing during the submission".into(),
        ))
    }
}
