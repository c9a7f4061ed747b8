//! Documents: streamed content-addressed storage, type allow-list, `.p7m`
//! extraction (with real envelopes made by the `openssl` CLI), Allegato 5
//! metadata and `.hash` sidecars.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use bytes::Bytes;
use palazzo_domain::protocollo::Impronta;
use palazzo_services::documents::{
    DocumentMetadata, DocumentStore, Kind, ModalitaDiFormazione, detect, extract_p7m_content,
    write_hash_sidecar,
};
use palazzo_store::protocollo::DocumentRef;
use palazzo_testkit::TempDir;

// ------------------------------------------------------------ samples

fn pdf(pdfa: bool) -> Vec<u8> {
    let xmp = if pdfa {
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description \
         xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>2</pdfaid:part>\
         <pdfaid:conformance>B</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta>"
    } else {
        ""
    };
    format!(
        "%PDF-1.7\n%\u{e2}\u{e3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
         2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
         3 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n{xmp}\nendstream\nendobj\n\
         trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A ZIP with stored (uncompressed) entries, in the given order.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let n = name.len() as u16;
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by, needed, flags, method, time, date
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&n.to_le_bytes());
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, internal attrs, external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn odt() -> Vec<u8> {
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content/>"),
        ("META-INF/manifest.xml", b"<manifest:manifest/>"),
    ])
}

fn docx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", b"<w:document/>"),
    ])
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let ihdr = [0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0];
    v.extend_from_slice(&13u32.to_be_bytes());
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&ihdr);
    v.extend_from_slice(&crc32(&[b"IHDR".as_slice(), &ihdr].concat()).to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(b"IEND");
    v.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    v
}

fn jpeg() -> Vec<u8> {
    let mut v = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xff, 0xd9]);
    v
}

fn tiff() -> Vec<u8> {
    // Little-endian header, first IFD at 8 with no entries.
    b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec()
}

fn eml() -> Vec<u8> {
    b"Return-Path: <anna@example.org>\r\nFrom: Anna Rossi <anna@example.org>\r\n\
To: protocollo@comune.example.it\r\nSubject: Istanza di accesso agli atti\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nBuongiorno,\r\nchiedo copia.\r\n"
        .to_vec()
}

fn xml() -> Vec<u8> {
    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Istanza xmlns=\"urn:x\"><Oggetto>Accesso</Oggetto></Istanza>\n"
        .to_vec()
}

fn store(dir: &TempDir) -> DocumentStore {
    DocumentStore::new(dir.path().join("documents"))
}

fn staged_files(dir: &TempDir) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(dir.path().join("documents").join("tmp")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn chunks(bytes: &[u8], size: usize) -> impl futures_core::Stream<Item = Result<Bytes, String>> {
    let parts: Vec<Result<Bytes, String>> = bytes
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(parts)
}

// ------------------------------------------------------------ storage

#[tokio::test]
async fn streamed_upload_hash_matches_and_is_recomputed_from_the_stored_file() {
    let dir = TempDir::new("docs");
    let docs = store(&dir);
    // ~300 KiB in 7-byte chunks: hashing across chunk boundaries.
    let mut body = pdf(true);
    for i in 0..20_000u32 {
        body.extend_from_slice(format!("% riga {i}\n").as_bytes());
    }
    let stored = docs
        .put_stream("delibera.pdf", chunks(&body, 7_777))
        .await
        .unwrap();
    assert_eq!(stored.sha256, Impronta::of(&body));
    assert_eq!(stored.size, body.len() as u64);
    assert_eq!(stored.media_type, "application/pdf");
    assert!(stored.created);

    // PR-5: both encodings recomputed from the stored file.
    let path = docs.path_of(&stored.sha256);
    let hex = stored.sha256.hex();
    assert!(path.ends_with(format!("sha256/{}/{}/{hex}", &hex[..2], &hex[2..4])));
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(on_disk, body);
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(&on_disk);
    let recomputed_hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(recomputed_hex, hex);
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(digest),
        stored.sha256.base64()
    );
    assert_eq!(docs.get(&stored.sha256).await.unwrap(), body);
    assert!(docs.exists(&stored.sha256).await.unwrap());
    assert!(!docs.exists(&Impronta::of(b"other")).await.unwrap());
    assert_eq!(
        docs.get(&Impronta::of(b"other")).await.unwrap_err().code(),
        "not_found"
    );
    // The protocol register's reference.
    let r: DocumentRef = (&stored).into();
    assert_eq!(
        (r.name.as_str(), r.size, r.sha256),
        ("delibera.pdf", stored.size, stored.sha256)
    );
    // Objects are read-only; nothing is left in staging.
    assert!(std::fs::metadata(&path).unwrap().permissions().readonly());
    assert!(staged_files(&dir).is_empty());
}

#[tokio::test]
async fn same_content_twice_is_one_object_never_rewritten() {
    let dir = TempDir::new("docs");
    let docs = store(&dir);
    let body = odt();
    let first = docs.put_bytes("a.odt", &body).await.unwrap();
    let path = docs.path_of(&first.sha256);
    let before = std::fs::metadata(&path).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = docs
        .put_reader("copia di a.odt", std::io::Cursor::new(body.clone()))
        .await
        .unwrap();
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(second.name, "copia di a.odt");
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(before.ino(), after.ino());
    assert_eq!(before.mtime_nsec(), after.mtime_nsec());
    assert_eq!(before.mtime(), after.mtime());
    // One object in the store (the same inode), no staging left over.
    let objects = walk(&dir.path().join("documents").join("sha256"));
    assert_eq!(objects.len(), 1);
    assert!(staged_files(&dir).is_empty());
    // A new version is a new object.
    let _ = docs.put_bytes("a.odt", &odt_v2()).await.unwrap();
    assert_eq!(walk(&dir.path().join("documents").join("sha256")).len(), 2);
}

fn odt_v2() -> Vec<u8> {
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        (
            "content.xml",
            b"<office:document-content>v2</office:document-content>",
        ),
    ])
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn over_the_size_limit_is_refused_and_leaves_nothing() {
    let dir = TempDir::new("docs");
    let docs = store(&dir).with_max_size(1000);
    let body = [b"%PDF-1.7\n".as_slice(), &[b'x'; 2000]].concat();
    let e = docs
        .put_stream("big.pdf", chunks(&body, 300))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "document_too_large");
    assert!(e.message_it().contains("dimensione massima"));
    assert!(staged_files(&dir).is_empty(), "{:?}", staged_files(&dir));
    assert!(!docs.exists(&Impronta::of(&body)).await.unwrap());
    // Exactly at the limit is accepted.
    let exact = &body[..1000];
    assert_eq!(docs.put_bytes("ok.pdf", exact).await.unwrap().size, 1000);
    // The default limit is 50 MiB.
    assert_eq!(store(&dir).max_size(), 50 * 1024 * 1024);
}

#[tokio::test]
async fn a_failing_body_and_a_refused_type_leave_nothing() {
    let dir = TempDir::new("docs");
    let docs = store(&dir);
    let parts: Vec<Result<Bytes, String>> = vec![
        Ok(Bytes::from_static(b"%PDF-1.7\n")),
        Err("connection reset".into()),
    ];
    let e = docs
        .put_stream("x.pdf", futures_util::stream::iter(parts))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "document_upload_interrupted");
    let e = docs
        .put_bytes("x.exe", b"MZ\x90\0\x03\0\0\0")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "document_type_not_allowed");
    assert!(staged_files(&dir).is_empty());
    assert!(!dir.path().join("documents").join("sha256").exists());
}

// ------------------------------------------------------------ types

#[tokio::test]
async fn every_allowed_type_is_accepted_from_content() {
    let dir = TempDir::new("docs");
    let docs = store(&dir);
    let csv = "codice;descrizione;importo\nA1;Cancelleria;12,50\nA2;Toner;80,00\n";
    let txt = "Verbale: la seduta si apre alle ore 10.\nPresenti tutti i consiglieri.\n";
    let cases: Vec<(&str, Vec<u8>, Kind, &str, bool)> = vec![
        ("a.pdf", pdf(false), Kind::Pdf, "application/pdf", false),
        ("a.pdf", pdf(true), Kind::Pdf, "application/pdf", true),
        (
            "a.odt",
            odt(),
            Kind::Odf,
            "application/vnd.oasis.opendocument.text",
            true,
        ),
        (
            "a.docx",
            docx(),
            Kind::Ooxml,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            false,
        ),
        ("a.png", png(), Kind::Png, "image/png", true),
        ("a.jpg", jpeg(), Kind::Jpeg, "image/jpeg", true),
        ("a.tif", tiff(), Kind::Tiff, "image/tiff", true),
        ("a.eml", eml(), Kind::Eml, "message/rfc822", true),
        ("a.xml", xml(), Kind::Xml, "application/xml", true),
        (
            "a.csv",
            csv.as_bytes().to_vec(),
            Kind::Csv,
            "text/csv",
            true,
        ),
        (
            "a.txt",
            txt.as_bytes().to_vec(),
            Kind::Text,
            "text/plain",
            false,
        ),
    ];
    for (name, bytes, kind, media_type, conservabile) in cases {
        // The name lies on purpose: only the content counts.
        let lying_name = format!("{name}.exe");
        let stored = docs
            .put_bytes(&lying_name, &bytes)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stored.detected.kind, kind, "{name}");
        assert_eq!(stored.media_type, media_type, "{name}");
        assert_eq!(stored.detected.conservabile, conservabile, "{name}");
    }
}

#[test]
fn pdf_and_pdfa_are_told_apart() {
    let plain = detect(&pdf(false)).unwrap();
    assert_eq!(plain.formato, "PDF");
    assert!(
        !plain.conservabile,
        "a PDF without PDF/A identification is non conservabile"
    );
    let a = detect(&pdf(true)).unwrap();
    assert_eq!(a.formato, "PDF/A-2b");
    assert!(a.conservabile);
}

#[tokio::test]
async fn refused_types_have_a_coded_italian_error() {
    let dir = TempDir::new("docs");
    let docs = store(&dir);
    let mut ole2 = vec![0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
    ole2.extend_from_slice(&[0; 504]);
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend_from_slice(&[0; 56]);
    // Deterministic "random" bytes (xorshift), with a leading non-text byte.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let plain_zip = zip(&[("foto.jpg", &jpeg()), ("leggimi.txt", b"ciao")]);
    let macro_docx = zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
        ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0"),
    ]);
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    for (what, bytes) in [
        ("doc", ole2),
        ("exe", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec()),
        ("elf", elf),
        ("random", random),
        ("zip", plain_zip),
        ("docm", macro_docx),
        ("html", html),
    ] {
        let e = docs
            .put_bytes(&format!("x.{what}"), &bytes)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "document_type_not_allowed", "{what}");
        let m = e.message_it();
        assert!(m.starts_with("Tipo di file non ammesso"), "{what}: {m}");
        assert!(
            m.contains("PDF") && m.contains(".p7m") && m.contains(".eml"),
            "{m}"
        );
    }
    assert!(staged_files(&dir).is_empty());
}

// ------------------------------------------------------------ .p7m

/// Runs `openssl`; a missing CLI fails the test with a clear message.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "the openssl CLI is needed by this test (Debian package `openssl`; \
                 scripts/test installs it): {e}"
            )
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throw-away signer (key + self-signed certificate) in `dir`.
fn signer(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "s.key",
            "-out",
            "s.crt",
            "-days",
            "1",
            "-subj",
            "/CN=Firmatario di prova/O=Comune di Prova/C=IT",
        ],
    );
}

fn sign(dir: &Path, input: &str, output: &str, form: &str) -> Vec<u8> {
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
            input,
            "-signer",
            "s.crt",
            "-inkey",
            "s.key",
            "-outform",
            form,
            "-out",
            output,
        ],
    );
    std::fs::read(dir.join(output)).unwrap()
}

#[tokio::test]
async fn p7m_keeps_the_envelope_and_extracts_the_signed_content() {
    let dir = TempDir::new("p7m");
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    signer(&pki);
    let content = pdf(true);
    std::fs::File::create(pki.join("atto.pdf"))
        .unwrap()
        .write_all(&content)
        .unwrap();
    let der = sign(&pki, "atto.pdf", "atto.pdf.p7m", "DER");
    assert_eq!(extract_p7m_content(&der).unwrap(), content);

    let docs = store(&dir);
    let stored = docs.put_bytes("atto.pdf.p7m", &der).await.unwrap();
    // The envelope is the original.
    assert_eq!(stored.sha256, Impronta::of(&der));
    assert_eq!(docs.get(&stored.sha256).await.unwrap(), der);
    assert_eq!(stored.detected.kind, Kind::P7m);
    assert_eq!(stored.media_type, "application/pkcs7-mime");
    let inner = stored.detected.contenuto_firmato.as_deref().unwrap();
    assert_eq!(
        (inner.kind, inner.formato.as_str()),
        (Kind::Pdf, "PDF/A-2b")
    );
    assert!(stored.detected.conservabile);
    let (shown, shown_type) = docs.display_content(&stored.sha256).await.unwrap();
    assert_eq!(shown, content);
    assert_eq!(shown_type.kind, Kind::Pdf);

    let m = DocumentMetadata::of(&stored, ModalitaDiFormazione::Acquisito);
    assert!(m.firmato_digitalmente);
    assert_eq!(m.formato_contenuto.as_deref(), Some("PDF/A-2b"));

    // Signed twice (.p7m.p7m) and PEM-wrapped: same content.
    let twice = sign(&pki, "atto.pdf.p7m", "atto.pdf.p7m.p7m", "DER");
    assert_eq!(extract_p7m_content(&twice).unwrap(), content);
    // Shown: the innermost content with its own type, not the inner envelope's.
    let stored_twice = docs.put_bytes("atto.pdf.p7m.p7m", &twice).await.unwrap();
    let (shown, shown_type) = docs.display_content(&stored_twice.sha256).await.unwrap();
    assert_eq!(shown, content);
    assert_eq!(
        (shown_type.kind, shown_type.formato.as_str()),
        (Kind::Pdf, "PDF/A-2b")
    );
    assert_eq!(
        palazzo_services::documents::signed_content(&twice).unwrap(),
        (content.clone(), shown_type)
    );
    let pem = sign(&pki, "atto.pdf", "atto.pem.p7m", "PEM");
    assert!(pem.starts_with(b"-----BEGIN "));
    assert_eq!(extract_p7m_content(&pem).unwrap(), content);
    assert_eq!(detect(&pem).unwrap().kind, Kind::P7m);

    // The independent verifier agrees on the content we extract.
    openssl(
        &pki,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "atto.pdf.p7m",
            "-noverify",
            "-out",
            "recovered.pdf",
        ],
    );
    assert_eq!(std::fs::read(pki.join("recovered.pdf")).unwrap(), content);

    // A signed executable is refused; a detached signature has no content.
    std::fs::write(pki.join("prog.exe"), b"MZ\x90\0\x03\0\0\0").unwrap();
    let exe = sign(&pki, "prog.exe", "prog.exe.p7m", "DER");
    assert_eq!(
        docs.put_bytes("prog.exe.p7m", &exe)
            .await
            .unwrap_err()
            .code(),
        "document_type_not_allowed"
    );
    openssl(
        &pki,
        &[
            "cms", "-sign", "-binary", "-md", "sha256", "-in", "atto.pdf", "-signer", "s.crt",
            "-inkey", "s.key", "-outform", "DER", "-out", "atto.p7s",
        ],
    );
    let p7s = std::fs::read(pki.join("atto.p7s")).unwrap();
    assert_eq!(
        extract_p7m_content(&p7s).unwrap_err().code(),
        "document_p7m_invalid"
    );
}

// ------------------------------------------------------------ metadata and sidecar

#[tokio::test]
async fn metadata_and_hash_sidecar() {
    let dir = TempDir::new("docs");
    let docs = store(&dir);
    let stored = docs.put_bytes("registro.pdf", &pdf(false)).await.unwrap();
    let m = DocumentMetadata::of(&stored, ModalitaDiFormazione::GeneratoDaBaseDati);
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(
        v["identificativo"],
        format!("sha256:{}", stored.sha256.hex())
    );
    assert_eq!(v["impronta"]["impronta"], stored.sha256.hex());
    assert_eq!(v["impronta"]["algoritmo"], "SHA-256");
    assert_eq!(v["nome_file"], "registro.pdf");
    assert_eq!(v["dimensione"], stored.size);
    assert_eq!(v["formato"], "PDF");
    assert_eq!(v["conservabile"], false);
    assert_eq!(v["modalita_di_formazione"], "d");
    assert_eq!(v["firmato_digitalmente"], false);

    // PR-13: 64 lower-case hex characters, no newline.
    let out = dir.path().join("pacchetto");
    let copy = docs
        .export_with_sidecar(&stored.sha256, &out, "registro.pdf")
        .unwrap();
    let sidecar = out.join("registro.pdf.hash");
    let bytes = std::fs::read(&sidecar).unwrap();
    assert_eq!(bytes.len(), 64);
    assert!(
        bytes
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    );
    assert_eq!(bytes, stored.sha256.hex().as_bytes());
    assert_eq!(Impronta::of(&std::fs::read(copy).unwrap()), stored.sha256);
    let other = write_hash_sidecar(&out.join("x.bin"), &Impronta::of(b"x")).unwrap();
    assert_eq!(other, out.join("x.bin.hash"));
    assert_eq!(std::fs::read(other).unwrap().len(), 64);
}
