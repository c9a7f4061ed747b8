//! The pagoPA avviso di pagamento (issue 7 part 4) checked with independent
//! tools: the pages rasterised by poppler's `pdftoppm` and every symbol
//! decoded by zxing-cpp (`PALAZZO_SEAL_PYTHON`); the text by `pdftotext`,
//! the fonts by `pdffonts`, the structure by `qpdf --check`. The codes are
//! built and re-checked with the domain's own functions
//! (`palazzo_domain::pagopa`). The tests fail, never skip, when a tool is
//! missing: `scripts/test` installs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use jiff::civil::date;
use palazzo_domain::money::Cents;
use palazzo_domain::pagopa::{CodiceAvviso, poste_data_matrix, qr_payload};
use palazzo_pdf::avviso::{self, Avviso, ContoPostale, Destinatario, EnteCreditore, Pagamento};
use palazzo_pdf::{Info, PdfError};

const CF_ENTE: &str = "80013870729";
const CF_DEBITORE: &str = "RSSMRA80A01B923X";
const CONTO: &str = "16302093";
const OGGETTO: &str = "TARI 2026 - Tassa sui rifiuti, utenza domestica Via Roma 1";

fn info() -> Info {
    Info {
        title: "Avviso di pagamento TARI 2026".into(),
        subject: OGGETTO.into(),
        author: "Comune di Casamassima".into(),
        language: "it-IT".into(),
        created: "2026-11-28T08:00:00Z".parse().unwrap(),
    }
}

fn pagamento(base: u64, cents: i64, scadenza: jiff::civil::Date, postale: bool) -> Pagamento {
    let codice = CodiceAvviso::aux3(1, base).unwrap();
    let importo = Cents::from_cents(cents);
    Pagamento {
        importo: u64::try_from(cents).unwrap(),
        scadenza,
        codice_avviso: codice.to_string(),
        qr: qr_payload(codice, CF_ENTE, importo),
        data_matrix: postale.then(|| {
            poste_data_matrix(
                codice,
                CONTO,
                importo,
                CF_ENTE,
                CF_DEBITORE,
                "Mario Rossi",
                OGGETTO,
            )
            .unwrap()
        }),
    }
}

/// A TARI notice of 1.020,99 € in 3 rate (340,33 + 340,33 + 340,33), with
/// or without a postal account.
fn sample(rate: bool, postale: bool) -> Avviso {
    Avviso {
        oggetto: OGGETTO.into(),
        ente: EnteCreditore {
            nome: "Comune di Casamassima".into(),
            settore: Some("Ufficio Tributi".into()),
            codice_fiscale: CF_ENTE.into(),
            cbill: "A1B2C".into(),
            conto_postale: postale.then(|| ContoPostale {
                numero: CONTO.into(),
                intestatario: "Comune di Casamassima - Servizio Tesoreria".into(),
            }),
        },
        destinatario: Destinatario {
            codice_fiscale: CF_DEBITORE.into(),
            nome: "Mario Rossi".into(),
            indirizzo: vec!["Via Roma 1".into(), "70010 Casamassima (BA)".into()],
        },
        unica: pagamento(1, 102_099, date(2026, 4, 16), postale),
        rate: if rate {
            vec![
                pagamento(2, 34_033, date(2026, 4, 16), postale),
                pagamento(3, 34_033, date(2026, 7, 16), postale),
                pagamento(4, 34_033, date(2026, 10, 16), postale),
            ]
        } else {
            Vec::new()
        },
    }
}

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palazzo-avviso-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} not available ({e}): scripts/test installs it"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn python(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests through scripts/test (it creates the venv)")
    })
}

/// Every symbol on every page at 200 dpi, as `(format, text)`, decoded by
/// zxing-cpp.
fn decode_all(dir: &std::path::Path, pdf: &str) -> Vec<(String, String)> {
    let prefix = dir.join("page");
    run(
        "pdftoppm",
        &["-r", "200", "-gray", "-png", pdf, prefix.to_str().unwrap()],
    );
    let script = r#"
import sys, json, glob, zxingcpp
from PIL import Image
out = []
for f in sorted(glob.glob(sys.argv[1] + "-*.png")):
    for r in zxingcpp.read_barcodes(Image.open(f)):
        out.append([str(r.format).split(".")[-1].replace(" ", ""), r.text])
print(json.dumps(out))
"#;
    let stdout = run(
        &python("PALAZZO_SEAL_PYTHON"),
        &["-c", script, prefix.to_str().unwrap()],
    );
    parse_pairs(stdout.trim())
}

/// A minimal reader for the JSON array of `[format, text]` pairs printed
/// above (the tests do not pull a JSON crate).
fn parse_pairs(json: &str) -> Vec<(String, String)> {
    let mut strings = Vec::new();
    let mut chars = json.chars();
    while let Some(ch) = chars.next() {
        if ch == '"' {
            let mut s = String::new();
            loop {
                match chars.next().unwrap() {
                    '"' => break,
                    '\\' => match chars.next().unwrap() {
                        'u' => {
                            let hex: String = chars.by_ref().take(4).collect();
                            s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                        }
                        'n' => s.push('\n'),
                        c => s.push(c),
                    },
                    c => s.push(c),
                }
            }
            strings.push(s);
        }
    }
    strings
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect()
}

#[test]
fn three_rate_with_postal_account() {
    let a = sample(true, true);
    let pdf = avviso::render(&a, &info()).unwrap();
    let dir = tmpdir("rate");
    let file = dir.join("avviso.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let path = file.to_str().unwrap();

    run("qpdf", &["--check", path]);
    let fonts = run("pdffonts", &[path]);
    let font_rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!font_rows.is_empty(), "{fonts}");
    for row in &font_rows {
        // name type encoding emb sub uni object ID
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{row}");
    }

    let text = run("pdftotext", &["-layout", path, "-"]);
    for p in std::iter::once(&a.unica).chain(&a.rate) {
        let printed = avviso::codice_stampato(&p.codice_avviso);
        assert_eq!(printed.len(), 22);
        assert!(text.contains(&printed), "no {printed}");
        // The printed code is a valid codice avviso (mod 93).
        CodiceAvviso::parse(&printed).unwrap();
    }
    assert!(text.contains("1.020,99 Euro entro il 16/04/2026"), "{text}");
    assert!(text.contains("Puoi pagare per intero oppure in 3 rate."));
    assert!(text.contains("Euro 340,33"));
    assert!(text.contains("RATA 2 di 3 entro il 16/07/2026"));
    assert!(text.contains("RATA 3 di 3 entro il 16/10/2026"));
    assert!(text.contains("BOLLETTINO POSTALE PA"));
    assert!(text.contains(CF_ENTE) && text.contains(CF_DEBITORE) && text.contains("A1B2C"));
    // The subject is repeated on every page (module 1).
    let pages = text.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
    assert!(pages >= 3, "{pages} pages");
    assert!(text.matches("TARI 2026 - Tassa sui rifiuti").count() >= pages);
    assert!(text.contains(&format!("Pagina {pages} di {pages}")));

    let symbols = decode_all(&dir, path);
    let qrs: Vec<&String> = symbols
        .iter()
        .filter(|(f, _)| f == "QRCode")
        .map(|(_, t)| t)
        .collect();
    let dms: Vec<&String> = symbols
        .iter()
        .filter(|(f, _)| f == "DataMatrix")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(qrs.len(), 4, "{symbols:?}");
    assert_eq!(dms.len(), 4, "{symbols:?}");
    for p in std::iter::once(&a.unica).chain(&a.rate) {
        // Each QR is exactly the payload, and its parts are right.
        let expected = format!("PAGOPA|002|{}|{CF_ENTE}|{}", p.codice_avviso, p.importo);
        assert_eq!(
            qrs.iter().filter(|q| ***q == expected).count(),
            1,
            "{expected}"
        );
        let parts: Vec<&str> = expected.split('|').collect();
        CodiceAvviso::parse(parts[2]).unwrap();
        // Each Data Matrix: 256 characters, the fields at their offsets.
        let dm = dms
            .iter()
            .find(|d| d.get(15..33) == Some(p.codice_avviso.as_str()))
            .unwrap_or_else(|| panic!("no Data Matrix for {}", p.codice_avviso));
        assert_eq!(dm.len(), 256);
        assert_eq!(Some(dm.as_str()), p.data_matrix.as_deref());
        assert!(dm.starts_with("codfase=NBPA;18"));
        assert_eq!(dm[49..59].parse::<u64>().unwrap(), p.importo);
        assert_eq!(&dm[66..77], CF_ENTE);
        assert!(dm.ends_with('A'));
    }
}

#[test]
fn single_payment_without_postal_account() {
    let a = sample(false, false);
    let pdf = avviso::render(&a, &info()).unwrap();
    let dir = tmpdir("unica");
    let file = dir.join("avviso.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let path = file.to_str().unwrap();
    run("qpdf", &["--check", path]);
    let text = run("pdftotext", &["-layout", path, "-"]);
    assert!(!text.contains("Puoi pagare per intero"), "{text}");
    assert!(!text.contains("RATA 1"));
    assert!(!text.contains("BOLLETTINO"));
    assert!(text.contains("RATA UNICA entro il 16/04/2026"));
    assert!(text.contains("Pagina 1 di 1"));
    let symbols = decode_all(&dir, path);
    assert_eq!(
        symbols,
        vec![(
            "QRCode".to_owned(),
            format!("PAGOPA|002|301000000000000144|{CF_ENTE}|102099")
        )]
    );
}

#[test]
fn refuses_inconsistent_data() {
    let ok = sample(true, true);
    let mut a = ok.clone();
    a.unica.qr = a.unica.qr.replace("|102099", "|102098");
    assert!(matches!(
        avviso::render(&a, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut a = ok.clone();
    a.rate.truncate(1);
    assert!(matches!(
        avviso::render(&a, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut a = ok.clone();
    a.rate[1].data_matrix = None;
    assert!(matches!(
        avviso::render(&a, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut a = ok.clone();
    a.ente.conto_postale = None;
    assert!(matches!(
        avviso::render(&a, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut a = ok.clone();
    a.oggetto = "x".repeat(91);
    assert!(matches!(
        avviso::render(&a, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut a = ok;
    a.unica.codice_avviso = "30100000000000014".into();
    assert!(matches!(
        avviso::render(&a, &info()),
        Err(PdfError::Invalid(_))
    ));
}
