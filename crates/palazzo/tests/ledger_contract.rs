//! The LOG-6 contract (docs: /work/shared/domain/protocol-documents.md,
//! "LOG-6 Every API that changes protocol or fascicolo state emits exactly
//! one log event (no silent paths): a contract test enumerates the mutating
//! endpoints"), on both backends.
//!
//! What it guarantees:
//! - **Enumeration.** The mutating API routes are read from the one route
//!   table ([`palazzo_web::route_table`]): every `POST` under `/api/v1/`
//!   (uploads are `POST` too). Each is either exercised here or listed in
//!   [`EXEMPT`] with the reason it changes no protocol or fascicolo state;
//!   a route that is neither fails the test by name, so a new mutating
//!   route cannot escape the contract.
//! - **Exactly one event.** Each route is called with a valid request, as
//!   a persona that may, over HTTP with a personal API key, in a sequence
//!   where later calls use what earlier ones created (register → classify
//!   → hand-offs → versions → fascicolo → emergency register → received
//!   messages → annulment). Around each call the tamper-evident ledger of
//!   the comune grows by exactly one event, of the kind expected for the
//!   route, with no exception: where one call changes two records (an
//!   entry and its segnatura, a forwarded hand-off and its continuation)
//!   the one event binds both (migration 0023).
//! - **Refusals are silent.** A refused call (403, 422, an interoperability
//!   refusal answered 200, a repeat that changes nothing) appends nothing.
//! - The exempt routes, called validly, append nothing either.
//! - At the end `palazzo verify` finds the ledger consistent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::future::Future;

use jiff::{SignedDuration, Timestamp};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::segnatura::demo_ca::demo_aoo_code;
use palazzo_services::segnatura::messaggi;
use palazzo_store::{SenderIdentifier, Store, StoreTx, TenantId, UserId};
use palazzo_testkit::browser::Part;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::{Value, json};

/// `POST` API routes that change no protocol or fascicolo state, so LOG-6
/// asks no event of them. Each is still called validly below and must
/// append nothing.
const EXEMPT: &[(&str, &str)] = &[
    (
        "/api/v1/valutazioni",
        // `api::rate` → `App::submit_rating`: an anonymous star rating of a
        // portal page, stored in the ratings table (rate limited); it never
        // touches the register or the fascicoli.
        "anonymous page rating",
    ),
    (
        "/api/v1/protocollo/eml",
        // `eml::api_prefill`: reads an .eml and answers the fields it
        // proposes. The upload is kept in the content-addressed document
        // store (an unreferenced object until a registration names it); no
        // registration, number or fascicolo changes.
        "pre-fills the registration form from an .eml",
    ),
    // Appointments (issue 6, part 7) are bookings at an office's counter:
    // no register, fascicolo or ledger state.
    (
        "/api/v1/appuntamenti",
        "books an appointment (not ledgered)",
    ),
    (
        "/api/v1/appuntamenti/prenotazioni/{code}/annulla",
        "cancels an appointment by its code (not ledgered)",
    ),
    (
        "/api/v1/appuntamenti/uffici/{office}/calendario",
        "sets an office's booking calendar (not ledgered)",
    ),
    (
        "/api/v1/appuntamenti/{id}/stato",
        "marks an appointment attended or missed (not ledgered)",
    ),
    // Drafts of online istanze (issue 6): the citizen's own unfiled work,
    // outside the register until submitted.
    ("/api/v1/bozze", "starts a draft"),
    ("/api/v1/bozze/{id}/passi/{step}", "saves a step of a draft"),
    ("/api/v1/bozze/{id}/allegati", "attaches a file to a draft"),
    (
        "/api/v1/bozze/{id}/allegati/{aid}/eliminazione",
        "removes a file from a draft",
    ),
    ("/api/v1/bozze/{id}/eliminazione", "deletes a draft"),
    (
        "/api/v1/verifica",
        // `api::certificati::verify` → `App::verify_seal`: checks the text
        // of a certificate's QR code against the trust list, the status
        // list and the records; it reads, and changes nothing.
        "public verification of a certificate's seal",
    ),
];

// The routes exercised, as the route table names them.
const REGISTER: &str = "/api/v1/protocollo";
const CLASSIFY: &str = "/api/v1/protocollo/voci/{id}/classificazione";
const ASSIGN: &str = "/api/v1/protocollo/voci/{id}/assegnazioni";
const HANDOFF: &str = "/api/v1/assegnazioni/{id}";
const VERSION: &str = "/api/v1/protocollo/voci/{id}/documenti/{n}/versioni";
const ANNUL: &str = "/api/v1/protocollo/voci/{id}/annullamento";
const F_OPEN: &str = "/api/v1/fascicoli";
const F_DOCUMENTS: &str = "/api/v1/fascicoli/{id}/documenti";
const F_ASSIGN: &str = "/api/v1/fascicoli/{id}/assegnazioni";
const F_RESTRICT: &str = "/api/v1/fascicoli/{id}/riservatezza";
const F_CLOSE: &str = "/api/v1/fascicoli/{id}/chiusura";
const E_OPEN: &str = "/api/v1/protocollo/emergenze";
const E_AUTHORISE: &str = "/api/v1/protocollo/emergenze/{code}/autorizzazioni";
const E_CLOSE: &str = "/api/v1/protocollo/emergenze/{code}/chiusura";
const E_RECOVER: &str = "/api/v1/protocollo/emergenze/{code}/recupero";
const MESSAGES: &str = "/api/v1/protocollo/messaggi";
const T_ADD_CLASS: &str = "/api/v1/titolario/classi";
const T_RENAME: &str = "/api/v1/titolario/voci/{voce}/nome";
const T_CLOSE: &str = "/api/v1/titolario/voci/{voce}/chiusura";
const C_OWN: &str = "/api/v1/certificati";
const C_DESK: &str = "/api/v1/sportello/certificati";
const C_BOLLO: &str = "/api/v1/sportello/certificati/{cti}/bollo";
const C_REVOKE: &str = "/api/v1/sportello/certificati/{cti}/revoca";

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const PDF2: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Lang (it) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const XML: &[u8] = b"<?xml version=\"1.0\"?><allegato>dati</allegato>";
const ALLEGATO: &[u8] = b"Allegato alla nota di trasmissione.\n";
/// An ELF executable header: never an allowed type.
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
const EML: &[u8] = b"From: Anna Verdi <anna.verdi@example.org>\r\n\
To: protocollo@comune.example\r\n\
Subject: Istanza di accesso agli atti\r\n\
Date: Sun, 1 Mar 2026 10:30:00 +0000\r\n\
Message-ID: <istanza-7@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
\r\n\
Gentile Comune, chiedo l'accesso agli atti.\r\n";
const RECOVERY_HEADER: &str = "numero_emergenza;data_ora_emergenza;verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati";

/// Every `POST` route under `/api/v1/` of the route table.
fn mutating_api_routes() -> BTreeSet<String> {
    let (_, table) = palazzo_web::route_table().into_parts();
    table
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/v1/"))
        .map(|r| r.path)
        .collect()
}

/// The ledger of one comune, watched around each call.
struct Contract<'a> {
    app: &'a TestApp,
    tenant: TenantId,
    routes: BTreeSet<String>,
    covered: BTreeSet<String>,
}

impl Contract<'_> {
    async fn size(&self) -> u64 {
        self.app.app.db().ledger_size(self.tenant).await.unwrap()
    }

    /// LOG-6: `call`, a valid call of `route`, succeeds and appends exactly
    /// one ledger event, of kind `kind`. Answers the JSON body.
    async fn measured(
        &mut self,
        route: &str,
        kind: &str,
        call: impl Future<Output = Page>,
    ) -> Value {
        assert!(
            self.routes.contains(route),
            "{route} is not a POST API route of the route table"
        );
        let before = self.size().await;
        let r = call.await;
        assert!(
            (200..300).contains(&r.status),
            "POST {route}: {} {}",
            r.status,
            r.body
        );
        let after = self.size().await;
        let events = self
            .app
            .app
            .db()
            .ledger_events(self.tenant, before, before + 100)
            .await
            .unwrap();
        let got: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            after - before,
            1,
            "POST {route} appended {got:?}, expected [{kind:?}]"
        );
        assert_eq!(got, [kind], "POST {route}");
        self.covered.insert(route.to_owned());
        json_of(&r)
    }

    /// A refused call (or one that changes nothing) appends nothing.
    async fn silent(&self, route: &str, status: u16, call: impl Future<Output = Page>) -> Value {
        let before = self.size().await;
        let r = call.await;
        assert_eq!(r.status, status, "POST {route}: {}", r.body);
        let events = self
            .app
            .app
            .db()
            .ledger_events(self.tenant, before, before + 100)
            .await
            .unwrap();
        assert!(
            events.is_empty(),
            "POST {route} answered {status} but appended {:?}",
            events.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
        serde_json::from_str(&r.body).unwrap_or(Value::Null)
    }
}

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

/// A signed-in persona's API key.
async fn persona_key(app: &TestApp, persona: &str) -> String {
    let mut b = Browser::new(app, CASAMASSIMA);
    b.demo_sign_in(persona).await;
    b.api_key(&format!("contratto LOG-6 {persona}")).await
}

/// A multipart upload (`path` relative to `/api/v1`).
async fn upload(b: &mut Browser, path: &str, token: &str, parts: &[Part<'_>]) -> Page {
    let auth = format!("Bearer {token}");
    b.post_multipart(
        &format!("/api/v1{path}"),
        parts,
        &[("authorization", &auth)],
    )
    .await
}

/// Registration over the API: the fields in part `dati`, then the files.
async fn register(b: &mut Browser, token: &str, dati: &Value, files: &[Part<'_>]) -> Page {
    let dati = dati.to_string();
    let mut parts = vec![Part::Text("dati", &dati)];
    parts.extend_from_slice(files);
    upload(b, "/protocollo", token, &parts).await
}

fn rome(t: Timestamp) -> String {
    t.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Acquaviva seals an outgoing entry to Casamassima: the message
/// Casamassima receives (its segnatura XML) and the sender's identifier.
async fn message_from_acquaviva(app: &TestApp) -> (String, SenderIdentifier) {
    let sender = app.app.tenant_for_host(ACQUAVIVA).unwrap();
    let us = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let desk = Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: None,
            }],
        },
        name: Some("Sportello".into()),
        acr: None,
    };
    let docs = app.app.documents();
    let primary = docs.put_bytes("lettera.pdf", PDF).await.unwrap();
    let allegato = docs.put_bytes("allegato.txt", ALLEGATO).await.unwrap();
    let reg = app
        .app
        .register_protocol(
            sender.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Uscita,
                subject: "Trasmissione del parere".into(),
                correspondents: vec![Correspondent {
                    kind: CorrespondentKind::Amministrazione,
                    name: us.data.name.clone(),
                    fiscal_code: None,
                    ipa: Some(us.data.codice_ipa.as_str().to_owned()),
                    email: Some(us.data.pec.clone()),
                    address: None,
                    per_conoscenza: false,
                }],
                received_number: None,
                received_date: None,
                primary: primary.to_ref(),
                attachments: vec![allegato.to_ref()],
                classification: Some("VI.3".into()),
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let (_, xml) = app
        .app
        .protocol_segnatura(sender.id, &desk, reg.id)
        .await
        .unwrap()
        .unwrap();
    let aoo = demo_aoo_code(&sender.data.slug);
    (
        String::from_utf8(xml).unwrap(),
        messaggi::identificatore_of(&sender, &aoo, &reg),
    )
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    // The demo operatore works in the first office.
    let first = snap.offices[0].id.0;
    let second = snap.offices[1].id.0;

    let routes = mutating_api_routes();
    for (route, _) in EXEMPT {
        assert!(
            routes.contains(*route),
            "exempt route {route} is no longer in the route table: drop it from EXEMPT"
        );
    }

    // Set-up, before anything is measured: sign-ins and keys are ledgered
    // themselves (user, role, api_token events); the first use of the
    // titolario seeds it lazily (`titolario.seeded`), so a GET seeds it
    // now and the calls below each emit only their own event; the message
    // Casamassima will receive is sealed at Acquaviva.
    let op = persona_key(&app, "operatore").await;
    let seg = persona_key(&app, "segretario").await;
    let admin = persona_key(&app, "admin").await;
    // The online istanza of the contract below, and its definition.
    if snap.service("istanza-generica").is_none() {
        app.app
            .create_service(
                t.id,
                palazzo_store::conformance::service_fixture("istanza-generica", snap.offices[0].id),
            )
            .await
            .unwrap();
    }
    app.app.install_shipped_definitions(t.id).await.unwrap();
    let mut prog = Browser::new(&app, CASAMASSIMA);
    let r = prog.api("GET", "/titolario", &op, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (segnatura, sender_id) = message_from_acquaviva(&app).await;
    let annulment = messaggi::annullamento(
        &sender_id,
        "Errore materiale nell'oggetto",
        "Determina n. 5/2026",
    );

    let mut c = Contract {
        app: &app,
        tenant: t.id,
        routes: routes.clone(),
        covered: BTreeSet::new(),
    };

    // Exempt routes: valid calls, nothing in the ledger.
    let r = c
        .silent(
            "/api/v1/valutazioni",
            201,
            prog.request(
                reqwest::Method::POST,
                "/api/v1/valutazioni",
                &[("content-type", "application/json")],
                br#"{"page": "/servizi", "stars": 4, "answer": 1}"#.to_vec(),
            ),
        )
        .await;
    assert_eq!(r["result"], "stored");
    let r = c
        .silent(
            "/api/v1/protocollo/eml",
            200,
            upload(
                &mut prog,
                "/protocollo/eml",
                &op,
                &[Part::File("eml", "istanza.eml", EML)],
            ),
        )
        .await;
    assert_eq!(r["subject"], "Istanza di accesso agli atti", "{r}");

    // Registration (art. 53): one event per registration.
    let dati = json!({
        "flow": "E",
        "subject": "Istanza di contributo per libri di testo",
        "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W"}],
        "classification": "VII.1",
    });
    let files = [
        Part::File("documento", "istanza.pdf", PDF),
        Part::File("allegati", "dati.xml", XML),
    ];
    c.silent(
        REGISTER,
        422,
        register(
            &mut prog,
            &op,
            &dati,
            &[Part::File("documento", "x.pdf", ELF)],
        ),
    )
    .await;
    c.silent(REGISTER, 401, register(&mut prog, "", &dati, &files))
        .await;
    let reg = c
        .measured(
            REGISTER,
            "protocollo.registered",
            register(&mut prog, &op, &dati, &files),
        )
        .await;
    let id = reg["id"].as_i64().unwrap();
    // An outgoing entry is sealed in the same transaction as its
    // registration (Allegato 6 §3.1, PR-2); its one event binds the
    // segnatura too (migration 0023).
    let out = c
        .measured(
            REGISTER,
            "protocollo.registered",
            register(
                &mut prog,
                &op,
                &json!({"flow": "U", "subject": "Risposta all'istanza", "classification": "VII.1",
                        "correspondents": [{"name": "Maria Bianchi", "email": "maria@example.org"}]}),
                &[Part::File("documento", "risposta.pdf", PDF2)],
            ),
        )
        .await;
    assert_eq!(out["flow"], "U");

    // Classification and office (PR-3).
    let classify = format!("/protocollo/voci/{id}/classificazione");
    c.silent(
        CLASSIFY,
        422,
        prog.api("POST", &classify, &op, Some(json!({"subject": "altro"}))),
    )
    .await;
    c.silent(
        CLASSIFY,
        422,
        prog.api(
            "POST",
            &classify,
            &op,
            Some(json!({"classification": "XX.99"})),
        ),
    )
    .await;
    c.silent(
        CLASSIFY,
        403,
        prog.api(
            "POST",
            &classify,
            &seg,
            Some(json!({"classification": "VII.3"})),
        ),
    )
    .await;
    let r = c
        .measured(
            CLASSIFY,
            "protocollo.reassigned",
            prog.api(
                "POST",
                &classify,
                &op,
                Some(json!({"classification": "VII.3", "office": first})),
            ),
        )
        .await;
    assert_eq!(r["classification"], "VII.3");

    // Hand-offs (TI-5): assign, then accept and close; refuse; forward.
    let assign = format!("/protocollo/voci/{id}/assegnazioni");
    let to_first = json!({"office": first, "kind": "competenza", "note": "urgente"});
    c.silent(
        ASSIGN,
        422,
        prog.api(
            "POST",
            &assign,
            &op,
            Some(json!({"office": first, "kind": "per sempre"})),
        ),
    )
    .await;
    let mut handoffs = Vec::new();
    for _ in 0..3 {
        let h = c
            .measured(
                ASSIGN,
                "handoff.assigned",
                prog.api("POST", &assign, &op, Some(to_first.clone())),
            )
            .await;
        handoffs.push(h["id"].as_i64().unwrap());
    }
    let (h1, h2, h3) = (handoffs[0], handoffs[1], handoffs[2]);
    let act = |h: i64| format!("/assegnazioni/{h}");
    c.silent(
        HANDOFF,
        422,
        prog.api("POST", &act(h1), &op, Some(json!({"action": "vola"}))),
    )
    .await;
    c.silent(
        HANDOFF,
        422,
        prog.api("POST", &act(h2), &op, Some(json!({"action": "rifiuta"}))),
    )
    .await;
    let r = c
        .measured(
            HANDOFF,
            "handoff.accettato",
            prog.api("POST", &act(h1), &op, Some(json!({"action": "accetta"}))),
        )
        .await;
    assert_eq!(r["state"], "accettato");
    c.measured(
        HANDOFF,
        "handoff.chiuso",
        prog.api(
            "POST",
            &act(h1),
            &op,
            Some(json!({"action": "chiudi", "note": "evasa"})),
        ),
    )
    .await;
    c.measured(
        HANDOFF,
        "handoff.rifiutato",
        prog.api(
            "POST",
            &act(h2),
            &op,
            Some(json!({"action": "rifiuta", "note": "non di competenza"})),
        ),
    )
    .await;
    // The refused hand-off is back at the desk that assigned it: taking
    // note of it is one event.
    c.measured(
        HANDOFF,
        "handoff.preso_atto",
        prog.api(
            "POST",
            &act(h2),
            &op,
            Some(json!({"action": "prendi_atto"})),
        ),
    )
    .await;
    // Forwarding ends this hand-off and starts one in the other office, in
    // one transaction; the one `handoff.inoltrato` event binds both
    // (docs/handoffs.md).
    let r = c
        .measured(
            HANDOFF,
            "handoff.inoltrato",
            prog.api(
                "POST",
                &act(h3),
                &op,
                Some(json!({"action": "inoltra", "office": second, "note": "di competenza"})),
            ),
        )
        .await;
    assert_eq!(r["office"], second);

    // A new version of the primary document (SYS-3).
    let versions = format!("/protocollo/voci/{id}/documenti/0/versioni");
    let version = |file: &'static [u8]| {
        vec![
            Part::Text("tipo", "rettifica"),
            Part::Text("motivo", "Corretta la data"),
            Part::File("documento", "istanza-v2.pdf", file),
        ]
    };
    c.silent(
        VERSION,
        422,
        upload(&mut prog, &versions, &op, &version(ELF)),
    )
    .await;
    c.silent(
        VERSION,
        422,
        upload(&mut prog, &versions, &op, &version(PDF)),
    )
    .await;
    let r = c
        .measured(
            VERSION,
            "protocollo.versione",
            upload(&mut prog, &versions, &op, &version(PDF2)),
        )
        .await;
    assert_eq!(r["version"], 2);

    // A fascicolo: open, file and unfile, assign, restrict and lift, close.
    let open = |class: &str| {
        json!({"classification": class, "kind": "procedimento",
               "subject": "Contributo libri di testo 2026", "office": first,
               "responsible": "Dott.ssa Anna Bianchi"})
    };
    c.silent(
        F_OPEN,
        422,
        prog.api("POST", "/fascicoli", &op, Some(open("VII.99"))),
    )
    .await;
    c.silent(
        F_OPEN,
        403,
        prog.api("POST", "/fascicoli", &seg, Some(open("VII.3"))),
    )
    .await;
    let f = c
        .measured(
            F_OPEN,
            "fascicolo.opened",
            prog.api("POST", "/fascicoli", &op, Some(open("VII.3"))),
        )
        .await;
    let fid = f["id"].as_i64().unwrap();
    let fpath = |tail: &str| format!("/fascicoli/{fid}/{tail}");
    let file_it = json!({"registration": id});
    c.measured(
        F_DOCUMENTS,
        "fascicolo.document_added",
        prog.api("POST", &fpath("documenti"), &op, Some(file_it.clone())),
    )
    .await;
    c.silent(
        F_DOCUMENTS,
        422,
        prog.api("POST", &fpath("documenti"), &op, Some(file_it.clone())),
    )
    .await;
    c.measured(
        F_DOCUMENTS,
        "fascicolo.document_removed",
        prog.api(
            "POST",
            &fpath("documenti"),
            &op,
            Some(json!({"registration": id, "action": "togli"})),
        ),
    )
    .await;
    c.measured(
        F_DOCUMENTS,
        "fascicolo.document_added",
        prog.api("POST", &fpath("documenti"), &op, Some(file_it)),
    )
    .await;
    c.measured(
        F_ASSIGN,
        "handoff.assigned",
        prog.api(
            "POST",
            &fpath("assegnazioni"),
            &op,
            Some(json!({"office": first, "kind": "conoscenza"})),
        ),
    )
    .await;
    c.silent(
        F_RESTRICT,
        422,
        prog.api(
            "POST",
            &fpath("riservatezza"),
            &op,
            Some(json!({"restricted": false})),
        ),
    )
    .await;
    c.measured(
        F_RESTRICT,
        "fascicolo.restricted",
        prog.api(
            "POST",
            &fpath("riservatezza"),
            &op,
            Some(json!({"restricted": true, "offices": [first]})),
        ),
    )
    .await;
    c.measured(
        F_RESTRICT,
        "fascicolo.unrestricted",
        prog.api(
            "POST",
            &fpath("riservatezza"),
            &op,
            Some(json!({"restricted": false})),
        ),
    )
    .await;
    let r = c
        .measured(
            F_CLOSE,
            "fascicolo.closed",
            prog.api("POST", &fpath("chiusura"), &op, None),
        )
        .await;
    assert!(r["closed_on"].is_string(), "{r}");
    c.silent(
        F_CLOSE,
        422,
        prog.api("POST", &fpath("chiusura"), &op, None),
    )
    .await;

    // The emergency register (art. 63): open, authorise, close, recover.
    let start =
        Timestamp::from_second((Timestamp::now().as_second() - 3 * 86_400) / 60 * 60).unwrap();
    let h = SignedDuration::from_hours;
    let code = "EMERG-LOG6";
    let session = format!("/protocollo/emergenze/{code}");
    let opening = json!({"code": code, "cause": "Guasto del server del protocollo",
                         "started_at": start.to_string(),
                         "authorised_by": "Dott.ssa Maria Bianchi", "act": "Decreto n. 3/2026"});
    c.silent(
        E_OPEN,
        403,
        prog.api("POST", "/protocollo/emergenze", &op, Some(opening.clone())),
    )
    .await;
    c.measured(
        E_OPEN,
        "emergenza.opened",
        prog.api("POST", "/protocollo/emergenze", &seg, Some(opening.clone())),
    )
    .await;
    c.silent(
        E_OPEN,
        422,
        prog.api("POST", "/protocollo/emergenze", &seg, Some(opening)),
    )
    .await;
    c.measured(
        E_AUTHORISE,
        "emergenza.authorised",
        prog.api(
            "POST",
            &format!("{session}/autorizzazioni"),
            &seg,
            Some(json!({"authorised_by": "Dott.ssa Maria Bianchi",
                        "act": "Decreto n. 4/2026", "until": (start + h(48)).to_string()})),
        ),
    )
    .await;
    c.measured(
        E_CLOSE,
        "emergenza.closed",
        prog.api(
            "POST",
            &format!("{session}/chiusura"),
            &seg,
            Some(json!({"ended_at": (start + h(30)).to_string()})),
        ),
    )
    .await;
    // The recovery registers each row of the file (c.5): LOG-6 means one
    // event per registration, so a file of one row appends exactly one.
    let csv = format!(
        "{RECOVERY_HEADER}\n1;{};E;Prima di emergenza;Mario Rossi;;;;;;;a.pdf;\n",
        rome(start + h(1))
    );
    let recovery = [
        Part::File("recupero", "recupero.csv", csv.as_bytes()),
        Part::File("documenti", "a.pdf", PDF),
    ];
    let recover = format!("{session}/recupero");
    c.silent(E_RECOVER, 403, upload(&mut prog, &recover, &seg, &recovery))
        .await;
    let r = c
        .measured(
            E_RECOVER,
            "protocollo.registered",
            upload(&mut prog, &recover, &op, &recovery),
        )
        .await;
    assert_eq!(r["recovered"], 1, "{r}");
    // The same file again: already recovered, nothing new.
    let r = c
        .silent(E_RECOVER, 200, upload(&mut prog, &recover, &op, &recovery))
        .await;
    assert_eq!(r["already_recovered"], 1, "{r}");

    // A protocol message from Acquaviva (Allegato 6 §3.1, PR-8).
    let message = |attachment: &'static [u8]| {
        vec![
            Part::File("segnatura", "segnatura.xml", segnatura.as_bytes()),
            Part::File("documenti", "lettera.pdf", PDF),
            Part::File("documenti", "allegato.txt", attachment),
        ]
    };
    // A tampered attachment is refused with an answer (002), not an error:
    // 200, and nothing registered.
    let r = c
        .silent(
            MESSAGES,
            200,
            upload(
                &mut prog,
                "/protocollo/messaggi",
                &op,
                &message(b"Allegato alterato.\n"),
            ),
        )
        .await;
    assert_eq!(r["codice"], "002_AnomaliaImpronte", "{r}");
    // A received message is registered with its segnatura, bound by the
    // registration's one event.
    let r = c
        .measured(
            MESSAGES,
            "protocollo.registered",
            upload(&mut prog, "/protocollo/messaggi", &op, &message(ALLEGATO)),
        )
        .await;
    assert_eq!(r["esito"], "registrato", "{r}");
    let r = c
        .silent(
            MESSAGES,
            200,
            upload(&mut prog, "/protocollo/messaggi", &op, &message(ALLEGATO)),
        )
        .await;
    assert_eq!(r["esito"], "gia_registrato", "{r}");
    let notice = [Part::File(
        "segnatura",
        "annullamento.xml",
        annulment.as_bytes(),
    )];
    let r = c
        .measured(
            MESSAGES,
            "protocollo.annullamento_ricevuto",
            upload(&mut prog, "/protocollo/messaggi", &op, &notice),
        )
        .await;
    assert_eq!(r["esito"], "annullamento", "{r}");
    let r = c
        .silent(
            MESSAGES,
            200,
            upload(&mut prog, "/protocollo/messaggi", &op, &notice),
        )
        .await;
    assert_eq!(r["esito"], "annullamento_gia_registrato", "{r}");

    // Annulment (art. 54): the operatore may not; the segretario may, once.
    let annul = format!("/protocollo/voci/{id}/annullamento");
    let why = json!({"reason": "Registrata due volte", "act": "Determina n. 5/2026"});
    c.silent(ANNUL, 403, prog.api("POST", &annul, &op, Some(why.clone())))
        .await;
    c.silent(
        ANNUL,
        422,
        prog.api("POST", &annul, &seg, Some(json!({"reason": "x"}))),
    )
    .await;
    let r = c
        .measured(
            ANNUL,
            "protocollo.annulled",
            prog.api("POST", &annul, &seg, Some(why.clone())),
        )
        .await;
    assert_eq!(r["annulment"]["act"], "Determina n. 5/2026");
    c.silent(ANNUL, 422, prog.api("POST", &annul, &seg, Some(why)))
        .await;
    // An annulled entry is no longer classified.
    c.silent(
        CLASSIFY,
        422,
        prog.api(
            "POST",
            &classify,
            &op,
            Some(json!({"classification": "VII.1"})),
        ),
    )
    .await;

    // The classification policy (TI-2): refused for the operator and for
    // a bad term without an event; set by the segretario with one.
    c.silent(
        "/api/v1/protocollo/politica",
        403,
        prog.api(
            "POST",
            "/protocollo/politica",
            &op,
            Some(json!({"classification_mandatory": true, "classify_within_days": 3})),
        ),
    )
    .await;
    c.silent(
        "/api/v1/protocollo/politica",
        422,
        prog.api(
            "POST",
            "/protocollo/politica",
            &seg,
            Some(json!({"classification_mandatory": true, "classify_within_days": 0})),
        ),
    )
    .await;
    c.measured(
        "/api/v1/protocollo/politica",
        "protocollo.politica",
        prog.api(
            "POST",
            "/protocollo/politica",
            &seg,
            Some(json!({"classification_mandatory": false, "classify_within_days": 3})),
        ),
    )
    .await;

    // Titolario editing (TI-3), where the route table has it: each edit is
    // a new version of the titolario, ledgered once.
    if routes.contains(T_ADD_CLASS) {
        c.silent(
            T_ADD_CLASS,
            403,
            prog.api(
                "POST",
                "/titolario/classi",
                &op,
                Some(json!({"titolo": "VI", "name": "Rigenerazione urbana"})),
            ),
        )
        .await;
        let v = c
            .measured(
                T_ADD_CLASS,
                "titolario.version",
                prog.api(
                    "POST",
                    "/titolario/classi",
                    &seg,
                    Some(json!({"titolo": "VI", "name": "Rigenerazione urbana"})),
                ),
            )
            .await;
        let voice = v["voices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "Rigenerazione urbana")
            .and_then(|x| x["code"].as_str())
            .expect("the new class")
            .to_owned();
        c.measured(
            T_RENAME,
            "titolario.version",
            prog.api(
                "POST",
                &format!("/titolario/voci/{voice}/nome"),
                &seg,
                Some(json!({"name": "Rigenerazione urbana e periferie"})),
            ),
        )
        .await;
        c.measured(
            T_CLOSE,
            "titolario.version",
            prog.api(
                "POST",
                &format!("/titolario/voci/{voice}/chiusura"),
                &seg,
                None,
            ),
        )
        .await;
    }

    // Certificates (issue 5): each issuance, bollo settlement and
    // revocation is ledgered once; refusals and the public verification
    // append nothing. A resident with a key (sign-in and key are set-up).
    let resident = app.app.demo_residents(t.id, 1).await.unwrap().remove(0);
    let cf = resident.codice_fiscale.as_str().to_owned();
    let mut web = Browser::new(&app, CASAMASSIMA);
    web.demo_sign_in(&format!("cf:{cf}")).await;
    let user = app
        .app
        .db()
        .user_by_codice_fiscale(t.id, &resident.codice_fiscale)
        .await
        .unwrap()
        .unwrap();
    let citizen = app
        .app
        .issue_api_token(t.id, user.id, "contratto LOG-6 cittadino", Some(30))
        .await
        .unwrap()
        .token;
    let ana = persona_key(&app, "anagrafe").await;
    let exempt_body = json!({"codice_fiscale": cf, "tipo": "residenza", "uso": "tributi"});
    c.silent(
        C_OWN,
        403,
        prog.api("POST", "/certificati", &op, Some(exempt_body.clone())),
    )
    .await;
    c.silent(
        C_OWN,
        422,
        prog.api(
            "POST",
            "/certificati",
            &citizen,
            Some(json!({"codice_fiscale": cf, "tipo": "passaporto", "uso": "tributi"})),
        ),
    )
    .await;
    let own = c
        .measured(
            C_OWN,
            "certificato.rilasciato",
            prog.api("POST", "/certificati", &citizen, Some(exempt_body)),
        )
        .await;
    let own_cti = own["cti"].as_str().unwrap().to_owned();
    let taxed = c
        .measured(
            C_DESK,
            "certificato.rilasciato",
            prog.api(
                "POST",
                "/sportello/certificati",
                &ana,
                Some(json!({"codice_fiscale": cf, "tipo": "stato_famiglia", "uso": "bollo"})),
            ),
        )
        .await;
    let taxed_cti = taxed["cti"].as_str().unwrap().to_owned();
    let bollo = format!("/sportello/certificati/{taxed_cti}/bollo");
    c.silent(
        C_BOLLO,
        422,
        prog.api("POST", &bollo, &ana, Some(json!({"marca": "123"}))),
    )
    .await;
    c.measured(
        C_BOLLO,
        "certificato.bollo_assolto",
        prog.api(
            "POST",
            &bollo,
            &ana,
            Some(json!({"marca": "01234567890123"})),
        ),
    )
    .await;
    c.silent(
        C_BOLLO,
        422,
        prog.api(
            "POST",
            &bollo,
            &ana,
            Some(json!({"marca": "01234567890123"})),
        ),
    )
    .await;
    let revoca = format!("/sportello/certificati/{own_cti}/revoca");
    c.measured(
        C_REVOKE,
        "certificato.revocato",
        prog.api(
            "POST",
            &revoca,
            &ana,
            Some(json!({"motivo": "Errore materiale"})),
        ),
    )
    .await;
    c.silent(
        C_REVOKE,
        422,
        prog.api("POST", &revoca, &ana, Some(json!({"motivo": "Di nuovo"}))),
    )
    .await;
    // The seal of the settled certificate, from its stored PDF.
    let record = app
        .app
        .db()
        .certificate_by_cti(
            t.id,
            &palazzo_services::certificati::parse_cti(&taxed_cti).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let pdf = app
        .app
        .documents()
        .get(&palazzo_domain::protocollo::Impronta::from_digest(
            record.data.pdf_sha256,
        ))
        .await
        .unwrap();
    let (text, _) =
        palazzo_services::verifica::seal_text(&palazzo_services::verifica::Evidence::Pdf(pdf))
            .unwrap();
    let v = c
        .silent(
            "/api/v1/verifica",
            200,
            prog.api("POST", "/verifica", "", Some(json!({ "testo": text }))),
        )
        .await;
    assert_eq!(v["status"], "valid", "{v}");

    // Online istanze (issue 6): filing a pratica writes the registration,
    // the fascicolo, the hand-off, the pratica and its first step; a step
    // with a document writes a registration, the fascicolo, the pratica and
    // the step; one without, the pratica and the step. Each call is one
    // event that binds them all (migration 0029): the registration's, or
    // the step's own.
    let snap = app.app.portal(t.id).await.unwrap();
    let card = snap.service("istanza-generica").unwrap();
    let residents = app.app.demo_residents(t.id, 1).await.unwrap();
    let citizen = app
        .resident_key(CASAMASSIMA, residents[0].codice_fiscale.as_str())
        .await;
    let desk = app
        .staff_key(
            CASAMASSIMA,
            "contratto-istanze",
            Role::Operatore,
            card.data.office,
        )
        .await;
    let draft = c
        .silent(
            "/api/v1/bozze",
            201,
            prog.api(
                "POST",
                "/bozze",
                &citizen,
                Some(json!({"servizio": "istanza-generica"})),
            ),
        )
        .await;
    let draft_id = draft["id"].as_i64().unwrap();
    let key = draft["chiave"].as_str().unwrap().to_owned();
    let mut step = draft["risposte"]["richiedente"].clone();
    step["email"] = json!("cittadino@example.org");
    step["residenza.via"] = json!("Via Roma");
    step["residenza.civico"] = json!("1");
    step["residenza.cap"] = json!("70010");
    step["residenza.comune"] = json!("Casamassima");
    let saved = c
        .silent(
            "/api/v1/bozze/{id}/passi/{step}",
            200,
            prog.api(
                "POST",
                &format!("/bozze/{draft_id}/passi/richiedente"),
                &citizen,
                Some(step),
            ),
        )
        .await;
    assert_eq!(saved["passo_successivo"], "istanza", "{saved}");
    c.silent(
        "/api/v1/bozze/{id}/passi/{step}",
        200,
        prog.api(
            "POST",
            &format!("/bozze/{draft_id}/passi/istanza"),
            &citizen,
            Some(json!({
                "oggetto": "Richiesta di informazioni",
                "testo_istanza": ["Chiedo informazioni sulla strada comunale."]
            })),
        ),
    )
    .await;
    c.silent(
        "/api/v1/bozze/{id}/allegati",
        201,
        upload(
            &mut prog,
            &format!("/bozze/{draft_id}/allegati"),
            &citizen,
            &[
                Part::Text("allegato", "allegati"),
                Part::File("file", "domanda.pdf", PDF),
            ],
        ),
    )
    .await;
    let send = json!({
        "chiave": key,
        "dichiarazioni": ["dichiarazione_veridicita", "informativa_privacy"]
    });
    let invio = format!("/bozze/{draft_id}/invio");
    let filed = c
        .measured(
            "/api/v1/bozze/{id}/invio",
            "protocollo.registered",
            prog.api("POST", &invio, &citizen, Some(send.clone())),
        )
        .await;
    let pratica = filed["pratica"].as_i64().unwrap();
    // The same draft again (a double click): the same pratica, no event.
    c.silent(
        "/api/v1/bozze/{id}/invio",
        200,
        prog.api("POST", &invio, &citizen, Some(send)),
    )
    .await;
    let office_step = format!("/backoffice/pratiche/{pratica}/azioni");
    let take = json!({"azione": "presa_in_carico", "stato_atteso": "presentata"});
    let taken = c
        .measured(
            "/api/v1/backoffice/pratiche/{id}/azioni",
            "pratica.evento",
            prog.api("POST", &office_step, &desk, Some(take.clone())),
        )
        .await;
    // Stale: the state moved, nothing is written.
    c.silent(
        "/api/v1/backoffice/pratiche/{id}/azioni",
        409,
        prog.api("POST", &office_step, &desk, Some(take)),
    )
    .await;
    let asked = c
        .measured(
            "/api/v1/backoffice/pratiche/{id}/azioni",
            "protocollo.registered",
            prog.api(
                "POST",
                &office_step,
                &desk,
                Some(json!({
                    "azione": "richiesta_integrazione",
                    "stato_atteso": taken["stato"],
                    "nota": "Indicare il tratto di strada interessato."
                })),
            ),
        )
        .await;
    let own_step = format!("/pratiche/{pratica}/azioni");
    c.silent(
        "/api/v1/pratiche/{id}/azioni",
        409,
        prog.api(
            "POST",
            &own_step,
            &citizen,
            Some(
                json!({"azione": "integrazione", "stato_atteso": "presentata",
                        "nota": "Il tratto è via Roma."}),
            ),
        ),
    )
    .await;
    let answered = c
        .measured(
            "/api/v1/pratiche/{id}/azioni",
            "protocollo.registered",
            prog.api(
                "POST",
                &own_step,
                &citizen,
                Some(
                    json!({"azione": "integrazione", "stato_atteso": asked["stato"],
                            "nota": "Il tratto è via Roma, dal civico 1 al 40."}),
                ),
            ),
        )
        .await;
    assert_eq!(
        answered["storia"].as_array().unwrap().len(),
        4,
        "{answered}"
    );
    // The office's work besides the procedure (issue 6, part 4): each call
    // one step of the history and one `pratica.evento`; refusals none.
    let messaggi = format!("/pratiche/{pratica}/messaggi");
    c.silent(
        "/api/v1/pratiche/{id}/messaggi",
        422,
        prog.api("POST", &messaggi, &citizen, Some(json!({"testo": "  "}))),
    )
    .await;
    c.measured(
        "/api/v1/pratiche/{id}/messaggi",
        "pratica.evento",
        prog.api(
            "POST",
            &messaggi,
            &citizen,
            Some(json!({"testo": "Quando avrò una risposta?"})),
        ),
    )
    .await;
    c.measured(
        "/api/v1/backoffice/pratiche/{id}/messaggi",
        "pratica.evento",
        prog.api(
            "POST",
            &format!("/backoffice/pratiche/{pratica}/messaggi"),
            &desk,
            Some(json!({"testo": "Entro la fine del mese.", "pubblico": true})),
        ),
    )
    .await;
    // The same calls multipart with a file: one event with the file, none
    // for a file refused by its content.
    c.silent(
        "/api/v1/pratiche/{id}/messaggi",
        422,
        upload(
            &mut prog,
            &messaggi,
            &citizen,
            &[
                Part::Text("testo", "La planimetria."),
                Part::File("file", "planimetria.pdf", ALLEGATO),
            ],
        ),
    )
    .await;
    let with_file = c
        .measured(
            "/api/v1/pratiche/{id}/messaggi",
            "pratica.evento",
            upload(
                &mut prog,
                &messaggi,
                &citizen,
                &[
                    Part::Text("testo", "La planimetria."),
                    Part::File("file", "planimetria.pdf", PDF),
                ],
            ),
        )
        .await;
    assert!(
        with_file["documenti"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["nome"] == "planimetria.pdf" && d["allegato"] == "messaggio"),
        "{with_file}"
    );
    c.measured(
        "/api/v1/backoffice/pratiche/{id}/messaggi",
        "pratica.evento",
        upload(
            &mut prog,
            &format!("/backoffice/pratiche/{pratica}/messaggi"),
            &desk,
            &[
                Part::Text("testo", "Ecco il modulo da firmare."),
                Part::Text("pubblico", "true"),
                Part::File("file", "modulo.pdf", PDF2),
            ],
        ),
    )
    .await;
    let capo = app
        .staff_key(
            CASAMASSIMA,
            "contratto-capo",
            Role::Responsabile,
            card.data.office,
        )
        .await;
    let other = snap
        .offices
        .iter()
        .find(|o| o.id != card.data.office)
        .unwrap();
    let altro = app
        .staff_key(CASAMASSIMA, "contratto-altro", Role::Operatore, other.id)
        .await;
    let desk_user = app
        .app
        .db()
        .staff_users(t.id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.data.family_name == "contratto-istanze")
        .unwrap()
        .id;
    let assegna = format!("/backoffice/pratiche/{pratica}/assegnazione");
    c.silent(
        "/api/v1/backoffice/pratiche/{id}/assegnazione",
        422,
        prog.api(
            "POST",
            &assegna,
            &capo,
            Some(json!({"responsabile": 999_999, "stato_atteso": answered["stato"]})),
        ),
    )
    .await;
    let assigned = c
        .measured(
            "/api/v1/backoffice/pratiche/{id}/assegnazione",
            "pratica.evento",
            prog.api(
                "POST",
                &assegna,
                &capo,
                Some(json!({"responsabile": desk_user.0, "stato_atteso": answered["stato"]})),
            ),
        )
        .await;
    assert_eq!(assigned["responsabile"], "Operatore contratto-istanze");
    let pareri = format!("/backoffice/pratiche/{pratica}/pareri");
    c.silent(
        "/api/v1/backoffice/pratiche/{id}/pareri",
        422,
        prog.api(
            "POST",
            &pareri,
            &capo,
            Some(
                json!({"ufficio": snap.office(card.data.office).unwrap().data.slug, "testo": "?"}),
            ),
        ),
    )
    .await;
    let asked = c
        .measured(
            "/api/v1/backoffice/pratiche/{id}/pareri",
            "pratica.evento",
            prog.api(
                "POST",
                &pareri,
                &capo,
                Some(json!({"ufficio": other.data.slug, "testo": "Ci sono vincoli?"})),
            ),
        )
        .await;
    let seq = asked["pareri"][0]["seq"].as_i64().unwrap();
    let risposta = format!("/backoffice/pratiche/{pratica}/pareri/{seq}/risposta");
    c.silent(
        "/api/v1/backoffice/pratiche/{id}/pareri/{seq}/risposta",
        422,
        prog.api(
            "POST",
            &risposta,
            &desk,
            Some(json!({"esito": "favorevole", "testo": "Sì"})),
        ),
    )
    .await;
    c.silent(
        "/api/v1/backoffice/pratiche/{id}/pareri/{seq}/risposta",
        422,
        upload(
            &mut prog,
            &risposta,
            &altro,
            &[
                Part::Text("esito", "contrario"),
                Part::Text("testo", "Vincolo idrogeologico."),
                Part::File("file", "parere.pdf", ALLEGATO),
            ],
        ),
    )
    .await;
    let reso = c
        .measured(
            "/api/v1/backoffice/pratiche/{id}/pareri/{seq}/risposta",
            "pratica.evento",
            upload(
                &mut prog,
                &risposta,
                &altro,
                &[
                    Part::Text("esito", "contrario"),
                    Part::Text("testo", "Vincolo idrogeologico."),
                    Part::File("file", "parere.pdf", PDF),
                ],
            ),
        )
        .await;
    assert_eq!(
        reso["documento"],
        format!("/api/v1/backoffice/pratiche/{pratica}/pareri/{seq}/documento"),
        "{reso}"
    );
    let trasferisci = format!("/backoffice/pratiche/{pratica}/trasferimento");
    c.silent(
        "/api/v1/backoffice/pratiche/{id}/trasferimento",
        409,
        prog.api(
            "POST",
            &trasferisci,
            &capo,
            Some(json!({"ufficio": other.data.slug, "motivo": "Competenza", "stato_atteso": "presentata"})),
        ),
    )
    .await;
    c.measured(
        "/api/v1/backoffice/pratiche/{id}/trasferimento",
        "pratica.evento",
        prog.api(
            "POST",
            &trasferisci,
            &capo,
            Some(json!({"ufficio": other.data.slug, "motivo": "Competenza dell'altro ufficio", "stato_atteso": answered["stato"]})),
        ),
    )
    .await;
    // A new version of the service's definition: one event of its own.
    let def = prog
        .api(
            "GET",
            "/servizi-online/istanza-generica/definizione",
            "",
            None,
        )
        .await;
    let mut def = json_of(&def);
    def["oggetto"] = json!("Istanza online – {richiedente}");
    c.measured(
        "/api/v1/servizi-online/{slug}/definizione",
        "servizio_online.definito",
        prog.api(
            "POST",
            "/servizi-online/istanza-generica/definizione",
            &admin,
            Some(def),
        ),
    )
    .await;

    // A new card of the catalogue, then a change to it: one event each.
    let office_slug = app.app.portal(c.tenant).await.unwrap().offices[0]
        .data
        .slug
        .clone();
    let mut scheda = json!({
        "ufficio": office_slug,
        "slug": "contributo-contratto",
        "category": "vita-lavorativa",
        "title": "Contributo di prova",
        "status": { "state": "active" },
        "summary": "Un contributo.",
        "audience": "Residenti.",
        "how_to": "Online.",
        "needed": "SPID o CIE.",
        "achieved": "Il contributo.",
        "times": "30 giorni.",
        "access": "Online con SPID o CIE.",
        "conditions": "Termini e condizioni.",
        "topics": ["Lavoro"],
        "service_type": "Vita lavorativa",
        "audience_type": "cittadini"
    });
    c.measured(
        "/api/v1/schede-servizio",
        "service.created",
        prog.api("POST", "/schede-servizio", &admin, Some(scheda.clone())),
    )
    .await;
    scheda["times"] = json!("20 giorni.");
    c.measured(
        "/api/v1/schede-servizio/{slug}",
        "service.updated",
        prog.api(
            "POST",
            "/schede-servizio/contributo-contratto",
            &admin,
            Some(scheda),
        ),
    )
    .await;

    // The IMU rates of a year with their delibera: one event; the same
    // rates again, or rates outside the law, nothing.
    let tributi = persona_key(&app, "tributi").await;
    let mut aliquote = json!({
        "anno": 2026,
        "delibera": "Delibera C.C. n. 9 del 20/03/2026",
        "abitazione_principale": 600,
        "detrazione": 20000,
        "rurali_strumentali": 100,
        "beni_merce": 0,
        "terreni": 760,
        "gruppo_d": 1060,
        "altri_fabbricati": 1060,
        "aree_fabbricabili": 1060,
        "maggiorazione_ex_tasi": false,
        "versamento_minimo": 1200
    });
    let saved = c
        .measured(
            "/api/v1/tributi/aliquote-imu",
            "tributi.aliquote_imu",
            prog.api(
                "POST",
                "/tributi/aliquote-imu",
                &tributi,
                Some(aliquote.clone()),
            ),
        )
        .await;
    assert!(
        saved["aggiornate_da"]
            .as_str()
            .unwrap()
            .starts_with("user:"),
        "{saved}"
    );
    assert_eq!(saved["altri_fabbricati"], 1060);
    c.silent(
        "/api/v1/tributi/aliquote-imu",
        200,
        prog.api(
            "POST",
            "/tributi/aliquote-imu",
            &tributi,
            Some(aliquote.clone()),
        ),
    )
    .await;
    aliquote["altri_fabbricati"] = json!(1200);
    let refused = c
        .silent(
            "/api/v1/tributi/aliquote-imu",
            422,
            prog.api("POST", "/tributi/aliquote-imu", &tributi, Some(aliquote)),
        )
        .await;
    assert_eq!(
        refused["error"], "tributi_aliquota_fuori_range",
        "{refused}"
    );

    // The TARI tariffs of a year with their delibera: one event; the same
    // again, or a TEFA above 5%, nothing.
    let mut tariffe = json!({
        "anno": 2026,
        "delibera": "Delibera C.C. n. 10 del 30/04/2026",
        "domestiche": [[3650, 401200], [4200, 625000], [4460, 750300],
                       [4700, 900000], [4900, 1100000], [5100, 1250000]],
        "non_domestiche": [[13, "Negozi di beni durevoli", 12000, 10500]],
        "tefa": 500,
        "scadenze": ["2026-05-31", "2026-09-30"],
        "riduzioni": [{"codice": "compostaggio", "descrizione": "Compostaggio domestico",
                       "fissa": 0, "variabile": 2000}]
    });
    let saved = c
        .measured(
            "/api/v1/tributi/tariffe-tari",
            "tributi.tariffe_tari",
            prog.api(
                "POST",
                "/tributi/tariffe-tari",
                &tributi,
                Some(tariffe.clone()),
            ),
        )
        .await;
    assert_eq!(saved["domestiche"][2], json!([4460, 750300]), "{saved}");
    c.silent(
        "/api/v1/tributi/tariffe-tari",
        200,
        prog.api(
            "POST",
            "/tributi/tariffe-tari",
            &tributi,
            Some(tariffe.clone()),
        ),
    )
    .await;
    tariffe["tefa"] = json!(600);
    let refused = c
        .silent(
            "/api/v1/tributi/tariffe-tari",
            422,
            prog.api("POST", "/tributi/tariffe-tari", &tributi, Some(tariffe)),
        )
        .await;
    assert_eq!(refused["error"], "tributi_tariffe_tari", "{refused}");

    // The canone unico coefficients of a year: one event; the same again,
    // or a zone's coefficient of nought, nothing.
    let mut coefficienti = json!({
        "anno": 2026,
        "delibera": "Delibera C.C. n. 5 del 30/03/2026",
        "zone": [{"codice": "1", "descrizione": "Centro", "coefficiente": 1000}],
        "categorie": [{"codice": "passo_carrabile", "descrizione": "Passi carrabili",
                       "permanente": 420, "temporanea": 485}],
        "scadenze": ["2026-03-31"]
    });
    let saved = c
        .measured(
            "/api/v1/tributi/tariffe-canone",
            "tributi.tariffe_canone",
            prog.api(
                "POST",
                "/tributi/tariffe-canone",
                &tributi,
                Some(coefficienti.clone()),
            ),
        )
        .await;
    assert_eq!(saved["categorie"][0]["permanente"], json!(420), "{saved}");
    c.silent(
        "/api/v1/tributi/tariffe-canone",
        200,
        prog.api(
            "POST",
            "/tributi/tariffe-canone",
            &tributi,
            Some(coefficienti.clone()),
        ),
    )
    .await;
    coefficienti["zone"][0]["coefficiente"] = json!(0);
    let refused = c
        .silent(
            "/api/v1/tributi/tariffe-canone",
            422,
            prog.api(
                "POST",
                "/tributi/tariffe-canone",
                &tributi,
                Some(coefficienti),
            ),
        )
        .await;
    assert_eq!(refused["error"], "tributi_tariffe_canone", "{refused}");

    // The payment of a pagoPA notice: one event; the same receipt again
    // nothing; another receipt refused, nothing.
    let avviso = {
        let mut tx = app.app.db().begin().await.unwrap();
        let base = tx.next_iuv(c.tenant).await.unwrap();
        let codice = palazzo_domain::pagopa::CodiceAvviso::aux3(1, base).unwrap();
        let a = tx
            .insert_avviso(
                c.tenant,
                base,
                &codice,
                &palazzo_store::NewAvviso {
                    codice_fiscale: palazzo_domain::ids::CodiceFiscale::parse("RSSMRA80A01H501U")
                        .unwrap(),
                    tributo: "IMU".into(),
                    anno: 2026,
                    versamento: "saldo".into(),
                    importo: palazzo_domain::money::Cents::from_cents(99_200),
                    tefa: palazzo_domain::money::Cents::ZERO,
                    scadenza: jiff::civil::date(2026, 12, 16),
                    created_by: "test".into(),
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        a.codice_avviso.to_string()
    };
    let pagamento = format!("/tributi/avvisi/{avviso}/pagamento");
    let body = json!({ "ricevuta": "CRO-0001", "pagato_il": "2026-12-01T10:00:00Z" });
    let paid = c
        .measured(
            "/api/v1/tributi/avvisi/{codice}/pagamento",
            "tributi.avviso_pagato",
            prog.api("POST", &pagamento, &tributi, Some(body.clone())),
        )
        .await;
    assert_eq!(paid["stato"], "pagato", "{paid}");
    c.silent(
        "/api/v1/tributi/avvisi/{codice}/pagamento",
        200,
        prog.api("POST", &pagamento, &tributi, Some(body)),
    )
    .await;
    let refused = c
        .silent(
            "/api/v1/tributi/avvisi/{codice}/pagamento",
            422,
            prog.api(
                "POST",
                &pagamento,
                &tributi,
                Some(json!({ "ricevuta": "ALTRA" })),
            ),
        )
        .await;
    assert_eq!(refused["error"], "avviso_gia_pagato", "{refused}");

    // Every mutating API route is exercised or exempt.
    let exempt: BTreeSet<String> = EXEMPT.iter().map(|(r, _)| (*r).to_owned()).collect();
    let missing: Vec<&String> = routes
        .iter()
        .filter(|r| !c.covered.contains(*r) && !exempt.contains(*r))
        .collect();
    assert!(
        missing.is_empty(),
        "LOG-6: these POST API routes are neither exercised by this contract test nor \
         listed in EXEMPT: {missing:?}"
    );
    let covered: BTreeSet<String> = c.covered.union(&exempt).cloned().collect();
    assert_eq!(covered, routes);

    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.stop().await;
}

#[tokio::test]
async fn every_mutating_api_route_emits_one_event_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn every_mutating_api_route_emits_one_event_postgres() {
    run(Backend::Postgres).await
}
