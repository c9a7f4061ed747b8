//! Canone unico patrimoniale on the web (issue 7, part 7): the taxpayer's
//! occupations of public land and their canone on the tax page (each with
//! its working, the payments with their state, the pagoPA notices), and the
//! JSON API.
//!
//! - `POST /area-personale/tributi/canone/{anno}/avviso` (CSRF; optional
//!   `occupazione`: a temporary occupation's notice, otherwise the
//!   permanent occupations' yearly bill) as a PDF;
//!   `POST /backoffice/tributi/canone/avviso` (`cf`, `anno`,
//!   `occupazione`) the office's.
//! - API (`/api/v1`): `GET /tributi/canone/{anno}` (own),
//!   `GET /tributi/contribuenti/{cf}/canone/{anno}` (office),
//!   `GET|POST /tributi/tariffe-canone` (office: the coefficients with
//!   their delibera).
//!
//! Every figure is [`palazzo_services::App::canone_position`]'s.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::canone::{CalcoloCanone, TariffeCanone};
use palazzo_domain::tributi::occupazioni::{DatiOccupazione, superficie_it};
use palazzo_domain::tributi::situazione::Situazione;
use palazzo_services::ServiceError;
use palazzo_services::canone::PosizioneCanone;
use palazzo_store::{StatoAvviso, TariffeCanoneRecord};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::staff::ApiAuth;
use crate::auth::Auth;
use crate::auth::pages::needs;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};
use crate::tari::SituazioneView;
use crate::tributi::{AvvisoDto, OFFICE_PATH, OWN_PATH, parse_cf, parse_year};

/// The page routes.
pub fn router() -> Routes {
    Routes::new()
        .post(
            "/area-personale/tributi/canone/{anno}/avviso",
            Access::Needs(Permission::OwnProfile),
            own_avviso,
        )
        .post(
            "/backoffice/tributi/canone/avviso",
            Access::Needs(Permission::ManageTaxes),
            office_avviso,
        )
}

/// The API routes, relative to `/api/v1`.
pub fn api_router() -> Routes {
    let own = Access::Needs(Permission::OwnProfile);
    let office = Access::Needs(Permission::ManageTaxes);
    Routes::new()
        .get("/tributi/canone/{anno}", own, api_own)
        .get(
            "/tributi/contribuenti/{cf}/canone/{anno}",
            office,
            api_office,
        )
        .get("/tributi/tariffe-canone", office, api_tariffs)
        .post("/tributi/tariffe-canone", office, api_set_tariffs)
}

fn day(d: jiff::civil::Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

/// One occupation as the page shows it.
pub(crate) struct OccupazioneRow {
    pub codice: String,
    pub descrizione: String,
    pub indirizzo: String,
    pub tipo: &'static str,
    pub superficie: String,
    pub periodo: String,
    pub atto: String,
    /// The canone, or `–` when not computed.
    pub importo: String,
    pub passaggi: Vec<String>,
    pub nota: Option<String>,
    /// A temporary occupation's notice can be asked for: its `versamento`.
    pub avviso: Option<String>,
}

/// One payment as the page shows it.
pub(crate) struct RataRow {
    pub etichetta: String,
    pub scadenza: String,
    pub importo: String,
    pub stato: String,
    pub pagato: bool,
}

/// What the page shows of a canone position.
pub(crate) struct CanoneView {
    pub cf: String,
    /// The coefficients' delibera; `None`: not entered yet.
    pub delibera: Option<String>,
    pub occupazioni: Vec<OccupazioneRow>,
    pub permanenti: String,
    pub temporanee: String,
    pub totale: String,
    pub pagato: String,
    pub residuo: String,
    pub rate: Vec<RataRow>,
    /// The permanent occupations' bill can be asked for (or downloaded
    /// again).
    pub avviso: bool,
    pub situazione: Option<SituazioneView>,
    pub errore: Option<String>,
}

impl CanoneView {
    /// The view of a position.
    pub(crate) fn of(p: &PosizioneCanone) -> CanoneView {
        let today = rome_date(jiff::Timestamp::now());
        let notice = |v: &str| p.avvisi.iter().find(|a| a.data.versamento == v);
        let unica_paid = notice("unica").is_some_and(|a| a.stato == StatoAvviso::Pagato);
        let live = |v: &str| notice(v).is_some();
        let rate = p
            .rate
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let covered = p
                    .situazione
                    .rate
                    .get(i)
                    .is_some_and(|s| s.residuo == Cents::ZERO && s.pagato > Cents::ZERO);
                let (stato, pagato) = match notice(&r.versamento) {
                    Some(a) if a.stato == StatoAvviso::Pagato => (
                        format!(
                            "Pagato il {}",
                            a.pagato_il.map(|t| day(rome_date(t))).unwrap_or_default()
                        ),
                        true,
                    ),
                    _ if covered => ("Pagata".to_owned(), true),
                    _ if unica_paid && r.versamento.starts_with("rata-") => {
                        ("Non più dovuta".to_owned(), false)
                    }
                    Some(a) => (
                        format!("Avviso n. {} da pagare", a.codice_avviso.printed()),
                        false,
                    ),
                    None => ("Da pagare".to_owned(), false),
                };
                RataRow {
                    etichetta: r.etichetta.clone(),
                    scadenza: day(r.scadenza),
                    importo: r.importo.to_string(),
                    stato,
                    pagato,
                }
            })
            .collect();
        let residuo = |i: usize| {
            p.situazione
                .rate
                .get(i)
                .is_some_and(|s| s.residuo > Cents::ZERO)
        };
        // An occupation's own notice can be asked for while it is open and
        // issued already or not yet due.
        let open = |v: &str| {
            p.rate
                .iter()
                .enumerate()
                .any(|(i, r)| r.versamento == v && residuo(i) && (live(v) || r.scadenza >= today))
        };
        // The yearly bill: while something of it is open, issued already or
        // its first due date (the rata unica's) not past.
        let yearly = |v: &str| !v.starts_with("occupazione-");
        let yearly_open = p
            .rate
            .iter()
            .enumerate()
            .any(|(i, r)| yearly(&r.versamento) && residuo(i));
        let yearly_issued = p.avvisi.iter().any(|a| yearly(&a.data.versamento));
        let yearly_first = p
            .rate
            .iter()
            .find(|r| yearly(&r.versamento))
            .map(|r| r.scadenza);
        CanoneView {
            cf: p.codice_fiscale.as_str().to_owned(),
            delibera: p.tariffe.as_ref().map(|t| t.delibera.clone()),
            occupazioni: p
                .occupazioni
                .iter()
                .map(|o| {
                    let d = &o.occupazione.data;
                    OccupazioneRow {
                        codice: d.codice.clone(),
                        descrizione: d.descrizione.clone(),
                        indirizzo: d.indirizzo.clone(),
                        tipo: if d.permanente {
                            "permanente"
                        } else {
                            "temporanea"
                        },
                        superficie: format!("{} m²", superficie_it(d.superficie_cm2)),
                        periodo: match d.al {
                            Some(al) => format!("dal {} al {}", day(d.dal), day(al)),
                            None => format!("dal {}", day(d.dal)),
                        },
                        atto: d.atto.clone(),
                        importo: o
                            .calcolo
                            .as_ref()
                            .map_or_else(|| "–".to_owned(), |c| c.importo.to_string()),
                        passaggi: o
                            .calcolo
                            .as_ref()
                            .map(|c| c.passaggi.clone())
                            .unwrap_or_default(),
                        nota: o.nota.clone(),
                        avviso: o.versamento.clone().filter(|v| open(v)),
                    }
                })
                .collect(),
            permanenti: p.permanenti.to_string(),
            temporanee: p.temporanee.to_string(),
            totale: p.totale.to_string(),
            pagato: p.situazione.pagato.to_string(),
            residuo: p.situazione.residuo.to_string(),
            avviso: yearly_open && (yearly_issued || yearly_first.is_some_and(|d| d >= today)),
            rate,
            situazione: Some(SituazioneView::with(&p.situazione, false)),
            errore: None,
        }
    }

    /// The view of a position that could not be computed.
    pub(crate) fn error(cf: &str, message: String) -> CanoneView {
        CanoneView {
            cf: cf.to_owned(),
            delibera: None,
            occupazioni: Vec::new(),
            permanenti: String::new(),
            temporanee: String::new(),
            totale: String::new(),
            pagato: String::new(),
            residuo: String::new(),
            rate: Vec::new(),
            avviso: false,
            situazione: None,
            errore: Some(message),
        }
    }
}

/// A bill request: the year in the path (own) or the form (office), the
/// temporary occupation's `versamento` or nothing.
#[derive(Debug, Default, Deserialize)]
struct BillForm {
    #[serde(default)]
    cf: String,
    #[serde(default)]
    anno: String,
    #[serde(default)]
    occupazione: String,
}

fn bill_name(cf: &str, anno: i16, occupazione: Option<&str>) -> String {
    match occupazione {
        Some(o) => format!("avviso-pagopa-canone-{anno}-{cf}-{o}.pdf"),
        None => format!("avviso-pagopa-canone-{anno}-{cf}.pdf"),
    }
}

fn form_of(
    form: Result<axum::Form<BillForm>, axum::extract::rejection::FormRejection>,
) -> Result<BillForm, ServiceError> {
    form.map(|axum::Form(f)| f).map_err(|_| {
        ServiceError::refused("richiesta_non_valida", "Il modulo inviato non è valido.")
    })
}

/// Handles `POST /area-personale/tributi/canone/{anno}/avviso`.
async fn own_avviso(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(anno): Path<String>,
    form: Result<axum::Form<BillForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::OwnProfile)?;
        let anno = parse_year(&anno)?;
        let f = form_of(form)?;
        let occupazione = Some(f.occupazione.trim()).filter(|o| !o.is_empty());
        let bill = state
            .app()
            .canone_avviso(t.id, &auth.actor, None, anno, occupazione)
            .await?;
        let cf = bill
            .avvisi
            .first()
            .map(|a| a.data.codice_fiscale.as_str().to_owned())
            .unwrap_or_default();
        Ok::<_, ServiceError>(crate::upload::pdf_download(
            bill.pdf,
            &bill_name(&cf, anno, occupazione),
        ))
    };
    run.await.unwrap_or_else(|e| needs(OWN_PATH, e))
}

/// Handles `POST /backoffice/tributi/canone/avviso`.
async fn office_avviso(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    form: Result<axum::Form<BillForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let f = form_of(form)?;
        let cf = parse_cf(&f.cf)?;
        let anno = parse_year(&f.anno)?;
        let occupazione = Some(f.occupazione.trim()).filter(|o| !o.is_empty());
        let bill = state
            .app()
            .canone_avviso(t.id, &auth.actor, Some(&cf), anno, occupazione)
            .await?;
        Ok::<_, ServiceError>(crate::upload::pdf_download(
            bill.pdf,
            &bill_name(cf.as_str(), anno, occupazione),
        ))
    };
    run.await.unwrap_or_else(|e| needs(OFFICE_PATH, e))
}

/// One occupation of a position, as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OccupazioneDto {
    /// The occupation (surface in hundredths of a square metre, dates
    /// `aaaa-mm-gg`).
    #[serde(flatten)]
    pub occupazione: DatiOccupazione,
    /// Its canone with the working; null when not computed.
    pub calcolo: Option<CalcoloCanone>,
    /// Why it was not computed.
    pub nota: Option<String>,
    /// A temporary occupation's notice `versamento`.
    pub versamento: Option<String>,
}

/// A payment of a position, as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RataCanoneDto {
    /// `unica`, `rata-<n>` or `occupazione-<codice>-<aaaammgg>`.
    pub versamento: String,
    /// What it is.
    pub etichetta: String,
    /// Due date.
    pub scadenza: String,
    /// Amount (cents).
    pub importo: Cents,
}

/// A taxpayer's canone unico of a year, as the API returns it (cents).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PosizioneCanoneDto {
    /// The taxpayer.
    pub codice_fiscale: String,
    /// The year.
    pub anno: i16,
    /// The coefficients' delibera; null until the comune enters them.
    pub delibera: Option<String>,
    /// The occupations of the year.
    pub occupazioni: Vec<OccupazioneDto>,
    /// Permanent occupations' canone.
    pub permanenti: Cents,
    /// Temporary occupations' canone.
    pub temporanee: Cents,
    /// The year's canone.
    pub totale: Cents,
    /// The payments.
    pub rate: Vec<RataCanoneDto>,
    /// What was paid.
    pub pagato: Cents,
    /// What remains.
    pub residuo: Cents,
    /// Payment by payment, what is past due and its ravvedimento today.
    pub situazione: Situazione,
    /// The notices.
    pub avvisi: Vec<AvvisoDto>,
}

impl PosizioneCanoneDto {
    /// The DTO of a position.
    #[must_use]
    pub fn of(p: &PosizioneCanone) -> Self {
        PosizioneCanoneDto {
            codice_fiscale: p.codice_fiscale.as_str().to_owned(),
            anno: p.anno,
            delibera: p.tariffe.as_ref().map(|t| t.delibera.clone()),
            occupazioni: p
                .occupazioni
                .iter()
                .map(|o| OccupazioneDto {
                    occupazione: o.occupazione.data.clone(),
                    calcolo: o.calcolo.clone(),
                    nota: o.nota.clone(),
                    versamento: o.versamento.clone(),
                })
                .collect(),
            permanenti: p.permanenti,
            temporanee: p.temporanee,
            totale: p.totale,
            rate: p
                .rate
                .iter()
                .map(|r| RataCanoneDto {
                    versamento: r.versamento.clone(),
                    etichetta: r.etichetta.clone(),
                    scadenza: r.scadenza.to_string(),
                    importo: r.importo,
                })
                .collect(),
            pagato: p.situazione.pagato,
            residuo: p.situazione.residuo,
            situazione: p.situazione.clone(),
            avvisi: p.avvisi.iter().map(AvvisoDto::of).collect(),
        }
    }
}

/// Handles `GET /api/v1/tributi/canone/{anno}`: the caller's own canone.
async fn api_own(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(anno): Path<String>,
) -> Result<Json<PosizioneCanoneDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let anno = parse_year(&anno)?;
    let p = state
        .app()
        .canone_position(t.id, &actor, None, anno)
        .await?;
    Ok(Json(PosizioneCanoneDto::of(&p)))
}

/// Handles `GET /api/v1/tributi/contribuenti/{cf}/canone/{anno}`.
async fn api_office(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((cf, anno)): Path<(String, String)>,
) -> Result<Json<PosizioneCanoneDto>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let cf = parse_cf(&cf)?;
    let anno = parse_year(&anno)?;
    let p = state
        .app()
        .canone_position(t.id, &actor, Some(&cf), anno)
        .await?;
    Ok(Json(PosizioneCanoneDto::of(&p)))
}

/// The coefficients of a year as the API reads and writes them
/// (coefficients in thousandths: `420` = 0,420).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TariffeCanoneDto {
    /// The coefficients.
    #[serde(flatten)]
    pub tariffe: TariffeCanone,
    /// Last change (RFC 3339), in answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggiornate_il: Option<String>,
    /// Who changed them last, in answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggiornate_da: Option<String>,
}

impl TariffeCanoneDto {
    fn of(r: TariffeCanoneRecord) -> Self {
        TariffeCanoneDto {
            tariffe: r.tariffe,
            aggiornate_il: Some(r.updated_at.to_string()),
            aggiornate_da: Some(r.updated_by),
        }
    }
}

/// Handles `GET /api/v1/tributi/tariffe-canone`: every year, newest first.
async fn api_tariffs(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<TariffeCanoneDto>>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let rows = state.app().canone_tariffs(t.id, &actor).await?;
    Ok(Json(rows.into_iter().map(TariffeCanoneDto::of).collect()))
}

/// Handles `POST /api/v1/tributi/tariffe-canone`: enters or corrects the
/// coefficients of the year in the body (200 with what was saved).
async fn api_set_tariffs(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<TariffeCanoneDto>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let Json(body) = crate::api::json_body(body)?;
    let saved = state
        .app()
        .set_canone_tariffs(t.id, &actor, body.tariffe)
        .await?;
    Ok((StatusCode::OK, Json(TariffeCanoneDto::of(saved))).into_response())
}

/// The OpenAPI paths and schemas of [`api_router`].
pub fn openapi_parts() -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::json;
    let anno = json!({ "name": "anno", "in": "path", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9]{4}$" } });
    let position = crate::api::openapi::ok_json(
        "Il canone unico dell'anno con il calcolo per occupazione, le rate e gli avvisi",
        json!({ "$ref": "#/components/schemas/PosizioneCanone" }),
    );
    let tariffe = json!({ "$ref": "#/components/schemas/TariffeCanone" });
    let staff = crate::api::openapi::staff;
    let err = crate::api::openapi::error_response;
    let paths = json!({
        "/tributi/canone/{anno}": { "get": staff(json!({
            "operationId": "getMiaPosizioneCanone",
            "summary": "Canone unico patrimoniale dell'anno del cittadino autenticato (occupazioni di suolo pubblico con il calcolo, rate, avvisi)",
            "parameters": [anno],
            "responses": { "200": position,
                "422": err("anno_non_valido, codice_fiscale_assente") }
        }))},
        "/tributi/contribuenti/{cf}/canone/{anno}": { "get": staff(json!({
            "operationId": "getPosizioneCanoneContribuente",
            "summary": "Canone unico dell'anno di un contribuente (ufficio tributi)",
            "parameters": [
                { "name": "cf", "in": "path", "required": true, "schema": { "type": "string" } },
                anno
            ],
            "responses": { "200": position,
                "422": err("codice_fiscale_non_valido, anno_non_valido") }
        }))},
        "/tributi/tariffe-canone": {
            "get": staff(json!({
                "operationId": "getTariffeCanone",
                "summary": "Coefficienti del canone unico deliberati dal Comune, per anno (ufficio tributi)",
                "responses": { "200": crate::api::openapi::ok_json("I coefficienti, dall'anno più recente", json!({ "type": "array", "items": tariffe })) }
            })),
            "post": staff(json!({
                "operationId": "setTariffeCanone",
                "summary": "Inserisce o corregge i coefficienti del canone unico di un anno con la delibera (L. 160/2019 cc. 816-836); registrato nel ledger",
                "requestBody": { "required": true, "content": { "application/json": { "schema": tariffe } } },
                "responses": { "200": crate::api::openapi::ok_json("I coefficienti salvati", tariffe.clone()),
                    "422": err("delibera_mancante, anno_non_valido, tributi_tariffe_canone, richiesta_non_valida") }
            }))
        }
    });
    let schemas = json!({
        "PosizioneCanone": {
            "type": "object",
            "required": ["codice_fiscale", "anno", "delibera", "occupazioni", "permanenti", "temporanee", "totale", "rate", "pagato", "residuo", "avvisi"],
            "description": "Importi in centesimi",
            "properties": {
                "codice_fiscale": { "type": "string" },
                "anno": { "type": "integer" },
                "delibera": { "type": ["string", "null"] },
                "occupazioni": { "type": "array", "items": { "type": "object", "description": "Occupazione (codice, descrizione, indirizzo, zona, categoria, permanente, superficie in centesimi di m², periodo, atto) con il calcolo e i passaggi, o la nota se i coefficienti non la prevedono" } },
                "permanenti": { "type": "integer" },
                "temporanee": { "type": "integer" },
                "totale": { "type": "integer" },
                "rate": { "type": "array", "items": { "type": "object", "properties": {
                    "versamento": { "type": "string" }, "etichetta": { "type": "string" },
                    "scadenza": { "type": "string", "format": "date" }, "importo": { "type": "integer" } } } },
                "pagato": { "type": "integer" },
                "residuo": { "type": "integer" },
                "avvisi": { "type": "array", "items": { "$ref": "#/components/schemas/AvvisoPagoPa" } }
            }
        },
        "TariffeCanone": {
            "type": "object",
            "required": ["anno", "delibera", "zone", "categorie", "scadenze"],
            "description": "Coefficienti in millesimi (420 = 0,420); le tariffe standard sono quelle di legge per la popolazione del Comune (L. 160/2019 cc. 826-827)",
            "properties": {
                "anno": { "type": "integer", "minimum": 2021 },
                "delibera": { "type": "string" },
                "zone": { "type": "array", "items": { "type": "object",
                    "required": ["codice", "descrizione", "coefficiente"],
                    "properties": { "codice": { "type": "string" }, "descrizione": { "type": "string" },
                        "coefficiente": { "type": "integer", "minimum": 1, "maximum": 20000 } } } },
                "categorie": { "type": "array", "items": { "type": "object",
                    "required": ["codice", "descrizione", "permanente", "temporanea"],
                    "properties": { "codice": { "type": "string" }, "descrizione": { "type": "string" },
                        "permanente": { "type": "integer", "minimum": 1, "maximum": 20000 },
                        "temporanea": { "type": "integer", "minimum": 1, "maximum": 20000 } } } },
                "scadenze": { "type": "array", "items": { "type": "string", "format": "date" } },
                "aggiornate_il": { "type": "string", "format": "date-time" },
                "aggiornate_da": { "type": "string" }
            }
        }
    });
    (
        paths.as_object().cloned().unwrap_or_default(),
        schemas.as_object().cloned().unwrap_or_default(),
    )
}
