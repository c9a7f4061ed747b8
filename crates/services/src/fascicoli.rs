//! Titolario per ente and fascicoli (issue 4, part 3; protocol-documents.md
//! §5.3, §7, TI-3, TI-4).
//!
//! **Titolario.** Every ente classifies under its own titolario, kept in
//! immutable versions. Version 1 is the 2005 titolario for comuni
//! ([`TITOLARIO_2005`]); it is seeded **lazily**, in its own transaction with
//! its ledger event, the first time anything reads or uses the ente's
//! titolario — so entes created before this feature, and entes created
//! later, get it the same way. Each edit by an authorised role (add, rename
//! or close a voice: [`Permission::ManageTitolario`]) writes the whole next
//! version. A closed voice stays in later versions, marked closed: nothing
//! new is classified under it, nothing already classified changes (TI-3),
//! and its code is never reused. Codes keep their meaning across versions,
//! so a classification is stored as its code; the version in force when a
//! fascicolo was opened is stored with the fascicolo.
//!
//! **`PianoDiClassificazione`** (Allegato 5) is the URN
//! `urn:palazzo:<codice IPA>:titolario:v<N>` ([`piano_di_classificazione`]):
//! stable for ever because versions are immutable and the IPA code
//! identifies the ente independently of its host names.
//!
//! **Fascicoli.** Opened under an open voice of the current version by the
//! staff of the responsible office, with the fields of CAD art. 41 c.2-ter
//! (owner, participating administrations, responsabile del procedimento,
//! oggetto, documents, identifier `YYYY-<titolo>.<classe>-<n>`; n from a
//! gap-free counter per year and class, DECISIONS 7). A registration may be
//! filed in several fascicoli; a closed fascicolo takes no document and
//! loses none (TI-4). Every change is ledgered with the fascicolo's whole
//! state, index included, so `palazzo verify` notices any change made behind
//! Palazzo's back. The index exports as an Allegato 5
//! `AggregazioneDocumentaleInformatica` subset (XML) or CSV
//! ([`IndiceFascicolo`]; format in `docs/fascicoli.md`).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::titolario::{ClassKey, TITOLARIO_2005};
use palazzo_store::*;
use serde::Serialize;

use crate::access::Actor;
use crate::ledger::record;
use crate::{App, ServiceError, ServiceResult};

/// The longest name of a titolario voice.
pub const MAX_VOICE_NAME: usize = 300;
/// The longest oggetto, responsabile, holder or participant.
pub const MAX_FIELD: usize = 1000;
/// At most this many participating administrations.
pub const MAX_PARTICIPANTS: usize = 20;

/// At most this many designated offices, and as many users, in a
/// restricted area.
pub const MAX_DESIGNATED: usize = 50;

/// Who seeded version 1, as written in the version and the ledger.
pub const SEEDER: &str = "Palazzo (titolario 2005 per i Comuni)";

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

/// Who did it, as written in the fascicolo and the ledger (the same form as
/// the protocol register's operator).
fn operator(actor: &Actor) -> String {
    let who = match (actor.user, actor.admin) {
        (Some(u), _) => format!("user:{}", u.0),
        (None, Some(a)) => format!("admin:{}", a.0),
        (None, None) => "anonymous".to_owned(),
    };
    match &actor.name {
        Some(n) => format!("{n} ({who})"),
        None => who,
    }
}

/// `PianoDiClassificazione` of version `version` of an ente's titolario.
pub fn piano_di_classificazione(tenant: &Tenant, version: u32) -> String {
    format!(
        "urn:palazzo:{}:titolario:v{version}",
        tenant.data.codice_ipa.as_str()
    )
}

/// Version 1 of an ente's titolario: the 2005 titolario for comuni.
pub fn seed_version(tenant: TenantId, at: Timestamp) -> TitolarioVersion {
    let mut classes = Vec::new();
    for t in &TITOLARIO_2005 {
        classes.push(TitolarioClass {
            code: t.romano.to_owned(),
            titolo: t.numero,
            classe: None,
            name: t.nome.to_owned(),
            closed: false,
        });
        for c in t.classi {
            classes.push(TitolarioClass {
                code: format!("{}.{}", t.romano, c.numero),
                titolo: t.numero,
                classe: Some(u16::from(c.numero)),
                name: c.nome.to_owned(),
                closed: false,
            });
        }
    }
    TitolarioVersion {
        tenant,
        info: TitolarioVersionInfo {
            version: 1,
            created_at: at,
            created_by: SEEDER.to_owned(),
            change: "Titolario 2005 per gli archivi dei Comuni italiani".to_owned(),
        },
        classes,
    }
}

/// The voice `code` of a version, if any.
fn voice<'a>(v: &'a TitolarioVersion, code: &str) -> Option<&'a TitolarioClass> {
    v.classes.iter().find(|c| c.code == code)
}

/// Does the titolo `titolo` of `v` have classes (then documents are
/// classified at class level, never at titolo level)?
fn has_classes(v: &TitolarioVersion, titolo: u8) -> bool {
    v.classes
        .iter()
        .any(|c| c.titolo == titolo && c.classe.is_some())
}

/// "Titolo / Classe" names of a voice (`Classificazione/Descrizione`).
pub fn denominazione(v: &TitolarioVersion, code: &str) -> Option<String> {
    let c = voice(v, code)?;
    match c.classe {
        None => Some(c.name.clone()),
        Some(_) => {
            let titolo = v
                .classes
                .iter()
                .find(|t| t.titolo == c.titolo && t.classe.is_none())?;
            Some(format!("{} / {}", titolo.name, c.name))
        }
    }
}

/// Checks that `code` is a classification open in version `v` (TI-2, TI-3):
/// it exists, is not closed, and is at the lowest level. Returns the
/// canonical code.
pub fn check_open_voice(v: &TitolarioVersion, code: &str) -> ServiceResult<String> {
    let key = ClassKey::parse(code).map_err(|e| ServiceError::invalid(&e))?;
    let code = key.to_string();
    let Some(c) = voice(v, &code) else {
        return Err(invalid(
            "classifica_unknown",
            format!(
                "La voce {code} non esiste nel titolario dell'ente (versione {}).",
                v.info.version
            ),
        ));
    };
    if c.closed {
        return Err(invalid(
            "classifica_chiusa",
            format!(
                "La voce {code} del titolario è chiusa: non si possono classificare nuovi documenti o fascicoli sotto di essa."
            ),
        ));
    }
    if c.classe.is_none() && has_classes(v, c.titolo) {
        return Err(invalid(
            "classifica_class_required",
            format!("Il titolo {code} richiede una classe, ad esempio {code}.1."),
        ));
    }
    Ok(code)
}

fn parent_closed() -> ServiceError {
    invalid(
        "fascicolo_chiuso",
        "Il fascicolo padre è chiuso: non si possono aprire sottofascicoli.",
    )
}

/// Is the actor inside the restricted area `r` of a fascicolo of `office`
/// (TI-6; CAD art. 41 c.2-quater)? The staff who work the responsible
/// office (its operatori and responsabili, and the dirigenti, who work
/// every office), the staff of a designated office, and the designated
/// users. The general permission to read the register is not enough: the
/// segretario, or an operatore of another office, is outside unless
/// designated.
pub fn inside_area(actor: &Actor, office: OfficeId, r: &FascicoloRestriction) -> bool {
    let p = &actor.principal;
    (p.can(Permission::WorkOfficeCases) && p.can_work_office(office.0))
        || r.offices
            .iter()
            .any(|o| p.grants.iter().any(|g| g.office == Some(o.0)))
        || actor.user.is_some_and(|u| r.users.contains(&u))
}

fn check_text(
    s: &str,
    max: usize,
    code: &'static str,
    what: &str,
    required: bool,
) -> ServiceResult<Option<String>> {
    let s = s.trim();
    if s.is_empty() {
        return if required {
            Err(invalid(code, format!("{what} è obbligatorio.")))
        } else {
            Ok(None)
        };
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(invalid(
            code,
            format!("{what}: al massimo {max} caratteri, senza caratteri di controllo."),
        ));
    }
    Ok(Some(s.to_owned()))
}

/// A change to the titolario; each makes a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "azione", rename_all = "snake_case")]
pub enum TitolarioEdit {
    /// Adds a class to a titolo, numbered after the titolo's last class
    /// (closed ones included: codes are never reused).
    AddClass {
        /// The titolo's code (`VI`).
        titolo: String,
        /// The class name.
        name: String,
    },
    /// Renames a voice (titolo or class); documents keep their code.
    Rename {
        /// The voice's code.
        code: String,
        /// The new name.
        name: String,
    },
    /// Closes a voice (a titolo with all its classes): nothing new is
    /// classified under it; nothing is reclassified (TI-3).
    Close {
        /// The voice's code.
        code: String,
    },
}

/// What to open a fascicolo with (CAD art. 41 c.2-ter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FascicoloInput {
    /// Classification (a voice of the current titolario); for a
    /// sub-fascicolo it may be left empty and is the parent's.
    pub classification: String,
    /// Type.
    pub kind: FascicoloKind,
    /// Oggetto.
    pub subject: String,
    /// The responsible office.
    pub office: OfficeId,
    /// Responsabile del procedimento.
    pub responsible: String,
    /// Other participating administrations.
    pub participants: Vec<String>,
    /// The person or organisation of a persona fisica / giuridica fascicolo.
    pub holder: Option<String>,
    /// The parent, for a sub-fascicolo.
    pub parent: Option<FascicoloRowId>,
}

/// The subjects designated to read a restricted fascicolo (TI-6), as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RestrictionInput {
    /// Offices whose staff may read it.
    pub offices: Vec<OfficeId>,
    /// Users who may read it.
    pub users: Vec<UserId>,
}

/// One `Assegnazione` of a fascicolo (Allegato 5, §5.3; TI-5): a hand-off,
/// never overwritten — a forwarded one ends and the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assegnazione {
    /// Per competenza or per conoscenza.
    pub kind: HandoffKind,
    /// The office it was assigned to.
    pub office: String,
    /// The person it was assigned to by name, if any (given and family
    /// name: what the staff already see, nothing more).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<AssigneePerson>,
    /// When it started.
    pub start: Timestamp,
    /// When it ended (refused, forwarded or closed), if it has.
    pub end: Option<Timestamp>,
}

/// A person a fascicolo is assigned to (the `AS` assignee of Allegato 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssigneePerson {
    /// Nome.
    pub given_name: String,
    /// Cognome.
    pub family_name: String,
}

/// One document of a fascicolo index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexEntry {
    /// The registration.
    pub registration: RegistrationId,
    /// Register code.
    pub register: String,
    /// Register year.
    pub year: i16,
    /// Protocol number, 7 digits.
    pub number: String,
    /// Registration time.
    pub registered_at: Timestamp,
    /// Registration date (Europe/Rome).
    pub date: Date,
    /// E, U or I.
    pub flow: String,
    /// Oggetto.
    pub subject: String,
    /// Primary document name.
    pub document: String,
    /// SHA-256 of the primary document.
    pub sha256: palazzo_domain::protocollo::Impronta,
    /// Whether the registration is annulled.
    pub annulled: bool,
    /// When it was filed in the fascicolo.
    pub added_at: Timestamp,
}

/// A fascicolo's index (`IndiceDocumenti`) with the aggregation's metadata:
/// what [`IndiceFascicolo::xml`] and [`IndiceFascicolo::csv`] export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndiceFascicolo {
    /// The owner administration's name.
    pub ente: String,
    /// Its IPA code.
    pub codice_ipa: String,
    /// The fascicolo.
    pub fascicolo: Fascicolo,
    /// The parent's identifier (`IdAggPrimario`).
    pub parent_code: Option<String>,
    /// `Classificazione/Descrizione`.
    pub classification_name: String,
    /// `PianoDiClassificazione`.
    pub piano: String,
    /// The responsible office's name.
    pub office_name: String,
    /// The documents, in filing order.
    pub documents: Vec<IndexEntry>,
    /// The hand-offs of the whole fascicolo, oldest first (TI-5).
    pub assignments: Vec<Assegnazione>,
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The CSV header of [`IndiceFascicolo::csv`].
pub const CSV_HEADER: &str = "fascicolo,registro,anno,numero,data_registrazione,verso,oggetto,documento,impronta_sha256,annullata,inserito_il";

impl IndiceFascicolo {
    /// The Allegato 5 `AggregazioneDocumentaleInformatica` subset of
    /// protocol-documents.md §5.3 (see `docs/fascicoli.md`).
    pub fn xml(&self) -> String {
        let f = &self.fascicolo;
        let d = &f.data;
        let e = xml_escape;
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str("<AggregazioneDocumentaleInformatica>\n");
        x.push_str(&format!(
            "  <IdAgg><TipoAggregazione>Fascicolo</TipoAggregazione><IdAggregazione>{}</IdAggregazione></IdAgg>\n",
            e(&f.code)
        ));
        x.push_str(&format!(
            "  <TipologiaFascicolo>{}</TipologiaFascicolo>\n",
            d.kind.label_it()
        ));
        x.push_str("  <Soggetti>\n");
        x.push_str(&format!(
            "    <Ruolo><TipoRuolo>AmministrazioneTitolare</TipoRuolo><PAI><IPAAmm><Denominazione>{}</Denominazione><CodiceIPA>{}</CodiceIPA></IPAAmm></PAI></Ruolo>\n",
            e(&self.ente),
            e(&self.codice_ipa)
        ));
        for p in &d.participants {
            x.push_str(&format!(
                "    <Ruolo><TipoRuolo>AmministrazionePartecipante</TipoRuolo><PAI><IPAAmm><Denominazione>{}</Denominazione></IPAAmm></PAI></Ruolo>\n",
                e(p)
            ));
        }
        x.push_str(&format!(
            "    <Ruolo><TipoRuolo>RUP</TipoRuolo><PF><Denominazione>{}</Denominazione></PF></Ruolo>\n",
            e(&d.responsible)
        ));
        x.push_str(&format!(
            "    <Ruolo><TipoRuolo>Assegnatario</TipoRuolo><PAI><IPAAmm><CodiceIPA>{}</CodiceIPA></IPAAmm><IPAUOR><Denominazione>{}</Denominazione></IPAUOR></PAI></Ruolo>\n",
            e(&self.codice_ipa),
            e(&self.office_name)
        ));
        if let Some(h) = &d.holder {
            let (role, kind) = match d.kind {
                FascicoloKind::PersonaGiuridica => ("SoggettoIntestatarioPersonaGiuridica", "PG"),
                _ => ("SoggettoIntestatarioPersonaFisica", "PF"),
            };
            x.push_str(&format!(
                "    <Ruolo><TipoRuolo>{role}</TipoRuolo><{kind}><Denominazione>{}</Denominazione></{kind}></Ruolo>\n",
                e(h)
            ));
        }
        x.push_str("  </Soggetti>\n");
        for a in &self.assignments {
            let tipo = match a.kind {
                HandoffKind::Competenza => "per competenza",
                HandoffKind::Conoscenza => "per conoscenza",
            };
            // A person assigned by name is the AS (assignee) within the
            // office (UOR) of the ente.
            let person = a.person.as_ref().map_or_else(String::new, |p| {
                format!(
                    "<AS><Cognome>{}</Cognome><Nome>{}</Nome></AS>",
                    e(&p.family_name),
                    e(&p.given_name)
                )
            });
            x.push_str(&format!(
                "  <Assegnazione><TipoAssegnazione>{tipo}</TipoAssegnazione><SoggettoAssegnatario><IPAAmm><CodiceIPA>{}</CodiceIPA></IPAAmm><IPAUOR><Denominazione>{}</Denominazione></IPAUOR>{person}</SoggettoAssegnatario><DataInizioAssegnazione>{}</DataInizioAssegnazione>",
                e(&self.codice_ipa),
                e(&a.office),
                a.start
            ));
            if let Some(end) = a.end {
                x.push_str(&format!(
                    "<DataFineAssegnazione>{end}</DataFineAssegnazione>"
                ));
            }
            x.push_str("</Assegnazione>\n");
        }
        x.push_str(&format!("  <DataApertura>{}</DataApertura>\n", d.opened_on));
        if let Some(c) = &f.closure {
            x.push_str(&format!("  <DataChiusura>{}</DataChiusura>\n", c.on));
        }
        x.push_str(&format!(
            "  <Classificazione><IndiceDiClassificazione>{}</IndiceDiClassificazione><Descrizione>{}</Descrizione><PianoDiClassificazione>{}</PianoDiClassificazione></Classificazione>\n",
            e(&d.classification),
            e(&self.classification_name),
            e(&self.piano)
        ));
        x.push_str(&format!("  <Progressivo>{}</Progressivo>\n", f.number));
        x.push_str(&format!(
            "  <ChiaveDescrittiva><Oggetto>{}</Oggetto></ChiaveDescrittiva>\n",
            e(&d.subject)
        ));
        x.push_str("  <IndiceDocumenti>\n");
        for doc in &self.documents {
            x.push_str(&format!(
                "    <IdDoc><ImprontaCrittograficaDelDocumento><Impronta>{}</Impronta><Algoritmo>SHA-256</Algoritmo></ImprontaCrittograficaDelDocumento><Identificativo>sha256:{}</Identificativo><Segnatura>{}-{}-{}</Segnatura></IdDoc>\n",
                doc.sha256.base64(),
                doc.sha256.hex(),
                e(&doc.register),
                doc.year,
                doc.number
            ));
        }
        x.push_str("  </IndiceDocumenti>\n");
        if let Some(p) = &self.parent_code {
            x.push_str(&format!("  <IdAggPrimario>{}</IdAggPrimario>\n", e(p)));
        }
        x.push_str("</AggregazioneDocumentaleInformatica>\n");
        x
    }

    /// One line per document (RFC 4180, CRLF, header [`CSV_HEADER`]).
    pub fn csv(&self) -> String {
        let mut out = format!("{CSV_HEADER}\r\n");
        for d in &self.documents {
            let row = [
                self.fascicolo.code.clone(),
                d.register.clone(),
                d.year.to_string(),
                d.number.clone(),
                d.registered_at.to_string(),
                d.flow.clone(),
                d.subject.clone(),
                d.document.clone(),
                d.sha256.hex(),
                if d.annulled { "si" } else { "no" }.to_owned(),
                d.added_at.to_string(),
            ];
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        out
    }
}

impl App {
    /// The current version of an ente's titolario, seeding version 1 (the
    /// 2005 titolario) on first use with its ledger event
    /// `titolario.seeded`. Two first uses at once: one seeds, the other
    /// reads what it stored.
    pub(crate) async fn current_titolario(
        &self,
        tenant: TenantId,
    ) -> ServiceResult<TitolarioVersion> {
        Ok((*self.current_titolario_shared(tenant).await?).clone())
    }

    /// [`App::current_titolario`] from the in-memory copy when it is still
    /// the newest version: checking costs one small read (the version list;
    /// another process may have edited the titolario), the voices are read
    /// again only after an edit. Every registration checks its class here.
    pub(crate) async fn current_titolario_shared(
        &self,
        tenant: TenantId,
    ) -> ServiceResult<std::sync::Arc<TitolarioVersion>> {
        let cache = &self.inner().titolari;
        if let Some(latest) = self.db().titolario_versions(tenant).await?.last() {
            if let Ok(c) = cache.read()
                && let Some(v) = c.get(&tenant)
                && v.info.version == latest.version
            {
                return Ok(v.clone());
            }
            let v = self
                .db()
                .titolario_version(tenant, Some(latest.version))
                .await?
                .ok_or(ServiceError::NotFound)?;
            let v = std::sync::Arc::new(v);
            if let Ok(mut c) = cache.write() {
                c.insert(tenant, v.clone());
            }
            return Ok(v);
        }
        self.seed_titolario(tenant).await.map(std::sync::Arc::new)
    }

    async fn seed_titolario(&self, tenant: TenantId) -> ServiceResult<TitolarioVersion> {
        let t = self.tenant(tenant)?;
        let v = seed_version(tenant, palazzo_store::rows::registration_time());
        let mut tx = self.db().begin().await?;
        match tx.insert_titolario_version(&v).await {
            Ok(()) => {
                record(&mut tx, &t, "titolario.seeded", &v).await?;
                tx.commit().await?;
                self.ledger_changed(tenant);
                tracing::info!(tenant = tenant.0, "titolario 2005 seeded");
                Ok(v)
            }
            Err(StoreError::Conflict(_)) => {
                drop(tx);
                self.db()
                    .titolario_version(tenant, None)
                    .await?
                    .ok_or(ServiceError::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a classification against the in-memory copy of the ente's
    /// titolario (read from the database only the first time), and says
    /// which version it used: the registration's group commit checks once
    /// per group that this is still the newest version (see
    /// `group_commit`), so a registration costs no titolario read.
    pub(crate) async fn check_classification_cached(
        &self,
        tenant: TenantId,
        code: Option<&str>,
    ) -> ServiceResult<(Option<String>, Option<u32>)> {
        let Some(c) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok((None, None));
        };
        let cached = self
            .inner()
            .titolari
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).cloned());
        let v = match cached {
            Some(v) => v,
            None => self.current_titolario_shared(tenant).await?,
        };
        Ok((Some(check_open_voice(&v, c)?), Some(v.info.version)))
    }

    /// Checks a classification against the ente's current titolario (TI-2,
    /// TI-3): `None` or blank is "da classificare"; otherwise the canonical
    /// code of an open voice at the lowest level.
    pub(crate) async fn check_classification(
        &self,
        tenant: TenantId,
        code: Option<&str>,
    ) -> ServiceResult<Option<String>> {
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(c) => {
                let v = self.current_titolario_shared(tenant).await?;
                check_open_voice(&v, c).map(Some)
            }
        }
    }

    /// A version of the ente's titolario (the current one when `version` is
    /// `None`), for staff.
    pub async fn titolario(
        &self,
        tenant: TenantId,
        actor: &Actor,
        version: Option<u32>,
    ) -> ServiceResult<TitolarioVersion> {
        actor.require(Permission::BackOffice)?;
        let current = self.current_titolario(tenant).await?;
        match version {
            None => Ok(current),
            Some(v) if v == current.info.version => Ok(current),
            Some(v) => self
                .db()
                .titolario_version(tenant, Some(v))
                .await?
                .ok_or(ServiceError::NotFound),
        }
    }

    /// The versions of the ente's titolario, oldest first.
    pub async fn titolario_history(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<TitolarioVersionInfo>> {
        actor.require(Permission::BackOffice)?;
        self.current_titolario(tenant).await?;
        Ok(self.db().titolario_versions(tenant).await?)
    }

    /// Edits the titolario: writes the next version with its ledger event
    /// `titolario.version` (TI-3). Concurrent edits: the second is refused
    /// (`titolario_modificato`) and can be retried on the new version.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn edit_titolario(
        &self,
        tenant: TenantId,
        actor: &Actor,
        edit: TitolarioEdit,
    ) -> ServiceResult<TitolarioVersion> {
        actor.require(Permission::ManageTitolario)?;
        let current = self.current_titolario(tenant).await?;
        let mut classes = current.classes.clone();
        let find = |classes: &[TitolarioClass], code: &str| -> ServiceResult<usize> {
            let key = ClassKey::parse(code).map_err(|e| ServiceError::invalid(&e))?;
            let code = key.to_string();
            classes.iter().position(|c| c.code == code).ok_or_else(|| {
                invalid(
                    "titolario_voce_inesistente",
                    format!("La voce {code} non esiste nel titolario."),
                )
            })
        };
        let name = |n: &str| -> ServiceResult<String> {
            check_text(
                n,
                MAX_VOICE_NAME,
                "titolario_nome",
                "Il nome della voce",
                true,
            )?
            .ok_or_else(|| invalid("titolario_nome", "Il nome della voce è obbligatorio."))
        };
        let change = match &edit {
            TitolarioEdit::AddClass { titolo, name: n } => {
                let n = name(n)?;
                let i = find(&classes, titolo)?;
                let t = classes[i].clone();
                if t.classe.is_some() {
                    return Err(invalid(
                        "titolario_non_titolo",
                        "Le classi si aggiungono a un titolo (ad esempio VI), non a una classe.",
                    ));
                }
                if t.closed {
                    return Err(invalid(
                        "titolario_voce_chiusa",
                        format!("Il titolo {} è chiuso.", t.code),
                    ));
                }
                let next = classes
                    .iter()
                    .filter(|c| c.titolo == t.titolo)
                    .filter_map(|c| c.classe)
                    .max()
                    .unwrap_or(0)
                    .saturating_add(1);
                let key =
                    ClassKey::new(t.titolo, Some(next)).map_err(|e| ServiceError::invalid(&e))?;
                let code = key.to_string();
                let at = classes
                    .iter()
                    .rposition(|c| c.titolo == t.titolo)
                    .map_or(classes.len(), |p| p + 1);
                classes.insert(
                    at,
                    TitolarioClass {
                        code: code.clone(),
                        titolo: t.titolo,
                        classe: Some(next),
                        name: n.clone(),
                        closed: false,
                    },
                );
                format!("Aggiunta la classe {code} «{n}»")
            }
            TitolarioEdit::Rename { code, name: n } => {
                let n = name(n)?;
                let i = find(&classes, code)?;
                let c = &mut classes[i];
                if c.closed {
                    return Err(invalid(
                        "titolario_voce_chiusa",
                        format!("La voce {} è chiusa e non può essere rinominata.", c.code),
                    ));
                }
                if c.name == n {
                    return Err(invalid(
                        "titolario_nessuna_modifica",
                        "Il nuovo nome è uguale a quello attuale.",
                    ));
                }
                let change = format!("Rinominata la voce {} da «{}» a «{n}»", c.code, c.name);
                c.name = n;
                change
            }
            TitolarioEdit::Close { code } => {
                let i = find(&classes, code)?;
                let target = classes[i].clone();
                if target.closed {
                    return Err(invalid(
                        "titolario_voce_chiusa",
                        format!("La voce {} è già chiusa.", target.code),
                    ));
                }
                for c in classes.iter_mut().filter(|c| {
                    c.code == target.code || (target.classe.is_none() && c.titolo == target.titolo)
                }) {
                    c.closed = true;
                }
                format!("Chiusa la voce {} «{}»", target.code, target.name)
            }
        };
        let t = self.tenant(tenant)?;
        let v = TitolarioVersion {
            tenant,
            info: TitolarioVersionInfo {
                version: current.info.version + 1,
                created_at: palazzo_store::rows::registration_time(),
                created_by: operator(actor),
                change,
            },
            classes,
        };
        let mut tx = self.db().begin().await?;
        match tx.insert_titolario_version(&v).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(invalid(
                    "titolario_modificato",
                    "Il titolario è stato modificato nel frattempo: ricarica la pagina e riprova.",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        record(&mut tx, &t, "titolario.version", &v).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(version = v.info.version, "titolario edited");
        Ok(v)
    }

    /// May the actor work the fascicoli of `office` (open, file, close)?
    /// The staff of that office, and roles that work every office.
    fn can_file_in(actor: &Actor, office: OfficeId) -> ServiceResult<()> {
        actor.require(Permission::WorkOfficeCases)?;
        if actor.principal.can_work_office(office.0) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    async fn state_of(&self, tenant: TenantId, f: Fascicolo) -> ServiceResult<FascicoloState> {
        let documents = self.db().fascicolo_documents(tenant, f.id).await?;
        Ok(FascicoloState {
            fascicolo: f,
            documents,
        })
    }

    /// A fascicolo with its documents, for staff who read the register
    /// (and, for a restricted one, are inside its area: TI-6).
    pub async fn fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<FascicoloState> {
        actor.require(Permission::ReadProtocol)?;
        let f = self.visible_fascicolo(tenant, actor, id).await?;
        self.state_of(tenant, f).await
    }

    /// A fascicolo the actor may read: outside its restricted area (its
    /// own or a parent's, TI-6) it does not exist — the same
    /// [`ServiceError::NotFound`] as another ente's fascicolo, so that
    /// nothing tells an outsider it is there.
    pub(crate) async fn visible_fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<Fascicolo> {
        let f = self
            .db()
            .fascicolo(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if self.may_read(tenant, actor, &f).await? {
            Ok(f)
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Is the actor inside the restricted area of `f` and of each of its
    /// parents (TI-6)? A fascicolo with no restricted parent is open to
    /// every reader of the register.
    async fn may_read(
        &self,
        tenant: TenantId,
        actor: &Actor,
        f: &Fascicolo,
    ) -> ServiceResult<bool> {
        let mut current = f.clone();
        // Parents have smaller ids, so the walk ends; the bound is a guard.
        for _ in 0..64 {
            if let Some(r) = &current.restriction
                && !inside_area(actor, current.data.office, r)
            {
                return Ok(false);
            }
            let Some(p) = current.data.parent else {
                return Ok(true);
            };
            current = match self.db().fascicolo(tenant, p).await? {
                Some(p) => p,
                None => return Ok(true),
            };
        }
        Ok(false)
    }

    /// Checks that `office` is inside the restricted area of fascicolo `id`
    /// and of its parents (TI-6): a restricted fascicolo is handed off only
    /// to its responsible office or a designated one.
    /// A hand-off of restricted fascicolo `id` goes only inside its area
    /// (TI-6), at every level: to its responsible or a designated office,
    /// or to a designated person.
    pub(crate) async fn check_target_in_area(
        &self,
        tenant: TenantId,
        id: FascicoloRowId,
        office: OfficeId,
        user: Option<UserId>,
    ) -> ServiceResult<()> {
        let mut next = Some(id);
        for _ in 0..64 {
            let Some(id) = next else { break };
            let Some(f) = self.db().fascicolo(tenant, id).await? else {
                break;
            };
            if let Some(r) = &f.restriction
                && f.data.office != office
                && !r.offices.contains(&office)
                && !user.is_some_and(|u| r.users.contains(&u))
            {
                return Err(invalid(
                    "fascicolo_riservato_ufficio",
                    format!(
                        "Il fascicolo {} è riservato e l'ufficio indicato non è tra i soggetti designati: aggiungilo all'area riservata prima di assegnarglielo.",
                        f.code
                    ),
                ));
            }
            next = f.data.parent;
        }
        Ok(())
    }

    /// A fascicolo by its identifier (`2026-VI.3-12`, any letter case).
    pub async fn fascicolo_by_code(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
    ) -> ServiceResult<FascicoloState> {
        actor.require(Permission::ReadProtocol)?;
        let code = code.trim().to_ascii_uppercase();
        let f = self
            .db()
            .fascicolo_by_code(tenant, &code)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !self.may_read(tenant, actor, &f).await? {
            return Err(ServiceError::NotFound);
        }
        self.state_of(tenant, f).await
    }

    /// Fascicoli matching `q` (at most 200 per page), leaving out the
    /// restricted ones the actor may not read (TI-6): pages are filled from
    /// the following rows, so a page is short only at the end.
    pub async fn search_fascicoli(
        &self,
        tenant: TenantId,
        actor: &Actor,
        mut q: FascicoloQuery,
    ) -> ServiceResult<Vec<Fascicolo>> {
        actor.require(Permission::ReadProtocol)?;
        if let Some(c) = q.classification.as_deref().map(str::trim) {
            q.classification = if c.is_empty() {
                None
            } else {
                Some(
                    ClassKey::parse(c)
                        .map_err(|e| ServiceError::invalid(&e))?
                        .to_string(),
                )
            };
        }
        let limit = q.limit.clamp(1, 200);
        q.limit = limit;
        let mut out = Vec::new();
        loop {
            let page = self.db().search_fascicoli(tenant, &q).await?;
            let full = page.len() == q.limit as usize;
            q.after = page.last().map(|f| f.id).or(q.after);
            for f in page {
                if out.len() == limit as usize {
                    break;
                }
                if self.may_read(tenant, actor, &f).await? {
                    out.push(f);
                }
            }
            if !full || out.len() == limit as usize {
                return Ok(out);
            }
        }
    }

    /// The fascicoli a registration is filed in.
    pub async fn registration_fascicoli(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<Vec<Fascicolo>> {
        actor.require(Permission::ReadProtocol)?;
        let mut out = Vec::new();
        for f in self
            .db()
            .fascicoli_of_registration(tenant, registration)
            .await?
        {
            if self.may_read(tenant, actor, &f).await? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Opens a fascicolo (CAD art. 41 c.2-ter; TI-4): the identifier's
    /// number comes from the counter of (year, class) in the transaction
    /// that stores the fascicolo and its ledger event `fascicolo.opened`.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn open_fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        input: FascicoloInput,
    ) -> ServiceResult<FascicoloState> {
        actor.require(Permission::WorkOfficeCases)?;
        if !self
            .portal(tenant)
            .await?
            .offices
            .iter()
            .any(|o| o.id == input.office)
        {
            return Err(invalid("office_unknown", "L'ufficio indicato non esiste."));
        }
        Self::can_file_in(actor, input.office)?;
        let subject = check_text(
            &input.subject,
            MAX_FIELD,
            "fascicolo_oggetto",
            "L'oggetto del fascicolo",
            true,
        )?
        .unwrap_or_default();
        let responsible = check_text(
            &input.responsible,
            MAX_FIELD,
            "fascicolo_responsabile",
            "Il responsabile del procedimento",
            true,
        )?
        .unwrap_or_default();
        let holder = check_text(
            input.holder.as_deref().unwrap_or(""),
            MAX_FIELD,
            "fascicolo_intestatario",
            "L'intestatario",
            matches!(
                input.kind,
                FascicoloKind::PersonaFisica | FascicoloKind::PersonaGiuridica
            ),
        )?;
        let mut participants = Vec::new();
        for p in &input.participants {
            if let Some(p) = check_text(
                p,
                MAX_FIELD,
                "fascicolo_partecipanti",
                "Il nome dell'amministrazione partecipante",
                false,
            )? {
                participants.push(p);
            }
        }
        if participants.len() > MAX_PARTICIPANTS {
            return Err(invalid(
                "fascicolo_partecipanti",
                format!("Al massimo {MAX_PARTICIPANTS} amministrazioni partecipanti."),
            ));
        }
        let titolario = self.current_titolario(tenant).await?;
        let classification = match input.parent {
            Some(p) => {
                let parent =
                    self.visible_fascicolo(tenant, actor, p)
                        .await
                        .map_err(|e| match e {
                            ServiceError::NotFound => {
                                invalid("fascicolo_padre", "Il fascicolo padre non esiste.")
                            }
                            e => e,
                        })?;
                if parent.closure.is_some() {
                    return Err(parent_closed());
                }
                // A sub-fascicolo belongs to its parent's class.
                let given = input.classification.trim();
                if !given.is_empty()
                    && ClassKey::parse(given)
                        .map(|k| k.to_string())
                        .ok()
                        .as_deref()
                        != Some(parent.data.classification.as_str())
                {
                    return Err(invalid(
                        "fascicolo_classifica_padre",
                        format!(
                            "Un sottofascicolo ha la classificazione del fascicolo padre ({}).",
                            parent.data.classification
                        ),
                    ));
                }
                parent.data.classification
            }
            None => {
                if input.classification.trim().is_empty() {
                    return Err(invalid(
                        "fascicolo_classifica",
                        "La classificazione del fascicolo è obbligatoria.",
                    ));
                }
                check_open_voice(&titolario, &input.classification)?
            }
        };
        let now = palazzo_store::rows::registration_time();
        let opened_on = palazzo_domain::calendar::rome_date(now);
        let year = opened_on.year();
        let new = NewFascicolo {
            classification,
            titolario_version: titolario.info.version,
            kind: input.kind,
            subject,
            office: input.office,
            responsible,
            participants,
            holder,
            parent: input.parent,
            opened_on,
            opened_by: operator(actor),
        };
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        let number = tx
            .next_fascicolo_number(tenant, year, &new.classification)
            .await?;
        let code = format!("{year}-{}-{number}", new.classification);
        // The store holds the parent's row and refuses a parent closed
        // meanwhile.
        let f = match tx
            .insert_fascicolo(tenant, &new, &code, year, number, now)
            .await
        {
            Ok(f) => f,
            Err(StoreError::NotFound) if new.parent.is_some() => return Err(parent_closed()),
            Err(e) => return Err(e.into()),
        };
        let state = FascicoloState {
            fascicolo: f,
            documents: Vec::new(),
        };
        record(&mut tx, &t, "fascicolo.opened", &state).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(code = %state.fascicolo.code, "fascicolo opened");
        Ok(state)
    }

    /// A fascicolo the actor may work (its office's staff).
    async fn workable(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<FascicoloState> {
        actor.require(Permission::WorkOfficeCases)?;
        // Outside a restricted area the fascicolo does not exist (TI-6),
        // before any other answer.
        let f = self.visible_fascicolo(tenant, actor, id).await?;
        Self::can_file_in(actor, f.data.office)?;
        self.state_of(tenant, f).await
    }

    /// A fascicolo with open sub-fascicoli cannot be closed
    /// (`fascicolo_sottofascicoli_aperti`). Only the sub-fascicoli the actor
    /// may read are named (TI-6).
    async fn check_no_open_children(
        &self,
        tenant: TenantId,
        actor: &Actor,
        f: &Fascicolo,
    ) -> ServiceResult<()> {
        let open: Vec<Fascicolo> = self
            .db()
            .fascicolo_children(tenant, f.id)
            .await?
            .into_iter()
            .filter(|c| c.closure.is_none())
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        let mut named = Vec::new();
        for c in &open {
            if self.may_read(tenant, actor, c).await? {
                named.push(c.code.clone());
            }
        }
        let which = if named.is_empty() {
            String::new()
        } else {
            format!(" ({})", named.join(", "))
        };
        Err(invalid(
            "fascicolo_sottofascicoli_aperti",
            format!(
                "Il fascicolo {} ha sottofascicoli aperti{which}: chiudili prima di chiudere il fascicolo.",
                f.code
            ),
        ))
    }

    fn closed_error(f: &Fascicolo) -> ServiceError {
        invalid(
            "fascicolo_chiuso",
            format!(
                "Il fascicolo {} è chiuso: non si possono aggiungere o togliere documenti (TI-4).",
                f.code
            ),
        )
    }

    /// Closes a fascicolo with today's date (Europe/Rome): `DataChiusura`.
    /// Ledgered as `fascicolo.closed`.
    pub async fn close_fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<FascicoloState> {
        let mut state = self.workable(tenant, actor, id).await?;
        if state.fascicolo.closure.is_some() {
            return Err(invalid(
                "fascicolo_gia_chiuso",
                "Il fascicolo è già chiuso.",
            ));
        }
        self.check_no_open_children(tenant, actor, &state.fascicolo)
            .await?;
        let at = palazzo_store::rows::registration_time();
        let closure = FascicoloClosure {
            on: palazzo_domain::calendar::rome_date(at),
            at,
            by: operator(actor),
        };
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        if !tx.close_fascicolo(tenant, id, &closure).await? {
            return Err(invalid(
                "fascicolo_gia_chiuso",
                "Il fascicolo è già chiuso.",
            ));
        }
        // The row is held now: a sub-fascicolo opened meanwhile has
        // committed (its opening holds this row too), and the committed
        // index is the whole index.
        self.check_no_open_children(tenant, actor, &state.fascicolo)
            .await?;
        state.documents = self.db().fascicolo_documents(tenant, id).await?;
        state.fascicolo.closure = Some(closure);
        record(&mut tx, &t, "fascicolo.closed", &state).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(state)
    }

    /// Files a registration in an open fascicolo (a registration may be in
    /// several). Ledgered as `fascicolo.document_added`.
    pub async fn file_document(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
        registration: RegistrationId,
    ) -> ServiceResult<FascicoloState> {
        let mut state = self.workable(tenant, actor, id).await?;
        if state.fascicolo.closure.is_some() {
            return Err(Self::closed_error(&state.fascicolo));
        }
        let reg = self
            .db()
            .registration(tenant, registration)
            .await?
            .ok_or_else(|| {
                invalid(
                    "protocollo_inesistente",
                    "La registrazione indicata non esiste.",
                )
            })?;
        if reg.annulment.is_some() {
            return Err(invalid(
                "protocollo_annullato",
                "La registrazione è annullata e non può essere fascicolata.",
            ));
        }
        if state
            .documents
            .iter()
            .any(|d| d.registration == registration)
        {
            return Err(invalid(
                "fascicolo_documento_presente",
                "Il documento è già nel fascicolo.",
            ));
        }
        let doc = FascicoloDocument {
            registration,
            added_at: palazzo_store::rows::registration_time(),
            added_by: operator(actor),
        };
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        if !tx.add_fascicolo_document(tenant, id, &doc).await? {
            // Closed or filed by someone else meanwhile: report what is true now.
            drop(tx);
            let now = self.workable(tenant, actor, id).await?;
            return Err(if now.fascicolo.closure.is_some() {
                Self::closed_error(&now.fascicolo)
            } else {
                invalid(
                    "fascicolo_documento_presente",
                    "Il documento è già nel fascicolo.",
                )
            });
        }
        // The fascicolo's row is held by this transaction (TI-4), so no other
        // filing can commit now: the committed index plus this document is
        // the whole index, and the recorded state is exact.
        state.documents = self.db().fascicolo_documents(tenant, id).await?;
        state.documents.push(doc);
        record(&mut tx, &t, "fascicolo.document_added", &state).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(state)
    }

    /// Takes a registration out of an open fascicolo (filed by mistake).
    /// Ledgered as `fascicolo.document_removed`.
    pub async fn unfile_document(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
        registration: RegistrationId,
    ) -> ServiceResult<FascicoloState> {
        let mut state = self.workable(tenant, actor, id).await?;
        if state.fascicolo.closure.is_some() {
            return Err(Self::closed_error(&state.fascicolo));
        }
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        if !tx
            .remove_fascicolo_document(tenant, id, registration)
            .await?
        {
            return Err(invalid(
                "fascicolo_documento_assente",
                "Il documento non è nel fascicolo (o il fascicolo è stato chiuso).",
            ));
        }
        state.documents = self.db().fascicolo_documents(tenant, id).await?;
        state.documents.retain(|d| d.registration != registration);
        record(&mut tx, &t, "fascicolo.document_removed", &state).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(state)
    }

    /// Marks a fascicolo riservato with the designated offices and users,
    /// or (with `None`) lifts the restriction (TI-6; CAD art. 41
    /// c.2-quater). The staff who work the responsible office decide it
    /// (the same who open, file and close; the administrators of the comune
    /// do not read the register at all). Allowed on a closed fascicolo too:
    /// it changes who reads, not what it holds. Ledgered as
    /// `fascicolo.restricted` or `fascicolo.unrestricted`.
    pub async fn restrict_fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
        restriction: Option<RestrictionInput>,
    ) -> ServiceResult<FascicoloState> {
        let mut state = self.workable(tenant, actor, id).await?;
        let restriction = match restriction {
            None => {
                if state.fascicolo.restriction.is_none() {
                    return Err(invalid(
                        "fascicolo_non_riservato",
                        "Il fascicolo non è riservato.",
                    ));
                }
                None
            }
            Some(input) => {
                let mut offices = input.offices;
                offices.sort();
                offices.dedup();
                let mut users = input.users;
                users.sort();
                users.dedup();
                if offices.len() > MAX_DESIGNATED || users.len() > MAX_DESIGNATED {
                    return Err(invalid(
                        "fascicolo_riservato_troppi",
                        format!(
                            "Al massimo {MAX_DESIGNATED} uffici e {MAX_DESIGNATED} utenti designati."
                        ),
                    ));
                }
                let snap = self.portal(tenant).await?;
                if let Some(o) = offices.iter().find(|o| snap.office(**o).is_none()) {
                    return Err(invalid(
                        "office_unknown",
                        format!("L'ufficio {} non esiste.", o.0),
                    ));
                }
                for u in &users {
                    if self.db().user(tenant, *u).await?.is_none() {
                        return Err(invalid(
                            "utente_sconosciuto",
                            format!("L'utente {} non esiste in questo ente.", u.0),
                        ));
                    }
                }
                Some(FascicoloRestriction {
                    offices,
                    users,
                    at: palazzo_store::rows::registration_time(),
                    by: operator(actor),
                })
            }
        };
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        if !tx
            .set_fascicolo_restriction(tenant, id, restriction.as_ref())
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        let kind = if restriction.is_some() {
            "fascicolo.restricted"
        } else {
            "fascicolo.unrestricted"
        };
        state.fascicolo.restriction = restriction;
        state.documents = self.db().fascicolo_documents(tenant, id).await?;
        record(&mut tx, &t, kind, &state).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(state)
    }

    /// Assigns a whole fascicolo to an office, per competenza or per
    /// conoscenza (TI-5): the same hand-off as a registration's — the
    /// office's inbox, accept or refuse with a reason, forward, close, each
    /// step with actor and time — ledgered as `handoff.assigned`. The staff
    /// who work the fascicolo assign it; a closed fascicolo is not assigned;
    /// a restricted one only to an office inside its area (TI-6).
    pub async fn assign_fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
        kind: HandoffKind,
        target: impl Into<crate::handoffs::HandoffTarget>,
        note: Option<&str>,
    ) -> ServiceResult<Handoff> {
        self.assignable_fascicolo(tenant, actor, id).await?;
        let (office, user) = self.handoff_target(tenant, target.into()).await?;
        self.check_target_in_area(tenant, id, office, user).await?;
        self.new_handoff(
            tenant,
            actor,
            NewHandoff {
                subject: HandoffSubject::Fascicolo(id),
                kind,
                office,
                user,
                parent: None,
                desk: self.desk_of(tenant, actor).await?,
            },
            note,
        )
        .await
    }

    /// A fascicolo the actor works and that is still open (a closed one is
    /// not assigned).
    pub(crate) async fn assignable_fascicolo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<()> {
        let state = self.workable(tenant, actor, id).await?;
        if state.fascicolo.closure.is_some() {
            return Err(invalid(
                "fascicolo_chiuso",
                format!(
                    "Il fascicolo {} è chiuso e non può essere assegnato.",
                    state.fascicolo.code
                ),
            ));
        }
        Ok(())
    }

    /// The staff of the ente (id and name), to designate them in a
    /// restricted area, for those who work fascicoli.
    pub async fn designable_users(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<(UserId, String)>> {
        actor.require(Permission::WorkOfficeCases)?;
        Ok(self
            .db()
            .staff_users(tenant)
            .await?
            .into_iter()
            .map(|u| {
                (
                    u.id,
                    format!("{} {}", u.data.given_name, u.data.family_name),
                )
            })
            .collect())
    }

    /// The whole route of a fascicolo: its hand-offs and every step (the
    /// timeline; TI-5), for those who may read it.
    pub async fn fascicolo_route(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<(Vec<Handoff>, Vec<HandoffStep>)> {
        actor.require(Permission::ReadProtocol)?;
        self.visible_fascicolo(tenant, actor, id).await?;
        let subject = HandoffSubject::Fascicolo(id);
        Ok((
            self.db().handoffs_of(tenant, subject).await?,
            self.db().handoff_steps(tenant, subject).await?,
        ))
    }

    /// The index of a fascicolo with its metadata, for export.
    pub async fn fascicolo_index(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: FascicoloRowId,
    ) -> ServiceResult<IndiceFascicolo> {
        let state = self.fascicolo(tenant, actor, id).await?;
        let t = self.tenant(tenant)?;
        let f = state.fascicolo;
        let version = self
            .db()
            .titolario_version(tenant, Some(f.data.titolario_version))
            .await?
            .ok_or(ServiceError::NotFound)?;
        // The name as it is now (a rename after opening is shown), falling
        // back to the name of the version the fascicolo was opened under.
        let current = self.current_titolario(tenant).await?;
        let classification_name = denominazione(&current, &f.data.classification)
            .or_else(|| denominazione(&version, &f.data.classification))
            .unwrap_or_default();
        let parent_code = match f.data.parent {
            Some(p) => self.db().fascicolo(tenant, p).await?.map(|p| p.code),
            None => None,
        };
        let office_name = self
            .portal(tenant)
            .await?
            .office(f.data.office)
            .map_or_else(String::new, |o| o.data.name.clone());
        let mut documents = Vec::with_capacity(state.documents.len());
        for d in &state.documents {
            let r = self
                .db()
                .registration(tenant, d.registration)
                .await?
                .ok_or_else(|| ServiceError::Internal("filed registration missing".into()))?;
            documents.push(IndexEntry {
                registration: r.id,
                register: r.data.register.to_string(),
                year: r.year,
                number: r.number.to_string(),
                registered_at: r.registered_at,
                date: palazzo_domain::calendar::rome_date(r.registered_at),
                flow: r.data.flow.code().to_owned(),
                subject: r.data.subject.clone(),
                document: r.data.primary.name.clone(),
                sha256: r.data.primary.sha256,
                annulled: r.annulment.is_some(),
                added_at: d.added_at,
            });
        }
        let snap = self.portal(tenant).await?;
        let mut assignments = Vec::new();
        for h in self
            .db()
            .handoffs_of(tenant, HandoffSubject::Fascicolo(f.id))
            .await?
        {
            let person = match h.data.user {
                Some(u) => self.db().user(tenant, u).await?.map(|u| AssigneePerson {
                    given_name: u.data.given_name,
                    family_name: u.data.family_name,
                }),
                None => None,
            };
            assignments.push(Assegnazione {
                kind: h.data.kind,
                office: snap.office(h.data.office).map_or_else(
                    || format!("ufficio {}", h.data.office.0),
                    |o| o.data.name.clone(),
                ),
                person,
                start: h.assigned_at,
                end: h.state.is_final().then_some(h.updated_at),
            });
        }
        Ok(IndiceFascicolo {
            assignments,
            ente: t.data.name.clone(),
            codice_ipa: t.data.codice_ipa.as_str().to_owned(),
            piano: piano_di_classificazione(&t, f.data.titolario_version),
            fascicolo: f,
            parent_code,
            classification_name,
            office_name,
            documents,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seed_is_the_2005_titolario() {
        let v = seed_version(TenantId(1), Timestamp::UNIX_EPOCH);
        let titoli = v.classes.iter().filter(|c| c.classe.is_none()).count();
        let classi = v.classes.iter().filter(|c| c.classe.is_some()).count();
        assert_eq!((titoli, classi), (14, 125));
        assert_eq!(
            denominazione(&v, "VI.3").as_deref(),
            Some("Pianificazione e gestione del territorio / Edilizia privata")
        );
        assert_eq!(check_open_voice(&v, " vi.3 ").unwrap(), "VI.3");
        assert_eq!(check_open_voice(&v, "XIV").unwrap(), "XIV");
        for (bad, code) in [
            ("VI", "classifica_class_required"),
            ("VI.11", "classifica_unknown"),
            ("6.1", "classifica_format"),
        ] {
            assert_eq!(check_open_voice(&v, bad).unwrap_err().code(), code, "{bad}");
        }
    }

    #[test]
    fn csv_and_xml_escape() {
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(xml_escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
    }
}
