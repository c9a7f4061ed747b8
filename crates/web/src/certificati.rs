//! Anagrafe certificates on the web (issue 5, parts 3–5; DECISIONS 18–20):
//!
//! - the personal area "I miei certificati" (the service card's online
//!   link): ask for a certificate for oneself or a family member, choose the
//!   use (in bollo or an exemption), download it at once when exempt;
//! - the anagrafe desk (`/backoffice/certificati`, the ufficiale
//!   d'anagrafe): certificates of anyone entitled, a paper marca da bollo,
//!   revocation;
//! - the public verification page `/verifica` (the PDF, a photo of the code,
//!   or its text), a certificate's status `/verifica/<cti>` (also signed,
//!   `?formato=cose`) and the retrieval of its original with the holder's
//!   surname, rate-limited.
//!
//! Permissions are checked by the services; the route table declares them.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::certificati::{ESENZIONI, TipoCertificato, Uso};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_services::ServiceError;
use palazzo_services::certificati::{cti_text, parse_cti};
use palazzo_services::rilascio::{CertificateRequest, base_url};
use palazzo_services::verifica::Verdict;
use palazzo_services::verifica::{Checked, Evidence, FileSeal, MAX_UPLOAD};
use palazzo_store::{Certificate, Tenant};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, page, rome, see_other};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::rating::{PeerAddr, client_ip, client_key};
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

/// The routes of this module (with the session and CSRF middleware).
pub fn router() -> Routes {
    use Access::{Needs, Public};
    let own = Needs(Permission::OwnProfile);
    let desk = Needs(Permission::IssueCertificates);
    Routes::new()
        .get("/area-personale/certificati", own, my_page)
        .post("/area-personale/certificati", own, my_issue)
        .get(
            "/area-personale/certificati/{cti}/certificato.pdf",
            own,
            my_pdf,
        )
        .get("/backoffice/certificati", desk, desk_page)
        .post("/backoffice/certificati", desk, desk_issue)
        .post("/backoffice/certificati/{cti}/bollo", desk, desk_bollo)
        .post("/backoffice/certificati/{cti}/revoca", desk, desk_revoke)
        .get(
            "/backoffice/certificati/{cti}/certificato.pdf",
            desk,
            desk_pdf,
        )
        .get("/verifica", Public, verify_page)
        .upload("/verifica", Public, verify_submit)
        .get("/verifica/{cti}", Public, status_page)
        .post("/verifica/{cti}/originale", Public, original)
}

/// One certificate as listed.
struct Row {
    cti: String,
    title: &'static str,
    holder: String,
    issued: String,
    valid_until: String,
    uso: String,
    /// `valido`, `scaduto`, `revocato`, `bollo`.
    state: &'static str,
    state_label: &'static str,
    downloadable: bool,
}

fn row(c: &Certificate) -> Row {
    let today = rome_date(jiff::Timestamp::now());
    let tipo = TipoCertificato::from_code(&c.data.doc_type);
    let (state, state_label) = if c.revocation.is_some() {
        ("revocato", "Revocato")
    } else if !c.releasable() {
        ("bollo", "In attesa del pagamento del bollo")
    } else if c.data.valid_until.is_some_and(|d| d < today) {
        ("scaduto", "Scaduto")
    } else {
        ("valido", "Valido")
    };
    Row {
        cti: cti_text(&c.data.cti),
        title: tipo.map_or("Certificato", TipoCertificato::title),
        holder: format!("{} ({})", c.data.holder_surname, c.data.holder_cf.as_str()),
        issued: rome(c.data.issued_at),
        valid_until: c.data.valid_until.map_or_else(
            || "illimitata".to_owned(),
            |d| d.strftime("%d/%m/%Y").to_string(),
        ),
        uso: Uso::from_code(&c.data.uso).map_or_else(|| c.data.uso.clone(), Uso::printed),
        state,
        state_label,
        downloadable: state == "valido" || state == "scaduto",
    }
}

/// The choices of the request form.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn types(selected: &str) -> Vec<Choice> {
    TipoCertificato::ALL
        .iter()
        .map(|t| Choice {
            value: t.code().into(),
            label: t.title().into(),
            selected: t.code() == selected,
        })
        .collect()
}

fn uses(selected: &str) -> Vec<Choice> {
    std::iter::once(Choice {
        value: "bollo".into(),
        label: "In bollo (imposta di bollo di 16,00 €)".into(),
        selected: selected == "bollo" || selected.is_empty(),
    })
    .chain(ESENZIONI.iter().map(|e| Choice {
        value: e.code.into(),
        label: format!("Esente: uso {} ({})", e.label, e.legal_ref),
        selected: e.code == selected,
    }))
    .collect()
}

#[derive(Deserialize, Default)]
struct RequestForm {
    #[serde(default)]
    codice_fiscale: String,
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    uso: String,
}

/// The request of a form, or the coded refusal of its fields.
fn parse_request(
    f: &RequestForm,
    tenant: &Tenant,
    state: &AppState,
) -> Result<CertificateRequest, ServiceError> {
    let bad = |code: &'static str, message: &str| ServiceError::Invalid {
        code,
        message: message.into(),
    };
    let holder =
        CodiceFiscale::parse(f.codice_fiscale.trim()).map_err(|e| ServiceError::invalid(&e))?;
    let tipo = TipoCertificato::from_code(&f.tipo)
        .ok_or_else(|| bad("tipo_sconosciuto", "Scegli il tipo di certificato."))?;
    let uso = Uso::from_code(&f.uso)
        .ok_or_else(|| bad("uso_sconosciuto", "Scegli l'uso del certificato."))?;
    Ok(CertificateRequest {
        holder,
        tipo,
        uso,
        base_url: base_url(tenant, state.config().behind_tls),
    })
}

fn pdf_response(c: &Certificate, bytes: Vec<u8>) -> Response {
    let name = format!(
        "{}-{}.pdf",
        c.data.doc_type.replace('_', "-"),
        cti_text(&c.data.cti)
    );
    crate::upload::pdf_download(bytes, &name)
}

/// A rendered form page: 422 when it shows a refusal, 200 otherwise.
fn form_page(html: askama::Result<String>, refused: bool) -> Result<Response, ServiceError> {
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        html.map_err(|e| ServiceError::Internal(e.to_string()))?,
        status,
    ))
}

fn cti_of(text: &str) -> Result<[u8; 16], ServiceError> {
    parse_cti(text).ok_or(ServiceError::NotFound)
}

// ---------------------------------------------------------------------------
// Personal area
// ---------------------------------------------------------------------------

struct Holder {
    cf: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "auth/certificati.html")]
struct MyTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    holders: Vec<Holder>,
    types: Vec<Choice>,
    uses: Vec<Choice>,
    rows: Vec<Row>,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
    /// Not a resident: the form is not offered.
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
struct MyQuery {
    rilasciato: Option<String>,
}

async fn render_my_page(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    form: Option<(&RequestForm, &ServiceError)>,
    notice: Option<String>,
) -> Result<Response, ServiceError> {
    let app = state.app();
    let (holders, refusal) = match app.certificate_holders(t.id, &auth.actor).await {
        Ok(h) => (h, None),
        Err(e @ ServiceError::Invalid { .. }) => (Vec::new(), Some(e.message_it())),
        Err(e) => return Err(e),
    };
    let rows = if refusal.is_none() {
        app.my_certificates(t.id, &auth.actor).await?
    } else {
        Vec::new()
    };
    let chosen = form.map(|(f, _)| f);
    let mut shell = Shell::new(t, "I miei certificati");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::here("I miei certificati"),
    ];
    let tpl = MyTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        holders: holders
            .iter()
            .enumerate()
            .map(|(i, p)| Holder {
                cf: p.codice_fiscale.as_str().to_owned(),
                label: if i == 0 {
                    format!("{} {} (te stesso)", p.name, p.surname)
                } else {
                    format!("{} {} ({})", p.name, p.surname, p.relation)
                },
                selected: chosen.is_some_and(|f| f.codice_fiscale == p.codice_fiscale.as_str()),
            })
            .collect(),
        types: types(chosen.map_or("residenza", |f| f.tipo.as_str())),
        uses: uses(chosen.map_or("", |f| f.uso.as_str())),
        rows: rows.iter().map(row).collect(),
        notice,
        error: form.map(|(_, e)| e.message_it()),
        error_code: form.map_or("", |(_, e)| e.code()),
        refusal,
    };
    form_page(tpl.render(), form.is_some())
}

/// Handles `GET /area-personale/certificati`.
async fn my_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<MyQuery>,
) -> Response {
    let notice = match q.rilasciato.as_deref().and_then(parse_cti) {
        Some(cti) => match state.app().certificate(t.id, &auth.actor, &cti).await {
            Ok(c) if c.releasable() => Some(
                "Il certificato è stato rilasciato: puoi scaricarlo dall'elenco qui sotto."
                    .to_owned(),
            ),
            Ok(_) => Some(
                "Il certificato è pronto ma è in bollo: potrai scaricarlo dopo il pagamento \
                 dell'imposta di bollo di 16,00 €, oppure ritirarlo allo sportello dei \
                 Servizi demografici con una marca da bollo."
                    .to_owned(),
            ),
            Err(_) => None,
        },
        None => None,
    };
    render_my_page(&state, &t, &auth, None, notice)
        .await
        .unwrap_or_else(|e| needs("/area-personale/certificati", e))
}

/// Handles `POST /area-personale/certificati`.
async fn my_issue(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<RequestForm>,
) -> Response {
    const PATH: &str = "/area-personale/certificati";
    if let Err(e) = auth.actor.require(Permission::OwnProfile) {
        return needs(PATH, e);
    }
    let result = match parse_request(&form, &t, &state) {
        Ok(req) => state.app().issue_certificate(t.id, &auth.actor, &req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => see_other(&format!("{PATH}?rilasciato={}", cti_text(&c.data.cti))),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "certificate request refused");
            render_my_page(&state, &t, &auth, Some((&form, &e)), None)
                .await
                .unwrap_or_else(|e| needs(PATH, e))
        }
        Err(e) => needs(PATH, e),
    }
}

/// Handles `GET /area-personale/certificati/{cti}/certificato.pdf`.
async fn my_pdf(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(cti): Path<String>,
) -> Response {
    let result = async {
        // The personal area's route: the desk uses its own.
        auth.actor.require(Permission::OwnProfile)?;
        let cti = cti_of(&cti)?;
        state.app().certificate_pdf(t.id, &auth.actor, &cti).await
    }
    .await;
    match result {
        Ok((c, bytes)) => pdf_response(&c, bytes),
        Err(e) => needs("/area-personale/certificati", e),
    }
}

// ---------------------------------------------------------------------------
// The anagrafe desk
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "backoffice/certificati.html")]
struct DeskTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    cf: String,
    types: Vec<Choice>,
    uses: Vec<Choice>,
    rows: Vec<Row>,
    searched: bool,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct DeskQuery {
    cf: Option<String>,
    fatto: Option<String>,
}

async fn render_desk(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    cf: &str,
    form: Option<(&RequestForm, &ServiceError)>,
    notice: Option<String>,
) -> Result<Response, ServiceError> {
    let cf = cf.trim().to_uppercase();
    let rows = match CodiceFiscale::parse(&cf) {
        Ok(holder) if !cf.is_empty() => state
            .app()
            .certificates_of_holder(t.id, &auth.actor, &holder)
            .await?
            .iter()
            .map(row)
            .collect(),
        _ => {
            auth.actor.require(Permission::IssueCertificates)?;
            Vec::new()
        }
    };
    let chosen = form.map(|(f, _)| f);
    let mut shell = Shell::new(t, "Certificati anagrafici - sportello");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area riservata", "/backoffice"),
        Crumb::here("Certificati anagrafici"),
    ];
    let tpl = DeskTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        searched: !cf.is_empty(),
        cf,
        types: types(chosen.map_or("residenza", |f| f.tipo.as_str())),
        uses: uses(chosen.map_or("", |f| f.uso.as_str())),
        rows,
        notice,
        error: form.map(|(_, e)| e.message_it()),
        error_code: form.map_or("", |(_, e)| e.code()),
    };
    form_page(tpl.render(), form.is_some())
}

/// Handles `GET /backoffice/certificati[?cf=…]`.
async fn desk_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<DeskQuery>,
) -> Response {
    let notice = q.fatto.map(|f| match f.as_str() {
        "bollo" => {
            "Il pagamento del bollo è stato registrato: il certificato si può scaricare.".to_owned()
        }
        "revoca" => "Il certificato è stato revocato.".to_owned(),
        _ => "Il certificato è stato rilasciato.".to_owned(),
    });
    render_desk(
        &state,
        &t,
        &auth,
        q.cf.as_deref().unwrap_or(""),
        None,
        notice,
    )
    .await
    .unwrap_or_else(|e| needs("/backoffice/certificati", e))
}

fn desk_back(cf: &str, done: &str) -> Response {
    let cf: String = cf
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    see_other(&format!("/backoffice/certificati?cf={cf}&fatto={done}"))
}

/// Handles `POST /backoffice/certificati`.
async fn desk_issue(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(form): Form<RequestForm>,
) -> Response {
    const PATH: &str = "/backoffice/certificati";
    if let Err(e) = auth.actor.require(Permission::IssueCertificates) {
        return needs(PATH, e);
    }
    let result = match parse_request(&form, &t, &state) {
        Ok(req) => state.app().issue_certificate(t.id, &auth.actor, &req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => desk_back(c.data.holder_cf.as_str(), "rilascio"),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "certificate request refused at the desk");
            render_desk(
                &state,
                &t,
                &auth,
                &form.codice_fiscale,
                Some((&form, &e)),
                None,
            )
            .await
            .unwrap_or_else(|e| needs(PATH, e))
        }
        Err(e) => needs(PATH, e),
    }
}

#[derive(Deserialize, Default)]
struct DeskActionForm {
    #[serde(default)]
    marca: String,
    #[serde(default)]
    motivo: String,
}

async fn desk_action(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    cti: &str,
    form: &DeskActionForm,
    revoke: bool,
) -> Response {
    const PATH: &str = "/backoffice/certificati";
    if let Err(e) = auth.actor.require(Permission::IssueCertificates) {
        return needs(PATH, e);
    }
    let result = async {
        let cti = cti_of(cti)?;
        if revoke {
            state
                .app()
                .revoke_certificate(t.id, &auth.actor, &cti, &form.motivo)
                .await
        } else {
            state
                .app()
                .settle_certificate_bollo(t.id, &auth.actor, &cti, &form.marca)
                .await
        }
    }
    .await;
    match result {
        Ok(c) => desk_back(
            c.data.holder_cf.as_str(),
            if revoke { "revoca" } else { "bollo" },
        ),
        Err(e @ ServiceError::Invalid { .. }) => {
            let cf = match cti_of(cti) {
                Ok(c) => state
                    .app()
                    .certificate(t.id, &auth.actor, &c)
                    .await
                    .map(|c| c.data.holder_cf.as_str().to_owned())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            let f = RequestForm {
                codice_fiscale: cf.clone(),
                ..RequestForm::default()
            };
            render_desk(state, t, auth, &cf, Some((&f, &e)), None)
                .await
                .unwrap_or_else(|e| needs(PATH, e))
        }
        Err(e) => needs(PATH, e),
    }
}

/// Handles `POST /backoffice/certificati/{cti}/bollo`.
async fn desk_bollo(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(cti): Path<String>,
    Form(form): Form<DeskActionForm>,
) -> Response {
    desk_action(&state, &t, &auth, &cti, &form, false).await
}

/// Handles `POST /backoffice/certificati/{cti}/revoca`.
async fn desk_revoke(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(cti): Path<String>,
    Form(form): Form<DeskActionForm>,
) -> Response {
    desk_action(&state, &t, &auth, &cti, &form, true).await
}

/// Handles `GET /backoffice/certificati/{cti}/certificato.pdf`.
async fn desk_pdf(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(cti): Path<String>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::IssueCertificates) {
        return needs("/backoffice/certificati", e);
    }
    let result = async {
        let cti = cti_of(&cti)?;
        state.app().certificate_pdf(t.id, &auth.actor, &cti).await
    }
    .await;
    match result {
        Ok((c, bytes)) => pdf_response(&c, bytes),
        Err(e) => needs("/backoffice/certificati", e),
    }
}

// ---------------------------------------------------------------------------
// Verification for everyone
// ---------------------------------------------------------------------------

/// A verdict as shown.
struct Outcome {
    code: &'static str,
    label: &'static str,
    /// Bootstrap Italia alert class.
    class: &'static str,
    explanation: &'static str,
    pairs: Vec<(String, String)>,
    doc_type: String,
    issued: String,
    expires: String,
    issuer: String,
    status_url: Option<String>,
    record: Option<bool>,
    /// The PDF's PAdES seal: (alert class, code, Italian sentence).
    file_seal: Option<(&'static str, &'static str, String)>,
}

/// How the verification page shows a PDF's PAdES seal: (alert class,
/// code, Italian sentence).
fn explain_file_seal(seal: &FileSeal) -> (&'static str, &'static str, String) {
    let class = match seal {
        FileSeal::Valid { .. } => "success",
        FileSeal::Absent => "secondary",
        FileSeal::Untrusted { .. } => "warning",
        FileSeal::Broken { .. } => "danger",
    };
    (class, seal.code(), seal.message_it())
}

fn explain(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Valid => (
            "success",
            "Il contrassegno è autentico e il certificato è in corso di validità: i dati \
             qui sotto devono coincidere con quelli stampati.",
        ),
        Verdict::Expired => (
            "warning",
            "Il contrassegno è autentico ma il certificato è scaduto (DPR 445/2000, art. 41): \
             si può usare solo con la dichiarazione dell'interessato che i dati non sono cambiati.",
        ),
        Verdict::Revoked => (
            "danger",
            "Il certificato è stato revocato dal Comune e non ha più valore.",
        ),
        Verdict::Superseded => (
            "warning",
            "Il certificato è stato sostituito da uno più recente.",
        ),
        Verdict::Altered => (
            "danger",
            "Il contrassegno non è autentico oppure il documento è stato modificato.",
        ),
        Verdict::UnknownKey => (
            "danger",
            "Il contrassegno è firmato con una chiave che il Comune non riconosce per questo \
             certificato.",
        ),
        Verdict::NotFound => (
            "danger",
            "Il Comune non ha rilasciato alcun certificato con questo identificativo.",
        ),
    }
}

fn outcome(checked: &Checked) -> Outcome {
    let verdict = checked.verdict();
    let (class, explanation) = explain(verdict);
    let claims = checked
        .verification
        .claims
        .as_ref()
        .filter(|_| verdict.is_genuine());
    let date = |secs: u64| {
        i64::try_from(secs)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map(rome)
            .unwrap_or_default()
    };
    Outcome {
        code: verdict.code(),
        label: verdict.label_it(),
        class,
        explanation,
        pairs: claims
            .map(|c| {
                c.pairs
                    .iter()
                    .map(|p| (p.label.clone(), p.value.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        doc_type: claims
            .and_then(|c| TipoCertificato::from_code(&c.doc_type))
            .map_or_else(String::new, |t| t.title().to_owned()),
        issued: claims.map(|c| date(c.issued_at)).unwrap_or_default(),
        expires: claims
            .map(|c| c.expires_at.map_or_else(|| "illimitata".to_owned(), date))
            .unwrap_or_default(),
        issuer: claims.map(|c| c.issuer.clone()).unwrap_or_default(),
        status_url: claims.map(|c| format!("/verifica/{}", cti_text(&c.cti))),
        record: checked.record_matches,
        file_seal: checked.file_seal.as_ref().map(explain_file_seal),
    }
}

#[derive(Template)]
#[template(path = "portal/verifica.html")]
struct VerifyTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    outcome: Option<Outcome>,
    error: Option<String>,
    error_code: &'static str,
    max_mb: usize,
}

fn verify_shell(t: &Tenant) -> Shell<'_> {
    let mut shell = Shell::new(t, "Verifica di un certificato");
    shell.breadcrumb = vec![Crumb::link("Home", "/"), Crumb::here("Verifica")];
    shell
}

fn render_verify(
    t: &Tenant,
    auth: &Auth,
    outcome: Option<Outcome>,
    error: Option<&ServiceError>,
) -> Response {
    let tpl = VerifyTemplate {
        shell: verify_shell(t),
        csrf: auth.csrf().to_owned(),
        outcome,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
        max_mb: MAX_UPLOAD / (1024 * 1024),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    match tpl.render() {
        Ok(html) => page(html, status),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Handles `GET /verifica`.
async fn verify_page(
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    render_verify(&t, &auth, None, None)
}

/// What the verification form sent: a file, or the code's text.
async fn evidence_of(mp: Result<Multipart, MultipartRejection>) -> Result<Evidence, ServiceError> {
    let bad = |code: &'static str, message: &str| ServiceError::Invalid {
        code,
        message: message.into(),
    };
    let empty = || {
        bad(
            "verifica_vuota",
            "Carica il PDF o la foto del codice QR, oppure incolla il testo del codice.",
        )
    };
    let mut mp = mp.map_err(|_| empty())?;
    let mut text = None;
    let mut file = None;
    while let Some(mut field) = mp.next_field().await.map_err(|_| empty())? {
        match field.name() {
            Some("file") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| empty())? {
                    if bytes.len() + chunk.len() > MAX_UPLOAD {
                        return Err(bad(
                            "file_troppo_grande",
                            "Il file supera i 15 MB: carica il PDF del certificato o una foto \
                             più piccola.",
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if !bytes.is_empty() {
                    file = Some(bytes);
                }
            }
            Some("testo") => {
                let t = field.text().await.map_err(|_| empty())?;
                if t.len() > 8_192 {
                    return Err(bad(
                        "testo_troppo_lungo",
                        "Il testo del codice è troppo lungo.",
                    ));
                }
                if !t.trim().is_empty() {
                    text = Some(t);
                }
            }
            _ => {}
        }
    }
    match (file, text) {
        (Some(bytes), _) => Evidence::from_upload(bytes),
        (None, Some(t)) => Ok(Evidence::Text(t)),
        (None, None) => Err(empty()),
    }
}

/// Handles `POST /verifica` (multipart: `file` or `testo`).
async fn verify_submit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let evidence = evidence_of(mp).await?;
        state.app().verify_seal(t.id, &evidence).await
    }
    .await;
    match result {
        Ok(checked) => render_verify(&t, &auth, Some(outcome(&checked)), None),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "verification refused");
            render_verify(&t, &auth, None, Some(&e))
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "portal/verifica_stato.html")]
struct StatusTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    cti: String,
    code: &'static str,
    label: &'static str,
    class: &'static str,
    explanation: &'static str,
    doc_type: String,
    issued: String,
    valid_until: String,
    pdf_sha256: String,
    retrievable: bool,
    error: Option<String>,
    error_code: &'static str,
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    formato: Option<String>,
}

async fn render_status(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    cti: &str,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let status = match parse_cti(cti) {
        Some(c) => state.app().certificate_status(t.id, &c).await?,
        None => palazzo_services::rilascio::CertificateStatus {
            verdict: Verdict::NotFound,
            certificate: None,
        },
    };
    let (class, explanation) = explain(status.verdict);
    let c = status.certificate.as_ref();
    let mut shell = Shell::new(t, "Stato di un certificato");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Verifica", "/verifica"),
        Crumb::here("Stato del certificato"),
    ];
    let tpl = StatusTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        cti: cti.chars().take(22).collect(),
        code: status.verdict.code(),
        label: status.verdict.label_it(),
        class,
        explanation,
        doc_type: c
            .and_then(|c| TipoCertificato::from_code(&c.data.doc_type))
            .map_or_else(String::new, |t| t.title().to_owned()),
        issued: c.map(|c| rome(c.data.issued_at)).unwrap_or_default(),
        valid_until: c
            .map(|c| {
                c.data.valid_until.map_or_else(
                    || "illimitata".to_owned(),
                    |d| d.strftime("%d/%m/%Y").to_string(),
                )
            })
            .unwrap_or_default(),
        pdf_sha256: c
            .map(|c| palazzo_domain::protocollo::Impronta::from_digest(c.data.pdf_sha256).hex())
            .unwrap_or_default(),
        retrievable: c.is_some_and(|c| c.releasable() && c.revocation.is_none()),
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    let code = match error {
        Some(ServiceError::RateLimited) => StatusCode::TOO_MANY_REQUESTS,
        Some(ServiceError::NotFound) => StatusCode::NOT_FOUND,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let mut res = page(
        tpl.render()
            .map_err(|e| ServiceError::Internal(e.to_string()))?,
        code,
    );
    // A certificate's page is not for search engines.
    res.headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(res)
}

/// Handles `GET /verifica/{cti}`: the status page, or with
/// `?formato=cose` the status signed by the comune (R12).
async fn status_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(cti): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Response {
    if q.formato.as_deref() == Some("cose") {
        let result = async {
            let bytes = parse_cti(&cti).ok_or(ServiceError::NotFound)?;
            let status = state.app().certificate_status(t.id, &bytes).await?;
            state.app().signed_certificate_status(&t, &bytes, &status)
        }
        .await;
        return match result {
            Ok(body) => {
                let mut res = (StatusCode::OK, body).into_response();
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/cose; cose-type=\"cose-sign1\""),
                );
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                res
            }
            Err(e) => WebError::from(e).into_response(),
        };
    }
    render_status(&state, &t, &auth, &cti, None)
        .await
        .unwrap_or_else(|e| WebError::from(e).into_response())
}

#[derive(Deserialize, Default)]
struct OriginalForm {
    #[serde(default)]
    cognome: String,
}

/// Handles `POST /verifica/{cti}/originale`: the original PDF for whoever
/// knows the holder's surname (rate-limited).
async fn original(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    peer: PeerAddr,
    headers: axum::http::HeaderMap,
    Path(cti): Path<String>,
    Form(form): Form<OriginalForm>,
) -> Response {
    let cfg = state.config();
    let client = client_key(&cfg.secret, client_ip(peer.0, &headers, cfg.behind_tls));
    let result = async {
        let bytes = parse_cti(&cti).ok_or(ServiceError::NotFound)?;
        state
            .app()
            .retrieve_certificate(t.id, &bytes, &form.cognome, &client)
            .await
    }
    .await;
    match result {
        Ok((c, pdf)) => pdf_response(&c, pdf),
        Err(e) => {
            let e = match e {
                ServiceError::NotFound => ServiceError::Invalid {
                    code: "dati_non_corrispondenti",
                    message: "Il cognome non corrisponde all'intestatario del certificato.".into(),
                },
                e => e,
            };
            render_status(&state, &t, &auth, &cti, Some(&e))
                .await
                .unwrap_or_else(|e| WebError::from(e).into_response())
        }
    }
}
