//! Registration from an e-mail file (`.eml`, RFC 5322 with MIME; issue 4,
//! "the protocol desk … register incoming from upload or e-mail file";
//! `docs/documents.md`, "Registering an e-mail").
//!
//! The protocol desk uploads the message as it was received (saved from
//! the mail client or the PEC box). Palazzo reads it with the `mail-parser`
//! crate and proposes the registration's fields:
//!
//! - the **sender** from `From` (display name and address; RFC 2047
//!   encoded words decoded);
//! - the **subject** from `Subject` (likewise decoded);
//! - the **received document's date** from `Date`, as the Europe/Rome civil
//!   date of that instant (a message sent at 23:30 UTC on 1 March is of 2
//!   March in Rome), none when `Date` is missing or unreadable;
//! - the **received document's number** from `Message-ID` (without `<>`);
//! - the **MIME attachments**, with their names and decoded contents.
//!
//! On registration the `.eml` itself is the primary document, stored bit
//! for bit as received (SYS-4), and each MIME attachment becomes an
//! attachment of the registration, stored and type-checked by content like
//! any upload: one attachment of a type not allowed refuses the whole
//! registration, with the attachment's name in the message.

use jiff::Timestamp;
use jiff::civil::Date;
use mail_parser::{MessageParser, MimeHeaders};
use palazzo_domain::calendar::rome_date;
use palazzo_store::DocumentRef;
use serde::Serialize;

use palazzo_domain::access::Permission;
use palazzo_domain::ids::Email;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_store::{OfficeId, Registration, TenantId};

use crate::access::Actor;
use crate::documents::{Detected, clean_name, detect};
use crate::protocollo::RegistrationInput;
use crate::{App, ServiceError, ServiceResult};

/// The longest Message-ID kept as the received document's number.
const MAX_MESSAGE_ID: usize = 200;

/// At most this many attachments are taken from one message.
pub const MAX_ATTACHMENTS: usize = 99;

/// A MIME attachment of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmlAttachment {
    /// Its file name (from `Content-Disposition` or `Content-Type`), or
    /// `allegato-N` when the message gives none.
    pub name: String,
    /// The media type the message declares (`application/pdf`); only
    /// informative: the type is checked from the content.
    pub declared_type: String,
    /// The content, transfer encoding (base64, quoted-printable) removed.
    #[serde(skip)]
    pub content: Vec<u8>,
    /// Size of the content in bytes.
    pub size: u64,
    /// What the content is, or why it is refused (Italian), as the
    /// document store will judge it.
    #[serde(skip)]
    pub detected: Result<Detected, String>,
}

impl EmlAttachment {
    /// The refusal message when the content is of a type not allowed.
    pub fn refusal(&self) -> Option<&str> {
        self.detected.as_ref().err().map(String::as_str)
    }
}

/// What a message proposes for a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmlMessage {
    /// Display name of the sender (`From`), decoded.
    pub from_name: Option<String>,
    /// Address of the sender.
    pub from_address: Option<String>,
    /// Subject, decoded.
    pub subject: Option<String>,
    /// `Date` as an instant.
    pub sent_at: Option<Timestamp>,
    /// The Europe/Rome civil date of `Date`: the received document's date.
    pub date: Option<Date>,
    /// `Message-ID` without angle brackets: the received document's number.
    pub message_id: Option<String>,
    /// The MIME attachments, in message order.
    pub attachments: Vec<EmlAttachment>,
}

impl EmlMessage {
    /// The sender as the register names a correspondent: the display name,
    /// else the address.
    pub fn sender_name(&self) -> Option<&str> {
        self.from_name.as_deref().or(self.from_address.as_deref())
    }
}

fn not_an_email() -> ServiceError {
    ServiceError::Invalid {
        code: "eml_invalid",
        message: "Il file non è un messaggio di posta elettronica (.eml) leggibile: salva il messaggio dal programma di posta con «Salva come» (formato .eml) e riprova.".into(),
    }
}

/// One line, trimmed, without control characters (a folded header may
/// leave some).
fn one_line(s: &str) -> Option<String> {
    let v: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!v.is_empty()).then_some(v)
}

fn extension_of(declared: &str) -> &'static str {
    match declared {
        "application/pdf" => ".pdf",
        "application/xml" | "text/xml" => ".xml",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/tiff" => ".tif",
        "text/plain" => ".txt",
        "text/csv" => ".csv",
        "message/rfc822" => ".eml",
        "application/pkcs7-mime" => ".p7m",
        _ => "",
    }
}

/// Reads a message: the fields it proposes and its attachments, each
/// judged by content as the document store will judge it. Refused with
/// `eml_invalid` when it is not an RFC 5322 message with a `From`.
pub fn parse_eml(bytes: &[u8]) -> ServiceResult<EmlMessage> {
    if !matches!(detect(bytes), Ok(d) if d.kind == crate::documents::Kind::Eml) {
        return Err(not_an_email());
    }
    let msg = MessageParser::default()
        .parse(bytes)
        .ok_or_else(not_an_email)?;
    let from = msg.from().and_then(|a| a.first());
    let from_name = from.and_then(|a| a.name()).and_then(one_line);
    let from_address = from
        .and_then(|a| a.address())
        .and_then(one_line)
        .filter(|a| a.contains('@'));
    if from_name.is_none() && from_address.is_none() {
        return Err(not_an_email());
    }
    let sent_at = msg
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok());
    let message_id = msg
        .message_id()
        .and_then(one_line)
        .map(|id| id.trim_matches(['<', '>']).to_owned())
        .filter(|id| !id.is_empty())
        .map(|id| id.chars().take(MAX_MESSAGE_ID).collect());
    let mut attachments = Vec::new();
    for (i, part) in msg.attachments().enumerate() {
        if attachments.len() >= MAX_ATTACHMENTS {
            return Err(ServiceError::Invalid {
                code: "eml_too_many_attachments",
                message: format!(
                    "Il messaggio ha più di {MAX_ATTACHMENTS} allegati: registralo caricando i documenti a mano."
                ),
            });
        }
        let declared_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let name = part
            .attachment_name()
            .and_then(|n| clean_name(n).ok())
            .unwrap_or_else(|| format!("allegato-{}{}", i + 1, extension_of(&declared_type)));
        let content = part.contents().to_vec();
        let detected = detect(&content).map_err(|e| e.message_it());
        attachments.push(EmlAttachment {
            name,
            declared_type,
            size: content.len() as u64,
            content,
            detected,
        });
    }
    Ok(EmlMessage {
        from_name,
        from_address,
        subject: msg.subject().and_then(one_line),
        date: sent_at.map(rome_date),
        sent_at,
        message_id,
        attachments,
    })
}

/// The fields of a registration from a message, each replacing what the
/// message proposes when given (the desk's form, the API's `dati`).
#[derive(Debug, Clone, Default)]
pub struct EmlFields {
    /// Oggetto; the message's subject when `None`.
    pub subject: Option<String>,
    /// The mittente; the sender of `From` when empty.
    pub correspondents: Vec<Correspondent>,
    /// Number of the received document; the `Message-ID` when `None`.
    pub received_number: Option<String>,
    /// Date of the received document; the Rome date of `Date` when `None`.
    pub received_date: Option<Date>,
    /// Classification.
    pub classification: Option<String>,
    /// Competent office.
    pub office: Option<OfficeId>,
    /// Further attachments, already stored, after the message's own.
    pub extra_attachments: Vec<DocumentRef>,
}

impl EmlMessage {
    /// The sender of `From` as the mittente of a registration.
    pub fn sender(&self) -> Option<Correspondent> {
        Some(Correspondent {
            kind: CorrespondentKind::PersonaFisica,
            name: self.sender_name()?.to_owned(),
            fiscal_code: None,
            ipa: None,
            email: self
                .from_address
                .as_deref()
                .and_then(|a| Email::parse(a).ok()),
            address: None,
            per_conoscenza: false,
        })
    }
}

impl App {
    /// Registers a received e-mail message (flow `E`): the `.eml` bytes are
    /// stored as they are as the primary document (SYS-4), each MIME
    /// attachment as an attachment (type-checked by content: one not
    /// allowed refuses the registration, nothing registered), and the
    /// fields come from the message unless `fields` gives them. The file
    /// must be an e-mail by content (`eml_invalid`).
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn register_eml(
        &self,
        tenant: TenantId,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
        fields: EmlFields,
    ) -> ServiceResult<Registration> {
        actor.require(Permission::RegisterProtocol)?;
        let message = parse_eml(bytes)?;
        let attachments = self.store_eml_attachments(&message).await?;
        let stored = self.documents().put_bytes(file_name, bytes).await?;
        if stored.detected.kind != crate::documents::Kind::Eml {
            return Err(not_an_email());
        }
        let correspondents = if fields.correspondents.is_empty() {
            message.sender().into_iter().collect()
        } else {
            fields.correspondents
        };
        let mut all = attachments;
        all.extend(fields.extra_attachments);
        let input = RegistrationInput {
            register: None,
            flow: Flow::Entrata,
            subject: fields
                .subject
                .or_else(|| message.subject.clone())
                .unwrap_or_default(),
            correspondents,
            received_number: fields
                .received_number
                .or_else(|| message.message_id.clone()),
            received_date: fields.received_date.or(message.date),
            primary: stored.to_ref(),
            attachments: all,
            classification: fields.classification,
            office: fields.office,
            emergency: None,
        };
        self.register_protocol(tenant, actor, input).await
    }

    /// Stores the MIME attachments of `message` in the document store, in
    /// order, for the registration of the message. The first one of a type
    /// not allowed refuses them all (`document_type_not_allowed`, naming
    /// the attachment); those stored before it stay, unreferenced and
    /// harmless (content-addressed, like any refused upload).
    pub async fn store_eml_attachments(
        &self,
        message: &EmlMessage,
    ) -> ServiceResult<Vec<DocumentRef>> {
        let mut out = Vec::with_capacity(message.attachments.len());
        for a in &message.attachments {
            if let Some(why) = a.refusal() {
                return Err(ServiceError::Invalid {
                    code: "document_type_not_allowed",
                    message: format!(
                        "L'allegato «{}» del messaggio non si può registrare: {why} Nessuna registrazione è stata fatta.",
                        a.name
                    ),
                });
            }
            let stored = self
                .documents()
                .put_bytes(&a.name, &a.content)
                .await
                .map_err(|e| match e {
                    ServiceError::Invalid { code, message } => ServiceError::Invalid {
                        code,
                        message: format!(
                            "L'allegato «{}» del messaggio non si può registrare: {message}",
                            a.name
                        ),
                    },
                    e => e,
                })?;
            out.push(stored.to_ref());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PDF: &[u8] =
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        let s = base64::engine::general_purpose::STANDARD.encode(bytes);
        s.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// multipart/mixed with a quoted-printable text body and a base64 PDF,
    /// an encoded-word subject and sender, sent late on 1 March UTC.
    fn mixed() -> Vec<u8> {
        format!(
            "Return-Path: <anna.verdi@example.org>\r\n\
             Received: from mx.example.org by mail.comune.example\r\n\
             \tfor <protocollo@comune.example>; Sun, 1 Mar 2026 23:40:00 +0000\r\n\
             From: =?UTF-8?Q?Anna_Verdi_Nicol=C3=B2?= <anna.verdi@example.org>\r\n\
             To: protocollo@comune.example\r\n\
             Subject: =?UTF-8?Q?Richiesta_di_accesso_agli_atti_=E2=80=93_pratica_n.?=\r\n \
             =?UTF-8?B?IDEyLzIwMjYgKHVyZ2VudGUp?=\r\n\
             Date: Sun, 1 Mar 2026 23:30:00 +0000\r\n\
             Message-ID: <20260301233000.4242@example.org>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"frontiera\"\r\n\
             \r\n\
             Questo è un messaggio MIME.\r\n\
             --frontiera\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\
             \r\n\
             Gentile Comune, chiedo copia della determina n. 7 =E2=80=93 grazie.=\r\n\
             \r\n\
             --frontiera\r\n\
             Content-Type: application/pdf; name=\"istanza.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"istanza.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             \r\n\
             {}\r\n\
             --frontiera--\r\n",
            b64(PDF)
        )
        .into_bytes()
    }

    #[test]
    fn a_multipart_message_with_a_pdf() {
        let m = parse_eml(&mixed()).unwrap();
        assert_eq!(m.from_name.as_deref(), Some("Anna Verdi Nicolò"));
        assert_eq!(m.from_address.as_deref(), Some("anna.verdi@example.org"));
        assert_eq!(
            m.subject.as_deref(),
            Some("Richiesta di accesso agli atti – pratica n. 12/2026 (urgente)")
        );
        // 23:30 UTC on 1 March is 00:30 on 2 March in Rome.
        assert_eq!(m.sent_at.unwrap().to_string(), "2026-03-01T23:30:00Z");
        assert_eq!(m.date, Some(jiff::civil::date(2026, 3, 2)));
        assert_eq!(
            m.message_id.as_deref(),
            Some("20260301233000.4242@example.org")
        );
        assert_eq!(m.attachments.len(), 1, "the text body is not an attachment");
        let a = &m.attachments[0];
        assert_eq!(a.name, "istanza.pdf");
        assert_eq!(a.declared_type, "application/pdf");
        assert_eq!(a.content, PDF, "base64 decoded exactly");
        assert_eq!(a.detected.as_ref().unwrap().media_type, "application/pdf");
        assert!(a.refusal().is_none());
    }

    #[test]
    fn quoted_printable_attachment_latin1_subject_and_no_date() {
        let eml = b"From: \"Ufficio Tributi, Comune di Bari\" <tributi@comune.bari.example>\r\n\
Subject: =?ISO-8859-1?Q?Comunicazione_perch=E9_urgente?=\r\n\
Message-ID:\r\n <abc-123@comune.bari.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b1\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=ISO-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Si trasmette l'avviso. Cordialit=E0.\r\n\
--b1\r\n\
Content-Type: text/csv; charset=UTF-8\r\n\
Content-Disposition: attachment; filename*=UTF-8''elenco%20contribuenti.csv\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
codice;importo=0D=0AA1;10=0D=0AB2;20=0D=0A\r\n\
--b1--\r\n";
        let m = parse_eml(eml).unwrap();
        assert_eq!(
            m.from_name.as_deref(),
            Some("Ufficio Tributi, Comune di Bari")
        );
        assert_eq!(m.subject.as_deref(), Some("Comunicazione perché urgente"));
        assert_eq!(m.sent_at, None);
        assert_eq!(m.date, None, "no Date header: no date proposed");
        assert_eq!(m.message_id.as_deref(), Some("abc-123@comune.bari.example"));
        assert_eq!(m.attachments.len(), 1);
        let a = &m.attachments[0];
        assert_eq!(a.name, "elenco contribuenti.csv");
        assert_eq!(a.content, b"codice;importo\r\nA1;10\r\nB2;20\r\n");
        assert_eq!(a.detected.as_ref().unwrap().media_type, "text/csv");
    }

    #[test]
    fn a_forbidden_attachment_is_flagged_and_a_single_part_message_has_none() {
        let exe = [0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00];
        let eml = format!(
            "From: mario@example.org\r\nSubject: Fattura\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n\
--x\r\nContent-Type: text/plain\r\n\r\nIn allegato.\r\n\
--x\r\nContent-Type: application/octet-stream; name=fattura.exe\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--x--\r\n",
            b64(&exe)
        );
        let m = parse_eml(eml.as_bytes()).unwrap();
        assert_eq!(m.from_name, None);
        assert_eq!(m.sender_name(), Some("mario@example.org"));
        assert_eq!(m.date, Some(jiff::civil::date(2026, 3, 2)));
        assert_eq!(m.attachments[0].name, "fattura.exe");
        assert!(
            m.attachments[0]
                .refusal()
                .unwrap()
                .contains("Tipo di file non ammesso")
        );
        let plain = b"From: Anna <a@example.org>\r\nSubject: Solo testo\r\n\r\nCiao\r\n";
        assert!(parse_eml(plain).unwrap().attachments.is_empty());
    }

    #[test]
    fn not_a_message() {
        assert_eq!(parse_eml(PDF).unwrap_err().code(), "eml_invalid");
        assert_eq!(
            parse_eml(b"Subject: senza mittente\r\n\r\nx")
                .unwrap_err()
                .code(),
            "eml_invalid"
        );
    }
}
