//! The whole router in process (`tower::ServiceExt::oneshot`) over a
//! temporary SQLite store seeded with the demo comuni through the
//! production code paths.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::{App, demo};
use scraper::{Html, Selector};
use tower::ServiceExt as _;

use crate::{AppState, WebConfig, router_with_state};

const HOST: &str = "casamassima.localhost";

struct Harness {
    router: Router,
    state: AppState,
    dir: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static N: AtomicU32 = AtomicU32::new(0);

async fn harness(behind_tls: bool) -> Harness {
    let dir = std::env::temp_dir().join(format!(
        "palazzo-web-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::open_sqlite(&dir.join("palazzo.db")).await.unwrap();
    let app = App::new(db, KeyStore::new(dir.join("keys"))).await.unwrap();
    demo::seed(&app, 0).await.unwrap();
    let cfg = WebConfig {
        behind_tls,
        secret: [9; 32],
        max_body_bytes: 16 * 1024,
        demo_sign_in: false,
        staff_oidc: Default::default(),
        federation: Default::default(),
    };
    let state = AppState::new(app, cfg);
    Harness {
        router: router_with_state(state.clone()),
        state,
        dir,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> Reply {
        let mut req = req;
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 5], 40000))));
        }
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body(), 8 * 1024 * 1024).await.unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// GET from the machine itself (loopback peer).
    async fn get_internal(&self, path: &str) -> Reply {
        let mut req = Request::get(path)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        self.send(req).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::HOST, HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post_form(&self, path: &str, form: &str, extra: &[(&str, &str)]) -> Reply {
        let mut b = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(form.to_owned())).unwrap())
            .await
    }
}

fn form_value(html: &str, name: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_default()
        .to_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn pages_carry_security_headers_request_id_and_etag() {
    let h = harness(false).await;
    let r = h.get("/servizi").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert_eq!(csp, crate::middleware::security_headers::CSP);
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(
        r.headers[header::REFERRER_POLICY],
        "strict-origin-when-cross-origin"
    );
    assert!(r.headers.contains_key("permissions-policy"));
    assert!(!r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    assert_eq!(r.headers["x-request-id"].len(), 32);
    let etag = r.headers[header::ETAG].clone();
    assert!(r.body.contains("data-element=\"all-services\""));

    // Same page again: served from the cache, same ETag; 304 on revalidation.
    let again = h.get("/servizi").await;
    assert_eq!(again.headers[header::ETAG], etag);
    assert!(!h.state.pages().is_empty());
    let req = Request::get("/servizi")
        .header(header::HOST, HOST)
        .header(header::IF_NONE_MATCH, etag.clone())
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers["x-request-id"], "abc-123");

    // HSTS only behind TLS.
    let tls = harness(true).await;
    assert!(
        tls.get("/")
            .await
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
}

#[tokio::test]
async fn every_portal_page_answers() {
    let h = harness(false).await;
    let snap = h
        .state
        .app()
        .portal(h.state.app().tenant_for_host(HOST).unwrap().id)
        .await
        .unwrap();
    let mut paths: Vec<String> = [
        "/",
        "/argomenti",
        "/amministrazione",
        "/amministrazione/uffici",
        "/amministrazione/organi-di-governo",
        "/novita",
        "/novita/avvisi",
        "/vivere-il-comune",
        "/vivere-il-comune/eventi",
        "/servizi",
        "/servizi?pagina=2",
        "/domande-frequenti",
        "/privacy",
        "/note-legali",
        "/amministrazione-trasparente",
        "/accedi",
        "/accedi/amministratore",
        "/prenotazione-appuntamento",
        "/cerca",
        "/cerca?q=carta",
        "/logo.svg",
        "/robots.txt",
        "/healthz",
        "/readyz",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    paths.extend(snap.services.iter().map(crate::portal::pages::service_href));
    paths.extend(
        snap.offices
            .iter()
            .map(|o| format!("/amministrazione/uffici/{}", o.data.slug)),
    );
    for path in &paths {
        let r = h.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    let logo = h.get("/logo.svg").await;
    assert_eq!(logo.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(
        logo.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
}

#[tokio::test]
async fn static_assets_are_hashed_compressed_and_immutable() {
    let h = harness(false).await;
    let url = crate::assets::URLS.bootstrap_css;
    let plain = h.get(url).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.body.contains("--bootstrap-italia-version"));
    assert_eq!(
        plain.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        plain.headers[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    let req = Request::get(url)
        .header(header::HOST, HOST)
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .unwrap();
    let gz = h.send(req).await;
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
    assert_ne!(gz.headers[header::ETAG], plain.headers[header::ETAG]);
    let req = Request::get(url)
        .header(header::HOST, HOST)
        .header(header::IF_NONE_MATCH, plain.headers[header::ETAG].clone())
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::NOT_MODIFIED);
    // An old hash still gets the file, without the year-long cache.
    let stale = h.get("/static/00000000/css/bootstrap-italia.min.css").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.headers[header::CACHE_CONTROL], "no-cache");
    // Fonts are there too.
    let font = h.get(crate::assets::URLS.font_regular).await;
    assert_eq!(font.headers[header::CONTENT_TYPE], "font/woff2");
}

#[tokio::test]
async fn errors_are_italian_pages_or_json_with_codes() {
    let h = harness(false).await;
    let r = h.get("/non-esiste").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Pagina non trovata") && r.body.contains("not_found"));
    let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(r.body.contains(&id), "the page shows the request id");
    assert!(r.headers.contains_key(header::CONTENT_SECURITY_POLICY));

    let r = h
        .get("/servizi/anagrafe-e-stato-civile/servizio-inesistente")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = h.get("/api/v1/servizi/servizio-inesistente").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["error"], "not_found");
    assert!(v["message"].as_str().unwrap().contains("non esiste"));

    let r = h.get("/api/v1/nulla").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // Wrong method: 405 with Allow kept, as an Italian page.
    let req = Request::delete("/servizi")
        .header(header::HOST, HOST)
        .body(Body::empty())
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers.contains_key(header::ALLOW));
    assert!(r.body.contains("method_not_allowed"));

    // Body too large.
    let big = "comment=".to_owned() + &"x".repeat(20 * 1024);
    let r = h.post_form("/valutazioni", &big, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
}

#[tokio::test]
async fn rating_form_works_without_javascript() {
    let h = harness(false).await;
    let page = h.get("/servizi").await;
    let ticket = form_value(&page.body, "ticket");
    assert!(!ticket.is_empty());
    let form = format!(
        "page=%2Fservizi&ticket={}&stars=2&answer_negative=3&answer_positive=&comment={}&sito_web=",
        encode(&ticket),
        encode("Non trovavo gli orari")
    );
    let r = h
        .post_form("/valutazioni", &form, &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.headers[header::LOCATION],
        "/servizi?valutazione=grazie#feedback"
    );
    let thanks = h.get("/servizi?valutazione=grazie").await;
    assert!(
        thanks
            .body
            .contains("la tua valutazione è stata registrata")
    );
    let summaries = {
        use palazzo_store::Store as _;
        let tenant = h.state.app().tenant_for_host(HOST).unwrap();
        h.state
            .app()
            .db()
            .rating_summaries(tenant.id)
            .await
            .unwrap()
    };
    let s = summaries.iter().find(|s| s.page == "/servizi").unwrap();
    assert_eq!(s.by_stars, [0, 1, 0, 0, 0]);
}

#[tokio::test]
async fn rating_form_refusals_are_clear_and_never_5xx() {
    let h = harness(false).await;
    let ticket = form_value(&h.get("/servizi").await.body, "ticket");
    let base = |extra: &str| format!("page=%2Fservizi&ticket={}{extra}", encode(&ticket));

    // Honeypot filled in.
    let r = h
        .post_form(
            "/valutazioni",
            &base("&stars=5&sito_web=http%3A%2F%2Fspam"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("La valutazione non è stata accettata."));
    // The page is re-rendered with the choice kept.
    assert!(r.body.contains("data-element=\"feedback\""));

    // Missing stars.
    let r = h
        .post_form("/valutazioni", &base("&comment=ciao"), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Scegli un punteggio da 1 a 5 stelle."));
    assert_eq!(form_value(&r.body, "comment"), "ciao");

    // Forged ticket.
    let r = h
        .post_form("/valutazioni", "page=%2Fservizi&ticket=AAAA&stars=4", &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("ricarica la pagina"));

    // Unknown page.
    let r = h
        .post_form(
            "/valutazioni",
            "page=%2F%2Fevil.example&ticket=x&stars=4",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Cross-site post.
    let r = h
        .post_form(
            "/valutazioni",
            &base("&stars=4"),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("cross_origin_write"));
    let r = h
        .post_form(
            "/valutazioni",
            &base("&stars=4"),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Flooding: the service's per-client limit answers 429, still a page.
    let mut last = StatusCode::OK;
    for _ in 0..15 {
        last = h
            .post_form("/valutazioni", &base("&stars=4"), &[])
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

impl Harness {
    async fn post_json(&self, path: &str, body: &str) -> Reply {
        let req = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// Stored rating counts per page of the default tenant.
    async fn rated_pages(&self) -> Vec<(String, u64)> {
        use palazzo_store::Store as _;
        let tenant = self.state.app().tenant_for_host(HOST).unwrap();
        let mut pages: Vec<(String, u64)> = self
            .state
            .app()
            .db()
            .rating_summaries(tenant.id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.page, s.by_stars.iter().sum()))
            .collect();
        pages.sort();
        pages
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn rating_api_stores_only_existing_pages_under_their_canonical_path() {
    let h = harness(false).await;
    let snap = h
        .state
        .app()
        .portal(h.state.app().tenant_for_host(HOST).unwrap().id)
        .await
        .unwrap();
    let card = crate::portal::pages::service_href(&snap.services[0]);

    for page in [
        "/servizi/ambiente/zzz-non-esiste",
        "/novita/non-esiste",
        "/privacy",
        "/cerca",
        "/x",
        "servizi",
    ] {
        let r = h
            .post_json(
                "/api/v1/valutazioni",
                &format!(r#"{{"page":"{page}","stars":4}}"#),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{page}: {}",
            r.body
        );
        let v = json(&r.body);
        assert_eq!(v["error"], "rating_page_unknown", "{page}");
        assert!(v["message"].as_str().unwrap().contains("non esiste"));
    }
    for page in ["/servizi/", "/servizi", &format!("{card}/"), "/"] {
        let r = h
            .post_json(
                "/api/v1/valutazioni",
                &format!(r#"{{"page":"{page}","stars":4}}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{page}: {}", r.body);
    }
    let mut expected = vec![
        ("/".to_owned(), 1),
        ("/servizi".to_owned(), 2),
        (card.clone(), 1),
    ];
    expected.sort();
    assert_eq!(h.rated_pages().await, expected);

    // Control characters in the comment: a clear 422, never a 500.
    for comment in ["ciao\\u0000", "\\u001b[2J", "a\\u0007b"] {
        let body = format!(r#"{{"page":"/servizi","stars":2,"comment":"{comment}"}}"#);
        let r = h.post_json("/api/v1/valutazioni", &body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{comment}: {}",
            r.body
        );
        assert_eq!(json(&r.body)["error"], "rating_comment_characters");
    }
    let r = h
        .post_json(
            "/api/v1/valutazioni",
            r#"{"page":"/servizi","stars":2,"comment":"riga\nriga\tok"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // A write from another site is refused before the handler.
    let req = Request::post("/api/v1/valutazioni")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(r#"{"page":"/servizi","stars":4}"#))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(json(&r.body)["error"], "cross_origin_write");

    // The per-client limit is shared with the form: 429 once it is reached.
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        last = h
            .post_json("/api/v1/valutazioni", r#"{"page":"/novita","stars":4}"#)
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // A client in the same IPv6 /64 is the same client.
    let v6 = |last: u16| {
        let mut req = Request::post("/api/v1/valutazioni")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"page":"/novita","stars":4}"#))
            .unwrap();
        let ip = std::net::Ipv6Addr::new(0x2001, 0xdb8, 7, 7, 0, 0, 0, last);
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        h.router.clone().oneshot(req)
    };
    for i in 0..10 {
        assert_eq!(v6(i).await.unwrap().status(), StatusCode::CREATED);
    }
    assert_eq!(
        v6(0xbeef).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // The OpenAPI document is the same bytes every time.
    let a = h.get("/api/v1/openapi.json").await;
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(a.body, h.get("/api/v1/openapi.json").await.body);
    assert_eq!(json(&a.body), crate::api::openapi::document());
}

#[tokio::test]
async fn rating_form_checks_the_page_and_stores_its_canonical_path() {
    let h = harness(false).await;
    // A made-up card under a real category, with a ticket signed for it.
    let secret = h.state.config().secret;
    let tenant = h.state.app().tenant_for_host(HOST).unwrap().id;
    let fake = "/servizi/ambiente/zzz-non-esiste";
    let ticket =
        crate::portal::ticket::issue(&secret, tenant, fake, crate::portal::ticket::now_unix());
    let form = format!("page={}&ticket={}&stars=4", encode(fake), encode(&ticket));
    let r = h.post_form("/valutazioni", &form, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("rating_page_unknown"), "{}", r.body);

    // `/servizi/` is `/servizi`: the ticket of the canonical page works,
    // the redirect and the stored row use the canonical path.
    let ticket = form_value(&h.get("/servizi").await.body, "ticket");
    let form = format!("page=%2Fservizi%2F&ticket={}&stars=5", encode(&ticket));
    let r = h.post_form("/valutazioni", &form, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.headers[header::LOCATION],
        "/servizi?valutazione=grazie#feedback"
    );
    assert_eq!(h.rated_pages().await, [("/servizi".to_owned(), 1)]);

    // A NUL in the comment re-renders the form with the service's message,
    // without the NUL in the echoed text.
    let form = format!(
        "page=%2Fservizi&ticket={}&stars=2&comment=ciao%00mondo",
        encode(&ticket)
    );
    let r = h.post_form("/valutazioni", &form, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("caratteri non ammessi"));
    assert!(!r.body.contains('\0'));
    assert_eq!(form_value(&r.body, "comment"), "ciaomondo");
}

#[tokio::test]
async fn search_page_uses_the_cached_index() {
    let h = harness(false).await;
    let r = h.get("/cerca?q=carta").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Carta"), "{}", r.body);
    let snap = h
        .state
        .app()
        .portal(h.state.app().tenant_for_host(HOST).unwrap().id)
        .await
        .unwrap();
    let index = h.state.search_indexes().get(&snap);
    let _ = h.get("/cerca?q=identita").await;
    assert!(std::sync::Arc::ptr_eq(
        &index,
        &h.state.search_indexes().get(&snap)
    ));
}

#[tokio::test]
async fn json_api_answers_and_matches_its_openapi_document() {
    let h = harness(false).await;
    let ente: serde_json::Value = serde_json::from_str(&h.get("/api/v1/ente").await.body).unwrap();
    assert_eq!(ente["name"], "Comune di Casamassima");
    assert_eq!(ente["codice_catastale"], "B923");
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&h.get("/api/v1/servizi").await.body).unwrap();
    assert!(list.len() >= 10);
    let slug = list[0]["slug"].as_str().unwrap();
    let one: serde_json::Value =
        serde_json::from_str(&h.get(&format!("/api/v1/servizi/{slug}")).await.body).unwrap();
    assert_eq!(one["slug"], slug);
    let offices: Vec<serde_json::Value> =
        serde_json::from_str(&h.get("/api/v1/uffici").await.body).unwrap();
    assert!(!offices.is_empty());

    // POST needs JSON.
    let post = |ct: &'static str, body: &'static str| {
        Request::post("/api/v1/valutazioni")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    let r = h
        .send(post(
            "application/json",
            r#"{"page":"/servizi","stars":5,"answer":1}"#,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .send(post("text/plain", r#"{"page":"/servizi","stars":5}"#))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = h
        .send(post("application/json", r#"{"page":"/servizi","stars":9}"#))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["error"], "rating_stars");
    let r = h.send(post("application/json", "{nope")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The OpenAPI document lists exactly the routes of the API, with their
    // methods: the route table is the reference.
    let doc: serde_json::Value =
        serde_json::from_str(&h.get("/api/v1/openapi.json").await.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|m| (p.clone(), m.to_uppercase()))
                .collect::<Vec<_>>()
        })
        .collect();
    documented.sort();
    let (_, table) = crate::route_table().into_parts();
    let mut routed: Vec<(String, String)> = table
        .iter()
        .filter_map(|s| {
            s.path
                .strip_prefix("/api/v1")
                .map(|p| (p.to_owned(), s.method.to_owned()))
        })
        .collect();
    routed.sort();
    assert_eq!(documented, routed);
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|p| !p.starts_with("/protocollo") && !p.contains("assegnazioni"))
        // Public reads: staff operations (with a security requirement)
        // answer 401 here, and POST-only paths have nothing to GET.
        .filter(|p| {
            let get = &doc["paths"][*p]["get"];
            get.is_object() && get["security"].is_null()
        })
        .collect();
    paths.sort_unstable();
    for p in paths {
        if p == "/valutazioni" || p.contains('{') {
            continue;
        }
        assert_eq!(
            h.get(&format!("/api/v1{p}")).await.status,
            StatusCode::OK,
            "{p}"
        );
    }
}

#[tokio::test]
async fn tenants_are_resolved_by_host() {
    let h = harness(false).await;
    let req = |host: &'static str| {
        Request::get("/")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    let a = h.send(req("acquaviva.localhost:8080")).await;
    assert!(
        a.body.contains("Acquaviva delle Fonti"),
        "second tenant by host"
    );
    let unknown = h.send(req("sconosciuto.example")).await;
    assert!(
        unknown.body.contains("Comune di Casamassima"),
        "default tenant for unknown hosts"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let h = harness(false).await;
    let _ = h.get("/servizi").await;
    let _ = h.get("/non-esiste").await;
    // Operational data is not public.
    assert_eq!(h.get("/metrics").await.status, StatusCode::NOT_FOUND);
    let m = h.get_internal("/metrics").await;
    assert!(
        m.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        m.body.contains(
            "palazzo_http_requests_total{route=\"/servizi\",method=\"GET\",status=\"2xx\"} 1"
        ),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains("route=\"unmatched\",method=\"GET\",status=\"4xx\"")
    );
    assert!(
        m.body
            .contains("palazzo_http_request_duration_seconds_bucket")
    );
    assert!(m.body.contains("process_start_time_seconds"));
    let ready = h.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (StatusCode::OK, "ok"));
    let _ = Method::GET;
}
