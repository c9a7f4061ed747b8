//! The cards of the service catalogue from the back office (issue 6,
//! part 1: admins create and edit services without code), the API and the
//! CLI.
//!
//! An admin opens «Nuova scheda», posts an incomplete card and gets every
//! problem next to its field with a 422 and what was typed kept; completes
//! it and the card is on the portal at once, with one `service.created`
//! event; a duplicate identificativo, an argomento outside the model's
//! vocabulary, an office of nobody and a `javascript:` address are refused;
//! the admin edits the card (inactive needs a reason; the portal shows the
//! reason), an unchanged save writes nothing, the identificativo cannot be
//! changed. The online-service editor then offers the new card. An operator
//! gets 403, the other comune's admin 404. The API does the same with the
//! ente file's format; the CLI exports a card and saves it back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_store::TenantId;
use palazzo_testkit::browser::{form_fields, unescape};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use palazzo_testkit::{cli, cli::text};
use serde_json::json;

const SLUG: &str = "bonus-bebe";
const NEW: &str = "/backoffice/schede-servizio/nuova";
const LIST: &str = "/backoffice/schede-servizio";

/// Posts the card form of `page` with `changes` (a `None` value removes
/// every field of that name, `("topics", Some(v))` adds one more argomento).
async fn post_card(
    b: &mut Browser,
    page: &Page,
    action: &str,
    changes: &[(&str, Option<&str>)],
) -> Page {
    let mut fields = form_fields(&page.body, "data-element=\"modulo-scheda\"");
    for (k, v) in changes {
        match v {
            None => fields.retain(|(n, _)| n != k),
            Some(v) if *k == "topics" => fields.push(((*k).to_owned(), (*v).to_owned())),
            Some(v) => match fields.iter_mut().find(|(n, _)| n == k) {
                Some(f) => f.1 = (*v).to_owned(),
                None => fields.push(((*k).to_owned(), (*v).to_owned())),
            },
        }
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(action, &pairs).await
}

/// Asserts that the error next to `field` says `text`.
fn assert_error(page: &Page, field: &str, text: &str) {
    let e =
        error_of(page, field).unwrap_or_else(|| panic!("no error next to {field}: {}", page.body));
    assert!(e.contains(text), "{field}: {e}");
}

/// A whole card (its argomenti reset to «Nascita») with `extra` on top.
fn card_with<'a>(extra: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, Option<&'a str>)> {
    let mut changes = vec![("topics", None)];
    changes.extend(complete());
    changes.extend_from_slice(extra);
    changes
}

/// The error shown next to field `name`, if any.
fn error_of(page: &Page, name: &str) -> Option<String> {
    let marker = format!("data-errore=\"{name}\"");
    let from = page.body.find(&marker)?;
    let at = from + page.body[from..].find('>')? + 1;
    let end = page.body[at..].find("</div>")?;
    Some(unescape(page.body[at..at + end].trim()))
}

fn complete() -> Vec<(&'static str, Option<&'static str>)> {
    vec![
        ("slug", Some(SLUG)),
        ("title", Some("Bonus bebè comunale")),
        ("category", Some("salute-benessere-e-assistenza")),
        (
            "summary",
            Some("Un contributo per ogni nuovo nato o adottato."),
        ),
        ("audience", Some("Famiglie residenti con un nuovo nato.")),
        ("how_to", Some("Presenta la domanda online.")),
        ("needed", Some("SPID o CIE; l'ISEE in corso di validità.")),
        ("achieved", Some("Un contributo di 500 euro.")),
        ("times", Some("Entro 30 giorni dalla domanda.")),
        ("access", Some("Online con SPID o CIE.")),
        ("conditions", Some("Termini e condizioni del servizio.")),
        ("topics", Some("Nascita")),
        ("service_type", Some("Salute, benessere e assistenza")),
    ]
}

#[tokio::test]
async fn catalogue_cards_from_the_back_office_sqlite() {
    catalogue_cards(Backend::Sqlite).await;
}

#[tokio::test]
async fn catalogue_cards_from_the_back_office_postgres() {
    catalogue_cards(Backend::Postgres).await;
}

async fn catalogue_cards(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let office = snap.offices[0].data.clone();
    let existing = snap.services[0].data.clone();

    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let home = admin.get("/backoffice").await;
    assert!(home.body.contains("href=\"/backoffice/schede-servizio\""));
    let list = admin.get(LIST).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body
            .contains(&format!("data-scheda=\"{}\"", existing.slug))
    );

    // Incomplete: every problem at once, next to its field, all kept.
    let form = admin.get(NEW).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body
            .contains(&format!("<option value=\"{}\"", office.slug))
    );
    let created_before = app.ledger_count(t.id, "service.created").await;
    let long_summary = "x".repeat(301);
    let page = post_card(
        &mut admin,
        &form,
        LIST,
        &[
            ("slug", Some("Bonus Bebè")),
            ("title", Some("Bonus bebè comunale")),
            ("summary", Some(&long_summary)),
            ("how_to", Some("Presenta la domanda online.")),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("data-element=\"errori-scheda\""));
    assert_error(&page, "slug", "lettere minuscole");
    assert_error(&page, "summary", "300 caratteri");
    assert_error(&page, "audience", "«A chi è rivolto» è obbligatorio");
    assert_error(&page, "topics", "almeno un argomento");
    assert_error(&page, "ufficio", "Indica l'ufficio");
    assert!(
        error_of(&page, "title").is_none(),
        "a good field has no error"
    );
    assert!(
        page.body.contains("value=\"Bonus bebè comunale\"")
            || page.body.contains("value=\"Bonus beb&#232; comunale\""),
        "typed text kept"
    );
    assert!(page.body.contains("Presenta la domanda online."));
    assert_eq!(
        app.ledger_count(t.id, "service.created").await,
        created_before
    );

    // Complete, with a tampered argomento and office first.
    let mut changes = complete();
    changes.push(("ufficio", Some(office.slug.as_str())));
    changes.push(("topics", Some("Calcetto")));
    let page = post_card(&mut admin, &page, LIST, &changes).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_error(&page, "topics", "«Calcetto»");
    assert!(page.body.contains("data-code=\"service_topic_unknown\""));
    // A tampered category or state, an argomento twice.
    let changes = card_with(&[
        ("ufficio", Some(office.slug.as_str())),
        ("topics", Some("Nascita")),
        ("category", Some("sport-estremi")),
        ("status", Some("sospeso")),
    ]);
    let page = post_card(&mut admin, &page, LIST, &changes).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_error(&page, "topics", "più di una volta");
    assert_error(&page, "category", "categorie");
    assert_error(&page, "status", "attivo");
    // Addresses the portal cannot link.
    for bad in ["/\\evil.example", "http://a.it", "//evil.example", "/a b"] {
        let changes = card_with(&[
            ("category", Some("salute-benessere-e-assistenza")),
            ("status", Some("active")),
            ("ufficio", Some(office.slug.as_str())),
            ("online_url", Some(bad)),
        ]);
        let page = post_card(&mut admin, &page, LIST, &changes).await;
        assert_eq!(page.status, 422, "{bad}: {}", page.body);
        assert_error(&page, "online_url", "https://");
    }
    // With an office of nobody: both problems at once.
    let changes = card_with(&[
        ("ufficio", Some("ufficio-di-nessuno")),
        ("online_url", Some("javascript:alert(1)")),
    ]);
    let page = post_card(&mut admin, &page, LIST, &changes).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_error(&page, "online_url", "https://");
    assert_error(&page, "ufficio", "«ufficio-di-nessuno» non esiste");
    assert!(error_of(&page, "topics").is_none());
    let changes = card_with(&[
        ("ufficio", Some(office.slug.as_str())),
        ("online_url", Some("")),
    ]);
    let saved = post_card(&mut admin, &page, LIST, &changes).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location(),
        Some(format!("{LIST}?salvata={SLUG}").as_str())
    );
    assert_eq!(
        app.ledger_count(t.id, "service.created").await,
        created_before + 1
    );
    let list = admin.get(saved.location().unwrap()).await;
    assert!(list.body.contains("data-element=\"scheda-salvata\""));
    assert!(list.body.contains(&format!("data-scheda=\"{SLUG}\"")));
    let card = app
        .app
        .portal(t.id)
        .await
        .unwrap()
        .service(SLUG)
        .cloned()
        .unwrap();
    assert_eq!(card.data.topics, vec!["Nascita".to_owned()]);
    assert_eq!(card.data.online_url, None);
    assert_eq!(card.data.costs, None);

    // On the portal at once, for anyone.
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    let public = visitor
        .get(&format!("/servizi/salute-benessere-e-assistenza/{SLUG}"))
        .await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(unescape(&public.body).contains("Un contributo per ogni nuovo nato o adottato."));

    // The same identificativo again.
    let form = admin.get(NEW).await;
    let mut changes = complete();
    changes.push(("ufficio", Some(office.slug.as_str())));
    let page = post_card(&mut admin, &form, LIST, &changes).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_error(&page, "slug", "Esiste già");

    // Edit: inactive needs a reason; the portal shows it.
    let edit_path = format!("/backoffice/schede-servizio/{SLUG}/modifica");
    let form = admin.get(&edit_path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("data-element=\"identificativo\""));
    assert!(
        !form.body.contains("name=\"slug\""),
        "the slug is not editable"
    );
    let updated_before = app.ledger_count(t.id, "service.updated").await;
    let page = post_card(
        &mut admin,
        &form,
        &edit_path,
        &[("status", Some("inactive")), ("status_reason", Some(""))],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_error(&page, "status_reason", "motivo");
    let page = post_card(
        &mut admin,
        &page,
        &edit_path,
        &[
            ("status", Some("inactive")),
            ("status_reason", Some("Bando chiuso fino a gennaio.")),
            ("costs", Some("Gratuito.")),
            ("online_url", Some("/area-personale/istanze/bonus-bebe")),
        ],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        app.ledger_count(t.id, "service.updated").await,
        updated_before + 1
    );
    let public = visitor
        .get(&format!("/servizi/salute-benessere-e-assistenza/{SLUG}"))
        .await;
    assert!(unescape(&public.body).contains("Bando chiuso fino a gennaio."));
    assert!(
        !public
            .body
            .contains("data-element=\"service-online-access\""),
        "no online button while inactive"
    );
    // Saving it unchanged writes nothing.
    let form = admin.get(&edit_path).await;
    let page = post_card(&mut admin, &form, &edit_path, &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        app.ledger_count(t.id, "service.updated").await,
        updated_before + 1
    );
    // Two admins edit the same card: the second save does not overwrite
    // the first.
    let first = admin.get(&edit_path).await;
    let second = admin.get(&edit_path).await;
    let page = post_card(
        &mut admin,
        &first,
        &edit_path,
        &[("times", Some("Entro 25 giorni."))],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = post_card(
        &mut admin,
        &second,
        &edit_path,
        &[("times", Some("Entro 40 giorni."))],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("modificata da un"), "{}", page.body);
    assert_eq!(
        app.app
            .portal(t.id)
            .await
            .unwrap()
            .service(SLUG)
            .unwrap()
            .data
            .times,
        "Entro 25 giorni."
    );
    let form = admin.get(&edit_path).await;
    // A slug smuggled into the edit form changes nothing.
    let page = post_card(&mut admin, &form, &edit_path, &[("slug", Some("altro"))]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let snap = app.app.portal(t.id).await.unwrap();
    assert!(snap.service("altro").is_none() && snap.service(SLUG).is_some());

    // The online-service editor offers the new card.
    let editor = admin.get("/backoffice/servizi-online/nuovo").await;
    assert!(editor.body.contains(&format!("<option value=\"{SLUG}\"")));

    // An operator may not; the other comune does not see the card.
    let mut operator = Browser::new(&app, CASAMASSIMA);
    operator.demo_sign_in("operatore").await;
    assert_eq!(operator.get(NEW).await.status, 403);
    let csrf = operator.csrf_of("/backoffice/chiavi-api").await;
    assert_eq!(
        operator
            .post(&edit_path, &[("csrf", &csrf), ("title", "Preso")])
            .await
            .status,
        403
    );
    let mut other = Browser::new(&app, ACQUAVIVA);
    other.demo_sign_in("admin").await;
    assert_eq!(other.get(&edit_path).await.status, 404);
    let csrf = other.csrf_of("/backoffice/chiavi-api").await;
    assert_eq!(
        other
            .post(&edit_path, &[("csrf", &csrf), ("title", "Preso")])
            .await
            .status,
        404
    );
    assert!(!other.get(LIST).await.body.contains(SLUG));

    api(&app, &mut admin, t.id, &office.slug).await;
    app.stop().await;
}

/// Replaces the card `bonus-nonni` through the API with `If-Match: etag`.
async fn replace_if_match(
    admin: &mut Browser,
    key: &str,
    etag: &str,
    card: &serde_json::Value,
) -> Page {
    let auth = format!("Bearer {key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("if-match", etag),
    ];
    admin
        .request(
            reqwest::Method::POST,
            "/api/v1/schede-servizio/bonus-nonni",
            &headers,
            serde_json::to_vec(card).unwrap(),
        )
        .await
}

/// The same through the API, in the ente file's format.
async fn api(app: &TestApp, admin: &mut Browser, t: TenantId, office: &str) {
    let key = admin.api_key("schede").await;
    let got = admin
        .api("GET", &format!("/schede-servizio/{SLUG}"), &key, None)
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let mut card: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(card["ufficio"], office);
    assert_eq!(card["status"]["state"], "inactive");
    assert!(card.get("office").is_none(), "no internal id: {card}");

    // Nobody, or a member of staff without the permission.
    let mut nobody = Browser::new(app, CASAMASSIMA);
    assert_eq!(
        nobody
            .api("GET", &format!("/schede-servizio/{SLUG}"), "", None)
            .await
            .status,
        401
    );
    let mut operator = Browser::new(app, CASAMASSIMA);
    operator.demo_sign_in("operatore").await;
    let op_key = operator.api_key("op").await;
    assert_eq!(
        operator
            .api("POST", "/schede-servizio", &op_key, Some(card.clone()))
            .await
            .status,
        403
    );

    // A new card.
    card["slug"] = json!("bonus-nonni");
    card["title"] = json!("Bonus nonni");
    card["status"] = json!({ "state": "active" });
    let created_before = app.ledger_count(t, "service.created").await;
    let r = admin
        .api("POST", "/schede-servizio", &key, Some(card.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    assert_eq!(
        app.ledger_count(t, "service.created").await,
        created_before + 1
    );
    let again = admin
        .api("POST", "/schede-servizio", &key, Some(card.clone()))
        .await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("service_slug_taken"), "{}", again.body);

    // Every problem in one 422, nothing saved.
    let mut bad = card.clone();
    bad["slug"] = json!("bonus-zii");
    bad["title"] = json!("");
    bad["topics"] = json!(["Calcetto"]);
    bad["ufficio"] = json!("ufficio-di-nessuno");
    let r = admin.api("POST", "/schede-servizio", &key, Some(bad)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("service_title_required"), "{}", r.body);
    assert!(
        r.body.contains("Calcetto") && r.body.contains("ufficio-di-nessuno"),
        "every problem listed: {}",
        r.body
    );
    assert!(
        app.app
            .portal(t)
            .await
            .unwrap()
            .service("bonus-zii")
            .is_none()
    );
    let r = admin
        .api("POST", "/schede-servizio", &key, Some(json!({ "slug": 3 })))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("invalid_fields"), "{}", r.body);

    // Replace: the slug cannot change; an unknown card is 404.
    card["times"] = json!("Entro 20 giorni.");
    let r = replace_if_match(admin, &key, &etag, &card).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let saved: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(saved["times"], "Entro 20 giorni.");
    // The same If-Match again: the card changed since, nothing saved.
    let mut stale = card.clone();
    stale["times"] = json!("Entro 99 giorni.");
    let r = replace_if_match(admin, &key, &etag, &stale).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("service_card_changed"), "{}", r.body);
    let r = admin
        .api(
            "POST",
            &format!("/schede-servizio/{SLUG}"),
            &key,
            Some(card.clone()),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("service_slug_immutable"), "{}", r.body);
    let r = admin
        .api("POST", "/schede-servizio/nessuna", &key, Some(card.clone()))
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

/// `palazzo servizi-online esporta-scheda` / `salva-scheda` on a demo
/// installation: a card exported as TOML comes back changed as an update,
/// a new slug makes a new card (JSON), a bad file saves nothing.
#[tokio::test]
async fn cards_round_trip_through_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "schede-cli", 10);
    let dir = &demo.dir;
    let with = |args: &[&str]| demo.run(args);
    let path = |name: &str| demo.path(name);
    let open = || async {
        let app = cli::open_sqlite(dir.path()).await;
        let t = app
            .tenants()
            .into_iter()
            .find(|t| t.data.slug == "casamassima")
            .unwrap()
            .id;
        (app, t)
    };
    let (app, t) = open().await;
    let slug = app.portal(t).await.unwrap().services[0].data.slug.clone();
    app.db().close().await;

    let toml = path("scheda.toml");
    let out = with(&[
        "servizi-online",
        "esporta-scheda",
        "--servizio",
        &slug,
        "--out",
        &toml,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let exported = std::fs::read_to_string(&toml).unwrap();
    assert!(
        exported.contains(&format!("slug = \"{slug}\"")),
        "{exported}"
    );
    assert!(exported.contains("ufficio = "), "{exported}");
    let mut value: toml::Value = toml::from_str(&exported).unwrap();
    value.as_table_mut().unwrap().insert(
        "times".into(),
        toml::Value::String("Subito, allo sportello.".into()),
    );
    std::fs::write(&toml, toml::to_string(&value).unwrap()).unwrap();
    let out = with(&["servizi-online", "salva-scheda", "--file", &toml]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("aggiornata"), "{}", text(&out));

    // A new card, as JSON.
    let json_path = path("nuova.json");
    let out = with(&[
        "servizi-online",
        "esporta-scheda",
        "--servizio",
        &slug,
        "--json",
        "--out",
        &json_path,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let mut card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(card["times"], "Subito, allo sportello.");
    card["slug"] = json!("scheda-da-riga-di-comando");
    std::fs::write(&json_path, card.to_string()).unwrap();
    let out = with(&["servizi-online", "salva-scheda", "--file", &json_path]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("creata"), "{}", text(&out));

    // A bad file: every problem, nothing saved.
    card["slug"] = json!("scheda-sbagliata");
    card["summary"] = json!("");
    card["topics"] = json!(["Calcetto"]);
    std::fs::write(&json_path, card.to_string()).unwrap();
    let out = with(&["servizi-online", "salva-scheda", "--file", &json_path]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("service_summary_required"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("service_topic_unknown"),
        "{}",
        text(&out)
    );

    let (app, t) = open().await;
    let snap = app.portal(t).await.unwrap();
    assert_eq!(
        snap.service(&slug).unwrap().data.times,
        "Subito, allo sportello."
    );
    assert!(snap.service("scheda-da-riga-di-comando").is_some());
    assert!(snap.service("scheda-sbagliata").is_none());
    app.db().close().await;
}
