//! The protocol desk in the back office (issue 4, part 8): the registration
//! form with uploads, the search of the register, document downloads, and
//! each staff member's API keys.
//!
//! The registration form is `multipart/form-data`; its CSRF token travels in
//! the action URL (see [`crate::auth`]). When the form is refused, it comes
//! back filled in with the reason; the files must be chosen again (a browser
//! cannot be handed them back), which the message says.
//!
//! A received e-mail is registered from its `.eml` file: the clerk uploads
//! it (`POST /backoffice/protocollo/nuova/eml`), the form comes back filled
//! in from the message with its attachments listed, and the confirmation
//! registers the message as received with its MIME attachments (see
//! [`crate::eml`]).

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::ServiceError;
use palazzo_services::eml::{EmlFields, EmlMessage};
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::{ApiTokenId, DocumentRef, OfficeId, Registration, Tenant};
use serde::Deserialize;

use crate::AppState;
use crate::api::protocollo::SearchQuery;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome, see_other};
use crate::backoffice::render;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};
use crate::upload::{CorrespondentBody, Upload, documents_of, read_upload};

/// The routes of this module.
pub fn router() -> Routes {
    use Access::Needs;
    let register = Needs(Permission::RegisterProtocol);
    let read = Needs(Permission::ReadProtocol);
    let staff = Needs(Permission::BackOffice);
    Routes::new()
        .get("/backoffice/protocollo/nuova", register, form_page)
        .upload("/backoffice/protocollo/nuova", register, submit)
        .upload("/backoffice/protocollo/nuova/eml", register, eml_prefill)
        .get("/backoffice/protocollo/ricerca", read, search_page)
        .get(
            "/backoffice/protocollo/{id}/documenti/{n}",
            read,
            crate::upload::page_download,
        )
        .get("/backoffice/chiavi-api", staff, keys_page)
        .post("/backoffice/chiavi-api", staff, create_key)
        .post("/backoffice/chiavi-api/{id}/revoca", staff, revoke_key)
}

fn shell<'a>(t: &'a Tenant, title: &'a str) -> Shell<'a> {
    crate::backoffice::shell(t, title, title)
}

/// How many correspondent rows the form offers.
const CORRESPONDENT_ROWS: usize = 3;

/// One correspondent row of the form, as typed.
#[derive(Default, Clone)]
struct CorrespondentRow {
    kind: String,
    name: String,
    fiscal_code: String,
    email: String,
    address: String,
    per_conoscenza: bool,
}

#[derive(Template)]
#[template(path = "backoffice/desk.html")]
struct DeskTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    error: Option<String>,
    flow: String,
    subject: String,
    rows: Vec<CorrespondentRow>,
    received_number: String,
    received_date: String,
    classification: String,
    office: i64,
    offices: Vec<(i64, String)>,
    classes: Vec<(String, String)>,
    /// The uploaded e-mail message the form registers, if any.
    eml: Option<EmlView>,
}

/// An uploaded `.eml` on the desk form: what it is, the token that lets
/// the confirmation name it, and its MIME attachments.
struct EmlView {
    name: String,
    sha256: String,
    size: u64,
    token: String,
    sent_at: Option<String>,
    attachments: Vec<EmlAttachmentView>,
}

struct EmlAttachmentView {
    name: String,
    size: u64,
    media_type: String,
    refusal: Option<String>,
}

fn eml_view(state: &AppState, t: &Tenant, doc: &DocumentRef, msg: &EmlMessage) -> EmlView {
    let sha256 = doc.sha256.hex();
    EmlView {
        token: crate::eml::eml_token(&state.config().secret, t.id, &sha256, &doc.name),
        name: doc.name.clone(),
        sha256,
        size: doc.size,
        sent_at: msg.sent_at.map(rome),
        attachments: msg
            .attachments
            .iter()
            .map(|a| EmlAttachmentView {
                name: a.name.clone(),
                size: a.size,
                media_type: a
                    .detected
                    .as_ref()
                    .map_or_else(|_| a.declared_type.clone(), |d| d.media_type.clone()),
                refusal: a.refusal().map(str::to_owned),
            })
            .collect(),
    }
}

/// Fills the form with what a message proposes (the clerk checks it).
fn prefill(tpl: &mut DeskTemplate<'_>, msg: &EmlMessage) {
    tpl.flow = "E".into();
    tpl.subject = msg.subject.clone().unwrap_or_default();
    if let Some(first) = tpl.rows.first_mut() {
        first.kind = "persona_fisica".into();
        first.name = msg.sender_name().unwrap_or_default().to_owned();
        first.email = msg.from_address.clone().unwrap_or_default();
    }
    tpl.received_number = msg.message_id.clone().unwrap_or_default();
    tpl.received_date = msg.date.map(|d| d.to_string()).unwrap_or_default();
}

async fn desk(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    mut tpl_fill: impl FnMut(&mut DeskTemplate<'_>),
    status: StatusCode,
) -> Response {
    let offices = match state.app().portal(t.id).await {
        Ok(s) => s
            .offices
            .iter()
            .map(|o| (o.id.0, o.data.name.clone()))
            .collect(),
        Err(e) => return WebError::from(e).into_response(),
    };
    // The open voices of the ente's current titolario (classes an admin
    // added included), as suggestions for the classification field.
    let classes = match state.app().titolario(t.id, &auth.actor, None).await {
        Ok(v) => v
            .classes
            .into_iter()
            .filter(|c| !c.closed)
            .map(|c| (c.code, c.name))
            .collect(),
        Err(e) => return needs("/backoffice/protocollo/nuova", e),
    };
    let mut tpl = DeskTemplate {
        shell: shell(t, "Nuova registrazione di protocollo"),
        csrf: auth.csrf().to_owned(),
        error: None,
        flow: "E".into(),
        subject: String::new(),
        rows: vec![CorrespondentRow::default(); CORRESPONDENT_ROWS],
        received_number: String::new(),
        received_date: String::new(),
        classification: String::new(),
        office: 0,
        offices,
        classes,
        eml: None,
    };
    tpl_fill(&mut tpl);
    render(tpl, status)
}

async fn form_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs("/backoffice/protocollo/nuova", e);
    }
    desk(&state, &t, &auth, |_| {}, StatusCode::OK).await
}

fn rows_of(up: &Upload) -> Vec<CorrespondentRow> {
    (0..CORRESPONDENT_ROWS)
        .map(|i| {
            let f = |k: &str| up.field(&format!("c{i}_{k}")).unwrap_or("").to_owned();
            CorrespondentRow {
                kind: f("tipo"),
                name: f("nome"),
                fiscal_code: f("cf"),
                email: f("email"),
                address: f("indirizzo"),
                per_conoscenza: up.field(&format!("c{i}_cc")).is_some(),
            }
        })
        .collect()
}

fn kind_of(code: &str) -> Option<CorrespondentKind> {
    match code {
        "" | "persona_fisica" => Some(CorrespondentKind::PersonaFisica),
        "persona_giuridica" => Some(CorrespondentKind::PersonaGiuridica),
        "amministrazione" => Some(CorrespondentKind::Amministrazione),
        _ => None,
    }
}

/// The registration the form describes, or the Italian reason why not.
fn input_of(up: &Upload, rows: &[CorrespondentRow]) -> Result<RegistrationInput, WebError> {
    let (primary, attachments) = documents_of(up).map_err(|_| {
        WebError::unprocessable(
            "primary_document",
            "Scegliere il file del documento principale.",
        )
    })?;
    form_input(up, rows, primary, attachments)
}

/// The form's fields with the given documents.
fn form_input(
    up: &Upload,
    rows: &[CorrespondentRow],
    primary: DocumentRef,
    attachments: Vec<DocumentRef>,
) -> Result<RegistrationInput, WebError> {
    let flow = Flow::parse(up.field("verso").unwrap_or("E"))
        .map_err(|_| WebError::unprocessable("invalid_flow", "Scegliere il verso."))?;
    let mut correspondents: Vec<Correspondent> = Vec::new();
    for r in rows.iter().filter(|r| !r.name.trim().is_empty()) {
        let kind = kind_of(&r.kind).ok_or_else(|| {
            WebError::unprocessable("correspondent_kind", "Tipo di corrispondente non valido.")
        })?;
        let is_pa = kind == CorrespondentKind::Amministrazione;
        let body = CorrespondentBody {
            kind: Some(kind),
            name: r.name.clone(),
            fiscal_code: (!is_pa).then(|| r.fiscal_code.clone()),
            ipa: is_pa.then(|| r.fiscal_code.clone()),
            email: Some(r.email.clone()),
            address: Some(r.address.clone()),
            per_conoscenza: r.per_conoscenza,
        };
        correspondents.push(body.into_correspondent()?);
    }
    let received_date = match up.field("data_ricevuto") {
        None => None,
        Some(d) => Some(d.parse().map_err(|_| {
            WebError::unprocessable(
                "received_date",
                "La data del documento ricevuto non è valida.",
            )
        })?),
    };
    let office = match up.field("ufficio") {
        None | Some("0") => None,
        Some(o) => Some(OfficeId(o.parse().map_err(|_| {
            WebError::unprocessable("office_unknown", "L'ufficio indicato non esiste.")
        })?)),
    };
    Ok(RegistrationInput {
        register: None,
        flow,
        subject: up.field("oggetto").unwrap_or("").to_owned(),
        correspondents,
        received_number: up.field("numero_ricevuto").map(str::to_owned),
        received_date,
        primary,
        attachments,
        classification: up.field("classifica").map(str::to_owned),
        office,
        emergency: None,
    })
}

fn message_of(e: &WebError) -> Option<String> {
    match e {
        WebError::Unprocessable { message, .. } | WebError::BadRequest { message, .. } => {
            Some(message.clone())
        }
        WebError::Service(ServiceError::Invalid { message, .. }) => Some(message.clone()),
        _ => None,
    }
}

async fn submit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = "/backoffice/protocollo/nuova";
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs(path, e);
    }
    let Ok(mp) = mp else {
        return WebError::UnsupportedMediaType.into_response();
    };
    let (up, refused) = match read_upload(&state, mp).await {
        Ok(up) => (up, None),
        Err(e) => (e.partial, Some(e.error)),
    };
    let rows = rows_of(&up);
    // Registering an uploaded e-mail message (confirmed from the prefilled
    // form): the message is the primary document, its MIME attachments
    // come first among the attachments.
    let eml = match refused {
        Some(_) => Ok(None),
        None => crate::eml::confirmed(&state, t.id, &up).await,
    };
    let mut eml_shown: Option<(DocumentRef, EmlMessage)> = None;
    let result = match (refused, eml) {
        (Some(e), _) | (None, Err(e)) => Err(e),
        (None, Ok(Some((doc, bytes)))) => {
            if let Ok(msg) = palazzo_services::eml::parse_eml(&bytes) {
                eml_shown = Some((doc.clone(), msg));
            }
            register_eml(&state, &t, &auth, &up, &rows, &doc, &bytes).await
        }
        (None, Ok(None)) => match input_of(&up, &rows) {
            Ok(input) => state
                .app()
                .register_protocol(t.id, &auth.actor, input)
                .await
                .map_err(WebError::from),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(reg) => see_other(&format!("/backoffice/protocollo/{}", reg.id.0)),
        Err(e) => {
            let Some(msg) = message_of(&e) else {
                return e.into_response();
            };
            tracing::info!(code = e.code(), "registration form refused");
            let files_note = " Nessuna registrazione è stata fatta; i file vanno scelti di nuovo.";
            desk(
                &state,
                &t,
                &auth,
                |tpl| {
                    tpl.error = Some(format!("{msg}{files_note}"));
                    tpl.flow = up.field("verso").unwrap_or("E").to_owned();
                    tpl.subject = up.field("oggetto").unwrap_or("").to_owned();
                    tpl.rows = rows.clone();
                    tpl.received_number = up.field("numero_ricevuto").unwrap_or("").to_owned();
                    tpl.received_date = up.field("data_ricevuto").unwrap_or("").to_owned();
                    tpl.classification = up.field("classifica").unwrap_or("").to_owned();
                    tpl.office = up
                        .field("ufficio")
                        .and_then(|o| o.parse().ok())
                        .unwrap_or(0);
                    if let Some((doc, msg)) = &eml_shown {
                        tpl.eml = Some(eml_view(&state, &t, doc, msg));
                    }
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The registration of a confirmed message with the form's fields.
async fn register_eml(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    up: &Upload,
    rows: &[CorrespondentRow],
    doc: &DocumentRef,
    bytes: &[u8],
) -> Result<Registration, WebError> {
    if up.files("documento").next().is_some() {
        return Err(WebError::unprocessable(
            "eml_and_document",
            "Si registra il messaggio caricato oppure un documento principale, non entrambi.",
        ));
    }
    let extra: Vec<DocumentRef> = up.files("allegati").map(|d| d.to_ref()).collect();
    let input = form_input(up, rows, doc.clone(), extra)?;
    if input.flow != palazzo_domain::protocollo::Flow::Entrata {
        return Err(WebError::unprocessable(
            "invalid_flow",
            "Un messaggio ricevuto si registra in entrata.",
        ));
    }
    let fields = EmlFields {
        subject: Some(input.subject),
        correspondents: input.correspondents,
        received_number: input.received_number,
        received_date: input.received_date,
        classification: input.classification,
        office: input.office,
        extra_attachments: input.attachments,
    };
    Ok(state
        .app()
        .register_eml(t.id, &auth.actor, &doc.name, bytes, fields)
        .await?)
}

/// `POST /backoffice/protocollo/nuova/eml` (multipart, field `eml`, CSRF
/// token in the action URL): reads an uploaded e-mail message and shows
/// the registration form filled in with what it proposes (sender, subject,
/// date and identifier of the message) and its attachments listed; the
/// clerk checks and confirms (`POST /backoffice/protocollo/nuova`).
async fn eml_prefill(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs("/backoffice/protocollo/nuova", e);
    }
    let Ok(mp) = mp else {
        return WebError::UnsupportedMediaType.into_response();
    };
    let result = async {
        let up = read_upload(&state, mp).await?;
        let doc = crate::eml::eml_of(&up)?
            .ok_or_else(|| {
                WebError::unprocessable("eml_missing", "Scegli il file .eml del messaggio.")
            })?
            .to_ref();
        let msg = crate::eml::read(&state, &doc).await?;
        Ok::<_, WebError>((doc, msg))
    }
    .await;
    match result {
        Ok((doc, msg)) => {
            tracing::info!(
                sha256 = %doc.sha256.hex(),
                attachments = msg.attachments.len(),
                "desk e-mail read"
            );
            let view = eml_view(&state, &t, &doc, &msg);
            desk(
                &state,
                &t,
                &auth,
                |tpl| {
                    prefill(tpl, &msg);
                    tpl.eml = Some(EmlView {
                        name: view.name.clone(),
                        sha256: view.sha256.clone(),
                        size: view.size,
                        token: view.token.clone(),
                        sent_at: view.sent_at.clone(),
                        attachments: view
                            .attachments
                            .iter()
                            .map(|a| EmlAttachmentView {
                                name: a.name.clone(),
                                size: a.size,
                                media_type: a.media_type.clone(),
                                refusal: a.refusal.clone(),
                            })
                            .collect(),
                    });
                },
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let Some(msg) = message_of(&e) else {
                return e.into_response();
            };
            tracing::info!(code = e.code(), "desk e-mail refused");
            desk(
                &state,
                &t,
                &auth,
                |tpl| tpl.error = Some(msg.clone()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

struct Row {
    id: i64,
    number: String,
    when: String,
    flow: &'static str,
    subject: String,
    correspondents: String,
    classification: String,
    annulled: bool,
}

impl From<&Registration> for Row {
    fn from(r: &Registration) -> Self {
        Row {
            id: r.id.0,
            number: format!("{}/{}", r.number, r.year),
            when: rome(r.registered_at),
            flow: r.data.flow.label_it(),
            subject: r.data.subject.clone(),
            correspondents: r
                .data
                .correspondents
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            classification: r.data.classification.clone().unwrap_or_default(),
            annulled: r.annulment.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "backoffice/search.html")]
struct SearchTemplate<'a> {
    shell: Shell<'a>,
    q: SearchForm,
    searched: bool,
    rows: Vec<Row>,
    next: Option<String>,
    error: Option<String>,
}

/// The search form's values, as typed (echoed back).
#[derive(Default)]
struct SearchForm {
    anno: String,
    dal: String,
    al: String,
    corrispondente: String,
    oggetto: String,
    classifica: String,
    flusso: String,
}

/// The query string of the search, as the form sends it (every field a
/// string, so that an empty field is not an error).
#[derive(Deserialize, Default)]
struct RawSearch {
    #[serde(default)]
    anno: String,
    #[serde(default)]
    dal: String,
    #[serde(default)]
    al: String,
    #[serde(default)]
    corrispondente: String,
    #[serde(default)]
    oggetto: String,
    #[serde(default)]
    classifica: String,
    #[serde(default)]
    flusso: String,
    #[serde(default)]
    prima: String,
}

fn nonblank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

impl RawSearch {
    fn parse(&self) -> Result<SearchQuery, String> {
        let date = |s: &str, what: &str| -> Result<Option<jiff::civil::Date>, String> {
            nonblank(s)
                .map(|d| {
                    d.parse()
                        .map_err(|_| format!("La data «{what}» non è valida."))
                })
                .transpose()
        };
        Ok(SearchQuery {
            anno: nonblank(&self.anno)
                .map(|a| a.parse().map_err(|_| "L'anno non è valido.".to_owned()))
                .transpose()?,
            dal: date(&self.dal, "dal")?,
            al: date(&self.al, "al")?,
            corrispondente: nonblank(&self.corrispondente).map(str::to_owned),
            oggetto: nonblank(&self.oggetto).map(str::to_owned),
            classifica: nonblank(&self.classifica).map(str::to_owned),
            flusso: nonblank(&self.flusso).map(str::to_owned),
            prima: nonblank(&self.prima).and_then(|p| p.parse().ok()),
            limite: Some(50),
        })
    }

    fn searched(&self) -> bool {
        [
            &self.anno,
            &self.dal,
            &self.al,
            &self.corrispondente,
            &self.oggetto,
            &self.classifica,
            &self.flusso,
        ]
        .iter()
        .any(|s| nonblank(s).is_some())
    }

    fn next_link(&self, before: i64) -> String {
        let pairs = [
            ("anno", &self.anno),
            ("dal", &self.dal),
            ("al", &self.al),
            ("corrispondente", &self.corrispondente),
            ("oggetto", &self.oggetto),
            ("classifica", &self.classifica),
            ("flusso", &self.flusso),
        ];
        let mut v: Vec<(&str, String)> = pairs
            .iter()
            .filter(|(_, s)| nonblank(s).is_some())
            .map(|(k, s)| (*k, s.trim().to_owned()))
            .collect();
        v.push(("prima", before.to_string()));
        format!(
            "/backoffice/protocollo/ricerca?{}",
            serde_urlencoded::to_string(v).unwrap_or_default()
        )
    }
}

async fn search_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    raw: Result<Query<RawSearch>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let path = "/backoffice/protocollo/ricerca";
    if let Err(e) = auth.actor.require(Permission::ReadProtocol) {
        return needs(path, e);
    }
    let raw = raw.map(|Query(q)| q).unwrap_or_default();
    let form = SearchForm {
        anno: raw.anno.clone(),
        dal: raw.dal.clone(),
        al: raw.al.clone(),
        corrispondente: raw.corrispondente.clone(),
        oggetto: raw.oggetto.clone(),
        classifica: raw.classifica.clone(),
        flusso: raw.flusso.clone(),
    };
    let mut tpl = SearchTemplate {
        shell: shell(&t, "Ricerca nel protocollo"),
        q: form,
        searched: raw.searched(),
        rows: Vec::new(),
        next: None,
        error: None,
    };
    if !tpl.searched {
        return render(tpl, StatusCode::OK);
    }
    let query = match raw
        .parse()
        .and_then(|q| q.to_search().map_err(|e| e.message_it()))
    {
        Ok(q) => q,
        Err(msg) => {
            tpl.error = Some(msg);
            return render(tpl, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let (search, limit) = query;
    match state
        .app()
        .search_protocol(t.id, &auth.actor, &search, limit)
        .await
    {
        Ok(rows) => {
            if rows.len() == limit as usize
                && let Some(last) = rows.last()
            {
                tpl.next = Some(raw.next_link(last.id.0));
            }
            tpl.rows = rows.iter().map(Into::into).collect();
            render(tpl, StatusCode::OK)
        }
        Err(e) => needs(path, e),
    }
}

struct KeyRow {
    id: i64,
    label: String,
    created: String,
    expires: String,
    last_used: String,
    state: &'static str,
    live: bool,
}

#[derive(Template)]
#[template(path = "backoffice/api_keys.html")]
struct KeysTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    keys: Vec<KeyRow>,
    created: Option<String>,
    error: Option<String>,
}

async fn keys(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    created: Option<String>,
    error: Option<String>,
) -> Response {
    let path = "/backoffice/chiavi-api";
    let rows = match state.app().my_api_tokens(t.id, &auth.actor).await {
        Ok(r) => r,
        Err(e) => return needs(path, e),
    };
    let now = jiff::Timestamp::now();
    let tpl = KeysTemplate {
        shell: shell(t, "Chiavi per l'API"),
        csrf: auth.csrf().to_owned(),
        keys: rows
            .iter()
            .map(|k| KeyRow {
                id: k.id.0,
                label: k.data.label.clone(),
                created: rome(k.data.created_at),
                expires: rome(k.data.expires_at),
                last_used: k.last_used_at.map(rome).unwrap_or_else(|| "mai".into()),
                state: match (k.revoked_at, k.is_live(now)) {
                    (Some(_), _) => "Revocata",
                    (None, false) => "Scaduta",
                    (None, true) => "Attiva",
                },
                live: k.is_live(now),
            })
            .collect(),
        error: error.clone(),
        created,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(tpl, status)
}

async fn keys_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    keys(&state, &t, &auth, None, None).await
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    nome: String,
    #[serde(default)]
    giorni: String,
}

async fn create_key(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(f): Form<KeyForm>,
) -> Response {
    let days = match nonblank(&f.giorni).map(str::parse::<u32>) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => Some(0),
    };
    match state
        .app()
        .create_api_token(t.id, &auth.actor, &f.nome, days)
        .await
    {
        // Shown once, on this page (never stored, never redirected with).
        Ok(c) => keys(&state, &t, &auth, Some(c.token), None).await,
        Err(ServiceError::Invalid { message, .. }) => {
            keys(&state, &t, &auth, None, Some(message)).await
        }
        Err(e) => needs("/backoffice/chiavi-api", e),
    }
}

async fn revoke_key(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return WebError::NotFound.into_response();
    };
    match state
        .app()
        .revoke_my_api_token(t.id, &auth.actor, ApiTokenId(id))
        .await
    {
        Ok(()) => see_other("/backoffice/chiavi-api"),
        Err(e) => needs("/backoffice/chiavi-api", e),
    }
}
