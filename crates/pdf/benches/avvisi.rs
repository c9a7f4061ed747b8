//! TARI avvisi di pagamento (PDF with QR) rendered per second per core
//! (issue 7).
//!
//! `cargo bench -p palazzo-pdf --bench avvisi` renders on one thread, with
//! different data each time (debtor, codes, amounts):
//!
//! 1. `unica`: a notice with the rata unica only (one QR), no postal
//!    account;
//! 2. `3 rate + bollettini`: the rata unica and 3 rate (4 QR codes) and a
//!    postal account (4 Poste Data Matrix), 4 pages.
//!
//! The payloads are built beforehand with the domain's functions; the QR
//! and Data Matrix encoding happens in [`avviso::render`] and is timed.
//! `PALAZZO_BENCH_N` (default 300) sets the count; `PALAZZO_BENCH_OUT=<dir>`
//! keeps one PDF of each kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use jiff::civil::date;
use palazzo_domain::money::Cents;
use palazzo_domain::pagopa::{CodiceAvviso, poste_data_matrix, qr_payload};
use palazzo_pdf::Info;
use palazzo_pdf::avviso::{self, Avviso, ContoPostale, Destinatario, EnteCreditore, Pagamento};

const CF_ENTE: &str = "80013870729";
const NAMES: &[&str] = &[
    "Mario Rossi",
    "Nicolò D'Amico",
    "Anna Lo Presti",
    "Luca Gallo",
];

fn pagamento(base: u64, cents: i64, month: i8, conto: Option<&str>, who: &str) -> Pagamento {
    let codice = CodiceAvviso::aux3(1, base).unwrap();
    let importo = Cents::from_cents(cents);
    Pagamento {
        importo: u64::try_from(cents).unwrap(),
        scadenza: date(2026, month, 16),
        codice_avviso: codice.to_string(),
        qr: qr_payload(codice, CF_ENTE, importo),
        data_matrix: conto.map(|c| {
            poste_data_matrix(
                codice,
                c,
                importo,
                CF_ENTE,
                "RSSMRA80A01B923X",
                who,
                "TARI 2026",
            )
            .unwrap()
        }),
    }
}

fn notice(i: u64, rate: bool) -> Avviso {
    let who = NAMES[(i as usize) % NAMES.len()];
    let conto = rate.then_some("16302093");
    let rata = 10_000 + (i as i64 % 997) * 37;
    Avviso {
        oggetto: format!("TARI 2026 - Tassa sui rifiuti, utenza n. {}", 1000 + i),
        ente: EnteCreditore {
            nome: "Comune di Casamassima".into(),
            settore: Some("Ufficio Tributi".into()),
            codice_fiscale: CF_ENTE.into(),
            cbill: "A1B2C".into(),
            conto_postale: conto.map(|c| ContoPostale {
                numero: c.into(),
                intestatario: "Comune di Casamassima - Servizio Tesoreria".into(),
            }),
        },
        destinatario: Destinatario {
            codice_fiscale: "RSSMRA80A01B923X".into(),
            nome: who.into(),
            indirizzo: vec![
                format!("Via Roma {}", i % 200 + 1),
                "70010 Casamassima (BA)".into(),
            ],
        },
        unica: pagamento(i * 4, rata * 3, 4, conto, who),
        rate: if rate {
            (1..=3)
                .map(|k| pagamento(i * 4 + k, rata, 1 + 3 * k as i8, conto, who))
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not:
    // then run a smoke pass only.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n: u64 = if smoke {
        5
    } else {
        std::env::var("PALAZZO_BENCH_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300)
    };
    let info = Info {
        title: "Avviso di pagamento TARI 2026".into(),
        subject: "TARI 2026".into(),
        author: "Comune di Casamassima".into(),
        language: "it-IT".into(),
        created: "2026-11-28T08:00:00Z".parse().unwrap(),
    };
    for (name, rate) in [("unica", false), ("3 rate + bollettini", true)] {
        let notices: Vec<Avviso> = (0..n).map(|i| notice(i, rate)).collect();
        if let Ok(dir) = std::env::var("PALAZZO_BENCH_OUT") {
            std::fs::create_dir_all(&dir).unwrap();
            let pdf = avviso::render(&notices[0], &info).unwrap();
            std::fs::write(format!("{dir}/avviso-{}.pdf", u8::from(rate)), pdf).unwrap();
        }
        let t = Instant::now();
        let mut bytes = 0;
        for a in &notices {
            bytes += black_box(avviso::render(black_box(a), &info).unwrap()).len();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{name:>22}: {n} notices in {s:.2} s = {:.0} notices/s per core ({} KiB each)",
            n as f64 / s,
            bytes / n as usize / 1024
        );
    }
}
