//! Online istanze on the web (issue 6): a demo resident starts a shipped
//! service, is refused a step with a missing required field (422, the
//! Italian message, the typed value kept), goes back, saves the draft and
//! resumes it from "Le mie pratiche", uploads a PDF (a file whose content
//! is not a PDF is refused), submits and gets the protocol number; a
//! second submission with the same key answers with the same pratica;
//! another resident gets 404 on the draft and the pratica; the office's
//! operator sees it in the back office and requests an integration, the
//! citizen answers with a file, and both steps are in the history.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::portal::{ServiceCategory, ServiceStatus};
use palazzo_store::NewService;
use palazzo_testkit::browser::Part;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, Page, TestApp};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const SLUG: &str = "istanza-generica";

/// The value of the first `attr="…"` after `from` in `body`.
fn attr_after(body: &str, from: &str, attr: &str) -> String {
    let at = body
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in {body}"));
    let rest = &body[at..];
    let needle = format!("{attr}=\"");
    let s = rest.find(&needle).unwrap() + needle.len();
    rest[s..s + rest[s..].find('"').unwrap()].to_owned()
}

fn data_actions(body: &str) -> Vec<String> {
    body.match_indices("data-action=\"")
        .map(|(i, _)| {
            let rest = &body[i + 13..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

async fn post_step(b: &mut Browser, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    b.post(path, &form).await
}

#[tokio::test]
async fn citizen_files_an_istanza_and_the_office_works_it() {
    let app = TestApp::spawn(Backend::Sqlite, 20).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    // The demo's staff personas work the first office.
    let office = snap.offices[0].id;
    if snap.service(SLUG).is_none() {
        app.app
            .create_service(
                t.id,
                NewService {
                    slug: SLUG.into(),
                    category: ServiceCategory::AnagrafeStatoCivile,
                    title: "Istanza generica".into(),
                    status: ServiceStatus::Active,
                    summary: "Una domanda al Comune.".into(),
                    audience: "Tutti.".into(),
                    how_to: "Compila il modulo online.".into(),
                    needed: "SPID o CIE.".into(),
                    achieved: "Una risposta.".into(),
                    times: "30 giorni.".into(),
                    costs: None,
                    access: "Online con SPID o CIE.".into(),
                    online_url: Some(format!("/area-personale/istanze/{SLUG}")),
                    conditions: "Termini e condizioni.".into(),
                    office,
                    topics: vec!["Anagrafe".into(), "Residenza".into()],
                    service_type: "Anagrafe e stato civile".into(),
                    audience_type: "cittadini".into(),
                },
            )
            .await
            .unwrap();
    }
    app.app.install_shipped_definitions(t.id).await.unwrap();
    // The card's office is the one the demo's staff personas work.
    let card = app
        .app
        .portal(t.id)
        .await
        .unwrap()
        .service(SLUG)
        .unwrap()
        .clone();
    if card.data.office != office {
        let mut card = card;
        card.data.office = office;
        app.app.update_service(card).await.unwrap();
    }
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let (me, other) = (&residents[0], &residents[1]);

    let mut citizen = Browser::new(&app, CASAMASSIMA);
    let start = format!("/area-personale/istanze/{SLUG}");
    // Visitors are sent to sign in.
    let r = citizen.get(&start).await;
    assert_eq!(r.status, 303);
    citizen
        .demo_sign_in(&format!("cf:{}", me.codice_fiscale.as_str()))
        .await;
    let home = citizen.get("/area-personale").await;
    assert!(home.body.contains("href=\"/area-personale/pratiche\""));
    let page = citizen.get(&start).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Inizia"));
    assert!(page.body.contains("data-element=\"appointment-booking\""));
    let csrf = page.csrf().unwrap();
    let r = citizen.post(&start, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let first = r.location().unwrap().to_owned();
    assert!(first.ends_with("/richiedente"), "{first}");
    let base = first.trim_end_matches("/richiedente").to_owned();
    let page = citizen.get(&first).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("aria-current=\"step\""));
    assert!(page.body.contains("Passo 1/2"));

    // Step 1, complete.
    let cf = me.codice_fiscale.as_str().to_owned();
    let r = post_step(
        &mut citizen,
        &first,
        &csrf,
        &[
            ("nome", "Maria"),
            ("cognome", "Rossi"),
            ("codice_fiscale", &cf),
            ("email", "maria.rossi@example.it"),
            ("telefono", ""),
            ("residenza.via", "Via Roma"),
            ("residenza.civico", "1"),
            ("residenza.cap", "70010"),
            ("residenza.comune", "Casamassima"),
            ("_azione", "avanti"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let second = format!("{base}/istanza");
    assert_eq!(r.location(), Some(second.as_str()));

    // Step 2 without the required text: 422, the message, the value kept.
    let r = post_step(
        &mut citizen,
        &second,
        &csrf,
        &[
            ("oggetto", "Richiesta di prova al Comune"),
            ("ufficio_destinatario", ""),
            ("testo_istanza", ""),
            ("_azione", "avanti"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("role=\"alert\""));
    assert!(
        r.body
            .contains("Il campo «Testo dell&#39;istanza» è obbligatorio.")
            || r.body
                .contains("Il campo «Testo dell&#x27;istanza» è obbligatorio."),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"Richiesta di prova al Comune\""));
    assert!(r.body.contains("aria-invalid=\"true\""));

    // Back: step 1 again, the typed value of step 2 kept for later.
    let r = post_step(
        &mut citizen,
        &second,
        &csrf,
        &[
            ("oggetto", "Richiesta di prova al Comune"),
            ("testo_istanza", ""),
            ("_azione", "indietro"),
        ],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some(first.as_str()));
    let page = citizen.get(&second).await;
    assert!(page.body.contains("value=\"Richiesta di prova al Comune\""));

    // Save the draft, then resume it from "Le mie pratiche".
    let text = "Chiedo informazioni sullo stato della mia pratica edilizia.";
    let r = post_step(
        &mut citizen,
        &second,
        &csrf,
        &[
            ("oggetto", "Richiesta di prova al Comune"),
            ("testo_istanza", text),
            ("_azione", "salva"),
        ],
    )
    .await;
    assert_eq!(r.status, 303);
    let saved = r.location().unwrap().to_owned();
    assert!(saved.ends_with("?salvata=1"), "{saved}");
    assert!(
        citizen
            .get(&saved)
            .await
            .body
            .contains("data-element=\"bozza-salvata\"")
    );
    let list = citizen.get("/area-personale/pratiche").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("nessuna-pratica"));
    assert!(
        list.body.contains(&format!("href=\"{second}\"")),
        "resume link"
    );
    let page = citizen.get(&second).await;
    assert!(page.body.contains(text), "the saved text is back");

    // Another resident does not see the draft.
    let mut stranger = Browser::new(&app, CASAMASSIMA);
    stranger
        .demo_sign_in(&format!("cf:{}", other.codice_fiscale.as_str()))
        .await;
    assert_eq!(stranger.get(&second).await.status, 404);

    let r = post_step(
        &mut citizen,
        &second,
        &csrf,
        &[
            ("oggetto", "Richiesta di prova al Comune"),
            ("testo_istanza", text),
            ("_azione", "avanti"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let allegati = format!("{base}/allegati");
    assert_eq!(r.location(), Some(allegati.as_str()));

    // A file whose content is not of an accepted kind is refused.
    let upload = format!("{base}/allegati/carica?csrf={csrf}");
    let r = citizen
        .post_multipart(
            &upload,
            &[
                Part::Text("slot", "allegati"),
                Part::File("file", "finto.pdf", b"just some text, not a PDF"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("role=\"alert\""));
    let r = citizen
        .post_multipart(
            &upload,
            &[
                Part::Text("slot", "allegati"),
                Part::File("file", "planimetria.pdf", PDF),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = citizen.get(&allegati).await;
    assert!(page.body.contains("planimetria.pdf"));
    assert!(!page.body.contains("finto.pdf"));

    // The summary, the declarations, the submission.
    let riepilogo = format!("{base}/riepilogo");
    let page = citizen.get(&riepilogo).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Richiesta di prova al Comune"));
    assert!(page.body.contains("planimetria.pdf"));
    assert!(
        page.body.contains(&format!("href=\"{second}\"")),
        "Modifica"
    );
    let key = attr_after(&page.body, "name=\"_chiave\"", "value");
    assert!(!key.is_empty());
    let r = citizen
        .post(&riepilogo, &[("csrf", &csrf), ("_chiave", &key)])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("modulo_dichiarazione_mancante"));
    let submit = [
        ("csrf", csrf.as_str()),
        ("_chiave", key.as_str()),
        ("dichiarazione_veridicita", "si"),
        ("informativa_privacy", "si"),
    ];
    let r = citizen.post(&riepilogo, &submit).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let receipt = r.location().unwrap().to_owned();
    assert!(receipt.starts_with("/area-personale/pratiche/") && receipt.ends_with("?inviata=1"));
    let pratica = receipt.trim_end_matches("?inviata=1").to_owned();
    let page = citizen.get(&receipt).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page
        .body
        .find("data-element=\"numero-protocollo\">")
        .unwrap()
        + 32;
    let protocol = &page.body[at..at + page.body[at..].find('<').unwrap()];
    assert!(protocol.ends_with(&format!("/{}", jiff::Timestamp::now().strftime("%Y"))));
    assert!(page.body.contains("entro il"));
    assert!(
        page.body
            .contains("Quanto è stato facile usare questo servizio?")
    );

    // The same submission again: the same pratica, not a second one.
    let r = citizen.post(&riepilogo, &submit).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(receipt.as_str()));
    let list = citizen.get("/area-personale/pratiche").await;
    assert_eq!(list.body.matches("data-pratica=").count(), 1);
    assert!(list.body.contains(protocol));
    assert!(list.body.contains("nessuna-bozza"));

    // Nobody else sees it.
    assert_eq!(stranger.get(&pratica).await.status, 404);
    assert_eq!(
        stranger
            .get_bytes(&format!("{pratica}/documenti/0"))
            .await
            .0,
        404
    );

    // The office.
    let mut staff = Browser::new(&app, CASAMASSIMA);
    staff.demo_sign_in("operatore").await;
    let id = pratica.rsplit('/').next().unwrap().to_owned();
    let list = staff.get("/backoffice/pratiche").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("data-pratica=\"{id}\"")));
    let office_page = format!("/backoffice/pratiche/{id}");
    let mut page = staff.get(&office_page).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let staff_csrf = page.csrf().unwrap();
    if !data_actions(&page.body).contains(&"richiesta_integrazione".to_owned()) {
        let state = attr_after(
            &page.body[page.body.find("data-action=\"presa_in_carico\"").unwrap()..],
            "name=\"stato\"",
            "value",
        );
        let r = staff
            .post(
                &format!("{office_page}/azioni"),
                &[
                    ("csrf", &staff_csrf),
                    ("azione", "presa_in_carico"),
                    ("stato", &state),
                    ("nota", ""),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        page = staff.get(&office_page).await;
    }
    let actions = data_actions(&page.body);
    assert!(
        actions.contains(&"richiesta_integrazione".to_owned()),
        "{actions:?}"
    );
    let state = attr_after(
        &page.body[page
            .body
            .find("data-action=\"richiesta_integrazione\"")
            .unwrap()..],
        "name=\"stato\"",
        "value",
    );
    // Without the text of the request: refused, in Italian, with its code.
    let r = staff
        .post(
            &format!("{office_page}/azioni"),
            &[
                ("csrf", &staff_csrf),
                ("azione", "richiesta_integrazione"),
                ("stato", &state),
                ("nota", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-code=\"pratica_nota\""));
    let r = staff
        .post(
            &format!("{office_page}/azioni"),
            &[
                ("csrf", &staff_csrf),
                ("azione", "richiesta_integrazione"),
                ("stato", &state),
                ("nota", "Manca la planimetria firmata."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The citizen answers with a file.
    let page = citizen.get(&pratica).await;
    assert!(page.body.contains("Manca la planimetria firmata."));
    assert!(data_actions(&page.body).contains(&"integrazione".to_owned()));
    let cstate = attr_after(
        &page.body[page.body.find("data-action=\"integrazione\"").unwrap()..],
        "name=\"stato\"",
        "value",
    );
    let r = citizen
        .post_multipart(
            &format!("{pratica}/azioni?csrf={csrf}"),
            &[
                Part::Text("azione", "integrazione"),
                Part::Text("stato", &cstate),
                Part::Text("nota", "Ecco la planimetria firmata."),
                Part::File("file", "planimetria-firmata.pdf", PDF),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = citizen.get(&pratica).await;
    assert!(page.body.contains("Richiedi integrazione"), "{}", page.body);
    assert!(page.body.contains("Invia integrazione"));
    assert!(page.body.contains("planimetria-firmata.pdf"));
    // A stale state is refused, not applied twice.
    let r = citizen
        .post_multipart(
            &format!("{pratica}/azioni?csrf={csrf}"),
            &[
                Part::Text("azione", "integrazione"),
                Part::Text("stato", &cstate),
                Part::Text("nota", "Di nuovo."),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // The documents: the istanza and the files, for the applicant.
    let (status, headers, bytes) = citizen.get_bytes(&format!("{pratica}/documenti/0")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    let (status, _, bytes) = citizen.get_bytes(&format!("{pratica}/documenti/1")).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, PDF);
    // The office's request as registered, linked from its step: a PDF
    // with the request's text, for the applicant only.
    let page = citizen.get(&pratica).await;
    let links: Vec<String> = page
        .body
        .match_indices("data-element=\"documento-passo\"")
        .map(|(at, _)| {
            let start = page.body[..at].rfind("href=\"").unwrap() + 6;
            let end = start + page.body[start..].find('"').unwrap();
            page.body[start..end].to_owned()
        })
        .collect();
    assert_eq!(links.len(), 2, "the request and the integration: {links:?}");
    let (status, headers, bytes) = citizen.get_bytes(&links[0]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["cache-control"], "private, no-store");
    let text = palazzo_testkit::pdf_text(&bytes);
    assert!(text.contains("Manca la planimetria firmata."), "{text}");
    assert_eq!(stranger.get_bytes(&links[0]).await.0, 404);
    // No such step.
    for n in ["0", "99", "x"] {
        let (status, _, _) = citizen
            .get_bytes(&format!("{pratica}/passi/{n}/documento"))
            .await;
        assert_eq!(status, 404, "step {n}");
    }
    // The office's history has both steps.
    let page = staff.get(&office_page).await;
    assert!(page.body.contains("Richiedi integrazione"));
    assert!(page.body.contains("Invia integrazione"));
    assert!(page.body.contains("Ecco la planimetria firmata."));

    // Issue 6, part 4: messages, the responsabile, internal opinions and
    // the transfer, each a plain form; refusals 422 with role=alert.
    let messaggi = format!("{pratica}/messaggi?csrf={csrf}");
    let r = citizen
        .post_multipart(&messaggi, &[Part::Text("testo", "   ")], &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("role=\"alert\" data-code=\"messaggio_vuoto\"")
    );
    let r = citizen
        .post_multipart(
            &messaggi,
            &[
                Part::Text("testo", "Allego una foto."),
                Part::File("file", "foto.pdf", b"GIF89a not a pdf"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-code=\"allegato_tipo_non_ammesso\""));
    let r = citizen
        .post_multipart(
            &messaggi,
            &[
                Part::Text("testo", "Quando sarà pronta la risposta?"),
                Part::File("file", "delega.pdf", PDF),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = staff
        .post_multipart(
            &format!("{office_page}/messaggi?csrf={staff_csrf}"),
            &[
                Part::Text("testo", "Nota: sentire l'ufficio tecnico."),
                Part::Text("interno", "si"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = staff
        .post_multipart(
            &format!("{office_page}/messaggi?csrf={staff_csrf}"),
            &[Part::Text("testo", "Entro dieci giorni.")],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = citizen.get(&pratica).await;
    assert!(page.body.contains("Quando sarà pronta la risposta?"));
    assert!(page.body.contains("Entro dieci giorni."));
    assert!(
        !page.body.contains("sentire l'ufficio tecnico"),
        "internal notes stay internal"
    );
    let page = staff.get(&office_page).await;
    assert!(page.body.contains("Quando sarà pronta la risposta?"));
    assert!(page.body.contains("nota interna"));
    assert!(
        !page.body.contains("data-element=\"assegna\""),
        "an operatore does not assign"
    );

    let mut boss = Browser::new(&app, CASAMASSIMA);
    boss.demo_sign_in("dirigente").await;
    let page = boss.get(&office_page).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let boss_csrf = page.csrf().unwrap();
    let bstate = attr_after(
        &page.body[page.body.find("data-element=\"assegna\"").unwrap()..],
        "name=\"stato\"",
        "value",
    );
    let member = attr_after(&page.body, "id=\"assegna-responsabile\"", "value");
    let r = boss
        .post(
            &format!("{office_page}/assegnazione"),
            &[
                ("csrf", &boss_csrf),
                ("stato", &bstate),
                ("responsabile", "999999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("data-code=\"pratica_responsabile_non_ammesso\"")
    );
    let r = boss
        .post(
            &format!("{office_page}/assegnazione"),
            &[
                ("csrf", &boss_csrf),
                ("stato", &bstate),
                ("responsabile", &member),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = citizen.get(&pratica).await;
    assert!(
        !page.body.contains("Non ancora assegnato"),
        "the citizen sees the responsabile's name"
    );
    let other_office = snap.offices[1].id.0.to_string();
    let r = boss
        .post(
            &format!("{office_page}/pareri"),
            &[
                ("csrf", &boss_csrf),
                ("ufficio", &other_office),
                ("testo", "Ci sono vincoli sulla zona?"),
                ("giorni", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = boss.get(&office_page).await;
    assert!(page.body.contains("Ci sono vincoli sulla zona?"));
    assert!(page.body.contains("In attesa"));
    let list = boss.get("/backoffice/pareri").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let at = list.body.find("data-parere=\"").unwrap() + 13;
    let key = &list.body[at..at + list.body[at..].find('"').unwrap()];
    let (p, seq) = key.split_once('-').unwrap();
    let answer = format!("/backoffice/pareri/{p}/{seq}?csrf={boss_csrf}");
    let r = boss
        .post_multipart(
            &answer,
            &[Part::Text("esito", "favorevole"), Part::Text("testo", "")],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-code=\"parere_testo\""));
    let r = boss
        .post_multipart(
            &answer,
            &[
                Part::Text("esito", "favorevole_con_prescrizioni"),
                Part::Text("testo", "Rispettare le distanze."),
                Part::File("file", "parere.pdf", PDF),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = boss.get(&office_page).await;
    assert!(page.body.contains("Favorevole con prescrizioni"));
    // The opinion's PDF, linked from the pratica's page for the office
    // (the operatore of the pratica's office downloads it too); never for
    // the applicant, who does not see it among their documents either.
    let at = page
        .body
        .find("data-element=\"documento-parere\"")
        .expect("the opinion's document linked");
    let start = page.body[..at].rfind("href=\"").unwrap() + 6;
    let end = start + page.body[start..].find('"').unwrap();
    let link = page.body[start..end].to_owned();
    for who in [&mut boss, &mut staff] {
        let (status, headers, bytes) = who.get_bytes(&link).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/pdf");
        assert_eq!(bytes, PDF);
    }
    assert_eq!(citizen.get_bytes(&link).await.0, 403);
    assert!(!citizen.get(&pratica).await.body.contains("parere.pdf"));
    let r = boss
        .post(
            &format!("{office_page}/trasferimento"),
            &[
                ("csrf", &boss_csrf),
                ("stato", &bstate),
                ("ufficio", &other_office),
                ("motivo", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-code=\"pratica_motivo\""));
    let r = boss
        .post(
            &format!("{office_page}/trasferimento"),
            &[
                ("csrf", &boss_csrf),
                ("stato", &bstate),
                ("ufficio", &other_office),
                ("motivo", "Competenza dell'altro ufficio."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = staff.get("/backoffice/pratiche").await;
    assert!(
        !list.body.contains(&format!("data-pratica=\"{id}\"")),
        "the old office no longer has it"
    );
    app.stop().await;
}

/// Every step of every shipped service the demo offers renders (each kind
/// of field: parcels, addresses, positions, choices), with the step bar
/// and its labels tied to the inputs.
#[tokio::test]
async fn every_step_of_the_shipped_services_renders() {
    let app = TestApp::spawn(Backend::Sqlite, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    app.app.install_shipped_definitions(t.id).await.unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let resident = &app.app.demo_residents(t.id, 1).await.unwrap()[0];
    let mut b = Browser::new(&app, CASAMASSIMA);
    b.demo_sign_in(&format!("cf:{}", resident.codice_fiscale.as_str()))
        .await;
    let mut rendered = 0;
    let mut parcels = false;
    for s in palazzo_services::pratiche::SHIPPED {
        if snap.service(s.service).is_none()
            || app
                .app
                .service_definition(t.id, s.service, None)
                .await
                .unwrap()
                .is_none()
        {
            continue;
        }
        let start = format!("/area-personale/istanze/{}", s.service);
        let csrf = b.csrf_of(&start).await;
        let r = b.post(&start, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, 303, "{}: {}", s.service, r.body);
        let first = r.location().unwrap().to_owned();
        let base = &first[..first.rfind('/').unwrap()];
        let form = palazzo_domain::moduli::predefinito(s.form).unwrap();
        for step in &form.steps {
            let page = b.get(&format!("{base}/{}", step.id)).await;
            // A step hidden by a condition does not exist yet.
            assert!(
                page.status == 200 || page.status == 404,
                "{} {}: {}",
                s.service,
                step.id,
                page.status
            );
            if page.status == 200 {
                rendered += 1;
                assert!(page.body.contains("aria-current=\"step\""));
                for f in &step.fields {
                    if page.body.contains(&format!("data-field=\"{}\"", f.id)) {
                        assert!(
                            page.body.contains(&format!("id=\"campo-{}", f.id)),
                            "{} {}: field {} has no input",
                            s.service,
                            step.id,
                            f.id
                        );
                    }
                }
                parcels |= page.body.contains("data-element=\"riga-particella\"");
            }
        }
        let page = b.get(&format!("{base}/riepilogo")).await;
        assert_eq!(page.status, 200, "{}: {}", s.service, page.body);
    }
    assert!(rendered >= 5, "{rendered} steps rendered");
    assert!(parcels, "a form with cadastral parcels was rendered");
    app.stop().await;
}
