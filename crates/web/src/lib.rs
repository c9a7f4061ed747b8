//! The HTTP layer of Palazzo: the public portal of the modello Comuni
//! (server-rendered with askama and Bootstrap Italia), a small JSON API under
//! `/api/v1`, health and metrics endpoints, the middleware stack and the
//! embedded static assets.
//!
//! Handlers only parse, call [`palazzo_services::App`] and render: the web
//! layer never touches the store directly (the readiness probe goes through
//! `App::db().ping()`). Portal pages are rendered from the cached
//! [`palazzo_services::PortalSnapshot`] of the tenant — no database query per
//! page view — and the rendered HTML is cached per (tenant, page) for as long
//! as the snapshot stays the same.
//!
//! Build a router with [`router`] and run it with [`serve`].

#![warn(missing_docs)]

pub mod aliquote;
pub mod api;
pub mod appuntamenti;
pub mod area_personale;
pub mod assets;
pub mod auth;
pub mod backoffice;
pub mod canone;
pub mod certificati;
pub mod desk;
pub mod eml;
pub mod error;
pub mod fascicoli;
pub mod firmati;
mod health;
pub mod istanze;
pub mod metrics;
pub mod middleware;
pub mod portal;
pub mod routes;
pub mod sigillo;
pub mod tari;
pub mod tempi;
#[cfg(test)]
mod tests;
pub mod tributi;
pub mod upload;
pub mod versioni;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use palazzo_services::App;

pub use error::{WebError, WebResult};
pub use middleware::request_id::RequestId;
pub use middleware::tenant::CurrentTenant;

/// Configuration of the HTTP layer.
#[derive(Clone)]
pub struct WebConfig {
    /// The service is reached over HTTPS (directly or through a TLS-terminating
    /// reverse proxy): send `Strict-Transport-Security`, build `https://`
    /// absolute URLs, and take the client address for rate limiting from the
    /// last `X-Forwarded-For` hop when the peer is a loopback or private
    /// address (the proxy).
    pub behind_tls: bool,
    /// Server secret: signs the rating form tickets and keys the client
    /// hashes used for rate limiting. 32 random bytes, stable across restarts
    /// and shared by every instance behind a load balancer.
    pub secret: [u8; 32],
    /// Largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Offer the demonstration sign-in page (synthetic residents and staff).
    /// Only `palazzo demo` sets it; `palazzo serve` refuses to start with it.
    pub demo_sign_in: bool,
    /// The comune's own identity provider for staff, per ente slug (see
    /// [`auth::staff`]).
    pub staff_oidc:
        std::collections::BTreeMap<String, palazzo_services::staff_oidc::StaffOidcConfig>,
    /// SPID/CIE OpenID Connect Federation (see [`auth::federation`]).
    pub federation: palazzo_services::federation::FederationConfig,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("behind_tls", &self.behind_tls)
            .field("secret", &"<redacted>")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("demo_sign_in", &self.demo_sign_in)
            .field("staff_oidc", &self.staff_oidc)
            .field("federation", &self.federation)
            .finish()
    }
}

/// Shared state of every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    app: App,
    cfg: WebConfig,
    metrics: metrics::Metrics,
    pages: portal::cache::PageCache,
    search: portal::search::IndexCache,
    headers: middleware::security_headers::SecurityHeaders,
    staff: auth::staff::StaffProviders,
    federation: auth::federation::Federation,
    started: Instant,
}

impl AppState {
    /// Builds the state over an application and a configuration.
    pub fn new(app: App, cfg: WebConfig) -> Self {
        let headers = middleware::security_headers::SecurityHeaders::new(cfg.behind_tls);
        let staff = auth::staff::StaffProviders::new(&cfg.staff_oidc);
        let federation = auth::federation::Federation::new(cfg.federation.clone());
        AppState {
            inner: Arc::new(StateInner {
                app,
                cfg,
                metrics: metrics::Metrics::new(),
                pages: portal::cache::PageCache::default(),
                search: portal::search::IndexCache::default(),
                headers,
                staff,
                federation,
                started: Instant::now(),
            }),
        }
    }

    /// The application (use cases).
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// The configuration.
    pub fn config(&self) -> &WebConfig {
        &self.inner.cfg
    }

    /// The SPID/CIE relying party (keys and provider caches).
    pub fn federation(&self) -> &auth::federation::Federation {
        &self.inner.federation
    }

    /// The staff identity providers (discovery and key caches).
    pub fn staff_providers(&self) -> &auth::staff::StaffProviders {
        &self.inner.staff
    }

    /// Request metrics.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    pub(crate) fn pages(&self) -> &portal::cache::PageCache {
        &self.inner.pages
    }

    pub(crate) fn search_indexes(&self) -> &portal::search::IndexCache {
        &self.inner.search
    }

    pub(crate) fn security_headers(&self) -> &middleware::security_headers::SecurityHeaders {
        &self.inner.headers
    }

    /// `https` or `http`, as the public sees this service.
    pub fn scheme(&self) -> &'static str {
        if self.inner.cfg.behind_tls {
            "https"
        } else {
            "http"
        }
    }

    /// Time since the state was built.
    pub fn uptime(&self) -> std::time::Duration {
        self.inner.started.elapsed()
    }
}

/// The whole HTTP application: portal, JSON API, health, metrics and static
/// files, wrapped in the middleware stack (outermost first): request id →
/// request log → metrics → security headers → tenant resolution → error
/// pages → same-origin check of state-changing requests → body size limit →
/// (matched sign-in, personal-area and back-office routes only) sessions and
/// CSRF.
pub fn router(app: App, cfg: WebConfig) -> Router {
    let state = AppState::new(app, cfg);
    router_with_state(state)
}

/// Like [`router`], over an existing [`AppState`] (tests use it to inspect
/// metrics or caches).
pub fn router_with_state(state: AppState) -> Router {
    use axum::middleware::{from_fn, from_fn_with_state};
    use middleware::*;

    let max_body = state.config().max_body_bytes;
    let (public, _) = public_routes().into_parts();
    let (personal, _) = session_routes().into_parts();
    public
        // Sessions and CSRF run only for the routes that act for whoever is
        // signed in, and only when a route matched (a wrong method stays a
        // plain 405), inside every layer below. Portal pages, the open API,
        // probes and static files never touch the session table.
        .merge(personal.route_layer(from_fn_with_state(state.clone(), auth::sessions)))
        .fallback(error::fallback)
        // Every body extractor (forms, JSON, multipart) holds to this limit;
        // upload routes raise it for themselves (`Routes::upload`). A
        // blanket `RequestBodyLimitLayer` here would answer 413 to any
        // upload above `max_body_bytes` before the route's own limit
        // applied, so there is none (a test uploads a file above it).
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(from_fn(origin::same_origin_writes))
        .layer(from_fn(errors::render_errors))
        .layer(from_fn_with_state(state.clone(), tenant::resolve_tenant))
        .layer(from_fn_with_state(
            state.clone(),
            security_headers::security_headers,
        ))
        .layer(from_fn_with_state(state.clone(), metrics::record_metrics))
        .layer(from_fn(logging::log_requests))
        .layer(from_fn(request_id::request_id))
        .with_state(state)
}

/// Every route with who may use it (see [`routes`]).
pub fn route_table() -> routes::Routes {
    public_routes().merge(session_routes())
}

/// The routes that act for whoever is signed in: sign-in, the personal area
/// and the back office. They get the session and CSRF middleware.
fn session_routes() -> routes::Routes {
    routes::Routes::new()
        .merge(auth::pages::router())
        .merge(auth::federation::router())
        .merge(auth::staff::router())
        .merge(backoffice::router())
        .merge(fascicoli::router())
        .merge(desk::router())
        .merge(versioni::backoffice_router())
        .merge(firmati::backoffice_router())
        .merge(certificati::router())
        .merge(istanze::router())
        .merge(appuntamenti::router())
        .merge(area_personale::router())
        .merge(tributi::router())
        .merge(tari::router())
        .merge(canone::router())
        .merge(aliquote::router())
        .merge(tributi::public_router())
}

/// The routes that read no session: the portal (cached pages), the open
/// API, probes and static files.
fn public_routes() -> routes::Routes {
    use routes::Access::{Internal, Public};
    routes::Routes::new()
        .merge(portal::router())
        .merge(sigillo::router())
        .merge(tempi::router())
        .nest("/api/v1", api::router())
        .get("/healthz", Public, health::healthz)
        .get("/readyz", Public, health::readyz)
        .get("/metrics", Internal, health::metrics)
        .get("/static/{hash}/{*path}", Public, assets::serve_static)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (graceful shutdown). Handlers can read the peer
/// address through `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Pages are written whole; don't let Nagle hold back their last segment.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
