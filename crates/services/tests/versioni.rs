//! Versions of registered documents (SYS-3) and the Allegato 5
//! `DocumentoAmministrativoInformatico` export (PR-11) on both backends: a
//! new version is a new object, the previous one stays retrievable by
//! number and hash, the registered impronta never changes, every version is
//! ledgered once and checked by `palazzo verify`; refusals with their codes;
//! the metadata of every version validated by xmlschema
//! (`PALAZZO_XML_PYTHON`) against docs/documento-amministrativo-informatico.xsd,
//! with the modification chain, the annulment, the fascicoli, the
//! titolario URN and the Allegato 2 format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::fascicoli::FascicoloInput;
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::{office_fixture, tenant_fixture};
use palazzo_store::*;
use palazzo_testkit::{PgDatabase, TempDir};

fn actor(role: Role, office: Option<OfficeId>) -> Actor {
    Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role,
                office: office.map(|o| o.0),
            }],
        },
        name: Some(format!("Test {}", role.code())),
        acr: None,
    }
}

fn pdf(pdfa: bool, text: &str) -> Vec<u8> {
    let xmp = if pdfa {
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description \
         xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>2</pdfaid:part>\
         <pdfaid:conformance>B</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta>"
    } else {
        ""
    };
    format!(
        "%PDF-1.7\n%\u{e2}\u{e3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
         2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
         3 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n{xmp}\nendstream\nendobj\n\
         % {text}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

fn xsd() -> String {
    palazzo_testkit::pki::repo()
        .join("docs/documento-amministrativo-informatico.xsd")
        .to_string_lossy()
        .into_owned()
}

/// (valid, checker output) of `xml` against our XSD, by xmlschema.
fn validate(dir: &std::path::Path, name: &str, xml: &str) -> (bool, String) {
    let f = dir.join(name);
    std::fs::write(&f, xml).unwrap();
    palazzo_testkit::pki::segnatura_check(&["validate", f.to_str().unwrap(), "--xsd", &xsd()])
}

fn assert_valid(dir: &std::path::Path, name: &str, xml: &str) {
    let (ok, out) = validate(dir, name, xml);
    assert!(ok, "{name} not valid: {out}\n{xml}");
}

/// The text of every `<name>` element, in order.
fn all(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split(&close).next().map(str::to_owned))
        .collect()
}

fn code<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> &'static str {
    r.unwrap_err().code()
}

async fn versions(backend: Backend) {
    let dir = TempDir::new("versioni");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("v.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let other = app.create_tenant(tenant_fixture(2)).await.unwrap();
    let office = app
        .create_office(t.id, office_fixture("edilizia"))
        .await
        .unwrap()
        .id;
    let op = actor(Role::Operatore, Some(office));
    let docs = app.documents();

    // A registration with a PDF/A primary and a plain-PDF attachment (PR-12:
    // not conservabile).
    let original = docs
        .put_bytes("istanza.pdf", &pdf(true, "originale"))
        .await
        .unwrap();
    let allegato = docs
        .put_bytes("planimetria.pdf", &pdf(false, "planimetria"))
        .await
        .unwrap();
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let mut mario = Correspondent::person("Mario Rossi", &cf);
    mario.address = Some("Via Segreta 7, Casamassima".into());
    let reg = app
        .register_protocol(
            t.id,
            &op,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Istanza di permesso di costruire".into(),
                correspondents: vec![mario],
                received_number: None,
                received_date: None,
                primary: original.to_ref(),
                attachments: vec![allegato.to_ref()],
                classification: Some("VI.3".into()),
                office: Some(office),
                emergency: None,
            },
        )
        .await
        .unwrap();

    // Version 2 of the primary: a new object, the original untouched.
    let v2_file = docs
        .put_bytes("istanza-rettificata.pdf", &pdf(true, "rettificata"))
        .await
        .unwrap();
    let v2 = app
        .add_document_version(
            t.id,
            &op,
            reg.id,
            0,
            TipoModifica::Rettifica,
            "  Corretto l'indirizzo del cantiere  ",
            &v2_file,
        )
        .await
        .unwrap();
    assert_eq!(v2.data.version, 2);
    assert_eq!(v2.data.previous, original.sha256);
    assert_eq!(v2.data.reason, "Corretto l'indirizzo del cantiere");
    assert_eq!(v2.data.author, "Test operatore (user:1)");
    // Version 3 of the primary and version 2 of the attachment: numbered per
    // document.
    let v3_file = docs
        .put_bytes("istanza-annotata.pdf", &pdf(true, "annotata"))
        .await
        .unwrap();
    let v3 = app
        .add_document_version(
            t.id,
            &op,
            reg.id,
            0,
            TipoModifica::Annotazione,
            "Annotazione del responsabile",
            &v3_file,
        )
        .await
        .unwrap();
    assert_eq!((v3.data.version, v3.data.previous), (3, v2_file.sha256));
    let a2_file = docs
        .put_bytes("planimetria-integrata.pdf", &pdf(true, "integrata"))
        .await
        .unwrap();
    let a2 = app
        .add_document_version(
            t.id,
            &op,
            reg.id,
            1,
            TipoModifica::Integrazione,
            "Aggiunta la sezione",
            &a2_file,
        )
        .await
        .unwrap();
    assert_eq!((a2.data.version, a2.data.document), (2, 1));

    // The registration's fixed fields and impronta did not change (PR-3).
    let again = app.protocol_entry(t.id, &op, reg.id).await.unwrap();
    assert_eq!(again, reg);
    assert_eq!(again.data.primary.sha256, original.sha256);
    // Every version is retrievable by number, with its own hash (SYS-3).
    let (_, h) = app.document_histories(t.id, &op, reg.id).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        h[0].versions
            .iter()
            .map(|v| (v.version, v.file.sha256))
            .collect::<Vec<_>>(),
        vec![
            (1, original.sha256),
            (2, v2_file.sha256),
            (3, v3_file.sha256)
        ]
    );
    for (n, v, want) in [
        (0, 1, pdf(true, "originale")),
        (0, 2, pdf(true, "rettificata")),
        (0, 3, pdf(true, "annotata")),
        (1, 1, pdf(false, "planimetria")),
        (1, 2, pdf(true, "integrata")),
    ] {
        let (file, bytes) = app
            .document_version_file(t.id, &op, reg.id, n, v)
            .await
            .unwrap();
        assert_eq!(bytes, want, "document {n} version {v}");
        assert_eq!(file.sha256, Impronta::of(&want));
    }
    assert!(matches!(
        app.document_version_file(t.id, &op, reg.id, 0, 4).await,
        Err(ServiceError::NotFound)
    ));

    // Refusals.
    let same = docs
        .put_bytes("uguale.pdf", &pdf(true, "annotata"))
        .await
        .unwrap();
    let add = |n: u32, reason: &'static str, file| {
        let app = app.clone();
        let op = op.clone();
        async move {
            app.add_document_version(t.id, &op, reg.id, n, TipoModifica::Rettifica, reason, file)
                .await
        }
    };
    assert_eq!(code(add(0, "Uguale", &same).await), "versione_identica");
    assert_eq!(
        code(add(0, "   ", &v2_file).await),
        "versione_motivo_mancante"
    );
    assert_eq!(
        code(add(2, "Non c'è", &v2_file).await),
        "versione_documento_inesistente"
    );
    let long: &'static str = Box::leak("x".repeat(1001).into_boxed_str());
    assert_eq!(
        code(add(0, long, &v2_file).await),
        "versione_motivo_troppo_lungo"
    );
    // The segretario reads the register but does not register.
    let segretario = actor(Role::Segretario, None);
    assert!(matches!(
        app.add_document_version(
            t.id,
            &segretario,
            reg.id,
            0,
            TipoModifica::Rettifica,
            "No",
            &v2_file
        )
        .await,
        Err(ServiceError::Forbidden)
    ));
    assert_eq!(
        app.document_histories(t.id, &segretario, reg.id)
            .await
            .unwrap()
            .1[0]
            .versions
            .len(),
        3
    );
    // Another comune does not see the registration.
    assert!(matches!(
        app.add_document_version(
            other.id,
            &op,
            reg.id,
            0,
            TipoModifica::Rettifica,
            "No",
            &v2_file
        )
        .await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        app.document_version_file(other.id, &op, reg.id, 0, 2).await,
        Err(ServiceError::NotFound)
    ));

    // Ledgered exactly once each (LOG-6).
    let size = app.db().ledger_size(t.id).await.unwrap();
    let events = app.db().ledger_events(t.id, 0, size).await.unwrap();
    let versions: Vec<&LedgerEvent> = events
        .iter()
        .filter(|e| e.kind == "protocollo.versione")
        .collect();
    assert_eq!(
        versions
            .iter()
            .map(|e| e.subject.as_str())
            .collect::<Vec<_>>(),
        vec![
            format!("versione:{}", v2.id.0),
            format!("versione:{}", v3.id.0),
            format!("versione:{}", a2.id.0)
        ]
    );

    // --- Allegato 5 metadata (PR-11).
    let fascicolo = app
        .open_fascicolo(
            t.id,
            &op,
            FascicoloInput {
                classification: "VI.3".into(),
                kind: FascicoloKind::Procedimento,
                subject: "Permesso di costruire".into(),
                office,
                responsible: "Ing. Anna Bianchi".into(),
                participants: vec![],
                holder: None,
                parent: None,
            },
        )
        .await
        .unwrap();
    app.file_document(t.id, &op, fascicolo.fascicolo.id, reg.id)
        .await
        .unwrap();
    let seg = format!("REG_PROT-{}-{}", reg.year, reg.number);
    // The current version of the primary: 3, with two modifications.
    let m = app
        .documento_amministrativo(t.id, &op, reg.id, 0, None)
        .await
        .unwrap();
    assert_eq!((m.version, m.file.sha256), (3, v3_file.sha256));
    assert_eq!(
        m.file_name,
        format!("metadati-REG_PROT-{}-{}-0-v3.xml", reg.year, reg.number)
    );
    let x = &m.xml;
    assert_valid(dir.path(), "primary-v3.xml", x);
    assert!(x.contains("xmlns=\"urn:palazzo:documento-amministrativo-informatico:1\""));
    assert_eq!(
        all(x, "Impronta")[0],
        v3_file.sha256.base64(),
        "IdDoc of this version"
    );
    assert_eq!(all(x, "Algoritmo")[0], "SHA-256");
    assert_eq!(all(x, "Segnatura")[0], seg);
    assert_eq!(all(x, "ModalitaDiFormazione"), ["b"]);
    assert_eq!(all(x, "TipologiaDiFlusso"), ["E"]);
    assert!(x.contains("<ProtocolloOrdinario_ProtocolloEmergenza>"));
    assert_eq!(
        all(x, "NumeroProtocolloDocumento"),
        [reg.number.to_string()]
    );
    assert_eq!(all(x, "CodiceRegistro"), ["REG_PROT"]);
    assert_eq!(
        all(x, "TipoRuolo"),
        [
            "AmministrazioneCheEffettuaLaRegistrazione",
            "Mittente",
            "Assegnatario",
            "Operatore"
        ]
    );
    assert!(x.contains("<CodiceFiscale>RSSMRA80A01H501U</CodiceFiscale>"));
    assert!(!x.contains("Via Segreta"), "no postal address");
    assert_eq!(all(x, "Oggetto"), ["Istanza di permesso di costruire"]);
    assert_eq!(all(x, "NumeroAllegati"), ["1"]);
    assert!(x.contains(&format!(
        "<Impronta>{}</Impronta>",
        allegato.sha256.base64()
    )));
    assert_eq!(all(x, "IndiceDiClassificazione"), ["VI.3"]);
    assert_eq!(
        all(x, "PianoDiClassificazione"),
        [format!(
            "urn:palazzo:{}:titolario:v1",
            t.data.codice_ipa.as_str()
        )]
    );
    assert_eq!(all(x, "Riservato"), ["false"]);
    assert_eq!(all(x, "Formato"), ["PDF/A-2b"]);
    assert_eq!(all(x, "FirmatoDigitalmente"), ["false"]);
    assert_eq!(
        all(x, "IdAggregazione"),
        vec![fascicolo.fascicolo.code.clone()]
    );
    assert_eq!(all(x, "NomeDelDocumento"), ["istanza-annotata.pdf"]);
    assert_eq!(all(x, "VersioneDelDocumento"), ["3"]);
    assert_eq!(all(x, "TipoModifica"), ["Rettifica", "Annotazione"]);
    assert_eq!(all(x, "Motivo")[0], "Corretto l'indirizzo del cantiere");
    let previous = all(x, "IdDocVersionePrecedente");
    assert_eq!(previous.len(), 2);
    assert!(previous[0].contains(&original.sha256.base64()), "{x}");
    assert!(previous[1].contains(&v2_file.sha256.base64()), "{x}");
    assert_eq!(all(x, "TempoDiConservazione"), ["permanente"]);
    assert!(!x.contains("IdIdentificativoDocumentoPrimario"));

    // A riservato fascicolo (TI-6) makes the document Riservato.
    app.restrict_fascicolo(
        t.id,
        &op,
        fascicolo.fascicolo.id,
        Some(palazzo_services::fascicoli::RestrictionInput {
            offices: vec![office],
            users: vec![],
        }),
    )
    .await
    .unwrap();
    let mr = app
        .documento_amministrativo(t.id, &op, reg.id, 0, None)
        .await
        .unwrap();
    assert_valid(dir.path(), "riservato.xml", &mr.xml);
    assert_eq!(all(&mr.xml, "Riservato"), ["true"]);
    assert_eq!(
        all(&mr.xml, "IdAggregazione"),
        vec![fascicolo.fascicolo.code.clone()]
    );
    app.restrict_fascicolo(t.id, &op, fascicolo.fascicolo.id, None)
        .await
        .unwrap();

    // Version 1: the original, no modification.
    let m1 = app
        .documento_amministrativo(t.id, &op, reg.id, 0, Some(1))
        .await
        .unwrap();
    assert_valid(dir.path(), "primary-v1.xml", &m1.xml);
    assert_eq!(all(&m1.xml, "VersioneDelDocumento"), ["1"]);
    assert!(!m1.xml.contains("TracciatureModificheDocumento"));
    assert_eq!(all(&m1.xml, "Impronta")[0], original.sha256.base64());
    // The attachment in its original version: not conservabile (plain PDF),
    // pointing to the primary.
    let ma = app
        .documento_amministrativo(t.id, &op, reg.id, 1, Some(1))
        .await
        .unwrap();
    assert_valid(dir.path(), "allegato-v1.xml", &ma.xml);
    assert_eq!(all(&ma.xml, "Formato"), ["PDF"]);
    assert_eq!(all(&ma.xml, "TipologiaDocumentale"), ["Allegato"]);
    assert_eq!(all(&ma.xml, "NumeroAllegati"), ["0"]);
    assert!(
        all(&ma.xml, "IdIdentificativoDocumentoPrimario")[0].contains(&original.sha256.base64()),
        "{}",
        ma.xml
    );
    assert!(matches!(
        app.documento_amministrativo(t.id, &op, reg.id, 0, Some(9))
            .await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        app.documento_amministrativo(other.id, &op, reg.id, 0, None)
            .await,
        Err(ServiceError::NotFound)
    ));
    // The validator is not a rubber stamp: without VersioneDelDocumento, or
    // with a flow that is not E/U/I, the XML is refused.
    let broken = x.replace("<VersioneDelDocumento>3</VersioneDelDocumento>\n", "");
    assert!(!validate(dir.path(), "broken-1.xml", &broken).0);
    let broken = x.replace("<TipologiaDiFlusso>E<", "<TipologiaDiFlusso>X<");
    assert!(!validate(dir.path(), "broken-2.xml", &broken).0);

    // An outgoing registration: formed with software, the ente as mittente.
    let out_doc = docs
        .put_bytes("risposta.pdf", &pdf(true, "risposta"))
        .await
        .unwrap();
    let dirigente = actor(Role::Dirigente, Some(office));
    let mut pec = Correspondent::person("Mario Rossi", &cf);
    pec.email = Some(palazzo_domain::ids::Email::parse("mario@pec.example.it").unwrap());
    let out = app
        .register_protocol(
            t.id,
            &dirigente,
            RegistrationInput {
                register: None,
                flow: Flow::Interno,
                subject: "Nota interna".into(),
                correspondents: vec![pec],
                received_number: None,
                received_date: None,
                primary: out_doc.to_ref(),
                attachments: vec![],
                classification: None,
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let mo = app
        .documento_amministrativo(t.id, &op, out.id, 0, None)
        .await
        .unwrap();
    assert_valid(dir.path(), "interno.xml", &mo.xml);
    assert_eq!(all(&mo.xml, "ModalitaDiFormazione"), ["a"]);
    assert_eq!(all(&mo.xml, "TipologiaDiFlusso"), ["I"]);
    assert_eq!(
        all(&mo.xml, "TipoRuolo"),
        [
            "AmministrazioneCheEffettuaLaRegistrazione",
            "Mittente",
            "Destinatario",
            "Operatore"
        ]
    );
    assert!(
        mo.xml
            .contains("<IndirizzoDigitale>mario@pec.example.it</IndirizzoDigitale>")
    );
    assert!(!mo.xml.contains("<Classificazione>"), "not classified yet");

    // Annulment: no new version; the metadata trace it (Annullamento).
    app.annul_protocol(
        t.id,
        &dirigente,
        reg.id,
        "Errore materiale",
        "Decreto n. 4/2026",
    )
    .await
    .unwrap();
    let v4 = docs
        .put_bytes("dopo.pdf", &pdf(true, "dopo"))
        .await
        .unwrap();
    assert_eq!(
        code(add(0, "Dopo l'annullamento", &v4).await),
        "protocollo_annullato"
    );
    let mx = app
        .documento_amministrativo(t.id, &op, reg.id, 0, Some(1))
        .await
        .unwrap();
    assert_valid(dir.path(), "annullato-v1.xml", &mx.xml);
    assert_eq!(all(&mx.xml, "TipoModifica"), ["Annullamento"]);
    assert!(
        mx.xml
            .contains("Errore materiale (provvedimento: Decreto n. 4/2026)")
    );
    let mx3 = app
        .documento_amministrativo(t.id, &op, reg.id, 0, None)
        .await
        .unwrap();
    assert_valid(dir.path(), "annullato-v3.xml", &mx3.xml);
    assert_eq!(
        all(&mx3.xml, "TipoModifica"),
        ["Rettifica", "Annotazione", "Annullamento"]
    );

    // Verify: clean; then a version changed behind Palazzo's back.
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let drop = match backend {
        Backend::Sqlite => "DROP TRIGGER protocol_document_versions_fixed",
        Backend::Postgres => {
            "DROP TRIGGER protocol_document_versions_fixed ON protocol_document_versions"
        }
    };
    app.db().execute_raw(drop).await.unwrap();
    app.db()
        .execute_raw(&format!(
            "UPDATE protocol_document_versions SET reason = 'Altro' WHERE id = {}",
            v2.id.0
        ))
        .await
        .unwrap();
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject, .. } if subject == &format!("versione:{}", v2.id.0))),
        "{:?}",
        report.problems
    );

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn versions_and_metadata_sqlite() {
    versions(Backend::Sqlite).await;
}

#[tokio::test]
async fn versions_and_metadata_postgres() {
    versions(Backend::Postgres).await;
}
