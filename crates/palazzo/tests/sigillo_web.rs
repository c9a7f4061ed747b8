//! The published trust list (issue 5, part 4; DECISIONS 18) over HTTP on
//! both backends, and `palazzo keys rotate|list`: anyone fetches the
//! comune's COSE-signed list and the key that signs it; the list verifies
//! with that key, names the comune and lists its seal keys; each comune
//! has its own; after a rotation the list has both keys, the old one
//! retired.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_seal::cose::PublicKey;
use palazzo_seal::trust::TrustList;
use palazzo_testkit::{ACQUAVIVA, Backend, CASAMASSIMA, TestApp};

async fn fetch(app: &TestApp, host: &str, path: &str) -> (u16, String, Vec<u8>) {
    let r = app.client().get(app.url(host, path)).send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), ct, r.bytes().await.unwrap().to_vec())
}

fn spki_of_pem(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8(pem.to_vec()).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

async fn list_of(app: &TestApp, host: &str) -> TrustList {
    let (status, ct, bytes) = fetch(app, host, "/.well-known/palazzo/trust-list").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/cose"), "{ct}");
    let (status, _, pem) = fetch(app, host, "/.well-known/palazzo/trust-list-key").await;
    assert_eq!(status, 200);
    let key = PublicKey::from_spki_der(&spki_of_pem(&pem)).unwrap();
    TrustList::verify(&bytes, &key).unwrap()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let casamassima = list_of(&app, CASAMASSIMA).await;
    assert_eq!(casamassima.issuer, "IT-B923");
    assert_eq!(casamassima.entries.len(), 1);
    assert_eq!(casamassima.entries[0].not_after, None, "in use");
    let acquaviva = list_of(&app, ACQUAVIVA).await;
    assert_eq!(acquaviva.issuer, "IT-A048");
    assert_ne!(
        acquaviva.entries[0].key.kid(),
        casamassima.entries[0].key.kid(),
        "each comune its own key"
    );
    // Another comune's list key does not verify this list.
    let (_, _, other_pem) = fetch(&app, ACQUAVIVA, "/.well-known/palazzo/trust-list-key").await;
    let (_, _, bytes) = fetch(&app, CASAMASSIMA, "/.well-known/palazzo/trust-list").await;
    let other = PublicKey::from_spki_der(&spki_of_pem(&other_pem)).unwrap();
    assert!(TrustList::verify(&bytes, &other).is_err());

    // A rotation (what `palazzo keys rotate` calls): the old key retired.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let k = app.app.rotate_seal_key(&t).await.unwrap();
    assert_eq!(k.number, 2);
    let after = list_of(&app, CASAMASSIMA).await;
    assert_eq!(after.entries.len(), 2);
    assert_eq!(after.entries[0].key.kid(), casamassima.entries[0].key.kid());
    assert!(after.entries[0].not_after.is_some(), "retired");
    assert_eq!(after.entries[1].not_after, None);
    app.stop().await;
}

#[tokio::test]
async fn trust_list_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn trust_list_postgres() {
    run(Backend::Postgres).await
}
