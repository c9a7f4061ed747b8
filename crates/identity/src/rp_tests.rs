#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::jose::{ContentEnc, KeyAlg, KeyUse, RsaKeyPair};
use crate::testutil::{now, rsa, serve_once};

const OP: &str = "https://op.example.it/oidc/op";
const RP: &str = "https://comune.example.it";
const ACCESS: &str = "eyJ.access.token";
const NONCE: &str = "n-0S6_WzA2Mj-n-0S6_WzA2Mj-n-0S6_WzA2Mj";

fn op_key() -> &'static RsaKeyPair {
    rsa(6)
}

fn op_jwks() -> JwkSet {
    JwkSet {
        keys: vec![op_key().to_public_jwk(KeyUse::Sig)],
    }
}

fn id_claims() -> Value {
    let t = now().as_second();
    json!({
        "iss": OP, "sub": "pairwise-sub-1", "aud": [RP], "iat": t, "exp": t + 1980,
        "nonce": NONCE, "acr": AcrLevel::SpidL2.uri(),
        "at_hash": at_hash(jose::Alg::Rs256, ACCESS), "jti": "x",
    })
}

fn sign(claims: &Value, key: &RsaKeyPair) -> String {
    jose::sign_claims(None, claims.as_object().unwrap(), key).unwrap()
}

fn expect(acr_min: AcrLevel) -> IdTokenExpectations<'static> {
    IdTokenExpectations {
        issuer: OP,
        client_id: RP,
        nonce: NONCE,
        acr_min,
    }
}

fn check(claims: Value) -> Result<IdToken> {
    validate_id_token(
        &sign(&claims, op_key()),
        &op_jwks(),
        &expect(AcrLevel::SpidL2),
        ACCESS,
        now(),
    )
}

fn with(key: &str, v: Value) -> Value {
    let mut c = id_claims();
    c[key] = v;
    c
}

fn without(key: &str) -> Value {
    let mut c = id_claims();
    c.as_object_mut().unwrap().remove(key);
    c
}

#[test]
fn accepts_a_good_id_token() {
    let t = check(id_claims()).unwrap();
    assert_eq!(t.sub, "pairwise-sub-1");
    assert_eq!(t.acr, AcrLevel::SpidL2);
    // A stronger level than required is fine.
    check(with("acr", AcrLevel::SpidL3.uri().into())).unwrap();
    // Single-string aud is fine.
    check(with("aud", RP.into())).unwrap();
}

#[test]
fn rejects_bad_id_tokens() {
    let code = |c: Value| check(c).unwrap_err().code();
    assert_eq!(code(without("acr")), "identity.login.missing_acr");
    assert_eq!(
        code(with("acr", AcrLevel::SpidL1.uri().into())),
        "identity.login.acr_too_weak"
    );
    assert_eq!(
        code(with("acr", "https://www.spid.gov.it/SpidL9".into())),
        "identity.login.acr_too_weak"
    );
    assert_eq!(code(without("at_hash")), "identity.login.missing_at_hash");
    assert_eq!(
        code(with(
            "at_hash",
            at_hash(jose::Alg::Rs256, "another token").into()
        )),
        "identity.login.wrong_at_hash"
    );
    assert_eq!(
        code(with("nonce", "another".into())),
        "identity.login.wrong_nonce"
    );
    assert_eq!(code(without("nonce")), "identity.login.wrong_nonce");
    assert_eq!(
        code(with("aud", json!(["https://other.example.it"]))),
        "identity.login.wrong_audience"
    );
    assert_eq!(
        code(with("aud", json!([RP, "https://other.example.it"]))),
        "identity.login.wrong_audience",
        "several audiences need azp"
    );
    assert_eq!(
        code(with("iss", "https://evil.example.it".into())),
        "identity.login.wrong_issuer"
    );
    let t = now().as_second();
    assert_eq!(
        code(with("exp", (t - 120).into())),
        "identity.login.token_expired"
    );
    assert_eq!(
        code(with("iat", (t + 600).into())),
        "identity.login.token_expired"
    );
    assert_eq!(code(without("iat")), "identity.login.malformed_token");

    // Tampered: payload swapped under the original signature.
    let good = sign(&id_claims(), op_key());
    let parts: Vec<&str> = good.split('.').collect();
    let forged_payload =
        jose::b64(serde_json::to_vec(&with("sub", "someone-else".into())).unwrap());
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    let err = validate_id_token(
        &forged,
        &op_jwks(),
        &expect(AcrLevel::SpidL2),
        ACCESS,
        now(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "identity.login.bad_signature");
    // Signed by someone else than the OP.
    let foreign = sign(&id_claims(), rsa(7));
    let err = validate_id_token(
        &foreign,
        &op_jwks(),
        &expect(AcrLevel::SpidL2),
        ACCESS,
        now(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "identity.login.bad_signature");
    // Asking for L3 when the OP says L2.
    let err =
        validate_id_token(&good, &op_jwks(), &expect(AcrLevel::SpidL3), ACCESS, now()).unwrap_err();
    assert_eq!(err.code(), "identity.login.acr_too_weak");
}

#[test]
fn at_hash_matches_oidc_core_example() {
    // OpenID Connect Core A.3 (RS256): access token and at_hash of the example.
    assert_eq!(
        at_hash(
            jose::Alg::Rs256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
}

fn userinfo(claims: &Value, signer: &RsaKeyPair, recipient: &RsaKeyPair) -> String {
    let jws = sign(claims, signer);
    let mut h = Map::new();
    h.insert("cty".into(), "JWT".into());
    h.insert("kid".into(), recipient.kid().into());
    jose::encrypt(
        h,
        jws.as_bytes(),
        &recipient.public_key(),
        KeyAlg::RsaOaep,
        ContentEnc::A256CbcHs512,
    )
    .unwrap()
}

fn ui_expect() -> UserinfoExpectations<'static> {
    UserinfoExpectations {
        sub: "pairwise-sub-1",
        issuer: OP,
        client_id: RP,
    }
}

fn read(body: &str, ct: &str) -> Result<Citizen> {
    read_userinfo(
        body,
        ct,
        rsa(2).private_key(),
        &op_jwks(),
        &ui_expect(),
        now(),
    )
}

#[test]
fn reads_userinfo_as_the_test_op_sends_it() {
    // Only sub and the requested claims; no iss, aud, iat, exp.
    let claims = json!({
        "sub": "pairwise-sub-1", "given_name": "Mario", "family_name": "Rossi",
        FISCAL_NUMBER_CLAIM: "TINIT-rssmra80a01h501u", "email": "mario@example.it",
        "birthdate": "1980-01-01", "place_of_birth": {"locality": "H501", "region": "RM"},
    });
    let body = userinfo(&claims, op_key(), rsa(2));
    let c = read(&body, "application/jwt; charset=utf-8").unwrap();
    assert_eq!(c.fiscal_number.as_deref(), Some("RSSMRA80A01H501U"));
    assert_eq!(c.given_name.as_deref(), Some("Mario"));
    assert_eq!(c.date_of_birth.as_deref(), Some("1980-01-01"));
    assert_eq!(c.place_of_birth.as_ref().unwrap()["locality"], "H501");
    assert_eq!(c.raw["email"], "mario@example.it");
    assert!(
        !format!("{c:?}").contains("RSSMRA"),
        "Debug hides personal data"
    );
    read(&body, "application/jose").unwrap();
    // With iss/aud present and right: fine; wrong: refused.
    let mut full = claims.clone();
    full["iss"] = OP.into();
    full["aud"] = RP.into();
    read(&userinfo(&full, op_key(), rsa(2)), "application/jose").unwrap();
    full["aud"] = "https://other.example.it".into();
    assert_eq!(
        read(&userinfo(&full, op_key(), rsa(2)), "application/jose")
            .unwrap_err()
            .code(),
        "identity.login.wrong_audience"
    );
}

#[test]
fn rejects_bad_userinfo() {
    let claims = json!({"sub": "pairwise-sub-1", "given_name": "Mario"});
    let code = |r: Result<Citizen>| r.unwrap_err().code();
    // Another subject.
    let other = json!({"sub": "someone-else"});
    assert_eq!(
        code(read(&userinfo(&other, op_key(), rsa(2)), "application/jwt")),
        "identity.login.sub_mismatch"
    );
    // Signed by a key that is not the OP's.
    assert_eq!(
        code(read(&userinfo(&claims, rsa(7), rsa(2)), "application/jwt")),
        "identity.login.bad_signature"
    );
    // Encrypted to another key.
    assert_eq!(
        code(read(
            &userinfo(&claims, op_key(), rsa(1)),
            "application/jwt"
        )),
        "identity.login.decrypt_failed"
    );
    // Not encrypted at all, or the wrong content type.
    assert_eq!(
        code(read(&sign(&claims, op_key()), "application/jwt")),
        "identity.login.invalid_response"
    );
    assert_eq!(
        code(read(
            &userinfo(&claims, op_key(), rsa(2)),
            "application/json"
        )),
        "identity.login.invalid_response"
    );
}

#[test]
fn fiscal_number_normalisation() {
    assert_eq!(
        normalize_fiscal_number(" TINIT-abcdef12g34h567i "),
        "ABCDEF12G34H567I"
    );
    assert_eq!(
        normalize_fiscal_number("tinit-abcdef12g34h567i"),
        "ABCDEF12G34H567I"
    );
    assert_eq!(
        normalize_fiscal_number("ABCDEF12G34H567I"),
        "ABCDEF12G34H567I"
    );
    assert_eq!(normalize_fiscal_number("TIN"), "TIN");
}

#[test]
fn request_object_has_every_required_claim() {
    let params = AuthRequestParams {
        client_id: RP,
        redirect_uri: "https://comune.example.it/oidc/rp/callback",
        audience: OP,
        acr: &[AcrLevel::SpidL2, AcrLevel::SpidL1],
        offline_access: true,
        claims: None,
    };
    let req = AuthRequest::new(&params, rsa(1), now()).unwrap();
    assert!(req.state.len() >= 32 && req.nonce.len() >= 32);
    assert_ne!(req.state, req.nonce);
    assert!((43..=128).contains(&req.pkce.verifier.len()));
    assert_eq!(
        req.pkce.challenge,
        Pkce::from_verifier(req.pkce.verifier.clone()).challenge
    );
    let rp_jwks = JwkSet {
        keys: vec![rsa(1).to_public_jwk(KeyUse::Sig)],
    };
    let v = jose::verify(&req.request_object, &rp_jwks, &[jose::Alg::Rs256]).unwrap();
    assert_eq!(v.header_str("kid"), Some(rsa(1).kid()));
    let c = v.claims().unwrap();
    for (k, want) in [
        ("client_id", RP),
        ("iss", RP),
        ("aud", OP),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("redirect_uri", "https://comune.example.it/oidc/rp/callback"),
        ("code_challenge_method", "S256"),
        ("prompt", "consent login"),
        (
            "acr_values",
            "https://www.spid.gov.it/SpidL1 https://www.spid.gov.it/SpidL2",
        ),
    ] {
        assert_eq!(c.str(k), Some(want), "{k}");
    }
    assert_eq!(c.get("ui_locales"), Some(&serde_json::json!(["it"])));
    assert_eq!(c.str("nonce"), Some(req.nonce.as_str()));
    assert_eq!(c.str("state"), Some(req.state.as_str()));
    assert_eq!(c.str("code_challenge"), Some(req.pkce.challenge.as_str()));
    assert!(c.str("jti").is_some());
    assert!(c.i64("exp").unwrap() > c.i64("iat").unwrap());
    assert!(
        c.get("claims").unwrap()["userinfo"]
            .get(FISCAL_NUMBER_CLAIM)
            .is_some()
    );

    let url = req
        .authorization_url(&format!("{OP}/authorization"))
        .unwrap();
    let url = reqwest::Url::parse(&url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], RP);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "openid");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["request"], req.request_object);
    assert!(!format!("{req:?}").contains(&req.pkce.verifier));
}

#[test]
fn client_assertion_claims() {
    let token_endpoint = format!("{OP}/token");
    let a = client_assertion(RP, &token_endpoint, rsa(1), now()).unwrap();
    let jwks = JwkSet {
        keys: vec![rsa(1).to_public_jwk(KeyUse::Sig)],
    };
    let c = jose::verify(&a, &jwks, &[jose::Alg::Rs256])
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(c.str("iss"), Some(RP));
    assert_eq!(c.str("sub"), Some(RP));
    assert_eq!(c.aud(), vec![token_endpoint.as_str()]);
    assert!(c.i64("exp").unwrap() > now().as_second());
    assert!(c.str("jti").unwrap().len() >= 16);
    c.check_time(now(), 0).unwrap();
}

#[tokio::test]
async fn exchange_code_posts_the_form_and_maps_errors() {
    let http = crate::http::client().unwrap();
    let ok = json!({"access_token": ACCESS, "id_token": "a.b.c", "token_type": "Bearer", "expires_in": 3600}).to_string();
    let (base, req) = serve_once(200, "application/json", &ok).await;
    let url = format!("{base}/oidc/op/token");
    let t = exchange_code(&http, &url, RP, "the-code", "the-verifier", rsa(1), now())
        .await
        .unwrap();
    assert_eq!(t.access_token, ACCESS);
    assert!(!format!("{t:?}").contains(ACCESS));
    let raw = req.await.unwrap();
    let body = raw.split("\r\n\r\n").nth(1).unwrap();
    let form: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&format!("http://x/?{body}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["code_verifier"], "the-verifier");
    assert_eq!(form["client_id"], RP);
    assert_eq!(form["client_assertion_type"], CLIENT_ASSERTION_TYPE);
    let jwks = JwkSet {
        keys: vec![rsa(1).to_public_jwk(KeyUse::Sig)],
    };
    let a = jose::verify(&form["client_assertion"], &jwks, &[jose::Alg::Rs256])
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(a.aud(), vec![url.as_str()]);

    let (base, _req) = serve_once(
        403,
        "application/json",
        r#"{"error":"unauthorized_client"}"#,
    )
    .await;
    match exchange_code(&http, &base, RP, "c", "v", rsa(1), now())
        .await
        .unwrap_err()
    {
        LoginError::OpError { status, error } => {
            assert_eq!(status, 403);
            assert_eq!(error.as_deref(), Some("unauthorized_client"));
        }
        other => panic!("{other:?}"),
    }
    let (base, _req) = serve_once(400, "text/html", "").await;
    let err = exchange_code(&http, &base, RP, "c", "v", rsa(1), now())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        LoginError::OpError {
            status: 400,
            error: None
        }
    ));
    assert_eq!(err.code(), "identity.login.op_error");
    let (base, _req) = serve_once(200, "application/json", r#"{"token_type":"Bearer"}"#).await;
    let err = exchange_code(&http, &base, RP, "c", "v", rsa(1), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "identity.login.invalid_response");
}

#[tokio::test]
async fn userinfo_and_revocation_over_http() {
    let http = crate::http::client().unwrap();
    let body = userinfo(&json!({"sub": "pairwise-sub-1"}), op_key(), rsa(2));
    let (base, req) = serve_once(200, "application/jwt", &body).await;
    let (ct, got) = fetch_userinfo(&http, &base, ACCESS).await.unwrap();
    assert!(req.await.unwrap().to_ascii_lowercase().contains(&format!(
        "authorization: bearer {}",
        ACCESS.to_ascii_lowercase()
    )));
    read(&got, &ct).unwrap();

    let (base, req) = serve_once(200, "application/json", "").await;
    revoke(&http, &base, "refresh-or-access", RP, rsa(1), now())
        .await
        .unwrap();
    let raw = req.await.unwrap();
    assert!(raw.contains("token=refresh-or-access"));
    assert!(raw.contains("client_assertion="));
    let (base, _req) = serve_once(401, "application/json", "").await;
    assert!(revoke(&http, &base, "t", RP, rsa(1), now()).await.is_err());
}
