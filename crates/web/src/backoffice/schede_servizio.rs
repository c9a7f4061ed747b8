//! The back office's catalogue of service cards (issue 6, part 1: "admins
//! create and edit services … from the back office without code"): the
//! comune's administrators ([`Permission::ManageCatalogue`]) list the cards
//! of the catalogue, create one and edit one — the public scheda servizio
//! of the modello Comuni (C.SI.1.3 sections, C.SI.1.5 argomenti, C.SI.1.7
//! category) — without JavaScript. The online service's form and procedure
//! are then built on the card in the editor of [`super::servizi_online`].
//!
//! Every problem of the card is shown next to its field (`role="alert"`,
//! linked by `aria-describedby`) and in a summary at the top, with a 422
//! and everything typed kept; nothing is saved until the card is whole.
//! A card's identificativo never changes once created (the online service,
//! its pratiche and the portal's addresses name it).
//!
//! Routes:
//! * `GET /backoffice/schede-servizio`: the cards, with their state;
//! * `GET /backoffice/schede-servizio/nuova`, `POST /backoffice/schede-servizio`;
//! * `GET|POST /backoffice/schede-servizio/{slug}/modifica`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use palazzo_domain::access::Permission;
use palazzo_domain::portal::{ServiceCategory, ServiceStatus, TOPICS};
use palazzo_services::ServiceError;
use palazzo_services::import::ServiceEntry;
use palazzo_services::tenants::{CardProblem, service_card_tag};
use palazzo_store::{NewService, OfficeId, Tenant};
use serde::Deserialize;

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, see_other};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};

const LIST: &str = "/backoffice/schede-servizio";
const NEW: &str = "/backoffice/schede-servizio/nuova";

/// The routes of this module.
pub fn router() -> Routes {
    let admin = Access::Needs(Permission::ManageCatalogue);
    Routes::new()
        .get(LIST, admin, list_page)
        .post(LIST, admin, create)
        .get(NEW, admin, new_page)
        .get(
            "/backoffice/schede-servizio/{slug}/modifica",
            admin,
            edit_page,
        )
        .post("/backoffice/schede-servizio/{slug}/modifica", admin, update)
}

// ---------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------

struct CardRow {
    slug: String,
    title: String,
    category: &'static str,
    office: String,
    active: bool,
    online: bool,
}

#[derive(Template)]
#[template(path = "backoffice/schede_servizio.html")]
struct ListTemplate<'a> {
    shell: Shell<'a>,
    rows: Vec<CardRow>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    salvata: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Response {
    match render_list(&state, &t, &auth, q.salvata).await {
        Ok(r) => r,
        Err(e) => needs(LIST, e),
    }
}

async fn render_list(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    saved: Option<String>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::ManageCatalogue)?;
    let app = state.app();
    let snap = app.portal(t.id).await?;
    let online: Vec<String> = app
        .service_definitions(t.id)
        .await?
        .iter()
        .map(|d| d.definition.service.clone())
        .collect();
    let mut rows: Vec<CardRow> = snap
        .services
        .iter()
        .map(|s| CardRow {
            slug: s.data.slug.clone(),
            title: s.data.title.clone(),
            category: s.data.category.label(),
            office: snap
                .office(s.data.office)
                .map(|o| o.data.name.clone())
                .unwrap_or_default(),
            active: s.data.status == ServiceStatus::Active,
            online: online.contains(&s.data.slug),
        })
        .collect();
    rows.sort_by(|a, b| a.title.cmp(&b.title));
    // Announced only for a card that exists: the query string is not trusted.
    let notice = saved
        .and_then(|slug| rows.iter().find(|r| r.slug == slug))
        .map(|r| format!("Scheda «{}» salvata e pubblicata sul portale.", r.title));
    let tpl = ListTemplate {
        shell: shell(t, "Schede dei servizi", "Schede dei servizi"),
        rows,
        notice,
    };
    Ok(render(tpl, StatusCode::OK))
}

// ---------------------------------------------------------------------------
// The form
// ---------------------------------------------------------------------------

/// One text input or textarea of the form.
struct TextInput {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    /// Rows of a textarea; 0 for a one-line input.
    rows: u8,
    value: String,
    errors: Vec<String>,
    /// The stable code of the first error, for machines (`data-code`).
    code: &'static str,
}

impl TextInput {
    fn id(&self) -> String {
        format!("scheda-{}", self.name.replace('_', "-"))
    }
}

/// The long text sections of the card, in the order the portal shows them
/// (C.SI.1.3): JSON name, label, hint, textarea rows.
const SECTIONS: [(&str, &str, &str, u8); 10] = [
    (
        "summary",
        "Descrizione breve",
        "Al massimo 300 caratteri: appare negli elenchi e nei risultati di ricerca.",
        3,
    ),
    ("audience", "A chi è rivolto", "", 3),
    ("how_to", "Come fare", "", 4),
    ("needed", "Cosa serve", "", 3),
    ("achieved", "Cosa si ottiene", "", 3),
    ("times", "Tempi e scadenze", "", 3),
    (
        "costs",
        "Quanto costa",
        "Obbligatorio se il servizio è a pagamento; vuoto se è gratuito.",
        2,
    ),
    (
        "access",
        "Accedi al servizio",
        "Come si accede: online, allo sportello, su appuntamento.",
        3,
    ),
    (
        "online_url",
        "Indirizzo del servizio online",
        "Un percorso del portale (ad esempio /area-personale/istanze/nome-servizio) o un indirizzo https://; vuoto se il servizio non è online.",
        0,
    ),
    ("conditions", "Condizioni di servizio", "", 3),
];

#[derive(Template)]
#[template(path = "backoffice/scheda_servizio.html")]
struct FormTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    /// Where the form posts.
    action: String,
    /// The slug of the card being edited (`None` for a new card).
    editing: Option<String>,
    slug: TextInput,
    title: TextInput,
    category: String,
    categories: Vec<(&'static str, &'static str)>,
    office: String,
    offices: Vec<(String, String)>,
    /// Is `office` one of `offices`? Else the placeholder is selected.
    office_known: bool,
    office_errors: Vec<String>,
    office_code: &'static str,
    /// The [`service_card_tag`] of the card being edited.
    seen: String,
    active: bool,
    category_errors: Vec<String>,
    status_errors: Vec<String>,
    reason: TextInput,
    sections: Vec<TextInput>,
    topics: Vec<(usize, &'static str, bool)>,
    topic_errors: Vec<String>,
    topic_code: &'static str,
    service_type: TextInput,
    audience_type: TextInput,
    /// (anchor, message) of every problem, for the summary at the top.
    summary: Vec<(String, String)>,
}

/// The card as the form posts it: the responsible office by slug, the
/// argomenti as repeated `topics`, the text as typed; with the problems of
/// the choices the form offers but a tampered post may not respect (a
/// category or state outside the lists).
fn entry_from(
    pairs: &[(String, String)],
    editing: Option<&str>,
) -> (ServiceEntry, Vec<CardProblem>) {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n").trim().to_owned())
            .unwrap_or_default()
    };
    let optional = |name: &str| Some(get(name)).filter(|v| !v.is_empty());
    let mut problems = Vec::new();
    let status = match get("status").as_str() {
        "inactive" => ServiceStatus::Inactive {
            reason: get("status_reason"),
        },
        "active" => ServiceStatus::Active,
        _ => {
            problems.push(CardProblem {
                field: "status",
                code: "service_status_unknown",
                message: "Indica se il servizio è attivo.".into(),
            });
            ServiceStatus::Active
        }
    };
    let category = ServiceCategory::from_slug(&get("category")).unwrap_or_else(|| {
        problems.push(CardProblem {
            field: "category",
            code: "service_category_unknown",
            message: "Scegli una delle categorie del modello Comuni.".into(),
        });
        ServiceCategory::ALL[0]
    });
    let entry = ServiceEntry {
        ufficio: get("ufficio"),
        scheda: NewService {
            slug: editing.map_or_else(|| get("slug"), str::to_owned),
            category,
            title: get("title"),
            status,
            summary: get("summary"),
            audience: get("audience"),
            how_to: get("how_to"),
            needed: get("needed"),
            achieved: get("achieved"),
            times: get("times"),
            costs: optional("costs"),
            access: get("access"),
            online_url: optional("online_url"),
            conditions: get("conditions"),
            office: OfficeId::default(),
            topics: pairs
                .iter()
                .filter(|(k, _)| k == "topics")
                .map(|(_, v)| v.clone())
                .collect(),
            service_type: get("service_type"),
            audience_type: get("audience_type"),
        },
    };
    (entry, problems)
}

/// The form for `entry`, with `problems` next to their fields; `seen` is
/// the tag of the card the editing started from.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    editing: Option<&str>,
    entry: &ServiceEntry,
    seen: &str,
    problems: &[CardProblem],
    status: StatusCode,
) -> Result<Response, ServiceError> {
    let snap = state.app().portal(t.id).await?;
    let s = &entry.scheda;
    let errors_of = |field: &str| -> Vec<String> {
        problems
            .iter()
            .filter(|p| p.field == field)
            .map(|p| p.message.clone())
            .collect()
    };
    let code_of = |field: &str| -> &'static str {
        problems
            .iter()
            .find(|p| p.field == field)
            .map_or("", |p| p.code)
    };
    let text =
        |name: &'static str, label: &'static str, hint: &'static str, rows: u8, value: &str| {
            TextInput {
                name,
                label,
                hint,
                rows,
                value: value.to_owned(),
                errors: errors_of(name),
                code: code_of(name),
            }
        };
    let value_of = |name: &str| -> String {
        match name {
            "summary" => s.summary.clone(),
            "audience" => s.audience.clone(),
            "how_to" => s.how_to.clone(),
            "needed" => s.needed.clone(),
            "achieved" => s.achieved.clone(),
            "times" => s.times.clone(),
            "costs" => s.costs.clone().unwrap_or_default(),
            "access" => s.access.clone(),
            "online_url" => s.online_url.clone().unwrap_or_default(),
            _ => s.conditions.clone(),
        }
    };
    let anchor = |field: &str| match field {
        "ufficio" => "scheda-ufficio".to_owned(),
        "topics" => "scheda-argomenti".to_owned(),
        "status" => "scheda-status-active".to_owned(),
        // On an edit the identificativo is text, not an input.
        "slug" if editing.is_some() => "modulo-scheda".to_owned(),
        "" => "modulo-scheda".to_owned(),
        f => format!("scheda-{}", f.replace('_', "-")),
    };
    let reason = match &s.status {
        ServiceStatus::Inactive { reason } => reason.clone(),
        ServiceStatus::Active => String::new(),
    };
    let title = match editing {
        Some(_) => "Modifica la scheda del servizio",
        None => "Nuova scheda del servizio",
    };
    let tpl = FormTemplate {
        shell: shell(t, title, title),
        csrf: auth.csrf().to_owned(),
        action: editing.map_or_else(
            || LIST.to_owned(),
            |slug| format!("/backoffice/schede-servizio/{slug}/modifica"),
        ),
        editing: editing.map(str::to_owned),
        slug: text(
            "slug",
            "Identificativo",
            "Lettere minuscole, cifre e trattini: è l'indirizzo della scheda (/servizi/categoria/identificativo) e non si potrà cambiare.",
            0,
            &s.slug,
        ),
        title: text("title", "Titolo", "Al massimo 160 caratteri.", 0, &s.title),
        category: s.category.slug().to_owned(),
        categories: ServiceCategory::ALL
            .iter()
            .map(|c| (c.slug(), c.label()))
            .collect(),
        office: entry.ufficio.clone(),
        offices: snap
            .offices
            .iter()
            .map(|o| (o.data.slug.clone(), o.data.name.clone()))
            .collect(),
        office_known: snap.office_by_slug(&entry.ufficio).is_some(),
        office_errors: errors_of("ufficio"),
        office_code: code_of("ufficio"),
        seen: seen.to_owned(),
        active: s.status == ServiceStatus::Active,
        category_errors: errors_of("category"),
        status_errors: errors_of("status"),
        reason: text(
            "status_reason",
            "Motivo per cui il servizio non è attivo",
            "Mostrato ai cittadini sulla scheda.",
            2,
            &reason,
        ),
        sections: SECTIONS
            .iter()
            .map(|(name, label, hint, rows)| text(name, label, hint, *rows, &value_of(name)))
            .collect(),
        topics: TOPICS
            .iter()
            .enumerate()
            .map(|(i, topic)| (i, *topic, s.topics.iter().any(|x| x == topic)))
            .collect(),
        topic_errors: errors_of("topics"),
        topic_code: code_of("topics"),
        service_type: text(
            "service_type",
            "Tipo di servizio",
            "Per i dati strutturati della scheda (schema.org serviceType), ad esempio «Anagrafe e stato civile».",
            0,
            &s.service_type,
        ),
        audience_type: text(
            "audience_type",
            "Tipo di destinatari",
            "Per i dati strutturati della scheda (schema.org audienceType), ad esempio «cittadini» o «imprese».",
            0,
            &s.audience_type,
        ),
        summary: problems
            .iter()
            .map(|p| (anchor(p.field), p.message.clone()))
            .collect(),
    };
    Ok(render(tpl, status))
}

fn blank() -> ServiceEntry {
    ServiceEntry {
        ufficio: String::new(),
        scheda: NewService {
            slug: String::new(),
            category: ServiceCategory::ALL[0],
            title: String::new(),
            status: ServiceStatus::Active,
            summary: String::new(),
            audience: String::new(),
            how_to: String::new(),
            needed: String::new(),
            achieved: String::new(),
            times: String::new(),
            costs: None,
            access: String::new(),
            online_url: None,
            conditions: String::new(),
            office: OfficeId::default(),
            topics: Vec::new(),
            service_type: String::new(),
            audience_type: "cittadini".into(),
        },
    }
}

async fn new_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    let out = async {
        auth.actor.require(Permission::ManageCatalogue)?;
        form_page(&state, &t, &auth, None, &blank(), "", &[], StatusCode::OK).await
    };
    match out.await {
        Ok(r) => r,
        Err(e) => needs(NEW, e),
    }
}

async fn edit_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
) -> Response {
    let out = async {
        auth.actor.require(Permission::ManageCatalogue)?;
        let snap = state.app().portal(t.id).await?;
        let card = snap.service(&slug).ok_or(ServiceError::NotFound)?;
        let entry = ServiceEntry {
            ufficio: snap
                .office(card.data.office)
                .map(|o| o.data.slug.clone())
                .unwrap_or_default(),
            scheda: card.data.clone(),
        };
        let seen = service_card_tag(card)?;
        form_page(
            &state,
            &t,
            &auth,
            Some(&slug),
            &entry,
            &seen,
            &[],
            StatusCode::OK,
        )
        .await
    };
    match out.await {
        Ok(r) => r,
        Err(e) => needs(&format!("/backoffice/schede-servizio/{slug}/modifica"), e),
    }
}

async fn create(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    match save(&state, &t, &auth, None, &pairs).await {
        Ok(r) => r,
        Err(e) => needs(NEW, e),
    }
}

async fn update(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    match save(&state, &t, &auth, Some(&slug), &pairs).await {
        Ok(r) => r,
        Err(e) => needs(&format!("/backoffice/schede-servizio/{slug}/modifica"), e),
    }
}

/// Saves the posted card, or shows the form again with every problem.
async fn save(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    editing: Option<&str>,
    pairs: &[(String, String)],
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::ManageCatalogue)?;
    let app = state.app();
    if let Some(slug) = editing {
        // Another comune's card, or none: 404 before anything is read.
        app.portal(t.id)
            .await?
            .service(slug)
            .ok_or(ServiceError::NotFound)?;
    }
    // The version the editor started from travels with the form.
    let seen = pairs
        .iter()
        .find(|(k, _)| k == "versione")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let (entry, mut problems) = entry_from(pairs, editing);
    // Every problem at once, next to its field; the service checks again.
    problems.extend(app.service_card_entry_problems(t.id, &entry).await?);
    let refused = |problems: Vec<CardProblem>| {
        tracing::info!(
            tenant = t.id.0,
            problems = problems.len(),
            code = problems.first().map_or("", |p| p.code),
            "service card refused"
        );
        problems
    };
    if !problems.is_empty() {
        let problems = refused(problems);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(state, t, auth, editing, &entry, &seen, &problems, status).await;
    }
    let seen_tag = editing.map(|_| seen.as_str());
    match app
        .save_service_card(t.id, &auth.actor, editing, seen_tag, entry.clone())
        .await
    {
        Ok(saved) => Ok(see_other(&format!("{LIST}?salvata={}", saved.data.slug))),
        Err(ServiceError::Invalid { code, message }) => {
            let field = match code {
                "service_slug_taken" | "service_slug_immutable" => "slug",
                c if c.starts_with("service_office") => "ufficio",
                _ => "",
            };
            let problems = refused(vec![CardProblem {
                field,
                code,
                message,
            }]);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form_page(state, t, auth, editing, &entry, &seen, &problems, status).await
        }
        Err(e) => Err(e),
    }
}
