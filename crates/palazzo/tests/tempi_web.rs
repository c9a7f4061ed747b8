//! TEMPI-01 over HTTP and on the command line: with pratiche filed and
//! worked through the services, the public page `/servizi-online/tempi`
//! (linked from "Servizi", an accessible table), its CSV and JSON
//! downloads, `GET /api/v1/servizi-online/tempi` and
//! `palazzo pratiche tempi` all answer without a sign-in with the figures
//! of `App::tempi_procedimenti`, and never a name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::calendar::rome_date;

use palazzo_domain::procedimento::Azione;
use palazzo_domain::procedimento::tempi::Quarter;
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::pratiche::ActInput;
use palazzo_store::conformance::service_fixture;
use palazzo_store::{NewUser, NoticeChannel, Store, StoreTx, TenantId, UserId};
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TempDir, TestApp};
use palazzo_testkit::{cli, cli::text};
use serde_json::Value;

const SLUG: &str = "istanza-generica";

fn actor(user: UserId, role: Role, office: Option<i64>, name: &str) -> Actor {
    Actor {
        user: Some(user),
        admin: None,
        principal: Principal {
            grants: vec![Grant { role, office }],
        },
        name: Some(name.into()),
        acr: None,
    }
}

/// Files one istanza as `who`, filling every step as a citizen would.
async fn file(app: &App, t: TenantId, who: &Actor) -> palazzo_services::pratiche::Submitted {
    palazzo_testkit::istanze::file_istanza(app, t, who, SLUG).await
}

/// Two istanze of `casamassima`: one accepted today, one open. Returns
/// the card's title.
async fn two_pratiche(app: &App, t: TenantId) -> String {
    let snap = app.portal(t).await.unwrap();
    if snap.service(SLUG).is_none() {
        app.create_service(t, service_fixture(SLUG, snap.offices[0].id))
            .await
            .unwrap();
    }
    app.install_shipped_definitions(t).await.unwrap();
    let snap = app.portal(t).await.unwrap();
    let card = snap.service(SLUG).unwrap().clone();
    let now = jiff::Timestamp::now();
    let mut tx = app.db().begin().await.unwrap();
    let person = |given: &str, cf: &str, n: u8| NewUser {
        codice_fiscale: Some(cf.parse().unwrap()),
        given_name: given.into(),
        family_name: "Tempestini".into(),
        birth_date: Some(jiff::civil::date(1980, 1, 1)),
        birth_place: Some("Bari".into()),
        email: Some(palazzo_domain::ids::Email::parse(&format!("t{n}@example.org")).unwrap()),
        phone: None,
        notice_channel: NoticeChannel::Email,
    };
    let g = tx
        .insert_user(t, &person("Giulia", "VRDGLI80A41A662Y", 1), now)
        .await
        .unwrap();
    let r = tx
        .insert_user(t, &person("Rita", "RSSRTI70A41A662V", 2), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let giulia = actor(g.id, Role::Cittadino, None, "Giulia Tempestini");
    let resp = actor(
        r.id,
        Role::Responsabile,
        Some(card.data.office.0),
        "Rita Tempestini",
    );
    let first = file(app, t, &giulia).await;
    file(app, t, &giulia).await;
    let act = |action, state: &str, note: Option<&str>| ActInput {
        action,
        expected_state: state.to_owned(),
        note: note.map(str::to_owned),
        files: Vec::new(),
    };
    app.act_on_pratica(
        t,
        &resp,
        first.pratica.id,
        act(Azione::PresaInCarico, "presentata", None),
    )
    .await
    .unwrap();
    let v = app
        .act_on_pratica(
            t,
            &resp,
            first.pratica.id,
            act(Azione::Accoglimento, "in_istruttoria", Some("Accolta.")),
        )
        .await
        .unwrap();
    assert_eq!(v.pratica.data.state, "accolta");
    card.data.title
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

async fn web(backend: Backend) {
    let app = TestApp::spawn(backend, 3).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap().id;
    let mut b = Browser::new(&app, CASAMASSIMA);
    // Before any pratica: the page says so.
    let empty = b.get("/servizi-online/tempi").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    let title = two_pratiche(&app.app, t).await;
    let q = Quarter::of(rome_date(jiff::Timestamp::now()));

    // Linked from the services page.
    let servizi = b.get("/servizi").await;
    assert!(
        servizi.body.contains("href=\"/servizi-online/tempi\""),
        "{}",
        servizi.body
    );
    // The page: no sign-in, an accessible table.
    let page = b.get("/servizi-online/tempi").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("<caption>"), "{body}");
    assert!(body.contains("<th scope=\"col\">Avviati</th>"), "{body}");
    assert!(body.contains("<th scope=\"col\">Tempo massimo (giorni)</th>"));
    assert!(body.contains("<th scope=\"col\">Oltre il termine</th>"));
    assert!(
        body.contains(&format!("<th scope=\"row\">{}</th>", askama_escape(&title))),
        "{body}"
    );
    assert!(body.contains(&format!("{}º trimestre {}", q.quarter, q.year)));
    assert!(body.contains("href=\"/servizi-online/tempi.csv\""));
    assert!(!body.contains("Tempestini") && !body.contains("VRDGLI80A41A662Y"));

    // The same figures in every format.
    let report = app
        .app
        .tempi_procedimenti(t, None, jiff::Timestamp::now())
        .await
        .unwrap();
    let csv = b.get("/servizi-online/tempi.csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(csv.body, report.to_csv());
    assert!(
        csv.body
            .contains(&format!("{SLUG},{},2,1,1,100.00,0.00,0.00,0,", q.label()))
    );
    let api = json(&b.get("/api/v1/servizi-online/tempi").await.body);
    let download = b.get("/servizi-online/tempi.json").await;
    assert!(
        download
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(json(&download.body), api);
    let row = api["righe"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["servizio"] == SLUG)
        .unwrap()
        .clone();
    assert_eq!(row["titolo"], title.as_str());
    assert_eq!(row["trimestre"], q.label());
    assert_eq!(row["avviati"], 2);
    assert_eq!(row["conclusi"], 1);
    assert_eq!(row["conclusi_nei_termini"], 1);
    assert_eq!(row["conclusi_oltre_i_termini"], 0);
    assert_eq!(row["durata_media_giorni"], 0.0);
    assert_eq!(row["durata_massima_giorni"], 0);
    assert!(!api.to_string().contains("Tempestini"));
    // The year: a filter, and a coded refusal for what is not a year.
    let this = json(
        &b.get(&format!("/api/v1/servizi-online/tempi?anno={}", q.year))
            .await
            .body,
    );
    assert_eq!(this["anno"], q.year);
    assert!(!this["righe"].as_array().unwrap().is_empty());
    let other = json(&b.get("/api/v1/servizi-online/tempi?anno=1999").await.body);
    assert!(other["righe"].as_array().unwrap().is_empty());
    for bad in [
        "/api/v1/servizi-online/tempi?anno=duemila",
        "/servizi-online/tempi?anno=20260",
        "/servizi-online/tempi.csv?anno=x",
    ] {
        let r = b.get(bad).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body.contains("anno_non_valido"), "{bad}: {}", r.body);
    }
    app.stop().await;
}

/// The few characters askama escapes in text.
fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn tempi_page_and_api_sqlite() {
    web(Backend::Sqlite).await;
}

#[tokio::test]
async fn tempi_page_and_api_postgres() {
    web(Backend::Postgres).await;
}

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

#[tokio::test]
async fn tempi_from_the_command_line() {
    let dir = TempDir::new("tempi-cli");
    let data = dir.path().to_str().unwrap().to_owned();
    let out = palazzo(&[
        "demo",
        "--no-serve",
        "--residents",
        "3",
        "--data-dir",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let url = format!("sqlite:{}", dir.path().join("palazzo.db").display());
    let app = App::new(
        palazzo_services::db::Db::open(&url).await.unwrap(),
        palazzo_services::keys::KeyStore::new(dir.path().join("keys")),
    )
    .await
    .unwrap();
    let t = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap()
        .id;
    two_pratiche(&app, t).await;
    let report = app
        .tempi_procedimenti(t, None, jiff::Timestamp::now())
        .await
        .unwrap();
    app.db().close().await;
    let q = Quarter::of(rome_date(jiff::Timestamp::now()));
    let at = ["--ente", "casamassima", "--data-dir", &data];
    let run = |args: &[&str]| {
        let mut all = vec!["pratiche", "tempi"];
        all.extend_from_slice(args);
        all.extend_from_slice(&at);
        palazzo(&all)
    };
    let csv = run(&["--format", "csv"]);
    assert!(csv.status.success(), "{}", text(&csv));
    assert_eq!(String::from_utf8_lossy(&csv.stdout), report.to_csv());
    let js = run(&["--format", "json", "--year", &q.year.to_string()]);
    assert!(js.status.success(), "{}", text(&js));
    let v = json(&String::from_utf8_lossy(&js.stdout));
    assert_eq!(v["anno"], q.year);
    let row = v["righe"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["servizio"] == SLUG)
        .unwrap()
        .clone();
    assert_eq!(
        (row["avviati"].as_u64(), row["conclusi"].as_u64()),
        (Some(2), Some(1))
    );
    let txt = run(&[]);
    assert!(txt.status.success(), "{}", text(&txt));
    let s = String::from_utf8_lossy(&txt.stdout);
    assert!(s.contains("Tempi dei procedimenti"), "{s}");
    assert!(
        s.lines()
            .any(|l| l.starts_with(&format!("{SLUG}\t{}\t2\t1\t1\t0\t", q.label()))),
        "{s}"
    );
    assert!(!s.contains("Tempestini"));
    let bad = run(&["--format", "xml"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}
