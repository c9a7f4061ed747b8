//! Online istanze through the JSON API (issue 6), on both backends: the
//! public list of online services and their definitions; a demo resident,
//! with a personal key, files an «istanza generica» end to end (draft,
//! steps with a 422 field-error list that keeps what was typed, a PDF
//! checked by content, submission twice with the same key answering the
//! same pratica once), reads the pratica and withdraws it; another
//! resident sees none of it; the office's operatore lists and works it
//! (409 on a stale state, 422 on a procedure refusal) while a member of
//! another office gets 403/404; the admin saves a new version of a
//! definition and is refused silenzio-assenso on a landscape matter with
//! the art. 20 c.4 message. Bad input is 4xx with a code, never 5xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::Role;
use palazzo_store::conformance::service_fixture;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

/// A refusal: the status and the stable code, never a server error.
fn refused(p: &Page, status: u16, code: &str) {
    assert_eq!(p.status, status, "{}", p.body);
    assert_eq!(json_of(p)["error"], code, "{}", p.body);
}

/// `/api/v1{path}` with a key, an optional JSON body and extra headers.
async fn call(
    b: &mut Browser,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Page {
    let auth = format!("Bearer {token}");
    let mut headers: Vec<(&str, &str)> = vec![("authorization", auth.as_str())];
    let bytes = match &body {
        Some(v) => {
            headers.push(("content-type", "application/json"));
            serde_json::to_vec(v).unwrap()
        }
        None => Vec::new(),
    };
    headers.extend_from_slice(extra);
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    b.request(m, &format!("/api/v1{path}"), &headers, bytes)
        .await
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 20).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    // The demo may already carry the cards (and their definitions).
    for slug in [
        "istanza-generica",
        "autorizzazione-paesaggistica-semplificata",
    ] {
        if snap.service(slug).is_none() {
            app.app
                .create_service(t.id, service_fixture(slug, snap.offices[0].id))
                .await
                .unwrap();
        }
    }
    app.app.install_shipped_definitions(t.id).await.unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let card = snap.service("istanza-generica").unwrap();
    let office = snap.office(card.data.office).unwrap().clone();
    let elsewhere = snap
        .offices
        .iter()
        .find(|o| o.id != office.id)
        .unwrap()
        .clone();
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let me_cf = residents[0].codice_fiscale.as_str().to_owned();
    let me = app.resident_key(CASAMASSIMA, &me_cf).await;
    let other = app
        .resident_key(CASAMASSIMA, residents[1].codice_fiscale.as_str())
        .await;
    let operatore = app
        .staff_key(CASAMASSIMA, "operatore-ufficio", Role::Operatore, office.id)
        .await;
    let stranger = app
        .staff_key(CASAMASSIMA, "altro-ufficio", Role::Operatore, elsewhere.id)
        .await;
    let mut admin_web = Browser::new(&app, CASAMASSIMA);
    admin_web.demo_sign_in("admin").await;
    let admin = admin_web.api_key("catalogo").await;
    let mut b = Browser::new(&app, CASAMASSIMA);

    // Public: the online services and a definition.
    let list = b.api("GET", "/servizi-online", "", None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let list = json_of(&list);
    let generica = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "istanza-generica")
        .unwrap_or_else(|| panic!("istanza-generica online: {list}"))
        .clone();
    assert_eq!(generica["termine_giorni"], 30);
    assert_eq!(generica["silenzio_assenso"], false);
    assert_eq!(generica["ufficio"], office.data.slug.as_str());
    let version = generica["versione"].as_u64().unwrap();
    let def = b
        .api(
            "GET",
            "/servizi-online/istanza-generica/definizione",
            "",
            None,
        )
        .await;
    assert_eq!(def.status, 200, "{}", def.body);
    let def = json_of(&def);
    assert_eq!(def["servizio"], "istanza-generica");
    assert_eq!(def["modulo"]["versione"], version);
    assert_eq!(def["procedimento"]["term_days"], 30);
    refused(
        &b.api("GET", "/servizi-online/non-esiste/definizione", "", None)
            .await,
        404,
        "not_found",
    );

    // Anonymous callers: 401, whatever the body.
    for (method, path, body) in [
        ("GET", "/bozze", None),
        (
            "POST",
            "/bozze",
            Some(json!({"servizio": "istanza-generica"})),
        ),
        ("POST", "/bozze/1/invio", Some(json!({"chiave": "x"}))),
        ("GET", "/pratiche/1", None),
        ("GET", "/backoffice/pratiche/1", None),
        (
            "POST",
            "/servizi-online/istanza-generica/definizione",
            Some(def.clone()),
        ),
    ] {
        let r = b.api(method, path, "", body).await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
    }

    // A draft: the first step prefilled from the identity.
    refused(
        &call(
            &mut b,
            "POST",
            "/bozze",
            &me,
            Some(json!({"servizio": "non-esiste"})),
            &[],
        )
        .await,
        404,
        "not_found",
    );
    let r = call(
        &mut b,
        "POST",
        "/bozze",
        &me,
        Some(json!({"servizio": "istanza-generica"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let draft = json_of(&r);
    let id = draft["id"].as_i64().unwrap();
    let key = draft["chiave"].as_str().unwrap().to_owned();
    assert_eq!(draft["passi"][0]["id"], "richiedente");
    assert_eq!(draft["passo_da_completare"], "richiedente");
    assert_eq!(
        draft["risposte"]["richiedente"]["codice_fiscale"][0],
        me_cf.as_str(),
        "prefilled: {draft}"
    );
    let list = json_of(&call(&mut b, "GET", "/bozze", &me, None, &[]).await);
    assert!(list.as_array().unwrap().iter().any(|d| d["id"] == id));

    // A step with errors: 422 with the list, what was typed is kept.
    let mut step = draft["risposte"]["richiedente"].clone();
    step["email"] = json!("non-una-mail");
    let r = call(
        &mut b,
        "POST",
        &format!("/bozze/{id}/passi/richiedente"),
        &me,
        Some(step.clone()),
        &[],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let errors = json_of(&r)["errori"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .clone();
    assert!(
        errors
            .iter()
            .any(|e| e["campo"] == "email" && e["codice"].as_str().unwrap().starts_with("modulo_")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e["messaggio"].as_str().is_some_and(|m| !m.is_empty()))
    );
    let kept = json_of(&call(&mut b, "GET", &format!("/bozze/{id}"), &me, None, &[]).await);
    assert_eq!(kept["risposte"]["richiedente"]["email"][0], "non-una-mail");
    // Not an object of strings: 422, not a 5xx.
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/bozze/{id}/passi/richiedente"),
            &me,
            Some(json!({"email": 3})),
            &[],
        )
        .await,
        422,
        "invalid_fields",
    );
    // Corrected: the next step.
    step["email"] = json!("cittadino@example.org");
    step["residenza.via"] = json!("Via Roma");
    step["residenza.civico"] = json!("1");
    step["residenza.cap"] = json!("70010");
    step["residenza.comune"] = json!("Casamassima");
    let r = call(
        &mut b,
        "POST",
        &format!("/bozze/{id}/passi/richiedente"),
        &me,
        Some(step),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["passo_successivo"], "istanza");
    let r = call(
        &mut b,
        "POST",
        &format!("/bozze/{id}/passi/istanza"),
        &me,
        Some(json!({
            "oggetto": "Richiesta di informazioni",
            "testo_istanza": ["Chiedo informazioni sullo stato della strada comunale."]
        })),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["passo_successivo"], Value::Null);

    // Files: checked by content; a PDF is attached.
    let upload = |name: &'static str, bytes: &'static [u8]| {
        [
            palazzo_testkit::browser::Part::Text("allegato", "allegati"),
            palazzo_testkit::browser::Part::File("file", name, bytes),
        ]
    };
    let auth = format!("Bearer {me}");
    let r = b
        .post_multipart(
            &format!("/api/v1/bozze/{id}/allegati"),
            &upload("falso.pdf", b"questo non e' un pdf"),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = b
        .post_multipart(
            &format!("/api/v1/bozze/{id}/allegati"),
            &upload("domanda.pdf", PDF),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(json_of(&r)["nome"], "domanda.pdf");

    // Another resident sees none of it.
    refused(
        &call(&mut b, "GET", &format!("/bozze/{id}"), &other, None, &[]).await,
        404,
        "not_found",
    );
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/bozze/{id}/invio"),
            &other,
            Some(json!({"chiave": key})),
            &[],
        )
        .await,
        404,
        "not_found",
    );

    // Submission: the declarations are required; then filed once.
    let r = call(
        &mut b,
        "POST",
        &format!("/bozze/{id}/invio"),
        &me,
        Some(json!({"chiave": key, "dichiarazioni": []})),
        &[],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/bozze/{id}/invio"),
            &me,
            Some(json!({"dichiarazioni": []})),
            &[],
        )
        .await,
        422,
        "pratica_chiave_mancante",
    );
    let send = json!({
        "chiave": key,
        "dichiarazioni": ["dichiarazione_veridicita", "informativa_privacy"]
    });
    let first = call(
        &mut b,
        "POST",
        &format!("/bozze/{id}/invio"),
        &me,
        Some(send.clone()),
        &[("idempotency-key", &key)],
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let receipt = json_of(&first);
    let pratica = receipt["pratica"].as_i64().unwrap();
    assert!(!receipt["protocollo"]["numero"].as_str().unwrap().is_empty());
    assert!(receipt["scadenza"].is_string(), "{receipt}");
    assert_eq!(receipt["ufficio"], office.data.name.as_str());
    assert_eq!(receipt["stato"], "presentata");
    // Again, the key only in the header: the same pratica, filed once.
    let again = call(
        &mut b,
        "POST",
        &format!("/bozze/{id}/invio"),
        &me,
        Some(json!({"dichiarazioni": ["dichiarazione_veridicita", "informativa_privacy"]})),
        &[("idempotency-key", &key)],
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(json_of(&again), receipt);
    let mine = json_of(&call(&mut b, "GET", "/pratiche", &me, None, &[]).await);
    assert_eq!(
        mine.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["servizio"] == "istanza-generica")
            .count(),
        1,
        "{mine}"
    );

    // The applicant's view: state, history, clock, documents.
    let r = call(
        &mut b,
        "GET",
        &format!("/pratiche/{pratica}"),
        &me,
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = json_of(&r);
    assert_eq!(p["stato"], "presentata");
    assert_eq!(p["storia"][0]["azione"], "presentazione");
    assert_eq!(p["storia"][0]["autore"], Value::Null);
    // The document of a step (here the istanza as registered), for the
    // applicant only.
    let doc = p["storia"][0]["documento"].as_str().unwrap().to_owned();
    assert_eq!(doc, format!("/api/v1/pratiche/{pratica}/passi/1/documento"));
    let path = doc.trim_start_matches("/api/v1");
    let r = call(&mut b, "GET", path, &me, None, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert_eq!(r.headers["cache-control"], "private, no-store");
    refused(
        &call(&mut b, "GET", path, &other, None, &[]).await,
        404,
        "not_found",
    );
    refused(
        &call(
            &mut b,
            "GET",
            &format!("/pratiche/{pratica}/passi/9/documento"),
            &me,
            None,
            &[],
        )
        .await,
        404,
        "not_found",
    );
    assert_eq!(p["orologio"]["termine_giorni"], 30);
    assert_eq!(p["orologio"]["scadenza"], receipt["scadenza"]);
    assert!(
        p["documenti"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["nome"] == "domanda.pdf"),
        "{p}"
    );
    for (method, path) in [
        ("GET", format!("/pratiche/{pratica}")),
        ("GET", format!("/backoffice/pratiche/{pratica}")),
    ] {
        let r = call(&mut b, method, &path, &other, None, &[]).await;
        assert!(r.status == 404 || r.status == 403, "{path}: {}", r.body);
    }
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/pratiche/{pratica}/azioni"),
            &other,
            Some(json!({"azione": "ritiro", "stato_atteso": "presentata"})),
            &[],
        )
        .await,
        404,
        "not_found",
    );

    // The office: listed with its deadline, worked step by step.
    let r = call(
        &mut b,
        "GET",
        &format!("/uffici/{}/pratiche", office.data.slug),
        &operatore,
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let row = json_of(&r)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pratica)
        .cloned()
        .expect("the pratica in the office list");
    assert_eq!(row["scadenza"], receipt["scadenza"]);
    assert!(row["giorni_rimanenti"].as_i64().unwrap() > 0, "{row}");
    assert_eq!(row["scaduta"], false);
    let r = call(
        &mut b,
        "GET",
        &format!("/backoffice/pratiche/{pratica}"),
        &operatore,
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(json_of(&r)["storia"][0]["autore"].is_string());
    // Staff of another office: not theirs.
    refused(
        &call(
            &mut b,
            "GET",
            &format!("/uffici/{}/pratiche", office.data.slug),
            &stranger,
            None,
            &[],
        )
        .await,
        403,
        "forbidden",
    );
    refused(
        &call(
            &mut b,
            "GET",
            &format!("/backoffice/pratiche/{pratica}"),
            &stranger,
            None,
            &[],
        )
        .await,
        404,
        "not_found",
    );
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/backoffice/pratiche/{pratica}/azioni"),
            &stranger,
            Some(json!({"azione": "presa_in_carico", "stato_atteso": "presentata"})),
            &[],
        )
        .await,
        404,
        "not_found",
    );
    // A citizen is not staff.
    assert_eq!(
        call(
            &mut b,
            "GET",
            &format!("/backoffice/pratiche/{pratica}"),
            &me,
            None,
            &[]
        )
        .await
        .status,
        403
    );
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/backoffice/pratiche/{pratica}/azioni"),
            &operatore,
            Some(json!({"azione": "non_esiste", "stato_atteso": "presentata"})),
            &[],
        )
        .await,
        422,
        "pratica_azione_sconosciuta",
    );
    let take = json!({"azione": "presa_in_carico", "stato_atteso": "presentata"});
    let r = call(
        &mut b,
        "POST",
        &format!("/backoffice/pratiche/{pratica}/azioni"),
        &operatore,
        Some(take.clone()),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["stato"], "in_istruttoria");
    // The same click again: the state moved, nothing applies twice.
    refused(
        &call(
            &mut b,
            "POST",
            &format!("/backoffice/pratiche/{pratica}/azioni"),
            &operatore,
            Some(take),
            &[],
        )
        .await,
        409,
        "pratica_stato_cambiato",
    );
    // An operatore does not decide: the procedure refuses it.
    let r = call(
        &mut b,
        "POST",
        &format!("/backoffice/pratiche/{pratica}/azioni"),
        &operatore,
        Some(
            json!({"azione": "accoglimento", "stato_atteso": "in_istruttoria", "nota": "Accolta."}),
        ),
        &[],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        json_of(&r)["error"]
            .as_str()
            .unwrap()
            .starts_with("procedura_"),
        "{}",
        r.body
    );

    // The applicant withdraws it.
    let r = call(
        &mut b,
        "POST",
        &format!("/pratiche/{pratica}/azioni"),
        &me,
        Some(json!({"azione": "ritiro", "stato_atteso": "in_istruttoria"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = json_of(&r);
    assert_eq!(p["stato"], "ritirata");
    assert_eq!(p["conclusa"], true);
    assert_eq!(p["storia"].as_array().unwrap().len(), 3, "{p}");

    // Admin: a new version; silenzio-assenso on a landscape matter refused.
    refused(
        &call(
            &mut b,
            "POST",
            "/servizi-online/istanza-generica/definizione",
            &me,
            Some(def.clone()),
            &[],
        )
        .await,
        403,
        "forbidden",
    );
    let mut changed = def.clone();
    changed["oggetto"] = json!("Istanza online – {richiedente}");
    refused(
        &call(
            &mut b,
            "POST",
            "/servizi-online/dichiarazione-tari/definizione",
            &admin,
            Some(changed.clone()),
            &[],
        )
        .await,
        422,
        "servizio_non_corrispondente",
    );
    let r = call(
        &mut b,
        "POST",
        "/servizi-online/istanza-generica/definizione",
        &admin,
        Some(changed),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(json_of(&r)["versione"], version + 1);
    let now = json_of(
        &b.api(
            "GET",
            "/servizi-online/istanza-generica/definizione",
            "",
            None,
        )
        .await,
    );
    assert_eq!(now["oggetto"], "Istanza online – {richiedente}");
    assert_eq!(now["modulo"]["versione"], version + 1);
    let landscape = json_of(
        &b.api(
            "GET",
            "/servizi-online/autorizzazione-paesaggistica-semplificata/definizione",
            "",
            None,
        )
        .await,
    );
    let mut tacit = landscape.clone();
    tacit["procedimento"]["silenzio_assenso"] = json!(true);
    let r = call(
        &mut b,
        "POST",
        "/servizi-online/autorizzazione-paesaggistica-semplificata/definizione",
        &admin,
        Some(tacit),
        &[],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        json_of(&r)["message"]
            .as_str()
            .unwrap()
            .contains("art. 20, c. 4"),
        "{}",
        r.body
    );
    let r = call(
        &mut b,
        "POST",
        "/servizi-online/istanza-generica/definizione",
        &admin,
        Some(json!({"servizio": "istanza-generica"})),
        &[],
    )
    .await;
    refused(&r, 422, "servizio_definizione_non_valida");
    app.stop().await;
}

mod sqlite {
    use super::*;
    #[tokio::test]
    async fn istanze_through_the_api() {
        run(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;
    #[tokio::test]
    async fn istanze_through_the_api() {
        run(Backend::Postgres).await
    }
}
