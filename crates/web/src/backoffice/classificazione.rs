//! Back-office page of the entries "da classificare" and the comune's
//! classification policy (issue 4, TI-2; `palazzo_services::classificazione`).
//!
//! `GET /backoffice/protocollo/da-classificare` lists the entries of the
//! general register without a class, the most urgent first, with the last
//! day to classify them and whether it has passed; it shows the policy in
//! force and, to whoever keeps the titolario, the form to change it
//! (`POST /backoffice/protocollo/politica`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_store::{ProtocolPolicy, Tenant};
use serde::Deserialize;

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome, see_other};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};

const LIST: &str = "/backoffice/protocollo/da-classificare";

/// How many pending entries the page lists.
const SHOWN: u32 = 500;

/// The routes of this module.
pub fn router() -> Routes {
    Routes::new()
        .get(LIST, Access::Needs(Permission::ReadProtocol), list_page)
        .post(
            "/backoffice/protocollo/politica",
            Access::Needs(Permission::ManageTitolario),
            set_policy,
        )
}

/// One pending entry, ready to print.
struct Row {
    id: i64,
    number: String,
    when: String,
    subject: String,
    deadline: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "backoffice/da_classificare.html")]
struct ListTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    rows: Vec<Row>,
    overdue: usize,
    policy: PolicyView,
    notice: Option<&'static str>,
    error: Option<String>,
    error_code: &'static str,
}

/// The classification policy as `partials/politica.html` prints it, with
/// the form to change it for whoever keeps the titolario. Shown on the
/// "da classificare" page and on the titolario page (the comune's
/// administrator keeps the titolario without reading the register).
pub(crate) struct PolicyView {
    /// Classification required at registration.
    pub(crate) mandatory: bool,
    /// Working days to classify.
    pub(crate) days: u16,
    /// The longest term allowed.
    pub(crate) max_days: u16,
    /// When and by whom it was last set.
    pub(crate) updated: Option<String>,
    /// Whether the viewer may change it.
    pub(crate) can_edit: bool,
    /// The page the form returns to: `da-classificare` or `titolario`.
    pub(crate) from: &'static str,
}

impl PolicyView {
    /// The policy in force for `auth`, shown on page `from`.
    pub(crate) async fn load(
        state: &AppState,
        t: &Tenant,
        auth: &Auth,
        from: PolicyPage,
    ) -> Result<PolicyView, ServiceError> {
        let policy = state.app().protocol_policy(t.id, &auth.actor).await?;
        Ok(PolicyView {
            mandatory: policy.classification_mandatory,
            days: policy.classify_within_days,
            max_days: ProtocolPolicy::MAX_DAYS,
            updated: policy.updated_at.map(|at| {
                format!(
                    "{} da {}",
                    rome(at),
                    policy.updated_by.as_deref().unwrap_or("—")
                )
            }),
            can_edit: auth.actor.principal.can(Permission::ManageTitolario),
            from: from.code(),
        })
    }
}

/// The pages that show the policy form, where a change returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyPage {
    /// `/backoffice/protocollo/da-classificare`.
    DaClassificare,
    /// `/backoffice/titolario`.
    Titolario,
}

impl PolicyPage {
    fn code(self) -> &'static str {
        match self {
            PolicyPage::DaClassificare => "da-classificare",
            PolicyPage::Titolario => "titolario",
        }
    }

    fn path(self) -> &'static str {
        match self {
            PolicyPage::DaClassificare => LIST,
            PolicyPage::Titolario => crate::fascicoli::TITOLARIO,
        }
    }
}

/// The notice after the policy was changed (`?esito=politica`).
pub(crate) const POLICY_SAVED: &str = "Politica di classificazione aggiornata.";

#[derive(Deserialize, Default)]
struct ListQuery {
    esito: Option<String>,
}

/// Handles `GET /backoffice/protocollo/da-classificare`.
async fn list_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Response {
    let notice = (q.esito.as_deref() == Some("politica")).then_some(POLICY_SAVED);
    match render_list(&state, &t, &auth, notice, None).await {
        Ok(r) => r,
        Err(e) => needs(LIST, e),
    }
}

async fn render_list(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    notice: Option<&'static str>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let pending = app.unclassified_protocol(t.id, &auth.actor, SHOWN).await?;
    let policy = PolicyView::load(state, t, auth, PolicyPage::DaClassificare).await?;
    let rows: Vec<Row> = pending
        .iter()
        .map(|u| Row {
            id: u.registration.id.0,
            number: u.registration.number.to_string(),
            when: rome(u.registration.registered_at),
            subject: u.registration.data.subject.clone(),
            deadline: u.deadline.strftime("%d/%m/%Y").to_string(),
            overdue: u.overdue,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        ListTemplate {
            shell: shell(t, "Registrazioni da classificare", "Da classificare"),
            csrf: auth.csrf().to_owned(),
            overdue: rows.iter().filter(|r| r.overdue).count(),
            rows,
            policy,
            notice,
            error: error.map(ServiceError::message_it),
            error_code: error.map_or("", ServiceError::code),
        },
        status,
    ))
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    modalita: String,
    #[serde(default)]
    giorni: String,
    /// The page the form was on (`titolario`; anything else is the
    /// "da classificare" page).
    #[serde(default)]
    da: String,
}

/// Handles `POST /backoffice/protocollo/politica`.
async fn set_policy(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(f): Form<PolicyForm>,
) -> Response {
    let page = if f.da == PolicyPage::Titolario.code() {
        PolicyPage::Titolario
    } else {
        PolicyPage::DaClassificare
    };
    // Who may not set it learns that before anything about the form.
    if let Err(e) = auth.actor.require(Permission::ManageTitolario) {
        return needs(page.path(), e);
    }
    let parsed = match (f.modalita.as_str(), f.giorni.trim().parse::<u16>()) {
        ("obbligatoria" | "differita", Ok(days)) => Ok((f.modalita == "obbligatoria", days)),
        ("obbligatoria" | "differita", Err(_)) => Err(ServiceError::Invalid {
            code: "politica_giorni",
            message: format!(
                "Il termine per classificare va da 1 a {} giorni lavorativi.",
                ProtocolPolicy::MAX_DAYS
            ),
        }),
        _ => Err(ServiceError::Invalid {
            code: "politica_modalita",
            message: "Scegli se la classificazione è obbligatoria alla registrazione o differita."
                .into(),
        }),
    };
    let result = match parsed {
        Ok((mandatory, days)) => {
            state
                .app()
                .set_protocol_policy(t.id, &auth.actor, mandatory, days)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => see_other(&format!("{}?esito=politica", page.path())),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "classification policy refused");
            let shown = match page {
                PolicyPage::Titolario => {
                    crate::fascicoli::render_titolario(&state, &t, &auth, None, None, Some(&e))
                        .await
                }
                PolicyPage::DaClassificare => render_list(&state, &t, &auth, None, Some(&e)).await,
            };
            // Whoever may set the policy but not read the page it came
            // from gets the refusal on its own.
            shown.unwrap_or_else(|_| crate::error::WebError::from(e).into_response())
        }
        Err(e) => needs(page.path(), e),
    }
}
