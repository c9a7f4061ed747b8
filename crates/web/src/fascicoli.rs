//! Back-office pages of the titolario and the fascicoli (issue 4, part 3):
//! the ente's titolario with its versions and the edit form, the fascicoli
//! list with search and the opening form, the fascicolo page (documents,
//! file/unfile, close) and the index download (XML or CSV). Permissions are
//! checked by the services; the route table declares them for the
//! authorization matrix.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::fascicoli::{FascicoloInput, RestrictionInput, TitolarioEdit};
use palazzo_store::{
    FASCICOLO_KINDS, FascicoloKind, FascicoloQuery, FascicoloRowId, HandoffKind, OfficeId,
    RegistrationId, Tenant, UserId,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome, see_other};
use crate::backoffice::classificazione::{POLICY_SAVED, PolicyPage, PolicyView};
use crate::backoffice::{render, shell};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};

/// The titolario page.
pub(crate) const TITOLARIO: &str = "/backoffice/titolario";

/// The routes of this module.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    let work = Needs(Permission::WorkOfficeCases);
    Routes::new()
        .get(
            "/backoffice/titolario",
            Needs(Permission::BackOffice),
            titolario_page,
        )
        .post(
            "/backoffice/titolario",
            Needs(Permission::ManageTitolario),
            titolario_edit,
        )
        .get("/backoffice/fascicoli", read, list_page)
        .post("/backoffice/fascicoli", work, open)
        .get("/backoffice/fascicoli/{id}", read, fascicolo_page)
        .post("/backoffice/fascicoli/{id}/documenti", work, documents)
        .post("/backoffice/fascicoli/{id}/chiudi", work, close)
        .get("/backoffice/fascicoli/{id}/indice", read, index)
        .post("/backoffice/fascicoli/{id}/assegna", work, assign)
        .post("/backoffice/fascicoli/{id}/riservatezza", work, restrict)
}

fn status_of(error: Option<&ServiceError>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

// ------------------------------------------------------------- titolario

struct VoiceRow {
    code: String,
    name: String,
    titolo: bool,
    closed: bool,
}

#[derive(Template)]
#[template(path = "backoffice/titolario.html")]
struct TitolarioTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    version: u32,
    current: u32,
    piano: String,
    voices: Vec<VoiceRow>,
    versions: Vec<(u32, String, String, String)>,
    can_edit: bool,
    policy: PolicyView,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct TitolarioQuery {
    versione: Option<u32>,
    esito: Option<String>,
}

pub(crate) async fn render_titolario(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    version: Option<u32>,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let v = app.titolario(t.id, &auth.actor, version).await?;
    let history = app.titolario_history(t.id, &auth.actor).await?;
    let current = history.last().map_or(1, |h| h.version);
    // TI-2: the classification policy is kept with the titolario.
    let policy = PolicyView::load(state, t, auth, PolicyPage::Titolario).await?;
    let tpl = TitolarioTemplate {
        shell: shell(t, "Titolario di classificazione", "Titolario"),
        csrf: auth.csrf().to_owned(),
        version: v.info.version,
        current,
        piano: palazzo_services::fascicoli::piano_di_classificazione(t, v.info.version),
        voices: v
            .classes
            .iter()
            .map(|c| VoiceRow {
                code: c.code.clone(),
                name: c.name.clone(),
                titolo: c.classe.is_none(),
                closed: c.closed,
            })
            .collect(),
        versions: history
            .iter()
            .rev()
            .map(|h| {
                (
                    h.version,
                    rome(h.created_at),
                    h.created_by.clone(),
                    h.change.clone(),
                )
            })
            .collect(),
        can_edit: auth.actor.principal.can(Permission::ManageTitolario),
        policy,
        notice,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    Ok(render(tpl, status_of(error)))
}

async fn titolario_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<TitolarioQuery>,
) -> Response {
    let notice = q.esito.as_deref().map(|e| {
        if e == "politica" {
            POLICY_SAVED.to_owned()
        } else {
            "Nuova versione del titolario salvata.".to_owned()
        }
    });
    render_titolario(&state, &t, &auth, q.versione, notice, None)
        .await
        .unwrap_or_else(|e| needs("/backoffice/titolario", e))
}

#[derive(Deserialize)]
struct TitolarioForm {
    #[serde(default)]
    azione: String,
    #[serde(default)]
    voce: String,
    #[serde(default)]
    nome: String,
}

async fn titolario_edit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(f): Form<TitolarioForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::ManageTitolario) {
        return needs("/backoffice/titolario", e);
    }
    let edit = match f.azione.as_str() {
        "aggiungi" => Ok(TitolarioEdit::AddClass {
            titolo: f.voce,
            name: f.nome,
        }),
        "rinomina" => Ok(TitolarioEdit::Rename {
            code: f.voce,
            name: f.nome,
        }),
        "chiudi" => Ok(TitolarioEdit::Close { code: f.voce }),
        _ => Err(ServiceError::Invalid {
            code: "titolario_azione",
            message: "Scegli un'azione: aggiungi una classe, rinomina o chiudi una voce.".into(),
        }),
    };
    let result = match edit {
        Ok(edit) => state.app().edit_titolario(t.id, &auth.actor, edit).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => see_other("/backoffice/titolario?esito=1"),
        Err(e @ ServiceError::Invalid { .. }) => {
            render_titolario(&state, &t, &auth, None, None, Some(&e))
                .await
                .unwrap_or_else(|e| needs("/backoffice/titolario", e))
        }
        Err(e) => needs("/backoffice/titolario", e),
    }
}

// ------------------------------------------------------------- fascicoli

struct FascicoloRow {
    id: i64,
    code: String,
    subject: String,
    kind: &'static str,
    office: String,
    opened: String,
    closed: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/fascicoli.html")]
struct ListTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    classe: String,
    anno: String,
    oggetto: String,
    aperti: bool,
    rows: Vec<FascicoloRow>,
    next_after: Option<i64>,
    offices: Vec<(i64, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    can_open: bool,
    form: OpenForm,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    classe: Option<String>,
    anno: Option<String>,
    oggetto: Option<String>,
    aperti: Option<String>,
    dopo: Option<i64>,
}

const PAGE: u32 = 50;

async fn render_list(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    q: ListQuery,
    form: OpenForm,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let year = match q.anno.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(a.parse::<i16>().map_err(|_| ServiceError::Invalid {
            code: "fascicolo_anno",
            message: "L'anno è formato da quattro cifre.".into(),
        })?),
    };
    let query = FascicoloQuery {
        classification: q.classe.clone(),
        year,
        subject: q.oggetto.clone(),
        office: None,
        open_only: q.aperti.is_some(),
        after: q.dopo.map(FascicoloRowId),
        limit: PAGE,
    };
    let found = app.search_fascicoli(t.id, &auth.actor, query).await?;
    let snap = app.portal(t.id).await?;
    let office_name = |o: OfficeId| {
        snap.office(o)
            .map_or_else(|| format!("ufficio {}", o.0), |x| x.data.name.clone())
    };
    let next_after = (found.len() == PAGE as usize)
        .then(|| found.last().map(|f| f.id.0))
        .flatten();
    let tpl = ListTemplate {
        shell: shell(t, "Fascicoli", "Fascicoli"),
        csrf: auth.csrf().to_owned(),
        classe: q.classe.unwrap_or_default(),
        anno: q.anno.unwrap_or_default(),
        oggetto: q.oggetto.unwrap_or_default(),
        aperti: q.aperti.is_some(),
        rows: found
            .iter()
            .map(|f| FascicoloRow {
                id: f.id.0,
                code: f.code.clone(),
                subject: f.data.subject.clone(),
                kind: f.data.kind.label_it(),
                office: office_name(f.data.office),
                opened: f.data.opened_on.strftime("%d/%m/%Y").to_string(),
                closed: f
                    .closure
                    .as_ref()
                    .map(|c| c.on.strftime("%d/%m/%Y").to_string()),
            })
            .collect(),
        next_after,
        offices: snap
            .offices
            .iter()
            .filter(|o| auth.actor.principal.can_work_office(o.id.0))
            .map(|o| (o.id.0, o.data.name.clone()))
            .collect(),
        kinds: FASCICOLO_KINDS
            .iter()
            .map(|k| (k.code(), k.label_it()))
            .collect(),
        can_open: auth.actor.principal.can(Permission::WorkOfficeCases),
        form,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    Ok(render(tpl, status_of(error)))
}

async fn list_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Response {
    match render_list(&state, &t, &auth, q, OpenForm::default(), None).await {
        Ok(r) => r,
        Err(e @ ServiceError::Invalid { .. }) => render_list(
            &state,
            &t,
            &auth,
            ListQuery::default(),
            OpenForm::default(),
            Some(&e),
        )
        .await
        .unwrap_or_else(|e| needs("/backoffice/fascicoli", e)),
        Err(e) => needs("/backoffice/fascicoli", e),
    }
}

/// The opening form, kept to show it again after a refusal.
#[derive(Deserialize, Default, Clone)]
struct OpenForm {
    #[serde(default)]
    classe: String,
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    oggetto: String,
    #[serde(default)]
    ufficio: i64,
    #[serde(default)]
    responsabile: String,
    #[serde(default)]
    partecipanti: String,
    #[serde(default)]
    intestatario: String,
    #[serde(default)]
    padre: String,
}

async fn open(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(f): Form<OpenForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs("/backoffice/fascicoli", e);
    }
    let app = state.app();
    let result = async {
        let kind = FascicoloKind::from_code(&f.tipo).ok_or_else(|| ServiceError::Invalid {
            code: "fascicolo_tipo",
            message: "Scegli il tipo di fascicolo.".into(),
        })?;
        let parent = match f.padre.trim() {
            "" => None,
            code => Some(
                app.fascicolo_by_code(t.id, &auth.actor, code)
                    .await
                    .map_err(|e| match e {
                        ServiceError::NotFound => ServiceError::Invalid {
                            code: "fascicolo_padre",
                            message: "Il fascicolo padre indicato non esiste.".into(),
                        },
                        e => e,
                    })?
                    .fascicolo
                    .id,
            ),
        };
        let input = FascicoloInput {
            classification: f.classe.clone(),
            kind,
            subject: f.oggetto.clone(),
            office: OfficeId(f.ufficio),
            responsible: f.responsabile.clone(),
            participants: f.partecipanti.lines().map(str::to_owned).collect(),
            holder: Some(f.intestatario.clone()),
            parent,
        };
        app.open_fascicolo(t.id, &auth.actor, input).await
    }
    .await;
    match result {
        Ok(s) => see_other(&format!(
            "/backoffice/fascicoli/{}?esito=aperto",
            s.fascicolo.id.0
        )),
        Err(e @ ServiceError::Invalid { .. }) => {
            render_list(&state, &t, &auth, ListQuery::default(), f, Some(&e))
                .await
                .unwrap_or_else(|e| needs("/backoffice/fascicoli", e))
        }
        Err(e) => needs("/backoffice/fascicoli", e),
    }
}

#[derive(Template)]
#[template(path = "backoffice/fascicolo.html")]
struct FascicoloTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    id: i64,
    code: String,
    kind: &'static str,
    subject: String,
    classification: String,
    piano: String,
    office: String,
    responsible: String,
    participants: String,
    holder: Option<String>,
    parent: Option<String>,
    opened: String,
    closed: Option<String>,
    documents: Vec<(i64, String, String, String, String)>,
    can_work: bool,
    /// The fascicolo is open and the actor works it (hand-offs).
    can_assign: bool,
    /// The actor may set or lift the restricted area (works it, open or not).
    can_restrict: bool,
    /// The hand-off steps (TI-5): when, office and person (kind), action,
    /// who, note.
    timeline: Vec<crate::backoffice::assegnazioni::TimelineRow>,
    /// Staff who may receive a hand-off by name: id, name.
    staff: Vec<(i64, String)>,
    /// The restricted area (TI-6): designated offices, users, set when/by.
    restricted: Option<(String, String, String)>,
    /// Offices: id, name, designated.
    offices: Vec<(i64, String, bool)>,
    /// Staff users: id, name, designated.
    users: Vec<(i64, String, bool)>,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    esito: Option<String>,
}

async fn render_fascicolo(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: FascicoloRowId,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let idx = app.fascicolo_index(t.id, &auth.actor, id).await?;
    let (handoffs, steps) = app.fascicolo_route(t.id, &auth.actor, id).await?;
    let f = &idx.fascicolo;
    let d = &f.data;
    let snap = app.portal(t.id).await?;
    let office_name = |o: OfficeId| {
        snap.office(o)
            .map_or_else(|| format!("ufficio {}", o.0), |x| x.data.name.clone())
    };
    let works = auth.actor.principal.can(Permission::WorkOfficeCases)
        && auth.actor.principal.can_work_office(d.office.0);
    let users = if works {
        app.designable_users(t.id, &auth.actor).await?
    } else {
        Vec::new()
    };
    let user_name = |u: UserId| {
        users
            .iter()
            .find(|(id, _)| *id == u)
            .map_or_else(|| format!("utente {}", u.0), |(_, n)| n.clone())
    };
    let r = f.restriction.as_ref();
    let timeline =
        crate::backoffice::assegnazioni::timeline(state, t, auth, &handoffs, &steps).await?;
    let staff = if works {
        app.handoff_staff(t.id, &auth.actor)
            .await?
            .into_iter()
            .map(|(u, n)| (u.0, n))
            .collect()
    } else {
        Vec::new()
    };
    let tpl = FascicoloTemplate {
        timeline,
        staff,
        restricted: r.map(|r| {
            let list = |v: Vec<String>| {
                if v.is_empty() {
                    "—".to_owned()
                } else {
                    v.join("; ")
                }
            };
            (
                list(r.offices.iter().map(|o| office_name(*o)).collect()),
                list(r.users.iter().map(|u| user_name(*u)).collect()),
                format!("{} ({})", rome(r.at), r.by),
            )
        }),
        offices: snap
            .offices
            .iter()
            .map(|o| {
                (
                    o.id.0,
                    o.data.name.clone(),
                    r.is_some_and(|r| r.offices.contains(&o.id)),
                )
            })
            .collect(),
        users: users
            .iter()
            .map(|(id, n)| (id.0, n.clone(), r.is_some_and(|r| r.users.contains(id))))
            .collect(),
        can_assign: works && f.closure.is_none(),
        can_restrict: works,
        shell: shell(t, "Fascicolo", "Fascicolo"),
        csrf: auth.csrf().to_owned(),
        id: f.id.0,
        code: f.code.clone(),
        kind: d.kind.label_it(),
        subject: d.subject.clone(),
        classification: format!("{} — {}", d.classification, idx.classification_name),
        piano: idx.piano.clone(),
        office: idx.office_name.clone(),
        responsible: d.responsible.clone(),
        participants: if d.participants.is_empty() {
            "—".to_owned()
        } else {
            d.participants.join("; ")
        },
        holder: d.holder.clone(),
        parent: idx.parent_code.clone(),
        opened: d.opened_on.strftime("%d/%m/%Y").to_string(),
        closed: f
            .closure
            .as_ref()
            .map(|c| format!("{} ({})", c.on.strftime("%d/%m/%Y"), c.by)),
        documents: idx
            .documents
            .iter()
            .map(|x| {
                (
                    x.registration.0,
                    format!("{}/{}", x.number, x.year),
                    x.date.strftime("%d/%m/%Y").to_string(),
                    x.subject.clone(),
                    if x.annulled { "annullata" } else { "" }.to_owned(),
                )
            })
            .collect(),
        can_work: f.closure.is_none()
            && auth.actor.principal.can(Permission::WorkOfficeCases)
            && auth.actor.principal.can_work_office(d.office.0),
        notice,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    Ok(render(tpl, status_of(error)))
}

fn fascicolo_path(id: i64) -> String {
    format!("/backoffice/fascicoli/{id}")
}

async fn fascicolo_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Response {
    let notice = match q.esito.as_deref() {
        Some("aperto") => Some("Fascicolo aperto.".to_owned()),
        Some("chiuso") => Some("Fascicolo chiuso.".to_owned()),
        Some("aggiunto") => Some("Documento inserito nel fascicolo.".to_owned()),
        Some("tolto") => Some("Documento tolto dal fascicolo.".to_owned()),
        Some("assegnato") => Some("Fascicolo assegnato.".to_owned()),
        Some("riservato") => Some("Area riservata aggiornata.".to_owned()),
        Some("libero") => Some("Il fascicolo non è più riservato.".to_owned()),
        _ => None,
    };
    render_fascicolo(&state, &t, &auth, FascicoloRowId(id), notice, None)
        .await
        .unwrap_or_else(|e| needs(&fascicolo_path(id), e))
}

async fn refused(state: &AppState, t: &Tenant, auth: &Auth, id: i64, e: ServiceError) -> Response {
    match e {
        e @ ServiceError::Invalid { .. } => {
            render_fascicolo(state, t, auth, FascicoloRowId(id), None, Some(&e))
                .await
                .unwrap_or_else(|e| needs(&fascicolo_path(id), e))
        }
        e => needs(&fascicolo_path(id), e),
    }
}

#[derive(Deserialize)]
struct DocumentForm {
    #[serde(default)]
    azione: String,
    /// A registration by id (from the registration page)…
    #[serde(default)]
    registrazione: Option<i64>,
    /// …or by number and year of the general register.
    #[serde(default)]
    numero: String,
    #[serde(default)]
    anno: Option<i16>,
    /// Where to go back to: `protocollo` for the registration page.
    #[serde(default)]
    ritorno: String,
}

async fn documents(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<DocumentForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs(&fascicolo_path(id), e);
    }
    let app = state.app();
    let registration = match f.registrazione {
        Some(r) => Ok(RegistrationId(r)),
        None => {
            let year = f.anno.unwrap_or_else(|| {
                palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year()
            });
            match f.numero.trim().trim_start_matches('0').parse::<u64>() {
                Ok(n) => match app.protocol_by_number(t.id, &auth.actor, year, n).await {
                    Ok(Some(r)) => Ok(r.id),
                    Ok(None) => Err(ServiceError::Invalid {
                        code: "protocollo_inesistente",
                        message: format!("Nessuna registrazione n. {n:07} nel {year}."),
                    }),
                    Err(e) => Err(e),
                },
                Err(_) => Err(ServiceError::Invalid {
                    code: "protocollo_numero",
                    message: "Indica il numero di protocollo (sole cifre) e l'anno.".into(),
                }),
            }
        }
    };
    let result = match (registration, f.azione.as_str()) {
        (Err(e), _) => Err(e),
        (Ok(r), "togli") => app
            .unfile_document(t.id, &auth.actor, FascicoloRowId(id), r)
            .await
            .map(|_| (r, "tolto")),
        (Ok(r), _) => app
            .file_document(t.id, &auth.actor, FascicoloRowId(id), r)
            .await
            .map(|_| (r, "aggiunto")),
    };
    match result {
        Ok((r, _)) if f.ritorno == "protocollo" => {
            see_other(&format!("/backoffice/protocollo/{}?esito=fascicolata", r.0))
        }
        Ok((_, esito)) => see_other(&format!("{}?esito={esito}", fascicolo_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}

async fn close(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
) -> Response {
    match state
        .app()
        .close_fascicolo(t.id, &auth.actor, FascicoloRowId(id))
        .await
    {
        Ok(_) => see_other(&format!("{}?esito=chiuso", fascicolo_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}

#[derive(Deserialize, Default)]
struct IndexQuery {
    formato: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Query(q): Query<IndexQuery>,
) -> Response {
    let idx = match state
        .app()
        .fascicolo_index(t.id, &auth.actor, FascicoloRowId(id))
        .await
    {
        Ok(i) => i,
        Err(e) => return needs(&fascicolo_path(id), e),
    };
    let (body, mime, ext) = match q.formato.as_deref() {
        Some("csv") => (idx.csv(), "text/csv; charset=utf-8", "csv"),
        _ => (idx.xml(), "application/xml; charset=utf-8", "xml"),
    };
    let name = format!("indice-{}.{ext}", idx.fascicolo.code);
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    ufficio: i64,
    /// A person of the staff (0: none).
    #[serde(default)]
    persona: i64,
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    nota: String,
}

/// Handles `POST /backoffice/fascicoli/{id}/assegna`: hands the whole
/// fascicolo to an office per competenza or per conoscenza (TI-5).
async fn assign(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs(&fascicolo_path(id), e);
    }
    let result = match HandoffKind::from_code(&f.tipo) {
        None => Err(ServiceError::Invalid {
            code: "handoff_tipo",
            message: "Scegli se l'assegnazione è per competenza o per conoscenza.".into(),
        }),
        Some(kind) => {
            state
                .app()
                .assign_fascicolo(
                    t.id,
                    &auth.actor,
                    FascicoloRowId(id),
                    kind,
                    crate::backoffice::assegnazioni::target(f.ufficio, f.persona),
                    Some(&f.nota),
                )
                .await
        }
    };
    match result {
        Ok(_) => see_other(&format!("{}?esito=assegnato", fascicolo_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}

/// Handles `POST /backoffice/fascicoli/{id}/riservatezza`: `azione=riserva`
/// with the designated `ufficio` and `utente` values (repeated), or
/// `azione=libera` (TI-6).
async fn restrict(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs(&fascicolo_path(id), e);
    }
    let value = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let ids = |k: &str| -> Result<Vec<i64>, ServiceError> {
        fields
            .iter()
            .filter(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| {
                v.trim().parse::<i64>().map_err(|_| ServiceError::Invalid {
                    code: "fascicolo_riservato_soggetti",
                    message: "Scegli gli uffici e gli utenti designati dall'elenco.".into(),
                })
            })
            .collect()
    };
    let input = match value("azione") {
        Some("libera") => Ok(None),
        Some("riserva") => ids("ufficio").and_then(|offices| {
            Ok(Some(RestrictionInput {
                offices: offices.into_iter().map(OfficeId).collect(),
                users: ids("utente")?.into_iter().map(UserId).collect(),
            }))
        }),
        _ => Err(ServiceError::Invalid {
            code: "fascicolo_riservato_azione",
            message: "Scegli se rendere riservato il fascicolo o togliere la riservatezza.".into(),
        }),
    };
    let result = match input {
        Ok(input) => {
            let lifting = input.is_none();
            state
                .app()
                .restrict_fascicolo(t.id, &auth.actor, FascicoloRowId(id), input)
                .await
                .map(|_| if lifting { "libero" } else { "riservato" })
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(esito) => see_other(&format!("{}?esito={esito}", fascicolo_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}
