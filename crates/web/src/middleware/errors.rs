//! Turns every error response into what the client reads: an Italian HTML
//! page with the error code and the request id (inside the portal layout
//! when the tenant is known), or `{"error": code, "message": …}` under
//! `/api/`. Works for [`crate::WebError`]s (which carry an
//! [`ErrorInfo`]) and for bare error statuses produced by axum or tower
//! (405, 413, 415…). Headers such as `Allow` or `Retry-After` are kept.

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ErrorInfo;
use crate::middleware::request_id::RequestId;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::FullPage;
use crate::portal::pages::{BareErrorTemplate, ErrorTemplate};
use crate::portal::shell::{Crumb, Shell};

/// The middleware.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let tenant = req.extensions().get::<CurrentTenant>().cloned();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.as_str().to_owned())
        .unwrap_or_default();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || res.extensions().get::<FullPage>().is_some()
    {
        return res;
    }
    let info = res
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| ErrorInfo::from_status(status));
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.remove(header::ETAG);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let body = if api {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        serde_json::json!({ "error": info.code, "message": info.message, "request_id": request_id })
            .to_string()
    } else {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        html_page(tenant.as_ref(), status.as_u16(), &info, &request_id)
    };
    Response::from_parts(parts, Body::from(body))
}

pub(crate) fn html_page(
    tenant: Option<&CurrentTenant>,
    status: u16,
    info: &ErrorInfo,
    request_id: &str,
) -> String {
    let rendered = match tenant {
        Some(t) => {
            let mut shell = Shell::new(&t.0, title_of(status));
            shell.breadcrumb = vec![Crumb::link("Home", "/"), Crumb::here(title_of(status))];
            shell.request_id = Some(request_id.to_owned());
            ErrorTemplate {
                shell,
                status,
                code: info.code,
                message: info.message.clone(),
            }
            .render()
        }
        None => BareErrorTemplate {
            urls: &crate::assets::URLS,
            status,
            code: info.code,
            message: &info.message,
            request_id,
        }
        .render(),
    };
    rendered.unwrap_or_else(|e| {
        tracing::error!(error = %e, "error page failed to render");
        format!(
            "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>Errore {status}</title></head>\
             <body><main><h1>Errore {status}</h1><p>Codice: {}</p></main></body></html>",
            info.code
        )
    })
}

fn title_of(status: u16) -> &'static str {
    match status {
        404 => "Pagina non trovata",
        403 => "Operazione non consentita",
        405 => "Metodo non consentito",
        413 => "Dati troppo grandi",
        422 => "Dati non validi",
        429 => "Troppe richieste",
        503 => "Servizio non disponibile",
        s if s >= 500 => "Errore del sistema",
        _ => "Richiesta non valida",
    }
}
