//! TARI on the web (issue 7, part 7): the taxpayer's TARI of a year on the
//! same page as the IMU (each utenza with its working, the instalments
//! with their state, the bill's pagoPA notice), and the JSON API.
//!
//! - `POST /area-personale/tributi/tari/{anno}/avviso` (CSRF): the
//!   citizen's bill (issued on first request) as a PDF;
//!   `POST /backoffice/tributi/tari/avviso` (`cf`, `anno`) the office's.
//! - API (`/api/v1`): `GET /tributi/tari/{anno}` (own),
//!   `GET /tributi/contribuenti/{cf}/tari/{anno}` (office),
//!   `GET|POST /tributi/tariffe-tari` (office: the tariffs with their
//!   delibera).
//!
//! Every figure is [`palazzo_services::App::tari_position`]'s: the page,
//! the API, the CLI and the notices show the same amounts.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::situazione::Situazione;
use palazzo_domain::tributi::tari::{CalcoloTari, RataTari, TariffeTari, Utenza};
use palazzo_services::ServiceError;
use palazzo_services::tari::PosizioneTari;
use palazzo_store::{StatoAvviso, TariffeTariRecord};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::staff::ApiAuth;
use crate::auth::Auth;
use crate::auth::pages::needs;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};
use crate::tributi::{AvvisoDto, OFFICE_PATH, OWN_PATH, parse_cf, parse_year};

/// The page routes.
pub fn router() -> Routes {
    Routes::new()
        .post(
            "/area-personale/tributi/tari/{anno}/avviso",
            Access::Needs(Permission::OwnProfile),
            own_avviso,
        )
        .post(
            "/backoffice/tributi/tari/avviso",
            Access::Needs(Permission::ManageTaxes),
            office_avviso,
        )
}

/// The API routes, relative to `/api/v1`.
pub fn api_router() -> Routes {
    let own = Access::Needs(Permission::OwnProfile);
    let office = Access::Needs(Permission::ManageTaxes);
    Routes::new()
        .get("/tributi/tari/{anno}", own, api_own)
        .get("/tributi/contribuenti/{cf}/tari/{anno}", office, api_office)
        .get("/tributi/tasi", own, api_own_tasi)
        .get("/tributi/contribuenti/{cf}/tasi", office, api_office_tasi)
        .get("/tributi/tariffe-tari", office, api_tariffs)
        .post("/tributi/tariffe-tari", office, api_set_tariffs)
}

/// One utenza as the page shows it.
pub(crate) struct UtenzaRow {
    pub codice: String,
    pub indirizzo: String,
    pub catasto: String,
    pub descrizione: String,
    pub periodo: String,
    pub totale: String,
    pub passaggi: Vec<String>,
}

/// One instalment (or the rata unica) as the page shows it.
pub(crate) struct RataRow {
    pub label: String,
    pub scadenza: String,
    pub tari: String,
    pub tefa: String,
    pub importo: String,
    /// `Pagato il …`, `Non più dovuta…`, `Avviso n. … da pagare`, `Da pagare`.
    pub stato: String,
    pub pagato: bool,
}

/// What the page shows of a TARI position.
pub(crate) struct TariView {
    pub cf: String,
    /// The tariffs' delibera; `None`: not entered yet.
    pub delibera: Option<String>,
    pub utenze: Vec<UtenzaRow>,
    pub tari: String,
    pub tefa: String,
    pub totale: String,
    pub pagato: String,
    pub residuo: String,
    pub rate: Vec<RataRow>,
    /// A notice can be asked for (or downloaded again).
    pub avviso: bool,
    /// Payments and what is past due.
    pub situazione: Option<SituazioneView>,
    /// The position could not be computed: why.
    pub errore: Option<String>,
}

/// What the page shows of a tax year's payments and open amounts.
pub(crate) struct SituazioneView {
    /// The payments: (date, amount, with ravvedimento, source).
    pub versamenti: Vec<(String, String, bool, String)>,
    /// The instalments past due: label, due date, open tax, sanction,
    /// interest, total to pay today (without ravvedimento when the legal
    /// rate is unknown: the tax only).
    pub scadute: Vec<ScadutaRow>,
    pub pagato: String,
    pub residuo: String,
    pub da_versare_oggi: Option<String>,
    pub eccedenza: Option<String>,
    /// A tax whose late payments are settled with the ravvedimento operoso
    /// by F24 (IMU, TARI); `false` for the canone unico (pagoPA only, the
    /// regolamento's charges: the office's).
    pub ravvedimento: bool,
}

/// An instalment past due.
pub(crate) struct ScadutaRow {
    pub etichetta: String,
    pub scadenza: String,
    pub residuo: String,
    pub sanzione: String,
    pub interessi: String,
    pub totale: String,
    pub giorni: u32,
}

impl SituazioneView {
    /// The view of a tax's situation (ravvedimento by F24).
    pub(crate) fn of(s: &Situazione) -> SituazioneView {
        Self::with(s, true)
    }

    /// The view of a situation, with or without the ravvedimento.
    pub(crate) fn with(s: &Situazione, ravvedimento: bool) -> SituazioneView {
        SituazioneView {
            ravvedimento,
            versamenti: s
                .pagamenti
                .iter()
                .map(|p| {
                    (
                        day(p.data),
                        p.importo.to_string(),
                        p.ravvedimento,
                        p.fonte.clone(),
                    )
                })
                .collect(),
            scadute: s
                .rate
                .iter()
                .filter(|r| r.scaduta)
                .map(|r| {
                    let rv = r.ravvedimento.as_ref();
                    ScadutaRow {
                        etichetta: r.dovuto.etichetta.clone(),
                        scadenza: day(r.dovuto.scadenza),
                        residuo: r.residuo.to_string(),
                        sanzione: rv.map_or_else(|| "–".into(), |v| v.sanzione.to_string()),
                        interessi: rv.map_or_else(|| "–".into(), |v| v.interessi.to_string()),
                        totale: rv.map_or(r.residuo, |v| v.totale).to_string(),
                        giorni: rv.map_or(0, |v| v.giorni),
                    }
                })
                .collect(),
            pagato: s.pagato.to_string(),
            residuo: s.residuo.to_string(),
            da_versare_oggi: (s.scaduto > Cents::ZERO).then(|| s.da_versare_oggi.to_string()),
            eccedenza: (s.eccedenza > Cents::ZERO).then(|| s.eccedenza.to_string()),
        }
    }
}

fn day(d: jiff::civil::Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

fn describe(u: &Utenza) -> String {
    match u {
        Utenza::Domestica {
            occupanti,
            superficie,
            pertinenze,
        } => {
            let people = if *occupanti == 1 {
                "1 occupante".to_owned()
            } else {
                format!("{occupanti} occupanti")
            };
            if *pertinenze > 0 {
                format!("Abitazione, {people}, {superficie} m² e {pertinenze} m² di pertinenze")
            } else {
                format!("Abitazione, {people}, {superficie} m²")
            }
        }
        Utenza::NonDomestica {
            categoria,
            superficie,
        } => format!("Attività, categoria {categoria}, {superficie} m²"),
    }
}

impl TariView {
    /// The view of a position.
    pub(crate) fn of(p: &PosizioneTari) -> TariView {
        let today = rome_date(jiff::Timestamp::now());
        let notice = |v: &str| p.avvisi.iter().find(|a| a.data.versamento == v);
        let unica_paid = notice("unica").is_some_and(|a| a.stato == StatoAvviso::Pagato);
        let rata_paid = p
            .avvisi
            .iter()
            .any(|a| a.data.versamento != "unica" && a.stato == StatoAvviso::Pagato);
        // Covered by the payments (F24 or notices), instalment by
        // instalment.
        let covered = |i: usize| {
            p.situazione
                .rate
                .get(i)
                .is_some_and(|r| r.residuo == Cents::ZERO && r.pagato > Cents::ZERO)
        };
        let all_covered = p.situazione.residuo == Cents::ZERO && p.situazione.pagato > Cents::ZERO;
        let state = |v: &str, superseded: bool, paid: bool| -> (String, bool) {
            match notice(v) {
                Some(a) if a.stato == StatoAvviso::Pagato => (
                    format!(
                        "Pagato il {}",
                        a.pagato_il.map(|t| day(rome_date(t))).unwrap_or_default()
                    ),
                    true,
                ),
                _ if superseded => ("Non più dovuta".to_owned(), false),
                _ if paid => ("Pagata".to_owned(), true),
                Some(a) => (
                    format!("Avviso n. {} da pagare", a.codice_avviso.printed()),
                    false,
                ),
                None => ("Da pagare".to_owned(), false),
            }
        };
        let row = |label: String, v: &str, r: &RataTari, superseded: bool, paid: bool| {
            let (stato, pagato) = state(v, superseded, paid);
            RataRow {
                label,
                scadenza: day(r.scadenza),
                tari: r.tari.to_string(),
                tefa: r.tefa.to_string(),
                importo: Cents::from_cents(r.tari.cents() + r.tefa.cents()).to_string(),
                stato,
                pagato,
            }
        };
        let mut rate = Vec::new();
        if let Some(first) = p.rate.first() {
            let all = RataTari {
                numero: 0,
                scadenza: first.scadenza,
                tari: p.tari,
                tefa: p.tefa,
            };
            rate.push(row(
                "Rata unica".into(),
                "unica",
                &all,
                rata_paid,
                all_covered,
            ));
            if p.rate.len() > 1 {
                for (i, r) in p.rate.iter().enumerate() {
                    rate.push(row(
                        format!("Rata {} di {}", r.numero, p.rate.len()),
                        &format!("rata-{}", r.numero),
                        r,
                        unica_paid,
                        covered(i),
                    ));
                }
            }
        }
        let issued = !p.avvisi.is_empty();
        TariView {
            cf: p.codice_fiscale.as_str().to_owned(),
            delibera: p.tariffe.as_ref().map(|t| t.delibera.clone()),
            utenze: p
                .utenze
                .iter()
                .map(|u| {
                    let d = &u.utenza.data;
                    UtenzaRow {
                        codice: d.codice.clone(),
                        indirizzo: d.indirizzo.clone(),
                        catasto: d.catasto.clone(),
                        descrizione: describe(&d.utenza),
                        periodo: match d.al {
                            Some(al) => format!("dal {} al {}", day(d.dal), day(al)),
                            None => format!("dal {}", day(d.dal)),
                        },
                        totale: u.calcolo.totale.to_string(),
                        passaggi: u.calcolo.passaggi.clone(),
                    }
                })
                .collect(),
            tari: p.tari.to_string(),
            tefa: p.tefa.to_string(),
            totale: p.totale.to_string(),
            pagato: p.pagato().to_string(),
            residuo: p.residuo().to_string(),
            avviso: p.situazione.residuo > Cents::ZERO
                && (issued || p.rate.first().is_some_and(|r| r.scadenza >= today)),
            rate,
            situazione: Some(SituazioneView::of(&p.situazione)),
            errore: None,
        }
    }

    /// The view of a position that could not be computed.
    pub(crate) fn error(cf: &str, message: String) -> TariView {
        TariView {
            cf: cf.to_owned(),
            delibera: None,
            utenze: Vec::new(),
            tari: String::new(),
            tefa: String::new(),
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

fn bill_name(cf: &str, anno: i16) -> String {
    format!("avviso-pagopa-tari-{anno}-{cf}.pdf")
}

/// Handles `POST /area-personale/tributi/tari/{anno}/avviso`: the bill's
/// pagoPA notice (issued on first request), as a PDF.
async fn own_avviso(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(anno): Path<String>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::OwnProfile)?;
        let anno = parse_year(&anno)?;
        let bill = state
            .app()
            .tari_avviso(t.id, &auth.actor, None, anno)
            .await?;
        let cf = bill
            .avvisi
            .first()
            .map(|a| a.data.codice_fiscale.as_str().to_owned())
            .unwrap_or_default();
        Ok::<_, ServiceError>(crate::upload::pdf_download(bill.pdf, &bill_name(&cf, anno)))
    };
    run.await.unwrap_or_else(|e| needs(OWN_PATH, e))
}

/// The office's bill request.
#[derive(Debug, Default, Deserialize)]
struct BillForm {
    #[serde(default)]
    cf: String,
    #[serde(default)]
    anno: String,
}

/// Handles `POST /backoffice/tributi/tari/avviso` (`cf`, `anno`).
async fn office_avviso(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    form: Result<axum::Form<BillForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let axum::Form(f) = form.map_err(|_| {
            ServiceError::refused("richiesta_non_valida", "Il modulo inviato non è valido.")
        })?;
        let cf = parse_cf(&f.cf)?;
        let anno = parse_year(&f.anno)?;
        let bill = state
            .app()
            .tari_avviso(t.id, &auth.actor, Some(&cf), anno)
            .await?;
        Ok::<_, ServiceError>(crate::upload::pdf_download(
            bill.pdf,
            &bill_name(cf.as_str(), anno),
        ))
    };
    run.await.unwrap_or_else(|e| needs(OFFICE_PATH, e))
}

/// One utenza of a position, as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UtenzaTariDto {
    /// The utenza's code.
    pub codice: String,
    /// Where.
    pub indirizzo: String,
    /// Cadastral data.
    pub catasto: String,
    /// Home or business, with surfaces.
    pub utenza: Utenza,
    /// First day.
    pub dal: String,
    /// Last day, if it ended.
    pub al: Option<String>,
    /// Its computation for the year (cents) with the working.
    pub calcolo: CalcoloTari,
}

/// A taxpayer's TARI of a year, as the API returns it (amounts in cents).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PosizioneTariDto {
    /// The taxpayer.
    pub codice_fiscale: String,
    /// The year.
    pub anno: i16,
    /// The tariffs' delibera; null until the comune enters them.
    pub delibera: Option<String>,
    /// The utenze of the year.
    pub utenze: Vec<UtenzaTariDto>,
    /// TARI of the year.
    pub tari: Cents,
    /// TEFA of the year.
    pub tefa: Cents,
    /// TARI + TEFA.
    pub totale: Cents,
    /// The instalments.
    pub rate: Vec<RataTari>,
    /// What was paid (F24 and notices).
    pub pagato: Cents,
    /// What remains.
    pub residuo: Cents,
    /// Instalment by instalment, the payments, what is past due and its
    /// ravvedimento today.
    pub situazione: Situazione,
    /// The bill's notices (rata unica first).
    pub avvisi: Vec<AvvisoDto>,
}

impl PosizioneTariDto {
    /// The DTO of a position.
    #[must_use]
    pub fn of(p: &PosizioneTari) -> Self {
        PosizioneTariDto {
            codice_fiscale: p.codice_fiscale.as_str().to_owned(),
            anno: p.anno,
            delibera: p.tariffe.as_ref().map(|t| t.delibera.clone()),
            utenze: p
                .utenze
                .iter()
                .map(|u| UtenzaTariDto {
                    codice: u.utenza.data.codice.clone(),
                    indirizzo: u.utenza.data.indirizzo.clone(),
                    catasto: u.utenza.data.catasto.clone(),
                    utenza: u.utenza.data.utenza.clone(),
                    dal: u.utenza.data.dal.to_string(),
                    al: u.utenza.data.al.map(|d| d.to_string()),
                    calcolo: u.calcolo.clone(),
                })
                .collect(),
            tari: p.tari,
            tefa: p.tefa,
            totale: p.totale,
            rate: p.rate.clone(),
            pagato: p.pagato(),
            residuo: p.residuo(),
            situazione: p.situazione.clone(),
            avvisi: p.avvisi.iter().map(AvvisoDto::of).collect(),
        }
    }
}

/// Handles `GET /api/v1/tributi/tari/{anno}`: the caller's own TARI.
async fn api_own(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(anno): Path<String>,
) -> Result<Json<PosizioneTariDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let anno = parse_year(&anno)?;
    let p = state.app().tari_position(t.id, &actor, None, anno).await?;
    Ok(Json(PosizioneTariDto::of(&p)))
}

/// Handles `GET /api/v1/tributi/contribuenti/{cf}/tari/{anno}`.
async fn api_office(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((cf, anno)): Path<(String, String)>,
) -> Result<Json<PosizioneTariDto>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let cf = parse_cf(&cf)?;
    let anno = parse_year(&anno)?;
    let p = state
        .app()
        .tari_position(t.id, &actor, Some(&cf), anno)
        .await?;
    Ok(Json(PosizioneTariDto::of(&p)))
}

/// A taxpayer's TASI history as the API returns it (amounts in cents).
#[derive(Debug, Clone, Serialize)]
pub struct StoricoTasiDto {
    /// The taxpayer.
    pub codice_fiscale: String,
    /// The years with payments, newest first.
    pub anni: Vec<palazzo_services::tari::AnnoTasi>,
}

/// Handles `GET /api/v1/tributi/tasi`: the caller's own TASI history.
async fn api_own_tasi(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<StoricoTasiDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let (cf, anni) = state.app().tasi_history(t.id, &actor, None).await?;
    Ok(Json(StoricoTasiDto {
        codice_fiscale: cf.as_str().to_owned(),
        anni,
    }))
}

/// Handles `GET /api/v1/tributi/contribuenti/{cf}/tasi`.
async fn api_office_tasi(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(cf): Path<String>,
) -> Result<Json<StoricoTasiDto>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let cf = parse_cf(&cf)?;
    let (cf, anni) = state.app().tasi_history(t.id, &actor, Some(&cf)).await?;
    Ok(Json(StoricoTasiDto {
        codice_fiscale: cf.as_str().to_owned(),
        anni,
    }))
}

/// A TASI year as the page shows it: year, total, the lines (date,
/// code, amount).
pub(crate) struct TasiRow {
    pub anno: i16,
    pub versato: String,
    pub righe: Vec<(String, String, String)>,
}

impl TasiRow {
    pub(crate) fn of(a: &palazzo_services::tari::AnnoTasi) -> TasiRow {
        TasiRow {
            anno: a.anno,
            versato: a.versato.to_string(),
            righe: a
                .versamenti
                .iter()
                .map(|v| (day(v.data), v.codice_tributo.clone(), v.importo.to_string()))
                .collect(),
        }
    }
}

/// The tariffs of a year as the API reads and writes them: tariffs in
/// ten-thousandths of a euro (`4460` = 0,4460 €), TEFA and reductions in
/// hundredths of a percent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TariffeTariDto {
    /// The tariffs.
    #[serde(flatten)]
    pub tariffe: TariffeTari,
    /// Last change (RFC 3339), in answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggiornate_il: Option<String>,
    /// Who changed them last, in answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggiornate_da: Option<String>,
}

impl TariffeTariDto {
    fn of(r: TariffeTariRecord) -> Self {
        TariffeTariDto {
            tariffe: r.tariffe,
            aggiornate_il: Some(r.updated_at.to_string()),
            aggiornate_da: Some(r.updated_by),
        }
    }
}

/// Handles `GET /api/v1/tributi/tariffe-tari`: every year, newest first.
async fn api_tariffs(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<TariffeTariDto>>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let rows = state.app().tari_tariffs(t.id, &actor).await?;
    Ok(Json(rows.into_iter().map(TariffeTariDto::of).collect()))
}

/// Handles `POST /api/v1/tributi/tariffe-tari`: enters or corrects the
/// tariffs of the year in the body (200 with the saved tariffs).
async fn api_set_tariffs(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<TariffeTariDto>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let Json(body) = crate::api::json_body(body)?;
    let saved = state
        .app()
        .set_tari_tariffs(t.id, &actor, body.tariffe)
        .await?;
    Ok((StatusCode::OK, Json(TariffeTariDto::of(saved))).into_response())
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
        "La posizione TARI con il calcolo per utenza, le rate e gli avvisi",
        json!({ "$ref": "#/components/schemas/PosizioneTari" }),
    );
    let tariffe = json!({ "$ref": "#/components/schemas/TariffeTari" });
    let staff = crate::api::openapi::staff;
    let err = crate::api::openapi::error_response;
    let paths = json!({
        "/tributi/tari/{anno}": { "get": staff(json!({
            "operationId": "getMiaPosizioneTari",
            "summary": "TARI dell'anno del cittadino autenticato (utenze con il calcolo, TEFA, rate, avvisi)",
            "parameters": [anno],
            "responses": { "200": position,
                "422": err("anno_non_valido, codice_fiscale_assente, tributi_categoria_tari") }
        }))},
        "/tributi/contribuenti/{cf}/tari/{anno}": { "get": staff(json!({
            "operationId": "getPosizioneTariContribuente",
            "summary": "TARI dell'anno di un contribuente (ufficio tributi)",
            "parameters": [
                { "name": "cf", "in": "path", "required": true, "schema": { "type": "string" } },
                anno
            ],
            "responses": { "200": position,
                "422": err("codice_fiscale_non_valido, anno_non_valido, tributi_categoria_tari") }
        }))},
        "/tributi/tasi": { "get": staff(json!({
            "operationId": "getMioStoricoTasi",
            "summary": "TASI 2014-2019 del cittadino autenticato: i versamenti F24 ricevuti dal Comune, per anno (sola lettura)",
            "responses": { "200": crate::api::openapi::ok_json("Gli anni con versamenti, dal più recente", json!({ "type": "object" })),
                "422": err("codice_fiscale_assente") }
        }))},
        "/tributi/contribuenti/{cf}/tasi": { "get": staff(json!({
            "operationId": "getStoricoTasiContribuente",
            "summary": "TASI 2014-2019 di un contribuente (ufficio tributi)",
            "parameters": [{ "name": "cf", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": { "200": crate::api::openapi::ok_json("Gli anni con versamenti, dal più recente", json!({ "type": "object" })),
                "422": err("codice_fiscale_non_valido") }
        }))},
        "/tributi/tariffe-tari": {
            "get": staff(json!({
                "operationId": "getTariffeTari",
                "summary": "Tariffe TARI deliberate dal Comune, per anno (ufficio tributi)",
                "responses": { "200": crate::api::openapi::ok_json("Le tariffe, dall'anno più recente", json!({ "type": "array", "items": tariffe })) }
            })),
            "post": staff(json!({
                "operationId": "setTariffeTari",
                "summary": "Inserisce o corregge le tariffe TARI di un anno con la delibera (L. 147/2013 c. 683, DPR 158/1999); registrato nel ledger",
                "requestBody": { "required": true, "content": { "application/json": { "schema": tariffe } } },
                "responses": { "200": crate::api::openapi::ok_json("Le tariffe salvate", tariffe.clone()),
                    "422": err("delibera_mancante, anno_non_valido, tributi_tariffe_tari, richiesta_non_valida") }
            }))
        }
    });
    let schemas = json!({
        "PosizioneTari": {
            "type": "object",
            "required": ["codice_fiscale", "anno", "delibera", "utenze", "tari", "tefa", "totale", "rate", "pagato", "residuo", "avvisi"],
            "description": "Importi in centesimi",
            "properties": {
                "codice_fiscale": { "type": "string" },
                "anno": { "type": "integer" },
                "delibera": { "type": ["string", "null"] },
                "utenze": { "type": "array", "items": { "type": "object", "description": "Utenza (codice, indirizzo, catasto, tipo con occupanti/categoria e superfici, periodo) con il calcolo e i passaggi" } },
                "tari": { "type": "integer" },
                "tefa": { "type": "integer" },
                "totale": { "type": "integer" },
                "rate": { "type": "array", "items": { "type": "object", "properties": {
                    "numero": { "type": "integer" }, "scadenza": { "type": "string", "format": "date" },
                    "tari": { "type": "integer" }, "tefa": { "type": "integer" } } } },
                "pagato": { "type": "integer" },
                "residuo": { "type": "integer" },
                "avvisi": { "type": "array", "items": { "$ref": "#/components/schemas/AvvisoPagoPa" } }
            }
        },
        "TariffeTari": {
            "type": "object",
            "required": ["anno", "delibera", "domestiche", "non_domestiche", "tefa", "scadenze"],
            "description": "Tariffe in decimillesimi di euro (4460 = 0,4460 €), TEFA e riduzioni in centesimi di punto percentuale (500 = 5%)",
            "properties": {
                "anno": { "type": "integer" },
                "delibera": { "type": "string" },
                "domestiche": { "type": "array", "minItems": 6, "maxItems": 6,
                    "description": "Per 1, 2, 3, 4, 5, 6 o più occupanti: [quota fissa al m², quota variabile per utenza]",
                    "items": { "type": "array", "items": { "type": "integer" } } },
                "non_domestiche": { "type": "array",
                    "description": "[categoria, descrizione, quota fissa al m², quota variabile al m²]",
                    "items": { "type": "array" } },
                "tefa": { "type": "integer", "maximum": 500 },
                "scadenze": { "type": "array", "items": { "type": "string", "format": "date" } },
                "riduzioni": { "type": "array", "items": { "type": "object",
                    "required": ["codice", "descrizione", "fissa", "variabile"],
                    "properties": { "codice": { "type": "string" }, "descrizione": { "type": "string" },
                        "fissa": { "type": "integer" }, "variabile": { "type": "integer" } } } },
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
