//! Receiving protocol messages (Allegato 6 §3.1, PR-8) in the back office:
//! the page "Ricezione messaggi di protocollo", where the protocol staff
//! upload a received `SegnaturaInformatica` (or a sender's
//! `AnnullamentoProtocollazione`) with the files it names. The outcome is
//! shown at once: registered (with a link to the registration), refused
//! with the official code and its Italian description, or the sender's
//! annulment recorded with our registration; the answer message
//! (`ConfermaRicezione` or `NotificaEccezione`) is offered for download, to
//! be sent back to the sender.
//!
//! The upload is shared with the JSON API ([`receive_upload`]): the XML in
//! part `segnatura` (read into memory as text, never stored as an upload;
//! the receiver stores it once the message is registered), the files in
//! any other file part, named as the segnatura names them.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use palazzo_domain::access::Permission;
use palazzo_services::access::Actor;
use palazzo_services::segnatura::{Esito, FileRicevuto};
use palazzo_store::{Tenant, TenantId};

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};
use crate::upload::{MAX_TEXT_FILE_BYTES, TextParts, read_upload_with};

/// The page.
pub const PAGE: &str = "/backoffice/protocollo/interoperabilita";

/// The multipart part that carries the segnatura XML (or the annulment).
pub const SEGNATURA_FIELD: &str = "segnatura";

/// The routes of this module.
pub fn router() -> Routes {
    let register = Access::Needs(Permission::RegisterProtocol);
    Routes::new()
        .get(PAGE, register, page)
        .upload(PAGE, register, submit)
}

/// Receives a protocol message from a `multipart/form-data` upload: the
/// XML in part `segnatura` (a UTF-8 file of at most 4 MiB, or a text field
/// of at most 64 KiB), the documents in the
/// other file parts, matched to the segnatura by file name. Shared by the
/// back office and the JSON API. Errors are for the upload itself
/// (`segnatura_mancante`, `text_file_not_utf8`, a refused file type, …);
/// a message refused by the receiver is an [`Esito::Eccezione`].
pub async fn receive_upload(
    state: &AppState,
    tenant: TenantId,
    actor: &Actor,
    mp: Multipart,
) -> Result<Esito, WebError> {
    actor.require(Permission::RegisterProtocol)?;
    let up = read_upload_with(
        state,
        mp,
        TextParts {
            names: &[SEGNATURA_FIELD],
            max_bytes: MAX_TEXT_FILE_BYTES,
        },
    )
    .await?;
    // A file part, or (for programs) a text field of at most 64 KiB.
    let Some(xml) = up
        .text(SEGNATURA_FIELD)
        .map(|t| t.text.as_str())
        .or_else(|| {
            up.fields
                .get(SEGNATURA_FIELD)
                .and_then(|v| v.first())
                .map(String::as_str)
                .filter(|s| !s.trim().is_empty())
        })
    else {
        return Err(WebError::unprocessable(
            "segnatura_mancante",
            "Scegli il file XML della segnatura di protocollo ricevuta (campo «segnatura»).",
        ));
    };
    let app = state.app();
    let mut files = Vec::with_capacity(up.files.len());
    for (_, doc) in &up.files {
        let bytes = app.documents().get(&doc.sha256).await.ok();
        files.push(FileRicevuto {
            name: doc.name.clone(),
            bytes,
        });
    }
    tracing::info!(
        bytes = xml.len(),
        files = files.len(),
        "protocol message upload"
    );
    Ok(app
        .receive_protocol_message(tenant, actor, xml.as_bytes(), &files)
        .await?)
}

/// The outcome shown after an upload.
struct Outcome {
    /// `registrato`, `gia_registrato`, `eccezione`, `annullamento`.
    kind: &'static str,
    /// The official code (`000_Irricevibile`…), for a refusal.
    code: String,
    /// What happened, in Italian.
    message: String,
    /// Our registration: id and number/year.
    registration: Option<(i64, String)>,
    /// The answer to send back: file name, `data:` URL, the XML.
    answer: Option<(String, String, String)>,
}

impl Outcome {
    fn of(e: &Esito) -> Outcome {
        let answer = |name: &str, xml: &str| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());
            Some((
                name.to_owned(),
                format!("data:application/xml;base64,{b64}"),
                xml.to_owned(),
            ))
        };
        match e {
            Esito::Registrata {
                registration: r,
                duplicate,
                risposta,
            } => Outcome {
                kind: if *duplicate {
                    "gia_registrato"
                } else {
                    "registrato"
                },
                code: String::new(),
                message: format!(
                    "{} come protocollo n. {} del {}.",
                    if *duplicate {
                        "Il messaggio era già stato registrato"
                    } else {
                        "Il messaggio è stato registrato in entrata"
                    },
                    r.number,
                    rome(r.registered_at)
                ),
                registration: Some((r.id.0, format!("{}/{}", r.number, r.year))),
                answer: answer("conferma-ricezione.xml", risposta),
            },
            Esito::Eccezione { rifiuto, risposta } => Outcome {
                kind: "eccezione",
                code: rifiuto.anomalia.code().to_owned(),
                message: format!("{} {}", rifiuto.anomalia.message_it(), rifiuto.dettaglio),
                registration: None,
                answer: answer("notifica-eccezione.xml", risposta),
            },
            Esito::Annullamento {
                registration: r,
                motivo,
                provvedimento,
                duplicate,
                ..
            } => Outcome {
                kind: "annullamento",
                code: String::new(),
                message: format!(
                    "{} per il protocollo n. {}/{} (motivo: {motivo}; provvedimento: {provvedimento}). L'eventuale annullamento della nostra registrazione è un atto distinto (DPR 445/2000, art. 54).",
                    if *duplicate {
                        "L'annullamento del mittente era già stato registrato"
                    } else {
                        "L'annullamento del mittente è stato registrato"
                    },
                    r.number,
                    r.year
                ),
                registration: Some((r.id.0, format!("{}/{}", r.number, r.year))),
                answer: None,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "backoffice/interoperabilita.html")]
struct PageTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    outcome: Option<Outcome>,
    error: Option<String>,
    error_code: &'static str,
}

fn template<'a>(t: &'a Tenant, auth: &Auth) -> PageTemplate<'a> {
    PageTemplate {
        shell: shell(
            t,
            "Ricezione messaggi di protocollo",
            "Ricezione messaggi di protocollo",
        ),
        csrf: auth.csrf().to_owned(),
        outcome: None,
        error: None,
        error_code: "",
    }
}

/// `GET /backoffice/protocollo/interoperabilita`: the upload form.
async fn page(CurrentTenant(t): CurrentTenant, Extension(auth): Extension<Auth>) -> Response {
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs(PAGE, e);
    }
    render(template(&t, &auth), StatusCode::OK)
}

/// `POST /backoffice/protocollo/interoperabilita` (multipart, CSRF token in
/// the action URL): receives the message and shows the outcome with the
/// answer to download; an upload that cannot be read comes back with the
/// reason (422).
async fn submit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs(PAGE, e);
    }
    let Ok(mp) = mp else {
        return WebError::UnsupportedMediaType.into_response();
    };
    let mut tpl = template(&t, &auth);
    match receive_upload(&state, t.id, &auth.actor, mp).await {
        Ok(esito) => {
            tpl.outcome = Some(Outcome::of(&esito));
            render(tpl, StatusCode::OK)
        }
        Err(e) => {
            let (code, message) = match e {
                WebError::Unprocessable { code, message }
                | WebError::BadRequest { code, message }
                | WebError::Service(palazzo_services::ServiceError::Invalid { code, message }) => {
                    (code, message)
                }
                WebError::Service(e) => return needs(PAGE, e),
                e => return e.into_response(),
            };
            tracing::info!(code, "protocol message upload refused");
            tpl.error = Some(format!("{message} Nessun messaggio è stato ricevuto."));
            tpl.error_code = code;
            render(tpl, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
