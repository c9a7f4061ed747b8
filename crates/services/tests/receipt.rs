//! The ricevuta di protocollo (issue 4 item 7, DECISIONS 13) on both
//! backends: the receipt verifies offline against the tenant's verifier
//! key; tampering (state, proof, checkpoint key, truncated or other PDF) is
//! detected; after a reassignment the receipt proves the latest event; the
//! PDF is PDF/A-3 as seen by pikepdf and shows the verified fields as seen
//! by pypdf (`PALAZZO_PDF_PYTHON`, from testbeds/pdf/setup.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::cbor::{self, Value};
use palazzo_domain::checkpoint;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_domain::receipt::{Bundle, ReceiptError};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::receipt::{ReceiptCheckError, verify_pdf};
use palazzo_services::{App, ledger::LEDGER_KEY};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{DocumentRef, UserId};
use palazzo_testkit::{PgDatabase, TempDir};

fn actor(role: Role) -> Actor {
    Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role,
                office: role.is_office_scoped().then_some(1),
            }],
        },
        name: Some(format!("Test {}", role.code())),
        acr: None,
    }
}

fn doc(name: &str, bytes: &[u8]) -> DocumentRef {
    DocumentRef {
        name: name.into(),
        media_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256: Impronta::of(bytes),
    }
}

fn input() -> RegistrationInput {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    RegistrationInput {
        register: None,
        flow: Flow::Entrata,
        subject: "Richiesta di accesso agli atti — città".into(),
        correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
        received_number: None,
        received_date: None,
        primary: doc("istanza.pdf", b"istanza"),
        attachments: vec![doc("documento d'identità.pdf", b"foo")],
        classification: Some("XI.2".into()),
        office: None,
        emergency: None,
    }
}

/// Replaces the bundle inside a receipt PDF by another of the same length
/// (the PDF stays well-formed: the stream length does not change).
fn swap_bundle(pdf: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    assert_eq!(old.len(), new.len());
    let at = pdf.windows(old.len()).position(|w| w == old).unwrap();
    let mut out = pdf.to_vec();
    out[at..at + old.len()].copy_from_slice(new);
    out
}

async fn round_trip(backend: Backend) {
    let dir = TempDir::new("receipt");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("r.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let tenant = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let desk = actor(Role::Operatore);
    let reg = app
        .register_protocol(tenant.id, &desk, input())
        .await
        .unwrap();
    let trusted = keys.trusted(&tenant.data.slug, LEDGER_KEY).unwrap();
    assert_eq!(trusted.len(), 1);

    // No checkpoint yet: the receipt signs one at once.
    let receipt = app
        .protocol_receipt(tenant.id, &desk, reg.id)
        .await
        .unwrap();
    assert_eq!(
        receipt.file_name,
        format!("ricevuta-{}-{:07}.pdf", reg.year, reg.number.get())
    );
    let v = verify_pdf(&receipt.bytes, &trusted).unwrap();
    assert_eq!(v.number, reg.number.get());
    assert_eq!(v.entry.kind(), "protocollo.registered");
    assert_eq!(v.primary.sha256, Impronta::of(b"istanza").hex());
    assert_eq!(v.attachments[0].sha256, Impronta::of(b"foo").hex());
    std::fs::write(dir.path().join("ricevuta.pdf"), &receipt.bytes).unwrap();

    // Tampering.
    let files = palazzo_pdf::read::embedded_files(&receipt.bytes).unwrap();
    let original = files[0].data.clone();
    let bundle = Bundle::from_bytes(&original).unwrap();
    // A changed number in the state (same length: 1 -> 2 in the number field).
    let mut state = cbor::decode(&bundle.state)
        .unwrap()
        .as_map()
        .unwrap()
        .to_vec();
    for (k, v) in &mut state {
        if k.as_text() == Some("number") {
            *v = Value::Unsigned(reg.number.get() + 1);
        }
    }
    let mut changed = bundle.clone();
    changed.state = cbor::encode(&Value::Map(state)).unwrap();
    let tampered = swap_bundle(&receipt.bytes, &original, &changed.to_bytes());
    assert_eq!(
        verify_pdf(&tampered, &trusted).unwrap_err(),
        ReceiptCheckError::Bundle(ReceiptError::StateMismatch)
    );
    // A wrong proof hash (or, in a one-leaf-past tree, a wrong checkpoint root).
    let mut changed = bundle.clone();
    if let Some(h) = changed.proof.first_mut() {
        h[0] ^= 1;
        let tampered = swap_bundle(&receipt.bytes, &original, &changed.to_bytes());
        assert!(matches!(
            verify_pdf(&tampered, &trusted).unwrap_err(),
            ReceiptCheckError::Bundle(ReceiptError::Proof(_))
        ));
    }
    // Checkpoint signed by another key: not trusted.
    let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let cp = checkpoint::parse_unverified(&bundle.checkpoint)
        .unwrap()
        .checkpoint;
    let mut changed = bundle.clone();
    changed.checkpoint = checkpoint::sign(&cp, &bundle.key_name, &other).unwrap();
    let tampered = swap_bundle(&receipt.bytes, &original, &changed.to_bytes());
    assert_eq!(
        verify_pdf(&tampered, &trusted).unwrap_err(),
        ReceiptCheckError::Bundle(ReceiptError::Checkpoint(
            checkpoint::CheckpointError::WrongKeyId
        ))
    );
    let other_key = vec![(bundle.key_name.clone(), other.verifying_key())];
    assert!(matches!(
        verify_pdf(&receipt.bytes, &other_key).unwrap_err(),
        ReceiptCheckError::Bundle(ReceiptError::UntrustedKey(_))
    ));
    // Truncated, or another PDF.
    let cut = &receipt.bytes[..receipt.bytes.len() / 2];
    assert!(matches!(
        verify_pdf(cut, &trusted).unwrap_err(),
        ReceiptCheckError::Pdf(_)
    ));
    assert!(matches!(
        verify_pdf(b"not a pdf", &trusted).unwrap_err(),
        ReceiptCheckError::Pdf(_)
    ));
    let mut plain = palazzo_pdf::PdfWriter::new(
        palazzo_pdf::Info {
            title: "Altro".into(),
            subject: "Altro".into(),
            author: "Altro".into(),
            language: "it-IT".into(),
            created: jiff::Timestamp::now(),
        },
        "Altro",
    );
    plain.paragraph(palazzo_pdf::Style::Body, "Altro").unwrap();
    assert_eq!(
        verify_pdf(&plain.finish().unwrap(), &trusted).unwrap_err(),
        ReceiptCheckError::NoBundle
    );
    // A changed title.
    let title = format!("{:07}/{}", reg.number.get(), reg.year);
    let retitled = String::from_utf8_lossy(&receipt.bytes).contains(&title);
    assert!(retitled);
    let xmp = receipt
        .bytes
        .windows(10)
        .position(|w| w == b"<dc:title>")
        .unwrap();
    let pos = xmp
        + receipt.bytes[xmp..]
            .windows(title.len())
            .position(|w| w == title.as_bytes())
            .unwrap();
    let mut retitled = receipt.bytes.clone();
    retitled[pos] = b'9';
    let err = verify_pdf(&retitled, &trusted).unwrap_err();
    assert!(matches!(err, ReceiptCheckError::TitleMismatch), "{err:?}");

    // After a reassignment the receipt proves the latest event.
    app.reassign_protocol(tenant.id, &desk, reg.id, Some("I.1"), None)
        .await
        .unwrap();
    let again = app
        .protocol_receipt(tenant.id, &desk, reg.id)
        .await
        .unwrap();
    let v = verify_pdf(&again.bytes, &trusted).unwrap();
    assert_eq!(v.entry.kind(), "protocollo.reassigned");
    assert_eq!(v.number, reg.number.get());

    // Independent tools: pikepdf (structure) and pypdf (visible text).
    check_with_python(&dir.path().join("ricevuta.pdf"), &v);

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

fn check_with_python(path: &std::path::Path, v: &palazzo_domain::receipt::Verified) {
    let python = palazzo_testkit::pki::pdf_python();
    let script = r#"
import sys, pikepdf, pypdf
path, number, sha1, sha2 = sys.argv[1:5]
pdf = pikepdf.open(path)
meta = pdf.open_metadata()
assert meta.pdfa_status == "3U", meta.pdfa_status
root = pdf.Root
assert "/OutputIntents" in root and len(root.OutputIntents) >= 1
oi = root.OutputIntents[0]
assert oi.S == "/GTS_PDFA1" and "/DestOutputProfile" in oi
for page in pdf.pages:
    for name, font in page.Resources.Font.items():
        fonts = [font] + list(font.get("/DescendantFonts", []))
        assert any("/FontDescriptor" in f and any(k in f.FontDescriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")) for f in fonts), name
af = root.AF
assert len(af) == 1 and af[0].AFRelationship == "/Data", af
names = root.Names.EmbeddedFiles.Names
assert str(names[0]) == "ricevuta.cbor"
spec = names[1]
assert spec.EF.F.Subtype == "/application#2Fcbor" or str(spec.EF.F.Subtype) == "/application/cbor"
assert spec.EF.F.read_bytes()[:1] in (b"\xa9",)
text = "".join(p.extract_text() for p in pypdf.PdfReader(path).pages)
for needle in (number, sha1, sha2, "Ricevuta di protocollo", "Mario Rossi"):
    assert needle in text.replace("\n", " "), needle
print("ok")
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(path)
        .arg(v.number_text())
        .arg(&v.primary.sha256)
        .arg(&v.attachments[0].sha256)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pikepdf/pypdf check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn receipt_round_trip_sqlite() {
    round_trip(Backend::Sqlite).await
}

#[tokio::test]
async fn receipt_round_trip_postgres() {
    round_trip(Backend::Postgres).await
}
