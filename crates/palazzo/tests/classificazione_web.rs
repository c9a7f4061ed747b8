//! The classification policy (issue 4, TI-2) over HTTP on both backends:
//! the page of the entries "da classificare" with their deadline, the entry
//! page's deadline, the policy form (only for whoever keeps the titolario,
//! with clear refusals; on the titolario page too, for the comune's
//! administrator who does not read the register), the JSON API (list, read, set) and a registration
//! refused without a class under the "obbligatoria" policy, from the API
//! and from the desk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::UserId;
use palazzo_testkit::browser::{Page, Part};
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.7\n% istanza\n%%EOF\n";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("{e}: {}", p.body))
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
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
    let pdf = app
        .app
        .documents()
        .put_bytes("istanza.pdf", PDF)
        .await
        .unwrap();
    let pending = app
        .app
        .register_protocol(
            t.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Segnalazione di una buca in via Roma".into(),
                correspondents: vec![Correspondent {
                    kind: CorrespondentKind::PersonaFisica,
                    name: "Mario Rossi".into(),
                    fiscal_code: None,
                    ipa: None,
                    email: None,
                    address: None,
                    per_conoscenza: false,
                }],
                received_number: None,
                received_date: None,
                primary: pdf.to_ref(),
                attachments: vec![],
                classification: None,
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let deadline = app
        .app
        .unclassified_protocol(t.id, &desk, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.registration.id == pending.id)
        .expect("the new entry is pending")
        .deadline
        .strftime("%d/%m/%Y")
        .to_string();

    // The operator sees the list and the deadline, not the policy form.
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let register = op.get("/backoffice/protocollo").await;
    assert!(
        register
            .body
            .contains("href=\"/backoffice/protocollo/da-classificare\"")
    );
    let list = op.get("/backoffice/protocollo/da-classificare").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("data-id=\"{}\"", pending.id.0)));
    assert!(list.body.contains(&deadline), "{}", list.body);
    assert!(list.body.contains("entro 5 giorni lavorativi"));
    assert!(!list.body.contains("data-scaduta"));
    assert!(!list.body.contains("form-politica"));
    let entry = op
        .get(&format!("/backoffice/protocollo/{}", pending.id.0))
        .await;
    assert!(
        entry
            .body
            .contains(&format!("Da classificare entro il {deadline}")),
        "{}",
        entry.body
    );
    // Setting the policy is not an operator's: 403, nothing changes.
    let csrf = op.csrf_of("/backoffice/chiavi-api").await;
    let r = op
        .post(
            "/backoffice/protocollo/politica",
            &[
                ("csrf", &csrf),
                ("modalita", "obbligatoria"),
                ("giorni", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The segretario keeps the titolario: the form, its refusals, its effect.
    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let page = seg.get("/backoffice/protocollo/da-classificare").await;
    assert!(page.body.contains("form-politica"), "{}", page.body);
    let csrf = page.csrf().unwrap();
    for (modalita, giorni, code) in [
        ("obbligatoria", "0", "politica_giorni"),
        ("obbligatoria", "tre", "politica_giorni"),
        ("obbligatoria", "61", "politica_giorni"),
        ("sempre", "3", "politica_modalita"),
    ] {
        let r = seg
            .post(
                "/backoffice/protocollo/politica",
                &[("csrf", &csrf), ("modalita", modalita), ("giorni", giorni)],
            )
            .await;
        assert_eq!(r.status, 422, "{modalita} {giorni}: {}", r.body);
        assert!(
            r.body.contains(&format!("data-code=\"{code}\"")),
            "{}",
            r.body
        );
    }
    // Without the CSRF token: refused.
    let r = seg
        .post(
            "/backoffice/protocollo/politica",
            &[("modalita", "obbligatoria"), ("giorni", "3")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        !app.app
            .protocol_policy(t.id, &desk)
            .await
            .unwrap()
            .classification_mandatory
    );
    let r = seg
        .post(
            "/backoffice/protocollo/politica",
            &[
                ("csrf", &csrf),
                ("modalita", "obbligatoria"),
                ("giorni", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location(),
        Some("/backoffice/protocollo/da-classificare?esito=politica")
    );
    let page = seg
        .get("/backoffice/protocollo/da-classificare?esito=politica")
        .await;
    assert!(page.body.contains("Politica di classificazione aggiornata"));
    assert!(
        page.body
            .contains("richiede la classificazione al momento della registrazione")
    );

    // The API: read the policy and the list; the operator cannot set it.
    let token = op.api_key("gestionale protocollo").await;
    let mut prog = Browser::new(&app, CASAMASSIMA);
    let r = prog.api("GET", "/protocollo/politica", "", None).await;
    assert_eq!(r.status, 401);
    let r = prog.api("GET", "/protocollo/politica", &token, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = json_of(&r);
    assert_eq!(p["classification_mandatory"], true);
    assert_eq!(p["classify_within_days"], 3);
    assert!(p["updated_by"].as_str().unwrap().contains("user:"));
    let r = prog
        .api("GET", "/protocollo/da-classificare", &token, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = json_of(&r);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == pending.id.0)
        .expect("listed");
    assert_eq!(row["number"], pending.number.to_string());
    assert_eq!(row["overdue"], false);
    assert!(row["deadline"].as_str().unwrap().len() == 10);
    let r = prog
        .api(
            "POST",
            "/protocollo/politica",
            &token,
            Some(json!({"classification_mandatory": false, "classify_within_days": 9})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Under "obbligatoria" the API refuses a registration without a class
    // and takes no number.
    let dati = json!({
        "flow": "E",
        "subject": "Istanza senza classe",
        "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W"}],
    })
    .to_string();
    let auth = format!("Bearer {token}");
    let r = prog
        .post_multipart(
            "/api/v1/protocollo",
            &[
                Part::Text("dati", &dati),
                Part::File("documento", "istanza.pdf", PDF),
            ],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "classificazione_obbligatoria");
    // From the desk form too, with the message shown.
    let page = op.get("/backoffice/protocollo/nuova").await;
    let action = page
        .body
        .split("action=\"")
        .find(|s| s.starts_with("/backoffice/protocollo/nuova?csrf="))
        .and_then(|s| s.split('"').next())
        .expect("the desk form")
        .replace("&amp;", "&");
    let form = op
        .post_multipart(
            &action,
            &[
                Part::Text("verso", "E"),
                Part::Text("oggetto", "Istanza allo sportello senza classe"),
                Part::Text("c0_tipo", "persona_fisica"),
                Part::Text("c0_nome", "Maria Bianchi"),
                Part::Text("classifica", ""),
                Part::Text("ufficio", "0"),
                Part::File("documento", "istanza.pdf", PDF),
            ],
            &[],
        )
        .await;
    assert_eq!(form.status, 422, "{}", form.body);
    assert!(
        form.body
            .contains("richiede la classificazione al momento della registrazione"),
        "{}",
        form.body
    );
    let numbers = app
        .app
        .protocol_register(t.id, &desk, pending.year, 0, 100)
        .await
        .unwrap();
    assert_eq!(numbers.len(), 1, "no number was taken");

    // The segretario sets it back over the API; bad bodies are refused.
    let seg_token = seg.api_key("gestione documentale").await;
    for (body, code) in [
        (
            json!({"classification_mandatory": false, "classify_within_days": 0}),
            "politica_giorni",
        ),
        (
            json!({"classification_mandatory": false, "classify_within_days": 5, "altro": 1}),
            "invalid_fields",
        ),
        (json!({"classification_mandatory": false}), "invalid_fields"),
    ] {
        let r = prog
            .api(
                "POST",
                "/protocollo/politica",
                &seg_token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(json_of(&r)["error"], code);
    }
    let r = prog
        .api(
            "POST",
            "/protocollo/politica",
            &seg_token,
            Some(json!({"classification_mandatory": false, "classify_within_days": 9})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["classify_within_days"], 9);
    let page = op.get("/backoffice/protocollo/da-classificare").await;
    assert!(page.body.contains("entro 9 giorni lavorativi"));

    // The comune's administrator keeps the titolario without reading the
    // register: the policy and its form are on the titolario page, and a
    // change (or a refusal) comes back there.
    let by_segretario = app
        .app
        .protocol_policy(t.id, &desk)
        .await
        .unwrap()
        .updated_by;
    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    assert_eq!(
        admin
            .get("/backoffice/protocollo/da-classificare")
            .await
            .status,
        403
    );
    let page = admin.get("/backoffice/titolario").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("entro 9 giorni lavorativi"),
        "{}",
        page.body
    );
    assert!(page.body.contains("form-politica"));
    assert!(page.body.contains("name=\"da\" value=\"titolario\""));
    let csrf = page.csrf().unwrap();
    let r = admin
        .post(
            "/backoffice/protocollo/politica",
            &[
                ("csrf", &csrf),
                ("da", "titolario"),
                ("modalita", "differita"),
                ("giorni", "99"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("data-code=\"politica_giorni\""),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Titolario di classificazione"),
        "{}",
        r.body
    );
    let r = admin
        .post(
            "/backoffice/protocollo/politica",
            &[
                ("csrf", &csrf),
                ("da", "titolario"),
                ("modalita", "differita"),
                ("giorni", "4"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some("/backoffice/titolario?esito=politica"));
    let page = admin.get("/backoffice/titolario?esito=politica").await;
    assert!(page.body.contains("Politica di classificazione aggiornata"));
    assert!(page.body.contains("entro 4 giorni lavorativi"));
    let policy = app.app.protocol_policy(t.id, &desk).await.unwrap();
    assert_eq!(
        (policy.classification_mandatory, policy.classify_within_days),
        (false, 4)
    );
    assert_ne!(policy.updated_by, by_segretario, "set by the administrator");
    // The operator sees the policy on the titolario page, not the form.
    let page = op.get("/backoffice/titolario").await;
    assert!(page.body.contains("entro 4 giorni lavorativi"));
    assert!(!page.body.contains("form-politica"));

    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.stop().await;
}

#[tokio::test]
async fn classification_policy_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn classification_policy_postgres() {
    run(Backend::Postgres).await
}
