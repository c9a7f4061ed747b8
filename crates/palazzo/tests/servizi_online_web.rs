//! The back-office editor of the online services (issue 6, part 1), driven
//! like a browser without JavaScript: every POST sends back the whole
//! editor form as the page rendered it, with the inputs changed and the
//! button pressed.
//!
//! An admin creates a new online service step by step (a step, a number
//! field, a choice field with its options), previews it with the citizen's
//! own rendering and publishes version 1; an invalid edit (a duplicate key,
//! an empty label) is refused with 422, the Italian messages next to the
//! fields and everything typed kept; a resident sees and fills the new
//! fields and files a pratica; the admin edits the service (version 2): the
//! old pratica keeps version 1 and a new draft uses version 2. Export and
//! import go through the list page, a bad file is refused with a clear
//! message. An operator gets 403, the other comune's admin does not see the
//! service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::portal::{ServiceCategory, ServiceStatus};
use palazzo_services::pratiche::ServiceDefinition;
use palazzo_store::{NewService, PraticaId, Store};
use palazzo_testkit::browser::Part;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};

const SLUG: &str = "contributo-di-prova";
const LIST: &str = "/backoffice/servizi-online";
const EDITOR: &str = "/backoffice/servizi-online/editor";

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// An active card of the catalogue, requested online.
fn card(slug: &str, office: palazzo_store::OfficeId) -> NewService {
    NewService {
        slug: slug.into(),
        category: ServiceCategory::AnagrafeStatoCivile,
        title: format!("Servizio {slug}"),
        status: ServiceStatus::Active,
        summary: "Un servizio.".into(),
        audience: "Tutti.".into(),
        how_to: "Compila il modulo online.".into(),
        needed: "SPID o CIE.".into(),
        achieved: "Una risposta.".into(),
        times: "45 giorni.".into(),
        costs: None,
        access: "Online con SPID o CIE.".into(),
        online_url: Some(format!("/area-personale/istanze/{slug}")),
        conditions: "Termini e condizioni.".into(),
        office,
        topics: vec!["Anagrafe".into()],
        service_type: "Anagrafe e stato civile".into(),
        audience_type: "cittadini".into(),
    }
}

/// The value of ` attr="…"` in a tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + end]))
}

/// The successful controls of the form marked `marker`, as a browser would
/// post them (submit buttons left out).
fn form_fields(body: &str, marker: &str) -> Vec<(String, String)> {
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {body}"));
    let form_start = body[..start].rfind("<form").unwrap();
    let form = &body[form_start..form_start + body[form_start..].find("</form>").unwrap()];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..=end];
        if tag.starts_with("<input") {
            let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
            if let Some(name) = attr(tag, "name") {
                match kind.as_str() {
                    "checkbox" | "radio" => {
                        if tag.contains(" checked") {
                            out.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
                        }
                    }
                    "submit" | "file" => {}
                    _ => out.push((name, attr(tag, "value").unwrap_or_default())),
                }
            }
        } else if tag.starts_with("<textarea") {
            let close = rest.find("</textarea>").unwrap();
            if let Some(name) = attr(tag, "name") {
                out.push((name, unescape(&rest[end + 1..close])));
            }
        } else if tag.starts_with("<select") {
            let close = rest.find("</select>").unwrap();
            let inner = &rest[end + 1..close];
            let options: Vec<&str> = inner
                .match_indices("<option")
                .map(|(i, _)| &inner[i..i + inner[i..].find('>').unwrap() + 1])
                .collect();
            let chosen = options
                .iter()
                .find(|o| o.contains(" selected"))
                .or(options.first());
            if let (Some(name), Some(o)) = (attr(tag, "name"), chosen) {
                out.push((name, attr(o, "value").unwrap_or_default()));
            }
        }
        rest = &rest[end + 1..];
    }
    out
}

/// Posts the editor form of `page` with `changes` applied and `action`.
async fn edit(b: &mut Browser, page: &Page, changes: &[(&str, &str)], action: &str) -> Page {
    let marker = if page.body.contains("data-element=\"editor-servizio\"") {
        "data-element=\"editor-servizio\""
    } else {
        "data-element=\"anteprima-azioni\""
    };
    let mut fields = form_fields(&page.body, marker);
    for (k, v) in changes {
        match fields.iter_mut().find(|(n, _)| n == k) {
            Some(f) => f.1 = (*v).to_owned(),
            None => fields.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    fields.push(("azione".into(), action.into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(EDITOR, &pairs).await
}

/// Does the page have an input named `name`?
fn has_field(page: &Page, name: &str) -> bool {
    page.body.contains(&format!("name=\"{name}\""))
}

fn apostrophe(body: &str, text: &str) -> bool {
    body.contains(&text.replace('\'', "&#39;")) || body.contains(&text.replace('\'', "&#x27;"))
}

async fn ledger_events(app: &TestApp, t: palazzo_store::TenantId, kind: &str) -> usize {
    app.app
        .db()
        .ledger_events(t, 0, u64::MAX / 2)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

#[tokio::test]
async fn service_editor_sqlite() {
    service_editor(Backend::Sqlite).await;
}

#[tokio::test]
async fn service_editor_postgres() {
    service_editor(Backend::Postgres).await;
}

async fn service_editor(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let office = snap.offices[0].id;
    app.app
        .create_service(t.id, card(SLUG, office))
        .await
        .unwrap();

    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let home = admin.get("/backoffice").await;
    assert!(home.body.contains("href=\"/backoffice/servizi-online\""));
    let list = admin.get(LIST).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("data-element=\"nuovo-servizio\""));
    assert!(!list.body.contains(&format!("data-servizio=\"{SLUG}\"")));

    // A new service, step by step.
    let page = admin.get("/backoffice/servizi-online/nuovo").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("<option value=\"{SLUG}\"")));
    let page = edit(
        &mut admin,
        &page,
        &[
            ("servizio", SLUG),
            ("codice", ""),
            ("titolo", "Domanda di contributo di prova"),
            ("classificazione", "I.8"),
            ("oggetto", "Contributo di prova – {richiedente}"),
            ("procedura", "ordinario"),
            ("termine", "45"),
            ("nuovo_passo.titolo", "Dati della domanda"),
        ],
        "passo_aggiungi",
    )
    .await;
    // Not finished (a step without fields) is not an error yet.
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-passo=\"dati_della_domanda\""));
    assert!(
        page.body
            .contains("Da completare prima della pubblicazione")
    );
    assert!(
        page.body
            .contains("Il passo «dati_della_domanda» non ha alcun campo.")
    );

    let page = edit(
        &mut admin,
        &page,
        &[
            ("p0.nuovo.etichetta", "Numero di componenti"),
            ("p0.nuovo.tipo", "numero"),
        ],
        "campo_aggiungi:0",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-campo=\"numero_di_componenti\""));
    assert!(has_field(&page, "p0.c0.valore_max"), "number rules offered");
    let page = edit(
        &mut admin,
        &page,
        &[
            ("p0.nuovo.etichetta", "Tipo di contributo"),
            ("p0.nuovo.id", "tipo_contributo"),
            ("p0.nuovo.tipo", "scelta"),
        ],
        "campo_aggiungi:0",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(has_field(&page, "p0.c1.opzioni"), "options offered");
    assert!(
        page.body
            .contains("Il campo a scelta «tipo_contributo» non ha alcuna opzione.")
    );
    let page = edit(
        &mut admin,
        &page,
        &[
            ("p0.c0.obbligatorio", "si"),
            ("p0.c0.valore_max", "20"),
            ("p0.c1.obbligatorio", "si"),
            (
                "p0.c1.opzioni",
                "affitto = Sostegno all'affitto\nutenze = Bollette",
            ),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("data-element=\"errori-editor\""),
        "{}",
        page.body
    );

    // Reorder: the choice first, then back.
    let moved = edit(&mut admin, &page, &[], "campo_su:0:1").await;
    assert_eq!(moved.status, 200);
    let a = moved.body.find("data-campo=\"tipo_contributo\"").unwrap();
    let b = moved
        .body
        .find("data-campo=\"numero_di_componenti\"")
        .unwrap();
    assert!(a < b, "moved up");
    let page = edit(&mut admin, &moved, &[], "campo_giu:0:0").await;
    let a = page.body.find("data-campo=\"tipo_contributo\"").unwrap();
    let b = page
        .body
        .find("data-campo=\"numero_di_componenti\"")
        .unwrap();
    assert!(b < a, "moved back");

    // An invalid edit: a key used twice and an empty label.
    let bad = edit(
        &mut admin,
        &page,
        &[
            ("p0.c1.id", "numero_di_componenti"),
            ("p0.c0.etichetta", ""),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("role=\"alert\""));
    assert!(
        apostrophe(
            &bad.body,
            "L'identificativo «numero_di_componenti» è usato più di una volta."
        ),
        "{}",
        bad.body
    );
    assert!(apostrophe(
        &bad.body,
        "«numero_di_componenti» ha un titolo, un'etichetta o un testo vuoto."
    ));
    // What was typed is still there.
    assert!(bad.body.contains("value=\"Tipo di contributo\""));
    assert!(apostrophe(&bad.body, "affitto = Sostegno all'affitto"));
    // Publishing it is refused the same way, nothing is saved.
    let refused = edit(&mut admin, &bad, &[], "pubblica").await;
    assert_eq!(refused.status, 422);
    assert!(
        app.app
            .service_definition(t.id, SLUG, None)
            .await
            .unwrap()
            .is_none()
    );
    let page = edit(
        &mut admin,
        &refused,
        &[
            ("p0.c1.id", "tipo_contributo"),
            ("p0.c0.etichetta", "Numero di componenti"),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);

    // The preview: the citizen's rendering of the fields.
    let preview = edit(&mut admin, &page, &[], "anteprima").await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("data-element=\"anteprima-passo\""));
    assert!(preview.body.contains("data-field=\"numero_di_componenti\""));
    assert!(preview.body.contains("inputmode=\"numeric\""));
    assert!(
        preview
            .body
            .contains("name=\"tipo_contributo\" value=\"affitto\"")
    );
    assert!(apostrophe(&preview.body, "Sostegno all'affitto"));

    // Publish from the preview: version 1, one ledger event.
    let before = ledger_events(&app, t.id, "servizio_online.definito").await;
    let r = edit(&mut admin, &preview, &[], "pubblica").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("{LIST}?pubblicato={SLUG}&versione=1").as_str())
    );
    assert_eq!(
        ledger_events(&app, t.id, "servizio_online.definito").await,
        before + 1
    );
    let stored = app
        .app
        .service_definition(t.id, SLUG, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
    let form = &stored.definition.form;
    assert_eq!(form.code, SLUG);
    assert_eq!(stored.definition.procedure.term_days, 45);
    let ids: Vec<&str> = form.fields().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["numero_di_componenti", "tipo_contributo"]);
    assert_eq!(form.fields().next().unwrap().rules.max_value, Some(20));
    let list = admin.get(r.location().unwrap()).await;
    assert!(list.body.contains("data-element=\"servizio-pubblicato\""));
    assert!(list.body.contains(&format!("data-servizio=\"{SLUG}\"")));

    // A resident sees the new fields and files a pratica.
    let resident = &app.app.demo_residents(t.id, 1).await.unwrap()[0];
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    citizen
        .demo_sign_in(&format!("cf:{}", resident.codice_fiscale.as_str()))
        .await;
    let start = format!("/area-personale/istanze/{SLUG}");
    let csrf = citizen.csrf_of(&start).await;
    let r = citizen.post(&start, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let step = r.location().unwrap().to_owned();
    assert!(step.ends_with("/dati_della_domanda"), "{step}");
    let page = citizen.get(&step).await;
    assert!(page.body.contains("Numero di componenti"));
    assert!(
        page.body
            .contains("name=\"tipo_contributo\" value=\"affitto\"")
    );
    // The engine applies the rule set in the editor (at most 20).
    let r = citizen
        .post(
            &step,
            &[
                ("csrf", &csrf),
                ("numero_di_componenti", "25"),
                ("tipo_contributo", "affitto"),
                ("_azione", "avanti"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = citizen
        .post(
            &step,
            &[
                ("csrf", &csrf),
                ("numero_di_componenti", "3"),
                ("tipo_contributo", "affitto"),
                ("_azione", "avanti"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let riepilogo = r.location().unwrap().to_owned();
    assert!(riepilogo.ends_with("/riepilogo"), "{riepilogo}");
    let page = citizen.get(&riepilogo).await;
    assert!(apostrophe(&page.body, "Sostegno all'affitto"));
    let key = attr(
        &page.body[page.body.find("name=\"_chiave\"").unwrap()..],
        "value",
    )
    .unwrap();
    let r = citizen
        .post(&riepilogo, &[("csrf", &csrf), ("_chiave", &key)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let pratica_id: i64 = r
        .location()
        .unwrap()
        .trim_start_matches("/area-personale/pratiche/")
        .trim_end_matches("?inviata=1")
        .parse()
        .unwrap();
    let pratica = app
        .app
        .db()
        .pratica(t.id, PraticaId(pratica_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pratica.data.definition_version, 1);

    // Editing the service makes version 2; the pratica keeps version 1.
    let page = admin
        .get(&format!("/backoffice/servizi-online/{SLUG}/modifica"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("value=\"Numero di componenti\""));
    // Silenzio-assenso is refused on a matter art. 20 c.4 excludes.
    let refused = edit(
        &mut admin,
        &page,
        &[("procedura", "silenzio_assenso"), ("materia", "ambiente")],
        "aggiorna",
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Il silenzio-assenso non si applica alla materia «ambiente»"),
        "{}",
        refused.body
    );
    let page = edit(
        &mut admin,
        &refused,
        &[
            ("procedura", "ordinario"),
            ("materia", "altro"),
            ("termine", "45"),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page = edit(
        &mut admin,
        &page,
        &[
            ("p0.nuovo.etichetta", "Note per l'ufficio"),
            ("p0.nuovo.id", "note"),
            ("p0.nuovo.tipo", "testo_lungo"),
        ],
        "campo_aggiungi:0",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let r = edit(&mut admin, &page, &[], "pubblica").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("{LIST}?pubblicato={SLUG}&versione=2").as_str())
    );
    let pratica = app
        .app
        .db()
        .pratica(t.id, PraticaId(pratica_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        pratica.data.definition_version, 1,
        "a filed pratica keeps its version"
    );
    let v1 = app
        .app
        .service_definition(t.id, SLUG, Some(1))
        .await
        .unwrap()
        .unwrap();
    assert!(
        v1.definition.form.field("note").is_none(),
        "version 1 unchanged"
    );
    // A new draft uses version 2.
    let r = citizen.post(&start, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = citizen.get(r.location().unwrap()).await;
    assert!(page.body.contains("name=\"note\""), "{}", page.body);

    // An editor opened now, published after someone else's version.
    let stale = page_of_editor(&mut admin).await;

    // Export, then import as a new version.
    let (status, headers, bytes) = admin
        .get_bytes(&format!(
            "/backoffice/servizi-online/{SLUG}/esporta?formato=toml"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("servizio-{SLUG}-v2.toml"))
    );
    let text = String::from_utf8(bytes).unwrap();
    let exported = ServiceDefinition::from_toml(&text).unwrap();
    let v2 = app
        .app
        .service_definition(t.id, SLUG, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&exported, &*v2.definition);
    let csrf_admin = admin.csrf_of(LIST).await;
    let import = format!("/backoffice/servizi-online/importa?csrf={csrf_admin}");
    let changed = text.replace(
        "Domanda di contributo di prova",
        "Domanda di contributo (importata)",
    );
    let r = admin
        .post_multipart(
            &import,
            &[Part::File("file", "servizio.toml", changed.as_bytes())],
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("{LIST}?pubblicato={SLUG}&versione=3").as_str())
    );
    let r = edit(
        &mut admin,
        &stale,
        &[("titolo", "Scritto nel frattempo")],
        "pubblica",
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Nel frattempo è stata pubblicata la versione 3")
    );
    assert!(r.body.contains("value=\"Scritto nel frattempo\""));

    // A file that is not a definition, and one with an invalid form.
    let r = admin
        .post_multipart(
            &import,
            &[Part::File(
                "file",
                "foto.toml",
                b"\x89PNG\r\n\x1a\n not toml",
            )],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-element=\"errore-importazione\""));
    let mut invalid = exported.clone();
    invalid.form.steps[0].fields[1].id = "numero_di_componenti".into();
    let r = admin
        .post_multipart(
            &import,
            &[Part::File(
                "file",
                "servizio.json",
                invalid.to_json().unwrap().as_bytes(),
            )],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("role=\"alert\""));
    assert!(apostrophe(
        &r.body,
        "L'identificativo «numero_di_componenti» è usato più di una volta."
    ));
    let big = vec![b'#'; 300 * 1024];
    let r = admin
        .post_multipart(&import, &[Part::File("file", "grande.toml", &big)], &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("supera la dimensione massima"));
    let current = app
        .app
        .service_definition(t.id, SLUG, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.version, 3, "refused imports saved nothing");

    // An operator may not use the editor.
    let mut operator = Browser::new(&app, CASAMASSIMA);
    operator.demo_sign_in("operatore").await;
    assert_eq!(operator.get(LIST).await.status, 403);
    assert_eq!(
        operator
            .get(&format!("/backoffice/servizi-online/{SLUG}/modifica"))
            .await
            .status,
        403
    );
    let csrf_op = operator.csrf_of("/backoffice").await;
    let r = operator
        .post(EDITOR, &[("csrf", &csrf_op), ("stato", "{}")])
        .await;
    assert_eq!(r.status, 403);
    assert!(
        !operator
            .get("/backoffice")
            .await
            .body
            .contains("/backoffice/servizi-online")
    );

    // The other comune's admin does not see this comune's service.
    let mut other = Browser::new(&app, ACQUAVIVA);
    other.demo_sign_in("admin").await;
    let list = other.get(LIST).await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(&format!("data-servizio=\"{SLUG}\"")));
    assert_eq!(
        other
            .get(&format!("/backoffice/servizi-online/{SLUG}/modifica"))
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .get(&format!("/backoffice/servizi-online/{SLUG}/esporta"))
            .await
            .status,
        404
    );
    // Nor does its session work here.
    let mut cross = Browser::new(&app, CASAMASSIMA);
    cross.cookies = other.cookies.clone();
    let r = cross.get(LIST).await;
    assert_ne!(r.status, 200);
    app.stop().await;
}

async fn page_of_editor(admin: &mut Browser) -> Page {
    admin
        .get(&format!("/backoffice/servizi-online/{SLUG}/modifica"))
        .await
}

/// The definition an editor page carries in its hidden `stato` field.
fn carried(page: &Page) -> ServiceDefinition {
    let at = page.body.find("name=\"stato\"").unwrap();
    let state: serde_json::Value =
        serde_json::from_str(&attr(&page.body[at..], "value").unwrap()).unwrap();
    serde_json::from_value(state["def"].clone()).unwrap()
}

/// Every shipped definition goes through the editor unchanged: opening it,
/// applying the form as rendered and publishing gives the same definition
/// as a new version (nothing the editor does not show is lost, nothing it
/// shows is altered).
#[tokio::test]
async fn shipped_definitions_go_through_the_editor_unchanged() {
    let app = TestApp::spawn(Backend::Sqlite, 1).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    // A card for every shipped service, so that every shipped form is tried.
    let snap = app.app.portal(t.id).await.unwrap();
    for s in palazzo_services::pratiche::SHIPPED {
        if snap.service(s.service).is_none() {
            app.app
                .create_service(t.id, card(s.service, snap.offices[0].id))
                .await
                .unwrap();
        }
    }
    app.app.install_shipped_definitions(t.id).await.unwrap();
    let defs = app.app.service_definitions(t.id).await.unwrap();
    assert_eq!(defs.len(), palazzo_services::pratiche::SHIPPED.len());
    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    for d in defs {
        let slug = d.definition.service.clone();
        let page = admin
            .get(&format!("/backoffice/servizi-online/{slug}/modifica"))
            .await;
        assert_eq!(page.status, 200, "{slug}: {}", page.body);
        let applied = edit(&mut admin, &page, &[], "aggiorna").await;
        assert_eq!(applied.status, 200, "{slug}: {}", applied.body);
        assert!(
            !applied.body.contains("data-element=\"errori-editor\""),
            "{slug}: {}",
            applied.body
        );
        assert_eq!(carried(&applied), *d.definition, "{slug}");
        let r = edit(&mut admin, &applied, &[], "pubblica").await;
        assert_eq!(r.status, 303, "{slug}: {}", r.body);
        let next = app
            .app
            .service_definition(t.id, &slug, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.version, d.version + 1, "{slug}");
        let mut expected = (*d.definition).clone();
        expected.form.version = next.version;
        assert_eq!(*next.definition, expected, "{slug}");
    }
    app.stop().await;
}
