//! The registro giornaliero (issue 4 item 6; PR-9; DECISIONS 12, 29) on
//! both backends: the registrations of the day in number order plus that
//! day's annulments of earlier registrations; first and last numbers;
//! PDF/A-3 checked by pikepdf/pypdf (`PALAZZO_PDF_PYTHON`) and XML
//! validated by xmlschema (`PALAZZO_XML_PYTHON`) against
//! docs/registro-giornaliero.xsd; the checkpoint's RFC 3161 token from the
//! real test TSA (testbeds/tsa) verified with `openssl ts -verify`; the
//! conservation deadline on the next office working day (holidays and the
//! patron saint); the frozen hash checked by `palazzo verify`; idempotency
//! and two concurrent runs; an empty day; catch-up of missed days.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::calendar::{Calendar, PatronSaint, rome_date};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta, RegisterCode};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::{RegistrationInput, register_year};
use palazzo_services::registro_giornaliero::{conservation_deadline, day_bounds};
use palazzo_services::tsa::{TsaClient, TsaConfig};
use palazzo_services::{App, ledger};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::*;
use palazzo_testkit::tsa::Tsa;
use palazzo_testkit::{PgDatabase, TempDir};

fn actor(role: Role) -> Actor {
    Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role,
                office: role.is_office_scoped().then_some(1),
            }],
        },
        name: Some(format!("Test {}", role.code())),
        acr: None,
    }
}

fn doc(name: &str, bytes: &[u8]) -> DocumentRef {
    DocumentRef {
        name: name.into(),
        media_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256: Impronta::of(bytes),
    }
}

fn input(subject: &str) -> RegistrationInput {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    RegistrationInput {
        register: None,
        flow: Flow::Entrata,
        subject: subject.into(),
        correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
        received_number: Some("12/A".into()),
        received_date: Some(date(2026, 1, 2)),
        primary: doc(&format!("{subject}.pdf"), subject.as_bytes()),
        attachments: vec![doc("allegato.pdf", b"allegato")],
        classification: None,
        office: None,
        emergency: None,
    }
}

struct Env {
    _dir: TempDir,
    app: App,
    keys: KeyStore,
    tenant: Tenant,
    pg: Option<PgDatabase>,
}

async fn env(backend: Backend, patron: Option<&str>) -> Env {
    let dir = TempDir::new("registro");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("r.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let mut t = tenant_fixture(1);
    t.patron_saint = patron.map(str::to_owned);
    let tenant = app.create_tenant(t).await.unwrap();
    Env {
        _dir: dir,
        app,
        keys,
        tenant,
        pg,
    }
}

impl Env {
    async fn close(self) {
        self.app.db().close().await;
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

/// Stores a registration made at `at` (an earlier day) with its ledger
/// event, as the register would have on that day.
async fn register_at(app: &App, tenant: &Tenant, subject: &str, at: Timestamp) -> Registration {
    // Microseconds, as both backends store times.
    let at = Timestamp::from_microsecond(at.as_microsecond()).unwrap();
    let year = register_year(at);
    let mut tx = app.db().begin().await.unwrap();
    let (n, _) = tx
        .next_protocol_number(tenant.id, "REG_PROT", year)
        .await
        .unwrap();
    let i = input(subject);
    let new = NewRegistration {
        register: RegisterCode::general(),
        flow: i.flow,
        subject: i.subject,
        correspondents: i.correspondents,
        received_number: None,
        received_date: None,
        primary: i.primary,
        attachments: vec![],
        registered_by: "Test (user:1)".into(),
        emergency: None,
        classification: None,
        office: None,
    };
    let reg = tx
        .insert_registration(tenant.id, &new, year, n, at)
        .await
        .unwrap();
    ledger::record(&mut tx, tenant, "protocollo.registered", &reg)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    reg
}

fn pdf_check(path: &std::path::Path, needles: &[&str]) {
    let Ok(python) = std::env::var("PALAZZO_PDF_PYTHON") else {
        eprintln!("PALAZZO_PDF_PYTHON not set (scripts/test sets it): PDF/A structure not checked");
        return;
    };
    let script = r#"
import sys, pikepdf, pypdf
path, needles = sys.argv[1], sys.argv[2:]
pdf = pikepdf.open(path)
meta = pdf.open_metadata()
assert meta.pdfa_status == "3U", meta.pdfa_status
root = pdf.Root
oi = root.OutputIntents[0]
assert oi.S == "/GTS_PDFA1" and "/DestOutputProfile" in oi
for page in pdf.pages:
    for name, font in page.Resources.Font.items():
        fonts = [font] + list(font.get("/DescendantFonts", []))
        assert any("/FontDescriptor" in f and any(k in f.FontDescriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")) for f in fonts), name
af = root.AF
assert len(af) == 1 and af[0].AFRelationship == "/Data", af
names = root.Names.EmbeddedFiles.Names
assert str(names[0]).endswith(".xml"), names[0]
assert names[1].EF.F.read_bytes().startswith(b"<?xml")
text = " ".join(p.extract_text() for p in pypdf.PdfReader(path).pages).replace("\n", " ")
for n in needles:
    assert n in text, (n, text[:2000])
print("ok")
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(path)
        .args(needles)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pikepdf/pypdf: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn xsd_valid(path: &std::path::Path) {
    let xsd = palazzo_testkit::pki::repo().join("docs/registro-giornaliero.xsd");
    let (ok, out) = palazzo_testkit::pki::segnatura_check(&[
        "validate",
        path.to_str().unwrap(),
        "--xsd",
        xsd.to_str().unwrap(),
    ]);
    assert!(ok, "registro XML not valid: {out}");
}

/// The instant just after day `d` is over (as seen by the job).
fn after(d: Date) -> Timestamp {
    day_bounds(d).unwrap().1 + SignedDuration::from_secs(600)
}

async fn content_and_formats(backend: Backend) {
    let e = env(backend, Some("12-06")).await;
    let tsa = Tsa::start();
    e.app.set_tsa(
        TsaClient::from_config(&TsaConfig {
            url: Some(tsa.url.clone()),
            timeout_secs: None,
        })
        .unwrap(),
    );
    let desk = actor(Role::Operatore);
    let boss = actor(Role::Segretario);
    let yesterday_noon = Timestamp::now() - SignedDuration::from_hours(24);
    let earlier = register_at(&e.app, &e.tenant, "Registrazione di ieri", yesterday_noon).await;
    let mut today = Vec::new();
    for s in ["Prima istanza", "Seconda istanza", "Terza istanza"] {
        today.push(
            e.app
                .register_protocol(e.tenant.id, &desk, input(s))
                .await
                .unwrap(),
        );
    }
    let day = rome_date(today[0].registered_at);
    if rome_date(today[2].registered_at) != day {
        eprintln!("midnight passed during the test: skipping the content checks");
        e.close().await;
        return;
    }
    // That day's annulment of an earlier registration and of one of its own.
    e.app
        .annul_protocol(
            e.tenant.id,
            &boss,
            earlier.id,
            "Registrazione errata",
            "Determina n. 12/2026",
        )
        .await
        .unwrap();
    e.app
        .annul_protocol(
            e.tenant.id,
            &boss,
            today[1].id,
            "Doppia registrazione",
            "Determina n. 13/2026",
        )
        .await
        .unwrap();

    // Not before the day is over.
    let err = e
        .app
        .produce_registro_giornaliero(e.tenant.id, day, "test")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "registro_giorno_non_concluso");

    let (_, end) = day_bounds(day).unwrap();
    let events_of_day = e
        .app
        .db()
        .ledger_size_before(e.tenant.id, end)
        .await
        .unwrap();
    let produced = e
        .app
        .produce_registro_giornaliero_as_of(e.tenant.id, day, "Operatore di prova", after(day))
        .await
        .unwrap();
    assert!(produced.created && produced.timestamped);
    assert_eq!(produced.registri.len(), 1);
    let r = &produced.registri[0];
    let d = &r.data;
    assert_eq!(d.register, "REG_PROT");
    assert_eq!(d.registrations, 3);
    assert_eq!(d.modifications, 1);
    assert_eq!(d.first_number, Some(today[0].number.get()));
    assert_eq!(d.last_number, Some(today[2].number.get()));
    assert_eq!(
        d.code,
        format!(
            "{}-{}-001",
            e.tenant.data.codice_ipa.as_str(),
            day.strftime("%Y%m%d")
        )
    );
    assert_eq!(
        d.repertorio_number,
        u32::try_from(day.day_of_year()).unwrap()
    );
    assert_eq!(d.conservation_state, ConservationState::Pronto);
    let cal = Calendar::new().with_patron_saint(PatronSaint::parse("12-06").unwrap());
    assert_eq!(
        d.conservation_deadline,
        conservation_deadline(&cal, day).unwrap()
    );
    assert!(d.conservation_deadline > day);

    // The files: frozen fingerprints, XML valid, content in number order.
    let (_, xml) = e
        .app
        .registro_giornaliero_file(e.tenant.id, &desk, &d.code, false)
        .await
        .unwrap();
    let (_, pdf) = e
        .app
        .registro_giornaliero_file(e.tenant.id, &desk, &d.code, true)
        .await
        .unwrap();
    assert_eq!(Impronta::of(&xml), d.xml.sha256);
    assert_eq!(Impronta::of(&pdf), d.pdf.sha256);
    let dir = TempDir::new("registro-files");
    let xml_path = dir.path().join("registro.xml");
    let pdf_path = dir.path().join("registro.pdf");
    std::fs::write(&xml_path, &xml).unwrap();
    std::fs::write(&pdf_path, &pdf).unwrap();
    xsd_valid(&xml_path);
    let text = String::from_utf8(xml.clone()).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let numbers: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Registrazione"))
        .map(|n| {
            n.children()
                .find(|c| c.has_tag_name("Numero"))
                .unwrap()
                .text()
                .unwrap()
        })
        .collect();
    let want: Vec<String> = today.iter().map(|r| r.number.to_string()).collect();
    assert_eq!(numbers, want);
    let modifica = doc
        .descendants()
        .find(|n| n.has_tag_name("Modifica"))
        .unwrap();
    assert_eq!(modifica.attribute("tipo"), Some("Annullamento"));
    assert!(text.contains(&format!("<Numero>{}</Numero>", earlier.number)));
    assert!(
        text.contains("Doppia registrazione"),
        "own annulment inline"
    );
    for f in [&today[0].data.primary, &today[0].data.attachments[0]] {
        assert!(text.contains(&f.sha256.hex()));
    }
    pdf_check(
        &pdf_path,
        &[
            "Registro giornaliero di protocollo",
            &d.code,
            &today[0].number.to_string(),
            &today[2].number.to_string(),
            &earlier.number.to_string(),
            "ANNULLATA",
            &today[0].data.primary.sha256.hex(),
        ],
    );

    // The checkpoint covers the day's last event and its token verifies
    // with openssl against the test TSA's CA; a changed note does not.
    let size = d.checkpoint_size.unwrap();
    assert!(
        size >= events_of_day,
        "the checkpoint covers the day's last event"
    );
    let cp = e
        .app
        .db()
        .checkpoint_covering(e.tenant.id, size)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cp.size, size);
    assert_eq!(Some(cp.root), d.checkpoint_root);
    let token = e
        .app
        .db()
        .checkpoint_timestamp(e.tenant.id, size)
        .await
        .unwrap()
        .unwrap();
    let (ok, out) = tsa.verify_token(&token.token, cp.note.as_bytes());
    assert!(ok, "openssl ts -verify: {out}");
    assert!(out.contains("Verification: OK"), "{out}");
    let (ok, _) = tsa.verify_token(&token.token, format!("{}x", cp.note).as_bytes());
    assert!(!ok, "a changed note must not verify");
    use base64::Engine;
    assert!(text.contains(&base64::engine::general_purpose::STANDARD.encode(&token.token)));

    // Idempotent: the existing registro is returned, never rewritten.
    let again = e
        .app
        .produce_registro_giornaliero_as_of(e.tenant.id, day, "altro", after(day))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.registri, produced.registri);

    // Verify: clean, then the stored PDF altered is caught.
    e.app.checkpoint_all().await.unwrap();
    let report = palazzo_services::verify::verify(e.app.db(), &e.keys)
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let path = e.app.documents().path_of(&d.pdf.sha256);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let report =
        palazzo_services::verify::verify_once(e.app.db(), &e.keys, SignedDuration::from_secs(60))
            .await
            .unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.to_string().contains(&d.code)),
        "{:?}",
        report.problems
    );
    drop(tsa);
    e.close().await;
}

#[tokio::test]
async fn content_and_formats_sqlite() {
    content_and_formats(Backend::Sqlite).await;
}

#[tokio::test]
async fn content_and_formats_postgres() {
    content_and_formats(Backend::Postgres).await;
}

async fn empty_day_concurrency_and_catch_up(backend: Backend) {
    let e = env(backend, None).await;
    // No TSA: the registro is produced, the checkpoint left un-timestamped.
    let three_days_ago = Timestamp::now() - SignedDuration::from_hours(72);
    register_at(&e.app, &e.tenant, "Prima registrazione", three_days_ago).await;
    let first_day = rome_date(three_days_ago);
    let empty = first_day.tomorrow().unwrap();

    // Two concurrent runs of the same (empty) day: one registro.
    let a = e.app.clone();
    let b = e.app.clone();
    let t = e.tenant.id;
    let (ra, rb) = tokio::join!(
        a.produce_registro_giornaliero(t, empty, "processo A"),
        b.produce_registro_giornaliero(t, empty, "processo B"),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra.created ^ rb.created, "exactly one run produces it");
    assert_eq!(ra.registri, rb.registri);
    let regs = e.app.db().registri_of_day(t, empty).await.unwrap();
    assert_eq!(regs.len(), 1);
    let r = &regs[0].data;
    assert_eq!(
        (r.registrations, r.first_number, r.last_number),
        (0, None, None)
    );
    assert!(!r.timestamped);
    let job = e
        .app
        .db()
        .job(t, "registro_giornaliero", empty)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
    let desk = actor(Role::Operatore);
    let (_, xml) = e
        .app
        .registro_giornaliero_file(t, &desk, &r.code, false)
        .await
        .unwrap();
    let dir = TempDir::new("registro-empty");
    std::fs::write(dir.path().join("vuoto.xml"), &xml).unwrap();
    xsd_valid(&dir.path().join("vuoto.xml"));
    let (_, pdf) = e
        .app
        .registro_giornaliero_file(t, &desk, &r.code, true)
        .await
        .unwrap();
    std::fs::write(dir.path().join("vuoto.pdf"), &pdf).unwrap();
    pdf_check(
        &dir.path().join("vuoto.pdf"),
        &["non è stata effettuata alcuna registrazione"],
    );

    // Catch-up: every closed day from the first registration, once.
    let now = Timestamp::now();
    let (made, until) = e.app.catch_up_registri(t, now, None).await.unwrap();
    let mut last_closed = rome_date(now).yesterday().unwrap();
    if now < day_bounds(last_closed).unwrap().1 + SignedDuration::from_secs(120) {
        last_closed = last_closed.yesterday().unwrap();
    }
    assert_eq!(until, Some(last_closed));
    let mut days = 0;
    let mut d = first_day;
    while d <= last_closed {
        assert_eq!(
            e.app.db().registri_of_day(t, d).await.unwrap().len(),
            1,
            "{d}"
        );
        days += 1;
        d = d.tomorrow().unwrap();
    }
    assert_eq!(made, days - 1, "the empty day existed already");
    let first = e.app.db().registri_of_day(t, first_day).await.unwrap();
    assert_eq!(first[0].data.registrations, 1);
    let (made, _) = e.app.catch_up_registri(t, now, None).await.unwrap();
    assert_eq!(made, 0);
    e.app.checkpoint_all().await.unwrap();
    let report = palazzo_services::verify::verify(e.app.db(), &e.keys)
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    e.close().await;
}

#[tokio::test]
async fn empty_day_concurrency_and_catch_up_sqlite() {
    empty_day_concurrency_and_catch_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn empty_day_concurrency_and_catch_up_postgres() {
    empty_day_concurrency_and_catch_up(Backend::Postgres).await;
}

/// PR-9: "by the next working day" on the office calendar (DECISIONS 9):
/// weekends, national holidays and the patron saint are skipped.
#[test]
fn deadline_is_the_next_office_working_day() {
    let plain = Calendar::new();
    // Wednesday → Thursday.
    assert_eq!(
        conservation_deadline(&plain, date(2026, 3, 4)).unwrap(),
        date(2026, 3, 5)
    );
    // Friday → Monday.
    assert_eq!(
        conservation_deadline(&plain, date(2026, 3, 6)).unwrap(),
        date(2026, 3, 9)
    );
    // 24 December 2025 (Wed): Christmas, Santo Stefano, the weekend → Monday 29.
    assert_eq!(
        conservation_deadline(&plain, date(2025, 12, 24)).unwrap(),
        date(2025, 12, 29)
    );
    // Easter Monday 2026 is 6 April: Thursday 2 → Friday 3; Friday 3 → Tuesday 7.
    assert_eq!(
        conservation_deadline(&plain, date(2026, 4, 3)).unwrap(),
        date(2026, 4, 7)
    );
    // Patron saint on 6 December (San Nicola, Bari): Thursday 5 December
    // 2024 → the 6th is the patron, the 7th/8th the weekend → Monday 9.
    let bari = Calendar::new().with_patron_saint(PatronSaint::parse("12-06").unwrap());
    assert_eq!(
        conservation_deadline(&bari, date(2024, 12, 5)).unwrap(),
        date(2024, 12, 9)
    );
    assert_eq!(
        conservation_deadline(&plain, date(2024, 12, 5)).unwrap(),
        date(2024, 12, 6)
    );
}
