//! The segnatura di protocollo (issue 4 part 5, PR-6 and PR-7), checked by
//! independent tools from the venv of `testbeds/xml/setup.sh` (the path of
//! its python is in `PALAZZO_XML_PYTHON`, exported by `scripts/test`):
//!
//! * `xmlschema` against the AgID `segnatura_protocollo.xsd` v3.0: the
//!   unsigned document is invalid because `ds:Signature` is mandatory, the
//!   signed one is valid;
//! * `lxml` exc-c14n of the unsigned document equals our bytes (what we sign);
//! * `signxml` `XAdESVerifier` accepts our signature against the local test
//!   CA (made here with the `openssl` CLI) and rejects a changed number with
//!   `InvalidDigest`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::Timestamp;
use palazzo_domain::ids::{CodiceFiscale, Email};
use palazzo_domain::protocollo::{
    Correspondent, CorrespondentKind, Flow, Impronta, ProtocolNumber, RegisterCode,
};
use palazzo_services::segnatura::{self, SealKey, Unsigned};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{
    Annulment, DocumentRef, NewRegistration, Registration, RegistrationId, Tenant, TenantId,
};
use palazzo_testkit::TempDir;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv python; the suite fails (never skips) without it.
fn python() -> String {
    std::env::var("PALAZZO_XML_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PALAZZO_XML_PYTHON is not set: run the tests through scripts/test, or \
             export PALAZZO_XML_PYTHON=$(bash testbeds/xml/setup.sh)"
        )
    })
}

/// Runs `testbeds/xml/segnatura-check.py ARGS`: (success, stdout).
fn check(args: &[&str]) -> (bool, String) {
    let out = Command::new(python())
        .arg(repo().join("testbeds/xml/segnatura-check.py"))
        .args(args)
        .output()
        .expect("run segnatura-check.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "segnatura-check.py {args:?} crashed: {stdout}\n{stderr}"
    );
    (out.status.success(), stdout)
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl CLI on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A local test CA and an AOO seal certificate signed by it; `alg` is
/// `ec` (P-256) or `rsa` (2048). Returns (key path, cert path, CA path).
fn pki(dir: &Path, alg: &str) -> (PathBuf, PathBuf, PathBuf) {
    let newkey: &[&str] = if alg == "ec" {
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    } else {
        &["-newkey", "rsa:2048"]
    };
    let mut ca = vec!["req", "-x509", "-new"];
    ca.extend_from_slice(newkey);
    ca.extend_from_slice(&[
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=Palazzo test CA",
        "-addext",
        "basicConstraints=critical,CA:true",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-new"];
    csr.extend_from_slice(newkey);
    csr.extend_from_slice(&[
        "-nodes",
        "-keyout",
        "seal.key",
        "-out",
        "seal.csr",
        "-subj",
        "/CN=Sigillo AOO Comune di Alfa/O=Comune di Alfa/C=IT",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("seal.ext"),
        "basicConstraints=critical,CA:false\n\
         keyUsage=critical,digitalSignature,nonRepudiation\n\
         subjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "seal.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "seal.crt",
            "-days",
            "365",
            "-extfile",
            "seal.ext",
        ],
    );
    (
        dir.join("seal.key"),
        dir.join("seal.crt"),
        dir.join("ca.crt"),
    )
}

fn tenant() -> Tenant {
    Tenant {
        id: TenantId(1),
        data: tenant_fixture(1),
    }
}

fn doc(name: &str, media_type: &str, bytes: &[u8]) -> DocumentRef {
    DocumentRef {
        name: name.into(),
        media_type: media_type.into(),
        size: bytes.len() as u64,
        sha256: Impronta::of(bytes),
    }
}

/// An outgoing entry with characters that need escaping everywhere.
fn registration(flow: Flow) -> Registration {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let mut person = Correspondent::person("Mario Rossi", &cf);
    person.email = Some(Email::parse("mario.rossi@example.it").unwrap());
    let company = Correspondent {
        kind: CorrespondentKind::PersonaGiuridica,
        name: "Rossi & Figli S.r.l. \"La <Bottega>\"".into(),
        fiscal_code: Some("01234567890".into()),
        ipa: None,
        email: None,
        address: Some("Via Roma 1, 70010 Casamassima".into()),
        per_conoscenza: true,
    };
    let region = Correspondent {
        kind: CorrespondentKind::Amministrazione,
        name: "Regione Puglia".into(),
        fiscal_code: Some("80017210727".into()),
        ipa: Some("r_puglia".into()),
        email: None,
        address: None,
        per_conoscenza: false,
    };
    let correspondents = if flow == Flow::Entrata {
        vec![person]
    } else {
        vec![person, company, region]
    };
    Registration {
        id: RegistrationId(7),
        tenant: TenantId(1),
        year: 2025,
        number: ProtocolNumber::new(42).unwrap(),
        // 23:30 UTC on 31 December is 00:30 on 1 January in Rome.
        registered_at: "2025-12-31T23:30:05Z".parse().unwrap(),
        data: NewRegistration {
            register: RegisterCode::general(),
            flow,
            subject: "Accesso agli atti: \"urgente\" & <riservato> — città, perché 😀".into(),
            correspondents,
            received_number: None,
            received_date: None,
            primary: doc(
                "Risposta \"A\" & <B>.pdf",
                "application/pdf",
                b"%PDF-1.7 risposta",
            ),
            attachments: vec![
                doc("planimetria.png", "image/png", b"\x89PNG planimetria"),
                doc("nota\tcon\ra capo\n.txt", "text/plain", b"nota"),
            ],
            registered_by: "Test (user:1)".into(),
            emergency: None,
            classification: Some("VI.3".into()),
            office: None,
        },
        annulment: None,
        changed: None,
        segnatura_state: None,
        bindings: Vec::new(),
    }
}

fn signing_time() -> Timestamp {
    "2026-01-01T09:00:00Z".parse().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

fn unsigned(flow: Flow) -> Unsigned {
    segnatura::build(&tenant(), "aoo_alfa", &registration(flow)).unwrap()
}

#[test]
fn outgoing_segnatura_has_the_allegato_6_form() {
    let xml = unsigned(Flow::Uscita).to_xml();
    let imp = Impronta::of(b"%PDF-1.7 risposta").base64();
    for part in [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prot:SegnaturaInformatica \
         xmlns:prot=\"http://www.agid.gov.it/protocollo/\" prot:lang=\"it\" prot:versione=\"3.0.0\">",
        "<prot:CodiceAmministrazione>",
        "<prot:CodiceAOO>aoo_alfa</prot:CodiceAOO>",
        "<prot:CodiceRegistro>REG_PROT</prot:CodiceRegistro>",
        "<prot:NumeroRegistrazione>0000042</prot:NumeroRegistrazione>",
        // Europe/Rome civil date and time.
        "<prot:DataRegistrazione>2026-01-01</prot:DataRegistrazione>\
         <prot:OraRegistrazione>00:30:05</prot:OraRegistrazione>",
        "<prot:Oggetto>Accesso agli atti: \"urgente\" &amp; &lt;riservato&gt; — città, perché 😀</prot:Oggetto>",
        "<prot:Classifica><prot:Denominazione>",
        "<prot:CodiceFlat>VI.3</prot:CodiceFlat></prot:Classifica>",
        "<prot:Mittente><prot:Amministrazione><prot:DenominazioneAmministrazione>",
        "<prot:CodiceIPAAOO>aoo_alfa</prot:CodiceIPAAOO></prot:Amministrazione></prot:Mittente>",
        "<prot:Destinatario><prot:PersonaFisica><prot:Nome>Mario</prot:Nome><prot:Cognome>Rossi</prot:Cognome>\
         <prot:CodiceFiscale>RSSMRA80A01H501U</prot:CodiceFiscale>",
        "<prot:Destinatario prot:perConoscenza=\"true\"><prot:PersonaGiuridica>\
         <prot:Denominazione>Rossi &amp; Figli S.r.l. \"La &lt;Bottega&gt;\"</prot:Denominazione>\
         <prot:PIVAoCF>01234567890</prot:PIVAoCF>",
        "<prot:Amministrazione><prot:DenominazioneAmministrazione>Regione Puglia</prot:DenominazioneAmministrazione>\
         <prot:CFAmministrazione>80017210727</prot:CFAmministrazione>\
         <prot:CodiceIPAAmministrazione>r_puglia</prot:CodiceIPAAmministrazione>",
        &format!(
            "<prot:DocumentoPrimario prot:mimeType=\"application/pdf\" \
             prot:nomeFile=\"Risposta &quot;A&quot; &amp; &lt;B>.pdf\">\
             <prot:Impronta prot:algoritmo=\"SHA-256\">{imp}</prot:Impronta></prot:DocumentoPrimario>"
        ),
        "<prot:Allegato prot:mimeType=\"image/png\" prot:nomeFile=\"planimetria.png\">",
        "prot:nomeFile=\"nota&#x9;con&#xD;a capo&#xA;.txt\"",
    ] {
        assert!(xml.contains(part), "missing {part}\nin {xml}");
    }
    // The 6-digit CAP quirk: no postal address at all.
    assert!(!xml.contains("IndirizzoPostale"));
    assert!(xml.ends_with("</prot:Descrizione></prot:SegnaturaInformatica>"));
}

#[test]
fn incoming_segnatura_has_the_comune_as_destinatario() {
    let xml = unsigned(Flow::Entrata).to_xml();
    assert!(xml.contains("<prot:Mittente><prot:PersonaFisica>"));
    assert!(xml.contains("<prot:Destinatario><prot:Amministrazione>"));
    assert_eq!(xml.matches("<prot:Destinatario").count(), 1);
}

#[test]
fn build_refuses_what_the_schema_cannot_carry() {
    let t = tenant();
    let mut r = registration(Flow::Uscita);
    r.data.classification = None;
    let e = segnatura::build(&t, "aoo_alfa", &r).unwrap_err();
    assert_eq!(e.code(), "segnatura_classifica_mancante");
    assert!(e.message_it().contains("classificazione"));

    r.data.classification = Some("XXIII.9".into());
    assert_eq!(
        segnatura::build(&t, "aoo_alfa", &r).unwrap_err().code(),
        "segnatura_classifica"
    );

    let mut r = registration(Flow::Uscita);
    r.data.primary.name = "a\u{1}b.pdf".into();
    assert_eq!(
        segnatura::build(&t, "aoo_alfa", &r).unwrap_err().code(),
        "segnatura_carattere_non_valido"
    );

    let r = registration(Flow::Uscita);
    assert_eq!(
        segnatura::build(&t, " ", &r).unwrap_err().code(),
        "segnatura_codice_aoo"
    );

    let mut r = registration(Flow::Uscita);
    r.annulment = Some(Annulment {
        at: signing_time(),
        by: "x".into(),
        reason: "errore".into(),
        act: "det. 1/2026".into(),
    });
    assert_eq!(
        segnatura::build(&t, "aoo_alfa", &r).unwrap_err().code(),
        "segnatura_annullata"
    );
}

#[test]
fn output_is_deterministic() {
    assert_eq!(unsigned(Flow::Uscita), unsigned(Flow::Uscita));
}

#[test]
fn unsigned_segnatura_is_schema_invalid_for_the_missing_signature() {
    let dir = TempDir::new("segnatura-unsigned");
    let f = write(dir.path(), "unsigned.xml", &unsigned(Flow::Uscita).to_xml());
    let (ok, out) = check(&["validate", &f]);
    assert!(!ok, "an unsigned segnatura must be invalid (PR-6): {out}");
    assert!(
        out.contains("Signature"),
        "the error should name ds:Signature: {out}"
    );
}

#[test]
fn our_bytes_are_their_own_exclusive_canonical_form() {
    let dir = TempDir::new("segnatura-c14n");
    for flow in [Flow::Uscita, Flow::Entrata] {
        let u = unsigned(flow);
        let f = write(dir.path(), "unsigned.xml", &u.to_xml());
        let (ok, out) = check(&["c14n", &f]);
        assert!(ok);
        assert_eq!(out, u.canonical(), "lxml exc-c14n differs from our bytes");
    }
}

fn signed_and_verified(alg: &str) {
    let dir = TempDir::new(&format!("segnatura-{alg}"));
    let (key, cert, ca) = pki(dir.path(), alg);
    let seal = SealKey::from_files(&key, &cert).unwrap();
    let u = unsigned(Flow::Uscita);
    let signed = segnatura::sign(&u, &seal, signing_time()).unwrap();
    assert_eq!(
        signed,
        segnatura::sign(&u, &seal, signing_time()).unwrap(),
        "deterministic"
    );
    assert!(signed.contains("<xades:SigningTime>2026-01-01T09:00:00Z</xades:SigningTime>"));
    assert!(signed.contains("<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>"));
    assert!(signed.contains("<xades:IssuerSerialV2>"));

    let f = write(dir.path(), "signed.xml", &signed);
    let (ok, out) = check(&["validate", &f]);
    assert!(
        ok,
        "the signed segnatura must be schema-valid (PR-6): {out}"
    );

    // The signed document still canonicalises (signature removed) to the
    // bytes we digested.
    let (_, c14n) = check(&["c14n", &f]);
    assert_eq!(c14n, u.canonical());

    let ca = ca.to_str().unwrap();
    let (ok, out) = check(&["verify", &f, "--ca", ca]);
    assert!(ok, "signxml must verify our XAdES (PR-7): {out}");
    assert!(out.contains("signed_properties=1"), "{out}");

    // One byte of the number changed afterwards: the document digest fails.
    let tampered = signed.replace(
        "<prot:NumeroRegistrazione>0000042<",
        "<prot:NumeroRegistrazione>0000043<",
    );
    assert_ne!(tampered, signed);
    let t = write(dir.path(), "tampered.xml", &tampered);
    let (ok, out) = check(&["verify", &t, "--ca", ca]);
    assert!(!ok);
    assert!(out.contains("InvalidDigest"), "{out}");

    // A signed property changed: its reference digest fails.
    let tampered = signed.replace("2026-01-01T09:00:00Z", "2026-01-01T09:00:01Z");
    let t = write(dir.path(), "tampered-time.xml", &tampered);
    let (ok, out) = check(&["verify", &t, "--ca", ca]);
    assert!(!ok && out.contains("InvalidDigest"), "{out}");

    // Another CA does not vouch for the seal.
    let other = TempDir::new(&format!("segnatura-{alg}-other"));
    let (_, _, other_ca) = pki(other.path(), alg);
    let (ok, out) = check(&["verify", &f, "--ca", other_ca.to_str().unwrap()]);
    assert!(!ok, "{out}");
}

#[test]
fn xades_with_an_ec_p256_seal_verifies_with_signxml() {
    signed_and_verified("ec");
}

#[test]
fn xades_with_an_rsa_seal_verifies_with_signxml() {
    signed_and_verified("rsa");
}

#[test]
fn seal_key_must_match_its_certificate() {
    let a = TempDir::new("segnatura-key-a");
    let b = TempDir::new("segnatura-key-b");
    let (key_a, _, _) = pki(a.path(), "ec");
    let (_, cert_b, _) = pki(b.path(), "ec");
    let e = SealKey::from_files(&key_a, &cert_b).unwrap_err();
    assert_eq!(e.code(), "segnatura_chiave_certificato");
    let e = SealKey::from_files(&cert_b, &cert_b).unwrap_err();
    assert_eq!(e.code(), "segnatura_chiave");
    let e = SealKey::from_files(&key_a, &key_a).unwrap_err();
    assert_eq!(e.code(), "segnatura_certificato");
}
