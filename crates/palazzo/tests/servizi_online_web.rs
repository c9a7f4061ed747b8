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
use palazzo_testkit::browser::{Part, attr, form_fields};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};

const SLUG: &str = "contributo-di-prova";
const LIST: &str = "/backoffice/servizi-online";
const EDITOR: &str = "/backoffice/servizi-online/editor";

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
    let before = app.ledger_count(t.id, "servizio_online.definito").await;
    let r = edit(&mut admin, &preview, &[], "pubblica").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("{LIST}?pubblicato={SLUG}&versione=1").as_str())
    );
    assert_eq!(
        app.ledger_count(t.id, "servizio_online.definito").await,
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

const COND_SLUG: &str = "contributo-condizionato";

/// Adds a field to step `step` of the editor page.
async fn add_field(
    b: &mut Browser,
    page: &Page,
    step: usize,
    label: &str,
    id: &str,
    kind: &str,
) -> Page {
    let prefix = format!("p{step}.nuovo");
    let r = edit(
        b,
        page,
        &[
            (&format!("{prefix}.etichetta"), label),
            (&format!("{prefix}.id"), id),
            (&format!("{prefix}.tipo"), kind),
        ],
        &format!("campo_aggiungi:{step}"),
    )
    .await;
    assert!(
        r.body.contains(&format!("data-campo=\"{id}\"")),
        "{}",
        r.body
    );
    r
}

/// The markup of the clause (or condition) whose element id is `id`, up to
/// the end of its fieldset.
fn element<'a>(page: &'a Page, id: &str) -> &'a str {
    let at = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} not in {}", page.body));
    let rest = &page.body[at..];
    &rest[..rest.find("</fieldset>").unwrap()]
}

/// Posts step `step` of a draft with `answers` and "Avanti"; returns the page.
async fn answer(
    b: &mut Browser,
    draft: &str,
    step: &str,
    csrf: &str,
    answers: &[(&str, &str)],
) -> Page {
    let mut form = vec![("csrf", csrf), ("_azione", "avanti")];
    form.extend_from_slice(answers);
    b.post(&format!("{draft}/{step}"), &form).await
}

#[tokio::test]
async fn conditions_built_in_the_editor_sqlite() {
    conditions_built_in_the_editor(Backend::Sqlite).await;
}

#[tokio::test]
async fn conditions_built_in_the_editor_postgres() {
    conditions_built_in_the_editor(Backend::Postgres).await;
}

/// Compound conditions on a step, an attachment and a declaration and the
/// count limits, built through the posted editor form: bad clauses and
/// limits are refused next to what they concern with what was typed kept,
/// tampered inputs are refused, and the published form shows and hides the
/// step, the attachment and the declaration for the citizen as the
/// conditions say.
async fn conditions_built_in_the_editor(backend: Backend) {
    use palazzo_domain::moduli::Condition;

    let app = TestApp::spawn(backend, 3).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    app.app
        .create_service(t.id, card(COND_SLUG, snap.offices[0].id))
        .await
        .unwrap();
    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let page = admin.get("/backoffice/servizi-online/nuovo").await;
    let page = edit(
        &mut admin,
        &page,
        &[
            ("servizio", COND_SLUG),
            ("codice", ""),
            ("titolo", "Contributo condizionato"),
            ("classificazione", "I.8"),
            ("oggetto", "Contributo – {richiedente}"),
            ("procedura", "ordinario"),
            ("termine", "30"),
            ("nuovo_passo.titolo", "Richiesta"),
            ("nuovo_passo.id", "richiesta"),
        ],
        "passo_aggiungi",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !has_field(&page, "p0.cond.modo"),
        "the first step has nothing before it to read"
    );
    let page = add_field(&mut admin, &page, 0, "Tipo di contributo", "tipo", "scelta").await;
    let page = add_field(
        &mut admin,
        &page,
        0,
        "Componenti del nucleo",
        "componenti",
        "numero",
    )
    .await;
    let page = add_field(&mut admin, &page, 0, "Servizi", "servizi", "scelta").await;
    let page = add_field(
        &mut admin,
        &page,
        0,
        "Particelle",
        "particelle",
        "particella_catastale",
    )
    .await;
    let page = edit(
        &mut admin,
        &page,
        &[
            ("p0.c0.obbligatorio", "si"),
            (
                "p0.c0.opzioni",
                "affitto = Affitto\nutenze = Utenze\naltro = Altro",
            ),
            ("p0.c2.obbligatorio", "si"),
            ("p0.c2.opzioni", "luce = Luce\ngas = Gas\nacqua = Acqua"),
            ("p0.c2.multipla", "si"),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        has_field(&page, "p0.c2.scelte_max"),
        "limits of a multiple choice"
    );
    assert!(
        !has_field(&page, "p0.c0.scelte_max"),
        "not for a single choice"
    );
    assert!(has_field(&page, "p0.c3.righe_max"), "limit of the parcels");

    // Count limits: incoherent ones are refused next to the field, as typed.
    let bad = edit(
        &mut admin,
        &page,
        &[
            ("p0.c2.scelte_min", "3"),
            ("p0.c2.scelte_max", "2"),
            ("p0.c3.righe_max", "0"),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        element(&bad, "p0-c2")
            .contains("Il campo «servizi» ha limiti incoerenti (scelte_min/scelte_max)."),
        "{}",
        bad.body
    );
    assert!(
        element(&bad, "p0-c3").contains("Il campo «particelle» ha limiti incoerenti (righe_max).")
    );
    assert!(bad.body.contains("name=\"p0.c2.scelte_min\" value=\"3\""));
    assert!(bad.body.contains("name=\"p0.c3.righe_max\" value=\"0\""));
    let bad = edit(
        &mut admin,
        &bad,
        &[
            ("p0.c2.scelte_min", "1"),
            ("p0.c2.scelte_max", "2"),
            ("p0.c3.righe_max", "-1"),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        element(&bad, "p0-c3")
            .contains("«-1» non è un numero valido per il numero massimo di particelle."),
        "{}",
        bad.body
    );
    let page = edit(&mut admin, &bad, &[("p0.c3.righe_max", "2")], "aggiorna").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let rules = &carried(&page).form.steps[0].fields;
    assert_eq!(
        (rules[2].rules.min_choices, rules[2].rules.max_choices),
        (Some(1), Some(2))
    );
    assert_eq!(rules[3].rules.max_rows, Some(2));

    // Step 2, shown only when the type is affitto or utenze and the
    // household is given.
    let page = edit(
        &mut admin,
        &page,
        &[
            ("nuovo_passo.titolo", "Dettagli"),
            ("nuovo_passo.id", "dettagli"),
        ],
        "passo_aggiungi",
    )
    .await;
    let page = add_field(&mut admin, &page, 1, "Canone mensile", "canone", "importo").await;
    assert!(element(&page, "p1-cond").contains("Sempre: nessuna condizione."));
    // A value that is not an option: the error next to the clause, the
    // value kept as typed, the accepted values shown.
    let bad = edit(
        &mut admin,
        &page,
        &[
            ("p1.cond.nuova.campo", "tipo"),
            ("p1.cond.nuova.op", "tra"),
            ("p1.cond.nuova.valore", "affitto, mutuo"),
        ],
        "condizione_aggiungi:p1",
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let clause = element(&bad, "p1-cond-0");
    assert!(
        clause.contains("data-element=\"errore-clausola\""),
        "{clause}"
    );
    assert!(
        clause.contains("La condizione di «dettagli» confronta il campo «tipo» con «mutuo», che non è un valore ammesso."),
        "{clause}"
    );
    assert!(clause.contains("value=\"affitto, mutuo\""), "{clause}");
    assert!(clause.contains("Valori ammessi: affitto (Affitto), utenze (Utenze), altro (Altro)."));
    let page = edit(
        &mut admin,
        &bad,
        &[
            ("p1.cond.0.valore", "affitto, utenze"),
            ("p1.cond.nuova.campo", "componenti"),
            ("p1.cond.nuova.op", "compilato"),
        ],
        "condizione_aggiungi:p1",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(element(&page, "p1-cond-1").contains("data-campo-letto=\"componenti\""));
    assert_eq!(
        carried(&page).form.steps[1].condition,
        Some(Condition::All(vec![
            Condition::In {
                field: "tipo".into(),
                values: vec!["affitto".into(), "utenze".into()],
            },
            Condition::Filled {
                field: "componenti".into(),
                filled: true,
            },
        ]))
    );

    // A field of a later step, posted though the page does not offer it:
    // refused next to the clause, kept, then removed with its button.
    let bad = edit(
        &mut admin,
        &page,
        &[
            ("p0.c1.cond.nuova.campo", "canone"),
            ("p0.c1.cond.nuova.op", "compilato"),
        ],
        "aggiorna",
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let clause = element(&bad, "p0-c1-cond-0");
    assert!(
        clause.contains(
            "La condizione di «componenti» usa il campo «canone», che non lo precede nel modulo."
        ),
        "{clause}"
    );
    assert!(clause.contains("<option value=\"canone\" selected>canone (non disponibile qui)"));
    let page = edit(&mut admin, &bad, &[], "condizione_elimina:p0.c1:0").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(carried(&page).form.steps[0].fields[1].condition, None);
    // An operator that does not exist: refused, the clause unchanged.
    let bad = edit(
        &mut admin,
        &page,
        &[("p1.cond.0.op", "maggiore")],
        "aggiorna",
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body
            .contains("«maggiore» non è un confronto ammesso in una condizione.")
    );
    assert_eq!(
        carried(&bad).form.steps[1].condition,
        carried(&page).form.steps[1].condition
    );

    // The contract, asked when the type is affitto or gas is among the
    // services; the declaration, asked only for altro.
    let page = edit(
        &mut admin,
        &page,
        &[
            ("nuovo_allegato.etichetta", "Contratto di locazione"),
            ("nuovo_allegato.id", "contratto"),
        ],
        "allegato_aggiungi",
    )
    .await;
    let page = edit(
        &mut admin,
        &page,
        &[
            ("a0.obbligatorio", "si"),
            ("a0.cond.modo", "almeno_una"),
            ("a0.cond.nuova.campo", "tipo"),
            ("a0.cond.nuova.op", "uguale"),
            ("a0.cond.nuova.valore", "affitto"),
        ],
        "condizione_aggiungi:a0",
    )
    .await;
    let page = edit(
        &mut admin,
        &page,
        &[
            ("a0.cond.nuova.campo", "servizi"),
            ("a0.cond.nuova.valore", "gas"),
        ],
        "condizione_aggiungi:a0",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(element(&page, "a0-cond").contains("data-modo=\"almeno_una\""));
    let page = edit(
        &mut admin,
        &page,
        &[
            (
                "nuova_dichiarazione.testo",
                "Dichiaro che il contributo non è coperto da altre agevolazioni.",
            ),
            ("nuova_dichiarazione.id", "altre_agevolazioni"),
        ],
        "dichiarazione_aggiungi",
    )
    .await;
    let page = edit(
        &mut admin,
        &page,
        &[
            ("d0.cond.nuova.campo", "tipo"),
            ("d0.cond.nuova.valore", "altro"),
        ],
        "condizione_aggiungi:d0",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let def = carried(&page);
    assert_eq!(
        def.form.attachments[0].condition,
        Some(Condition::Any(vec![
            Condition::Equals {
                field: "tipo".into(),
                value: "affitto".into(),
            },
            Condition::Equals {
                field: "servizi".into(),
                value: "gas".into(),
            },
        ]))
    );
    assert_eq!(
        def.form.declarations[0].condition,
        Some(Condition::Equals {
            field: "tipo".into(),
            value: "altro".into(),
        })
    );

    // A tampered hidden state is refused; one that reads a field that does
    // not exist cannot be published.
    let csrf_admin = admin.csrf_of(LIST).await;
    let r = admin
        .post(
            EDITOR,
            &[
                ("csrf", &csrf_admin),
                ("stato", "{\"base\":null,\"def\":{},\"segreto\":1}"),
                ("azione", "pubblica"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        apostrophe(&r.body, "Il modulo dell'editor non è valido"),
        "{}",
        r.body
    );
    let mut forged = def.clone();
    forged.form.attachments[0].condition = Some(Condition::Filled {
        field: "reddito".into(),
        filled: true,
    });
    let state = serde_json::json!({ "base": null, "def": forged }).to_string();
    let r = admin
        .post(
            EDITOR,
            &[
                ("csrf", &csrf_admin),
                ("stato", &state),
                ("azione", "pubblica"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        element(&r, "a0-cond-0")
            .contains("La condizione di «contratto» usa il campo «reddito», che non esiste."),
        "{}",
        r.body
    );
    assert!(
        app.app
            .service_definition(t.id, COND_SLUG, None)
            .await
            .unwrap()
            .is_none(),
        "nothing published"
    );

    // A nested condition written in a file: shown in words, kept as it is
    // through the form, removable.
    let mut deep = def.clone();
    let nested = Condition::Any(vec![
        Condition::Equals {
            field: "tipo".into(),
            value: "altro".into(),
        },
        Condition::Equals {
            field: "servizi".into(),
            value: "acqua".into(),
        },
    ]);
    let kept = Condition::Filled {
        field: "componenti".into(),
        filled: false,
    };
    deep.form.declarations[0].condition = Some(Condition::All(vec![nested, kept.clone()]));
    let state = serde_json::json!({ "base": null, "def": deep }).to_string();
    let shown = admin
        .post(
            EDITOR,
            &[
                ("csrf", &csrf_admin),
                ("stato", &state),
                ("azione", "aggiorna"),
            ],
        )
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        element(&shown, "d0-cond-0")
            .contains("vale almeno una: («tipo» è uguale a «altro»; «servizi» è uguale a «acqua»)"),
        "{}",
        shown.body
    );
    let applied = edit(&mut admin, &shown, &[], "aggiorna").await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(carried(&applied), deep);
    let removed = edit(&mut admin, &applied, &[], "condizione_elimina:d0:0").await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(carried(&removed).form.declarations[0].condition, Some(kept));

    let r = edit(&mut admin, &page, &[], "pubblica").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stored = app
        .app
        .service_definition(t.id, COND_SLUG, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.definition.form.steps, def.form.steps);
    assert_eq!(stored.definition.form.attachments, def.form.attachments);

    // The citizen's form follows the conditions.
    let resident = &app.app.demo_residents(t.id, 1).await.unwrap()[0];
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    citizen
        .demo_sign_in(&format!("cf:{}", resident.codice_fiscale.as_str()))
        .await;
    let start = format!("/area-personale/istanze/{COND_SLUG}");
    let csrf = citizen.csrf_of(&start).await;
    let r = citizen.post(&start, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let draft = r
        .location()
        .unwrap()
        .trim_end_matches("/richiesta")
        .to_owned();
    let parcel = |n: &'static str| {
        [
            ("particelle.codice_catastale", "B923"),
            ("particelle.foglio", "12"),
            ("particelle.particella", n),
            ("particelle.subalterno", ""),
        ]
    };
    // The limits set in the editor: at most two services, two parcels.
    let r = answer(
        &mut citizen,
        &draft,
        "richiesta",
        &csrf,
        &[
            ("tipo", "altro"),
            ("servizi", "luce"),
            ("servizi", "gas"),
            ("servizi", "acqua"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Per il campo «Servizi» scegliere al massimo 2 opzioni.")
    );
    let mut three = vec![("tipo", "altro"), ("servizi", "luce")];
    for n in ["1", "2", "3"] {
        three.extend(parcel(n));
    }
    let r = answer(&mut citizen, &draft, "richiesta", &csrf, &three).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Il campo «Particelle» ammette al massimo 2 particelle.")
    );

    // altro: no details step, no contract, the declaration asked.
    let mut two = vec![("tipo", "altro"), ("servizi", "luce")];
    for n in ["1", "2"] {
        two.extend(parcel(n));
    }
    let r = answer(&mut citizen, &draft, "richiesta", &csrf, &two).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{draft}/riepilogo").as_str()));
    let summary = citizen.get(&format!("{draft}/riepilogo")).await;
    assert!(
        summary.body.contains("name=\"altre_agevolazioni\""),
        "{}",
        summary.body
    );
    let files = citizen.get(&format!("{draft}/allegati")).await;
    assert!(
        !files.body.contains("data-slot=\"contratto\""),
        "{}",
        files.body
    );

    // affitto with the household: the details step, the contract, no declaration.
    let r = answer(
        &mut citizen,
        &draft,
        "richiesta",
        &csrf,
        &[
            ("tipo", "affitto"),
            ("componenti", "2"),
            ("servizi", "luce"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{draft}/dettagli").as_str()));
    let r = answer(
        &mut citizen,
        &draft,
        "dettagli",
        &csrf,
        &[("canone", "500,00")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{draft}/allegati").as_str()));
    let files = citizen.get(&format!("{draft}/allegati")).await;
    assert!(
        files.body.contains("data-slot=\"contratto\""),
        "{}",
        files.body
    );
    let summary = citizen.get(&format!("{draft}/riepilogo")).await;
    assert!(!summary.body.contains("name=\"altre_agevolazioni\""));

    // utenze without the household, gas among the services: «tutte» fails
    // (no details step), «almeno una» holds (the contract).
    let r = answer(
        &mut citizen,
        &draft,
        "richiesta",
        &csrf,
        &[("tipo", "utenze"), ("servizi", "gas")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{draft}/allegati").as_str()));
    let files = citizen.get(&format!("{draft}/allegati")).await;
    assert!(files.body.contains("data-slot=\"contratto\""));
    let dettagli = citizen.get(&format!("{draft}/dettagli")).await;
    assert_eq!(dettagli.status, 404, "a hidden step is not shown");

    // utenze with light only: neither holds.
    let r = answer(
        &mut citizen,
        &draft,
        "richiesta",
        &csrf,
        &[("tipo", "utenze"), ("servizi", "luce")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{draft}/riepilogo").as_str()));
    let files = citizen.get(&format!("{draft}/allegati")).await;
    assert!(!files.body.contains("data-slot=\"contratto\""));
    app.stop().await;
}
