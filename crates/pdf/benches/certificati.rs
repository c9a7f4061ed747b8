//! Sealed PDF/A certificates per second per core (issue 5, DECISIONS 21:
//! ≥ 500/s and ≥ 20× TCPDF), with Debian's `php-tcpdf` as the baseline in
//! the same run.
//!
//! `cargo bench -p palazzo-pdf --bench certificati` renders, on one thread:
//!
//! 1. `render`: [`CertificateTemplate::render`] alone, from QR matrices
//!    made beforehand;
//! 2. `QR + render`: the QR encoded with `fast_qr` (ECC Q) from a
//!    `PZ1:` + ~600 Base45 characters payload, then rendered — the figure
//!    compared with TCPDF, which encodes its QR too (the COSE signature of
//!    the seal, ~20 µs with ring/ed25519, is `crates/seal`'s and not here);
//! 3. `tcpdf`: `php testbeds/tcpdf/certificati.php`, the same certificate
//!    (A4, the same text and fonts, `write2DBarcode` QR of the same payload
//!    at level Q, PDF/A-3 with the record attached).
//!
//! Each certificate has different data (names, payload, URL, record).
//! `PALAZZO_BENCH_N` (default 3000) and `PALAZZO_BENCH_TCPDF_N` (default
//! 150) set the counts; `PALAZZO_BENCH_OUT=<dir>` keeps one PDF of each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use palazzo_pdf::{CertificateData, CertificateTemplate, Field, QrMatrix, TemplateSpec};

const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const SURNAMES: &[&str] = &[
    "ROSSI",
    "RUSSO",
    "FERRARI",
    "ESPOSITO",
    "BIANCHI",
    "D'AMICO",
    "LO PRESTI",
    "GALLO",
];
const NAMES: &[&str] = &[
    "Nicolò",
    "Maria Grazia",
    "Giuseppe",
    "Francesca",
    "Niccolò",
    "Lucía",
    "Agata",
    "Salvatore",
];
const STREETS: &[&str] = &[
    "Via Medici",
    "Via Vittorio Emanuele II",
    "Piazza Crispi",
    "Contrada Sant'Elia",
    "Via Cosenz",
];

fn spec() -> TemplateSpec {
    TemplateSpec {
        comune: "Comune di Sant'Agata di Militello".into(),
        header: vec![
            "Città metropolitana di Messina — Ufficio anagrafe".into(),
            "Via Medici 1, 98076 Sant'Agata di Militello (ME)".into(),
        ],
        title: "Certificato di residenza".into(),
        preamble: vec!["L'Ufficiale d'anagrafe, visti gli atti d'ufficio, certifica che".into()],
        closing: vec![
            "Il presente certificato non può essere prodotto agli organi della pubblica \
             amministrazione o ai privati gestori di pubblici servizi (art. 40 DPR 445/2000)."
                .into(),
            "Rilasciato in esenzione dall'imposta di bollo per gli usi consentiti dalla legge."
                .into(),
        ],
        verification: "Verifica: inquadra il codice QR con l'app di verifica del Comune oppure \
                       apri l'indirizzo qui sotto; i dati letti devono coincidere con quelli \
                       stampati."
            .into(),
        footer: "Comune di Sant'Agata di Militello — documento informatico con contrassegno \
                 elettronico (art. 23 c. 2-bis CAD)"
            .into(),
        language: "it-IT".into(),
    }
}

struct Cert {
    fields: Vec<Field>,
    paragraphs: Vec<String>,
    payload: String,
    url: String,
    record: Vec<u8>,
    id: [u8; 16],
    qr: (usize, Vec<bool>),
}

fn lcg(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *x >> 33
}

fn qr(text: &str) -> (usize, Vec<bool>) {
    let code = fast_qr::QRBuilder::new(text)
        .ecl(fast_qr::ECL::Q)
        .build()
        .unwrap();
    let n = code.size;
    (n, (0..n * n).map(|i| code.data[i].value()).collect())
}

fn cert(i: usize) -> Cert {
    let mut x = i as u64 + 1;
    let pick = |x: &mut u64, list: &[&str]| list[(lcg(x) as usize) % list.len()].to_owned();
    let surname = pick(&mut x, SURNAMES);
    let name = pick(&mut x, NAMES);
    let street = pick(&mut x, STREETS);
    let fields = vec![
        Field::new("Cognome", surname),
        Field::new("Nome", name),
        Field::new("Luogo di nascita", "Sant'Agata di Militello (ME)"),
        Field::new(
            "Data di nascita",
            format!(
                "{:02}/{:02}/19{}",
                1 + lcg(&mut x) % 28,
                1 + lcg(&mut x) % 12,
                40 + lcg(&mut x) % 60
            ),
        ),
        Field::new(
            "Codice fiscale",
            format!("RSSNCL80C{:02}I199X", lcg(&mut x) % 70),
        ),
        Field::new(
            "Indirizzo",
            format!(
                "{street} {}, Sant'Agata di Militello",
                1 + lcg(&mut x) % 200
            ),
        ),
        Field::new("Cittadinanza", "italiana"),
    ];
    let paragraphs = vec![format!(
        "Risulta iscritto nell'anagrafe della popolazione residente di questo Comune \
         all'indirizzo sopra indicato. La dichiarazione di residenza è stata resa il \
         {:02}/01/20{:02} ed è stata accertata dalla polizia locale; il presente certificato \
         riporta lo stato risultante alla data del rilascio (DPR 223/1989) e vale sei mesi \
         (art. 41 DPR 445/2000).",
        1 + lcg(&mut x) % 28,
        lcg(&mut x) % 26
    )];
    let mut payload = String::from("PZ1:");
    for _ in 0..600 + (lcg(&mut x) % 50) as usize {
        payload.push(BASE45[(lcg(&mut x) % 45) as usize] as char);
    }
    let mut id = [0u8; 16];
    for b in &mut id {
        *b = lcg(&mut x) as u8;
    }
    let url = format!(
        "https://www.comune.santagatadimilitello.me.it/verifica/{}",
        id.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    );
    let record: Vec<u8> = (0..350).map(|_| lcg(&mut x) as u8).collect();
    let qr = qr(&payload);
    Cert {
        fields,
        paragraphs,
        payload,
        url,
        record,
        id,
        qr,
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| json_str(s))
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not:
    // then run a smoke pass only.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n = if smoke {
        20
    } else {
        env_usize("PALAZZO_BENCH_N", 3000)
    };
    let n_tcpdf = if smoke {
        2
    } else {
        env_usize("PALAZZO_BENCH_TCPDF_N", 150)
    };
    let out_dir = std::env::var("PALAZZO_BENCH_OUT").ok().map(PathBuf::from);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let t = Instant::now();
    let spec = spec();
    let template = CertificateTemplate::new(&spec).unwrap();
    let template_ms = t.elapsed().as_secs_f64() * 1e3;

    let certs: Vec<Cert> = (0..100).map(cert).collect();
    let data = |c: &'_ Cert, qr: QrMatrix<'_>| -> Vec<u8> {
        template
            .render(&CertificateData {
                issued: "2026-11-27T10:15:30Z".parse().unwrap(),
                document_id: c.id,
                fields: &c.fields,
                paragraphs: &c.paragraphs,
                qr,
                url: &c.url,
                record: &c.record,
                seal: &c.payload,
            })
            .unwrap()
    };
    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir).unwrap();
        let c = &certs[0];
        std::fs::write(
            dir.join("palazzo.pdf"),
            data(c, QrMatrix::new(c.qr.0, &c.qr.1).unwrap()),
        )
        .unwrap();
    }

    // Warm-up.
    for c in certs.iter().take(20) {
        black_box(data(c, QrMatrix::new(c.qr.0, &c.qr.1).unwrap()));
    }

    let t = Instant::now();
    let mut bytes = 0usize;
    for k in 0..n {
        let c = &certs[k % certs.len()];
        bytes += black_box(data(c, QrMatrix::new(c.qr.0, &c.qr.1).unwrap())).len();
    }
    let render_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for k in 0..n {
        let c = &certs[k % certs.len()];
        let (size, dark) = qr(&c.payload);
        black_box(data(c, QrMatrix::new(size, &dark).unwrap()));
    }
    let full_s = t.elapsed().as_secs_f64();

    // TCPDF, same data.
    let tmp =
        std::env::temp_dir().join(format!("palazzo-bench-certificati-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let fonts = root.join("fonts");
    let certs_json: Vec<String> = certs
        .iter()
        .map(|c| {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| format!("[{},{}]", json_str(&f.label), json_str(&f.value)))
                .collect();
            format!(
                "{{\"fields\":[{}],\"paragraphs\":{},\"payload\":{},\"url\":{},\"record_hex\":\"{}\"}}",
                fields.join(","),
                json_list(&c.paragraphs),
                json_str(&c.payload),
                json_str(&c.url),
                c.record.iter().fold(String::new(), |mut s, b| {
                    let _ = write!(s, "{b:02x}");
                    s
                })
            )
        })
        .collect();
    let json = format!(
        "{{\"spec\":{{\"comune\":{},\"header\":{},\"title\":{},\"preamble\":{},\"closing\":{},\
         \"verification\":{},\"footer\":{}}},\"fonts\":[{},{}],\"certs\":[{}]}}",
        json_str(&spec.comune),
        json_list(&spec.header),
        json_str(&spec.title),
        json_list(&spec.preamble),
        json_list(&spec.closing),
        json_str(&spec.verification),
        json_str(&spec.footer),
        json_str(fonts.join("TitilliumWeb-Regular.ttf").to_str().unwrap()),
        json_str(fonts.join("TitilliumWeb-Bold.ttf").to_str().unwrap()),
        certs_json.join(",")
    );
    let data_path = tmp.join("data.json");
    std::fs::write(&data_path, json).unwrap();
    let script = root.join("../../testbeds/tcpdf/certificati.php");
    let tcpdf = |mode: &str| -> (f64, f64, f64) {
        let first = out_dir
            .as_ref()
            .map(|d| d.join(format!("tcpdf-{mode}.pdf")))
            .unwrap_or_else(|| tmp.join("tcpdf.pdf"));
        let out = Command::new("php")
            .arg(&script)
            .arg(&data_path)
            .arg(n_tcpdf.to_string())
            .arg(&first)
            .arg(mode)
            .output()
            .unwrap_or_else(|e| {
                panic!("php not available ({e}): apt-get install php-cli php-tcpdf")
            });
        assert!(
            out.status.success(),
            "TCPDF failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            parts.first(),
            Some(&"tcpdf"),
            "unexpected TCPDF output: {line}"
        );
        (
            parts[1].parse().unwrap(),
            parts[2].parse().unwrap(),
            parts[3].parse().unwrap(),
        )
    };
    let (tcpdf_n, tcpdf_s, tcpdf_bytes) = tcpdf("pdfa");
    let (plain_n, plain_s, plain_bytes) = tcpdf("plain");
    let _ = std::fs::remove_dir_all(&tmp);

    let render_rate = n as f64 / render_s;
    let full_rate = n as f64 / full_s;
    let tcpdf_rate = tcpdf_n / tcpdf_s;
    println!(
        "certificati (one thread, varying data, A4 PDF/A-3b, QR v{}–v{} at ECC Q)",
        certs.iter().map(|c| (c.qr.0 - 17) / 4).min().unwrap_or(0),
        certs.iter().map(|c| (c.qr.0 - 17) / 4).max().unwrap_or(0)
    );
    println!("  template build           {template_ms:>9.2} ms (once)");
    println!(
        "  palazzo render           {render_rate:>9.0} /s  ({:.3} ms, {:.1} kB each, n = {n})",
        1e3 / render_rate,
        bytes as f64 / n as f64 / 1e3
    );
    println!(
        "  palazzo QR + render      {full_rate:>9.0} /s  ({:.3} ms each)",
        1e3 / full_rate
    );
    println!(
        "  tcpdf (php) QR + render  {tcpdf_rate:>9.1} /s  ({:.1} ms, {:.1} kB each, n = {tcpdf_n})",
        1e3 / tcpdf_rate,
        tcpdf_bytes / tcpdf_n / 1e3
    );
    let plain_rate = plain_n / plain_s;
    println!(
        "  tcpdf, not PDF/A         {plain_rate:>9.1} /s  ({:.1} ms, {:.1} kB each; subset fonts, no attachment)",
        1e3 / plain_rate,
        plain_bytes / plain_n / 1e3
    );
    println!(
        "  ratio vs tcpdf PDF/A-3   {:>9.1}×  (QR + render)",
        full_rate / tcpdf_rate
    );
    println!(
        "  ratio vs tcpdf, not PDF/A{:>9.1}×  (QR + render)",
        full_rate / plain_rate
    );
    println!("  goals: ≥ 500/s and ≥ 20× (DECISIONS 21)");
}
