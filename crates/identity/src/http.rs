//! HTTP plumbing shared by the federation resolver and the OIDC clients: a reqwest client with
//! timeouts (5 s connect, 15 s overall), no redirects, and a response size cap.
//!
//! Nothing here logs request or response bodies: they carry tokens.

use std::time::Duration;

/// Largest response body we read (1 MiB).
pub const MAX_BODY: usize = 1 << 20;

/// HTTP failures. Each has a stable [`HttpError::code`] and an Italian [`HttpError::message_it`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Connection, TLS or timeout failure.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// Unexpected HTTP status.
    #[error("unexpected HTTP status {0}")]
    Status(u16),
    /// The body exceeds [`MAX_BODY`].
    #[error("response too large")]
    TooLarge,
    /// Unexpected `Content-Type`.
    #[error("unexpected content type {0:?}")]
    ContentType(String),
    /// The body is not valid UTF-8.
    #[error("response is not UTF-8")]
    NotUtf8,
    /// A URL could not be built or parsed.
    #[error("invalid URL")]
    BadUrl,
}

impl HttpError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transport(_) => "identity.http.transport",
            Self::Status(_) => "identity.http.status",
            Self::TooLarge => "identity.http.too_large",
            Self::ContentType(_) => "identity.http.content_type",
            Self::NotUtf8 => "identity.http.not_utf8",
            Self::BadUrl => "identity.http.bad_url",
        }
    }

    /// Italian message for users.
    pub fn message_it(&self) -> &'static str {
        match self {
            Self::Transport(_) => {
                "Il gestore dell'identità non risponde. Riprova tra qualche minuto."
            }
            _ => "Il gestore dell'identità ha dato una risposta non valida. Riprova più tardi.",
        }
    }
}

/// Builds the client used for every identity call: 5 s connect timeout, 15 s overall timeout,
/// redirects not followed (federation and token endpoints must answer directly).
pub fn client() -> Result<reqwest::Client, HttpError> {
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("palazzo-identity/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// The media type of a response, lower-cased and without parameters.
pub fn media_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(base_media_type)
        .unwrap_or_default()
}

/// `application/jwt; charset=utf-8` → `application/jwt`.
pub fn base_media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Reads the body up to [`MAX_BODY`] bytes.
pub async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    if resp.content_length().is_some_and(|l| l > MAX_BODY as u64) {
        return Err(HttpError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads the body as UTF-8 text, up to [`MAX_BODY`] bytes.
pub async fn read_text(resp: reqwest::Response) -> Result<String, HttpError> {
    String::from_utf8(read_limited(resp).await?).map_err(|_| HttpError::NotUtf8)
}
