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
//! the art. 20 c.4 message. The office's work takes files through the API
//! (issue 6, parts 4 and 8): messages both ways and an opinion's answer
//! as multipart, each file checked by content (a refused one writes no
//! step), the office's file downloaded by the applicant, the opinion's PDF
//! by the two offices only. Bad input is 4xx with a code, never 5xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::Role;
use palazzo_store::conformance::service_fixture;
use palazzo_testkit::browser::Part;
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
            Part::Text("allegato", "allegati"),
            Part::File("file", name, bytes),
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

    // Issue 6, part 4: files with messages and opinions through the API.
    let third = snap
        .offices
        .iter()
        .find(|o| o.id != office.id && o.id != elsewhere.id)
        .expect("a third office")
        .clone();
    let outsider = app
        .staff_key(CASAMASSIMA, "terzo-ufficio", Role::Operatore, third.id)
        .await;
    let keys = Keys {
        me: &me,
        me_cf: &me_cf,
        other: &other,
        operatore: &operatore,
        asked: &stranger,
        asked_slug: elsewhere.data.slug.as_str(),
        outsider: &outsider,
    };
    office_workflow_files(&app, &mut b, &keys, pratica).await;
    let office_steps = steps(&office_view(&mut b, &operatore, pratica).await);

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
    // The applicant sees every step but the three internal ones (the
    // opinion asked and given, the internal note).
    let storia = p["storia"].as_array().unwrap();
    assert_eq!(storia.len(), office_steps + 1 - 3, "{p}");
    assert_eq!(storia.last().unwrap()["azione"], "ritiro", "{p}");

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

/// The callers of [`office_workflow_files`].
struct Keys<'a> {
    /// The applicant.
    me: &'a str,
    /// The applicant's codice fiscale (for the personal area's pages).
    me_cf: &'a str,
    /// Another resident.
    other: &'a str,
    /// Staff of the pratica's office.
    operatore: &'a str,
    /// Staff of the office an opinion is asked of.
    asked: &'a str,
    /// That office's slug.
    asked_slug: &'a str,
    /// Staff of a third office.
    outsider: &'a str,
}

/// A `multipart/form-data` call of the API with a key.
async fn upload(b: &mut Browser, path: &str, token: &str, parts: &[Part<'_>]) -> Page {
    let auth = format!("Bearer {token}");
    b.post_multipart(
        &format!("/api/v1{path}"),
        parts,
        &[("authorization", &auth)],
    )
    .await
}

/// The pratica as its office sees it.
async fn office_view(b: &mut Browser, operatore: &str, pratica: i64) -> Value {
    let r = call(
        b,
        "GET",
        &format!("/backoffice/pratiche/{pratica}"),
        operatore,
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    json_of(&r)
}

fn steps(p: &Value) -> usize {
    p["storia"].as_array().unwrap().len()
}

fn file_named<'v>(p: &'v Value, name: &str) -> Option<(usize, &'v Value)> {
    p["documenti"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find(|(_, d)| d["nome"] == name)
}

/// Issue 6, parts 4 and 8: the messages and the answer to an internal
/// opinion take a file through the API (multipart, checked as on the web
/// pages); a refused file writes no step; the applicant downloads the
/// office's file as on the web; the opinion's document is the offices'
/// only.
async fn office_workflow_files(app: &TestApp, b: &mut Browser, k: &Keys<'_>, pratica: i64) {
    let mine = format!("/pratiche/{pratica}/messaggi");
    let before = steps(&office_view(b, k.operatore, pratica).await);
    // Refused, each with its code, nothing written: a file that is not of
    // an allowed type by its content (whatever its name), two files, a
    // file over 10 MB, a body that is not multipart, an unknown field.
    let big = {
        let mut v = PDF.to_vec();
        v.resize(10 * 1024 * 1024 + 1, b' ');
        v
    };
    for (parts, code) in [
        (
            vec![
                Part::Text("testo", "Allego una foto."),
                Part::File("file", "foto.pdf", b"GIF89a not a pdf".as_slice()),
            ],
            "allegato_tipo_non_ammesso",
        ),
        (
            vec![
                Part::Text("testo", "Due file."),
                Part::File("file", "uno.pdf", PDF),
                Part::File("file", "due.pdf", PDF),
            ],
            "allegato_uno_solo",
        ),
        (
            vec![
                Part::Text("testo", "Un file grande."),
                Part::File("file", "grande.pdf", big.as_slice()),
            ],
            "allegato_troppo_grande",
        ),
        (
            vec![Part::Text("testo", "Ciao."), Part::Text("colore", "blu")],
            "invalid_fields",
        ),
    ] {
        refused(&upload(b, &mine, k.me, &parts).await, 422, code);
    }
    let auth = format!("Bearer {}", k.me);
    let r = b
        .request(
            reqwest::Method::POST,
            &format!("/api/v1{mine}"),
            &[
                ("authorization", auth.as_str()),
                ("content-type", "multipart/form-data; boundary=xyz"),
            ],
            b"questo non e' un corpo multipart".to_vec(),
        )
        .await;
    refused(&r, 422, "upload_invalid");
    // JSON stays held to the body limit of every JSON call (1 MiB).
    let long = "x".repeat(2 * 1024 * 1024);
    refused(
        &call(b, "POST", &mine, k.me, Some(json!({ "testo": long })), &[]).await,
        413,
        "payload_too_large",
    );
    // Another resident: not theirs, whatever the body.
    let parts = [
        Part::Text("testo", "Ecco la delega."),
        Part::File("file", "delega.pdf", PDF),
    ];
    refused(&upload(b, &mine, k.other, &parts).await, 404, "not_found");
    assert_eq!(
        steps(&office_view(b, k.operatore, pratica).await),
        before,
        "no step written"
    );

    // The applicant's message with a PDF: stored, listed for the office.
    let r = upload(b, &mine, k.me, &parts).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sent = json_of(&r);
    let (_, mine_file) = file_named(&sent, "delega.pdf").expect("the applicant's file");
    assert_eq!(mine_file["allegato"], "messaggio");
    let seen = office_view(b, k.operatore, pratica).await;
    assert_eq!(steps(&seen), before + 1);
    let (_, theirs) = file_named(&seen, "delega.pdf").expect("the office sees the file");
    assert_eq!(theirs["sha256"], mine_file["sha256"]);
    assert_eq!(theirs["tipo"], "application/pdf");
    // The message's file downloads from its step: for the office from the
    // back office's path, for the applicant from theirs; not for another
    // office's staff, another resident, or the applicant on the office's.
    let link = |p: &Value| -> String {
        p["storia"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find_map(|e| e["allegato"].as_str())
            .expect("the message's file")
            .trim_start_matches("/api/v1")
            .to_owned()
    };
    let office_link = link(&seen);
    assert!(
        office_link.starts_with(&format!("/backoffice/pratiche/{pratica}/messaggi/")),
        "{office_link}"
    );
    let my_link = link(&sent);
    assert!(
        my_link.starts_with(&format!("/pratiche/{pratica}/messaggi/")),
        "{my_link}"
    );
    for (path, who, status) in [
        (&office_link, k.operatore, 200),
        (&my_link, k.me, 200),
        (&office_link, k.outsider, 404),
        (&office_link, k.me, 403),
        (&my_link, k.other, 404),
    ] {
        let r = call(b, "GET", path, who, None, &[]).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        if status == 200 {
            assert_eq!(r.body.as_bytes(), PDF, "{path}");
        }
    }

    // The office's message with a PDF, and an internal note with one.
    let theirs = format!("/backoffice/pratiche/{pratica}/messaggi");
    let r = upload(
        b,
        &theirs,
        k.operatore,
        &[
            Part::Text("testo", "Ecco il modulo da firmare."),
            Part::File("file", "modulo.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = upload(
        b,
        &theirs,
        k.operatore,
        &[
            Part::Text("testo", "Appunto interno."),
            Part::Text("pubblico", "false"),
            Part::File("file", "appunto.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    refused(
        &upload(
            b,
            &theirs,
            k.operatore,
            &[Part::Text("testo", "?"), Part::Text("pubblico", "forse")],
        )
        .await,
        422,
        "invalid_fields",
    );
    refused(
        &upload(
            b,
            &theirs,
            k.outsider,
            &[
                Part::Text("testo", "Non è mia."),
                Part::File("file", "x.pdf", PDF),
            ],
        )
        .await,
        404,
        "not_found",
    );
    // Staff of another office: the pratica does not exist for them, on
    // every call of the office's work (the services answer 404 themselves).
    for (path, body) in [
        ("messaggi", json!({"testo": "Non è mia."})),
        ("pareri", json!({"ufficio": k.asked_slug, "testo": "?"})),
        (
            "assegnazione",
            json!({"responsabile": 1, "stato_atteso": "in_istruttoria"}),
        ),
        (
            "trasferimento",
            json!({"ufficio": k.asked_slug, "motivo": "No", "stato_atteso": "in_istruttoria"}),
        ),
    ] {
        let r = call(
            b,
            "POST",
            &format!("/backoffice/pratiche/{pratica}/{path}"),
            k.outsider,
            Some(body),
            &[],
        )
        .await;
        refused(&r, 404, "not_found");
    }
    // The applicant downloads the office's file from the personal area, as
    // any file of their pratica; the internal note's stays with the office.
    let view = json_of(&call(b, "GET", &format!("/pratiche/{pratica}"), k.me, None, &[]).await);
    let (at, _) = file_named(&view, "modulo.pdf").expect("the office's file, for the applicant");
    assert!(file_named(&view, "appunto.pdf").is_none(), "{view}");
    let mut web = Browser::new(app, CASAMASSIMA);
    web.demo_sign_in(&format!("cf:{}", k.me_cf)).await;
    let (status, headers, bytes) = web
        .get_bytes(&format!(
            "/area-personale/pratiche/{pratica}/documenti/{}",
            at + 1
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(bytes, PDF);

    // An internal opinion answered with its signed PDF, through the API.
    let r = call(
        b,
        "POST",
        &format!("/backoffice/pratiche/{pratica}/pareri"),
        k.operatore,
        Some(json!({"ufficio": k.asked_slug, "testo": "Ci sono vincoli?"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let seq = json_of(&r)["pareri"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["testo"] == "Ci sono vincoli?")
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    let risposta = format!("/backoffice/pratiche/{pratica}/pareri/{seq}/risposta");
    let answer = |file: Part<'static>| {
        vec![
            Part::Text("esito", "favorevole_con_prescrizioni"),
            Part::Text("testo", "Rispettare le distanze."),
            file,
        ]
    };
    let before = steps(&office_view(b, k.operatore, pratica).await);
    refused(
        &upload(
            b,
            &risposta,
            k.asked,
            &answer(Part::File("file", "parere.pdf", b"GIF89a not a pdf")),
        )
        .await,
        422,
        "allegato_tipo_non_ammesso",
    );
    refused(
        &upload(
            b,
            &risposta,
            k.outsider,
            &answer(Part::File("file", "parere.pdf", PDF)),
        )
        .await,
        404,
        "not_found",
    );
    assert_eq!(steps(&office_view(b, k.operatore, pratica).await), before);
    let r = upload(
        b,
        &risposta,
        k.asked,
        &answer(Part::File("file", "parere.pdf", PDF)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reso = json_of(&r);
    assert_eq!(reso["esito"], "favorevole_con_prescrizioni");
    let link = format!("/api/v1/backoffice/pratiche/{pratica}/pareri/{seq}/documento");
    assert_eq!(reso["documento"], link.as_str());
    let seen = office_view(b, k.operatore, pratica).await;
    assert_eq!(steps(&seen), before + 1);
    assert!(
        seen["pareri"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["seq"] == seq && p["documento"] == link.as_str()),
        "{seen}"
    );
    // The opinion's PDF: for the office of the pratica and the office that
    // gave it; the applicant and a third office do not get it.
    let path = link.trim_start_matches("/api/v1");
    for key in [k.operatore, k.asked] {
        let r = call(b, "GET", path, key, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.headers["content-type"], "application/pdf");
        assert_eq!(r.headers["cache-control"], "private, no-store");
        assert_eq!(r.body.as_bytes(), PDF);
    }
    refused(
        &call(b, "GET", path, k.me, None, &[]).await,
        403,
        "forbidden",
    );
    refused(
        &call(b, "GET", path, k.outsider, None, &[]).await,
        404,
        "not_found",
    );
    let view = json_of(&call(b, "GET", &format!("/pratiche/{pratica}"), k.me, None, &[]).await);
    assert!(file_named(&view, "parere.pdf").is_none(), "{view}");
    assert!(view["pareri"].as_array().unwrap().is_empty(), "{view}");
    let (status, _, _) = web.get_bytes(path).await;
    assert_eq!(status, 403, "the applicant on the back office's link");
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
