//! Staff sign-in through the comune's own OpenID provider (issue 3, part 2),
//! end to end on both backends:
//!
//! * against npm `oidc-provider` (testbeds/oidc-provider, started per test on
//!   a free port): each staff account signs in headlessly through the
//!   provider's login and consent forms and gets exactly its mapped roles;
//!   wrong `state`, a callback without a session, a replayed code, `iss`
//!   mix-up and a cancelled sign-in each end on an Italian page with a code
//!   and no session; sign-out goes on to the provider's logout;
//! * against a fake provider in this file, which signs whatever ID token a
//!   test asks for: foreign keys, tampered payloads, expired tokens, wrong
//!   issuer, audience or nonce, `alg: none`, a failing token endpoint and a
//!   provider that is down. A valid token from the same fake is accepted,
//!   so the refusals are about the token and not the fake.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use palazzo_domain::access::Role;
use palazzo_identity::jose::{self, EcKeyPair, JwkSet, KeyUse};
use palazzo_store::Store as _;
use palazzo_testkit::oidc_provider::{OidcProvider, STAFF_PASSWORD};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::json;

const START: &str = "/accedi/personale";
const CALLBACK: &str = "/accedi/personale/callback";

/// Palazzo with the testbed provider configured for Casamassima, and the
/// provider knowing Palazzo's callback and home page.
async fn with_testbed(backend: Backend) -> (TestApp, OidcProvider) {
    let op = OidcProvider::start().await;
    let cfg = op.staff_config();
    let app = TestApp::spawn_with(backend, 5, move |_, w| {
        w.staff_oidc.insert("casamassima".into(), cfg);
    })
    .await;
    op.register(
        &[app.url(CASAMASSIMA, CALLBACK)],
        &[app.url(CASAMASSIMA, "/")],
    )
    .await;
    (app, op)
}

/// `http://host:port/x?y` → `/x?y` for a Palazzo URL.
fn local(app: &TestApp, host: &str, url: &str) -> String {
    url.strip_prefix(&app.url(host, ""))
        .unwrap_or_else(|| panic!("{url} is not on {host}"))
        .to_owned()
}

/// Starts a sign-in: the answer must send the browser to the provider.
async fn start(b: &mut Browser, query: &str) -> String {
    let r = b.get(&format!("{START}{query}")).await;
    assert_eq!(r.status, 303, "start: {}", r.body);
    assert!(b.cookies.contains_key("palazzo"), "a pending session");
    r.location().unwrap().to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let v = v.replace('+', " ");
            let mut out = Vec::new();
            let bytes = v.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
    })
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let (base, q) = url.split_once('?').unwrap();
    let q: Vec<String> = q
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={value}"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{base}?{}", q.join("&"))
}

/// A refused sign-in: an Italian page with `code`, no 5xx, and no session
/// left in the browser (nor a signed-in one on the server).
async fn assert_refused(b: &mut Browser, r: &Page, status: u16, code: &str) {
    assert_eq!(r.status, status, "{code}: {}", r.body);
    assert!(
        r.body.contains(&format!(
            "<strong data-element=\"error-code\">{code}</strong>"
        )),
        "{code} on the page: {}",
        r.body
    );
    assert!(r.body.contains("lang=\"it\""), "Italian page");
    assert!(
        !b.cookies.contains_key("palazzo"),
        "no session cookie after {code}: {:?}",
        r.set_cookies()
    );
    let bo = b.get("/backoffice").await;
    assert_eq!(bo.status, 303, "{code}: still anonymous");
    assert!(bo.location().unwrap().starts_with("/accedi?ritorno="));
}

/// The roles listed on `/backoffice`.
fn roles_on(page: &Page) -> Vec<String> {
    let start = page
        .body
        .find("I tuoi ruoli in questo Comune")
        .unwrap_or_else(|| panic!("roles list: {}", page.body));
    let rest = &page.body[start..];
    let list = &rest[..rest.find("</ul>").unwrap()];
    list.split("<li>")
        .skip(1)
        .map(|li| {
            li.split("</li>")
                .next()
                .unwrap()
                .replace("&#39;", "'")
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .trim()
                .to_owned()
        })
        .collect()
}

async fn staff_accounts_get_their_roles(backend: Backend) {
    let (app, op) = with_testbed(backend).await;
    let tenant = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(tenant.id).await.unwrap();
    let protocollo = &snap.office_by_slug("protocollo").unwrap().data.name;

    // The button on the sign-in page, only where a provider is configured.
    let mut b = Browser::new(&app, CASAMASSIMA);
    let page = b.get("/accedi").await;
    assert!(page.body.contains("Accedi come personale del Comune"));
    assert!(page.body.contains("href=\"/accedi/personale\""));
    let mut other = Browser::new(&app, ACQUAVIVA);
    assert!(
        !other
            .get("/accedi")
            .await
            .body
            .contains("Accedi come personale del Comune")
    );
    assert_eq!(other.get(START).await.status, 404);

    let cases: [(&str, Vec<String>, bool); 3] = [
        (
            "operatore.protocollo",
            vec![format!("{} — {protocollo}", Role::Operatore.label_it())],
            false,
        ),
        // palazzo:ufficio:tecnico is not mapped: only the dirigente role.
        (
            "dirigente.tecnico",
            vec![Role::Dirigente.label_it().to_owned()],
            false,
        ),
        (
            "admin.comune",
            vec![Role::AdminComune.label_it().to_owned()],
            true,
        ),
    ];
    for (login, expected, manages_roles) in cases {
        let mut b = Browser::new(&app, CASAMASSIMA);
        let authorize = start(&mut b, "").await;
        assert!(authorize.starts_with(&op.issuer), "{authorize}");
        assert_eq!(
            query_param(&authorize, "code_challenge_method").as_deref(),
            Some("S256")
        );
        let pending = b.cookies["palazzo"].clone();
        let back = op.sign_in(&authorize, login, STAFF_PASSWORD).await;
        let r = b.get(&local(&app, CASAMASSIMA, &back)).await;
        assert_eq!(r.status, 303, "{login}: {}\n{}", r.body, op.log());
        assert_eq!(r.location(), Some("/backoffice"));
        assert_ne!(b.cookies["palazzo"], pending, "session rotated");
        let bo = b.get("/backoffice").await;
        assert_eq!(bo.status, 200, "{login}");
        assert_eq!(roles_on(&bo), expected, "{login}");
        let ruoli = b.get("/backoffice/ruoli").await;
        assert_eq!(
            ruoli.status,
            if manages_roles { 200 } else { 403 },
            "{login} on /backoffice/ruoli"
        );
        // The citizen's personal area is not a staff page.
        assert_eq!(b.get("/area-personale").await.status, 403, "{login}");
    }

    // A second sign-in keeps the same profile and the same grants.
    let mut b = Browser::new(&app, CASAMASSIMA);
    let authorize = start(&mut b, "?ritorno=/backoffice/ruoli").await;
    let back = op.sign_in(&authorize, "admin.comune", STAFF_PASSWORD).await;
    let r = b.get(&local(&app, CASAMASSIMA, &back)).await;
    assert_eq!(
        r.location(),
        Some("/backoffice/ruoli"),
        "back where it started"
    );
    let ruoli = b.get("/backoffice/ruoli").await;
    assert_eq!(ruoli.status, 200);
    for who in ["Lucia Neri", "Paola Ferri", "Marco Galli"] {
        assert!(ruoli.body.contains(who), "{who} on the roles page");
    }
    let staff = app.app.db().staff_users(tenant.id).await.unwrap();
    assert_eq!(staff.len(), 3, "one profile per staff member");

    // Sign-out ends the local session and goes on to the provider's logout.
    let csrf = b.csrf_of("/backoffice").await;
    let out = b.post("/esci", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let refresh = out.headers["refresh"].to_str().unwrap().to_owned();
    let end = refresh.strip_prefix("0; url=").unwrap();
    assert!(
        end.starts_with(&format!("{}/session/end?", op.issuer)),
        "{end}"
    );
    assert_eq!(
        query_param(end, "post_logout_redirect_uri").as_deref(),
        Some(app.url(CASAMASSIMA, "/").as_str())
    );
    assert!(!b.cookies.contains_key("palazzo"));
    let page = reqwest::get(end).await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "the provider's logout page");
    // The provider accepts the request (client, registered post-logout URI)
    // and, once confirmed, sends the browser back to the comune's home page.
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let body = page.text().await.unwrap();
    assert!(body.contains("/session/end/confirm"), "{body}");
    let xsrf = body
        .split("name=\"xsrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    let done = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/session/end/confirm", op.issuer))
        .header("cookie", cookies.join("; "))
        .form(&[("xsrf", xsrf), ("logout", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(
        done.headers()["location"].to_str().unwrap(),
        app.url(CASAMASSIMA, "/")
    );
    assert_eq!(b.get("/backoffice").await.status, 303);

    app.stop().await;
}

async fn refusals_against_the_testbed(backend: Backend) {
    let (app, op) = with_testbed(backend).await;

    // A callback without any session.
    let mut b = Browser::new(&app, CASAMASSIMA);
    let r = b.get(&format!("{CALLBACK}?code=abc&state=def")).await;
    assert_refused(&mut b, &r, 400, "staff_login.no_session").await;

    // A callback without the state the sign-in started with.
    let mut b = Browser::new(&app, CASAMASSIMA);
    let authorize = start(&mut b, "").await;
    let back = op.sign_in(&authorize, "admin.comune", STAFF_PASSWORD).await;
    let forged = replace_param(&back, "state", "not-the-state");
    let r = b.get(&local(&app, CASAMASSIMA, &forged)).await;
    assert_refused(&mut b, &r, 400, "staff_login.wrong_state").await;

    // A response that names another issuer (mix-up, RFC 9207).
    let mut b = Browser::new(&app, CASAMASSIMA);
    let authorize = start(&mut b, "").await;
    let back = op.sign_in(&authorize, "admin.comune", STAFF_PASSWORD).await;
    let forged = replace_param(&back, "iss", "https%3A%2F%2Fevil.example");
    let r = b.get(&local(&app, CASAMASSIMA, &forged)).await;
    assert_refused(&mut b, &r, 400, "identity.login.wrong_issuer").await;

    // The staff member cancels at the provider.
    let mut b = Browser::new(&app, CASAMASSIMA);
    let authorize = start(&mut b, "").await;
    let back = op.abort(&authorize).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    let r = b.get(&local(&app, CASAMASSIMA, &back)).await;
    assert_refused(&mut b, &r, 400, "staff_login.access_denied").await;

    // Replays: the same callback again (its transaction is gone), and the
    // used code inside a fresh transaction (the provider refuses it).
    let mut b = Browser::new(&app, CASAMASSIMA);
    let authorize = start(&mut b, "").await;
    let back = op
        .sign_in(&authorize, "operatore.protocollo", STAFF_PASSWORD)
        .await;
    let first = b.get(&local(&app, CASAMASSIMA, &back)).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let mut thief = Browser::new(&app, CASAMASSIMA);
    let again = thief.get(&local(&app, CASAMASSIMA, &back)).await;
    assert_refused(&mut thief, &again, 400, "staff_login.no_session").await;
    let authorize2 = start(&mut thief, "").await;
    let state2 = query_param(&authorize2, "state").unwrap();
    let code = query_param(&back, "code").unwrap();
    let replay = thief
        .get(&format!("{CALLBACK}?code={code}&state={state2}"))
        .await;
    assert_refused(&mut thief, &replay, 400, "identity.login.op_error").await;
    // The same browser cannot use its callback twice either.
    let twice = b.get(&local(&app, CASAMASSIMA, &back)).await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    assert!(twice.body.contains("staff_login.no_session"));

    app.stop().await;
}

#[tokio::test]
async fn staff_accounts_get_their_roles_sqlite() {
    staff_accounts_get_their_roles(Backend::Sqlite).await;
}

#[tokio::test]
async fn staff_accounts_get_their_roles_postgres() {
    staff_accounts_get_their_roles(Backend::Postgres).await;
}

#[tokio::test]
async fn refusals_against_the_testbed_sqlite() {
    refusals_against_the_testbed(Backend::Sqlite).await;
}

#[tokio::test]
async fn refusals_against_the_testbed_postgres() {
    refusals_against_the_testbed(Backend::Postgres).await;
}

// --- A fake provider that signs what the test asks for ------------------------

/// What the fake token endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mint {
    Valid,
    ForeignKey,
    Tampered,
    Expired,
    WrongIssuer,
    WrongAudience,
    WrongNonce,
    AlgNone,
    TokenEndpointFails,
    NoRoleGroups,
}

struct Fake {
    issuer: String,
    key: EcKeyPair,
    foreign: EcKeyPair,
    nonce: Mutex<String>,
    mint: Mutex<Mint>,
}

impl Fake {
    fn id_token(&self) -> String {
        let mint = *self.mint.lock().unwrap();
        let now = jiff::Timestamp::now().as_second();
        let mut claims = json!({
            "iss": self.issuer, "sub": "fake-staff-1", "aud": "palazzo",
            "iat": now, "exp": now + 300, "nonce": *self.nonce.lock().unwrap(),
            "given_name": "Franca", "family_name": "Finti",
            "groups": ["palazzo:admin"],
        });
        match mint {
            Mint::Expired => {
                claims["iat"] = json!(now - 7200);
                claims["exp"] = json!(now - 3600);
            }
            Mint::WrongIssuer => claims["iss"] = json!("https://evil.example"),
            Mint::WrongAudience => claims["aud"] = json!("someone-else"),
            Mint::WrongNonce => claims["nonce"] = json!("another-nonce"),
            Mint::NoRoleGroups => claims["groups"] = json!(["palazzo:ufficio:tecnico"]),
            _ => {}
        }
        let map = claims.as_object().unwrap();
        match mint {
            Mint::ForeignKey => jose::sign_claims(None, map, &self.foreign).unwrap(),
            Mint::Tampered => {
                let t = jose::sign_claims(None, map, &self.key).unwrap();
                let parts: Vec<&str> = t.split('.').collect();
                let mut forged = map.clone();
                forged.insert("sub".into(), json!("someone-else"));
                let payload = jose::b64(serde_json::to_vec(&forged).unwrap());
                format!("{}.{payload}.{}", parts[0], parts[2])
            }
            Mint::AlgNone => {
                let header = jose::b64(br#"{"alg":"none"}"#);
                let payload = jose::b64(serde_json::to_vec(map).unwrap());
                format!("{header}.{payload}.")
            }
            _ => jose::sign_claims(None, map, &self.key).unwrap(),
        }
    }
}

async fn fake_provider() -> Arc<Fake> {
    use axum::routing::{get, post};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = Arc::new(Fake {
        issuer: issuer.clone(),
        key: EcKeyPair::generate().unwrap(),
        foreign: EcKeyPair::generate().unwrap(),
        nonce: Mutex::new(String::new()),
        mint: Mutex::new(Mint::Valid),
    });
    let (f1, f2, f3) = (fake.clone(), fake.clone(), fake.clone());
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let i = f1.issuer.clone();
                async move {
                    axum::Json(json!({
                        "issuer": i, "authorization_endpoint": format!("{i}/auth"),
                        "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
                    }))
                }
            }),
        )
        .route(
            "/jwks",
            get(move || {
                let set = JwkSet {
                    keys: vec![f2.key.to_public_jwk(KeyUse::Sig)],
                };
                async move { axum::Json(serde_json::to_value(&set).unwrap()) }
            }),
        )
        .route(
            "/token",
            post(move || {
                let f = f3.clone();
                async move {
                    if *f.mint.lock().unwrap() == Mint::TokenEndpointFails {
                        return (
                            axum::http::StatusCode::BAD_REQUEST,
                            axum::Json(json!({"error": "invalid_grant"})),
                        );
                    }
                    (
                        axum::http::StatusCode::OK,
                        axum::Json(json!({
                            "access_token": "fake-access-token", "token_type": "Bearer",
                            "expires_in": 300, "id_token": f.id_token(),
                        })),
                    )
                }
            }),
        );
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    fake
}

async fn forged_tokens(backend: Backend) {
    let fake = fake_provider().await;
    // A port nobody listens on: the provider of Acquaviva is down.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let cfg = |issuer: &str| -> palazzo_services::staff_oidc::StaffOidcConfig {
        serde_json::from_value(json!({
            "issuer": issuer, "client_id": "palazzo", "client_secret": "fake-secret",
            "roles": {"palazzo:admin": "admin_comune"},
        }))
        .unwrap()
    };
    let (c1, c2) = (cfg(&fake.issuer), cfg(&down));
    let app = TestApp::spawn_with(backend, 0, move |_, w| {
        w.staff_oidc.insert("casamassima".into(), c1);
        w.staff_oidc.insert("acquaviva".into(), c2);
    })
    .await;

    let cases: [(Mint, u16, &str); 9] = [
        (Mint::ForeignKey, 400, "identity.login.bad_signature"),
        (Mint::Tampered, 400, "identity.login.bad_signature"),
        (Mint::AlgNone, 400, "identity.login.bad_signature"),
        (Mint::Expired, 400, "identity.login.token_expired"),
        (Mint::WrongIssuer, 400, "identity.login.wrong_issuer"),
        (Mint::WrongAudience, 400, "identity.login.wrong_audience"),
        (Mint::WrongNonce, 400, "identity.login.wrong_nonce"),
        (Mint::TokenEndpointFails, 400, "identity.login.op_error"),
        (Mint::NoRoleGroups, 403, "staff_login.no_roles"),
    ];
    for (mint, status, code) in cases {
        *fake.mint.lock().unwrap() = mint;
        let mut b = Browser::new(&app, CASAMASSIMA);
        let authorize = start(&mut b, "").await;
        *fake.nonce.lock().unwrap() = query_param(&authorize, "nonce").unwrap();
        let state = query_param(&authorize, "state").unwrap();
        let r = b.get(&format!("{CALLBACK}?code=c0de&state={state}")).await;
        assert_refused(&mut b, &r, status, code).await;
        if mint == Mint::NoRoleGroups {
            assert!(
                r.body.contains("non ha ruoli in questo Comune"),
                "{}",
                r.body
            );
        }
    }

    // The same fake, signing properly, is accepted: the refusals above are
    // about the tokens.
    *fake.mint.lock().unwrap() = Mint::Valid;
    let mut b = Browser::new(&app, CASAMASSIMA);
    let authorize = start(&mut b, "").await;
    *fake.nonce.lock().unwrap() = query_param(&authorize, "nonce").unwrap();
    let state = query_param(&authorize, "state").unwrap();
    let r = b.get(&format!("{CALLBACK}?code=c0de&state={state}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bo = b.get("/backoffice").await;
    assert_eq!(roles_on(&bo), vec![Role::AdminComune.label_it().to_owned()]);
    // Without end_session_endpoint, sign-out simply goes home.
    let csrf = b.csrf_of("/backoffice").await;
    let out = b.post("/esci", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), Some("/"));

    // The provider of Acquaviva is down: a page, not a 5xx, and no session.
    let mut b = Browser::new(&app, ACQUAVIVA);
    let r = b.get(START).await;
    assert_refused(&mut b, &r, 400, "identity.http.transport").await;

    app.stop().await;
}

#[tokio::test]
async fn forged_tokens_are_refused_sqlite() {
    forged_tokens(Backend::Sqlite).await;
}

#[tokio::test]
async fn forged_tokens_are_refused_postgres() {
    forged_tokens(Backend::Postgres).await;
}

/// The forged tokens above really are what their names say.
#[test]
fn fake_tokens_fail_for_the_stated_reason() {
    let fake = Fake {
        issuer: "http://127.0.0.1:1".into(),
        key: EcKeyPair::generate().unwrap(),
        foreign: EcKeyPair::generate().unwrap(),
        nonce: Mutex::new("n".into()),
        mint: Mutex::new(Mint::Tampered),
    };
    let jwks = JwkSet {
        keys: vec![fake.key.to_public_jwk(KeyUse::Sig)],
    };
    let t = fake.id_token();
    assert!(jose::verify(&t, &jwks, &[jose::Alg::Es256]).is_err());
    *fake.mint.lock().unwrap() = Mint::Valid;
    let t = fake.id_token();
    let claims = jose::verify(&t, &jwks, &[jose::Alg::Es256])
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims.str("sub"), Some("fake-staff-1"));
}
