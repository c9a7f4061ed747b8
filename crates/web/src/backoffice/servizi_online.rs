//! The back-office editor of the online services (issue 6, part 1): the
//! comune's administrators ([`Permission::ManageCatalogue`]) list the
//! services that can be requested online, create one for a card of the
//! catalogue, edit a service's form (steps, fields, attachments,
//! declarations) and procedure, preview the form as the citizen sees it,
//! publish it as a new version, and import or export definition files —
//! without code and without JavaScript.
//!
//! The work in progress travels with the page: the editor is one HTML form
//! whose hidden `stato` field holds the definition being edited (JSON, read
//! with unknown keys refused), and whose visible inputs are applied on top
//! of it at every POST, before the button's action (add, remove, move,
//! preview, publish). Nothing is stored until "Pubblica", which calls
//! [`palazzo_services::App::save_service_definition`]: the engine validates
//! the whole definition and a new version is saved and ledgered. A
//! published version never changes; new pratiche use the newest version.
//! The editor's POST is an ordinary form and holds to the configured
//! `max_body_bytes` (1 MiB by default, far above a definition's size).
//! Every POST validates the result with the form engine: an error is shown
//! (`role="alert"`) next to the step, field, attachment or declaration it
//! concerns, with a 422, and everything typed comes back.
//!
//! Routes:
//! * `GET /backoffice/servizi-online`: the list, with the import form;
//! * `GET /backoffice/servizi-online/nuovo`: the editor for a new service;
//! * `GET /backoffice/servizi-online/{slug}/modifica`: the editor loaded
//!   with the current version;
//! * `POST /backoffice/servizi-online/editor`: every edit, the preview and
//!   the publication;
//! * `GET /backoffice/servizi-online/{slug}/esporta?formato=toml|json`;
//! * `POST /backoffice/servizi-online/importa` (`multipart/form-data`).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use palazzo_domain::Coded;
use palazzo_domain::access::Permission;
use palazzo_domain::moduli::{
    AttachmentSpec, ChoiceOption, Condition, Declaration, Field, FieldKind, FormDefinition,
    MediaType, Prefill, RawAnswers, Rules, Step,
};
use palazzo_domain::procedimento::{Materia, ProcedureDefinition};
use palazzo_services::pratiche::ServiceDefinition;
use palazzo_services::{PortalSnapshot, ServiceError};
use palazzo_store::Tenant;
use serde::{Deserialize, Serialize};

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, see_other};
use crate::error::WebError;
use crate::istanze::{FieldView, field_view};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};
use crate::upload::{TextParts, read_upload_with};

const LIST: &str = "/backoffice/servizi-online";
const EDITOR: &str = "/backoffice/servizi-online/editor";
const IMPORT: &str = "/backoffice/servizi-online/importa";
/// The file field of the import form.
const IMPORT_FIELD: &str = "file";
/// The largest definition file accepted by the import form.
pub const MAX_DEFINITION_FILE: usize = 256 * 1024;

/// The routes of this module.
pub fn router() -> Routes {
    let admin = Access::Needs(Permission::ManageCatalogue);
    Routes::new()
        .get(LIST, admin, list_page)
        .get("/backoffice/servizi-online/nuovo", admin, new_page)
        .get(
            "/backoffice/servizi-online/{slug}/modifica",
            admin,
            edit_page,
        )
        .get("/backoffice/servizi-online/{slug}/esporta", admin, export)
        .post(EDITOR, admin, editor_post)
        .upload(IMPORT, admin, import)
}

// ---------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------

struct ServiceRow {
    slug: String,
    title: String,
    office: String,
    version: u32,
    procedure: String,
    term_days: u32,
}

#[derive(Template)]
#[template(path = "backoffice/servizi_online.html")]
struct ListTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    rows: Vec<ServiceRow>,
    can_create: bool,
    notice: Option<String>,
    import_error: Option<(String, String)>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    pubblicato: Option<String>,
    versione: Option<u32>,
}

async fn list_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Response {
    let notice = q.pubblicato.zip(q.versione);
    match render_list(&state, &t, &auth, notice, None).await {
        Ok(r) => r,
        Err(e) => needs(LIST, e),
    }
}

/// The list; `published` (slug, version) names the version just published,
/// announced only if the service has it.
async fn render_list(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    published: Option<(String, u32)>,
    import_error: Option<(String, String)>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::ManageCatalogue)?;
    let app = state.app();
    let snap = app.portal(t.id).await?;
    let defs = app.service_definitions(t.id).await?;
    let mut rows: Vec<ServiceRow> = defs
        .iter()
        .map(|d| {
            let card = snap.service(&d.definition.service);
            ServiceRow {
                slug: d.definition.service.clone(),
                title: card
                    .map_or_else(|| d.definition.form.title.clone(), |c| c.data.title.clone()),
                office: card
                    .and_then(|c| snap.office(c.data.office))
                    .map(|o| o.data.name.clone())
                    .unwrap_or_default(),
                version: d.version,
                procedure: d.definition.procedure.title.clone(),
                term_days: d.definition.procedure.term_days,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.title.cmp(&b.title));
    let notice = published
        .filter(|(slug, v)| rows.iter().any(|r| r.slug == *slug && r.version >= *v))
        .map(|(slug, v)| {
            format!(
                "Pubblicata la versione {v} del servizio «{slug}»: le nuove domande useranno questa versione, quelle già presentate mantengono la loro."
            )
        });
    let can_create = snap
        .services
        .iter()
        .any(|s| !rows.iter().any(|r| r.slug == s.data.slug));
    let status = if import_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let tpl = ListTemplate {
        shell: shell(t, "Servizi online", "Servizi online"),
        csrf: auth.csrf().to_owned(),
        rows,
        can_create,
        notice,
        import_error,
    };
    Ok(render(tpl, status))
}

// ---------------------------------------------------------------------------
// Export and import
// ---------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ExportQuery {
    formato: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let here = format!("/backoffice/servizi-online/{slug}/esporta");
    let result = async {
        auth.actor.require(Permission::ManageCatalogue)?;
        let d = state
            .app()
            .service_definition(t.id, &slug, None)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let json = q.formato.as_deref() == Some("json");
        let (text, ext, mime) = if json {
            (d.definition.to_json()?, "json", "application/json")
        } else {
            (d.definition.to_toml()?, "toml", "application/toml")
        };
        let name = format!("servizio-{slug}-v{}.{ext}", d.version);
        Ok::<_, ServiceError>(
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_str(&format!("{mime}; charset=utf-8"))
                            .unwrap_or_else(|_| HeaderValue::from_static("text/plain")),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        crate::upload::attachment(&name),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                text,
            )
                .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(|e| needs(&here, e))
}

/// Reads a definition file by its content: JSON when it starts with `{`,
/// TOML otherwise (the existing readers of the CLI and the API).
fn parse_definition_file(text: &str) -> Result<ServiceDefinition, ServiceError> {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return Err(ServiceError::Invalid {
            code: "servizio_definizione_vuota",
            message: "Il file è vuoto: scegli un file di definizione TOML o JSON.".into(),
        });
    }
    if body.starts_with('{') {
        ServiceDefinition::from_json(body)
    } else {
        ServiceDefinition::from_toml(body)
    }
}

async fn import(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::ManageCatalogue) {
        return needs(LIST, e);
    }
    let Ok(mp) = mp else {
        return WebError::bad_request(
            "upload_invalid",
            "Il caricamento non è andato a buon fine: riprovare.",
        )
        .into_response();
    };
    let parts = TextParts {
        names: &[IMPORT_FIELD],
        max_bytes: MAX_DEFINITION_FILE,
    };
    let outcome = match read_upload_with(&state, mp, parts).await {
        Err(e) => Err(match e.error {
            WebError::Unprocessable { code, message } | WebError::BadRequest { code, message } => {
                (code.to_owned(), message)
            }
            other => return other.into_response(),
        }),
        Ok(up) => match up.text(IMPORT_FIELD) {
            None => Err((
                "servizio_file_mancante".to_owned(),
                "Scegli il file di definizione da importare (TOML o JSON).".to_owned(),
            )),
            Some(file) => {
                let saved = match parse_definition_file(&file.text) {
                    Ok(def) => {
                        state
                            .app()
                            .save_service_definition(t.id, &auth.actor, def)
                            .await
                    }
                    Err(e) => Err(e),
                };
                match saved {
                    Ok(s) => Ok((s.definition.service.clone(), s.version)),
                    Err(ServiceError::Invalid { code, message }) => Err((
                        code.to_owned(),
                        format!(
                            "Il file «{}» non è stato importato. {message}",
                            file.file_name
                        ),
                    )),
                    Err(e) => return needs(LIST, e),
                }
            }
        },
    };
    match outcome {
        Ok((slug, version)) => see_other(&format!("{LIST}?pubblicato={slug}&versione={version}")),
        Err(err) => match render_list(&state, &t, &auth, None, Some(err)).await {
            Ok(r) => r,
            Err(e) => needs(LIST, e),
        },
    }
}

// ---------------------------------------------------------------------------
// The state of the editor
// ---------------------------------------------------------------------------

/// What the editor carries from one POST to the next, in its hidden
/// `stato` field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditorState {
    /// The version the edit started from; `None` for a new online service.
    base: Option<u32>,
    /// The definition being edited.
    def: ServiceDefinition,
}

impl EditorState {
    fn encode(&self) -> Result<String, ServiceError> {
        serde_json::to_string(self).map_err(|e| ServiceError::Internal(format!("editor: {e}")))
    }

    fn decode(text: &str) -> Result<EditorState, ServiceError> {
        serde_json::from_str(text).map_err(|_| ServiceError::Invalid {
            code: "servizio_editor_stato_non_valido",
            message: "Il modulo dell'editor non è valido: riapri il servizio dall'elenco.".into(),
        })
    }
}

/// The posted form, by name (a repeated name keeps every value).
struct Posted(HashMap<String, Vec<String>>);

impl Posted {
    fn new(pairs: Vec<(String, String)>) -> Posted {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_default().push(v);
        }
        Posted(map)
    }

    /// The first value, as posted (`None` when absent).
    fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// The first value, trimmed.
    fn text(&self, name: &str) -> Option<String> {
        self.raw(name).map(|s| s.trim().to_owned())
    }

    /// A checkbox: ticked when posted.
    fn checked(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

/// What is wrong, by target: `el:<id>` for a step, field, attachment or
/// declaration, or the name of a service-level input.
#[derive(Default)]
struct Problems {
    by_target: BTreeMap<String, Vec<String>>,
    /// Codes of the problems, in order.
    codes: Vec<&'static str>,
    /// Problems that block more than the publication.
    blocking: bool,
}

impl Problems {
    fn add(&mut self, target: impl Into<String>, code: &'static str, message: String) {
        let list = self.by_target.entry(target.into()).or_default();
        if !list.contains(&message) {
            list.push(message);
        }
        self.codes.push(code);
    }

    fn take(&mut self, target: &str) -> Vec<String> {
        self.by_target.remove(target).unwrap_or_default()
    }

    /// The problems of `target`, left in place.
    fn peek(&self, target: &str) -> Vec<String> {
        self.by_target.get(target).cloned().unwrap_or_default()
    }

    /// Takes every target starting with `prefix`, with its problems.
    fn take_prefix(&mut self, prefix: &str) -> Vec<(String, Vec<String>)> {
        let keys: Vec<String> = self
            .by_target
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        keys.into_iter()
            .filter_map(|k| self.by_target.remove_entry(&k))
            .collect()
    }

    fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

/// A key of lower-case letters, digits and `_` from a label ("Data di
/// nascita" → `data_di_nascita`), starting with a letter.
fn to_key(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_owned();
    out.truncate(48);
    let out = out.trim_end_matches('_').to_owned();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        Some(_) => format!("v_{out}"),
        None => String::new(),
    }
}

/// Every id used in the form.
fn used_ids(form: &FormDefinition) -> Vec<String> {
    form.steps
        .iter()
        .map(|s| s.id.clone())
        .chain(form.fields().map(|f| f.id.clone()))
        .chain(form.attachments.iter().map(|a| a.id.clone()))
        .chain(form.declarations.iter().map(|d| d.id.clone()))
        .collect()
}

/// The id of a new element: what was typed (checked by the engine like any
/// other), else a key made from its label, else `<prefix>_1`; a made key
/// already in use gets `_2`, `_3`, … .
fn new_id(typed: &str, label: &str, prefix: &str, form: &FormDefinition) -> String {
    let typed = typed.trim();
    if !typed.is_empty() {
        return typed.to_owned();
    }
    let used = used_ids(form);
    let key = to_key(label);
    let (base, first) = if key.is_empty() {
        (prefix.to_owned(), 1)
    } else if !used.contains(&key) {
        return key;
    } else {
        (key, 2)
    };
    (first..)
        .map(|n| format!("{base}_{n}"))
        .find(|k| !used.contains(k))
        .unwrap_or(base)
}

// ---------------------------------------------------------------------------
// Field kinds, procedures, matters
// ---------------------------------------------------------------------------

/// The engine's field kinds with their Italian names.
const KINDS: &[(&str, &str)] = &[
    ("testo", "Testo breve"),
    ("testo_lungo", "Testo lungo"),
    ("codice_fiscale", "Codice fiscale"),
    ("partita_iva", "Partita IVA"),
    ("data", "Data"),
    ("importo", "Importo in euro"),
    ("numero", "Numero intero"),
    ("email", "E-mail o PEC"),
    ("telefono", "Telefono"),
    ("scelta", "Scelta tra opzioni"),
    ("si_no", "Sì o no"),
    ("particella_catastale", "Particelle catastali"),
    ("indirizzo", "Indirizzo"),
    ("posizione", "Luogo (indirizzo e coordinate)"),
];

fn kind_of(key: &str, options: Vec<ChoiceOption>, multiple: bool) -> Option<FieldKind> {
    Some(match key {
        "testo" => FieldKind::Testo,
        "testo_lungo" => FieldKind::TestoLungo,
        "codice_fiscale" => FieldKind::CodiceFiscale,
        "partita_iva" => FieldKind::PartitaIva,
        "data" => FieldKind::Data,
        "importo" => FieldKind::Importo,
        "numero" => FieldKind::Numero,
        "email" => FieldKind::Email,
        "telefono" => FieldKind::Telefono,
        "scelta" => FieldKind::Scelta { options, multiple },
        "si_no" => FieldKind::SiNo,
        "particella_catastale" => FieldKind::ParticellaCatastale,
        "indirizzo" => FieldKind::Indirizzo,
        "posizione" => FieldKind::Posizione,
        _ => return None,
    })
}

/// The procedure presets of the engine that an admin may choose: code,
/// Italian name, whether the term and the matter can be set.
const PRESETS: &[(&str, &str, bool)] = &[
    (
        "ordinario",
        "Procedimento a istanza di parte con provvedimento espresso (L. 241/1990, art. 2)",
        true,
    ),
    (
        "silenzio_assenso",
        "Procedimento a silenzio-assenso (L. 241/1990, art. 20)",
        true,
    ),
    (
        "scia",
        "SCIA: efficace dalla presentazione, controllo in 60 giorni (30 in edilizia) (L. 241/1990, art. 19)",
        false,
    ),
    (
        "autorizzazione_paesaggistica_semplificata",
        "Autorizzazione paesaggistica semplificata (D.P.R. 31/2017)",
        false,
    ),
    (
        "autorizzazione_paesaggistica",
        "Autorizzazione paesaggistica ordinaria (D.Lgs. 42/2004, art. 146)",
        false,
    ),
    (
        "accesso_civico_generalizzato",
        "Accesso civico generalizzato (D.Lgs. 33/2013, art. 5 c. 2)",
        false,
    ),
    (
        "accesso_civico_semplice",
        "Accesso civico semplice (D.Lgs. 33/2013, art. 5 c. 1)",
        false,
    ),
];

/// The matters a procedure may have (art. 20 c.4 L. 241/1990).
const MATTERS: &[Materia] = &[
    Materia::Altro,
    Materia::Edilizia,
    Materia::Accesso,
    Materia::Paesaggio,
    Materia::BeniCulturali,
    Materia::Ambiente,
    Materia::AssettoIdrogeologico,
    Materia::Difesa,
    Materia::SicurezzaPubblica,
    Materia::Immigrazione,
    Materia::Salute,
    Materia::PubblicaIncolumita,
    Materia::ObbligoComunitario,
    Materia::SilenzioRigetto,
];

/// Where a field can be pre-filled from (once-only, C.SE.1.5), with the
/// Italian name shown in the editor.
const PREFILLS: &[(Prefill, &str)] = &[
    (Prefill::ProfiloNome, "Nome (dall'identità digitale)"),
    (Prefill::ProfiloCognome, "Cognome (dall'identità digitale)"),
    (
        Prefill::ProfiloCodiceFiscale,
        "Codice fiscale (dall'identità digitale)",
    ),
    (Prefill::ProfiloEmail, "E-mail (dal profilo)"),
    (Prefill::ProfiloTelefono, "Telefono (dal profilo)"),
    (
        Prefill::AnagrafeIndirizzoResidenza,
        "Indirizzo di residenza (dall'anagrafe)",
    ),
    (
        Prefill::AnagrafeDataNascita,
        "Data di nascita (dall'anagrafe)",
    ),
    (
        Prefill::AnagrafeLuogoNascita,
        "Luogo di nascita (dall'anagrafe)",
    ),
];

fn prefill_key(p: Prefill) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn materia_key(m: Materia) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn materia_of(key: &str) -> Option<Materia> {
    serde_json::from_value(serde_json::Value::String(key.to_owned())).ok()
}

/// A procedure from a preset; `term` (days) is the term of `ordinario` and
/// `silenzio_assenso` and the control window of `scia`.
fn preset(code: &str, term: u32, materia: Materia) -> Option<ProcedureDefinition> {
    let mut p = match code {
        "ordinario" => ProcedureDefinition::ordinario(term),
        "silenzio_assenso" => ProcedureDefinition::silenzio_assenso(term),
        "scia" => ProcedureDefinition::scia(term),
        "autorizzazione_paesaggistica_semplificata" => {
            ProcedureDefinition::autorizzazione_paesaggistica_semplificata()
        }
        // The fallback of art. 146 c.9: 60 days from sending.
        "autorizzazione_paesaggistica" => {
            ProcedureDefinition::autorizzazione_paesaggistica_ordinaria(60)
        }
        "accesso_civico_generalizzato" => ProcedureDefinition::accesso_civico_generalizzato(),
        "accesso_civico_semplice" => ProcedureDefinition::accesso_civico_semplice(),
        _ => return None,
    };
    if matches!(code, "ordinario" | "silenzio_assenso") {
        p.materia = materia;
        p = p.with_default_machine();
    }
    Some(p)
}

// ---------------------------------------------------------------------------
// Applying the posted inputs
// ---------------------------------------------------------------------------

fn opt_text(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// Parses an optional number input; a bad one is a problem of `target`.
fn number<T: std::str::FromStr>(
    p: &Posted,
    name: &str,
    what: &str,
    target: &str,
    problems: &mut Problems,
) -> Option<T> {
    let s = p.text(name)?;
    if s.is_empty() {
        return None;
    }
    match s.parse::<T>() {
        Ok(v) => Some(v),
        Err(_) => {
            problems.add(
                target,
                "servizio_numero_non_valido",
                format!("«{s}» non è un numero valido per {what}."),
            );
            problems.blocking = true;
            None
        }
    }
}

/// Sets an optional rule from its number input: an empty or absent input
/// clears it; a bad number is a problem of `target` and leaves the rule as
/// it was.
fn set_number<T: std::str::FromStr>(
    rule: &mut Option<T>,
    p: &Posted,
    name: &str,
    what: &str,
    target: &str,
    problems: &mut Problems,
) {
    if p.text(name).is_none_or(|s| s.is_empty()) {
        *rule = None;
    } else if let Some(v) = number(p, name, what, target, problems) {
        *rule = Some(v);
    }
}

/// Options of a choice field, one a line: `valore = Etichetta`, or just
/// the label (the value is made from it).
fn parse_options(text: &str) -> Vec<ChoiceOption> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((v, label)) => ChoiceOption {
                value: v.trim().to_owned(),
                label: label.trim().to_owned(),
            },
            None => ChoiceOption {
                value: to_key(l),
                label: l.to_owned(),
            },
        })
        .collect()
}

fn options_text(options: &[ChoiceOption]) -> String {
    options
        .iter()
        .map(|o| format!("{} = {}", o.value, o.label))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------
// Conditions: one editor for steps, fields, attachments and declarations
// ---------------------------------------------------------------------------

/// The operators of a clause: posted key and Italian name.
const OPERATORS: &[(&str, &str)] = &[
    ("uguale", "è uguale a"),
    ("tra", "è uno tra (valori separati da virgole)"),
    ("compilato", "è compilato"),
    ("non_compilato", "non è compilato"),
];

/// The clauses of a condition as the editor lists them, and whether they
/// are joined by `almeno_una` (else `tutte`): none, the condition itself
/// when it is simple, the list of a `tutte` / `almeno_una`.
fn clauses(c: Option<&Condition>) -> (bool, &[Condition]) {
    match c {
        None => (false, &[]),
        Some(Condition::All(list)) => (false, list),
        Some(Condition::Any(list)) => (true, list),
        Some(simple) => (false, std::slice::from_ref(simple)),
    }
}

fn is_compound(c: &Condition) -> bool {
    matches!(c, Condition::All(_) | Condition::Any(_))
}

/// The condition made of `list` joined by `any` (one clause joined by
/// `tutte` is the clause itself); `current` is kept when it says exactly
/// that (a one-clause `tutte` written in a file stays as written).
fn join_clauses(any: bool, list: Vec<Condition>, current: Option<&Condition>) -> Option<Condition> {
    let (current_any, current_list) = clauses(current);
    if current_list == list.as_slice() && (current_any == any || list.len() < 2) {
        return current.cloned();
    }
    match list.len() {
        0 => None,
        // `almeno_una` chosen for one clause stays chosen (same meaning).
        _ if any => Some(Condition::Any(list)),
        1 => list.into_iter().next(),
        _ => Some(Condition::All(list)),
    }
}

/// The operator key and the value text of a simple clause.
fn clause_parts(c: &Condition) -> (&'static str, String) {
    match c {
        Condition::Equals { value, .. } => ("uguale", value.clone()),
        Condition::In { values, .. } => ("tra", values.join(", ")),
        Condition::Filled { filled: true, .. } => ("compilato", String::new()),
        Condition::Filled { filled: false, .. } => ("non_compilato", String::new()),
        Condition::All(_) | Condition::Any(_) => ("", String::new()),
    }
}

/// The field a simple clause reads (`""` for `tutte` / `almeno_una`).
fn clause_field(c: &Condition) -> &str {
    match c {
        Condition::Equals { field, .. }
        | Condition::In { field, .. }
        | Condition::Filled { field, .. } => field,
        Condition::All(_) | Condition::Any(_) => "",
    }
}

/// A clause from its field, operator and value text; `None` for an
/// operator that does not exist.
fn make_clause(field: String, op: &str, value: &str) -> Option<Condition> {
    Some(match op {
        "uguale" => Condition::Equals {
            field,
            value: value.trim().to_owned(),
        },
        "tra" => Condition::In {
            field,
            values: value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        "compilato" => Condition::Filled {
            field,
            filled: true,
        },
        "non_compilato" => Condition::Filled {
            field,
            filled: false,
        },
        _ => return None,
    })
}

/// A condition in words, for a nested `tutte` / `almeno_una` the editor
/// shows without editing it.
fn describe(c: &Condition) -> String {
    let list = |l: &[Condition]| l.iter().map(describe).collect::<Vec<_>>().join("; ");
    match c {
        Condition::Equals { field, value } => format!("«{field}» è uguale a «{value}»"),
        Condition::In { field, values } => format!(
            "«{field}» è uno tra {}",
            values
                .iter()
                .map(|v| format!("«{v}»"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Condition::Filled {
            field,
            filled: true,
        } => format!("«{field}» è compilato"),
        Condition::Filled {
            field,
            filled: false,
        } => format!("«{field}» non è compilato"),
        Condition::All(l) => format!("valgono tutte: ({})", list(l)),
        Condition::Any(l) => format!("vale almeno una: ({})", list(l)),
    }
}

/// Applies the condition inputs posted under `prefix` to `cond`: the
/// combinator `{prefix}.cond.modo`, each listed clause
/// (`{prefix}.cond.{n}.campo|op|valore`) and the new clause
/// (`{prefix}.cond.nuova.*`, added when its field or value is filled). A
/// nested `tutte` / `almeno_una` has no inputs and is kept as it is.
/// Without `modo` (the editor did not show the condition) nothing changes.
fn apply_condition(
    p: &Posted,
    prefix: &str,
    owner: &str,
    cond: &mut Option<Condition>,
    problems: &mut Problems,
) {
    let Some(mode) = p.text(&format!("{prefix}.cond.modo")) else {
        return;
    };
    let (current_any, current) = clauses(cond.as_ref());
    let target = format!("el:{owner}");
    let any = match mode.as_str() {
        "tutte" => false,
        "almeno_una" => true,
        _ => {
            problems.add(
                target.clone(),
                "servizio_condizione_non_valida",
                format!("«{mode}» non è un modo di combinare le condizioni."),
            );
            problems.blocking = true;
            current_any
        }
    };
    let bad_operator = |op: &str, problems: &mut Problems| {
        problems.add(
            target.clone(),
            "servizio_condizione_non_valida",
            format!("«{op}» non è un confronto ammesso in una condizione."),
        );
        problems.blocking = true;
    };
    let mut list = Vec::with_capacity(current.len() + 1);
    for (n, c) in current.iter().enumerate() {
        let name = |part: &str| format!("{prefix}.cond.{n}.{part}");
        if is_compound(c) {
            list.push(c.clone());
            continue;
        }
        let (op, value) = clause_parts(c);
        let field = p
            .text(&name("campo"))
            .unwrap_or_else(|| clause_field(c).to_owned());
        let op = p.text(&name("op")).unwrap_or_else(|| op.to_owned());
        let value = p.text(&name("valore")).unwrap_or(value);
        match make_clause(field, &op, &value) {
            Some(clause) => list.push(clause),
            None => {
                bad_operator(&op, problems);
                list.push(c.clone());
            }
        }
    }
    let field = p
        .text(&format!("{prefix}.cond.nuova.campo"))
        .unwrap_or_default();
    let value = p
        .text(&format!("{prefix}.cond.nuova.valore"))
        .unwrap_or_default();
    if !field.is_empty() || !value.is_empty() {
        let op = p
            .text(&format!("{prefix}.cond.nuova.op"))
            .unwrap_or_else(|| "uguale".into());
        match make_clause(field, &op, &value) {
            Some(clause) => list.push(clause),
            None => bad_operator(&op, problems),
        }
    }
    *cond = join_clauses(any, list, cond.as_ref());
}

/// The condition an editor prefix (`p0`, `p0.c1`, `a2`, `d0`) names.
fn condition_slot<'a>(
    form: &'a mut FormDefinition,
    prefix: &str,
) -> Option<&'a mut Option<Condition>> {
    fn index(part: &str, tag: char) -> Option<usize> {
        part.strip_prefix(tag)?.parse().ok()
    }
    let mut parts = prefix.split('.');
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    match (first.chars().next()?, second) {
        ('p', None) => Some(&mut form.steps.get_mut(index(first, 'p')?)?.condition),
        ('p', Some(field)) => Some(
            &mut form
                .steps
                .get_mut(index(first, 'p')?)?
                .fields
                .get_mut(index(field, 'c')?)?
                .condition,
        ),
        ('a', None) => Some(&mut form.attachments.get_mut(index(first, 'a')?)?.condition),
        ('d', None) => Some(&mut form.declarations.get_mut(index(first, 'd')?)?.condition),
        _ => None,
    }
}

/// `condizione_elimina:{prefix}:{n}` removes clause `n`;
/// `condizione_aggiungi:{prefix}` only returns to the condition (the new
/// clause was applied with the other inputs). Returns the anchor.
fn apply_condition_action(form: &mut FormDefinition, action: &str) -> Option<String> {
    let anchor = |prefix: &str| format!("{}-cond", prefix.replace('.', "-"));
    if let Some(prefix) = action.strip_prefix("condizione_aggiungi:") {
        condition_slot(form, prefix)?;
        return Some(anchor(prefix));
    }
    let (prefix, n) = action
        .strip_prefix("condizione_elimina:")?
        .rsplit_once(':')?;
    let n: usize = n.parse().ok()?;
    let slot = condition_slot(form, prefix)?;
    let (any, list) = clauses(slot.as_ref());
    if n < list.len() {
        let mut list = list.to_vec();
        list.remove(n);
        *slot = join_clauses(any, list, None);
    }
    Some(anchor(prefix))
}

fn apply_field(p: &Posted, prefix: &str, f: &mut Field, problems: &mut Problems) {
    if let Some(v) = p.text(&format!("{prefix}.id")) {
        f.id = v;
    }
    if let Some(v) = p.text(&format!("{prefix}.etichetta")) {
        f.label = v;
    }
    f.help = opt_text(p.text(&format!("{prefix}.aiuto")));
    f.required = p.checked(&format!("{prefix}.obbligatorio"));
    apply_condition(p, prefix, &f.id, &mut f.condition, problems);
    if let Some(source) = p.text(&format!("{prefix}.precompila")) {
        f.prefill = PREFILLS
            .iter()
            .map(|(pf, _)| *pf)
            .find(|pf| prefill_key(*pf) == source);
    }
    let target = format!("el:{}", f.id);
    let key = p
        .text(&format!("{prefix}.tipo"))
        .unwrap_or_else(|| f.kind.key().to_owned());
    let options = match &f.kind {
        FieldKind::Scelta { options, .. } => options.clone(),
        _ => Vec::new(),
    };
    let options = match p.raw(&format!("{prefix}.opzioni")) {
        Some(text) => parse_options(text),
        None => options,
    };
    let multiple = p.checked(&format!("{prefix}.multipla"));
    let Some(kind) = kind_of(&key, options, multiple) else {
        problems.add(
            target,
            "servizio_tipo_campo_sconosciuto",
            format!("Il tipo di campo «{key}» non esiste."),
        );
        problems.blocking = true;
        return;
    };
    let changed_kind = kind.key() != f.kind.key();
    f.kind = kind;
    if changed_kind {
        // The rules of the old kind do not apply to the new one.
        f.rules = Rules::default();
        if f.prefill.is_some_and(|pf| !pf.fits(&f.kind)) {
            f.prefill = None;
        }
        return;
    }
    let n = |name: &str| format!("{prefix}.{name}");
    match f.kind {
        FieldKind::Testo | FieldKind::TestoLungo => {
            set_number(
                &mut f.rules.min_length,
                p,
                &n("lunghezza_min"),
                "la lunghezza minima",
                &target,
                problems,
            );
            set_number(
                &mut f.rules.max_length,
                p,
                &n("lunghezza_max"),
                "la lunghezza massima",
                &target,
                problems,
            );
        }
        FieldKind::Numero => {
            set_number(
                &mut f.rules.min_value,
                p,
                &n("valore_min"),
                "il valore minimo",
                &target,
                problems,
            );
            set_number(
                &mut f.rules.max_value,
                p,
                &n("valore_max"),
                "il valore massimo",
                &target,
                problems,
            );
        }
        FieldKind::Data => {
            f.rules.not_future = p.checked(&n("data_non_futura"));
            f.rules.not_past = p.checked(&n("data_non_passata"));
        }
        FieldKind::Scelta {
            multiple: false, ..
        } => {
            f.rules.min_choices = None;
            f.rules.max_choices = None;
        }
        FieldKind::Scelta { multiple: true, .. } => {
            set_number(
                &mut f.rules.min_choices,
                p,
                &n("scelte_min"),
                "il numero minimo di scelte",
                &target,
                problems,
            );
            set_number(
                &mut f.rules.max_choices,
                p,
                &n("scelte_max"),
                "il numero massimo di scelte",
                &target,
                problems,
            );
        }
        FieldKind::ParticellaCatastale => {
            set_number(
                &mut f.rules.max_rows,
                p,
                &n("righe_max"),
                "il numero massimo di particelle",
                &target,
                problems,
            );
        }
        _ => {}
    }
}

fn apply_posted(st: &mut EditorState, p: &Posted, problems: &mut Problems) {
    let def = &mut st.def;
    if st.base.is_none()
        && let Some(v) = p.text("servizio")
    {
        def.service = v;
    }
    if st.base.is_none()
        && let Some(v) = p.text("codice")
    {
        // The form's code defaults to the card's slug.
        def.form.code = if v.is_empty() { def.service.clone() } else { v };
    }
    if let Some(v) = p.text("titolo") {
        def.form.title = v;
    }
    if let Some(v) = p.text("descrizione") {
        def.form.description = v;
    }
    if let Some(v) = p.text("classificazione") {
        def.classification = v;
    }
    if let Some(v) = p.text("oggetto") {
        def.subject = v;
    }
    // The procedure: rebuilt from the preset only when something changed.
    let code = p
        .text("procedura")
        .unwrap_or_else(|| def.procedure.code.clone());
    let term = number::<u32>(p, "termine", "il termine", "procedimento", problems)
        .unwrap_or(def.procedure.term_days);
    let materia = p
        .text("materia")
        .and_then(|m| materia_of(&m))
        .unwrap_or(def.procedure.materia);
    if (code != def.procedure.code
        || term != def.procedure.term_days
        || materia != def.procedure.materia)
        && let Some(proc) = preset(&code, term, materia)
    {
        def.procedure = proc;
    }

    for (i, step) in def.form.steps.iter_mut().enumerate() {
        let prefix = format!("p{i}");
        if let Some(v) = p.text(&format!("{prefix}.id")) {
            step.id = v;
        }
        if let Some(v) = p.text(&format!("{prefix}.titolo")) {
            step.title = v;
        }
        step.help = opt_text(p.text(&format!("{prefix}.aiuto")));
        apply_condition(p, &prefix, &step.id, &mut step.condition, problems);
        for (j, f) in step.fields.iter_mut().enumerate() {
            apply_field(p, &format!("{prefix}.c{j}"), f, problems);
        }
    }
    for (k, a) in def.form.attachments.iter_mut().enumerate() {
        let prefix = format!("a{k}");
        if let Some(v) = p.text(&format!("{prefix}.id")) {
            a.id = v;
        }
        if let Some(v) = p.text(&format!("{prefix}.etichetta")) {
            a.label = v;
        }
        a.help = opt_text(p.text(&format!("{prefix}.aiuto")));
        a.required = p.checked(&format!("{prefix}.obbligatorio"));
        apply_condition(p, &prefix, &a.id, &mut a.condition, problems);
        let ticked: Vec<MediaType> = p
            .all(&format!("{prefix}.tipi"))
            .iter()
            .filter_map(|t| serde_json::from_value(serde_json::Value::String(t.clone())).ok())
            .collect();
        // The kinds kept stay in their order; new ones follow.
        a.media_types.retain(|m| ticked.contains(m));
        for m in ticked {
            if !a.media_types.contains(&m) {
                a.media_types.push(m);
            }
        }
        let target = format!("el:{}", a.id);
        if let Some(mb) = number::<u64>(
            p,
            &format!("{prefix}.mb"),
            "la dimensione massima",
            &target,
            problems,
        ) && mb != a.max_bytes.div_ceil(1024 * 1024)
        {
            // Only a changed value: a limit that is not a whole number of
            // MB (from a file) stays exact.
            a.max_bytes = mb.saturating_mul(1024 * 1024);
        }
        if let Some(n) = number::<u32>(
            p,
            &format!("{prefix}.file_max"),
            "il numero massimo di file",
            &target,
            problems,
        ) {
            a.max_files = n;
        }
    }
    for (k, d) in def.form.declarations.iter_mut().enumerate() {
        let prefix = format!("d{k}");
        if let Some(v) = p.text(&format!("{prefix}.id")) {
            d.id = v;
        }
        if let Some(v) = p.text(&format!("{prefix}.testo")) {
            d.text = v;
        }
        d.reference = opt_text(p.text(&format!("{prefix}.riferimento")));
        apply_condition(p, &prefix, &d.id, &mut d.condition, problems);
    }
}

/// `passo_su:1` → ("passo_su", [1]).
fn parse_action(a: &str) -> (&str, Vec<usize>) {
    let mut parts = a.split(':');
    let name = parts.next().unwrap_or_default();
    (name, parts.filter_map(|n| n.parse().ok()).collect())
}

fn move_item<T>(list: &mut [T], at: usize, up: bool) {
    if up && at > 0 && at < list.len() {
        list.swap(at, at - 1);
    } else if !up && at + 1 < list.len() {
        list.swap(at, at + 1);
    }
}

/// Applies a structural action. Returns the anchor to focus afterwards.
fn apply_action(st: &mut EditorState, p: &Posted, action: &str) -> Option<String> {
    let form = &mut st.def.form;
    let (name, n) = parse_action(action);
    let at = |k: usize| n.get(k).copied().unwrap_or(usize::MAX);
    match name {
        "condizione_aggiungi" | "condizione_elimina" => apply_condition_action(form, action),
        "passo_aggiungi" => {
            let title = p.text("nuovo_passo.titolo").unwrap_or_default();
            let id = new_id(
                &p.text("nuovo_passo.id").unwrap_or_default(),
                &title,
                "passo",
                form,
            );
            form.steps.push(Step {
                id,
                title,
                help: None,
                condition: None,
                fields: Vec::new(),
            });
            Some(format!("p{}", form.steps.len() - 1))
        }
        "passo_elimina" if at(0) < form.steps.len() => {
            form.steps.remove(at(0));
            Some("passi".into())
        }
        "passo_su" | "passo_giu" => {
            move_item(&mut form.steps, at(0), name == "passo_su");
            Some("passi".into())
        }
        "campo_aggiungi" if at(0) < form.steps.len() => {
            let i = at(0);
            let prefix = format!("p{i}.nuovo");
            let label = p.text(&format!("{prefix}.etichetta")).unwrap_or_default();
            let typed = p.text(&format!("{prefix}.id")).unwrap_or_default();
            let id = new_id(&typed, &label, "campo", form);
            let key = p
                .text(&format!("{prefix}.tipo"))
                .unwrap_or_else(|| "testo".into());
            let kind = kind_of(&key, Vec::new(), false).unwrap_or(FieldKind::Testo);
            let step = &mut form.steps[i];
            step.fields.push(Field {
                id,
                label,
                help: None,
                kind,
                required: p.checked(&format!("{prefix}.obbligatorio")),
                condition: None,
                prefill: None,
                rules: Rules::default(),
            });
            Some(format!("p{i}-c{}", step.fields.len() - 1))
        }
        "campo_elimina" if at(0) < form.steps.len() && at(1) < form.steps[at(0)].fields.len() => {
            form.steps[at(0)].fields.remove(at(1));
            Some(format!("p{}", at(0)))
        }
        "campo_su" | "campo_giu" if at(0) < form.steps.len() => {
            move_item(&mut form.steps[at(0)].fields, at(1), name == "campo_su");
            Some(format!("p{}", at(0)))
        }
        "allegato_aggiungi" => {
            let label = p.text("nuovo_allegato.etichetta").unwrap_or_default();
            let id = new_id(
                &p.text("nuovo_allegato.id").unwrap_or_default(),
                &label,
                "allegato",
                form,
            );
            form.attachments.push(AttachmentSpec {
                id,
                label,
                help: None,
                required: false,
                media_types: vec![MediaType::Pdf, MediaType::P7m],
                max_bytes: 20 * 1024 * 1024,
                max_files: 1,
                condition: None,
            });
            Some(format!("a{}", form.attachments.len() - 1))
        }
        "allegato_elimina" if at(0) < form.attachments.len() => {
            form.attachments.remove(at(0));
            Some("allegati".into())
        }
        "allegato_su" | "allegato_giu" => {
            move_item(&mut form.attachments, at(0), name == "allegato_su");
            Some("allegati".into())
        }
        "dichiarazione_aggiungi" => {
            let text = p.text("nuova_dichiarazione.testo").unwrap_or_default();
            let id = new_id(
                &p.text("nuova_dichiarazione.id").unwrap_or_default(),
                "",
                "dichiarazione",
                form,
            );
            form.declarations.push(Declaration {
                id,
                text,
                reference: opt_text(p.text("nuova_dichiarazione.riferimento")),
                condition: None,
            });
            Some(format!("d{}", form.declarations.len() - 1))
        }
        "dichiarazione_elimina" if at(0) < form.declarations.len() => {
            form.declarations.remove(at(0));
            Some("dichiarazioni".into())
        }
        "dichiarazione_su" | "dichiarazione_giu" => {
            move_item(&mut form.declarations, at(0), name == "dichiarazione_su");
            Some("dichiarazioni".into())
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/// Codes of the engine that only mean "not finished yet": they block the
/// publication, not the editing.
const INCOMPLETE: &[&str] = &[
    "modulo_senza_passi",
    "modulo_passo_vuoto",
    "modulo_scelte_vuote",
];

/// Checks the definition with the engine (form and procedure) and the
/// service's own rules, placing each problem next to what it concerns.
fn check(st: &EditorState, snap: &PortalSnapshot, problems: &mut Problems) {
    use palazzo_domain::moduli::DefinitionError as E;
    let def = &st.def;
    if snap.service(&def.service).is_none() {
        problems.add(
            "servizio",
            "servizio_sconosciuto",
            "Scegli la scheda del catalogo a cui appartiene il servizio.".into(),
        );
        problems.blocking = true;
    }
    if let Err(errors) = def.form.validate() {
        for e in errors {
            let target = match &e {
                E::Code(_) => "codice".to_owned(),
                E::EmptyText(id) if *id == def.form.code && def.form.title.trim().is_empty() => {
                    "titolo".to_owned()
                }
                E::EmptyStep(id)
                | E::InvalidId(id)
                | E::DuplicateId(id)
                | E::EmptyText(id)
                | E::NoChoices(id)
                | E::PrefillNotApplicable(id)
                | E::AttachmentLimits(id) => format!("el:{id}"),
                // Next to the clause that reads the field (see `cond_view`).
                E::ConditionUnknownField { owner, field }
                | E::ConditionLaterField { owner, field }
                | E::ConditionValue { owner, field, .. } => format!("cond:{owner}:{field}"),
                E::EmptyCondition(owner) => format!("cond:{owner}:"),
                E::DuplicateChoice { field, .. }
                | E::IncoherentBounds { field, .. }
                | E::RuleNotApplicable { field, .. } => format!("el:{field}"),
                _ => "passi".to_owned(),
            };
            let code = e.code();
            let untitled = matches!(&e, E::EmptyText(id) if *id == def.form.code)
                && def.form.title.trim().is_empty();
            if !INCOMPLETE.contains(&code) && !untitled {
                problems.blocking = true;
            }
            let message = match &e {
                E::ConditionUnknownField { field, .. } if field.is_empty() => {
                    "Scegli il campo da cui dipende la condizione.".to_owned()
                }
                _ => e.message_it(),
            };
            problems.add(target, code, message);
        }
    }
    if let Err(errors) = def.procedure.validate() {
        for e in errors {
            problems.add("procedimento", e.code(), e.message_it());
        }
        problems.blocking = true;
    }
    if def.subject.trim().is_empty() || def.subject.chars().count() > 300 {
        problems.add(
            "oggetto",
            "servizio_oggetto",
            "L'oggetto di protocollo è obbligatorio (al massimo 300 caratteri).".into(),
        );
        // Still to be written is not an error while editing; too long is.
        problems.blocking |= !def.subject.trim().is_empty();
    }
    if def.classification.trim().is_empty() {
        problems.add(
            "classificazione",
            "servizio_classificazione",
            "Indica la classificazione del titolario dei fascicoli (es. VI.3).".into(),
        );
    } else if palazzo_domain::titolario::ClassKey::parse(&def.classification).is_err() {
        problems.add(
            "classificazione",
            "servizio_classificazione",
            format!(
                "La classificazione «{}» non è una voce del titolario (es. VI.3).",
                def.classification
            ),
        );
        problems.blocking = true;
    }
}

// ---------------------------------------------------------------------------
// Rendering the editor
// ---------------------------------------------------------------------------

/// One clause of a condition in the editor.
struct ClauseView {
    /// Its place in the list (input names `{prefix}.cond.{n}.…`).
    n: usize,
    /// A nested `tutte` / `almeno_una` loaded from a file, in words: kept
    /// as it is, removable (`""` for a simple clause).
    nested: String,
    field: String,
    /// The field is not among those the owner may read (still shown, so
    /// that nothing is lost: the error says why).
    stray: bool,
    op: &'static str,
    value: String,
    /// The values the field accepts, in words.
    hint: String,
    errors: Vec<String>,
}

/// The condition of a step, field, attachment or declaration: the same
/// inputs for all four.
struct CondView {
    /// Prefix of the input names (`p0`, `p0.c1`, `a2`, `d0`).
    prefix: String,
    /// Prefix of the element ids (`p0`, `p0-c1`, …).
    pos: String,
    /// What it shows: "il passo", "il campo", "l'allegato", "la dichiarazione".
    what: &'static str,
    /// The owner's name, for the buttons' accessible names.
    display: String,
    /// Shown at all: there are fields to read, or a condition already.
    shown: bool,
    /// Joined by `almeno_una` (else `tutte`).
    any: bool,
    clauses: Vec<ClauseView>,
    /// The fields it may read: (id, label).
    choices: Vec<(String, String)>,
    operators: &'static [(&'static str, &'static str)],
}

/// The values a field accepts, in words, as a hint next to a clause.
fn accepted_values(form: &FormDefinition, field: &str) -> String {
    match form.field(field).map(|f| &f.kind) {
        Some(FieldKind::Scelta { options, .. }) => format!(
            "Valori ammessi: {}.",
            options
                .iter()
                .map(|o| format!("{} ({})", o.value, o.label))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(FieldKind::SiNo) => "Valori ammessi: si, no.".to_owned(),
        Some(FieldKind::Data) => "Una data nella forma AAAA-MM-GG.".to_owned(),
        _ => String::new(),
    }
}

/// Where a condition is and what it may read.
struct CondOwner<'a> {
    /// The id of the step, field, attachment or declaration.
    id: &'a str,
    /// Its input prefix (`p0`, `p0.c1`, `a2`, `d0`).
    prefix: String,
    what: &'static str,
    display: String,
    /// The fields it may read: (id, label).
    choices: &'a [(String, String)],
}

/// The view of `cond` with each engine error next to the clause it
/// concerns (added to `summary` with the clause's anchor). Returns the
/// errors no clause shows (e.g. within a nested condition), for the
/// owner's own list.
fn cond_view(
    form: &FormDefinition,
    owner: CondOwner<'_>,
    cond: Option<&Condition>,
    problems: &mut Problems,
    summary: &mut Vec<(String, String)>,
) -> (CondView, Vec<String>) {
    let pos = owner.prefix.replace('.', "-");
    let key = |field: &str| format!("cond:{}:{field}", owner.id);
    let (any, list) = clauses(cond);
    let mut shown_keys = Vec::new();
    let clauses = list
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let field = clause_field(c);
            let (op, value) = clause_parts(c);
            let mut keys = Vec::new();
            if !is_compound(c) {
                keys.push(key(field));
            }
            if matches!(c, Condition::In { values, .. } if values.is_empty()) {
                keys.push(key(""));
            }
            let errors: Vec<String> = keys.iter().flat_map(|k| problems.peek(k)).collect();
            summary.extend(
                errors
                    .iter()
                    .map(|m| (format!("{pos}-cond-{n}"), m.clone())),
            );
            shown_keys.extend(keys);
            ClauseView {
                n,
                nested: if is_compound(c) {
                    describe(c)
                } else {
                    String::new()
                },
                field: field.to_owned(),
                stray: !is_compound(c) && !owner.choices.iter().any(|(id, _)| id == field),
                op,
                value,
                hint: accepted_values(form, field),
                errors,
            }
        })
        .collect();
    let leftover = problems
        .take_prefix(&key(""))
        .into_iter()
        .filter(|(k, _)| !shown_keys.contains(k))
        .flat_map(|(_, messages)| messages)
        .collect();
    let view = CondView {
        shown: cond.is_some() || !owner.choices.is_empty(),
        prefix: owner.prefix,
        pos,
        what: owner.what,
        display: owner.display,
        any,
        clauses,
        choices: owner.choices.to_vec(),
        operators: OPERATORS,
    };
    (view, leftover)
}

struct FieldRow {
    pos: String,
    /// The label, or the key while the label is empty.
    display: String,
    name: String,
    id: String,
    label: String,
    help: String,
    kind: String,
    required: bool,
    is_choice: bool,
    is_text: bool,
    is_number: bool,
    is_date: bool,
    options: String,
    multiple: bool,
    min_length: String,
    max_length: String,
    min_value: String,
    max_value: String,
    not_future: bool,
    not_past: bool,
    min_choices: String,
    max_choices: String,
    is_parcel: bool,
    max_rows: String,
    /// The pre-fill source chosen (`""`: none).
    prefill: String,
    /// The sources that fit the field's kind: (key, name).
    prefills: Vec<(String, &'static str)>,
    cond: CondView,
    errors: Vec<String>,
    first: bool,
    last: bool,
}

struct StepRow {
    pos: String,
    /// The title, or the id while the title is empty.
    display: String,
    index: usize,
    id: String,
    title: String,
    help: String,
    cond: CondView,
    fields: Vec<FieldRow>,
    errors: Vec<String>,
    first: bool,
    last: bool,
}

struct AttachmentRow {
    pos: String,
    /// The label, or the id while the label is empty.
    display: String,
    index: usize,
    id: String,
    label: String,
    help: String,
    required: bool,
    /// (key, name, accepted)
    types: Vec<(String, &'static str, bool)>,
    mb: u64,
    max_files: u32,
    cond: CondView,
    errors: Vec<String>,
    first: bool,
    last: bool,
}

struct DeclarationRow {
    pos: String,
    index: usize,
    id: String,
    text: String,
    reference: String,
    cond: CondView,
    errors: Vec<String>,
    first: bool,
    last: bool,
}

/// The text, or the id while the text is empty.
fn display_of(text: &str, id: &str) -> String {
    if text.trim().is_empty() {
        id.to_owned()
    } else {
        text.to_owned()
    }
}

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "backoffice/servizio_editor.html")]
struct EditorTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    state: String,
    is_new: bool,
    base: u32,
    /// Cards of the catalogue that have no online service yet: (slug, title).
    cards: Vec<(String, String)>,
    service: String,
    card_title: String,
    office: String,
    code: String,
    title: String,
    description: String,
    classification: String,
    subject: String,
    presets: Vec<(&'static str, &'static str, bool)>,
    procedure: String,
    /// The procedure is not one of the presets (imported from a file).
    custom_procedure: bool,
    procedure_title: String,
    term: u32,
    matters: Vec<(String, &'static str)>,
    materia: String,
    kinds: &'static [(&'static str, &'static str)],
    steps: Vec<StepRow>,
    attachments: Vec<AttachmentRow>,
    declarations: Vec<DeclarationRow>,
    /// Problems of the service-level inputs, by input name.
    top: BTreeMap<String, Vec<String>>,
    /// (anchor, message) of every problem.
    summary: Vec<(String, String)>,
    focus: Option<String>,
    /// The problems block the edit (422), not only the publication.
    blocking: bool,
}

const MEDIA: &[MediaType] = &[
    MediaType::Pdf,
    MediaType::P7m,
    MediaType::Jpeg,
    MediaType::Png,
    MediaType::Xml,
    MediaType::Tiff,
];

fn media_key(m: MediaType) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[allow(clippy::too_many_lines)]
fn editor_response(
    t: &Tenant,
    auth: &Auth,
    st: &EditorState,
    snap: &PortalSnapshot,
    mut problems: Problems,
    focus: Option<String>,
    status: StatusCode,
) -> Result<Response, ServiceError> {
    let def = &st.def;
    let form = &def.form;
    let mut summary: Vec<(String, String)> = Vec::new();
    let mut steps = Vec::new();
    let mut before: Vec<(String, String)> = Vec::new();
    let n_steps = form.steps.len();
    let every_field: Vec<(String, String)> = form
        .fields()
        .map(|f| (f.id.clone(), f.label.clone()))
        .collect();
    for (i, s) in form.steps.iter().enumerate() {
        let pos = format!("p{i}");
        let (step_cond, leftover) = cond_view(
            form,
            CondOwner {
                id: &s.id,
                prefix: pos.clone(),
                what: "il passo",
                display: format!("del passo {}", display_of(&s.title, &s.id)),
                choices: &before,
            },
            s.condition.as_ref(),
            &mut problems,
            &mut summary,
        );
        let mut errors = problems.take(&format!("el:{}", s.id));
        errors.extend(leftover);
        summary.extend(errors.iter().map(|m| (pos.clone(), m.clone())));
        let mut fields = Vec::new();
        for (j, f) in s.fields.iter().enumerate() {
            let fpos = format!("p{i}-c{j}");
            let (cond, leftover) = cond_view(
                form,
                CondOwner {
                    id: &f.id,
                    prefix: format!("p{i}.c{j}"),
                    what: "il campo",
                    display: format!("del campo {}", display_of(&f.label, &f.id)),
                    choices: &before,
                },
                f.condition.as_ref(),
                &mut problems,
                &mut summary,
            );
            let mut errors = problems.take(&format!("el:{}", f.id));
            errors.extend(leftover);
            summary.extend(errors.iter().map(|m| (fpos.clone(), m.clone())));
            let (is_choice, options, multiple) = match &f.kind {
                FieldKind::Scelta { options, multiple } => (true, options_text(options), *multiple),
                _ => (false, String::new(), false),
            };
            let r = &f.rules;
            fields.push(FieldRow {
                display: display_of(&f.label, &f.id),
                name: format!("p{i}.c{j}"),
                pos: fpos,
                id: f.id.clone(),
                label: f.label.clone(),
                help: f.help.clone().unwrap_or_default(),
                kind: f.kind.key().to_owned(),
                required: f.required,
                is_choice,
                is_text: matches!(f.kind, FieldKind::Testo | FieldKind::TestoLungo),
                is_number: matches!(f.kind, FieldKind::Numero),
                is_date: matches!(f.kind, FieldKind::Data),
                options,
                multiple,
                min_length: opt_num(r.min_length),
                max_length: opt_num(r.max_length),
                min_value: opt_num(r.min_value),
                max_value: opt_num(r.max_value),
                not_future: r.not_future,
                not_past: r.not_past,
                min_choices: opt_num(r.min_choices),
                max_choices: opt_num(r.max_choices),
                is_parcel: matches!(f.kind, FieldKind::ParticellaCatastale),
                max_rows: opt_num(r.max_rows),
                prefill: f.prefill.map(prefill_key).unwrap_or_default(),
                prefills: PREFILLS
                    .iter()
                    .filter(|(pf, _)| pf.fits(&f.kind))
                    .map(|(pf, name)| (prefill_key(*pf), *name))
                    .collect(),
                cond,
                errors,
                first: j == 0,
                last: j + 1 == s.fields.len(),
            });
            before.push((f.id.clone(), f.label.clone()));
        }
        steps.push(StepRow {
            display: display_of(&s.title, &s.id),
            pos,
            index: i,
            id: s.id.clone(),
            title: s.title.clone(),
            help: s.help.clone().unwrap_or_default(),
            cond: step_cond,
            fields,
            errors,
            first: i == 0,
            last: i + 1 == n_steps,
        });
    }
    let n = form.attachments.len();
    let attachments = form
        .attachments
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let pos = format!("a{k}");
            let (cond, leftover) = cond_view(
                form,
                CondOwner {
                    id: &a.id,
                    prefix: pos.clone(),
                    what: "l'allegato",
                    display: format!("dell'allegato {}", display_of(&a.label, &a.id)),
                    choices: &every_field,
                },
                a.condition.as_ref(),
                &mut problems,
                &mut summary,
            );
            let mut errors = problems.take(&format!("el:{}", a.id));
            errors.extend(leftover);
            summary.extend(errors.iter().map(|m| (pos.clone(), m.clone())));
            AttachmentRow {
                display: display_of(&a.label, &a.id),
                pos,
                index: k,
                id: a.id.clone(),
                label: a.label.clone(),
                help: a.help.clone().unwrap_or_default(),
                required: a.required,
                types: MEDIA
                    .iter()
                    .map(|m| (media_key(*m), m.name(), a.accepts(*m)))
                    .collect(),
                mb: a.max_bytes.div_ceil(1024 * 1024),
                max_files: a.max_files,
                cond,
                errors,
                first: k == 0,
                last: k + 1 == n,
            }
        })
        .collect();
    let n = form.declarations.len();
    let declarations = form
        .declarations
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let pos = format!("d{k}");
            let (cond, leftover) = cond_view(
                form,
                CondOwner {
                    id: &d.id,
                    prefix: pos.clone(),
                    what: "la dichiarazione",
                    display: format!("della dichiarazione {}", k + 1),
                    choices: &every_field,
                },
                d.condition.as_ref(),
                &mut problems,
                &mut summary,
            );
            let mut errors = problems.take(&format!("el:{}", d.id));
            errors.extend(leftover);
            summary.extend(errors.iter().map(|m| (pos.clone(), m.clone())));
            DeclarationRow {
                cond,
                pos,
                index: k,
                id: d.id.clone(),
                text: d.text.clone(),
                reference: d.reference.clone().unwrap_or_default(),
                errors,
                first: k == 0,
                last: k + 1 == n,
            }
        })
        .collect();
    // What is left concerns the service-level inputs (or elements whose id
    // no longer exists).
    let mut top = BTreeMap::new();
    for (target, messages) in std::mem::take(&mut problems.by_target) {
        let anchor = match target.as_str() {
            "servizio" | "codice" | "titolo" | "classificazione" | "oggetto" => {
                format!("campo-{target}")
            }
            "procedimento" => "campo-procedura".to_owned(),
            _ => "passi".to_owned(),
        };
        summary.extend(messages.iter().map(|m| (anchor.clone(), m.clone())));
        top.insert(target, messages);
    }
    summary.dedup();

    let card = snap.service(&def.service);
    let cards = if st.base.is_none() {
        snap.services
            .iter()
            .map(|s| (s.data.slug.clone(), s.data.title.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let heading = if st.base.is_none() {
        "Nuovo servizio online".to_owned()
    } else {
        format!(
            "Modifica del servizio «{}»",
            card.map_or(form.title.as_str(), |c| c.data.title.as_str())
        )
    };
    let mut sh = shell(t, "Servizi online", "Editor");
    sh.breadcrumb
        .insert(2, crate::portal::shell::Crumb::link("Servizi online", LIST));
    sh.title = heading.into();
    let tpl = EditorTemplate {
        shell: sh,
        csrf: auth.csrf().to_owned(),
        state: st.encode()?,
        is_new: st.base.is_none(),
        base: st.base.unwrap_or(0),
        cards,
        service: def.service.clone(),
        card_title: card.map(|c| c.data.title.clone()).unwrap_or_default(),
        office: card
            .and_then(|c| snap.office(c.data.office))
            .map(|o| o.data.name.clone())
            .unwrap_or_default(),
        code: form.code.clone(),
        title: form.title.clone(),
        description: form.description.clone(),
        classification: def.classification.clone(),
        subject: def.subject.clone(),
        presets: PRESETS.to_vec(),
        procedure: def.procedure.code.clone(),
        custom_procedure: !PRESETS.iter().any(|p| p.0 == def.procedure.code),
        procedure_title: def.procedure.title.clone(),
        term: def.procedure.term_days,
        matters: MATTERS
            .iter()
            .map(|m| (materia_key(*m), m.label()))
            .collect(),
        materia: materia_key(def.procedure.materia),
        kinds: KINDS,
        steps,
        attachments,
        declarations,
        top,
        summary,
        focus,
        blocking: problems.blocking,
    };
    Ok(render(tpl, status))
}

// ---------------------------------------------------------------------------
// The preview
// ---------------------------------------------------------------------------

/// One step of the preview: the citizen's own field rendering.
struct PreviewStep {
    title: String,
    help: Option<String>,
    position: String,
    conditional: bool,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "backoffice/servizio_anteprima.html")]
struct PreviewTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    state: String,
    title: String,
    description: String,
    steps: Vec<PreviewStep>,
    /// (label, help, types, required)
    attachments: Vec<(String, String, String, bool)>,
    /// (text, reference)
    declarations: Vec<(String, String)>,
}

fn preview_response(t: &Tenant, auth: &Auth, st: &EditorState) -> Result<Response, ServiceError> {
    let form = &st.def.form;
    let raw = RawAnswers::new();
    let total = form.steps.len();
    let steps = form
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| PreviewStep {
            title: s.title.clone(),
            help: s.help.clone(),
            position: format!("{}/{total}", i + 1),
            conditional: s.condition.is_some(),
            fields: s.fields.iter().map(|f| field_view(f, &raw, None)).collect(),
        })
        .collect();
    let mut sh = shell(t, "Anteprima", "Anteprima");
    sh.breadcrumb
        .insert(2, crate::portal::shell::Crumb::link("Servizi online", LIST));
    sh.title = format!("Anteprima: {}", form.title).into();
    let tpl = PreviewTemplate {
        shell: sh,
        csrf: auth.csrf().to_owned(),
        state: st.encode()?,
        title: form.title.clone(),
        description: form.description.clone(),
        steps,
        attachments: form
            .attachments
            .iter()
            .map(|a| {
                (
                    a.label.clone(),
                    a.help.clone().unwrap_or_default(),
                    a.media_types
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    a.required,
                )
            })
            .collect(),
        declarations: form
            .declarations
            .iter()
            .map(|d| (d.text.clone(), d.reference.clone().unwrap_or_default()))
            .collect(),
    };
    Ok(render(tpl, StatusCode::OK))
}

// ---------------------------------------------------------------------------
// Handlers of the editor
// ---------------------------------------------------------------------------

/// A new online service for the first card of the catalogue without one.
fn blank(service: String) -> ServiceDefinition {
    ServiceDefinition {
        form: FormDefinition {
            code: service.clone(),
            version: 1,
            title: String::new(),
            description: String::new(),
            steps: Vec::new(),
            attachments: Vec::new(),
            declarations: Vec::new(),
        },
        service,
        classification: String::new(),
        subject: "Istanza – {richiedente}".into(),
        procedure: ProcedureDefinition::ordinario(30),
    }
}

async fn new_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    let here = "/backoffice/servizi-online/nuovo";
    let result = async {
        auth.actor.require(Permission::ManageCatalogue)?;
        let app = state.app();
        let snap = app.portal(t.id).await?;
        let defined: Vec<String> = app
            .service_definitions(t.id)
            .await?
            .iter()
            .map(|d| d.definition.service.clone())
            .collect();
        let first = snap
            .services
            .iter()
            .find(|s| !defined.contains(&s.data.slug))
            .map(|s| s.data.slug.clone())
            .unwrap_or_default();
        let st = EditorState {
            base: None,
            def: blank(first),
        };
        editor_with_cards(
            &t,
            &auth,
            &st,
            &snap,
            &defined,
            Problems::default(),
            None,
            StatusCode::OK,
        )
    }
    .await;
    result.unwrap_or_else(|e| needs(here, e))
}

/// The editor, with the cards offered to a new service limited to those
/// without an online service.
#[allow(clippy::too_many_arguments)]
fn editor_with_cards(
    t: &Tenant,
    auth: &Auth,
    st: &EditorState,
    snap: &PortalSnapshot,
    defined: &[String],
    problems: Problems,
    focus: Option<String>,
    status: StatusCode,
) -> Result<Response, ServiceError> {
    if st.base.is_none() {
        let mut limited = snap.clone();
        limited
            .services
            .retain(|s| !defined.contains(&s.data.slug) || s.data.slug == st.def.service);
        editor_response(t, auth, st, &limited, problems, focus, status)
    } else {
        editor_response(t, auth, st, snap, problems, focus, status)
    }
}

async fn edit_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
) -> Response {
    let here = format!("/backoffice/servizi-online/{slug}/modifica");
    let result = async {
        auth.actor.require(Permission::ManageCatalogue)?;
        let app = state.app();
        let d = app
            .service_definition(t.id, &slug, None)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let snap = app.portal(t.id).await?;
        let st = EditorState {
            base: Some(d.version),
            def: (*d.definition).clone(),
        };
        editor_response(
            &t,
            &auth,
            &st,
            &snap,
            Problems::default(),
            None,
            StatusCode::OK,
        )
    }
    .await;
    result.unwrap_or_else(|e| needs(&here, e))
}

async fn editor_post(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    match editor_step(&state, &t, &auth, Posted::new(pairs)).await {
        Ok(r) => r,
        Err(e) => needs(LIST, e),
    }
}

async fn editor_step(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    p: Posted,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::ManageCatalogue)?;
    let mut st = EditorState::decode(p.raw("stato").unwrap_or_default())?;
    let app = state.app();
    let snap = app.portal(t.id).await?;
    let defined: Vec<String> = app
        .service_definitions(t.id)
        .await?
        .iter()
        .map(|d| d.definition.service.clone())
        .collect();
    let mut problems = Problems::default();
    // The editor's inputs (absent on the preview page, which only carries
    // the state back).
    if p.raw("modulo") == Some("editor") {
        apply_posted(&mut st, &p, &mut problems);
    }
    let action = p.text("azione").unwrap_or_else(|| "aggiorna".into());
    let focus = apply_action(&mut st, &p, &action);
    check(&st, &snap, &mut problems);
    if st.base.is_none() && defined.contains(&st.def.service) {
        problems.add(
            "servizio",
            "servizio_gia_online",
            format!(
                "Il servizio «{}» ha già un modulo online: modificalo dall'elenco dei servizi online.",
                st.def.service
            ),
        );
        problems.blocking = true;
    }
    match action.as_str() {
        "anteprima" if !problems.blocking => preview_response(t, auth, &st),
        "pubblica" => {
            if !problems.is_empty() {
                return editor_with_cards(
                    t,
                    auth,
                    &st,
                    &snap,
                    &defined,
                    problems,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
            let current = app
                .service_definition(t.id, &st.def.service, None)
                .await?
                .map(|d| d.version);
            if st.base.is_some() && current != st.base {
                problems.add(
                    "passi",
                    "servizio_definizione_concorrente",
                    format!(
                        "Nel frattempo è stata pubblicata la versione {} di questo servizio: esporta le tue modifiche o riapri il servizio dall'elenco.",
                        current.unwrap_or(0)
                    ),
                );
                return editor_with_cards(
                    t,
                    auth,
                    &st,
                    &snap,
                    &defined,
                    problems,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
            match app
                .save_service_definition(t.id, &auth.actor, st.def.clone())
                .await
            {
                Ok(saved) => Ok(see_other(&format!(
                    "{LIST}?pubblicato={}&versione={}",
                    saved.definition.service, saved.version
                ))),
                Err(ServiceError::Invalid { code, message }) => {
                    for line in message.lines() {
                        problems.add("passi", code, line.to_owned());
                    }
                    editor_with_cards(
                        t,
                        auth,
                        &st,
                        &snap,
                        &defined,
                        problems,
                        None,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            let status = if problems.blocking {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            // With errors the list at the top is where to go next.
            let focus = if problems.blocking { None } else { focus };
            editor_with_cards(t, auth, &st, &snap, &defined, problems, focus, status)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_labels() {
        assert_eq!(to_key("Data di nascita"), "data_di_nascita");
        assert_eq!(to_key("Attività è già"), "attivita_e_gia");
        assert_eq!(to_key("  2 ruote "), "v_2_ruote");
        assert_eq!(to_key("!!"), "");
    }

    #[test]
    fn options_round_trip() {
        let opts = parse_options("a = Prima\nSeconda opzione\n\n");
        assert_eq!(opts.len(), 2);
        assert_eq!(opts[0].value, "a");
        assert_eq!(opts[1].value, "seconda_opzione");
        assert_eq!(parse_options(&options_text(&opts)), opts);
    }

    #[test]
    fn presets_build_valid_procedures() {
        for (code, _, _) in PRESETS {
            let p = preset(code, 30, Materia::Altro).unwrap();
            assert_eq!(&p.code, code);
            assert!(p.validate().is_ok(), "{code}");
        }
        // Silenzio-assenso refused where art. 20 c.4 excludes it.
        let p = preset("silenzio_assenso", 30, Materia::Ambiente).unwrap();
        assert!(p.validate().is_err());
    }

    #[test]
    fn made_ids_are_unique_typed_ones_are_kept() {
        let mut form = blank("prova".into()).form;
        form.steps.push(Step {
            id: "dati".into(),
            title: "Dati".into(),
            help: None,
            condition: None,
            fields: Vec::new(),
        });
        assert_eq!(new_id("", "Dati", "passo", &form), "dati_2");
        assert_eq!(new_id("", "", "passo", &form), "passo_1");
        assert_eq!(new_id("", "Altro", "passo", &form), "altro");
        // A typed key is the admin's: the engine reports a duplicate.
        assert_eq!(new_id("dati", "Altro", "passo", &form), "dati");
    }

    fn eq(field: &str, value: &str) -> Condition {
        Condition::Equals {
            field: field.into(),
            value: value.into(),
        }
    }

    #[test]
    fn clauses_are_joined_as_written() {
        // A one-clause `tutte` from a file stays as written.
        let one = Condition::All(vec![eq("a", "x")]);
        assert_eq!(
            join_clauses(false, vec![eq("a", "x")], Some(&one)),
            Some(one.clone())
        );
        assert_eq!(
            join_clauses(true, vec![eq("a", "x")], Some(&one)),
            Some(one.clone())
        );
        // Built anew: one clause is the clause itself, several are joined.
        assert_eq!(
            join_clauses(false, vec![eq("a", "y")], Some(&one)),
            Some(eq("a", "y"))
        );
        assert_eq!(
            join_clauses(true, vec![eq("a", "x"), eq("b", "y")], None),
            Some(Condition::Any(vec![eq("a", "x"), eq("b", "y")]))
        );
        assert_eq!(join_clauses(false, Vec::new(), Some(&one)), None);
        // «almeno una» chosen for a single clause is kept.
        assert_eq!(
            join_clauses(true, vec![eq("a", "x")], None),
            Some(Condition::Any(vec![eq("a", "x")]))
        );
    }

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_nested_condition_is_kept_and_can_be_removed() {
        let nested = Condition::Any(vec![eq("a", "x"), eq("b", "y")]);
        let filled = Condition::Filled {
            field: "c".into(),
            filled: true,
        };
        let written = Some(Condition::All(vec![nested.clone(), filled.clone()]));
        // The page as rendered: the nested clause has no inputs.
        let page = posted(&[
            ("d0.cond.modo", "tutte"),
            ("d0.cond.1.campo", "c"),
            ("d0.cond.1.op", "compilato"),
            ("d0.cond.1.valore", ""),
            ("d0.cond.nuova.campo", ""),
            ("d0.cond.nuova.op", "uguale"),
            ("d0.cond.nuova.valore", ""),
        ]);
        let mut cond = written.clone();
        let mut problems = Problems::default();
        apply_condition(&page, "d0", "dich", &mut cond, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(cond, written);
        assert_eq!(
            describe(&nested),
            "vale almeno una: («a» è uguale a «x»; «b» è uguale a «y»)"
        );
        // Removed, the rest stays.
        let mut form = blank("prova".into()).form;
        form.declarations.push(Declaration {
            id: "dich".into(),
            text: "Dichiaro.".into(),
            reference: None,
            condition: written,
        });
        assert_eq!(
            apply_condition_action(&mut form, "condizione_elimina:d0:0").as_deref(),
            Some("d0-cond")
        );
        assert_eq!(form.declarations[0].condition, Some(filled));
        // A tampered operator is refused and the clause kept.
        let mut problems = Problems::default();
        let mut cond = Some(eq("a", "x"));
        let page = posted(&[
            ("p1.cond.modo", "tutte"),
            ("p1.cond.0.campo", "a"),
            ("p1.cond.0.op", "maggiore"),
        ]);
        apply_condition(&page, "p1", "passo", &mut cond, &mut problems);
        assert_eq!(problems.codes, ["servizio_condizione_non_valida"]);
        assert_eq!(cond, Some(eq("a", "x")));
        assert!(apply_condition_action(&mut form, "condizione_elimina:x9:0").is_none());
    }

    #[test]
    fn moving_stays_in_bounds() {
        let mut v = vec![1, 2, 3];
        move_item(&mut v, 0, true);
        assert_eq!(v, [1, 2, 3]);
        move_item(&mut v, 2, false);
        assert_eq!(v, [1, 2, 3]);
        move_item(&mut v, 1, true);
        assert_eq!(v, [2, 1, 3]);
        move_item(&mut v, 9, false);
        assert_eq!(v, [2, 1, 3]);
    }
}
