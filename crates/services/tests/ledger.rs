//! The ledger and `verify` on both backends: events are appended with every
//! change, checkpoints are signed, and any alteration of a stored event,
//! checkpoint or record is reported naming what was altered (LOG-4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::merkle;
use palazzo_services::App;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::verify::{Problem, verify, verify_with_grace};
use palazzo_store::conformance::{office_fixture, service_fixture, tenant_fixture};
use palazzo_store::{NewFaq, Store};
use palazzo_testkit::{PgDatabase, TempDir};

struct Fixture {
    app: App,
    keys: KeyStore,
    _dir: TempDir,
    pg: Option<PgDatabase>,
}

async fn fixture(postgres: bool) -> Fixture {
    let dir = TempDir::new("ledger");
    let (db, pg) = if postgres {
        let pg = PgDatabase::create().await;
        (Db::open(&pg.url).await.unwrap(), Some(pg))
    } else {
        (
            Db::open_sqlite(&dir.path().join("p.db")).await.unwrap(),
            None,
        )
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let a = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let b = app.create_tenant(tenant_fixture(2)).await.unwrap();
    for t in [&a, &b] {
        let o = app
            .create_office(t.id, office_fixture("anagrafe"))
            .await
            .unwrap();
        for slug in ["uno", "due", "tre"] {
            app.create_service(t.id, service_fixture(slug, o.id))
                .await
                .unwrap();
        }
        app.create_faq(
            t.id,
            NewFaq {
                position: 1,
                question: "Q?".into(),
                answer: "A.".into(),
            },
        )
        .await
        .unwrap();
    }
    app.checkpoint_all().await.unwrap();
    Fixture {
        app,
        keys,
        _dir: dir,
        pg,
    }
}

impl Fixture {
    async fn problems(&self) -> Vec<Problem> {
        verify(self.app.db(), &self.keys).await.unwrap().problems
    }
    /// Runs raw SQL as an attacker with full database access would: first
    /// dropping the append-only triggers, which are a guard, not a boundary.
    async fn tamper(&self, sql: &str) {
        let disarm = match self.app.db().backend() {
            palazzo_services::db::Backend::Sqlite => {
                "DROP TRIGGER IF EXISTS ledger_events_append_only_update; \
                 DROP TRIGGER IF EXISTS ledger_events_append_only_delete; \
                 DROP TRIGGER IF EXISTS ledger_checkpoints_append_only_update; \
                 DROP TRIGGER IF EXISTS ledger_checkpoints_append_only_delete;"
            }
            palazzo_services::db::Backend::Postgres => {
                "DROP TRIGGER IF EXISTS ledger_events_append_only ON ledger_events; \
                 DROP TRIGGER IF EXISTS ledger_checkpoints_append_only ON ledger_checkpoints;"
            }
        };
        self.app.db().execute_raw(disarm).await.unwrap();
        self.app.db().execute_raw(sql).await.unwrap();
    }
    async fn done(self) {
        self.app.db().close().await;
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

async fn clean_installation_verifies(postgres: bool) {
    let f = fixture(postgres).await;
    let report = verify(f.app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.tenants, 2);
    // tenant + office + 3 services + faq per tenant
    assert_eq!(report.events, 12);
    assert_eq!(report.records, 12);
    assert_eq!(report.checkpoints, 2);

    // The checkpoint root is the RFC 6962 root of the recomputed leaves.
    let t = &f.app.tenants()[0];
    let events = f.app.db().ledger_events(t.id, 0, 100).await.unwrap();
    let leaves: Vec<_> = events.iter().map(|e| e.leaf_hash).collect();
    let cp = f.app.db().latest_checkpoint(t.id).await.unwrap().unwrap();
    assert_eq!(cp.size, 6);
    assert_eq!(cp.root, merkle::root(&leaves));
    // A change after the checkpoint grows the log; the next checkpoint covers it.
    let mut s = f.app.db().services(t.id).await.unwrap().remove(0);
    s.data.title = "Titolo cambiato".into();
    f.app.update_service(s).await.unwrap();
    let next = f
        .app
        .checkpoint(t)
        .await
        .unwrap()
        .expect("a new checkpoint");
    assert_eq!(next.size, 7);
    assert!(
        f.app.checkpoint(t).await.unwrap().is_none(),
        "no empty checkpoints"
    );
    assert!(f.problems().await.is_empty());
    f.done().await;
}

async fn altered_record_is_named(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[0].clone();
    let s = f.app.db().services(t.id).await.unwrap().remove(1);
    f.app
        .db()
        .execute_raw(&format!(
            "UPDATE services SET title = 'Falso' WHERE id = {}",
            s.id.0
        ))
        .await
        .unwrap();
    let problems = f.problems().await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    match &problems[0] {
        Problem::RecordAltered {
            tenant, subject, ..
        } => {
            assert_eq!(tenant, &t.data.slug);
            assert_eq!(subject, &format!("service:{}", s.id.0));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        problems[0]
            .to_string()
            .contains(&format!("service:{}", s.id.0))
    );
    f.done().await;
}

async fn altered_event_is_named(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[1].clone();
    f.tamper(&format!(
        "UPDATE ledger_events SET kind = 'service.deleted' WHERE tenant_id = {} AND seq = 3",
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    assert!(
        problems.iter().any(
            |p| matches!(p, Problem::EventAltered { seq: 3, tenant, .. } if tenant == &t.data.slug)
        ),
        "{problems:?}"
    );
    f.done().await;
}

async fn event_rewritten_with_its_leaf_breaks_the_checkpoint(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[0].clone();
    // An attacker who rewrites the event *and* recomputes its stored leaf hash
    // is still caught: the signed checkpoint root no longer matches.
    let mut events = f.app.db().ledger_events(t.id, 0, 100).await.unwrap();
    let e = &mut events[2];
    e.state_hash = [0xAA; 32];
    let leaf = palazzo_services::ledger::leaf_of(e).unwrap();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let (state, leaf) = match f.app.db().backend() {
        palazzo_services::db::Backend::Sqlite => (
            format!("X'{}'", hex(&e.state_hash)),
            format!("X'{}'", hex(&leaf)),
        ),
        palazzo_services::db::Backend::Postgres => (
            format!("'\\x{}'::bytea", hex(&e.state_hash)),
            format!("'\\x{}'::bytea", hex(&leaf)),
        ),
    };
    f.tamper(&format!(
        "UPDATE ledger_events SET state_hash = {state}, leaf_hash = {leaf} WHERE tenant_id = {} AND seq = 2",
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointRoot { size: 6, .. })),
        "{problems:?}"
    );
    assert!(
        !problems
            .iter()
            .any(|p| matches!(p, Problem::EventAltered { .. })),
        "{problems:?}"
    );
    f.done().await;
}

async fn altered_checkpoint_is_named(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[0].clone();
    // Change the time line of the signed note: the signature no longer verifies.
    f.tamper(&format!(
        "UPDATE ledger_checkpoints SET note = replace(note, 'time 20', 'time 19') WHERE tenant_id = {}",
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointSignature { size: 6, .. })),
        "{problems:?}"
    );
    f.done().await;
}

async fn deleted_and_smuggled_rows_are_named(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[0].clone();
    let db = f.app.db();
    db.execute_raw(&format!("DELETE FROM faqs WHERE tenant_id = {}", t.id.0))
        .await
        .unwrap();
    db.execute_raw(&format!(
        "INSERT INTO faqs (tenant_id, position, question, answer) VALUES ({}, 9, 'Nuova?', 'Sì.')",
        t.id.0
    ))
    .await
    .unwrap();
    f.tamper(&format!(
        "DELETE FROM ledger_events WHERE tenant_id = {} AND seq = 5",
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::RecordWithoutEvent { .. })),
        "{text:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::EventsMissing { .. })),
        "{text:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointBeyondLog { size: 6, .. })),
        "{text:?}"
    );
    f.done().await;
}

async fn swapped_key_file_is_reported(postgres: bool) {
    let f = fixture(postgres).await;
    let slug = f.app.tenants()[0].data.slug.clone();
    let path = f.keys.dir().join(&slug).join("ledger.ed25519.pk8");
    std::fs::remove_file(&path).unwrap();
    f.keys.load_or_create(&slug, "ledger").unwrap();
    let problems = f.problems().await;
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::KeyMismatch { .. })),
        "{problems:?}"
    );
    f.done().await;
}

async fn the_ledger_tables_refuse_changes(postgres: bool) {
    let f = fixture(postgres).await;
    let db = f.app.db();
    for sql in [
        "UPDATE ledger_events SET kind = 'x'",
        "DELETE FROM ledger_events",
        "UPDATE ledger_checkpoints SET note = 'x'",
        "DELETE FROM ledger_checkpoints",
    ] {
        let err = db.execute_raw(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert!(f.problems().await.is_empty());
    f.done().await;
}

async fn a_key_smuggled_into_the_database_is_not_trusted(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[0].clone();
    // An attacker registers a key of their own and re-signs a forged checkpoint with it.
    let rogue = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let origin = palazzo_services::ledger::origin(&t);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let literal = |b: &[u8]| match f.app.db().backend() {
        palazzo_services::db::Backend::Sqlite => format!("X'{}'", hex(b)),
        palazzo_services::db::Backend::Postgres => format!("'\\x{}'::bytea", hex(b)),
    };
    f.tamper(&format!(
        "INSERT INTO signing_keys (tenant_id, purpose, key_name, public_key, created) \
         VALUES ({}, 'ledger', '{origin}', {}, '2026-01-01T00:00:00Z')",
        t.id.0,
        literal(rogue.verifying_key().as_bytes())
    ))
    .await;
    let cp = palazzo_domain::checkpoint::Checkpoint::new(origin.clone(), 6, [9; 32]);
    let note = palazzo_domain::checkpoint::sign(&cp, &origin, &rogue).unwrap();
    f.tamper(&format!(
        "UPDATE ledger_checkpoints SET note = '{note}', root = {} WHERE tenant_id = {} AND size = 6",
        literal(&[9; 32]),
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::UntrustedKey { .. })),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointSignature { size: 6, .. })),
        "{problems:?}"
    );
    f.done().await;
}

async fn a_database_rolled_back_behind_the_kept_checkpoint_is_caught(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[0].clone();
    // Drop the newest event, its record and its checkpoint, and lower the head:
    // the database alone now looks consistent.
    let last = f
        .app
        .db()
        .ledger_events(t.id, 5, 6)
        .await
        .unwrap()
        .remove(0);
    let faq_id = last.subject.trim_start_matches("faq:").to_owned();
    f.tamper(&format!(
        "DELETE FROM ledger_events WHERE tenant_id = {} AND seq = 5",
        t.id.0
    ))
    .await;
    f.tamper(&format!("DELETE FROM faqs WHERE id = {faq_id}"))
        .await;
    f.tamper(&format!(
        "DELETE FROM ledger_checkpoints WHERE tenant_id = {}",
        t.id.0
    ))
    .await;
    f.tamper(&format!(
        "UPDATE ledger_heads SET size = 5 WHERE tenant_id = {}",
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::RolledBack { size: 6, .. })),
        "{problems:?}"
    );
    f.done().await;
}

async fn deleted_checkpoints_leave_events_unsigned(postgres: bool) {
    let f = fixture(postgres).await;
    let t = f.app.tenants()[1].clone();
    f.tamper(&format!(
        "DELETE FROM ledger_checkpoints WHERE tenant_id = {}",
        t.id.0
    ))
    .await;
    let problems = f.problems().await;
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::RolledBack { .. })),
        "{problems:?}"
    );
    // Without the copy kept with the keys, the events are simply unsigned.
    std::fs::remove_file(f.keys.dir().join(&t.data.slug).join("ledger.checkpoint")).unwrap();
    let report = verify_with_grace(f.app.db(), &f.keys, jiff::SignedDuration::ZERO)
        .await
        .unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::UnsignedEvents { from: 0, to: 5, .. })),
        "{:?}",
        report.problems
    );
    f.done().await;
}

async fn host_names_can_change_without_breaking_old_checkpoints(postgres: bool) {
    let f = fixture(postgres).await;
    let mut t = (*f.app.tenants()[0]).clone();
    t.data.hostnames.reverse();
    t.data.hostnames.push("nuovo.example.it".into());
    f.app.update_tenant(t.clone()).await.unwrap();
    f.app.checkpoint(&t).await.unwrap();
    assert!(f.problems().await.is_empty(), "{:?}", f.problems().await);
    let mut renamed = t.clone();
    renamed.data.slug = "altro".into();
    assert_eq!(
        f.app.update_tenant(renamed).await.err().map(|e| e.code()),
        Some("tenant_slug_immutable")
    );
    f.done().await;
}

macro_rules! both_backends {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(false).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(true).await })*
        }
    };
}

both_backends!(
    clean_installation_verifies,
    altered_record_is_named,
    altered_event_is_named,
    event_rewritten_with_its_leaf_breaks_the_checkpoint,
    altered_checkpoint_is_named,
    deleted_and_smuggled_rows_are_named,
    swapped_key_file_is_reported,
    the_ledger_tables_refuse_changes,
    a_key_smuggled_into_the_database_is_not_trusted,
    a_database_rolled_back_behind_the_kept_checkpoint_is_caught,
    deleted_checkpoints_leave_events_unsigned,
    host_names_can_change_without_breaking_old_checkpoints
);
