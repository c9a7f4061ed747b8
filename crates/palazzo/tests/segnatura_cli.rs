//! `palazzo protocollo sigillo install` and `palazzo protocollo ricevi` end
//! to end on both backends: seals from an openssl test CA (a key of
//! another certificate and a self-signed certificate refused), a message
//! sealed by another AOO received from a directory (registered, answer
//! valid against `pec_message.xsd`, exit 0, once `palazzo protocollo
//! fiducia aggiungi` trusts the sender's CA; 001 before), the same message given as
//! files (already registered), a tampered attachment (002, exit 2), the
//! sender's annulment recorded once (an unknown one: 007, exit 2), and a
//! ledger that still verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::UserId;
use palazzo_store::conformance::tenant_fixture;
use palazzo_testkit::pki::{assert_valid, pki};
use palazzo_testkit::{PgDatabase, TempDir};
use palazzo_testkit::{cli, cli::text};

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

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

const LETTERA: &[u8] = b"%PDF-1.7\n% lettera di trasmissione\n%%EOF\n";
const ALLEGATO: &[u8] = b"Allegato tecnico alla lettera.\n";

async fn app(data: &Path, url: &str) -> App {
    App::new(
        Db::open(url).await.unwrap(),
        KeyStore::new(data.join("keys")),
    )
    .await
    .unwrap()
}

async fn receive_from_the_command_line(pg: Option<PgDatabase>) {
    let dir = TempDir::new("segnatura-cli");
    let d = dir.path();
    let data = d.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite:{}", data.join("palazzo.db").display()),
    };
    let config = d.join("palazzo.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ndatabase_url = {:?}\n",
            data.to_str().unwrap(),
            url
        ),
    )
    .unwrap();
    let a = app(&data, &url).await;
    let alfa = a.create_tenant(tenant_fixture(1)).await.unwrap();
    let beta = a.create_tenant(tenant_fixture(2)).await.unwrap();
    a.db().close().await;
    drop(a);

    pki(d, "alfa", "ec");
    pki(d, "beta", "rsa");
    let cfg = config.to_str().unwrap();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    let install = |ente: &str, key: &str, cert: &str, aoo: &str| {
        palazzo(&[
            "protocollo",
            "sigillo",
            "install",
            "--ente",
            ente,
            "--config",
            cfg,
            "--key",
            &path(key),
            "--cert",
            &path(cert),
            "--aoo",
            aoo,
        ])
    };
    // A key that is not the certificate's, a self-signed certificate:
    // refused with their codes, nothing installed.
    let out = install("alfa", "beta.key", "alfa.crt", "aoo_alfa");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("segnatura_chiave_certificato"),
        "{}",
        text(&out)
    );
    let out = install("alfa", "alfa-ca.key", "alfa-ca.crt", "aoo_alfa");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("segnatura_certificato_autofirmato"),
        "{}",
        text(&out)
    );
    assert!(!data.join("keys/alfa/segnatura-key.pem").exists());
    for p in ["alfa", "beta"] {
        let chain = format!(
            "{}{}",
            std::fs::read_to_string(d.join(format!("{p}.crt"))).unwrap(),
            std::fs::read_to_string(d.join(format!("{p}-ca.crt"))).unwrap()
        );
        std::fs::write(d.join(format!("{p}-chain.pem")), chain).unwrap();
        let out = install(
            p,
            &format!("{p}.key"),
            &format!("{p}-chain.pem"),
            &format!("aoo_{p}"),
        );
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(&format!("sigillo dell'AOO aoo_{p} installato")));
    }

    // beta seals an outgoing entry to alfa.
    let a = app(&data, &url).await;
    let primary = a
        .documents()
        .put_bytes("lettera.pdf", LETTERA)
        .await
        .unwrap();
    let allegato = a
        .documents()
        .put_bytes("allegato.txt", ALLEGATO)
        .await
        .unwrap();
    let reg = a
        .register_protocol(
            beta.id,
            &operatore(),
            RegistrationInput {
                register: None,
                flow: Flow::Uscita,
                subject: "Trasmissione del parere".into(),
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
                attachments: vec![allegato.to_ref()],
                classification: Some("VI.3".into()),
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let (_, xml) = a
        .protocol_segnatura(beta.id, &operatore(), reg.id)
        .await
        .unwrap()
        .unwrap();
    a.checkpoint_all().await.unwrap();
    a.db().close().await;
    drop(a);

    // The message as a directory: registered, ConfermaRicezione beside it.
    let msg = d.join("messaggio");
    std::fs::create_dir_all(&msg).unwrap();
    std::fs::write(msg.join("segnatura.xml"), &xml).unwrap();
    std::fs::write(msg.join("lettera.pdf"), LETTERA).unwrap();
    std::fs::write(msg.join("allegato.txt"), ALLEGATO).unwrap();
    let ricevi = |args: &[&str]| {
        let mut all = vec!["protocollo", "ricevi", "--ente", "alfa", "--config", cfg];
        all.extend_from_slice(args);
        palazzo(&all)
    };
    // alfa does not trust beta's CA yet: 001, exit 2.
    let out = ricevi(&[msg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).starts_with("eccezione 001_ValidazioneFirma: "),
        "{}",
        text(&out)
    );
    std::fs::remove_file(msg.join("segnatura-eccezione.xml")).unwrap();
    // palazzo protocollo fiducia: add beta's CA to alfa's trust list (a
    // certificate that is not a CA's is refused), list it.
    let fiducia = |args: &[&str]| {
        let mut all = vec!["protocollo", "fiducia"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--ente", "alfa", "--config", cfg]);
        palazzo(&all)
    };
    let out = fiducia(&["aggiungi", "--cert", &path("beta.crt")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("fiducia_non_ca"), "{}", text(&out));
    let out = fiducia(&["aggiungi", "--cert", &path("beta-ca.crt")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("aggiunto all'elenco di fiducia di alfa: CA di prova beta"),
        "{}",
        text(&out)
    );
    let out = fiducia(&["elenca"]);
    assert!(
        out.status.success() && text(&out).contains("CA di prova beta"),
        "{}",
        text(&out)
    );
    let out = fiducia(&["rimuovi", "--sha256", "00"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let out = ricevi(&[msg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).starts_with("registrato: protocollo n. 0000001 del "),
        "{}",
        text(&out)
    );
    let answer = std::fs::read_to_string(msg.join("segnatura-conferma.xml")).unwrap();
    assert!(answer.contains("<pec:ConfermaRicezione"));
    assert!(answer.contains("<prot:CodiceAOO>aoo_alfa</prot:CodiceAOO>"));
    assert_valid(d, "conferma.xml", &answer, "pec_message.xsd");
    // Again, as files (the answer now in the directory is not a message):
    // already registered.
    let out = ricevi(&[
        msg.join("lettera.pdf").to_str().unwrap(),
        msg.join("segnatura.xml").to_str().unwrap(),
        msg.join("allegato.txt").to_str().unwrap(),
        msg.join("segnatura-conferma.xml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).starts_with("già registrato: protocollo n. 0000001"));

    // A tampered attachment: 002, NotificaEccezione at --out, exit 2.
    std::fs::write(msg.join("allegato.txt"), b"Allegato alterato.\n").unwrap();
    let out_file = d.join("eccezione.xml");
    let out = ricevi(&["--out", out_file.to_str().unwrap(), msg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).starts_with("eccezione 002_AnomaliaImpronte: "),
        "{}",
        text(&out)
    );
    let answer = std::fs::read_to_string(&out_file).unwrap();
    assert!(answer.contains("<pec:Motivo>002_AnomaliaImpronte: "));
    assert_valid(d, "eccezione.xml", &answer, "pec_message.xsd");
    // No segnatura among the inputs: an error, not an exception.
    let out = ricevi(&[msg.join("lettera.pdf").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("nessuna segnatura"));

    // beta annuls its registration: recorded with ours (once); one of a
    // registration alfa never received: 007, exit 2.
    let sender = palazzo_services::segnatura::messaggi::identificatore_of(&beta, "aoo_beta", &reg);
    let notice = palazzo_services::segnatura::messaggi::annullamento(
        &sender,
        "Errore materiale",
        "Determina n. 5/2026",
    );
    std::fs::write(d.join("annullamento.xml"), &notice).unwrap();
    let out = ricevi(&[d.join("annullamento.xml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).starts_with("annullamento del mittente registrato per il protocollo n. 0000001"),
        "{}",
        text(&out)
    );
    let out = ricevi(&[d.join("annullamento.xml").to_str().unwrap()]);
    assert!(
        text(&out).starts_with("annullamento del mittente già registrato"),
        "{}",
        text(&out)
    );
    let mut unknown = sender.clone();
    unknown.numero = "0999999".into();
    let notice = palazzo_services::segnatura::messaggi::annullamento(
        &unknown,
        "Errore materiale",
        "Determina n. 5/2026",
    );
    std::fs::write(d.join("sconosciuto.xml"), &notice).unwrap();
    let out = ricevi(&[d.join("sconosciuto.xml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).starts_with("eccezione 007_ErroreIdentificatoreNonTrovato: "),
        "{}",
        text(&out)
    );

    let out = palazzo(&["verify", "--config", cfg]);
    assert!(out.status.success(), "{}", text(&out));
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn receive_from_the_command_line_sqlite() {
    receive_from_the_command_line(None).await
}

#[tokio::test]
async fn receive_from_the_command_line_postgres() {
    receive_from_the_command_line(Some(PgDatabase::create().await)).await
}
