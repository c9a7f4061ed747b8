//! The conformance suite: the same behaviour asserted on every backend.
//!
//! Each backend's tests call [`run_all`] on a fresh, migrated, empty store.
//! A failed check panics with a message naming the check (this module is
//! test support, which is why the footgun lints are allowed here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::date;
use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
use palazzo_domain::ids::{
    Cap, CodiceCatastale, CodiceFiscale, CodiceIpa, CodiceIstat, Email, Sex,
};
use palazzo_domain::portal::{ServiceCategory, ServiceStatus};

use crate::*;

/// A valid tenant for tests, distinguished by `n` (1 or 2).
pub fn tenant_fixture(n: u8) -> NewTenant {
    let (slug, catastale, cf) = match n {
        1 => ("alfa", "B923", "80001870726"),
        _ => ("beta", "C134", "80002260729"),
    };
    NewTenant {
        slug: slug.into(),
        name: format!("Comune di {slug}"),
        short_name: slug.into(),
        codice_catastale: CodiceCatastale::parse(catastale).unwrap(),
        codice_istat: CodiceIstat::parse(if n == 1 { "072017" } else { "072019" }).unwrap(),
        codice_ipa: CodiceIpa::parse(&format!("c_{}", catastale.to_lowercase())).unwrap(),
        codice_fiscale: CodiceFiscale::parse(cf).unwrap(),
        pec: Email::parse(&format!("protocollo@pec.{slug}.example.it")).unwrap(),
        email: Email::parse(&format!("info@{slug}.example.it")).unwrap(),
        phone: "080 000000".into(),
        address: Address {
            street: "Piazza Municipio, 1".into(),
            cap: Cap::parse("70010").unwrap(),
            locality: slug.into(),
            province: "BA".into(),
        },
        region: "Puglia".into(),
        population: 19_200,
        patron_saint: None,
        hostnames: vec![format!("comune.{slug}.ba.it"), format!("{slug}.localhost")],
        logo_svg: None,
        accessibility_url: "https://form.agid.gov.it/view/00000000-0000-0000-0000-000000000000"
            .into(),
        is_default: n == 1,
    }
}

/// A valid office for tests.
pub fn office_fixture(slug: &str) -> NewOffice {
    NewOffice {
        slug: slug.into(),
        name: format!("Ufficio {slug}"),
        description: "Riceve il pubblico.".into(),
        email: Some(Email::parse("ufficio@example.it").unwrap()),
        pec: None,
        phone: "080 111111".into(),
        address: Address {
            street: "Via Roma, 2".into(),
            cap: Cap::parse("70010").unwrap(),
            locality: "Casamassima".into(),
            province: "BA".into(),
        },
        opening_hours: "Lunedì–venerdì 9:00–12:00".into(),
    }
}

/// A valid service card for tests.
pub fn service_fixture(slug: &str, office: OfficeId) -> NewService {
    NewService {
        slug: slug.into(),
        category: ServiceCategory::AnagrafeStatoCivile,
        title: format!("Servizio {slug}"),
        status: ServiceStatus::Active,
        summary: "Descrizione breve.".into(),
        audience: "Residenti.".into(),
        how_to: "Compila il modulo.".into(),
        needed: "Documento d'identità.".into(),
        achieved: "Il certificato.".into(),
        times: "Subito.".into(),
        costs: None,
        access: "Online con SPID o CIE.".into(),
        online_url: Some("/area-personale".into()),
        conditions: "Termini e condizioni.".into(),
        office,
        topics: vec!["Anagrafe".into(), "Residenza".into()],
        service_type: "Anagrafe e stato civile".into(),
        audience_type: "cittadini".into(),
    }
}

fn event(slug: &str, subject: &str, byte: u8) -> NewEvent {
    NewEvent {
        tenant_slug: slug.into(),
        kind: "test.event".into(),
        subject: subject.into(),
        state_hash: [byte; 32],
    }
}

/// Runs every check against an empty, migrated store.
pub async fn run_all<S: Store>(s: &S) {
    s.ping().await.expect("ping");
    let (a, b) = tenants(s).await;
    catalogue(s, a.id, b.id).await;
    rollback(s, a.id).await;
    ledger(s, &a, &b).await;
    ratings(s, a.id, b.id).await;
    population(s, a.id, b.id).await;
    keys(s, a.id, b.id).await;
    access(s, a.id, b.id).await;
    protocollo(s, a.id, b.id).await;
    protocol_senders(s, a.id, b.id).await;
    document_versions(s, a.id, b.id).await;
    filing(s, a.id, b.id).await;
    certificates(s, a.id, b.id).await;
    pratiche(s, a.id, b.id).await;
    mail(s, a.id, b.id).await;
    bookings(s, a.id, b.id).await;
    tributi(s, a.id, b.id).await;
    avvisi(s, a.id, b.id).await;
    tari(s, a.id, b.id).await;
    canone(s, a.id, b.id).await;
}

async fn tenants<S: Store>(s: &S) -> (Tenant, Tenant) {
    let mut tx = s.begin().await.unwrap();
    let a = tx.insert_tenant(&tenant_fixture(1)).await.unwrap();
    let b = tx.insert_tenant(&tenant_fixture(2)).await.unwrap();
    tx.commit().await.unwrap();

    let all = s.tenants().await.unwrap();
    assert_eq!(
        all,
        vec![a.clone(), b.clone()],
        "tenants read back equal, default first"
    );

    // A host belongs to one tenant only: the unique index decides.
    let mut dup = tenant_fixture(2);
    dup.slug = "gamma".into();
    dup.codice_catastale = CodiceCatastale::parse("Z404").unwrap();
    let mut tx = s.begin().await.unwrap();
    let err = tx
        .insert_tenant(&dup)
        .await
        .expect_err("duplicate host must fail");
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "duplicate host is a conflict: {err:?}"
    );
    drop(tx);

    let mut changed = b.clone();
    changed.data.hostnames = vec!["beta.example.org".into()];
    changed.data.population = 4_999;
    let mut tx = s.begin().await.unwrap();
    tx.update_tenant(&changed).await.unwrap();
    tx.commit().await.unwrap();
    let all = s.tenants().await.unwrap();
    assert_eq!(all[1], changed, "tenant update persists, hosts replaced");
    (a, changed)
}

async fn catalogue<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let mut tx = s.begin().await.unwrap();
    let oa = tx
        .insert_office(a, &office_fixture("anagrafe"))
        .await
        .unwrap();
    let ob = tx
        .insert_office(b, &office_fixture("anagrafe"))
        .await
        .unwrap();
    let sa = tx
        .insert_service(a, &service_fixture("carta-identita", oa.id))
        .await
        .unwrap();
    tx.insert_service(b, &service_fixture("tari", ob.id))
        .await
        .unwrap();
    tx.insert_faq(
        a,
        &NewFaq {
            position: 2,
            question: "Seconda?".into(),
            answer: "Sì.".into(),
        },
    )
    .await
    .unwrap();
    tx.insert_faq(
        a,
        &NewFaq {
            position: 1,
            question: "Prima?".into(),
            answer: "Sì.".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Tenant isolation: each tenant sees only its own rows.
    let services_a = s.services(a).await.unwrap();
    assert_eq!(services_a, vec![sa.clone()]);
    let services_b = s.services(b).await.unwrap();
    assert_eq!(services_b.len(), 1);
    assert_eq!(services_b[0].data.slug, "tari");
    assert_eq!(s.offices(a).await.unwrap(), vec![oa.clone()]);
    assert_eq!(s.faqs(b).await.unwrap(), vec![]);
    let faqs = s.faqs(a).await.unwrap();
    assert_eq!(
        faqs.iter().map(|f| f.data.position).collect::<Vec<_>>(),
        vec![1, 2]
    );

    // A service may not point at another tenant's office.
    let mut tx = s.begin().await.unwrap();
    let err = tx
        .insert_service(a, &service_fixture("x", ob.id))
        .await
        .err();
    assert!(
        matches!(err, Some(StoreError::NotFound)),
        "cross-tenant office refused: {err:?}"
    );
    drop(tx);

    // Unique slug per tenant.
    let mut tx = s.begin().await.unwrap();
    let err = tx
        .insert_service(a, &service_fixture("carta-identita", oa.id))
        .await
        .err();
    assert!(
        matches!(err, Some(StoreError::Conflict(_))),
        "duplicate slug: {err:?}"
    );
    drop(tx);

    // Update, including an inactive status with its reason; the other tenant can't update it.
    let mut changed = sa.clone();
    changed.data.status = ServiceStatus::Inactive {
        reason: "In manutenzione".into(),
    };
    changed.data.costs = Some("16,00 € di bollo".into());
    changed.data.topics = vec!["Anagrafe".into()];
    let mut tx = s.begin().await.unwrap();
    tx.update_service(&changed).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.services(a).await.unwrap(), vec![changed.clone()]);
    let mut foreign = changed.clone();
    foreign.tenant = b;
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.update_service(&foreign).await,
        Err(StoreError::NotFound)
    ));
}

async fn rollback<S: Store>(s: &S, a: TenantId) {
    let before = s.offices(a).await.unwrap().len();
    let mut tx = s.begin().await.unwrap();
    tx.insert_office(a, &office_fixture("temporaneo"))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        s.offices(a).await.unwrap().len(),
        before,
        "dropped transaction rolls back"
    );
}

async fn ledger<S: Store>(s: &S, a: &Tenant, b: &Tenant) {
    assert_eq!(s.ledger_size(a.id).await.unwrap(), 0);
    let mut tx = s.begin().await.unwrap();
    let mut appended = Vec::new();
    for i in 0..5u8 {
        appended.push(
            tx.append_event(a.id, &event(&a.data.slug, "service:1", i))
                .await
                .unwrap(),
        );
    }
    let other = tx
        .append_event(b.id, &event(&b.data.slug, "service:2", 9))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(other.seq, 0, "each tenant has its own sequence");
    assert_eq!(
        appended.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert!(
        appended.windows(2).all(|w| w[0].time < w[1].time),
        "time strictly follows seq order"
    );

    // A rolled-back append leaves no gap.
    let mut tx = s.begin().await.unwrap();
    tx.append_event(a.id, &event(&a.data.slug, "service:1", 7))
        .await
        .unwrap();
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    let next = tx
        .append_event(a.id, &event(&a.data.slug, "service:1", 8))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next.seq, 5, "gap-free after rollback");
    appended.push(next);

    assert_eq!(s.ledger_size(a.id).await.unwrap(), 6);
    let read = s.ledger_events(a.id, 0, 100).await.unwrap();
    assert_eq!(read, appended, "events read back exactly, time included");
    for e in &read {
        let again = rows::build_event(
            a.id,
            e.seq,
            e.time,
            &NewEvent {
                tenant_slug: e.tenant_slug.clone(),
                kind: e.kind.clone(),
                subject: e.subject.clone(),
                state_hash: e.state_hash,
            },
        )
        .unwrap();
        assert_eq!(
            again.leaf_hash, e.leaf_hash,
            "leaf hash recomputes from stored fields"
        );
    }
    assert_eq!(s.ledger_events(a.id, 2, 4).await.unwrap().len(), 2);

    assert_eq!(s.latest_checkpoint(a.id).await.unwrap(), None);
    let cp = |size: u64| CheckpointRecord {
        size,
        root: [size as u8; 32],
        time: jiff::Timestamp::from_second(1_800_000_000 + size as i64).unwrap(),
        note: format!("note {size}\n"),
        frontier: vec![1, 2, 3],
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_checkpoint(a.id, &cp(3)).await.unwrap();
    tx.insert_checkpoint(a.id, &cp(6)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.checkpoints(a.id).await.unwrap(), vec![cp(3), cp(6)]);
    assert_eq!(s.latest_checkpoint(a.id).await.unwrap(), Some(cp(6)));
    assert_eq!(s.checkpoints(b.id).await.unwrap(), vec![]);
}

async fn ratings<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let r = |page: &str, stars: u8| NewRating {
        page: page.into(),
        stars,
        answer: Some(1),
        comment: None,
        day: date(2026, 11, 26),
    };
    let mut tx = s.begin().await.unwrap();
    for (page, stars) in [
        ("/servizi", 5),
        ("/servizi", 5),
        ("/servizi", 2),
        ("/novita", 1),
    ] {
        tx.insert_rating(a, &r(page, stars)).await.unwrap();
    }
    tx.insert_rating(b, &r("/servizi", 3)).await.unwrap();
    tx.commit().await.unwrap();
    let sums = s.rating_summaries(a).await.unwrap();
    assert_eq!(
        sums,
        vec![
            RatingSummary {
                page: "/novita".into(),
                by_stars: [1, 0, 0, 0, 0]
            },
            RatingSummary {
                page: "/servizi".into(),
                by_stars: [0, 1, 0, 0, 2]
            },
        ]
    );
    // The database itself refuses out-of-range stars.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_rating(a, &r("/x", 6)).await.is_err());
}

async fn population<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let cap = Cap::parse("70010").unwrap();
    let person = |id: i64, cf: &str| PopPerson {
        id,
        family: 1,
        codice_fiscale: CodiceFiscale::parse(cf).unwrap(),
        surname: "Rossi".into(),
        name: "Mario".into(),
        sex: Sex::M,
        birth_date: date(1985, 12, 10),
        birthplace: CodiceCatastale::parse("A562").unwrap(),
        relation: "intestatario".into(),
        citizenship: Cittadinanza::from_code("AL").unwrap(),
        marital_status: StatoCivile::Vedovo,
        resident_since: Some(date(2001, 2, 3)),
        provenance: Some(CodiceCatastale::parse("A662").unwrap()),
    };
    let batch = PopulationBatch {
        addresses: vec![PopAddress {
            id: 1,
            street: "Via Roma".into(),
            civic: "1".into(),
            cap: cap.clone(),
        }],
        families: vec![PopFamily {
            id: 1,
            address: 1,
            code: Some("F-1".into()),
        }],
        persons: vec![person(1, "RSSMRA85T10A562S")],
        residences: vec![PopResidence {
            person: 1,
            street: "Via Bari".into(),
            civic: "2".into(),
            cap: cap.clone(),
            from: date(1990, 1, 1),
            to: date(2001, 2, 2),
        }],
    };
    let mut tx = s.begin().await.unwrap();
    tx.save_population(a, &batch).await.unwrap();
    tx.save_population(b, &batch).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.residences_of(a, 1).await.unwrap(), batch.residences);
    assert_eq!(s.family_members(a, 1).await.unwrap(), batch.persons);
    assert_eq!(
        s.family_address(a, 1).await.unwrap(),
        Some(batch.addresses[0].clone())
    );
    assert_eq!(s.family_address(a, 2).await.unwrap(), None);
    let k = s.population_keys(a).await.unwrap();
    assert_eq!(k.families, vec![(1, "F-1".to_owned())]);
    assert_eq!(k.max_family, 1);
    assert_eq!(k.persons.len(), 1);
    assert_eq!(
        k.addresses,
        vec![(1, "Via Roma".into(), "1".into(), "70010".into())]
    );
    // Saving again replaces: the family's address changed, a changed
    // status, and the earlier residences of the person are replaced.
    let mut again = batch.clone();
    again.addresses[0].civic = "9".into();
    again.persons[0].marital_status = StatoCivile::Coniugato;
    again.residences.clear();
    let mut tx = s.begin().await.unwrap();
    tx.save_population(a, &again).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.residences_of(a, 1).await.unwrap(), vec![]);
    assert_eq!(
        s.residences_of(b, 1).await.unwrap(),
        batch.residences,
        "the other comune's stay"
    );
    assert_eq!(s.family_address(a, 1).await.unwrap().unwrap().civic, "9");
    assert_eq!(
        s.resident(a, &CodiceFiscale::parse("RSSMRA85T10A562S").unwrap())
            .await
            .unwrap()
            .unwrap()
            .marital_status,
        StatoCivile::Coniugato
    );
    // The stradario: insert, rename by code; a name used by another code
    // is refused.
    let street = |code: &str, name: &str| Street {
        code: code.into(),
        name: name.into(),
    };
    let mut tx = s.begin().await.unwrap();
    tx.save_streets(a, &[street("1", "Via Roma"), street("2", "Via Bari")])
        .await
        .unwrap();
    tx.save_streets(a, &[street("2", "Via Bitritto")])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.streets(a).await.unwrap(),
        vec![street("2", "Via Bitritto"), street("1", "Via Roma")]
    );
    assert_eq!(s.streets(b).await.unwrap(), vec![]);
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.save_streets(a, &[street("3", "via roma")]).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    tx.save_population(a, &batch).await.unwrap();
    tx.commit().await.unwrap();
    let counts = s.population_counts(a).await.unwrap();
    assert_eq!(
        counts,
        PopulationCounts {
            persons: 1,
            families: 1,
            addresses: 1
        }
    );
    let cf = CodiceFiscale::parse("RSSMRA85T10A562S").unwrap();
    assert_eq!(
        s.residents(a, 10).await.unwrap(),
        vec![person(1, "RSSMRA85T10A562S")],
        "resident round trip"
    );
    assert_eq!(
        s.resident(a, &cf).await.unwrap(),
        Some(person(1, "RSSMRA85T10A562S"))
    );
    let unknown = CodiceFiscale::parse("BNCGLI85L55F205B").unwrap();
    assert_eq!(s.resident(a, &unknown).await.unwrap(), None);
    // The same codice fiscale twice in one comune is refused.
    let dup = PopulationBatch {
        persons: vec![person(2, "RSSMRA85T10A562S")],
        ..Default::default()
    };
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.save_population(a, &dup).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn keys<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let k = SigningKeyRecord {
        purpose: "ledger".into(),
        key_name: "alfa.localhost/palazzo/alfa".into(),
        public_key: vec![7; 32],
        created: jiff::Timestamp::from_second(1_800_000_000).unwrap(),
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_signing_key(a, &k).await.unwrap();
    tx.insert_signing_key(a, &k).await.unwrap(); // idempotent
    tx.commit().await.unwrap();
    assert_eq!(s.signing_keys(a).await.unwrap(), vec![k]);
    assert_eq!(s.signing_keys(b).await.unwrap(), vec![]);
}

async fn access<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let t0 = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let new = NewUser {
        codice_fiscale: Some(cf.clone()),
        given_name: "Mario".into(),
        family_name: "Rossi".into(),
        birth_date: Some(date(1980, 1, 1)),
        birth_place: Some("Roma".into()),
        email: None,
        phone: None,
        notice_channel: NoticeChannel::Email,
    };
    let mut tx = s.begin().await.unwrap();
    let u = tx.insert_user(a, &new, t0).await.unwrap();
    // The same person may sign in to another comune: a separate profile.
    let ub = tx.insert_user(b, &new, t0).await.unwrap();
    let link = IdentityLink {
        issuer: "https://op.example".into(),
        subject: "sub-1".into(),
        user: u.id,
        provider: "spid".into(),
        first_seen: t0,
        last_seen: t0,
    };
    tx.upsert_identity_link(a, &link).await.unwrap();
    let later = IdentityLink {
        last_seen: t0 + jiff::SignedDuration::from_secs(60),
        ..link.clone()
    };
    tx.upsert_identity_link(a, &later).await.unwrap();
    tx.insert_sign_in(
        a,
        u.id,
        &SignIn {
            time: t0,
            provider: "spid".into(),
            acr: Some("L2".into()),
        },
    )
    .await
    .unwrap();
    tx.insert_sign_in(
        a,
        u.id,
        &SignIn {
            time: later.last_seen,
            provider: "cie".into(),
            acr: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        s.user(a, u.id).await.unwrap().as_ref(),
        Some(&u),
        "user round trip"
    );
    assert_eq!(
        s.user(a, ub.id).await.unwrap(),
        None,
        "user of another tenant by id"
    );
    assert_eq!(
        s.user_by_codice_fiscale(a, &cf)
            .await
            .unwrap()
            .map(|x| x.id),
        Some(u.id)
    );
    assert_eq!(
        s.user_by_codice_fiscale(b, &cf)
            .await
            .unwrap()
            .map(|x| x.id),
        Some(ub.id)
    );
    assert_eq!(
        s.user_by_link(a, "https://op.example", "sub-1")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(u.id)
    );
    assert_eq!(
        s.user_by_link(b, "https://op.example", "sub-1")
            .await
            .unwrap(),
        None,
        "links are per tenant"
    );
    let links = s.identity_links(a, u.id).await.unwrap();
    assert_eq!(
        links,
        vec![later.clone()],
        "upsert keeps first_seen and moves last_seen"
    );
    let ins = s.sign_ins(a, u.id, 10).await.unwrap();
    assert_eq!(ins.len(), 2);
    assert_eq!(ins[0].provider, "cie", "newest first");
    assert_eq!(s.sign_ins(a, u.id, 1).await.unwrap().len(), 1, "limit");
    assert!(s.sign_ins(b, u.id, 10).await.unwrap().is_empty());

    // A duplicate codice fiscale in one tenant is a conflict.
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.insert_user(a, &new, t0).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    // Profile update.
    let mut tx = s.begin().await.unwrap();
    let mut edited = u.clone();
    edited.data.email = Some(Email::parse("mario@example.it").unwrap());
    edited.data.notice_channel = NoticeChannel::Sms;
    edited.updated_at = later.last_seen;
    tx.update_user(&edited).await.unwrap();
    let mut foreign = edited.clone();
    foreign.tenant = b;
    assert!(
        matches!(tx.update_user(&foreign).await, Err(StoreError::NotFound)),
        "update across tenants"
    );
    tx.commit().await.unwrap();
    assert_eq!(s.user(a, u.id).await.unwrap(), Some(edited));

    // Role grants: idempotent, office-scoped to an office of the same tenant.
    let office_a = s.offices(a).await.unwrap()[0].id;
    let office_b = s.offices(b).await.unwrap()[0].id;
    let g = |role, office| RoleGrant {
        user: u.id,
        role,
        office,
        source: GrantSource::Admin,
        granted_at: t0,
    };
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.insert_role_grant(a, &g(Role::Operatore, office_a))
            .await
            .unwrap()
    );
    assert!(
        !tx.insert_role_grant(a, &g(Role::Operatore, office_a))
            .await
            .unwrap(),
        "duplicate grant"
    );
    assert!(
        !tx.insert_role_grant(a, &g(Role::Operatore, office_b))
            .await
            .unwrap(),
        "office of another tenant"
    );
    assert!(
        tx.insert_role_grant(a, &g(Role::AdminComune, OfficeId(0)))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let grants = s.role_grants(a, Some(u.id)).await.unwrap();
    assert_eq!(grants.len(), 2);
    assert!(s.role_grants(b, None).await.unwrap().is_empty());
    assert_eq!(s.staff_users(a).await.unwrap().len(), 1);
    assert!(s.staff_users(b).await.unwrap().is_empty());
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.delete_role_grant(a, u.id, Role::AdminComune, OfficeId(0))
            .await
            .unwrap()
    );
    assert!(
        !tx.delete_role_grant(a, u.id, Role::AdminComune, OfficeId(0))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(s.role_grants(a, None).await.unwrap().len(), 1);

    // Break-glass administrators.
    let na = NewLocalAdmin {
        tenant: None,
        username: "root".into(),
        display_name: "Amministratore".into(),
        password_phc: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: vec![7; 20],
    };
    let mut tx = s.begin().await.unwrap();
    let adm = tx.insert_local_admin(&na, t0).await.unwrap();
    assert!(matches!(
        tx.insert_local_admin(&na, t0).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    let adm = tx.insert_local_admin(&na, t0).await.unwrap_or(adm);
    assert!(
        tx.admin_sign_in_succeeded(adm.id, 59_000_000)
            .await
            .unwrap()
    );
    assert!(
        !tx.admin_sign_in_succeeded(adm.id, 59_000_000)
            .await
            .unwrap(),
        "same step: replay"
    );
    assert!(
        !tx.admin_sign_in_succeeded(adm.id, 58_999_999)
            .await
            .unwrap(),
        "older step"
    );
    for _ in 0..2 {
        tx.admin_sign_in_failed(adm.id, 3, later.last_seen)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let got = s.local_admin(adm.id).await.unwrap().unwrap();
    assert_eq!(
        (got.failed_attempts, got.locked_until),
        (2, None),
        "counted, not locked yet"
    );
    let mut tx = s.begin().await.unwrap();
    tx.admin_sign_in_failed(adm.id, 3, later.last_seen)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = s.local_admin_by_username("root").await.unwrap().unwrap();
    assert_eq!(
        (got.totp_last_step, got.failed_attempts, got.locked_until),
        (59_000_000, 0, Some(later.last_seen)),
        "the third failure locks and restarts the count"
    );
    assert_eq!(got.data, na);
    assert_eq!(
        s.local_admin(got.id)
            .await
            .unwrap()
            .map(|x| x.data.username),
        Some("root".into())
    );
    assert!(s.local_admin_by_username("nobody").await.unwrap().is_none());

    // Sessions.
    let sess = |n: u8, user: Option<UserId>, expires: jiff::Timestamp| SessionRecord {
        id_hash: [n; 32],
        tenant: a,
        user,
        admin: None,
        csrf: format!("csrf-{n}"),
        provider: Some("spid".into()),
        acr: None,
        data: "{}".into(),
        created_at: t0,
        last_seen: t0,
        expires_at: expires,
    };
    let far = t0 + jiff::SignedDuration::from_hours(8);
    let mut tx = s.begin().await.unwrap();
    tx.insert_session(&sess(1, Some(u.id), far)).await.unwrap();
    tx.insert_session(&sess(2, Some(u.id), far)).await.unwrap();
    tx.insert_session(&sess(3, None, t0)).await.unwrap();
    tx.touch_session(&[1; 32], later.last_seen).await.unwrap();
    tx.update_session_data(&[1; 32], r#"{"return":"/area-personale"}"#)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = s.session(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(got.last_seen, later.last_seen);
    assert_eq!(got.data, r#"{"return":"/area-personale"}"#);
    assert_eq!(got.user, Some(u.id));
    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.delete_expired_sessions(t0).await.unwrap(),
        1,
        "only the expired one"
    );
    assert_eq!(
        tx.delete_user_sessions(b, u.id).await.unwrap(),
        0,
        "other tenant"
    );
    assert_eq!(
        tx.delete_user_sessions(a, u.id).await.unwrap(),
        2,
        "logout everywhere"
    );
    tx.commit().await.unwrap();
    assert!(s.session(&[1; 32]).await.unwrap().is_none());
}

/// A registration for tests.
pub fn registration_fixture(subject: &str) -> NewRegistration {
    use palazzo_domain::protocollo::{Correspondent, Flow, Impronta, RegisterCode};
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    NewRegistration {
        register: RegisterCode::general(),
        flow: Flow::Entrata,
        subject: subject.into(),
        correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
        received_number: Some("12/A".into()),
        received_date: Some(date(2026, 11, 20)),
        primary: DocumentRef {
            name: "istanza.pdf".into(),
            media_type: "application/pdf".into(),
            size: 3,
            sha256: Impronta::of(b"pdf"),
        },
        attachments: vec![],
        registered_by: "Operatore (user:1)".into(),
        emergency: None,
        classification: Some("XI.2".into()),
        office: None,
    }
}

/// New versions of registered documents (SYS-3, migration 0015): stored
/// append-only, listed by document then version, only on a registration of
/// the tenant that is not annulled, a version number taken once per
/// document, another tenant sees none.
async fn document_versions<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::protocollo::Impronta;
    const YEAR: i16 = 2033;
    let mut tx = s.begin().await.unwrap();
    let (n, at) = tx.next_protocol_number(a, "REG_PROT", YEAR).await.unwrap();
    let mut fixture = registration_fixture("Con versioni");
    fixture.attachments = vec![DocumentRef {
        name: "allegato.pdf".into(),
        media_type: "application/pdf".into(),
        size: 7,
        sha256: Impronta::of(b"allegato"),
    }];
    let reg = tx
        .insert_registration(a, &fixture, YEAR, n, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let file = |bytes: &[u8]| DocumentRef {
        name: "istanza-rettificata.pdf".into(),
        media_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256: Impronta::of(bytes),
    };
    let new = |document: u32, version: u32, kind: TipoModifica, bytes: &[u8], previous| {
        NewDocumentVersion {
            registration: reg.id,
            document,
            version,
            kind,
            file: file(bytes),
            previous,
            reason: format!("Motivo {version}"),
            author: "Operatore (user:1)".into(),
        }
    };
    let v2 = new(0, 2, TipoModifica::Rettifica, b"v2", fixture.primary.sha256);
    let v3 = new(0, 3, TipoModifica::Annotazione, b"v3", Impronta::of(b"v2"));
    let a2 = new(
        1,
        2,
        TipoModifica::Integrazione,
        b"a2",
        Impronta::of(b"allegato"),
    );
    let t = crate::rows::registration_time();
    let mut tx = s.begin().await.unwrap();
    // Inserted out of order: the list is by document, then version.
    let got_a2 = tx
        .insert_document_version(a, &a2, t)
        .await
        .unwrap()
        .unwrap();
    let got_v2 = tx
        .insert_document_version(a, &v2, t)
        .await
        .unwrap()
        .unwrap();
    let got_v3 = tx
        .insert_document_version(a, &v3, t)
        .await
        .unwrap()
        .unwrap();
    assert!(
        tx.insert_document_version(b, &v2, t)
            .await
            .unwrap()
            .is_none(),
        "not on another tenant's registration"
    );
    tx.commit().await.unwrap();
    assert_eq!(got_v3.data, v3);
    let list = s.document_versions(a, reg.id).await.unwrap();
    assert_eq!(list, vec![got_v2.clone(), got_v3.clone(), got_a2.clone()]);
    assert_eq!(list[0].at, t, "time round trip");
    // By time, for the registro giornaliero: `from` included, `to` excluded.
    let second = jiff::SignedDuration::from_secs(1);
    assert_eq!(
        s.document_versions_between(a, t, t + second).await.unwrap(),
        vec![got_a2.clone(), got_v2.clone(), got_v3.clone()]
    );
    assert!(
        s.document_versions_between(a, t - second, t)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.document_versions_between(b, t, t + second)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.document_versions(b, reg.id).await.unwrap().is_empty());
    let by_id = s
        .document_versions_by_id(a, DocumentVersionId(0), 10)
        .await
        .unwrap();
    assert_eq!(by_id, vec![got_a2.clone(), got_v2.clone(), got_v3.clone()]);
    assert_eq!(
        s.document_versions_by_id(a, got_a2.id, 1).await.unwrap(),
        vec![got_v2.clone()],
        "after and limit"
    );
    // The same version number twice for the same document: a conflict.
    let mut tx = s.begin().await.unwrap();
    let dup = new(0, 3, TipoModifica::Rettifica, b"v3bis", Impronta::of(b"v2"));
    assert!(matches!(
        tx.insert_document_version(a, &dup, t).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    // Annulled: no new version.
    let ann = Annulment {
        at: t,
        by: "Responsabile (user:2)".into(),
        reason: "Errore".into(),
        act: "Provvedimento 1".into(),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(tx.annul_registration(a, reg.id, &ann).await.unwrap());
    let v4 = new(0, 4, TipoModifica::Rettifica, b"v4", Impronta::of(b"v3"));
    assert!(
        tx.insert_document_version(a, &v4, t)
            .await
            .unwrap()
            .is_none(),
        "annulled"
    );
    tx.commit().await.unwrap();
    assert_eq!(s.document_versions(a, reg.id).await.unwrap().len(), 3);
}

async fn protocollo<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let reg = "REG_PROT";
    let mut tx = s.begin().await.unwrap();
    let (n1, t1) = tx.next_protocol_number(a, reg, 2026).await.unwrap();
    let r1 = tx
        .insert_registration(a, &registration_fixture("Prima"), 2026, n1, t1)
        .await
        .unwrap();
    let (n2, t2) = tx.next_protocol_number(a, reg, 2026).await.unwrap();
    tx.insert_registration(a, &registration_fixture("Seconda"), 2026, n2, t2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((n1, n2), (1, 2), "numbers start at 1 and grow by one");
    assert!(t2 > t1, "time order follows number order");

    // A rolled-back registration consumes no number (PR-2).
    let mut tx = s.begin().await.unwrap();
    assert_eq!(tx.next_protocol_number(a, reg, 2026).await.unwrap().0, 3);
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.next_protocol_number(a, reg, 2026).await.unwrap().0,
        3,
        "no gap after a rollback"
    );
    // Each year, register and tenant has its own sequence.
    assert_eq!(tx.next_protocol_number(a, reg, 2027).await.unwrap().0, 1);
    assert_eq!(
        tx.next_protocol_number(a, "REG_EMERG", 2026)
            .await
            .unwrap()
            .0,
        1
    );
    assert_eq!(tx.next_protocol_number(b, reg, 2026).await.unwrap().0, 1);
    drop(tx);

    // Round trip, lookups, tenant isolation.
    let got = s.registration(a, r1.id).await.unwrap().unwrap();
    assert_eq!(got, r1);
    assert_eq!(s.registration(b, r1.id).await.unwrap(), None);
    assert_eq!(
        s.registration_by_number(a, reg, 2026, 2)
            .await
            .unwrap()
            .map(|r| r.data.subject),
        Some("Seconda".into())
    );
    assert_eq!(
        s.registration_by_number(a, reg, 2027, 1).await.unwrap(),
        None
    );
    let list = s.registrations(a, reg, 2026, 1, 10).await.unwrap();
    assert_eq!(list.len(), 1, "after number 1");
    assert_eq!(
        s.registrations_by_id(a, RegistrationId(0), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        s.registrations_by_id(b, RegistrationId(0), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The same number twice is refused by the database itself.
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.insert_registration(a, &registration_fixture("Doppia"), 2026, 1, t2)
            .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    // Only classification and assignment change, each change with its
    // author, time and the values before; annulment happens once.
    let change = |classification: &str, by: &str| AssignmentChange {
        classification: Some(classification.to_owned()),
        office: None,
        at: t2,
        by: by.to_owned(),
    };
    let mut tx = s.begin().await.unwrap();
    let c1 = tx
        .update_registration_assignment(a, r1.id, &change("I.5", "Operatore (user:1)"))
        .await
        .unwrap();
    assert_eq!(
        (
            c1.seq,
            c1.old_classification.as_deref(),
            c1.new_classification.as_deref()
        ),
        (1, r1.data.classification.as_deref(), Some("I.5"))
    );
    let c2 = tx
        .update_registration_assignment(a, r1.id, &change("I.6", "Archivista (user:3)"))
        .await
        .unwrap();
    assert_eq!(
        (
            c2.seq,
            c2.old_classification.as_deref(),
            c2.new_classification.as_deref()
        ),
        (2, Some("I.5"), Some("I.6"))
    );
    assert!(matches!(
        tx.update_registration_assignment(b, r1.id, &change("I.6", "x"))
            .await,
        Err(StoreError::NotFound)
    ));
    let ann = Annulment {
        at: t2,
        by: "Segretario (user:2)".into(),
        reason: "Registrato due volte".into(),
        act: "Determina n. 12/2026".into(),
    };
    assert!(tx.annul_registration(a, r1.id, &ann).await.unwrap());
    assert!(
        !tx.annul_registration(a, r1.id, &ann).await.unwrap(),
        "already annulled"
    );
    // An annulled entry keeps its classification and office.
    assert!(matches!(
        tx.update_registration_assignment(a, r1.id, &change("I.7", "x"))
            .await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    let got = s.registration(a, r1.id).await.unwrap().unwrap();
    assert_eq!(got.annulment, Some(ann));
    assert_eq!(got.data.classification.as_deref(), Some("I.6"));
    assert_eq!(
        got.changed,
        Some(LastChange {
            at: t2,
            by: "Archivista (user:3)".into()
        })
    );
    let history = s.protocol_changes(a, r1.id).await.unwrap();
    assert_eq!(history, vec![c1.clone(), c2.clone()]);
    assert!(s.protocol_changes(b, r1.id).await.unwrap().is_empty());
    // By time, for the registro giornaliero: from `from` on, in the tenant.
    let second = jiff::SignedDuration::from_secs(1);
    assert_eq!(s.protocol_changes_since(a, t2).await.unwrap(), vec![c1, c2]);
    assert!(
        s.protocol_changes_since(a, t2 + second)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.protocol_changes_since(b, t2 - second)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(got.data.subject, "Prima", "annulled, still readable");

    // A sender's notice of annulment (migration 0017): once per
    // registration, within the tenant.
    let notice = NewAnnulmentNotice {
        registration: r1.id,
        reason: "Errore materiale".into(),
        act: "Determina n. 5/2026".into(),
        document: got.data.primary.clone(),
        recorded_by: "Sportello (user:1)".into(),
    };
    let mut tx = s.begin().await.unwrap();
    let stored = tx
        .insert_annulment_notice(a, &notice, t2)
        .await
        .unwrap()
        .expect("the first notice is stored");
    assert_eq!(
        tx.insert_annulment_notice(a, &notice, t2).await.unwrap(),
        None,
        "one notice per registration"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        s.annulment_notice(a, r1.id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(s.annulment_notice(b, r1.id).await.unwrap(), None);
    assert_eq!(
        s.annulment_notices(a, RegistrationId(0), 10).await.unwrap(),
        vec![stored.clone()]
    );
    assert!(s.annulment_notices(a, r1.id, 10).await.unwrap().is_empty());
    // By time of receipt: `from` included, `to` excluded, in the tenant.
    let second = jiff::SignedDuration::from_secs(1);
    assert_eq!(
        s.annulment_notices_between(a, t2, t2 + second)
            .await
            .unwrap(),
        vec![stored.clone()]
    );
    assert!(
        s.annulment_notices_between(a, t2 - second, t2)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.annulment_notices_between(b, t2, t2 + second)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.annulment_notices(b, RegistrationId(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The index of the senders of incoming registrations by fiscal code
/// (migration 0011, issue 4 item 7): only incoming registrations, matched
/// trimmed and case-insensitively, newest first, within the tenant.
async fn protocol_senders<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::protocollo::{Correspondent, Flow};
    const YEAR: i16 = 2032;
    let mario = "RSSMRA80A01H501U";
    let anna = CodiceFiscale::parse("RSSMRA85T10A562S").unwrap();
    async fn insert<S: Store>(s: &S, tenant: TenantId, r: NewRegistration) -> Registration {
        let mut tx = s.begin().await.unwrap();
        let (n, at) = tx
            .next_protocol_number(tenant, r.register.as_str(), YEAR)
            .await
            .unwrap();
        let got = tx
            .insert_registration(tenant, &r, YEAR, n, at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        got
    }
    let ids = |v: Vec<Registration>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    // Mario's registrations of the earlier checks.
    let earlier = ids(s.registrations_from_sender(a, mario, 50).await.unwrap());
    let earlier_b = ids(s.registrations_from_sender(b, mario, 50).await.unwrap());
    // Incoming from Mario Rossi (the fixture).
    let first = insert(s, a, registration_fixture("Da Mario")).await;
    // Incoming from two senders, Mario's code typed in lower case with spaces.
    let mut two = registration_fixture("Da Mario e Anna");
    two.correspondents[0].fiscal_code = Some(format!("  {}  ", mario.to_lowercase()));
    two.correspondents
        .push(Correspondent::person("Anna Bianchi", &anna));
    let second = insert(s, a, two).await;
    // Outgoing to Mario: he is a recipient, not the sender.
    let mut out = registration_fixture("A Mario");
    out.flow = Flow::Uscita;
    insert(s, a, out).await;
    // Incoming without a fiscal code.
    let mut anonymous = registration_fixture("Anonima");
    anonymous.correspondents[0].fiscal_code = None;
    insert(s, a, anonymous).await;
    // Incoming from Mario to the other tenant.
    let other = insert(s, b, registration_fixture("Da Mario, altro ente")).await;

    let expected = [vec![second.id, first.id], earlier].concat();
    assert_eq!(
        ids(s.registrations_from_sender(a, mario, 50).await.unwrap()),
        expected,
        "incoming only, newest first"
    );
    assert_eq!(
        ids(s
            .registrations_from_sender(a, " rssmra80a01h501u", 50)
            .await
            .unwrap()),
        expected,
        "trimmed, case-insensitive"
    );
    assert_eq!(
        ids(s.registrations_from_sender(a, mario, 1).await.unwrap()),
        [second.id],
        "limit"
    );
    assert_eq!(
        ids(s
            .registrations_from_sender(a, anna.as_str(), 50)
            .await
            .unwrap()),
        [second.id],
        "every sender of a registration"
    );
    assert_eq!(
        ids(s.registrations_from_sender(b, mario, 50).await.unwrap()),
        [vec![other.id], earlier_b].concat(),
        "tenant isolation"
    );
    assert!(
        s.registrations_from_sender(a, "VRDLGI70A01F205X", 50)
            .await
            .unwrap()
            .is_empty()
    );
    let got = s.registrations_from_sender(a, mario, 50).await.unwrap();
    assert_eq!(got[1], first, "the whole registration round-trips");
}

/// Titolario versions and fascicoli (issue 4, part 3): immutable versions,
/// gap-free numbers per (year, class), the index, the closing rule (TI-4).
async fn filing<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let t0 = crate::rows::registration_time();
    let version = |n: u32, closed: bool| TitolarioVersion {
        tenant: a,
        info: TitolarioVersionInfo {
            version: n,
            created_at: t0,
            created_by: "Amministratore (user:1)".into(),
            change: format!("versione {n}"),
        },
        classes: vec![
            TitolarioClass {
                code: "VI".into(),
                titolo: 6,
                classe: None,
                name: "Pianificazione e gestione del territorio".into(),
                closed: false,
            },
            TitolarioClass {
                code: "VI.3".into(),
                titolo: 6,
                classe: Some(3),
                name: "Edilizia privata".into(),
                closed,
            },
        ],
    };
    assert!(s.titolario_version(a, None).await.unwrap().is_none());
    let mut tx = s.begin().await.unwrap();
    tx.insert_titolario_version(&version(1, false))
        .await
        .unwrap();
    tx.insert_titolario_version(&version(2, true))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(
        matches!(
            tx.insert_titolario_version(&version(2, false)).await,
            Err(StoreError::Conflict(_))
        ),
        "a version number is taken once"
    );
    drop(tx);
    assert_eq!(
        s.titolario_version(a, None).await.unwrap(),
        Some(version(2, true))
    );
    assert_eq!(
        s.titolario_version(a, Some(1)).await.unwrap(),
        Some(version(1, false))
    );
    assert_eq!(s.titolario_versions(a).await.unwrap().len(), 2);
    assert!(s.titolario_versions(b).await.unwrap().is_empty());

    let mut tx = s.begin().await.unwrap();
    let office = tx
        .insert_office(a, &office_fixture("edilizia"))
        .await
        .unwrap();
    let permesso = registration_fixture("Permesso");
    let (n, at) = tx
        .next_protocol_number(a, permesso.register.as_str(), 2031)
        .await
        .unwrap();
    let r = tx
        .insert_registration(a, &permesso, 2031, n, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let new = NewFascicolo {
        classification: "VI.3".into(),
        titolario_version: 1,
        kind: FascicoloKind::Procedimento,
        subject: "Permesso di costruire, via Roma 1 (50% ampliamento)".into(),
        office: office.id,
        responsible: "Ing. Anna Bianchi".into(),
        participants: vec!["Soprintendenza ABAP Bari".into()],
        holder: None,
        parent: None,
        opened_on: date(2026, 3, 2),
        opened_by: "Operatore (user:1)".into(),
    };
    let mut tx = s.begin().await.unwrap();
    let n1 = tx.next_fascicolo_number(a, 2026, "VI.3").await.unwrap();
    let f1 = tx
        .insert_fascicolo(a, &new, &format!("2026-VI.3-{n1}"), 2026, n1, t0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let n2 = tx.next_fascicolo_number(a, 2026, "VI.3").await.unwrap();
    assert_eq!((n1, n2), (1, 2), "progressive per class and year");
    assert_eq!(tx.next_fascicolo_number(a, 2027, "VI.3").await.unwrap(), 1);
    assert_eq!(tx.next_fascicolo_number(a, 2026, "VI.4").await.unwrap(), 1);
    assert_eq!(tx.next_fascicolo_number(b, 2026, "VI.3").await.unwrap(), 1);
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.next_fascicolo_number(a, 2026, "VI.3").await.unwrap(),
        2,
        "a rolled-back opening consumes no number"
    );
    assert!(matches!(
        tx.insert_fascicolo(a, &new, "2026-VI.3-1", 2026, 2, t0)
            .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    assert_eq!(s.fascicolo(a, f1.id).await.unwrap(), Some(f1.clone()));
    assert_eq!(s.fascicolo(b, f1.id).await.unwrap(), None);
    assert_eq!(
        s.fascicolo_by_code(a, "2026-VI.3-1")
            .await
            .unwrap()
            .map(|f| f.id),
        Some(f1.id)
    );

    // Search by class, year, words (wildcards literal), office, state.
    let q = |f: &dyn Fn(&mut FascicoloQuery)| {
        let mut q = FascicoloQuery {
            limit: 10,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    for (query, hits) in [
        (q(&|_| {}), 1),
        (q(&|q| q.classification = Some("VI.3".into())), 1),
        (q(&|q| q.classification = Some("VI.4".into())), 0),
        (q(&|q| q.year = Some(2026)), 1),
        (q(&|q| q.year = Some(2025)), 0),
        (q(&|q| q.subject = Some("PERMESSO".into())), 1),
        (q(&|q| q.subject = Some("50%".into())), 1),
        (q(&|q| q.subject = Some("5_%".into())), 0),
        (q(&|q| q.office = Some(office.id)), 1),
        (q(&|q| q.open_only = true), 1),
        (q(&|q| q.after = Some(f1.id)), 0),
    ] {
        assert_eq!(
            s.search_fascicoli(a, &query).await.unwrap().len(),
            hits,
            "{query:?}"
        );
    }
    assert!(s.search_fascicoli(b, &q(&|_| {})).await.unwrap().is_empty());

    // The index: add (once), remove, the links of a range.
    let doc = FascicoloDocument {
        registration: r.id,
        added_at: t0,
        added_by: "Operatore (user:1)".into(),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(tx.add_fascicolo_document(a, f1.id, &doc).await.unwrap());
    assert!(
        !tx.add_fascicolo_document(a, f1.id, &doc).await.unwrap(),
        "once"
    );
    assert!(
        !tx.add_fascicolo_document(b, f1.id, &doc).await.unwrap(),
        "other tenant"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        s.fascicolo_documents(a, f1.id).await.unwrap(),
        vec![doc.clone()]
    );
    assert_eq!(
        s.fascicoli_of_registration(a, r.id).await.unwrap(),
        vec![f1.clone()]
    );
    assert_eq!(
        s.fascicolo_links(a, f1.id, f1.id).await.unwrap(),
        vec![(f1.id, doc.clone())]
    );
    let mut tx = s.begin().await.unwrap();
    assert!(tx.remove_fascicolo_document(a, f1.id, r.id).await.unwrap());
    assert!(!tx.remove_fascicolo_document(a, f1.id, r.id).await.unwrap());
    assert!(tx.add_fascicolo_document(a, f1.id, &doc).await.unwrap());
    tx.commit().await.unwrap();

    // Closing is once; a closed fascicolo takes no document and loses none (TI-4).
    let closure = FascicoloClosure {
        on: date(2026, 9, 30),
        at: t0,
        by: "Responsabile (user:2)".into(),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(tx.close_fascicolo(a, f1.id, &closure).await.unwrap());
    assert!(!tx.close_fascicolo(a, f1.id, &closure).await.unwrap());
    assert!(!tx.remove_fascicolo_document(a, f1.id, r.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let other = FascicoloDocument {
        registration: RegistrationId(r.id.0 + 1000),
        ..doc.clone()
    };
    assert!(!tx.add_fascicolo_document(a, f1.id, &other).await.unwrap());
    drop(tx);
    let got = s.fascicolo(a, f1.id).await.unwrap().unwrap();
    assert_eq!(got.closure, Some(closure));
    assert_eq!(s.fascicolo_documents(a, f1.id).await.unwrap(), vec![doc]);
    assert_eq!(
        s.search_fascicoli(a, &q(&|q| q.open_only = true))
            .await
            .unwrap()
            .len(),
        0
    );

    // A sub-fascicolo is stored only under an open parent; the children.
    let mut tx = s.begin().await.unwrap();
    let child = NewFascicolo {
        parent: Some(f1.id),
        ..new.clone()
    };
    assert!(matches!(
        tx.insert_fascicolo(a, &child, "2026-VI.3-90", 2026, 90, t0)
            .await,
        Err(StoreError::NotFound)
    ));
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    let f2 = tx
        .insert_fascicolo(a, &new, "2026-VI.3-2", 2026, 2, t0)
        .await
        .unwrap();
    let f3 = tx
        .insert_fascicolo(
            a,
            &NewFascicolo {
                parent: Some(f2.id),
                ..new.clone()
            },
            "2026-VI.3-3",
            2026,
            3,
            t0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.fascicolo_children(a, f2.id).await.unwrap(),
        vec![f3.clone()]
    );
    assert!(s.fascicolo_children(a, f3.id).await.unwrap().is_empty());
    assert!(s.fascicolo_children(b, f2.id).await.unwrap().is_empty());

    // Restricted areas (TI-6): set, read back, lift; per tenant.
    let restriction = FascicoloRestriction {
        offices: vec![office.id],
        users: vec![UserId(7)],
        at: t0,
        by: "Operatore (user:1)".into(),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.set_fascicolo_restriction(a, f2.id, Some(&restriction))
            .await
            .unwrap()
    );
    assert!(
        !tx.set_fascicolo_restriction(b, f2.id, Some(&restriction))
            .await
            .unwrap(),
        "other tenant"
    );
    tx.commit().await.unwrap();
    let got = s.fascicolo(a, f2.id).await.unwrap().unwrap();
    assert_eq!(got.restriction, Some(restriction.clone()));
    assert_eq!(
        s.fascicolo_by_code(a, "2026-VI.3-2")
            .await
            .unwrap()
            .unwrap()
            .restriction,
        Some(restriction)
    );
    let mut tx = s.begin().await.unwrap();
    assert!(tx.set_fascicolo_restriction(a, f2.id, None).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(s.fascicolo(a, f2.id).await.unwrap(), Some(f2.clone()));

    // Hand-offs of a whole fascicolo (TI-5): the same table and steps as a
    // registration's, kept apart by subject.
    let mut tx = s.begin().await.unwrap();
    let hf = tx
        .insert_handoff(
            a,
            &NewHandoff {
                subject: HandoffSubject::Fascicolo(f2.id),
                kind: HandoffKind::Competenza,
                office: office.id,
                user: None,
                parent: None,
                desk: None,
            },
            t0,
        )
        .await
        .unwrap();
    tx.append_handoff_step(a, hf.id, "assegnato", "Operatore (user:1)", t0, None)
        .await
        .unwrap();
    let hr = tx
        .insert_handoff(
            a,
            &NewHandoff {
                subject: HandoffSubject::Registration(r.id),
                kind: HandoffKind::Conoscenza,
                office: office.id,
                user: None,
                parent: None,
                desk: None,
            },
            t0,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            tx.insert_handoff(
                b,
                &NewHandoff {
                    subject: HandoffSubject::Fascicolo(f2.id),
                    kind: HandoffKind::Competenza,
                    office: office.id,
                    user: None,
                    parent: None,
                    desk: None,
                },
                t0,
            )
            .await,
            Err(StoreError::NotFound)
        ),
        "another tenant's fascicolo"
    );
    tx.commit().await.unwrap();
    assert_eq!(s.handoff(a, hf.id).await.unwrap(), Some(hf.clone()));
    assert_eq!(
        s.handoffs_of(a, HandoffSubject::Fascicolo(f2.id))
            .await
            .unwrap(),
        vec![hf.clone()]
    );
    assert_eq!(
        s.handoffs_of(a, HandoffSubject::Registration(r.id))
            .await
            .unwrap(),
        vec![hr]
    );
    let steps = s
        .handoff_steps(a, HandoffSubject::Fascicolo(f2.id))
        .await
        .unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].handoff, hf.id);
    assert!(
        s.handoff_steps(a, HandoffSubject::Registration(r.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.handoffs_of(b, HandoffSubject::Fascicolo(f2.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.office_handoffs(a, office.id, true).await.unwrap().len(),
        2,
        "one inbox for both subjects"
    );
    handoffs_to_people(s, a, b, office.id, r.id).await;
}

/// Hand-offs to a named person, forwarding in one store call, and refused
/// hand-offs back at their desk (issue 4, part 4; TI-5).
async fn handoffs_to_people<S: Store>(
    s: &S,
    a: TenantId,
    b: TenantId,
    office: OfficeId,
    r: RegistrationId,
) {
    let t0 = crate::rows::registration_time();
    let person = |given: &str| NewUser {
        codice_fiscale: None,
        given_name: given.into(),
        family_name: "Bianchi".into(),
        birth_date: None,
        birth_place: None,
        email: None,
        phone: None,
        notice_channel: NoticeChannel::Email,
    };
    let mut tx = s.begin().await.unwrap();
    let anna = tx.insert_user(a, &person("Anna"), t0).await.unwrap();
    let elsewhere = tx.insert_user(b, &person("Bruno"), t0).await.unwrap();
    let office_b = tx
        .insert_office(b, &office_fixture("altrove"))
        .await
        .unwrap();
    let to_anna = NewHandoff {
        subject: HandoffSubject::Registration(r),
        kind: HandoffKind::Competenza,
        office,
        user: Some(anna.id),
        parent: None,
        desk: Some(HandoffDesk::Office(office)),
    };
    assert!(
        matches!(
            tx.insert_handoff(
                a,
                &NewHandoff {
                    user: Some(elsewhere.id),
                    ..to_anna.clone()
                },
                t0
            )
            .await,
            Err(StoreError::NotFound)
        ),
        "a person of another tenant"
    );
    let h = tx.insert_handoff(a, &to_anna, t0).await.unwrap();
    tx.append_handoff_step(a, h.id, "assegnato", "Operatore (user:1)", t0, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.handoff(a, h.id).await.unwrap(), Some(h.clone()));
    assert_eq!(
        s.user_handoffs(a, anna.id, true).await.unwrap(),
        vec![h.clone()]
    );
    assert!(s.user_handoffs(b, anna.id, false).await.unwrap().is_empty());
    async fn steps<S: Store>(s: &S, a: TenantId, r: RegistrationId) -> usize {
        let subject = HandoffSubject::Registration(r);
        s.handoff_steps(a, subject).await.unwrap().len()
    }
    let steps_before = steps(s, a, r).await;

    // A continuation that cannot be stored (an office of another tenant)
    // leaves nothing behind, even when the transaction is committed: no
    // half-forward.
    let t1 = crate::rows::registration_time();
    let mut tx = s.begin().await.unwrap();
    let bad = NewHandoff {
        office: office_b.id,
        user: None,
        ..to_anna.clone()
    };
    assert!(
        tx.forward_handoff(
            a,
            h.id,
            HandoffState::Assegnato,
            &bad,
            ("Anna", Some("x")),
            t1
        )
        .await
        .is_err()
    );
    tx.commit().await.unwrap();
    assert_eq!(s.handoff(a, h.id).await.unwrap(), Some(h.clone()));
    assert_eq!(steps(s, a, r).await, steps_before);
    // From a state it is no longer in: nothing written.
    let mut tx = s.begin().await.unwrap();
    let next = NewHandoff {
        user: None,
        desk: Some(HandoffDesk::User(anna.id)),
        ..to_anna.clone()
    };
    assert_eq!(
        tx.forward_handoff(a, h.id, HandoffState::Accettato, &next, ("Anna", None), t1)
            .await
            .unwrap(),
        None
    );
    // Forwarded: closed as inoltrato and continued, one call.
    let n = tx
        .forward_handoff(
            a,
            h.id,
            HandoffState::Assegnato,
            &next,
            ("Anna", Some("All'ufficio")),
            t1,
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n.data.parent, Some(h.id));
    assert_eq!(n.data.desk, Some(HandoffDesk::User(anna.id)));
    assert_eq!(s.handoff(a, n.id).await.unwrap(), Some(n.clone()));
    let old = s.handoff(a, h.id).await.unwrap().unwrap();
    assert_eq!((old.state, old.updated_at), (HandoffState::Inoltrato, t1));
    assert_eq!(steps(s, a, r).await, steps_before + 2);
    assert!(s.user_handoffs(a, anna.id, true).await.unwrap().is_empty());
    assert_eq!(s.user_handoffs(a, anna.id, false).await.unwrap(), vec![old]);

    // Refused: back at its desk (Anna) until she takes note of it.
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.set_handoff_state(
            a,
            n.id,
            HandoffState::Assegnato,
            HandoffState::Rifiutato,
            t1
        )
        .await
        .unwrap()
    );
    tx.append_handoff_step(a, n.id, "rifiutato", "Ufficio", t1, Some("Non è nostro"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let back = s
        .returned_handoffs(a, HandoffDesk::User(anna.id))
        .await
        .unwrap();
    assert_eq!(back.iter().map(|x| x.id).collect::<Vec<_>>(), vec![n.id]);
    assert!(
        s.returned_handoffs(a, HandoffDesk::Office(office))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.returned_handoffs(b, HandoffDesk::User(anna.id))
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.note_refused_handoff(a, h.id, "Anna", t1, None)
            .await
            .unwrap(),
        None,
        "only a refused hand-off"
    );
    let noted = tx
        .note_refused_handoff(a, n.id, "Anna", t1, Some("Visto"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(noted.action, "preso_atto");
    assert_eq!(
        tx.note_refused_handoff(a, n.id, "Anna", t1, None)
            .await
            .unwrap(),
        None,
        "once"
    );
    tx.commit().await.unwrap();
    assert!(
        s.returned_handoffs(a, HandoffDesk::User(anna.id))
            .await
            .unwrap()
            .is_empty()
    );
}

fn certificate_fixture(cti: u8, idx: i64) -> NewCertificate {
    NewCertificate {
        cti: [cti; 16],
        doc_type: "residenza".into(),
        holder_cf: "RSSMRA80A01H501U".parse().unwrap(),
        holder_surname: "ROSSI".into(),
        uso: "bollo".into(),
        bollo_cents: 1600,
        issued_at: "2026-11-27T10:00:00.123456Z".parse().unwrap(),
        valid_until: Some(date(2027, 5, 27)),
        pdf_sha256: [cti; 32],
        pdf_size: 31_000,
        kid: "0011223344556677".into(),
        status_list: 2026,
        status_idx: idx,
        requested_by: "user:1".into(),
        channel: Channel::Online,
    }
}

/// Issued certificates (migration 0025): insert, unique cti and status bit
/// per tenant, read back by cti and holder, settle the bollo once, revoke
/// once, and the revoked bits of a list.
async fn certificates<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let mut tx = s.begin().await.unwrap();
    let first = tx
        .insert_certificate(a, &certificate_fixture(1, 7))
        .await
        .unwrap();
    let mut exempt = certificate_fixture(2, 8);
    exempt.valid_until = None;
    exempt.bollo_cents = 0;
    exempt.uso = "e_previdenza".into();
    exempt.channel = Channel::Sportello;
    let second = tx.insert_certificate(a, &exempt).await.unwrap();
    // The same cti and bit in another comune are another certificate.
    tx.insert_certificate(b, &certificate_fixture(1, 7))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for (clash, what) in [
        (certificate_fixture(1, 9), "same cti"),
        (certificate_fixture(3, 7), "same status bit"),
    ] {
        let mut tx = s.begin().await.unwrap();
        assert!(
            matches!(
                tx.insert_certificate(a, &clash).await,
                Err(StoreError::Conflict(_))
            ),
            "{what} must conflict"
        );
    }
    let got = s.certificate_by_cti(a, &[1; 16]).await.unwrap().unwrap();
    assert_eq!(got, first, "read back as inserted");
    assert!(!got.releasable(), "in bollo and unpaid");
    assert_eq!(
        s.certificate_by_cti(a, &[2; 16]).await.unwrap().unwrap(),
        second
    );
    assert!(second.releasable(), "exempt");
    assert!(s.certificate_by_cti(a, &[9; 16]).await.unwrap().is_none());
    let cf: CodiceFiscale = "RSSMRA80A01H501U".parse().unwrap();
    let mine = s.certificates_of(a, &cf).await.unwrap();
    assert_eq!(
        mine.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "newest first, this comune only"
    );
    let paid = BolloPayment {
        method: "contrassegno".into(),
        reference: "01234567890123".into(),
        recorded_at: "2026-11-27T10:05:00Z".parse().unwrap(),
        recorded_by: "user:2".into(),
    };
    let revocation = Revocation {
        at: "2026-11-28T09:00:00Z".parse().unwrap(),
        by: "user:2".into(),
        reason: "rilasciato per errore".into(),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.settle_certificate_bollo(a, first.id, &paid)
            .await
            .unwrap()
    );
    assert!(
        !tx.settle_certificate_bollo(a, first.id, &paid)
            .await
            .unwrap(),
        "once"
    );
    assert!(
        !tx.settle_certificate_bollo(b, first.id, &paid)
            .await
            .unwrap(),
        "other comune"
    );
    assert!(
        tx.revoke_certificate(a, first.id, &revocation)
            .await
            .unwrap()
    );
    assert!(
        !tx.revoke_certificate(a, first.id, &revocation)
            .await
            .unwrap(),
        "once"
    );
    tx.commit().await.unwrap();
    let got = s.certificate_by_cti(a, &[1; 16]).await.unwrap().unwrap();
    assert_eq!(got.bollo_paid, Some(paid));
    assert_eq!(got.revocation, Some(revocation));
    assert!(got.releasable());
    assert_eq!(s.revoked_indices(a, 2026).await.unwrap(), vec![7]);
    assert!(s.revoked_indices(b, 2026).await.unwrap().is_empty());
    assert!(s.revoked_indices(a, 2025).await.unwrap().is_empty());
    let page = s.certificates_by_id(a, CertificateId(0), 1).await.unwrap();
    assert_eq!(page.len(), 1);
    let rest = s.certificates_by_id(a, page[0].id, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
}

/// Online istanze (migration 0028): definitions are versioned and fixed;
/// drafts belong to their user; a submission key is used once; a pratica
/// changes state only from the state read; its history only grows; another
/// comune sees none of it.
async fn pratiche<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::protocollo::Impronta;
    const YEAR: i16 = 2034;
    let t0 = jiff::Timestamp::from_second(1_900_000_000).unwrap();
    let person = |given: &str| NewUser {
        codice_fiscale: None,
        given_name: given.into(),
        family_name: "Verdi".into(),
        birth_date: None,
        birth_place: None,
        email: Some(Email::parse("verdi@example.org").unwrap()),
        phone: None,
        notice_channel: NoticeChannel::Email,
    };
    let mut tx = s.begin().await.unwrap();
    let giulia = tx.insert_user(a, &person("Giulia"), t0).await.unwrap();
    let luca = tx.insert_user(a, &person("Luca"), t0).await.unwrap();
    let office = tx
        .insert_office(a, &office_fixture("paesaggio"))
        .await
        .unwrap();
    let def = |version: u32| NewServiceDefinition {
        service_slug: "autorizzazione-paesaggistica".into(),
        version,
        definition: format!("{{\"v\":{version}}}"),
        created_by: "sistema".into(),
        created_at: t0,
    };
    let v1 = tx.insert_service_definition(a, &def(1)).await.unwrap();
    let v2 = tx.insert_service_definition(a, &def(2)).await.unwrap();
    tx.insert_service_definition(b, &def(1)).await.unwrap();
    tx.commit().await.unwrap();
    {
        let mut tx = s.begin().await.unwrap();
        assert!(
            matches!(
                tx.insert_service_definition(a, &def(2)).await,
                Err(StoreError::Conflict(_))
            ),
            "a saved version is never replaced"
        );
    }
    let slug = "autorizzazione-paesaggistica";
    assert_eq!(
        s.service_definition(a, slug, None).await.unwrap(),
        Some(v2.clone()),
        "newest version by default"
    );
    assert_eq!(
        s.service_definition(a, slug, Some(1)).await.unwrap(),
        Some(v1)
    );
    assert_eq!(s.service_definition(a, slug, Some(3)).await.unwrap(), None);
    assert_eq!(
        s.current_service_definitions(a).await.unwrap(),
        vec![v2],
        "one current version per service"
    );

    // Drafts: saved, resumed, never another user's.
    let draft = NewBozza {
        user: giulia.id,
        service_slug: slug.into(),
        definition_version: 2,
        answers: "{}".into(),
        step: "richiedente".into(),
        key: "k-giulia-1".into(),
    };
    let mut tx = s.begin().await.unwrap();
    let bozza = tx.insert_bozza(a, &draft, t0).await.unwrap();
    let doc = |bytes: &[u8]| DocumentRef {
        name: "relazione.pdf".into(),
        media_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256: Impronta::of(bytes),
    };
    let file = tx
        .insert_allegato(
            a,
            &NewAllegato {
                owner: AllegatoOwner::Bozza(bozza.id),
                spec_id: "relazione".into(),
                document: doc(b"relazione"),
                event_seq: None,
            },
            t0,
        )
        .await
        .unwrap();
    let spare = tx
        .insert_allegato(
            a,
            &NewAllegato {
                owner: AllegatoOwner::Bozza(bozza.id),
                spec_id: "foto".into(),
                document: doc(b"foto"),
                event_seq: None,
            },
            t0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let t1 = jiff::Timestamp::from_second(1_900_000_600).unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(
        !tx.update_bozza(a, luca.id, bozza.id, "{\"x\":1}", "opere", t1)
            .await
            .unwrap(),
        "another user's draft is not saved"
    );
    assert!(
        !tx.update_bozza(b, giulia.id, bozza.id, "{\"x\":1}", "opere", t1)
            .await
            .unwrap(),
        "another comune's draft is not saved"
    );
    assert!(
        tx.update_bozza(a, giulia.id, bozza.id, "{\"x\":1}", "opere", t1)
            .await
            .unwrap()
    );
    assert!(
        tx.delete_allegato(a, AllegatoOwner::Bozza(bozza.id), spare.id)
            .await
            .unwrap()
    );
    assert!(
        !tx.delete_allegato(a, AllegatoOwner::Bozza(bozza.id), spare.id)
            .await
            .unwrap(),
        "once"
    );
    tx.commit().await.unwrap();
    assert!(s.bozza(a, luca.id, bozza.id).await.unwrap().is_none());
    assert!(s.bozza(b, giulia.id, bozza.id).await.unwrap().is_none());
    let resumed = s.bozza(a, giulia.id, bozza.id).await.unwrap().unwrap();
    assert_eq!(resumed.data.answers, "{\"x\":1}");
    assert_eq!(resumed.data.step, "opere");
    assert_eq!(resumed.updated_at, t1);
    assert_eq!(resumed.created_at, t0);
    assert_eq!(
        s.bozze_of(a, giulia.id).await.unwrap(),
        vec![resumed.clone()]
    );
    assert!(s.bozze_of(a, luca.id).await.unwrap().is_empty());
    assert_eq!(
        s.allegati(a, AllegatoOwner::Bozza(bozza.id)).await.unwrap(),
        vec![file.clone()]
    );
    assert!(
        s.allegati(b, AllegatoOwner::Bozza(bozza.id))
            .await
            .unwrap()
            .is_empty()
    );

    // Submission: registration, pratica, attachments moved, draft deleted.
    let mut tx = s.begin().await.unwrap();
    let (n, at) = tx.next_protocol_number(a, "REG_PROT", YEAR).await.unwrap();
    let reg = tx
        .insert_registration(a, &registration_fixture("Autorizzazione"), YEAR, n, at)
        .await
        .unwrap();
    let new = NewPratica {
        service_slug: slug.into(),
        definition_version: 2,
        applicant_user: Some(giulia.id),
        applicant_cf: Some("VRDGLI80A41H501X".into()),
        applicant_name: "Giulia Verdi".into(),
        applicant_email: Some("verdi@example.org".into()),
        subject: "Autorizzazione paesaggistica semplificata".into(),
        answers: "{\"x\":1}".into(),
        registration: reg.id,
        fascicolo: None,
        office: office.id,
        responsabile: None,
        received_on: date(2034, 3, 2),
        submitted_at: at,
        state: "presentata".into(),
        deadline: Some(date(2034, 5, 2)),
        key: draft.key.clone(),
    };
    let pratica = tx.insert_pratica(a, &new).await.unwrap();
    assert_eq!(tx.move_allegati(a, bozza.id, pratica.id).await.unwrap(), 1);
    assert!(tx.delete_bozza(a, giulia.id, bozza.id).await.unwrap());
    let first = NewPraticaEvento {
        action: "presentata".into(),
        at,
        on_date: date(2034, 3, 2),
        actor: format!("user:{}", giulia.id.0),
        role: "cittadino".into(),
        from_state: "bozza".into(),
        to_state: "presentata".into(),
        note: None,
        payload: "{}".into(),
        registration: Some(reg.id),
        public: true,
        bindings: vec![Binding {
            subject: format!("pratica:{}", pratica.id.0),
            state: [7; 32],
        }],
    };
    let e1 = tx
        .insert_pratica_evento(a, pratica.id, &first)
        .await
        .unwrap();
    assert_eq!(e1.seq, 1);
    // Migration 0029: the registration binds the step filed with it.
    let filed = [Binding {
        subject: format!("pratica:{}:1", pratica.id.0),
        state: [9; 32],
    }];
    tx.bind_registration_records(a, reg.id, &filed)
        .await
        .unwrap();
    assert!(
        tx.bind_registration_records(b, reg.id, &filed)
            .await
            .is_err(),
        "another tenant's registration is not bound"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        s.pratica_eventi(a, pratica.id).await.unwrap()[0]
            .data
            .bindings,
        first.bindings
    );
    assert_eq!(
        s.registration(a, reg.id).await.unwrap().unwrap().bindings,
        filed
    );
    {
        let mut tx = s.begin().await.unwrap();
        assert!(
            tx.bind_registration_records(a, reg.id, &[]).await.is_err(),
            "the bindings are written once"
        );
    }
    {
        let mut tx = s.begin().await.unwrap();
        assert!(
            matches!(
                tx.insert_pratica(a, &new).await,
                Err(StoreError::Conflict(_))
            ),
            "a key submits once"
        );
    }
    assert!(s.bozza(a, giulia.id, bozza.id).await.unwrap().is_none());
    let moved = s
        .allegati(a, AllegatoOwner::Pratica(pratica.id))
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].id, file.id);
    assert_eq!(moved[0].data.owner, AllegatoOwner::Pratica(pratica.id));
    assert_eq!(
        s.pratica_by_key(a, "k-giulia-1").await.unwrap(),
        Some(pratica.clone())
    );
    assert!(s.pratica_by_key(b, "k-giulia-1").await.unwrap().is_none());
    assert!(s.pratica(b, pratica.id).await.unwrap().is_none());
    assert_eq!(
        s.pratiche_of(a, giulia.id).await.unwrap(),
        vec![pratica.clone()]
    );
    assert!(s.pratiche_of(a, luca.id).await.unwrap().is_empty());

    // One step: compare-and-swap on the state; the history grows.
    let step = PraticaChange {
        from_state: "presentata".into(),
        to_state: "sospesa_integrazione".into(),
        deadline: Some(date(2034, 5, 14)),
        responsabile: Some(luca.id),
        office: office.id,
        closed_at: None,
    };
    let mut tx = s.begin().await.unwrap();
    assert!(tx.change_pratica(a, pratica.id, &step).await.unwrap());
    assert!(
        !tx.change_pratica(a, pratica.id, &step).await.unwrap(),
        "the state moved: a stale step fails"
    );
    assert!(!tx.change_pratica(b, pratica.id, &step).await.unwrap());
    let e2 = tx
        .insert_pratica_evento(
            a,
            pratica.id,
            &NewPraticaEvento {
                action: "richiesta_integrazione".into(),
                from_state: "presentata".into(),
                to_state: "sospesa_integrazione".into(),
                note: Some("Manca la documentazione fotografica.".into()),
                public: true,
                bindings: Vec::new(),
                ..first.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(e2.seq, 2);
    tx.commit().await.unwrap();
    let close = PraticaChange {
        from_state: "sospesa_integrazione".into(),
        to_state: "accolta".into(),
        deadline: Some(date(2034, 5, 14)),
        responsabile: Some(luca.id),
        office: office.id,
        closed_at: Some(t1),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(tx.change_pratica(a, pratica.id, &close).await.unwrap());
    tx.commit().await.unwrap();
    let got = s.pratica(a, pratica.id).await.unwrap().unwrap();
    assert_eq!(got.data.state, "accolta");
    assert_eq!(got.data.responsabile, Some(luca.id));
    assert_eq!(got.data.deadline, Some(date(2034, 5, 14)));
    assert_eq!(got.closed_at, Some(t1));
    let mut tx = s.begin().await.unwrap();
    assert!(
        !tx.change_pratica(
            a,
            pratica.id,
            &PraticaChange {
                from_state: "accolta".into(),
                to_state: "respinta".into(),
                ..close.clone()
            }
        )
        .await
        .unwrap(),
        "a concluded pratica does not move"
    );
    drop(tx);
    assert!(
        s.office_pratiche(a, office.id, PraticheFilter::Open)
            .await
            .unwrap()
            .is_empty(),
        "concluded: not in the open list"
    );
    assert_eq!(
        s.office_pratiche(a, office.id, PraticheFilter::All)
            .await
            .unwrap()
            .len(),
        1
    );
    let history = s.pratica_eventi(a, pratica.id).await.unwrap();
    assert_eq!(history, vec![e1, e2]);
    assert!(s.pratica_eventi(b, pratica.id).await.unwrap().is_empty());
    assert_eq!(
        s.pratiche_by_id(a, PraticaId(0), 10).await.unwrap(),
        vec![got]
    );
}

/// A message for the outbox checks.
pub fn mail_fixture(recipient: &str, related: Option<(&str, i64)>) -> NewMail {
    NewMail {
        recipient: recipient.into(),
        subject: "Ricevuta della pratica n. 42 — è stata protocollata".into(),
        text_body: "Gentile cittadino,\nla sua pratica è stata protocollata.\n".into(),
        html_body: None,
        reply_to: Some("protocollo@comune.example.it".into()),
        related: related.map(|(kind, id)| MailRelated {
            kind: kind.into(),
            id,
        }),
    }
}

/// Polls two futures together until both are done (no runtime needed).
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    use std::task::Poll;
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

async fn mail<S: Store>(s: &S, a: TenantId, b: TenantId) {
    let t0: Timestamp = "2026-03-02T09:00:00.5Z".parse().unwrap();
    let secs = |n: i64| t0 + jiff::SignedDuration::from_secs(n);

    // A mail queued in a transaction that rolls back does not exist.
    let mut tx = s.begin().await.unwrap();
    let gone = tx
        .insert_mail(a, &mail_fixture("rollback@example.it", None), t0)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(s.mail(a, gone).await.unwrap(), None, "rolled back mail");

    let mut tx = s.begin().await.unwrap();
    let m1 = tx
        .insert_mail(
            a,
            &mail_fixture("uno@example.it", Some(("pratica", 42))),
            t0,
        )
        .await
        .unwrap();
    let m2 = tx
        .insert_mail(
            a,
            &mail_fixture("due@example.it", Some(("pratica", 42))),
            secs(1),
        )
        .await
        .unwrap();
    let mut plain = mail_fixture("tre@example.it", None);
    plain.html_body = Some("<p>è</p>".into());
    plain.reply_to = None;
    let m3 = tx.insert_mail(a, &plain, secs(2)).await.unwrap();
    // Another comune's mail about its own pratica 42.
    let mb = tx
        .insert_mail(
            b,
            &mail_fixture("beta@example.it", Some(("pratica", 42))),
            t0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let got = s.mail(a, m3).await.unwrap().unwrap();
    assert_eq!(got.data, plain, "mail reads back equal");
    assert_eq!(got.state, MailState::Queued);
    assert_eq!(got.attempts, 0);
    assert_eq!(got.created_at, secs(2));
    assert_eq!(got.next_attempt_at, secs(2));
    assert_eq!(
        (got.sent_at, got.message_id, got.last_error),
        (None, None, None)
    );
    assert_eq!(s.mail(b, m3).await.unwrap(), None, "mail of another tenant");

    // Tenant isolation of the "we e-mailed you" list.
    let related: Vec<MailId> = s
        .mails_related(a, "pratica", 42)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        related,
        vec![m2, m1],
        "a's mails about pratica 42, newest first"
    );
    let related_b: Vec<MailId> = s
        .mails_related(b, "pratica", 42)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(related_b, vec![mb]);
    assert!(
        s.mails_related(a, "appuntamento", 42)
            .await
            .unwrap()
            .is_empty()
    );

    // Claims: only what is due, oldest due first across tenants, leased.
    let mut tx = s.begin().await.unwrap();
    let none = tx.claim_due_mails(secs(-1), 10, secs(300)).await.unwrap();
    assert!(none.is_empty(), "nothing due before t0: {none:?}");
    let first = tx.claim_due_mails(secs(1), 10, secs(300)).await.unwrap();
    tx.commit().await.unwrap();
    let mut ids: Vec<(TenantId, MailId)> = first.iter().map(|m| (m.tenant, m.id)).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![(a, m1), (a, m2), (b, mb)],
        "the three due at t0+1s"
    );
    for m in &first {
        assert_eq!(m.attempts, 1, "a claim counts as an attempt");
        assert_eq!(m.next_attempt_at, secs(300), "leased");
        assert_eq!(m.state, MailState::Queued);
    }
    let mut tx = s.begin().await.unwrap();
    let again = tx.claim_due_mails(secs(10), 10, secs(300)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        again.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![m3],
        "leased mails are not claimed again"
    );
    let mut tx = s.begin().await.unwrap();
    let limited = tx.claim_due_mails(secs(300), 1, secs(600)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(limited.len(), 1, "the limit holds");
    assert_eq!(limited[0].attempts, 2, "an expired lease is claimed again");

    // Outcomes.
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.mark_mail_sent(a, m1, "abc@comune.example.it", secs(5))
            .await
            .unwrap()
    );
    assert!(
        !tx.mark_mail_sent(a, m1, "again@x", secs(6)).await.unwrap(),
        "a sent mail is not sent again"
    );
    assert!(
        !tx.mark_mail_sent(b, m2, "x@y", secs(6)).await.unwrap(),
        "another tenant's id"
    );
    assert!(
        tx.mark_mail_failed(a, m2, "421 try later", Some(secs(900)))
            .await
            .unwrap()
    );
    assert!(
        tx.mark_mail_failed(b, mb, "550 no such user", None)
            .await
            .unwrap()
    );
    assert!(
        !tx.mark_mail_failed(b, mb, "again", None).await.unwrap(),
        "a failed mail is not failed again"
    );
    tx.commit().await.unwrap();
    let sent = s.mail(a, m1).await.unwrap().unwrap();
    assert_eq!(sent.state, MailState::Sent);
    assert_eq!(sent.sent_at, Some(secs(5)));
    assert_eq!(sent.message_id.as_deref(), Some("abc@comune.example.it"));
    let retry = s.mail(a, m2).await.unwrap().unwrap();
    assert_eq!(retry.state, MailState::Queued);
    assert_eq!(retry.next_attempt_at, secs(900));
    assert_eq!(retry.last_error.as_deref(), Some("421 try later"));
    let failed = s.mail(b, mb).await.unwrap().unwrap();
    assert_eq!(failed.state, MailState::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("550 no such user"));

    // Listing by state.
    let queued_a: Vec<MailId> = s
        .mails(a, Some(MailState::Queued), 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(queued_a, vec![m3, m2]);
    let all_a: Vec<MailId> = s
        .mails(a, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(all_a, vec![m3, m2, m1]);
    assert_eq!(s.mails(a, None, 2).await.unwrap().len(), 2);
    let failed_b: Vec<MailId> = s
        .mails(b, Some(MailState::Failed), 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(failed_b, vec![mb]);
    assert!(
        s.mails(a, Some(MailState::Failed), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Retry of failed mails.
    let mut tx = s.begin().await.unwrap();
    assert!(
        !tx.requeue_mail(a, m1, secs(20)).await.unwrap(),
        "sent is not failed"
    );
    assert!(
        !tx.requeue_mail(a, mb, secs(20)).await.unwrap(),
        "another tenant's id"
    );
    assert_eq!(tx.requeue_failed_mails(a, secs(20)).await.unwrap(), 0);
    assert!(tx.requeue_mail(b, mb, secs(20)).await.unwrap());
    tx.commit().await.unwrap();
    let back = s.mail(b, mb).await.unwrap().unwrap();
    assert_eq!(
        (back.state, back.attempts, back.next_attempt_at),
        (MailState::Queued, 0, secs(20))
    );
    let mut tx = s.begin().await.unwrap();
    assert!(tx.mark_mail_failed(b, mb, "550", None).await.unwrap());
    assert_eq!(tx.requeue_failed_mails(b, secs(30)).await.unwrap(), 1);
    tx.commit().await.unwrap();

    // Clear the queue, then two concurrent claimers share 20 mails: each
    // mail goes to exactly one of them.
    let mut tx = s.begin().await.unwrap();
    for m in tx
        .claim_due_mails(secs(10_000), 100, secs(10_000))
        .await
        .unwrap()
    {
        assert!(
            tx.mark_mail_sent(m.tenant, m.id, "x@y", secs(10_000))
                .await
                .unwrap()
        );
    }
    let mut batch = Vec::new();
    for n in 0..20 {
        batch.push(
            tx.insert_mail(
                a,
                &mail_fixture(&format!("n{n}@example.it"), None),
                secs(20_000),
            )
            .await
            .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    let claimer = || async {
        let mut mine = Vec::new();
        loop {
            let mut tx = s.begin().await.unwrap();
            let got = tx
                .claim_due_mails(secs(20_001), 3, secs(30_000))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|m| m.id));
        }
    };
    let (x, y) = join2(claimer(), claimer()).await;
    let mut all: Vec<MailId> = x.iter().chain(y.iter()).copied().collect();
    all.sort();
    batch.sort();
    assert_eq!(all, batch, "every mail claimed exactly once: {x:?} / {y:?}");
}

fn booking_fixture(office: OfficeId, start: &str, seat: i64, code: u8) -> NewBooking {
    let slot_start: jiff::Timestamp = start.parse().unwrap();
    NewBooking {
        office,
        slot_start,
        slot_end: slot_start
            .checked_add(jiff::SignedDuration::from_mins(20))
            .unwrap(),
        slot_date: palazzo_domain::calendar::rome_date(slot_start),
        seat,
        service: Some("carta-identita".into()),
        topic: "Carta d'identità".into(),
        reason: "Rinnovo".into(),
        name: "Maria".into(),
        surname: "Rossi".into(),
        email: "maria@example.org".into(),
        phone: None,
        user: None,
        code_sha256: [code; 32],
        created_at: "2026-11-27T10:00:00Z".parse().unwrap(),
        reminder_code: Some(format!("CODE-{code:02}")),
    }
}

async fn bookings<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::appuntamenti::{CalendarSpec, WindowSpec};
    let mut tx = s.begin().await.unwrap();
    let office = tx
        .insert_office(a, &office_fixture("sportello-appuntamenti"))
        .await
        .unwrap();
    let other = tx
        .insert_office(b, &office_fixture("sportello-appuntamenti"))
        .await
        .unwrap();
    let user = tx
        .insert_user(
            a,
            &NewUser {
                codice_fiscale: None,
                given_name: "Maria".into(),
                family_name: "Rossi".into(),
                birth_date: None,
                birth_place: None,
                email: None,
                phone: None,
                notice_channel: NoticeChannel::Email,
            },
            "2026-11-27T09:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
    let spec = CalendarSpec {
        fasce: vec![WindowSpec {
            giorno: "martedi".into(),
            dalle: "09:00".into(),
            alle: "12:00".into(),
            durata_minuti: 20,
            posti: 2,
        }],
        valido_dal: Some("2026-12-01".into()),
        valido_al: None,
        chiusure: vec!["2026-12-08".into()],
        preavviso_ore: 24,
        giorni_prenotabili: 60,
        servizi: vec!["carta-identita".into()],
        argomenti: vec!["Carta d'identità".into()],
    };
    let record = BookingCalendarRecord {
        office: office.id,
        spec: spec.clone(),
        updated_at: "2026-11-27T10:00:00Z".parse().unwrap(),
        updated_by: "user:1".into(),
    };
    tx.set_booking_calendar(a, &record).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.booking_calendar(a, office.id).await.unwrap(),
        Some(record.clone()),
        "calendar read back"
    );
    assert!(
        s.booking_calendar(b, office.id).await.unwrap().is_none(),
        "not another comune's"
    );
    // Replacing keeps one calendar per office.
    let mut changed = record.clone();
    changed.spec.fasce[0].posti = 1;
    changed.updated_by = "cli".into();
    let mut tx = s.begin().await.unwrap();
    tx.set_booking_calendar(a, &changed).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.booking_calendars(a).await.unwrap(), vec![changed]);
    assert!(s.booking_calendars(b).await.unwrap().is_empty());

    // Bookings: one seat of one slot once while active.
    let nine = "2026-12-01T08:00:00Z";
    let mut tx = s.begin().await.unwrap();
    let mut mine = booking_fixture(office.id, nine, 1, 1);
    mine.user = Some(user.id);
    mine.phone = Some("+39 333 1234567".into());
    let first = tx.insert_booking(a, &mine).await.unwrap().unwrap();
    assert!(
        tx.insert_booking(a, &booking_fixture(office.id, nine, 1, 2))
            .await
            .unwrap()
            .is_none(),
        "the seat is taken"
    );
    let second = tx
        .insert_booking(a, &booking_fixture(office.id, nine, 2, 3))
        .await
        .unwrap()
        .unwrap();
    // The same slot and seat in another comune's office is another seat.
    tx.insert_booking(b, &booking_fixture(other.id, nine, 1, 4))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    // The insert that found the seat taken left the transaction usable
    // (the two others were committed with it).
    assert_eq!(s.booking(a, first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        s.booking_by_code(a, &[3; 32]).await.unwrap(),
        Some(second.clone())
    );
    assert!(s.booking_by_code(b, &[3; 32]).await.unwrap().is_none());
    assert!(s.booking(b, first.id).await.unwrap().is_none());
    let day = date(2026, 12, 1);
    let agenda = s.office_bookings(a, office.id, day, day).await.unwrap();
    assert_eq!(
        agenda.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![first.id, second.id],
        "by slot then seat"
    );
    assert!(
        s.office_bookings(a, office.id, date(2026, 12, 2), date(2026, 12, 9))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.user_bookings(a, user.id).await.unwrap(),
        vec![first.clone()]
    );
    // Cancelling frees the seat; a cancelled booking cannot be cancelled twice.
    let at: jiff::Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(
        !tx.set_booking_state(
            b,
            first.id,
            BookingState::Prenotato,
            BookingState::Annullato,
            at,
            "codice"
        )
        .await
        .unwrap(),
        "other comune"
    );
    assert!(
        tx.set_booking_state(
            a,
            first.id,
            BookingState::Prenotato,
            BookingState::Annullato,
            at,
            "codice"
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.set_booking_state(
            a,
            first.id,
            BookingState::Prenotato,
            BookingState::Annullato,
            at,
            "codice"
        )
        .await
        .unwrap(),
        "once"
    );
    let again = tx
        .insert_booking(a, &booking_fixture(office.id, nine, 1, 5))
        .await
        .unwrap();
    assert!(again.is_some(), "a cancelled seat is free again");
    // A seat marked presentato stays taken.
    assert!(
        tx.set_booking_state(
            a,
            second.id,
            BookingState::Prenotato,
            BookingState::Presentato,
            at,
            "user:1"
        )
        .await
        .unwrap()
    );
    assert!(
        tx.insert_booking(a, &booking_fixture(office.id, nine, 2, 6))
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
    let cancelled = s.booking(a, first.id).await.unwrap().unwrap();
    assert_eq!(cancelled.state, BookingState::Annullato);
    assert_eq!(cancelled.changed_at, Some(at));
    assert_eq!(cancelled.changed_by.as_deref(), Some("codice"));
    // A state change forgets the code kept for the reminder (migration
    // 0031); a cancelled or marked booking is never reminded.
    assert_eq!(cancelled.data.reminder_code, None);
    assert_eq!(
        s.booking(a, second.id)
            .await
            .unwrap()
            .unwrap()
            .data
            .reminder_code,
        None
    );
    let mut tx = s.begin().await.unwrap();
    assert!(!tx.mark_booking_reminded(a, first.id, at).await.unwrap());
    assert!(!tx.mark_booking_reminded(a, second.id, at).await.unwrap());
    tx.commit().await.unwrap();
    // Reminders: the prenotato bookings of a day, once, with their code.
    let due = s.bookings_to_remind(a, day).await.unwrap();
    assert_eq!(due.len(), 1, "only the re-booked one is still prenotato");
    assert!(due[0].data.reminder_code.is_some(), "the code is kept");
    let mut tx = s.begin().await.unwrap();
    assert!(tx.mark_booking_reminded(a, due[0].id, at).await.unwrap());
    assert!(!tx.mark_booking_reminded(a, due[0].id, at).await.unwrap());
    tx.commit().await.unwrap();
    assert!(s.bookings_to_remind(a, day).await.unwrap().is_empty());
    let reminded = s.booking(a, due[0].id).await.unwrap().unwrap();
    assert_eq!(reminded.reminder_sent_at, Some(at));
    assert_eq!(reminded.data.reminder_code, None, "forgotten once queued");
    // The database refuses a reason over 500 characters.
    let mut long = booking_fixture(office.id, "2026-12-01T08:20:00Z", 1, 7);
    long.reason = "è".repeat(501);
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_booking(a, &long).await.is_err());
}

/// The IMU's tax objects and rates (migration 0032): a unit upserted by its
/// code, the titolarità of a taxpayer read back with their JSON intact and
/// never through another comune, the rates of a year replaced.
async fn tributi<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::money::Cents;
    use palazzo_domain::tributi::imu::{
        Aliquote, Categoria, Condizione, Oggetto, Periodo, Possesso, Valore,
    };
    use palazzo_domain::tributi::{Aliquota, Quota};

    let casa = NewUnita {
        codice: "F12-P345-S6".into(),
        foglio: "12".into(),
        particella: "345".into(),
        subalterno: "6".into(),
        indirizzo: "Via Roma 1".into(),
        oggetto: Oggetto::Fabbricato {
            categoria: Categoria::parse("A/2").unwrap(),
            rendite: vec![
                Valore {
                    dal: date(2000, 1, 1),
                    importo: Cents::from_cents(75_000),
                },
                Valore {
                    dal: date(2026, 7, 1),
                    importo: Cents::from_cents(81_234),
                },
            ],
        },
    };
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let mut tx = s.begin().await.unwrap();
    let u = tx.upsert_tributi_unita(a, &casa).await.unwrap();
    let t = tx
        .upsert_titolarita(
            a,
            &NewTitolarita {
                unita: u.id,
                codice_fiscale: cf.clone(),
                possesso: Possesso {
                    dal: date(2026, 3, 16),
                    al: None,
                    quota: Quota::parse("1/2").unwrap(),
                },
                periodi: vec![Periodo {
                    dal: date(2026, 3, 16),
                    al: None,
                    condizione: Condizione::AbitazionePrincipale { residenti: 2 },
                }],
            },
        )
        .await
        .unwrap()
        .expect("a unit of the same comune");
    // Another comune's unit id: nothing inserted.
    let foreign = tx
        .upsert_titolarita(
            b,
            &NewTitolarita {
                unita: u.id,
                ..t.data.clone()
            },
        )
        .await
        .unwrap();
    assert!(foreign.is_none());
    tx.commit().await.unwrap();

    assert_eq!(s.tributi_unita(a, u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(s.tributi_unita(b, u.id).await.unwrap(), None);
    assert_eq!(
        s.tributi_unita_by_codice(a, "F12-P345-S6").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(s.titolarita_of(a, &cf).await.unwrap(), vec![t.clone()]);
    assert!(s.titolarita_of(b, &cf).await.unwrap().is_empty());
    // Loaded again (a new situation): replaced under the same id, the
    // share never doubled; an omocodic code derived from it is another
    // person, who holds nothing.
    let mut again = t.data.clone();
    again.periodi.clear();
    let mut tx = s.begin().await.unwrap();
    let replaced = tx.upsert_titolarita(a, &again).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(replaced.id, t.id);
    let omocodic = CodiceFiscale::parse("RSSMRA80A01H50MM").unwrap();
    assert!(omocodic.is_omocodic());
    let held = s.titolarita_of(a, &cf).await.unwrap();
    assert_eq!(held, vec![replaced.clone()]);
    assert!(s.titolarita_of(a, &omocodic).await.unwrap().is_empty());

    // The same code again replaces the unit (a new rendita), same id.
    let mut changed = casa.clone();
    changed.indirizzo = "Via Roma 1/A".into();
    let mut tx = s.begin().await.unwrap();
    let again = tx.upsert_tributi_unita(a, &changed).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again.id, u.id);
    assert_eq!(
        s.tributi_unita(a, u.id).await.unwrap().unwrap().data,
        changed
    );

    let aliquote = |altri: u32| Aliquote {
        anno: 2026,
        delibera: "Delibera C.C. n. 57 del 28/11/2025".into(),
        abitazione_principale: Aliquota(600),
        detrazione: Cents::from_cents(20_000),
        rurali_strumentali: Aliquota(100),
        beni_merce: Aliquota(0),
        terreni: Aliquota(760),
        gruppo_d: Aliquota(1_060),
        altri_fabbricati: Aliquota(altri),
        aree_fabbricabili: Aliquota(1_060),
        maggiorazione_ex_tasi: false,
        versamento_minimo: Cents::from_cents(1_200),
    };
    let record = AliquoteImuRecord {
        aliquote: aliquote(1_060),
        updated_at: "2026-11-28T10:00:00Z".parse().unwrap(),
        updated_by: "user:1".into(),
    };
    let mut tx = s.begin().await.unwrap();
    tx.set_aliquote_imu(a, &record).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.aliquote_imu(a, 2026).await.unwrap(), Some(record.clone()));
    assert_eq!(s.aliquote_imu(a, 2025).await.unwrap(), None);
    assert_eq!(s.aliquote_imu(b, 2026).await.unwrap(), None);
    let newer = AliquoteImuRecord {
        aliquote: aliquote(990),
        updated_at: "2026-11-28T11:00:00Z".parse().unwrap(),
        updated_by: "user:2".into(),
    };
    let mut tx = s.begin().await.unwrap();
    tx.set_aliquote_imu(a, &newer).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.aliquote_imu(a, 2026).await.unwrap(), Some(newer.clone()));
    let mut older = record.clone();
    older.aliquote.anno = 2025;
    let mut tx = s.begin().await.unwrap();
    tx.set_aliquote_imu(a, &older).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.aliquote_imu_all(a).await.unwrap(), vec![newer, older]);
    assert_eq!(s.aliquote_imu_all(b).await.unwrap(), vec![]);
}

/// pagoPA notices (migration 0033): the comune's pagoPA data replaced; IUV
/// numbers counted per comune from 0, never reused; a notice stored with
/// its codice, read by taxpayer (any form of the code) and by codice,
/// never through another comune; its state, GPD position and receipt
/// changed; the same codice twice refused.
async fn avvisi<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::money::Cents;

    assert_eq!(s.pagopa_ente(a).await.unwrap(), None);
    let ente = PagopaEnte {
        segregazione: 1,
        cbill: "AB123".into(),
        iban: "IT60X0542811101000000123456".into(),
        conto_postale: Some("16302093".into()),
        intestatario: Some("Comune di Alfa - Servizio Tesoreria".into()),
        tefa: Some(BeneficiarioTefa {
            codice_fiscale: "80000110728".into(),
            iban: "IT02L1234512345123456789012".into(),
            nome: "Provincia di Alfa".into(),
        }),
    };
    let mut tx = s.begin().await.unwrap();
    tx.set_pagopa_ente(a, &ente).await.unwrap();
    let changed = PagopaEnte {
        conto_postale: None,
        intestatario: None,
        ..ente
    };
    tx.set_pagopa_ente(a, &changed).await.unwrap();
    assert_eq!(tx.next_iuv(a).await.unwrap(), 0);
    assert_eq!(tx.next_iuv(a).await.unwrap(), 1);
    assert_eq!(tx.next_iuv(b).await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(s.pagopa_ente(a).await.unwrap(), Some(changed));
    assert_eq!(s.pagopa_ente(b).await.unwrap(), None);

    // A rolled-back transaction gives its number back; a committed one never.
    let mut tx = s.begin().await.unwrap();
    assert_eq!(tx.next_iuv(a).await.unwrap(), 2);
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    let base = tx.next_iuv(a).await.unwrap();
    assert_eq!(base, 2);
    let codice = CodiceAvviso::aux3(1, base).unwrap();
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let new = NewAvviso {
        codice_fiscale: cf.clone(),
        tributo: "IMU".into(),
        anno: 2026,
        versamento: "acconto".into(),
        importo: Cents::from_cents(128_700),
        tefa: Cents::from_cents(6_128),
        scadenza: jiff::civil::date(2026, 6, 16),
        created_by: "user:1".into(),
    };
    let at: Timestamp = "2026-05-02T08:00:00Z".parse().unwrap();
    let stored = tx.insert_avviso(a, base, &codice, &new, at).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.stato, StatoAvviso::Emesso);
    assert_eq!(s.avvisi_of(a, &cf).await.unwrap(), vec![stored.clone()]);
    assert_eq!(s.avvisi_of(b, &cf).await.unwrap(), vec![]);
    let by_code = s
        .avviso_by_codice(a, &codice.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_code, stored);
    assert_eq!(
        s.avviso_by_codice(b, &codice.to_string()).await.unwrap(),
        None
    );
    assert_eq!(
        s.avvisi_page(a, AvvisoId(0), 10).await.unwrap(),
        vec![stored.clone()]
    );
    assert!(s.avvisi_page(a, stored.id, 10).await.unwrap().is_empty());

    let paid = Avviso {
        stato: StatoAvviso::Pagato,
        iupd: Some("IUPD-1".into()),
        pagato_il: Some("2026-06-10T09:30:00Z".parse().unwrap()),
        ricevuta: Some("R-1".into()),
        ..stored.clone()
    };
    let mut tx = s.begin().await.unwrap();
    tx.set_avviso_iupd(a, stored.id, "IUPD-1").await.unwrap();
    // Only from the state expected, and never through another comune.
    assert!(
        !tx.update_avviso(a, &paid, StatoAvviso::Pagato)
            .await
            .unwrap()
    );
    assert!(
        !tx.update_avviso(b, &paid, StatoAvviso::Emesso)
            .await
            .unwrap()
    );
    assert!(
        tx.update_avviso(a, &paid, StatoAvviso::Emesso)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        s.avviso_by_codice(a, &codice.to_string())
            .await
            .unwrap()
            .unwrap(),
        paid
    );

    // The same codice (or IUV number) twice is refused.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_avviso(a, base, &codice, &new, at).await.is_err());
    drop(tx);
    // At most one live (not annulled) notice per taxpayer, tax, year and
    // payment: a second one is a conflict, after annulling it is not.
    let mut tx = s.begin().await.unwrap();
    let other = tx.next_iuv(a).await.unwrap();
    let second = CodiceAvviso::aux3(1, other).unwrap();
    assert!(matches!(
        tx.insert_avviso(a, other, &second, &new, at).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = s.begin().await.unwrap();
    let annulled = Avviso {
        stato: StatoAvviso::Annullato,
        ..paid.clone()
    };
    assert!(
        tx.update_avviso(a, &annulled, StatoAvviso::Pagato)
            .await
            .unwrap()
    );
    let other = tx.next_iuv(a).await.unwrap();
    let second = CodiceAvviso::aux3(1, other).unwrap();
    tx.insert_avviso(a, other, &second, &new, at).await.unwrap();
    tx.commit().await.unwrap();
}

/// TARI (migration 0034): utenze replaced by code, taxpayer and first day
/// (never doubled), read back exactly and never through another comune;
/// the taxpayers of a year by the utenze's periods, paged; the tariffs of a
/// year replaced, listed newest first.
async fn tari<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::tributi::tari::{Tariffa, TariffeTari, Utenza};

    let mario = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    // Sorted before Mario's.
    let anna = CodiceFiscale::compute(
        "Bianchi",
        "Anna",
        date(1980, 1, 1),
        Sex::F,
        &CodiceCatastale::parse("H501").unwrap(),
    );
    let home = NewUtenzaTari {
        codice: "U1".into(),
        codice_fiscale: mario.clone(),
        indirizzo: "Via Roma 1".into(),
        catasto: "F1 P2 S3".into(),
        utenza: Utenza::Domestica {
            occupanti: 3,
            superficie: 100,
            pertinenze: 20,
        },
        dal: date(2015, 1, 1),
        al: None,
        riduzioni: vec!["compostaggio".into()],
    };
    let shop = NewUtenzaTari {
        codice: "U2".into(),
        codice_fiscale: anna.clone(),
        indirizzo: "Via Roma 3".into(),
        catasto: String::new(),
        utenza: Utenza::NonDomestica {
            categoria: 13,
            superficie: 50,
        },
        dal: date(2020, 3, 1),
        al: Some(date(2024, 6, 30)),
        riduzioni: Vec::new(),
    };
    let mut tx = s.begin().await.unwrap();
    let stored = tx.upsert_utenza_tari(a, &home).await.unwrap();
    tx.upsert_utenza_tari(a, &shop).await.unwrap();
    // The same code, taxpayer and day again: replaced under the same id.
    let fewer = NewUtenzaTari {
        utenza: Utenza::Domestica {
            occupanti: 2,
            superficie: 100,
            pertinenze: 20,
        },
        al: Some(date(2026, 5, 31)),
        ..home.clone()
    };
    let replaced = tx.upsert_utenza_tari(a, &fewer).await.unwrap();
    assert_eq!(replaced.id, stored.id);
    tx.commit().await.unwrap();
    let mine = s.utenze_tari_of(a, &mario).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].data, fewer);
    assert!(s.utenze_tari_of(b, &mario).await.unwrap().is_empty());
    // The taxpayers of a year: by the periods, sorted, paged.
    assert_eq!(
        s.contribuenti_tari(a, 2022, "", 10).await.unwrap(),
        vec![anna.clone(), mario.clone()]
    );
    assert_eq!(
        s.contribuenti_tari(a, 2022, anna.as_str(), 10)
            .await
            .unwrap(),
        vec![mario.clone()]
    );
    assert_eq!(
        s.contribuenti_tari(a, 2022, "", 1).await.unwrap(),
        vec![anna.clone()]
    );
    assert_eq!(
        s.contribuenti_tari(a, 2026, "", 10).await.unwrap(),
        vec![mario.clone()]
    );
    assert!(
        s.contribuenti_tari(a, 2027, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.contribuenti_tari(a, 2014, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.contribuenti_tari(b, 2022, "", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let tariffe = |anno: i16, tefa: u32| TariffeTariRecord {
        tariffe: TariffeTari {
            anno,
            delibera: format!("Delibera C.C. n. 10/{anno}"),
            domestiche: vec![(Tariffa(4_460), Tariffa(750_300)); 6],
            non_domestiche: vec![(13, "Negozi".into(), Tariffa(12_000), Tariffa(10_500))],
            tefa,
            scadenze: vec![date(anno, 5, 31), date(anno, 11, 30)],
            riduzioni: Vec::new(),
        },
        updated_at: "2026-04-30T10:00:00Z".parse().unwrap(),
        updated_by: "user:1".into(),
    };
    assert_eq!(s.tariffe_tari(a, 2026).await.unwrap(), None);
    let mut tx = s.begin().await.unwrap();
    tx.set_tariffe_tari(a, &tariffe(2025, 500)).await.unwrap();
    tx.set_tariffe_tari(a, &tariffe(2026, 500)).await.unwrap();
    tx.set_tariffe_tari(a, &tariffe(2026, 400)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.tariffe_tari(a, 2026).await.unwrap(),
        Some(tariffe(2026, 400))
    );
    assert_eq!(s.tariffe_tari(b, 2026).await.unwrap(), None);
    let all = s.tariffe_tari_all(a).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.tariffe.anno).collect::<Vec<_>>(),
        vec![2026, 2025]
    );

    // Payments received: unique by reference (a flow loaded twice counts
    // once), read by year or by a range of years, never another comune's.
    let line = |riferimento: &str, anno: i16, data| VersamentoF24 {
        riferimento: riferimento.into(),
        codice_fiscale: mario.clone(),
        anno,
        codice_tributo: "3918".into(),
        data,
        importo: palazzo_domain::money::Cents::from_cents(10_000),
        ravvedimento: anno == 2018,
    };
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.insert_versamento(a, &line("R3", 2019, date(2019, 12, 16)))
            .await
            .unwrap()
    );
    assert!(
        tx.insert_versamento(a, &line("R1", 2018, date(2018, 12, 17)))
            .await
            .unwrap()
    );
    assert!(
        tx.insert_versamento(a, &line("R2", 2019, date(2019, 6, 17)))
            .await
            .unwrap()
    );
    assert!(
        !tx.insert_versamento(a, &line("R2", 2019, date(2019, 6, 17)))
            .await
            .unwrap()
    );
    assert!(
        tx.insert_versamento(b, &line("R2", 2019, date(2019, 6, 17)))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let refs = |v: Vec<VersamentoF24>| v.into_iter().map(|v| v.riferimento).collect::<Vec<_>>();
    assert_eq!(
        refs(s.versamenti_of(a, &mario, 2019).await.unwrap()),
        ["R2", "R3"]
    );
    assert_eq!(
        refs(s.versamenti_anni(a, &mario, 2014, 2019).await.unwrap()),
        ["R1", "R2", "R3"]
    );
    let r1 = s.versamenti_anni(a, &mario, 2018, 2018).await.unwrap();
    assert_eq!(r1, vec![line("R1", 2018, date(2018, 12, 17))]);
    assert!(
        s.versamenti_anni(a, &anna, 2014, 2019)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        refs(s.versamenti_anni(b, &mario, 2014, 2030).await.unwrap()),
        ["R2"]
    );
}

/// Canone unico (migration 0035): occupations upserted by code, taxpayer
/// and first day, read back exactly and never through another comune; the
/// taxpayers of a year are those with a permanent occupation in it; the
/// coefficients of a year replaced, listed newest first.
async fn canone<S: Store>(s: &S, a: TenantId, b: TenantId) {
    use palazzo_domain::tributi::canone::{
        CategoriaCanone, Coefficiente, TariffeCanone, ZonaCanone,
    };

    let mario = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let anna = CodiceFiscale::compute(
        "Bianchi",
        "Anna",
        date(1980, 1, 1),
        Sex::F,
        &CodiceCatastale::parse("H501").unwrap(),
    );
    let passo = NewOccupazioneCanone {
        codice: "C1".into(),
        codice_fiscale: mario.clone(),
        descrizione: "Passo carrabile".into(),
        indirizzo: "Via Roma 1".into(),
        zona: "1".into(),
        categoria: "passo_carrabile".into(),
        permanente: true,
        superficie_cm2: 450,
        dal: date(2020, 1, 1),
        al: None,
        atto: "Concessione n. 3/2020".into(),
    };
    let ponteggio = NewOccupazioneCanone {
        codice: "C2".into(),
        codice_fiscale: anna.clone(),
        descrizione: "Ponteggio".into(),
        indirizzo: "Via Roma 3".into(),
        zona: "2".into(),
        categoria: "ponteggio".into(),
        permanente: false,
        superficie_cm2: 2_000,
        dal: date(2026, 3, 1),
        al: Some(date(2026, 3, 30)),
        atto: String::new(),
    };
    let mut tx = s.begin().await.unwrap();
    let stored = tx.upsert_occupazione(a, &passo).await.unwrap();
    tx.upsert_occupazione(a, &ponteggio).await.unwrap();
    let wider = NewOccupazioneCanone {
        superficie_cm2: 600,
        al: Some(date(2026, 6, 30)),
        ..passo.clone()
    };
    let replaced = tx.upsert_occupazione(a, &wider).await.unwrap();
    assert_eq!(replaced.id, stored.id);
    tx.commit().await.unwrap();
    let mine = s.occupazioni_of(a, &mario).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].data, wider);
    assert_eq!(s.occupazioni_of(a, &anna).await.unwrap()[0].data, ponteggio);
    assert!(s.occupazioni_of(b, &mario).await.unwrap().is_empty());
    // Only permanent occupations make a taxpayer of the year's bills.
    assert_eq!(
        s.contribuenti_canone(a, 2026, "", 10).await.unwrap(),
        vec![mario.clone()]
    );
    assert!(
        s.contribuenti_canone(a, 2027, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.contribuenti_canone(a, 2019, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.contribuenti_canone(a, 2026, mario.as_str(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.contribuenti_canone(b, 2026, "", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let tariffe = |anno: i16, coefficiente: u32| TariffeCanoneRecord {
        tariffe: TariffeCanone {
            anno,
            delibera: format!("Delibera C.C. n. 5/{anno}"),
            zone: vec![ZonaCanone {
                codice: "1".into(),
                descrizione: "Centro".into(),
                coefficiente: Coefficiente(coefficiente),
            }],
            categorie: vec![CategoriaCanone {
                codice: "passo_carrabile".into(),
                descrizione: "Passi carrabili".into(),
                permanente: Coefficiente(420),
                temporanea: Coefficiente(485),
            }],
            scadenze: vec![date(anno, 3, 31)],
        },
        updated_at: "2026-03-30T10:00:00Z".parse().unwrap(),
        updated_by: "user:1".into(),
    };
    assert_eq!(s.tariffe_canone(a, 2026).await.unwrap(), None);
    let mut tx = s.begin().await.unwrap();
    tx.set_tariffe_canone(a, &tariffe(2025, 1_000))
        .await
        .unwrap();
    tx.set_tariffe_canone(a, &tariffe(2026, 1_000))
        .await
        .unwrap();
    tx.set_tariffe_canone(a, &tariffe(2026, 1_200))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.tariffe_canone(a, 2026).await.unwrap(),
        Some(tariffe(2026, 1_200))
    );
    assert_eq!(s.tariffe_canone(b, 2026).await.unwrap(), None);
    let all = s.tariffe_canone_all(a).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.tariffe.anno).collect::<Vec<_>>(),
        vec![2026, 2025]
    );
}
