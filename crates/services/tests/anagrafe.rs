//! `App::import_anagrafe` (issue 5, part 1; docs/anagrafe-import.md) on
//! both backends: the stradario and the residents are saved with every
//! field; bad rows are reported and good ones kept; a second import
//! merges (by codice fiscale, family code and address) instead of
//! duplicating; only the comune's administrator may import; another
//! comune is untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::anagrafe::{FileKind, StatoCivile};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{PopulationCounts, Store, TenantId, UserId};
use palazzo_testkit::{PgDatabase, TempDir};

fn actor(role: Role) -> Actor {
    Actor {
        user: Some(UserId(1)),
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

async fn run(backend: Backend) {
    let dir = TempDir::new("anagrafe");
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
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    let t: TenantId = app.create_tenant(tenant_fixture(1)).await.unwrap().id;
    let other: TenantId = app.create_tenant(tenant_fixture(2)).await.unwrap().id;
    let admin = actor(Role::AdminComune);
    let counts = |t| {
        let app = app.clone();
        async move { app.db().population_counts(t).await.unwrap() }
    };

    // Only the comune's administrator (or the platform's) loads the register.
    for role in [
        Role::Operatore,
        Role::Dirigente,
        Role::Segretario,
        Role::Cittadino,
    ] {
        let r = app
            .import_anagrafe(
                t,
                &actor(role),
                b"codice;denominazione\n1;Via Roma\n",
                |_, _| {},
            )
            .await;
        assert!(matches!(r, Err(ServiceError::Forbidden)), "{role:?}: {r:?}");
    }
    // A file in neither format is refused as a whole.
    let r = app
        .import_anagrafe(t, &admin, b"nome;cognome\n", |_, _| {})
        .await;
    assert_eq!(r.unwrap_err().code(), "intestazione_non_riconosciuta");

    // The stradario.
    let report = app
        .import_anagrafe(
            t,
            &admin,
            "codice;denominazione\n0001;Via Roma\n0002;Piazza Aldo Moro\n0003;\n".as_bytes(),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!((report.kind, report.saved), (FileKind::Stradario, 2));
    assert_eq!(report.errors.len(), 1);
    assert_eq!(
        (report.errors[0].line, report.errors[0].code),
        (4, "denominazione_via")
    );
    // A name already on the stradario under another code is refused; a
    // rename by code is not.
    let report = app
        .import_anagrafe(
            t,
            &admin,
            "codice;denominazione\n0009;VIA ROMA\n0002;Piazza A. Moro\n".as_bytes(),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(report.saved, 1);
    assert_eq!(
        (report.errors[0].line, report.errors[0].code),
        (2, "via_ripetuta")
    );
    let names: Vec<String> = app
        .db()
        .streets(t)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Piazza A. Moro", "Via Roma"]);
    assert!(app.db().streets(other).await.unwrap().is_empty());

    // The residents: a family of two with an earlier residence, a person
    // alone, and a bad row (a street not on the stradario).
    let mario = cf("Rossi", "Mario", Sex::M, date(1980, 1, 1), "A662");
    let anna = cf("Bianchi", "Anna", Sex::F, date(1982, 5, 30), "F262");
    let ugo = cf("Neri", "Ugo", Sex::M, date(1940, 3, 3), "Z100");
    let luca = cf("Verdi", "Luca", Sex::M, date(2001, 7, 9), "A662");
    let rows = [
        format!(
            "{mario};Rossi;Mario;M;01/01/1980;A662;IT;coniugato;F1;intestatario;Via Roma;12;70010;15/03/2010;;F262"
        ),
        format!(
            "{anna};Bianchi;Anna;F;30/05/1982;F262;IT;coniugato;F1;coniuge;Via Roma;12;70010;15/03/2010;;"
        ),
        format!("{mario};;;;;;;;;;Piazza A. Moro;3;70010;01/02/2005;14/03/2010;"),
        format!(
            "{ugo};Neri;Ugo;M;03/03/1940;Z100;AL;vedovo;F2;intestatario;Piazza A. Moro;1;70010;01/01/2000;;Z100"
        ),
        format!(
            "{luca};Verdi;Luca;M;09/07/2001;A662;IT;libero;F3;intestatario;Via Bari;20;70010;09/07/2001;;"
        ),
    ];
    let file = format!("{HEADER}\n{}\n", rows.join("\n"));
    let seen = std::sync::Mutex::new(Vec::new());
    let report = app
        .import_anagrafe(t, &admin, file.as_bytes(), |d, n| {
            seen.lock().unwrap().push((d, n))
        })
        .await
        .unwrap();
    assert_eq!(
        (report.kind, report.saved, report.past_residences),
        (FileKind::Residenti, 3, 1)
    );
    assert_eq!(report.errors.len(), 1);
    assert_eq!(
        (report.errors[0].line, report.errors[0].code),
        (6, "via_non_in_stradario")
    );
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&(3, 3)),
        "progress reaches the end"
    );
    assert_eq!(
        counts(t).await,
        PopulationCounts {
            persons: 3,
            families: 2,
            addresses: 2
        }
    );
    assert_eq!(
        counts(other).await,
        PopulationCounts::default(),
        "the other comune"
    );
    let m = app.db().resident(t, &mario).await.unwrap().unwrap();
    assert_eq!((m.surname.as_str(), m.name.as_str()), ("Rossi", "Mario"));
    assert_eq!(m.marital_status, StatoCivile::Coniugato);
    assert_eq!(m.citizenship.code(), "IT");
    assert_eq!(m.resident_since, Some(date(2010, 3, 15)));
    assert_eq!(m.provenance.as_ref().map(|c| c.as_str()), Some("F262"));
    let family: Vec<String> = app
        .db()
        .family_members(t, m.family)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(family, ["Mario", "Anna"]);
    let home = app.db().family_address(t, m.family).await.unwrap().unwrap();
    assert_eq!(
        (home.street.as_str(), home.civic.as_str()),
        ("Via Roma", "12")
    );
    let past = app.db().residences_of(t, m.id).await.unwrap();
    assert_eq!(past.len(), 1);
    assert_eq!(
        (past[0].street.as_str(), past[0].from, past[0].to),
        ("Piazza A. Moro", date(2005, 2, 1), date(2010, 3, 14))
    );
    let u = app.db().resident(t, &ugo).await.unwrap().unwrap();
    assert_eq!(
        (u.citizenship.adjective(), u.marital_status.label(u.sex)),
        ("albanese", "vedovo")
    );

    // A second import merges: Anna is now widowed and has moved with Mario
    // out of the family (Mario alone in F1 moves to Piazza A. Moro 3), the
    // earlier residence of Mario is dropped, Luca's row is now good.
    let rows = [
        format!(
            "{mario};Rossi;Mario;M;01/01/1980;A662;IT;divorziato;F1;intestatario;Piazza A. Moro;3;70010;01/06/2026;;F262"
        ),
        format!(
            "{anna};Bianchi;Anna;F;30/05/1982;F262;IT;divorziato;F4;intestatario;Via Roma;12;70010;15/03/2010;;"
        ),
        format!(
            "{luca};Verdi;Luca;M;09/07/2001;A662;IT;libero;F3;intestatario;Via Roma;20;70010;09/07/2001;;"
        ),
    ];
    let file = format!("{HEADER}\n{}\n", rows.join("\n"));
    let report = app
        .import_anagrafe(t, &admin, file.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.saved, 3);
    assert_eq!(
        counts(t).await,
        PopulationCounts {
            persons: 4,
            families: 4,
            addresses: 4
        },
        "Luca is new; F1 kept its id; Anna's F4 is new; Piazza A. Moro 3 and Via Roma 20 are new addresses"
    );
    let m2 = app.db().resident(t, &mario).await.unwrap().unwrap();
    assert_eq!(m2.id, m.id, "the same person, by codice fiscale");
    assert_eq!(m2.family, m.family, "the same family, by code");
    assert_eq!(m2.marital_status, StatoCivile::Divorziato);
    let home = app
        .db()
        .family_address(t, m2.family)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (home.street.as_str(), home.civic.as_str()),
        ("Piazza A. Moro", "3")
    );
    assert!(app.db().residences_of(t, m.id).await.unwrap().is_empty());
    let a = app.db().resident(t, &anna).await.unwrap().unwrap();
    assert_ne!(a.family, m.family);
    assert_eq!(app.db().family_members(t, m.family).await.unwrap().len(), 1);
    // Ugo, not in the second file, is untouched.
    assert_eq!(app.db().resident(t, &ugo).await.unwrap().unwrap(), u);

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn import_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn import_postgres() {
    run(Backend::Postgres).await
}
