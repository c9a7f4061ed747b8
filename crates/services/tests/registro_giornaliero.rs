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
use palazzo_store::conformance::{office_fixture, tenant_fixture};
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

/// Checks the PDF/A-3 structure with pikepdf and its visible text with
/// pypdf: every needle is in the text, or absent when it starts with `!`.
fn pdf_check(path: &std::path::Path, needles: &[&str]) {
    let python = palazzo_testkit::pki::pdf_python();
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
    if n.startswith("!"):
        assert n[1:] not in text, ("must be absent", n[1:], text[:4000])
    else:
        assert n in text, (n, text[:4000])
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

/// Changes the classification and office of `reg` at `at` as `by`, with
/// its ledger event, as `App::reassign_protocol` would have at that time.
async fn change_at(
    app: &App,
    tenant: &Tenant,
    reg: &Registration,
    classification: Option<&str>,
    office: Option<OfficeId>,
    at: Timestamp,
    by: &str,
) {
    let at = Timestamp::from_microsecond(at.as_microsecond()).unwrap();
    let change = AssignmentChange {
        classification: classification.map(str::to_owned),
        office,
        at,
        by: by.into(),
    };
    let mut tx = app.db().begin().await.unwrap();
    tx.update_registration_assignment(tenant.id, reg.id, &change)
        .await
        .unwrap();
    let mut after = app
        .db()
        .registration(tenant.id, reg.id)
        .await
        .unwrap()
        .unwrap();
    after.data.classification = change.classification;
    after.data.office = office;
    after.changed = Some(LastChange { at, by: by.into() });
    ledger::record(&mut tx, tenant, "protocollo.reassigned", &after)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The child elements of `node` as (name, text).
fn children<'a>(node: roxmltree::Node<'a, 'a>) -> Vec<(&'a str, &'a str)> {
    node.children()
        .filter(|c| c.is_element())
        .map(|c| (c.tag_name().name(), c.text().unwrap_or("")))
        .collect()
}

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    children(node)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t)
}

/// Issue 4 part 6: the registro of D reports what changed on D — the
/// changes of classification and office from `protocol_changes` (also of
/// registrations of earlier days) with author, value before and after, the
/// new versions of documents and the notices of annulment received — in the
/// XML (valid against the XSD) and in the PDF/A text; a change made on
/// another day is not in it, and D's registrations show their
/// classification as it was at the end of D.
async fn changes_of_the_day(backend: Backend) {
    let e = env(backend, None).await;
    let t = &e.tenant;
    let desk = actor(Role::Operatore);
    let office = e
        .app
        .create_office(t.id, office_fixture("archivio"))
        .await
        .unwrap();
    let yesterday = Timestamp::now() - SignedDuration::from_hours(24);
    let earlier = register_at(&e.app, t, "Istanza di ieri", yesterday).await;
    let received = register_at(&e.app, t, "Messaggio ricevuto ieri", yesterday).await;
    // A change made yesterday: never in today's registro.
    change_at(
        &e.app,
        t,
        &earlier,
        Some("I.1"),
        None,
        yesterday + SignedDuration::from_secs(60),
        "Archivio di ieri (user:9)",
    )
    .await;
    // The sender's identifier, as the received segnatura stored it.
    let seg_xml = e
        .app
        .documents()
        .put_bytes("segnatura.xml", b"<Segnatura/>")
        .await
        .unwrap();
    let sender = SenderIdentifier {
        amministrazione: "c_a662".into(),
        aoo: "AOO_BARI".into(),
        registro: "REG_PROT".into(),
        numero: "0004711".into(),
        data: rome_date(yesterday),
    };
    let mut tx = e.app.db().begin().await.unwrap();
    let seg = tx
        .insert_segnatura(
            t.id,
            &NewSegnatura {
                registration: received.id,
                kind: SegnaturaKind::Ricevuta,
                document: seg_xml.to_ref(),
                sender: Some(sender.clone()),
            },
            received.registered_at,
        )
        .await
        .unwrap();
    ledger::record(&mut tx, t, "protocollo.segnatura", &seg)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Today: a registration, the classification and then the office of
    // yesterday's entry, the classification of today's own entry, a new
    // version of yesterday's primary document, a notice of annulment.
    let today = e
        .app
        .register_protocol(t.id, &desk, input("Istanza di oggi"))
        .await
        .unwrap();
    e.app
        .reassign_protocol(t.id, &desk, earlier.id, Some("VI.3"), None)
        .await
        .unwrap();
    e.app
        .reassign_protocol(t.id, &desk, earlier.id, Some("VI.3"), Some(office.id))
        .await
        .unwrap();
    e.app
        .reassign_protocol(t.id, &desk, today.id, Some("II.4"), None)
        .await
        .unwrap();
    let v2_file = e
        .app
        .documents()
        .put_bytes(
            "istanza-rettificata.pdf",
            b"%PDF-1.7\n% rettificata\n%%EOF\n",
        )
        .await
        .unwrap();
    let version = e
        .app
        .add_document_version(
            t.id,
            &desk,
            earlier.id,
            0,
            TipoModifica::Rettifica,
            "Corretto il codice fiscale",
            &v2_file,
        )
        .await
        .unwrap();
    let notice_xml = e
        .app
        .documents()
        .put_bytes("annullamento.xml", b"<AnnullamentoProtocollazione/>")
        .await
        .unwrap();
    let mut tx = e.app.db().begin().await.unwrap();
    let notice = tx
        .insert_annulment_notice(
            t.id,
            &NewAnnulmentNotice {
                registration: received.id,
                reason: "Inviato per errore".into(),
                act: "Decreto del mittente n. 5/2026".into(),
                document: notice_xml.to_ref(),
                recorded_by: "Test operatore (user:1)".into(),
            },
            palazzo_store::rows::registration_time(),
        )
        .await
        .unwrap()
        .unwrap();
    ledger::record(&mut tx, t, "protocollo.annullamento_ricevuto", &notice)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let day = rome_date(today.registered_at);
    if rome_date(notice.received_at) != day {
        eprintln!("midnight passed during the test: skipping the content checks");
        e.close().await;
        return;
    }
    // A change made after the day is over: not in the registro of D, and
    // today's entry shows the classification it had at the end of D.
    change_at(
        &e.app,
        t,
        &today,
        Some("X.1"),
        None,
        after(day),
        "Operatore di domani (user:8)",
    )
    .await;

    let produced = e
        .app
        .produce_registro_giornaliero_as_of(t.id, day, "Operatore di prova", after(day))
        .await
        .unwrap();
    assert_eq!(produced.registri.len(), 1);
    let d = &produced.registri[0].data;
    assert_eq!(d.registrations, 1);
    // Classification and office of yesterday's entry, classification of
    // today's: three changes, one field each.
    assert_eq!(d.modifications, 3);
    assert_eq!((d.document_versions, d.annulment_notices), (1, 1));

    let (_, xml) = e
        .app
        .registro_giornaliero_file(t.id, &desk, &d.code, false)
        .await
        .unwrap();
    let (_, pdf) = e
        .app
        .registro_giornaliero_file(t.id, &desk, &d.code, true)
        .await
        .unwrap();
    let dir = TempDir::new("registro-modifiche");
    let xml_path = dir.path().join("registro.xml");
    let pdf_path = dir.path().join("registro.pdf");
    std::fs::write(&xml_path, &xml).unwrap();
    std::fs::write(&pdf_path, &pdf).unwrap();
    xsd_valid(&xml_path);
    let text = String::from_utf8(xml).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(doc.root_element().attribute("versione"), Some("2"));
    let riepilogo = doc
        .descendants()
        .find(|n| n.has_tag_name("Riepilogo"))
        .unwrap();
    assert_eq!(child(riepilogo, "NumeroModifiche"), Some("3"));
    assert_eq!(child(riepilogo, "NumeroNuoveVersioni"), Some("1"));
    assert_eq!(child(riepilogo, "NumeroAnnullamentiComunicati"), Some("1"));

    // Today's entry, as it stood at the end of D.
    let reg = doc
        .descendants()
        .find(|n| n.has_tag_name("Registrazione"))
        .unwrap();
    assert_eq!(
        child(reg, "Numero"),
        Some(today.number.to_string().as_str())
    );
    assert_eq!(child(reg, "Classificazione"), Some("II.4"));

    // Modifiche, in time order, each with its author, before and after,
    // and the ledger event that recorded it.
    let mods: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Modifica"))
        .collect();
    let seen: Vec<_> = mods
        .iter()
        .map(|m| {
            (
                m.attribute("tipo"),
                child(*m, "Numero"),
                child(*m, "Autore"),
                child(*m, "ValorePrecedente"),
                child(*m, "ValoreNuovo"),
            )
        })
        .collect();
    let (n_earlier, n_today) = (earlier.number.to_string(), today.number.to_string());
    assert_eq!(
        seen,
        vec![
            (
                Some("Classificazione"),
                Some(n_earlier.as_str()),
                Some("Test operatore (user:1)"),
                Some("I.1"),
                Some("VI.3")
            ),
            (
                Some("Assegnazione"),
                Some(n_earlier.as_str()),
                Some("Test operatore (user:1)"),
                None,
                Some("Ufficio archivio")
            ),
            (
                Some("Classificazione"),
                Some(n_today.as_str()),
                Some("Test operatore (user:1)"),
                None,
                Some("II.4")
            ),
        ]
    );
    let office_value = mods[1]
        .children()
        .find(|c| c.has_tag_name("ValoreNuovo"))
        .unwrap();
    assert_eq!(office_value.attribute("ufficio"), Some("archivio"));
    assert_eq!(
        child(mods[0], "DataOraRegistrazione"),
        Some(earlier.registered_at.to_string().as_str())
    );
    // Each change names the ledger event that recorded it.
    let size = e.app.db().ledger_size(t.id).await.unwrap();
    let events = e.app.db().ledger_events(t.id, 0, size).await.unwrap();
    for m in &mods {
        let ev = m
            .children()
            .find(|c| c.has_tag_name("EventoRegistro"))
            .expect("the change's ledger event");
        let seq: u64 = ev.attribute("progressivo").unwrap().parse().unwrap();
        let event = &events[usize::try_from(seq).unwrap()];
        assert_eq!(event.kind, "protocollo.reassigned");
        assert_eq!(
            Some(hex(&event.state_hash).as_str()),
            ev.attribute("statoSHA256")
        );
    }
    // Neither yesterday's change nor tomorrow's.
    assert!(!text.contains("Archivio di ieri"), "{text}");
    assert!(!text.contains("Operatore di domani") && !text.contains("X.1"));

    // The new version.
    let v = doc
        .descendants()
        .find(|n| n.has_tag_name("NuovaVersione"))
        .unwrap();
    assert_eq!(v.attribute("tipo"), Some("Rettifica"));
    assert_eq!(child(v, "Numero"), Some(n_earlier.as_str()));
    assert_eq!(child(v, "Autore"), Some("Test operatore (user:1)"));
    assert_eq!(
        child(v, "Documento"),
        Some(earlier.data.primary.name.as_str())
    );
    assert_eq!(child(v, "Versione"), Some("2"));
    assert_eq!(child(v, "Nome"), Some("istanza-rettificata.pdf"));
    assert_eq!(child(v, "Impronta"), Some(v2_file.sha256.hex().as_str()));
    assert_eq!(
        child(v, "ImprontaPrecedente"),
        Some(earlier.data.primary.sha256.hex().as_str())
    );
    assert_eq!(child(v, "Motivo"), Some("Corretto il codice fiscale"));
    assert!(v.children().any(|c| c.has_tag_name("EventoRegistro")));
    assert_eq!(version.data.version, 2);

    // The notice of annulment received from the sender.
    let a = doc
        .descendants()
        .find(|n| n.has_tag_name("AnnullamentoComunicato"))
        .unwrap();
    assert_eq!(
        child(a, "Numero"),
        Some(received.number.to_string().as_str())
    );
    assert_eq!(child(a, "Motivo"), Some("Inviato per errore"));
    assert_eq!(
        child(a, "Provvedimento"),
        Some("Decreto del mittente n. 5/2026")
    );
    assert_eq!(child(a, "RegistratoDa"), Some("Test operatore (user:1)"));
    assert_eq!(child(a, "Impronta"), Some(notice_xml.sha256.hex().as_str()));
    let mittente = a
        .children()
        .find(|c| c.has_tag_name("RegistrazioneMittente"))
        .unwrap();
    assert_eq!(child(mittente, "CodiceAmministrazione"), Some("c_a662"));
    assert_eq!(child(mittente, "Numero"), Some("0004711"));

    // The same in the PDF/A, readable.
    pdf_check(
        &pdf_path,
        &[
            "Modifiche",
            "Nuove versioni dei documenti",
            "Annullamenti comunicati dai mittenti",
            &format!("Classificazione — registrazione n. {n_earlier}/"),
            &format!("Ufficio competente (assegnazione) — registrazione n. {n_earlier}/"),
            "Valore precedente I.1",
            "Valore nuovo VI.3",
            "Valore nuovo Ufficio archivio (archivio)",
            "Test operatore (user:1)",
            "Corretto il codice fiscale",
            &v2_file.sha256.hex(),
            "Inviato per errore",
            "Decreto del mittente n. 5/2026",
            "c_a662 AOO_BARI REG_PROT n. 0004711",
            "!Archivio di ieri",
            "!Operatore di domani",
        ],
    );

    e.app.checkpoint_all().await.unwrap();
    let report = palazzo_services::verify::verify(e.app.db(), &e.keys)
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    e.close().await;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn changes_of_the_day_sqlite() {
    changes_of_the_day(Backend::Sqlite).await;
}

#[tokio::test]
async fn changes_of_the_day_postgres() {
    changes_of_the_day(Backend::Postgres).await;
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
