//! Anagrafe certificates with the PZ1 seal in the JSON API (issue 5):
//!
//! * a signed-in resident ([`Permission::OwnProfile`]) lists, asks for and
//!   downloads the certificates of themself and of their famiglia
//!   anagrafica (DECISIONS 19) under `/certificati`;
//! * the ufficiale d'anagrafe ([`Permission::IssueCertificates`]) issues
//!   for anyone, records the marca da bollo (ANA-03), revokes and
//!   downloads under `/sportello/certificati`;
//! * anyone checks a certificate: its online status by `cti`
//!   (`/verifica/{cti}`, no personal data) or the text of its QR code
//!   (`POST /verifica`, the printed pairs when the seal is genuine).
//!
//! Callers authenticate with [`ApiAuth`]; permissions are checked here
//! before the body is read (an anonymous caller learns nothing from a
//! malformed request) and again by the services. A `cti` is the
//! certificate's id in base64url without padding; one that is malformed or
//! unknown (or not the caller's) answers 404.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::certificati::{TipoCertificato, Uso};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_services::ServiceError;
use palazzo_services::certificati::{cti_text, parse_cti};
use palazzo_services::rilascio::{self, CertificateRequest};
use palazzo_services::verifica::Evidence;
use palazzo_store::{Certificate, Tenant};
use serde::{Deserialize, Serialize};

use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// Where a resident downloads a certificate.
const OWN: &str = "/api/v1/certificati";
/// Where the desk downloads a certificate.
const DESK: &str = "/api/v1/sportello/certificati";

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::{Needs, Public};
    let own = Needs(Permission::OwnProfile);
    let desk = Needs(Permission::IssueCertificates);
    Routes::new()
        .get("/certificati", own, mine)
        .post("/certificati", own, issue_own)
        .get("/certificati/{cti}", own, one)
        .get("/certificati/{cti}/pdf", own, own_pdf)
        .get("/sportello/certificati", desk, of_holder)
        .post("/sportello/certificati", desk, issue_desk)
        .post("/sportello/certificati/{cti}/bollo", desk, settle)
        .post("/sportello/certificati/{cti}/revoca", desk, revoke)
        .get("/sportello/certificati/{cti}/pdf", desk, desk_pdf)
        .get("/verifica/{cti}", Public, status)
        .post("/verifica", Public, verify)
}

/// A certificate as its holder, whoever asked for it, or the desk sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertificateDto {
    /// The certificate's id (base64url, 22 characters).
    pub cti: String,
    /// The type's code (`residenza`, `stato_famiglia`, …).
    pub tipo: String,
    /// The type's title as printed.
    pub title: String,
    /// The holder's codice fiscale.
    pub holder_cf: String,
    /// The use: `bollo` or an exemption's code.
    pub uso: String,
    /// The bollo due, in cents (0 when exempt).
    pub bollo_cents: i64,
    /// Whether the bollo was settled (a marca recorded at the desk).
    pub bollo_settled: bool,
    /// Whether its PDF may be downloaded: exempt or bollo settled, and not
    /// revoked.
    pub releasable: bool,
    /// The sealing time (RFC 3339).
    pub issued_at: Timestamp,
    /// Its last day of validity; `null` when unlimited.
    pub valid_until: Option<Date>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// `online` or `sportello`.
    pub channel: String,
    /// The public status page (`/verifica/<cti>`).
    pub status_url: String,
    /// Where to download the PDF, when releasable.
    pub download: Option<String>,
}

impl CertificateDto {
    /// The DTO of `c`, with its download under `prefix`.
    fn of(c: &Certificate, prefix: &str) -> CertificateDto {
        let d = &c.data;
        let cti = cti_text(&d.cti);
        let releasable = c.releasable() && c.revocation.is_none();
        CertificateDto {
            tipo: d.doc_type.clone(),
            title: TipoCertificato::from_code(&d.doc_type)
                .map(TipoCertificato::title)
                .unwrap_or_default()
                .to_owned(),
            holder_cf: d.holder_cf.as_str().to_owned(),
            uso: d.uso.clone(),
            bollo_cents: d.bollo_cents,
            bollo_settled: c.bollo_paid.is_some(),
            releasable,
            issued_at: d.issued_at,
            valid_until: d.valid_until,
            revoked: c.revocation.is_some(),
            channel: d.channel.code().to_owned(),
            status_url: format!("/verifica/{cti}"),
            download: releasable.then(|| format!("{prefix}/{cti}/pdf")),
            cti,
        }
    }
}

/// What is asked for (`POST /certificati`, `POST /sportello/certificati`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// The holder's codice fiscale.
    pub codice_fiscale: String,
    /// The type's code.
    pub tipo: String,
    /// `bollo` or an exemption's code.
    pub uso: String,
}

impl IssueBody {
    fn request(&self, tenant: &Tenant, behind_tls: bool) -> Result<CertificateRequest, WebError> {
        let tipo = TipoCertificato::from_code(self.tipo.trim()).ok_or_else(|| {
            WebError::unprocessable(
                "tipo_sconosciuto",
                "Tipo di certificato sconosciuto: usa uno dei codici del catalogo \
                 (residenza, stato_famiglia, …).",
            )
        })?;
        let uso = Uso::from_code(self.uso.trim()).ok_or_else(|| {
            WebError::unprocessable(
                "uso_sconosciuto",
                "Uso sconosciuto: indica «bollo» oppure il codice di un'esenzione.",
            )
        })?;
        Ok(CertificateRequest {
            holder: holder(&self.codice_fiscale)?,
            tipo,
            uso,
            base_url: rilascio::base_url(tenant, behind_tls),
        })
    }
}

fn holder(cf: &str) -> Result<CodiceFiscale, WebError> {
    CodiceFiscale::parse(cf.trim()).map_err(|e| WebError::Service(ServiceError::invalid(&e)))
}

/// The `cti` of a path; 404 when malformed (as an unknown one).
fn cti_of(text: &str) -> Result<[u8; 16], WebError> {
    parse_cti(text.trim()).ok_or(WebError::NotFound)
}

/// A certificate's PDF: exactly the bytes sealed, as a download never kept
/// by caches (it holds personal data).
fn pdf_download(c: &Certificate, pdf: Vec<u8>) -> Response {
    let name = format!(
        "certificato-{}-{}.pdf",
        c.data.doc_type,
        cti_text(&c.data.cti)
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                crate::upload::attachment(&name),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// Handles `GET /api/v1/certificati`: the resident's certificates and
/// those they asked for a family member, newest first.
async fn mine(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<CertificateDto>>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let rows = state.app().my_certificates(t.id, &actor).await?;
    Ok(Json(
        rows.iter().map(|c| CertificateDto::of(c, OWN)).collect(),
    ))
}

async fn issue(
    state: &AppState,
    t: &Tenant,
    actor: &palazzo_services::access::Actor,
    body: Result<Json<IssueBody>, JsonRejection>,
    prefix: &str,
) -> Result<Response, WebError> {
    let b = json_body(body)?;
    let request = b.request(t, state.config().behind_tls)?;
    let c = state.app().issue_certificate(t.id, actor, &request).await?;
    Ok((StatusCode::CREATED, Json(CertificateDto::of(&c, prefix))).into_response())
}

/// Handles `POST /api/v1/certificati`: a resident asks for a certificate
/// of themself or of a member of their famiglia anagrafica (201).
async fn issue_own(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    issue(&state, &t, &actor, body, OWN).await
}

/// Handles `GET /api/v1/certificati/{cti}`.
async fn one(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(cti): Path<String>,
) -> Result<Json<CertificateDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let c = state
        .app()
        .certificate(t.id, &actor, &cti_of(&cti)?)
        .await?;
    Ok(Json(CertificateDto::of(&c, OWN)))
}

/// Handles `GET /api/v1/certificati/{cti}/pdf`.
async fn own_pdf(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(cti): Path<String>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let (c, pdf) = state
        .app()
        .certificate_pdf(t.id, &actor, &cti_of(&cti)?)
        .await?;
    Ok(pdf_download(&c, pdf))
}

/// The holder searched at the desk.
#[derive(Debug, Default, Deserialize)]
pub struct HolderQuery {
    /// The holder's codice fiscale.
    #[serde(default)]
    pub codice_fiscale: Option<String>,
}

/// Handles `GET /api/v1/sportello/certificati?codice_fiscale=…`: the
/// certificates of a holder, newest first.
async fn of_holder(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    q: Result<Query<HolderQuery>, QueryRejection>,
) -> Result<Json<Vec<CertificateDto>>, WebError> {
    actor.require(Permission::IssueCertificates)?;
    let Query(q) = q.map_err(|e| {
        WebError::bad_request(
            "invalid_query",
            format!("Parametri non validi: {}", e.body_text()),
        )
    })?;
    let cf = match q.codice_fiscale.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(WebError::unprocessable(
                "codice_fiscale_mancante",
                "Indica il codice fiscale dell'intestatario (parametro codice_fiscale).",
            ));
        }
        Some(cf) => holder(cf)?,
    };
    let mut rows = state
        .app()
        .certificates_of_holder(t.id, &actor, &cf)
        .await?;
    rows.sort_by_key(|c| std::cmp::Reverse(c.data.issued_at));
    Ok(Json(
        rows.iter().map(|c| CertificateDto::of(c, DESK)).collect(),
    ))
}

/// Handles `POST /api/v1/sportello/certificati`: the desk issues a
/// certificate for any resident (201).
async fn issue_desk(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::IssueCertificates)?;
    issue(&state, &t, &actor, body, DESK).await
}

/// The marca da bollo of a certificate in bollo (ANA-03).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BolloBody {
    /// The marca's 14-digit identifier.
    pub marca: String,
}

/// Handles `POST /api/v1/sportello/certificati/{cti}/bollo`.
async fn settle(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(cti): Path<String>,
    body: Result<Json<BolloBody>, JsonRejection>,
) -> Result<Json<CertificateDto>, WebError> {
    actor.require(Permission::IssueCertificates)?;
    let cti = cti_of(&cti)?;
    let b = json_body(body)?;
    let c = state
        .app()
        .settle_certificate_bollo(t.id, &actor, &cti, &b.marca)
        .await?;
    Ok(Json(CertificateDto::of(&c, DESK)))
}

/// The reason of a revocation (kept, never shown publicly).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Why.
    pub motivo: String,
}

/// Handles `POST /api/v1/sportello/certificati/{cti}/revoca`.
async fn revoke(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(cti): Path<String>,
    body: Result<Json<RevokeBody>, JsonRejection>,
) -> Result<Json<CertificateDto>, WebError> {
    actor.require(Permission::IssueCertificates)?;
    let cti = cti_of(&cti)?;
    let b = json_body(body)?;
    let c = state
        .app()
        .revoke_certificate(t.id, &actor, &cti, &b.motivo)
        .await?;
    Ok(Json(CertificateDto::of(&c, DESK)))
}

/// Handles `GET /api/v1/sportello/certificati/{cti}/pdf`.
async fn desk_pdf(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(cti): Path<String>,
) -> Result<Response, WebError> {
    actor.require(Permission::IssueCertificates)?;
    let (c, pdf) = state
        .app()
        .certificate_pdf(t.id, &actor, &cti_of(&cti)?)
        .await?;
    Ok(pdf_download(&c, pdf))
}

/// The online status of a certificate (DECISIONS 18): no personal data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatusDto {
    /// `valid`, `expired` or `revoked`.
    pub status: String,
    /// The status in Italian.
    pub label: String,
    /// The type's code.
    pub doc_type: String,
    /// The sealing time (RFC 3339).
    pub issued_at: Timestamp,
    /// Its last day of validity; `null` when unlimited.
    pub valid_until: Option<Date>,
    /// SHA-256 of the PDF released, in hex: a copy of the file can be
    /// compared with it.
    pub pdf_sha256: String,
}

/// Handles `GET /api/v1/verifica/{cti}`: the online status; 404
/// (`not_found`, the verdict's code) for an id the comune never issued.
async fn status(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Path(cti): Path<String>,
) -> Result<Response, WebError> {
    let cti = cti_of(&cti)?;
    let s = state.app().certificate_status(t.id, &cti).await?;
    let Some(c) = &s.certificate else {
        return Err(WebError::NotFound);
    };
    let dto = StatusDto {
        status: s.verdict.code().to_owned(),
        label: s.verdict.label_it().to_owned(),
        doc_type: c.data.doc_type.clone(),
        issued_at: c.data.issued_at,
        valid_until: c.data.valid_until,
        pdf_sha256: palazzo_domain::protocollo::Impronta::from_digest(c.data.pdf_sha256).hex(),
    };
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Json(dto),
    )
        .into_response())
}

/// The text of a certificate's QR code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The text (`PZ1:…`) as a scanner app shows it.
    pub testo: String,
}

/// A printed pair (label and value), as sealed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairDto {
    /// The label, e.g. `Cognome`.
    pub label: String,
    /// The value.
    pub value: String,
}

/// The outcome of checking a seal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerificationDto {
    /// One of `valid`, `expired`, `revoked`, `superseded`, `altered`,
    /// `unknown_key`, `not_found` (DECISIONS 18).
    pub status: String,
    /// The verdict in Italian.
    pub label: String,
    /// The issuer (`IT-<codice catastale>`), when the seal could be read
    /// with a key of the trust list.
    pub issuer: Option<String>,
    /// The type's code, likewise.
    pub doc_type: Option<String>,
    /// The sealing time (RFC 3339), likewise.
    pub issued_at: Option<Timestamp>,
    /// The expiry sealed (RFC 3339); `null` when unlimited or unknown.
    pub expires_at: Option<Timestamp>,
    /// The printed pairs as sealed, only when the seal is genuine: the
    /// reader compares them with the paper.
    pub pairs: Vec<PairDto>,
}

fn timestamp(secs: u64) -> Option<Timestamp> {
    Timestamp::from_second(i64::try_from(secs).ok()?).ok()
}

/// Handles `POST /api/v1/verifica`: checks the text of a QR code against
/// the comune's trust list and records.
async fn verify(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    body: Result<Json<VerifyBody>, JsonRejection>,
) -> Result<Json<VerificationDto>, WebError> {
    let b = json_body(body)?;
    let checked = state
        .app()
        .verify_seal(t.id, &Evidence::Text(b.testo))
        .await?;
    let verdict = checked.verdict();
    let claims = checked.verification.claims.as_ref();
    Ok(Json(VerificationDto {
        status: verdict.code().to_owned(),
        label: verdict.label_it().to_owned(),
        issuer: claims.map(|c| c.issuer.clone()),
        doc_type: claims.map(|c| c.doc_type.clone()),
        issued_at: claims.and_then(|c| timestamp(c.issued_at)),
        expires_at: claims.and_then(|c| c.expires_at).and_then(timestamp),
        pairs: match claims {
            Some(c) if verdict.is_genuine() => c
                .pairs
                .iter()
                .map(|p| PairDto {
                    label: p.label.clone(),
                    value: p.value.clone(),
                })
                .collect(),
            _ => Vec::new(),
        },
    }))
}
