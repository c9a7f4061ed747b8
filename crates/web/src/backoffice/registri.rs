//! Back-office page of the registri giornalieri di protocollo (PR-9,
//! docs/registro-giornaliero.md): every registro of the comune, newest
//! first, with its day, register, first and last number, count, the SHA-256
//! of both files, the conservation state and deadline and whether its
//! checkpoint carries an RFC 3161 token; the PDF/A and the XML are
//! downloaded from here. Reading needs `ReadProtocol` (checked by the
//! services).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_store::RegistroGiornaliero;

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};

const LIST: &str = "/backoffice/protocollo/registri";

/// How many registri the page lists (a year and a half of days).
const SHOWN: u32 = 550;

/// The routes of this module.
pub fn router() -> Routes {
    let read = Access::Needs(Permission::ReadProtocol);
    Routes::new().get(LIST, read, list_page).get(
        "/backoffice/protocollo/registri/{code}/{formato}",
        read,
        download,
    )
}

/// One row of the list, ready to print.
struct Row {
    code: String,
    day: String,
    register: String,
    first: String,
    last: String,
    registrations: u32,
    modifications: u32,
    document_versions: u32,
    annulment_notices: u32,
    pdf_sha256: String,
    xml_sha256: String,
    state: &'static str,
    deadline: String,
    timestamped: bool,
    produced: String,
}

fn row(r: &RegistroGiornaliero) -> Row {
    let d = &r.data;
    let number = |n: Option<u64>| n.map_or_else(|| "—".to_owned(), |n| format!("{n:07}"));
    Row {
        code: d.code.clone(),
        day: d.day.strftime("%d/%m/%Y").to_string(),
        register: d.register.clone(),
        first: number(d.first_number),
        last: number(d.last_number),
        registrations: d.registrations,
        modifications: d.modifications,
        document_versions: d.document_versions,
        annulment_notices: d.annulment_notices,
        pdf_sha256: d.pdf.sha256.hex(),
        xml_sha256: d.xml.sha256.hex(),
        state: d.conservation_state.label_it(),
        deadline: d.conservation_deadline.strftime("%d/%m/%Y").to_string(),
        timestamped: d.timestamped,
        produced: rome(d.produced_at),
    }
}

#[derive(Template)]
#[template(path = "backoffice/registri.html")]
struct RegistriTemplate<'a> {
    shell: Shell<'a>,
    rows: Vec<Row>,
}

/// Handles `GET /backoffice/protocollo/registri`.
async fn list_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    match state
        .app()
        .registri_giornalieri(t.id, &auth.actor, SHOWN)
        .await
    {
        Ok(list) => render(
            RegistriTemplate {
                shell: shell(
                    &t,
                    "Registri giornalieri di protocollo",
                    "Registri giornalieri",
                ),
                rows: list.iter().map(row).collect(),
            },
            StatusCode::OK,
        ),
        Err(e) => needs(LIST, e),
    }
}

/// `pdf` or `xml`, from the last segment of a download path.
pub(crate) fn format_of(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pdf" => Some(true),
        "xml" => Some(false),
        _ => None,
    }
}

/// The file of a registro as a download (`pdf` true for the PDF/A).
pub(crate) async fn file_response(
    state: &AppState,
    tenant: palazzo_store::TenantId,
    actor: &palazzo_services::access::Actor,
    code: &str,
    pdf: bool,
) -> Result<Response, ServiceError> {
    let (r, bytes) = state
        .app()
        .registro_giornaliero_file(tenant, actor, code, pdf)
        .await?;
    let (mime, doc) = if pdf {
        ("application/pdf", &r.data.pdf)
    } else {
        ("application/xml; charset=utf-8", &r.data.xml)
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                crate::upload::attachment(&doc.name),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Handles `GET /backoffice/protocollo/registri/{code}/{formato}`: the
/// PDF/A (`pdf`) or the XML (`xml`) of a registro, checked against its
/// frozen fingerprint before it is sent.
async fn download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((code, formato)): Path<(String, String)>,
) -> Response {
    // Authorization first: a visitor is sent to sign in whatever the path.
    if let Err(e) = auth.actor.require(Permission::ReadProtocol) {
        return needs(LIST, e);
    }
    let Some(pdf) = format_of(&formato) else {
        return needs(LIST, ServiceError::NotFound);
    };
    file_response(&state, t.id, &auth.actor, &code, pdf)
        .await
        .unwrap_or_else(|e| needs(LIST, e))
}
