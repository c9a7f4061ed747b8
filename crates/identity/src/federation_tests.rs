#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use super::*;
use crate::testutil::{now, rsa};

const TA: &str = "https://ta.example.it";
const IA: &str = "https://aggregatore.example.it";
const OP: &str = "https://op.example.it/oidc/op";

struct MapFetcher(HashMap<String, (String, String)>);

impl Fetcher for MapFetcher {
    async fn get(&self, url: &str) -> Result<(String, String), HttpError> {
        self.0.get(url).cloned().ok_or(HttpError::Status(404))
    }
}

fn jwks(i: usize) -> JwkSet {
    JwkSet {
        keys: vec![rsa(i).to_public_jwk(KeyUse::Sig)],
    }
}

fn statement(iss: &str, sub: &str, key: usize, body: Value) -> String {
    let t = now().as_second();
    let mut claims = json!({"iss": iss, "sub": sub, "iat": t - 10, "exp": t + 3600});
    for (k, v) in body.as_object().unwrap() {
        claims[k] = v.clone();
    }
    jose::sign_claims(
        Some(ENTITY_STATEMENT_TYP),
        claims.as_object().unwrap(),
        rsa(key),
    )
    .unwrap()
}

fn fed_entity(id: &str) -> Value {
    json!({"federation_fetch_endpoint": format!("{id}/fetch"), "organization_name": id})
}

struct Opts {
    intermediate: bool,
    max_path_length: u32,
    op_ec_key: usize,
    pinned_op_key: usize,
    ta_signs_with: usize,
    sub_exp: Option<i64>,
    leaf_exp: Option<i64>,
    ta_policy: Value,
    ia_policy: Value,
    content_type: &'static str,
    op_trust_marks: Vec<Value>,
    ta_trust_mark_issuers: Value,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            intermediate: false,
            max_path_length: 1,
            op_ec_key: 5,
            pinned_op_key: 5,
            ta_signs_with: 3,
            sub_exp: None,
            leaf_exp: None,
            ta_policy: json!({"openid_provider": {
                "id_token_signing_alg_values_supported": {"subset_of": ["RS256", "RS512"]},
                "contacts": {"add": ["federazione@ta.example.it"]},
            }}),
            ia_policy: json!({}),
            content_type: ENTITY_STATEMENT_CONTENT_TYPE,
            op_trust_marks: Vec::new(),
            ta_trust_mark_issuers: json!({}),
        }
    }
}

fn op_metadata() -> Value {
    json!({
        "openid_provider": {
            "issuer": OP,
            "authorization_endpoint": format!("{OP}/authorization"),
            "token_endpoint": format!("{OP}/token"),
            "userinfo_endpoint": format!("{OP}/userinfo"),
            "revocation_endpoint": format!("{OP}/revocation"),
            "jwks": {"keys": [rsa(6).to_public_jwk(KeyUse::Sig)]},
            "id_token_signing_alg_values_supported": ["RS256", "RS512", "ES256"],
            "contacts": ["op@example.it"],
        },
        "federation_entity": {"organization_name": "OP"},
    })
}

fn federation(o: &Opts) -> MapFetcher {
    let mut docs = HashMap::new();
    let mut put = |url: String, token: String| {
        docs.insert(url, (o.content_type.to_owned(), token));
    };
    let superior = if o.intermediate { IA } else { TA };
    let mut leaf = json!({
        "jwks": jwks(o.op_ec_key), "authority_hints": [superior], "metadata": op_metadata(),
    });
    if let Some(exp) = o.leaf_exp {
        leaf["exp"] = exp.into();
    }
    if !o.op_trust_marks.is_empty() {
        leaf["trust_marks"] = Value::Array(o.op_trust_marks.clone());
    }
    put(
        entity_configuration_url(OP),
        statement(OP, OP, o.op_ec_key, leaf),
    );
    put(
        entity_configuration_url(TA),
        statement(
            TA,
            TA,
            3,
            json!({"jwks": jwks(3), "metadata": {"federation_entity": fed_entity(TA)},
                   "constraints": {"max_path_length": o.max_path_length},
                   "trust_mark_issuers": o.ta_trust_mark_issuers}),
        ),
    );
    let mut about_op = json!({"jwks": jwks(o.pinned_op_key), "metadata_policy": if o.intermediate { o.ia_policy.clone() } else { o.ta_policy.clone() }, "source_endpoint": format!("{superior}/fetch")});
    if let Some(exp) = o.sub_exp {
        about_op["exp"] = exp.into();
    }
    if o.intermediate {
        put(
            entity_configuration_url(IA),
            statement(
                IA,
                IA,
                4,
                json!({"jwks": jwks(4), "authority_hints": [TA], "metadata": {"federation_entity": fed_entity(IA)}}),
            ),
        );
        put(
            format!("{IA}/fetch?sub={}", enc(OP)),
            statement(IA, OP, 4, about_op),
        );
        put(
            format!("{TA}/fetch?sub={}", enc(IA)),
            statement(
                TA,
                IA,
                o.ta_signs_with,
                json!({"jwks": jwks(4), "metadata_policy": o.ta_policy}),
            ),
        );
    } else {
        put(
            format!("{TA}/fetch?sub={}", enc(OP)),
            statement(TA, OP, o.ta_signs_with, about_op),
        );
    }
    MapFetcher(docs)
}

fn enc(s: &str) -> String {
    let mut u = reqwest::Url::parse("https://x/").unwrap();
    u.query_pairs_mut().append_pair("sub", s);
    u.query().unwrap()["sub=".len()..].to_owned()
}

fn anchors() -> Vec<TrustAnchor> {
    vec![TrustAnchor {
        entity_id: TA.into(),
        jwks: jwks(3),
    }]
}

fn run(o: &Opts) -> Result<TrustChain> {
    run_with(o, &anchors())
}

fn run_with(o: &Opts, anchors: &[TrustAnchor]) -> Result<TrustChain> {
    let f = federation(o);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(resolve(OP, anchors, &f, now()))
}

fn code(r: Result<TrustChain>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn resolves_direct_chain_and_applies_policy() {
    let chain = run(&Opts::default()).unwrap();
    assert_eq!(chain.statements.len(), 3);
    assert_eq!(chain.trust_anchor, TA);
    assert_eq!(chain.leaf.sub, OP);
    let op = &chain.resolved_metadata["openid_provider"];
    assert_eq!(
        op["id_token_signing_alg_values_supported"],
        json!(["RS256", "RS512"])
    );
    assert_eq!(
        op["contacts"],
        json!(["op@example.it", "federazione@ta.example.it"])
    );
    assert_eq!(chain.expires_at.as_second(), now().as_second() + 3600);
    let info = chain.openid_provider().unwrap();
    assert_eq!(info.issuer, OP);
    assert_eq!(info.token_endpoint, format!("{OP}/token"));
    assert_eq!(info.jwks.keys[0].kid.as_deref(), Some(rsa(6).kid()));
}

#[test]
fn resolves_through_an_intermediate_and_combines_policies() {
    let o = Opts {
        intermediate: true,
        ia_policy: json!({"openid_provider": {
            "id_token_signing_alg_values_supported": {"subset_of": ["RS256", "ES256"]},
            "scopes_supported": {"default": ["openid"]},
        }}),
        sub_exp: Some(now().as_second() + 600),
        ..Opts::default()
    };
    let chain = run(&o).unwrap();
    assert_eq!(
        chain.statements.len(),
        4,
        "leaf EC, two subordinate statements, TA EC"
    );
    let op = &chain.resolved_metadata["openid_provider"];
    assert_eq!(
        op["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(op["scopes_supported"], json!(["openid"]));
    assert_eq!(chain.expires_at.as_second(), now().as_second() + 600);
}

#[test]
fn refuses_chain_longer_than_max_path_length() {
    let o = Opts {
        intermediate: true,
        max_path_length: 0,
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.path_too_long");
}

#[test]
fn refuses_chain_not_reaching_a_configured_anchor() {
    let other = vec![TrustAnchor {
        entity_id: "https://other-ta.example.it".into(),
        jwks: jwks(3),
    }];
    assert_eq!(
        code(run_with(&Opts::default(), &other)),
        "identity.federation.no_trust_anchor"
    );
}

#[test]
fn refuses_anchor_whose_configuration_does_not_match_configured_keys() {
    let wrong = vec![TrustAnchor {
        entity_id: TA.into(),
        jwks: jwks(7),
    }];
    assert_eq!(
        code(run_with(&Opts::default(), &wrong)),
        "identity.federation.bad_signature"
    );
}

#[test]
fn refuses_expired_statements() {
    let past = Some(now().as_second() - 3600);
    let o = Opts {
        sub_exp: past,
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.expired");
    let o = Opts {
        leaf_exp: past,
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.expired");
}

#[test]
fn refuses_bad_signatures_and_unpinned_keys() {
    // The TA's statement about the OP is signed with a key the TA does not publish.
    let o = Opts {
        ta_signs_with: 7,
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.bad_signature");
    // The TA pins another key for the OP than the one the OP signs with.
    let o = Opts {
        pinned_op_key: 7,
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.bad_signature");
    // Same through an intermediate.
    let o = Opts {
        intermediate: true,
        ta_signs_with: 7,
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.bad_signature");
}

#[test]
fn refuses_wrong_content_type_and_missing_documents() {
    let o = Opts {
        content_type: "application/json",
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.fetch");
    let f = MapFetcher(HashMap::new());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = rt.block_on(resolve(OP, &anchors(), &f, now()));
    assert_eq!(code(r), "identity.federation.fetch");
}

#[test]
fn refuses_metadata_violating_policy() {
    let o = Opts {
        ta_policy: json!({"openid_provider": {"request_object_signing_alg_values_supported": {"essential": true}}}),
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.policy_violation");
    let o = Opts {
        intermediate: true,
        ta_policy: json!({"openid_provider": {"token_endpoint": {"value": "https://a/token"}}}),
        ia_policy: json!({"openid_provider": {"token_endpoint": {"value": "https://b/token"}}}),
        ..Opts::default()
    };
    assert_eq!(code(run(&o)), "identity.federation.policy_conflict");
}

#[test]
fn policy_operators() {
    let mut md = json!({"t": {"a": "x", "b": ["1", "2", "3"], "c": ["p"], "drop": 1}})
        .as_object()
        .unwrap()
        .clone();
    let sup = json!({"t": {
        "a": {"one_of": ["x", "y"]},
        "b": {"subset_of": ["1", "2", "9"]},
        "c": {"add": ["q"], "superset_of": ["p"]},
        "d": {"default": 5},
        "drop": {"value": null},
    }});
    let sub = json!({"t": {"b": {"subset_of": ["2", "3"]}, "c": {"essential": true}}});
    let combined = combine_policies(sup.as_object().unwrap(), sub.as_object().unwrap()).unwrap();
    assert_eq!(combined["t"]["b"]["subset_of"], json!(["2"]));
    apply_policies(&mut md, &combined).unwrap();
    assert_eq!(
        Value::Object(md),
        json!({"t": {"a": "x", "b": ["2"], "c": ["p", "q"], "d": 5}})
    );

    let mut md = json!({"t": {"a": "z"}}).as_object().unwrap().clone();
    let p = json!({"t": {"a": {"one_of": ["x"]}}});
    assert!(apply_policies(&mut md, p.as_object().unwrap()).is_err());
    let p1 = json!({"t": {"a": {"one_of": ["x"]}}});
    let p2 = json!({"t": {"a": {"one_of": ["y"]}}});
    assert!(combine_policies(p1.as_object().unwrap(), p2.as_object().unwrap()).is_err());
}

fn rp_config() -> RpEntityConfig {
    RpEntityConfig {
        entity_id: "https://comune.example.it".into(),
        authority_hints: vec![TA.into()],
        trust_marks: vec![json!({"id": "https://ta.example.it/sp-public", "trust_mark": "x.y.z"})],
        redirect_uris: vec!["https://comune.example.it/oidc/rp/callback".into()],
        client_name: "Comune di Esempio".into(),
        organization_name: "Comune di Esempio".into(),
        contacts: vec!["protocollo@comune.example.it".into()],
        homepage_uri: "https://comune.example.it".into(),
        policy_uri: "https://comune.example.it/privacy".into(),
        lifetime_secs: 86_400,
    }
}

#[test]
fn rp_entity_configuration() {
    let keys = RpKeys {
        federation: rsa(0),
        sig: rsa(1),
        enc: rsa(2),
    };
    let token = rp_config().sign(keys, now()).unwrap();
    let header = jose::decode_header(&token).unwrap();
    assert_eq!(header["typ"], ENTITY_STATEMENT_TYP);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], rsa(0).kid());
    let ec = EntityStatement::verify_self_signed(&token, now()).unwrap();
    assert_eq!(ec.iss, "https://comune.example.it");
    assert_eq!(ec.sub, ec.iss);
    assert_eq!(ec.authority_hints, vec![TA.to_owned()]);
    assert_eq!(ec.trust_marks.len(), 1);
    assert_eq!(ec.jwks.keys.len(), 1);
    assert!(!ec.jwks.keys[0].is_private());
    let rp = &ec.metadata["openid_relying_party"];
    assert_eq!(rp["client_id"], ec.iss.as_str());
    assert_eq!(rp["client_registration_types"], json!(["automatic"]));
    assert_eq!(rp["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(rp["response_types"], json!(["code"]));
    assert_eq!(
        rp["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(rp["userinfo_encrypted_response_alg"], "RSA-OAEP");
    assert_eq!(rp["userinfo_encrypted_response_enc"], "A256CBC-HS512");
    let core = JwkSet::from_value(&rp["jwks"]).unwrap();
    let uses: Vec<_> = core
        .keys
        .iter()
        .map(|k| k.use_.as_deref().unwrap())
        .collect();
    assert_eq!(uses, ["sig", "enc"]);
    assert!(
        !core.shares_key_with(&ec.jwks),
        "core keys are distinct from the federation key"
    );
    assert_ne!(core.keys[0].kid, core.keys[1].kid);
    assert!(core.keys.iter().all(|k| !k.is_private()));
    assert_eq!(
        ec.metadata["federation_entity"]["policy_uri"],
        "https://comune.example.it/privacy"
    );

    let mut bad = rp_config();
    bad.entity_id.push('/');
    assert_eq!(
        bad.sign(keys, now()).unwrap_err().code(),
        "identity.federation.config"
    );
    let same = RpKeys {
        federation: rsa(0),
        sig: rsa(0),
        enc: rsa(2),
    };
    assert!(rp_config().sign(same, now()).is_err());
}

#[test]
fn entity_statement_checks() {
    // Wrong typ.
    let t = now().as_second();
    let claims = json!({"iss": TA, "sub": TA, "iat": t, "exp": t + 60, "jwks": jwks(3)});
    let token = jose::sign_claims(Some("JWT"), claims.as_object().unwrap(), rsa(3)).unwrap();
    assert_eq!(
        EntityStatement::verify_self_signed(&token, now())
            .unwrap_err()
            .code(),
        "identity.federation.bad_statement"
    );
    // iss != sub for a configuration.
    let token = statement(TA, OP, 3, json!({"jwks": jwks(3)}));
    assert!(EntityStatement::verify_self_signed(&token, now()).is_err());
    assert!(EntityStatement::verify_with(&token, &jwks(3), now()).is_ok());
    // Self-signed but with keys other than the ones it carries.
    let token = statement(TA, TA, 3, json!({"jwks": jwks(4)}));
    assert_eq!(
        EntityStatement::verify_self_signed(&token, now())
            .unwrap_err()
            .code(),
        "identity.federation.bad_signature"
    );
}

#[test]
fn skips_loops_and_dead_hints() {
    let mut f = federation(&Opts::default());
    let leaf = json!({
        "jwks": jwks(5), "authority_hints": [OP, "https://gone.example.it", TA], "metadata": op_metadata(),
    });
    f.0.insert(
        entity_configuration_url(OP),
        (
            ENTITY_STATEMENT_CONTENT_TYPE.into(),
            statement(OP, OP, 5, leaf),
        ),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let chain = rt.block_on(resolve(OP, &anchors(), &f, now())).unwrap();
    assert_eq!(chain.trust_anchor, TA);
    // Only dead hints: the fetch error is reported.
    let leaf = json!({"jwks": jwks(5), "authority_hints": ["https://gone.example.it"], "metadata": op_metadata()});
    f.0.insert(
        entity_configuration_url(OP),
        (
            ENTITY_STATEMENT_CONTENT_TYPE.into(),
            statement(OP, OP, 5, leaf),
        ),
    );
    let err = rt.block_on(resolve(OP, &anchors(), &f, now())).unwrap_err();
    assert_eq!(err.code(), "identity.federation.fetch");
}

const MARK: &str = "https://ta.example.it/openid_provider/public";

struct Mark {
    iss: &'static str,
    sub: &'static str,
    key: usize,
    claim_id: &'static str,
    exp: Option<i64>,
    iat: i64,
    typ: Option<&'static str>,
}

impl Default for Mark {
    fn default() -> Self {
        Mark {
            iss: TA,
            sub: OP,
            key: 3,
            claim_id: MARK,
            exp: None,
            iat: now().as_second() - 100,
            typ: Some(TRUST_MARK_TYP),
        }
    }
}

/// A trust mark entry as spid-cie-oidc writes it in an Entity Configuration.
fn mark(m: Mark) -> Value {
    let mut claims = json!({"iss": m.iss, "sub": m.sub, "iat": m.iat,
        "trust_mark_type": m.claim_id, "trust_mark_id": m.claim_id,
        "organization_type": "public"});
    if let Some(exp) = m.exp {
        claims["exp"] = exp.into();
    }
    let jws = jose::sign_claims(m.typ, claims.as_object().unwrap(), rsa(m.key)).unwrap();
    json!({"id": MARK, "trust_mark_type": MARK, "trust_mark": jws})
}

fn reasons(chain: &TrustChain) -> Vec<&'static str> {
    chain
        .rejected_trust_marks
        .iter()
        .map(|r| r.reason)
        .collect()
}

#[test]
fn trust_mark_issued_by_the_anchor_is_valid() {
    let o = Opts {
        op_trust_marks: vec![mark(Mark::default())],
        ..Opts::default()
    };
    let chain = run(&o).unwrap();
    assert_eq!(chain.trust_mark_ids().collect::<Vec<_>>(), [MARK]);
    assert!(chain.has_trust_mark(MARK));
    assert_eq!(chain.trust_marks[0].iss, TA);
    assert!(chain.rejected_trust_marks.is_empty());
    // Listed explicitly in trust_mark_issuers, and not yet expired: still valid.
    let o = Opts {
        op_trust_marks: vec![mark(Mark {
            exp: Some(now().as_second() + 60),
            typ: None,
            ..Mark::default()
        })],
        ta_trust_mark_issuers: json!({ MARK: [TA] }),
        ..Opts::default()
    };
    assert!(run(&o).unwrap().has_trust_mark(MARK));
}

#[test]
fn trust_mark_issued_by_an_allowed_intermediate_is_valid() {
    let o = Opts {
        intermediate: true,
        op_trust_marks: vec![mark(Mark {
            iss: IA,
            key: 4,
            ..Mark::default()
        })],
        ta_trust_mark_issuers: json!({ MARK: [IA] }),
        ..Opts::default()
    };
    let chain = run(&o).unwrap();
    assert!(chain.has_trust_mark(MARK), "{:?}", reasons(&chain));
    // The same issuer, not listed by the anchor for this id.
    let o = Opts {
        ta_trust_mark_issuers: json!({ "https://other/id": [IA] }),
        ..o
    };
    let chain = run(&o).unwrap();
    assert!(!chain.has_trust_mark(MARK));
    assert_eq!(
        reasons(&chain),
        ["issuer not allowed by the trust anchor for this id"]
    );
}

#[test]
fn invalid_trust_marks_are_ignored_with_a_reason() {
    let cases = [
        (
            Mark {
                key: 7,
                ..Mark::default()
            },
            json!({}),
            "signature does not verify with the issuer's keys",
        ),
        (
            Mark {
                sub: "https://other-op.example.it",
                ..Mark::default()
            },
            json!({}),
            "trust mark about another entity",
        ),
        (
            Mark {
                exp: Some(now().as_second() - 3600),
                ..Mark::default()
            },
            json!({}),
            "expired",
        ),
        (
            Mark {
                iat: now().as_second() + 3600,
                ..Mark::default()
            },
            json!({}),
            "issued in the future",
        ),
        (
            Mark {
                iss: "https://stranger.example.it",
                key: 7,
                ..Mark::default()
            },
            json!({}),
            "issuer not allowed by the trust anchor for this id",
        ),
        (
            // Allowed by the anchor, but not in the chain: not fetched, not trusted.
            Mark {
                iss: "https://stranger.example.it",
                key: 7,
                ..Mark::default()
            },
            json!({ MARK: ["https://stranger.example.it"] }),
            "issuer outside the trust chain",
        ),
        (
            Mark {
                claim_id: "https://ta.example.it/other",
                ..Mark::default()
            },
            json!({}),
            "the trust mark's id differs from its entry's id",
        ),
        (
            Mark {
                typ: Some("JWT"),
                ..Mark::default()
            },
            json!({}),
            "typ is not trust-mark+jwt",
        ),
        (
            // The OP signs a mark about itself in the anchor's name.
            Mark {
                key: 5,
                ..Mark::default()
            },
            json!({}),
            "signature does not verify with the issuer's keys",
        ),
    ];
    for (m, issuers, reason) in cases {
        let o = Opts {
            op_trust_marks: vec![mark(m), json!("x.y.z"), json!({"id": MARK})],
            ta_trust_mark_issuers: issuers,
            ..Opts::default()
        };
        let chain = run(&o).unwrap();
        assert!(chain.trust_marks.is_empty(), "{reason}");
        assert_eq!(
            reasons(&chain),
            [
                reason,
                "entry is not an object",
                "entry without a trust_mark JWS"
            ]
        );
        assert_eq!(chain.rejected_trust_marks[0].id.as_deref(), Some(MARK));
    }
}
