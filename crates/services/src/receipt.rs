//! The ricevuta di protocollo (issue 4 item 7, DECISIONS 13): a PDF/A-3
//! receipt of a registration with the proof bundle of its ledger event
//! embedded (`docs/receipt-format.md`), and its offline verification.

pub use ed25519_dalek::VerifyingKey;
use palazzo_domain::access::Permission;
use palazzo_domain::checkpoint;
use palazzo_domain::ledger::LedgerEntry;
use palazzo_domain::merkle::{self, Hash};
use palazzo_domain::protocollo::Flow;
use palazzo_domain::receipt::{self, Bundle, ReceiptError, Verified};
use palazzo_domain::{Coded, cbor};
use palazzo_pdf::{Attachment, Info, PdfWriter, Relationship, Style};
use palazzo_store::*;
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::keys::hex;
use crate::ledger::{LEDGER_KEY, leaf_of};
use crate::{App, ServiceError, ServiceResult};

/// A rendered receipt.
#[derive(Debug, Clone)]
pub struct ReceiptFile {
    /// `ricevuta-<year>-<number:07>.pdf`.
    pub file_name: String,
    /// The PDF/A-3 bytes.
    pub bytes: Vec<u8>,
}

/// The most registrations "Le mie protocollazioni" lists (the newest).
pub const MY_REGISTRATIONS_LIMIT: u32 = 500;

/// The error when no signed checkpoint covers the event yet.
fn not_ready() -> ServiceError {
    ServiceError::Invalid {
        code: "receipt_not_ready",
        message: "La ricevuta non è ancora pronta: la registrazione deve essere sigillata nel registro di tracciabilità. Riprova tra qualche secondo.".into(),
    }
}

fn internal(what: &str) -> impl Fn(String) -> ServiceError + '_ {
    move |e| ServiceError::Internal(format!("receipt {what}: {e}"))
}

/// The PDF title a receipt must carry (`docs/receipt-format.md`, step 7).
pub fn title(number: u64, year: i64) -> String {
    format!("Ricevuta di protocollo n. {number:07}/{year}")
}

/// Whether `reg` is an incoming registration whose sender has codice fiscale `cf`.
fn is_sender(reg: &Registration, cf: &str) -> bool {
    reg.data.flow == Flow::Entrata
        && reg.data.correspondents.iter().any(|c| {
            c.fiscal_code
                .as_deref()
                .is_some_and(|f| f.trim().eq_ignore_ascii_case(cf))
        })
}

impl App {
    /// The receipt of a registration, for staff who may read the register.
    pub async fn protocol_receipt(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
    ) -> ServiceResult<ReceiptFile> {
        let reg = self.protocol_entry(tenant, actor, id).await?;
        self.receipt_of(tenant, &reg).await
    }

    /// The incoming registrations whose sender is the signed-in citizen
    /// (matched by codice fiscale), newest first, at most
    /// [`MY_REGISTRATIONS_LIMIT`] ("Le mie protocollazioni").
    pub async fn my_protocol_registrations(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Registration>> {
        let user = self.my_profile(tenant, actor).await?;
        let Some(cf) = user.data.codice_fiscale else {
            return Ok(Vec::new());
        };
        // The store's index of senders by fiscal code (migration 0011).
        let found = self
            .db()
            .registrations_from_sender(tenant, cf.as_str(), MY_REGISTRATIONS_LIMIT)
            .await?;
        Ok(found
            .into_iter()
            .filter(|r| is_sender(r, cf.as_str()))
            .collect())
    }

    /// The receipt of one of the signed-in citizen's registrations; any
    /// other registration is "not found".
    pub async fn my_protocol_receipt(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
    ) -> ServiceResult<ReceiptFile> {
        actor.require(Permission::OwnProfile)?;
        let user = self.my_profile(tenant, actor).await?;
        let cf = user.data.codice_fiscale.ok_or(ServiceError::NotFound)?;
        let reg = self
            .db()
            .registration(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !is_sender(&reg, cf.as_str()) {
            return Err(ServiceError::NotFound);
        }
        self.receipt_of(tenant, &reg).await
    }

    /// The proof bundle of a registration: its `protocollo.registered` event
    /// when the registration still has that state, else its latest event
    /// (whose state is the current one), with an inclusion proof in the
    /// newest signed checkpoint (signed now if none covers the event yet).
    pub async fn receipt_bundle(
        &self,
        tenant: TenantId,
        reg: &Registration,
    ) -> ServiceResult<Bundle> {
        let t = self.tenant(tenant)?;
        let subject = reg.subject();
        // The state at registration: the fixed fields, the modifiable ones
        // as now, not annulled. It matches unless they changed since.
        let mut at_registration = reg.clone();
        at_registration.annulment = None;
        let candidates = [
            (
                cbor::encode(&at_registration.state())
                    .map_err(|e| internal("state")(e.to_string()))?,
                true,
            ),
            (
                cbor::encode(&reg.state()).map_err(|e| internal("state")(e.to_string()))?,
                false,
            ),
        ];
        let mut checkpoint = self.db().latest_checkpoint(tenant).await?;
        let size = self.db().ledger_size(tenant).await?;
        let events = self.db().ledger_events(tenant, 0, size).await?;
        let mut chosen: Option<(&LedgerEvent, Vec<u8>)> = None;
        for (state, registered_only) in &candidates {
            let hash: Hash = Sha256::digest(state).into();
            let found = events.iter().rev().find(|e| {
                e.subject == subject
                    && e.state_hash == hash
                    && receipt::KINDS.contains(&e.kind.as_str())
                    && (!registered_only || e.kind == "protocollo.registered")
            });
            if let Some(e) = found {
                chosen = Some((e, state.clone()));
                break;
            }
        }
        let Some((event, state)) = chosen else {
            // Committed registrations always have their event: the state in
            // the database no longer matches the ledger (`palazzo verify`).
            return Err(ServiceError::Internal(format!(
                "no ledger event matches the state of {subject}"
            )));
        };
        if checkpoint.as_ref().is_none_or(|c| c.size <= event.seq) {
            // Sign one now rather than waiting for the checkpointer.
            self.checkpoint(&t).await?;
            checkpoint = self.db().latest_checkpoint(tenant).await?;
        }
        let cp = match checkpoint {
            Some(c) if c.size > event.seq => c,
            _ => return Err(not_ready()),
        };
        let count = usize::try_from(cp.size).map_err(|e| internal("size")(e.to_string()))?;
        let mut leaves = Vec::with_capacity(count);
        for e in events.iter().take(count) {
            leaves.push(leaf_of(e)?);
        }
        if leaves.len() != count {
            // The checkpoint was signed after our read of the ledger.
            let more = self.db().ledger_events(tenant, size, cp.size).await?;
            for e in &more {
                leaves.push(leaf_of(e)?);
            }
        }
        if merkle::root(&leaves) != cp.root {
            return Err(ServiceError::Internal(
                "the ledger does not match its checkpoint".into(),
            ));
        }
        let proof = merkle::inclusion_proof(&leaves, event.seq, cp.size)
            .map_err(|e| internal("proof")(e.to_string()))?;
        let entry = LedgerEntry::new(
            event.tenant_slug.clone(),
            event.seq,
            event.time,
            event.kind.clone(),
            event.subject.clone(),
            event.state_hash,
        )
        .map_err(|e| internal("leaf")(e.to_string()))?;
        let unverified = checkpoint::parse_unverified(&cp.note)
            .map_err(|e| internal("checkpoint")(e.to_string()))?;
        let signature = unverified
            .signatures
            .first()
            .ok_or_else(|| ServiceError::Internal("unsigned checkpoint".into()))?;
        Ok(Bundle {
            leaf: entry.to_leaf_bytes(),
            index: event.seq,
            tree_size: cp.size,
            proof,
            checkpoint: cp.note,
            key_name: signature.key_name.clone(),
            key_id: signature.key_id,
            state,
        })
    }

    async fn receipt_of(&self, tenant: TenantId, reg: &Registration) -> ServiceResult<ReceiptFile> {
        let t = self.tenant(tenant)?;
        let bundle = self.receipt_bundle(tenant, reg).await?;
        // Render what the bundle proves, never anything else.
        let trusted = self.keys().trusted(&t.data.slug, LEDGER_KEY)?;
        let verified = receipt::verify(&bundle.to_bytes(), &trusted)
            .map_err(|e| internal("self-check")(e.to_string()))?;
        let bytes = render(&t, &verified, &bundle).map_err(|e| internal("pdf")(e.to_string()))?;
        Ok(ReceiptFile {
            file_name: format!("ricevuta-{}-{}.pdf", verified.year, verified.number_text()),
            bytes,
        })
    }
}

fn rome(ts_text: &str) -> String {
    ts_text
        .parse::<jiff::Timestamp>()
        .map(|ts| {
            ts.to_zoned(palazzo_domain::calendar::rome_time_zone())
                .strftime("%d/%m/%Y alle %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| ts_text.to_owned())
}

fn flow_label(code: &str) -> &'static str {
    match Flow::parse(code) {
        Ok(f) => f.label_it(),
        Err(_) => "—",
    }
}

/// Lays out the receipt (Italian) and embeds the bundle.
fn render(t: &Tenant, v: &Verified, bundle: &Bundle) -> Result<Vec<u8>, palazzo_pdf::PdfError> {
    let mut w = PdfWriter::new(
        Info {
            title: title(v.number, v.year),
            subject: format!("Ricevuta di protocollo — {}", v.subject),
            author: t.data.name.clone(),
            language: "it-IT".into(),
            created: jiff::Timestamp::now(),
        },
        format!(
            "{} — ricevuta di protocollo n. {}/{}",
            t.data.name,
            v.number_text(),
            v.year
        ),
    );
    w.paragraph(Style::Small, &t.data.name)?;
    w.paragraph(Style::Title, "Ricevuta di protocollo")?;
    w.paragraph(
        Style::Body,
        &format!(
            "Il {} attesta che il documento descritto di seguito è stato registrato nel proprio registro di protocollo informatico (DPR 445/2000, artt. 53 e 57).",
            t.data.name
        ),
    )?;
    if v.annulled {
        w.paragraph(
            Style::Strong,
            "ATTENZIONE: la registrazione risulta ANNULLATA (DPR 445/2000, art. 54).",
        )?;
    }
    w.paragraph(Style::Heading, "Registrazione")?;
    w.field("Ente", &t.data.name)?;
    w.field(
        "AOO",
        &format!(
            "Area organizzativa omogenea dell'ente (codice IPA {})",
            t.data.codice_ipa.as_str()
        ),
    )?;
    w.field("Registro", &v.register)?;
    w.field(
        "Numero di protocollo",
        &format!("{}/{}", v.number_text(), v.year),
    )?;
    w.field(
        "Data e ora",
        &format!("{} (ora italiana)", rome(&v.registered_at)),
    )?;
    w.field("Flusso", flow_label(&v.flow))?;
    w.field("Oggetto", &v.subject)?;
    let label = if v.flow == "E" {
        "Mittente"
    } else {
        "Corrispondenti"
    };
    w.field(label, &v.correspondents.join("\n"))?;
    w.paragraph(Style::Heading, "Documenti e impronte SHA-256")?;
    w.field("Documento principale", &v.primary.name)?;
    w.field_styled("Impronta", &v.primary.sha256, Style::Small)?;
    for (i, a) in v.attachments.iter().enumerate() {
        w.field(&format!("Allegato {}", i + 1), &a.name)?;
        w.field_styled("Impronta", &a.sha256, Style::Small)?;
    }
    w.paragraph(Style::Heading, "Registro di tracciabilità")?;
    let cp = &v.checkpoint;
    w.field(
        "Evento",
        &format!("{} ({})", v.entry.kind(), v.entry.subject()),
    )?;
    w.field(
        "Posizione",
        &format!(
            "voce n. {} di {} nel registro di {}",
            v.entry.seq(),
            cp.size,
            cp.origin
        ),
    )?;
    w.field_styled("Radice del checkpoint", &hex(&cp.root), Style::Small)?;
    w.field_styled(
        "Chiave del checkpoint",
        &format!("{} (id {})", bundle.key_name, hex(&bundle.key_id)),
        Style::Small,
    )?;
    w.rule();
    w.paragraph(Style::Heading, "Come verificare questa ricevuta")?;
    w.paragraph(
        Style::Body,
        "Questo file PDF/A contiene in allegato i dati di verifica (ricevuta.cbor): la voce del registro di tracciabilità dell'ente che riguarda questa registrazione, la prova crittografica che la voce è inclusa nel registro e il checkpoint firmato dall'ente. La verifica non richiede collegamenti con i sistemi del Comune.",
    )?;
    w.paragraph(
        Style::Body,
        "1. Procurati la chiave di verifica pubblicata dall'ente (file .vkey).\n2. Esegui: palazzo verify-receipt ricevuta.pdf --key chiave.vkey\n3. Confronta numero, data e impronte stampati dal programma con quelli di questa pagina; calcola l'impronta SHA-256 dei tuoi file (ad esempio con sha256sum) e confrontala con quelle riportate sopra.",
    )?;
    w.paragraph(
        Style::Small,
        "Il formato e l'algoritmo di verifica sono descritti in docs/receipt-format.md del progetto Palazzo, con dati di prova per realizzare verificatori indipendenti.",
    )?;
    w.attach(Attachment {
        name: receipt::FILE_NAME.into(),
        media_type: receipt::MEDIA_TYPE.into(),
        description: "Dati di verifica della ricevuta di protocollo (palazzo-ricevuta/1)".into(),
        data: bundle.to_bytes(),
        relationship: Relationship::Data,
    });
    w.finish()
}

/// Why a receipt PDF is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptCheckError {
    /// The PDF is not readable, truncated, or holds no (or several) bundles.
    #[error("PDF: {0}")]
    Pdf(String),
    /// The file has no receipt bundle.
    #[error("the PDF holds no receipt bundle")]
    NoBundle,
    /// More than one bundle.
    #[error("the PDF holds more than one receipt bundle")]
    SeveralBundles,
    /// The bundle does not verify.
    #[error(transparent)]
    Bundle(#[from] ReceiptError),
    /// The PDF title does not show the verified number and year.
    #[error("the PDF title does not match the verified registration")]
    TitleMismatch,
}

impl Coded for ReceiptCheckError {
    fn code(&self) -> &'static str {
        match self {
            ReceiptCheckError::Pdf(_) => "receipt_pdf_invalid",
            ReceiptCheckError::NoBundle => "receipt_no_bundle",
            ReceiptCheckError::SeveralBundles => "receipt_several_bundles",
            ReceiptCheckError::Bundle(e) => e.code(),
            ReceiptCheckError::TitleMismatch => "receipt_title_mismatch",
        }
    }

    fn message_it(&self) -> String {
        match self {
            ReceiptCheckError::Pdf(e) => format!("Il file non è un PDF leggibile o è incompleto ({e})"),
            ReceiptCheckError::NoBundle => {
                "Il file non contiene i dati di verifica di una ricevuta di protocollo".to_owned()
            }
            ReceiptCheckError::SeveralBundles => {
                "Il file contiene più di un insieme di dati di verifica".to_owned()
            }
            ReceiptCheckError::Bundle(e) => e.message_it(),
            ReceiptCheckError::TitleMismatch => {
                "Il titolo del documento non corrisponde alla registrazione verificata: la ricevuta è stata alterata".to_owned()
            }
        }
    }
}

/// The text of the XMP `dc:title` of a PDF, if found (uncompressed XMP,
/// as PDF/A writers keep it).
fn xmp_title(pdf: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(pdf);
    let start = text.find("<dc:title>")?;
    let end = start + text[start..].find("</dc:title>")?;
    let inner = &text[start..end];
    let li = inner.find("<rdf:li")?;
    let open = li + inner[li..].find('>')? + 1;
    let close = open + inner[open..].find("</rdf:li>")?;
    Some(
        inner[open..close]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Verifies a receipt PDF offline (`docs/receipt-format.md`, steps 1–7)
/// against the verifier keys the caller trusts.
///
/// # Errors
/// The first failed check.
pub fn verify_pdf(
    pdf: &[u8],
    trusted: &[(String, VerifyingKey)],
) -> Result<Verified, ReceiptCheckError> {
    let files = palazzo_pdf::read::embedded_files(pdf)
        .map_err(|e| ReceiptCheckError::Pdf(e.to_string()))?;
    let mut bundles = files
        .into_iter()
        .filter(|f| f.media_type.as_deref() == Some(receipt::MEDIA_TYPE));
    let bundle = bundles.next().ok_or(ReceiptCheckError::NoBundle)?;
    if bundles.next().is_some() {
        return Err(ReceiptCheckError::SeveralBundles);
    }
    let verified = receipt::verify(&bundle.data, trusted)?;
    if xmp_title(pdf).as_deref() != Some(title(verified.number, verified.year).as_str()) {
        return Err(ReceiptCheckError::TitleMismatch);
    }
    Ok(verified)
}
