//! The route table: every route is registered together with who may use it
//! ([`Access`]). The table is the specification that the authorization
//! matrix test (issue 3, part 8) checks route by route against every kind
//! of visitor; since [`Routes`] is the only way routes enter the router, no
//! route can be added without appearing in the matrix.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{get, post};
use palazzo_domain::access::Permission;

use crate::AppState;

/// Who may use a route. The services enforce it; this declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (public pages, the open API, sign-in pages).
    Public,
    /// Anyone, but the route only exists when the demonstration sign-in is
    /// enabled (`palazzo demo`); 404 otherwise.
    Demo,
    /// A signed-in principal whose roles carry the permission. Anonymous
    /// visitors are sent to sign in (HTML) or get 401 (API); others get 403.
    Needs(Permission),
    /// Only clients on loopback or private addresses (metrics); 404 to others.
    Internal,
}

/// One route of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path template as axum sees it, with the nesting prefix.
    pub path: String,
    /// Who may use it.
    pub access: Access,
}

/// A router being built, with its table.
pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    /// An empty table.
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    /// Adds a `GET` (and `HEAD`) route.
    pub fn get<H, T>(mut self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, get(handler));
        self.specs.push(RouteSpec {
            method: "GET",
            path: path.to_owned(),
            access,
        });
        self
    }

    /// Adds a `POST` route.
    pub fn post<H, T>(mut self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.specs.push(RouteSpec {
            method: "POST",
            path: path.to_owned(),
            access,
        });
        self
    }

    /// Adds a `POST` route that receives uploads (`multipart/form-data`):
    /// its body may reach [`crate::upload::MAX_UPLOAD_BYTES`] instead of the
    /// configured `max_body_bytes`; each file is still held to the document
    /// store's size limit while it streams in.
    pub fn upload<H, T>(mut self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let limit = axum::extract::DefaultBodyLimit::max(crate::upload::MAX_UPLOAD_BYTES);
        self.router = self.router.route(path, post(handler).layer(limit));
        self.specs.push(RouteSpec {
            method: "POST",
            path: path.to_owned(),
            access,
        });
        self
    }

    /// Merges another table.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.specs.extend(other.specs);
        self
    }

    /// Nests another table under `prefix`; unknown paths under it get the
    /// error fallback.
    pub fn nest(mut self, prefix: &'static str, other: Routes) -> Self {
        self.router = self
            .router
            .nest(prefix, other.router.fallback(crate::error::fallback));
        self.specs.extend(other.specs.into_iter().map(|mut s| {
            s.path = format!("{prefix}{}", s.path);
            s
        }));
        self
    }

    /// The router and its table.
    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.specs)
    }
}
