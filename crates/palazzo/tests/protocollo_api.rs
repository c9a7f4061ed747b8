//! The protocollo through the JSON API and the desk's upload form, on both
//! backends (issue 4, part 8): API keys (created in the back office, shown
//! once, acting with the owner's current roles, refused when revoked,
//! expired, malformed or presented to another comune); registration by
//! multipart upload with content sniffing (a refused file consumes no
//! number); downloads; fixed fields refused (PR-3); classification,
//! hand-offs, annulment and search over the API; the desk form with its
//! CSRF token in the action URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::protocollo::Impronta;
use palazzo_store::{NewApiToken, Store, StoreTx, UserId};
use palazzo_testkit::browser::Part;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const XML: &[u8] = b"<?xml version=\"1.0\"?><allegato>dati</allegato>";
/// An ELF executable header: never an allowed type.
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

async fn register(b: &mut Browser, token: &str, dati: &Value, files: &[Part<'_>]) -> Page {
    let dati = dati.to_string();
    let mut parts = vec![Part::Text("dati", &dati)];
    parts.extend_from_slice(files);
    let auth = format!("Bearer {token}");
    b.post_multipart("/api/v1/protocollo", &parts, &[("authorization", &auth)])
        .await
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let first = &snap.offices[0];
    let second = &snap.offices[1];

    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let token = op.api_key("gestionale sportello").await;
    // A fresh client with only the key: no cookie.
    let mut prog = Browser::new(&app, CASAMASSIMA);

    // Without a key: 401; with a malformed or unknown one: 401 + WWW-Authenticate.
    let r = prog.get("/api/v1/protocollo").await;
    assert_eq!(r.status, 401, "{}", r.body);
    for bad in [
        "pzk_nonsense",
        &format!("pzk_{}", "A".repeat(43)),
        "Basic abc",
    ] {
        let r = prog.api("GET", "/protocollo", bad, None).await;
        assert_eq!(r.status, 401, "{bad}: {}", r.body);
        assert!(r.headers.get("www-authenticate").is_some());
        assert_eq!(json_of(&r)["error"], "unauthenticated");
    }
    // The key of one comune means nothing at another.
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    let r = elsewhere.api("GET", "/protocollo", &token, None).await;
    assert_eq!(r.status, 401);

    // Register over the API: multipart with the fields and the files.
    let dati = json!({
        "flow": "E",
        "subject": "Istanza di contributo per libri di testo",
        "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W",
                            "email": "maria@example.org"}],
        "received_number": "12/A",
        "received_date": "2026-11-20",
        "classification": "VII.1",
    });
    let r = register(
        &mut prog,
        &token,
        &dati,
        &[
            Part::File("documento", "istanza.pdf", PDF),
            Part::File("allegati", "dati.xml", XML),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = json_of(&r);
    assert_eq!(reg["number"], "0000001");
    assert_eq!(reg["flow"], "E");
    assert_eq!(reg["primary"]["sha256"], Impronta::of(PDF).hex());
    assert_eq!(reg["primary"]["media_type"], "application/pdf");
    assert_eq!(reg["attachments"][0]["sha256"], Impronta::of(XML).hex());
    assert!(
        reg["registered_by"]
            .as_str()
            .unwrap()
            .contains("API: gestionale sportello")
    );
    let id = reg["id"].as_i64().unwrap();

    // A file of a type that is not allowed is refused; no number is consumed.
    let r = register(
        &mut prog,
        &token,
        &dati,
        &[Part::File("documento", "programma.pdf", ELF)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "document_type_not_allowed");
    // No primary document; bad fields; unknown field.
    let r = register(&mut prog, &token, &dati, &[]).await;
    assert_eq!(json_of(&r)["error"], "primary_document");
    let r = register(
        &mut prog,
        &token,
        &json!({"flow": "E", "subject": ""}),
        &[Part::File("documento", "a.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = register(
        &mut prog,
        &token,
        &json!({"flow": "E", "subject": "x", "number": "0000009"}),
        &[Part::File("documento", "a.pdf", PDF)],
    )
    .await;
    assert_eq!(json_of(&r)["error"], "invalid_fields", "{}", r.body);
    // A JSON body where an upload is expected.
    let r = prog
        .api("POST", "/protocollo", &token, Some(json!({})))
        .await;
    assert_eq!(r.status, 415, "{}", r.body);
    let r = register(
        &mut prog,
        &token,
        &json!({"flow": "I", "subject": "Nota interna sull'istanza di Maria Bianchi",
                "correspondents": [{"name": "Ufficio scuola"}]}),
        &[Part::File("documento", "risposta.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        json_of(&r)["number"],
        "0000002",
        "no gap after the refusals"
    );

    // An outgoing entry is sealed: its segnatura (Allegato 6) is served.
    let r = register(
        &mut prog,
        &token,
        &json!({"flow": "U", "subject": "Risposta all'istanza", "classification": "VII.1",
                "correspondents": [{"name": "Maria Bianchi", "email": "maria@example.org"}]}),
        &[Part::File("documento", "risposta.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let out = json_of(&r);
    assert_eq!(out["number"], "0000003");
    let seg = format!("/protocollo/voci/{}/segnatura", out["id"]);
    let r = prog.api("GET", &seg, &token, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    assert!(
        r.body.contains("0000003") && r.body.contains("ds:Signature"),
        "{}",
        r.body
    );
    let r = prog
        .api(
            "GET",
            &format!("/protocollo/voci/{id}/segnatura"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        r.status, 404,
        "an incoming entry typed at the desk has none"
    );

    // Read it back by number and by id; download its documents.
    let r = prog
        .api(
            "GET",
            &format!("/protocollo/{}/1", reg["year"]),
            &token,
            None,
        )
        .await;
    assert_eq!(json_of(&r)["id"], id);
    let r = prog.api("GET", "/protocollo/2026/99", &token, None).await;
    assert_eq!(r.status, 404);
    let r = prog
        .api(
            "GET",
            &format!("/protocollo/voci/{id}/documenti/0"),
            &token,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_bytes(), PDF);
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("istanza.pdf")
    );
    let r = prog
        .api(
            "GET",
            &format!("/protocollo/voci/{id}/documenti/1"),
            &token,
            None,
        )
        .await;
    assert_eq!(r.body.as_bytes(), XML);
    let r = prog
        .api(
            "GET",
            &format!("/protocollo/voci/{id}/documenti/2"),
            &token,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    // The same download from the document page.
    let r = op
        .get(&format!("/backoffice/protocollo/{id}/documenti/0"))
        .await;
    assert_eq!(r.body.as_bytes(), PDF);

    // PR-3: fixed fields cannot change; classification and office can.
    let path = format!("/protocollo/voci/{id}/classificazione");
    let r = prog
        .api("POST", &path, &token, Some(json!({"subject": "altro"})))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "fixed_field");
    let r = prog
        .api(
            "POST",
            &path,
            &token,
            Some(json!({"classification": "VII.12", "office": first.id.0})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["classification"], "VII.12");
    assert_eq!(
        json_of(&r)["subject"],
        "Istanza di contributo per libri di testo"
    );
    // A field left out keeps its value; `null` clears it.
    let r = prog
        .api(
            "POST",
            &path,
            &token,
            Some(json!({"classification": "VII.3"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["classification"], "VII.3");
    assert_eq!(json_of(&r)["office"], first.id.0, "office kept");
    let r = prog
        .api("POST", &path, &token, Some(json!({"office": null})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        json_of(&r)["classification"],
        "VII.3",
        "classification kept"
    );
    assert!(json_of(&r)["office"].is_null(), "{}", r.body);
    let r = prog
        .api("POST", &path, &token, Some(json!({"office": first.id.0})))
        .await;
    assert_eq!(
        json_of(&r)["classification"],
        "VII.3",
        "classification kept"
    );
    assert_eq!(json_of(&r)["office"], first.id.0);
    let r = prog
        .api(
            "POST",
            &path,
            &token,
            Some(json!({"classification": "VII.12"})),
        )
        .await;
    assert_eq!(json_of(&r)["classification"], "VII.12");
    // Each change is in the entry's history with its author and the values
    // before, and on the entry's page.
    let r = prog
        .api("GET", &format!("/protocollo/voci/{id}"), &token, None)
        .await;
    let changes = json_of(&r)["changes"].as_array().unwrap().clone();
    assert_eq!(changes.len(), 5, "{}", r.body);
    assert_eq!(changes[0]["old_classification"], "VII.1");
    assert_eq!(changes[0]["new_classification"], "VII.12");
    assert_eq!(changes[1]["new_classification"], "VII.3");
    assert_eq!(changes[2]["old_office"], first.id.0);
    assert!(changes[2]["new_office"].is_null());
    assert_eq!(changes[4]["old_classification"], "VII.3");
    assert!(
        changes.iter().all(|c| c["by"]
            .as_str()
            .unwrap()
            .contains("API: gestionale sportello")),
        "{changes:?}"
    );
    let page = op.get(&format!("/backoffice/protocollo/{id}")).await;
    assert!(page.body.contains("Modifiche di classificazione e ufficio"));
    assert!(
        page.body.contains("classificazione VII.12 → VII.3"),
        "{}",
        page.body
    );

    // Hand it to the first office, accept it from the inbox, forward it.
    let r = prog
        .api(
            "POST",
            &format!("/protocollo/voci/{id}/assegnazioni"),
            &token,
            Some(json!({"office": first.id.0, "kind": "competenza", "note": "urgente"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let handoff = json_of(&r)["id"].as_i64().unwrap();
    let r = prog
        .api(
            "GET",
            &format!("/uffici/{}/assegnazioni", first.data.slug),
            &token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)[0]["id"], handoff);
    let act = format!("/assegnazioni/{handoff}");
    let r = prog
        .api("POST", &act, &token, Some(json!({"action": "vola"})))
        .await;
    assert_eq!(json_of(&r)["error"], "handoff_action");
    let r = prog
        .api("POST", &act, &token, Some(json!({"action": "accetta"})))
        .await;
    assert_eq!(json_of(&r)["state"], "accettato", "{}", r.body);
    let r = prog
        .api(
            "POST",
            &act,
            &token,
            Some(json!({"action": "inoltra", "office": second.id.0, "note": "di competenza"})),
        )
        .await;
    // The answer is the new hand-off, waiting in the second office.
    assert_eq!(json_of(&r)["office"], second.id.0, "{}", r.body);
    assert_eq!(json_of(&r)["state"], "assegnato");
    let r = prog
        .api("GET", &format!("/protocollo/voci/{id}"), &token, None)
        .await;
    assert_eq!(json_of(&r)["handoffs"][0]["state"], "inoltrato");
    let r = prog
        .api("GET", &format!("/protocollo/voci/{id}"), &token, None)
        .await;
    let entry = json_of(&r);
    // The validation report: an entry registered at the desk has no
    // received segnatura; its documents are not signed envelopes.
    assert!(entry["signatures"]["segnatura"].is_null(), "{}", r.body);
    assert_eq!(entry["signatures"]["documents"], serde_json::json!([]));
    assert!(entry["signatures"]["verified_at"].is_string());
    let actions: Vec<&str> = entry["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["assegnato", "accettato", "inoltrato", "assegnato"]
    );

    // Search: words, correspondent, class (with subdivisions), flow, dates.
    let search = |q: &str| format!("/protocollo?{q}");
    let numbers = |p: &Page| -> Vec<String> {
        json_of(p)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["number"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = prog
        .api("GET", &search("oggetto=LIBRI+istanza"), &token, None)
        .await;
    assert_eq!(numbers(&r), ["0000001"], "{}", r.body);
    let r = prog
        .api("GET", &search("corrispondente=bianchi"), &token, None)
        .await;
    assert_eq!(numbers(&r), ["0000003", "0000001"]);
    let r = prog
        .api("GET", &search("oggetto=bianchi"), &token, None)
        .await;
    assert_eq!(numbers(&r), ["0000002"]);
    let r = prog
        .api("GET", &search("classifica=VII"), &token, None)
        .await;
    assert_eq!(numbers(&r), ["0000003", "0000001"]);
    let r = prog
        .api("GET", &search("classifica=VII.1"), &token, None)
        .await;
    assert_eq!(numbers(&r), ["0000003"], "VII.1 is not VII.12: {}", r.body);
    let r = prog.api("GET", &search("flusso=I"), &token, None).await;
    assert_eq!(numbers(&r), ["0000002"]);
    let r = prog
        .api("GET", &search("oggetto=100%25"), &token, None)
        .await;
    assert!(numbers(&r).is_empty(), "LIKE wildcards are literal");
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let r = prog
        .api(
            "GET",
            &search(&format!("dal={today}&al={today}")),
            &token,
            None,
        )
        .await;
    assert_eq!(numbers(&r).len(), 3);
    let r = prog
        .api(
            "GET",
            &search(&format!("al={}", today.yesterday().unwrap())),
            &token,
            None,
        )
        .await;
    assert!(numbers(&r).is_empty());
    let r = prog.api("GET", &search("limite=1"), &token, None).await;
    let page = json_of(&r);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let next = page["next"].as_i64().unwrap();
    let r = prog
        .api(
            "GET",
            &search(&format!("limite=1&prima={next}")),
            &token,
            None,
        )
        .await;
    assert_eq!(numbers(&r), ["0000002"]);
    let r = prog.api("GET", &search("dal=ieri"), &token, None).await;
    assert_eq!(r.status, 400);
    let r = prog.api("GET", &search("flusso=X"), &token, None).await;
    assert_eq!(json_of(&r)["error"], "invalid_flow");

    // An upload far above `max_body_bytes` (64 KiB here, 1 MiB by default)
    // is accepted: upload routes have their own limit (200 MiB per request,
    // 50 MiB per file), so only the route's limit applies.
    let mut big = PDF.to_vec();
    big.extend_from_slice(b"\n%");
    big.resize(big.len() + 1536 * 1024, b'x');
    let r = register(
        &mut prog,
        &token,
        &json!({"flow": "E", "subject": "Planimetria allegata all'istanza",
                "correspondents": [{"name": "Studio tecnico Rossi"}]}),
        &[Part::File("documento", "planimetria.pdf", &big)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(json_of(&r)["primary"]["sha256"], Impronta::of(&big).hex());
    assert_eq!(json_of(&r)["primary"]["size"], big.len());
    // Anything else still holds to `max_body_bytes`: a JSON body above it
    // is refused with 413 and changes nothing.
    let classify = format!("/protocollo/voci/{id}/classificazione");
    let huge = json!({"classification": "x".repeat(80 * 1024)});
    let r = prog.api("POST", &classify, &token, Some(huge)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    let r = prog
        .api("GET", &format!("/protocollo/voci/{id}"), &token, None)
        .await;
    assert_eq!(json_of(&r)["registration"]["classification"], "VII.12");

    // The operatore may not annul (403); the segretario's key may.
    let annul = format!("/protocollo/voci/{id}/annullamento");
    let body = json!({"reason": "Registrata due volte", "act": "Determina n. 5/2026"});
    let r = prog.api("POST", &annul, &token, Some(body.clone())).await;
    assert_eq!(r.status, 403);
    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let seg_token = seg.api_key("protocollo segreteria").await;
    let r = prog
        .api("POST", &annul, &seg_token, Some(json!({"reason": "x"})))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = prog.api("POST", &annul, &seg_token, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["annulment"]["act"], "Determina n. 5/2026");

    // Revoked: 401 at once.
    let page = op.get("/backoffice/chiavi-api").await;
    let key_id = page
        .body
        .split("action=\"/backoffice/chiavi-api/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let csrf = page.csrf().unwrap();
    let r = op
        .post(
            &format!("/backoffice/chiavi-api/{key_id}/revoca"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = prog.api("GET", "/protocollo", &token, None).await;
    assert_eq!(r.status, 401);
    assert!(
        op.get("/backoffice/chiavi-api")
            .await
            .body
            .contains("Revocata")
    );

    // An expired key is refused too.
    let user = app
        .app
        .db()
        .api_token(&palazzo_services::access::token_hash(&seg_token))
        .await
        .unwrap()
        .unwrap()
        .data
        .user;
    let expired = "pzk_".to_owned() + &"e".repeat(43);
    let past = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let mut tx = app.app.db().begin().await.unwrap();
    tx.insert_api_token(&NewApiToken {
        tenant: t.id,
        user,
        token_hash: palazzo_services::access::token_hash(&expired),
        label: "scaduta".into(),
        created_at: past - jiff::SignedDuration::from_hours(24),
        expires_at: past,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let r = prog.api("GET", "/protocollo", &expired, None).await;
    assert_eq!(r.status, 401);

    // A key acts with the owner's roles of the moment: without the role, 403.
    let seg_user = app.app.db().role_grants(t.id, Some(user)).await.unwrap();
    let g = &seg_user[0];
    let mut tx = app.app.db().begin().await.unwrap();
    assert!(
        tx.delete_role_grant(t.id, user, g.role, g.office)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let r = prog.api("GET", "/protocollo", &seg_token, None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let _ = UserId(0);

    // Key creation and revocation are in the ledger, never the token.
    let events = app.app.db().ledger_events(t.id, 0, 10_000).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "api_token.created"));
    assert!(events.iter().any(|e| e.kind == "api_token.revoked"));
    app.stop().await;
}

/// The desk form: multipart with the CSRF token in the action URL.
async fn desk(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let form = op.get("/backoffice/protocollo/nuova").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let action = form
        .body
        .split("action=\"")
        .find(|s| s.starts_with("/backoffice/protocollo/nuova?csrf="))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let fields = [
        Part::Text("verso", "E"),
        Part::Text("oggetto", "Segnalazione buca in via Roma"),
        Part::Text("c0_tipo", "persona_fisica"),
        Part::Text("c0_nome", "Luigi Verdi"),
        Part::Text("c0_cf", "VRDLGU70A01A662X"),
        Part::Text("classifica", "VI.7"),
        Part::Text("ufficio", "0"),
    ];
    // Without the token, or with another, the upload is refused.
    let mut parts = fields.to_vec();
    parts.push(Part::File("documento", "segnalazione.pdf", PDF));
    for path in [
        "/backoffice/protocollo/nuova".to_owned(),
        format!("/backoffice/protocollo/nuova?csrf={}", "x".repeat(43)),
    ] {
        let r = op.post_multipart(&path, &parts, &[]).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(r.body.contains("csrf_invalid"));
    }
    // A refused form comes back filled in, with the reason; nothing registered.
    let mut bad = fields.to_vec();
    bad.push(Part::File("documento", "x.pdf", ELF));
    let r = op.post_multipart(&action, &bad, &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Segnalazione buca in via Roma"),
        "values kept"
    );
    assert!(r.body.contains("Nessuna registrazione"));
    let mut bad = fields.to_vec();
    bad.push(Part::Text("c0_email", "non-una-mail"));
    bad.push(Part::File("documento", "segnalazione.pdf", PDF));
    let r = op.post_multipart(&action, &bad, &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("non è valido") && r.body.contains("vanno scelti di nuovo"));
    // The good form registers number 1 and shows the entry.
    let r = op.post_multipart(&action, &parts, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let entry = r.location().unwrap().to_owned();
    let page = op.get(&entry).await;
    assert!(page.body.contains("0000001"), "{}", page.body);
    assert!(page.body.contains(&Impronta::of(PDF).hex()));
    assert!(page.body.contains("Luigi Verdi"));
    // Search finds it on the search page.
    let r = op
        .get("/backoffice/protocollo/ricerca?oggetto=buca&corrispondente=verdi&classifica=VI")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Segnalazione buca in via Roma"));
    let r = op.get("/backoffice/protocollo/ricerca?oggetto=ponte").await;
    assert!(r.body.contains("Nessuna registrazione corrisponde"));
    let r = op.get("/backoffice/protocollo/ricerca?dal=31/12").await;
    assert_eq!(r.status, 422);
    // A citizen cannot reach the desk.
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let res = &app.app.demo_residents(t.id, 1).await.unwrap()[0];
    let mut cit = Browser::new(&app, CASAMASSIMA);
    cit.demo_sign_in(&format!("cf:{}", res.codice_fiscale.as_str()))
        .await;
    assert_eq!(cit.get("/backoffice/protocollo/nuova").await.status, 403);
    app.stop().await;
}

mod sqlite {
    use super::*;
    #[tokio::test]
    async fn api_keys_and_protocol_api() {
        run(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn desk_registration_form() {
        desk(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;
    #[tokio::test]
    async fn api_keys_and_protocol_api() {
        run(Backend::Postgres).await
    }
    #[tokio::test]
    async fn desk_registration_form() {
        desk(Backend::Postgres).await
    }
}
