//! Certificates on the web (issue 5, parts 3–5) on both backends: a demo
//! resident asks in the personal area for a certificate for themself and
//! one for a family member, downloads the exempt one at once (exactly the
//! bytes whose SHA-256 the status page publishes) and sees the one in bollo
//! held back; the desk (ufficiale d'anagrafe) records the marca and
//! revokes; the public verification page reads the PDF, the code's text
//! and a photo of the code and says valid, then revoked, and altered for a
//! changed record or text; the original is released with the cti and the
//! surname only; the status list flips the certificate's bit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::protocollo::Impronta;
use palazzo_store::Store;
use palazzo_testkit::browser::Part;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, Page, TestApp};

/// The `data-verdict` of a verification or status page.
fn verdict(body: &str) -> &str {
    let Some(at) = body.find("data-verdict=\"") else {
        panic!("no verdict in {body}")
    };
    let at = at + 14;
    let end = body[at..].find('"').unwrap();
    &body[at..at + end]
}

/// Posts the verification form (multipart) with the visitor's CSRF token.
async fn verify(b: &mut Browser, csrf: &str, parts: &[Part<'_>]) -> Page {
    b.post_multipart(&format!("/verifica?csrf={csrf}"), parts, &[])
        .await
}

/// The ctis of the rows of a certificate table, in order, with their state.
fn rows(body: &str) -> Vec<(String, String)> {
    body.match_indices("data-cti=\"")
        .map(|(i, _)| {
            let rest = &body[i + 10..];
            let cti = &rest[..rest.find('"').unwrap()];
            let s = rest.find("data-state=\"").unwrap() + 12;
            let state = &rest[s..s + rest[s..].find('"').unwrap()];
            (cti.to_owned(), state.to_owned())
        })
        .collect()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 40).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    // A resident with a family member.
    let mut chosen = None;
    for p in app.app.demo_residents(t.id, 40).await.unwrap() {
        let family = app.app.db().family_members(t.id, p.family).await.unwrap();
        if let Some(other) = family.into_iter().find(|m| m.id != p.id) {
            chosen = Some((p, other));
            break;
        }
    }
    let (me, relative) = chosen.expect("a demo family of two or more");
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    // Visitors are sent to sign in.
    let r = citizen.get("/area-personale/certificati").await;
    assert_eq!(r.status, 303);
    citizen
        .demo_sign_in(&format!("cf:{}", me.codice_fiscale.as_str()))
        .await;
    let page = citizen.get("/area-personale/certificati").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(relative.codice_fiscale.as_str()),
        "family offered"
    );
    assert!(page.body.contains("nessun-certificato"));
    let csrf = page.csrf().unwrap();

    // A bad request: an unknown type, kept on the page with its code.
    let r = citizen
        .post(
            "/area-personale/certificati",
            &[
                ("csrf", &csrf),
                ("codice_fiscale", me.codice_fiscale.as_str()),
                ("tipo", "patente"),
                ("uso", "bollo"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-code=\"tipo_sconosciuto\""));

    // Exempt, for oneself: released at once.
    let r = citizen
        .post(
            "/area-personale/certificati",
            &[
                ("csrf", &csrf),
                ("codice_fiscale", me.codice_fiscale.as_str()),
                ("tipo", "residenza"),
                ("uso", "tributi"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().unwrap().to_owned();
    assert!(loc.starts_with("/area-personale/certificati?rilasciato="));
    let own = loc.rsplit('=').next().unwrap().to_owned();
    let page = citizen.get(&loc).await;
    assert!(page.body.contains("certificato-rilasciato"));
    // In bollo, for the family member: held back.
    let r = citizen
        .post(
            "/area-personale/certificati",
            &[
                ("csrf", &csrf),
                ("codice_fiscale", relative.codice_fiscale.as_str()),
                ("tipo", "stato_famiglia"),
                ("uso", "bollo"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let in_bollo = r.location().unwrap().rsplit('=').next().unwrap().to_owned();
    let page = citizen.get("/area-personale/certificati").await;
    assert_eq!(
        rows(&page.body),
        vec![
            (in_bollo.clone(), "bollo".to_owned()),
            (own.clone(), "valido".to_owned())
        ]
    );
    let (status, headers, pdf) = citizen
        .get_bytes(&format!(
            "/area-personale/certificati/{own}/certificato.pdf"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let (status, _, _) = citizen
        .get_bytes(&format!(
            "/area-personale/certificati/{in_bollo}/certificato.pdf"
        ))
        .await;
    assert_eq!(status, 422, "in bollo, not released");

    // The public status page publishes the PDF's SHA-256.
    let mut anyone = Browser::new(&app, CASAMASSIMA);
    let status_page = anyone.get(&format!("/verifica/{own}")).await;
    assert_eq!(status_page.status, 200);
    assert_eq!(verdict(&status_page.body), "valid");
    assert!(status_page.body.contains(&Impronta::of(&pdf).hex()));
    assert_eq!(status_page.headers["x-robots-tag"], "noindex");
    assert!(
        !status_page.body.contains(me.codice_fiscale.as_str()),
        "no personal data"
    );
    let unknown = anyone.get("/verifica/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(verdict(&unknown.body), "not_found");

    // The verification page: the PDF, the text, a photo.
    let page = anyone.get("/verifica").await;
    let vcsrf = page
        .body
        .split("csrf=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "certificato.pdf", &pdf)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(verdict(&r.body), "valid");
    assert!(r.body.contains(&me.surname), "the sealed data are shown");
    // The file's PAdES seal (ANA-04): the comune's, intact.
    assert!(
        r.body
            .contains("data-element=\"sigillo-file\" data-state=\"valido\""),
        "{}",
        r.body
    );
    let (text, record) = palazzo_services::verifica::seal_text(
        &palazzo_services::verifica::Evidence::Pdf(pdf.clone()),
    )
    .unwrap();
    let record = record.unwrap();
    let r = verify(&mut anyone, &vcsrf, &[Part::Text("testo", &text)]).await;
    assert_eq!(verdict(&r.body), "valid");
    // A photo of the code: the page rendered at 300 dpi (pdftoppm), about the
    // resolution of a phone picture of the code.
    let dir = palazzo_testkit::TempDir::new("verifica-foto");
    let pdf_path = dir.path().join("c.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .arg(&pdf_path)
        .arg(dir.path().join("foto"))
        .status()
        .unwrap();
    assert!(out.success());
    let photo = std::fs::read(dir.path().join("foto.png")).unwrap();
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "foto.png", &photo)],
    )
    .await;
    assert_eq!(verdict(&r.body), "valid", "{}", r.body);
    // A changed character of the text; a changed byte of the record.
    let mut flipped = text.clone().into_bytes();
    let i = flipped.len() - 10;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::Text("testo", std::str::from_utf8(&flipped).unwrap())],
    )
    .await;
    assert_eq!(verdict(&r.body), "altered");
    let at = pdf
        .windows(record.len())
        .position(|w| w == record.as_slice())
        .unwrap();
    let mut changed = pdf.clone();
    changed[at + record.len() / 2] ^= 0x01;
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "certificato.pdf", &changed)],
    )
    .await;
    assert_eq!(verdict(&r.body), "altered");
    assert!(r.body.contains("record-alterato"));
    assert!(r.body.contains("data-state=\"non_valido\""));
    // A byte outside the record (the XMP) changed: only the PAdES seal
    // sees it; content added after the seal: the same.
    let at = pdf.windows(9).position(|w| w == b"Palazzo</").unwrap();
    let mut changed = pdf.clone();
    changed[at + 6] = b'0';
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "certificato.pdf", &changed)],
    )
    .await;
    assert_eq!(verdict(&r.body), "altered", "{}", r.body);
    assert!(r.body.contains("data-state=\"non_valido\""));
    assert!(!r.body.contains("record-alterato"));
    let mut appended = pdf.clone();
    appended.extend_from_slice(b"1000 0 obj\n(aggiunto)\nendobj\n%%EOF\n");
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "certificato.pdf", &appended)],
    )
    .await;
    assert_eq!(verdict(&r.body), "altered", "{}", r.body);
    assert!(r.body.contains("data-state=\"non_valido\""));
    // The unsealed first revision (the seal's update cut off): the
    // contrassegno is valid, the file is marked as a copy without seal.
    let first_eof = pdf.windows(6).position(|w| w == b"%%EOF\n").unwrap() + 6;
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "certificato.pdf", &pdf[..first_eof])],
    )
    .await;
    assert_eq!(verdict(&r.body), "valid", "{}", r.body);
    assert!(r.body.contains("data-state=\"assente\""));
    // Nothing to verify, or not a certificate: coded refusals, not errors.
    let r = verify(&mut anyone, &vcsrf, &[Part::Text("testo", "  ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-code=\"verifica_vuota\""));
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "x.txt", b"hello")],
    )
    .await;
    assert!(r.body.contains("data-code=\"file_non_supportato\""));

    // The original: with the surname only.
    let csrf_anyone = status_page.csrf().unwrap();
    let (status, _, _) = anyone
        .post_bytes(
            &format!("/verifica/{own}/originale"),
            &[("csrf", &csrf_anyone), ("cognome", "Nessuno")],
        )
        .await;
    assert_eq!(status, 422);
    let (status, _, got) = anyone
        .post_bytes(
            &format!("/verifica/{own}/originale"),
            &[
                ("csrf", &csrf_anyone),
                ("cognome", &me.surname.to_lowercase()),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, pdf, "exactly the bytes released");

    // The desk: the marca, then the revocation.
    let mut desk = Browser::new(&app, CASAMASSIMA);
    desk.demo_sign_in("anagrafe").await;
    let page = desk
        .get(&format!(
            "/backoffice/certificati?cf={}",
            relative.codice_fiscale.as_str()
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        rows(&page.body),
        vec![(in_bollo.clone(), "bollo".to_owned())]
    );
    let dcsrf = page.csrf().unwrap();
    let r = desk
        .post(
            &format!("/backoffice/certificati/{in_bollo}/bollo"),
            &[("csrf", &dcsrf), ("marca", "12")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-code=\"marca_non_valida\""));
    let r = desk
        .post(
            &format!("/backoffice/certificati/{in_bollo}/bollo"),
            &[("csrf", &dcsrf), ("marca", "01234567890123")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (status, _, _) = citizen
        .get_bytes(&format!(
            "/area-personale/certificati/{in_bollo}/certificato.pdf"
        ))
        .await;
    assert_eq!(status, 200, "released once the bollo is recorded");
    let r = desk
        .post(
            &format!("/backoffice/certificati/{own}/revoca"),
            &[("csrf", &dcsrf), ("motivo", "rilasciato per errore")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = verify(
        &mut anyone,
        &vcsrf,
        &[Part::File("file", "certificato.pdf", &pdf)],
    )
    .await;
    assert_eq!(verdict(&r.body), "revoked");
    assert_eq!(
        verdict(&anyone.get(&format!("/verifica/{own}")).await.body),
        "revoked"
    );
    // The citizen may not use the desk.
    let r = citizen.get("/backoffice/certificati").await;
    assert_eq!(r.status, 403);
    // The status list names the bit.
    let year = jiff::Zoned::now().year();
    let (status, headers, token) = anyone
        .get_bytes(&format!("/.well-known/palazzo/status-list/{year}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/statuslist+cwt");
    assert!(token.len() > 64);
    let (status, _, _) = anyone
        .get_bytes("/.well-known/palazzo/status-list/abc")
        .await;
    assert_eq!(status, 404);
    // The signed status.
    let (status, headers, cose) = anyone
        .get_bytes(&format!("/verifica/{own}?formato=cose"))
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/cose")
    );
    assert_eq!(cose[0], 0xd2, "tagged COSE_Sign1");
    app.stop().await;
}

#[tokio::test]
async fn certificati_web_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn certificati_web_postgres() {
    run(Backend::Postgres).await;
}

/// Issue 5, "done when": a demo resident signs in and downloads every
/// certificate type from the personal area; each file passes pyHanko
/// (the comune's PAdES seal, against the root of its seal, R11) and the
/// public verification page, which finds the contrassegno valid and the
/// file seal the comune's. (The code read from the page by zbarimg and
/// zxing-cpp, and the COSE checked by pycose, for every type:
/// `crates/services/tests/certificati_catena.rs`.)
#[tokio::test]
async fn a_resident_downloads_every_type_and_each_verifies() {
    use palazzo_domain::anagrafe::Cittadinanza;
    use palazzo_domain::certificati::TipoCertificato;
    let app = TestApp::spawn(Backend::Sqlite, 40).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let me = app
        .app
        .demo_residents(t.id, 40)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.citizenship == Cittadinanza::ITALIANA)
        .expect("an Italian demo resident");
    let dir = palazzo_testkit::TempDir::new("ogni-tipo");
    let sigillo = app.app.seal_verification_pem(&t.data.slug).unwrap();
    let root = &sigillo[sigillo.rfind("-----BEGIN CERTIFICATE-----").unwrap()..];
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, root).unwrap();

    let mut citizen = Browser::new(&app, CASAMASSIMA);
    citizen
        .demo_sign_in(&format!("cf:{}", me.codice_fiscale.as_str()))
        .await;
    let csrf = citizen
        .get("/area-personale/certificati")
        .await
        .csrf()
        .unwrap();
    let mut anyone = Browser::new(&app, CASAMASSIMA);
    let vcsrf = anyone
        .get("/verifica")
        .await
        .body
        .split("csrf=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    for tipo in TipoCertificato::ALL {
        let code = tipo.code();
        let r = citizen
            .post(
                "/area-personale/certificati",
                &[
                    ("csrf", &csrf),
                    ("codice_fiscale", me.codice_fiscale.as_str()),
                    ("tipo", code),
                    ("uso", "tributi"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{code}: {}", r.body);
        let cti = r.location().unwrap().rsplit('=').next().unwrap().to_owned();
        let (status, _, pdf) = citizen
            .get_bytes(&format!(
                "/area-personale/certificati/{cti}/certificato.pdf"
            ))
            .await;
        assert_eq!(status, 200, "{code}");
        let path = dir.path().join(format!("{code}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let (valid, said) = palazzo_testkit::pki::pyhanko_validate(&path, &ca);
        assert!(
            valid && said.contains(":INTACT:TRUSTED,UNTOUCHED"),
            "{code}: pyHanko: {said}"
        );
        let r = verify(
            &mut anyone,
            &vcsrf,
            &[Part::File("file", "certificato.pdf", &pdf)],
        )
        .await;
        assert_eq!(verdict(&r.body), "valid", "{code}: {}", r.body);
        assert!(
            r.body
                .contains("data-element=\"sigillo-file\" data-state=\"valido\""),
            "{code}"
        );
    }
    app.stop().await;
}
