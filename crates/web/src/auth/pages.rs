//! Sign-in pages, the personal area and the back office pages of issue 3.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use palazzo_domain::access::{Permission, ROLES, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_services::ServiceError;
use palazzo_services::access::{SignedIn, VerifiedIdentity};
use palazzo_store::{GrantSource, NoticeChannel, OfficeId, UserId};
use rand::seq::SliceRandom as _;
use serde::Deserialize;

use super::{Auth, clear_session_cookie, session_cookie};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::FullPage;
use crate::portal::rating::{PeerAddr, client_ip, client_key};
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

/// The routes of this module.
pub fn router() -> Routes {
    use Access::*;
    let own = Needs(Permission::OwnProfile);
    let roles = Needs(Permission::ManageRoles);
    Routes::new()
        .get("/accedi", Public, sign_in_page)
        .get("/accedi/amministratore", Public, admin_page)
        .post("/accedi/amministratore", Public, admin_submit)
        .get("/accedi/demo", Demo, demo_page)
        .post("/accedi/demo", Demo, demo_submit)
        .post("/esci", Public, sign_out)
        .post("/esci/ovunque", Public, sign_out_everywhere)
        .get("/area-personale", own, personal_area)
        .post("/area-personale/contatti", own, update_contacts)
        .get("/area-personale/dati.json", own, personal_data)
        .get("/area-personale/protocollazioni", own, my_registrations)
        .get(
            "/area-personale/protocollazioni/{id}/ricevuta.pdf",
            own,
            my_receipt,
        )
        .get("/backoffice", Needs(Permission::BackOffice), backoffice)
        .get("/backoffice/ruoli", roles, roles_page)
        .post("/backoffice/ruoli/assegna", roles, grant)
        .post("/backoffice/ruoli/revoca", roles, revoke)
}

/// A local path to come back to after signing in: must start with one `/`
/// (no scheme, no `//host`, no backslash), at most 512 bytes.
pub fn safe_return(path: Option<&str>) -> Option<String> {
    let p = path?.trim();
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && p.len() <= 512
        && !p.chars().any(char::is_control)
        && !p.starts_with("/accedi")
        && !p.starts_with("/esci");
    ok.then(|| p.to_owned())
}

pub(crate) fn page(html: String, status: StatusCode) -> Response {
    let mut res = (status, axum::response::Html(html)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.extensions_mut().insert(FullPage);
    res
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The answer to an anonymous visitor of a page that needs a sign-in: back
/// to the sign-in page, then here.
fn to_sign_in(path: &str) -> Response {
    let q = form_urlencode(path);
    see_other(&format!("/accedi?ritorno={q}"))
}

fn form_urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// Maps a service error of a page that needs a signed-in user.
pub(crate) fn needs(path: &str, e: ServiceError) -> Response {
    match e {
        ServiceError::Unauthenticated => to_sign_in(path),
        e => WebError::from(e).into_response(),
    }
}

fn set_cookie(res: &mut Response, v: HeaderValue) {
    res.headers_mut().append(header::SET_COOKIE, v);
}

#[derive(Deserialize, Default)]
struct ReturnQuery {
    ritorno: Option<String>,
}

struct ProviderButton {
    heading: &'static str,
    text: &'static str,
    label: &'static str,
    href: String,
    element: &'static str,
    /// With several providers of the kind (SPID): each one, as (label,
    /// start URL), in random order as the AgID button rules ask; the button
    /// then opens this list instead of linking to the first provider.
    choices: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInTemplate<'a> {
    shell: Shell<'a>,
    providers: Vec<ProviderButton>,
    demo: bool,
    return_query: String,
    message: Option<String>,
    /// The comune's staff provider button: (label, URL).
    staff: Option<(String, String)>,
}

async fn sign_in_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ReturnQuery>,
) -> WebResult<Response> {
    let ret = safe_return(q.ritorno.as_deref());
    if auth.signed_in() {
        return Ok(see_other(ret.as_deref().unwrap_or("/area-personale")));
    }
    let return_query = ret
        .as_deref()
        .map(|r| format!("?ritorno={}", form_urlencode(r)))
        .unwrap_or_default();
    let mut shell = Shell::new(&t, "Accedi");
    shell.breadcrumb = vec![Crumb::link("Home", "/"), Crumb::here("Accedi")];
    let and_return = return_query.replacen('?', "&", 1);
    let providers = crate::auth::providers(&state)
        .into_iter()
        .map(|b| {
            let href = format!("{}{return_query}", b.href);
            match b.kind {
                "spid" => {
                    let mut choices: Vec<(String, String)> = if b.providers.len() > 1 {
                        b.providers
                            .into_iter()
                            .map(|(label, href)| (label, format!("{href}{and_return}")))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    choices.shuffle(&mut rand::thread_rng());
                    ProviderButton {
                        heading: "SPID",
                        text: "Sistema Pubblico di Identità Digitale.",
                        label: "Entra con SPID",
                        href,
                        element: "spid-login",
                        choices,
                    }
                }
                _ => ProviderButton {
                    heading: "CIE",
                    text: "Carta d'Identità Elettronica.",
                    label: "Entra con CIE",
                    href,
                    element: "cie-login",
                    choices: Vec::new(),
                },
            }
        })
        .collect();
    let tpl = SignInTemplate {
        shell,
        providers,
        demo: state.config().demo_sign_in,
        staff: super::staff::button(&state, &t)
            .map(|(label, href)| (label, format!("{href}{return_query}"))),
        return_query,
        message: None,
    };
    Ok(page(tpl.render()?, StatusCode::OK))
}

#[derive(Template)]
#[template(path = "auth/admin_sign_in.html")]
struct AdminTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    username: String,
    message: Option<String>,
    code: &'static str,
}

fn admin_shell(t: &palazzo_store::Tenant) -> Shell<'_> {
    let mut shell = Shell::new(t, "Accesso di emergenza");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Accedi", "/accedi"),
        Crumb::here("Accesso di emergenza"),
    ];
    shell
}

async fn admin_page(
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> WebResult<Response> {
    let tpl = AdminTemplate {
        shell: admin_shell(&t),
        csrf: auth.csrf().to_owned(),
        username: String::new(),
        message: None,
        code: "",
    };
    Ok(page(tpl.render()?, StatusCode::OK))
}

#[derive(Deserialize)]
struct AdminForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

async fn admin_submit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    PeerAddr(peer): PeerAddr,
    headers: axum::http::HeaderMap,
    Form(form): Form<AdminForm>,
) -> WebResult<Response> {
    let cfg = state.config();
    let client = client_key(&cfg.secret, client_ip(peer, &headers, cfg.behind_tls));
    match state
        .app()
        .admin_login(t.id, &client, &form.username, &form.password, &form.code)
        .await
    {
        Ok(admin) => {
            let who = SignedIn {
                admin: Some(admin.id),
                provider: "local".into(),
                name: admin.data.display_name.clone(),
                ..SignedIn::default()
            };
            let (token, _) = state
                .app()
                .rotate_session(auth.session.as_ref(), t.id, who)
                .await?;
            let mut res = see_other("/backoffice");
            set_cookie(&mut res, session_cookie(&state, &token));
            Ok(res)
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::RateLimited)) => {
            let status = if matches!(e, ServiceError::RateLimited) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let tpl = AdminTemplate {
                shell: admin_shell(&t),
                csrf: auth.csrf().to_owned(),
                username: form.username.chars().take(64).collect(),
                message: Some(e.message_it()),
                code: e.code(),
            };
            Ok(page(tpl.render()?, status))
        }
        Err(e) => Err(e.into()),
    }
}

struct Persona {
    key: &'static str,
    label: &'static str,
    /// Works in one office, chosen on the page.
    scoped: bool,
}

struct OfficeChoice {
    slug: String,
    name: String,
}

/// The demonstration staff personas: (key, label, role).
const STAFF_PERSONAS: [(&str, &str, Role); 7] = [
    ("operatore", "Operatore", Role::Operatore),
    (
        "responsabile",
        "Responsabile del procedimento",
        Role::Responsabile,
    ),
    ("dirigente", "Dirigente", Role::Dirigente),
    ("segretario", "Segretario comunale / RPCT", Role::Segretario),
    ("anagrafe", "Ufficiale d'anagrafe", Role::UfficialeAnagrafe),
    (
        "tributi",
        "Funzionario responsabile dei tributi",
        Role::FunzionarioTributi,
    ),
    ("admin", "Amministratore del Comune", Role::AdminComune),
];

struct ResidentRow {
    surname: String,
    name: String,
    cf: String,
}

#[derive(Template)]
#[template(path = "auth/demo_sign_in.html")]
struct DemoTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    return_to: String,
    staff: Vec<Persona>,
    offices: Vec<OfficeChoice>,
    residents: Vec<ResidentRow>,
}

async fn demo_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ReturnQuery>,
) -> WebResult<Response> {
    if !state.config().demo_sign_in {
        return Err(WebError::NotFound);
    }
    let residents = state.app().demo_residents(t.id, 30).await?;
    let offices = state.app().portal(t.id).await?.offices.clone();
    let mut shell = Shell::new(&t, "Accesso dimostrativo");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Accedi", "/accedi"),
        Crumb::here("Accesso dimostrativo"),
    ];
    let tpl = DemoTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        return_to: safe_return(q.ritorno.as_deref()).unwrap_or_default(),
        staff: STAFF_PERSONAS
            .iter()
            .map(|(key, label, role)| Persona {
                key,
                label,
                scoped: role.is_office_scoped(),
            })
            .collect(),
        offices: offices
            .into_iter()
            .map(|o| OfficeChoice {
                slug: o.data.slug,
                name: o.data.name,
            })
            .collect(),
        residents: residents
            .into_iter()
            .map(|p| ResidentRow {
                surname: p.surname,
                name: p.name,
                cf: p.codice_fiscale.as_str().to_owned(),
            })
            .collect(),
    };
    Ok(page(tpl.render()?, StatusCode::OK))
}

#[derive(Deserialize)]
struct DemoForm {
    #[serde(default)]
    persona: String,
    #[serde(default)]
    ritorno: Option<String>,
    /// The office of an office-scoped staff persona, by slug (default: the
    /// first office), so that the demo can work every office's pratiche.
    #[serde(default)]
    ufficio: Option<String>,
}

async fn demo_submit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<DemoForm>,
) -> WebResult<Response> {
    if !state.config().demo_sign_in {
        return Err(WebError::NotFound);
    }
    let app = state.app();
    let (identity, roles) = if let Some(cf) = form.persona.strip_prefix("cf:") {
        let cf = CodiceFiscale::parse(cf).map_err(|e| WebError::from(ServiceError::invalid(&e)))?;
        let p = app
            .demo_resident(t.id, &cf)
            .await?
            .ok_or(WebError::unprocessable(
                "demo_resident_unknown",
                "Questa persona non è tra i residenti fittizi del Comune.",
            ))?;
        let id = VerifiedIdentity {
            provider: "demo".into(),
            issuer: "demo".into(),
            subject: format!("resident:{}", p.codice_fiscale.as_str()),
            acr: Some("https://www.spid.gov.it/SpidL2".into()),
            codice_fiscale: Some(p.codice_fiscale.clone()),
            given_name: p.name,
            family_name: p.surname,
            birth_date: Some(p.birth_date),
            birth_place: Some(p.birthplace.as_str().to_owned()),
            email: None,
            phone: None,
        };
        (id, None)
    } else if let Some((key, label, role)) =
        STAFF_PERSONAS.iter().find(|(k, _, _)| *k == form.persona)
    {
        let office = if role.is_office_scoped() {
            let portal = app.portal(t.id).await?;
            match form.ufficio.as_deref().filter(|s| !s.is_empty()) {
                Some(slug) => {
                    portal
                        .office_by_slug(slug)
                        .map(|o| o.id)
                        .ok_or(WebError::unprocessable(
                            "demo_ufficio_sconosciuto",
                            "Questo ufficio non esiste nel Comune.",
                        ))?
                }
                None => portal.offices.first().map_or(OfficeId(0), |o| o.id),
            }
        } else {
            OfficeId(0)
        };
        let id = VerifiedIdentity {
            provider: "demo".into(),
            issuer: "demo".into(),
            subject: format!("staff:{key}"),
            acr: None,
            codice_fiscale: None,
            given_name: (*label).to_owned(),
            family_name: "(demo)".into(),
            birth_date: None,
            birth_place: None,
            email: None,
            phone: None,
        };
        (id, Some(vec![(*role, office)]))
    } else {
        return Err(WebError::unprocessable(
            "demo_persona_unknown",
            "Scegli una delle persone fittizie proposte.",
        ));
    };
    let user = app.record_sign_in(t.id, &identity).await?;
    if let Some(roles) = &roles {
        app.sync_idp_roles(t.id, user.id, roles).await?;
    }
    let who = SignedIn {
        user: Some(user.id),
        provider: "demo".into(),
        acr: identity.acr.clone(),
        name: format!("{} {}", user.data.given_name, user.data.family_name),
        ..SignedIn::default()
    };
    let (token, _) = app.rotate_session(auth.session.as_ref(), t.id, who).await?;
    let to = safe_return(form.ritorno.as_deref()).unwrap_or_else(|| {
        if roles.is_some() {
            "/backoffice"
        } else {
            "/area-personale"
        }
        .to_owned()
    });
    let mut res = see_other(&to);
    set_cookie(&mut res, session_cookie(&state, &token));
    Ok(res)
}

async fn sign_out(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let mut next = None;
    if let Some(s) = &auth.session {
        state.app().end_session(s).await?;
        tracing::info!("signed out");
        // Token revocation at the SPID/CIE provider (DECISIONS 22).
        super::federation::revoke_at_op(&state, s).await;
        // RP-initiated logout at the comune's staff provider (DECISIONS 22).
        if s.record.provider.as_deref() == Some("oidc") {
            next = super::staff::provider_logout(&state, &t, &headers).await;
        }
    }
    let mut res = next.unwrap_or_else(|| see_other("/"));
    set_cookie(&mut res, clear_session_cookie(&state));
    Ok(res)
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> WebResult<Response> {
    if let Some(s) = &auth.session {
        let n = state.app().end_all_sessions(s).await?;
        tracing::info!(sessions = n, "signed out everywhere");
        super::federation::revoke_at_op(&state, s).await;
    }
    let mut res = see_other("/");
    set_cookie(&mut res, clear_session_cookie(&state));
    Ok(res)
}

#[derive(Template)]
#[template(path = "auth/personal_area.html")]
struct PersonalAreaTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    user: palazzo_store::User,
    birth: Option<String>,
    email: String,
    phone: String,
    channels: Vec<(&'static str, &'static str, bool)>,
    sign_ins: Vec<(String, String, String)>,
    missing_contacts: bool,
    staff: bool,
    /// The personal area's navigation.
    nav: Vec<crate::area_personale::NavItem>,
    /// How many notices wait for the citizen.
    notifiche: usize,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    salvato: Option<String>,
}

pub(crate) fn rome(ts: jiff::Timestamp) -> String {
    ts.to_zoned(jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC))
        .strftime("%d/%m/%Y %H:%M")
        .to_string()
}

fn provider_label(p: &str) -> String {
    match p {
        "spid" => "SPID".into(),
        "cie" => "CIE".into(),
        "oidc" => "Account dell'ente".into(),
        "demo" => "Dimostrazione".into(),
        other => other.to_owned(),
    }
}

fn acr_label(a: Option<&str>) -> String {
    match a {
        Some(a) if a.ends_with("SpidL1") => "SPID livello 1".into(),
        Some(a) if a.ends_with("SpidL2") => "SPID livello 2".into(),
        Some(a) if a.ends_with("SpidL3") => "SPID livello 3".into(),
        Some(a) => a.to_owned(),
        None => "—".into(),
    }
}

async fn render_personal_area(
    state: &AppState,
    t: &palazzo_store::Tenant,
    auth: &Auth,
    form: Option<(&ContactsForm, &ServiceError)>,
    notice: Option<String>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let user = app.my_profile(t.id, &auth.actor).await?;
    let sign_ins = app.my_sign_ins(t.id, &auth.actor).await?;
    let (email, phone, channel) = match form {
        Some((f, _)) => (f.email.clone(), f.phone.clone(), f.channel.clone()),
        None => (
            user.data
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            user.data.phone.clone().unwrap_or_default(),
            user.data.notice_channel.code().to_owned(),
        ),
    };
    let mut shell = Shell::new(t, "Area personale");
    shell.breadcrumb = vec![Crumb::link("Home", "/"), Crumb::here("Area personale")];
    let tpl = PersonalAreaTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        birth: user.data.birth_date.map(|d| {
            let date = d.strftime("%d/%m/%Y").to_string();
            match &user.data.birth_place {
                Some(p) => format!("{date}, {p}"),
                None => date,
            }
        }),
        missing_contacts: user.data.email.is_none() && user.data.phone.is_none(),
        user,
        email,
        phone,
        channels: NoticeChannel::ALL
            .iter()
            .map(|c| (c.code(), c.label_it(), c.code() == channel))
            .collect(),
        sign_ins: sign_ins
            .iter()
            .map(|s| {
                (
                    rome(s.time),
                    provider_label(&s.provider),
                    acr_label(s.acr.as_deref()),
                )
            })
            .collect(),
        staff: auth.actor.principal.is_staff(),
        nav: crate::area_personale::nav("/area-personale"),
        // What waits for the citizen (none for who is not one).
        notifiche: app
            .my_desk(t.id, &auth.actor)
            .await
            .map_or(0, |d| d.notifiche.len()),
        notice,
        error: form.map(|(_, e)| e.message_it()),
        error_code: form.map_or("", |(_, e)| e.code()),
    };
    let status = if form.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = tpl
        .render()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(page(html, status))
}

async fn personal_area(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = q
        .salvato
        .is_some()
        .then(|| "I tuoi recapiti sono stati salvati.".to_owned());
    render_personal_area(&state, &t, &auth, None, notice)
        .await
        .unwrap_or_else(|e| needs("/area-personale", e))
}

#[derive(Deserialize)]
struct ContactsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    channel: String,
}

async fn update_contacts(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<ContactsForm>,
) -> Response {
    let result = state
        .app()
        .update_my_contacts(
            t.id,
            &auth.actor,
            Some(&form.email),
            Some(&form.phone),
            &form.channel,
        )
        .await;
    match result {
        Ok(_) => see_other("/area-personale?salvato=1#contatti"),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "contacts refused");
            render_personal_area(&state, &t, &auth, Some((&form, &e)), None)
                .await
                .unwrap_or_else(|e| needs("/area-personale", e))
        }
        Err(e) => needs("/area-personale", e),
    }
}

async fn personal_data(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    match state.app().my_personal_data(t.id, &auth.actor).await {
        Ok(v) => {
            let body = serde_json::to_vec_pretty(&v).unwrap_or_default();
            let mut res = (StatusCode::OK, body).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"dati-personali.json\""),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => needs("/area-personale/dati.json", e),
    }
}

/// One row of "Le mie protocollazioni".
struct MyRegistrationRow {
    id: i64,
    /// `0000012/2026`.
    number: String,
    when: String,
    subject: String,
    annulled: bool,
}

#[derive(Template)]
#[template(path = "auth/protocollazioni.html")]
struct MyRegistrationsTemplate<'a> {
    shell: Shell<'a>,
    has_cf: bool,
    rows: Vec<MyRegistrationRow>,
    truncated: bool,
}

/// Handles `GET /area-personale/protocollazioni` ("Le mie protocollazioni"):
/// the incoming registrations whose sender is the signed-in citizen, by
/// codice fiscale, each with its receipt.
async fn my_registrations(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    const PATH: &str = "/area-personale/protocollazioni";
    let app = state.app();
    let result = async {
        let user = app.my_profile(t.id, &auth.actor).await?;
        let regs = app.my_protocol_registrations(t.id, &auth.actor).await?;
        Ok::<_, ServiceError>((user, regs))
    }
    .await;
    let (user, regs) = match result {
        Ok(v) => v,
        Err(e) => return needs(PATH, e),
    };
    let mut shell = Shell::new(&t, "Le mie protocollazioni");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::here("Le mie protocollazioni"),
    ];
    let truncated = regs.len()
        >= usize::try_from(palazzo_services::receipt::MY_REGISTRATIONS_LIMIT).unwrap_or(usize::MAX);
    let tpl = MyRegistrationsTemplate {
        shell,
        has_cf: user.data.codice_fiscale.is_some(),
        rows: regs
            .iter()
            .map(|r| MyRegistrationRow {
                id: r.id.0,
                number: format!("{}/{}", r.number, r.year),
                when: rome(r.registered_at),
                subject: r.data.subject.clone(),
                annulled: r.annulment.is_some(),
            })
            .collect(),
        truncated,
    };
    match tpl.render() {
        Ok(html) => page(html, StatusCode::OK),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Handles `GET /area-personale/protocollazioni/{id}/ricevuta.pdf`: the
/// receipt of one of the citizen's own incoming registrations; any other
/// registration (another sender's, another comune's) is 404.
async fn my_receipt(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match state
        .app()
        .my_protocol_receipt(t.id, &auth.actor, palazzo_store::RegistrationId(id))
        .await
    {
        Ok(file) => crate::upload::receipt_download(file),
        Err(e) => needs(
            &format!("/area-personale/protocollazioni/{id}/ricevuta.pdf"),
            e,
        ),
    }
}

#[derive(Template)]
#[template(path = "auth/backoffice.html")]
struct BackofficeTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    name: String,
    roles: Vec<String>,
    manage_roles: bool,
    manage_catalogue: bool,
    manage_taxes: bool,
    read_protocol: bool,
    /// The anagrafe desk: "Certificati anagrafici".
    certificates: bool,
    see_all: bool,
    /// Works cases: "Le mie assegnazioni".
    work_cases: bool,
    inboxes: Vec<(String, String)>,
}

async fn backoffice(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::BackOffice) {
        return needs("/backoffice", e);
    }
    let offices = match state.app().portal(t.id).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let roles = auth
        .actor
        .principal
        .grants
        .iter()
        .map(
            |g| match g.office.and_then(|o| offices.office(OfficeId(o))) {
                Some(o) => format!("{} — {}", g.role.label_it(), o.data.name),
                None => g.role.label_it().to_owned(),
            },
        )
        .collect();
    let mut shell = Shell::new(&t, "Area del personale");
    shell.breadcrumb = vec![Crumb::link("Home", "/"), Crumb::here("Area del personale")];
    let tpl = BackofficeTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        name: auth.actor.name.clone().unwrap_or_default(),
        roles,
        manage_roles: auth.actor.principal.can(Permission::ManageRoles),
        manage_catalogue: auth.actor.principal.can(Permission::ManageCatalogue),
        manage_taxes: auth.actor.principal.can(Permission::ManageTaxes),
        read_protocol: auth.actor.principal.can(Permission::ReadProtocol),
        certificates: auth.actor.principal.can(Permission::IssueCertificates),
        see_all: auth.actor.principal.can(Permission::SeeAllOffices),
        work_cases: auth.actor.principal.can(Permission::WorkOfficeCases),
        inboxes: if auth.actor.principal.can(Permission::WorkOfficeCases) {
            offices
                .offices
                .iter()
                .filter(|o| auth.actor.principal.can_work_office(o.id.0))
                .map(|o| (o.data.slug.clone(), o.data.name.clone()))
                .collect()
        } else {
            Vec::new()
        },
    };
    match tpl.render() {
        Ok(html) => page(html, StatusCode::OK),
        Err(e) => WebError::from(e).into_response(),
    }
}

struct GrantRow {
    person: String,
    user: i64,
    role: &'static str,
    role_label: &'static str,
    office: String,
    office_id: i64,
    source: &'static str,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "auth/roles.html")]
struct RolesTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    grants: Vec<GrantRow>,
    roles: Vec<(&'static str, &'static str)>,
    offices: Vec<(i64, String)>,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct RolesQuery {
    esito: Option<String>,
}

async fn render_roles(
    state: &AppState,
    t: &palazzo_store::Tenant,
    auth: &Auth,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let staff = state.app().staff_with_roles(t.id, &auth.actor).await?;
    let snap = state.app().portal(t.id).await?;
    let platform = auth.actor.principal.can(Permission::ManagePlatform);
    let mut grants = Vec::new();
    for (u, gs) in &staff {
        let person = match &u.data.codice_fiscale {
            Some(cf) => format!("{} {} ({cf})", u.data.given_name, u.data.family_name),
            None => format!("{} {}", u.data.given_name, u.data.family_name),
        };
        for g in gs {
            grants.push(GrantRow {
                person: person.clone(),
                user: u.id.0,
                role: g.role.code(),
                role_label: g.role.label_it(),
                office: snap
                    .office(g.office)
                    .map_or_else(|| "—".to_owned(), |o| o.data.name.clone()),
                office_id: g.office.0,
                source: match g.source {
                    GrantSource::Admin => "Assegnato nel sito",
                    GrantSource::Idp => "Dall'account dell'ente",
                },
                revocable: g.source == GrantSource::Admin
                    && (g.role != Role::AdminPiattaforma || platform),
            });
        }
    }
    let mut shell = Shell::new(t, "Ruoli e permessi");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area del personale", "/backoffice"),
        Crumb::here("Ruoli e permessi"),
    ];
    let tpl = RolesTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        grants,
        roles: ROLES
            .iter()
            .filter(|r| r.is_staff() && (**r != Role::AdminPiattaforma || platform))
            .map(|r| (r.code(), r.label_it()))
            .collect(),
        offices: snap
            .offices
            .iter()
            .map(|o| (o.id.0, o.data.name.clone()))
            .collect(),
        notice,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    let html = tpl
        .render()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(html, status))
}

async fn roles_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<RolesQuery>,
) -> Response {
    let notice = match q.esito.as_deref() {
        Some("assegnato") => Some("Ruolo assegnato.".to_owned()),
        Some("revocato") => Some("Ruolo revocato.".to_owned()),
        Some("invariato") => Some("Nessuna modifica: la situazione era già questa.".to_owned()),
        _ => None,
    };
    render_roles(&state, &t, &auth, notice, None)
        .await
        .unwrap_or_else(|e| needs("/backoffice/ruoli", e))
}

#[derive(Deserialize)]
struct GrantForm {
    #[serde(default)]
    codice_fiscale: String,
    #[serde(default)]
    utente: Option<i64>,
    #[serde(default)]
    ruolo: String,
    #[serde(default)]
    ufficio: Option<i64>,
}

async fn change_role(
    state: &AppState,
    t: &palazzo_store::Tenant,
    auth: &Auth,
    form: &GrantForm,
    grant: bool,
) -> Response {
    let app = state.app();
    // Authorization before reading the form: a visitor without the
    // permission learns nothing about what a valid request looks like.
    if let Err(e) = auth.actor.require(Permission::ManageRoles) {
        return needs("/backoffice/ruoli", e);
    }
    let result = async {
        let role: Role = form
            .ruolo
            .parse()
            .map_err(|e: palazzo_domain::access::UnknownRole| ServiceError::invalid(&e))?;
        let office = OfficeId(form.ufficio.unwrap_or(0));
        let user = match form.utente {
            Some(id) if !grant => UserId(id),
            _ => {
                app.find_user_by_codice_fiscale(t.id, &auth.actor, &form.codice_fiscale)
                    .await?
                    .id
            }
        };
        if grant {
            app.grant_role(t.id, &auth.actor, user, role, office).await
        } else {
            app.revoke_role(t.id, &auth.actor, user, role, office).await
        }
    }
    .await;
    match result {
        Ok(true) => see_other(if grant {
            "/backoffice/ruoli?esito=assegnato"
        } else {
            "/backoffice/ruoli?esito=revocato"
        }),
        Ok(false) => see_other("/backoffice/ruoli?esito=invariato"),
        Err(e @ ServiceError::Invalid { .. }) => render_roles(state, t, auth, None, Some(&e))
            .await
            .unwrap_or_else(|e| needs("/backoffice/ruoli", e)),
        Err(e) => needs("/backoffice/ruoli", e),
    }
}

async fn grant(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<GrantForm>,
) -> Response {
    change_role(&state, &t, &auth, &form, true).await
}

async fn revoke(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<GrantForm>,
) -> Response {
    change_role(&state, &t, &auth, &form, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_local() {
        assert_eq!(
            safe_return(Some("/area-personale")).as_deref(),
            Some("/area-personale")
        );
        assert_eq!(
            safe_return(Some("/servizi/anagrafe/certificati?x=1")).as_deref(),
            Some("/servizi/anagrafe/certificati?x=1")
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/accedi",
            "/esci",
        ] {
            assert_eq!(safe_return(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_return(None), None);
    }
}
