//! Back-office pages of the protocollo (issue 4, part 8, first slice): the
//! register by year and number, the document page with its route, the
//! forms to classify, assign and annul, each office's inbox with its
//! actions, and the report of waiting times. Permissions are checked by the
//! services; the route table declares them for the authorization matrix.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_store::{HandoffKind, OfficeId, Registration, RegistrationId, Tenant};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, page, rome, see_other};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

pub mod assegnazioni;
pub mod classificazione;
pub mod emergenza;
pub mod interoperabilita;
pub mod registri;
pub mod schede_servizio;
pub mod servizi_online;

/// The routes of this module.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    let register = Needs(Permission::RegisterProtocol);
    Routes::new()
        .get("/backoffice/protocollo", read, register_page)
        .get(
            "/backoffice/protocollo/tempi",
            Needs(Permission::SeeAllOffices),
            waits_page,
        )
        .get("/backoffice/protocollo/{id}", read, entry_page)
        .get(
            "/backoffice/protocollo/{id}/segnatura.xml",
            read,
            segnatura_xml,
        )
        .get(
            "/backoffice/protocollo/{id}/ricevuta.pdf",
            read,
            receipt_pdf,
        )
        .post("/backoffice/protocollo/{id}/classifica", register, classify)
        .post("/backoffice/protocollo/{id}/assegna", register, assign)
        .post(
            "/backoffice/protocollo/{id}/fascicola",
            Needs(Permission::WorkOfficeCases),
            file_into,
        )
        .post(
            "/backoffice/protocollo/{id}/annulla",
            Needs(Permission::AnnulProtocol),
            annul,
        )
        .merge(assegnazioni::router())
        .merge(classificazione::router())
        .merge(emergenza::router())
        .merge(interoperabilita::router())
        .merge(registri::router())
        .merge(schede_servizio::router())
        .merge(servizi_online::router())
}

/// The shell of a back-office page: breadcrumb Home › Area del personale › `here`.
pub(crate) fn shell<'a>(t: &'a Tenant, title: &'a str, here: &'a str) -> Shell<'a> {
    let mut s = Shell::new(t, title);
    s.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area del personale", "/backoffice"),
        Crumb::here(here),
    ];
    s
}

/// A rendered back-office page, or the error page if the template fails.
pub(crate) fn render(tpl: impl Template, status: StatusCode) -> Response {
    match tpl.render() {
        Ok(html) => page(html, status),
        Err(e) => WebError::from(e).into_response(),
    }
}

fn correspondents(r: &Registration) -> String {
    r.data
        .correspondents
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

struct Row {
    id: i64,
    number: String,
    when: String,
    flow: &'static str,
    subject: String,
    correspondents: String,
    annulled: bool,
}

#[derive(Template)]
#[template(path = "backoffice/register.html")]
struct RegisterTemplate<'a> {
    shell: Shell<'a>,
    year: i16,
    number_query: String,
    rows: Vec<Row>,
    next_after: Option<u64>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct RegisterQuery {
    anno: Option<i16>,
    dopo: Option<u64>,
    numero: Option<String>,
}

const PAGE: u32 = 50;

async fn register_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<RegisterQuery>,
) -> Response {
    let year = q
        .anno
        .unwrap_or_else(|| palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year());
    let app = state.app();
    let number = q.numero.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let (rows, message) = match number {
        Some(n) => match n.trim_start_matches('0').parse::<u64>() {
            Ok(n) => match app.protocol_by_number(t.id, &auth.actor, year, n).await {
                Ok(Some(r)) => return see_other(&format!("/backoffice/protocollo/{}", r.id.0)),
                Ok(None) => (
                    Vec::new(),
                    Some(format!("Nessuna registrazione n. {n:07} nel {year}.")),
                ),
                Err(e) => return needs("/backoffice/protocollo", e),
            },
            Err(_) => (
                Vec::new(),
                Some("Il numero di protocollo è formato da sole cifre.".to_owned()),
            ),
        },
        None => match app
            .protocol_register(t.id, &auth.actor, year, q.dopo.unwrap_or(0), PAGE)
            .await
        {
            Ok(rows) => (rows, None),
            Err(e) => return needs("/backoffice/protocollo", e),
        },
    };
    let next_after = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| r.number.get()))
        .flatten();
    let tpl = RegisterTemplate {
        shell: shell(&t, "Registro di protocollo", "Registro di protocollo"),
        year,
        number_query: number.unwrap_or("").to_owned(),
        rows: rows
            .iter()
            .map(|r| Row {
                id: r.id.0,
                number: r.number.to_string(),
                when: rome(r.registered_at),
                flow: r.data.flow.label_it(),
                subject: r.data.subject.clone(),
                correspondents: correspondents(r),
                annulled: r.annulment.is_some(),
            })
            .collect(),
        next_after,
        message,
    };
    render(tpl, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "backoffice/entry.html")]
struct EntryTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    id: i64,
    number: String,
    date: String,
    when: String,
    register: String,
    year: i16,
    flow: &'static str,
    subject: String,
    correspondents_label: &'static str,
    correspondents: String,
    received: Option<String>,
    registered_by: String,
    classification: String,
    classification_value: String,
    office: String,
    offices: Vec<(i64, String, bool)>,
    /// The documents with their versions and formats (SYS-3, PR-12).
    documents: Vec<crate::versioni::DocRow>,
    /// The kinds of modification a new version may be (value, label).
    version_kinds: Vec<(&'static str, &'static str)>,
    /// The segnatura (Allegato 6): "emessa"/"ricevuta" and its SHA-256.
    segnatura: Option<(&'static str, String)>,
    /// The validation report (§11 lesson 5): what was signed (document or
    /// segnatura), signer, time, outcome text, outcome code (`valida`,
    /// `non_attendibile`, `non_valida`).
    signatures: Vec<(String, String, String, String, &'static str)>,
    /// When the report was made.
    signatures_at: String,
    timeline: Vec<assegnazioni::TimelineRow>,
    /// Staff who may receive a hand-off by name: id, name.
    staff: Vec<(i64, String)>,
    /// Changes of classification and office (art. 53): when, by whom, what.
    changes: Vec<(String, String, String)>,
    annulment: Option<(String, String, String, String)>,
    /// The sender's notice that it annulled its registration (Allegato 6,
    /// `AnnullamentoProtocollazione`): received at, reason, act, by.
    sender_annulment: Option<(String, String, String, String)>,
    /// The emergency registration it recovered (DPR 445/2000 art. 63):
    /// register code, emergency number, when it was recorded.
    emergency: Option<(String, u64, String)>,
    /// The fascicoli it is filed in: id, code, subject, open.
    fascicoli: Vec<(i64, String, String, bool)>,
    /// May file it (WorkOfficeCases).
    can_file: bool,
    annulled: bool,
    can_register: bool,
    can_annul: bool,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

/// The outcome of one signed document in a few words, beside its "signed
/// content" link (the report below gives signer, time and detail).
fn envelope_outcome(
    r: &palazzo_services::signatures::cades::EnvelopeReport,
) -> (String, &'static str) {
    if r.valid() {
        return ("firma valida, firmatario attendibile".to_owned(), "valida");
    }
    let untrusted_only = !r.detached
        && r.envelope_problem.is_none()
        && !r.signatures.is_empty()
        && r.signatures.iter().all(|s| {
            s.signature_valid
                && s.problem.as_ref().is_none_or(|p| {
                    !s.trusted
                        && p.kind
                            != palazzo_services::signatures::cades::ProblemKind::MarcaTemporale
                })
        });
    if untrusted_only {
        (
            "firma integra, firmatario non attendibile".to_owned(),
            "non_attendibile",
        )
    } else {
        ("firma non valida".to_owned(), "non_valida")
    }
}

/// The rows of the validation report on the registration page.
fn signature_rows(
    r: &palazzo_services::signatures::RegistrationSignatures,
) -> Vec<(String, String, String, String, &'static str)> {
    let mut rows = Vec::new();
    // `non_attendibile`: the signature verifies, its signer is not trusted.
    let outcome = |signature_valid: bool, trusted: bool, problem: Option<&str>| match problem {
        None if trusted => ("Valida; firmatario attendibile".to_owned(), "valida"),
        None => ("Non verificata".to_owned(), "non_valida"),
        Some(p) if signature_valid && !trusted => (
            format!("Firma integra, firmatario non attendibile: {p}"),
            "non_attendibile",
        ),
        Some(p) => (format!("Non valida: {p}"), "non_valida"),
    };
    if let Some(s) = &r.segnatura {
        let (text, code) = outcome(s.signature_valid, s.trusted, s.problem.as_deref());
        rows.push((
            "Segnatura di protocollo (XAdES)".to_owned(),
            s.signer.clone().unwrap_or_else(|| "—".into()),
            s.signing_time.map_or_else(|| "—".to_owned(), rome),
            text,
            code,
        ));
    }
    for d in &r.documents {
        let what = format!(
            "{} ({})",
            d.name,
            if d.primary { "principale" } else { "allegato" }
        );
        if d.report.detached {
            rows.push((
                what.clone(),
                "—".into(),
                "—".into(),
                "Firma separata (.p7s): non verificata".into(),
                "non_valida",
            ));
        }
        if let Some(p) = &d.report.envelope_problem {
            rows.push((
                what.clone(),
                "—".into(),
                "—".into(),
                format!("Non valida: {p}"),
                "non_valida",
            ));
        }
        for s in &d.report.signatures {
            let mut time = s.signing_time.map_or_else(|| "—".to_owned(), rome);
            if let Some(ts) = s.time_stamp {
                time.push_str(&format!(
                    "; marca temporale del {}{}",
                    rome(ts),
                    s.time_stamp_authority
                        .as_deref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default()
                ));
            }
            let timestamp_problem = s.problem.as_ref().is_some_and(|p| {
                p.kind == palazzo_services::signatures::cades::ProblemKind::MarcaTemporale
            });
            let (text, code) = outcome(
                s.signature_valid && !timestamp_problem,
                s.trusted,
                s.problem.as_ref().map(|p| p.detail.as_str()),
            );
            let signer = format!(
                "{}{}",
                s.signer.clone().unwrap_or_else(|| "—".into()),
                if s.seal { " (sigillo)" } else { "" }
            );
            rows.push((what.clone(), signer, time, text, code));
        }
    }
    rows
}

/// "Da classificare" with its deadline (TI-2), or with its lapse.
fn unclassified_label(
    t: &Tenant,
    policy: &palazzo_store::ProtocolPolicy,
    r: &Registration,
) -> String {
    match palazzo_services::classificazione::classification_deadline(t, policy, r) {
        None => "Da classificare".to_owned(),
        Some(d) => {
            let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
            let day = d.strftime("%d/%m/%Y");
            if today > d {
                format!("Da classificare — termine scaduto il {day}")
            } else {
                format!("Da classificare entro il {day}")
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct EntryQuery {
    esito: Option<String>,
}

async fn render_entry(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: RegistrationId,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let r = app.protocol_entry(t.id, &auth.actor, id).await?;
    let (handoffs, steps) = app.protocol_route(t.id, &auth.actor, id).await?;
    let snap = app.portal(t.id).await?;
    let office_name = |o: OfficeId| {
        snap.office(o)
            .map_or_else(|| format!("ufficio {}", o.0), |x| x.data.name.clone())
    };
    let d = &r.data;
    let mut documents = crate::versioni::doc_rows(state, t.id, &auth.actor, &r).await?;
    let timeline = assegnazioni::timeline(state, t, auth, &handoffs, &steps).await?;
    let can_register = auth.actor.principal.can(Permission::RegisterProtocol);
    let staff = if can_register {
        app.handoff_staff(t.id, &auth.actor)
            .await?
            .into_iter()
            .map(|(u, n)| (u.0, n))
            .collect()
    } else {
        Vec::new()
    };
    let changes = app
        .protocol_changes(t.id, &auth.actor, id)
        .await?
        .iter()
        .map(|c| {
            let class = |v: &Option<String>| v.clone().unwrap_or_else(|| "nessuna".to_owned());
            let office = |v: Option<OfficeId>| v.map_or_else(|| "nessuno".to_owned(), office_name);
            let mut what = Vec::new();
            if c.old_classification != c.new_classification {
                what.push(format!(
                    "classificazione {} → {}",
                    class(&c.old_classification),
                    class(&c.new_classification)
                ));
            }
            if c.old_office != c.new_office {
                what.push(format!(
                    "ufficio {} → {}",
                    office(c.old_office),
                    office(c.new_office)
                ));
            }
            if what.is_empty() {
                what.push("nessuna variazione".to_owned());
            }
            (rome(c.at), c.by.clone(), what.join("; "))
        })
        .collect();
    let segnatura = app
        .protocol_segnatura_record(t.id, &auth.actor, id)
        .await?
        .map(|s| {
            let kind = match s.data.kind {
                palazzo_store::SegnaturaKind::Emessa => "firmata con il sigillo dell'AOO",
                palazzo_store::SegnaturaKind::Ricevuta => "ricevuta con il messaggio di protocollo",
            };
            (kind, s.data.document.sha256.hex())
        });
    let report = app.protocol_signatures(t.id, &auth.actor, id).await;
    if let Err(e) = &report {
        tracing::warn!(error = %e, "signature report not available");
    }
    if let Ok(report) = &report {
        for d in &mut documents {
            d.signature_outcome = report
                .documents
                .iter()
                .find(|s| s.sha256 == d.sha256)
                .map(|s| envelope_outcome(&s.report));
        }
    }
    let (signatures, signatures_at) = report
        .map(|r| (signature_rows(&r), rome(r.verified_at)))
        .unwrap_or_default();
    let sender_annulment = app
        .protocol_annulment_notice(t.id, &auth.actor, id)
        .await?
        .map(|n| {
            (
                rome(n.received_at),
                n.data.reason,
                n.data.act,
                n.data.recorded_by,
            )
        });
    let fascicoli = app
        .registration_fascicoli(t.id, &auth.actor, id)
        .await?
        .into_iter()
        .map(|f| (f.id.0, f.code, f.data.subject, f.closure.is_none()))
        .collect();
    // Named after the ente's own titolario (a class the admin added too).
    let titolario = app.titolario(t.id, &auth.actor, None).await.ok();
    let policy = app.protocol_policy(t.id, &auth.actor).await?;
    let date = palazzo_domain::calendar::rome_date(r.registered_at)
        .strftime("%d/%m/%Y")
        .to_string();
    let tpl = EntryTemplate {
        shell: shell(t, "Registrazione di protocollo", "Registrazione"),
        csrf: auth.csrf().to_owned(),
        id: r.id.0,
        number: r.number.to_string(),
        date,
        when: rome(r.registered_at),
        register: d.register.to_string(),
        year: r.year,
        flow: d.flow.label_it(),
        subject: d.subject.clone(),
        correspondents_label: match d.flow {
            palazzo_domain::protocollo::Flow::Entrata => "Mittente",
            _ => "Destinatari",
        },
        correspondents: correspondents(&r),
        received: match (&d.received_number, d.received_date) {
            (None, None) => None,
            (n, dt) => Some(format!(
                "n. {} del {}",
                n.as_deref().unwrap_or("—"),
                dt.map_or_else(|| "—".to_owned(), |x| x.strftime("%d/%m/%Y").to_string())
            )),
        },
        registered_by: d.registered_by.clone(),
        classification: d.classification.as_deref().map_or_else(
            || unclassified_label(t, &policy, &r),
            |c| {
                titolario
                    .as_ref()
                    .and_then(|v| palazzo_services::fascicoli::denominazione(v, c))
                    .map_or_else(|| c.to_owned(), |name| format!("{c} — {name}"))
            },
        ),
        classification_value: d.classification.clone().unwrap_or_default(),
        office: d.office.map_or_else(|| "—".to_owned(), office_name),
        offices: snap
            .offices
            .iter()
            .map(|o| (o.id.0, o.data.name.clone(), d.office == Some(o.id)))
            .collect(),
        documents,
        version_kinds: crate::versioni::KINDS.to_vec(),
        segnatura,
        signatures,
        signatures_at,
        timeline,
        changes,
        annulment: r
            .annulment
            .as_ref()
            .map(|a| (rome(a.at), a.by.clone(), a.reason.clone(), a.act.clone())),
        sender_annulment,
        emergency: d
            .emergency
            .as_ref()
            .map(|e| (e.register.clone(), e.number, rome(e.recorded_at))),
        fascicoli,
        can_file: auth.actor.principal.can(Permission::WorkOfficeCases),
        annulled: r.annulment.is_some(),
        can_register,
        staff,
        can_annul: auth.actor.principal.can(Permission::AnnulProtocol),
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

/// Handles `GET /backoffice/protocollo/{id}/segnatura.xml`: the segnatura
/// of the registration (Allegato 6) as stored — the signed XML we wrote for
/// an outgoing entry, or the one received with an incoming message.
async fn segnatura_xml(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
) -> Response {
    match state
        .app()
        .protocol_segnatura(t.id, &auth.actor, RegistrationId(id))
        .await
    {
        Ok(Some((rec, xml))) => {
            let name = format!("segnatura-{}.xml", rec.data.registration.0);
            (
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "application/xml; charset=utf-8".to_owned(),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                xml,
            )
                .into_response()
        }
        Ok(None) => needs(&entry_path(id), ServiceError::NotFound),
        Err(e) => needs(&entry_path(id), e),
    }
}

/// Handles `GET /backoffice/protocollo/{id}/ricevuta.pdf`: the ricevuta di
/// protocollo (PDF/A-3 with the proof bundle, `docs/receipt-format.md`);
/// 503 with `Retry-After` while no signed checkpoint covers it.
async fn receipt_pdf(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
) -> Response {
    match state
        .app()
        .protocol_receipt(t.id, &auth.actor, RegistrationId(id))
        .await
    {
        Ok(file) => crate::upload::receipt_download(file),
        Err(e) => needs(&format!("{}/ricevuta.pdf", entry_path(id)), e),
    }
}

fn entry_path(id: i64) -> String {
    format!("/backoffice/protocollo/{id}")
}

async fn entry_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Query(q): Query<EntryQuery>,
) -> Response {
    let notice = match q.esito.as_deref() {
        Some("classificata") => Some("Classificazione e ufficio aggiornati.".to_owned()),
        Some("assegnata") => Some("Documento assegnato.".to_owned()),
        Some("annullata") => Some("Registrazione annullata.".to_owned()),
        Some("fascicolata") => Some("Fascicolazione aggiornata.".to_owned()),
        Some("versione") => Some("Nuova versione del documento registrata.".to_owned()),
        _ => None,
    };
    render_entry(&state, &t, &auth, RegistrationId(id), notice, None)
        .await
        .unwrap_or_else(|e| needs(&entry_path(id), e))
}

/// After a refused form: the page again with the error, or the error page.
pub(crate) async fn refused(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: i64,
    e: ServiceError,
) -> Response {
    match e {
        e @ ServiceError::Invalid { .. } => {
            tracing::info!(code = e.code(), "protocollo form refused");
            render_entry(state, t, auth, RegistrationId(id), None, Some(&e))
                .await
                .unwrap_or_else(|e| needs(&entry_path(id), e))
        }
        e => needs(&entry_path(id), e),
    }
}

#[derive(Deserialize)]
struct ClassifyForm {
    #[serde(default)]
    classifica: String,
    #[serde(default)]
    ufficio: Option<i64>,
}

async fn classify(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<ClassifyForm>,
) -> Response {
    let office = f.ufficio.filter(|o| *o != 0).map(OfficeId);
    match state
        .app()
        .reassign_protocol(
            t.id,
            &auth.actor,
            RegistrationId(id),
            Some(&f.classifica),
            office,
        )
        .await
    {
        Ok(_) => see_other(&format!("{}?esito=classificata", entry_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
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

async fn assign(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs(&entry_path(id), e);
    }
    let Some(kind) = HandoffKind::from_code(&f.tipo) else {
        let e = ServiceError::Invalid {
            code: "handoff_tipo",
            message: "Scegli se l'assegnazione è per competenza o per conoscenza.".into(),
        };
        return refused(&state, &t, &auth, id, e).await;
    };
    match state
        .app()
        .assign_protocol(
            t.id,
            &auth.actor,
            RegistrationId(id),
            kind,
            assegnazioni::target(f.ufficio, f.persona),
            Some(&f.nota),
        )
        .await
    {
        Ok(_) => see_other(&format!("{}?esito=assegnata", entry_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}

#[derive(Deserialize)]
struct AnnulForm {
    #[serde(default)]
    motivo: String,
    #[serde(default)]
    atto: String,
}

async fn annul(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<AnnulForm>,
) -> Response {
    match state
        .app()
        .annul_protocol(t.id, &auth.actor, RegistrationId(id), &f.motivo, &f.atto)
        .await
    {
        Ok(_) => see_other(&format!("{}?esito=annullata", entry_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}

#[derive(Template)]
#[template(path = "backoffice/waits.html")]
struct WaitsTemplate<'a> {
    shell: Shell<'a>,
    /// Office (or office — person), is a person's row, handled, waiting,
    /// average, longest.
    rows: Vec<(String, bool, u32, u32, String, String)>,
}

fn human(d: jiff::SignedDuration) -> String {
    let mins = d.as_secs() / 60;
    match (mins / 1440, (mins % 1440) / 60, mins % 60) {
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (g, h, _) => format!("{g} g {h} h"),
    }
}

async fn waits_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    let app = state.app();
    let waits = match app
        .office_waits(t.id, &auth.actor, jiff::Timestamp::now())
        .await
    {
        Ok(w) => w,
        Err(e) => return needs("/backoffice/protocollo/tempi", e),
    };
    let snap = match app.portal(t.id).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let people: Vec<_> = waits.iter().filter_map(|w| w.user).collect();
    let names = match app.staff_names(t.id, &auth.actor, &people).await {
        Ok(n) => n,
        Err(e) => return needs("/backoffice/protocollo/tempi", e),
    };
    let tpl = WaitsTemplate {
        shell: shell(&t, "Tempi di attesa negli uffici", "Tempi di attesa"),
        rows: waits
            .iter()
            .map(|w| {
                let office = snap
                    .office(w.office)
                    .map_or_else(|| w.office.0.to_string(), |o| o.data.name.clone());
                (
                    match w.user {
                        None => office,
                        Some(u) => format!(
                            "{office} — {}",
                            names
                                .get(&u)
                                .cloned()
                                .unwrap_or_else(|| format!("persona {}", u.0))
                        ),
                    },
                    w.user.is_some(),
                    w.handled,
                    w.waiting,
                    human(w.average),
                    human(w.longest),
                )
            })
            .collect(),
    };
    render(tpl, StatusCode::OK)
}

#[derive(Deserialize)]
struct FileIntoForm {
    /// The fascicolo: its id or its identifier (`2026-VI.3-1`).
    #[serde(default)]
    fascicolo: String,
}

/// Handles `POST /backoffice/protocollo/{id}/fascicola`: files the
/// registration into an open fascicolo given by id or identifier, then
/// back to the registration page (taking it out goes through the
/// fascicolo's own form, with `ritorno=protocollo`).
async fn file_into(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(f): Form<FileIntoForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::WorkOfficeCases) {
        return needs(&entry_path(id), e);
    }
    let app = state.app();
    let given = f.fascicolo.trim();
    let unknown = || ServiceError::Invalid {
        code: "fascicolo_inesistente",
        message: format!("Il fascicolo «{given}» non esiste."),
    };
    let found = if given.is_empty() {
        Err(ServiceError::Invalid {
            code: "fascicolo_mancante",
            message: "Indica il fascicolo (numero o identificativo, ad esempio 2026-VI.3-1)."
                .into(),
        })
    } else {
        let by = match given.parse::<i64>() {
            Ok(n) => {
                app.fascicolo(t.id, &auth.actor, palazzo_store::FascicoloRowId(n))
                    .await
            }
            Err(_) => app.fascicolo_by_code(t.id, &auth.actor, given).await,
        };
        by.map_err(|e| match e {
            ServiceError::NotFound => unknown(),
            e => e,
        })
    };
    let result = match found {
        Ok(s) => {
            app.file_document(t.id, &auth.actor, s.fascicolo.id, RegistrationId(id))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => see_other(&format!("{}?esito=fascicolata", entry_path(id))),
        Err(e) => refused(&state, &t, &auth, id, e).await,
    }
}
