//! The emergency register (DPR 445/2000 art. 63; PR-10) through the JSON
//! API and the recovery (c.5) by upload, from the API and from the back
//! office, on both backends: open, authorise, close and read sessions over
//! the API with the roles that may (and 403 for those that may not, 401 for
//! a key of another comune, 404 for another comune's session); the recovery
//! report row by row (registered in emergency-number order, refused with
//! line and code, nothing registered twice when the same file comes again);
//! a whole upload refused (open session, bad header, not UTF-8, a document
//! of a forbidden type, no file) registers nothing; the back-office form
//! with its CSRF token in the action URL and the report on the page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::{SignedDuration, Timestamp};
use palazzo_domain::protocollo::Impronta;
use palazzo_testkit::browser::Part;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const PDF2: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Lang (it) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const XML: &[u8] = b"<?xml version=\"1.0\"?><allegato>dati</allegato>";
/// An ELF executable header: never an allowed type.
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
const HEADER: &str = "numero_emergenza;data_ora_emergenza;verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

async fn recover(b: &mut Browser, token: &str, code: &str, parts: &[Part<'_>]) -> Page {
    let auth = format!("Bearer {token}");
    b.post_multipart(
        &format!("/api/v1/protocollo/emergenze/{code}/recupero"),
        parts,
        &[("authorization", &auth)],
    )
    .await
}

fn rome(t: Timestamp) -> String {
    t.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let now = Timestamp::now().as_second();
    let start = Timestamp::from_second((now - 3 * 86_400) / 60 * 60).unwrap();
    let h = SignedDuration::from_hours;

    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let seg_key = seg.api_key("segreteria").await;
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let op_key = op.api_key("sportello").await;
    let mut prog = Browser::new(&app, CASAMASSIMA);
    let code = "EMERG-API-01";
    let base = format!("/protocollo/emergenze/{code}");

    // Opening needs ManageEmergencyRegister: the operatore may not.
    let open_body = json!({
        "code": code,
        "cause": "Guasto del server del protocollo",
        "started_at": start.to_string(),
        "authorised_by": "Dott.ssa Maria Bianchi",
        "act": "Decreto n. 3/2026",
    });
    let r = prog
        .api(
            "POST",
            "/protocollo/emergenze",
            &op_key,
            Some(open_body.clone()),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = prog
        .api("POST", "/protocollo/emergenze", "", Some(open_body.clone()))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    // Beyond 24 hours the first authorisation is refused with its code.
    let mut too_long = open_body.clone();
    too_long["until"] = json!((start + h(25)).to_string());
    let r = prog
        .api("POST", "/protocollo/emergenze", &seg_key, Some(too_long))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "emergenza_autorizzazione_24h");
    let r = prog
        .api(
            "POST",
            "/protocollo/emergenze",
            &seg_key,
            Some(open_body.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = json_of(&r);
    assert_eq!(s["code"], code);
    assert_eq!(s["open"], true);
    assert_eq!(s["authorised_until"], (start + h(24)).to_string());
    let r = prog
        .api("POST", "/protocollo/emergenze", &seg_key, Some(open_body))
        .await;
    assert_eq!(json_of(&r)["error"], "emergenza_codice_esistente");

    // The operatore reads the list and the session.
    let r = prog
        .api("GET", "/protocollo/emergenze", &op_key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        json_of(&r)
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == code)
    );

    // Recovery before the closure is refused as a whole.
    let csv_open = format!(
        "{HEADER}\n1;{};E;Prima;Mario Rossi;;;;;;;a.pdf;\n",
        rome(start + h(1))
    );
    let r = recover(
        &mut prog,
        &op_key,
        code,
        &[
            Part::File("recupero", "r.csv", csv_open.as_bytes()),
            Part::File("documenti", "a.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "emergenza_aperta");

    // A further authorisation (a week at most), then the closure.
    let r = prog
        .api(
            "POST",
            &format!("{base}/autorizzazioni"),
            &seg_key,
            Some(
                json!({"authorised_by": "Dott.ssa Maria Bianchi", "act": "Decreto n. 4/2026",
                    "until": (start + h(24 + 8 * 24)).to_string()}),
            ),
        )
        .await;
    assert_eq!(json_of(&r)["error"], "emergenza_autorizzazione_settimana");
    let r = prog
        .api(
            "POST",
            &format!("{base}/autorizzazioni"),
            &seg_key,
            Some(
                json!({"authorised_by": "Dott.ssa Maria Bianchi", "act": "Decreto n. 4/2026",
                    "until": (start + h(48)).to_string()}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["authorisations"].as_array().unwrap().len(), 2);
    let r = prog
        .api(
            "POST",
            &format!("{base}/chiusura"),
            &op_key,
            Some(json!({"ended_at": (start + h(30)).to_string()})),
        )
        .await;
    assert_eq!(r.status, 403, "the operatore cannot close");
    let r = prog
        .api(
            "POST",
            &format!("{base}/chiusura"),
            &seg_key,
            Some(json!({"ended_at": rome(start + h(30))})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = json_of(&r);
    assert_eq!(s["open"], false);
    assert_eq!(s["ended_at"], (start + h(30)).to_string());

    // The recovery file: number 2 before number 1 in the file, one row out
    // of the session's period, one naming a document that was not sent.
    let csv = format!(
        "{HEADER}\n\
         2;{};E;Seconda di emergenza;Anna Verdi;;;;;;;b.pdf;allegato.xml\n\
         1;{};E;Prima di emergenza;Mario Rossi;RSSMRA80A01H501U;;;;;;a.pdf;\n\
         3;{};E;Fuori periodo;Carlo Neri;;;;;;;a.pdf;\n\
         4;{};U;Risposta;Ditta Alfa srl;;;;;VII.1;;manca.pdf;\n",
        rome(start + h(2)),
        rome(start + h(1)),
        rome(start + h(31)),
        rome(start + h(3)),
    );
    let docs = [
        Part::File("documenti", "a.pdf", PDF),
        Part::File("documenti", "b.pdf", PDF2),
        Part::File("documenti", "allegato.xml", XML),
    ];
    let mut parts = vec![Part::File("recupero", "recupero.csv", csv.as_bytes())];
    parts.extend_from_slice(&docs);

    // Who may: the segretario cannot register; a key of another comune is
    // nobody there; the session of one comune does not exist at another.
    let r = recover(&mut prog, &seg_key, code, &parts).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    let r = recover(&mut elsewhere, &op_key, code, &parts).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let mut other_op = Browser::new(&app, ACQUAVIVA);
    other_op.demo_sign_in("operatore").await;
    let other_key = other_op.api_key("sportello acquaviva").await;
    let r = recover(&mut elsewhere, &other_key, code, &parts).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = elsewhere.api("GET", &base, &other_key, None).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // Refused as a whole, nothing registered.
    let bad_header = format!("numero;data\n1;{}\n", rome(start + h(1)));
    let latin1: &[u8] = b"numero_emergenza;data_ora_emergenza\n1;2026-03-02 10:00;E;Citt\xe0\n";
    let cases: Vec<(Vec<Part<'_>>, u16, &str)> = vec![
        (docs.to_vec(), 422, "recovery_file_missing"),
        (
            vec![Part::File("recupero", "r.csv", bad_header.as_bytes())],
            422,
            "import_header",
        ),
        (
            vec![Part::File("recupero", "r.csv", latin1)],
            422,
            "text_file_not_utf8",
        ),
        (
            vec![
                Part::File("recupero", "r.csv", csv.as_bytes()),
                Part::File("documenti", "a.pdf", PDF),
                Part::File("documenti", "virus.pdf", ELF),
            ],
            422,
            "document_type_not_allowed",
        ),
        (
            vec![
                Part::File("recupero", "r.csv", csv.as_bytes()),
                Part::File("documenti", "a.pdf", PDF),
                Part::File("documenti", "a.pdf", PDF2),
            ],
            422,
            "import_documento_doppio",
        ),
    ];
    for (parts, status, error) in cases {
        let r = recover(&mut prog, &op_key, code, &parts).await;
        assert_eq!(r.status, status, "{error}: {}", r.body);
        assert_eq!(json_of(&r)["error"], error, "{}", r.body);
    }
    let r = recover(&mut prog, &op_key, "NESSUNO", &parts).await;
    assert_eq!(r.status, 404);
    let r = prog
        .api(
            "POST",
            &format!("{base}/recupero"),
            &op_key,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.body);
    let r = prog.api("GET", &base, &op_key, None).await;
    assert!(
        json_of(&r)["entries"].as_array().unwrap().is_empty(),
        "nothing registered yet"
    );

    // The recovery: two registered in emergency-number order, two refused
    // with their lines and codes.
    let r = recover(&mut prog, &op_key, code, &parts).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rep = json_of(&r);
    assert_eq!(
        (
            rep["recovered"].as_u64(),
            rep["already_recovered"].as_u64(),
            rep["refused"].as_u64()
        ),
        (Some(2), Some(0), Some(2)),
        "{rep}"
    );
    let rows = rep["rows"].as_array().unwrap();
    let lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 3, 4, 5], "file order");
    assert_eq!(rows[0]["outcome"], "recovered");
    assert_eq!(rows[0]["emergency_number"], 2);
    assert_eq!(
        rows[0]["registration"]["number"], "0000002",
        "number order follows the emergency numbers"
    );
    assert_eq!(
        rows[0]["registration"]["primary"]["sha256"],
        Impronta::of(PDF2).hex()
    );
    assert_eq!(
        rows[0]["registration"]["attachments"][0]["sha256"],
        Impronta::of(XML).hex()
    );
    assert_eq!(rows[1]["registration"]["number"], "0000001");
    assert_eq!(
        rows[1]["registration"]["primary"]["sha256"],
        Impronta::of(PDF).hex()
    );
    assert_eq!(
        rows[1]["registration"]["emergency"],
        format!("{code}/0000001")
    );
    assert_eq!(rows[2]["outcome"], "refused");
    assert_eq!(rows[2]["error"], "emergenza_fuori_periodo");
    assert!(
        rows[2]["message"]
            .as_str()
            .unwrap()
            .contains("fuori dal periodo")
    );
    assert_eq!(rows[3]["error"], "import_documento");
    assert!(rows[3]["message"].as_str().unwrap().contains("manca.pdf"));

    // The same upload again registers nothing twice.
    let r = recover(&mut prog, &op_key, code, &parts).await;
    let rep = json_of(&r);
    assert_eq!(
        (
            rep["recovered"].as_u64(),
            rep["already_recovered"].as_u64(),
            rep["refused"].as_u64()
        ),
        (Some(0), Some(2), Some(2)),
        "{rep}"
    );
    assert_eq!(rep["rows"][0]["outcome"], "already_recovered");
    assert_eq!(rep["rows"][0]["registration"]["number"], "0000002");

    // Both numbers in the session, and emergency → ordinary.
    let r = prog.api("GET", &base, &op_key, None).await;
    let s = json_of(&r);
    let entries = s["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (
            entries[0]["emergency_number"].as_u64(),
            entries[0]["number"].as_str()
        ),
        (Some(1), Some("0000001"))
    );
    let total: u64 = s["daily_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["registrations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
    let r = prog.api("GET", &format!("{base}/2"), &op_key, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["subject"], "Seconda di emergenza");
    assert_eq!(
        prog.api("GET", &format!("{base}/3"), &op_key, None)
            .await
            .status,
        404
    );

    // The back office: the form on the closed session's page, its CSRF
    // token in the action URL.
    let page_path = format!("/backoffice/protocollo/emergenze/{code}");
    let page = op.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-element=\"recovery-form\""),
        "{}",
        page.body
    );
    let action = page
        .body
        .split("action=\"")
        .find(|s| s.starts_with(&format!("{page_path}/recupero?csrf=")))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    // The segretario reads the page but has no form (cannot register).
    let seg_page = seg.get(&page_path).await;
    assert!(!seg_page.body.contains("data-element=\"recovery-form\""));
    let fixed = format!(
        "{HEADER}\n\
         1;{};E;Prima di emergenza;Mario Rossi;RSSMRA80A01H501U;;;;;;a.pdf;\n\
         2;{};E;Seconda di emergenza;Anna Verdi;;;;;;;b.pdf;allegato.xml\n\
         4;{};U;Risposta;Ditta Alfa srl;;;;;VII.1;;manca.pdf;\n",
        rome(start + h(1)),
        rome(start + h(2)),
        rome(start + h(3)),
    );
    let mut web_parts = vec![Part::File("recupero", "recupero.csv", fixed.as_bytes())];
    web_parts.extend_from_slice(&docs);
    web_parts.push(Part::File("documenti", "manca.pdf", PDF2));
    // Without the token: refused.
    let r = op
        .post_multipart(&format!("{page_path}/recupero"), &web_parts, &[])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("csrf_invalid"));
    // A bad file comes back as the page with the reason.
    let r = op
        .post_multipart(
            &action,
            &[Part::File("recupero", "r.csv", bad_header.as_bytes())],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-code=\"import_header\""), "{}", r.body);
    let r = op.post_multipart(&action, &web_parts, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-element=\"recovery-report\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("data-count=\"recovered\">1<"), "{}", r.body);
    assert!(r.body.contains("data-count=\"already_recovered\">2<"));
    assert!(r.body.contains("data-count=\"refused\">0<"));
    assert!(r.body.contains("data-outcome=\"gia_recuperata\""));
    assert!(r.body.contains("0000003/"), "row 4 got the next number");
    // The segretario may not post it.
    let csrf = seg.csrf_of("/accedi/amministratore").await;
    let r = seg
        .post_multipart(
            &format!("{page_path}/recupero?csrf={csrf}"),
            &web_parts,
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = prog.api("GET", &base, &op_key, None).await;
    assert_eq!(json_of(&r)["entries"].as_array().unwrap().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn emergency_recovery_api_and_upload_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn emergency_recovery_api_and_upload_postgres() {
    run(Backend::Postgres).await
}
