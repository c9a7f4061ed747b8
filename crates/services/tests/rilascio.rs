//! Issuing, releasing and revoking certificates (issue 5, parts 3–4;
//! DECISIONS 18–20) on both backends: who may ask (a resident for themself
//! and their family online, the ufficiale d'anagrafe for anyone), the bollo
//! (not released until settled, ANA-03), the records and their ledger
//! events (`palazzo verify` catches a changed record), the retrieval of the
//! original with the cti and the surname (rate-limited), the online status
//! and the status list (revocation flips exactly one bit, R12–R13).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::certificati::{ESENZIONI, TipoCertificato, Uso};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_domain::protocollo::Impronta;
use palazzo_seal::cose::PublicKey;
use palazzo_seal::status::StatusListToken;
use palazzo_seal::trust::TrustList;
use palazzo_seal::verify::{Verdict, verify_text};
use palazzo_services::access::{Actor, VerifiedIdentity};
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::rilascio::{CertificateRequest, STATUS_LIST_ENTRIES, STATUS_TYP};
use palazzo_services::signatures::pades;
use palazzo_services::verifica::FileSeal;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Channel, Store, TenantId};
use palazzo_testkit::{PgDatabase, TempDir};

const BASE: &str = "https://comune.alfa.ba.it";

fn staff(role: Role) -> Actor {
    Actor {
        user: Some(palazzo_store::UserId(9_999)),
        principal: Principal {
            grants: vec![Grant { role, office: None }],
        },
        name: Some(format!("Test {}", role.code())),
        ..Default::default()
    }
}

fn cf(surname: &str, name: &str, sex: Sex, birth: Date, place: &str) -> CodiceFiscale {
    CodiceFiscale::compute(
        surname,
        name,
        birth,
        sex,
        &CodiceCatastale::parse(place).unwrap(),
    )
}

const HEADER: &str = "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;cittadinanza;stato_civile;famiglia;rapporto;via;civico;cap;dal;al;provenienza";

async fn citizen(app: &App, t: TenantId, who: &CodiceFiscale, surname: &str) -> Actor {
    let user = app
        .record_sign_in(
            t,
            &VerifiedIdentity {
                provider: "spid".into(),
                issuer: "https://idp.example".into(),
                subject: who.as_str().into(),
                acr: Some("https://www.spid.gov.it/SpidL2".into()),
                codice_fiscale: Some(who.clone()),
                given_name: "X".into(),
                family_name: surname.into(),
                birth_date: None,
                birth_place: None,
                email: None,
                phone: None,
            },
        )
        .await
        .unwrap();
    Actor {
        user: Some(user.id),
        principal: Principal {
            grants: vec![Grant {
                role: Role::Cittadino,
                office: None,
            }],
        },
        name: Some(surname.into()),
        ..Default::default()
    }
}

fn req(holder: &CodiceFiscale, tipo: TipoCertificato, uso: Uso) -> CertificateRequest {
    CertificateRequest {
        holder: holder.clone(),
        tipo,
        uso,
        base_url: BASE.into(),
    }
}

async fn run(backend: Backend) {
    let dir = TempDir::new("rilascio");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("a.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let tenant = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let t = tenant.id;
    let admin = staff(Role::AdminComune);
    app.import_anagrafe(
        t,
        &admin,
        b"codice;denominazione\n1;Via Roma\n2;Via Bari\n",
        |_, _| {},
    )
    .await
    .unwrap();
    let nicolo = cf("D'Angelo", "Nicolò", Sex::M, date(1975, 3, 12), "A048");
    let lucia = cf("Lopez", "Lucia", Sex::F, date(1978, 12, 12), "A662");
    let ugo = cf("Neri", "Ugo", Sex::M, date(1940, 3, 3), "Z100");
    let stranger = cf("Bianchi", "Anna", Sex::F, date(1990, 1, 1), "A662");
    let rows = [
        format!(
            "{nicolo};D'Angelo;Nicolò;M;12/03/1975;A048;IT;coniugato;F1;intestatario;Via Roma;7;70010;15/03/2010;;"
        ),
        format!(
            "{lucia};Lopez;Lucia;F;12/12/1978;A662;IT;coniugato;F1;coniuge;Via Roma;7;70010;15/03/2010;;"
        ),
        format!(
            "{ugo};Neri;Ugo;M;03/03/1940;Z100;AL;vedovo;F2;intestatario;Via Bari;1;70010;01/01/2000;;Z100"
        ),
    ];
    let file = format!("{HEADER}\n{}\n", rows.join("\n"));
    let report = app
        .import_anagrafe(t, &admin, file.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let nicolo_actor = citizen(&app, t, &nicolo, "D'Angelo").await;
    let lucia_actor = citizen(&app, t, &lucia, "Lopez").await;
    let outsider = citizen(&app, t, &stranger, "Bianchi").await;
    let desk = staff(Role::UfficialeAnagrafe);
    let exempt = Uso::Esente(&ESENZIONI[0]);

    // Who may ask (DECISIONS 19).
    let r = app
        .issue_certificate(
            t,
            &Actor::anonymous(),
            &req(&nicolo, TipoCertificato::Residenza, exempt),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthenticated)), "{r:?}");
    for role in [Role::Operatore, Role::AdminComune, Role::Segretario] {
        let r = app
            .issue_certificate(
                t,
                &staff(role),
                &req(&nicolo, TipoCertificato::Residenza, exempt),
            )
            .await;
        assert!(matches!(r, Err(ServiceError::Forbidden)), "{role:?}: {r:?}");
    }
    let r = app
        .issue_certificate(
            t,
            &nicolo_actor,
            &req(&ugo, TipoCertificato::Residenza, exempt),
        )
        .await;
    assert!(
        matches!(r, Err(ServiceError::Forbidden)),
        "not of the family: {r:?}"
    );
    let r = app
        .issue_certificate(
            t,
            &outsider,
            &req(&stranger, TipoCertificato::Residenza, exempt),
        )
        .await;
    assert_eq!(
        r.unwrap_err().code(),
        "non_residente",
        "a citizen who is not a resident"
    );
    let r = app
        .issue_certificate(
            t,
            &desk,
            &req(&stranger, TipoCertificato::Residenza, exempt),
        )
        .await;
    assert_eq!(
        r.unwrap_err().code(),
        "non_residente",
        "the desk, for a non-resident"
    );
    // Without the comune's X.509 seal nothing is issued (ANA-04), and
    // nothing is recorded.
    let r = app
        .issue_certificate(t, &desk, &req(&nicolo, TipoCertificato::Residenza, exempt))
        .await;
    assert_eq!(r.unwrap_err().code(), "certificato_sigillo_mancante");
    assert!(
        app.db()
            .certificates_of(t, &nicolo)
            .await
            .unwrap()
            .is_empty()
    );
    app.install_demo_seals().unwrap().unwrap();
    let r = app
        .issue_certificate(t, &desk, &req(&ugo, TipoCertificato::Cittadinanza, exempt))
        .await;
    assert_eq!(r.unwrap_err().code(), "cittadinanza_non_italiana");

    // An exempt certificate for oneself: released at once, exactly the
    // bytes whose hash is recorded, and ledgered.
    let own = app
        .issue_certificate(
            t,
            &nicolo_actor,
            &req(&nicolo, TipoCertificato::Residenza, exempt),
        )
        .await
        .unwrap();
    assert_eq!(own.data.channel, Channel::Online);
    assert_eq!(own.data.bollo_cents, 0);
    assert_eq!(own.data.holder_surname, "D'Angelo");
    assert_eq!(own.data.status_list, i64::from(jiff::Zoned::now().year()));
    assert!((0..STATUS_LIST_ENTRIES as i64).contains(&own.data.status_idx));
    let (_, pdf) = app
        .certificate_pdf(t, &nicolo_actor, &own.data.cti)
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(*Impronta::of(&pdf).bytes(), own.data.pdf_sha256);
    assert_eq!(own.data.pdf_size, pdf.len() as u64);
    // The released file carries the comune's PAdES seal over all of it,
    // trusted through the comune's trust anchors (R11).
    let anchors = app.trust_anchors(&tenant.data.slug).unwrap();
    let report = pades::verify_pdf(&pdf, &anchors, jiff::Timestamp::now())
        .unwrap()
        .unwrap();
    assert!(report.valid(), "{:?}", report.problem());
    let ours: Vec<String> = app
        .seal_certificates(&tenant.data.slug)
        .iter()
        .map(|c| c.fingerprint())
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(matches!(
        FileSeal::of_pdf(&pdf, &anchors, &ours),
        FileSeal::Valid { .. }
    ));
    // A renewed seal: the one it replaces stays the comune's, so files it
    // sealed are still recognised.
    let renewal = palazzo_services::segnatura::demo_ca::DemoCa::generate(jiff::Timestamp::now())
        .unwrap()
        .issue_seal("Comune di Alfa", "AOO_ALFA", jiff::Timestamp::now())
        .unwrap();
    app.install_aoo_seal(
        &tenant.data.slug,
        &renewal.key_pem,
        &renewal.cert_pem,
        "AOO_ALFA",
    )
    .unwrap();
    let ours: Vec<String> = app
        .seal_certificates(&tenant.data.slug)
        .iter()
        .map(|c| c.fingerprint())
        .collect();
    assert_eq!(ours.len(), 2, "the installed seal and the one it replaced");
    assert!(matches!(
        FileSeal::of_pdf(&pdf, &anchors, &ours),
        FileSeal::Valid { .. }
    ));
    assert!(matches!(
        FileSeal::of_pdf(&pdf, &anchors, &ours[..1]),
        FileSeal::Untrusted { .. }
    ));
    let events = app.db().ledger_events(t, 0, 1_000).await.unwrap();
    assert!(
        events.iter().any(|e| e.kind == "certificato.rilasciato"
            && e.subject == format!("certificato:{}", own.id.0))
    );
    // Lucia may not download Nicolò's certificate; the desk may.
    assert!(matches!(
        app.certificate_pdf(t, &lucia_actor, &own.data.cti).await,
        Err(ServiceError::NotFound)
    ));
    assert!(app.certificate_pdf(t, &desk, &own.data.cti).await.is_ok());

    // For a family member, in bollo: sealed, not released until settled.
    let for_lucia = app
        .issue_certificate(
            t,
            &nicolo_actor,
            &req(&lucia, TipoCertificato::StatoFamiglia, Uso::Bollo),
        )
        .await
        .unwrap();
    assert_eq!(for_lucia.data.bollo_cents, 1600);
    assert!(!for_lucia.releasable());
    let r = app
        .certificate_pdf(t, &nicolo_actor, &for_lucia.data.cti)
        .await;
    assert_eq!(r.unwrap_err().code(), "bollo_da_assolvere");
    let r = app
        .settle_certificate_bollo(t, &nicolo_actor, &for_lucia.data.cti, "01234567890123")
        .await;
    assert!(
        matches!(r, Err(ServiceError::Forbidden)),
        "only the desk records a marca"
    );
    let r = app
        .settle_certificate_bollo(t, &desk, &for_lucia.data.cti, "0123456789")
        .await;
    assert_eq!(r.unwrap_err().code(), "marca_non_valida");
    let settled = app
        .settle_certificate_bollo(t, &desk, &for_lucia.data.cti, "01234567890123")
        .await
        .unwrap();
    assert_eq!(
        settled.bollo_paid.as_ref().unwrap().reference,
        "01234567890123"
    );
    let r = app
        .settle_certificate_bollo(t, &desk, &for_lucia.data.cti, "01234567890123")
        .await;
    assert_eq!(r.unwrap_err().code(), "bollo_non_dovuto");
    // Both the one who asked and the holder may download it now.
    assert!(
        app.certificate_pdf(t, &nicolo_actor, &for_lucia.data.cti)
            .await
            .is_ok()
    );
    assert!(
        app.certificate_pdf(t, &lucia_actor, &for_lucia.data.cti)
            .await
            .is_ok()
    );

    // A certificate of a type always exempt is exempt whatever was chosen.
    let birth = app
        .issue_certificate(
            t,
            &lucia_actor,
            &req(&lucia, TipoCertificato::Nascita, Uso::Bollo),
        )
        .await
        .unwrap();
    assert_eq!((birth.data.bollo_cents, birth.data.valid_until), (0, None));

    // The desk, for anyone entitled.
    let at_desk = app
        .issue_certificate(t, &desk, &req(&ugo, TipoCertificato::Residenza, exempt))
        .await
        .unwrap();
    assert_eq!(at_desk.data.channel, Channel::Sportello);

    // The personal area: one's own, and those asked for the family.
    let mine: Vec<_> = app
        .my_certificates(t, &nicolo_actor)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(mine, vec![for_lucia.id, own.id]);
    let hers: Vec<_> = app
        .my_certificates(t, &lucia_actor)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(hers, vec![birth.id, for_lucia.id]);
    let holders = app.certificate_holders(t, &lucia_actor).await.unwrap();
    assert_eq!(holders[0].codice_fiscale, lucia, "oneself first");
    assert_eq!(holders.len(), 2);

    // Retrieval with the cti and the surname, however it is typed.
    let r = app
        .retrieve_certificate(t, &own.data.cti, "Rossi", "client-1")
        .await;
    assert!(matches!(r, Err(ServiceError::NotFound)), "wrong surname");
    let (_, got) = app
        .retrieve_certificate(t, &own.data.cti, "dangelo", "client-1")
        .await
        .unwrap();
    assert_eq!(got, pdf);
    let r = app
        .retrieve_certificate(t, &[7; 16], "dangelo", "client-1")
        .await;
    assert!(matches!(r, Err(ServiceError::NotFound)), "unknown cti");
    // Guessing is limited per client …
    let mut limited = false;
    for _ in 0..20 {
        if matches!(
            app.retrieve_certificate(t, &birth.data.cti, "x", "client-2")
                .await,
            Err(ServiceError::RateLimited)
        ) {
            limited = true;
            break;
        }
    }
    assert!(limited, "a client is limited");
    // … and per certificate, from any number of clients.
    let mut limited = false;
    for i in 0..20 {
        if matches!(
            app.retrieve_certificate(t, &at_desk.data.cti, "x", &format!("c{i}"))
                .await,
            Err(ServiceError::RateLimited)
        ) {
            limited = true;
            break;
        }
    }
    assert!(limited, "a certificate is limited");

    // Status: valid, then revoked by the desk only; the status list has
    // exactly its bit set.
    let s = app.certificate_status(t, &own.data.cti).await.unwrap();
    assert_eq!(s.verdict, Verdict::Valid);
    // The signed list is served from memory until a revocation.
    let before = app
        .status_list(&tenant, own.data.status_list, BASE)
        .await
        .unwrap();
    // (A second later: a list signed anew would carry another `iat`.)
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(
        app.status_list(&tenant, own.data.status_list, BASE)
            .await
            .unwrap(),
        before,
        "the same signed list, not a new one per request"
    );
    assert_eq!(
        app.certificate_status(t, &[7; 16]).await.unwrap().verdict,
        Verdict::NotFound
    );
    let r = app
        .revoke_certificate(t, &nicolo_actor, &own.data.cti, "errore")
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    let r = app.revoke_certificate(t, &desk, &own.data.cti, "  ").await;
    assert_eq!(r.unwrap_err().code(), "motivo_mancante");
    app.revoke_certificate(t, &desk, &own.data.cti, "rilasciato per errore")
        .await
        .unwrap();
    let r = app
        .revoke_certificate(t, &desk, &own.data.cti, "di nuovo")
        .await;
    assert_eq!(r.unwrap_err().code(), "gia_revocato");
    let s = app.certificate_status(t, &own.data.cti).await.unwrap();
    assert_eq!(s.verdict, Verdict::Revoked);
    assert_eq!(
        app.certificate_pdf(t, &nicolo_actor, &own.data.cti)
            .await
            .unwrap_err()
            .code(),
        "certificato_revocato"
    );

    let list_signer = app.trust_list_signer(&tenant).unwrap();
    let list_key =
        PublicKey::from_spki_der(palazzo_seal::cose::SealSigner::spki_der(&list_signer)).unwrap();
    let token = app
        .status_list(&tenant, own.data.status_list, BASE)
        .await
        .unwrap();
    let list = StatusListToken::verify(&token, [&list_key]).unwrap();
    assert_eq!(
        list.uri,
        format!(
            "{BASE}/.well-known/palazzo/status-list/{}",
            own.data.status_list
        )
    );
    let set: Vec<u64> = (0..list.list.len())
        .filter(|i| list.list.is_revoked(*i) == Some(true))
        .collect();
    assert_eq!(set, vec![own.data.status_idx as u64], "exactly one bit");
    assert_ne!(token, before, "the revocation shows at once");
    assert!(matches!(
        app.status_list(&tenant, 1999, BASE).await,
        Err(ServiceError::NotFound)
    ));

    // Offline: the seal read from the stored PDF verifies against the
    // published trust list, and the status list makes it revoked.
    let trust = TrustList::verify(&app.trust_list(&tenant).await.unwrap(), &list_key).unwrap();
    let text = palazzo_pdf::read::seal_text(&pdf).expect("the seal text in the PDF");
    let now = jiff::Timestamp::now().as_second() as u64;
    assert_eq!(
        verify_text(&text, &trust, None, now).verdict,
        Verdict::Valid
    );
    assert_eq!(
        verify_text(&text, &trust, Some(&list), now).verdict,
        Verdict::Revoked
    );

    // The signed online status.
    let signed = app
        .signed_certificate_status(&tenant, &own.data.cti, &s)
        .unwrap();
    let msg = palazzo_seal::cose::decode_sign1(&signed).unwrap();
    assert_eq!(msg.typ.as_deref(), Some(STATUS_TYP));
    assert!(msg.verify(&list_key));
    let payload = palazzo_domain::cbor::decode(&msg.payload).unwrap();
    assert!(format!("{payload:?}").contains("revoked"));

    // Every record has its event; a changed one is caught.
    app.checkpoint_all().await.unwrap();
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let sealed_change = format!(
        "UPDATE certificati SET holder_surname = 'Rossi' WHERE id = {}",
        at_desk.id.0
    );
    assert!(
        app.db().execute_raw(&sealed_change).await.is_err(),
        "the trigger keeps sealed columns"
    );
    let disarm = match backend {
        Backend::Sqlite => "DROP TRIGGER certificati_sealed",
        Backend::Postgres => "DROP TRIGGER certificati_sealed ON certificati",
    };
    app.db().execute_raw(disarm).await.unwrap();
    app.db().execute_raw(&sealed_change).await.unwrap();
    let problems = verify(app.db(), &keys).await.unwrap().problems;
    assert!(
        problems.iter().any(|p| matches!(p, Problem::RecordAltered { subject, .. } if *subject == format!("certificato:{}", at_desk.id.0))),
        "{problems:?}"
    );

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn rilascio_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn rilascio_postgres() {
    run(Backend::Postgres).await;
}
