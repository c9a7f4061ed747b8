//! `palazzo pratiche assegna|trasferisci|show` on a demo installation
//! (issue 6, part 4, for operators): a resident's istanza is filed through
//! the services; the command line names a member of the office as the
//! responsabile del procedimento and `show` prints the name; a user who is
//! not in the office is refused with the Italian message and its code,
//! and nothing is written; the pratica is transferred per competenza to
//! another office with its reason, which then holds it; a transfer to the
//! office it is already in and an unknown office are refused; the ledger
//! verifies at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_services::App;
use palazzo_services::access::{Actor, VerifiedIdentity};
use palazzo_store::conformance::service_fixture;
use palazzo_store::{NewUser, NoticeChannel, PraticaId, Store, StoreTx};
use palazzo_testkit::{cli, cli::text};

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

async fn open(dir: &std::path::Path) -> App {
    cli::open_sqlite(dir).await
}

/// What the command line works on.
struct Fixture {
    pratica: i64,
    history: usize,
    member: i64,
    outsider: i64,
    office: String,
    other_office: String,
}

/// Files an «istanza generica» of a resident and makes two staff users:
/// a member of the competent office and one of another office.
async fn fixture(dir: &std::path::Path) -> Fixture {
    let app = open(dir).await;
    let t = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap();
    let snap = app.portal(t.id).await.unwrap();
    if snap.service("istanza-generica").is_none() {
        app.create_service(
            t.id,
            service_fixture("istanza-generica", snap.offices[0].id),
        )
        .await
        .unwrap();
    }
    app.install_shipped_definitions(t.id).await.unwrap();
    let snap = app.portal(t.id).await.unwrap();
    let office = snap
        .office(snap.service("istanza-generica").unwrap().data.office)
        .unwrap()
        .clone();
    let elsewhere = snap
        .offices
        .iter()
        .find(|o| o.id != office.id)
        .unwrap()
        .clone();
    let now = jiff::Timestamp::now();
    let mut tx = app.db().begin().await.unwrap();
    let resident = tx
        .insert_user(
            t.id,
            &NewUser {
                codice_fiscale: Some("VRDGLI80A41A662Y".parse().unwrap()),
                given_name: "Giulia".into(),
                family_name: "Verdi".into(),
                birth_date: Some(jiff::civil::date(1980, 1, 1)),
                birth_place: Some("Bari".into()),
                email: None,
                phone: None,
                notice_channel: NoticeChannel::Email,
            },
            now,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let citizen = Actor {
        user: Some(resident.id),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role: Role::Cittadino,
                office: None,
            }],
        },
        name: Some("Giulia Verdi".into()),
        acr: None,
    };
    let filed =
        palazzo_testkit::istanze::file_istanza(&app, t.id, &citizen, "istanza-generica").await;
    let staff = |subject: &str, family: &str| VerifiedIdentity {
        provider: "demo".into(),
        issuer: "demo".into(),
        subject: format!("staff:{subject}"),
        acr: None,
        codice_fiscale: None,
        given_name: "Rita".into(),
        family_name: family.into(),
        birth_date: None,
        birth_place: None,
        email: None,
        phone: None,
    };
    let member = app
        .record_sign_in(t.id, &staff("membro", "Ufficiale"))
        .await
        .unwrap();
    app.sync_idp_roles(t.id, member.id, &[(Role::Responsabile, office.id)])
        .await
        .unwrap();
    let outsider = app
        .record_sign_in(t.id, &staff("estraneo", "Estranea"))
        .await
        .unwrap();
    app.sync_idp_roles(t.id, outsider.id, &[(Role::Operatore, elsewhere.id)])
        .await
        .unwrap();
    let history = app
        .db()
        .pratica_eventi(t.id, filed.pratica.id)
        .await
        .unwrap()
        .len();
    app.checkpoint_all().await.unwrap();
    app.db().close().await;
    Fixture {
        pratica: filed.pratica.id.0,
        history,
        member: member.id.0,
        outsider: outsider.id.0,
        office: office.data.slug.clone(),
        other_office: elsewhere.data.slug.clone(),
    }
}

/// The pratica's office slug and the length of its history.
async fn stored(dir: &std::path::Path, id: i64) -> (String, usize) {
    let app = open(dir).await;
    let t = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap();
    let p = app
        .db()
        .pratica(t.id, PraticaId(id))
        .await
        .unwrap()
        .unwrap();
    let office = app
        .portal(t.id)
        .await
        .unwrap()
        .office(p.data.office)
        .unwrap()
        .data
        .slug
        .clone();
    let n = app.db().pratica_eventi(t.id, p.id).await.unwrap().len();
    app.db().close().await;
    (office, n)
}

#[tokio::test]
async fn operators_assign_and_transfer_from_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "pratiche-cli", 10);
    let dir = &demo.dir;
    let f = fixture(dir.path()).await;
    let id = f.pratica.to_string();
    let with = |args: &[&str]| demo.run(args);

    // Someone outside the office: refused, nothing written.
    let outsider = f.outsider.to_string();
    let out = with(&["pratiche", "assegna", &id, "--responsabile", &outsider]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("(pratica_"),
        "the code: {}",
        text(&out)
    );
    assert_eq!(stored(dir.path(), f.pratica).await.1, f.history);

    // A member of the office: named, shown.
    let member = f.member.to_string();
    let out = with(&["pratiche", "assegna", &id, "--responsabile", &member]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Rita Ufficiale"), "{}", text(&out));
    let out = with(&["pratiche", "show", &id]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Rita Ufficiale"), "{}", text(&out));
    assert_eq!(stored(dir.path(), f.pratica).await.1, f.history + 1);

    // Transfers: to the same office or to none, refused; then done.
    for (to, what) in [
        (f.office.as_str(), "same office"),
        ("non-esiste", "unknown"),
    ] {
        let out = with(&[
            "pratiche",
            "trasferisci",
            &id,
            "--ufficio",
            to,
            "--motivo",
            "Competenza di altro ufficio",
        ]);
        assert!(!out.status.success(), "{what}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("(pratica_"),
            "{what}: {}",
            text(&out)
        );
    }
    assert_eq!(
        stored(dir.path(), f.pratica).await,
        (f.office.clone(), f.history + 1)
    );
    let out = with(&[
        "pratiche",
        "trasferisci",
        &id,
        "--ufficio",
        &f.other_office,
        "--motivo",
        "Competenza di altro ufficio",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("trasferita per competenza"),
        "{}",
        text(&out)
    );
    assert_eq!(
        stored(dir.path(), f.pratica).await,
        (f.other_office.clone(), f.history + 2)
    );
    let out = with(&["pratiche", "show", &id]);
    assert!(
        text(&out).contains("Competenza di altro ufficio"),
        "the reason is in the history: {}",
        text(&out)
    );

    // Everything written is in the ledger.
    let out = palazzo(&["verify", "--data-dir", &demo.data]);
    assert!(out.status.success(), "{}", text(&out));
}
