//! The one error type of the web layer and its mapping to HTTP (STYLE rules
//! 2 and 9).
//!
//! Every error has a stable snake_case `code` and an Italian message that is
//! safe to show. Internal causes (store failures, template bugs) are logged
//! once here and never shown. [`WebError::into_response`] only sets the
//! status and an [`ErrorInfo`] extension; the `render_errors` middleware
//! (see [`crate::middleware::errors`]) turns that into an Italian HTML page
//! with the request id, or into `{"error": code, "message": …}` under
//! `/api/`. Error responses that axum or tower produce on their own (405,
//! 413, 415…) get the same treatment from their status code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_services::ServiceError;
use palazzo_store::StoreError;

/// The code of a receipt whose registration no signed checkpoint covers
/// yet (`docs/receipt-format.md`): 503 with `Retry-After`, not 422.
const RECEIPT_NOT_READY: &str = "receipt_not_ready";

/// `Result` with [`WebError`].
pub type WebResult<T, E = WebError> = Result<T, E>;

/// What can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// No such page or resource (for this tenant).
    #[error("not found")]
    NotFound,
    /// No tenant answers this host (an installation without any ente).
    #[error("no tenant for this host")]
    NoTenant,
    /// Malformed request.
    #[error("bad request: {code}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Italian message.
        message: String,
    },
    /// Well-formed but unacceptable input (422).
    #[error("unprocessable: {code}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// Italian message.
        message: String,
    },
    /// The request is refused (e.g. a cross-site form post).
    #[error("forbidden: {code}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Italian message.
        message: String,
    },
    /// Too many requests from this client.
    #[error("rate limited")]
    RateLimited,
    /// The body is larger than the configured limit (413).
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body is not in the format the endpoint reads (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A dependency (the database) is down.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A use case failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A template failed to render (a bug).
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// Anything else internal; the text is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// The safe description of an error response, carried as a response
/// extension from [`WebError`] to the error-page middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Stable code, e.g. `not_found`.
    pub code: &'static str,
    /// Italian message for the user.
    pub message: String,
}

impl ErrorInfo {
    /// The generic description of an error status produced outside our code.
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::BAD_REQUEST => ("bad_request", "La richiesta non è valida."),
            StatusCode::FORBIDDEN => ("forbidden", "Non è possibile eseguire questa operazione."),
            StatusCode::NOT_FOUND => ("not_found", "La pagina richiesta non esiste."),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "Il metodo della richiesta non è ammesso per questo indirizzo.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "I dati inviati superano la dimensione massima consentita.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "Il formato dei dati inviati non è supportato: usa Content-Type: application/json.",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => {
                ("unprocessable", "I dati inviati non sono validi.")
            }
            StatusCode::TOO_MANY_REQUESTS => (
                "rate_limited",
                "Hai inviato troppe richieste in poco tempo. Riprova tra qualche minuto.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "Il servizio è temporaneamente non disponibile. Riprova più tardi.",
            ),
            s if s.is_client_error() => ("bad_request", "La richiesta non è valida."),
            _ => (
                "internal_error",
                "Si è verificato un errore interno. Riprova più tardi.",
            ),
        };
        ErrorInfo {
            code,
            message: message.to_owned(),
        }
    }
}

impl WebError {
    /// A 400 with a code and an Italian message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        WebError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 422 with a code and an Italian message.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        WebError::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// A 403 with a code and an Italian message.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        WebError::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// The error for a body that an axum extractor refused, by its status
    /// (too large, wrong content type, unreadable).
    pub fn body_rejected(status: StatusCode, code: &'static str, message: &str) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => WebError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => WebError::UnsupportedMediaType,
            _ => WebError::bad_request(code, message),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound | WebError::NoTenant => StatusCode::NOT_FOUND,
            WebError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            WebError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Forbidden { .. } => StatusCode::FORBIDDEN,
            WebError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            WebError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Service(e) => match e {
                // Not yet, rather than wrong: retry shortly (with `Retry-After`).
                ServiceError::Invalid {
                    code: RECEIPT_NOT_READY,
                    ..
                } => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::NotFound | ServiceError::Store(StoreError::NotFound) => {
                    StatusCode::NOT_FOUND
                }
                ServiceError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                ServiceError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
                ServiceError::Forbidden => StatusCode::FORBIDDEN,
                ServiceError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
                ServiceError::Store(_) | ServiceError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            WebError::Template(_) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::NotFound => "not_found",
            WebError::NoTenant => "tenant_not_found",
            WebError::BadRequest { code, .. }
            | WebError::Unprocessable { code, .. }
            | WebError::Forbidden { code, .. } => code,
            WebError::RateLimited => "rate_limited",
            WebError::UnsupportedMediaType => "unsupported_media_type",
            WebError::PayloadTooLarge => "payload_too_large",
            WebError::Unavailable(_) => "unavailable",
            WebError::Service(e) => e.code(),
            WebError::Template(_) | WebError::Internal(_) => "internal_error",
        }
    }

    /// The Italian message shown to the user (never internal details).
    pub fn message_it(&self) -> String {
        match self {
            WebError::NotFound => "La pagina richiesta non esiste.".to_owned(),
            WebError::NoTenant => "Nessun ente è configurato per questo indirizzo.".to_owned(),
            WebError::BadRequest { message, .. }
            | WebError::Unprocessable { message, .. }
            | WebError::Forbidden { message, .. } => message.clone(),
            WebError::Service(e) => e.message_it(),
            other => ErrorInfo::from_status(other.status()).message,
        }
    }

    /// Whether the cause is ours (logged at error level).
    pub fn is_internal(&self) -> bool {
        self.status().is_server_error() && self.code() != RECEIPT_NOT_READY
    }

    /// The safe description carried to the error-page middleware.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code(),
            message: self.message_it(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if self.is_internal() {
            // The chain goes to the log, with the request id of the span.
            tracing::error!(code = self.code(), error = %self, "request failed");
        } else {
            tracing::debug!(code = self.code(), "request refused");
        }
        let info = self.info();
        // A plain-text body in case no error middleware runs (unit tests);
        // the middleware replaces it.
        let mut res = (status, format!("{}: {}", info.code, info.message)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
        }
        if info.code == RECEIPT_NOT_READY {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        res.extensions_mut().insert(info);
        res
    }
}

/// The handler of unknown routes: a 404 page.
pub async fn fallback() -> WebError {
    WebError::NotFound
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_a_status_and_a_safe_message() {
        let cases: Vec<(WebError, StatusCode, &str)> = vec![
            (WebError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                WebError::NoTenant,
                StatusCode::NOT_FOUND,
                "tenant_not_found",
            ),
            (
                WebError::bad_request("x", "m"),
                StatusCode::BAD_REQUEST,
                "x",
            ),
            (
                WebError::unprocessable("y", "m"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "y",
            ),
            (WebError::forbidden("z", "m"), StatusCode::FORBIDDEN, "z"),
            (
                WebError::RateLimited,
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
            ),
            (
                WebError::UnsupportedMediaType,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                WebError::PayloadTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (
                WebError::Unavailable("db down".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
            (
                WebError::Service(ServiceError::Unavailable {
                    code: "gpd_unavailable",
                    message: "m".into(),
                    detail: "connect refused to https://gpd.example".into(),
                }),
                StatusCode::SERVICE_UNAVAILABLE,
                "gpd_unavailable",
            ),
            (
                WebError::Service(ServiceError::Invalid {
                    code: "rating_stars",
                    message: "m".into(),
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "rating_stars",
            ),
            (
                WebError::Service(ServiceError::RateLimited),
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
            ),
            (
                WebError::Service(ServiceError::NotFound),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                WebError::Service(ServiceError::Store(StoreError::Database(
                    "secret dsn".into(),
                ))),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
            (
                WebError::Internal("boom".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.code(), code, "{err:?}");
            let msg = err.message_it();
            assert!(!msg.contains("secret") && !msg.contains("boom") && !msg.contains("db down"));
            let res = err.into_response();
            assert_eq!(res.status(), status);
            assert_eq!(
                res.extensions().get::<ErrorInfo>().map(|i| i.code),
                Some(code)
            );
        }
    }

    #[test]
    fn a_receipt_not_ready_is_503_with_retry_after() {
        let err = WebError::Service(ServiceError::Invalid {
            code: "receipt_not_ready",
            message: "Riprova tra qualche secondo.".into(),
        });
        assert!(!err.is_internal());
        let res = err.into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            res.headers().get(header::RETRY_AFTER).unwrap(),
            &HeaderValue::from_static("5")
        );
        assert_eq!(
            res.extensions().get::<ErrorInfo>().map(|i| i.code),
            Some("receipt_not_ready")
        );
    }

    #[test]
    fn generic_statuses_have_italian_messages() {
        for s in [400u16, 403, 404, 405, 413, 415, 422, 429, 500, 503] {
            let info = ErrorInfo::from_status(StatusCode::from_u16(s).unwrap());
            assert!(!info.message.is_empty());
        }
        assert_eq!(
            ErrorInfo::from_status(StatusCode::PAYLOAD_TOO_LARGE).code,
            "payload_too_large"
        );
    }
}
