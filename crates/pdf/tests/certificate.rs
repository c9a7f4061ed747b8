//! The fast certificate renderer checked with independent tools (issue 5,
//! domain doc §8.2 and §8.4): poppler (`pdfinfo`, `pdffonts`, `pdftotext`,
//! `pdftoppm`), `qpdf --check`, `zbarimg` (Debian) and, from Python,
//! pypdf and pikepdf (`PALAZZO_PDF_PYTHON`) and zxing-cpp
//! (`PALAZZO_SEAL_PYTHON`). The tests fail, never skip, when a tool is
//! missing: `scripts/test` installs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use palazzo_pdf::{
    CertificateData, CertificateTemplate, Field, PdfError, QrMatrix, SignatureSpec, TemplateSpec,
    read,
};

const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

pub fn spec() -> TemplateSpec {
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

/// `PZ1:` and `n` pseudo-random Base45 characters (deterministic).
pub fn payload(seed: u64, n: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut s = String::from("PZ1:");
    for _ in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push(BASE45[((x >> 33) % 45) as usize] as char);
    }
    s
}

/// The module matrix of `text` at ECC Q (fast_qr), row-major.
pub fn qr(text: &str) -> (usize, Vec<bool>) {
    let code = fast_qr::QRBuilder::new(text)
        .ecl(fast_qr::ECL::Q)
        .build()
        .unwrap();
    let n = code.size;
    (n, (0..n * n).map(|i| code.data[i].value()).collect())
}

fn fields() -> Vec<Field> {
    vec![
        Field::new("Cognome", "ROSSI"),
        Field::new("Nome", "Nicolò"),
        Field::new("Luogo di nascita", "Sant'Agata di Militello (ME)"),
        Field::new("Data di nascita", "02/03/1980"),
        Field::new("Codice fiscale", "RSSNCL80C02I199X"),
        Field::new(
            "Indirizzo",
            "Via Vittorio Emanuele II 12, Sant'Agata di Militello",
        ),
        Field::new("Cittadinanza", "italiana"),
    ]
}

const PARAGRAPH: &str = "Risulta iscritto nell'anagrafe della popolazione residente di questo \
    Comune all'indirizzo sopra indicato. La dichiarazione di residenza è stata resa il \
    15/01/2010 ed è stata accertata dalla polizia locale; il presente certificato riporta lo \
    stato risultante alla data del rilascio, ai sensi del DPR 223/1989, e perde validità dopo \
    sei mesi dalla data di rilascio (art. 41 DPR 445/2000).";

fn record() -> Vec<u8> {
    // Deterministic CBOR-like bytes containing every byte value and a fake
    // `endstream`, to prove the file is found by its length.
    let mut r = vec![0xa2, 0x01, 0x59, 0x01, 0x0b];
    r.extend(0u8..=255);
    r.extend_from_slice(b"\nendstream\nendobj\n%%EOF");
    r
}

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palazzo-cert-{name}-{}", std::process::id()));
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

/// Number of horizontal runs of dark modules (the rectangles expected).
fn runs(n: usize, dark: &[bool]) -> usize {
    (0..n)
        .map(|r| {
            (0..n)
                .filter(|&c| dark[r * n + c] && (c == 0 || !dark[r * n + c - 1]))
                .count()
        })
        .sum()
}

struct Sample {
    pdf: Vec<u8>,
    text: String,
    size: usize,
    dark: Vec<bool>,
    url: String,
}

fn render_sample() -> Sample {
    let template = CertificateTemplate::new(&spec()).unwrap();
    let text = payload(7, 600);
    let (size, dark) = qr(&text);
    let fields = fields();
    let paragraphs = vec![PARAGRAPH.to_owned()];
    let url = "https://www.comune.santagatadimilitello.me.it/verifica/q83vEjRWeJCrze8SNFZ4kA";
    let rec = record();
    let pdf = template
        .render(&CertificateData {
            issued: "2026-11-27T10:15:30Z".parse().unwrap(),
            document_id: *b"0123456789abcdef",
            fields: &fields,
            paragraphs: &paragraphs,
            qr: QrMatrix::new(size, &dark).unwrap(),
            url,
            record: &rec,
            seal: &text,
        })
        .unwrap();
    Sample {
        pdf,
        text,
        size,
        dark,
        url: url.to_owned(),
    }
}

fn write(dir: &Path, pdf: &[u8]) -> String {
    let path = dir.join("certificato.pdf");
    std::fs::write(&path, pdf).unwrap();
    if let Ok(dump) = std::env::var("PALAZZO_PDF_DUMP") {
        std::fs::write(format!("{dump}/certificato.pdf"), pdf).unwrap();
    }
    path.to_str().unwrap().to_owned()
}

#[test]
fn structure_fonts_and_text() {
    let s = render_sample();
    let dir = tmpdir("structure");
    let path = write(&dir, &s.pdf);

    // qpdf --check: clean, no warnings (exit 0 means no errors; 3 warnings).
    let check = run("qpdf", &["--check", &path]);
    assert!(
        check.contains("No syntax or stream encoding errors found"),
        "{check}"
    );
    assert!(!check.to_lowercase().contains("warning"), "{check}");

    let info = run("pdfinfo", &[&path]);
    assert!(info.contains("Encrypted:       no"), "{info}");
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("PDF version:     1.7"), "{info}");
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    assert!(
        info.contains("Title:           Certificato di residenza"),
        "{info}"
    );

    // Every font embedded (R10).
    let fonts = run("pdffonts", &[&path]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type(2 words: CID TrueType) encoding emb sub uni object ID
        assert!(row.contains("CID TrueType"), "{row}");
        let n = cols.len();
        assert_eq!(cols[n - 5], "yes", "not embedded: {row}");
        assert_eq!(cols[n - 4], "yes", "not a subset: {row}");
        assert_eq!(cols[n - 3], "yes", "no ToUnicode: {row}");
    }

    // The printed text, in reading order (R8).
    let text = run("pdftotext", &["-layout", &path, "-"]);
    for f in fields() {
        let line = format!("{}: {}", f.label, f.value);
        assert!(text.contains(&line), "`{line}` not in:\n{text}");
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        PARAGRAPH,
        "Comune di Sant'Agata di Militello",
        "Certificato di residenza",
        "L'Ufficiale d'anagrafe, visti gli atti d'ufficio, certifica che",
        "Il presente certificato non può essere prodotto",
        "i dati letti devono coincidere con quelli stampati.",
        s.url.as_str(),
    ] {
        assert!(flat.contains(needle), "`{needle}` not in:\n{text}");
    }
    // The long paragraph did wrap: it spans several lines.
    assert!(
        !text
            .lines()
            .any(|l| l.contains("Risulta iscritto") && l.contains("art. 41"))
    );
    // Reading order: the fields come before the paragraph and the closing text.
    let at = |n: &str| flat.find(n).unwrap();
    assert!(at("Cognome: ROSSI") < at("Cittadinanza: italiana"));
    assert!(at("Cittadinanza: italiana") < at("Risulta iscritto"));
    assert!(at("Risulta iscritto") < at("Il presente certificato"));

    // The record comes back byte for byte (our reader).
    // So does the seal text, for verifiers given the file.
    let files = read::embedded_files(&s.pdf).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].data, record());
    assert_eq!(files[0].media_type.as_deref(), Some("application/cbor"));
    assert_eq!(files[1].data, s.text.as_bytes());
    assert_eq!(files[1].media_type.as_deref(), Some("text/plain"));
    assert_eq!(read::seal_text(&s.pdf).as_deref(), Some(s.text.as_str()));
}

const PYPDF_CHECK: &str = r#"
import sys, re, pypdf, pikepdf
path, record_path, size, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
r = pypdf.PdfReader(path)
root = r.trailer["/Root"]
meta = r.xmp_metadata
assert meta is not None, "no XMP"
xml = root["/Metadata"].get_object().get_data().decode("utf-8")
assert "<pdfaid:part>3</pdfaid:part>" in xml, xml
assert "<pdfaid:conformance>B</pdfaid:conformance>" in xml, xml
assert meta.xmp_create_date is not None
assert meta.dc_title["x-default"] == r.metadata.title, (meta.dc_title, r.metadata.title)
oi = root["/OutputIntents"][0].get_object()
assert oi["/S"] == "/GTS_PDFA1", oi
icc = oi["/DestOutputProfile"].get_object()
assert icc["/N"] == 3
assert icc.get_data()[36:40] == b"acsp", "not an ICC profile"
af = root["/AF"][0].get_object()
assert af["/AFRelationship"] == "/Source", af
assert af["/UF"] == "certificato.cbor"
ef = af["/EF"]["/F"].get_object()
assert ef["/Subtype"] == "/application/cbor", ef["/Subtype"]
assert str(ef["/Params"]["/ModDate"]) == "D:20261127101530Z", ef["/Params"]
data = ef.get_data()
assert data == open(record_path, "rb").read(), "record differs"
names = root["/Names"]["/EmbeddedFiles"]["/Names"]
assert names[0] == "certificato.cbor" and names[2] == "contrassegno.txt", names
assert sorted(r.attachments) == ["certificato.cbor", "contrassegno.txt"]
seal = root["/AF"][1].get_object()
assert seal["/AFRelationship"] == "/Supplement", seal
assert seal["/EF"]["/F"].get_object().get_data().startswith(b"PZ1:")
assert r.trailer["/ID"][0].original_bytes == b"0123456789abcdef"
assert not r.is_encrypted
assert len(r.pages) == 1
# pikepdf (qpdf) reads the PDF/A identification too.
with pikepdf.open(path) as p:
    assert p.open_metadata().pdfa_status == "3B", p.open_metadata().pdfa_status
    for name, font in p.pages[0].Resources.Font.items():
        d = font.DescendantFonts[0]
        assert "/FontFile2" in d.FontDescriptor, name
        assert d.CIDToGIDMap == pikepdf.Name.Identity
# R2: the QR is one path in module units (>= 0.40 mm), one rectangle per
# horizontal run of dark modules, one fill.
content = b"".join(c.get_object().get_data() for c in r.pages[0]["/Contents"])
m = re.search(rb"q 0 0 0 rg ([0-9.]+) 0 0 ([0-9.]+) ([0-9.]+) ([0-9.]+) cm\n(.*?)Q\n", content, re.S)
assert m, "no QR block"
module = float(m.group(1))
assert module == float(m.group(2))
assert module * 25.4 / 72 >= 0.40, module
body = m.group(5)
rects = re.findall(rb"(\d+) (\d+) (\d+) 1 re\n", body)
assert len(rects) == runs, (len(rects), runs)
assert body.count(b" re\n") == runs
assert body.endswith(b"f "), body[-20:]
assert body.count(b"f") == 1
xs = [int(x) for x, _, w in rects] + [int(x) + int(w) for x, _, w in rects]
assert min(xs) == 0 and max(xs) == size
# Quiet zone: 4 modules free of any other drawing around the symbol.
x0, y0 = float(m.group(3)), float(m.group(4))
print("module_mm=%.3f x0=%.2f y0=%.2f side_mm=%.1f" % (module * 25.4 / 72, x0, y0, size * module * 25.4 / 72))
"#;

#[test]
fn pdfa_metadata_and_attachment_with_pypdf_and_pikepdf() {
    let s = render_sample();
    let dir = tmpdir("pypdf");
    let path = write(&dir, &s.pdf);
    let rec = dir.join("record.cbor");
    std::fs::write(&rec, record()).unwrap();
    let script = dir.join("check.py");
    std::fs::write(&script, PYPDF_CHECK).unwrap();
    let out = run(
        &python("PALAZZO_PDF_PYTHON"),
        &[
            script.to_str().unwrap(),
            &path,
            rec.to_str().unwrap(),
            &s.size.to_string(),
            &runs(s.size, &s.dark).to_string(),
        ],
    );
    assert!(out.contains("module_mm="), "{out}");
}

#[test]
fn qr_decodes_with_zbarimg_at_150_dpi() {
    let s = render_sample();
    assert!(
        s.text.len() >= 600 && s.size >= 89,
        "a dense QR: {}",
        s.size
    );
    let dir = tmpdir("zbar");
    let path = write(&dir, &s.pdf);
    let png = dir.join("page150");
    run(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-gray",
            "-png",
            "-singlefile",
            &path,
            png.to_str().unwrap(),
        ],
    );
    let decoded = run(
        "zbarimg",
        &["--raw", "-q", "-Sbinary", &format!("{}.png", png.display())],
    );
    assert_eq!(decoded.trim_end_matches('\n'), s.text);
}

#[test]
fn qr_decodes_with_zxing_cpp_at_100_dpi() {
    let s = render_sample();
    let dir = tmpdir("zxing");
    let path = write(&dir, &s.pdf);
    let png = dir.join("page100");
    run(
        "pdftoppm",
        &[
            "-r",
            "100",
            "-gray",
            "-png",
            "-singlefile",
            &path,
            png.to_str().unwrap(),
        ],
    );
    // zxing-cpp decodes the symbol and reports its corners; from them the
    // module size (R2: >= 0.40 mm) and the quiet zone (R2: 4 modules of
    // white around the symbol) are measured on the raster.
    let script = r#"
import sys, zxingcpp
from PIL import Image
img = Image.open(sys.argv[1]).convert("L")
size, dpi = int(sys.argv[2]), 100
r = zxingcpp.read_barcodes(img)
assert len(r) == 1, r
assert r[0].format == zxingcpp.BarcodeFormat.QRCode
p = r[0].position
xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
# zxing's corners are the symbol's outer corners.
px = (max(xs) - min(xs)) / size
mm = px / dpi * 25.4
assert mm >= 0.40, mm
left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
q = 4 * px
dark = 0
# The band from 4 modules out to the symbol's edge, 1 px of anti-aliasing
# allowed on both sides.
for y in range(int(top - q + 1), int(bottom + q)):
    for x in range(int(left - q + 1), int(right + q)):
        inside = left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1
        if not inside and img.getpixel((x, y)) < 128:
            dark += 1
assert dark == 0, ("dark pixels in the quiet zone", dark)
sys.stderr.write("module %.3f mm\n" % mm)
sys.stdout.write(r[0].text)
"#;
    let decoded = run(
        &python("PALAZZO_SEAL_PYTHON"),
        &[
            "-c",
            script,
            &format!("{}.png", png.display()),
            &s.size.to_string(),
        ],
    );
    assert_eq!(decoded, s.text);
}

#[test]
fn deterministic_and_varying() {
    let template = CertificateTemplate::new(&spec()).unwrap();
    let (size, dark) = qr(&payload(1, 300));
    let fields = fields();
    let data = CertificateData {
        issued: "2026-11-27T10:15:30Z".parse().unwrap(),
        document_id: [7; 16],
        fields: &fields,
        paragraphs: &[],
        qr: QrMatrix::new(size, &dark).unwrap(),
        url: "https://example.org/verifica/x",
        record: b"\xa0",
        seal: "PZ1:X",
    };
    let a = template.render(&data).unwrap();
    assert_eq!(
        a,
        template.render(&data).unwrap(),
        "R14: same input, same bytes"
    );
    let other = vec![Field::new("Cognome", "RUSSO")];
    let b = template
        .render(&CertificateData {
            fields: &other,
            ..data.clone()
        })
        .unwrap();
    assert_ne!(a, b);
}

#[test]
fn refusals() {
    let template = CertificateTemplate::new(&spec()).unwrap();
    let (size, dark) = qr(&payload(2, 100));
    let ok = QrMatrix::new(size, &dark).unwrap();
    assert!(matches!(
        QrMatrix::new(size, &dark[1..]),
        Err(PdfError::Qr(_))
    ));
    let base = CertificateData {
        issued: "2026-11-27T10:15:30Z".parse().unwrap(),
        document_id: [0; 16],
        fields: &[],
        paragraphs: &[],
        qr: ok,
        url: "https://example.org/verifica/x",
        record: b"\xa0",
        seal: "PZ1:X",
    };
    // A character outside the subset is refused, not printed as `?` (R8).
    let han = vec![Field::new("Nome", "李")];
    assert_eq!(
        template.render(&CertificateData {
            fields: &han,
            ..base.clone()
        }),
        Err(PdfError::Unsupported('李'))
    );
    // Too much data for the pages allowed.
    let many: Vec<Field> = (0..2000)
        .map(|i| Field::new(format!("Campo {i}"), "x"))
        .collect();
    assert_eq!(
        template.render(&CertificateData {
            fields: &many,
            ..base.clone()
        }),
        Err(PdfError::TooLong)
    );
    // A QR version 40 would need modules below 0.40 mm in 50 mm (R2).
    let big = vec![false; 177 * 177];
    assert!(matches!(
        template.render(&CertificateData {
            qr: QrMatrix::new(177, &big).unwrap(),
            ..base
        }),
        Err(PdfError::Qr(_))
    ));
}

/// A stato di famiglia with many members flows onto more pages: every field
/// is printed once, the QR and the closing texts are on the last page.
#[test]
fn long_certificate_flows_onto_more_pages() {
    let template = CertificateTemplate::new(&spec()).unwrap();
    let text = payload(11, 600);
    let (size, dark) = qr(&text);
    let mut fields = Vec::new();
    for i in 1..=14 {
        fields.push(Field::new(
            format!("Componente {i}"),
            format!("ROSSI Nicolò, nato il {i:02}/03/1980"),
        ));
        fields.push(Field::new(format!("Relazione {i}"), "figlio"));
        fields.push(Field::new(
            format!("Codice fiscale {i}"),
            format!("RSSNCL80C{i:02}I199X"),
        ));
    }
    let paragraphs = vec![PARAGRAPH.to_owned(), PARAGRAPH.to_owned()];
    let pdf = template
        .render(&CertificateData {
            issued: "2026-11-27T10:15:30Z".parse().unwrap(),
            document_id: [3; 16],
            fields: &fields,
            paragraphs: &paragraphs,
            qr: QrMatrix::new(size, &dark).unwrap(),
            url: "https://example.org/verifica/abc",
            record: &record(),
            seal: "PZ1:ABC",
        })
        .unwrap();
    let dir = tmpdir("pages");
    let path = dir.join("lungo.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let path = path.to_str().unwrap();
    let check = run("qpdf", &["--check", path]);
    assert!(
        check.contains("No syntax or stream encoding errors found"),
        "{check}"
    );
    assert!(!check.to_lowercase().contains("warning"), "{check}");
    let info = run("pdfinfo", &[path]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages >= 2, "{info}");
    let text = run("pdftotext", &["-layout", path, "-"]);
    for f in &fields {
        let line = format!("{}: {}", f.label, f.value);
        assert_eq!(
            text.matches(&line).count(),
            1,
            "`{line}` not once in:\n{text}"
        );
    }
    assert!(text.contains("Certificato di residenza (segue)"));
    assert!(
        text.contains(&format!("Pagina {pages} di {pages}")),
        "{text}"
    );
    // Per page: the QR only on the last one, which decodes.
    for p in 1..=pages {
        let png = dir.join(format!("p{p}"));
        run(
            "pdftoppm",
            &[
                "-r",
                "150",
                "-gray",
                "-png",
                "-singlefile",
                "-f",
                &p.to_string(),
                "-l",
                &p.to_string(),
                path,
                png.to_str().unwrap(),
            ],
        );
        let page_text = run(
            "pdftotext",
            &[
                "-layout",
                "-f",
                &p.to_string(),
                "-l",
                &p.to_string(),
                path,
                "-",
            ],
        );
        assert!(page_text.contains("Comune di Sant'Agata di Militello"));
        let out = Command::new("zbarimg")
            .args(["--raw", "-q", "-Sbinary", &format!("{}.png", png.display())])
            .output()
            .unwrap();
        if p == pages {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim_end_matches('\n'),
                payload(11, 600)
            );
            assert!(page_text.contains("Il presente certificato non può essere prodotto"));
        } else {
            assert!(out.stdout.is_empty(), "a QR on page {p}");
            assert!(!page_text.contains("Il presente certificato non può essere prodotto"));
        }
    }
    assert_eq!(read::embedded_files(&pdf).unwrap()[0].data, record());
}

const SIGNED_CHECK: &str = r#"
import sys, pypdf, pikepdf
path = sys.argv[1]
r = pypdf.PdfReader(path)
fields = r.get_fields()
assert list(fields) == ["Sigillo"], fields
f = fields["Sigillo"]
assert f["/FT"] == "/Sig", f
v = f["/V"]
assert v["/SubFilter"] == "/ETSI.CAdES.detached", v
assert v["/M"] == "D:20261127101530Z", v["/M"]
widget = r.pages[0]["/Annots"][0].get_object()
assert [float(x) for x in widget["/Rect"]] == [0, 0, 0, 0]
assert int(widget["/F"]) & 4, "the Print flag (PDF/A)"
assert r.trailer["/Root"]["/AcroForm"]["/SigFlags"] == 3
assert sorted(r.attachments) == ["certificato.cbor", "contrassegno.txt"]
with pikepdf.open(path) as p:
    assert p.open_metadata().pdfa_status == "3B", p.open_metadata().pdfa_status
print("ok")
"#;

/// The PAdES placeholder (`render_for_signature`): an incremental update
/// after the unsigned certificate, byte ranges around `/Contents` only,
/// still clean for qpdf and still PDF/A-3b; the CMS is found again.
#[test]
fn signature_update_keeps_the_certificate_and_its_structure() {
    let s = render_sample();
    let template = CertificateTemplate::new(&spec()).unwrap();
    let fields = fields();
    let paragraphs = vec![PARAGRAPH.to_owned()];
    let rec = record();
    let prepared = template
        .render_for_signature(
            &CertificateData {
                issued: "2026-11-27T10:15:30Z".parse().unwrap(),
                document_id: *b"0123456789abcdef",
                fields: &fields,
                paragraphs: &paragraphs,
                qr: QrMatrix::new(s.size, &s.dark).unwrap(),
                url: &s.url,
                record: &rec,
                seal: &s.text,
            },
            &SignatureSpec {
                field: "Sigillo",
                reason: "Sigillo elettronico del Comune",
                location: "Comune di Sant'Agata di Militello",
                time: "2026-11-27T10:15:30Z".parse().unwrap(),
                capacity: 4096,
            },
        )
        .unwrap();
    // The first revision is exactly the unsigned certificate.
    assert!(prepared.signed_bytes()[0].starts_with(&s.pdf));
    let cms: Vec<u8> = [&[0x30u8, 0x82, 0x01, 0x00][..], &[0x5a; 256]].concat();
    let signed_before = prepared.signed_bytes().concat();
    let pdf = prepared.finish(&cms).unwrap();
    let parts = palazzo_pdf::signature_parts(&pdf).unwrap().unwrap();
    assert_eq!(parts.cms, cms);
    assert_eq!(parts.signed, signed_before);
    assert!(parts.covers_whole_file);

    let dir = tmpdir("signed");
    let path = write(&dir, &pdf);
    let check = run("qpdf", &["--check", &path]);
    assert!(
        check.contains("No syntax or stream encoding errors found"),
        "{check}"
    );
    assert!(!check.to_lowercase().contains("warning"), "{check}");
    let script = dir.join("signed.py");
    std::fs::write(&script, SIGNED_CHECK).unwrap();
    let out = run(
        &python("PALAZZO_PDF_PYTHON"),
        &[script.to_str().unwrap(), &path],
    );
    assert_eq!(out.trim(), "ok");
    // Attachments are still read by our own reader.
    assert_eq!(
        palazzo_pdf::read::seal_text(&pdf).as_deref(),
        Some(s.text.as_str())
    );
}
