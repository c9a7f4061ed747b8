//! R14: the test vectors of `docs/seal-format.md` are what this crate
//! produces, byte for byte. The inputs and the expected outputs are read
//! from the document's ```` ```vector-… ```` blocks, so the document cannot
//! drift from the code.
//!
//! `PALAZZO_SEAL_PRINT_VECTORS=1 cargo test -p palazzo-seal --test vectors
//! -- --nocapture` prints the blocks as computed (to update the document
//! after a deliberate format change).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use palazzo_domain::cbor::{self, Value};
use palazzo_seal::claims::{self, Pair, SealClaims, StatusRef, Variant};
use palazzo_seal::cose::{Ed25519Signer, P256Signer, PublicKey, SealSigner};
use palazzo_seal::status::{StatusList, StatusListToken};
use palazzo_seal::trust::{TrustEntry, TrustList};
use palazzo_seal::verify::{Verdict, verify_text};
use palazzo_seal::{cose, qr};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/seal-format.md");
    std::fs::read_to_string(path).expect("docs/seal-format.md")
}

/// The `key = value` lines of the block ```` ```vector-NAME ````; a hex
/// value may continue on the following lines indented by four spaces.
/// Values are taken as written (a PZ1 text may hold spaces, so it is
/// written on one line).
fn block(doc: &str, name: &str) -> BTreeMap<String, String> {
    let start = format!("```vector-{name}\n");
    let at = doc
        .find(&start)
        .unwrap_or_else(|| panic!("no vector-{name} block"));
    let body = &doc[at + start.len()..];
    let body = &body[..body.find("```").expect("unterminated block")];
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in body.lines() {
        if let Some(cont) = line.strip_prefix("    ") {
            let key = last.clone().expect("continuation first");
            out.entry(key).and_modify(|v: &mut String| v.push_str(cont));
        } else if let Some((k, v)) = line.split_once(" = ") {
            out.insert(k.trim().to_owned(), v.to_owned());
            last = Some(k.trim().to_owned());
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().unwrap()
}

/// The record of the vectors: deterministic CBOR of a text map.
fn record() -> Value {
    Value::Map(vec![
        (Value::text("cognome"), Value::text("ROSSI")),
        (Value::text("nome"), Value::text("MARIO")),
        (
            Value::text("codice_fiscale"),
            Value::text("RSSMRA80A01B923X"),
        ),
        (Value::text("data_nascita"), Value::text("1980-01-01")),
        (
            Value::text("indirizzo"),
            Value::text("VIA ROMA 1, 70010 CASAMASSIMA (BA)"),
        ),
    ])
}

fn claims_of(v: &BTreeMap<String, String>) -> SealClaims {
    SealClaims {
        issuer: v["iss"].clone(),
        issued_at: v["iat"].parse().unwrap(),
        expires_at: v.get("exp").map(|e| e.parse().unwrap()),
        cti: arr(&v["cti"]),
        doc_type: v["doc_type"].clone(),
        pairs: pairs_of(v),
        record_hash: claims::record_hash(&record()).unwrap(),
        status: v.get("status_idx").map(|i| StatusRef {
            idx: i.parse().unwrap(),
            uri: v["status_uri"].clone(),
        }),
        variant: Variant::Full,
    }
}

/// The printed pairs: the five of the record, then `members` family members.
fn pairs_of(v: &BTreeMap<String, String>) -> Vec<Pair> {
    let mut pairs = vec![
        Pair::new("Cognome", "ROSSI"),
        Pair::new("Nome", "MARIO"),
        Pair::new("Codice fiscale", "RSSMRA80A01B923X"),
        Pair::new("Data di nascita", "01/01/1980"),
        Pair::new("Indirizzo", "VIA ROMA 1, 70010 CASAMASSIMA (BA)"),
    ];
    let members: usize = v.get("members").map_or(0, |m| m.parse().unwrap());
    for i in 1..=members {
        pairs.push(Pair::new(
            format!("Componente {i}"),
            format!("ROSSI FIGLIO{i}, NATO IL 0{}/01/2010", i % 10),
        ));
    }
    pairs
}

fn signer_of(v: &BTreeMap<String, String>) -> Box<dyn SealSigner> {
    if let Some(seed) = v.get("ed25519_seed") {
        Box::new(Ed25519Signer::from_seed(&arr(seed)).unwrap())
    } else {
        Box::new(P256Signer::from_secret_bytes(&arr(&v["p256_secret"])).unwrap())
    }
}

fn compute_seal(v: &BTreeMap<String, String>) -> Vec<(&'static str, String)> {
    let signer = signer_of(v);
    let c = claims_of(v);
    let sealed = claims::seal(&c, 3, signer.as_ref()).unwrap();
    // The payload as sealed (in the hash-only variant, with fewer pairs).
    let payload = sealed.claims.to_cbor().unwrap();
    let protected = cose::protected_header(signer.algorithm(), &signer.kid(), None).unwrap();
    let matrix = qr::encode(&sealed.text).unwrap();
    vec![
        ("spki", hex(signer.spki_der())),
        ("kid", hex(&signer.kid())),
        ("record_cbor", hex(&cbor::encode(&record()).unwrap())),
        ("record_hash", hex(&c.record_hash)),
        ("payload", hex(&payload)),
        ("protected", hex(&protected)),
        (
            "sig_structure",
            hex(&cose::sig_structure(&protected, &payload)),
        ),
        ("cose", hex(&sealed.cose)),
        ("text", sealed.text.clone()),
        ("text_chars", sealed.text.len().to_string()),
        (
            "variant",
            match sealed.claims.variant {
                Variant::Full => "full",
                Variant::HashOnly => "hash-only",
            }
            .to_owned(),
        ),
        ("qr_version", matrix.version().to_string()),
    ]
}

fn print_block(name: &str, inputs: &BTreeMap<String, String>, outputs: &[(&str, String)]) {
    println!("```vector-{name}");
    for (k, v) in inputs {
        if !outputs.iter().any(|(o, _)| o == k) {
            println!("{k} = {v}");
        }
    }
    for (k, v) in outputs {
        if *k == "text" {
            println!("{k} = {v}");
            continue;
        }
        let mut chunks = v.as_bytes().chunks(64);
        println!(
            "{k} = {}",
            std::str::from_utf8(chunks.next().unwrap_or_default()).unwrap()
        );
        for c in chunks {
            println!("    {}", std::str::from_utf8(c).unwrap());
        }
    }
    println!("```");
}

fn check(name: &str, inputs: &BTreeMap<String, String>, outputs: &[(&str, String)]) {
    if std::env::var_os("PALAZZO_SEAL_PRINT_VECTORS").is_some() {
        print_block(name, inputs, outputs);
        return;
    }
    for (k, v) in outputs {
        assert_eq!(inputs.get(*k), Some(v), "vector-{name}: {k}");
    }
}

#[test]
fn seal_vectors() {
    let doc = doc();
    for name in ["ed25519", "es256", "hash-only"] {
        let v = block(&doc, name);
        let outputs = compute_seal(&v);
        check(name, &v, &outputs);
        // And the vector verifies as `valid`.
        let signer = signer_of(&v);
        let trust = TrustList {
            issuer: v["iss"].clone(),
            issued_at: 0,
            entries: vec![TrustEntry {
                key: PublicKey::from_spki_der(signer.spki_der()).unwrap(),
                not_before: 0,
                not_after: None,
                doc_types: vec![v["doc_type"].clone()],
            }],
        };
        let iat: u64 = v["iat"].parse().unwrap();
        let text = &outputs.iter().find(|(k, _)| *k == "text").unwrap().1;
        assert_eq!(verify_text(text, &trust, None, iat).verdict, Verdict::Valid);
    }
}

#[test]
fn list_vectors() {
    let doc = doc();
    let v = block(&doc, "trust-list");
    let list_key = Ed25519Signer::from_seed(&arr(&v["list_ed25519_seed"])).unwrap();
    let seal_key = Ed25519Signer::from_seed(&arr(&v["entry_ed25519_seed"])).unwrap();
    let list = TrustList {
        issuer: v["iss"].clone(),
        issued_at: v["iat"].parse().unwrap(),
        entries: vec![TrustEntry {
            key: PublicKey::of_signer(&seal_key).unwrap(),
            not_before: v["entry_not_before"].parse().unwrap(),
            not_after: None,
            doc_types: v["entry_doc_types"].split(',').map(str::to_owned).collect(),
        }],
    };
    let signed = list.sign(&list_key).unwrap();
    check(
        "trust-list",
        &v,
        &[
            ("list_kid", hex(&list_key.kid())),
            ("payload", hex(&list.to_cbor().unwrap())),
            ("cose", hex(&signed)),
        ],
    );
    assert_eq!(
        TrustList::verify(&signed, &PublicKey::of_signer(&list_key).unwrap()).unwrap(),
        list
    );

    let v = block(&doc, "status-list");
    let signer = Ed25519Signer::from_seed(&arr(&v["ed25519_seed"])).unwrap();
    let mut statuses = StatusList::new(v["entries"].parse().unwrap()).unwrap();
    for i in v["revoked"].split(',') {
        statuses.revoke(i.parse().unwrap()).unwrap();
    }
    let token = StatusListToken {
        issuer: v["iss"].clone(),
        uri: v["sub"].clone(),
        issued_at: v["iat"].parse().unwrap(),
        expires_at: None,
        ttl: Some(v["ttl"].parse().unwrap()),
        list: statuses,
    };
    let signed = token.sign(&signer).unwrap();
    check(
        "status-list",
        &v,
        &[
            ("bytes", hex(token.list.as_bytes())),
            ("payload", hex(&token.to_cbor().unwrap())),
            ("cose", hex(&signed)),
        ],
    );
    let back = StatusListToken::verify(&signed, [&PublicKey::of_signer(&signer).unwrap()]).unwrap();
    assert_eq!(back, token);
}
