//! The istanza as a document: the PDF/A-3 that is registered in the
//! protocollo as the primary document of a pratica, with the answers as
//! the citizen confirmed them (the summary of C.SE.1.4) and, attached, the
//! same answers as JSON for machines.

use jiff::Timestamp;
use palazzo_pdf::{Attachment, Info, PdfWriter, Relationship, Style};

use crate::{ServiceError, ServiceResult};

/// What the istanza document shows.
#[derive(Debug, Clone)]
pub struct IstanzaDoc<'a> {
    /// The comune's name.
    pub comune: &'a str,
    /// The service's title.
    pub service_title: &'a str,
    /// The applicant's name.
    pub applicant: &'a str,
    /// The applicant's codice fiscale.
    pub applicant_cf: Option<&'a str>,
    /// The summary: a section per step, label–value rows.
    pub sections: &'a [(String, Vec<(String, String)>)],
    /// The declarations ticked, as printed.
    pub declarations: &'a [String],
    /// The attached files (name, SHA-256 hex).
    pub files: &'a [(String, String)],
    /// The answers as JSON (attached to the PDF).
    pub answers_json: &'a str,
    /// When it was submitted.
    pub submitted_at: Timestamp,
}

/// Renders the istanza PDF.
///
/// # Errors
/// [`ServiceError::Internal`] when the PDF cannot be written.
pub fn render(doc: &IstanzaDoc<'_>) -> ServiceResult<Vec<u8>> {
    let pdf = |e: palazzo_pdf::PdfError| ServiceError::Internal(format!("istanza pdf: {e}"));
    let when = doc
        .submitted_at
        .to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string();
    let mut w = PdfWriter::new(
        Info {
            title: format!("Istanza — {}", doc.service_title),
            subject: format!("{} presentata da {}", doc.service_title, doc.applicant),
            author: doc.applicant.to_owned(),
            language: "it-IT".into(),
            created: doc.submitted_at,
        },
        format!("{} — istanza online: {}", doc.comune, doc.service_title),
    );
    w.paragraph(Style::Small, &format!("Al {}", doc.comune))
        .map_err(pdf)?;
    w.paragraph(Style::Title, doc.service_title).map_err(pdf)?;
    let who = match doc.applicant_cf {
        Some(cf) => format!("{} (codice fiscale {cf})", doc.applicant),
        None => doc.applicant.to_owned(),
    };
    w.paragraph(
        Style::Body,
        &format!("Istanza presentata online da {who} il {when}, con identità digitale."),
    )
    .map_err(pdf)?;
    for (title, rows) in doc.sections {
        w.paragraph(Style::Heading, title).map_err(pdf)?;
        for (label, value) in rows {
            w.field(label, value).map_err(pdf)?;
        }
    }
    if !doc.declarations.is_empty() {
        w.paragraph(Style::Heading, "Dichiarazioni").map_err(pdf)?;
        for d in doc.declarations {
            w.paragraph(Style::Body, &format!("[X] {d}")).map_err(pdf)?;
        }
    }
    if !doc.files.is_empty() {
        w.paragraph(Style::Heading, "Allegati").map_err(pdf)?;
        for (name, sha) in doc.files {
            w.field(name, &format!("SHA-256 {sha}")).map_err(pdf)?;
        }
    }
    w.attach(Attachment {
        name: "istanza.json".into(),
        media_type: "application/json".into(),
        description: "Dati dell'istanza in formato JSON".into(),
        data: doc.answers_json.as_bytes().to_vec(),
        relationship: Relationship::Data,
    });
    w.finish().map_err(pdf)
}
