//! Hand-offs in the back office (issue 4, part 4; TI-5): each office's
//! inbox and the personal one ("Le mie assegnazioni"), each with the
//! refused hand-offs back at that desk ("Rifiutate"), and the one form that
//! acts on a hand-off (accept, refuse, forward to an office or a person,
//! close; re-assign or take note of a refused one). Shared by the
//! registration and fascicolo pages: the assignee's label, the timeline and
//! the target of an assignment form. Permissions are checked by the
//! services; the route table declares them for the authorization matrix.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::handoffs::{HandoffAction, HandoffTarget};
use palazzo_services::portal::PortalSnapshot;
use palazzo_store::{
    Handoff, HandoffDesk, HandoffId, HandoffKind, HandoffState, HandoffStep, HandoffSubject,
    OfficeId, Tenant, UserId,
};
use serde::Deserialize;

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome, see_other};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};

/// The personal inbox.
pub(crate) const MINE: &str = "/backoffice/mie-assegnazioni";

/// The routes of this module.
pub fn router() -> Routes {
    let work = Access::Needs(Permission::WorkOfficeCases);
    Routes::new()
        .get(
            "/backoffice/uffici/{office}/assegnazioni",
            work,
            office_page,
        )
        .get(MINE, work, mine_page)
        .post("/backoffice/assegnazioni/{id}", work, act)
}

/// The target of an assignment form: `ufficio` and `persona` ids, 0 for
/// none.
pub(crate) fn target(ufficio: i64, persona: i64) -> HandoffTarget {
    HandoffTarget {
        office: (ufficio != 0).then_some(OfficeId(ufficio)),
        user: (persona != 0).then_some(UserId(persona)),
    }
}

/// "per competenza" / "per conoscenza".
pub(crate) fn kind_label(k: HandoffKind) -> &'static str {
    match k {
        HandoffKind::Competenza => "per competenza",
        HandoffKind::Conoscenza => "per conoscenza",
    }
}

/// Whom a hand-off went to: the office, and the person by name.
pub(crate) fn assignee(
    h: &Handoff,
    snap: &PortalSnapshot,
    names: &BTreeMap<UserId, String>,
) -> String {
    let office = office_name(snap, h.data.office);
    match h.data.user {
        Some(u) => format!("{} — {office}", person_name(names, u)),
        None => office,
    }
}

fn office_name(snap: &PortalSnapshot, o: OfficeId) -> String {
    snap.office(o)
        .map_or_else(|| format!("ufficio {}", o.0), |x| x.data.name.clone())
}

fn person_name(names: &BTreeMap<UserId, String>, u: UserId) -> String {
    names
        .get(&u)
        .cloned()
        .unwrap_or_else(|| format!("persona {}", u.0))
}

/// One line of a timeline: when, to whom (kind), action, who, note.
pub(crate) type TimelineRow = (String, String, String, String, Option<String>);

/// The route of a registration or fascicolo as the pages show it: every
/// step, with the office and the person each hand-off went to.
pub(crate) async fn timeline(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    handoffs: &[Handoff],
    steps: &[HandoffStep],
) -> Result<Vec<TimelineRow>, ServiceError> {
    let app = state.app();
    let snap = app.portal(t.id).await?;
    let names = app
        .staff_names(t.id, &auth.actor, &Handoff::people(handoffs))
        .await?;
    Ok(steps
        .iter()
        .map(|s| {
            let h = handoffs.iter().find(|h| h.id == s.handoff);
            let to = h.map_or_else(String::new, |h| {
                format!(
                    "{} ({})",
                    assignee(h, &snap, &names),
                    kind_label(h.data.kind)
                )
            });
            (
                rome(s.at),
                to,
                action_label(&s.action).to_owned(),
                s.actor.clone(),
                s.note.clone(),
            )
        })
        .collect())
}

/// The Italian name of a step.
fn action_label(action: &str) -> &str {
    match action {
        "assegnato" => "assegnato",
        "accettato" => "accettato",
        "rifiutato" => "rifiutato",
        "inoltrato" => "inoltrato",
        "chiuso" => "chiuso",
        "preso_atto" => "rifiuto preso in visione",
        other => other,
    }
}

struct InboxRow {
    id: i64,
    /// The page of the registration or fascicolo.
    link: String,
    title: String,
    kind: &'static str,
    state: &'static str,
    since: String,
    /// The person it is assigned to by name, if any.
    person: Option<String>,
    competenza: bool,
    waiting: bool,
}

struct ReturnedRow {
    id: i64,
    link: String,
    title: String,
    kind: &'static str,
    /// Whom it was assigned to.
    to: String,
    /// Who refused it, when, why.
    by: String,
    at: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "backoffice/inbox.html")]
struct InboxTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    heading: String,
    /// Where the forms come back to: an office's slug or `mie`.
    ritorno: String,
    rows: Vec<InboxRow>,
    returned: Vec<ReturnedRow>,
    offices: Vec<(i64, String)>,
    staff: Vec<(i64, String)>,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    esito: Option<String>,
}

/// Which inbox.
enum Inbox {
    /// An office's, by slug.
    Office(String),
    /// The actor's own.
    Mine,
}

impl Inbox {
    fn path(&self) -> String {
        match self {
            Inbox::Office(slug) => format!("/backoffice/uffici/{slug}/assegnazioni"),
            Inbox::Mine => MINE.to_owned(),
        }
    }
}

/// The page and title of a hand-off's subject, for those who may read it.
async fn subject_link(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    subject: HandoffSubject,
) -> (String, String) {
    let app = state.app();
    match subject {
        HandoffSubject::Registration(id) => (
            format!("/backoffice/protocollo/{}", id.0),
            app.protocol_entry(t.id, &auth.actor, id)
                .await
                .ok()
                .map_or_else(
                    || format!("Registrazione {}", id.0),
                    |r| format!("Prot. n. {}/{} — {}", r.number, r.year, r.data.subject),
                ),
        ),
        HandoffSubject::Fascicolo(id) => (
            format!("/backoffice/fascicoli/{}", id.0),
            app.fascicolo(t.id, &auth.actor, id).await.ok().map_or_else(
                || format!("Fascicolo {}", id.0),
                |s| {
                    format!(
                        "Fascicolo {} — {}",
                        s.fascicolo.code, s.fascicolo.data.subject
                    )
                },
            ),
        ),
    }
}

async fn render_inbox(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    inbox: &Inbox,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    auth.actor.require(Permission::WorkOfficeCases)?;
    let snap = app.portal(t.id).await?;
    let (heading, ritorno, handoffs, returned) = match inbox {
        Inbox::Office(slug) => {
            let office = snap.office_by_slug(slug).ok_or(ServiceError::NotFound)?;
            (
                format!("Assegnazioni all'ufficio {}", office.data.name),
                slug.clone(),
                app.office_inbox(t.id, &auth.actor, office.id).await?,
                app.returned_handoffs(t.id, &auth.actor, HandoffDesk::Office(office.id))
                    .await?,
            )
        }
        Inbox::Mine => (
            "Le mie assegnazioni".to_owned(),
            "mie".to_owned(),
            app.my_handoffs(t.id, &auth.actor).await?,
            app.my_returned_handoffs(t.id, &auth.actor).await?,
        ),
    };
    let mut people = Handoff::people(&handoffs);
    for r in &returned {
        people.extend(Handoff::people(std::slice::from_ref(&r.handoff)));
    }
    let names = app.staff_names(t.id, &auth.actor, &people).await?;
    let mut rows = Vec::with_capacity(handoffs.len());
    for h in &handoffs {
        // A registration or a whole fascicolo (TI-5); the service left out
        // the restricted fascicoli the actor may not read (TI-6).
        let (link, title) = subject_link(state, t, auth, h.data.subject).await;
        rows.push(InboxRow {
            id: h.id.0,
            link,
            title,
            kind: match h.data.kind {
                HandoffKind::Competenza => "Per competenza",
                HandoffKind::Conoscenza => "Per conoscenza",
            },
            state: match h.state {
                HandoffState::Assegnato => "in attesa",
                HandoffState::Accettato => "preso in carico",
                _ => "concluso",
            },
            since: rome(h.updated_at),
            person: h.data.user.map(|u| person_name(&names, u)),
            competenza: h.data.kind == HandoffKind::Competenza,
            waiting: h.state == HandoffState::Assegnato,
        });
    }
    let mut back = Vec::with_capacity(returned.len());
    for r in &returned {
        let h = &r.handoff;
        let (link, title) = subject_link(state, t, auth, h.data.subject).await;
        back.push(ReturnedRow {
            id: h.id.0,
            link,
            title,
            kind: kind_label(h.data.kind),
            to: assignee(h, &snap, &names),
            by: r.refusal.actor.clone(),
            at: rome(r.refusal.at),
            reason: r.refusal.note.clone().unwrap_or_default(),
        });
    }
    let tpl = InboxTemplate {
        shell: shell(t, "Assegnazioni", "Assegnazioni"),
        csrf: auth.csrf().to_owned(),
        heading,
        ritorno,
        rows,
        returned: back,
        offices: snap
            .offices
            .iter()
            .map(|o| (o.id.0, o.data.name.clone()))
            .collect(),
        staff: app
            .handoff_staff(t.id, &auth.actor)
            .await?
            .into_iter()
            .map(|(u, n)| (u.0, n))
            .collect(),
        notice,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(tpl, status))
}

async fn show(state: &AppState, t: &Tenant, auth: &Auth, inbox: Inbox, q: InboxQuery) -> Response {
    let notice = q
        .esito
        .is_some()
        .then(|| "Operazione registrata.".to_owned());
    render_inbox(state, t, auth, &inbox, notice, None)
        .await
        .unwrap_or_else(|e| needs(&inbox.path(), e))
}

/// Handles `GET /backoffice/uffici/{office}/assegnazioni`: the office's
/// open hand-offs and the refused ones back at the office.
async fn office_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(slug): Path<String>,
    Query(q): Query<InboxQuery>,
) -> Response {
    show(&state, &t, &auth, Inbox::Office(slug), q).await
}

/// Handles `GET /backoffice/mie-assegnazioni`: the hand-offs assigned to
/// the signed-in person by name, and the refused ones they had assigned.
async fn mine_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<InboxQuery>,
) -> Response {
    show(&state, &t, &auth, Inbox::Mine, q).await
}

#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    azione: String,
    #[serde(default)]
    ufficio: i64,
    #[serde(default)]
    persona: i64,
    #[serde(default)]
    nota: String,
    #[serde(default)]
    ritorno: String,
}

/// Handles `POST /backoffice/assegnazioni/{id}`: `azione` = `accetta`,
/// `rifiuta` (with `nota`), `chiudi`, `inoltra` (to `ufficio` and/or
/// `persona`); on a refused hand-off back at the desk, `riassegna` (to
/// `ufficio` and/or `persona`) or `prendi_atto`. Back to the inbox named
/// by `ritorno` (an office's slug, or `mie`).
async fn act(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs("/backoffice", e);
    }
    let app = state.app();
    let id = HandoffId(id);
    let note = Some(f.nota.as_str());
    let to = target(f.ufficio, f.persona);
    let actor = &auth.actor;
    let result = match f.azione.as_str() {
        "accetta" => {
            app.act_on_handoff(t.id, actor, id, HandoffAction::Accept, note)
                .await
        }
        "rifiuta" => {
            app.act_on_handoff(t.id, actor, id, HandoffAction::Reject, note)
                .await
        }
        "chiudi" => {
            app.act_on_handoff(t.id, actor, id, HandoffAction::Close, note)
                .await
        }
        "inoltra" => app.forward_handoff(t.id, actor, id, to, note).await,
        "riassegna" => {
            app.reassign_refused_handoff(t.id, actor, id, to, note)
                .await
        }
        "prendi_atto" => {
            app.acknowledge_refused_handoff(t.id, actor, id, note)
                .await
        }
        _ => Err(ServiceError::Invalid {
            code: "handoff_azione",
            message: "Scegli un'azione: accetta, rifiuta, inoltra o chiudi (per una rifiutata: riassegna o prendi atto).".into(),
        }),
    };
    // Back to the inbox the form came from (a slug of this comune's offices).
    let inbox = if f.ritorno == "mie" {
        Some(Inbox::Mine)
    } else {
        let snap = match app.portal(t.id).await {
            Ok(s) => s,
            Err(e) => return WebError::from(e).into_response(),
        };
        snap.office_by_slug(&f.ritorno)
            .map(|o| Inbox::Office(o.data.slug.clone()))
    };
    match (result, inbox) {
        (Ok(_), Some(inbox)) => see_other(&format!("{}?esito=1", inbox.path())),
        (Ok(_), None) => see_other("/backoffice"),
        (Err(e @ ServiceError::Invalid { .. }), Some(inbox)) => {
            render_inbox(&state, &t, &auth, &inbox, None, Some(&e))
                .await
                .unwrap_or_else(|e| needs("/backoffice", e))
        }
        (Err(e), _) => needs("/backoffice", e),
    }
}
