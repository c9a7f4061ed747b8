//! The sealed-certificate pipeline (issue 5, parts 3–4) checked with
//! independent tools, as the issue asks: a certificate composed from
//! register data, sealed and rendered by `seal_certificate`, is
//! - verified offline by Palazzo's verifier against a trust list, and by
//!   pycose (`testbeds/seal/seal-check.py`, cbor2 < 6);
//! - decoded from the page with `zbarimg` at 150 dpi (`pdftoppm`), to the
//!   exact seal text;
//! - printed as sealed: every pair appears in `pdftotext -layout` (R8);
//! - a PDF/A-3b whose attached record is the one the seal hashes (R9),
//!   with `qpdf --check` clean and every font embedded (R10);
//! - refused when a byte of the seal is flipped (R7);
//! - PAdES-sealed over the whole file, validated by pyHanko against the
//!   CA (R11, ANA-04).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use jiff::civil::{Date, date};
use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
use palazzo_domain::certificati::{Periodo, Richiesta, Soggetto, TipoCertificato, Uso};
use palazzo_domain::ids::Sex;
use palazzo_seal::cose::{P256Signer, PublicKey, SealSigner};
use palazzo_seal::trust::{TrustEntry, TrustList};
use palazzo_seal::verify::{Verdict, verify_text};
use palazzo_services::certificati::{
    Issuance, SealedCertificate, Templates, cti_text, seal_certificate,
};
use palazzo_services::keys::X509Signer;
use palazzo_services::segnatura::SealKey;
use palazzo_services::segnatura::demo_ca::DemoCa;
use palazzo_services::signatures::TrustAnchors;
use palazzo_services::signatures::pades;
use palazzo_services::verifica::FileSeal;
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Tenant, TenantId};
use palazzo_testkit::TempDir;
use sha2::{Digest, Sha256};

fn person(
    cf: &str,
    cognome: &str,
    nome: &str,
    sesso: Sex,
    nascita: Date,
    rapporto: &str,
) -> Soggetto {
    Soggetto {
        codice_fiscale: cf.into(),
        cognome: cognome.into(),
        nome: nome.into(),
        sesso,
        nascita,
        luogo_nascita: "Acquaviva delle Fonti (BA)".into(),
        cittadinanza: Cittadinanza::ITALIANA,
        stato_civile: StatoCivile::Coniugato,
        rapporto: rapporto.into(),
    }
}

fn request(tipo: TipoCertificato) -> Richiesta {
    let nicolo = person(
        "DNGNCL75C12A048K",
        "D'Angelo",
        "Nicolò",
        Sex::M,
        date(1975, 3, 12),
        "intestatario",
    );
    let lucia = person(
        "LPSLCU78T52A662R",
        "Lopez",
        "Lucia",
        Sex::F,
        date(1978, 12, 12),
        "coniuge",
    );
    Richiesta {
        tipo,
        uso: Uso::Bollo,
        comune: "Alfa".into(),
        codice_catastale: "B923".into(),
        provincia: "BA".into(),
        rilascio: date(2026, 11, 27),
        intestatario: nicolo.clone(),
        famiglia: vec![nicolo, lucia],
        indirizzo: "Via Sant'Agata 7/B".into(),
        cap: "70010".into(),
        residente_dal: Some(date(2012, 6, 1)),
        provenienza: Some("Bari (BA)".into()),
        residenze: vec![Periodo {
            dal: date(2003, 4, 1),
            al: date(2012, 5, 31),
            indirizzo: "Piazza Aldo Moro 3".into(),
        }],
    }
}

fn tenant() -> Tenant {
    Tenant {
        id: TenantId(1),
        data: tenant_fixture(1),
    }
}

fn signer() -> P256Signer {
    P256Signer::from_secret_bytes(&[42u8; 32]).unwrap()
}

fn trust(s: &dyn SealSigner) -> TrustList {
    TrustList {
        issuer: "IT-B923".into(),
        issued_at: 0,
        entries: vec![TrustEntry {
            key: PublicKey::of_signer(s).unwrap(),
            not_before: 0,
            not_after: None,
            doc_types: TipoCertificato::ALL
                .iter()
                .map(|t| t.code().to_owned())
                .collect(),
        }],
    }
}

/// The comune's X.509 seal, issued by a local CA made for this process
/// (valid from an hour ago); the CA's certificate (PEM); and another seal
/// from the same CA (someone else's).
fn x509() -> &'static (SealKey, String, SealKey) {
    static SEAL: OnceLock<(SealKey, String, SealKey)> = OnceLock::new();
    SEAL.get_or_init(|| {
        let now = jiff::Timestamp::now();
        let ca = DemoCa::generate(now).unwrap();
        let seal = ca.issue_seal("Comune di Alfa", "AOO_ALFA", now).unwrap();
        let other = ca.issue_seal("Ditta Beta", "AOO_BETA", now).unwrap();
        (
            SealKey::from_pem(&seal.key_pem, &seal.cert_pem).unwrap(),
            ca.certificate_pem(),
            SealKey::from_pem(&other.key_pem, &other.cert_pem).unwrap(),
        )
    })
}

fn issue(tipo: TipoCertificato) -> SealedCertificate {
    issue_at(
        tipo,
        "2026-11-27T09:30:00Z".parse().unwrap(),
        Some(&x509().0),
    )
}

fn issue_at(
    tipo: TipoCertificato,
    at: jiff::Timestamp,
    pades: Option<&dyn X509Signer>,
) -> SealedCertificate {
    seal_certificate(
        &Templates::default(),
        &tenant(),
        &request(tipo),
        &signer(),
        &Issuance {
            cti: [7u8; 16],
            at,
            status: None,
            base_url: "https://alfa.example.it",
            pades,
        },
    )
    .unwrap()
}

/// pyHanko's verdict on `pdf` with `ca` as the only trust root.
fn pyhanko_validate(dir: &Path, name: &str, pdf: &[u8], ca: &str) -> (bool, String) {
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    let ca_path = dir.join(format!("{name}.ca.pem"));
    std::fs::write(&ca_path, ca).unwrap();
    palazzo_testkit::pki::pyhanko_validate(&path, &ca_path)
}

/// R11 / ANA-04: the released file carries the comune's PAdES seal over
/// the whole file. pyHanko (independent) and Palazzo's own verifier both
/// accept it against the CA, and both refuse it after a one-byte change,
/// with another root, or (ours) with bytes appended after the seal; a
/// seal by someone else's certificate from the same CA is not the
/// comune's.
#[test]
fn the_file_is_pades_sealed_and_pyhanko_validates_it() {
    let (seal, ca, someone_else) = x509();
    // Issued now: trust is checked at the seal's `/M`.
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let c = issue_at(TipoCertificato::Residenza, now, Some(seal));
    let dir = TempDir::new("pades");
    let (ok, out) = pyhanko_validate(dir.path(), "ok.pdf", &c.pdf, ca);
    // pyHanko 0.38 prints `<field>:<signer sha256>:INTACT:TRUSTED,UNTOUCHED`
    // (signature intact, chain trusted, no change after it).
    assert!(ok, "{out}");
    assert!(
        out.contains("SigilloComune:") && out.contains(":INTACT:TRUSTED,UNTOUCHED"),
        "{out}"
    );

    // Our verifier: valid, by the seal's subject, covering the file.
    let anchors = TrustAnchors::from_pem(ca).unwrap();
    let own = vec![
        palazzo_services::signatures::Certificate::parse(seal.certificate_der())
            .unwrap()
            .fingerprint(),
    ];
    let report = pades::verify_pdf(&c.pdf, &anchors, now).unwrap().unwrap();
    assert!(report.valid(), "{:?}", report.problem());
    assert!(report.signer().unwrap().contains("Sigillo AOO AOO_ALFA"));
    assert_eq!(
        report.signature.signatures[0].signing_time, None,
        "PAdES: no signingTime"
    );
    assert!(matches!(
        FileSeal::of_pdf(&c.pdf, &anchors, &own),
        FileSeal::Valid { .. }
    ));

    // A byte of the certified data changed (the XMP's creator tool).
    let at = c.pdf.windows(9).position(|w| w == b"Palazzo</").unwrap();
    let mut tampered = c.pdf.clone();
    tampered[at + 6] = b'0';
    let (ok, out) = pyhanko_validate(dir.path(), "tampered.pdf", &tampered, ca);
    assert!(
        !ok && out.contains("SigilloComune:") && out.contains(":INVALID"),
        "{out}"
    );
    let report = pades::verify_pdf(&tampered, &anchors, now)
        .unwrap()
        .unwrap();
    assert!(!report.valid());
    assert!(
        report.problem().unwrap().contains("modificato"),
        "{:?}",
        report.problem()
    );
    assert!(matches!(
        FileSeal::of_pdf(&tampered, &anchors, &own),
        FileSeal::Broken { .. }
    ));

    // Another CA.
    let other = DemoCa::generate(now).unwrap().certificate_pem();
    let (ok, out) = pyhanko_validate(dir.path(), "other-root.pdf", &c.pdf, &other);
    assert!(!ok && out.contains(":INTACT:UNTRUSTED"), "{out}");
    let other_anchors = TrustAnchors::from_pem(&other).unwrap();
    let report = pades::verify_pdf(&c.pdf, &other_anchors, now)
        .unwrap()
        .unwrap();
    assert!(!report.valid() && !report.signature.signatures[0].trusted);
    assert!(matches!(
        FileSeal::of_pdf(&c.pdf, &other_anchors, &own),
        FileSeal::Untrusted { .. }
    ));

    // Someone else's seal from the same trusted CA: pyHanko trusts it (the
    // chain is fine), the comune does not call it its own.
    let forged = issue_at(TipoCertificato::Residenza, now, Some(someone_else));
    let (ok, out) = pyhanko_validate(dir.path(), "someone-else.pdf", &forged.pdf, ca);
    assert!(ok && out.contains(":INTACT:TRUSTED"), "{out}");
    assert!(matches!(
        FileSeal::of_pdf(&forged.pdf, &anchors, &own),
        FileSeal::Untrusted { signer: Some(ref s) } if s.contains("AOO_BETA")
    ));

    // Bytes after the seal; a later signature that cannot be read.
    let mut longer = c.pdf.clone();
    longer.extend_from_slice(b"% aggiunto dopo il sigillo\n");
    let report = pades::verify_pdf(&longer, &anchors, now).unwrap().unwrap();
    assert!(!report.covers_whole_file && !report.valid());
    match FileSeal::of_pdf(&longer, &TrustAnchors::empty(), &[]) {
        FileSeal::Broken { detail } => assert!(detail.contains("modificato dopo"), "{detail}"),
        other => panic!("{other:?}"),
    }
    let mut junk = c.pdf.clone();
    junk.extend_from_slice(b"99 0 obj << /ByteRange [0 5 7 99999999] >> endobj\n");
    assert!(pades::verify_pdf(&junk, &anchors, now).is_err());
    assert!(matches!(
        FileSeal::of_pdf(&junk, &anchors, &own),
        FileSeal::Broken { .. }
    ));
    // The seal's certificate chain is carried: the CMS names the seal.
    assert_eq!(seal.certificate_chain().len(), 2);
    // An unsealed rendering has no signature at all.
    let unsealed = issue_at(TipoCertificato::Residenza, now, None);
    assert!(
        pades::verify_pdf(&unsealed.pdf, &anchors, now)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        FileSeal::of_pdf(&unsealed.pdf, &anchors, &own),
        FileSeal::Absent
    );
    assert!(
        c.pdf.starts_with(&unsealed.pdf),
        "the seal is an incremental update"
    );
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (scripts/test installs it): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn python() -> String {
    std::env::var("PALAZZO_SEAL_PYTHON").expect(
        "PALAZZO_SEAL_PYTHON is not set: scripts/test creates .cache/seal-venv (pycose, cbor2<6)",
    )
}

#[test]
fn a_sealed_certificate_passes_the_independent_chain() {
    let c = issue(TipoCertificato::ResidenzaStatoFamiglia);
    let now = 1_800_000_000;

    // Palazzo's offline verifier: valid, with the printed pairs.
    let v = verify_text(
        &c.seal.text,
        &trust(&signer()),
        None,
        now.min(1_790_000_000),
    );
    assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.reason);
    let claims = v.claims.unwrap();
    let sealed: Vec<(String, String)> = claims
        .pairs
        .iter()
        .map(|p| (p.label.clone(), p.value.clone()))
        .collect();
    // A family certificate does not fit 700 characters in full: the seal
    // keeps the holder's identity and the record hash (DECISIONS 16).
    assert_eq!(claims.variant, palazzo_seal::claims::Variant::HashOnly);
    assert!(c.seal.text.len() <= 700);
    assert_eq!(
        sealed,
        c.content.pairs[..palazzo_services::certificati::IDENTITY_PAIRS]
    );
    assert_eq!(claims.issuer, "IT-B923");
    assert_eq!(claims.doc_type, "residenza_stato_famiglia");
    // R9: the hash in the seal is the SHA-256 of the attached record.
    let digest: [u8; 32] = Sha256::digest(&c.record).into();
    assert_eq!(claims.record_hash, digest);
    // DECISIONS 17: valid six months, through the last day in Rome.
    let exp: jiff::Timestamp = "2027-05-27T22:00:00Z".parse().unwrap();
    assert_eq!(claims.expires_at, Some(exp.as_second() as u64));
    assert!(
        c.url
            .ends_with(&format!("/verifica/{}", cti_text(&[7u8; 16])))
    );

    // pycose, independently.
    let spki: String = signer()
        .spki_der()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbeds/seal/seal-check.py");
    let check = |text: &str| {
        use std::io::Write as _;
        let mut child = Command::new(python())
            .arg(&script)
            .args(["verify", &spki])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = check(&c.seal.text);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // R7: a flipped character of the seal is refused by both verifiers.
    let mut flipped = c.seal.text.clone().into_bytes();
    let i = flipped.len() - 20;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_ne!(
        verify_text(&flipped, &trust(&signer()), None, now).verdict,
        Verdict::Valid
    );
    assert_ne!(check(&flipped).status.code(), Some(0));

    // The PDF: structure, fonts, the printed pairs, the QR on the page.
    let dir = TempDir::new("certificato");
    let pdf = dir.path().join("certificato.pdf");
    std::fs::write(&pdf, &c.pdf).unwrap();
    let pdf = pdf.to_str().unwrap();
    run("qpdf", &["--check", pdf]);
    let fonts = run("pdffonts", &[pdf]);
    for row in fonts.lines().skip(2) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[cols.len() - 5], "yes", "not embedded: {row}");
    }
    let text = run("pdftotext", &["-layout", pdf, "-"]);
    for (label, value) in &c.content.pairs {
        let line = format!("{label}: {value}");
        assert!(text.contains(&line), "`{line}` not in:\n{text}");
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Il presente certificato non può essere prodotto"),
        "{text}"
    );
    assert!(flat.contains("in bollo"), "{text}");
    let png = dir.path().join("pagina");
    run(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-gray",
            "-png",
            "-singlefile",
            pdf,
            png.to_str().unwrap(),
        ],
    );
    let decoded = run(
        "zbarimg",
        &["--raw", "-q", "-Sbinary", &format!("{}.png", png.display())],
    );
    assert_eq!(
        decoded.trim_end_matches('\n'),
        c.seal.text,
        "zbarimg reads the seal"
    );
    // The attached record and the seal text, found again in the file.
    let files = palazzo_pdf::read::embedded_files(&c.pdf).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].media_type.as_deref(), Some("application/cbor"));
    assert_eq!(files[0].data, c.record);
    assert_eq!(
        palazzo_pdf::read::seal_text(&c.pdf).as_deref(),
        Some(c.seal.text.as_str())
    );
}

#[test]
fn types_validity_and_refusals() {
    // A certificate of one person fits in full: every printed pair sealed.
    let c = issue(TipoCertificato::Residenza);
    assert_eq!(c.seal.claims.variant, palazzo_seal::claims::Variant::Full);
    let sealed: Vec<(String, String)> = c
        .seal
        .claims
        .pairs
        .iter()
        .map(|p| (p.label.clone(), p.value.clone()))
        .collect();
    assert_eq!(sealed, c.content.pairs);
    // Facts that cannot change carry no `exp` (DECISIONS 17), and the
    // birth certificate is exempt whatever the use (L. 405/1990).
    let c = issue(TipoCertificato::Nascita);
    assert_eq!(c.seal.claims.expires_at, None);
    assert_eq!(c.content.uso.code(), "stato_civile");
    let c = issue(TipoCertificato::StoricoResidenza);
    assert_eq!(c.seal.claims.expires_at, None);
    assert!(
        c.content
            .pairs
            .iter()
            .any(|(l, _)| l == "Dal 01/04/2003 al 31/05/2012")
    );
    // The citizenship certificate is refused to a foreigner, with a code.
    let mut r = request(TipoCertificato::Cittadinanza);
    r.intestatario.cittadinanza = Cittadinanza::from_code("RO").unwrap();
    r.famiglia[0].cittadinanza = r.intestatario.cittadinanza;
    let e = seal_certificate(
        &Templates::default(),
        &tenant(),
        &r,
        &signer(),
        &Issuance {
            cti: [1u8; 16],
            at: jiff::Timestamp::now(),
            status: None,
            base_url: "https://alfa.example.it",
            pades: None,
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "cittadinanza_non_italiana");
    // The same request gives the same bytes (R14: deterministic).
    assert_eq!(
        issue(TipoCertificato::Residenza).pdf,
        issue(TipoCertificato::Residenza).pdf
    );
}

/// A request made from the register loaded by `palazzo anagrafe import`,
/// on both backends: the holder and family with birthplaces by name (at
/// the date of birth), the address, the earlier residences, the
/// provenance; then sealed and rendered as it prints.
mod from_register {
    use super::*;
    use palazzo_domain::access::{Grant, Principal, Role};
    use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale};
    use palazzo_services::App;
    use palazzo_services::access::Actor;
    use palazzo_services::certificati::request_from_register;
    use palazzo_services::db::{Backend, Db};
    use palazzo_services::keys::KeyStore;
    use palazzo_store::UserId;
    use palazzo_testkit::PgDatabase;

    fn cf(surname: &str, name: &str, sex: Sex, birth: Date, place: &str) -> CodiceFiscale {
        CodiceFiscale::compute(
            surname,
            name,
            birth,
            sex,
            &CodiceCatastale::parse(place).unwrap(),
        )
    }

    async fn run(backend: Backend) {
        let dir = TempDir::new("cert-register");
        let (db, pg) = match backend {
            Backend::Postgres => {
                let pg = PgDatabase::create().await;
                (Db::open(&pg.url).await.unwrap(), Some(pg))
            }
            Backend::Sqlite => (
                Db::open_sqlite(&dir.path().join("c.db")).await.unwrap(),
                None,
            ),
        };
        let app = App::new(db, KeyStore::new(dir.path().join("keys")))
            .await
            .unwrap();
        let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
        let admin = Actor {
            user: Some(UserId(1)),
            principal: Principal {
                grants: vec![Grant {
                    role: Role::AdminComune,
                    office: None,
                }],
            },
            ..Default::default()
        };
        let import = |bytes: String| {
            let (app, admin) = (app.clone(), admin.clone());
            async move {
                let r = app
                    .import_anagrafe(t.id, &admin, bytes.as_bytes(), |_, _| {})
                    .await
                    .unwrap();
                assert!(r.errors.is_empty(), "{:?}", r.errors);
            }
        };
        import("codice;denominazione\n1;Via Roma\n2;Piazza Aldo Moro\n".into()).await;
        let mario = cf("Rossi", "Mario", Sex::M, date(1929, 1, 1), "A662");
        let anna = cf("Hoxha", "Anna", Sex::F, date(1982, 5, 30), "Z100");
        import(format!(
            "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;cittadinanza;stato_civile;famiglia;rapporto;via;civico;cap;dal;al;provenienza\n\
             {mario};Rossi;Mario;M;01/01/1929;A662;IT;coniugato;F1;intestatario;Via Roma;12;70010;15/03/2010;;F262\n\
             {anna};Hoxha;Anna;F;30/05/1982;Z100;AL;coniugato;F1;coniuge;Via Roma;12;70010;15/03/2010;;Z100\n\
             {mario};;;;;;;;;;Piazza Aldo Moro;3;70010;01/02/2005;14/03/2010;\n"
        ))
        .await;

        let r = request_from_register(
            app.db(),
            &t,
            &mario,
            TipoCertificato::StoricoResidenza,
            Uso::Bollo,
            date(2026, 11, 27),
        )
        .await
        .unwrap();
        // Born in 1929, when Bari was "Bari delle Puglie" (until 1931).
        assert_eq!(r.intestatario.luogo_nascita, "Bari delle Puglie (BA)");
        assert_eq!(r.famiglia.len(), 2);
        assert_eq!(r.famiglia[1].luogo_nascita, "Albania");
        assert_eq!(r.famiglia[1].cittadinanza.adjective(), "albanese");
        assert_eq!(r.indirizzo, "Via Roma 12");
        assert_eq!(r.provenienza.as_deref(), Some("Modugno (BA)"));
        assert_eq!(r.residenze.len(), 1);
        assert_eq!(r.residenze[0].indirizzo, "Piazza Aldo Moro 3");
        assert_eq!(r.codice_catastale, "B923");

        let c = seal_certificate(
            &Templates::default(),
            &t,
            &r,
            &signer(),
            &Issuance {
                cti: [3u8; 16],
                at: "2026-11-27T10:00:00Z".parse().unwrap(),
                status: None,
                base_url: "https://alfa.example.it",
                pades: None,
            },
        )
        .unwrap();
        let pdf = dir.path().join("storico.pdf");
        std::fs::write(&pdf, &c.pdf).unwrap();
        let text = super::run("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
        for line in [
            "Luogo di nascita: Bari delle Puglie (BA)",
            "Dal 01/02/2005 al 14/03/2010: Piazza Aldo Moro 3",
            "Provenienza: Modugno (BA)",
        ] {
            assert!(text.contains(line), "`{line}` not in:\n{text}");
        }
        // Not a resident of this comune: not found.
        let stranger = cf("Neri", "Ugo", Sex::M, date(1950, 1, 1), "A662");
        let e = request_from_register(
            app.db(),
            &t,
            &stranger,
            TipoCertificato::Residenza,
            Uso::Bollo,
            date(2026, 11, 27),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "not_found");
        app.db().close().await;
        if let Some(pg) = pg {
            pg.drop_now().await;
        }
    }

    /// The comune's seal keys (DECISIONS 14, 15): created on first use in
    /// a 0600 PKCS#8 file, rotated, and listed with their periods in the
    /// COSE-signed trust list; a certificate sealed before a rotation stays
    /// valid, the old key cannot seal after it.
    async fn keys(backend: Backend) {
        let dir = TempDir::new("cert-keys");
        let (db, pg) = match backend {
            Backend::Postgres => {
                let pg = PgDatabase::create().await;
                (Db::open(&pg.url).await.unwrap(), Some(pg))
            }
            Backend::Sqlite => (
                Db::open_sqlite(&dir.path().join("k.db")).await.unwrap(),
                None,
            ),
        };
        let app = App::new(db, KeyStore::new(dir.path().join("keys")))
            .await
            .unwrap();
        let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
        let first = app.seal_signer(&t).await.unwrap();
        assert_eq!(
            app.seal_signer(&t).await.unwrap().spki_der(),
            first.spki_der(),
            "the same key"
        );
        let file = dir.path().join("keys").join(&t.data.slug).join("pz1-1.pk8");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "readable only by the service user");
        }
        let request = request(TipoCertificato::Residenza);
        let seal_with = |s: &P256Signer, at: jiff::Timestamp| {
            seal_certificate(
                &Templates::default(),
                &t,
                &request,
                s,
                &Issuance {
                    cti: [5u8; 16],
                    at,
                    status: None,
                    base_url: "https://alfa.example.it",
                    pades: None,
                },
            )
            .unwrap()
            .seal
            .text
        };
        let before = seal_with(&first, jiff::Timestamp::now());
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let rotated = app.rotate_seal_key(&t).await.unwrap();
        assert_eq!(rotated.number, 2);
        let second = app.seal_signer(&t).await.unwrap();
        assert_ne!(second.spki_der(), first.spki_der());
        let keys = app.seal_keys(t.id).await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].retired, Some(keys[1].created));
        assert_eq!(keys[1].retired, None);

        // The trust list verifies with the list key and lists both keys.
        let list_key = PublicKey::of_signer(&app.trust_list_signer(&t).unwrap()).unwrap();
        let bytes = app.trust_list(&t).await.unwrap();
        let list = TrustList::verify(&bytes, &list_key).unwrap();
        assert_eq!(list.issuer, "IT-B923");
        assert_eq!(list.entries.len(), 2);
        assert!(list.entries[0].not_after.is_some() && list.entries[1].not_after.is_none());
        assert!(
            list.entries
                .iter()
                .all(|e| e.doc_types.len() == TipoCertificato::ALL.len())
        );
        let other = PublicKey::of_signer(&signer()).unwrap();
        assert!(
            TrustList::verify(&bytes, &other).is_err(),
            "another key did not sign it"
        );

        let now = jiff::Timestamp::now().as_second() as u64;
        assert_eq!(
            verify_text(&before, &list, None, now).verdict,
            Verdict::Valid
        );
        let late = seal_with(&first, jiff::Timestamp::now());
        assert_eq!(
            verify_text(&late, &list, None, now).verdict,
            Verdict::UnknownKey,
            "retired key"
        );
        let fresh = seal_with(&second, jiff::Timestamp::now());
        assert_eq!(
            verify_text(&fresh, &list, None, now).verdict,
            Verdict::Valid
        );
        app.db().close().await;
        if let Some(pg) = pg {
            pg.drop_now().await;
        }
    }

    #[tokio::test]
    async fn keys_sqlite() {
        keys(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn keys_postgres() {
        keys(Backend::Postgres).await
    }

    #[tokio::test]
    async fn register_sqlite() {
        run(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn register_postgres() {
        run(Backend::Postgres).await
    }
}

/// The verification page reads the code from a photo (rqrr, our decoder):
/// the page rasterised at 200–400 dpi as PNG (a module of 3–6 pixels), and at 300 dpi as JPEG,
/// gives the seal text, for a full seal near the 700-character limit.
#[test]
fn the_code_is_read_from_a_picture() {
    let mut request = request(TipoCertificato::Residenza);
    // A long address and names: a payload near the hash-only threshold.
    request.indirizzo = "Via dei Caduti di tutte le guerre e della Resistenza 121/B scala C".into();
    request.intestatario.nome = "Nicolò Maria Giovanni Battista".into();
    let c = seal_certificate(
        &Templates::default(),
        &tenant(),
        &request,
        &signer(),
        &Issuance {
            cti: [9; 16],
            at: "2026-11-27T10:15:30Z".parse().unwrap(),
            status: None,
            base_url: "https://comune.alfa.ba.it",
            pades: None,
        },
    )
    .unwrap();
    assert!(c.seal.text.len() > 600, "{}", c.seal.text.len());
    let dir = TempDir::new("foto");
    let pdf = dir.path().join("c.pdf");
    std::fs::write(&pdf, &c.pdf).unwrap();
    let out = dir.path().join("foto");
    for (dpi, flag, ext) in [
        ("200", "-png", "png"),
        ("250", "-png", "png"),
        ("300", "-png", "png"),
        ("350", "-png", "png"),
        ("400", "-png", "png"),
        ("300", "-jpeg", "jpg"),
    ] {
        run(
            "pdftoppm",
            &[
                "-r",
                dpi,
                flag,
                "-singlefile",
                pdf.to_str().unwrap(),
                out.to_str().unwrap(),
            ],
        );
        let bytes = std::fs::read(dir.path().join(format!("foto.{ext}"))).unwrap();
        let text = palazzo_services::verifica::seal_text_from_image(&bytes)
            .unwrap_or_else(|e| panic!("{dpi} dpi {ext}: {e:?}"));
        assert_eq!(text, c.seal.text, "{dpi} dpi {ext}");
    }
    // Not a picture, or too big a one: coded refusals.
    let broken = palazzo_services::verifica::seal_text_from_image(b"\x89PNG\r\n\x1a\nbroken");
    assert_eq!(broken.unwrap_err().code(), "immagine_non_leggibile");
    run(
        "pdftoppm",
        &[
            "-r",
            "600",
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    let huge = std::fs::read(dir.path().join("foto.png")).unwrap();
    assert_eq!(
        palazzo_services::verifica::seal_text_from_image(&huge)
            .unwrap_err()
            .code(),
        "immagine_troppo_grande"
    );
}
