//! Who a sign-in is: profiles are found by identity link, and by codice
//! fiscale only for identities that prove one (SPID, CIE). The comune's
//! staff directory can never reach a citizen's profile by stating their
//! codice fiscale, before or after the citizen's first sign-in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::ids::CodiceFiscale;
use palazzo_services::access::VerifiedIdentity;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::{App, ServiceError};
use palazzo_store::Store;
use palazzo_store::conformance::tenant_fixture;
use palazzo_testkit::TempDir;

fn identity(provider: &str, issuer: &str, subject: &str, cf: &str) -> VerifiedIdentity {
    VerifiedIdentity {
        provider: provider.into(),
        issuer: issuer.into(),
        subject: subject.into(),
        acr: None,
        codice_fiscale: Some(CodiceFiscale::parse(cf).unwrap()),
        given_name: "Mario".into(),
        family_name: "Rossi".into(),
        birth_date: None,
        birth_place: None,
        email: None,
        phone: None,
    }
}

#[tokio::test]
async fn only_national_identities_link_by_codice_fiscale() {
    let dir = TempDir::new("identities");
    let db = Db::open_sqlite(&dir.path().join("p.db")).await.unwrap();
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    let t = app.create_tenant(tenant_fixture(1)).await.unwrap().id;
    let cf = "RSSMRA80A01H501U";

    // The staff directory states a citizen's codice fiscale first: it gets a
    // profile of its own, without the codice fiscale.
    let staff = app
        .record_sign_in(
            t,
            &identity("oidc", "https://idp.comune.example", "emp-1", cf),
        )
        .await
        .unwrap();
    assert_eq!(staff.data.codice_fiscale, None);
    // The citizen signs in with SPID: a different profile, with the code.
    let spid = app
        .record_sign_in(
            t,
            &identity("spid", "https://op.example/spid", "pairwise-1", cf),
        )
        .await
        .unwrap();
    assert_ne!(spid.id, staff.id);
    assert_eq!(
        spid.data.codice_fiscale.as_ref().map(|c| c.as_str()),
        Some(cf)
    );
    // The same person with CIE: the same profile, found by codice fiscale.
    let cie = app
        .record_sign_in(
            t,
            &identity("cie", "https://op.example/cie", "pairwise-2", cf),
        )
        .await
        .unwrap();
    assert_eq!(cie.id, spid.id);
    assert_eq!(app.db().identity_links(t, spid.id).await.unwrap().len(), 2);
    // The staff directory again, now that the citizen exists: still apart.
    let again = app
        .record_sign_in(
            t,
            &identity("oidc", "https://idp.comune.example", "emp-1", cf),
        )
        .await
        .unwrap();
    assert_eq!(again.id, staff.id);
    assert_eq!(again.data.codice_fiscale, None);
    // A national identity whose link points at a profile with another code
    // is refused, and changes nothing.
    let other = app
        .record_sign_in(
            t,
            &identity(
                "spid",
                "https://op.example/spid",
                "pairwise-1",
                "BNCGLI85L55F205B",
            ),
        )
        .await;
    assert!(
        matches!(
            &other,
            Err(ServiceError::Invalid {
                code: "identity_mismatch",
                ..
            })
        ),
        "{other:?}"
    );
    let kept = app.db().user(t, spid.id).await.unwrap().unwrap();
    assert_eq!(
        kept.data.codice_fiscale.as_ref().map(|c| c.as_str()),
        Some(cf)
    );
    app.db().close().await;
}
