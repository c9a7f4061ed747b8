//! Anagrafe certificates with the PZ1 seal through the JSON API (issue 5),
//! on both backends: a demo resident, with a personal key, asks for an
//! exempt certificate for themself and downloads it (the bytes hash to the
//! value of the public status), asks for one for a family member and is
//! refused one for a resident of another family (DECISIONS 19); a
//! certificate in bollo is not released until the desk records a marca
//! (ANA-03); the desk issues for anyone, revokes, and the public status and
//! the verification of the QR text (taken from the PDF) follow; bad input
//! answers 4xx with a code, never 5xx; anonymous callers get 401.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::date;
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_domain::protocollo::Impronta;
use palazzo_services::verifica::{Evidence, seal_text};
use palazzo_store::{PopPerson, Store};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

/// A refusal: the status and the stable code, never a server error.
fn refused(p: &Page, status: u16, code: &str) {
    assert_eq!(p.status, status, "{}", p.body);
    assert_eq!(json_of(p)["error"], code, "{}", p.body);
}

/// GET of a download with a key: status, headers and the raw bytes.
async fn download(app: &TestApp, token: &str, path: &str) -> (u16, HeaderMap, Vec<u8>) {
    let r = app
        .client()
        .get(app.url(CASAMASSIMA, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// The PDF behind a certificate's `download` link, checked as a download.
async fn pdf_of(app: &TestApp, token: &str, cert: &Value) -> Vec<u8> {
    let path = cert["download"].as_str().expect("a download link");
    let (status, headers, bytes) = download(app, token, path).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&bytes));
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    bytes
}

fn cti(cert: &Value) -> String {
    cert["cti"].as_str().unwrap().to_owned()
}

/// A resident with a family of at least two, another member of it, and a
/// resident of another family.
async fn cast(app: &TestApp, residents: &[PopPerson]) -> (PopPerson, PopPerson, PopPerson) {
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    for p in residents {
        let family = app.app.db().family_members(t.id, p.family).await.unwrap();
        if let Some(other) = family.iter().find(|m| m.codice_fiscale != p.codice_fiscale) {
            let stranger = residents
                .iter()
                .find(|s| s.family != p.family)
                .expect("a resident of another family");
            return (p.clone(), other.clone(), stranger.clone());
        }
    }
    panic!("no family of two among the demo residents");
}

async fn run(backend: Backend) {
    // Enough residents for a foreign one (about 4% of the demo households).
    let app = TestApp::spawn(backend, 200).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let residents = app.app.demo_residents(t.id, 200).await.unwrap();
    let (me, relative, stranger) = cast(&app, &residents).await;
    let my_cf = me.codice_fiscale.as_str().to_owned();

    // The resident signs in once (their user is made) and gets a key.
    let mut web = Browser::new(&app, CASAMASSIMA);
    web.demo_sign_in(&format!("cf:{my_cf}")).await;
    let user = app
        .app
        .db()
        .user_by_codice_fiscale(t.id, &me.codice_fiscale)
        .await
        .unwrap()
        .expect("the resident's user");
    let citizen = app
        .app
        .issue_api_token(t.id, user.id, "app certificati", Some(30))
        .await
        .unwrap()
        .token;
    // The desk: the demo ufficiale d'anagrafe, with a key.
    let mut desk_web = Browser::new(&app, CASAMASSIMA);
    desk_web.demo_sign_in("anagrafe").await;
    let desk = desk_web.api_key("sportello anagrafe").await;
    let mut prog = Browser::new(&app, CASAMASSIMA);

    // Anonymous: 401 on every protected route, whatever the body.
    let some = "AAAAAAAAAAAAAAAAAAAAAA";
    for (method, path, body) in [
        ("GET", "/certificati".to_owned(), None),
        (
            "POST",
            "/certificati".to_owned(),
            Some(json!({"codice_fiscale": my_cf, "tipo": "residenza", "uso": "tributi"})),
        ),
        ("POST", "/certificati".to_owned(), Some(json!("{nope"))),
        ("GET", format!("/certificati/{some}"), None),
        ("GET", format!("/certificati/{some}/pdf"), None),
        (
            "GET",
            format!("/sportello/certificati?codice_fiscale={my_cf}"),
            None,
        ),
        ("POST", "/sportello/certificati".to_owned(), Some(json!({}))),
        (
            "POST",
            format!("/sportello/certificati/{some}/bollo"),
            Some(json!({"marca": "01234567890123"})),
        ),
        (
            "POST",
            format!("/sportello/certificati/{some}/revoca"),
            Some(json!({"motivo": "x"})),
        ),
        ("GET", format!("/sportello/certificati/{some}/pdf"), None),
    ] {
        let r = prog.api(method, &path, "", body).await;
        refused(&r, 401, "unauthenticated");
    }

    // An exempt certificate for themself: released at once.
    let r = prog
        .api(
            "POST",
            "/certificati",
            &citizen,
            Some(json!({"codice_fiscale": my_cf, "tipo": "residenza", "uso": "tributi"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let own = json_of(&r);
    let own_cti = cti(&own);
    assert_eq!(own_cti.len(), 22);
    assert_eq!(own["tipo"], "residenza");
    assert_eq!(own["holder_cf"], my_cf.as_str());
    assert_eq!(own["uso"], "tributi");
    assert_eq!(own["bollo_cents"], 0);
    assert_eq!(own["releasable"], true);
    assert_eq!(own["revoked"], false);
    assert_eq!(own["channel"], "online");
    assert_eq!(own["status_url"], format!("/verifica/{own_cti}"));
    assert_eq!(
        own["download"],
        format!("/api/v1/certificati/{own_cti}/pdf")
    );
    assert!(own["issued_at"].as_str().unwrap().ends_with('Z'));
    assert!(own["valid_until"].is_string(), "six months: {own}");
    let pdf = pdf_of(&app, &citizen, &own).await;
    // The public status: its hash is the released file's, no personal data.
    let r = prog
        .api("GET", &format!("/verifica/{own_cti}"), "", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = json_of(&r);
    assert_eq!(st["status"], "valid");
    assert_eq!(st["label"], "Valido");
    assert_eq!(st["doc_type"], "residenza");
    assert_eq!(st["valid_until"], own["valid_until"]);
    assert_eq!(st["pdf_sha256"], Impronta::of(&pdf).hex());
    assert!(!r.body.contains(&my_cf) && !r.body.contains(&me.surname));
    // One certificate, as the list shows it.
    let r = prog
        .api("GET", &format!("/certificati/{own_cti}"), &citizen, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r), own);

    // The QR text taken from the PDF verifies, with the printed pairs.
    let (text, _) = seal_text(&Evidence::Pdf(pdf.clone())).unwrap();
    assert!(text.starts_with("PZ1:"));
    let r = prog
        .api("POST", "/verifica", "", Some(json!({ "testo": text })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["status"], "valid", "{v}");
    assert_eq!(
        v["issuer"],
        format!("IT-{}", t.data.codice_catastale.as_str())
    );
    assert_eq!(v["doc_type"], "residenza");
    let second = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second()
    };
    assert_eq!(second(&v["issued_at"]), second(&own["issued_at"]));
    assert!(v["expires_at"].is_string());
    let pairs = v["pairs"].as_array().unwrap();
    assert!(
        pairs.iter().any(|p| p["value"] == my_cf.as_str()),
        "the holder's codice fiscale is sealed: {v}"
    );
    // A changed character: not genuine, nothing shown.
    let mut bad: Vec<char> = text.chars().collect();
    let i = bad.len() / 2;
    bad[i] = if bad[i] == 'A' { 'B' } else { 'A' };
    let bad: String = bad.into_iter().collect();
    let r = prog
        .api("POST", "/verifica", "", Some(json!({ "testo": bad })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_ne!(v["status"], "valid", "{v}");
    assert!(v["pairs"].as_array().unwrap().is_empty(), "{v}");
    let r = prog
        .api("POST", "/verifica", "", Some(json!({ "testo": "  " })))
        .await;
    refused(&r, 422, "contrassegno_non_trovato");
    let r = prog
        .api("POST", "/verifica", "", Some(json!({ "text": "PZ1:" })))
        .await;
    refused(&r, 422, "invalid_fields");

    // For a member of the family: allowed; for another family: 403.
    let r = prog
        .api(
            "POST",
            "/certificati",
            &citizen,
            Some(json!({"codice_fiscale": relative.codice_fiscale.as_str(),
                        "tipo": "stato_famiglia", "uso": "scuola"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let family = json_of(&r);
    assert_eq!(family["holder_cf"], relative.codice_fiscale.as_str());
    let family_pdf = pdf_of(&app, &citizen, &family).await;
    assert_ne!(family_pdf, pdf);
    let r = prog
        .api(
            "POST",
            "/certificati",
            &citizen,
            Some(json!({"codice_fiscale": stranger.codice_fiscale.as_str(),
                        "tipo": "residenza", "uso": "tributi"})),
        )
        .await;
    refused(&r, 403, "forbidden");

    // Bad requests: a code each, never a server error.
    for (body, status, code) in [
        (
            json!({"codice_fiscale": my_cf, "tipo": "passaporto", "uso": "tributi"}),
            422,
            "tipo_sconosciuto",
        ),
        (
            json!({"codice_fiscale": my_cf, "tipo": "residenza", "uso": "regalo"}),
            422,
            "uso_sconosciuto",
        ),
        (
            json!({"codice_fiscale": "RSSMRA", "tipo": "residenza", "uso": "bollo"}),
            422,
            "codice_fiscale_length",
        ),
        (
            json!({"codice_fiscale": my_cf, "tipo": 5, "uso": "bollo"}),
            422,
            "invalid_fields",
        ),
        (
            json!({"codice_fiscale": my_cf, "tipo": "residenza"}),
            422,
            "invalid_fields",
        ),
        (
            json!({"codice_fiscale": my_cf, "tipo": "residenza", "uso": "bollo", "x": 1}),
            422,
            "invalid_fields",
        ),
    ] {
        let r = prog.api("POST", "/certificati", &citizen, Some(body)).await;
        refused(&r, status, code);
    }
    let auth = format!("Bearer {citizen}");
    let r = prog
        .request(
            reqwest::Method::POST,
            "/api/v1/certificati",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"{nope".to_vec(),
        )
        .await;
    refused(&r, 400, "invalid_json");
    let r = prog
        .request(
            reqwest::Method::POST,
            "/api/v1/certificati",
            &[("authorization", &auth), ("content-type", "text/plain")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.body);

    // In bollo: not released until the desk records a marca (ANA-03).
    let r = prog
        .api(
            "POST",
            "/certificati",
            &citizen,
            Some(json!({"codice_fiscale": my_cf, "tipo": "stato_civile", "uso": "bollo"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let taxed = json_of(&r);
    let taxed_cti = cti(&taxed);
    assert_eq!(taxed["bollo_cents"], 1600);
    assert_eq!(taxed["bollo_settled"], false);
    assert_eq!(taxed["releasable"], false);
    assert!(taxed["download"].is_null(), "{taxed}");
    let taxed_pdf = format!("/certificati/{taxed_cti}/pdf");
    let r = prog.api("GET", &taxed_pdf, &citizen, None).await;
    refused(&r, 422, "bollo_da_assolvere");
    let r = prog
        .api(
            "GET",
            &format!("/sportello/certificati/{taxed_cti}/pdf"),
            &desk,
            None,
        )
        .await;
    refused(&r, 422, "bollo_da_assolvere");
    // The resident cannot record it; the desk can, once, with a valid marca.
    let bollo = format!("/sportello/certificati/{taxed_cti}/bollo");
    let r = prog
        .api(
            "POST",
            &bollo,
            &citizen,
            Some(json!({"marca": "01234567890123"})),
        )
        .await;
    refused(&r, 403, "forbidden");
    let r = prog
        .api("POST", &bollo, &desk, Some(json!({"marca": "12345"})))
        .await;
    refused(&r, 422, "marca_non_valida");
    let r = prog
        .api(
            "POST",
            &bollo,
            &desk,
            Some(json!({"marca": "01234567890123"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let settled = json_of(&r);
    assert_eq!(settled["bollo_settled"], true);
    assert_eq!(settled["releasable"], true);
    assert_eq!(
        settled["download"],
        format!("/api/v1/sportello/certificati/{taxed_cti}/pdf")
    );
    let r = prog
        .api(
            "POST",
            &bollo,
            &desk,
            Some(json!({"marca": "01234567890124"})),
        )
        .await;
    refused(&r, 422, "bollo_non_dovuto");
    let r = prog
        .api(
            "POST",
            &format!("/sportello/certificati/{own_cti}/bollo"),
            &desk,
            Some(json!({"marca": "01234567890125"})),
        )
        .await;
    refused(&r, 422, "bollo_non_dovuto");
    let r = prog
        .api("GET", &format!("/certificati/{taxed_cti}"), &citizen, None)
        .await;
    let taxed = json_of(&r);
    assert_eq!(taxed["releasable"], true);
    let citizen_copy = pdf_of(&app, &citizen, &taxed).await;
    let desk_copy = pdf_of(&app, &desk, &settled).await;
    assert_eq!(citizen_copy, desk_copy);

    // The resident's list: newest first, their own and the one they asked
    // for the family member.
    let r = prog.api("GET", "/certificati", &citizen, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list: Vec<String> = json_of(&r).as_array().unwrap().iter().map(cti).collect();
    assert_eq!(list, [taxed_cti.clone(), cti(&family), own_cti.clone()]);

    // The desk: a holder's certificates, issuing for anyone.
    let r = prog
        .api(
            "GET",
            &format!("/sportello/certificati?codice_fiscale={my_cf}"),
            &desk,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let held: Vec<String> = json_of(&r).as_array().unwrap().iter().map(cti).collect();
    assert_eq!(held, [taxed_cti.clone(), own_cti.clone()]);
    let r = prog.api("GET", "/sportello/certificati", &desk, None).await;
    refused(&r, 422, "codice_fiscale_mancante");
    let r = prog
        .api(
            "GET",
            "/sportello/certificati?codice_fiscale=XX",
            &desk,
            None,
        )
        .await;
    refused(&r, 422, "codice_fiscale_length");
    let r = prog
        .api(
            "GET",
            &format!("/sportello/certificati?codice_fiscale={my_cf}"),
            &citizen,
            None,
        )
        .await;
    refused(&r, 403, "forbidden");
    let r = prog
        .api(
            "POST",
            "/sportello/certificati",
            &desk,
            Some(json!({"codice_fiscale": stranger.codice_fiscale.as_str(),
                        "tipo": "residenza", "uso": "bollo"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let theirs = json_of(&r);
    assert_eq!(theirs["channel"], "sportello");
    assert!(theirs["download"].is_null());
    // Not the resident's: as if it did not exist.
    let r = prog
        .api(
            "GET",
            &format!("/certificati/{}", cti(&theirs)),
            &citizen,
            None,
        )
        .await;
    refused(&r, 404, "not_found");
    let nobody = CodiceFiscale::compute(
        "Rossi",
        "Mario",
        date(1980, 1, 1),
        Sex::M,
        &CodiceCatastale::parse("F205").unwrap(),
    );
    let r = prog
        .api(
            "POST",
            "/sportello/certificati",
            &desk,
            Some(json!({"codice_fiscale": nobody.as_str(), "tipo": "residenza", "uso": "bollo"})),
        )
        .await;
    refused(&r, 422, "non_residente");
    let foreigner = residents
        .iter()
        .find(|p| !p.citizenship.is_italian())
        .expect("a foreign resident");
    let r = prog
        .api(
            "POST",
            "/sportello/certificati",
            &desk,
            Some(json!({"codice_fiscale": foreigner.codice_fiscale.as_str(),
                            "tipo": "cittadinanza", "uso": "bollo"})),
        )
        .await;
    refused(&r, 422, "cittadinanza_non_italiana");
    // A citizen's key is no desk's: the desk routes answer 403.
    let r = prog
        .api(
            "POST",
            "/sportello/certificati",
            &citizen,
            Some(json!({"codice_fiscale": my_cf, "tipo": "residenza", "uso": "bollo"})),
        )
        .await;
    refused(&r, 403, "forbidden");
    // And the desk is no resident.
    let r = prog.api("GET", "/certificati", &desk, None).await;
    refused(&r, 403, "forbidden");

    // The desk revokes: the public status and the verification follow.
    let revoca = format!("/sportello/certificati/{own_cti}/revoca");
    let r = prog
        .api("POST", &revoca, &citizen, Some(json!({"motivo": "Errore"})))
        .await;
    refused(&r, 403, "forbidden");
    let r = prog
        .api("POST", &revoca, &desk, Some(json!({"motivo": "  "})))
        .await;
    refused(&r, 422, "motivo_mancante");
    let r = prog
        .api(
            "POST",
            &revoca,
            &desk,
            Some(json!({"motivo": "Errore materiale nell'indirizzo"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let revoked = json_of(&r);
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["releasable"], false);
    assert!(revoked["download"].is_null());
    let r = prog
        .api("POST", &revoca, &desk, Some(json!({"motivo": "Di nuovo"})))
        .await;
    refused(&r, 422, "gia_revocato");
    let r = prog
        .api("GET", &format!("/verifica/{own_cti}"), "", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = json_of(&r);
    assert_eq!(st["status"], "revoked");
    assert_eq!(st["label"], "Revocato");
    assert!(
        !r.body.contains("Errore materiale"),
        "the reason is not public"
    );
    let r = prog
        .api("POST", "/verifica", "", Some(json!({ "testo": text })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["status"], "revoked", "{v}");
    let r = prog
        .api(
            "GET",
            &format!("/certificati/{own_cti}/pdf"),
            &citizen,
            None,
        )
        .await;
    refused(&r, 422, "certificato_revocato");
    // The other certificates are untouched.
    let r = prog
        .api("GET", &format!("/verifica/{}", cti(&family)), "", None)
        .await;
    assert_eq!(json_of(&r)["status"], "valid");

    // Unknown or malformed ids: 404, for everybody.
    for path in [
        format!("/verifica/{some}"),
        "/verifica/non-un-cti".to_owned(),
        format!("/verifica/{own_cti}A"),
    ] {
        let r = prog.api("GET", &path, "", None).await;
        refused(&r, 404, "not_found");
    }
    for (token, path) in [
        (&citizen, format!("/certificati/{some}")),
        (&citizen, format!("/certificati/{some}/pdf")),
        (&citizen, "/certificati/%2E%2E".to_owned()),
        (&desk, format!("/sportello/certificati/{some}/pdf")),
    ] {
        let r = prog.api("GET", &path, token, None).await;
        refused(&r, 404, "not_found");
    }
    let r = prog
        .api(
            "POST",
            &format!("/sportello/certificati/{some}/bollo"),
            &desk,
            Some(json!({"marca": "01234567890123"})),
        )
        .await;
    refused(&r, 404, "not_found");
    let r = prog
        .api(
            "POST",
            &format!("/sportello/certificati/{some}/revoca"),
            &desk,
            Some(json!({"motivo": "Errore"})),
        )
        .await;
    refused(&r, 404, "not_found");

    // Another comune knows neither the key nor the certificate.
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    let r = elsewhere.api("GET", "/certificati", &citizen, None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = elsewhere
        .api("GET", &format!("/verifica/{}", cti(&family)), "", None)
        .await;
    refused(&r, 404, "not_found");
    let r = elsewhere
        .api("POST", "/verifica", "", Some(json!({ "testo": text })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_ne!(json_of(&r)["status"], "valid", "{}", r.body);

    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.stop().await;
}

mod sqlite {
    use super::*;
    #[tokio::test]
    async fn certificates_over_the_api() {
        run(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;
    #[tokio::test]
    async fn certificates_over_the_api() {
        run(Backend::Postgres).await
    }
}
