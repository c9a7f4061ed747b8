//! Sealed certificates per second per core, end to end (issue 5 "Speed";
//! DECISIONS 21): `seal_certificate` composes a certificate from register
//! data, builds its canonical record, seals it (COSE_Sign1, ES256 with
//! `p256` and EdDSA), encodes the QR and renders the PDF/A-3b from the
//! cached template — everything but the database. One thread, varying data.
//! Then the whole issuance as the web and the CLI run it,
//! `App::issue_certificate`: the register read, the key, sealing and
//! rendering, the PDF written (and synced) to the document store, the
//! record and its ledger event committed — on SQLite, and on PostgreSQL when
//! `PALAZZO_TEST_POSTGRES` names a server.
//!
//! `cargo bench -p palazzo-services --bench certificati`; the TCPDF
//! baseline of the same certificate is `cargo bench -p palazzo-pdf --bench
//! certificati`. `PALAZZO_BENCH_N` sets the count (default 2000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use jiff::civil::date;
use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
use palazzo_domain::certificati::{Richiesta, Soggetto, TipoCertificato, Uso};
use palazzo_domain::ids::Sex;
use palazzo_seal::cose::{Ed25519Signer, P256Signer, SealSigner};
use palazzo_services::certificati::{Issuance, Templates, seal_certificate};
use palazzo_services::keys::X509Signer;
use palazzo_services::segnatura::SealKey;
use palazzo_services::segnatura::demo_ca::DemoCa;
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Tenant, TenantId};

const NAMES: &[&str] = &["Mario", "Nicolò", "Anna", "Lucia", "Giuseppe", "Francesca"];
const SURNAMES: &[&str] = &["Rossi", "D'Angelo", "Esposito", "Lo Presti", "Bianchi"];

fn request(i: usize) -> Richiesta {
    let holder = Soggetto {
        codice_fiscale: format!("RSSMRA80A01A66{:02}", i % 100),
        cognome: SURNAMES[i % SURNAMES.len()].into(),
        nome: NAMES[i % NAMES.len()].into(),
        sesso: if i.is_multiple_of(2) { Sex::M } else { Sex::F },
        nascita: date(
            1940 + (i % 60) as i16,
            1 + (i % 12) as i8,
            1 + (i % 28) as i8,
        ),
        luogo_nascita: "Acquaviva delle Fonti (BA)".into(),
        cittadinanza: Cittadinanza::ITALIANA,
        stato_civile: StatoCivile::Coniugato,
        rapporto: "intestatario".into(),
    };
    Richiesta {
        tipo: TipoCertificato::Residenza,
        uso: Uso::Bollo,
        comune: "Casamassima".into(),
        codice_catastale: "B923".into(),
        provincia: "BA".into(),
        rilascio: date(2026, 11, 27),
        intestatario: holder.clone(),
        famiglia: vec![holder],
        indirizzo: format!("Via Roma {}", 1 + i % 200),
        cap: "70010".into(),
        residente_dal: Some(date(2010, 3, 15)),
        provenienza: None,
        residenze: vec![],
    }
}

fn run(name: &str, signer: &dyn SealSigner, pades: Option<&dyn X509Signer>, n: usize) {
    let tenant = Tenant {
        id: TenantId(1),
        data: tenant_fixture(1),
    };
    let templates = Templates::default();
    let requests: Vec<Richiesta> = (0..n).map(request).collect();
    let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
    // The template is built once, outside the measure (DECISIONS 21).
    seal_certificate(
        &templates,
        &tenant,
        &requests[0],
        signer,
        &issuance(0, at, pades),
    )
    .unwrap();
    let start = Instant::now();
    let mut bytes = 0;
    for (i, r) in requests.iter().enumerate() {
        let c = seal_certificate(&templates, &tenant, r, signer, &issuance(i, at, pades)).unwrap();
        bytes += black_box(c.pdf).len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  {name:<28} {:>6.0} /s  ({:.3} ms each, {:.1} kB, n = {n})",
        n as f64 / secs,
        secs * 1000.0 / n as f64,
        bytes as f64 / n as f64 / 1000.0
    );
}

fn issuance(i: usize, at: jiff::Timestamp, pades: Option<&dyn X509Signer>) -> Issuance<'_> {
    let mut cti = [0u8; 16];
    cti[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Issuance {
        cti,
        at,
        status: None,
        base_url: "https://www.comune.casamassima.ba.it",
        pades,
    }
}

/// Issues `n` certificates through `App::issue_certificate` one after the
/// other, for residents of an imported register.
async fn issue_stored(label: &str, db: palazzo_services::db::Db, n: usize) {
    use palazzo_domain::access::{Grant, Principal, Role};
    use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale};
    use palazzo_services::access::Actor;
    use palazzo_services::rilascio::CertificateRequest;
    let dir = palazzo_testkit::TempDir::new("bench-rilascio");
    let app = palazzo_services::App::new(
        db,
        palazzo_services::keys::KeyStore::new(dir.path().join("keys")),
    )
    .await
    .unwrap();
    let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
    app.install_demo_seals().unwrap();
    let admin = Actor {
        principal: Principal {
            grants: vec![Grant {
                role: Role::AdminComune,
                office: None,
            }],
        },
        ..Default::default()
    };
    app.import_anagrafe(
        t.id,
        &admin,
        b"codice;denominazione\n1;Via Roma\n",
        |_, _| {},
    )
    .await
    .unwrap();
    let mut csv = String::from(
        "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;cittadinanza;stato_civile;famiglia;rapporto;via;civico;cap;dal;al;provenienza\n",
    );
    let mut holders = Vec::new();
    for i in 0..200usize {
        let (surname, name) = (SURNAMES[i % SURNAMES.len()], NAMES[i % NAMES.len()]);
        let birth = date(
            1940 + (i % 60) as i16,
            1 + (i % 12) as i8,
            1 + (i % 28) as i8,
        );
        let sex = if i.is_multiple_of(2) { Sex::M } else { Sex::F };
        let cf = CodiceFiscale::compute(
            surname,
            name,
            birth,
            sex,
            &CodiceCatastale::parse("A662").unwrap(),
        );
        if holders.contains(&cf) {
            continue;
        }
        csv.push_str(&format!(
            "{cf};{surname};{name};{};{};A662;IT;coniugato;F{i};intestatario;Via Roma;{};70010;15/03/2010;;\n",
            if sex == Sex::M { "M" } else { "F" },
            birth.strftime("%d/%m/%Y"),
            1 + i
        ));
        holders.push(cf);
    }
    let report = app
        .import_anagrafe(t.id, &admin, csv.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let desk = Actor {
        principal: Principal {
            grants: vec![Grant {
                role: Role::UfficialeAnagrafe,
                office: None,
            }],
        },
        name: Some("bench".into()),
        ..Default::default()
    };
    let exempt = Uso::from_code("tributi").unwrap();
    let request = |i: usize| CertificateRequest {
        holder: holders[i % holders.len()].clone(),
        tipo: TipoCertificato::Residenza,
        uso: exempt,
        base_url: "https://comune.alfa.ba.it".into(),
    };
    // Warm-up: the key, the template, the connections.
    for i in 0..20 {
        app.issue_certificate(t.id, &desk, &request(i))
            .await
            .unwrap();
    }
    let start = Instant::now();
    for i in 0..n {
        black_box(
            app.issue_certificate(t.id, &desk, &request(i))
                .await
                .unwrap(),
        );
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  {label:<28} {n:>6} issued and stored in {secs:>6.2} s  = {:>7.1} /s  ({:.2} ms each)",
        n as f64 / secs,
        secs * 1e3 / n as f64
    );
    app.db().close().await;
}

fn main() {
    let n: usize = std::env::var("PALAZZO_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!(
        "sealed certificates end to end (one thread; compose + record + seal + QR + PDF/A-3b)"
    );
    run(
        "ES256 (p256)",
        &P256Signer::from_secret_bytes(&[42u8; 32]).unwrap(),
        None,
        n,
    );
    run(
        "EdDSA (ed25519-dalek)",
        &Ed25519Signer::from_seed(&[7u8; 32]).unwrap(),
        None,
        n,
    );
    // The released file: the same, plus the PAdES seal of the whole file
    // (ECDSA P-256 seal certificate from a local CA, ANA-04).
    let now = jiff::Timestamp::now();
    let ca = DemoCa::generate(now).unwrap();
    let seal = ca
        .issue_seal("Comune di Casamassima", "AOO_BENCH", now)
        .unwrap();
    let x509 = SealKey::from_pem(&seal.key_pem, &seal.cert_pem).unwrap();
    run(
        "ES256 + PAdES (P-256)",
        &P256Signer::from_secret_bytes(&[42u8; 32]).unwrap(),
        Some(&x509),
        n,
    );
    println!(
        "  goal: ≥ 500/s per core (DECISIONS 21); TCPDF: cargo bench -p palazzo-pdf --bench certificati"
    );
    println!(
        "issued and stored (App::issue_certificate: register, seal, PDF, document store, record, ledger)"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = palazzo_testkit::TempDir::new("bench-rilascio-db");
        let db = palazzo_services::db::Db::open_sqlite(&dir.path().join("b.db"))
            .await
            .unwrap();
        issue_stored("SQLite", db, n / 4).await;
        if std::env::var("PALAZZO_TEST_POSTGRES").is_ok() {
            let pg = palazzo_testkit::PgDatabase::create().await;
            let db = palazzo_services::db::Db::open(&pg.url).await.unwrap();
            issue_stored("PostgreSQL", db, n / 4).await;
            pg.drop_now().await;
        }
    });
}
