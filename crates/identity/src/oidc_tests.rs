#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::*;
use crate::jose::{EcKeyPair, KeyUse};
use crate::testutil::{now, rsa, serve_once};

const ISSUER: &str = "https://sso.comune.example.it/realms/staff";

fn meta() -> ProviderMetadata {
    ProviderMetadata {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{ISSUER}/protocol/openid-connect/auth"),
        token_endpoint: format!("{ISSUER}/protocol/openid-connect/token"),
        jwks_uri: format!("{ISSUER}/protocol/openid-connect/certs"),
        userinfo_endpoint: None,
        end_session_endpoint: Some(format!("{ISSUER}/protocol/openid-connect/logout")),
        revocation_endpoint: None,
    }
}

fn cfg() -> OidcClientConfig {
    OidcClientConfig {
        issuer: ISSUER.into(),
        client_id: "palazzo".into(),
        client_secret: "s3cr:et /+".into(),
        redirect_uri: "https://comune.example.it/staff/callback".into(),
        extra_scopes: vec!["groups".into(), "email".into()],
        auth_method: ClientAuth::ClientSecretBasic,
        role_claim: "groups".into(),
        role_map: [
            ("protocollo", "protocol_officer"),
            ("tributi", "tax_officer"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
    }
}

fn claims(nonce: &str) -> Value {
    let t = now().as_second();
    json!({"iss": ISSUER, "sub": "u-1", "aud": "palazzo", "iat": t, "exp": t + 300, "nonce": nonce,
           "groups": ["protocollo", "altro", "protocollo"]})
}

fn jwks() -> JwkSet {
    JwkSet {
        keys: vec![rsa(6).to_public_jwk(KeyUse::Sig)],
    }
}

fn token(c: &Value) -> String {
    jose::sign_claims(None, c.as_object().unwrap(), rsa(6)).unwrap()
}

#[test]
fn authorization_url() {
    let r = StaffAuthRequest::new(&meta(), &cfg()).unwrap();
    let url = reqwest::Url::parse(&r.url).unwrap();
    let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid profile email groups");
    assert_eq!(q["state"], r.state);
    assert_eq!(q["nonce"], r.nonce);
    assert_eq!(q["code_challenge"], r.pkce.challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        "https://comune.example.it/staff/callback"
    );
    assert!(!format!("{:?}", cfg()).contains("s3cr"));
}

#[test]
fn id_token_validation() {
    let c = validate_id_token(
        &token(&claims("n1")),
        &jwks(),
        &meta(),
        "palazzo",
        "n1",
        now(),
    )
    .unwrap();
    assert_eq!(c.str("sub"), Some("u-1"));
    let code = |t: String| {
        validate_id_token(&t, &jwks(), &meta(), "palazzo", "n1", now())
            .unwrap_err()
            .code()
    };
    assert_eq!(code(token(&claims("n2"))), "identity.login.wrong_nonce");
    let mut c = claims("n1");
    c["aud"] = json!(["palazzo", "other"]);
    assert_eq!(code(token(&c)), "identity.login.wrong_audience");
    c["azp"] = "palazzo".into();
    validate_id_token(&token(&c), &jwks(), &meta(), "palazzo", "n1", now()).unwrap();
    c["azp"] = "other".into();
    assert_eq!(code(token(&c)), "identity.login.wrong_audience");
    let mut c = claims("n1");
    c["iss"] = "https://elsewhere".into();
    assert_eq!(code(token(&c)), "identity.login.wrong_issuer");
    let mut c = claims("n1");
    c["exp"] = (now().as_second() - 100).into();
    assert_eq!(code(token(&c)), "identity.login.token_expired");
    let foreign = jose::sign_claims(None, claims("n1").as_object().unwrap(), rsa(7)).unwrap();
    assert_eq!(code(foreign), "identity.login.bad_signature");
    // ES256 providers work too.
    let ec = EcKeyPair::generate().unwrap();
    let set = JwkSet {
        keys: vec![ec.to_public_jwk(KeyUse::Sig)],
    };
    let t = jose::sign_claims(None, claims("n1").as_object().unwrap(), &ec).unwrap();
    validate_id_token(&t, &set, &meta(), "palazzo", "n1", now()).unwrap();
}

#[test]
fn roles_and_logout() {
    let table = cfg().role_map;
    let c = Claims(claims("n").as_object().unwrap().clone());
    assert_eq!(map_roles(&c, "groups", &table), vec!["protocol_officer"]);
    let single = Claims(json!({"roles": "tributi"}).as_object().unwrap().clone());
    assert_eq!(map_roles(&single, "roles", &table), vec!["tax_officer"]);
    assert!(map_roles(&single, "groups", &table).is_empty());
    let url = end_session_url(
        &meta(),
        "palazzo",
        Some("a.b.c"),
        Some("https://comune.example.it/"),
        Some("st"),
    )
    .unwrap();
    let q: BTreeMap<_, _> = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["id_token_hint"], "a.b.c");
    assert_eq!(q["post_logout_redirect_uri"], "https://comune.example.it/");
    let mut m = meta();
    m.end_session_endpoint = None;
    assert!(end_session_url(&m, "palazzo", None, None, None).is_none());
}

#[tokio::test]
async fn discovery_jwks_token_and_userinfo_over_http() {
    let http = crate::http::client().unwrap();
    // Discovery: the issuer must match.
    let (base, _r) = serve_once(200, "application/json", &json!({
        "issuer": "http://wrong", "authorization_endpoint": "http://a", "token_endpoint": "http://t", "jwks_uri": "http://j"
    }).to_string()).await;
    assert_eq!(
        discover(&http, &base).await.unwrap_err().code(),
        "identity.login.wrong_issuer"
    );
    let (base, _r) = serve_once(200, "application/json", "{}").await;
    assert!(discover(&http, &base).await.is_err());

    let (base, _r) = serve_once(
        200,
        "application/json",
        &serde_json::to_string(&jwks()).unwrap(),
    )
    .await;
    assert_eq!(fetch_jwks(&http, &base).await.unwrap(), jwks());

    // Token request with client_secret_basic (form-encoded credentials).
    let body =
        json!({"access_token": "at", "id_token": "x.y.z", "token_type": "bearer"}).to_string();
    let (base, req) = serve_once(200, "application/json", &body).await;
    let mut m = meta();
    m.token_endpoint = base.clone();
    exchange_code(&http, &m, &cfg(), "code", "verifier")
        .await
        .unwrap();
    let raw = req.await.unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode("palazzo:s3cr%3Aet+%2F%2B");
    assert!(raw.contains(&format!("Basic {expected}")), "{raw}");
    assert!(!raw.contains("client_secret="));
    // client_secret_post.
    let (base, req) = serve_once(200, "application/json", &body).await;
    m.token_endpoint = base;
    let mut c = cfg();
    c.auth_method = ClientAuth::ClientSecretPost;
    exchange_code(&http, &m, &c, "code", "verifier")
        .await
        .unwrap();
    let raw = req.await.unwrap();
    assert!(raw.contains("client_secret=s3cr%3Aet+%2F%2B") && !raw.contains("Basic "));
    // OAuth error.
    let (base, _r) = serve_once(400, "application/json", r#"{"error":"invalid_grant"}"#).await;
    m.token_endpoint = base;
    assert!(matches!(
        exchange_code(&http, &m, &cfg(), "c", "v").await.unwrap_err(),
        LoginError::OpError { status: 400, error: Some(e) } if e == "invalid_grant"
    ));

    // Userinfo.
    let (base, _r) = serve_once(200, "application/json", r#"{"sub":"u-1","email":"a@b.it"}"#).await;
    m.userinfo_endpoint = Some(base);
    assert_eq!(
        userinfo(&http, &m, "at", "u-1").await.unwrap().str("email"),
        Some("a@b.it")
    );
    let (base, _r) = serve_once(200, "application/json", r#"{"sub":"u-2"}"#).await;
    m.userinfo_endpoint = Some(base);
    assert_eq!(
        userinfo(&http, &m, "at", "u-1").await.unwrap_err().code(),
        "identity.login.sub_mismatch"
    );
}
