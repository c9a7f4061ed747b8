//! SPID/CIE sign-in end to end against the real local federation of
//! `testbeds/spid-cie/` (spid-cie-oidc 1.6.3: trust anchor, SPID OP, CIE OP),
//! with Palazzo's relying party registered at the trust anchor: the Entity
//! Configuration, full headless sign-ins through the OP login and consent
//! forms on both backends, logout with revocation at the OP, and every
//! refusal of the callback (no session, wrong state, wrong `iss`, replayed
//! code and callback, OP error, provider outside the trust chain), and the
//! trust marks the bootstrap gives both OPs (verified, and required), and the
//! SPID provider list of the sign-in page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_identity::federation::{EntityStatement, HttpFetcher, TrustAnchor, resolve};
use palazzo_identity::jose::{self, JwkSet, KeyUse, RsaKeyPair};
use palazzo_services::federation::{
    FederationConfig, ProviderConfig, ProviderKind, RequiredTrustMarks, TrustAnchorConfig,
};
use palazzo_testkit::spidcie::{Citizen, Testbed, hidden_input};
use palazzo_testkit::{Backend, TestApp};
use serde_json::Value;

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            reqwest::Url::parse(&format!("http://x/?v={v}"))
                .unwrap()
                .query_pairs()
                .next()
                .unwrap()
                .1
                .into_owned()
        })
    })
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            if k == name {
                (k.into_owned(), value.to_owned())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.into()
}

/// The `palazzo` session cookie of an answer: `Some("")` when it is cleared.
fn session_set_cookie(a: &palazzo_testkit::spidcie::Answer) -> Option<String> {
    a.set_cookies.iter().find_map(|c| {
        let v = c.strip_prefix("palazzo=")?;
        Some(v.split(';').next().unwrap_or_default().to_owned())
    })
}

/// Starts a sign-in at Palazzo and returns the OP authorization URL.
async fn start(c: &mut Citizen, base: &str, kind: &str, ritorno: &str) -> String {
    let a = c
        .get(&format!("{base}/accedi/{kind}?ritorno={ritorno}"))
        .await;
    assert_eq!(a.status, 303, "start {kind}: {}", a.body);
    assert!(
        c.cookies.contains_key("palazzo"),
        "a pending session cookie"
    );
    a.location.unwrap()
}

/// A whole sign-in; returns where Palazzo sends the citizen at the end.
async fn sign_in(c: &mut Citizen, tb: &Testbed, base: &str, kind: &str, user: &str) -> String {
    let to_op = start(c, base, kind, "%2Fservizi").await;
    let back = c.login_at_op(&to_op, user).await;
    assert!(
        back.starts_with(&format!("{base}/accedi/oidc/callback?")),
        "{back}"
    );
    let done = c.get(&back).await;
    assert_eq!(done.status, 303, "callback: {}\n{}", done.body, tb.logs());
    done.location.unwrap()
}

fn default_tenant(app: &TestApp) -> palazzo_store::TenantId {
    app.app
        .tenants()
        .into_iter()
        .find(|t| t.data.is_default)
        .unwrap()
        .id
}

#[tokio::test]
async fn entity_configuration_is_signed_and_complete() {
    let anchor = FederationConfig {
        providers: vec![ProviderConfig {
            kind: ProviderKind::Spid,
            entity_id: "http://127.0.0.1:9/oidc/op".into(),
            label: String::new(),
        }],
        trust_anchors: vec![TrustAnchorConfig {
            entity_id: "http://127.0.0.1:9".into(),
            jwks: r#"{"keys": []}"#.into(),
            jwks_file: None,
        }],
        ..FederationConfig::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, 3, |addr, web| {
        web.federation = FederationConfig {
            public_base_url: format!("http://{addr}"),
            ..anchor
        };
    })
    .await;
    let base = format!("http://{}", app.addr);
    let r = reqwest::get(format!("{base}/.well-known/openid-federation"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/entity-statement+jwt"
    );
    let jwt = r.text().await.unwrap();
    let header = jose::decode_header(&jwt).unwrap();
    assert_eq!(header["typ"], "entity-statement+jwt");
    assert!(header["kid"].as_str().is_some_and(|k| !k.is_empty()));
    let ec = EntityStatement::verify_self_signed(&jwt, jiff::Timestamp::now()).unwrap();
    assert_eq!(ec.iss, base);
    assert_eq!(ec.sub, base);
    assert_eq!(ec.authority_hints, vec!["http://127.0.0.1:9".to_owned()]);
    assert!(ec.exp > ec.iat);
    let rp = &ec.metadata["openid_relying_party"];
    assert_eq!(rp["client_id"], base.as_str());
    assert_eq!(
        rp["client_registration_types"],
        serde_json::json!(["automatic"])
    );
    assert_eq!(rp["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(
        rp["redirect_uris"],
        serde_json::json!([format!("{base}/accedi/oidc/callback")])
    );
    assert_eq!(rp["response_types"], serde_json::json!(["code"]));
    assert!(rp["client_name"].as_str().unwrap().contains("Casamassima"));
    let keys = rp["jwks"]["keys"].as_array().unwrap();
    let uses: Vec<&str> = keys.iter().map(|k| k["use"].as_str().unwrap()).collect();
    assert_eq!(uses, ["sig", "enc"]);
    assert!(
        keys.iter()
            .all(|k| k["kty"] == "RSA" && k.get("d").is_none())
    );
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    let fed_kid = ec.jwks.keys[0].kid.clone().unwrap();
    assert!(keys.iter().all(|k| k["kid"] != fed_kid.as_str()));
    assert!(ec.metadata["federation_entity"]["organization_name"].is_string());

    // Keys: created once, owner-only, stable across requests.
    let dir = app.data_dir.path().join("keys/casamassima");
    for f in ["oidc-federation.pem", "oidc-sig.pem", "oidc-enc.pem"] {
        let m = std::fs::metadata(dir.join(f)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{f}");
        }
        let _ = m;
    }
    let again = reqwest::get(format!("{base}/.well-known/openid-federation"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(jose::decode_header(&again).unwrap()["kid"], header["kid"]);

    // The sign-in page offers SPID (configured) and not CIE.
    let page = reqwest::get(format!("{base}/accedi")).await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Entra con SPID"), "{html}");
    assert!(html.contains("href=\"/accedi/spid"), "{html}");
    assert!(!html.contains("Entra con CIE"));
    // Without providers there is no Entity Configuration.
    let (status, _) = {
        let plain = TestApp::spawn(Backend::Sqlite, 1).await;
        let r = plain
            .get(
                palazzo_testkit::CASAMASSIMA,
                "/.well-known/openid-federation",
            )
            .await;
        plain.stop().await;
        r
    };
    assert_eq!(status, 404);
    app.stop().await;
}

async fn full_sign_ins(backend: Backend, with_cie: bool) {
    let tb = Testbed::start();
    let app = TestApp::spawn_with(backend, 5, tb.configure()).await;
    let base = tb.register_app(&app);
    assert_eq!(base, format!("http://{}", app.addr));

    // SPID: back to where the citizen started, personal data from the OP.
    let mut mario = Citizen::new();
    let landed = sign_in(&mut mario, &tb, &base, "spid", "mario.rossi").await;
    assert_eq!(landed, "/servizi");
    let area = mario.get(&format!("{base}/area-personale")).await;
    assert_eq!(area.status, 200, "{}", area.body);
    for s in [
        "RSSMRA80A01H501U",
        "Mario",
        "Rossi",
        "SPID",
        "SPID livello 2",
    ] {
        assert!(area.body.contains(s), "personal area shows {s}");
    }

    // Logout revokes the access token at the OP.
    let token = mario.cookies["palazzo"].clone();
    let session = app
        .app
        .load_session(default_tenant(&app), &token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.record.provider.as_deref(), Some("spid"));
    // The access token is kept for logout, sealed: never in clear in the row.
    let (op, access) =
        palazzo_web::auth::federation::stored_access_token(&app.secret, &session.data)
            .expect("the sealed access token opens with the server secret");
    assert_eq!(op, tb.spid);
    let stored = serde_json::to_string(&session.data).unwrap();
    assert!(
        !stored.contains(&access),
        "no clear access token in the session row"
    );
    let userinfo = format!("{}/userinfo", tb.spid);
    let http = reqwest::Client::new();
    let before = http
        .get(&userinfo)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200, "the access token works before logout");
    let csrf = hidden_input(&area.body, "csrf").unwrap();
    let out = mario
        .post(&format!("{base}/esci"), &base, &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(session_set_cookie(&out).as_deref(), Some(""));
    let after = http
        .get(&userinfo)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 403, "revoked at the OP by logout");
    let area = mario.get(&format!("{base}/area-personale")).await;
    assert_eq!(area.status, 303, "signed out");

    if with_cie {
        // CIE: another citizen, who sees only her own data.
        let mut giulia = Citizen::new();
        let landed = sign_in(&mut giulia, &tb, &base, "cie", "giulia.bianchi").await;
        assert_eq!(landed, "/servizi");
        let area = giulia.get(&format!("{base}/area-personale")).await;
        assert_eq!(area.status, 200);
        for s in [
            "BNCGLI85L55F205B",
            "Giulia",
            "Bianchi",
            "CIE",
            "SPID livello 2",
        ] {
            assert!(area.body.contains(s), "CIE personal area shows {s}");
        }
        assert!(!area.body.contains("RSSMRA80A01H501U"));
    }
    app.stop().await;
}

#[tokio::test]
async fn spid_and_cie_sign_in_end_to_end_sqlite() {
    full_sign_ins(Backend::Sqlite, true).await;
}

#[tokio::test]
async fn spid_sign_in_end_to_end_postgres() {
    full_sign_ins(Backend::Postgres, false).await;
}

/// Asserts an Italian refusal page with `code`, and no live session.
async fn assert_refused(
    c: &mut Citizen,
    base: &str,
    a: &palazzo_testkit::spidcie::Answer,
    status: u16,
    code: &str,
) {
    assert_eq!(a.status, status, "{code}: {}", a.body);
    assert!(a.body.contains(code), "page names {code}: {}", a.body);
    assert!(a.body.contains("lang=\"it\""), "an Italian page");
    assert!(
        session_set_cookie(a).is_none_or(|v| v.is_empty()),
        "{code}: no session cookie is set"
    );
    let area = c.get(&format!("{base}/area-personale")).await;
    assert_eq!(area.status, 303, "{code}: not signed in");
}

#[tokio::test]
async fn bad_callbacks_are_refused_without_a_session() {
    let tb = Testbed::start();
    let app = TestApp::spawn_with(Backend::Sqlite, 3, tb.configure()).await;
    let base = tb.register_app(&app);
    let cb = format!("{base}/accedi/oidc/callback");

    // A callback without any session.
    let mut c = Citizen::new();
    let a = c.get(&format!("{cb}?code=abc&state=def")).await;
    assert_refused(&mut c, &base, &a, 400, "oidc_no_session").await;

    // Wrong state; then the genuine callback finds its sign-in spent.
    let mut c = Citizen::new();
    let to_op = start(&mut c, &base, "spid", "%2Fservizi").await;
    let back = c.login_at_op(&to_op, "mario.rossi").await;
    let a = c
        .get(&with_param(&back, "state", "x".repeat(43).as_str()))
        .await;
    assert_refused(&mut c, &base, &a, 403, "oidc_state_mismatch").await;
    let a = c.get(&back).await;
    assert_refused(&mut c, &base, &a, 400, "oidc_no_session").await;

    // Tampered iss (the other OP).
    let mut c = Citizen::new();
    let to_op = start(&mut c, &base, "spid", "%2F").await;
    let back = c.login_at_op(&to_op, "mario.rossi").await;
    assert_eq!(query_param(&back, "iss").as_deref(), Some(tb.spid.as_str()));
    let a = c.get(&with_param(&back, "iss", &tb.cie)).await;
    assert_refused(&mut c, &base, &a, 403, "oidc_wrong_issuer").await;

    // CIE without iss.
    let mut c = Citizen::new();
    let to_op = start(&mut c, &base, "cie", "%2F").await;
    let back = c.login_at_op(&to_op, "anna.esposito").await;
    let no_iss = reqwest::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| format!("{k}={}", v))
        .collect::<Vec<_>>()
        .join("&");
    let a = c.get(&format!("{cb}?{no_iss}")).await;
    assert_refused(&mut c, &base, &a, 403, "oidc_wrong_issuer").await;

    // The OP reports an error (the citizen does not consent).
    let mut c = Citizen::new();
    let to_op = start(&mut c, &base, "spid", "%2F").await;
    let back = c.refuse_at_op(&to_op).await;
    assert!(query_param(&back, "error").is_some(), "{back}");
    let a = c.get(&back).await;
    assert_refused(&mut c, &base, &a, 403, "oidc_op_error").await;

    // Replays: the same callback again, and the spent code with a fresh state.
    let mut c = Citizen::new();
    let to_op = start(&mut c, &base, "spid", "%2F").await;
    let back = c.login_at_op(&to_op, "giulia.bianchi").await;
    let ok = c.get(&back).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let mut thief = Citizen::new();
    let a = thief.get(&back).await;
    assert_refused(&mut thief, &base, &a, 400, "oidc_no_session").await;
    let a = c.get(&back).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("oidc_no_pending"));
    let to_op = start(&mut c, &base, "spid", "%2F").await;
    let request = query_param(&to_op, "request").unwrap();
    let claims: Value =
        serde_json::from_slice(&jose::decode_unverified_payload(&request).unwrap()).unwrap();
    let replay = with_param(&back, "state", claims["state"].as_str().unwrap());
    let a = c.get(&replay).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("oidc_token_refused"), "{}", a.body);
    app.stop().await;
}

#[tokio::test]
async fn providers_outside_the_trust_chain_are_refused_before_redirecting() {
    let tb = Testbed::start();
    // A foreign federation: the anchor's entity id with keys it does not hold.
    let stranger = RsaKeyPair::generate(2048).unwrap();
    let foreign = serde_json::json!({"keys": [stranger.to_public_jwk(KeyUse::Sig)]});
    let app = TestApp::spawn_with(Backend::Sqlite, 3, |addr, web| {
        let mut f = tb.federation_config(&format!("http://{addr}"));
        f.trust_anchors[0].jwks = foreign.to_string();
        web.federation = f;
    })
    .await;
    let base = tb.register_app(&app);
    let mut c = Citizen::new();
    let a = c.get(&format!("{base}/accedi/spid")).await;
    assert_refused(&mut c, &base, &a, 403, "oidc_untrusted_provider").await;
    assert!(a.location.is_none());
    assert!(!c.cookies.contains_key("palazzo"));
    app.stop().await;

    // An OP the trust anchor does not know (no subordinate statement).
    let app = TestApp::spawn_with(Backend::Sqlite, 3, |addr, web| {
        let mut f = tb.federation_config(&format!("http://{addr}"));
        f.providers[1].entity_id = format!("{}/oidc/sconosciuto", tb.trust_anchor);
        web.federation = f;
    })
    .await;
    let base = tb.register_app(&app);
    let mut c = Citizen::new();
    let a = c.get(&format!("{base}/accedi/cie")).await;
    assert_refused(&mut c, &base, &a, 403, "oidc_untrusted_provider").await;
    assert!(!c.cookies.contains_key("palazzo"));
    app.stop().await;
}

/// The trust mark id the bootstrap gives both OPs (`fedlib.PROFILE_OP_PUBLIC`).
const OP_TRUST_MARK: &str = "https://127.0.0.1/openid_provider/public";

#[tokio::test]
async fn trust_marks_of_the_testbed_ops_are_verified_and_can_be_required() {
    let tb = Testbed::start();
    // Both OPs carry a trust mark issued by the trust anchor (which lists
    // itself in `trust_mark_issuers`): it verifies with the anchor's keys.
    let anchors = [TrustAnchor {
        entity_id: tb.trust_anchor.clone(),
        jwks: JwkSet::from_value(&tb.trust_anchor_jwks).unwrap(),
    }];
    let fetcher = HttpFetcher::new().unwrap();
    for op in [&tb.spid, &tb.cie] {
        let chain = resolve(op, &anchors, &fetcher, jiff::Timestamp::now())
            .await
            .unwrap();
        assert_eq!(
            chain.trust_mark_ids().collect::<Vec<_>>(),
            [OP_TRUST_MARK],
            "{op}: {:?}",
            chain.rejected_trust_marks
        );
        assert_eq!(chain.trust_marks[0].iss, tb.trust_anchor);
        assert!(chain.rejected_trust_marks.is_empty());
    }

    // Required: SPID asks for the mark the OP holds, CIE for one it lacks.
    let app = TestApp::spawn_with(Backend::Sqlite, 3, |addr, web| {
        let mut f = tb.federation_config(&format!("http://{addr}"));
        f.required_trust_marks = RequiredTrustMarks {
            spid: vec!["https://127.0.0.1/altro".into(), OP_TRUST_MARK.into()],
            cie: vec!["https://127.0.0.1/openid_provider/eccellenza".into()],
        };
        web.federation = f;
    })
    .await;
    let base = tb.register_app(&app);
    let mut c = Citizen::new();
    let to_op = start(&mut c, &base, "spid", "%2F").await;
    assert!(
        to_op.starts_with(&format!("{}/authorization?", tb.spid)),
        "{to_op}"
    );
    let mut c = Citizen::new();
    let a = c.get(&format!("{base}/accedi/cie")).await;
    assert_refused(&mut c, &base, &a, 403, "oidc_trust_mark_missing").await;
    assert!(a.location.is_none(), "refused before any redirect");
    assert!(!c.cookies.contains_key("palazzo"));
    app.stop().await;
}

#[tokio::test]
async fn several_spid_providers_are_listed_behind_the_spid_button() {
    let op = |n: u16| format!("http://127.0.0.1:9/oidc/op{n}");
    let app = TestApp::spawn_with(Backend::Sqlite, 3, |addr, web| {
        web.federation = FederationConfig {
            public_base_url: format!("http://{addr}"),
            providers: vec![
                ProviderConfig {
                    kind: ProviderKind::Spid,
                    entity_id: op(1),
                    label: "Primo & ID".into(),
                },
                ProviderConfig {
                    kind: ProviderKind::Spid,
                    entity_id: op(2),
                    label: String::new(),
                },
                ProviderConfig {
                    kind: ProviderKind::Cie,
                    entity_id: op(3),
                    label: "CIE id".into(),
                },
            ],
            trust_anchors: vec![TrustAnchorConfig {
                entity_id: "http://127.0.0.1:9".into(),
                jwks: r#"{"keys": []}"#.into(),
                jwks_file: None,
            }],
            ..FederationConfig::default()
        };
    })
    .await;
    let base = format!("http://{}", app.addr);
    let html = reqwest::get(format!("{base}/accedi?ritorno=%2Fservizi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The SPID button opens the list (no JavaScript: <details>/<summary>).
    let menu = html
        .split_once("<details class=\"spid-idp-menu\">")
        .expect("the SPID button is a disclosure")
        .1
        .split_once("</details>")
        .unwrap()
        .0;
    assert!(menu.contains("<summary class=\"italia-it-button"), "{menu}");
    assert!(menu.contains("Entra con SPID"));
    let list = menu
        .split_once("data-element=\"spid-idp-list\">")
        .unwrap()
        .1
        .split_once("</ul>")
        .unwrap()
        .0;
    let mut links: Vec<(String, String)> = list
        .split("<a href=\"")
        .skip(1)
        .map(|a| {
            let (href, rest) = a.split_once('"').unwrap();
            let label = rest
                .split_once('>')
                .unwrap()
                .1
                .split_once("</a>")
                .unwrap()
                .0;
            let unescape = |s: &str| s.replace("&#38;", "&").replace("&amp;", "&");
            (unescape(href), unescape(label))
        })
        .collect();
    links.sort();
    let enc = op_query;
    assert_eq!(
        links,
        [
            (
                format!("/accedi/spid?{}&ritorno=%2Fservizi", enc(&op(1))),
                "Primo & ID".to_owned()
            ),
            (
                format!("/accedi/spid?{}&ritorno=%2Fservizi", enc(&op(2))),
                "127.0.0.1".to_owned()
            ),
        ],
        "each SPID provider by its label (else its host), never the CIE one"
    );
    // The CIE button, alone of its kind, still links directly.
    assert!(
        html.contains("href=\"/accedi/cie?ritorno=%2Fservizi\""),
        "{html}"
    );
    // A listed link starts that provider's sign-in (here: refused, since the
    // fake OP cannot be reached, but for the chosen provider).
    let (href, _) = &links[1];
    let r = app
        .client()
        .get(format!("{base}{href}"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.status(),
        404,
        "the op parameter names a configured provider"
    );
    let r = app
        .client()
        .get(format!(
            "{base}/accedi/spid?op=http%3A%2F%2F127.0.0.1%3A9%2Foidc%2Fop3"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a CIE provider is not a SPID one");
    app.stop().await;
}

/// `op=<entity id>`, form-encoded.
fn op_query(entity_id: &str) -> String {
    let mut u = reqwest::Url::parse("http://x/").unwrap();
    u.query_pairs_mut().append_pair("op", entity_id);
    u.query().unwrap().to_owned()
}
