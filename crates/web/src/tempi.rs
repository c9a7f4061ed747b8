//! TEMPI-01 on the web: the actual times of the online services'
//! procedures, per service and quarter, public (no sign-in), computed by
//! [`palazzo_services::App::tempi_procedimenti`] — the same figures on
//! every output:
//!
//! - `GET /servizi-online/tempi[?anno=AAAA]`: the page, an accessible
//!   table (caption, `th scope`), linked from the "Servizi" page;
//! - `GET /servizi-online/tempi.csv[?anno=AAAA]`: the CSV download
//!   ([`palazzo_domain::procedimento::tempi::to_csv`] columns);
//! - `GET /servizi-online/tempi.json[?anno=AAAA]` and
//!   `GET /api/v1/servizi-online/tempi[?anno=AAAA]`: JSON ([`TempiDto`]).
//!
//! Only counts and durations: no applicant, subject or pratica id.

use askama::Template;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use palazzo_services::pratiche::tempi::{TempiReport, TempiServizio};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::pages::page;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Nav, Shell};
use crate::routes::{Access, Routes};

/// Where the page lives.
pub const TEMPI_PATH: &str = "/servizi-online/tempi";

/// The page routes (public).
pub fn router() -> Routes {
    Routes::new()
        .get(TEMPI_PATH, Access::Public, tempi_page)
        .get("/servizi-online/tempi.csv", Access::Public, tempi_csv)
        .get("/servizi-online/tempi.json", Access::Public, tempi_json)
}

/// The API route, relative to `/api/v1` (public).
pub fn api_router() -> Routes {
    Routes::new().get("/servizi-online/tempi", Access::Public, api_tempi)
}

/// The OpenAPI paths and schemas of [`api_router`].
pub fn openapi_parts() -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::json;
    let int = json!({ "type": "integer" });
    let opt_int = json!({ "type": ["integer", "null"] });
    let opt_num = json!({ "type": ["number", "null"] });
    let text = json!({ "type": "string" });
    let paths = json!({
        "/servizi-online/tempi": {
            "get": {
                "operationId": "getTempiProcedimenti",
                "summary": "TEMPI-01: tempi effettivi dei procedimenti dei servizi online per servizio e trimestre (avviati, conclusi, entro e oltre il termine, durata media, mediana e massima al netto delle sospensioni); solo conteggi e durate, nessun dato personale",
                "parameters": [{ "name": "anno", "in": "query", "required": false,
                    "description": "Solo i trimestri di quest'anno (quattro cifre)",
                    "schema": { "type": "string", "pattern": "^[0-9]{4}$" } }],
                "responses": {
                    "200": crate::api::openapi::ok_json("La tabella", json!({ "$ref": "#/components/schemas/TempiProcedimenti" })),
                    "422": crate::api::openapi::error_response("anno_non_valido")
                }
            }
        }
    });
    let schemas = json!({
        "TempiProcedimenti": {
            "type": "object",
            "required": ["comune", "aggiornato_al", "anno", "righe"],
            "properties": {
                "comune": text,
                "aggiornato_al": { "type": "string", "format": "date" },
                "anno": opt_int,
                "righe": { "type": "array", "items": { "$ref": "#/components/schemas/TempiRiga" } }
            }
        },
        "TempiRiga": {
            "type": "object",
            "required": ["servizio", "titolo", "trimestre", "anno", "numero_trimestre", "avviati",
                "conclusi", "conclusi_nei_termini", "conclusi_oltre_i_termini",
                "percentuale_nei_termini", "durata_media_giorni", "durata_mediana_giorni",
                "durata_massima_giorni", "silenzio_assenso", "richieste_integrazione",
                "preavvisi_10bis", "richieste_potere_sostitutivo"],
            "properties": {
                "servizio": text, "titolo": text, "trimestre": text, "anno": int,
                "numero_trimestre": int, "avviati": int, "conclusi": int,
                "conclusi_nei_termini": int, "conclusi_oltre_i_termini": int,
                "percentuale_nei_termini": opt_num, "durata_media_giorni": opt_num,
                "durata_mediana_giorni": opt_num, "durata_massima_giorni": opt_int,
                "silenzio_assenso": int, "richieste_integrazione": int,
                "preavvisi_10bis": int, "richieste_potere_sostitutivo": int
            }
        }
    });
    let obj = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    (obj(paths), obj(schemas))
}

/// The query: `anno` (optional) limits the table to one year.
#[derive(Debug, Default, Deserialize)]
pub struct TempiQuery {
    /// The year, e.g. `2026`.
    #[serde(default)]
    anno: Option<String>,
}

/// The year asked for; `anno_non_valido` for anything but a year.
fn year(q: Result<Query<TempiQuery>, QueryRejection>) -> Result<Option<i16>, WebError> {
    let bad = || {
        WebError::from(palazzo_services::ServiceError::Invalid {
            code: "anno_non_valido",
            message: "L'anno indicato non è valido: scrivilo con quattro cifre, per esempio 2026."
                .into(),
        })
    };
    let q = q.map_err(|_| bad())?.0;
    match q.anno.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<i16>() {
            Ok(y) if (1990..=9999).contains(&y) && s.len() == 4 => Ok(Some(y)),
            _ => Err(bad()),
        },
    }
}

/// One row in JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TempiRigaDto {
    /// The service's slug.
    pub servizio: String,
    /// The service's title.
    pub titolo: String,
    /// `2026-T1`.
    pub trimestre: String,
    /// Year.
    pub anno: i16,
    /// Quarter, 1..=4.
    pub numero_trimestre: u8,
    /// Received in the quarter.
    pub avviati: u32,
    /// Concluded in the quarter (measure or silenzio-assenso).
    pub conclusi: u32,
    /// Of which by the deadline.
    pub conclusi_nei_termini: u32,
    /// Of which after it.
    pub conclusi_oltre_i_termini: u32,
    /// Share by the deadline, percent (2 decimals).
    pub percentuale_nei_termini: Option<f64>,
    /// Mean net days (suspensions excluded), 2 decimals.
    pub durata_media_giorni: Option<f64>,
    /// Median net days.
    pub durata_mediana_giorni: Option<f64>,
    /// Longest net days.
    pub durata_massima_giorni: Option<u32>,
    /// Concluded by silenzio-assenso.
    pub silenzio_assenso: u32,
    /// Integration requests (suspensions, art. 2 c.7).
    pub richieste_integrazione: u32,
    /// 10-bis notices.
    pub preavvisi_10bis: u32,
    /// Requests to the substitute power.
    pub richieste_potere_sostitutivo: u32,
}

/// The TEMPI-01 table in JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TempiDto {
    /// The comune.
    pub comune: String,
    /// The day of the figures (open pratiche are looked at on this day).
    pub aggiornato_al: String,
    /// The year asked for, if any.
    pub anno: Option<i16>,
    /// Per service and quarter.
    pub righe: Vec<TempiRigaDto>,
}

fn riga(r: &TempiServizio) -> TempiRigaDto {
    let row = &r.row;
    TempiRigaDto {
        servizio: row.procedure_code.clone(),
        titolo: r.service_title.clone(),
        trimestre: row.quarter.label(),
        anno: row.quarter.year,
        numero_trimestre: row.quarter.quarter,
        avviati: row.started,
        conclusi: row.concluded,
        conclusi_nei_termini: row.concluded_in_term,
        conclusi_oltre_i_termini: r.concluded_late(),
        percentuale_nei_termini: row.pct_in_term,
        durata_media_giorni: row.mean_net_days,
        durata_mediana_giorni: row.median_net_days,
        durata_massima_giorni: row.max_net_days,
        silenzio_assenso: row.silenzio_assenso_count,
        richieste_integrazione: row.integration_requests,
        preavvisi_10bis: row.preavvisi_10bis,
        richieste_potere_sostitutivo: row.sostitutivo_requests,
    }
}

/// The report as JSON (the API and the page's download).
#[must_use]
pub fn dto(report: &TempiReport) -> TempiDto {
    TempiDto {
        comune: report.comune.clone(),
        aggiornato_al: report.as_of.to_string(),
        anno: report.year,
        righe: report.rows.iter().map(riga).collect(),
    }
}

/// The report as pretty-printed JSON text (`palazzo pratiche tempi
/// --format json`): the same document as the API's.
#[must_use]
pub fn json_text(report: &TempiReport) -> String {
    serde_json::to_string_pretty(&dto(report)).unwrap_or_default()
}

async fn report(
    state: &AppState,
    tenant: palazzo_store::TenantId,
    year: Option<i16>,
) -> Result<TempiReport, WebError> {
    Ok(state
        .app()
        .tempi_procedimenti(tenant, year, Timestamp::now())
        .await?)
}

/// Handles `GET /api/v1/servizi-online/tempi`.
pub async fn api_tempi(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    q: Result<Query<TempiQuery>, QueryRejection>,
) -> Result<Json<TempiDto>, WebError> {
    let y = year(q)?;
    Ok(Json(dto(&report(&state, t.id, y).await?)))
}

/// Handles `GET /servizi-online/tempi.json`.
async fn tempi_json(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    q: Result<Query<TempiQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let y = year(q)?;
    let body = dto(&report(&state, t.id, y).await?);
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tempi-procedimenti.json\""),
    );
    Ok(res)
}

/// Handles `GET /servizi-online/tempi.csv`.
async fn tempi_csv(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    q: Result<Query<TempiQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let y = year(q)?;
    let csv = report(&state, t.id, y).await?.to_csv();
    let mut res = (StatusCode::OK, csv).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tempi-procedimenti.csv\""),
    );
    Ok(res)
}

/// A row as the page shows it.
struct Row {
    title: String,
    quarter: String,
    started: u32,
    concluded: u32,
    in_term: u32,
    late: u32,
    mean: String,
    max: String,
    integrazioni: u32,
    preavvisi: u32,
    silenzio: u32,
}

/// Days with a comma as the decimal separator; "–" when there is none.
fn days(v: Option<f64>) -> String {
    v.map_or_else(
        || "–".to_owned(),
        |d| {
            if (d.fract()).abs() < f64::EPSILON {
                format!("{d:.0}")
            } else {
                format!("{d:.2}").replace('.', ",")
            }
        },
    )
}

#[derive(Template)]
#[template(path = "portal/tempi.html")]
struct TempiTemplate<'a> {
    shell: Shell<'a>,
    rows: Vec<Row>,
    year: Option<i16>,
    /// The years with figures, and whether each is the one shown.
    years: Vec<(i16, bool)>,
    as_of: String,
    suffix: String,
}

/// Handles `GET /servizi-online/tempi`.
async fn tempi_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    q: Result<Query<TempiQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let y = year(q)?;
    let r = report(&state, t.id, y).await?;
    let title = "Tempi dei procedimenti";
    let mut shell = Shell::new(&t, title);
    shell.nav = Nav::Servizi;
    shell.description = "Tempi medi e massimi effettivi di conclusione dei procedimenti dei servizi online, per trimestre".into();
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Servizi", "/servizi"),
        Crumb::here(title),
    ];
    let rows = r
        .rows
        .iter()
        .map(|s| Row {
            title: s.service_title.clone(),
            quarter: format!(
                "{}º trimestre {}",
                s.row.quarter.quarter, s.row.quarter.year
            ),
            started: s.row.started,
            concluded: s.row.concluded,
            in_term: s.row.concluded_in_term,
            late: s.concluded_late(),
            mean: days(s.row.mean_net_days),
            max: days(s.row.max_net_days.map(f64::from)),
            integrazioni: s.row.integration_requests,
            preavvisi: s.row.preavvisi_10bis,
            silenzio: s.row.silenzio_assenso_count,
        })
        .collect();
    let html = TempiTemplate {
        shell,
        rows,
        year: r.year,
        years: r.years.iter().map(|y| (*y, r.year == Some(*y))).collect(),
        as_of: r.as_of.strftime("%d/%m/%Y").to_string(),
        suffix: r.year.map(|y| format!("?anno={y}")).unwrap_or_default(),
    }
    .render()?;
    Ok(page(html, StatusCode::OK))
}
