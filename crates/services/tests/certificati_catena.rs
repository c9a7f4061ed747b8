//! Issued certificates through the whole independent chain (issue 5): a
//! certificate of every type issued by `App::issue_certificate` from an
//! imported population is
//! - a PDF/A with `qpdf --check` clean and every font embedded (R10);
//! - read from the page by `zbarimg` at 150 dpi (`pdftoppm`), by zxing-cpp
//!   at 100 dpi, and by zxing-cpp again after a 1-pixel Gaussian blur and
//!   JPEG at quality 25 (R4), always to exactly the seal text embedded in
//!   the PDF;
//! - verified by an independent Python verifier
//!   (`testbeds/seal/chain-check.py`: pycose, cbor2, cryptography) against
//!   the PUBLISHED trust list and list key, and the status list, with the
//!   same claims as Palazzo's own verifier;
//! - printed as sealed: every decoded pair is in `pdftotext -layout` (R8);
//! - PAdES-sealed by the comune over the whole file, validated by pyHanko
//!   against the CA (R11).
//!
//! And a flipped byte (`altered`), a trust list without the seal's key
//! (`unknown_key`), a time after `exp` (`expired`) and a revocation
//! (`revoked`) each fail, in the Python verifier and in
//! `palazzo_services::verifica::check_offline`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jiff::civil::{Date, date};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::certificati::{ESENZIONI, TipoCertificato, Uso};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_seal::claims::Variant;
use palazzo_seal::cose::PublicKey;
use palazzo_seal::status::StatusListToken;
use palazzo_seal::trust::TrustList;
use palazzo_seal::verify::Verdict;
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::rilascio::CertificateRequest;
use palazzo_services::verifica::{Evidence, check_offline};
use palazzo_store::Tenant;
use palazzo_store::conformance::tenant_fixture;
use palazzo_testkit::TempDir;
use serde_json::Value as Json;

const BASE: &str = "https://comune.alfa.ba.it";

const HEADER: &str = "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;cittadinanza;stato_civile;famiglia;rapporto;via;civico;cap;dal;al;provenienza";

fn cf(surname: &str, name: &str, sex: Sex, birth: Date, place: &str) -> CodiceFiscale {
    CodiceFiscale::compute(
        surname,
        name,
        birth,
        sex,
        &CodiceCatastale::parse(place).unwrap(),
    )
}

fn staff(role: Role) -> Actor {
    Actor {
        user: Some(palazzo_store::UserId(9_999)),
        principal: Principal {
            grants: vec![Grant { role, office: None }],
        },
        name: Some(format!("Test {}", role.code())),
        ..Default::default()
    }
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (scripts/test installs it): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn python() -> String {
    std::env::var("PALAZZO_SEAL_PYTHON").expect(
        "PALAZZO_SEAL_PYTHON is not set: scripts/test creates .cache/seal-venv (pycose, cbor2<6, zxing-cpp)",
    )
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbeds/seal/chain-check.py")
}

fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// zxing-cpp's reading of the QR code in `image` (degraded first with
/// `--blur-jpeg`).
fn zxing(image: &Path, degrade: bool) -> String {
    let mut args = vec![
        script().display().to_string(),
        "qr".into(),
        image.display().to_string(),
    ];
    if degrade {
        args.push("--blur-jpeg".into());
    }
    let out = Command::new(python()).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "zxing-cpp finds no QR code in {} (degraded: {degrade}): {}",
        image.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The published files of a comune, as a verifier downloads them.
struct Published {
    trust: PathBuf,
    key: PathBuf,
}

/// What the Python verifier says: its exit code and its JSON.
struct Said {
    code: Option<i32>,
    json: Json,
}

impl Said {
    fn verdict(&self) -> &str {
        self.json["verdict"].as_str().unwrap_or("(none)")
    }
}

fn chain_verify(p: &Published, status: Option<&Path>, now: Option<u64>, text: &str) -> Said {
    let mut cmd = Command::new(python());
    cmd.arg(script())
        .args(["verify", "--trust-list"])
        .arg(&p.trust)
        .arg("--list-key")
        .arg(&p.key);
    if let Some(s) = status {
        cmd.arg("--status-list").arg(s);
    }
    if let Some(n) = now {
        cmd.args(["--now", &n.to_string()]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "chain-check.py printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Said {
        code: out.status.code(),
        json,
    }
}

async fn publish(app: &App, tenant: &Tenant, dir: &Path) -> (Published, PublicKey, TrustList) {
    let bytes = app.trust_list(tenant).await.unwrap();
    let pem = app.trust_list_key_pem(tenant).unwrap();
    let slug = &tenant.data.slug;
    let p = Published {
        trust: dir.join(format!("{slug}-trust-list.cwt")),
        key: dir.join(format!("{slug}-trust-list-key.pem")),
    };
    std::fs::write(&p.trust, &bytes).unwrap();
    std::fs::write(&p.key, pem).unwrap();
    let list_key = PublicKey::of_signer(&app.trust_list_signer(tenant).unwrap()).unwrap();
    let trust = TrustList::verify(&bytes, &list_key).unwrap();
    (p, list_key, trust)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn every_certificate_type_passes_the_independent_chain() {
    let started = std::time::Instant::now();
    let dir = TempDir::new("certificati-catena");
    let db = Db::open_sqlite(&dir.path().join("c.db")).await.unwrap();
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    let tenant = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let other = app.create_tenant(tenant_fixture(2)).await.unwrap();
    // The comuni's X.509 seals, from a local CA (the PAdES seal, R11).
    let ca_pem = app.install_demo_seals().unwrap().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let t = tenant.id;
    let admin = staff(Role::AdminComune);
    app.import_anagrafe(
        t,
        &admin,
        b"codice;denominazione\n1;Via Sant'Agata\n2;Piazza Aldo Moro\n",
        |_, _| {},
    )
    .await
    .unwrap();
    // One family: an Italian married couple who came from Modugno, the
    // husband with an earlier residence in the comune.
    let nicolo = cf("D'Angelo", "Nicolò", Sex::M, date(1975, 3, 12), "A048");
    let lucia = cf("Lopez", "Lucia", Sex::F, date(1978, 12, 12), "A662");
    let rows = [
        format!(
            "{nicolo};D'Angelo;Nicolò;M;12/03/1975;A048;IT;coniugato;F1;intestatario;Via Sant'Agata;7/B;70010;15/03/2010;;F262"
        ),
        format!(
            "{lucia};Lopez;Lucia;F;12/12/1978;A662;IT;coniugato;F1;coniuge;Via Sant'Agata;7/B;70010;15/03/2010;;F262"
        ),
        format!("{nicolo};;;;;;;;;;Piazza Aldo Moro;3;70010;01/02/2005;14/03/2010;"),
    ];
    let report = app
        .import_anagrafe(
            t,
            &admin,
            format!("{HEADER}\n{}\n", rows.join("\n")).as_bytes(),
            |_, _| {},
        )
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // One certificate of each type, at the desk, for an exempt use. The
    // comune's first seal key is made by the first issue.
    let desk = staff(Role::UfficialeAnagrafe);
    let mut issued = Vec::new();
    for tipo in TipoCertificato::ALL {
        let cert = app
            .issue_certificate(
                t,
                &desk,
                &CertificateRequest {
                    holder: nicolo.clone(),
                    tipo,
                    uso: Uso::Esente(&ESENZIONI[0]),
                    base_url: BASE.into(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{tipo:?}: {e:?}"));
        let (_, pdf) = app.certificate_pdf(t, &desk, &cert.data.cti).await.unwrap();
        issued.push((tipo, cert, pdf));
    }

    // What the comune publishes, as files.
    let files = dir.path();
    let (published, list_key, trust) = publish(&app, &tenant, files).await;
    let year = issued[0].1.data.status_list;
    assert!(issued.iter().all(|(_, c, _)| c.data.status_list == year));
    let status_bytes = app.status_list(&tenant, year, BASE).await.unwrap();
    let status_before = files.join("status-list-before.cwt");
    std::fs::write(&status_before, &status_bytes).unwrap();
    let status = StatusListToken::verify(&status_bytes, [&list_key]).unwrap();
    let now = jiff::Timestamp::now().as_second() as u64;

    let mut texts = Vec::new();
    for (tipo, cert, pdf) in &issued {
        let code = tipo.code();
        let text = palazzo_pdf::read::seal_text(pdf).expect("the seal text in the PDF");
        let path = files.join(format!("{code}.pdf"));
        std::fs::write(&path, pdf).unwrap();
        let pdf_path = path.to_str().unwrap();

        // R10: the structure and the fonts.
        let check = run("qpdf", &["--check", pdf_path]);
        assert!(
            check.contains("No syntax or stream encoding errors found"),
            "{code}: {check}"
        );
        // R11: the PAdES seal of the whole file, by pyHanko.
        let (valid, said) = palazzo_testkit::pki::pyhanko_validate(&path, &ca);
        assert!(
            valid && said.contains(":INTACT:TRUSTED,UNTOUCHED"),
            "{code}: pyHanko: {said}"
        );
        let fonts = run("pdffonts", &[pdf_path]);
        assert!(fonts.lines().count() > 2, "{code}: no fonts? {fonts}");
        for row in fonts.lines().skip(2) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cols[cols.len() - 5], "yes", "{code}: not embedded: {row}");
        }

        // R4: the code read from the page, three ways.
        let page150 = files.join(format!("{code}-150"));
        let page100 = files.join(format!("{code}-100"));
        for (dpi, out) in [("150", &page150), ("100", &page100)] {
            run(
                "pdftoppm",
                &[
                    "-r",
                    dpi,
                    "-png",
                    "-singlefile",
                    pdf_path,
                    out.to_str().unwrap(),
                ],
            );
        }
        let png150 = page150.with_extension("png");
        let png100 = page100.with_extension("png");
        let zbar = run(
            "zbarimg",
            &["--raw", "-q", "-Sbinary", png150.to_str().unwrap()],
        );
        assert_eq!(
            zbar.trim_end_matches('\n'),
            text,
            "{code}: zbarimg, 150 dpi"
        );
        assert_eq!(zxing(&png100, false), text, "{code}: zxing-cpp, 100 dpi");
        assert_eq!(
            zxing(&png150, true),
            text,
            "{code}: zxing-cpp, 150 dpi blurred, JPEG q=25"
        );

        // The independent verifier and Palazzo's agree.
        let said = chain_verify(&published, Some(&status_before), None, &text);
        assert_eq!(
            (said.code, said.verdict()),
            (Some(0), "valid"),
            "{code}: {}",
            said.json
        );
        assert_eq!(said.json["status_checked"], true, "{code}");
        let ours = check_offline(&Evidence::Pdf(pdf.clone()), &trust, Some(&status), now).unwrap();
        assert_eq!(ours.verdict(), Verdict::Valid, "{code}: {ours:?}");
        assert_eq!(ours.record_matches, Some(true), "{code}: R9");
        assert_eq!(ours.text, text);
        let claims = ours.verification.claims.unwrap();
        let pairs: Vec<(String, String)> = said.json["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let our_pairs: Vec<(String, String)> = claims
            .pairs
            .iter()
            .map(|p| (p.label.clone(), p.value.clone()))
            .collect();
        assert_eq!(pairs, our_pairs, "{code}");
        assert!(pairs.len() >= 3, "{code}: {pairs:?}");
        assert_eq!(said.json["doc_type"], code);
        assert_eq!(said.json["iss"], "IT-B923");
        assert_eq!(said.json["cti"], hex(&cert.data.cti));
        assert_eq!(said.json["kid"], cert.data.kid);
        assert_eq!(said.json["record_hash"], hex(&claims.record_hash));
        assert_eq!(said.json["iat"], claims.issued_at);
        assert_eq!(said.json["exp"].as_u64(), claims.expires_at, "{code}");
        assert_eq!(
            said.json["hash_only"],
            claims.variant == Variant::HashOnly,
            "{code}"
        );
        assert_eq!(said.json["status"]["idx"], cert.data.status_idx);
        // DECISIONS 17: facts that cannot change never expire.
        let lasting = matches!(
            tipo,
            TipoCertificato::Nascita | TipoCertificato::StoricoResidenza
        );
        assert_eq!(claims.expires_at.is_none(), lasting, "{code}");

        // R8: every decoded pair is printed as sealed.
        let printed = flat(&run("pdftotext", &["-layout", pdf_path, "-"]));
        for (label, value) in &pairs {
            let line = flat(&format!("{label}: {value}"));
            assert!(
                printed.contains(&line),
                "{code}: `{line}` not in:\n{printed}"
            );
        }
        if *tipo == TipoCertificato::StoricoResidenza {
            assert!(
                printed.contains("Dal 01/02/2005 al 14/03/2010: Piazza Aldo Moro 3"),
                "{printed}"
            );
        }
        texts.push(text);
    }
    let residenza = &texts[0];
    let nascita = &texts[3];
    assert_eq!(issued[3].0, TipoCertificato::Nascita);

    // Altered: a flipped character of the text, and a flipped byte of the
    // signature (the structure intact, so the signature itself is refused).
    let mut chars = residenza.clone().into_bytes();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == b'A' { b'B' } else { b'A' };
    let flipped_char = String::from_utf8(chars).unwrap();
    let mut raw = palazzo_seal::claims::from_text(residenza).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 0x01;
    let flipped_sig = palazzo_seal::claims::to_text(&raw);
    for (what, text) in [("character", &flipped_char), ("signature", &flipped_sig)] {
        let said = chain_verify(&published, None, None, text);
        assert_eq!(
            (said.code, said.verdict()),
            (Some(1), "altered"),
            "{what}: {}",
            said.json
        );
        let ours = check_offline(&Evidence::Text(text.clone()), &trust, None, now).unwrap();
        assert_eq!(ours.verdict(), Verdict::Altered, "{what}");
    }
    let said = chain_verify(&published, None, None, &flipped_sig);
    assert_eq!(said.json["reason"], "signature does not verify");

    // Unknown key: another comune's trust list, genuinely signed by its own
    // list key, does not have the seal's key.
    let (beta, _, beta_trust) = publish(&app, &other, files).await;
    let said = chain_verify(&beta, None, None, residenza);
    assert_eq!(
        (said.code, said.verdict()),
        (Some(1), "unknown_key"),
        "{}",
        said.json
    );
    let ours = check_offline(&Evidence::Text(residenza.clone()), &beta_trust, None, now).unwrap();
    assert_eq!(ours.verdict(), Verdict::UnknownKey);
    // And a trust list is taken only with the list key it was signed with.
    let mixed = Published {
        trust: published.trust.clone(),
        key: beta.key.clone(),
    };
    let said = chain_verify(&mixed, None, None, residenza);
    assert_eq!(said.code, Some(3), "{}", said.json);
    assert!(said.json["verdict"].is_null());

    // Expired: a second after `exp` (and valid the second before); the
    // birth certificate has no `exp` and stays valid.
    let exp = chain_verify(&published, None, None, residenza).json["exp"]
        .as_u64()
        .expect("a residence certificate expires");
    for (at, want, verdict) in [
        (exp - 1, "valid", Verdict::Valid),
        (exp, "expired", Verdict::Expired),
        (exp + 1, "expired", Verdict::Expired),
    ] {
        let said = chain_verify(&published, None, Some(at), residenza);
        assert_eq!(said.verdict(), want, "at {at}: {}", said.json);
        let ours = check_offline(&Evidence::Text(residenza.clone()), &trust, None, at).unwrap();
        assert_eq!(ours.verdict(), verdict, "at {at}");
    }
    let far = exp + 100 * 366 * 86_400;
    assert_eq!(
        chain_verify(&published, None, Some(far), nascita).verdict(),
        "valid"
    );
    assert_eq!(
        check_offline(&Evidence::Text(nascita.clone()), &trust, None, far)
            .unwrap()
            .verdict(),
        Verdict::Valid
    );

    // Revoked: the residence certificate is revoked at the desk; the
    // status list published after it has its bit, and only its bit.
    app.revoke_certificate(t, &desk, &issued[0].1.data.cti, "rilasciato per errore")
        .await
        .unwrap();
    let after_bytes = app.status_list(&tenant, year, BASE).await.unwrap();
    let status_after = files.join("status-list-after.cwt");
    std::fs::write(&status_after, &after_bytes).unwrap();
    let after = StatusListToken::verify(&after_bytes, [&list_key]).unwrap();
    let said = chain_verify(&published, Some(&status_after), None, residenza);
    assert_eq!(
        (said.code, said.verdict()),
        (Some(1), "revoked"),
        "{}",
        said.json
    );
    let ours = check_offline(
        &Evidence::Pdf(issued[0].2.clone()),
        &trust,
        Some(&after),
        now,
    )
    .unwrap();
    assert_eq!(ours.verdict(), Verdict::Revoked);
    // Revoked is told before expired (docs/seal-format.md).
    let said = chain_verify(&published, Some(&status_after), Some(exp + 1), residenza);
    assert_eq!(said.verdict(), "revoked");
    for text in &texts[1..] {
        let said = chain_verify(&published, Some(&status_after), None, text);
        assert_eq!(said.verdict(), "valid", "{}", said.json);
    }
    // The list published before the revocation does not know it.
    assert_eq!(
        chain_verify(&published, Some(&status_before), None, residenza).verdict(),
        "valid"
    );

    app.db().close().await;
    eprintln!("the chain took {:?}", started.elapsed());
}
