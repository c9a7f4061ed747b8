//! `x-request-id`: taken from the request when it is a sane token (a proxy
//! may have set it), generated otherwise; stored as a request extension for
//! the log span and the error pages, and echoed on the response.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The header name.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only visible ASCII is ever stored (see `accept`/`generate`).
        self.0.to_str().unwrap_or("")
    }

    /// A fresh random id: 16 random bytes as 32 lowercase hex digits.
    pub fn generate() -> Self {
        let bytes: [u8; 16] = rand::random();
        let mut text = String::with_capacity(32);
        for b in bytes {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        RequestId(HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("0")))
    }

    /// Accepts an incoming id when it is 1–64 characters of `[A-Za-z0-9._-]`
    /// (anything else could forge log lines or break pages).
    pub fn accept(value: &HeaderValue) -> Option<Self> {
        let bytes = value.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= 64
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        ok.then(|| RequestId(value.clone()))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The middleware.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(RequestId::accept)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(X_REQUEST_ID.clone(), id.0);
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_hex_and_unique() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn incoming_ids_are_filtered() {
        assert!(RequestId::accept(&HeaderValue::from_static("abc-123_x.y")).is_some());
        assert!(RequestId::accept(&HeaderValue::from_static("")).is_none());
        assert!(RequestId::accept(&HeaderValue::from_static("a b")).is_none());
        assert!(RequestId::accept(&HeaderValue::from_str(&"a".repeat(65)).unwrap()).is_none());
    }
}
