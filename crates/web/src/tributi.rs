//! Local taxes on the web (issue 7, part 7): the IMU position of a
//! taxpayer for a year, with the F24 lines, the due dates and the working
//! of every unit ("come è calcolato"), and the pre-filled F24 semplificato.
//!
//! - `GET /area-personale/tributi[?anno=AAAA]`: the citizen's own page;
//!   `GET /area-personale/tributi/imu/{anno}/f24/{versamento}` its F24.
//! - `GET /backoffice/tributi[?cf=…&anno=AAAA]`: the tributi office's
//!   search of a taxpayer, the same view; `GET /backoffice/tributi/f24`
//!   (`cf`, `anno`, `versamento`) the F24.
//! - API (`/api/v1`): `GET /tributi/imu/{anno}` (own),
//!   `GET /tributi/contribuenti/{cf}/imu/{anno}` (office),
//!   `GET|POST /tributi/aliquote-imu` (office: the rates with their
//!   delibera).
//!
//! Every computation is [`palazzo_services::App::imu_position`]'s: the
//! page, the API, the CLI and the F24 show the same figures.

use askama::Template;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::f24::Versamento;
use palazzo_domain::tributi::imu::{self, Aliquote, CalcoloImu};
use palazzo_services::ServiceError;
use palazzo_services::tributi::PosizioneImu;
use palazzo_store::{AliquoteImuRecord, Tenant};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::staff::ApiAuth;
use crate::auth::Auth;
use crate::auth::pages::{needs, page};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

/// The citizen's page.
pub const OWN_PATH: &str = "/area-personale/tributi";
/// The office's page.
pub const OFFICE_PATH: &str = "/backoffice/tributi";

/// The page routes.
pub fn router() -> Routes {
    let own = Access::Needs(Permission::OwnProfile);
    let office = Access::Needs(Permission::ManageTaxes);
    Routes::new()
        .get(OWN_PATH, own, own_page)
        .get(
            "/area-personale/tributi/imu/{anno}/f24/{versamento}",
            own,
            own_f24,
        )
        .post(
            "/area-personale/tributi/imu/{anno}/avviso/{versamento}",
            own,
            own_avviso,
        )
        .get(OFFICE_PATH, office, office_page)
        .get("/backoffice/tributi/f24", office, office_f24)
        .post("/backoffice/tributi/avviso", office, office_avviso)
        .post(
            "/backoffice/tributi/avvisi/{codice}/pagamento",
            office,
            office_payment_page,
        )
}

/// The anonymous IMU calculator (public).
pub const CALCULATOR_PATH: &str = "/servizi/calcolo-imu";

/// The public routes.
pub fn public_router() -> Routes {
    Routes::new().get(CALCULATOR_PATH, Access::Public, calculator_page)
}

/// The API routes, relative to `/api/v1`.
pub fn api_router() -> Routes {
    let own = Access::Needs(Permission::OwnProfile);
    let office = Access::Needs(Permission::ManageTaxes);
    Routes::new()
        .get("/tributi/imu/{anno}", own, api_own)
        .get("/tributi/contribuenti/{cf}/imu/{anno}", office, api_office)
        .get("/tributi/aliquote-imu", office, api_rates)
        .post("/tributi/aliquote-imu", office, api_set_rates)
        .post("/tributi/avvisi/{codice}/pagamento", office, api_payment)
}

fn bad_year() -> ServiceError {
    ServiceError::refused(
        "anno_non_valido",
        "L'anno indicato non è valido: scrivilo con quattro cifre, per esempio 2026.",
    )
}

/// A year as typed: four digits.
pub(crate) fn parse_year(s: &str) -> Result<i16, ServiceError> {
    let s = s.trim();
    match s.parse::<i16>() {
        Ok(y) if s.len() == 4 && y >= 1000 => Ok(y),
        _ => Err(bad_year()),
    }
}

pub(crate) fn parse_cf(s: &str) -> Result<CodiceFiscale, ServiceError> {
    CodiceFiscale::parse(s.trim()).map_err(|_| {
        ServiceError::refused(
            "codice_fiscale_non_valido",
            format!("Il codice fiscale «{}» non è valido.", s.trim()),
        )
    })
}

fn parse_versamento(s: &str) -> Result<Versamento, ServiceError> {
    Versamento::parse(s).ok_or_else(|| {
        ServiceError::refused(
            "versamento_non_valido",
            "Il versamento deve essere acconto, saldo oppure unica.",
        )
    })
}

/// This year, in Rome.
fn this_year() -> i16 {
    rome_date(jiff::Timestamp::now()).year()
}

fn day(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

/// The query of the pages: all text, checked here for an Italian error.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    anno: Option<String>,
    cf: Option<String>,
    versamento: Option<String>,
}

fn query(q: Result<Query<PageQuery>, QueryRejection>) -> Result<PageQuery, ServiceError> {
    q.map(|Query(q)| q).map_err(|_| bad_year())
}

fn year_of(q: &PageQuery) -> Result<i16, ServiceError> {
    match q.anno.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(this_year()),
        Some(s) => parse_year(s),
    }
}

/// One F24 line as the page shows it.
struct RigaRow {
    codice: &'static str,
    label: &'static str,
    immobili: u16,
    annuo: String,
    detrazione: Option<String>,
    acconto: String,
    saldo: String,
    unica: String,
}

/// One unit as the page shows it.
struct ImmobileRow {
    descrizione: String,
    imposta: String,
    esenzione: Option<String>,
    passaggi: Vec<String>,
}

#[derive(Template)]
#[template(path = "tributi/imu.html")]
struct ImuTemplate<'a> {
    shell: Shell<'a>,
    nav: Vec<crate::area_personale::NavItem>,
    /// The office's view (with the taxpayer search).
    office: bool,
    /// The taxpayer asked for (office), as typed.
    cf: String,
    anno: i16,
    anni: Vec<(i16, bool)>,
    /// Nothing to show yet (the office before a search).
    position: Option<PositionView>,
    /// The TARI of the same taxpayer and year.
    tari: Option<crate::tari::TariView>,
    /// The canone unico of the same taxpayer and year.
    canone: Option<crate::canone::CanoneView>,
    /// The taxpayer's TASI years (2014-2019) with payments.
    tasi: Vec<crate::tari::TasiRow>,
    /// The office's view: every live pagoPA notice of the year, to record
    /// a receipt.
    avvisi_ufficio: Vec<AvvisoUfficioRow>,
    error: Option<String>,
    csrf: String,
}

/// A notice as the office's list shows it.
struct AvvisoUfficioRow {
    /// `IMU 2026 - acconto`…
    descrizione: String,
    /// The 18 digits (the form's path).
    codice: String,
    /// In groups, as printed.
    stampato: String,
    importo: String,
    scadenza: String,
    /// `Pagato il …` or `Da pagare`.
    stato: String,
    /// Still to pay: the receipt can be recorded.
    emesso: bool,
}

impl AvvisoUfficioRow {
    fn of(a: &palazzo_store::Avviso) -> AvvisoUfficioRow {
        let d = &a.data;
        let tributo = if d.tributo == palazzo_services::canone::TRIBUTO_CANONE {
            "Canone unico"
        } else {
            d.tributo.as_str()
        };
        AvvisoUfficioRow {
            descrizione: format!("{tributo} {} – {}", d.anno, d.versamento.replace('-', " ")),
            codice: a.codice_avviso.to_string(),
            stampato: a.codice_avviso.printed(),
            importo: d.importo.to_string(),
            scadenza: day(d.scadenza),
            stato: match a.pagato_il {
                Some(t) if a.stato == palazzo_store::StatoAvviso::Pagato => {
                    format!("Pagato il {}", day(rome_date(t)))
                }
                _ => "Da pagare".to_owned(),
            },
            emesso: a.stato == palazzo_store::StatoAvviso::Emesso,
        }
    }
}

struct PositionView {
    cf: String,
    delibera: String,
    delibera_acconto: String,
    aliquote_di_base: bool,
    righe: Vec<RigaRow>,
    immobili: Vec<ImmobileRow>,
    acconto: String,
    saldo: String,
    unica: String,
    scadenza_acconto: String,
    scadenza_saldo: String,
    sotto_minimo: bool,
    note: Vec<String>,
    /// The payments of the year, with their F24 and pagoPA notice.
    pagamenti: Vec<PagamentoRow>,
    /// What was paid and what is past due (not for the calculator).
    situazione: Option<crate::tari::SituazioneView>,
}

/// One payment of the year as the page offers it.
struct PagamentoRow {
    label: &'static str,
    versamento: &'static str,
    importo: String,
    scadenza: String,
    /// The F24's address.
    f24: String,
    /// The notice issued for it, if any: its printed code.
    avviso: Option<String>,
    /// Paid: when.
    pagato_il: Option<String>,
    /// Covered by the payments received (F24 flows).
    saldato: bool,
    /// A pagoPA notice can be asked for (not past due, not paid).
    pagabile: bool,
}

fn money(c: Cents) -> String {
    c.to_string()
}

/// What the page shows of a computation: `cf` (empty for the calculator),
/// the notices already issued, the F24 links.
fn view(
    cf: &str,
    c: &CalcoloImu,
    aliquote_di_base: bool,
    avvisi: &[palazzo_store::Avviso],
    situazione: Option<&palazzo_domain::tributi::situazione::Situazione>,
    f24_href: impl Fn(Versamento) -> String,
) -> PositionView {
    // An instalment the payments received cover (`Acconto`, `Saldo`; the
    // whole year for the single payment).
    let covered = |v: Versamento| {
        situazione.is_some_and(|s| match v {
            Versamento::UnicaSoluzione => s.residuo == Cents::ZERO && s.pagato > Cents::ZERO,
            _ => s.rate.iter().any(|r| {
                r.dovuto.etichetta == v.label()
                    && r.residuo == Cents::ZERO
                    && r.pagato > Cents::ZERO
            }),
        })
    };
    let (acc, sal) = imu::scadenze(c.anno);
    let unica = Cents::from_cents(c.righe.iter().map(|r| r.unica_soluzione.cents()).sum());
    let today = rome_date(jiff::Timestamp::now());
    // One payment or acconto and saldo, never both ways (c.762).
    let split = avvisi.iter().any(|a| a.data.versamento != "unica");
    let single = avvisi.iter().any(|a| a.data.versamento == "unica");
    let pagamenti = if c.sotto_minimo {
        Vec::new()
    } else {
        [
            (Versamento::Acconto, c.acconto, acc),
            (Versamento::Saldo, c.saldo, sal),
            (Versamento::UnicaSoluzione, unica, acc),
        ]
        .into_iter()
        .filter(|(_, amount, _)| *amount > Cents::ZERO)
        .map(|(v, amount, due)| {
            let code = versamento_code(v);
            let avviso = avvisi.iter().find(|a| a.data.versamento == code);
            let pagato_il = avviso.and_then(|a| a.pagato_il).map(|t| day(rome_date(t)));
            let saldato = pagato_il.is_none() && covered(v);
            PagamentoRow {
                saldato,
                label: v.label(),
                versamento: code,
                importo: money(amount),
                scadenza: day(due),
                f24: f24_href(v),
                avviso: avviso.map(|a| a.codice_avviso.printed()),
                pagabile: pagato_il.is_none()
                    && !saldato
                    && due >= today
                    && !(v == Versamento::UnicaSoluzione && split)
                    && !(v != Versamento::UnicaSoluzione && single),
                pagato_il,
            }
        })
        .collect()
    };
    PositionView {
        cf: cf.to_owned(),
        delibera: c.delibera.clone(),
        delibera_acconto: c.delibera_acconto.clone(),
        aliquote_di_base,
        righe: c
            .righe
            .iter()
            .map(|r| RigaRow {
                codice: r.codice.code(),
                label: r.codice.label(),
                immobili: r.numero_immobili,
                annuo: money(r.annuo),
                detrazione: (r.detrazione > Cents::ZERO).then(|| money(r.detrazione)),
                acconto: money(r.acconto),
                saldo: money(r.saldo),
                unica: money(r.unica_soluzione),
            })
            .collect(),
        immobili: c
            .immobili
            .iter()
            .map(|i| ImmobileRow {
                descrizione: i.descrizione.clone(),
                imposta: money(i.imposta),
                esenzione: i.esenzione.clone(),
                passaggi: i.passaggi.clone(),
            })
            .collect(),
        acconto: money(c.acconto),
        saldo: money(c.saldo),
        unica: money(unica),
        scadenza_acconto: day(acc),
        scadenza_saldo: day(sal),
        sotto_minimo: c.sotto_minimo,
        note: c.note.clone(),
        pagamenti,
        situazione: situazione.map(crate::tari::SituazioneView::of),
    }
}

/// [`view`] of a taxpayer's position.
fn position_view(p: &PosizioneImu, f24_href: impl Fn(Versamento) -> String) -> PositionView {
    view(
        p.codice_fiscale.as_str(),
        &p.calcolo,
        p.aliquote_di_base,
        &p.avvisi,
        Some(&p.situazione),
        f24_href,
    )
}

fn years(anno: i16) -> Vec<(i16, bool)> {
    let last = this_year().max(anno);
    (2020..=last).rev().map(|y| (y, y == anno)).collect()
}

fn render(tpl: &ImuTemplate<'_>, status: StatusCode) -> Result<Response, ServiceError> {
    let html = tpl
        .render()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(page(html, status))
}

async fn own_view(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::OwnProfile)?;
    let title = "Tributi";
    let mut shell = Shell::new(t, title);
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::here(title),
    ];
    let mut tpl = ImuTemplate {
        shell,
        nav: crate::area_personale::nav(OWN_PATH),
        office: false,
        cf: String::new(),
        anno: this_year(),
        anni: years(this_year()),
        position: None,
        tari: None,
        canone: None,
        tasi: Vec::new(),
        avvisi_ufficio: Vec::new(),
        error: None,
        csrf: auth.csrf().to_owned(),
    };
    let anno = match query(q).and_then(|q| year_of(&q)) {
        Ok(a) => a,
        Err(e) => {
            tpl.error = Some(e.message_it());
            return render(&tpl, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    tpl.anno = anno;
    tpl.anni = years(anno);
    match state.app().visura(t.id, &auth.actor, None, anno).await {
        Ok(v) => {
            fill(&mut tpl, v, |v| {
                format!("{OWN_PATH}/imu/{anno}/f24/{}", versamento_code(v))
            })?;
            render(&tpl, StatusCode::OK)
        }
        Err(ServiceError::Invalid { message, .. }) => {
            tpl.error = Some(message);
            render(&tpl, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

use palazzo_services::avvisi::versamento_code;

/// Puts a visura on the page: the IMU with its F24 links (`f24_href`),
/// the TARI and the canone — or why each cannot be shown, the IMU being
/// shown all the same — and the TASI years.
fn fill(
    tpl: &mut ImuTemplate<'_>,
    v: palazzo_services::tributi::Visura,
    f24_href: impl Fn(Versamento) -> String,
) -> Result<(), ServiceError> {
    let shown = v.codice_fiscale.as_str();
    if tpl.office {
        let mut avvisi: Vec<&palazzo_store::Avviso> = v.imu.avvisi.iter().collect();
        if let Ok(p) = &v.tari {
            avvisi.extend(&p.avvisi);
        }
        if let Ok(p) = &v.canone {
            avvisi.extend(&p.avvisi);
        }
        tpl.avvisi_ufficio = avvisi.into_iter().map(AvvisoUfficioRow::of).collect();
    }
    tpl.tari = Some(match v.tari {
        Ok(p) => crate::tari::TariView::of(&p),
        Err(ServiceError::Invalid { message, .. }) => crate::tari::TariView::error(shown, message),
        Err(e) => return Err(e),
    });
    tpl.canone = Some(match v.canone {
        Ok(p) => crate::canone::CanoneView::of(&p),
        Err(ServiceError::Invalid { message, .. }) => {
            crate::canone::CanoneView::error(shown, message)
        }
        Err(e) => return Err(e),
    });
    tpl.tasi = v.tasi.iter().map(crate::tari::TasiRow::of).collect();
    tpl.position = Some(position_view(&v.imu, f24_href));
    Ok(())
}

/// Handles `GET /area-personale/tributi`.
async fn own_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    own_view(&state, &t, &auth, q)
        .await
        .unwrap_or_else(|e| needs(OWN_PATH, e))
}

fn f24_name(cf: &CodiceFiscale, anno: i16, v: Versamento) -> String {
    format!("f24-imu-{anno}-{}-{}.pdf", versamento_code(v), cf.as_str())
}

/// The year and payment of an own document's path, for a citizen.
fn own_payment(
    auth: &Auth,
    anno: &str,
    versamento: &str,
) -> Result<(i16, Versamento), ServiceError> {
    auth.actor.require(Permission::OwnProfile)?;
    Ok((parse_year(anno)?, parse_versamento(versamento)?))
}

/// The taxpayer, year and payment of an office request.
fn office_payment(
    auth: &Auth,
    cf: &str,
    anno: &str,
    versamento: &str,
) -> Result<(CodiceFiscale, i16, Versamento), ServiceError> {
    auth.actor.require(Permission::ManageTaxes)?;
    Ok((
        parse_cf(cf)?,
        parse_year(anno)?,
        parse_versamento(versamento)?,
    ))
}

/// Handles `GET /area-personale/tributi/imu/{anno}/f24/{versamento}`.
async fn own_f24(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((anno, versamento)): Path<(String, String)>,
) -> Response {
    let run = async {
        let (anno, v) = own_payment(&auth, &anno, &versamento)?;
        let f = state
            .app()
            .imu_f24(t.id, &auth.actor, None, anno, v)
            .await?;
        Ok::<_, ServiceError>(crate::upload::pdf_download(
            f.pdf,
            &f24_name(&f.codice_fiscale, anno, v),
        ))
    };
    run.await.unwrap_or_else(|e| needs(OWN_PATH, e))
}

async fn office_view(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::ManageTaxes)?;
    let title = "Tributi: posizione del contribuente";
    let mut shell = Shell::new(t, title);
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area del personale", "/backoffice"),
        Crumb::here("Tributi"),
    ];
    let mut tpl = ImuTemplate {
        shell,
        nav: Vec::new(),
        office: true,
        cf: String::new(),
        anno: this_year(),
        anni: years(this_year()),
        position: None,
        tari: None,
        canone: None,
        tasi: Vec::new(),
        avvisi_ufficio: Vec::new(),
        error: None,
        csrf: auth.csrf().to_owned(),
    };
    let q = match query(q) {
        Ok(q) => q,
        Err(e) => {
            tpl.error = Some(e.message_it());
            return render(&tpl, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    tpl.cf = q.cf.clone().unwrap_or_default();
    let asked = q.cf.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let result = async {
        let anno = year_of(&q)?;
        let Some(cf) = asked else {
            return Ok((anno, None));
        };
        let cf = parse_cf(cf)?;
        let v = state
            .app()
            .visura(t.id, &auth.actor, Some(&cf), anno)
            .await?;
        Ok::<_, ServiceError>((anno, Some(v)))
    }
    .await;
    match result {
        Ok((anno, v)) => {
            tpl.anno = anno;
            tpl.anni = years(anno);
            if let Some(v) = v {
                let cf = v.codice_fiscale.as_str().to_owned();
                fill(&mut tpl, v, |x| {
                    format!(
                        "{OFFICE_PATH}/f24?cf={cf}&anno={anno}&versamento={}",
                        versamento_code(x)
                    )
                })?;
            }
            render(&tpl, StatusCode::OK)
        }
        Err(ServiceError::Invalid { message, .. }) => {
            tpl.error = Some(message);
            render(&tpl, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

fn avviso_name(codice: &palazzo_domain::pagopa::CodiceAvviso) -> String {
    format!("avviso-pagopa-{codice}.pdf")
}

/// Handles `POST /area-personale/tributi/imu/{anno}/avviso/{versamento}`:
/// the pagoPA notice of the payment (issued on first request), as a PDF.
async fn own_avviso(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((anno, versamento)): Path<(String, String)>,
) -> Response {
    let run = async {
        let (anno, v) = own_payment(&auth, &anno, &versamento)?;
        let file = state
            .app()
            .imu_avviso(t.id, &auth.actor, None, anno, v)
            .await?;
        Ok::<_, ServiceError>(crate::upload::pdf_download(
            file.pdf,
            &avviso_name(&file.avviso.codice_avviso),
        ))
    };
    run.await.unwrap_or_else(|e| needs(OWN_PATH, e))
}

/// The office's notice request.
#[derive(Debug, Default, Deserialize)]
struct AvvisoForm {
    #[serde(default)]
    cf: String,
    #[serde(default)]
    anno: String,
    #[serde(default)]
    versamento: String,
}

/// Handles `POST /backoffice/tributi/avviso` (`cf`, `anno`, `versamento`).
async fn office_avviso(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    form: Result<axum::Form<AvvisoForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let axum::Form(f) = form.map_err(|_| bad_year())?;
        let (cf, anno, v) = office_payment(&auth, &f.cf, &f.anno, &f.versamento)?;
        let file = state
            .app()
            .imu_avviso(t.id, &auth.actor, Some(&cf), anno, v)
            .await?;
        Ok::<_, ServiceError>(crate::upload::pdf_download(
            file.pdf,
            &avviso_name(&file.avviso.codice_avviso),
        ))
    };
    run.await.unwrap_or_else(|e| needs(OFFICE_PATH, e))
}

/// Handles `GET /backoffice/tributi`.
async fn office_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    office_view(&state, &t, &auth, q)
        .await
        .unwrap_or_else(|e| needs(OFFICE_PATH, e))
}

/// Handles `GET /backoffice/tributi/f24?cf=…&anno=…&versamento=…`.
async fn office_f24(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let q = query(q)?;
        let (cf, anno, v) = office_payment(
            &auth,
            q.cf.as_deref().unwrap_or_default(),
            q.anno.as_deref().unwrap_or_default(),
            q.versamento.as_deref().unwrap_or_default(),
        )?;
        let f = state
            .app()
            .imu_f24(t.id, &auth.actor, Some(&cf), anno, v)
            .await?;
        Ok::<_, ServiceError>(crate::upload::pdf_download(f.pdf, &f24_name(&cf, anno, v)))
    };
    run.await.unwrap_or_else(|e| needs(OFFICE_PATH, e))
}

/// A taxpayer's IMU of a year, as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PosizioneImuDto {
    /// The taxpayer.
    pub codice_fiscale: String,
    /// The year.
    pub anno: i16,
    /// The comune has not entered the year's rates: the law's base rates
    /// were used.
    pub aliquote_di_base: bool,
    /// Due date of the acconto (16 June, or the next working day).
    pub scadenza_acconto: String,
    /// Due date of the saldo (16 December, or the next working day).
    pub scadenza_saldo: String,
    /// The computation: the lines (amounts in cents), the units with
    /// their working, the notes.
    pub calcolo: CalcoloImu,
}

impl PosizioneImuDto {
    /// The DTO of a position.
    #[must_use]
    pub fn of(p: PosizioneImu) -> Self {
        let (acc, sal) = imu::scadenze(p.anno);
        PosizioneImuDto {
            codice_fiscale: p.codice_fiscale.as_str().to_owned(),
            anno: p.anno,
            aliquote_di_base: p.aliquote_di_base,
            scadenza_acconto: acc.to_string(),
            scadenza_saldo: sal.to_string(),
            calcolo: p.calcolo,
        }
    }
}

/// Handles `GET /api/v1/tributi/imu/{anno}`: the caller's own IMU.
async fn api_own(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(anno): Path<String>,
) -> Result<Json<PosizioneImuDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let anno = parse_year(&anno)?;
    let p = state.app().imu_position(t.id, &actor, None, anno).await?;
    Ok(Json(PosizioneImuDto::of(p)))
}

/// Handles `GET /api/v1/tributi/contribuenti/{cf}/imu/{anno}`.
async fn api_office(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((cf, anno)): Path<(String, String)>,
) -> Result<Json<PosizioneImuDto>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let cf = parse_cf(&cf)?;
    let anno = parse_year(&anno)?;
    let p = state
        .app()
        .imu_position(t.id, &actor, Some(&cf), anno)
        .await?;
    Ok(Json(PosizioneImuDto::of(p)))
}

/// The rates of a year as the API reads and writes them: rates in
/// hundredths of per mille (`1060` = 10,6‰), amounts in cents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AliquoteImuDto {
    /// The rates.
    #[serde(flatten)]
    pub aliquote: Aliquote,
    /// Last change (RFC 3339), in answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggiornate_il: Option<String>,
    /// Who changed them last, in answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggiornate_da: Option<String>,
}

impl AliquoteImuDto {
    fn of(r: AliquoteImuRecord) -> Self {
        AliquoteImuDto {
            aliquote: r.aliquote,
            aggiornate_il: Some(r.updated_at.to_string()),
            aggiornate_da: Some(r.updated_by),
        }
    }
}

/// Handles `GET /api/v1/tributi/aliquote-imu`: every year, newest first.
async fn api_rates(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<AliquoteImuDto>>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let rows = state.app().imu_rates(t.id, &actor).await?;
    Ok(Json(rows.into_iter().map(AliquoteImuDto::of).collect()))
}

/// Handles `POST /api/v1/tributi/aliquote-imu`: enters or corrects the
/// rates of the year in the body (200 with the saved rates).
async fn api_set_rates(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<AliquoteImuDto>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let Json(body) = crate::api::json_body(body)?;
    let saved = state
        .app()
        .set_imu_rates(t.id, &actor, body.aliquote)
        .await?;
    Ok((StatusCode::OK, Json(AliquoteImuDto::of(saved))).into_response())
}

/// A payment the tributi office records.
#[derive(Debug, Clone, Deserialize)]
pub struct PagamentoBody {
    /// The receipt (pagoPA's idReceipt, the bank transfer's CRO…).
    pub ricevuta: String,
    /// When it was paid (RFC 3339); now when absent.
    #[serde(default)]
    pub pagato_il: Option<String>,
}

/// A notice as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AvvisoDto {
    /// The codice avviso (18 digits).
    pub codice_avviso: String,
    /// The taxpayer.
    pub codice_fiscale: String,
    /// `IMU`…
    pub tributo: String,
    /// The year.
    pub anno: i16,
    /// `acconto`, `saldo`, `unica`.
    pub versamento: String,
    /// Cents.
    pub importo: i64,
    /// The due date.
    pub scadenza: String,
    /// `emesso`, `pagato`, `annullato`.
    pub stato: String,
    /// When it was paid.
    pub pagato_il: Option<String>,
    /// The payment's receipt.
    pub ricevuta: Option<String>,
}

impl AvvisoDto {
    /// The DTO of a notice.
    #[must_use]
    pub fn of(a: &palazzo_store::Avviso) -> Self {
        AvvisoDto {
            codice_avviso: a.codice_avviso.to_string(),
            codice_fiscale: a.data.codice_fiscale.as_str().to_owned(),
            tributo: a.data.tributo.clone(),
            anno: a.data.anno,
            versamento: a.data.versamento.clone(),
            importo: a.data.importo.cents(),
            scadenza: a.data.scadenza.to_string(),
            stato: a.stato.code().to_owned(),
            pagato_il: a.pagato_il.map(|t| t.to_string()),
            ricevuta: a.ricevuta.clone(),
        }
    }
}

/// Handles `POST /api/v1/tributi/avvisi/{codice}/pagamento`: records the
/// payment of a notice (one ledger event; the same receipt again, none).
async fn api_payment(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(codice): Path<String>,
    body: Result<Json<PagamentoBody>, JsonRejection>,
) -> Result<Json<AvvisoDto>, WebError> {
    actor.require(Permission::ManageTaxes)?;
    let Json(body) = crate::api::json_body(body)?;
    let (codice, ricevuta) = payment_input(&codice, &body.ricevuta)?;
    let when = match body.pagato_il.as_deref() {
        None => jiff::Timestamp::now(),
        Some(s) => s.parse().map_err(|_| {
            WebError::from(ServiceError::refused(
                "data_non_valida",
                "La data del pagamento non è valida (RFC 3339, ad esempio 2026-06-10T09:30:00Z).",
            ))
        })?,
    };
    let a = state
        .app()
        .record_avviso_payment(t.id, &actor, &codice, when, ricevuta)
        .await?;
    Ok(Json(AvvisoDto::of(&a)))
}

/// A receipt's notice and reference, checked: 18 digits with valid check
/// digits; a reference of 1 to 64 characters.
fn payment_input<'a>(
    codice: &str,
    ricevuta: &'a str,
) -> Result<(palazzo_domain::pagopa::CodiceAvviso, &'a str), ServiceError> {
    let codice = palazzo_domain::pagopa::CodiceAvviso::parse(codice).map_err(|_| {
        ServiceError::refused(
            "codice_avviso_non_valido",
            "Il codice avviso non è valido: 18 cifre con le cifre di controllo.",
        )
    })?;
    let ricevuta = ricevuta.trim();
    if ricevuta.is_empty() || ricevuta.len() > 64 {
        return Err(ServiceError::refused(
            "ricevuta_non_valida",
            "Indica il riferimento della ricevuta (al massimo 64 caratteri).",
        ));
    }
    Ok((codice, ricevuta))
}

/// The office's record of a receipt, from the taxpayer's page.
#[derive(Debug, Default, Deserialize)]
struct PaymentForm {
    #[serde(default)]
    cf: String,
    #[serde(default)]
    anno: String,
    #[serde(default)]
    ricevuta: String,
    /// The day it was paid (`gg/mm/aaaa` or `aaaa-mm-gg`); empty: today.
    #[serde(default)]
    data: String,
}

/// Handles `POST /backoffice/tributi/avvisi/{codice}/pagamento`: records
/// the receipt of a notice (a payment the office learnt of outside GPD)
/// and goes back to the taxpayer's page.
async fn office_payment_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(codice): Path<String>,
    form: Result<axum::Form<PaymentForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let axum::Form(f) = form.map_err(|_| {
            ServiceError::refused("richiesta_non_valida", "Il modulo inviato non è valido.")
        })?;
        let cf = parse_cf(&f.cf)?;
        let anno = parse_year(&f.anno)?;
        let (codice, ricevuta) = payment_input(&codice, &f.ricevuta)?;
        let now = jiff::Timestamp::now();
        let when = match f.data.trim() {
            "" => now,
            d => palazzo_domain::csv::parse_date(d)
                .and_then(|d| {
                    d.at(12, 0, 0, 0)
                        .to_zoned(palazzo_domain::calendar::rome_time_zone())
                        .ok()
                })
                .map(|z| z.timestamp())
                .filter(|t| rome_date(*t) <= rome_date(now))
                .ok_or_else(|| {
                    ServiceError::refused(
                        "data_non_valida",
                        "La data del pagamento non è valida (gg/mm/aaaa, non futura).",
                    )
                })?,
        };
        state
            .app()
            .record_avviso_payment(t.id, &auth.actor, &codice, when, ricevuta)
            .await?;
        Ok::<_, ServiceError>(
            axum::response::Redirect::to(&format!(
                "{OFFICE_PATH}?cf={}&anno={anno}#avvisi-ufficio",
                cf.as_str()
            ))
            .into_response(),
        )
    };
    run.await.unwrap_or_else(|e| needs(OFFICE_PATH, e))
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
        "La posizione IMU con il calcolo",
        json!({ "$ref": "#/components/schemas/PosizioneImu" }),
    );
    let rates = json!({ "$ref": "#/components/schemas/AliquoteImu" });
    let staff = crate::api::openapi::staff;
    let err = crate::api::openapi::error_response;
    let paths = json!({
        "/tributi/imu/{anno}": { "get": staff(json!({
            "operationId": "getMiaPosizioneImu",
            "summary": "IMU dell'anno del cittadino autenticato (acconto, saldo, righe F24, calcolo per immobile)",
            "parameters": [anno],
            "responses": { "200": position,
                "422": err("anno_non_valido, tributi_anno, codice_fiscale_assente") }
        }))},
        "/tributi/contribuenti/{cf}/imu/{anno}": { "get": staff(json!({
            "operationId": "getPosizioneImuContribuente",
            "summary": "IMU dell'anno di un contribuente (ufficio tributi)",
            "parameters": [
                { "name": "cf", "in": "path", "required": true, "schema": { "type": "string" } },
                anno
            ],
            "responses": { "200": position,
                "422": err("codice_fiscale_non_valido, anno_non_valido, tributi_anno") }
        }))},
        "/tributi/aliquote-imu": {
            "get": staff(json!({
                "operationId": "getAliquoteImu",
                "summary": "Aliquote IMU deliberate dal Comune, per anno (ufficio tributi)",
                "responses": { "200": crate::api::openapi::ok_json("Le aliquote, dall'anno più recente", json!({ "type": "array", "items": rates })) }
            })),
            "post": staff(json!({
                "operationId": "setAliquoteImu",
                "summary": "Inserisce o corregge le aliquote IMU di un anno con la delibera (L. 160/2019 cc. 748-755); registrato nel ledger",
                "requestBody": { "required": true, "content": { "application/json": { "schema": rates } } },
                "responses": { "200": crate::api::openapi::ok_json("Le aliquote salvate", rates.clone()),
                    "422": err("delibera_mancante, tributi_aliquota_fuori_range, tributi_anno, richiesta_non_valida") }
            }))
        },
        "/tributi/avvisi/{codice}/pagamento": { "post": staff(json!({
            "operationId": "registraPagamentoAvviso",
            "summary": "Registra il pagamento di un avviso pagoPA (ricevuta, data); registrato nel ledger",
            "parameters": [{ "name": "codice", "in": "path", "required": true,
                "schema": { "type": "string", "pattern": "^[0-9]{18}$" } }],
            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                "type": "object", "required": ["ricevuta"],
                "properties": { "ricevuta": { "type": "string" }, "pagato_il": { "type": "string", "format": "date-time" } }
            } } } },
            "responses": { "200": crate::api::openapi::ok_json("L'avviso pagato", json!({ "$ref": "#/components/schemas/AvvisoPagoPa" })),
                "404": err("not_found"),
                "422": err("codice_avviso_non_valido, ricevuta_non_valida, data_non_valida, avviso_annullato, avviso_gia_pagato") }
        }))}
    });
    let schemas = json!({
        "PosizioneImu": {
            "type": "object",
            "required": ["codice_fiscale", "anno", "aliquote_di_base", "scadenza_acconto", "scadenza_saldo", "calcolo"],
            "properties": {
                "codice_fiscale": { "type": "string" },
                "anno": { "type": "integer" },
                "aliquote_di_base": { "type": "boolean" },
                "scadenza_acconto": { "type": "string", "format": "date" },
                "scadenza_saldo": { "type": "string", "format": "date" },
                "calcolo": { "type": "object", "description": "Righe F24 (importi in centesimi, codici tributo), immobili con i passaggi del calcolo, note" }
            }
        },
        "AvvisoPagoPa": {
            "type": "object",
            "required": ["codice_avviso", "codice_fiscale", "tributo", "anno", "versamento", "importo", "scadenza", "stato"],
            "properties": {
                "codice_avviso": { "type": "string" },
                "codice_fiscale": { "type": "string" },
                "tributo": { "type": "string" },
                "anno": { "type": "integer" },
                "versamento": { "type": "string" },
                "importo": { "type": "integer", "description": "Centesimi" },
                "scadenza": { "type": "string", "format": "date" },
                "stato": { "type": "string", "enum": ["emesso", "pagato", "annullato"] },
                "pagato_il": { "type": ["string", "null"], "format": "date-time" },
                "ricevuta": { "type": ["string", "null"] }
            }
        },
        "AliquoteImu": {
            "type": "object",
            "required": ["anno", "delibera", "abitazione_principale", "detrazione", "rurali_strumentali", "beni_merce", "terreni", "gruppo_d", "altri_fabbricati", "aree_fabbricabili", "maggiorazione_ex_tasi", "versamento_minimo"],
            "description": "Aliquote in centesimi di per mille (1060 = 10,6‰), importi in centesimi",
            "properties": {
                "anno": { "type": "integer" },
                "delibera": { "type": "string" },
                "abitazione_principale": { "type": "integer" },
                "detrazione": { "type": "integer" },
                "rurali_strumentali": { "type": "integer" },
                "beni_merce": { "type": "integer" },
                "terreni": { "type": "integer" },
                "gruppo_d": { "type": "integer" },
                "altri_fabbricati": { "type": "integer" },
                "aree_fabbricabili": { "type": "integer" },
                "maggiorazione_ex_tasi": { "type": "boolean" },
                "versamento_minimo": { "type": "integer" },
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

/// The calculator's form, all text (checked here for Italian errors).
#[derive(Debug, Default, Deserialize)]
struct CalcoloQuery {
    anno: Option<String>,
    categoria: Option<String>,
    rendita: Option<String>,
    quota: Option<String>,
    mesi: Option<String>,
    condizione: Option<String>,
}

/// The situations the calculator offers: (code, label, condition).
const CONDIZIONI_CALCOLO: [(&str, &str, Option<imu::Condizione>); 6] = [
    ("", "Nessuna (altro fabbricato)", None),
    (
        "abitazione_principale",
        "Abitazione principale (un solo titolare residente)",
        Some(imu::Condizione::AbitazionePrincipale { residenti: 1 }),
    ),
    (
        "canone_concordato",
        "Locato a canone concordato",
        Some(imu::Condizione::CanoneConcordato),
    ),
    (
        "comodato",
        "In comodato a un genitore o a un figlio",
        Some(imu::Condizione::Comodato),
    ),
    (
        "inagibile",
        "Inagibile o inabitabile",
        Some(imu::Condizione::Inagibile),
    ),
    (
        "storico",
        "Di interesse storico o artistico",
        Some(imu::Condizione::Storico),
    ),
];

#[derive(Template)]
#[template(path = "tributi/calcolatore.html")]
struct CalculatorTemplate<'a> {
    shell: Shell<'a>,
    /// The year computed.
    anno: i16,
    /// Never the office's view.
    office: bool,
    /// No form posts from the result.
    csrf: String,
    q: CalcoloForm,
    anni: Vec<(i16, bool)>,
    condizioni: Vec<(&'static str, &'static str, bool)>,
    error: Option<String>,
    result: Option<PositionView>,
}

/// The form as typed, to show it again.
#[derive(Default)]
struct CalcoloForm {
    categoria: String,
    rendita: String,
    quota: String,
    mesi: String,
}

fn parse_calcolo(
    q: &CalcoloQuery,
) -> Result<
    (
        i16,
        imu::Oggetto,
        palazzo_domain::tributi::Quota,
        u8,
        Option<imu::Condizione>,
    ),
    ServiceError,
> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let anno = match text(&q.anno).as_str() {
        "" => this_year(),
        y => parse_year(y)?,
    };
    let categoria =
        imu::Categoria::parse(&text(&q.categoria)).map_err(|e| ServiceError::invalid(&e))?;
    let rendita = Cents::parse_it(&text(&q.rendita))
        .ok()
        .filter(|c| *c > Cents::ZERO)
        .ok_or_else(|| {
            ServiceError::refused(
                "rendita_non_valida",
                "Scrivi la rendita catastale in euro, ad esempio 750,50.",
            )
        })?;
    let quota = match text(&q.quota).as_str() {
        "" => palazzo_domain::tributi::Quota::INTERA,
        s => palazzo_domain::tributi::Quota::parse(s).map_err(|e| ServiceError::invalid(&e))?,
    };
    let mesi = match text(&q.mesi).as_str() {
        "" => 12,
        m => m
            .parse::<u8>()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| {
                ServiceError::refused("mesi_non_validi", "I mesi di possesso vanno da 1 a 12.")
            })?,
    };
    let code = text(&q.condizione);
    let condizione = CONDIZIONI_CALCOLO
        .iter()
        .find(|(c, _, _)| *c == code)
        .ok_or_else(|| {
            ServiceError::refused(
                "condizione_non_valida",
                "Scegli una delle situazioni proposte.",
            )
        })?
        .2;
    Ok((
        anno,
        imu::Oggetto::Fabbricato {
            categoria,
            rendite: vec![imu::Valore {
                dal: palazzo_domain::tributi::import::SEMPRE,
                importo: rendita,
            }],
        },
        quota,
        mesi,
        condizione,
    ))
}

/// Handles `GET /servizi/calcolo-imu`: the form, and with a rendita the
/// computation with its working (nothing is stored).
async fn calculator_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    q: Result<Query<CalcoloQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let title = "Calcolo dell'IMU";
    let mut shell = Shell::new(&t, title);
    shell.nav = crate::portal::shell::Nav::Servizi;
    shell.description =
        "Calcola l'IMU di un fabbricato con le aliquote deliberate dal Comune, senza accedere"
            .into();
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Servizi", "/servizi"),
        Crumb::here(title),
    ];
    let selected = q.condizione.clone().unwrap_or_default();
    let mut tpl = CalculatorTemplate {
        shell,
        anno: this_year(),
        office: false,
        csrf: String::new(),
        q: CalcoloForm {
            categoria: q.categoria.clone().unwrap_or_default(),
            rendita: q.rendita.clone().unwrap_or_default(),
            quota: q.quota.clone().unwrap_or_default(),
            mesi: q.mesi.clone().unwrap_or_default(),
        },
        anni: years(this_year()),
        condizioni: CONDIZIONI_CALCOLO
            .iter()
            .map(|(c, l, _)| (*c, *l, *c == selected))
            .collect(),
        error: None,
        result: None,
    };
    let mut status = StatusCode::OK;
    if q.rendita.as_deref().is_some_and(|r| !r.trim().is_empty()) {
        let computed = async {
            let (anno, oggetto, quota, mesi, condizione) = parse_calcolo(&q)?;
            let (calcolo, di_base) = state
                .app()
                .imu_calculator(t.id, anno, oggetto, quota, mesi, condizione)
                .await?;
            Ok::<_, ServiceError>((anno, calcolo, di_base))
        }
        .await;
        match computed {
            Ok((anno, calcolo, di_base)) => {
                tpl.anni = years(anno);
                tpl.anno = anno;
                let mut v = view("", &calcolo, di_base, &[], None, |_| String::new());
                v.pagamenti.clear();
                tpl.result = Some(v);
            }
            Err(ServiceError::Invalid { message, .. }) => {
                tpl.error = Some(message);
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let html = tpl
        .render()
        .map_err(|e| WebError::from(ServiceError::Internal(e.to_string())))?;
    Ok(page(html, status))
}
