//! Test support: start the real Palazzo application on port 0 with an
//! isolated store (a temporary SQLite file or a fresh PostgreSQL database),
//! seeded through the production code paths, and talk to it over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod browser;
pub mod cli;
pub mod gpd;
pub mod istanze;
pub mod oidc_provider;
pub mod pki;
pub mod smtp;
pub mod spidcie;
pub mod tsa;

pub use browser::{Browser, Page};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::{App, demo};
use palazzo_store::Store;
use tokio::sync::oneshot;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh, empty directory.
    pub fn new(label: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "palazzo-{label}-{}-{n}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `PALAZZO_TEST_POSTGRES`.
    Postgres,
}

/// The PostgreSQL server URL used by tests (`PALAZZO_TEST_POSTGRES`, default
/// the local server on 127.0.0.1:5432). `scripts/test` guarantees one.
pub fn postgres_admin_url() -> String {
    std::env::var("PALAZZO_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh PostgreSQL database, dropped on [`PgDatabase::drop_now`].
pub struct PgDatabase {
    /// URL of the new database.
    pub url: String,
    name: String,
}

impl PgDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create() -> PgDatabase {
        let admin = postgres_admin_url();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!(
            "palazzo_t_{}_{}_{}",
            std::process::id(),
            n,
            jiff::Timestamp::now().as_millisecond()
        );
        run_admin_sql(&admin, &format!("CREATE DATABASE {name}")).await;
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }

    /// Drops the database.
    pub async fn drop_now(&self) {
        run_admin_sql(
            &postgres_admin_url(),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

/// A test that panics before `drop_now` still drops its database.
impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .arg(postgres_admin_url())
            .args([
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

async fn run_admin_sql(admin_url: &str, sql: &str) {
    let out = tokio::process::Command::new("psql")
        .arg(admin_url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-q")
        .arg("-c")
        .arg(sql)
        .output()
        .await
        .expect("psql must be installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running Palazzo.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The application (for direct service calls in tests).
    pub app: App,
    /// The secret the web layer uses.
    pub secret: [u8; 32],
    /// Data directory (keys, SQLite file).
    pub data_dir: TempDir,
    pg: Option<PgDatabase>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Host names of the two demo comuni, as tests address them.
pub const CASAMASSIMA: &str = "casamassima.localhost";
/// The second demo comune.
pub const ACQUAVIVA: &str = "acquaviva.localhost";

impl TestApp {
    /// Starts Palazzo on `backend`, seeded with the demo comuni and a small
    /// population (`residents` per comune).
    pub async fn spawn(backend: Backend, residents: usize) -> TestApp {
        TestApp::spawn_with(backend, residents, |_, _| {}).await
    }

    /// Like [`TestApp::spawn`], with the web configuration adjusted by
    /// `configure` once the listening address is known (e.g. a SPID/CIE
    /// federation whose entity id is `http://127.0.0.1:<port>`).
    pub async fn spawn_with(
        backend: Backend,
        residents: usize,
        configure: impl FnOnce(SocketAddr, &mut palazzo_web::WebConfig),
    ) -> TestApp {
        let data_dir = TempDir::new("app");
        let (db, pg) = match backend {
            Backend::Sqlite => (
                Db::open_sqlite(&data_dir.path().join("palazzo.db"))
                    .await
                    .unwrap(),
                None,
            ),
            Backend::Postgres => {
                let pg = PgDatabase::create().await;
                (Db::open(&pg.url).await.unwrap(), Some(pg))
            }
        };
        let app = App::new(db, KeyStore::new(data_dir.path().join("keys")))
            .await
            .unwrap();
        demo::seed(&app, residents).await.unwrap();
        let secret = [7u8; 32];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut web = palazzo_web::WebConfig {
            behind_tls: false,
            secret,
            max_body_bytes: 64 * 1024,
            demo_sign_in: true,
            staff_oidc: Default::default(),
            federation: Default::default(),
        };
        configure(addr, &mut web);
        let router = palazzo_web::router(app.clone(), web);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            palazzo_web::serve(listener, router, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            addr,
            app,
            secret,
            data_dir,
            pg,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// An HTTP client that resolves the demo hosts (and any `*.localhost`
    /// given in `extra`) to this server, never following redirects.
    pub fn client(&self) -> reqwest::Client {
        let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        for host in [
            CASAMASSIMA,
            ACQUAVIVA,
            "comune.casamassima.ba.it",
            "comune.acquaviva-delle-fonti.ba.it",
            "unknown.localhost",
        ] {
            b = b.resolve(host, self.addr);
        }
        b.build().unwrap()
    }

    /// The database URL (`postgres://…`, or `sqlite:<data_dir>/palazzo.db`),
    /// for a configuration file of the command line.
    pub fn database_url(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!(
                "sqlite:{}",
                self.data_dir.path().join("palazzo.db").display()
            ),
        }
    }

    /// `http://<host>:<port><path>`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// GET and return (status, body).
    pub async fn get(&self, host: &str, path: &str) -> (u16, String) {
        let r = self
            .client()
            .get(self.url(host, path))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// A personal API key of a demo resident of the comune at `host`
    /// (their user is made by signing in once with the demo provider).
    pub async fn resident_key(&self, host: &str, cf: &str) -> String {
        let t = self.app.tenant_for_host(host).expect("the comune");
        let mut web = Browser::new(self, host);
        web.demo_sign_in(&format!("cf:{cf}")).await;
        let user = self
            .app
            .db()
            .user_by_codice_fiscale(t.id, &cf.parse().expect("a codice fiscale"))
            .await
            .expect("the user lookup")
            .expect("the resident's user");
        self.app
            .issue_api_token(t.id, user.id, "app istanze", Some(30))
            .await
            .expect("the key")
            .token
    }

    /// A personal API key of a staff member `subject` of the comune at
    /// `host` with `role` on `office` (a user made as a sign-in would, with
    /// the roles the identity provider gives).
    pub async fn staff_key(
        &self,
        host: &str,
        subject: &str,
        role: palazzo_store::Role,
        office: palazzo_store::OfficeId,
    ) -> String {
        let t = self.app.tenant_for_host(host).expect("the comune");
        let user = self
            .app
            .record_sign_in(
                t.id,
                &palazzo_services::access::VerifiedIdentity {
                    provider: "demo".into(),
                    issuer: "demo".into(),
                    subject: format!("staff:{subject}"),
                    acr: None,
                    codice_fiscale: None,
                    given_name: "Operatore".into(),
                    family_name: subject.into(),
                    birth_date: None,
                    birth_place: None,
                    email: None,
                    phone: None,
                },
            )
            .await
            .expect("the sign-in");
        self.app
            .sync_idp_roles(t.id, user.id, &[(role, office)])
            .await
            .expect("the roles");
        self.app
            .issue_api_token(t.id, user.id, subject, Some(30))
            .await
            .expect("the key")
            .token
    }

    /// How many events of `kind` the comune's ledger holds.
    pub async fn ledger_count(&self, tenant: palazzo_store::TenantId, kind: &str) -> usize {
        self.app
            .db()
            .ledger_events(tenant, 0, u64::MAX / 2)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == kind)
            .count()
    }

    /// Stops the server and drops the PostgreSQL database, if any.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
        self.app.db().close().await;
        if let Some(pg) = self.pg.take() {
            pg.drop_now().await;
        }
    }
}

/// The text of a PDF as poppler's `pdftotext -layout` reads it (installed
/// by `scripts/test`): an independent reader of what Palazzo renders.
pub fn pdf_text(pdf: &[u8]) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "palazzo-pdf-text-{}-{}.pdf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, pdf).expect("a temporary PDF");
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The QR codes on every page of a PDF, page by page, as poppler renders
/// them at 200 dpi (`pdftoppm`) and `zbarimg` (zbar-tools) reads them:
/// independent readers of what Palazzo prints.
pub fn pdf_qr_codes(pdf: &[u8]) -> Vec<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let stem = std::env::temp_dir().join(format!(
        "palazzo-pdf-qr-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let path = stem.with_extension("pdf");
    std::fs::write(&path, pdf).expect("a temporary PDF");
    let render = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-png"])
        .arg(&path)
        .arg(&stem)
        .status()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(render.success(), "pdftoppm failed");
    let _ = std::fs::remove_file(&path);
    // `<stem>-1.png`, `<stem>-2.png`… (zero-padded to the page count's
    // digits), in page order.
    let prefix = format!(
        "{}-",
        stem.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    );
    let mut pages: Vec<std::path::PathBuf> = std::fs::read_dir(std::env::temp_dir())
        .expect("the temporary directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".png"))
        })
        .collect();
    pages.sort();
    let mut codes = Vec::new();
    for png in pages {
        let out = std::process::Command::new("zbarimg")
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .arg(&png)
            .output()
            .expect("zbarimg (zbar-tools) runs");
        let _ = std::fs::remove_file(&png);
        codes.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .filter(|l| !l.is_empty()),
        );
    }
    codes
}
