//! The issue's independent check: other people's code (pycose with
//! cbor2 < 6, base45, cryptography; zxing-cpp for the QR) decodes and
//! verifies our PZ1 texts, for ES256 and EdDSA, and refuses a flipped
//! byte. Runs `testbeds/seal/seal-check.py` with `PALAZZO_SEAL_PYTHON`
//! (set by `scripts/test`); without it the test fails, never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use palazzo_seal::claims::{self, Pair, SealClaims, StatusRef, Variant};
use palazzo_seal::cose::{Ed25519Signer, P256Signer, SealSigner};
use palazzo_seal::{base45, qr};

fn python() -> String {
    std::env::var("PALAZZO_SEAL_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PALAZZO_SEAL_PYTHON is not set: the independent seal checks need pycose, cbor2<6, \
             base45 and zxing-cpp; run the tests through scripts/test, or export \
             PALAZZO_SEAL_PYTHON=$(bash testbeds/seal/setup.sh)"
        )
    })
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testbeds/seal/seal-check.py")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `seal-check.py verify SPKI` with `text` on stdin: (verified, JSON).
fn py_verify(text: &str, spki: &[u8]) -> (bool, serde_json::Value) {
    let mut child = Command::new(python())
        .arg(script())
        .args(["verify", &hex(spki)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run seal-check.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "seal-check.py crashed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.success(), json)
}

fn sample() -> SealClaims {
    SealClaims {
        issuer: "IT-B923".into(),
        issued_at: 1_798_761_600,
        expires_at: Some(1_814_400_000),
        cti: *b"0123456789abcdef",
        doc_type: "residenza".into(),
        pairs: vec![
            Pair::new("Cognome", "D'ANGELO"),
            Pair::new("Nome", "NICOLÒ"),
            Pair::new("Codice fiscale", "DNGNCL80A01B923X"),
            Pair::new("Indirizzo", "VIA ROMA 1, 70010 CASAMASSIMA (BA)"),
        ],
        record_hash: [0x5a; 32],
        status: Some(StatusRef {
            idx: 12_345,
            uri: "https://casamassima.example/.well-known/palazzo/status-list/3".into(),
        }),
        variant: Variant::Full,
    }
}

fn signers() -> Vec<Box<dyn SealSigner>> {
    vec![
        Box::new(P256Signer::from_secret_bytes(&[0x42; 32]).unwrap()),
        Box::new(Ed25519Signer::from_seed(&[0x24; 32]).unwrap()),
    ]
}

#[test]
fn pycose_verifies_our_seals_and_refuses_a_flipped_byte() {
    for signer in signers() {
        let alg = signer.algorithm().cose_id();
        let c = sample();
        let sealed = claims::seal(&c, 3, signer.as_ref()).unwrap();
        let (ok, json) = py_verify(&sealed.text, signer.spki_der());
        assert!(ok, "alg {alg}: {json}");
        assert_eq!(json["alg"], alg);
        assert_eq!(json["kid"], hex(&signer.kid()));
        assert_eq!(json["iss"], "IT-B923");
        assert_eq!(json["iat"], 1_798_761_600u64);
        assert_eq!(json["exp"], 1_814_400_000u64);
        assert_eq!(json["cti"], hex(b"0123456789abcdef"));
        assert_eq!(json["version"], 1);
        assert_eq!(json["doc_type"], "residenza");
        let pairs: Vec<Vec<String>> = serde_json::from_value(json["pairs"].clone()).unwrap();
        let expected: Vec<Vec<String>> = c
            .pairs
            .iter()
            .map(|p| vec![p.label.clone(), p.value.clone()])
            .collect();
        assert_eq!(pairs, expected);
        assert_eq!(json["record_hash"], hex(&[0x5a; 32]));
        assert_eq!(json["hash_only"], false);
        assert_eq!(json["status"]["status_list"]["idx"], 12_345);
        assert_eq!(
            json["status"]["status_list"]["uri"],
            "https://casamassima.example/.well-known/palazzo/status-list/3"
        );

        // A flipped byte in the payload, and one in the signature: refused.
        let nicolo = sealed
            .cose
            .windows(7)
            .position(|w| w == &"NICOLÒ".as_bytes()[..7])
            .unwrap();
        for i in [nicolo, sealed.cose.len() - 1] {
            let mut bad = sealed.cose.clone();
            bad[i] ^= 0x01;
            let (ok, json) = py_verify(&claims::to_text(&bad), signer.spki_der());
            assert!(!ok, "alg {alg}, byte {i}: {json}");
        }
        // The other algorithm's key: refused (kid differs).
        let other = &signers()[usize::from(alg == -7)];
        let (ok, _) = py_verify(&sealed.text, other.spki_der());
        assert!(!ok);
    }
}

#[test]
fn zlib_and_hash_only_variants_decode_too() {
    let signer = Ed25519Signer::from_seed(&[0x24; 32]).unwrap();
    // A zlib-compressed payload (accepted by both sides after a 0x78 byte).
    let sealed = claims::seal(&sample(), 3, &signer).unwrap();
    let z = miniz_oxide_zlib(&sealed.cose);
    let text = format!("PZ1:{}", base45::encode(&z));
    assert_eq!(claims::from_text(&text).unwrap(), sealed.cose);
    assert!(py_verify(&text, signer.spki_der()).0);
    // Hash-only.
    let mut c = sample();
    for i in 0..30 {
        c.pairs
            .push(Pair::new(format!("Componente {i}"), "ESPOSITO ANNA"));
    }
    let sealed = claims::seal(&c, 3, &signer).unwrap();
    assert_eq!(sealed.claims.variant, Variant::HashOnly);
    let (ok, json) = py_verify(&sealed.text, signer.spki_der());
    assert!(ok, "{json}");
    assert_eq!(json["hash_only"], true);
    assert_eq!(json["pairs"].as_array().unwrap().len(), 3);
}

/// The zlib stream a DCC-style encoder would write (RFC 1950, level 9).
fn miniz_oxide_zlib(b: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(b, 9)
}

/// The QR drawn from our module matrix decodes, with zxing-cpp, to the
/// same PZ1 text (both algorithms; a full-size seal near version 20).
#[test]
fn zxing_reads_our_qr() {
    let dir = std::env::temp_dir().join(format!("palazzo-seal-qr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for signer in signers() {
        let sealed = claims::seal(&sample(), 3, signer.as_ref()).unwrap();
        let matrix = qr::encode(&sealed.text).unwrap();
        assert!(matrix.version() <= qr::MAX_VERSION);
        for scale in [2usize, 4] {
            let path = dir.join(format!("seal-{}-{scale}.pgm", signer.algorithm().cose_id()));
            std::fs::write(&path, matrix.to_pgm(scale)).unwrap();
            let out = Command::new(python())
                .arg(script())
                .arg("qr")
                .arg(&path)
                .output()
                .expect("run seal-check.py qr");
            assert!(
                out.status.success(),
                "zxing-cpp found no QR at {scale} px/module: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8(out.stdout).unwrap(), sealed.text);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The seal vectors of `docs/seal-format.md` verify with pycose too, so an
/// independent implementation can start from them.
#[test]
fn pycose_verifies_the_documented_vectors() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/seal-format.md"
    ))
    .expect("docs/seal-format.md");
    for name in ["ed25519", "es256", "hash-only"] {
        let start = format!("```vector-{name}\n");
        let body = &doc[doc.find(&start).expect("vector block") + start.len()..];
        let body = &body[..body.find("```").expect("end of block")];
        let (mut text, mut spki, mut in_spki) = (None, String::new(), false);
        for line in body.lines() {
            if let Some(t) = line.strip_prefix("text = ") {
                text = Some(t.to_owned());
            }
            if let Some(s) = line.strip_prefix("spki = ") {
                spki.push_str(s);
                in_spki = true;
            } else if in_spki && line.starts_with("    ") {
                spki.push_str(line.trim());
            } else {
                in_spki = false;
            }
        }
        let spki: Vec<u8> = (0..spki.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&spki[i..i + 2], 16).unwrap())
            .collect();
        let (ok, json) = py_verify(&text.expect("text"), &spki);
        assert!(ok, "vector-{name}: {json}");
        assert_eq!(json["hash_only"], name == "hash-only");
    }
}
