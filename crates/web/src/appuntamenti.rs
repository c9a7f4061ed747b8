//! Appointment booking on the web (issue 6, part 7; C.SI.2.1, C.SE.2.2):
//!
//! - the booking flow at `/prenotazione-appuntamento` (from the "Servizi"
//!   page, the footer, and every service card with `?servizio=<slug>`, which
//!   limits the offices to the competent ones): office → day and time (free
//!   slots only) → topic and reason → your data (pre-filled when signed in)
//!   → summary → confirm. Every step is a plain form: the choices so far
//!   travel as hidden fields of GET forms, and only the confirmation is a
//!   POST with the CSRF token; the service checks everything again, so a
//!   tampered field gets a coded refusal, never a booking;
//! - the booking by its code (`/appuntamenti/{code}`), with cancellation,
//!   and the form to type a code (`/appuntamenti`);
//! - "I miei appuntamenti" in the personal area, with cancellation;
//! - the office agenda of a day (`/backoffice/appuntamenti`), a table whose
//!   actions are buttons (presentato, assente, annulla), and the calendar
//!   editor for the office's managers (`/backoffice/appuntamenti/calendario`).
//!
//! `templates/partials/booking_link.html` is the booking link that form
//! steps include (C.SE.2.2): it reads a `booking_service` field (the
//! service's slug, empty for none) of the including template.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::appuntamenti::{
    BookingDetails, BookingError, CalendarSpec, MAX_REASON_CHARS, RawDetails, WindowSpec,
    parse_date, weekday_label,
};
use palazzo_domain::calendar::{rome_date, rome_time_zone};
use palazzo_services::ServiceError;
use palazzo_services::appuntamenti::{BookingOffice, BookingRequest, FreeSlot};
use palazzo_store::{Booking, BookingId, BookingState, Tenant};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, page, see_other};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Shell, address_line};
use crate::routes::{Access, Routes};

/// Where the booking flow lives.
pub const BOOKING_PATH: &str = "/prenotazione-appuntamento";

/// The routes of this module (with the session and CSRF middleware).
pub fn router() -> Routes {
    use Access::{Needs, Public};
    let own = Needs(Permission::OwnProfile);
    let office = Needs(Permission::WorkOfficeCases);
    let managers = Needs(Permission::DecideCases);
    Routes::new()
        .get(BOOKING_PATH, Public, flow)
        .post(BOOKING_PATH, Public, confirm)
        .get("/appuntamenti", Public, find_page)
        .get("/appuntamenti/{code}", Public, booking_page)
        .post("/appuntamenti/{code}/annulla", Public, cancel_by_code)
        .get("/area-personale/appuntamenti", own, my_page)
        .post("/area-personale/appuntamenti/{id}/annulla", own, my_cancel)
        .get("/backoffice/appuntamenti", office, agenda_page)
        .post("/backoffice/appuntamenti/{id}/stato", office, agenda_mark)
        .get(
            "/backoffice/appuntamenti/calendario",
            managers,
            calendar_page,
        )
        .post(
            "/backoffice/appuntamenti/calendario",
            managers,
            calendar_save,
        )
}

/// `Martedì 1 dicembre 2026`.
pub fn day_label(d: Date) -> String {
    const MONTHS: [&str; 12] = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    let month = usize::try_from(d.month() - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("");
    format!(
        "{} {} {month} {}",
        weekday_label(d.weekday()),
        d.day(),
        d.year()
    )
}

/// `09:20` in Rome.
pub fn time_label(ts: Timestamp) -> String {
    ts.to_zoned(rome_time_zone()).strftime("%H:%M").to_string()
}

fn form_page(html: askama::Result<String>, status: StatusCode) -> Response {
    match html {
        Ok(h) => page(h, status),
        Err(e) => WebError::from(e).into_response(),
    }
}

fn query_string(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The booking flow
// ---------------------------------------------------------------------------

/// The fields of the flow, as they travel between steps.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Flow {
    #[serde(default)]
    servizio: Option<String>,
    #[serde(default)]
    ufficio: Option<String>,
    #[serde(default)]
    giorno: Option<String>,
    #[serde(default)]
    orario: Option<String>,
    #[serde(default)]
    argomento: Option<String>,
    #[serde(default)]
    motivo: Option<String>,
    #[serde(default)]
    nome: Option<String>,
    #[serde(default)]
    cognome: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    telefono: Option<String>,
    #[serde(default)]
    passo: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Flow {
    /// The fields to carry, without `skip` and without `passo`.
    fn carried(&self, skip: &[&str]) -> Vec<(&'static str, String)> {
        let all = [
            ("servizio", &self.servizio),
            ("ufficio", &self.ufficio),
            ("giorno", &self.giorno),
            ("orario", &self.orario),
            ("argomento", &self.argomento),
            ("motivo", &self.motivo),
            ("nome", &self.nome),
            ("cognome", &self.cognome),
            ("email", &self.email),
            ("telefono", &self.telefono),
        ];
        all.into_iter()
            .filter(|(k, _)| !skip.contains(k))
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect()
    }

    fn edit_href(&self, step: &str) -> String {
        let mut q = self.carried(&[]);
        q.push(("passo", step.to_owned()));
        format!("{BOOKING_PATH}?{}#prenotazione", query_string(&q))
    }

    fn raw_details(&self) -> RawDetails {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        RawDetails {
            topic: s(&self.argomento),
            reason: s(&self.motivo),
            name: s(&self.nome),
            surname: s(&self.cognome),
            email: s(&self.email),
            phone: s(&self.telefono),
        }
    }
}

struct StepView {
    n: u8,
    label: &'static str,
    /// `done`, `current`, `todo`.
    state: &'static str,
}

const STEPS: [&str; 5] = [
    "Ufficio",
    "Data e orario",
    "Dettagli",
    "Richiedente",
    "Riepilogo",
];

struct OfficeChoice {
    slug: String,
    name: String,
    address: String,
    hours: String,
    checked: bool,
}

struct DayChoice {
    value: String,
    label: String,
    free: usize,
    selected: bool,
}

struct TimeChoice {
    id: String,
    value: String,
    label: String,
    free: u32,
    checked: bool,
}

struct TopicChoice {
    id: String,
    value: String,
    checked: bool,
}

struct ServiceRef {
    title: String,
    href: String,
}

#[derive(Template)]
#[template(path = "portal/booking.html")]
struct BookingTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    step: u8,
    steps: Vec<StepView>,
    error: Option<String>,
    error_code: &'static str,
    service: Option<ServiceRef>,
    /// Hidden fields of the current step's form.
    hidden: Vec<(&'static str, String)>,
    offices: Vec<OfficeChoice>,
    office_name: String,
    office_address: String,
    days: Vec<DayChoice>,
    day_label: String,
    times: Vec<TimeChoice>,
    when: String,
    topics: Vec<TopicChoice>,
    motivo: String,
    nome: String,
    cognome: String,
    email: String,
    telefono: String,
    signed_in: bool,
    max_reason: usize,
    edit_office: String,
    edit_time: String,
    edit_details: String,
    edit_data: String,
    back: String,
}

/// What the flow found valid so far.
struct Progress {
    office: Option<BookingOffice>,
    slot: Option<FreeSlot>,
    step: u8,
    error: Option<ServiceError>,
}

async fn progress(state: &AppState, t: &Tenant, f: &Flow) -> Result<Progress, ServiceError> {
    let app = state.app();
    let forced = f.passo.as_deref().unwrap_or("");
    let mut p = Progress {
        office: None,
        slot: None,
        step: 1,
        error: None,
    };
    // A service that does not exist is refused on the first step.
    if let Err(e) = app.booking_offices(t.id, present(&f.servizio)).await {
        p.error = Some(e);
        return Ok(p);
    }
    let Some(slug) = present(&f.ufficio) else {
        return Ok(p);
    };
    let office = match app.booking_office(t.id, slug).await {
        Ok(o) => o,
        Err(e @ ServiceError::Invalid { .. }) => {
            p.error = Some(e);
            return Ok(p);
        }
        Err(e) => return Err(e),
    };
    if let Some(service) = present(&f.servizio) {
        let competent = app.booking_offices(t.id, Some(service)).await?;
        if !competent.iter().any(|o| o.office.id == office.office.id) {
            p.error = Some(ServiceError::Invalid {
                code: "ufficio_non_competente",
                message: "L'ufficio scelto non tratta il servizio indicato: scegli uno degli uffici proposti.".into(),
            });
            return Ok(p);
        }
    }
    p.office = Some(office);
    if forced == "ufficio" {
        return Ok(p);
    }
    p.step = 2;
    let Some(office) = p.office.as_ref() else {
        return Ok(p);
    };
    let Some(orario) = present(&f.orario) else {
        return Ok(p);
    };
    let slot = match orario.parse::<Timestamp>() {
        Ok(start) => app.check_booking_slot(t.id, office, start).await,
        Err(_) => Err(ServiceError::invalid(&BookingError::NotASlot)),
    };
    match slot {
        Ok(s) => p.slot = Some(s),
        Err(e @ ServiceError::Invalid { .. }) => {
            p.error = Some(e);
            return Ok(p);
        }
        Err(e) => return Err(e),
    }
    if forced == "orario" {
        return Ok(p);
    }
    p.step = 3;
    if f.argomento.is_none() {
        return Ok(p);
    }
    let topic = f.argomento.as_deref().unwrap_or("").trim();
    if !office.calendar.topics().iter().any(|t| t == topic) {
        p.error = Some(ServiceError::invalid(&BookingError::Topic));
        return Ok(p);
    }
    if f.motivo.as_deref().unwrap_or("").trim().chars().count() > MAX_REASON_CHARS {
        p.error = Some(ServiceError::invalid(&BookingError::ReasonTooLong));
        return Ok(p);
    }
    if forced == "dettagli" {
        return Ok(p);
    }
    p.step = 4;
    if f.nome.is_none() {
        return Ok(p);
    }
    if let Err(e) = BookingDetails::parse(&f.raw_details(), &office.calendar) {
        p.error = Some(ServiceError::invalid(&e));
        return Ok(p);
    }
    if forced == "richiedente" {
        return Ok(p);
    }
    p.step = 5;
    Ok(p)
}

/// The step a refusal of the final booking sends the citizen back to.
fn step_of(code: &str) -> u8 {
    match code {
        "servizio_non_valido" | "ufficio_non_prenotabile" | "ufficio_non_competente" => 1,
        "appuntamento_orario_non_valido"
        | "appuntamento_troppo_vicino"
        | "appuntamento_troppo_lontano"
        | "appuntamento_non_disponibile" => 2,
        "argomento_non_valido" | "motivo_troppo_lungo" => 3,
        _ => 4,
    }
}

async fn render_flow(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    f: &Flow,
    refusal: Option<ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let mut p = progress(state, t, f).await?;
    if let Some(e) = refusal {
        p.step = p.step.min(step_of(e.code()));
        p.error = Some(e);
    }
    let status = if p.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let snap = app.portal(t.id).await?;
    let service = present(&f.servizio)
        .and_then(|s| snap.service(s))
        .map(|s| ServiceRef {
            title: s.data.title.clone(),
            href: crate::portal::pages::service_href(s),
        });
    let step = p.step;
    let mut shell = Shell::new(t, "Prenotazione appuntamento");
    shell.description = "Prenota un appuntamento con gli uffici del Comune: scegli l'ufficio, il giorno e l'orario.".into();
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Servizi", "/servizi"),
        Crumb::here("Prenotazione appuntamento"),
    ];
    let steps = STEPS
        .iter()
        .zip(1u8..)
        .map(|(label, n)| StepView {
            n,
            label,
            state: match n.cmp(&step) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "todo",
            },
        })
        .collect();
    let mut tpl = BookingTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        step,
        steps,
        error: p.error.as_ref().map(ServiceError::message_it),
        error_code: p.error.as_ref().map_or("", ServiceError::code),
        service,
        hidden: Vec::new(),
        offices: Vec::new(),
        office_name: String::new(),
        office_address: String::new(),
        days: Vec::new(),
        day_label: String::new(),
        times: Vec::new(),
        when: String::new(),
        topics: Vec::new(),
        motivo: f.motivo.clone().unwrap_or_default(),
        nome: f.nome.clone().unwrap_or_default(),
        cognome: f.cognome.clone().unwrap_or_default(),
        email: f.email.clone().unwrap_or_default(),
        telefono: f.telefono.clone().unwrap_or_default(),
        signed_in: auth.signed_in(),
        max_reason: MAX_REASON_CHARS,
        edit_office: f.edit_href("ufficio"),
        edit_time: f.edit_href("orario"),
        edit_details: f.edit_href("dettagli"),
        edit_data: f.edit_href("richiedente"),
        back: String::new(),
    };
    if let Some(o) = &p.office {
        tpl.office_name = o.office.data.name.clone();
        tpl.office_address = address_line(&o.office.data.address);
    }
    if let Some(s) = &p.slot {
        tpl.when = format!(
            "{}, ore {}",
            day_label(s.slot.date),
            time_label(s.slot.start)
        );
    }
    match step {
        1 => {
            tpl.hidden = f.carried(&["ufficio", "giorno", "orario"]);
            let chosen = present(&f.ufficio).unwrap_or("");
            let offices = match app.booking_offices(t.id, present(&f.servizio)).await {
                Ok(o) => o,
                Err(ServiceError::Invalid { .. }) => app.booking_offices(t.id, None).await?,
                Err(e) => return Err(e),
            };
            tpl.offices = offices
                .iter()
                .map(|o| OfficeChoice {
                    slug: o.office.data.slug.clone(),
                    name: o.office.data.name.clone(),
                    address: address_line(&o.office.data.address),
                    hours: o.office.data.opening_hours.clone(),
                    checked: o.office.data.slug == chosen || offices.len() == 1,
                })
                .collect();
        }
        2 => {
            tpl.hidden = f.carried(&["giorno", "orario"]);
            tpl.back = f.edit_href("ufficio");
            if let Some(o) = &p.office {
                let today = rome_date(Timestamp::now());
                let until = today
                    .checked_add(jiff::Span::new().days(i64::from(o.calendar.horizon_days())))
                    .unwrap_or(today);
                let free = app
                    .free_slots(t.id, &o.office.data.slug, today, until)
                    .await?;
                let chosen_day = present(&f.giorno)
                    .and_then(|d| parse_date(d).ok())
                    .or(p.slot.map(|s| s.slot.date))
                    .filter(|d| free.iter().any(|s| s.slot.date == *d))
                    .or(free.first().map(|s| s.slot.date));
                let mut days: Vec<DayChoice> = Vec::new();
                for s in &free {
                    match days.last_mut() {
                        Some(d) if d.value == s.slot.date.to_string() => d.free += 1,
                        _ => days.push(DayChoice {
                            value: s.slot.date.to_string(),
                            label: day_label(s.slot.date),
                            free: 1,
                            selected: Some(s.slot.date) == chosen_day,
                        }),
                    }
                }
                tpl.days = days;
                if let Some(day) = chosen_day {
                    tpl.day_label = day_label(day);
                    let chosen = p.slot.map(|s| s.slot.start);
                    tpl.times = free
                        .iter()
                        .filter(|s| s.slot.date == day)
                        .map(|s| TimeChoice {
                            id: format!("orario-{}", s.slot.start.as_second()),
                            value: s.slot.start.to_string(),
                            label: time_label(s.slot.start),
                            free: s.free,
                            checked: Some(s.slot.start) == chosen,
                        })
                        .collect();
                    tpl.hidden.push(("giorno", day.to_string()));
                }
            }
        }
        3 => {
            tpl.hidden = f.carried(&["argomento", "motivo"]);
            tpl.back = f.edit_href("orario");
            if let Some(o) = &p.office {
                let topics = o.calendar.topics();
                let chosen = f.argomento.as_deref().unwrap_or("").trim().to_owned();
                let single = topics.len() == 1;
                tpl.topics = topics
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| TopicChoice {
                        id: format!("argomento-{i}"),
                        checked: v == chosen || single,
                        value: v,
                    })
                    .collect();
            }
        }
        4 => {
            tpl.hidden = f.carried(&["nome", "cognome", "email", "telefono"]);
            tpl.back = f.edit_href("dettagli");
            if f.nome.is_none() {
                // C.SI.2.1: the signed-in citizen's data from the profile.
                let pre = app.booking_prefill(t.id, &auth.actor).await?;
                tpl.nome = pre.name;
                tpl.cognome = pre.surname;
                tpl.email = pre.email;
                tpl.telefono = pre.phone;
            }
        }
        _ => {
            tpl.hidden = f.carried(&[]);
            tpl.back = f.edit_href("richiedente");
        }
    }
    Ok(form_page(tpl.render(), status))
}

/// Handles `GET /prenotazione-appuntamento`: the step the fields reached.
async fn flow(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(f): Query<Flow>,
) -> Response {
    render_flow(&state, &t, &auth, &f, None)
        .await
        .unwrap_or_else(|e| WebError::from(e).into_response())
}

/// Handles `POST /prenotazione-appuntamento`: books, then shows the
/// booking with its code.
async fn confirm(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(f): Form<Flow>,
) -> Response {
    let start = present(&f.orario).and_then(|o| o.parse::<Timestamp>().ok());
    let req = BookingRequest {
        office: present(&f.ufficio).unwrap_or("").to_owned(),
        start,
        service: present(&f.servizio).map(str::to_owned),
        details: f.raw_details(),
    };
    let result = if req.office.is_empty() {
        Err(ServiceError::Invalid {
            code: "ufficio_non_prenotabile",
            message: "Scegli l'ufficio presso cui prenotare.".into(),
        })
    } else {
        state.app().book_appointment(t.id, &auth.actor, &req).await
    };
    match result {
        Ok(b) => see_other(&format!("/appuntamenti/{}?nuova=1", b.code)),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "booking refused");
            render_flow(&state, &t, &auth, &f, Some(e))
                .await
                .unwrap_or_else(|e| WebError::from(e).into_response())
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

// ---------------------------------------------------------------------------
// A booking by its code
// ---------------------------------------------------------------------------

/// A booking as shown to its holder or the office.
pub struct BookingRow {
    /// Id.
    pub id: i64,
    /// Office name.
    pub office: String,
    /// `Martedì 1 dicembre 2026`.
    pub day: String,
    /// `09:20`.
    pub time: String,
    /// `09:20–09:40`.
    pub span: String,
    /// Seat number.
    pub seat: i64,
    /// Topic.
    pub topic: String,
    /// Reason.
    pub reason: String,
    /// `Nome Cognome`.
    pub person: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// State code.
    pub state: &'static str,
    /// State label.
    pub state_label: &'static str,
    /// Still cancellable (prenotato and not past).
    pub cancellable: bool,
    /// Still to come (prenotato).
    pub booked: bool,
}

fn booking_row(b: &Booking, office: &str) -> BookingRow {
    let d = &b.data;
    BookingRow {
        id: b.id.0,
        office: office.to_owned(),
        day: day_label(d.slot_date),
        time: time_label(d.slot_start),
        span: format!("{}–{}", time_label(d.slot_start), time_label(d.slot_end)),
        seat: d.seat,
        topic: d.topic.clone(),
        reason: d.reason.clone(),
        person: format!("{} {}", d.name, d.surname),
        email: d.email.clone(),
        phone: d.phone.clone().unwrap_or_default(),
        state: b.state.code(),
        state_label: b.state.label_it(),
        cancellable: b.state == BookingState::Prenotato && d.slot_start > Timestamp::now(),
        booked: b.state == BookingState::Prenotato,
    }
}

async fn office_name(state: &AppState, t: &Tenant, b: &Booking) -> String {
    state
        .app()
        .portal(t.id)
        .await
        .ok()
        .and_then(|s| s.office(b.data.office).map(|o| o.data.name.clone()))
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "portal/appuntamento.html")]
struct BookingPageTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    code: String,
    row: BookingRow,
    new: bool,
    cancelled_now: bool,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct BookingQuery {
    nuova: Option<String>,
    annullata: Option<String>,
}

async fn render_booking(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    code: &str,
    q: &BookingQuery,
    error: Option<ServiceError>,
) -> Result<Response, ServiceError> {
    let b = state.app().booking_by_code(t.id, code).await?;
    let office = office_name(state, t, &b).await;
    let mut shell = Shell::new(t, "Il tuo appuntamento");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Prenotazione appuntamento", BOOKING_PATH),
        Crumb::here("Il tuo appuntamento"),
    ];
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let tpl = BookingPageTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        code: code.trim().to_uppercase(),
        row: booking_row(&b, &office),
        new: q.nuova.is_some(),
        cancelled_now: q.annullata.is_some(),
        error: error.as_ref().map(ServiceError::message_it),
        error_code: error.as_ref().map_or("", ServiceError::code),
    };
    Ok(form_page(tpl.render(), status))
}

/// Handles `GET /appuntamenti/{code}`.
async fn booking_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(code): Path<String>,
    Query(q): Query<BookingQuery>,
) -> Response {
    render_booking(&state, &t, &auth, &code, &q, None)
        .await
        .unwrap_or_else(|e| WebError::from(e).into_response())
}

/// Handles `POST /appuntamenti/{code}/annulla`.
async fn cancel_by_code(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(code): Path<String>,
) -> Response {
    match state.app().cancel_booking_by_code(t.id, &code).await {
        Ok(_) => see_other(&format!(
            "/appuntamenti/{}?annullata=1",
            code.trim().to_uppercase()
        )),
        Err(e @ ServiceError::Invalid { .. }) => {
            render_booking(&state, &t, &auth, &code, &BookingQuery::default(), Some(e))
                .await
                .unwrap_or_else(|e| WebError::from(e).into_response())
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "portal/appuntamento_cerca.html")]
struct FindTemplate<'a> {
    shell: Shell<'a>,
    codice: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct FindQuery {
    codice: Option<String>,
}

/// Handles `GET /appuntamenti`: the form to type a booking's code; with
/// `?codice=`, to that booking when it exists.
async fn find_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Query(q): Query<FindQuery>,
) -> Response {
    let codice = q.codice.unwrap_or_default().trim().to_uppercase();
    let mut error = None;
    if !codice.is_empty() {
        match state.app().booking_by_code(t.id, &codice).await {
            Ok(_) => return see_other(&format!("/appuntamenti/{codice}")),
            Err(ServiceError::NotFound) => {
                error = Some(
                    "Nessuna prenotazione con questo codice: controlla di averlo scritto come nella conferma."
                        .to_owned(),
                );
            }
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    let mut shell = Shell::new(&t, "Gestisci il tuo appuntamento");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Prenotazione appuntamento", BOOKING_PATH),
        Crumb::here("Gestisci il tuo appuntamento"),
    ];
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    form_page(
        FindTemplate {
            shell,
            codice,
            error,
        }
        .render(),
        status,
    )
}

// ---------------------------------------------------------------------------
// Personal area
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/appuntamenti.html")]
struct MyTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    rows: Vec<BookingRow>,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct MyQuery {
    annullato: Option<String>,
}

async fn render_my(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    notice: Option<String>,
    error: Option<ServiceError>,
) -> Result<Response, ServiceError> {
    let bookings = state.app().my_bookings(t.id, &auth.actor).await?;
    let snap = state.app().portal(t.id).await?;
    let mut shell = Shell::new(t, "I miei appuntamenti");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::here("I miei appuntamenti"),
    ];
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let tpl = MyTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        rows: bookings
            .iter()
            .map(|b| {
                let name = snap
                    .office(b.data.office)
                    .map(|o| o.data.name.clone())
                    .unwrap_or_default();
                booking_row(b, &name)
            })
            .collect(),
        notice,
        error: error.as_ref().map(ServiceError::message_it),
        error_code: error.as_ref().map_or("", ServiceError::code),
    };
    Ok(form_page(tpl.render(), status))
}

/// Handles `GET /area-personale/appuntamenti`.
async fn my_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<MyQuery>,
) -> Response {
    let notice = q
        .annullato
        .is_some()
        .then(|| "L'appuntamento è stato annullato.".to_owned());
    render_my(&state, &t, &auth, notice, None)
        .await
        .unwrap_or_else(|e| needs("/area-personale/appuntamenti", e))
}

/// Handles `POST /area-personale/appuntamenti/{id}/annulla`.
async fn my_cancel(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Response {
    const PATH: &str = "/area-personale/appuntamenti";
    if let Err(e) = auth.actor.require(Permission::OwnProfile) {
        return needs(PATH, e);
    }
    let Ok(id) = id.parse::<i64>() else {
        return WebError::NotFound.into_response();
    };
    match state
        .app()
        .cancel_my_booking(t.id, &auth.actor, BookingId(id))
        .await
    {
        Ok(_) => see_other(&format!("{PATH}?annullato=1")),
        Err(e @ ServiceError::Invalid { .. }) => render_my(&state, &t, &auth, None, Some(e))
            .await
            .unwrap_or_else(|e| needs(PATH, e)),
        Err(e) => needs(PATH, e),
    }
}

// ---------------------------------------------------------------------------
// The office agenda
// ---------------------------------------------------------------------------

struct AgendaSlot {
    time: String,
    rows: Vec<BookingRow>,
    free: i64,
}

#[derive(Template)]
#[template(path = "backoffice/appuntamenti.html")]
struct AgendaTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    offices: Vec<(String, String, bool)>,
    office: String,
    office_name: String,
    day: String,
    day_label: String,
    prev: String,
    next: String,
    slots: Vec<AgendaSlot>,
    closed: bool,
    booked: usize,
    can_edit: bool,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct AgendaQuery {
    #[serde(default)]
    ufficio: Option<String>,
    #[serde(default)]
    giorno: Option<String>,
    #[serde(default)]
    fatto: Option<String>,
}

async fn render_agenda(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    q: &AgendaQuery,
    error: Option<ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let offices = app.agenda_offices(t.id, &auth.actor).await?;
    let chosen = present(&q.ufficio)
        .and_then(|s| offices.iter().find(|o| o.office.data.slug == s))
        .or(offices.first());
    let mut bad_day = None;
    let day = match present(&q.giorno).map(parse_date) {
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            bad_day = Some(ServiceError::invalid(&e));
            rome_date(Timestamp::now())
        }
        None => rome_date(Timestamp::now()),
    };
    let error = error.or(bad_day);
    let mut shell = Shell::new(t, "Agenda degli appuntamenti");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area del personale", "/backoffice"),
        Crumb::here("Agenda degli appuntamenti"),
    ];
    let mut tpl = AgendaTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        offices: offices
            .iter()
            .map(|o| {
                (
                    o.office.data.slug.clone(),
                    o.office.data.name.clone(),
                    chosen.is_some_and(|c| c.office.id == o.office.id),
                )
            })
            .collect(),
        office: String::new(),
        office_name: String::new(),
        day: day.to_string(),
        day_label: day_label(day),
        prev: String::new(),
        next: String::new(),
        slots: Vec::new(),
        closed: true,
        booked: 0,
        can_edit: false,
        notice: q
            .fatto
            .is_some()
            .then(|| "Lo stato dell'appuntamento è stato aggiornato.".to_owned()),
        error: error.as_ref().map(ServiceError::message_it),
        error_code: error.as_ref().map_or("", ServiceError::code),
    };
    if let Some(o) = chosen {
        let slug = o.office.data.slug.clone();
        let agenda = app.office_agenda(t.id, &auth.actor, &slug, day).await?;
        let link = |d: Result<Date, jiff::Error>| {
            d.map(|d| {
                format!(
                    "/backoffice/appuntamenti?{}",
                    query_string(&[("ufficio", slug.clone()), ("giorno", d.to_string())])
                )
            })
            .unwrap_or_default()
        };
        tpl.prev = link(day.yesterday());
        tpl.next = link(day.tomorrow());
        tpl.office_name = agenda.office.data.name.clone();
        tpl.closed = agenda.slots.is_empty();
        tpl.booked = agenda
            .bookings
            .iter()
            .filter(|b| b.state != BookingState::Annullato)
            .count();
        tpl.can_edit = app.office_calendar(t.id, &auth.actor, &slug).await.is_ok();
        let mut slots: Vec<AgendaSlot> = agenda
            .slots
            .iter()
            .map(|s| {
                let rows: Vec<BookingRow> = agenda
                    .bookings
                    .iter()
                    .filter(|b| b.data.slot_start == s.start)
                    .map(|b| booking_row(b, &agenda.office.data.name))
                    .collect();
                let active = rows.iter().filter(|r| r.state != "annullato").count();
                AgendaSlot {
                    time: format!("{}–{}", time_label(s.start), time_label(s.end)),
                    free: i64::from(s.seats) - i64::try_from(active).unwrap_or(0),
                    rows,
                }
            })
            .collect();
        // Bookings outside today's slots (the calendar changed since).
        let orphans: Vec<BookingRow> = agenda
            .bookings
            .iter()
            .filter(|b| !agenda.slots.iter().any(|s| s.start == b.data.slot_start))
            .map(|b| booking_row(b, &agenda.office.data.name))
            .collect();
        if !orphans.is_empty() {
            slots.push(AgendaSlot {
                time: "Fuori calendario".into(),
                rows: orphans,
                free: 0,
            });
        }
        tpl.slots = slots;
        tpl.office = slug;
    }
    let status = if tpl.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(form_page(tpl.render(), status))
}

/// Handles `GET /backoffice/appuntamenti?ufficio=&giorno=`.
async fn agenda_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<AgendaQuery>,
) -> Response {
    render_agenda(&state, &t, &auth, &q, None)
        .await
        .unwrap_or_else(|e| needs("/backoffice/appuntamenti", e))
}

#[derive(Deserialize, Default)]
struct MarkForm {
    #[serde(default)]
    stato: String,
}

/// Handles `POST /backoffice/appuntamenti/{id}/stato`.
async fn agenda_mark(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Form(form): Form<MarkForm>,
) -> Response {
    const PATH: &str = "/backoffice/appuntamenti";
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs(PATH, e);
    }
    let Ok(id) = id.parse::<i64>() else {
        return WebError::NotFound.into_response();
    };
    let result = match BookingState::from_code(form.stato.trim()) {
        Some(to) => {
            state
                .app()
                .mark_booking(t.id, &auth.actor, BookingId(id), to)
                .await
        }
        None => Err(ServiceError::Invalid {
            code: "stato_non_valido",
            message: "Scegli presentato, assente o annullato.".into(),
        }),
    };
    match result {
        Ok(b) => {
            let slug = state
                .app()
                .portal(t.id)
                .await
                .ok()
                .and_then(|s| s.office(b.data.office).map(|o| o.data.slug.clone()))
                .unwrap_or_default();
            see_other(&format!(
                "{PATH}?{}#appuntamento-{}",
                query_string(&[
                    ("ufficio", slug),
                    ("giorno", b.data.slot_date.to_string()),
                    ("fatto", "1".into()),
                ]),
                b.id.0
            ))
        }
        Err(e @ ServiceError::Invalid { .. }) => {
            render_agenda(&state, &t, &auth, &AgendaQuery::default(), Some(e))
                .await
                .unwrap_or_else(|e| needs(PATH, e))
        }
        Err(e) => needs(PATH, e),
    }
}

// ---------------------------------------------------------------------------
// The calendar editor
// ---------------------------------------------------------------------------

/// Rows of the window table offered beyond the existing ones.
const BLANK_WINDOWS: usize = 3;

struct WindowRow {
    i: usize,
    giorno: String,
    dalle: String,
    alle: String,
    durata: String,
    posti: String,
}

#[derive(Template)]
#[template(path = "backoffice/appuntamenti_calendario.html")]
struct CalendarTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    offices: Vec<(String, String, bool)>,
    office: String,
    office_name: String,
    weekdays: Vec<(&'static str, &'static str)>,
    rows: Vec<WindowRow>,
    preavviso: String,
    orizzonte: String,
    valido_dal: String,
    valido_al: String,
    chiusure: String,
    servizi: String,
    argomenti: String,
    updated: String,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

const WEEKDAY_CHOICES: [(&str, &str); 7] = [
    ("lunedi", "Lunedì"),
    ("martedi", "Martedì"),
    ("mercoledi", "Mercoledì"),
    ("giovedi", "Giovedì"),
    ("venerdi", "Venerdì"),
    ("sabato", "Sabato"),
    ("domenica", "Domenica"),
];

fn rows_of(spec: &CalendarSpec) -> Vec<WindowRow> {
    let mut rows: Vec<WindowRow> = spec
        .fasce
        .iter()
        .enumerate()
        .map(|(i, w)| WindowRow {
            i,
            giorno: w.giorno.clone(),
            dalle: w.dalle.clone(),
            alle: w.alle.clone(),
            durata: w.durata_minuti.to_string(),
            posti: w.posti.to_string(),
        })
        .collect();
    let n = rows.len();
    rows.extend((n..n + BLANK_WINDOWS).map(|i| WindowRow {
        i,
        giorno: String::new(),
        dalle: String::new(),
        alle: String::new(),
        durata: String::new(),
        posti: String::new(),
    }));
    rows
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The calendar typed in the editor's form; the rows without a start are
/// skipped. Numbers that are not numbers are refused with a code.
fn spec_of_form(
    form: &std::collections::HashMap<String, String>,
) -> Result<CalendarSpec, ServiceError> {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let number = |k: &str, what: &str| -> Result<u32, ServiceError> {
        let v = get(k);
        v.parse::<u32>().map_err(|_| ServiceError::Invalid {
            code: "numero_non_valido",
            message: format!("«{v}» non è un numero valido per {what}."),
        })
    };
    let mut fasce = Vec::new();
    for i in 0..64 {
        let giorno = get(&format!("giorno_{i}"));
        let dalle = get(&format!("dalle_{i}"));
        if !form.contains_key(&format!("giorno_{i}")) {
            break;
        }
        if giorno.is_empty() || dalle.is_empty() {
            continue;
        }
        let posti = get(&format!("posti_{i}"));
        fasce.push(WindowSpec {
            giorno,
            dalle,
            alle: get(&format!("alle_{i}")),
            durata_minuti: number(&format!("durata_{i}"), "la durata")?,
            posti: if posti.is_empty() {
                1
            } else {
                number(&format!("posti_{i}"), "gli sportelli")?
            },
        });
    }
    let opt = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    Ok(CalendarSpec {
        fasce,
        valido_dal: opt("valido_dal"),
        valido_al: opt("valido_al"),
        chiusure: lines(&get("chiusure")),
        preavviso_ore: number("preavviso_ore", "il preavviso")?,
        giorni_prenotabili: number("giorni_prenotabili", "i giorni prenotabili")?,
        servizi: lines(&get("servizi")),
        argomenti: lines(&get("argomenti")),
    })
}

#[derive(Deserialize, Default)]
struct CalendarQuery {
    #[serde(default)]
    ufficio: Option<String>,
    #[serde(default)]
    salvato: Option<String>,
}

async fn render_calendar(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    slug: Option<&str>,
    typed: Option<(&CalendarSpec, &ServiceError)>,
    notice: Option<String>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let offices = app.calendar_offices(t.id, &auth.actor).await?;
    let chosen = slug
        .and_then(|s| offices.iter().find(|o| o.data.slug == s))
        .or(offices.first());
    let mut shell = Shell::new(t, "Calendario degli appuntamenti");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area del personale", "/backoffice"),
        Crumb::link("Agenda degli appuntamenti", "/backoffice/appuntamenti"),
        Crumb::here("Calendario"),
    ];
    let empty = CalendarSpec {
        fasce: Vec::new(),
        valido_dal: None,
        valido_al: None,
        chiusure: Vec::new(),
        preavviso_ore: palazzo_domain::appuntamenti::DEFAULT_NOTICE_HOURS,
        giorni_prenotabili: palazzo_domain::appuntamenti::DEFAULT_HORIZON_DAYS,
        servizi: Vec::new(),
        argomenti: Vec::new(),
    };
    let mut spec = empty.clone();
    let mut updated = String::new();
    let mut office_name = String::new();
    let mut office = String::new();
    if let Some(o) = chosen {
        let (o, record) = app.office_calendar(t.id, &auth.actor, &o.data.slug).await?;
        if let Some(r) = record {
            updated = format!(
                "{} ({})",
                crate::auth::pages::rome(r.updated_at),
                r.updated_by
            );
            spec = r.spec;
        }
        office_name = o.data.name.clone();
        office = o.data.slug.clone();
    }
    if let Some((typed, _)) = typed {
        spec = typed.clone();
    }
    let error = typed.map(|(_, e)| e);
    let tpl = CalendarTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        offices: offices
            .iter()
            .map(|o| {
                (
                    o.data.slug.clone(),
                    o.data.name.clone(),
                    o.data.slug == office,
                )
            })
            .collect(),
        office,
        office_name,
        weekdays: WEEKDAY_CHOICES.to_vec(),
        rows: rows_of(&spec),
        preavviso: spec.preavviso_ore.to_string(),
        orizzonte: spec.giorni_prenotabili.to_string(),
        valido_dal: spec.valido_dal.clone().unwrap_or_default(),
        valido_al: spec.valido_al.clone().unwrap_or_default(),
        chiusure: spec.chiusure.join("\n"),
        servizi: spec.servizi.join("\n"),
        argomenti: spec.argomenti.join("\n"),
        updated,
        notice,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    let status = if tpl.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(form_page(tpl.render(), status))
}

/// Handles `GET /backoffice/appuntamenti/calendario?ufficio=`.
async fn calendar_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let notice = q.salvato.is_some().then(|| {
        "Il calendario è stato salvato: le nuove fasce sono subito prenotabili.".to_owned()
    });
    render_calendar(&state, &t, &auth, present(&q.ufficio), None, notice)
        .await
        .unwrap_or_else(|e| needs("/backoffice/appuntamenti/calendario", e))
}

/// Handles `POST /backoffice/appuntamenti/calendario`.
async fn calendar_save(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    const PATH: &str = "/backoffice/appuntamenti/calendario";
    if let Err(e) = auth.actor.require(Permission::DecideCases) {
        return needs(PATH, e);
    }
    let slug = form
        .get("ufficio")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let result = match spec_of_form(&form) {
        Ok(spec) => state
            .app()
            .set_office_calendar(t.id, Some(&auth.actor), &slug, &spec)
            .await
            .map(|_| spec),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => see_other(&format!(
            "{PATH}?{}",
            query_string(&[("ufficio", slug), ("salvato", "1".into())])
        )),
        Err(e @ ServiceError::Invalid { .. }) => {
            let typed = spec_of_form(&form).unwrap_or(CalendarSpec {
                fasce: Vec::new(),
                valido_dal: None,
                valido_al: None,
                chiusure: Vec::new(),
                preavviso_ore: 0,
                giorni_prenotabili: 0,
                servizi: Vec::new(),
                argomenti: Vec::new(),
            });
            render_calendar(&state, &t, &auth, Some(&slug), Some((&typed, &e)), None)
                .await
                .unwrap_or_else(|e| needs(PATH, e))
        }
        Err(e) => needs(PATH, e),
    }
}
