//! Editing the titolario through the JSON API, on both backends (issue 4
//! part 3: "the 2005 titolario for comuni seeded for every tenant (editable
//! by the admin, versioned)"): the three edits of the titolario page — add
//! a class to a titolo, rename a voice, close a voice — as
//! `POST /api/v1/titolario/classi`, `…/voci/{voce}/nome` and
//! `…/voci/{voce}/chiusura`, by the comune's administrator with an API key;
//! each makes the next version, counted together with the page's edits and
//! listed by `GET /api/v1/titolario/versioni`, ledgered as
//! `titolario.version` like the page's (verify passes); operators get 403
//! and change nothing; bad codes and names are 422 with stable codes;
//! closing a class reclassifies nothing (TI-3): the registration and the
//! fascicolo keep it, new ones are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_store::Store;
use palazzo_testkit::browser::Part;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

fn voice<'a>(t: &'a Value, code: &str) -> &'a Value {
    t["voices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == code)
        .unwrap_or_else(|| panic!("no voice {code} in {t}"))
}

async fn titolario_events(app: &TestApp) -> usize {
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let size = app.app.db().ledger_size(t.id).await.unwrap();
    app.app
        .db()
        .ledger_events(t.id, 0, size)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "titolario.version")
        .count()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let snap = {
        let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
        app.app.portal(t.id).await.unwrap()
    };
    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let ak = admin.api_key("titolario").await;
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let ok = op.api_key("gestionale").await;
    let mut prog = Browser::new(&app, CASAMASSIMA);

    let r = prog.api("GET", "/titolario", &ak, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1 = json_of(&r);
    assert_eq!(v1["version"], 1);
    assert_eq!(voice(&v1, "VI.3")["closed"], false);
    let vi3_name = voice(&v1, "VI.3")["name"].as_str().unwrap().to_owned();
    let events = titolario_events(&app).await;

    // A registration and a fascicolo classified VI.3, before any edit.
    let dati = json!({
        "flow": "E",
        "subject": "Permesso di costruire",
        "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W"}],
        "classification": "VI.3",
    })
    .to_string();
    let register = |dati: String| {
        let ok = ok.clone();
        let app = &app;
        async move {
            let mut b = Browser::new(app, CASAMASSIMA);
            b.post_multipart(
                "/api/v1/protocollo",
                &[
                    Part::Text("dati", &dati),
                    Part::File("documento", "istanza.pdf", PDF),
                ],
                &[("authorization", &format!("Bearer {ok}"))],
            )
            .await
        }
    };
    let r = register(dati.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = json_of(&r)["id"].as_i64().unwrap();
    let r = prog.api("POST", "/fascicoli", &ok, Some(json!({
            "classification": "VI.3", "kind": "procedimento", "subject": "Permesso di costruire via Roma 1",
            "office": snap.offices[0].id.0, "responsible": "Ing. Verdi"
        })))
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fid = json_of(&r)["id"].as_i64().unwrap();

    // Operators read the titolario but do not edit it: 403, nothing changes.
    for (path, body) in [
        (
            "/titolario/classi",
            Some(json!({ "titolo": "VI", "name": "Energia" })),
        ),
        (
            "/titolario/voci/VI.3/nome",
            Some(json!({ "name": "Altro nome" })),
        ),
        ("/titolario/voci/VI.3/chiusura", None),
    ] {
        let r = prog.api("POST", path, &ok, body).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    let r = prog.api("GET", "/titolario", &ok, None).await;
    assert_eq!(json_of(&r)["version"], 1, "unchanged");
    // No key: 401; another comune's host does not know this key.
    let r = prog
        .request(
            reqwest::Method::POST,
            "/api/v1/titolario/voci/VI.3/chiusura",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, 401);
    let mut there = Browser::new(&app, ACQUAVIVA);
    let r = there
        .api("POST", "/titolario/voci/VI.3/chiusura", &ak, None)
        .await;
    assert_eq!(r.status, 401);

    // The admin adds a class: 201, version 2, numbered after VI's last.
    let r = prog
        .api(
            "POST",
            "/titolario/classi",
            &ak,
            Some(json!({ "titolo": "VI", "name": "Energia" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v2 = json_of(&r);
    assert_eq!(v2["version"], 2);
    assert_eq!(voice(&v2, "VI.11")["name"], "Energia");
    assert!(v2["change"].as_str().unwrap().contains("VI.11"), "{v2}");
    assert!(v2["created_by"].as_str().unwrap().len() > 1);
    // Renames a voice: version 3.
    let r = prog
        .api(
            "POST",
            "/titolario/voci/vi.3/nome",
            &ak,
            Some(json!({ "name": "Edilizia privata e attività produttive" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v3 = json_of(&r);
    assert_eq!(v3["version"], 3);
    assert_eq!(
        voice(&v3, "VI.3")["name"],
        "Edilizia privata e attività produttive"
    );
    // The titolario page's form makes the next version (4), and the API
    // counts on from there: one sequence of versions.
    let csrf = admin.csrf_of("/backoffice/titolario").await;
    let r = admin
        .post(
            "/backoffice/titolario",
            &[
                ("csrf", &csrf),
                ("azione", "rinomina"),
                ("voce", "VI.11"),
                ("nome", "Energia e clima"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Closes VI.3: version 5.
    let r = prog
        .api("POST", "/titolario/voci/VI.3/chiusura", &ak, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v5 = json_of(&r);
    assert_eq!(v5["version"], 5);
    assert_eq!(voice(&v5, "VI.3")["closed"], true);
    assert_eq!(voice(&v5, "VI.11")["name"], "Energia e clima");
    assert_eq!(voice(&v5, "VI.4")["closed"], false, "only the class");

    // The list of versions, and the page shows the API's edits.
    let r = op.api("GET", "/titolario/versioni", &ok, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let versions = json_of(&r);
    let versions = versions.as_array().unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(
        versions[4]["change"]
            .as_str()
            .unwrap()
            .contains("Chiusa la voce VI.3")
    );
    let page = admin.get("/backoffice/titolario").await;
    assert!(page.body.contains("versione 5"), "{}", page.body);
    assert!(page.body.contains("Chiusa la voce VI.3"));
    // Earlier versions stay readable as they were.
    let r = prog.api("GET", "/titolario?versione=1", &ak, None).await;
    assert_eq!(voice(&json_of(&r), "VI.3")["name"], vi3_name.as_str());
    // Ledgered like the page's edits: one event each, and verify passes.
    assert_eq!(titolario_events(&app).await, events + 4);

    // Bad codes and names: 422 with stable codes; nothing is written.
    for (path, body, code) in [
        ("/titolario/voci/XYZ/chiusura", None, "classifica_format"),
        (
            "/titolario/voci/VI.99/chiusura",
            None,
            "titolario_voce_inesistente",
        ),
        (
            "/titolario/voci/VI.3/chiusura",
            None,
            "titolario_voce_chiusa",
        ),
        (
            "/titolario/voci/VI.3/nome",
            Some(json!({ "name": "Ancora" })),
            "titolario_voce_chiusa",
        ),
        (
            "/titolario/voci/VI.4/nome",
            Some(json!({ "name": "  " })),
            "titolario_nome",
        ),
        (
            "/titolario/voci/VI.11/nome",
            Some(json!({ "name": "Energia e clima" })),
            "titolario_nessuna_modifica",
        ),
        (
            "/titolario/classi",
            Some(json!({ "titolo": "VI.4", "name": "Sotto una classe" })),
            "titolario_non_titolo",
        ),
        (
            "/titolario/classi",
            Some(json!({ "titolo": "LX", "name": "Nuovo" })),
            "titolario_voce_inesistente",
        ),
        (
            "/titolario/classi",
            Some(json!({ "titolo": "VI", "name": "Energia", "extra": 1 })),
            "invalid_fields",
        ),
        (
            "/titolario/classi",
            Some(json!({ "titolo": "VI" })),
            "invalid_fields",
        ),
    ] {
        let r = prog.api("POST", path, &ak, body).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
        assert_eq!(json_of(&r)["error"], code, "{path}: {}", r.body);
        assert!(!json_of(&r)["message"].as_str().unwrap().is_empty());
    }
    let r = prog
        .request(
            reqwest::Method::POST,
            "/api/v1/titolario/classi",
            &[
                ("authorization", &format!("Bearer {ak}")),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            b"titolo=VI&name=Energia".to_vec(),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.body);
    let r = prog.api("GET", "/titolario", &ak, None).await;
    assert_eq!(json_of(&r)["version"], 5, "refusals make no version");
    assert_eq!(titolario_events(&app).await, events + 4);

    // TI-3: closing VI.3 reclassified nothing: the registration and the
    // fascicolo keep it; nothing new is classified under it.
    let r = prog
        .api("GET", &format!("/protocollo/voci/{reg}"), &ok, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        json_of(&r)["registration"]["classification"],
        "VI.3",
        "{}",
        r.body
    );
    let r = prog
        .api("GET", &format!("/fascicoli/{fid}"), &ok, None)
        .await;
    assert_eq!(json_of(&r)["classification"], "VI.3");
    assert_eq!(json_of(&r)["closed_on"], Value::Null, "still open");
    let r = register(dati).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "classifica_chiusa");
    // A change of the office alone keeps the closed class without checking
    // it again; naming the closed class is a new classification, refused.
    let classify = format!("/protocollo/voci/{reg}/classificazione");
    let r = prog
        .api("POST", &classify, &ok, Some(json!({"office": null})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["classification"], "VI.3", "{}", r.body);
    let r = prog
        .api(
            "POST",
            &classify,
            &ok,
            Some(json!({"classification": "VI.3"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "classifica_chiusa");
    // The new class classifies.
    let r = register(
        json!({
            "flow": "E",
            "subject": "Impianto fotovoltaico",
            "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W"}],
            "classification": "VI.11",
        })
        .to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.stop().await;
}

#[tokio::test]
async fn titolario_api_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn titolario_api_postgres() {
    run(Backend::Postgres).await
}
