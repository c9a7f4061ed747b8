//! The registro giornaliero di protocollo (DPR 445/2000 art. 53 c.2; LG
//! §3; PR-9; DECISIONS 12, 29; docs/registro-giornaliero.md).
//!
//! For every Europe/Rome civil day D and every protocol register, one
//! registro lists every registration of D in number order (as it stood at
//! the end of D) and then what changed on D: every change of classification
//! or office (with author, value before and after, from `protocol_changes`)
//! and the annulments of registrations of earlier days, the new versions of
//! documents (SYS-3) and the notices of annulment received from senders
//! (Allegato 6), each bound to its ledger event; it prints the first and
//! last number and the counts, and the signed ledger checkpoint that covers
//! D's last ledger event with its RFC 3161 token. It
//! is written twice — PDF/A-3 for people (with the XML embedded as an
//! associated file) and XML for programs (schema
//! `docs/registro-giornaliero.xsd`) — stored in the document store, recorded
//! as a repertorio/registro entry formed under modalità d) (Allegato 5) with
//! its frozen SHA-256 fingerprints, ledgered as
//! `protocollo.registro_giornaliero`, and marked "pronto per la
//! conservazione" with the deadline of the next office working day.
//!
//! The registro is **not** itself a protocol registration: LG §3 and
//! Allegato 5 model it as a repertorio/registro document (`TipoRegistro` =
//! `Repertorio_Registro`), and protocolling it would put it into the next
//! day's registro, for ever. Its repertorio number is the day of the year,
//! so one registro per day can have neither gaps nor duplicates, whatever
//! the order in which catch-up produces them.
//!
//! A day is produced once: a job row (tenant, `registro_giornaliero`, D) is
//! the claim (migration 0010) and the registri table is unique on
//! (tenant, register, day), so two processes (or the server loop and the
//! CLI) never write two registri of the same day.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use palazzo_domain::calendar::{Calendar, PatronSaint, rome_date, rome_time_zone};
use palazzo_domain::protocollo::{CorrespondentKind, Flow, RegisterCode};
use palazzo_pdf::{Attachment, Info, PdfWriter, Relationship, Style};
use palazzo_store::*;

use crate::keys::SEAL_AOO_FILE;
use crate::keys::hex;
use crate::ledger::record;
use crate::tsa::TsaClient;
use crate::{App, ServiceError, ServiceResult};

/// The job kind in the job table.
pub const JOB_KIND: &str = "registro_giornaliero";
/// The ledger event of a registro.
pub const EVENT_KIND: &str = "protocollo.registro_giornaliero";
/// The XML namespace of the machine-readable registro.
pub const XML_NAMESPACE: &str = "urn:palazzo:registro-giornaliero:1";
/// The version of the format written (`versione`): 2 adds the changes of
/// classification and office with the values before and after, the new
/// versions of documents and the notices of annulment received; the schema
/// still accepts version 1.
pub const XML_VERSION: &str = "2";
/// The schema of the machine-readable registro.
pub const XSD: &str = include_str!("../../../docs/registro-giornaliero.xsd");
/// How long after midnight a day is considered closed: a registration whose
/// time was read just before midnight (DECISIONS 8) may still be committing.
pub const SETTLE: SignedDuration = SignedDuration::from_secs(120);
/// A claim older than this whose owner never finished is taken over.
pub const STALE_CLAIM: SignedDuration = SignedDuration::from_secs(15 * 60);
/// The oggetto of every registro (LG §3 practice).
pub const OGGETTO: &str = "Registro giornaliero di protocollo";

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

/// What [`App::produce_registro_giornaliero`] did.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The registri of the day, one per register.
    pub registri: Vec<RegistroGiornaliero>,
    /// False when they existed already (nothing was rewritten).
    pub created: bool,
    /// Whether a TSA time-stamped the checkpoint.
    pub timestamped: bool,
}

/// The first instant of a Rome civil day and of the next one.
pub fn day_bounds(day: Date) -> ServiceResult<(Timestamp, Timestamp)> {
    let tz = rome_time_zone();
    let start = day
        .to_zoned(tz.clone())
        .map_err(|e| ServiceError::Internal(format!("day start: {e}")))?;
    let next = day
        .tomorrow()
        .and_then(|d| d.to_zoned(tz))
        .map_err(|e| ServiceError::Internal(format!("day end: {e}")))?;
    Ok((start.timestamp(), next.timestamp()))
}

/// The office calendar of a tenant (national holidays, its patron saint).
pub fn tenant_calendar(t: &Tenant) -> Calendar {
    let cal = Calendar::new();
    match t
        .data
        .patron_saint
        .as_deref()
        .map(PatronSaint::parse)
        .transpose()
    {
        Ok(Some(p)) => cal.with_patron_saint(p),
        _ => cal,
    }
}

/// PR-9: the registro of D reaches conservation "by the next working day",
/// i.e. the first office working day after D (DECISIONS 9, *office working
/// days*: the comune's opening days without national holidays and the
/// patron saint).
pub fn conservation_deadline(calendar: &Calendar, day: Date) -> ServiceResult<Date> {
    let next = day
        .tomorrow()
        .map_err(|e| ServiceError::Internal(format!("deadline: {e}")))?;
    calendar
        .next_office_day(next)
        .map_err(|e| ServiceError::Internal(format!("deadline: {e}")))
}

/// `<IPA><AOO>-YYYYMMDD-NNN` (LG §3 practice, e.g. `UNIS00134-20160102-001`).
pub fn registro_code(ipa: &str, aoo: &str, day: Date, n: usize) -> String {
    format!("{ipa}{aoo}-{}-{n:03}", day.strftime("%Y%m%d"))
}

fn rome(t: Timestamp) -> String {
    t.to_zoned(rome_time_zone())
        .strftime("%d/%m/%Y %H:%M:%S")
        .to_string()
}

/// A modifiable field of a registration (art. 53; LG §3: only the
/// classification and the internal assignment may change, PR-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// The classification (titolario code).
    Classificazione,
    /// The competent office (assegnazione interna).
    Assegnazione,
}

impl Field {
    /// The `tipo` of the `Modifica` element.
    fn tipo(self) -> &'static str {
        match self {
            Field::Classificazione => "Classificazione",
            Field::Assegnazione => "Assegnazione",
        }
    }

    /// The field's name in the PDF.
    fn label_it(self) -> &'static str {
        match self {
            Field::Classificazione => "Classificazione",
            Field::Assegnazione => "Ufficio competente (assegnazione)",
        }
    }
}

/// A value before or after a change: the text and, for an office, its slug.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldValue {
    text: String,
    office: Option<String>,
}

/// What a [`Modification`] did.
#[derive(Debug, Clone)]
enum Change {
    /// The annulment of a registration of an earlier day (art. 54).
    Annullamento(Annulment),
    /// A change of a modifiable field (a row of `protocol_changes`).
    Campo {
        field: Field,
        by: String,
        before: Option<FieldValue>,
        after: Option<FieldValue>,
    },
}

/// An entry of *Modifiche*: a change of classification or office made on D
/// (to a registration of any day) or the annulment made on D of a
/// registration of an earlier day.
#[derive(Debug, Clone)]
struct Modification {
    at: Timestamp,
    registration: Registration,
    change: Change,
    /// The ledger event that records it, when found.
    event: Option<LedgerEvent>,
}

/// A new version of a document made on D (SYS-3).
#[derive(Debug, Clone)]
struct NewVersion {
    version: DocumentVersion,
    registration: Registration,
    event: Option<LedgerEvent>,
}

impl NewVersion {
    /// The name of the document as registered (version 1).
    fn original(&self) -> Option<&DocumentRef> {
        let d = &self.registration.data;
        match self.version.data.document {
            0 => Some(&d.primary),
            n => d.attachments.get(usize::try_from(n).ok()? - 1),
        }
    }

    fn role(&self) -> &'static str {
        if self.version.data.document == 0 {
            "principale"
        } else {
            "allegato"
        }
    }

    fn label_it(&self) -> String {
        match self.version.data.document {
            0 => "Documento principale".to_owned(),
            n => format!("Allegato {n}"),
        }
    }
}

/// A notice of annulment received on D from the sender of a registration
/// (Allegato 6 §3.1; migration 0017).
#[derive(Debug, Clone)]
struct ReceivedAnnulment {
    notice: AnnulmentNotice,
    registration: Registration,
    /// The sender's identifier of its own registration, from the received
    /// segnatura.
    sender: Option<SenderIdentifier>,
    event: Option<LedgerEvent>,
}

/// What a registro lists besides its header: see [`App::day_changes`].
struct DayChanges {
    registrations: Vec<Registration>,
    modifications: Vec<Modification>,
    versions: Vec<NewVersion>,
    notices: Vec<ReceivedAnnulment>,
}

/// The registration as the ledger event of change `c` recorded it: the
/// state `App::reassign_protocol` binds (fixed fields, the new modifiable
/// values, the change's author and time, not annulled).
fn state_after(reg: &Registration, c: &ProtocolChange) -> Registration {
    let mut r = reg.clone();
    r.data.classification = c.new_classification.clone();
    r.data.office = c.new_office;
    r.changed = Some(LastChange {
        at: c.at,
        by: c.by.clone(),
    });
    r.annulment = None;
    r
}

/// The checkpoint printed in a registro, with its token.
#[derive(Debug, Clone)]
struct Anchor {
    checkpoint: CheckpointRecord,
    token: Option<CheckpointTimestamp>,
}

/// Everything one registro prints.
struct Content<'a> {
    tenant: &'a Tenant,
    aoo: &'a str,
    code: String,
    register: &'a str,
    day: Date,
    repertorio: u32,
    registrations: Vec<&'a Registration>,
    modifications: Vec<&'a Modification>,
    versions: Vec<&'a NewVersion>,
    notices: Vec<&'a ReceivedAnnulment>,
    anchor: Option<&'a Anchor>,
    end: Timestamp,
    produced_at: Timestamp,
    produced_by: &'a str,
    deadline: Date,
}

impl Content<'_> {
    fn first(&self) -> Option<u64> {
        self.registrations.first().map(|r| r.number.get())
    }

    fn last(&self) -> Option<u64> {
        self.registrations.last().map(|r| r.number.get())
    }

    /// The annulment as it stood at the end of D.
    fn annulment_of<'r>(&self, r: &'r Registration) -> Option<&'r Annulment> {
        r.annulment.as_ref().filter(|a| a.at < self.end)
    }
}

// ------------------------------------------------------------------ XML

/// A small XML writer: start/end tags, escaped text and attributes.
#[derive(Default)]
struct Xml {
    out: String,
    bad: bool,
}

fn xml_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl Xml {
    fn escape(&mut self, s: &str, attr: bool) {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' if attr => self.out.push_str("&quot;"),
                '\n' if attr => self.out.push_str("&#xA;"),
                '\r' => self.out.push_str("&#xD;"),
                '\t' if attr => self.out.push_str("&#x9;"),
                c if xml_ok(c) => self.out.push(c),
                _ => self.bad = true,
            }
        }
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.escape(v, true);
            self.out.push('"');
        }
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.escape(text, false);
        self.close(name);
    }

    fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, &[], t);
        }
    }
}

fn corrispondente_kind(k: CorrespondentKind) -> &'static str {
    match k {
        CorrespondentKind::PersonaFisica => "PF",
        CorrespondentKind::PersonaGiuridica => "PG",
        CorrespondentKind::Amministrazione => "PAI",
    }
}

fn xml_registration(w: &mut Xml, c: &Content<'_>, r: &Registration) {
    let d = &r.data;
    w.open("Registrazione", &[]);
    w.leaf("Numero", &[], &r.number.to_string());
    w.leaf("Anno", &[], &r.year.to_string());
    w.leaf("DataOra", &[], &r.registered_at.to_string());
    w.leaf("Flusso", &[], d.flow.code());
    let role = if d.flow == Flow::Entrata {
        "Mittente"
    } else {
        "Destinatario"
    };
    for k in &d.correspondents {
        let per_conoscenza = if k.per_conoscenza { "true" } else { "false" };
        w.open(
            "Corrispondente",
            &[
                ("ruolo", role),
                ("tipo", corrispondente_kind(k.kind)),
                ("perConoscenza", per_conoscenza),
            ],
        );
        w.leaf("Denominazione", &[], &k.name);
        w.opt("CodiceFiscale", k.fiscal_code.as_deref());
        w.opt("CodiceIPA", k.ipa.as_deref());
        w.opt("IndirizzoDigitale", k.email.as_ref().map(|e| e.as_str()));
        w.close("Corrispondente");
    }
    w.leaf("Oggetto", &[], &d.subject);
    if d.received_number.is_some() || d.received_date.is_some() {
        w.open("DocumentoRicevuto", &[]);
        w.opt("Numero", d.received_number.as_deref());
        w.opt("Data", d.received_date.map(|x| x.to_string()).as_deref());
        w.close("DocumentoRicevuto");
    }
    for (role, doc) in std::iter::once(("principale", &d.primary))
        .chain(d.attachments.iter().map(|a| ("allegato", a)))
    {
        w.open("Documento", &[("ruolo", role)]);
        w.leaf("Nome", &[], &doc.name);
        w.leaf("Impronta", &[("algoritmo", "SHA-256")], &doc.sha256.hex());
        w.close("Documento");
    }
    w.opt("Classificazione", d.classification.as_deref());
    if let Some(e) = &d.emergency {
        w.open("RegistroEmergenza", &[]);
        w.leaf("Codice", &[], &e.register);
        w.leaf("Numero", &[], &e.number.to_string());
        w.close("RegistroEmergenza");
    }
    if let Some(a) = c.annulment_of(r) {
        w.open("Annullamento", &[]);
        w.leaf("DataOra", &[], &a.at.to_string());
        w.leaf("Autore", &[], &a.by);
        w.leaf("Motivo", &[], &a.reason);
        w.leaf("Provvedimento", &[], &a.act);
        w.close("Annullamento");
    }
    w.close("Registrazione");
}

/// The registration a change is about: number, year, register, time.
fn xml_entry(w: &mut Xml, r: &Registration) {
    w.leaf("Numero", &[], &r.number.to_string());
    w.leaf("Anno", &[], &r.year.to_string());
    w.leaf("CodiceRegistro", &[], r.data.register.as_str());
    w.leaf("DataOraRegistrazione", &[], &r.registered_at.to_string());
}

/// The ledger event that records a change: its number and recorded state.
fn xml_event(w: &mut Xml, e: Option<&LedgerEvent>) {
    if let Some(e) = e {
        w.leaf(
            "EventoRegistro",
            &[
                ("progressivo", &e.seq.to_string()),
                ("statoSHA256", &hex(&e.state_hash)),
            ],
            "",
        );
    }
}

fn render_xml(c: &Content<'_>) -> ServiceResult<Vec<u8>> {
    let t = &c.tenant.data;
    let mut w = Xml::default();
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.open(
        "RegistroGiornaliero",
        &[("xmlns", XML_NAMESPACE), ("versione", XML_VERSION)],
    );
    w.out.push('\n');
    w.leaf("Identificativo", &[], &c.code);
    w.leaf("Oggetto", &[], OGGETTO);
    w.open("Ente", &[]);
    w.leaf("Denominazione", &[], &t.name);
    w.leaf("CodiceIPA", &[], t.codice_ipa.as_str());
    if !c.aoo.is_empty() {
        w.leaf("CodiceAOO", &[], c.aoo);
    }
    w.leaf("CodiceFiscale", &[], t.codice_fiscale.as_str());
    w.close("Ente");
    w.leaf("CodiceRegistro", &[], c.register);
    w.leaf("Giorno", &[], &c.day.to_string());
    w.leaf("NumeroRepertorio", &[], &c.repertorio.to_string());
    w.leaf("DataOraProduzione", &[], &c.produced_at.to_string());
    w.leaf("Operatore", &[], c.produced_by);
    w.leaf("ScadenzaConservazione", &[], &c.deadline.to_string());
    w.open("Riepilogo", &[]);
    w.leaf(
        "NumeroRegistrazioni",
        &[],
        &c.registrations.len().to_string(),
    );
    if let (Some(first), Some(last)) = (c.registrations.first(), c.registrations.last()) {
        w.leaf("PrimoNumero", &[], &first.number.to_string());
        w.leaf("UltimoNumero", &[], &last.number.to_string());
    }
    w.leaf("NumeroModifiche", &[], &c.modifications.len().to_string());
    w.leaf("NumeroNuoveVersioni", &[], &c.versions.len().to_string());
    w.leaf(
        "NumeroAnnullamentiComunicati",
        &[],
        &c.notices.len().to_string(),
    );
    w.close("Riepilogo");
    w.open("Registrazioni", &[]);
    w.out.push('\n');
    for r in &c.registrations {
        xml_registration(&mut w, c, r);
    }
    w.close("Registrazioni");
    w.open("Modifiche", &[]);
    w.out.push('\n');
    for m in &c.modifications {
        let tipo = match &m.change {
            Change::Annullamento(_) => "Annullamento",
            Change::Campo { field, .. } => field.tipo(),
        };
        w.open("Modifica", &[("tipo", tipo)]);
        xml_entry(&mut w, &m.registration);
        w.leaf("DataOraModifica", &[], &m.at.to_string());
        match &m.change {
            Change::Annullamento(a) => {
                w.leaf("Autore", &[], &a.by);
                w.leaf("Motivo", &[], &a.reason);
                w.leaf("Provvedimento", &[], &a.act);
            }
            Change::Campo {
                by, before, after, ..
            } => {
                w.leaf("Autore", &[], by);
                for (name, v) in [("ValorePrecedente", before), ("ValoreNuovo", after)] {
                    if let Some(v) = v {
                        match &v.office {
                            Some(slug) => w.leaf(name, &[("ufficio", slug.as_str())], &v.text),
                            None => w.leaf(name, &[], &v.text),
                        }
                    }
                }
            }
        }
        xml_event(&mut w, m.event.as_ref());
        w.close("Modifica");
    }
    w.close("Modifiche");
    w.open("NuoveVersioni", &[]);
    w.out.push('\n');
    for v in &c.versions {
        let d = &v.version.data;
        w.open("NuovaVersione", &[("tipo", d.kind.allegato5())]);
        xml_entry(&mut w, &v.registration);
        w.leaf("DataOraModifica", &[], &v.version.at.to_string());
        w.leaf("Autore", &[], &d.author);
        let index = d.document.to_string();
        let mut attrs = vec![("ruolo", v.role())];
        if d.document > 0 {
            attrs.push(("allegato", index.as_str()));
        }
        w.leaf(
            "Documento",
            &attrs,
            v.original().map_or("", |o| o.name.as_str()),
        );
        w.leaf("Versione", &[], &d.version.to_string());
        w.leaf("Nome", &[], &d.file.name);
        w.leaf(
            "Impronta",
            &[("algoritmo", "SHA-256")],
            &d.file.sha256.hex(),
        );
        w.leaf(
            "ImprontaPrecedente",
            &[("algoritmo", "SHA-256")],
            &d.previous.hex(),
        );
        w.leaf("Motivo", &[], &d.reason);
        xml_event(&mut w, v.event.as_ref());
        w.close("NuovaVersione");
    }
    w.close("NuoveVersioni");
    w.open("AnnullamentiComunicati", &[]);
    w.out.push('\n');
    for n in &c.notices {
        let d = &n.notice.data;
        w.open("AnnullamentoComunicato", &[]);
        xml_entry(&mut w, &n.registration);
        w.leaf("DataOraRicezione", &[], &n.notice.received_at.to_string());
        if let Some(s) = &n.sender {
            w.open("RegistrazioneMittente", &[]);
            w.leaf("CodiceAmministrazione", &[], &s.amministrazione);
            w.leaf("CodiceAOO", &[], &s.aoo);
            w.leaf("CodiceRegistro", &[], &s.registro);
            w.leaf("Numero", &[], &s.numero);
            w.leaf("Data", &[], &s.data.to_string());
            w.close("RegistrazioneMittente");
        }
        w.leaf("Motivo", &[], &d.reason);
        w.leaf("Provvedimento", &[], &d.act);
        w.leaf("RegistratoDa", &[], &d.recorded_by);
        w.leaf(
            "Impronta",
            &[("algoritmo", "SHA-256")],
            &d.document.sha256.hex(),
        );
        xml_event(&mut w, n.event.as_ref());
        w.close("AnnullamentoComunicato");
    }
    w.close("AnnullamentiComunicati");
    w.open("Tracciabilita", &[]);
    w.out.push('\n');
    if let Some(a) = c.anchor {
        let cp = &a.checkpoint;
        w.open("Checkpoint", &[]);
        w.leaf("Dimensione", &[], &cp.size.to_string());
        w.leaf("Radice", &[], &B64.encode(cp.root));
        w.leaf("DataOra", &[], &cp.time.to_string());
        w.leaf("NotaFirmata", &[], &cp.note);
        w.close("Checkpoint");
        if let Some(tok) = &a.token {
            w.leaf(
                "MarcaTemporale",
                &[
                    ("formato", "RFC3161"),
                    ("tsa", &tok.tsa_url),
                    ("dataOra", &tok.gen_time.to_string()),
                ],
                &B64.encode(&tok.token),
            );
        }
    }
    w.close("Tracciabilita");
    w.close("RegistroGiornaliero");
    if w.bad {
        return Err(ServiceError::Internal(
            "registro giornaliero: a character XML cannot carry".into(),
        ));
    }
    Ok(w.out.into_bytes())
}

// ------------------------------------------------------------------ PDF

fn flow_label(f: Flow) -> &'static str {
    f.label_it()
}

/// "registrazione n. 0000012/2026 del 03/03/2026 10:00:00".
fn entry_label(r: &Registration) -> String {
    format!(
        "registrazione n. {}/{} del {}",
        r.number,
        r.year,
        rome(r.registered_at)
    )
}

/// The ledger event that records a change, when found.
fn pdf_event(w: &mut PdfWriter, e: Option<&LedgerEvent>) -> Result<(), palazzo_pdf::PdfError> {
    if let Some(e) = e {
        w.field(
            "Evento del registro di tracciabilità",
            &format!("n. {} — stato SHA-256 {}", e.seq, hex(&e.state_hash)),
        )?;
    }
    Ok(())
}

fn render_pdf(c: &Content<'_>, xml: &[u8]) -> Result<Vec<u8>, palazzo_pdf::PdfError> {
    let t = &c.tenant.data;
    let day = c.day.strftime("%d/%m/%Y").to_string();
    let mut w = PdfWriter::new(
        Info {
            title: format!("{OGGETTO} del {day} — {}", c.code),
            subject: format!("{OGGETTO} del {day}, registro {}", c.register),
            author: t.name.clone(),
            language: "it-IT".into(),
            created: c.produced_at,
        },
        format!("{} — {} — {OGGETTO} del {day}", t.name, c.code),
    );
    w.paragraph(Style::Small, &t.name)?;
    w.paragraph(Style::Title, &format!("{OGGETTO} del {day}"))?;
    w.paragraph(
        Style::Body,
        "Registro delle registrazioni di protocollo del giorno (DPR 445/2000, art. 53 c.2; Linee guida AgID 2021, §3), prodotto automaticamente e in forma non modificabile. Le registrazioni sono elencate in ordine di numero, con la classificazione e l'annullamento come erano alla fine del giorno; seguono le modifiche apportate nel giorno (classificazione e assegnazione, con il valore precedente e quello nuovo, e gli annullamenti di registrazioni dei giorni precedenti), le nuove versioni dei documenti e gli annullamenti comunicati dai mittenti.",
    )?;
    w.paragraph(Style::Heading, "Dati del registro")?;
    w.field("Identificativo", &c.code)?;
    w.field(
        "Ente",
        &format!("{} (codice IPA {})", t.name, t.codice_ipa.as_str()),
    )?;
    if !c.aoo.is_empty() {
        w.field("AOO", c.aoo)?;
    }
    w.field("Codice registro", c.register)?;
    w.field("Giorno", &day)?;
    w.field(
        "Numero di repertorio",
        &format!("{}/{}", c.repertorio, c.day.year()),
    )?;
    w.field("Registrazioni", &c.registrations.len().to_string())?;
    match (c.first(), c.registrations.first(), c.registrations.last()) {
        (Some(_), Some(first), Some(last)) => {
            w.field("Primo numero", &format!("{}/{}", first.number, first.year))?;
            w.field("Ultimo numero", &format!("{}/{}", last.number, last.year))?;
        }
        _ => w.field("Primo e ultimo numero", "—")?,
    }
    w.field("Modifiche", &c.modifications.len().to_string())?;
    w.field(
        "Nuove versioni dei documenti",
        &c.versions.len().to_string(),
    )?;
    w.field(
        "Annullamenti comunicati dai mittenti",
        &c.notices.len().to_string(),
    )?;
    w.field(
        "Prodotto il",
        &format!("{} (ora italiana)", rome(c.produced_at)),
    )?;
    w.field("Prodotto da", c.produced_by)?;
    w.field(
        "Conservazione",
        &format!(
            "Pronto per la conservazione; da inviare entro il {}",
            c.deadline.strftime("%d/%m/%Y")
        ),
    )?;

    w.paragraph(Style::Heading, "Registrazioni del giorno")?;
    if c.registrations.is_empty() {
        w.paragraph(
            Style::Strong,
            "Nel giorno non è stata effettuata alcuna registrazione di protocollo in questo registro.",
        )?;
    }
    for r in &c.registrations {
        let d = &r.data;
        w.rule();
        w.paragraph(
            Style::Strong,
            &format!(
                "N. {}/{} — {} — {}",
                r.number,
                r.year,
                rome(r.registered_at),
                flow_label(d.flow)
            ),
        )?;
        let label = if d.flow == Flow::Entrata {
            "Mittente"
        } else {
            "Destinatari"
        };
        let people: Vec<String> = d
            .correspondents
            .iter()
            .map(|k| {
                let mut s = k.name.clone();
                if let Some(cf) = &k.fiscal_code {
                    s.push_str(&format!(" ({cf})"));
                }
                if k.per_conoscenza {
                    s.push_str(" — per conoscenza");
                }
                s
            })
            .collect();
        w.field(label, &people.join("\n"))?;
        w.field("Oggetto", &d.subject)?;
        if d.received_number.is_some() || d.received_date.is_some() {
            w.field(
                "Documento ricevuto",
                &format!(
                    "n. {} del {}",
                    d.received_number.as_deref().unwrap_or("—"),
                    d.received_date
                        .map_or_else(|| "—".to_owned(), |x| x.strftime("%d/%m/%Y").to_string())
                ),
            )?;
        }
        w.field("Documento principale", &d.primary.name)?;
        w.field_styled("Impronta SHA-256", &d.primary.sha256.hex(), Style::Small)?;
        for (i, a) in d.attachments.iter().enumerate() {
            w.field(&format!("Allegato {}", i + 1), &a.name)?;
            w.field_styled("Impronta SHA-256", &a.sha256.hex(), Style::Small)?;
        }
        if let Some(cl) = &d.classification {
            w.field("Classificazione", cl)?;
        }
        if let Some(e) = &d.emergency {
            w.field(
                "Registro di emergenza",
                &format!("{} n. {}", e.register, e.number),
            )?;
        }
        if let Some(a) = c.annulment_of(r) {
            w.field(
                "ANNULLATA",
                &format!(
                    "il {} da {}; motivo: {}; provvedimento: {}",
                    rome(a.at),
                    a.by,
                    a.reason,
                    a.act
                ),
            )?;
        }
    }

    w.paragraph(Style::Heading, "Modifiche")?;
    if c.modifications.is_empty() {
        w.paragraph(
            Style::Body,
            "Nel giorno non è stata modificata la classificazione o l'assegnazione di alcuna registrazione né annullata alcuna registrazione dei giorni precedenti.",
        )?;
    }
    for m in &c.modifications {
        let what = match &m.change {
            Change::Annullamento(_) => "Annullamento",
            Change::Campo { field, .. } => field.label_it(),
        };
        w.rule();
        w.paragraph(
            Style::Strong,
            &format!("{what} — {}", entry_label(&m.registration)),
        )?;
        w.field("Data e ora", &rome(m.at))?;
        match &m.change {
            Change::Annullamento(a) => {
                w.field("Autore", &a.by)?;
                w.field("Motivo", &a.reason)?;
                w.field("Provvedimento", &a.act)?;
            }
            Change::Campo {
                by, before, after, ..
            } => {
                w.field("Autore", by)?;
                let shown = |v: &Option<FieldValue>| {
                    v.as_ref().map_or_else(
                        || "— (nessuno)".to_owned(),
                        |v| match &v.office {
                            Some(slug) => format!("{} ({slug})", v.text),
                            None => v.text.clone(),
                        },
                    )
                };
                w.field("Valore precedente", &shown(before))?;
                w.field("Valore nuovo", &shown(after))?;
            }
        }
        pdf_event(&mut w, m.event.as_ref())?;
    }

    w.paragraph(Style::Heading, "Nuove versioni dei documenti")?;
    if c.versions.is_empty() {
        w.paragraph(
            Style::Body,
            "Nel giorno non è stata registrata alcuna nuova versione di documenti.",
        )?;
    }
    for v in &c.versions {
        let d = &v.version.data;
        w.rule();
        w.paragraph(
            Style::Strong,
            &format!(
                "{} — {}, versione {}",
                entry_label(&v.registration),
                v.label_it(),
                d.version
            ),
        )?;
        w.field("Data e ora", &rome(v.version.at))?;
        w.field("Tipo di modifica", d.kind.allegato5())?;
        w.field("Autore", &d.author)?;
        w.field("Motivo", &d.reason)?;
        if let Some(o) = v.original() {
            w.field("Documento registrato", &o.name)?;
        }
        w.field("Nuovo file", &d.file.name)?;
        w.field_styled("Impronta SHA-256", &d.file.sha256.hex(), Style::Small)?;
        w.field_styled(
            "Impronta della versione precedente",
            &d.previous.hex(),
            Style::Small,
        )?;
        pdf_event(&mut w, v.event.as_ref())?;
    }

    w.paragraph(Style::Heading, "Annullamenti comunicati dai mittenti")?;
    if c.notices.is_empty() {
        w.paragraph(
            Style::Body,
            "Nel giorno non è pervenuta alcuna comunicazione di annullamento da parte dei mittenti.",
        )?;
    } else {
        w.paragraph(
            Style::Body,
            "Il mittente ha annullato la propria registrazione del messaggio (Allegato 6, AnnullamentoProtocollazione): la comunicazione è conservata con la nostra registrazione, che resta valida; un suo annullamento è un atto distinto (art. 54).",
        )?;
    }
    for n in &c.notices {
        let d = &n.notice.data;
        w.rule();
        w.paragraph(Style::Strong, &entry_label(&n.registration))?;
        w.field("Ricevuto il", &rome(n.notice.received_at))?;
        if let Some(s) = &n.sender {
            w.field(
                "Registrazione del mittente",
                &format!(
                    "{} {} {} n. {} del {}",
                    s.amministrazione,
                    s.aoo,
                    s.registro,
                    s.numero,
                    s.data.strftime("%d/%m/%Y")
                ),
            )?;
        }
        w.field("Motivo", &d.reason)?;
        w.field("Provvedimento del mittente", &d.act)?;
        w.field("Registrato da", &d.recorded_by)?;
        w.field_styled(
            "Impronta SHA-256 del messaggio",
            &d.document.sha256.hex(),
            Style::Small,
        )?;
        pdf_event(&mut w, n.event.as_ref())?;
    }

    w.paragraph(Style::Heading, "Registro di tracciabilità (ledger)")?;
    match c.anchor {
        None => w.paragraph(
            Style::Body,
            "Il registro di tracciabilità non conteneva ancora eventi alla fine del giorno.",
        )?,
        Some(a) => {
            let cp = &a.checkpoint;
            w.paragraph(
                Style::Body,
                "Checkpoint firmato che copre l'ultimo evento del giorno (DECISIONS 12): chiunque può verificare che le registrazioni elencate sono incluse nel registro di tracciabilità con una prova di inclusione rispetto a questa radice.",
            )?;
            w.field("Dimensione dell'albero", &cp.size.to_string())?;
            w.field_styled("Radice (base64)", &B64.encode(cp.root), Style::Small)?;
            w.field_styled("Radice (hex)", &hex(&cp.root), Style::Small)?;
            w.field("Firmato il", &rome(cp.time))?;
            w.field_styled("Nota firmata", &cp.note, Style::Small)?;
            match &a.token {
                Some(tok) => {
                    w.field(
                        "Marca temporale",
                        &format!(
                            "RFC 3161, {} (ora italiana), rilasciata da {}",
                            rome(tok.gen_time),
                            tok.tsa_url
                        ),
                    )?;
                    w.field_styled("Token (base64)", &B64.encode(&tok.token), Style::Small)?;
                }
                None => w.field(
                    "Marca temporale",
                    "Assente: nessuna autorità di marcatura temporale configurata.",
                )?,
            }
        }
    }
    w.attach(Attachment {
        name: format!("{}.xml", c.code),
        media_type: "application/xml".into(),
        description: "Registro giornaliero in formato XML (urn:palazzo:registro-giornaliero:1)"
            .into(),
        data: xml.to_vec(),
        relationship: Relationship::Data,
    });
    w.finish()
}

// ------------------------------------------------------------------ service

impl App {
    /// Sets the time-stamp authority (`[tsa]`); `None` leaves checkpoints
    /// un-timestamped.
    pub fn set_tsa(&self, tsa: Option<TsaClient>) {
        if let Ok(mut slot) = self.inner.tsa.write() {
            *slot = tsa;
        }
    }

    fn tsa(&self) -> Option<TsaClient> {
        self.inner.tsa.read().ok().and_then(|t| t.clone())
    }

    /// The registri giornalieri of a tenant, newest first (needs
    /// `ReadProtocol`).
    pub async fn registri_giornalieri(
        &self,
        tenant: TenantId,
        actor: &crate::access::Actor,
        limit: u32,
    ) -> ServiceResult<Vec<RegistroGiornaliero>> {
        actor.require(palazzo_domain::access::Permission::ReadProtocol)?;
        Ok(self
            .db()
            .registri_giornalieri(tenant, limit.clamp(1, 1000))
            .await?)
    }

    /// One registro and the bytes of its PDF (`pdf`) or XML file, checked
    /// against the frozen fingerprint (needs `ReadProtocol`).
    pub async fn registro_giornaliero_file(
        &self,
        tenant: TenantId,
        actor: &crate::access::Actor,
        code: &str,
        pdf: bool,
    ) -> ServiceResult<(RegistroGiornaliero, Vec<u8>)> {
        actor.require(palazzo_domain::access::Permission::ReadProtocol)?;
        let r = self
            .db()
            .registro_giornaliero(tenant, code)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let doc = if pdf { &r.data.pdf } else { &r.data.xml };
        let bytes = self.documents().get(&doc.sha256).await?;
        if palazzo_domain::protocollo::Impronta::of(&bytes) != doc.sha256 {
            return Err(ServiceError::Internal(format!(
                "registro {code}: stored file does not match its fingerprint"
            )));
        }
        Ok((r, bytes))
    }

    /// Produces the registri giornalieri of `day` (one per register) unless
    /// they exist: idempotent, and a day is produced once even when several
    /// processes ask at the same time. `day` must be over (Europe/Rome) for
    /// at least [`SETTLE`].
    #[tracing::instrument(skip_all, fields(tenant = tenant.0, day = %day))]
    pub async fn produce_registro_giornaliero(
        &self,
        tenant: TenantId,
        day: Date,
        produced_by: &str,
    ) -> ServiceResult<Produced> {
        self.produce_registro_giornaliero_as_of(tenant, day, produced_by, Timestamp::now())
            .await
    }

    /// [`App::produce_registro_giornaliero`] as if the clock read `as_of`
    /// (only for the "is the day over" check; tests produce the registro of
    /// the current day with it).
    pub async fn produce_registro_giornaliero_as_of(
        &self,
        tenant: TenantId,
        day: Date,
        produced_by: &str,
        as_of: Timestamp,
    ) -> ServiceResult<Produced> {
        let t = self.tenant(tenant)?;
        let (start, end) = day_bounds(day)?;
        if as_of < end + SETTLE {
            return Err(invalid(
                "registro_giorno_non_concluso",
                format!(
                    "Il registro giornaliero del {} si può produrre solo dopo la fine del giorno.",
                    day.strftime("%d/%m/%Y")
                ),
            ));
        }
        let db = self.db();
        let existing = db.registri_of_day(tenant, day).await?;
        if !existing.is_empty() {
            return Ok(Produced {
                timestamped: existing.iter().all(|r| r.data.timestamped),
                registri: existing,
                created: false,
            });
        }
        let owner = format!(
            "{}:{}:{:016x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "palazzo".into()),
            std::process::id(),
            rand::random::<u64>()
        );
        let now = Timestamp::now();
        let mut tx = db.begin().await?;
        let claimed = tx
            .claim_job(tenant, JOB_KIND, day, &owner, now, now - STALE_CLAIM)
            .await?;
        tx.commit().await?;
        if !claimed {
            return self.wait_for_other(tenant, day).await;
        }
        match self.build(&t, day, start, end, produced_by, &owner).await {
            Ok(p) => Ok(p),
            Err(e) => {
                tracing::error!(error = %e, "registro giornaliero failed; will retry");
                let msg = e.to_string();
                if let Ok(mut tx) = db.begin().await
                    && tx
                        .finish_job(tenant, JOB_KIND, day, &owner, Some(&msg), Timestamp::now())
                        .await
                        .is_ok()
                {
                    let _ = tx.commit().await;
                }
                Err(e)
            }
        }
    }

    /// Another process holds the claim: wait for its registri (up to a
    /// minute), so that every caller gets the same answer.
    async fn wait_for_other(&self, tenant: TenantId, day: Date) -> ServiceResult<Produced> {
        for _ in 0..300 {
            let registri = self.db().registri_of_day(tenant, day).await?;
            if !registri.is_empty() {
                return Ok(Produced {
                    timestamped: registri.iter().all(|r| r.data.timestamped),
                    registri,
                    created: false,
                });
            }
            match self.db().job(tenant, JOB_KIND, day).await? {
                Some(j) if j.state == JobState::Running => {}
                _ => break,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(invalid(
            "registro_in_produzione",
            "Il registro giornaliero di questo giorno è in produzione da parte di un altro processo o non è stato completato; riprova tra qualche minuto.",
        ))
    }

    /// The checkpoint that covers every ledger event before `end`, with its
    /// RFC 3161 token (obtained now if a TSA is configured).
    async fn anchor(&self, t: &Tenant, end: Timestamp) -> ServiceResult<Option<Anchor>> {
        let db = self.db();
        let size = db.ledger_size_before(t.id, end).await?;
        if size == 0 {
            return Ok(None);
        }
        let checkpoint = match db.checkpoint_covering(t.id, size).await? {
            Some(c) => c,
            None => {
                self.checkpoint(t).await?;
                db.checkpoint_covering(t.id, size).await?.ok_or_else(|| {
                    ServiceError::Internal("no checkpoint covers the day's events".into())
                })?
            }
        };
        let mut token = db.checkpoint_timestamp(t.id, checkpoint.size).await?;
        if token.is_none() {
            match self.tsa() {
                None => tracing::warn!(
                    tenant = %t.data.slug,
                    size = checkpoint.size,
                    "no [tsa] configured: the checkpoint of the registro giornaliero is not timestamped"
                ),
                Some(client) => {
                    let stamped = client.timestamp(checkpoint.note.as_bytes()).await?;
                    let record = CheckpointTimestamp {
                        size: checkpoint.size,
                        imprint: sha2::Digest::finalize(
                            <sha2::Sha256 as sha2::Digest>::new_with_prefix(
                                checkpoint.note.as_bytes(),
                            ),
                        )
                        .into(),
                        token: stamped.der,
                        gen_time: stamped.gen_time,
                        tsa_url: client.url().to_owned(),
                        created_at: Timestamp::now(),
                    };
                    let mut tx = db.begin().await?;
                    tx.insert_checkpoint_timestamp(t.id, &record).await?;
                    tx.commit().await?;
                    token = db.checkpoint_timestamp(t.id, checkpoint.size).await?;
                }
            }
        }
        Ok(Some(Anchor { checkpoint, token }))
    }

    /// What happened on the day `[start, end)`: its registrations as they
    /// stood at the end of the day, and the changes made that day (DPR
    /// 445/2000 art. 53; LG §3; PR-9) — *Modifiche* (every change of
    /// classification or office, from `protocol_changes`, to registrations
    /// of any day, and the annulments of registrations of earlier days), the
    /// new versions of documents (SYS-3) and the notices of annulment
    /// received from senders — each with the ledger event that records it.
    async fn day_changes(
        &self,
        t: &Tenant,
        start: Timestamp,
        end: Timestamp,
    ) -> ServiceResult<DayChanges> {
        let db = self.db();
        let mut registrations = db.registrations_between(t.id, start, end).await?;
        let changes = db.protocol_changes_since(t.id, start).await?;
        let versions = db.document_versions_between(t.id, start, end).await?;
        let notices = db.annulment_notices_between(t.id, start, end).await?;
        // A change's ledger event may carry a time just after the change's
        // own (it is appended later in the same transaction): look a little
        // past the end of the day.
        let events = db.ledger_events_between(t.id, start, end + SETTLE).await?;
        let mut by_subject: HashMap<&str, Vec<&LedgerEvent>> = HashMap::new();
        for e in &events {
            by_subject.entry(e.subject.as_str()).or_default().push(e);
        }
        let event_of = |subject: &str, hash: Option<[u8; 32]>| -> Option<LedgerEvent> {
            by_subject.get(subject).and_then(|es| {
                es.iter()
                    .find(|e| hash.is_none_or(|h| e.state_hash == h))
                    .map(|e| (*e).clone())
            })
        };
        let mut cache: HashMap<RegistrationId, Registration> =
            registrations.iter().map(|r| (r.id, r.clone())).collect();
        let offices: HashMap<OfficeId, Office> = db
            .offices(t.id)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let office_value = |id: OfficeId| match offices.get(&id) {
            Some(o) => FieldValue {
                text: o.data.name.clone(),
                office: Some(o.data.slug.clone()),
            },
            None => FieldValue {
                text: format!("ufficio n. {}", id.0),
                office: None,
            },
        };
        let text_value = |s: &str| FieldValue {
            text: s.to_owned(),
            office: None,
        };

        let mut modifications = Vec::new();
        for c in changes.iter().filter(|c| c.at < end) {
            let Some(reg) = self.cached(t, &mut cache, c.registration).await? else {
                continue;
            };
            let after_change = state_after(&reg, c);
            let event = event_of(
                &after_change.subject(),
                Some(crate::ledger::state_hash(&after_change)?),
            );
            let mut fields = Vec::new();
            if c.old_classification != c.new_classification {
                fields.push((
                    Field::Classificazione,
                    c.old_classification.as_deref().map(text_value),
                    c.new_classification.as_deref().map(text_value),
                ));
            }
            if c.old_office != c.new_office {
                fields.push((
                    Field::Assegnazione,
                    c.old_office.map(office_value),
                    c.new_office.map(office_value),
                ));
            }
            if fields.is_empty() {
                // Confirmed as it was: still a traced operation.
                fields.push((
                    Field::Classificazione,
                    c.old_classification.as_deref().map(text_value),
                    c.new_classification.as_deref().map(text_value),
                ));
            }
            for (field, before, after) in fields {
                modifications.push(Modification {
                    at: c.at,
                    registration: reg.clone(),
                    change: Change::Campo {
                        field,
                        by: c.by.clone(),
                        before,
                        after,
                    },
                    event: event.clone(),
                });
            }
        }
        for e in events
            .iter()
            .filter(|e| e.time < end && e.kind == "protocollo.annulled")
        {
            let Some(id) = e
                .subject
                .strip_prefix("protocollo:")
                .and_then(|s| s.parse::<i64>().ok())
            else {
                continue;
            };
            let Some(reg) = self.cached(t, &mut cache, RegistrationId(id)).await? else {
                continue;
            };
            // Only registrations of earlier days: those of D show their
            // annulment inline.
            let Some(a) = reg.annulment.clone().filter(|_| reg.registered_at < start) else {
                continue;
            };
            modifications.push(Modification {
                at: a.at,
                registration: reg,
                change: Change::Annullamento(a),
                event: Some(e.clone()),
            });
        }
        modifications.sort_by_key(|m| m.at);

        // The registrations of D as they stood at the end of D: a change
        // made later is undone with the values it replaced.
        for r in &mut registrations {
            if let Some(c) = changes
                .iter()
                .find(|c| c.at >= end && c.registration == r.id)
            {
                r.data.classification = c.old_classification.clone();
                r.data.office = c.old_office;
            }
        }

        let mut new_versions = Vec::new();
        for v in versions {
            let Some(registration) = self.cached(t, &mut cache, v.data.registration).await? else {
                continue;
            };
            let event = event_of(&v.subject(), None);
            new_versions.push(NewVersion {
                version: v,
                registration,
                event,
            });
        }
        let mut received = Vec::new();
        for n in notices {
            let Some(registration) = self.cached(t, &mut cache, n.data.registration).await? else {
                continue;
            };
            let sender = db
                .segnatura(t.id, registration.id)
                .await?
                .and_then(|s| s.data.sender);
            let event = event_of(&n.subject(), None);
            received.push(ReceivedAnnulment {
                notice: n,
                registration,
                sender,
                event,
            });
        }
        Ok(DayChanges {
            registrations,
            modifications,
            versions: new_versions,
            notices: received,
        })
    }

    /// A registration by id, read once per registro.
    async fn cached(
        &self,
        t: &Tenant,
        cache: &mut HashMap<RegistrationId, Registration>,
        id: RegistrationId,
    ) -> ServiceResult<Option<Registration>> {
        if let Some(r) = cache.get(&id) {
            return Ok(Some(r.clone()));
        }
        let r = self.db().registration(t.id, id).await?;
        if let Some(r) = &r {
            cache.insert(id, r.clone());
        }
        Ok(r)
    }

    async fn build(
        &self,
        t: &Tenant,
        day: Date,
        start: Timestamp,
        end: Timestamp,
        produced_by: &str,
        owner: &str,
    ) -> ServiceResult<Produced> {
        let DayChanges {
            registrations,
            modifications,
            versions,
            notices,
        } = self.day_changes(t, start, end).await?;
        let general = RegisterCode::general();
        let mut registers: BTreeSet<String> = registrations
            .iter()
            .chain(modifications.iter().map(|m| &m.registration))
            .chain(versions.iter().map(|v| &v.registration))
            .chain(notices.iter().map(|n| &n.registration))
            .map(|r| r.data.register.as_str().to_owned())
            .collect();
        registers.remove(general.as_str());
        let registers: Vec<String> = std::iter::once(general.as_str().to_owned())
            .chain(registers)
            .collect();
        let anchor = self.anchor(t, end).await?;
        let aoo = self
            .keys()
            .read_file(&t.data.slug, SEAL_AOO_FILE)?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .unwrap_or_default();
        let deadline = conservation_deadline(&tenant_calendar(t), day)?;
        let repertorio = u32::try_from(day.day_of_year()).unwrap_or(0);
        // Microseconds: what both backends store (the row must read back equal).
        let produced_at = Timestamp::from_microsecond(Timestamp::now().as_microsecond())
            .map_err(|e| ServiceError::Internal(format!("clock: {e}")))?;
        let mut rows = Vec::new();
        for (i, register) in registers.iter().enumerate() {
            let content = Content {
                tenant: t,
                aoo: &aoo,
                code: registro_code(t.data.codice_ipa.as_str(), &aoo, day, i + 1),
                register,
                day,
                repertorio,
                registrations: registrations
                    .iter()
                    .filter(|r| r.data.register.as_str() == register)
                    .collect(),
                modifications: modifications
                    .iter()
                    .filter(|m| m.registration.data.register.as_str() == register)
                    .collect(),
                versions: versions
                    .iter()
                    .filter(|v| v.registration.data.register.as_str() == register)
                    .collect(),
                notices: notices
                    .iter()
                    .filter(|n| n.registration.data.register.as_str() == register)
                    .collect(),
                anchor: anchor.as_ref(),
                end,
                produced_at,
                produced_by,
                deadline,
            };
            let xml = render_xml(&content)?;
            let pdf = render_pdf(&content, &xml)
                .map_err(|e| ServiceError::Internal(format!("registro PDF/A: {e}")))?;
            let xml_doc = self
                .documents()
                .put_bytes(&format!("{}.xml", content.code), &xml)
                .await?;
            let pdf_doc = self
                .documents()
                .put_bytes(&format!("{}.pdf", content.code), &pdf)
                .await?;
            rows.push(NewRegistroGiornaliero {
                day,
                register: register.to_owned(),
                code: content.code.clone(),
                repertorio_number: repertorio,
                first_number: content.first(),
                last_number: content.last(),
                registrations: u32::try_from(content.registrations.len()).unwrap_or(u32::MAX),
                modifications: u32::try_from(content.modifications.len()).unwrap_or(u32::MAX),
                document_versions: u32::try_from(content.versions.len()).unwrap_or(u32::MAX),
                annulment_notices: u32::try_from(content.notices.len()).unwrap_or(u32::MAX),
                pdf: pdf_doc.to_ref(),
                xml: xml_doc.to_ref(),
                checkpoint_size: anchor.as_ref().map(|a| a.checkpoint.size),
                checkpoint_root: anchor.as_ref().map(|a| a.checkpoint.root),
                timestamped: anchor.as_ref().is_some_and(|a| a.token.is_some()),
                produced_at,
                produced_by: produced_by.to_owned(),
                conservation_state: ConservationState::Pronto,
                conservation_deadline: deadline,
            });
        }
        let mut tx = self.db().begin().await?;
        let mut stored = Vec::new();
        for row in &rows {
            let r = tx.insert_registro_giornaliero(t.id, row).await?;
            record(&mut tx, t, EVENT_KIND, &r).await?;
            stored.push(r);
        }
        tx.finish_job(t.id, JOB_KIND, day, owner, None, Timestamp::now())
            .await?;
        tx.commit().await?;
        self.ledger_changed(t.id);
        tracing::info!(
            tenant = %t.data.slug,
            %day,
            registri = stored.len(),
            "registro giornaliero produced"
        );
        Ok(Produced {
            timestamped: stored.iter().all(|r| r.data.timestamped),
            registri: stored,
            created: true,
        })
    }

    /// Produces every missing registro of `tenant` from the day of its
    /// first registration up to the last closed day before `now`
    /// (catch-up), returning how many days were produced. Days checked
    /// before `from` are skipped.
    pub async fn catch_up_registri(
        &self,
        tenant: TenantId,
        now: Timestamp,
        from: Option<Date>,
    ) -> ServiceResult<(usize, Option<Date>)> {
        let Some(first) = self.db().first_registration_time(tenant).await? else {
            return Ok((0, None));
        };
        let today = rome_date(now);
        let Ok(mut last_closed) = today.yesterday() else {
            return Ok((0, None));
        };
        if now < day_bounds(last_closed)?.1 + SETTLE {
            match last_closed.yesterday() {
                Ok(d) => last_closed = d,
                Err(_) => return Ok((0, None)),
            }
        }
        let mut day = from.map_or(rome_date(first), |f| f.max(rome_date(first)));
        let mut made = 0;
        let mut done_until = None;
        while day <= last_closed {
            if self.db().registri_of_day(tenant, day).await?.is_empty() {
                let r = self
                    .produce_registro_giornaliero(tenant, day, "Palazzo (produzione automatica)")
                    .await?;
                if r.created {
                    made += 1;
                }
            }
            done_until = Some(day);
            day = day
                .tomorrow()
                .map_err(|e| ServiceError::Internal(format!("day: {e}")))?;
        }
        Ok((made, done_until))
    }

    /// Runs until `shutdown` resolves: at start-up catches up the missed
    /// days of every tenant, then every few minutes produces the previous
    /// day's registri once the day is over (DESIGN "Jobs"; PR-9). Failures
    /// (e.g. the TSA unreachable) are logged and retried at the next tick.
    pub async fn run_registro_giornaliero(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut done: std::collections::HashMap<TenantId, Date> = Default::default();
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            for t in self.tenants() {
                let from = done.get(&t.id).and_then(|d| d.tomorrow().ok());
                match self.catch_up_registri(t.id, Timestamp::now(), from).await {
                    Ok((made, until)) => {
                        if made > 0 {
                            tracing::info!(tenant = %t.data.slug, made, "registri giornalieri produced");
                        }
                        if let Some(d) = until {
                            done.insert(t.id, d);
                        }
                    }
                    Err(e) => tracing::error!(
                        tenant = %t.data.slug,
                        error = %e,
                        "registro giornaliero: will retry"
                    ),
                }
            }
        }
    }
}

/// `palazzo verify` for the registri giornalieri (PR-9, frozen hash): each
/// stored row matches the state its `protocollo.registro_giornaliero` event
/// recorded, and each file in the document store still has the recorded
/// SHA-256.
pub(crate) async fn verify_registri(
    db: &crate::db::Db,
    keys: &crate::keys::KeyStore,
    tenant: &Tenant,
    events: &[LedgerEvent],
    report: &mut crate::verify::Report,
) -> ServiceResult<()> {
    use std::collections::BTreeMap;

    use crate::verify::Problem;

    let data_dir = keys
        .dir()
        .parent()
        .map_or_else(|| keys.dir().to_path_buf(), std::path::Path::to_path_buf);
    let documents = crate::documents::DocumentStore::new(data_dir.join("documents"));
    let mut last: BTreeMap<&str, [u8; 32]> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.subject.starts_with("registro-giornaliero:"))
    {
        last.insert(e.subject.as_str(), e.state_hash);
    }
    let slug = &tenant.data.slug;
    let registri = db.registri_giornalieri(tenant.id, u32::MAX).await?;
    let mut seen = BTreeSet::new();
    for r in &registri {
        report.records += 1;
        let subject = r.subject();
        let problem = |detail: String| Problem::RegistroAltered {
            tenant: slug.clone(),
            code: r.data.code.clone(),
            detail,
        };
        match last.get(subject.as_str()) {
            None => report
                .problems
                .push(problem("no ledger event records it".into())),
            Some(h) if *h != crate::ledger::state_hash(r)? => report.problems.push(problem(
                "the stored row differs from its ledger record".into(),
            )),
            Some(_) => {}
        }
        seen.insert(subject);
        for (what, d) in [("PDF", &r.data.pdf), ("XML", &r.data.xml)] {
            match documents.get(&d.sha256).await {
                Ok(bytes) if palazzo_domain::protocollo::Impronta::of(&bytes) == d.sha256 => {}
                Ok(_) => report.problems.push(problem(format!(
                    "the stored {what} no longer has its SHA-256 {}",
                    d.sha256.hex()
                ))),
                Err(_) => report
                    .problems
                    .push(problem(format!("the stored {what} is missing"))),
            }
        }
    }
    for subject in last.keys() {
        if !seen.contains(*subject) {
            report.problems.push(Problem::RegistroAltered {
                tenant: slug.clone(),
                code: subject
                    .trim_start_matches("registro-giornaliero:")
                    .to_owned(),
                detail: "ledgered but no longer in the database".into(),
            });
        }
    }
    Ok(())
}
