//! New versions of the documents of a registration (protocol-documents.md
//! SYS-3; Allegato 5 `VersioneDelDocumento`, `TracciatureModificheDocumento`).
//!
//! The primary document and each attachment of a registration are version 1,
//! fixed fields of the register (art. 53 c.1 f, PR-3): their impronta never
//! changes. A new version (`Rettifica`, `Integrazione` or `Annotazione`) is
//! uploaded like every document — streamed into the content-addressed
//! store, size-limited, its type detected from the content — and recorded
//! beside the registration with its author, time, reason and the fingerprint
//! of the version it follows. Nothing is overwritten: every version stays
//! retrievable by number and hash. Each new version is ledgered once as
//! `protocollo.versione` (subject `versione:<id>`, checked by `palazzo
//! verify`). `Annullamento`, the fourth `TipoModifica`, is the annulment of
//! the whole registration (art. 54): an annulled registration takes no new
//! version. See `docs/documents.md`, "Versions".

use jiff::Timestamp;
use palazzo_domain::access::Permission;
use palazzo_domain::protocollo::Impronta;
use palazzo_store::*;

use crate::access::Actor;
use crate::documents::StoredDocument;
use crate::ledger::record;
use crate::protocollo::operator;
use crate::{App, ServiceError, ServiceResult};

/// The longest reason of a new version, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// One version of a document of a registration: version 1 is the
/// registered original, the others are [`DocumentVersion`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionView {
    /// 1 for the original, then 2, 3…
    pub version: u32,
    /// The file (its bytes are in the document store).
    pub file: DocumentRef,
    /// The stored row, `None` for the original.
    pub row: Option<DocumentVersion>,
}

impl VersionView {
    /// Why it was made (`None` for the original).
    pub fn kind(&self) -> Option<TipoModifica> {
        self.row.as_ref().map(|r| r.data.kind)
    }
}

/// The content signed in a `.p7m` document of a registration
/// ([`App::signed_content`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContent {
    /// The envelope as registered (the original, unchanged).
    pub envelope: DocumentRef,
    /// The version of the document it is (1 the registered original).
    pub version: u32,
    /// A file name for the content (the envelope's without `.p7m`).
    pub name: String,
    /// The innermost signed content.
    pub content: Vec<u8>,
    /// Its type, detected from the content against the allow-list.
    pub detected: crate::documents::Detected,
}

/// A document of a registration with every version, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentHistory {
    /// 0 the primary, `n` the n-th attachment.
    pub index: u32,
    /// Version 1 (the original) first, the current one last.
    pub versions: Vec<VersionView>,
}

impl DocumentHistory {
    /// The current (newest) version.
    pub fn current(&self) -> &VersionView {
        // Never empty: version 1 is always there.
        &self.versions[self.versions.len() - 1]
    }

    /// Version `v`, if it exists.
    pub fn version(&self, v: u32) -> Option<&VersionView> {
        self.versions.iter().find(|x| x.version == v)
    }
}

/// The registered original (version 1) of document `index`.
pub fn original(reg: &Registration, index: u32) -> Option<&DocumentRef> {
    match index {
        0 => Some(&reg.data.primary),
        n => reg.data.attachments.get(usize::try_from(n - 1).ok()?),
    }
}

/// Every document of a registration with its versions (from `rows`, the
/// registration's stored versions).
pub fn histories(reg: &Registration, rows: &[DocumentVersion]) -> Vec<DocumentHistory> {
    let count = 1 + reg.data.attachments.len();
    (0..count)
        .filter_map(|i| u32::try_from(i).ok())
        .filter_map(|index| {
            let first = original(reg, index)?;
            let mut versions = vec![VersionView {
                version: 1,
                file: first.clone(),
                row: None,
            }];
            let mut mine: Vec<&DocumentVersion> =
                rows.iter().filter(|r| r.data.document == index).collect();
            mine.sort_by_key(|r| r.data.version);
            versions.extend(mine.into_iter().map(|r| VersionView {
                version: r.data.version,
                file: r.data.file.clone(),
                row: Some(r.clone()),
            }));
            Some(DocumentHistory { index, versions })
        })
        .collect()
}

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

fn check_reason(reason: &str) -> ServiceResult<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(invalid(
            "versione_motivo_mancante",
            "Indica il motivo della nuova versione.",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(invalid(
            "versione_motivo_troppo_lungo",
            format!("Il motivo non può superare {MAX_REASON_CHARS} caratteri."),
        ));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(invalid(
            "versione_motivo_non_valido",
            "Il motivo contiene caratteri non ammessi.",
        ));
    }
    Ok(reason.to_owned())
}

fn annulled() -> ServiceError {
    invalid(
        "protocollo_annullato",
        "La registrazione è annullata: non si possono aggiungere nuove versioni dei documenti.",
    )
}

fn no_document() -> ServiceError {
    invalid(
        "versione_documento_inesistente",
        "La registrazione non ha il documento indicato.",
    )
}

impl App {
    /// Every document of a registration with its versions, for staff who
    /// may read the register.
    pub async fn document_histories(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
    ) -> ServiceResult<(Registration, Vec<DocumentHistory>)> {
        let reg = self.protocol_entry(tenant, actor, id).await?;
        let rows = self.db().document_versions(tenant, id).await?;
        let h = histories(&reg, &rows);
        Ok((reg, h))
    }

    /// Version `version` of document `document` of a registration and its
    /// bytes, checked against the recorded fingerprint (SYS-1, SYS-3).
    pub async fn document_version_file(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        document: u32,
        version: u32,
    ) -> ServiceResult<(DocumentRef, Vec<u8>)> {
        let (_, histories) = self.document_histories(tenant, actor, id).await?;
        let file = histories
            .iter()
            .find(|h| h.index == document)
            .and_then(|h| h.version(version))
            .map(|v| v.file.clone())
            .ok_or(ServiceError::NotFound)?;
        let bytes = match self.documents().get(&file.sha256).await {
            Ok(b) => b,
            Err(ServiceError::NotFound) => {
                tracing::error!(sha256 = %file.sha256.hex(), "document version missing from the store");
                return Err(ServiceError::NotFound);
            }
            Err(e) => return Err(e),
        };
        if Impronta::of(&bytes) != file.sha256 {
            return Err(ServiceError::Internal(format!(
                "document {} does not match its fingerprint",
                file.sha256.hex()
            )));
        }
        Ok((file, bytes))
    }

    /// The content signed in a `.p7m` document (version `version` of
    /// document `document`; 1 is the registered original), for display: the
    /// innermost content with its type detected from it (as for an upload),
    /// and the envelope it came from, which stays the original (its impronta
    /// unchanged). The same access as the document itself
    /// ([`App::document_version_file`]).
    ///
    /// Errors: `documento_non_firmato` (not a `.p7m`), `document_p7m_invalid`
    /// (a damaged envelope), `document_type_not_allowed` (its content is of a
    /// refused type); not found as for the document.
    pub async fn signed_content(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        document: u32,
        version: u32,
    ) -> ServiceResult<SignedContent> {
        let (envelope, bytes) = self
            .document_version_file(tenant, actor, id, document, version)
            .await?;
        let registered_as_p7m = envelope.media_type == "application/pkcs7-mime"
            || envelope.name.to_ascii_lowercase().ends_with(".p7m");
        if !crate::documents::p7m::is_p7m(&bytes) {
            return Err(if registered_as_p7m {
                invalid(
                    "document_p7m_invalid",
                    format!(
                        "Il file firmato «{}» è danneggiato: non contiene una busta CMS leggibile. \
                         Si può scaricare così com'è, ma il contenuto firmato non si può estrarre.",
                        envelope.name
                    ),
                )
            } else {
                invalid(
                    "documento_non_firmato",
                    format!(
                        "Il documento «{}» non è un file firmato (.p7m): non ha un contenuto \
                         firmato da estrarre. Si scarica così com'è.",
                        envelope.name
                    ),
                )
            });
        }
        let (content, detected) = crate::documents::signed_content(&bytes)?;
        let name = crate::documents::signed_content_name(&envelope.name, &detected);
        Ok(SignedContent {
            envelope,
            version,
            name,
            content,
            detected,
        })
    }

    /// Records `file` (already in the document store: upload it with
    /// [`crate::documents::DocumentStore::put_stream`]) as the next version
    /// of document `document` of a registration (SYS-3): the registration's
    /// fixed fields and impronta do not change; the new version is ledgered
    /// as `protocollo.versione`. Needs [`Permission::RegisterProtocol`]
    /// (those who register and classify).
    ///
    /// Errors: `protocollo_annullato`, `versione_documento_inesistente`,
    /// `versione_motivo_mancante` / `_troppo_lungo` / `_non_valido`,
    /// `versione_identica` (same content as the current version),
    /// `versione_concorrente` (another version was added meanwhile).
    #[tracing::instrument(skip_all, fields(tenant = tenant.0, registration = id.0, document = document))]
    #[allow(clippy::too_many_arguments)]
    pub async fn add_document_version(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        document: u32,
        kind: TipoModifica,
        reason: &str,
        file: &StoredDocument,
    ) -> ServiceResult<DocumentVersion> {
        actor.require(Permission::RegisterProtocol)?;
        let (reg, histories) = self.document_histories(tenant, actor, id).await?;
        if reg.annulment.is_some() {
            return Err(annulled());
        }
        let reason = check_reason(reason)?;
        let history = histories
            .iter()
            .find(|h| h.index == document)
            .ok_or_else(no_document)?;
        let current = history.current();
        if current.file.sha256 == file.sha256 {
            return Err(invalid(
                "versione_identica",
                "Il file caricato è identico alla versione attuale del documento.",
            ));
        }
        let new = NewDocumentVersion {
            registration: id,
            document,
            version: current.version + 1,
            kind,
            file: file.to_ref(),
            previous: current.file.sha256,
            reason,
            author: operator(actor),
        };
        let t = self.tenant(tenant)?;
        // Microseconds, as every backend stores them: the ledger state must
        // hash the same after a round trip.
        let at: Timestamp = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        let row = match tx.insert_document_version(tenant, &new, at).await {
            Ok(Some(row)) => row,
            // Annulled meanwhile (the row is written only on a registration
            // that is not annulled).
            Ok(None) => return Err(annulled()),
            Err(StoreError::Conflict(_)) => {
                return Err(invalid(
                    "versione_concorrente",
                    "Nel frattempo è stata aggiunta un'altra versione di questo documento: ricarica la pagina e riprova.",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        record(&mut tx, &t, "protocollo.versione", &row).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(
            version = row.data.version,
            kind = row.data.kind.code(),
            sha256 = %row.data.file.sha256.hex(),
            "document version added"
        );
        Ok(row)
    }
}
