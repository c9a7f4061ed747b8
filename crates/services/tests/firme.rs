//! Signed documents received from outside (issue 4 part 5; Allegato 6
//! §3.1 codes 004/005/006; SG-4, SG-6): real CAdES envelopes made with
//! `openssl cms -sign -cades` by local test CAs, RFC 3161 signature
//! time-stamps from the test TSA (`testbeds/tsa`), verified by
//! `palazzo_services::signatures::cades` against an ente's trust anchors;
//! then the receiver refuses a protocol message whose attachment is signed
//! by an untrusted signer (004), carries a time-stamp of something else
//! (005) or is an untrusted seal (006), accepts a trusted one, and the
//! registration's validation report names the signer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use jiff::Timestamp;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::segnatura::{Esito, FileRicevuto};
use palazzo_services::signatures::TrustAnchors;
use palazzo_services::signatures::cades::{self, ProblemKind};
use palazzo_services::tsa::{TsaClient, TsaConfig};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Tenant, TenantId, UserId};
use palazzo_testkit::pki::{openssl, pki};
use palazzo_testkit::tsa::Tsa;
use palazzo_testkit::{PgDatabase, TempDir};

const CONTENT: &[u8] = b"Determinazione n. 12/2026: contenuto firmato digitalmente.\n";

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// `openssl cms -sign -cades` of `CONTENT` by `signer` (`<signer>.crt`,
/// `<signer>.key`), DER.
fn sign(dir: &Path, signer: &str, out: &str) -> Vec<u8> {
    std::fs::write(dir.join("content.txt"), CONTENT).unwrap();
    let (crt, key) = (format!("{signer}.crt"), format!("{signer}.key"));
    openssl(
        dir,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-cades",
            "-md",
            "sha256",
            "-in",
            "content.txt",
            "-signer",
            &crt,
            "-inkey",
            &key,
            "-outform",
            "DER",
            "-out",
            out,
        ],
    );
    std::fs::read(dir.join(out)).unwrap()
}

/// A seal certificate `<name>.crt` issued by `<ca>-ca`: an organisation's
/// subject with `organizationIdentifier` and no person's name.
fn seal_cert(dir: &Path, ca: &str, name: &str) {
    let (key, csr, crt, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("{name}.ext"),
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=Comune di Prova/O=Comune di Prova/organizationIdentifier=VATIT-00000000000/C=IT",
        ],
    );
    std::fs::write(
        dir.join(&ext),
        "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    let (ca_crt, ca_key) = (format!("{ca}-ca.crt"), format!("{ca}-ca.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "30",
            "-extfile",
            &ext,
        ],
    );
}

// ------------------------------------------------------------ DER surgery
// A CAdES-T signature: openssl cannot add the signature time-stamp
// (domain/protocol-documents.md §9.2), so the tests insert the TSA's token
// as the unsigned attribute themselves.

fn header(b: &[u8]) -> (usize, usize) {
    let l = b[1];
    if l < 0x80 {
        (2, usize::from(l))
    } else {
        let n = usize::from(l & 0x7f);
        let len = b[2..2 + n]
            .iter()
            .fold(0usize, |a, x| (a << 8) | usize::from(*x));
        (2 + n, len)
    }
}

fn content(whole: &[u8]) -> &[u8] {
    let (h, l) = header(whole);
    &whole[h..h + l]
}

fn children(c: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = c;
    while !rest.is_empty() {
        let (h, l) = header(rest);
        out.push(&rest[..h + l]);
        rest = &rest[h + l..];
    }
    out
}

fn enc(tag: u8, c: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if c.len() < 0x80 {
        out.push(c.len() as u8);
    } else {
        let b = c.len().to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        out.push(0x80 | (b.len() - skip) as u8);
        out.extend_from_slice(&b[skip..]);
    }
    out.extend_from_slice(c);
    out
}

/// The encodings of the items of a constructed value.
type Items<'a> = Vec<&'a [u8]>;

/// (ContentInfo items, SignedData items, SignerInfo items) of a DER p7m
/// with one signer.
fn parts(p7m: &[u8]) -> (Items<'_>, Items<'_>, Items<'_>) {
    let ci = children(content(p7m));
    let sd = children(content(ci[1]))[0];
    let sd_items = children(content(sd));
    let si = children(content(sd_items.last().unwrap()))[0];
    let si_items = children(content(si));
    (ci, sd_items, si_items)
}

fn signature_value(p7m: &[u8]) -> Vec<u8> {
    let (_, _, si) = parts(p7m);
    content(si.last().unwrap()).to_vec()
}

/// The envelope with `token` as the signer's `signatureTimeStampToken`.
fn with_time_stamp(p7m: &[u8], token: &[u8]) -> Vec<u8> {
    let (ci, sd, si) = parts(p7m);
    let attr = enc(0x30, &[enc(0x06, cades_oid()), enc(0x31, token)].concat());
    let mut si_new: Vec<u8> = si.concat();
    si_new.extend(enc(0xa1, &attr));
    let sis = enc(0x31, &enc(0x30, &si_new));
    let mut sd_new: Vec<u8> = sd[..sd.len() - 1].concat();
    sd_new.extend(sis);
    let a0 = enc(0xa0, &enc(0x30, &sd_new));
    enc(0x30, &[ci[0].to_vec(), a0].concat())
}

/// 1.2.840.113549.1.9.16.2.14 id-aa-signatureTimeStampToken.
fn cades_oid() -> &'static [u8] {
    &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
    ]
}

async fn time_stamp(tsa: &Tsa, data: &[u8]) -> Vec<u8> {
    let client = TsaClient::from_config(&TsaConfig {
        url: Some(tsa.url.clone()),
        timeout_secs: Some(30),
    })
    .unwrap()
    .unwrap();
    client.timestamp(data).await.unwrap().der
}

fn anchors(pems: &[String]) -> TrustAnchors {
    TrustAnchors::from_pem(&pems.concat()).unwrap()
}

#[tokio::test]
async fn cades_envelopes_are_verified_against_the_trust_anchors() {
    let dir = TempDir::new("cades");
    let d = dir.path();
    pki(d, "firma", "rsa");
    pki(d, "altra", "ec");
    let now = Timestamp::now();
    let trusted = anchors(&[read(d, "firma-ca.crt")]);

    // Valid, trusted: the signer and the signing time are reported.
    let p7m = sign(d, "firma", "doc.p7m");
    let r = cades::verify(&p7m, &trusted, now).expect("an envelope");
    assert!(r.valid(), "{r:?}");
    let s = &r.signatures[0];
    assert!(
        s.signer.as_deref().unwrap().contains("Sigillo AOO firma"),
        "{s:?}"
    );
    assert!(s.trusted && s.signature_valid && !s.seal);
    let at = s.signing_time.unwrap();
    assert!((now.as_second() - at.as_second()).abs() < 300, "{at}");
    // Not an envelope: not verified at all.
    assert!(cades::verify(CONTENT, &trusted, now).is_none());

    // Tampered content: one byte of the signed text changed → the
    // messageDigest no longer matches (and openssl agrees).
    let pos = p7m
        .windows(CONTENT.len())
        .position(|w| w == CONTENT)
        .unwrap();
    let mut tampered = p7m.clone();
    tampered[pos + 3] ^= 0x20;
    let r = cades::verify(&tampered, &trusted, now).unwrap();
    let p = r.problem().unwrap();
    assert_eq!(p.kind, ProblemKind::Firma);
    assert!(p.detail.contains("messageDigest"), "{p:?}");
    assert!(!r.signatures[0].signature_valid);
    std::fs::write(d.join("tampered.p7m"), &tampered).unwrap();
    let out = std::process::Command::new("openssl")
        .current_dir(d)
        .args([
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "tampered.p7m",
        ])
        .args(["-CAfile", "firma-ca.crt", "-out", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "openssl accepted the tampered envelope"
    );

    // A signature value changed: the signature does not verify.
    let sig = signature_value(&p7m);
    let spos = p7m.windows(sig.len()).position(|w| w == sig).unwrap();
    let mut bad_sig = p7m.clone();
    bad_sig[spos + 10] ^= 0x01;
    let r = cades::verify(&bad_sig, &trusted, now).unwrap();
    assert!(
        r.problem()
            .unwrap()
            .detail
            .contains("la firma non è valida"),
        "{r:?}"
    );

    // Signed by a CA this ente does not trust: the signature is intact,
    // the signer is not trusted.
    let other = anchors(&[read(d, "altra-ca.crt")]);
    let r = cades::verify(&p7m, &other, now).unwrap();
    let s = &r.signatures[0];
    assert!(s.signature_valid && !s.trusted);
    let p = r.problem().unwrap();
    assert_eq!(p.kind, ProblemKind::Firma);
    assert!(p.detail.contains("non attendibile"), "{p:?}");
    // Verified again after the certificate expired: the signingTime, not
    // the time of verification, decides.
    let r = cades::verify(
        &p7m,
        &trusted,
        now + jiff::SignedDuration::from_hours(24 * 400),
    );
    assert!(r.unwrap().signatures[0].trusted);

    // PEM-wrapped and nested (.p7m.p7m, signed by two): both verified.
    openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-cades",
            "-md",
            "sha256",
            "-in",
            "doc.p7m",
            "-signer",
            "altra.crt",
            "-inkey",
            "altra.key",
            "-outform",
            "PEM",
            "-out",
            "doc.p7m.p7m",
        ],
    );
    let twice = std::fs::read(d.join("doc.p7m.p7m")).unwrap();
    let both = anchors(&[read(d, "firma-ca.crt"), read(d, "altra-ca.crt")]);
    let r = cades::verify(&twice, &both, now).unwrap();
    assert_eq!(r.signatures.len(), 2, "{r:?}");
    assert!(r.valid(), "{r:?}");
    assert_eq!((r.signatures[0].nesting, r.signatures[1].nesting), (0, 1));
    let r = cades::verify(&twice, &trusted, now).unwrap();
    assert!(!r.signatures[0].trusted && r.signatures[1].trusted);

    // A seal (organizationIdentifier, no person's name): its problems are
    // seal problems.
    seal_cert(d, "firma", "sigillo");
    let sealed = sign(d, "sigillo", "sigillo.p7m");
    let r = cades::verify(&sealed, &trusted, now).unwrap();
    assert!(r.valid() && r.signatures[0].seal, "{r:?}");
    let r = cades::verify(&sealed, &other, now).unwrap();
    assert_eq!(r.problem().unwrap().kind, ProblemKind::Sigillo);

    // A detached signature is reported, not verified.
    openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-cades",
            "-md",
            "sha256",
            "-in",
            "content.txt",
            "-signer",
            "firma.crt",
            "-inkey",
            "firma.key",
            "-outform",
            "DER",
            "-out",
            "doc.p7s",
        ],
    );
    let p7s = std::fs::read(d.join("doc.p7s")).unwrap();
    let r = cades::verify(&p7s, &trusted, now).unwrap();
    assert!(r.detached && !r.valid() && r.problem().is_none());
}

#[tokio::test]
async fn signature_time_stamps_are_verified() {
    let dir = TempDir::new("cades-t");
    let d = dir.path();
    pki(d, "firma", "ec");
    let tsa = Tsa::start();
    let tsa_ca = std::fs::read_to_string(tsa.pki.join("ca.crt")).unwrap();
    let now = Timestamp::now();
    let p7m = sign(d, "firma", "doc.p7m");
    let all = anchors(&[read(d, "firma-ca.crt"), tsa_ca.clone()]);

    // CAdES-T: a token over the signature value from the test TSA.
    let token = time_stamp(&tsa, &signature_value(&p7m)).await;
    let stamped = with_time_stamp(&p7m, &token);
    let r = cades::verify(&stamped, &all, now).unwrap();
    assert!(r.valid(), "{r:?}");
    let s = &r.signatures[0];
    let ts = s.time_stamp.expect("time-stamp verified");
    assert!((now.as_second() - ts.as_second()).abs() < 300);
    assert_eq!(s.time_stamp_authority.as_deref(), Some("Palazzo test TSA"));
    // openssl agrees that the token time-stamps the signature value.
    std::fs::write(d.join("token.der"), &token).unwrap();
    std::fs::write(d.join("sig.bin"), signature_value(&p7m)).unwrap();
    let (ok, out) = palazzo_testkit::tsa::verify_with_openssl(
        &tsa.pki,
        &d.join("token.der"),
        &d.join("sig.bin"),
    );
    assert!(ok, "{out}");

    // A token of something else: 005.
    let wrong = with_time_stamp(&p7m, &time_stamp(&tsa, b"altro").await);
    let p = cades::verify(&wrong, &all, now).unwrap().problem().unwrap();
    assert_eq!(p.kind, ProblemKind::MarcaTemporale);
    assert!(p.detail.contains("non si riferisce"), "{p:?}");
    // A TSA this ente does not trust: 005.
    let p = cades::verify(&stamped, &anchors(&[read(d, "firma-ca.crt")]), now)
        .unwrap()
        .problem()
        .unwrap();
    assert_eq!(p.kind, ProblemKind::MarcaTemporale);
    assert!(p.detail.contains("Palazzo test TSA"), "{p:?}");
    // A token whose TSTInfo was altered: its signature fails, 005.
    let mut altered = token.clone();
    // The TSTInfo's genTime: GeneralizedTime "20…" with 14 digits (the
    // length varies with the milliseconds openssl writes).
    let gen_time = altered
        .windows(16)
        .position(|w| {
            w[0] == 0x18
                && (0x0f..=0x13).contains(&w[1])
                && w[2..4] == *b"20"
                && w[2..16].iter().all(u8::is_ascii_digit)
        })
        .expect("genTime");
    altered[gen_time + 2 + 13] ^= 0x01; // a digit of the seconds
    let r = cades::verify(&with_time_stamp(&p7m, &altered), &all, now).unwrap();
    let p = r.problem().unwrap();
    assert_eq!(p.kind, ProblemKind::MarcaTemporale, "{r:?}");
    assert!(p.detail.contains("messageDigest"), "{p:?}");
}

// ------------------------------------------------------------ the receiver

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

/// beta sends alfa a message whose attachment is `name` (`bytes`).
async fn send(
    app: &App,
    beta: TenantId,
    alfa: &Tenant,
    name: &str,
    bytes: &[u8],
) -> (String, Vec<FileRicevuto>) {
    let primary = b"%PDF-1.7\n% lettera\n%%EOF\n";
    let p = app
        .documents()
        .put_bytes("lettera.pdf", primary)
        .await
        .unwrap();
    let a = app.documents().put_bytes(name, bytes).await.unwrap();
    let op = operatore();
    let reg = app
        .register_protocol(
            beta,
            &op,
            RegistrationInput {
                register: None,
                flow: Flow::Uscita,
                subject: format!("Trasmissione di {name}"),
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
                primary: p.to_ref(),
                attachments: vec![a.to_ref()],
                classification: Some("VI.3".into()),
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let (_, xml) = app
        .protocol_segnatura(beta, &op, reg.id)
        .await
        .unwrap()
        .unwrap();
    let files = vec![
        FileRicevuto {
            name: "lettera.pdf".into(),
            bytes: Some(primary.to_vec()),
        },
        FileRicevuto {
            name: name.into(),
            bytes: Some(bytes.to_vec()),
        },
    ];
    (String::from_utf8(xml).unwrap(), files)
}

async fn receiver(backend: Backend) {
    let dir = TempDir::new("firme-ricevute");
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
    // Demo seals: every ente trusts the demo CA, so the segnature pass.
    app.install_demo_seals().unwrap().unwrap();
    pki(d, "firma", "rsa");
    pki(d, "estranea", "ec");
    seal_cert(d, "estranea", "sigillo");
    app.add_trust_anchors(&alfa.data.slug, &read(d, "firma-ca.crt"))
        .unwrap();
    let tsa = Tsa::start();
    app.add_trust_anchors(
        &alfa.data.slug,
        &std::fs::read_to_string(tsa.pki.join("ca.crt")).unwrap(),
    )
    .unwrap();
    let op = operatore();
    let code = |e: &Esito| match e {
        Esito::Eccezione { rifiuto, risposta } => {
            assert!(risposta.contains(rifiuto.anomalia.code()));
            (rifiuto.anomalia.code(), rifiuto.dettaglio.clone())
        }
        other => panic!("expected an exception, got {other:?}"),
    };

    // 004: a .p7m signed by a signer alfa does not trust.
    let untrusted = sign(d, "estranea", "a.p7m");
    let (xml, files) = send(&app, beta.id, &alfa, "parere.txt.p7m", &untrusted).await;
    let e = app
        .receive_protocol_message(alfa.id, &op, xml.as_bytes(), &files)
        .await
        .unwrap();
    let (c, detail) = code(&e);
    assert_eq!(c, "004_DocumentoAllegatiErroreValidazioneFirma");
    assert!(
        detail.contains("parere.txt.p7m") && detail.contains("non attendibile"),
        "{detail}"
    );

    // 006: an untrusted seal.
    let sealed = sign(d, "sigillo", "s.p7m");
    let (xml, files) = send(&app, beta.id, &alfa, "atto-sigillato.txt.p7m", &sealed).await;
    let e = app
        .receive_protocol_message(alfa.id, &op, xml.as_bytes(), &files)
        .await
        .unwrap();
    assert_eq!(code(&e).0, "006_DocumentoAllegatiErroreValidazioneSigillo");

    // 005: a trusted signature with a time-stamp of something else.
    let good = sign(d, "firma", "g.p7m");
    let wrong = with_time_stamp(&good, &time_stamp(&tsa, b"altro").await);
    let (xml, files) = send(&app, beta.id, &alfa, "delibera-t.txt.p7m", &wrong).await;
    let e = app
        .receive_protocol_message(alfa.id, &op, xml.as_bytes(), &files)
        .await
        .unwrap();
    assert_eq!(
        code(&e).0,
        "005_DocumentoAllegatiErroreVaidazioneMarcaTemporale"
    );

    // Trusted and time-stamped: registered; the report names the signer.
    let stamped = with_time_stamp(&good, &time_stamp(&tsa, &signature_value(&good)).await);
    let (xml, files) = send(&app, beta.id, &alfa, "delibera.txt.p7m", &stamped).await;
    let reg = match app
        .receive_protocol_message(alfa.id, &op, xml.as_bytes(), &files)
        .await
        .unwrap()
    {
        Esito::Registrata { registration, .. } => registration,
        other => panic!("not registered: {other:?}"),
    };
    let report = app.protocol_signatures(alfa.id, &op, reg.id).await.unwrap();
    let seg = report.segnatura.as_ref().expect("received segnatura");
    assert!(seg.trusted && seg.signature_valid, "{seg:?}");
    assert!(
        seg.signer.as_deref().unwrap().contains("Sigillo AOO"),
        "{seg:?}"
    );
    assert_eq!(report.documents.len(), 1, "only the signed document");
    let doc = &report.documents[0];
    assert_eq!(doc.name, "delibera.txt.p7m");
    assert!(!doc.primary && doc.report.valid());
    let s = &doc.report.signatures[0];
    assert!(s.signer.as_deref().unwrap().contains("Sigillo AOO firma"));
    assert!(s.time_stamp.is_some());
    // The envelope is stored bit for bit (SG-4).
    let stored = app
        .documents()
        .get(&reg.data.attachments[0].sha256)
        .await
        .unwrap();
    assert_eq!(stored, stamped);
    // Once the CA is removed from the trust list, the report says so.
    let fp = app.trust_anchor_list(&alfa.data.slug).unwrap();
    let firma = fp
        .iter()
        .find(|a| a.subject.contains("CA di prova firma"))
        .unwrap();
    assert!(
        app.remove_trust_anchor(&alfa.data.slug, &firma.fingerprint)
            .unwrap()
    );
    assert!(
        !app.remove_trust_anchor(&alfa.data.slug, &firma.fingerprint)
            .unwrap()
    );
    let report = app.protocol_signatures(alfa.id, &op, reg.id).await.unwrap();
    assert!(!report.documents[0].report.signatures[0].trusted);
    // A non-CA certificate is refused from the trust list.
    let e = app
        .add_trust_anchors(&alfa.data.slug, &read(d, "firma.crt"))
        .unwrap_err();
    assert_eq!(e.code(), "fiducia_non_ca");
    assert_eq!(
        app.add_trust_anchors(&alfa.data.slug, "nulla")
            .unwrap_err()
            .code(),
        "fiducia_vuota"
    );
    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn receiver_checks_signed_documents_sqlite() {
    receiver(Backend::Sqlite).await
}

#[tokio::test]
async fn receiver_checks_signed_documents_postgres() {
    receiver(Backend::Postgres).await
}
