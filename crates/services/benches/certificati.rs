//! Sealed certificates per second per core, end to end (issue 5 "Speed";
//! DECISIONS 21): `seal_certificate` composes a certificate from register
//! data, builds its canonical record, seals it (COSE_Sign1, ES256 with
//! `p256` and EdDSA), encodes the QR and renders the PDF/A-3b from the
//! cached template — everything but the database. One thread, varying data.
//!
//! `cargo bench -p palazzo-services --bench certificati`; the TCPDF
//! baseline of the same certificate is `cargo bench -p palazzo-pdf --bench
//! certificati`. `PALAZZO_BENCH_N` sets the count (default 2000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use jiff::civil::date;
use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
use palazzo_domain::certificati::{Richiesta, Soggetto, TipoCertificato, Uso};
use palazzo_domain::ids::Sex;
use palazzo_seal::cose::{Ed25519Signer, P256Signer, SealSigner};
use palazzo_services::certificati::{Issuance, Templates, seal_certificate};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Tenant, TenantId};

const NAMES: &[&str] = &["Mario", "Nicolò", "Anna", "Lucia", "Giuseppe", "Francesca"];
const SURNAMES: &[&str] = &["Rossi", "D'Angelo", "Esposito", "Lo Presti", "Bianchi"];

fn request(i: usize) -> Richiesta {
    let holder = Soggetto {
        codice_fiscale: format!("RSSMRA80A01A66{:02}", i % 100),
        cognome: SURNAMES[i % SURNAMES.len()].into(),
        nome: NAMES[i % NAMES.len()].into(),
        sesso: if i.is_multiple_of(2) { Sex::M } else { Sex::F },
        nascita: date(
            1940 + (i % 60) as i16,
            1 + (i % 12) as i8,
            1 + (i % 28) as i8,
        ),
        luogo_nascita: "Acquaviva delle Fonti (BA)".into(),
        cittadinanza: Cittadinanza::ITALIANA,
        stato_civile: StatoCivile::Coniugato,
        rapporto: "intestatario".into(),
    };
    Richiesta {
        tipo: TipoCertificato::Residenza,
        uso: Uso::Bollo,
        comune: "Casamassima".into(),
        codice_catastale: "B923".into(),
        provincia: "BA".into(),
        rilascio: date(2026, 11, 27),
        intestatario: holder.clone(),
        famiglia: vec![holder],
        indirizzo: format!("Via Roma {}", 1 + i % 200),
        cap: "70010".into(),
        residente_dal: Some(date(2010, 3, 15)),
        provenienza: None,
        residenze: vec![],
    }
}

fn run(name: &str, signer: &dyn SealSigner, n: usize) {
    let tenant = Tenant {
        id: TenantId(1),
        data: tenant_fixture(1),
    };
    let templates = Templates::default();
    let requests: Vec<Richiesta> = (0..n).map(request).collect();
    let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
    // The template is built once, outside the measure (DECISIONS 21).
    seal_certificate(&templates, &tenant, &requests[0], signer, &issuance(0, at)).unwrap();
    let start = Instant::now();
    let mut bytes = 0;
    for (i, r) in requests.iter().enumerate() {
        let c = seal_certificate(&templates, &tenant, r, signer, &issuance(i, at)).unwrap();
        bytes += black_box(c.pdf).len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  {name:<28} {:>6.0} /s  ({:.3} ms each, {:.1} kB, n = {n})",
        n as f64 / secs,
        secs * 1000.0 / n as f64,
        bytes as f64 / n as f64 / 1000.0
    );
}

fn issuance(i: usize, at: jiff::Timestamp) -> Issuance<'static> {
    let mut cti = [0u8; 16];
    cti[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Issuance {
        cti,
        at,
        status: None,
        base_url: "https://www.comune.casamassima.ba.it",
    }
}

fn main() {
    let n: usize = std::env::var("PALAZZO_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!(
        "sealed certificates end to end (one thread; compose + record + seal + QR + PDF/A-3b)"
    );
    run(
        "ES256 (p256)",
        &P256Signer::from_secret_bytes(&[42u8; 32]).unwrap(),
        n,
    );
    run(
        "EdDSA (ed25519-dalek)",
        &Ed25519Signer::from_seed(&[7u8; 32]).unwrap(),
        n,
    );
    println!(
        "  goal: ≥ 500/s per core (DECISIONS 21); TCPDF: cargo bench -p palazzo-pdf --bench certificati"
    );
}
