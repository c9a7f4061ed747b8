//! Online istanze (issue 6) through the services, on SQLite and on
//! PostgreSQL: every shipped service can be filled, saved as a draft and
//! filed; filing is one transaction (protocol with attachments, fascicolo
//! under the service's class, hand-off to the office, pratica, ledger) and
//! happens once per draft; the procedure's steps move the legal clock as
//! the law says; bad input and other people's drafts and pratiche are
//! refused with a code, losing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::Role;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::moduli::{self, RawAnswers};
use palazzo_domain::procedimento::{Azione, ClockEvent};
use palazzo_domain::protocollo::Flow;
use palazzo_services::ServiceError;
use palazzo_services::access::Actor;
use palazzo_services::db::Backend;
use palazzo_services::pratiche::bozze::Nav;
use palazzo_services::pratiche::{ActInput, SHIPPED, StepOutcome, Upload};
use palazzo_services::registro_giornaliero::tenant_calendar;
use palazzo_services::verify::verify;
use palazzo_store::{
    AllegatoOwner, BozzaId, NewUser, NoticeChannel, OfficeId, Store, StoreTx, UserId,
};
use palazzo_testkit::istanze::{PDF, PNG};

use palazzo_testkit::istanze::{Comune as Setup, actor};

async fn setup(backend: Backend) -> Setup {
    Setup::new(backend).await
}

/// Fills every step of a draft as a citizen would, uploads every
/// required attachment, and returns the draft's key.
async fn complete(s: &Setup, who: &Actor, id: BozzaId) -> String {
    palazzo_testkit::istanze::complete_draft(&s.app, s.tenant, who, id).await
}

fn declarations(form: &moduli::FormDefinition) -> RawAnswers {
    palazzo_testkit::istanze::all_declarations(form)
}

fn code(e: &ServiceError) -> &'static str {
    e.code()
}

async fn every_shipped_service_is_filed(backend: Backend) {
    let s = setup(backend).await;
    let today = rome_date(jiff::Timestamp::now());
    let calendar = tenant_calendar(&s.app.tenants()[0]);
    for shipped in SHIPPED {
        let b = s
            .app
            .start_bozza(s.tenant, &s.giulia, shipped.service)
            .await
            .unwrap();
        let key = complete(&s, &s.giulia, b.id).await;
        let view = s.app.bozza_view(s.tenant, &s.giulia, b.id).await.unwrap();
        let form = view.definition.definition.form.clone();
        let files = view.allegati.len();
        let done = s
            .app
            .submit_bozza(s.tenant, &s.giulia, b.id, &key, &declarations(&form))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", shipped.service));
        assert!(!done.repeated);
        let p = &done.pratica;
        // PROC-02: protocol number and time, the deadline = receipt + term
        // (moved off a festivo), computed independently here.
        assert_eq!(
            p.data.received_on,
            rome_date(done.registration.registered_at)
        );
        assert_eq!(p.data.received_on, today);
        let proc = (shipped.procedure)();
        let expected = proc
            .clock(&calendar, &[ClockEvent::Received { date: today }], today)
            .unwrap()
            .deadline;
        assert_eq!(done.deadline, Some(expected), "{}", shipped.service);
        let plain = today
            .checked_add(jiff::Span::new().days(i64::from(proc.term_days)))
            .unwrap();
        assert!(
            expected >= plain && expected <= plain.checked_add(jiff::Span::new().days(3)).unwrap(),
            "{}: {expected} vs receipt + {} days = {plain}",
            shipped.service,
            proc.term_days
        );
        assert_eq!(p.data.state, proc.initial_state);
        // The registration: incoming, the istanza PDF first, the files as
        // attachments, classified and assigned to the office.
        let reg = &done.registration;
        assert_eq!(reg.data.flow, Flow::Entrata);
        assert_eq!(reg.data.attachments.len(), files);
        assert_eq!(reg.data.primary.media_type, "application/pdf");
        assert_eq!(
            reg.data.classification.as_deref(),
            Some(shipped.classification)
        );
        assert_eq!(reg.data.office, Some(s.office));
        let pdf = s
            .app
            .documents()
            .get(&reg.data.primary.sha256)
            .await
            .unwrap();
        let found = palazzo_pdf::read::embedded_files(&pdf).unwrap();
        assert!(
            found.iter().any(|f| f.data == p.data.answers.as_bytes()),
            "the answers are attached to the istanza"
        );
        let fascicolo = s
            .app
            .db()
            .fascicolo(s.tenant, p.data.fascicolo.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fascicolo.data.classification, shipped.classification);
        assert_eq!(done.fascicolo.as_deref(), Some(fascicolo.code.as_str()));
        let docs = s
            .app
            .db()
            .fascicolo_documents(s.tenant, fascicolo.id)
            .await
            .unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].registration, reg.id);
        let handoffs = s
            .app
            .db()
            .handoffs_of(
                s.tenant,
                palazzo_store::HandoffSubject::Registration(reg.id),
            )
            .await
            .unwrap();
        assert_eq!(handoffs.len(), 1);
        assert_eq!(handoffs[0].data.office, s.office);
        // The draft is gone, its files belong to the pratica.
        assert!(matches!(
            s.app.bozza_view(s.tenant, &s.giulia, b.id).await,
            Err(ServiceError::NotFound)
        ));
        assert_eq!(
            s.app
                .db()
                .allegati(s.tenant, AllegatoOwner::Pratica(p.id))
                .await
                .unwrap()
                .len(),
            files
        );
        // Repeating the submission answers with the same pratica.
        let again = s
            .app
            .submit_bozza(s.tenant, &s.giulia, b.id, &key, &declarations(&form))
            .await
            .unwrap();
        assert!(again.repeated);
        assert_eq!(again.pratica.id, p.id);
        assert_eq!(again.registration.id, reg.id);
        // Another citizen cannot replay it.
        assert!(matches!(
            s.app
                .submit_bozza(s.tenant, &s.marco, b.id, &key, &declarations(&form))
                .await,
            Err(ServiceError::NotFound)
        ));
    }
    let mine = s.app.my_pratiche(s.tenant, &s.giulia).await.unwrap();
    assert_eq!(mine.len(), SHIPPED.len(), "one pratica per service");
    assert!(
        s.app
            .my_pratiche(s.tenant, &s.marco)
            .await
            .unwrap()
            .is_empty()
    );
    let office = s
        .app
        .office_pratiche(s.tenant, &s.responsabile, s.office)
        .await
        .unwrap();
    assert_eq!(office.len(), SHIPPED.len());
    assert!(
        office
            .windows(2)
            .all(|w| w[0].1.deadline <= w[1].1.deadline),
        "nearest deadline first"
    );
    assert!(matches!(
        s.app
            .office_pratiche(s.tenant, &s.other_office, s.office)
            .await,
        Err(ServiceError::Forbidden)
    ));
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn every_shipped_service_is_filed_sqlite() {
    every_shipped_service_is_filed(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_shipped_service_is_filed_postgres() {
    every_shipped_service_is_filed(Backend::Postgres).await;
}

async fn drafts_keep_what_was_typed(backend: Backend) {
    let s = setup(backend).await;
    let b = s
        .app
        .start_bozza(
            s.tenant,
            &s.giulia,
            "autorizzazione-paesaggistica-semplificata",
        )
        .await
        .unwrap();
    let view = s.app.bozza_view(s.tenant, &s.giulia, b.id).await.unwrap();
    let first = view.resume_step().unwrap();
    // C.SE.1.5: the profile prefills the first step.
    let raw = view.raw_for(&first);
    assert_eq!(raw.get("nome"), Some(&vec!["Giulia".to_owned()]));
    assert_eq!(
        raw.get("codice_fiscale"),
        Some(&vec!["VRDGLI80A41A662Y".to_owned()])
    );
    // A wrong value: refused with a code, but kept in the draft.
    let mut bad = raw.clone();
    bad.insert("codice_fiscale".into(), vec!["NONVALIDO".into()]);
    let out = s
        .app
        .save_bozza_step(s.tenant, &s.giulia, b.id, &first, &bad, Nav::Next)
        .await
        .unwrap();
    let StepOutcome::Invalid(errors) = out else {
        panic!("an invalid codice fiscale passed");
    };
    assert!(errors.codes().contains(&"modulo_codice_fiscale_non_valido"));
    let resumed = s.app.bozza_view(s.tenant, &s.giulia, b.id).await.unwrap();
    assert_eq!(
        resumed.raw_for(&first).get("codice_fiscale"),
        Some(&vec!["NONVALIDO".to_owned()]),
        "what was typed is not lost"
    );
    // A tampered key is an error, not a stored value.
    let mut tampered = raw.clone();
    tampered.insert("stato_pratica".into(), vec!["accolta".into()]);
    let StepOutcome::Invalid(errors) = s
        .app
        .save_bozza_step(s.tenant, &s.giulia, b.id, &first, &tampered, Nav::Next)
        .await
        .unwrap()
    else {
        panic!("an unknown key passed");
    };
    assert!(errors.codes().contains(&"modulo_campo_sconosciuto"));
    // Another user's draft does not exist for them.
    assert!(matches!(
        s.app.bozza_view(s.tenant, &s.marco, b.id).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        s.app
            .save_bozza_step(s.tenant, &s.marco, b.id, &first, &raw, Nav::Save)
            .await,
        Err(ServiceError::NotFound)
    ));
    // Uploads are checked by content and by slot.
    let up = |spec: &str, name: &str, bytes: &[u8]| Upload {
        spec_id: spec.into(),
        name: name.into(),
        bytes: bytes.to_vec(),
    };
    let e = s
        .app
        .upload_to_bozza(
            s.tenant,
            &s.giulia,
            b.id,
            up(
                "relazione_paesaggistica",
                "relazione.pdf",
                b"MZ\x90\0 not a pdf",
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            code(&e),
            "allegato_tipo_non_ammesso" | "document_type_not_allowed"
        ),
        "{e}"
    );
    let e = s
        .app
        .upload_to_bozza(
            s.tenant,
            &s.giulia,
            b.id,
            up("relazione_paesaggistica", "foto.png", PNG),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "modulo_allegato_tipo_non_ammesso", "{e}");
    let e = s
        .app
        .upload_to_bozza(s.tenant, &s.giulia, b.id, up("non_esiste", "a.pdf", PDF))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "allegato_non_previsto");
    let ok = s
        .app
        .upload_to_bozza(
            s.tenant,
            &s.giulia,
            b.id,
            up("relazione_paesaggistica", "relazione.pdf", PDF),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.app
            .remove_from_bozza(s.tenant, &s.marco, b.id, ok.id)
            .await,
        Err(ServiceError::NotFound)
    ));
    // Submitting an incomplete draft names what is missing; nothing is filed.
    let key = resumed.bozza.data.key.clone();
    let e = s
        .app
        .submit_bozza(s.tenant, &s.giulia, b.id, &key, &RawAnswers::new())
        .await
        .unwrap_err();
    assert!(code(&e).starts_with("modulo_"), "{e}");
    let e = s
        .app
        .submit_bozza(
            s.tenant,
            &s.giulia,
            b.id,
            "chiave-falsa",
            &RawAnswers::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_chiave_non_valida");
    assert!(
        s.app
            .my_pratiche(s.tenant, &s.giulia)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.app.my_bozze(s.tenant, &s.giulia).await.unwrap().len(), 1);
    s.app
        .discard_bozza(s.tenant, &s.giulia, b.id)
        .await
        .unwrap();
    assert!(
        s.app
            .my_bozze(s.tenant, &s.giulia)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn drafts_keep_what_was_typed_sqlite() {
    drafts_keep_what_was_typed(Backend::Sqlite).await;
}

#[tokio::test]
async fn drafts_keep_what_was_typed_postgres() {
    drafts_keep_what_was_typed(Backend::Postgres).await;
}

/// The done-when path of issue 6 through the services: an autorizzazione
/// paesaggistica is filed, the office asks for an integration (the
/// deadline moves by the pause the law allows), the citizen answers (it
/// comes back), the Soprintendenza gives its opinion, the dirigente
/// decides and the provvedimento is registered as outgoing.
async fn paesaggistica_is_worked(backend: Backend) {
    let s = setup(backend).await;
    let slug = "autorizzazione-paesaggistica-semplificata";
    let b = s.app.start_bozza(s.tenant, &s.giulia, slug).await.unwrap();
    let key = complete(&s, &s.giulia, b.id).await;
    let form = s
        .app
        .bozza_view(s.tenant, &s.giulia, b.id)
        .await
        .unwrap()
        .definition
        .definition
        .form
        .clone();
    let done = s
        .app
        .submit_bozza(s.tenant, &s.giulia, b.id, &key, &declarations(&form))
        .await
        .unwrap();
    let id = done.pratica.id;
    let original = done.deadline.unwrap();
    // C.SE.1.2: the receipt is in the outbox, committed with the filing.
    let mails = s.app.mails_about(s.tenant, "pratica", id.0).await.unwrap();
    assert_eq!(mails.len(), 1);
    let receipt = &mails[0].data;
    assert_eq!(receipt.recipient, "verdi@example.org");
    let number = format!("n. {}/{}", done.registration.number, done.registration.year);
    assert!(receipt.subject.contains(&number), "{}", receipt.subject);
    assert!(
        receipt
            .text_body
            .contains(&original.strftime("%d/%m/%Y").to_string()),
        "the deadline is in the receipt: {}",
        receipt.text_body
    );
    let act = |action: Azione, state: &str, note: Option<&str>| ActInput {
        action,
        expected_state: state.to_owned(),
        note: note.map(str::to_owned),
        files: Vec::new(),
    };
    // Another office and another citizen cannot see or act on it.
    assert!(matches!(
        s.app.office_pratica(s.tenant, &s.other_office, id).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        s.app.my_pratica(s.tenant, &s.marco, id).await,
        Err(ServiceError::NotFound)
    ));
    // A refusal now is not allowed (PROC-04: no 10-bis yet; not from
    // this state either).
    let e = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.dirigente,
            id,
            act(Azione::Rigetto, "presentata", Some("No.")),
        )
        .await
        .unwrap_err();
    assert!(code(&e).starts_with("procedura_"), "{e}");
    // The citizen cannot take it in charge.
    let e = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.giulia,
            id,
            act(Azione::PresaInCarico, "presentata", None),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "procedura_ruolo_non_ammesso", "{e}");
    let v = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            id,
            act(Azione::PresaInCarico, "presentata", None),
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.state, "in_istruttoria");
    // A stale page: the state moved.
    let e = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            id,
            act(Azione::PresaInCarico, "presentata", None),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_stato_cambiato");
    // Art. 2 c.7 / DPR 31/2017 art. 11 c.5: integration, once; the clock
    // pauses and, while it runs, the deadline assumes the longest pause.
    let v = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            id,
            act(
                Azione::RichiestaIntegrazione,
                "in_istruttoria",
                Some("Manca la documentazione fotografica dei prospetti."),
            ),
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.state, "sospesa_integrazione");
    assert!(v.clock.paused_until.is_some());
    let mails = s.app.mails_about(s.tenant, "pratica", id.0).await.unwrap();
    assert_eq!(mails.len(), 2, "the request is e-mailed");
    assert!(
        mails.iter().any(|m| m
            .data
            .text_body
            .contains("Manca la documentazione fotografica")),
        "with its text"
    );
    assert!(
        v.pratica.data.deadline.unwrap() > original,
        "the pause moves the deadline"
    );
    let request = v.eventi.last().unwrap();
    let out = s
        .app
        .db()
        .registration(s.tenant, request.data.registration.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.data.flow,
        Flow::Uscita,
        "the request is registered as outgoing"
    );
    // The citizen answers with a file: the clock resumes with the days
    // left (same day: nothing was used), a second request is refused.
    let v = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.giulia,
            id,
            ActInput {
                files: vec![Upload {
                    spec_id: "integrazione".into(),
                    name: "foto-prospetti.pdf".into(),
                    bytes: PDF.to_vec(),
                }],
                ..act(
                    Azione::Integrazione,
                    "sospesa_integrazione",
                    Some("Allego le fotografie richieste."),
                )
            },
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.state, "in_istruttoria");
    assert_eq!(
        v.pratica.data.deadline,
        Some(original),
        "a same-day answer uses no days"
    );
    let answer = v.eventi.last().unwrap();
    let incoming = s
        .app
        .db()
        .registration(s.tenant, answer.data.registration.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(incoming.data.flow, Flow::Entrata);
    assert_eq!(incoming.data.attachments.len(), 1);
    let e = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            id,
            act(
                Azione::RichiestaIntegrazione,
                "in_istruttoria",
                Some("Ancora."),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "procedura_integrazione_gia_richiesta", "{e}");
    // The Soprintendenza (DPR 31/2017 art. 11 c.9): asked, then favourable.
    let v = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            id,
            act(Azione::RichiestaParere, "in_istruttoria", None),
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.state, "in_attesa_parere");
    let v = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            id,
            act(Azione::ParereFavorevole, "in_attesa_parere", None),
        )
        .await
        .unwrap();
    // The dirigente decides; the provvedimento goes out, registered and
    // filed in the fascicolo; the pratica is concluded.
    let e = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.dirigente,
            id,
            act(Azione::Accoglimento, &v.pratica.data.state, None),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_nota", "a measure needs its text");
    let v = s
        .app
        .act_on_pratica(
            s.tenant,
            &s.dirigente,
            id,
            act(
                Azione::Accoglimento,
                &v.pratica.data.state,
                Some("Si rilascia l'autorizzazione paesaggistica semplificata."),
            ),
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.state, "accolta");
    assert!(v.pratica.closed_at.is_some());
    let decision = v.eventi.last().unwrap();
    let provv = s
        .app
        .db()
        .registration(s.tenant, decision.data.registration.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(provv.data.flow, Flow::Uscita);
    let pdf = s
        .app
        .documents()
        .get(&provv.data.primary.sha256)
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let docs = s
        .app
        .db()
        .fascicolo_documents(s.tenant, v.pratica.data.fascicolo.unwrap())
        .await
        .unwrap();
    assert_eq!(
        docs.len(),
        4,
        "istanza, request, integration, provvedimento"
    );
    // The citizen sees every public step and no action is left.
    let mine = s.app.my_pratica(s.tenant, &s.giulia, id).await.unwrap();
    assert!(mine.actions.is_empty());
    let actions: Vec<&str> = mine.eventi.iter().map(|e| e.data.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "presentazione",
            "presa_in_carico",
            "richiesta_integrazione",
            "integrazione",
            "richiesta_parere",
            "parere_favorevole",
            "accoglimento"
        ]
    );
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // A deadline moved in the database is caught by `palazzo verify`.
    s.app
        .db()
        .execute_raw(&format!(
            "UPDATE pratiche SET deadline = NULL WHERE id = {}",
            id.0
        ))
        .await
        .unwrap();
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    let altered = format!("pratica:{}", id.0);
    assert!(
        report.problems.iter().any(|p| matches!(
            p,
            palazzo_services::verify::Problem::RecordAltered { subject, .. } if *subject == altered
        )),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn paesaggistica_is_worked_sqlite() {
    paesaggistica_is_worked(Backend::Sqlite).await;
}

#[tokio::test]
async fn paesaggistica_is_worked_postgres() {
    paesaggistica_is_worked(Backend::Postgres).await;
}

/// The procedure clock acts by itself when the law says time decides:
/// silenzio-assenso the day after the deadline (art. 20, PROC-05), never
/// before; an integration never answered makes a DPR 31/2017 application
/// improcedibile after the 30-day window (art. 2 c.7; art. 11 c.5).
async fn time_decides(backend: Backend) {
    let s = setup(backend).await;
    let admin = actor(UserId(999), Role::AdminComune, None, "Amministratore");
    // A comune's own definition: the generic istanza with silenzio-assenso.
    let mut def = SHIPPED
        .iter()
        .find(|x| x.service == "istanza-generica")
        .unwrap()
        .definition()
        .unwrap();
    def.procedure = palazzo_domain::procedimento::ProcedureDefinition::silenzio_assenso(30);
    let saved = s
        .app
        .save_service_definition(s.tenant, &admin, def.clone())
        .await
        .unwrap();
    assert_eq!(saved.version, 2, "a new version, the shipped one kept");
    // Not for a landscape matter (art. 20 c.4, PROC-05).
    let mut bad = def.clone();
    bad.procedure.materia = palazzo_domain::procedimento::Materia::Paesaggio;
    assert!(
        s.app
            .save_service_definition(s.tenant, &admin, bad)
            .await
            .is_err()
    );
    assert!(matches!(
        s.app
            .save_service_definition(s.tenant, &s.giulia, def.clone())
            .await,
        Err(ServiceError::Forbidden)
    ));

    let file = |slug: &'static str| {
        let s = &s;
        async move {
            let b = s.app.start_bozza(s.tenant, &s.giulia, slug).await.unwrap();
            let key = complete(s, &s.giulia, b.id).await;
            let form = s
                .app
                .bozza_view(s.tenant, &s.giulia, b.id)
                .await
                .unwrap()
                .definition
                .definition
                .form
                .clone();
            s.app
                .submit_bozza(s.tenant, &s.giulia, b.id, &key, &declarations(&form))
                .await
                .unwrap()
        }
    };
    let generic = file("istanza-generica").await;
    assert!(generic.silenzio_assenso);
    assert_eq!(generic.pratica.data.definition_version, 2);
    let deadline = generic.deadline.unwrap();
    assert_eq!(
        s.app.sweep_pratiche(deadline).await.unwrap(),
        0,
        "not on the deadline"
    );
    let p = s
        .app
        .my_pratica(s.tenant, &s.giulia, generic.pratica.id)
        .await
        .unwrap();
    assert_eq!(p.pratica.data.state, "presentata");

    let landscape = file("autorizzazione-paesaggistica-semplificata").await;
    s.app
        .act_on_pratica(
            s.tenant,
            &s.responsabile,
            landscape.pratica.id,
            ActInput {
                action: Azione::RichiestaIntegrazione,
                expected_state: "presentata".into(),
                note: Some("Manca la relazione firmata.".into()),
                files: Vec::new(),
            },
        )
        .await
        .unwrap();
    let day_after = deadline.tomorrow().unwrap();
    let today = rome_date(jiff::Timestamp::now());
    let lapse = today.checked_add(jiff::Span::new().days(31)).unwrap();
    // Past both: the day after the silenzio-assenso deadline, and past the
    // 30 days the integration could wait.
    let steps = s.app.sweep_pratiche(day_after.max(lapse)).await.unwrap();
    assert_eq!(steps, 2);
    let p = s
        .app
        .my_pratica(s.tenant, &s.giulia, generic.pratica.id)
        .await
        .unwrap();
    assert_eq!(p.pratica.data.state, "accolta_silenzio_assenso");
    assert!(p.pratica.closed_at.is_some());
    assert_eq!(p.eventi.last().unwrap().data.actor, "sistema");
    let l = s
        .app
        .my_pratica(s.tenant, &s.giulia, landscape.pratica.id)
        .await
        .unwrap();
    assert_eq!(l.pratica.data.state, "improcedibile");
    assert_eq!(s.app.sweep_pratiche(lapse).await.unwrap(), 0, "once");
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn time_decides_sqlite() {
    time_decides(Backend::Sqlite).await;
}

#[tokio::test]
async fn time_decides_postgres() {
    time_decides(Backend::Postgres).await;
}

/// The office's work besides the procedure (issue 6, part 4): naming the
/// responsabile, messages, internal opinions, the transfer to another
/// office; each call one step and one ledger event, every refusal with its
/// code and nothing written.
async fn office_workflow(backend: Backend) {
    use palazzo_services::pratiche::{
        EsitoParere, MessageInput, ParereAnswer, ParereRequest, ufficio,
    };
    let s = setup(backend).await;
    let slug = "autorizzazione-paesaggistica-semplificata";
    let b = s.app.start_bozza(s.tenant, &s.giulia, slug).await.unwrap();
    let key = complete(&s, &s.giulia, b.id).await;
    let form = s
        .app
        .bozza_view(s.tenant, &s.giulia, b.id)
        .await
        .unwrap()
        .definition
        .definition
        .form
        .clone();
    let done = s
        .app
        .submit_bozza(s.tenant, &s.giulia, b.id, &key, &declarations(&form))
        .await
        .unwrap();
    let id = done.pratica.id;
    let elsewhere = OfficeId(s.other_office.principal.grants[0].office.unwrap());
    // The offices' staff, as granted by the comune's administrator.
    let now = jiff::Timestamp::now();
    let mut tx = s.app.db().begin().await.unwrap();
    let paolo_user = tx
        .insert_user(
            s.tenant,
            &NewUser {
                codice_fiscale: Some("BNCPLA70A01A662D".parse().unwrap()),
                given_name: "Paolo".into(),
                family_name: "Bianchi".into(),
                birth_date: None,
                birth_place: None,
                email: None,
                phone: None,
                notice_channel: NoticeChannel::Email,
            },
            now,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let admin = actor(UserId(999), Role::AdminComune, None, "Amministratore");
    let paolo = actor(
        paolo_user.id,
        Role::Operatore,
        Some(s.office.0),
        "Paolo Bianchi",
    );
    let rita = s.responsabile.user.unwrap();
    let olga = s.other_office.user.unwrap();
    for (u, role, office) in [
        (rita, Role::Responsabile, s.office),
        (paolo_user.id, Role::Operatore, s.office),
        (olga, Role::Responsabile, elsewhere),
    ] {
        assert!(
            s.app
                .grant_role(s.tenant, &admin, u, role, office)
                .await
                .unwrap()
        );
    }
    let members = s
        .app
        .office_members(s.tenant, &s.responsabile, s.office)
        .await
        .unwrap();
    assert_eq!(members.len(), 2, "{members:?}");
    let history = |v: &palazzo_services::pratiche::PraticaView| v.eventi.len();
    let before = history(
        &s.app
            .office_pratica(s.tenant, &s.responsabile, id)
            .await
            .unwrap(),
    );

    // 1. Assignment (art. 5): only a responsabile or the dirigente, only to
    // a member of the office, only from the state seen.
    let e = s
        .app
        .assign_pratica(s.tenant, &paolo, id, paolo_user.id, "presentata")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden), "{e}");
    let marco = s.marco.user.unwrap();
    let e = s
        .app
        .assign_pratica(s.tenant, &s.responsabile, id, marco, "presentata")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_responsabile_non_ammesso");
    let e = s
        .app
        .assign_pratica(s.tenant, &s.responsabile, id, olga, "presentata")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_responsabile_non_ammesso");
    let e = s
        .app
        .assign_pratica(s.tenant, &s.dirigente, id, paolo_user.id, "in_istruttoria")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_stato_cambiato");
    let v = s
        .app
        .office_pratica(s.tenant, &s.responsabile, id)
        .await
        .unwrap();
    assert_eq!(history(&v), before, "nothing written by the refusals");
    let v = s
        .app
        .assign_pratica(s.tenant, &s.dirigente, id, paolo_user.id, "presentata")
        .await
        .unwrap();
    assert_eq!(v.pratica.data.responsabile, Some(paolo_user.id));
    assert_eq!(v.pratica.data.state, "presentata", "no state change");
    assert_eq!(v.responsabile.as_deref(), Some("Paolo Bianchi"));
    assert_eq!(v.eventi.last().unwrap().data.action, ufficio::ASSEGNAZIONE);
    let mine = s.app.my_pratica(s.tenant, &s.giulia, id).await.unwrap();
    assert_eq!(mine.responsabile.as_deref(), Some("Paolo Bianchi"));
    let assigned = s
        .app
        .pratiche_assigned_to_me(s.tenant, &paolo)
        .await
        .unwrap();
    assert_eq!(assigned.iter().map(|p| p.id).collect::<Vec<_>>(), [id]);
    assert!(
        s.app
            .pratiche_assigned_to_me(s.tenant, &s.responsabile)
            .await
            .unwrap()
            .is_empty()
    );
    let e = s
        .app
        .assign_pratica(s.tenant, &s.responsabile, id, paolo_user.id, "presentata")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_gia_assegnata");

    // 4. Messages: the applicant's (with a file checked by content and
    // size), the office's (e-mailed), internal notes (never the applicant's).
    let mails = s
        .app
        .mails_about(s.tenant, "pratica", id.0)
        .await
        .unwrap()
        .len();
    let msg = |text: &str, public: bool, file: Option<(&str, Vec<u8>)>| MessageInput {
        text: text.into(),
        public,
        file: file.map(|(name, bytes)| Upload {
            spec_id: "messaggio".into(),
            name: name.into(),
            bytes,
        }),
    };
    for (input, expected) in [
        (msg("   ", true, None), "messaggio_vuoto"),
        (
            msg(
                "Ecco",
                true,
                Some(("finto.pdf", b"not a pdf at all".to_vec())),
            ),
            "allegato_tipo_non_ammesso",
        ),
        (
            msg(
                "Ecco",
                true,
                Some(("grande.pdf", {
                    let mut v = PDF.to_vec();
                    v.resize(ufficio::MAX_FILE + 1, b' ');
                    v
                })),
            ),
            "allegato_troppo_grande",
        ),
        (msg(&"x".repeat(5000), true, None), "pratica_nota"),
    ] {
        let e = s
            .app
            .send_pratica_message(s.tenant, &s.giulia, id, input)
            .await
            .unwrap_err();
        assert_eq!(code(&e), expected, "{e}");
    }
    let v = s
        .app
        .send_pratica_message(
            s.tenant,
            &s.giulia,
            id,
            msg(
                "Allego la planimetria aggiornata.",
                false,
                Some(("pianta.pdf", PDF.to_vec())),
            ),
        )
        .await
        .unwrap();
    assert_eq!(v.messaggi.len(), 1);
    assert!(v.messaggi[0].pubblico, "the applicant's messages are seen");
    assert!(v.messaggi[0].dal_richiedente);
    assert!(v.messaggi[0].documento.is_some());
    s.app
        .send_pratica_message(
            s.tenant,
            &paolo,
            id,
            msg("Nota interna: verificare il vincolo.", false, None),
        )
        .await
        .unwrap();
    let v = s
        .app
        .send_pratica_message(s.tenant, &paolo, id, msg("Ricevuta, grazie.", true, None))
        .await
        .unwrap();
    assert_eq!(v.messaggi.len(), 3);
    assert_eq!(
        s.app
            .mails_about(s.tenant, "pratica", id.0)
            .await
            .unwrap()
            .len(),
        mails + 1,
        "only the office's public message is e-mailed"
    );
    let mine = s.app.my_pratica(s.tenant, &s.giulia, id).await.unwrap();
    let texts: Vec<&str> = mine.messaggi.iter().map(|m| m.testo.as_str()).collect();
    assert_eq!(
        texts,
        ["Allego la planimetria aggiornata.", "Ricevuta, grazie."]
    );
    // Another citizen does not write in it.
    assert!(matches!(
        s.app
            .send_pratica_message(s.tenant, &s.marco, id, msg("Ciao", true, None))
            .await,
        Err(ServiceError::Forbidden | ServiceError::NotFound)
    ));

    // 3. Internal opinions (art. 16-17): asked of another office, due in
    // 20 days by default, answered only by that office, once.
    let ask = |office: OfficeId, text: &str| ParereRequest {
        office,
        text: text.into(),
        days: None,
    };
    let e = s
        .app
        .request_parere(s.tenant, &s.responsabile, id, ask(s.office, "Parere?"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_parere_stesso_ufficio");
    let e = s
        .app
        .request_parere(s.tenant, &s.responsabile, id, ask(elsewhere, " "))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_parere_testo");
    let v = s
        .app
        .request_parere(
            s.tenant,
            &s.responsabile,
            id,
            ask(elsewhere, "Ci sono tributi arretrati sull'immobile?"),
        )
        .await
        .unwrap();
    assert_eq!(v.pareri.len(), 1);
    let today = rome_date(jiff::Timestamp::now());
    let parere = &v.pareri[0];
    assert!(parere.scadenza >= today.checked_add(jiff::Span::new().days(20)).unwrap());
    assert!(parere.scadenza <= today.checked_add(jiff::Span::new().days(23)).unwrap());
    assert!(!parere.scaduto && parere.risposta.is_none());
    let seq = parere.seq;
    let asked = s
        .app
        .pareri_for_office(s.tenant, &s.other_office, elsewhere)
        .await
        .unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!((asked[0].pratica, asked[0].seq), (id, seq));
    assert!(
        s.app
            .pareri_for_office(s.tenant, &s.responsabile, s.office)
            .await
            .unwrap()
            .is_empty()
    );
    let answer = |text: &str, file: Option<Vec<u8>>| ParereAnswer {
        esito: EsitoParere::FavorevoleConPrescrizioni,
        text: text.into(),
        file: file.map(|bytes| Upload {
            spec_id: "parere".into(),
            name: "parere.pdf".into(),
            bytes,
        }),
    };
    let e = s
        .app
        .answer_parere(s.tenant, &s.responsabile, id, seq, answer("Sì", None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "parere_ufficio_non_destinatario");
    let e = s
        .app
        .answer_parere(s.tenant, &s.other_office, id, seq, answer("", None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "parere_testo");
    let e = s
        .app
        .answer_parere(s.tenant, &s.other_office, id, seq + 100, answer("Sì", None))
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::NotFound), "{e}");
    let r = s
        .app
        .answer_parere(
            s.tenant,
            &s.other_office,
            id,
            seq,
            answer("Nessun arretrato; pagare la TARI 2027.", Some(PDF.to_vec())),
        )
        .await
        .unwrap();
    let reso = r.risposta.unwrap();
    assert_eq!(reso.esito, EsitoParere::FavorevoleConPrescrizioni);
    assert!(reso.documento.is_some());
    let e = s
        .app
        .answer_parere(s.tenant, &s.other_office, id, seq, answer("Di nuovo", None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "parere_gia_reso");
    let v = s
        .app
        .office_pratica(s.tenant, &s.responsabile, id)
        .await
        .unwrap();
    assert!(
        v.pareri[0].risposta.is_some(),
        "the requesting office sees it"
    );
    let mine = s.app.my_pratica(s.tenant, &s.giulia, id).await.unwrap();
    assert!(
        mine.eventi
            .iter()
            .all(|e| e.data.action != ufficio::RICHIESTA_PARERE && e.data.action != ufficio::PARERE),
        "internal opinions are not the applicant's"
    );
    assert!(mine.pareri.is_empty());
    assert!(
        mine.allegati
            .iter()
            .all(|a| a.data.spec_id != ufficio::PARERE),
        "nor is the opinion's file"
    );
    let office_view = s
        .app
        .office_pratica(s.tenant, &s.responsabile, id)
        .await
        .unwrap();
    assert!(
        office_view
            .allegati
            .iter()
            .any(|a| a.data.spec_id == ufficio::PARERE)
    );

    // 2. Transfer per competenza: with a reason, to another office; the
    // registration's hand-off follows; the old office no longer has it.
    let e = s
        .app
        .transfer_pratica(
            s.tenant,
            &s.responsabile,
            id,
            s.office,
            "Motivo",
            "presentata",
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_stesso_ufficio");
    let e = s
        .app
        .transfer_pratica(s.tenant, &s.responsabile, id, elsewhere, "  ", "presentata")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_motivo");
    let e = s
        .app
        .transfer_pratica(s.tenant, &paolo, id, elsewhere, "Motivo", "presentata")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden), "{e}");
    let e = s
        .app
        .transfer_pratica(
            s.tenant,
            &s.responsabile,
            id,
            elsewhere,
            "Motivo",
            "accolta",
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), "pratica_stato_cambiato");
    let v = s
        .app
        .transfer_pratica(
            s.tenant,
            &s.responsabile,
            id,
            elsewhere,
            "L'istanza riguarda un tributo.",
            "presentata",
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.office, elsewhere);
    assert_eq!(v.pratica.data.responsabile, None);
    assert_eq!(v.eventi.last().unwrap().data.action, ufficio::TRASFERIMENTO);
    let inbox = s
        .app
        .office_pratiche(s.tenant, &s.responsabile, s.office)
        .await
        .unwrap();
    assert!(inbox.iter().all(|(p, _)| p.id != id));
    let inbox = s
        .app
        .office_pratiche(s.tenant, &s.other_office, elsewhere)
        .await
        .unwrap();
    assert!(inbox.iter().any(|(p, _)| p.id == id));
    assert!(matches!(
        s.app.office_pratica(s.tenant, &s.responsabile, id).await,
        Err(ServiceError::Forbidden)
    ));
    let handoffs = s
        .app
        .db()
        .handoffs_of(
            s.tenant,
            palazzo_store::HandoffSubject::Registration(done.registration.id),
        )
        .await
        .unwrap();
    let open: Vec<_> = handoffs
        .iter()
        .filter(|h| h.state == palazzo_store::HandoffState::Assegnato)
        .collect();
    assert_eq!(open.len(), 1, "{handoffs:?}");
    assert_eq!(open[0].data.office, elsewhere);

    // Every call was one event; `palazzo verify` follows the bindings.
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The hand-off bound by the transfer, changed in the database, is caught.
    s.app
        .db()
        .execute_raw(&format!(
            "UPDATE handoffs SET office_id = {} WHERE id = {}",
            s.office.0, open[0].id.0
        ))
        .await
        .unwrap();
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    let altered = format!("handoff:{}", open[0].id.0);
    assert!(
        report.problems.iter().any(|p| matches!(
            p,
            palazzo_services::verify::Problem::RecordAltered { subject, .. } if *subject == altered
        )),
        "{:?}",
        report.problems
    );
    // And so is the pratica bound by the transfer's step.
    s.app
        .db()
        .execute_raw(&format!(
            "UPDATE pratiche SET responsabile_user_id = {} WHERE id = {}",
            rita.0, id.0
        ))
        .await
        .unwrap();
    let report = verify(s.app.db(), &s.keys).await.unwrap();
    let altered = format!("pratica:{}", id.0);
    assert!(
        report.problems.iter().any(|p| matches!(
            p,
            palazzo_services::verify::Problem::RecordAltered { subject, .. } if *subject == altered
        )),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn office_workflow_sqlite() {
    office_workflow(Backend::Sqlite).await;
}

#[tokio::test]
async fn office_workflow_postgres() {
    office_workflow(Backend::Postgres).await;
}
