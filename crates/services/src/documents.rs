//! Documents: content-addressed storage of originals, type detection from
//! content, signed `.p7m` envelopes and the Allegato 5 metadata.
//!
//! - Uploads are streamed to a staging file while hashed (SHA-256) and
//!   counted, refused past the size limit (`document_too_large`), checked
//!   against the type allow-list ([`sniff`]), then published under
//!   `sha256/ab/cd/<hex>` with fsync of file and directory. An existing
//!   object with the same hash is kept: originals are immutable, and a new
//!   version of a document is a new object.
//! - A `.p7m` is stored as received (the envelope is the original); its
//!   signed content is extracted for display with [`extract_p7m_content`].
//! - [`DocumentMetadata`] is the Allegato 5 subset known from the file
//!   itself; [`write_hash_sidecar`] writes the `.hash` file of Allegato 2
//!   §2.16 (PR-13) for conservation packages.
//!
//! See `docs/documents.md`.

pub mod blobs;
pub mod p7m;
pub mod sniff;

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_core::Stream;
use palazzo_domain::protocollo::Impronta;
use palazzo_store::protocollo::DocumentRef;
use serde::Serialize;
use tokio::io::AsyncRead;

pub use blobs::{BlobInfo, Blobs, LocalBlobs, ReaderStream};
pub use p7m::extract_p7m_content;
pub use sniff::{Detected, Kind, detect};

use crate::{ServiceError, ServiceResult};

/// The default size limit of one document: 50 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 50 * 1024 * 1024;

/// The longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// A document as stored: maps to the protocol's [`DocumentRef`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDocument {
    /// SHA-256 of the stored bytes (the content address).
    pub sha256: Impronta,
    /// Size in bytes.
    pub size: u64,
    /// Media type detected from the content.
    pub media_type: String,
    /// Original file name (as given by the sender, cleaned).
    pub name: String,
    /// What the content is, as detected.
    pub detected: Detected,
    /// False when an identical object was already stored (kept unchanged).
    pub created: bool,
}

impl StoredDocument {
    /// The reference the protocol register records.
    pub fn to_ref(&self) -> DocumentRef {
        DocumentRef {
            name: self.name.clone(),
            media_type: self.media_type.clone(),
            size: self.size,
            sha256: self.sha256,
        }
    }
}

impl From<&StoredDocument> for DocumentRef {
    fn from(d: &StoredDocument) -> DocumentRef {
        d.to_ref()
    }
}

/// Cleans a file name given by a sender: the last path component, trimmed,
/// with no control characters, at most 255 characters.
pub fn clean_name(name: &str) -> ServiceResult<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    if last.is_empty() || last == "." || last == ".." || last.chars().any(char::is_control) {
        return Err(ServiceError::Invalid {
            code: "document_name_invalid",
            message: "Il nome del file non è valido.".to_owned(),
        });
    }
    if last.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::Invalid {
            code: "document_name_invalid",
            message: format!("Il nome del file supera i {MAX_NAME_CHARS} caratteri."),
        });
    }
    Ok(last.to_owned())
}

/// The document store: originals by content address, with a size limit.
/// The caller owns it (e.g. one per process over `<data_dir>/documents`).
#[derive(Debug, Clone)]
pub struct DocumentStore<B = LocalBlobs> {
    blobs: B,
    max_size: u64,
}

impl DocumentStore<LocalBlobs> {
    /// A store on the local disk under `dir` (usually `<data_dir>/documents`),
    /// with the default size limit of 50 MiB.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DocumentStore {
            blobs: LocalBlobs::new(dir),
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The file of a stored object, for streaming it back (local disk only).
    pub fn path_of(&self, sha256: &Impronta) -> PathBuf {
        self.blobs.path_of(sha256)
    }

    /// Copies a stored object to `dir/file_name` and writes its `.hash`
    /// sidecar beside it (a conservation package's file). Returns the path
    /// of the copy.
    pub fn export_with_sidecar(
        &self,
        sha256: &Impronta,
        dir: &Path,
        file_name: &str,
    ) -> ServiceResult<PathBuf> {
        let name = clean_name(file_name)?;
        let src = self.blobs.path_of(sha256);
        if !src.is_file() {
            return Err(ServiceError::NotFound);
        }
        fs::create_dir_all(dir).map_err(|e| internal("export", e))?;
        let dest = dir.join(&name);
        fs::copy(&src, &dest).map_err(|e| internal("export", e))?;
        let bytes = fs::read(&dest).map_err(|e| internal("export", e))?;
        if Impronta::of(&bytes) != *sha256 {
            return Err(internal(
                "export",
                "the stored object does not match its hash",
            ));
        }
        write_hash_sidecar(&dest, sha256)?;
        Ok(dest)
    }
}

impl<B: Blobs> DocumentStore<B> {
    /// A store over another backend.
    pub fn with_blobs(blobs: B) -> Self {
        DocumentStore {
            blobs,
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The same store with another size limit, in bytes.
    pub fn with_max_size(mut self, max_size: u64) -> Self {
        self.max_size = max_size;
        self
    }

    /// The size limit in bytes.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The backend.
    pub fn blobs(&self) -> &B {
        &self.blobs
    }

    /// Stores an uploaded document streamed as chunks: hashed while written,
    /// refused past the size limit (`document_too_large`) or when its
    /// content is not of an allowed type (`document_type_not_allowed`).
    /// `name` is the sender's file name (kept as metadata only).
    #[tracing::instrument(skip_all, fields(sha256 = tracing::field::Empty))]
    pub async fn put_stream<S, E>(&self, name: &str, body: S) -> ServiceResult<StoredDocument>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display + Send,
    {
        let name = clean_name(name)?;
        let (info, detected) = self
            .blobs
            .put_stream(body, self.max_size, sniff::detect)
            .await?;
        tracing::Span::current().record("sha256", info.sha256.hex());
        Ok(StoredDocument {
            sha256: info.sha256,
            size: info.size,
            media_type: detected.media_type.clone(),
            name,
            detected,
            created: info.created,
        })
    }

    /// Stores a document read from an [`AsyncRead`] (a request body, a file).
    pub async fn put_reader<R>(&self, name: &str, reader: R) -> ServiceResult<StoredDocument>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.put_stream(name, ReaderStream::new(reader)).await
    }

    /// Stores a document held in memory.
    pub async fn put_bytes(&self, name: &str, bytes: &[u8]) -> ServiceResult<StoredDocument> {
        let chunk = Bytes::copy_from_slice(bytes);
        let body = OneChunk(Some(chunk));
        self.put_stream(name, body).await
    }

    /// The bytes of a stored original.
    pub async fn get(&self, sha256: &Impronta) -> ServiceResult<Vec<u8>> {
        self.blobs.get(sha256).await?.ok_or(ServiceError::NotFound)
    }

    /// Whether an original is stored.
    pub async fn exists(&self, sha256: &Impronta) -> ServiceResult<bool> {
        self.blobs.exists(sha256).await
    }

    /// The content to show for a stored document: for a `.p7m`, the signed
    /// content (the innermost, for nested envelopes) and its detected type;
    /// otherwise the original itself.
    pub async fn display_content(&self, sha256: &Impronta) -> ServiceResult<(Vec<u8>, Detected)> {
        let bytes = self.get(sha256).await?;
        if p7m::is_p7m(&bytes) {
            return signed_content(&bytes);
        }
        let detected = detect(&bytes)?;
        Ok((bytes, detected))
    }
}

/// The signed content of a `.p7m` envelope, for display: the innermost
/// content (nested and base64/PEM envelopes unwrapped) with its type
/// detected from that content against the allow-list, as for an upload.
/// The envelope is not changed (it stays the original).
///
/// Errors: `document_p7m_invalid` (not an envelope, damaged, detached),
/// `document_type_not_allowed` (the content is of a refused type),
/// `document_empty`.
pub fn signed_content(envelope: &[u8]) -> ServiceResult<(Vec<u8>, Detected)> {
    let content = extract_p7m_content(envelope)?;
    let detected = detect(&content).map_err(|e| match e {
        ServiceError::Invalid {
            code: "document_type_not_allowed",
            message,
        } => ServiceError::Invalid {
            code: "document_type_not_allowed",
            message: format!("Il contenuto firmato non si può mostrare. {message}"),
        },
        other => other,
    })?;
    Ok((content, detected))
}

/// The file name of the content signed in `envelope_name`: the `.p7m`
/// suffixes taken off (`atto.pdf.p7m.p7m` → `atto.pdf`), and the extension
/// of the detected type added when none is left (`firmato.p7m` → `firmato.pdf`);
/// never the envelope's own name (`atto.pdf` → `contenuto-atto.pdf`).
pub fn signed_content_name(envelope_name: &str, detected: &Detected) -> String {
    let mut name = envelope_name.trim();
    while name.len() > 4 && name.is_char_boundary(name.len() - 4) {
        let (stem, ext) = name.split_at(name.len() - 4);
        if !ext.eq_ignore_ascii_case(".p7m") {
            break;
        }
        name = stem.trim_end();
    }
    let ext = match detected.kind {
        Kind::Pdf => "pdf",
        Kind::Xml => "xml",
        Kind::Png => "png",
        Kind::Jpeg => "jpg",
        Kind::Tiff => "tif",
        Kind::Eml => "eml",
        Kind::Csv => "csv",
        Kind::Text => "txt",
        Kind::Odf | Kind::Ooxml | Kind::P7m => "",
    };
    let stem = if name.is_empty() || name.eq_ignore_ascii_case(".p7m") {
        "contenuto"
    } else {
        name
    };
    let has_ext = stem
        .rsplit_once('.')
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
    let out = if has_ext || ext.is_empty() {
        stem.to_owned()
    } else {
        format!("{stem}.{ext}")
    };
    // An envelope named without `.p7m`: never the envelope's own name (a
    // copy of the content written beside it must not replace it).
    if out == envelope_name.trim() {
        format!("contenuto-{out}")
    } else {
        out
    }
}

/// A stream of one chunk.
struct OneChunk(Option<Bytes>);

impl Stream for OneChunk {
    type Item = Result<Bytes, std::convert::Infallible>;
    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.get_mut().0.take().map(Ok))
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("documents: {what}: {e}"))
}

// ---------------------------------------------------------------- metadata

/// How the document was formed (LG §2.1.1, Allegato 5 `ModalitaDiFormazione`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ModalitaDiFormazione {
    /// a) created with software.
    #[serde(rename = "a")]
    CreatoConSoftware,
    /// b) acquired: received by telematic means, or an image copy (uploads).
    #[serde(rename = "b")]
    Acquisito,
    /// c) forms or transactions filled in by the user.
    #[serde(rename = "c")]
    DaModulo,
    /// d) generated or aggregated from databases (registers).
    #[serde(rename = "d")]
    GeneratoDaBaseDati,
}

/// `ImprontaCrittograficaDelDocumento`: digest and algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImprontaCrittografica {
    /// Lower-case hex SHA-256.
    pub impronta: String,
    /// Always `SHA-256`.
    pub algoritmo: &'static str,
}

/// The Allegato 5 metadata of a document that come from the file itself.
/// Registration data, subjects and classification come from the protocol
/// register and the fascicoli.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentMetadata {
    /// `Identificativo`: derived from the hash, `sha256:<hex>`.
    pub identificativo: String,
    /// `ImprontaCrittograficaDelDocumento`.
    pub impronta: ImprontaCrittografica,
    /// `NomeDelDocumento`: the file name.
    pub nome_file: String,
    /// Media type detected from the content.
    pub media_type: String,
    /// Size in bytes.
    pub dimensione: u64,
    /// Whether Allegato 2 admits the format to conservation (a `.p7m`: its content's).
    pub conservabile: bool,
    /// `IdentificativoDelFormato/Formato`: the Allegato 2 name.
    pub formato: String,
    /// For a `.p7m`: the Allegato 2 name of the signed content's format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formato_contenuto: Option<String>,
    /// `ModalitaDiFormazione`: `a`, `b`, `c` or `d`.
    pub modalita_di_formazione: ModalitaDiFormazione,
    /// `Verifica/FirmatoDigitalmente`: a CAdES `.p7m` envelope (not verified here).
    pub firmato_digitalmente: bool,
}

impl DocumentMetadata {
    /// The metadata of a stored document.
    pub fn of(doc: &StoredDocument, modalita: ModalitaDiFormazione) -> DocumentMetadata {
        let hex = doc.sha256.hex();
        DocumentMetadata {
            identificativo: format!("sha256:{hex}"),
            impronta: ImprontaCrittografica {
                impronta: hex,
                algoritmo: "SHA-256",
            },
            nome_file: doc.name.clone(),
            media_type: doc.media_type.clone(),
            dimensione: doc.size,
            conservabile: doc.detected.conservabile,
            formato: doc.detected.formato.clone(),
            formato_contenuto: doc
                .detected
                .contenuto_firmato
                .as_ref()
                .map(|d| d.formato.clone()),
            modalita_di_formazione: modalita,
            firmato_digitalmente: doc.detected.firmato(),
        }
    }
}

/// Writes `<file>.hash` beside `file` (Allegato 2 §2.16, PR-13): exactly the
/// 64 lower-case hex digits of the SHA-256, ASCII, no newline. Returns its path.
pub fn write_hash_sidecar(file: &Path, sha256: &Impronta) -> ServiceResult<PathBuf> {
    let mut name = file
        .file_name()
        .ok_or_else(|| internal("sidecar", "no file name"))?
        .to_os_string();
    name.push(".hash");
    let path = file.with_file_name(name);
    let mut f = fs::File::create(&path).map_err(|e| internal("sidecar", e))?;
    std::io::Write::write_all(&mut f, sha256.hex().as_bytes())
        .map_err(|e| internal("sidecar", e))?;
    f.sync_all().map_err(|e| internal("sidecar", e))?;
    Ok(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\x\\atto.pdf").unwrap(), "atto.pdf");
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_name("  nota.txt ").unwrap(), "nota.txt");
        for bad in ["", "dir/", "..", "a\nb", &"x".repeat(256)] {
            assert_eq!(clean_name(bad).unwrap_err().code(), "document_name_invalid");
        }
    }

    #[test]
    fn signed_content_names() {
        let pdf = detect(b"%PDF-1.7\n%%EOF\n").unwrap();
        let txt = detect(b"testo semplice\n").unwrap();
        for (envelope, detected, expected) in [
            ("atto.pdf.p7m", &pdf, "atto.pdf"),
            ("atto.pdf.P7M.p7m", &pdf, "atto.pdf"),
            ("firmato.p7m", &pdf, "firmato.pdf"),
            ("nota.p7m", &txt, "nota.txt"),
            (".p7m", &txt, "contenuto.txt"),
            ("p7m", &pdf, "p7m.pdf"),
            ("delibera.odt.p7m", &txt, "delibera.odt"),
            ("atto.pdf", &pdf, "contenuto-atto.pdf"),
        ] {
            assert_eq!(
                signed_content_name(envelope, detected),
                expected,
                "{envelope}"
            );
        }
    }

    #[test]
    fn metadata_serialises_with_allegato5_names() {
        let bytes =
            b"%PDF-1.7\n<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>";
        let detected = detect(bytes).unwrap();
        let doc = StoredDocument {
            sha256: Impronta::of(bytes),
            size: bytes.len() as u64,
            media_type: detected.media_type.clone(),
            name: "delibera.pdf".into(),
            detected,
            created: true,
        };
        let m = DocumentMetadata::of(&doc, ModalitaDiFormazione::Acquisito);
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["modalita_di_formazione"], "b");
        assert_eq!(v["impronta"]["algoritmo"], "SHA-256");
        assert_eq!(v["formato"], "PDF/A-2b");
        assert_eq!(v["conservabile"], true);
        assert_eq!(v["firmato_digitalmente"], false);
        assert!(v.get("formato_contenuto").is_none());
        assert_eq!(
            v["identificativo"],
            format!("sha256:{}", Impronta::of(bytes).hex())
        );
        assert_eq!(doc.to_ref().sha256, doc.sha256);
    }
}
