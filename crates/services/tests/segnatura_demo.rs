//! The demo CA (`segnatura::demo_ca`, used by `palazzo demo` and the test
//! harness) on both backends, checked with independent tools: openssl
//! verifies the seal certificate against the demo CA, an outgoing entry
//! sealed with it is schema-valid and verifies with signxml, and the other
//! demo comune receives it; `palazzo verify` names a changed stored XML
//! and a changed segnatura row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::ledger::state_hash;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::segnatura::demo_ca::{DEMO_CA_NAME, demo_aoo_code};
use palazzo_services::segnatura::{Esito, FileRicevuto};
use palazzo_services::verify::{Problem, verify};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Store, UserId};
use palazzo_testkit::pki::{assert_valid, openssl, segnatura_check};
use palazzo_testkit::{PgDatabase, TempDir};

fn operatore() -> Actor {
    Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: None,
            }],
        },
        name: Some("Operatore di prova".into()),
        acr: None,
    }
}

async fn demo_seal(backend: Backend) {
    let dir = TempDir::new("demo-seal");
    let d = dir.path();
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (Db::open_sqlite(&d.join("p.db")).await.unwrap(), None),
    };
    let app = App::new(db, KeyStore::new(d.join("keys"))).await.unwrap();
    let alfa = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let beta = app.create_tenant(tenant_fixture(2)).await.unwrap();

    let ca = app
        .install_demo_seals()
        .unwrap()
        .expect("a demo CA was made");
    assert!(ca.contains("BEGIN CERTIFICATE"));
    assert_eq!(app.install_demo_seals().unwrap(), None, "installed once");
    assert_eq!(app.aoo_seal("beta").unwrap().aoo, demo_aoo_code("beta"));

    // openssl: the seal chains to the demo CA, which says what it is.
    std::fs::write(d.join("demo-ca.pem"), &ca).unwrap();
    let chain = std::fs::read_to_string(d.join("keys/beta/segnatura-cert.pem")).unwrap();
    let leaf_end = chain.find("-----END CERTIFICATE-----").unwrap() + 26;
    std::fs::write(d.join("seal.pem"), &chain[..leaf_end]).unwrap();
    openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "demo-ca.pem",
            "-purpose",
            "any",
            "seal.pem",
        ],
    );
    let text = std::process::Command::new("openssl")
        .current_dir(d)
        .args([
            "x509",
            "-in",
            "demo-ca.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "utf8",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(DEMO_CA_NAME),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );

    // An outgoing entry of beta to alfa is sealed; signxml verifies it
    // against the demo CA; alfa receives it.
    let pdf = b"%PDF-1.7\n% lettera\n%%EOF\n";
    let primary = app.documents().put_bytes("lettera.pdf", pdf).await.unwrap();
    let op = operatore();
    let reg = app
        .register_protocol(
            beta.id,
            &op,
            RegistrationInput {
                register: None,
                flow: Flow::Uscita,
                subject: "Comunicazione di prova".into(),
                correspondents: vec![Correspondent {
                    kind: CorrespondentKind::Amministrazione,
                    name: alfa.data.name.clone(),
                    fiscal_code: None,
                    ipa: Some(alfa.data.codice_ipa.as_str().to_owned()),
                    email: Some(alfa.data.pec.clone()),
                    address: None,
                    per_conoscenza: false,
                }],
                received_number: None,
                received_date: None,
                primary: primary.to_ref(),
                attachments: vec![],
                classification: Some("VI.3".into()),
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let (_, xml) = app
        .protocol_segnatura(beta.id, &op, reg.id)
        .await
        .unwrap()
        .unwrap();
    let xml = String::from_utf8(xml).unwrap();
    assert_valid(d, "segnatura.xml", &xml, "segnatura_protocollo.xsd");
    let (ok, out) = segnatura_check(&[
        "verify",
        d.join("segnatura.xml").to_str().unwrap(),
        "--ca",
        d.join("demo-ca.pem").to_str().unwrap(),
    ]);
    assert!(ok, "signxml: {out}");
    let files = [FileRicevuto {
        name: "lettera.pdf".into(),
        bytes: Some(pdf.to_vec()),
    }];
    let received = match app
        .receive_protocol_message(alfa.id, &op, xml.as_bytes(), &files)
        .await
        .unwrap()
    {
        Esito::Registrata {
            risposta,
            registration,
            ..
        } => {
            assert!(risposta.contains(&format!(
                "<prot:CodiceAOO>{}</prot:CodiceAOO>",
                demo_aoo_code("alfa")
            )));
            registration
        }
        other => panic!("{other:?}"),
    };

    // `palazzo verify` checks the segnature: first all is well; then a
    // changed stored XML and a changed row are each named.
    let report = verify(app.db(), app.keys()).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let (rec, _) = app
        .protocol_segnatura(beta.id, &op, reg.id)
        .await
        .unwrap()
        .unwrap();
    // LOG-6: each registration appended one event, which binds its
    // segnatura (migration 0023).
    for (tenant, id) in [(beta.id, reg.id), (alfa.id, received.id)] {
        let size = app.db().ledger_size(tenant).await.unwrap();
        let events = app.db().ledger_events(tenant, 0, size).await.unwrap();
        let last = events.last().unwrap();
        assert_eq!(
            (last.kind.as_str(), last.subject.as_str()),
            (
                "protocollo.registered",
                format!("protocollo:{}", id.0).as_str()
            )
        );
        assert!(!events.iter().any(|e| e.subject.starts_with("segnatura:")));
        let entry = app.db().registration(tenant, id).await.unwrap().unwrap();
        let seg = app.db().segnatura(tenant, id).await.unwrap().unwrap();
        assert_eq!(entry.segnatura_state, Some(state_hash(&seg).unwrap()));
        assert_eq!(last.state_hash, state_hash(&entry).unwrap());
    }
    let stored = app.documents().path_of(&rec.data.document.sha256);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stored, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::write(&stored, xml.replace("Comunicazione", "Comunicazione!")).unwrap();
    let disarm = match backend {
        Backend::Sqlite => "DROP TRIGGER protocol_segnature_fixed",
        Backend::Postgres => "DROP TRIGGER protocol_segnature_fixed ON protocol_segnature",
    };
    app.db().execute_raw(disarm).await.unwrap();
    app.db()
        .execute_raw(
            "UPDATE protocol_segnature SET sender_number = '0000999' WHERE kind = 'ricevuta'",
        )
        .await
        .unwrap();
    // The binding itself is written once; removed behind the store's back,
    // both the registration and its now unbound segnatura are reported.
    assert!(
        app.db()
            .execute_raw(&format!(
                "UPDATE protocol_entries SET segnatura_state = NULL WHERE id = {}",
                reg.id.0
            ))
            .await
            .is_err()
    );
    let disarm = match backend {
        Backend::Sqlite => "DROP TRIGGER protocol_entries_segnatura_once",
        Backend::Postgres => "DROP TRIGGER protocol_entries_segnatura_once ON protocol_entries",
    };
    app.db().execute_raw(disarm).await.unwrap();
    app.db()
        .execute_raw(&format!(
            "UPDATE protocol_entries SET segnatura_state = NULL WHERE id = {}",
            reg.id.0
        ))
        .await
        .unwrap();
    let report = verify(app.db(), app.keys()).await.unwrap();
    let beta_subject = format!("segnatura:{}", reg.id.0);
    let beta_entry = format!("protocollo:{}", reg.id.0);
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject, .. } if *subject == beta_entry)),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordWithoutEvent { subject, .. } if *subject == beta_subject)),
        "{:?}",
        report.problems
    );
    let alfa_subject = format!("segnatura:{}", received.id.0);
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::SegnaturaDocument { subject, .. } if *subject == beta_subject)),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject, .. } if *subject == alfa_subject)),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.to_string().contains(&beta_subject)),
        "{:?}",
        report.problems
    );
    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn demo_seal_sqlite() {
    demo_seal(Backend::Sqlite).await
}

#[tokio::test]
async fn demo_seal_postgres() {
    demo_seal(Backend::Postgres).await
}
