//! The public portal (modello Comuni): routes, the per-request context and
//! the render pipeline with its HTML cache.

pub mod cache;
pub mod jsonld;
pub mod pages;
pub mod rating;
pub mod search;
pub mod shell;
pub mod ticket;
pub mod vocabulary;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use palazzo_services::PortalSnapshot;
use palazzo_store::Tenant;
use serde::Deserialize;

use self::pages::{Page, PageQuery, RenderInput};
use self::rating::{RatingBox, RatingState};
use self::shell::Shell;
use crate::AppState;
use crate::assets::if_none_match;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The portal routes. Every page route goes to the same handler, which
/// parses the path into a [`Page`]; the route templates are listed one by
/// one so that metrics and logs name them.
pub fn router() -> Routes {
    let public = Access::Public;
    let mut r = Routes::new();
    for path in [
        "/",
        "/argomenti",
        "/argomenti/{topic}",
        "/amministrazione",
        "/amministrazione/{sub}",
        "/amministrazione/uffici/{office}",
        "/novita",
        "/novita/{sub}",
        "/vivere-il-comune",
        "/vivere-il-comune/{sub}",
        "/servizi",
        "/servizi/{category}",
        "/servizi/{category}/{service}",
        "/domande-frequenti",
        "/privacy",
        "/note-legali",
        "/amministrazione-trasparente",
        "/cerca",
    ] {
        r = r.get(path, public, page_handler);
    }
    r.post("/valutazioni", public, rating::submit)
        .get("/logo.svg", public, logo)
        .get("/robots.txt", public, robots)
}

/// The per-request portal context: state, tenant and its snapshot.
pub struct PortalCtx {
    /// Shared state.
    pub state: AppState,
    /// The ente.
    pub tenant: Arc<Tenant>,
    /// Its cached portal snapshot (no database query per page view).
    pub snap: Arc<PortalSnapshot>,
    /// `If-None-Match` of the request, for 304 answers.
    pub if_none_match: Option<HeaderValue>,
}

impl FromRequestParts<AppState> for PortalCtx {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let snap = state.app().portal(tenant.id).await?;
        Ok(PortalCtx {
            state: state.clone(),
            tenant,
            snap,
            if_none_match: parts.headers.get(header::IF_NONE_MATCH).cloned(),
        })
    }
}

/// How to render a page beyond its address.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Query parameters.
    pub query: PageQuery,
    /// Rating component state (`None`: the empty form).
    pub rating: Option<RatingState>,
    /// The search index of the snapshot (search page; built on the fly
    /// when `None`).
    pub search: Option<Arc<search::SearchIndex>>,
}

/// Query parameters read by portal pages; unknown ones are ignored.
#[derive(Debug, Default, Deserialize)]
struct RawQuery {
    pagina: Option<String>,
    q: Option<String>,
    valutazione: Option<String>,
}

impl PortalCtx {
    /// `scheme://host` of this tenant for absolute URLs: its first configured
    /// host name (the canonical one), so cached pages never depend on the
    /// `Host` a client sent.
    pub fn base_url(&self) -> String {
        let host = self
            .tenant
            .data
            .hostnames
            .first()
            .map_or("localhost", String::as_str);
        format!("{}://{host}", self.state.scheme())
    }

    /// Renders `page` to HTML.
    pub fn render_html(
        &self,
        page: &Page,
        opts: &RenderOptions,
        unix_now: u64,
    ) -> Result<String, WebError> {
        render_page(
            &self.snap,
            &self.state.config().secret,
            &self.base_url(),
            page,
            opts,
            unix_now,
        )
    }

    /// Renders `page` as a complete response that is not cached (used for
    /// refused rating submissions, which echo the user's input).
    pub fn render_response(
        &self,
        page: &Page,
        opts: RenderOptions,
        status: StatusCode,
    ) -> Result<Response, WebError> {
        let html = self.render_html(page, &opts, ticket::now_unix())?;
        let mut res = html_response(axum::body::Bytes::from(html), None, status);
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res.extensions_mut().insert(FullPage);
        Ok(res)
    }
}

/// Renders `page` of the portal of `snap` to HTML. `secret` signs the
/// rating ticket, `base_url` (`https://host`) makes absolute URLs.
pub fn render_page(
    snap: &PortalSnapshot,
    secret: &[u8; 32],
    base_url: &str,
    page: &Page,
    opts: &RenderOptions,
    unix_now: u64,
) -> Result<String, WebError> {
    let mut shell = Shell::new(&snap.tenant, "");
    if page.has_rating() {
        let path = page.path();
        let ticket = ticket::issue(secret, snap.tenant.id, &path, unix_now);
        shell.rating = Some(RatingBox {
            page: path,
            ticket,
            state: opts.rating.clone().unwrap_or(RatingState::Form),
            service: false,
        });
    }
    let input = RenderInput {
        snap,
        base_url,
        query: &opts.query,
        search: opts.search.as_deref(),
    };
    pages::render(page, shell, &input)
}

/// Marks a response whose body is already a complete page (the error
/// middleware leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct FullPage;

fn html_response(
    body: axum::body::Bytes,
    etag: Option<HeaderValue>,
    status: StatusCode,
) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Revalidate every time (cheap: 304 on a matching ETag). Pages change
    // when the comune edits its content.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    res
}

/// Handles every `GET` portal page.
async fn page_handler(ctx: PortalCtx, uri: Uri) -> Result<Response, WebError> {
    let page = Page::parse(uri.path()).ok_or(WebError::NotFound)?;
    // Non-canonical spellings (a trailing slash) redirect to the canonical path.
    let canonical = page.path();
    if canonical != uri.path() {
        let location = match uri.query() {
            Some(q) => format!("{canonical}?{q}"),
            None => canonical,
        };
        let mut res = StatusCode::PERMANENT_REDIRECT.into_response();
        res.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_str(&location).map_err(|e| WebError::Internal(e.to_string()))?,
        );
        return Ok(res);
    }
    let raw: RawQuery = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    // Normalise the parameters that enter the cache key, so that made-up
    // values cannot fill the cache: the page number is clamped, an unknown
    // service is dropped.
    let pages_total = ctx
        .snap
        .services
        .len()
        .div_ceil(pages::SERVICES_PER_PAGE)
        .max(1);
    let query = PageQuery {
        page: raw
            .pagina
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(1)
            .clamp(1, pages_total),
        q: raw.q.unwrap_or_default(),
    };
    let thanks = page.has_rating() && raw.valutazione.as_deref() == Some("grazie");
    let search = matches!(page, Page::Search).then(|| ctx.state.search_indexes().get(&ctx.snap));
    let opts = RenderOptions {
        query,
        rating: thanks.then_some(RatingState::Thanks),
        search,
    };

    // Cache key: the path and the query parameters that change this page.
    let cacheable = !matches!(page, Page::Search);
    let mut key = uri.path().to_owned();
    match &page {
        Page::Services if opts.query.page > 1 => {
            key.push_str(&format!("?pagina={}", opts.query.page))
        }
        _ => {}
    }
    if thanks {
        key.push_str("#grazie");
    }

    let now = ticket::now_unix();
    let bucket = ticket::bucket_of(now);
    let pages = ctx.state.pages();
    let cached = if cacheable {
        pages.get(ctx.tenant.id, &key, &ctx.snap, bucket)
    } else {
        None
    };
    let cached = match cached {
        Some(c) => c,
        None => {
            let html = ctx.render_html(&page, &opts, now)?;
            if cacheable {
                pages.put(ctx.tenant.id, key, &ctx.snap, bucket, html)
            } else {
                cache::CachedPage {
                    etag: cache::etag_of(html.as_bytes()),
                    body: html.into(),
                }
            }
        }
    };
    if let Some(inm) = &ctx.if_none_match {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, inm.clone());
        if if_none_match(&headers, &cached.etag) {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            res.headers_mut().insert(header::ETAG, cached.etag);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            return Ok(res);
        }
    }
    Ok(html_response(
        cached.body,
        Some(cached.etag),
        StatusCode::OK,
    ))
}

/// The default stemma: a plain shield drawn for Palazzo.
const DEFAULT_LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="Stemma"><path d="M8 6h48v26c0 14-10 22-24 28C18 54 8 46 8 32z" fill="#ffffff" stroke="#0066cc" stroke-width="3"/><path d="M18 18h28v4H18zm4 8h20v4H22zm-2 8h24v4H20z" fill="#0066cc"/></svg>"##;

/// Handles `GET /logo.svg`: the tenant's stemma, or the default one. The
/// SVG is served with a CSP that forbids scripts even when opened directly.
async fn logo(CurrentTenant(tenant): CurrentTenant, headers: HeaderMap) -> Response {
    let svg = tenant
        .data
        .logo_svg
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_LOGO);
    let etag = cache::etag_of(svg.as_bytes());
    if if_none_match(&headers, &etag) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, etag);
        return res;
    }
    let mut res = Response::new(Body::from(svg.to_owned()));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(header::ETAG, etag);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    res
}

/// Handles `GET /robots.txt`: everything public may be indexed
/// (Amministrazione trasparente must be, d.lgs. 33/2013 art. 9).
async fn robots() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        "User-agent: *\nDisallow: /area-personale\nDisallow: /api/\nDisallow: /cerca\n",
    )
}
