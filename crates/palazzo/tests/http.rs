//! HTTP tests against the real application on port 0, on both backends:
//! tenant isolation on every route, security headers, health, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use palazzo_services::PortalSnapshot;
use palazzo_store::Store;
use palazzo_testkit::{ACQUAVIVA, Backend, CASAMASSIMA, TestApp};

/// Every GET route of the portal and API, with concrete paths for one tenant.
fn routes(snap: &PortalSnapshot) -> Vec<String> {
    let mut r: Vec<String> = [
        "/",
        "/argomenti",
        "/amministrazione",
        "/amministrazione/uffici",
        "/novita",
        "/novita/notizie",
        "/vivere-il-comune",
        "/vivere-il-comune/luoghi",
        "/servizi",
        "/domande-frequenti",
        "/privacy",
        "/note-legali",
        "/amministrazione-trasparente",
        "/accedi",
        "/accedi/amministratore",
        "/prenotazione-appuntamento",
        "/cerca?q=certificato",
        "/logo.svg",
        "/robots.txt",
        "/api/v1/ente",
        "/api/v1/servizi",
        "/api/v1/uffici",
        "/api/v1/openapi.json",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for s in &snap.services {
        r.push(format!(
            "/servizi/{}/{}",
            s.data.category.slug(),
            s.data.slug
        ));
        r.push(format!("/api/v1/servizi/{}", s.data.slug));
    }
    for o in &snap.offices {
        r.push(format!("/amministrazione/uffici/{}", o.data.slug));
    }
    for topic in snap
        .services
        .iter()
        .flat_map(|s| s.data.topics.iter())
        .take(3)
    {
        r.push(format!(
            "/argomenti/{}",
            topic.to_lowercase().replace(' ', "-")
        ));
    }
    r
}

async fn snapshots(app: &TestApp) -> (Arc<PortalSnapshot>, Arc<PortalSnapshot>) {
    let tenants = app.app.tenants();
    let a = tenants
        .iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap();
    let b = tenants.iter().find(|t| t.data.slug == "acquaviva").unwrap();
    (
        app.app.portal(a.id).await.unwrap(),
        app.app.portal(b.id).await.unwrap(),
    )
}

/// Markers that belong to one tenant only: its codice fiscale, PEC and the
/// titles of the services the other tenant does not have.
fn markers(own: &PortalSnapshot, other: &PortalSnapshot) -> Vec<String> {
    let mut m = vec![
        own.tenant.data.codice_fiscale.to_string(),
        own.tenant.data.pec.to_string(),
    ];
    for s in &own.services {
        if !other.services.iter().any(|o| o.data.title == s.data.title) {
            m.push(s.data.slug.clone());
        }
    }
    m
}

async fn no_route_leaks_another_tenants_data(backend: Backend) {
    let app = TestApp::spawn(backend, 50).await;
    let (a, b) = snapshots(&app).await;
    for (host, own, other) in [(CASAMASSIMA, &a, &b), (ACQUAVIVA, &b, &a)] {
        let foreign = markers(other, own);
        assert!(foreign.len() > 3, "the other tenant has distinctive data");
        for path in routes(own) {
            let (status, body) = app.get(host, &path).await;
            assert_eq!(status, 200, "{host}{path}");
            for m in &foreign {
                assert!(
                    !body.contains(m.as_str()),
                    "{host}{path} shows {m} of the other comune"
                );
            }
        }
        // The other tenant's own service cards are not found here.
        for s in other
            .services
            .iter()
            .filter(|s| own.service(&s.data.slug).is_none())
        {
            let (status, _) = app
                .get(
                    host,
                    &format!("/servizi/{}/{}", s.data.category.slug(), s.data.slug),
                )
                .await;
            assert_eq!(status, 404, "{host} must not serve {}", s.data.slug);
            let (status, _) = app
                .get(host, &format!("/api/v1/servizi/{}", s.data.slug))
                .await;
            assert_eq!(status, 404);
        }
    }
    // The home page names its own comune; an unknown host gets the default one.
    assert!(
        app.get(CASAMASSIMA, "/")
            .await
            .1
            .contains("Comune di Casamassima")
    );
    assert!(
        app.get(ACQUAVIVA, "/")
            .await
            .1
            .contains("Comune di Acquaviva delle Fonti")
    );
    assert!(
        app.get("unknown.localhost", "/")
            .await
            .1
            .contains("Comune di Casamassima")
    );
    let (_, ente) = app.get(ACQUAVIVA, "/api/v1/ente").await;
    let ente: serde_json::Value = serde_json::from_str(&ente).unwrap();
    assert_eq!(ente["codice_catastale"], "A048", "{ente}");
    app.stop().await;
}

async fn headers_health_and_errors(backend: Backend) {
    let app = TestApp::spawn(backend, 10).await;
    let c = app.client();
    let r = c
        .get(app.url(CASAMASSIMA, "/servizi"))
        .send()
        .await
        .unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
    assert!(h.contains_key("x-request-id"));
    assert!(
        !h.contains_key("strict-transport-security"),
        "no HSTS without TLS"
    );

    assert_eq!(app.get(CASAMASSIMA, "/healthz").await.0, 200);
    assert_eq!(app.get(CASAMASSIMA, "/readyz").await.0, 200);
    let (status, metrics) = app.get(CASAMASSIMA, "/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE"), "{metrics}");
    assert!(metrics.contains("/servizi"), "requests counted by route");

    // Unknown page: Italian 404 with a code and the request id; API: JSON error.
    let r = c
        .get(app.url(CASAMASSIMA, "/non-esiste"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    assert!(
        body.contains("non_trovata") || body.contains("not_found"),
        "{body}"
    );
    assert!(body.contains(&id), "the request id is shown to the user");
    let r = c
        .get(app.url(CASAMASSIMA, "/api/v1/servizi/non-esiste"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"].is_string() && v["message"].is_string(), "{v}");

    // Bad input never yields a 5xx and stores nothing.
    let tenant = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let bad = [
        (
            "application/json",
            "{\"page\":\"/servizi\",\"stars\":9}".to_owned(),
        ),
        ("application/json", "not json".to_owned()),
        (
            "text/plain",
            "{\"page\":\"/servizi\",\"stars\":3}".to_owned(),
        ),
        (
            "application/json",
            format!(
                "{{\"page\":\"/servizi\",\"stars\":3,\"comment\":\"{}\"}}",
                "x".repeat(500)
            ),
        ),
        ("application/json", "x".repeat(200_000)),
    ];
    for (ct, body) in bad {
        let r = c
            .post(app.url(CASAMASSIMA, "/api/v1/valutazioni"))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{ct}: {}", r.status());
    }
    let r = c
        .post(app.url(CASAMASSIMA, "/valutazioni"))
        .form(&[("stars", "3")])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_client_error() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    assert!(
        app.app
            .db()
            .rating_summaries(tenant.id)
            .await
            .unwrap()
            .is_empty()
    );

    // A cross-site form post is refused.
    let r = c
        .post(app.url(CASAMASSIMA, "/valutazioni"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("page", "/servizi"), ("stars", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A good JSON rating is stored for the right tenant only.
    let r = c
        .post(app.url(ACQUAVIVA, "/api/v1/valutazioni"))
        .json(&serde_json::json!({"page": "/servizi", "stars": 4, "answer": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let other = app.app.tenant_for_host(ACQUAVIVA).unwrap();
    let sums = app.app.db().rating_summaries(other.id).await.unwrap();
    assert_eq!(sums.len(), 1);
    assert_eq!(sums[0].by_stars, [0, 0, 0, 1, 0]);
    assert!(
        app.app
            .db()
            .rating_summaries(tenant.id)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

mod sqlite {
    use super::*;
    #[tokio::test]
    async fn no_route_leaks_another_tenants_data() {
        super::no_route_leaks_another_tenants_data(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn headers_health_and_errors() {
        super::headers_health_and_errors(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;
    #[tokio::test]
    async fn no_route_leaks_another_tenants_data() {
        super::no_route_leaks_another_tenants_data(Backend::Postgres).await
    }
    #[tokio::test]
    async fn headers_health_and_errors() {
        super::headers_health_and_errors(Backend::Postgres).await
    }
}
