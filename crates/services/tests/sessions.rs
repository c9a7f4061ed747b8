//! Session lifetimes on both backends: idle and absolute timeouts, tenant
//! binding, rotation at sign-in and the sweep of expired sessions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::{SignedDuration, Timestamp};
use palazzo_services::App;
use palazzo_services::access::{SessionData, SignedIn, token_hash};
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Store, StoreTx};
use palazzo_testkit::{PgDatabase, TempDir};

async fn run(postgres: bool) {
    let dir = TempDir::new("sessions");
    let (db, pg) = if postgres {
        let pg = PgDatabase::create().await;
        (Db::open(&pg.url).await.unwrap(), Some(pg))
    } else {
        (
            Db::open_sqlite(&dir.path().join("p.db")).await.unwrap(),
            None,
        )
    };
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    let a = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let b = app.create_tenant(tenant_fixture(2)).await.unwrap();
    let policy = app.session_policy();

    // A pending (anonymous) session, then sign-in: a new token, a new CSRF
    // token, and the old token is dead.
    let (pending, s0) = app
        .start_session(a.id, &SessionData::default())
        .await
        .unwrap();
    assert!(app.load_session(a.id, &pending).await.unwrap().is_some());
    assert!(
        app.load_session(b.id, &pending).await.unwrap().is_none(),
        "bound to its comune"
    );
    let who = SignedIn {
        provider: "demo".into(),
        name: "X".into(),
        ..SignedIn::default()
    };
    let (token, s1) = app.rotate_session(Some(&s0), a.id, who).await.unwrap();
    assert_ne!(token, pending);
    assert_ne!(s1.record.csrf, s0.record.csrf);
    assert!(app.load_session(a.id, &pending).await.unwrap().is_none());
    assert!(app.load_session(a.id, &token).await.unwrap().is_some());
    // Garbage tokens are nobody.
    assert!(app.load_session(a.id, "").await.unwrap().is_none());
    assert!(
        app.load_session(a.id, &"A".repeat(43))
            .await
            .unwrap()
            .is_none()
    );

    // Idle timeout: last seen longer ago than the policy allows.
    let hash = token_hash(&token);
    let old = Timestamp::now() - policy.idle - SignedDuration::from_secs(1);
    let mut tx = app.db().begin().await.unwrap();
    tx.touch_session(&hash, old).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        app.load_session(a.id, &token).await.unwrap().is_none(),
        "idle session ends"
    );
    assert!(
        app.db().session(&hash).await.unwrap().is_none(),
        "and is deleted"
    );

    // Absolute timeout: active, but past its expiry.
    let who = SignedIn {
        provider: "demo".into(),
        name: "X".into(),
        ..SignedIn::default()
    };
    let (token, s) = app.rotate_session(None, a.id, who).await.unwrap();
    let mut rec = s.record.clone();
    rec.id_hash = [9; 32];
    rec.expires_at = Timestamp::now() - SignedDuration::from_secs(1);
    let mut tx = app.db().begin().await.unwrap();
    tx.insert_session(&rec).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        app.sweep_sessions().await.unwrap(),
        1,
        "only the expired one is swept"
    );
    assert!(app.load_session(a.id, &token).await.unwrap().is_some());
    assert_eq!(
        s.record.expires_at.duration_since(s.record.created_at),
        policy.absolute,
        "absolute lifetime from sign-in"
    );
    // Break-glass sessions are shorter.
    let admin = app
        .create_local_admin(None, "root", "Root", "una password lunga e sicura")
        .await
        .unwrap();
    let who = SignedIn {
        admin: Some(admin.admin.id),
        provider: "local".into(),
        name: "Root".into(),
        ..SignedIn::default()
    };
    let (_, s) = app.rotate_session(None, a.id, who).await.unwrap();
    assert_eq!(
        s.record.expires_at.duration_since(s.record.created_at),
        SignedDuration::from_hours(2)
    );

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn sqlite() {
    run(false).await
}

#[tokio::test]
async fn postgres() {
    run(true).await
}
