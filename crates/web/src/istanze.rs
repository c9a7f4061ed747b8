//! Online istanze on the web (issue 6): the citizen's guided form
//! (C.SE.1.1–1.10: steps visible and revisitable, drafts saved at any
//! moment, a single textual summary, the receipt with protocol number and
//! deadline, the rating at the end), the personal area's "Le mie pratiche"
//! with the citizen's own steps (integration, observations, withdrawal),
//! and the office's back office (`/backoffice/pratiche`: overdue first, the
//! legal clock, the procedure's actions).
//!
//! Everything is server-rendered and works without JavaScript. The
//! services check every permission; the route table declares them.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::moduli::{self, FieldErrors, FieldKind, RawAnswers};
use palazzo_domain::procedimento::{Azione, Clock};
use palazzo_services::ServiceError;
use palazzo_services::pratiche::bozze::Nav;
use palazzo_services::pratiche::procedura::action_label;
use palazzo_services::pratiche::{ActInput, BozzaView, PraticaView, StepOutcome, Upload};
use palazzo_store::{AllegatoId, BozzaId, OfficeId, PraticaEvento, PraticaId, Tenant};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, page, rome, see_other};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::rating::{RatingBox, RatingState};
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

pub(crate) mod ufficio;

/// The pseudo-step of the attachments page.
const ALLEGATI: &str = "allegati";
/// The pseudo-step of the summary page.
const RIEPILOGO: &str = "riepilogo";
/// The largest file a citizen uploads (the document store's own limit).
const MAX_FILE: usize = 50 * 1024 * 1024;
/// Days left under which a pratica is highlighted as near its deadline.
const NEAR_DUE_DAYS: i64 = 7;

/// The routes of this module (with the session and CSRF middleware).
pub fn router() -> Routes {
    use Access::Needs;
    let own = Needs(Permission::OwnProfile);
    let staff = Needs(Permission::WorkOfficeCases);
    Routes::new()
        .get("/area-personale/istanze/{service}", own, start_page)
        .post("/area-personale/istanze/{service}", own, start)
        .get("/area-personale/istanze/bozze/{id}/{step}", own, step_page)
        .post("/area-personale/istanze/bozze/{id}/{step}", own, step_post)
        .upload(
            "/area-personale/istanze/bozze/{id}/allegati/carica",
            own,
            upload,
        )
        .post(
            "/area-personale/istanze/bozze/{id}/allegati/{n}/elimina",
            own,
            remove,
        )
        .post("/area-personale/istanze/elimina/{id}", own, discard)
        .get("/area-personale/pratiche", own, my_list)
        .get("/area-personale/pratiche/{id}", own, my_detail)
        .upload("/area-personale/pratiche/{id}/azioni", own, my_act)
        .get(
            "/area-personale/pratiche/{id}/documenti/{n}",
            own,
            my_download,
        )
        .get(
            "/area-personale/pratiche/{id}/passi/{seq}/documento",
            own,
            my_step_download,
        )
        .get("/backoffice/pratiche", staff, office_list)
        .get("/backoffice/pratiche/{id}", staff, office_detail)
        .post("/backoffice/pratiche/{id}/azioni", staff, office_act)
        // The office's work besides the procedure (issue 6, part 4).
        .upload(
            "/area-personale/pratiche/{id}/messaggi",
            own,
            ufficio::my_message,
        )
        .post(
            "/backoffice/pratiche/{id}/assegnazione",
            staff,
            ufficio::assign,
        )
        .post(
            "/backoffice/pratiche/{id}/trasferimento",
            staff,
            ufficio::transfer,
        )
        .post(
            "/backoffice/pratiche/{id}/pareri",
            staff,
            ufficio::ask_parere,
        )
        .upload(
            "/backoffice/pratiche/{id}/messaggi",
            staff,
            ufficio::office_message,
        )
        .get(
            "/backoffice/pratiche/{id}/pareri/{seq}/documento",
            staff,
            ufficio::parere_download,
        )
        .get(
            "/backoffice/pratiche/{id}/messaggi/{seq}/documento",
            staff,
            ufficio::office_message_download,
        )
        .get(
            "/area-personale/pratiche/{id}/messaggi/{seq}/documento",
            own,
            ufficio::my_message_download,
        )
        .get("/backoffice/pareri", staff, ufficio::pareri_page)
        .upload("/backoffice/pareri/{id}/{seq}", staff, ufficio::answer)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn date_it(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

fn state_label(state: &str) -> String {
    let mut s = state.replace('_', " ");
    if let Some(first) = s.get(..1) {
        let upper = first.to_uppercase();
        s.replace_range(..1, &upper);
    }
    s
}

fn azione_of(code: &str) -> Option<Azione> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

fn event_label(code: &str) -> String {
    match code {
        "presentazione" => "Presentazione dell'istanza".to_owned(),
        c => azione_of(c).map_or_else(|| state_label(c), |a| action_label(a).to_owned()),
    }
}

fn id_of(s: &str) -> Result<i64, ServiceError> {
    s.parse::<i64>().map_err(|_| ServiceError::NotFound)
}

fn render(html: askama::Result<String>, status: StatusCode) -> Response {
    match html {
        Ok(h) => page(h, status),
        Err(e) => WebError::from(e).into_response(),
    }
}

fn invalid(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

fn bozza_path(id: BozzaId, step: &str) -> String {
    format!("/area-personale/istanze/bozze/{}/{step}", id.0)
}

/// A form posted with repeated keys, as the form engine reads it.
fn raw_of(pairs: Vec<(String, String)>, drop: &[&str]) -> RawAnswers {
    let mut raw: RawAnswers = BTreeMap::new();
    for (k, v) in pairs {
        if drop.contains(&k.as_str()) {
            continue;
        }
        raw.entry(k).or_default().push(v);
    }
    raw
}

// ---------------------------------------------------------------------------
// Starting a draft
// ---------------------------------------------------------------------------

struct DraftRow {
    id: i64,
    updated: String,
    resume: String,
}

#[derive(Template)]
#[template(path = "istanze/start.html")]
struct StartTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    slug: String,
    title: String,
    description: String,
    online: bool,
    drafts: Vec<DraftRow>,
    error: Option<String>,
    error_code: &'static str,
}

async fn render_start(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    slug: &str,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::OwnProfile)?;
    let app = state.app();
    let portal = app.portal(t.id).await?;
    let card = portal.service(slug).ok_or(ServiceError::NotFound)?;
    let def = app.service_definition(t.id, slug, None).await?;
    let drafts = app
        .my_bozze(t.id, &auth.actor)
        .await?
        .into_iter()
        .filter(|b| b.data.service_slug == slug)
        .map(|b| DraftRow {
            id: b.id.0,
            updated: rome(b.updated_at),
            resume: bozza_path(b.id, &b.data.step),
        })
        .collect();
    let title = card.data.title.clone();
    let mut shell = Shell::new(t, title.clone());
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::here(title.clone()),
    ];
    let tpl = StartTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        slug: slug.to_owned(),
        description: def.as_ref().map_or_else(
            || card.data.summary.clone(),
            |d| d.definition.form.description.clone(),
        ),
        online: def.is_some(),
        title,
        drafts,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(tpl.render(), status))
}

/// Handles `GET /area-personale/istanze/{service}`.
async fn start_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
) -> Response {
    let path = format!("/area-personale/istanze/{slug}");
    render_start(&state, &t, &auth, &slug, None)
        .await
        .unwrap_or_else(|e| needs(&path, e))
}

/// Handles `POST /area-personale/istanze/{service}`: starts a draft.
async fn start(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
) -> Response {
    let path = format!("/area-personale/istanze/{slug}");
    if let Err(e) = auth.actor.require(Permission::OwnProfile) {
        return needs(&path, e);
    }
    match state.app().start_bozza(t.id, &auth.actor, &slug).await {
        Ok(b) => see_other(&bozza_path(b.id, &b.data.step)),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "draft not started");
            render_start(&state, &t, &auth, &slug, Some(&e))
                .await
                .unwrap_or_else(|e| needs(&path, e))
        }
        Err(e) => needs(&path, e),
    }
}

// ---------------------------------------------------------------------------
// A step of the form
// ---------------------------------------------------------------------------

/// One item of the step bar (C.SE.1.8).
struct BarItem {
    label: String,
    href: Option<String>,
    current: bool,
}

pub(crate) struct SubInput {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) label: &'static str,
    pub(crate) value: String,
}

pub(crate) struct OptionView {
    pub(crate) id: String,
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) checked: bool,
}

/// A field as the template shows it (`istanze/_campi.html`, also used by
/// the preview of the service editor).
pub(crate) struct FieldView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) help: Option<String>,
    /// `input`, `textarea`, `select`, `radio`, `checkbox`, `address`,
    /// `parcels`.
    pub(crate) widget: &'static str,
    pub(crate) input_type: &'static str,
    pub(crate) inputmode: &'static str,
    pub(crate) required: bool,
    pub(crate) value: String,
    pub(crate) options: Vec<OptionView>,
    pub(crate) subs: Vec<SubInput>,
    pub(crate) rows: Vec<Vec<SubInput>>,
    pub(crate) errors: Vec<String>,
    pub(crate) describedby: String,
}

fn sub_label(key: &str) -> &'static str {
    match key {
        "via" => "Via o piazza",
        "civico" => "Numero civico",
        "cap" => "CAP",
        "comune" => "Comune",
        "lat" => "Latitudine (facoltativa)",
        "lon" => "Longitudine (facoltativa)",
        "codice_catastale" => "Codice catastale del comune",
        "foglio" => "Foglio",
        "particella" => "Particella",
        "subalterno" => "Subalterno (facoltativo)",
        _ => "Valore",
    }
}

/// The view of a field with the values in `raw` and its errors.
pub(crate) fn field_view(
    f: &moduli::Field,
    raw: &RawAnswers,
    errors: Option<&FieldErrors>,
) -> FieldView {
    let id = format!("campo-{}", f.id);
    let values = raw.get(&f.id).cloned().unwrap_or_default();
    let value = values.first().cloned().unwrap_or_default();
    let errs: Vec<String> = errors
        .map(|e| {
            e.errors
                .iter()
                .filter(|x| x.field == f.id || x.field.starts_with(&format!("{}.", f.id)))
                .map(|x| x.message.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut describedby = Vec::new();
    if f.help.is_some() {
        describedby.push(format!("{id}-aiuto"));
    }
    if !errs.is_empty() {
        describedby.push(format!("{id}-errore"));
    }
    let sub = |key: &str, n: usize| -> String {
        raw.get(&format!("{}.{key}", f.id))
            .and_then(|v| v.get(n))
            .cloned()
            .unwrap_or_default()
    };
    let subs_at = |n: usize, suffix: &str| -> Vec<SubInput> {
        f.kind
            .sub_keys()
            .iter()
            .map(|k| SubInput {
                id: format!("{id}-{k}{suffix}"),
                name: format!("{}.{k}", f.id),
                label: sub_label(k),
                value: sub(k, n),
            })
            .collect()
    };
    let option = |i: usize, v: &str, label: &str, checked: bool| OptionView {
        id: format!("{id}-{i}"),
        value: v.to_owned(),
        label: label.to_owned(),
        checked,
    };
    let (widget, input_type, inputmode) = match &f.kind {
        FieldKind::TestoLungo => ("textarea", "text", ""),
        FieldKind::Data => ("input", "date", ""),
        FieldKind::Email => ("input", "email", ""),
        FieldKind::Telefono => ("input", "tel", ""),
        FieldKind::Numero => ("input", "text", "numeric"),
        FieldKind::Importo => ("input", "text", "decimal"),
        FieldKind::Scelta { multiple: true, .. } => ("checkbox", "", ""),
        FieldKind::Scelta { options, .. } if options.len() <= 5 => ("radio", "", ""),
        FieldKind::Scelta { .. } => ("select", "", ""),
        FieldKind::SiNo => ("radio", "", ""),
        FieldKind::Indirizzo | FieldKind::Posizione => ("address", "", ""),
        FieldKind::ParticellaCatastale => ("parcels", "", ""),
        _ => ("input", "text", ""),
    };
    let options = match &f.kind {
        FieldKind::Scelta { options, .. } => options
            .iter()
            .enumerate()
            .map(|(i, o)| option(i, &o.value, &o.label, values.contains(&o.value)))
            .collect(),
        FieldKind::SiNo => vec![
            option(0, "si", "Sì", value == "si"),
            option(1, "no", "No", value == "no"),
        ],
        _ => Vec::new(),
    };
    let subs = match &f.kind {
        FieldKind::Indirizzo | FieldKind::Posizione => subs_at(0, ""),
        _ => Vec::new(),
    };
    let rows = if matches!(f.kind, FieldKind::ParticellaCatastale) {
        let filled = f
            .kind
            .sub_keys()
            .iter()
            .map(|k| {
                raw.get(&format!("{}.{k}", f.id)).map_or(0, |v| {
                    v.iter()
                        .rposition(|s| !s.trim().is_empty())
                        .map_or(0, |p| p + 1)
                })
            })
            .max()
            .unwrap_or(0);
        // The rows given, and one empty row to add another.
        (0..=filled).map(|n| subs_at(n, &format!("-{n}"))).collect()
    } else {
        Vec::new()
    };
    FieldView {
        name: f.id.clone(),
        label: f.label.clone(),
        help: f.help.clone(),
        widget,
        input_type,
        inputmode,
        required: f.required,
        value,
        options,
        subs,
        rows,
        errors: errs,
        describedby: describedby.join(" "),
        id,
    }
}

/// The step bar: every visible step, the attachments page when the form
/// has attachments, the summary.
fn step_bar(view: &BozzaView, current: &str) -> Vec<BarItem> {
    let form = &view.definition.definition.form;
    let id = view.bozza.id;
    let mut all_done = true;
    let mut out = Vec::new();
    for s in moduli::visible_steps(form, &view.answers) {
        let done = view.answers.completed_steps.contains(&s.id);
        out.push(BarItem {
            label: s.title.clone(),
            href: (done || s.id == current).then(|| bozza_path(id, &s.id)),
            current: s.id == current,
        });
        all_done &= done;
    }
    if !moduli::applicable_attachments(form, &view.answers).is_empty() {
        out.push(BarItem {
            label: "Allegati".into(),
            href: all_done.then(|| bozza_path(id, ALLEGATI)),
            current: current == ALLEGATI,
        });
    }
    out.push(BarItem {
        label: "Riepilogo".into(),
        href: all_done.then(|| bozza_path(id, RIEPILOGO)),
        current: current == RIEPILOGO,
    });
    out
}

#[derive(Template)]
#[template(path = "istanze/step.html")]
struct StepTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    bozza: i64,
    slug: String,
    title: String,
    bar: Vec<BarItem>,
    position: String,
    step_id: String,
    step_title: String,
    step_help: Option<String>,
    fields: Vec<FieldView>,
    /// (anchor, message) of every error, for the summary at the top.
    errors: Vec<(String, String)>,
    first: bool,
    saved: bool,
}

fn draft_shell<'a>(t: &'a Tenant, title: &str, here: &str) -> Shell<'a> {
    let mut shell = Shell::new(t, format!("{title} – {here}"));
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::link("Le mie pratiche", "/area-personale/pratiche"),
        Crumb::here(title.to_owned()),
    ];
    shell
}

fn render_step(
    t: &Tenant,
    auth: &Auth,
    view: &BozzaView,
    step: &str,
    raw: Option<&RawAnswers>,
    errors: Option<&FieldErrors>,
    saved: bool,
) -> Result<Response, ServiceError> {
    let form = &view.definition.definition.form;
    let s = form
        .step(step)
        .filter(|s| {
            moduli::visible_steps(form, &view.answers)
                .iter()
                .any(|v| v.id == s.id)
        })
        .ok_or(ServiceError::NotFound)?;
    let raw = raw.cloned().unwrap_or_else(|| view.raw_for(step));
    // What the page shows is what the step asks for with the values on it
    // (a condition on a field just above reads what was typed there).
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let fields: Vec<FieldView> = moduli::fields_to_fill(form, s, &view.answers, &raw, today)
        .into_iter()
        .map(|f| field_view(f, &raw, errors))
        .collect();
    let error_list = errors
        .map(|e| {
            e.errors
                .iter()
                .map(|x| {
                    let field = x.field.split('.').next().unwrap_or(&x.field);
                    (format!("campo-{field}"), x.message.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    let (n, total) = moduli::step_position(form, step, &view.answers).unwrap_or((1, 1));
    let tpl = StepTemplate {
        shell: draft_shell(t, &form.title, &s.title),
        csrf: auth.csrf().to_owned(),
        bozza: view.bozza.id.0,
        slug: view.bozza.data.service_slug.clone(),
        title: form.title.clone(),
        bar: step_bar(view, step),
        position: format!("{n}/{total}"),
        step_id: s.id.clone(),
        step_title: s.title.clone(),
        step_help: s.help.clone(),
        fields,
        errors: error_list,
        first: n == 1,
        saved,
    };
    let status = if errors.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(tpl.render(), status))
}

/// One attachment slot as shown.
struct SlotView {
    id: String,
    label: String,
    help: Option<String>,
    required: bool,
    types: String,
    max_files: u32,
    max_mb: u64,
    files: Vec<(i64, String, String)>,
}

#[derive(Template)]
#[template(path = "istanze/allegati.html")]
struct AllegatiTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    bozza: i64,
    slug: String,
    title: String,
    bar: Vec<BarItem>,
    slots: Vec<SlotView>,
    back: String,
    error: Option<String>,
    error_code: &'static str,
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} kB", bytes.div_ceil(1024))
    }
}

fn last_step(view: &BozzaView) -> String {
    moduli::visible_steps(&view.definition.definition.form, &view.answers)
        .last()
        .map(|s| s.id.clone())
        .unwrap_or_default()
}

fn render_allegati(
    t: &Tenant,
    auth: &Auth,
    view: &BozzaView,
    error: Option<&ServiceError>,
) -> Response {
    let form = &view.definition.definition.form;
    let slots = moduli::applicable_attachments(form, &view.answers)
        .into_iter()
        .map(|a| SlotView {
            id: a.id.clone(),
            label: a.label.clone(),
            help: a.help.clone(),
            required: a.required,
            types: a
                .media_types
                .iter()
                .map(|m| m.name())
                .collect::<Vec<_>>()
                .join(", "),
            max_files: a.max_files,
            max_mb: a.max_bytes / (1024 * 1024),
            files: view
                .allegati
                .iter()
                .filter(|x| x.data.spec_id == a.id)
                .map(|x| {
                    (
                        x.id.0,
                        x.data.document.name.clone(),
                        size_text(x.data.document.size),
                    )
                })
                .collect(),
        })
        .collect();
    let tpl = AllegatiTemplate {
        shell: draft_shell(t, &form.title, "Allegati"),
        csrf: auth.csrf().to_owned(),
        bozza: view.bozza.id.0,
        slug: view.bozza.data.service_slug.clone(),
        title: form.title.clone(),
        bar: step_bar(view, ALLEGATI),
        slots,
        back: bozza_path(view.bozza.id, &last_step(view)),
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(tpl.render(), status)
}

struct SectionView {
    title: String,
    edit: String,
    rows: Vec<(String, String)>,
}

struct DeclarationView {
    id: String,
    text: String,
    reference: Option<String>,
}

#[derive(Template)]
#[template(path = "istanze/riepilogo.html")]
struct RiepilogoTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    bozza: i64,
    title: String,
    bar: Vec<BarItem>,
    sections: Vec<SectionView>,
    files: Vec<(String, String)>,
    files_edit: Option<String>,
    declarations: Vec<DeclarationView>,
    key: String,
    back: String,
    errors: Vec<String>,
    error_code: &'static str,
}

fn render_riepilogo(
    t: &Tenant,
    auth: &Auth,
    view: &BozzaView,
    error: Option<&ServiceError>,
) -> Response {
    let form = &view.definition.definition.form;
    let id = view.bozza.id;
    let has_slots = !moduli::applicable_attachments(form, &view.answers).is_empty();
    let tpl = RiepilogoTemplate {
        shell: draft_shell(t, &form.title, "Riepilogo"),
        csrf: auth.csrf().to_owned(),
        bozza: id.0,
        title: form.title.clone(),
        bar: step_bar(view, RIEPILOGO),
        sections: moduli::summary(form, &view.answers)
            .into_iter()
            .map(|s| SectionView {
                edit: bozza_path(id, &s.step_id),
                title: s.title,
                rows: s.rows,
            })
            .collect(),
        files: view
            .allegati
            .iter()
            .map(|a| {
                let slot = form
                    .attachments
                    .iter()
                    .find(|s| s.id == a.data.spec_id)
                    .map_or_else(|| a.data.spec_id.clone(), |s| s.label.clone());
                (slot, a.data.document.name.clone())
            })
            .collect(),
        files_edit: has_slots.then(|| bozza_path(id, ALLEGATI)),
        declarations: moduli::applicable_declarations(form, &view.answers)
            .into_iter()
            .map(|d| DeclarationView {
                id: d.id.clone(),
                text: d.text.clone(),
                reference: d.reference.clone(),
            })
            .collect(),
        key: view.bozza.data.key.clone(),
        back: if has_slots {
            bozza_path(id, ALLEGATI)
        } else {
            bozza_path(id, &last_step(view))
        },
        errors: error
            .map(|e| e.message_it().lines().map(str::to_owned).collect())
            .unwrap_or_default(),
        error_code: error.map_or("", ServiceError::code),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(tpl.render(), status)
}

#[derive(Deserialize, Default)]
struct StepQuery {
    salvata: Option<String>,
}

/// Handles `GET /area-personale/istanze/bozze/{id}/{step}`: a step, the
/// attachments page or the summary.
async fn step_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, step)): Path<(String, String)>,
    Query(q): Query<StepQuery>,
) -> Response {
    let path = format!("/area-personale/istanze/bozze/{id}/{step}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = BozzaId(id_of(&id)?);
        let view = state.app().bozza_view(t.id, &auth.actor, id).await?;
        match step.as_str() {
            ALLEGATI => Ok(render_allegati(&t, &auth, &view, None)),
            RIEPILOGO => Ok(render_riepilogo(&t, &auth, &view, None)),
            s => render_step(&t, &auth, &view, s, None, None, q.salvata.is_some()),
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// Handles `POST /area-personale/istanze/bozze/{id}/{step}`: saves a step
/// (`_azione` = `avanti`, `indietro`, `salva`), or submits from the summary.
async fn step_post(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, step)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let path = format!("/area-personale/istanze/bozze/{id}/{step}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = BozzaId(id_of(&id)?);
        let app = state.app();
        if step == RIEPILOGO {
            let key = pairs
                .iter()
                .find(|(k, _)| k == "_chiave")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let declarations = raw_of(pairs, &["_chiave", "csrf"]);
            return match app
                .submit_bozza(t.id, &auth.actor, id, &key, &declarations)
                .await
            {
                Ok(s) => Ok(see_other(&format!(
                    "/area-personale/pratiche/{}?inviata=1",
                    s.pratica.id.0
                ))),
                Err(e @ ServiceError::Invalid { .. }) => {
                    tracing::info!(code = e.code(), "submission refused");
                    let view = app.bozza_view(t.id, &auth.actor, id).await?;
                    Ok(render_riepilogo(&t, &auth, &view, Some(&e)))
                }
                Err(e) => Err(e),
            };
        }
        if step == ALLEGATI {
            return Ok(see_other(&bozza_path(id, RIEPILOGO)));
        }
        let nav = match pairs
            .iter()
            .find(|(k, _)| k == "_azione")
            .map(|(_, v)| v.as_str())
        {
            Some("indietro") => Nav::Back,
            Some("salva") => Nav::Save,
            _ => Nav::Next,
        };
        let raw = raw_of(pairs, &["csrf", "_azione"]);
        let outcome = app
            .save_bozza_step(t.id, &auth.actor, id, &step, &raw, nav)
            .await?;
        match outcome {
            StepOutcome::Go(Some(s)) if nav == Nav::Save => {
                Ok(see_other(&format!("{}?salvata=1", bozza_path(id, &s))))
            }
            StepOutcome::Go(Some(s)) => Ok(see_other(&bozza_path(id, &s))),
            StepOutcome::Go(None) => {
                let view = app.bozza_view(t.id, &auth.actor, id).await?;
                let form = &view.definition.definition.form;
                let next = if moduli::applicable_attachments(form, &view.answers).is_empty() {
                    RIEPILOGO
                } else {
                    ALLEGATI
                };
                Ok(see_other(&bozza_path(id, next)))
            }
            StepOutcome::Invalid(errors) => {
                let view = app.bozza_view(t.id, &auth.actor, id).await?;
                render_step(&t, &auth, &view, &step, Some(&raw), Some(&errors), false)
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// The file and slot of an upload form (the file read into memory, at
/// most [`MAX_FILE`]).
async fn read_slot_upload(
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(BTreeMap<String, String>, Vec<(String, Vec<u8>)>), ServiceError> {
    let bad = || {
        invalid(
            "upload_invalid",
            "Il caricamento non è andato a buon fine: riprova.",
        )
    };
    let mut mp = mp.map_err(|_| bad())?;
    let mut fields = BTreeMap::new();
    let mut files = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| bad())? {
                    if bytes.len() + chunk.len() > MAX_FILE {
                        return Err(invalid("allegato_troppo_grande", "Il file supera i 50 MB."));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if !file_name.trim().is_empty() && !bytes.is_empty() {
                    files.push((file_name, bytes));
                }
            }
            None => {
                let text = field.text().await.map_err(|_| bad())?;
                if text.len() > 64 * 1024 {
                    return Err(invalid("campo_troppo_lungo", "Il testo è troppo lungo."));
                }
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

/// Handles `POST /area-personale/istanze/bozze/{id}/allegati/carica`
/// (multipart: `slot`, `file`).
async fn upload(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = format!("/area-personale/istanze/bozze/{id}/{ALLEGATI}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = BozzaId(id_of(&id)?);
        let app = state.app();
        // The draft must be the user's before anything is read.
        app.bozza_view(t.id, &auth.actor, id).await?;
        let outcome = async {
            let (fields, mut files) = read_slot_upload(mp).await?;
            let Some((name, bytes)) = files.pop() else {
                return Err(invalid("allegato_mancante", "Scegli il file da caricare."));
            };
            let spec_id = fields.get("slot").cloned().unwrap_or_default();
            app.upload_to_bozza(
                t.id,
                &auth.actor,
                id,
                Upload {
                    spec_id,
                    name,
                    bytes,
                },
            )
            .await
        }
        .await;
        match outcome {
            Ok(_) => Ok(see_other(&bozza_path(id, ALLEGATI))),
            Err(e @ ServiceError::Invalid { .. }) => {
                tracing::info!(code = e.code(), "draft upload refused");
                let view = app.bozza_view(t.id, &auth.actor, id).await?;
                Ok(render_allegati(&t, &auth, &view, Some(&e)))
            }
            Err(e) => Err(e),
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// Handles `POST /area-personale/istanze/bozze/{id}/allegati/{n}/elimina`.
async fn remove(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    let path = format!("/area-personale/istanze/bozze/{id}/{ALLEGATI}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = BozzaId(id_of(&id)?);
        let n = AllegatoId(id_of(&n)?);
        state
            .app()
            .remove_from_bozza(t.id, &auth.actor, id, n)
            .await?;
        Ok(see_other(&bozza_path(id, ALLEGATI)))
    }
    .await;
    result.unwrap_or_else(|e: ServiceError| needs(&path, e))
}

/// Handles `POST /area-personale/istanze/elimina/{id}`: deletes a draft.
async fn discard(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = BozzaId(id_of(&id)?);
        state.app().discard_bozza(t.id, &auth.actor, id).await?;
        Ok(see_other("/area-personale/pratiche?eliminata=1"))
    }
    .await;
    result.unwrap_or_else(|e: ServiceError| needs("/area-personale/pratiche", e))
}

// ---------------------------------------------------------------------------
// Le mie pratiche
// ---------------------------------------------------------------------------

struct PraticaRow {
    id: i64,
    service: String,
    protocol: String,
    submitted: String,
    state: String,
    deadline: String,
    closed: bool,
}

struct BozzaRow {
    id: i64,
    service: String,
    updated: String,
    resume: String,
}

#[derive(Template)]
#[template(path = "istanze/pratiche.html")]
struct ListTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    pratiche: Vec<PraticaRow>,
    bozze: Vec<BozzaRow>,
    notice: Option<&'static str>,
    nav: Vec<crate::area_personale::NavItem>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    eliminata: Option<String>,
}

/// Handles `GET /area-personale/pratiche`.
async fn my_list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Response {
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let app = state.app();
        let portal = app.portal(t.id).await?;
        let title = |slug: &str| {
            portal
                .service(slug)
                .map_or_else(|| slug.to_owned(), |s| s.data.title.clone())
        };
        let mut pratiche = Vec::new();
        for p in app.my_pratiche(t.id, &auth.actor).await? {
            let protocol = match app.my_pratica(t.id, &auth.actor, p.id).await {
                Ok(v) => v
                    .registration
                    .map(|r| format!("{}/{}", r.number, r.year))
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            pratiche.push(PraticaRow {
                id: p.id.0,
                service: title(&p.data.service_slug),
                protocol,
                submitted: rome(p.data.submitted_at),
                state: state_label(&p.data.state),
                deadline: p.data.deadline.map(date_it).unwrap_or_default(),
                closed: p.closed_at.is_some(),
            });
        }
        let bozze = app
            .my_bozze(t.id, &auth.actor)
            .await?
            .into_iter()
            .map(|b| BozzaRow {
                id: b.id.0,
                service: title(&b.data.service_slug),
                updated: rome(b.updated_at),
                resume: bozza_path(b.id, &b.data.step),
            })
            .collect();
        let mut shell = Shell::new(&t, "Le mie pratiche");
        shell.breadcrumb = vec![
            Crumb::link("Home", "/"),
            Crumb::link("Area personale", "/area-personale"),
            Crumb::here("Le mie pratiche"),
        ];
        let tpl = ListTemplate {
            shell,
            csrf: auth.csrf().to_owned(),
            pratiche,
            bozze,
            notice: q.eliminata.map(|_| "La bozza è stata eliminata."),
            nav: crate::area_personale::nav("/area-personale/pratiche"),
        };
        Ok(render(tpl.render(), StatusCode::OK))
    }
    .await;
    result.unwrap_or_else(|e: ServiceError| needs("/area-personale/pratiche", e))
}

struct EventRow {
    seq: u32,
    date: String,
    label: String,
    state: String,
    note: Option<String>,
    role: String,
    public: bool,
    registration: Option<i64>,
}

struct DocRow {
    n: usize,
    name: String,
    size: String,
    what: String,
}

struct ActionView {
    code: &'static str,
    label: &'static str,
    files: bool,
    confirm: bool,
    note_required: bool,
}

/// The clock as shown.
struct ClockView {
    received: String,
    deadline: String,
    days_left: Option<i64>,
    suspended_days: i64,
    paused_until: Option<String>,
    overdue: bool,
    late_statement: Option<String>,
}

fn clock_view(c: &Clock) -> ClockView {
    ClockView {
        received: date_it(c.received),
        deadline: date_it(c.deadline),
        days_left: c.days_left,
        suspended_days: c.suspended_days,
        paused_until: c.paused_until.map(date_it),
        overdue: c.overdue,
        late_statement: c.late_statement.clone(),
    }
}

fn event_rows(eventi: &[PraticaEvento]) -> Vec<EventRow> {
    eventi
        .iter()
        .map(|e| EventRow {
            seq: e.seq,
            date: rome(e.data.at),
            label: event_label(&e.data.action),
            state: state_label(&e.data.to_state),
            note: e.data.note.clone(),
            role: e.data.role.clone(),
            public: e.data.public,
            registration: e.data.registration.map(|r| r.0),
        })
        .collect()
}

fn action_views(view: &PraticaView) -> Vec<ActionView> {
    view.actions
        .iter()
        .map(|&a| ActionView {
            code: a.code(),
            label: action_label(a),
            files: matches!(a, Azione::Integrazione | Azione::Osservazioni),
            confirm: matches!(a, Azione::Ritiro),
            note_required: matches!(
                a,
                Azione::Accoglimento
                    | Azione::Rigetto
                    | Azione::DivietoProsecuzione
                    | Azione::Improcedibilita
                    | Azione::RichiestaIntegrazione
                    | Azione::PreavvisoRigetto
            ),
        })
        .collect()
}

/// The citizen's documents of a pratica: the istanza (0), then its files.
fn citizen_docs(view: &PraticaView) -> Vec<DocRow> {
    let mut out = Vec::new();
    if let Some(r) = &view.registration {
        out.push(DocRow {
            n: 0,
            name: r.data.primary.name.clone(),
            size: size_text(r.data.primary.size),
            what: "Istanza presentata".into(),
        });
    }
    let form = &view.definition.definition.form;
    for (i, a) in view.allegati.iter().enumerate() {
        let what = form
            .attachments
            .iter()
            .find(|s| s.id == a.data.spec_id)
            .map(|s| s.label.clone())
            .or_else(|| azione_of(&a.data.spec_id).map(|x| action_label(x).to_owned()))
            .unwrap_or_else(|| a.data.spec_id.clone());
        out.push(DocRow {
            n: i + 1,
            name: a.data.document.name.clone(),
            size: size_text(a.data.document.size),
            what,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "istanze/pratica.html")]
struct PraticaTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    id: i64,
    title: String,
    subject: String,
    protocol: String,
    protocol_date: String,
    office: String,
    state: String,
    closed: bool,
    responsabile: Option<String>,
    messages: Vec<ufficio::MsgRow>,
    clock: ClockView,
    silenzio_assenso: bool,
    submitted: bool,
    events: Vec<EventRow>,
    docs: Vec<DocRow>,
    actions: Vec<ActionView>,
    expected_state: String,
    error: Option<String>,
    error_code: &'static str,
    notice: Option<&'static str>,
    /// The rating component at the end of the service (C.SE.1.7).
    rating: Option<RatingBox>,
}

#[derive(Deserialize, Default)]
struct PraticaQuery {
    inviata: Option<String>,
    fatto: Option<String>,
}

/// The rating component of the end of an online service (C.SE.1.7,
/// DECISIONS 30), rating the service's card page.
fn service_rating(state: &AppState, t: &Tenant, card_path: String) -> RatingBox {
    let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or_default();
    let ticket = crate::portal::ticket::issue(&state.config().secret, t.id, &card_path, now);
    RatingBox {
        page: card_path,
        ticket,
        state: RatingState::Form,
        service: true,
    }
}

async fn render_pratica(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: PraticaId,
    q: &PraticaQuery,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::OwnProfile)?;
    let app = state.app();
    let view = app.my_pratica(t.id, &auth.actor, id).await?;
    let portal = app.portal(t.id).await?;
    let card = portal.service(&view.pratica.data.service_slug);
    let title = card.map_or_else(
        || view.definition.definition.form.title.clone(),
        |c| c.data.title.clone(),
    );
    let submitted = q.inviata.is_some();
    let mut shell = Shell::new(t, format!("Pratica – {title}"));
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::link("Le mie pratiche", "/area-personale/pratiche"),
        Crumb::here(title.clone()),
    ];
    let rating = card.filter(|_| submitted).map(|c| {
        let path = format!("/servizi/{}/{}", c.data.category.slug(), c.data.slug);
        service_rating(state, t, path)
    });
    let p = &view.pratica;
    let tpl = PraticaTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        id: p.id.0,
        title,
        subject: p.data.subject.clone(),
        protocol: view
            .registration
            .as_ref()
            .map(|r| format!("{}/{}", r.number, r.year))
            .unwrap_or_default(),
        protocol_date: view
            .registration
            .as_ref()
            .map(|r| rome(r.registered_at))
            .unwrap_or_default(),
        office: view.office.clone(),
        state: state_label(&p.data.state),
        closed: p.closed_at.is_some(),
        responsabile: view.responsabile.clone(),
        messages: ufficio::msg_rows(&view, false),
        clock: clock_view(&view.clock),
        silenzio_assenso: view.definition.definition.procedure.silenzio_assenso,
        submitted,
        events: event_rows(&view.eventi),
        docs: citizen_docs(&view),
        actions: action_views(&view),
        expected_state: p.data.state.clone(),
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
        notice: q
            .fatto
            .as_ref()
            .map(|_| "La tua comunicazione è stata registrata."),
        rating,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(tpl.render(), status))
}

/// Handles `GET /area-personale/pratiche/{id}`.
async fn my_detail(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Query(q): Query<PraticaQuery>,
) -> Response {
    let path = format!("/area-personale/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = PraticaId(id_of(&id)?);
        render_pratica(&state, &t, &auth, id, &q, None).await
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// Handles `POST /area-personale/pratiche/{id}/azioni` (multipart:
/// `azione`, `stato`, `nota`, `file`…).
async fn my_act(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = format!("/area-personale/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = PraticaId(id_of(&id)?);
        let app = state.app();
        // The pratica must be the user's before anything is read.
        app.my_pratica(t.id, &auth.actor, id).await?;
        let outcome = async {
            let (fields, files) = read_slot_upload(mp).await?;
            let action = fields
                .get("azione")
                .and_then(|a| azione_of(a))
                .ok_or_else(|| invalid("pratica_azione", "Scegli l'azione da compiere."))?;
            let input = ActInput {
                action,
                expected_state: fields.get("stato").cloned().unwrap_or_default(),
                note: fields.get("nota").cloned(),
                files: files
                    .into_iter()
                    .map(|(name, bytes)| Upload {
                        spec_id: action.code().to_owned(),
                        name,
                        bytes,
                    })
                    .collect(),
            };
            app.act_on_pratica(t.id, &auth.actor, id, input).await
        }
        .await;
        citizen_outcome(&state, &t, &auth, id, outcome, "step").await
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// The answer to what the applicant posted on their pratica (a step, a
/// message): back to the pratica with "fatto", or the pratica's page again
/// with the refusal and its code; other errors go up.
pub(super) async fn citizen_outcome<T>(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: PraticaId,
    outcome: Result<T, ServiceError>,
    what: &'static str,
) -> Result<Response, ServiceError> {
    match outcome {
        Ok(_) => Ok(see_other(&format!(
            "/area-personale/pratiche/{}?fatto=1",
            id.0
        ))),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), what, "citizen post refused");
            render_pratica(state, t, auth, id, &PraticaQuery::default(), Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

/// Handles `GET /area-personale/pratiche/{id}/documenti/{n}`: the istanza
/// (0) or one of its files, for the applicant only.
async fn my_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    let path = format!("/area-personale/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = PraticaId(id_of(&id)?);
        let n = usize::try_from(id_of(&n)?).map_err(|_| ServiceError::NotFound)?;
        let app = state.app();
        let view = app.my_pratica(t.id, &auth.actor, id).await?;
        let doc = if n == 0 {
            view.registration.as_ref().map(|r| r.data.primary.clone())
        } else {
            view.allegati.get(n - 1).map(|a| a.data.document.clone())
        }
        .ok_or(ServiceError::NotFound)?;
        crate::upload::private_file(app, &doc).await
    }
    .await;
    result.unwrap_or_else(|e: ServiceError| needs(&path, e))
}

/// Handles `GET /area-personale/pratiche/{id}/passi/{seq}/documento`: the
/// document of a step the applicant sees (the provvedimento, a request of
/// the office, their own integration as registered), for the applicant
/// only.
async fn my_step_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, seq)): Path<(String, String)>,
) -> Response {
    let path = format!("/area-personale/pratiche/{id}");
    let result = async {
        let id = PraticaId(id_of(&id)?);
        let seq = u32::try_from(id_of(&seq)?).map_err(|_| ServiceError::NotFound)?;
        let app = state.app();
        let (_, doc) = app.my_pratica_document(t.id, &auth.actor, id, seq).await?;
        crate::upload::private_file(app, &doc).await
    }
    .await;
    result.unwrap_or_else(|e: ServiceError| needs(&path, e))
}

// ---------------------------------------------------------------------------
// Back office
// ---------------------------------------------------------------------------

struct OfficeRow {
    id: i64,
    service: String,
    applicant: String,
    protocol_date: String,
    office: String,
    state: String,
    deadline: String,
    days_left: String,
    overdue: bool,
    near: bool,
    paused_until: Option<String>,
    /// Assigned by name to the staff member (art. 5).
    mine: bool,
}

#[derive(Template)]
#[template(path = "backoffice/pratiche.html")]
struct OfficeListTemplate<'a> {
    shell: Shell<'a>,
    rows: Vec<OfficeRow>,
    /// How many rows are assigned to the staff member.
    mine: usize,
}

/// Handles `GET /backoffice/pratiche`: the open pratiche of the staff
/// member's offices, overdue first, then by deadline.
async fn office_list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let app = state.app();
        let portal = app.portal(t.id).await?;
        let principal = &auth.actor.principal;
        let offices: Vec<OfficeId> = if principal.can(Permission::SeeAllOffices) {
            portal.offices.iter().map(|o| o.id).collect()
        } else {
            principal.work_offices().into_iter().map(OfficeId).collect()
        };
        let mut all = Vec::new();
        for o in offices {
            match app.office_pratiche(t.id, &auth.actor, o).await {
                Ok(list) => all.extend(list),
                Err(ServiceError::Forbidden) => {}
                Err(e) => return Err(e),
            }
        }
        all.sort_by_key(|(p, c)| (!c.overdue, c.deadline, p.id));
        let rows: Vec<OfficeRow> = all
            .into_iter()
            .map(|(p, c)| OfficeRow {
                id: p.id.0,
                service: portal
                    .service(&p.data.service_slug)
                    .map_or_else(|| p.data.service_slug.clone(), |s| s.data.title.clone()),
                applicant: p.data.applicant_name.clone(),
                protocol_date: rome(p.data.submitted_at),
                office: portal
                    .office(p.data.office)
                    .map(|o| o.data.name.clone())
                    .unwrap_or_default(),
                state: state_label(&p.data.state),
                deadline: date_it(c.deadline),
                days_left: c.days_left.map(|d| d.to_string()).unwrap_or_default(),
                overdue: c.overdue,
                near: !c.overdue && c.days_left.is_some_and(|d| d <= NEAR_DUE_DAYS),
                paused_until: c.paused_until.map(date_it),
                mine: auth.actor.user.is_some() && p.data.responsabile == auth.actor.user,
            })
            .collect();
        let mut shell = Shell::new(&t, "Pratiche online");
        shell.breadcrumb = vec![
            Crumb::link("Home", "/"),
            Crumb::link("Area riservata", "/backoffice"),
            Crumb::here("Pratiche online"),
        ];
        let mine = rows.iter().filter(|r| r.mine).count();
        let tpl = OfficeListTemplate { shell, rows, mine };
        Ok(render(tpl.render(), StatusCode::OK))
    }
    .await;
    result.unwrap_or_else(|e: ServiceError| needs("/backoffice/pratiche", e))
}

#[derive(Template)]
#[template(path = "backoffice/pratica.html")]
struct OfficeDetailTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    id: i64,
    title: String,
    subject: String,
    applicant: String,
    protocol: String,
    registration: Option<i64>,
    office: String,
    state: String,
    role: &'static str,
    closed: bool,
    responsabile: Option<String>,
    can_assign: bool,
    members: Vec<(i64, String)>,
    other_offices: Vec<(i64, String)>,
    pareri: Vec<ufficio::ParereRow>,
    messages: Vec<ufficio::MsgRow>,
    clock: ClockView,
    events: Vec<EventRow>,
    actions: Vec<ActionView>,
    expected_state: String,
    error: Option<String>,
    error_code: &'static str,
    notice: Option<&'static str>,
}

async fn render_office(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: PraticaId,
    done: bool,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::WorkOfficeCases)?;
    let app = state.app();
    let view = app.office_pratica(t.id, &auth.actor, id).await?;
    let portal = app.portal(t.id).await?;
    let p = &view.pratica;
    let title = portal
        .service(&p.data.service_slug)
        .map_or_else(|| p.data.service_slug.clone(), |s| s.data.title.clone());
    let mut shell = Shell::new(t, format!("Pratica – {title}"));
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area riservata", "/backoffice"),
        Crumb::link("Pratiche online", "/backoffice/pratiche"),
        Crumb::here(title.clone()),
    ];
    let tpl = OfficeDetailTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        id: p.id.0,
        title,
        subject: p.data.subject.clone(),
        applicant: p.data.applicant_name.clone(),
        protocol: view
            .registration
            .as_ref()
            .map(|r| format!("{}/{} del {}", r.number, r.year, rome(r.registered_at)))
            .unwrap_or_default(),
        registration: view.registration.as_ref().map(|r| r.id.0),
        office: view.office.clone(),
        state: state_label(&p.data.state),
        role: view.role.code(),
        closed: p.closed_at.is_some(),
        responsabile: view.responsabile.clone(),
        can_assign: view.role != palazzo_domain::procedimento::Ruolo::Operatore,
        members: app
            .office_members(t.id, &auth.actor, p.data.office)
            .await?
            .into_iter()
            .map(|(u, n)| (u.0, n))
            .collect(),
        other_offices: portal
            .offices
            .iter()
            .filter(|o| o.id != p.data.office)
            .map(|o| (o.id.0, o.data.name.clone()))
            .collect(),
        pareri: ufficio::parere_rows(&portal, &view.pareri),
        messages: ufficio::msg_rows(&view, true),
        clock: clock_view(&view.clock),
        events: event_rows(&view.eventi),
        actions: action_views(&view),
        expected_state: p.data.state.clone(),
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
        notice: done.then_some("L'azione è stata registrata."),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(tpl.render(), status))
}

/// Handles `GET /backoffice/pratiche/{id}`.
async fn office_detail(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Query(q): Query<PraticaQuery>,
) -> Response {
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(&id)?);
        render_office(&state, &t, &auth, id, q.fatto.is_some(), None).await
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

#[derive(Deserialize, Default)]
struct ActForm {
    #[serde(default)]
    azione: String,
    #[serde(default)]
    stato: String,
    #[serde(default)]
    nota: String,
}

/// Handles `POST /backoffice/pratiche/{id}/azioni`.
async fn office_act(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    ufficio::office_step(&state, &t, &auth, &id, ufficio::done, async |id| {
        let Some(action) = azione_of(&form.azione) else {
            return Err(invalid("pratica_azione", "Scegli l'azione da compiere."));
        };
        let input = ActInput {
            action,
            expected_state: form.stato.clone(),
            note: Some(form.nota.clone()),
            files: Vec::new(),
        };
        state
            .app()
            .act_on_pratica(t.id, &auth.actor, id, input)
            .await
    })
    .await
}
