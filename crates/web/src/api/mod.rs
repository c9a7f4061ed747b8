//! The JSON API under `/api/v1` (described by [`openapi::document`] at
//! `/api/v1/openapi.json`). Errors are `{"error": code, "message": …}`
//! (see [`crate::middleware::errors`]).

pub mod appuntamenti;
pub mod certificati;
pub mod classificazione;
pub mod emergenza;
pub mod fascicoli;
pub mod interoperabilita;
pub mod istanze;
pub mod openapi;
pub mod openapi_appuntamenti;
pub mod openapi_certificati;
pub mod openapi_classificazione;
pub mod openapi_emergenza;
pub mod openapi_fascicoli;
pub mod openapi_interoperabilita;
pub mod openapi_istanze;
pub mod openapi_protocollo;
pub mod openapi_versioni;
pub mod pratiche_ufficio;
pub mod protocollo;
pub mod registri;
pub mod schede_servizio;
pub mod staff;

use std::sync::OnceLock;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_domain::portal::ServiceStatus;
use palazzo_services::ServiceError;
use palazzo_services::ratings::RatingInput;
use palazzo_store::{Address, Office, Service};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::WebError;
use crate::portal::PortalCtx;
use crate::portal::pages::service_href;
use crate::portal::rating::{PeerAddr, client_ip, client_key, rated_page, unknown_page};
use crate::routes::{Access, Routes};

/// The API routes, relative to `/api/v1`.
pub fn router() -> Routes {
    let public = Access::Public;
    Routes::new()
        .get("/ente", public, ente)
        .get("/servizi", public, services)
        .get("/servizi/{slug}", public, service)
        .get("/uffici", public, offices)
        .post("/valutazioni", public, rate)
        .get("/openapi.json", public, openapi_json)
        .merge(protocollo::router())
        .merge(fascicoli::router())
        .merge(crate::versioni::api_router())
        .merge(crate::firmati::api_router())
        .merge(certificati::router())
        .merge(istanze::router())
        .merge(schede_servizio::router())
        .merge(pratiche_ufficio::router())
        .merge(appuntamenti::router())
        .merge(crate::tempi::api_router())
        .merge(crate::tributi::api_router())
        .merge(crate::tari::api_router())
        .merge(crate::canone::api_router())
}

/// A postal address.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AddressDto {
    /// Street and civic number.
    pub street: String,
    /// CAP.
    pub cap: String,
    /// Locality.
    pub locality: String,
    /// Province abbreviation.
    pub province: String,
}

impl From<&Address> for AddressDto {
    fn from(a: &Address) -> Self {
        AddressDto {
            street: a.street.clone(),
            cap: a.cap.to_string(),
            locality: a.locality.clone(),
            province: a.province.clone(),
        }
    }
}

/// Public information about the ente.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnteDto {
    /// Official name.
    pub name: String,
    /// Name without "Comune di".
    pub short_name: String,
    /// Codice catastale.
    pub codice_catastale: String,
    /// ISTAT code.
    pub codice_istat: String,
    /// IPA code.
    pub codice_ipa: String,
    /// Codice fiscale.
    pub codice_fiscale: String,
    /// PEC.
    pub pec: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Seat.
    pub address: AddressDto,
    /// Region.
    pub region: String,
}

/// A service in the catalogue list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceSummaryDto {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Category slug.
    pub category: String,
    /// Category label.
    pub category_label: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Short description.
    pub summary: String,
    /// Card URL path.
    pub url: String,
}

/// A full service card.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceDto {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Category slug.
    pub category: String,
    /// Category label.
    pub category_label: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Reason when inactive.
    pub status_reason: Option<String>,
    /// Descrizione breve.
    pub summary: String,
    /// A chi è rivolto.
    pub audience: String,
    /// Come fare.
    pub how_to: String,
    /// Cosa serve.
    pub needed: String,
    /// Cosa si ottiene.
    pub achieved: String,
    /// Tempi e scadenze.
    pub times: String,
    /// Costs, if any.
    pub costs: Option<String>,
    /// Accedi al servizio.
    pub access: String,
    /// Online access URL.
    pub online_url: Option<String>,
    /// Condizioni di servizio.
    pub conditions: String,
    /// Slug of the responsible office.
    pub office: Option<String>,
    /// Argomenti.
    pub topics: Vec<String>,
    /// Card URL path.
    pub url: String,
}

/// An office.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OfficeDto {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// E-mail.
    pub email: Option<String>,
    /// PEC.
    pub pec: Option<String>,
    /// Phone.
    pub phone: String,
    /// Address.
    pub address: AddressDto,
    /// Opening hours.
    pub opening_hours: String,
}

/// A rating sent to `POST /api/v1/valutazioni`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// Path of the rated page, e.g. `/servizi`.
    pub page: String,
    /// 1–5.
    pub stars: u8,
    /// Follow-up answer, 1–5 (negative list for 1–3 stars, positive for 4–5).
    #[serde(default)]
    pub answer: Option<u8>,
    /// Comment, up to 200 characters.
    #[serde(default)]
    pub comment: Option<String>,
}

fn status_of(s: &ServiceStatus) -> (String, Option<String>) {
    match s {
        ServiceStatus::Active => ("active".to_owned(), None),
        ServiceStatus::Inactive { reason } => ("inactive".to_owned(), Some(reason.clone())),
    }
}

fn summary_dto(s: &Service) -> ServiceSummaryDto {
    ServiceSummaryDto {
        slug: s.data.slug.clone(),
        title: s.data.title.clone(),
        category: s.data.category.slug().to_owned(),
        category_label: s.data.category.label().to_owned(),
        status: status_of(&s.data.status).0,
        summary: s.data.summary.clone(),
        url: service_href(s),
    }
}

fn office_dto(o: &Office) -> OfficeDto {
    let d = &o.data;
    OfficeDto {
        slug: d.slug.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        email: d.email.as_ref().map(ToString::to_string),
        pec: d.pec.as_ref().map(ToString::to_string),
        phone: d.phone.clone(),
        address: (&d.address).into(),
        opening_hours: d.opening_hours.clone(),
    }
}

/// Handles `GET /api/v1/ente`.
async fn ente(ctx: PortalCtx) -> Json<EnteDto> {
    let t = &ctx.tenant.data;
    Json(EnteDto {
        name: t.name.clone(),
        short_name: t.short_name.clone(),
        codice_catastale: t.codice_catastale.to_string(),
        codice_istat: t.codice_istat.to_string(),
        codice_ipa: t.codice_ipa.to_string(),
        codice_fiscale: t.codice_fiscale.to_string(),
        pec: t.pec.to_string(),
        email: t.email.to_string(),
        phone: t.phone.clone(),
        address: (&t.address).into(),
        region: t.region.clone(),
    })
}

/// Handles `GET /api/v1/servizi`.
async fn services(ctx: PortalCtx) -> Json<Vec<ServiceSummaryDto>> {
    Json(ctx.snap.services.iter().map(summary_dto).collect())
}

/// Handles `GET /api/v1/servizi/{slug}`.
async fn service(ctx: PortalCtx, Path(slug): Path<String>) -> Result<Json<ServiceDto>, WebError> {
    let s = ctx.snap.service(&slug).ok_or(WebError::NotFound)?;
    let d = &s.data;
    let (status, status_reason) = status_of(&d.status);
    Ok(Json(ServiceDto {
        slug: d.slug.clone(),
        title: d.title.clone(),
        category: d.category.slug().to_owned(),
        category_label: d.category.label().to_owned(),
        status,
        status_reason,
        summary: d.summary.clone(),
        audience: d.audience.clone(),
        how_to: d.how_to.clone(),
        needed: d.needed.clone(),
        achieved: d.achieved.clone(),
        times: d.times.clone(),
        costs: d.costs.clone(),
        access: d.access.clone(),
        online_url: d.online_url.clone(),
        conditions: d.conditions.clone(),
        office: ctx.snap.office(d.office).map(|o| o.data.slug.clone()),
        topics: d.topics.clone(),
        url: service_href(s),
    }))
}

/// Handles `GET /api/v1/uffici`.
async fn offices(ctx: PortalCtx) -> Json<Vec<OfficeDto>> {
    Json(ctx.snap.offices.iter().map(office_dto).collect())
}

/// Handles `POST /api/v1/valutazioni`: stores an anonymous rating.
///
/// Needs `Content-Type: application/json` (so browsers cannot send it from
/// another site without a CORS preflight, which is never granted) and
/// passes the same-origin check of every write. The page must be a page of
/// this tenant that carries the rating component; it is stored under its
/// canonical path. Unlike the HTML form it asks for no signed ticket: the
/// API is documented for other clients (an app, a headless front end),
/// which have no page to take a ticket from, and a ticket proves little
/// here anyway (anyone can fetch one with a GET). What bounds floods is the
/// service's per-client and per-page rate limit, which this endpoint shares
/// with the form.
async fn rate(
    State(state): State<AppState>,
    ctx: PortalCtx,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    body: Result<Json<RatingRequest>, JsonRejection>,
) -> Result<Response, WebError> {
    let Json(req) = body.map_err(|rejection| match rejection {
        JsonRejection::MissingJsonContentType(_) => WebError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(_) => WebError::bad_request(
            "invalid_json",
            "Il corpo della richiesta non è JSON valido.",
        ),
        JsonRejection::JsonDataError(e) => {
            tracing::debug!(error = %e, "rating JSON refused");
            WebError::unprocessable(
                "invalid_rating",
                "I campi della valutazione non sono validi.",
            )
        }
        other => WebError::body_rejected(
            other.status(),
            "invalid_request",
            "La richiesta non è valida.",
        ),
    })?;
    let Some(page) = rated_page(&ctx.snap, &req.page) else {
        tracing::info!(code = "rating_page_unknown", "rating refused");
        return Err(unknown_page());
    };
    let cfg = state.config();
    let key = client_key(&cfg.secret, client_ip(peer, &headers, cfg.behind_tls));
    let input = RatingInput {
        page: page.path(),
        stars: req.stars,
        answer: req.answer,
        comment: req.comment,
    };
    match state.app().submit_rating(ctx.tenant.id, &key, input).await {
        Ok(()) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "result": "stored" })),
        )
            .into_response()),
        Err(ServiceError::RateLimited) => Err(WebError::RateLimited),
        Err(e) => Err(e.into()),
    }
}

/// Handles `GET /api/v1/openapi.json`: the document is built and
/// serialised once per process.
async fn openapi_json() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body: &'static str = DOCUMENT.get_or_init(|| openapi::document().to_string());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A JSON body, or `richiesta_non_valida` (422) naming what is wrong with
/// it: the answer of every JSON call to a body it cannot read.
pub(crate) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<Json<T>, WebError> {
    body.map_err(|e| {
        WebError::from(ServiceError::refused(
            "richiesta_non_valida",
            format!("Il corpo della richiesta non è valido: {}", e.body_text()),
        ))
    })
}
