//! Interoperability between AOO (issue 4 part 5; Allegato 6, PR-2, PR-6,
//! PR-7, PR-8) on both backends, checked with independent tools
//! (`testbeds/xml/segnatura-check.py`: xmlschema on the AgID XSDs, signxml):
//!
//! * an outgoing registration is sealed in its transaction: its segnatura
//!   validates against `segnatura_protocollo.xsd` and verifies with signxml;
//!   a sealing failure consumes no number;
//! * the receiver accepts that message (another AOO, another test CA made
//!   with openssl), registers it as incoming and answers with a
//!   `ConfermaRicezione` valid against `pec_message.xsd`; it also accepts a
//!   segnatura signed by signxml itself (c14n 1.1);
//! * the sender's certificate must chain to alfa's trust list and be valid
//!   at the `SigningTime`: an untrusted CA, a self-signed certificate, a
//!   seal expired at signing time, a `SigningTime` in the future →
//!   `001_ValidazioneFirma`;
//! * tampered attachment → `002_AnomaliaImpronte`; one byte changed →
//!   `001_ValidazioneFirma`; annulment of an unknown identifier →
//!   `007_ErroreIdentificatoreNonTrovato`; each `NotificaEccezione` is valid.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::segnatura::demo_ca::DemoCa;
use palazzo_services::segnatura::messaggi;
use palazzo_services::segnatura::ricezione::Anomalia;
use palazzo_services::segnatura::{self, Esito, FileRicevuto};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Registration, SenderIdentifier, Store, Tenant, TenantId, UserId};
use palazzo_testkit::pki::{assert_valid, openssl, pki, segnatura_check};
use palazzo_testkit::{PgDatabase, TempDir};

fn check(args: &[&str]) -> (bool, String) {
    segnatura_check(args)
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

struct Fixture {
    app: App,
    alfa: Tenant,
    beta: Tenant,
    dir: TempDir,
    pg: Option<PgDatabase>,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = TempDir::new("interop");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("p.db")).await.unwrap(),
            None,
        ),
    };
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    let alfa = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let beta = app.create_tenant(tenant_fixture(2)).await.unwrap();
    Fixture {
        app,
        alfa,
        beta,
        dir,
        pg,
    }
}

async fn done(f: Fixture) {
    f.app.db().close().await;
    if let Some(pg) = f.pg {
        pg.drop_now().await;
    }
}

fn install(f: &Fixture, t: &Tenant, p: &str, aoo: &str) {
    let d = f.dir.path();
    let key = std::fs::read_to_string(d.join(format!("{p}.key"))).unwrap();
    let cert = std::fs::read_to_string(d.join(format!("{p}.crt"))).unwrap();
    let ca = std::fs::read_to_string(d.join(format!("{p}-ca.crt"))).unwrap();
    f.app
        .install_aoo_seal(&t.data.slug, &key, &format!("{cert}{ca}"), aoo)
        .unwrap();
}

/// An outgoing registration of `from` addressed to the administration `to`.
async fn outgoing(
    f: &Fixture,
    from: TenantId,
    to: &Tenant,
    classification: Option<&str>,
) -> Result<Registration, ServiceError> {
    let primary = f
        .app
        .documents()
        .put_bytes(
            "lettera.pdf",
            b"%PDF-1.7\n% lettera di trasmissione\n%%EOF\n",
        )
        .await
        .unwrap();
    let allegato = f
        .app
        .documents()
        .put_bytes("allegato.txt", b"Allegato tecnico alla lettera.\n")
        .await
        .unwrap();
    f.app
        .register_protocol(
            from,
            &operatore(),
            RegistrationInput {
                register: None,
                flow: Flow::Uscita,
                subject: "Trasmissione del parere \"urgente\" & allegati".into(),
                correspondents: vec![Correspondent {
                    kind: CorrespondentKind::Amministrazione,
                    name: to.data.name.clone(),
                    fiscal_code: None,
                    ipa: Some(to.data.codice_ipa.as_str().to_owned()),
                    email: Some(to.data.pec.clone()),
                    address: None,
                    per_conoscenza: false,
                }],
                received_number: None,
                received_date: None,
                primary: primary.to_ref(),
                attachments: vec![allegato.to_ref()],
                classification: classification.map(str::to_owned),
                office: None,
                emergency: None,
            },
        )
        .await
}

fn files() -> Vec<FileRicevuto> {
    vec![
        FileRicevuto {
            name: "lettera.pdf".into(),
            bytes: Some(b"%PDF-1.7\n% lettera di trasmissione\n%%EOF\n".to_vec()),
        },
        FileRicevuto {
            name: "allegato.txt".into(),
            bytes: Some(b"Allegato tecnico alla lettera.\n".to_vec()),
        },
    ]
}

fn refused(e: &Esito) -> (&'static str, &str) {
    match e {
        Esito::Eccezione { rifiuto, risposta } => (rifiuto.anomalia.code(), risposta),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn interoperability(backend: Backend) {
    let f = fixture(backend).await;
    let d = f.dir.path().to_path_buf();
    pki(&d, "alfa", "ec");
    pki(&d, "beta", "rsa");
    pki(&d, "gamma", "ec");
    let op = operatore();

    // No seal installed: an outgoing entry is refused and consumes no number.
    let e = outgoing(&f, f.beta.id, &f.alfa, Some("VI.3"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "segnatura_sigillo_mancante", "{e}");
    // A self-signed certificate is not a seal.
    let ca_key = std::fs::read_to_string(d.join("beta-ca.key")).unwrap();
    let ca_crt = std::fs::read_to_string(d.join("beta-ca.crt")).unwrap();
    let e = f
        .app
        .install_aoo_seal(&f.beta.data.slug, &ca_key, &ca_crt, "aoo_beta")
        .unwrap_err();
    assert_eq!(e.code(), "segnatura_certificato_autofirmato");
    install(&f, &f.alfa, "alfa", "aoo_alfa");
    install(&f, &f.beta, "beta", "aoo_beta");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = d
            .join("keys")
            .join(&f.beta.data.slug)
            .join("segnatura-key.pem");
        assert_eq!(
            std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Sealing fails inside the transaction (no classification: the schema
    // requires Classifica): nothing registered, the number is not consumed.
    let e = outgoing(&f, f.beta.id, &f.alfa, None).await.unwrap_err();
    assert_eq!(e.code(), "segnatura_classifica_mancante", "{e}");
    let reg = outgoing(&f, f.beta.id, &f.alfa, Some("VI.3"))
        .await
        .unwrap();
    assert_eq!(reg.number.get(), 1, "a failed sealing consumed a number");

    // The sealed segnatura: stored with the registration, schema-valid,
    // verified by signxml against beta's CA.
    let (rec, xml) = f
        .app
        .protocol_segnatura(f.beta.id, &op, reg.id)
        .await
        .unwrap()
        .expect("outgoing entry has a segnatura");
    assert_eq!(
        rec.data.document.sha256,
        palazzo_domain::protocollo::Impronta::of(&xml)
    );
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains("<prot:NumeroRegistrazione>0000001</prot:NumeroRegistrazione>"));
    assert_valid(&d, "beta-segnatura.xml", &xml, "segnatura_protocollo.xsd");
    let (ok, out) = check(&[
        "verify",
        d.join("beta-segnatura.xml").to_str().unwrap(),
        "--ca",
        d.join("beta-ca.crt").to_str().unwrap(),
    ]);
    assert!(ok, "signxml: {out}");

    // alfa trusts nobody yet, then only its own CA: 001, with the reason.
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, xml.as_bytes(), &files())
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "001_ValidazioneFirma");
    assert!(risposta.contains("elenco di fiducia vuoto"), "{risposta}");
    f.app
        .add_trust_anchors(
            &f.alfa.data.slug,
            &std::fs::read_to_string(d.join("alfa-ca.crt")).unwrap(),
        )
        .unwrap();
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, xml.as_bytes(), &files())
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "001_ValidazioneFirma");
    assert!(
        risposta.contains("non è rilasciato da un'autorità di certificazione attendibile"),
        "{risposta}"
    );
    assert_valid(&d, "eccezione-001-fiducia.xml", risposta, "pec_message.xsd");
    let added = f
        .app
        .add_trust_anchors(
            &f.alfa.data.slug,
            &std::fs::read_to_string(d.join("beta-ca.crt")).unwrap(),
        )
        .unwrap();
    assert_eq!(added.len(), 1);
    assert!(added[0].subject.contains("CA di prova beta"), "{added:?}");

    // alfa receives it: registered as incoming, confirmed.
    let esito = f
        .app
        .receive_protocol_message(f.alfa.id, &op, xml.as_bytes(), &files())
        .await
        .unwrap();
    let Esito::Registrata {
        registration,
        duplicate,
        risposta,
    } = esito
    else {
        panic!("not registered: {esito:?}");
    };
    assert!(!duplicate);
    assert_eq!(registration.data.flow, Flow::Entrata);
    assert_eq!(
        registration.data.received_number.as_deref(),
        Some("0000001")
    );
    assert_eq!(
        registration.data.received_date,
        Some(palazzo_domain::calendar::rome_date(reg.registered_at))
    );
    let sender = &registration.data.correspondents[0];
    assert_eq!(sender.ipa.as_deref(), Some(f.beta.data.codice_ipa.as_str()));
    assert_eq!(registration.data.attachments.len(), 1);
    assert!(risposta.contains("<pec:ConfermaRicezione"));
    assert!(risposta.contains("<prot:CodiceAOO>aoo_alfa</prot:CodiceAOO>"));
    assert!(risposta.contains("<prot:CodiceAOO>aoo_beta</prot:CodiceAOO>"));
    assert_valid(&d, "conferma.xml", &risposta, "pec_message.xsd");
    let stored = f
        .app
        .protocol_segnatura(f.alfa.id, &op, registration.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.1, xml.as_bytes());
    // The same message again: confirmed, not registered twice.
    let again = f
        .app
        .receive_protocol_message(f.alfa.id, &op, xml.as_bytes(), &files())
        .await
        .unwrap();
    match again {
        Esito::Registrata {
            registration: r,
            duplicate: true,
            ..
        } => assert_eq!(r.id, registration.id),
        other => panic!("{other:?}"),
    }

    // Tampered attachment → 002.
    let mut tampered = files();
    tampered[1].bytes = Some(b"Allegato tecnico alla lettera!\n".to_vec());
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, xml.as_bytes(), &tampered)
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "002_AnomaliaImpronte");
    assert!(risposta.contains("<pec:Motivo>002_AnomaliaImpronte: "));
    assert_valid(&d, "eccezione-002.xml", risposta, "pec_message.xsd");
    // Unreadable file → 003.
    let mut unreadable = files();
    unreadable[0].bytes = None;
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, xml.as_bytes(), &unreadable)
        .await
        .unwrap();
    assert_eq!(refused(&e).0, "003_DocumentoAllegatiNonLeggibili");

    // One byte changed → 001: in the signed content, and in the signature.
    let changed = xml.replacen("Trasmissione del parere", "Trasmissione del parerE", 1);
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, changed.as_bytes(), &files())
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "001_ValidazioneFirma");
    assert_valid(&d, "eccezione-001.xml", risposta, "pec_message.xsd");
    let start = xml.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len() + 10;
    let mut bytes = xml.clone().into_bytes();
    bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, &bytes, &files())
        .await
        .unwrap();
    assert_eq!(refused(&e).0, "001_ValidazioneFirma");
    // Not addressed to us, not XML: 000_Irricevibile.
    let e = f
        .app
        .receive_protocol_message(f.beta.id, &op, xml.as_bytes(), &files())
        .await
        .unwrap();
    assert_eq!(refused(&e).0, "000_Irricevibile");
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, b"<nope", &files())
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "000_Irricevibile");
    assert_valid(&d, "eccezione-000.xml", risposta, "pec_message.xsd");

    // Annulment: unknown identifier → 007; known → found.
    let mut unknown = SenderIdentifier {
        amministrazione: f.beta.data.codice_ipa.as_str().to_owned(),
        aoo: "aoo_beta".into(),
        registro: "REG_PROT".into(),
        numero: "0000099".into(),
        data: palazzo_domain::calendar::rome_date(reg.registered_at),
    };
    let notice = messaggi::annullamento(&unknown, "Errore materiale", "Determina n. 1/2026");
    assert_valid(&d, "annullamento.xml", &notice, "pec_message.xsd");
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, notice.as_bytes(), &[])
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, Anomalia::ErroreIdentificatoreNonTrovato.code());
    assert_eq!(code, "007_ErroreIdentificatoreNonTrovato");
    assert_valid(&d, "eccezione-007.xml", risposta, "pec_message.xsd");
    unknown.numero = "0000001".into();
    let notice = messaggi::annullamento(&unknown, "Errore materiale", "Determina n. 1/2026");
    match f
        .app
        .receive_protocol_message(f.alfa.id, &op, notice.as_bytes(), &[])
        .await
        .unwrap()
    {
        Esito::Annullamento {
            registration: r, ..
        } => assert_eq!(r.id, registration.id),
        other => panic!("{other:?}"),
    }

    // A segnatura signed by signxml (c14n 1.1, KeyValue + X509Data, three
    // references) for a third AOO with its own CA is accepted too.
    let mut gamma_reg = reg.clone();
    gamma_reg.number = palazzo_domain::protocollo::ProtocolNumber::new(77).unwrap();
    let unsigned = segnatura::build(&f.beta, "aoo_gamma", &gamma_reg).unwrap();
    std::fs::write(d.join("gamma-unsigned.xml"), unsigned.to_xml()).unwrap();
    let (ok, out) = check(&[
        "sign",
        d.join("gamma-unsigned.xml").to_str().unwrap(),
        "--key",
        d.join("gamma.key").to_str().unwrap(),
        "--cert",
        d.join("gamma.crt").to_str().unwrap(),
        "--out",
        d.join("gamma-signed.xml").to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let gamma = std::fs::read(d.join("gamma-signed.xml")).unwrap();
    f.app
        .add_trust_anchors(
            &f.alfa.data.slug,
            &std::fs::read_to_string(d.join("gamma-ca.crt")).unwrap(),
        )
        .unwrap();
    match f
        .app
        .receive_protocol_message(f.alfa.id, &op, &gamma, &files())
        .await
        .unwrap()
    {
        Esito::Registrata {
            registration: r,
            duplicate: false,
            ..
        } => assert_eq!(r.data.received_number.as_deref(), Some("0000077")),
        other => panic!("signxml's segnatura refused: {other:?}"),
    }

    // A self-signed sender certificate (allowed to sign, but issued by no
    // CA alfa trusts): 001.
    openssl(
        &d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "self.key",
            "-out",
            "self.crt",
            "-days",
            "30",
            "-subj",
            "/CN=Sigillo autofirmato/O=Comune Beta/C=IT",
            "-addext",
            "keyUsage=critical,digitalSignature,nonRepudiation",
        ],
    );
    let self_signed = segnatura::SealKey::from_pem(
        &std::fs::read_to_string(d.join("self.key")).unwrap(),
        &std::fs::read_to_string(d.join("self.crt")).unwrap(),
    )
    .unwrap();
    let mut other_reg = reg.clone();
    other_reg.number = palazzo_domain::protocollo::ProtocolNumber::new(78).unwrap();
    let unsigned = segnatura::build(&f.beta, "aoo_beta", &other_reg).unwrap();
    let now = jiff::Timestamp::now();
    let signed = segnatura::sign(&unsigned, &self_signed, now).unwrap();
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, signed.as_bytes(), &files())
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "001_ValidazioneFirma");
    assert!(risposta.contains("Sigillo autofirmato"), "{risposta}");
    // A seal of a trusted CA that had expired at the SigningTime: 001; the
    // same seal at a SigningTime within its validity: accepted.
    let years = |n: i64| jiff::SignedDuration::from_hours(24 * 365 * n);
    let old_ca = DemoCa::generate(now - years(5)).unwrap();
    let old_seal = old_ca
        .issue_seal(&f.beta.data.name, "aoo_beta", now - years(3))
        .unwrap();
    f.app
        .add_trust_anchors(&f.alfa.data.slug, &old_ca.certificate_pem())
        .unwrap();
    let old_key = segnatura::SealKey::from_pem(&old_seal.key_pem, &old_seal.cert_pem).unwrap();
    let signed = segnatura::sign(&unsigned, &old_key, now).unwrap();
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, signed.as_bytes(), &files())
        .await
        .unwrap();
    let (code, risposta) = refused(&e);
    assert_eq!(code, "001_ValidazioneFirma");
    assert!(
        risposta.contains("era scaduto all'ora della firma"),
        "{risposta}"
    );
    let signed = segnatura::sign(&unsigned, &old_key, now - years(2)).unwrap();
    match f
        .app
        .receive_protocol_message(f.alfa.id, &op, signed.as_bytes(), &files())
        .await
        .unwrap()
    {
        Esito::Registrata {
            registration: r, ..
        } => {
            assert_eq!(r.data.received_number.as_deref(), Some("0000078"))
        }
        other => panic!("a seal valid at its SigningTime refused: {other:?}"),
    }
    // A SigningTime in the future: 001.
    let signed = segnatura::sign(
        &unsigned,
        &old_key,
        now + jiff::SignedDuration::from_hours(2),
    )
    .unwrap();
    let e = f
        .app
        .receive_protocol_message(f.alfa.id, &op, signed.as_bytes(), &files())
        .await
        .unwrap();
    assert!(refused(&e).1.contains("nel futuro"));

    // Every change is in the ledger and verifies.
    let report = palazzo_services::verify::verify(f.app.db(), f.app.keys())
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let _ = f.app.db().tenants().await.unwrap();
    done(f).await;
}

#[tokio::test]
async fn interoperability_sqlite() {
    interoperability(Backend::Sqlite).await
}

#[tokio::test]
async fn interoperability_postgres() {
    interoperability(Backend::Postgres).await
}
