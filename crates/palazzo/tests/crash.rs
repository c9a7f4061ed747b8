//! Crash test of the protocollo (issue 4, "Reliability and speed"), on both
//! backends: the real `palazzo serve` process takes registrations from
//! concurrent API clients and is killed with SIGKILL at random moments,
//! then restarted. At the end every registration a client saw acknowledged
//! (201) is in the register with its subject and number; the numbers are
//! exactly 1..N, with no gap or duplicate, in registration-time order; a
//! registration that was in flight at a kill may or may not exist, but only
//! inside 1..N; and `palazzo verify` passes on the crashed installation.
//!
//! The kill moments come from a seeded generator whose seed is printed;
//! `PALAZZO_CRASH_SEED=<n>` replays a run, `PALAZZO_CRASH_KILLS=<n>` kills
//! more often than the default.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palazzo_domain::access::Role;
use palazzo_services::access::VerifiedIdentity;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::staff_oidc::StaffSignIn;
use palazzo_services::{App, demo};
use palazzo_store::Store as _;
use palazzo_testkit::browser::{Part, multipart};
use palazzo_testkit::{Backend, CASAMASSIMA, PgDatabase, TempDir};
use serde_json::{Value, json};

/// Concurrent API clients.
const CLIENTS: usize = 12;
/// SIGKILLs per backend (the issue asks for at least 10);
/// `PALAZZO_CRASH_KILLS=<n>` runs more, for a soak.
const KILLS: usize = 12;
/// Random delay between the server being ready and its kill, in ms.
const KILL_AFTER_MS: (u64, u64) = (50, 400);

/// SplitMix64: a small, seedable generator, enough to pick kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn kills() -> usize {
    std::env::var("PALAZZO_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(KILLS)
        .max(KILLS)
}

fn seed() -> u64 {
    std::env::var("PALAZZO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64)
}

/// An installation on disk (and in PostgreSQL) with its configuration file.
/// It is served on the same port across restarts, unless another process
/// took that port while the server was down.
struct Installation {
    _dir: TempDir,
    config: PathBuf,
    url: String,
    port: AtomicU16,
    log: PathBuf,
    _pg: Option<PgDatabase>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `palazzo` with the test's configuration only: no `PALAZZO_*` setting
/// from the environment leaks in.
fn palazzo_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_palazzo"));
    for key in [
        "DATA_DIR",
        "DEMO_SIGN_IN",
        "DATABASE_URL",
        "LISTEN",
        "BEHIND_TLS",
        "MAX_BODY_BYTES",
        "LOG_FORMAT",
        "LOG_LEVEL",
    ] {
        c.env_remove(format!("PALAZZO_{key}"));
    }
    c.env("RUST_LOG", "warn");
    c
}

impl Installation {
    /// Creates the installation: the demo comuni, seeded through the
    /// library, and one operatore of the first office, recorded the way a
    /// staff sign-in records them; returns it with the operatore's id.
    async fn create(backend: Backend) -> (Installation, i64) {
        let dir = TempDir::new("crash");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create().await),
        };
        let url = match &pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite:{}", data.join("palazzo.db").display()),
        };
        let config = dir.path().join("palazzo.toml");
        let mut text = format!("data_dir = \"{}\"\nlog_level = \"warn\"\n", data.display());
        if let Some(pg) = &pg {
            text.push_str(&format!("database_url = \"{}\"\n", pg.url));
        }
        std::fs::write(&config, text).unwrap();

        let db = Db::open(&url).await.unwrap();
        let app = App::new(db, KeyStore::new(data.join("keys")))
            .await
            .unwrap();
        demo::seed(&app, 5).await.unwrap();
        let t = app.tenant_for_host(CASAMASSIMA).unwrap();
        let office = app.portal(t.id).await.unwrap().offices[0].id;
        let id = VerifiedIdentity {
            provider: "oidc".into(),
            issuer: "https://staff.example.org".into(),
            subject: "crash-test-operatore".into(),
            acr: None,
            codice_fiscale: None,
            given_name: "Ornella".into(),
            family_name: "Operatrice".into(),
            birth_date: None,
            birth_place: None,
            email: None,
            phone: None,
        };
        let signed = app
            .staff_sign_in(t.id, &id, &[(Role::Operatore, office)])
            .await
            .unwrap();
        let StaffSignIn::SignedIn(user) = signed else {
            panic!("the operatore was not signed in: {signed:?}");
        };
        app.db().close().await;
        let log = dir.path().join("serve.log");
        (
            Installation {
                _dir: dir,
                config,
                url,
                port: AtomicU16::new(free_port()),
                log,
                _pg: pg,
            },
            user.id.0,
        )
    }

    fn palazzo(&self, args: &[&str]) -> Output {
        let mut c = palazzo_command();
        c.args(args)
            .args(["--config", self.config.to_str().unwrap()]);
        c.output().unwrap()
    }

    /// `palazzo api-token create` for the operatore: the key is printed once.
    fn api_key(&self, user: i64) -> String {
        let out = self.palazzo(&[
            "api-token",
            "create",
            "--ente",
            "casamassima",
            "--user",
            &user.to_string(),
            "--label",
            "prova di arresto",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "api-token create: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with("pzk_"))
            .unwrap_or_else(|| panic!("no key printed: {text}"))
            .to_owned()
    }

    /// Starts `palazzo serve` and waits until it is ready; returns the
    /// process and how long it took.
    async fn start(&self) -> (Child, Duration) {
        for _ in 0..5 {
            let mut child = self.spawn();
            match self.wait_ready(&mut child).await {
                Ok(ready) => return (child, ready),
                // The port was taken while the server was down: move.
                Err(log) if log.contains("cannot listen") => {
                    println!("port {} taken, moving", self.port());
                    self.port.store(free_port(), Ordering::SeqCst);
                }
                Err(log) => panic!("palazzo serve exited before it was ready:\n{log}"),
            }
        }
        panic!("palazzo serve found no free port:\n{}", self.log_tail());
    }

    fn port(&self) -> u16 {
        self.port.load(Ordering::SeqCst)
    }

    /// Starts `palazzo serve`; its log is appended to `serve.log`.
    fn spawn(&self) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut c = palazzo_command();
        let listen = format!("127.0.0.1:{}", self.port());
        c.args(["serve", "--config", self.config.to_str().unwrap()])
            .args(["--listen", &listen])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        c.spawn().unwrap()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The URL of `path` at the comune, on the current port.
    fn url(&self, path: &str) -> String {
        format!("http://{CASAMASSIMA}:{}{path}", self.port())
    }

    /// A client that finds the comune's host on this machine (the port
    /// comes from each URL).
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .resolve(CASAMASSIMA, SocketAddr::from(([127, 0, 0, 1], 0)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// Waits until `/readyz` answers 200; the log's tail if the process
    /// exits first.
    async fn wait_ready(&self, child: &mut Child) -> Result<Duration, String> {
        let start = Instant::now();
        let client = self.client();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(format!("exit {status}\n{}", self.log_tail()));
            }
            if let Ok(r) = client.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return Ok(start.elapsed());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "palazzo serve not ready after 30 s:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A registration a client saw acknowledged.
#[derive(Debug, Clone)]
struct Ack {
    subject: String,
    year: i64,
    number: u64,
    at: jiff::Timestamp,
}

#[derive(Default)]
struct Log {
    /// Every subject sent, acknowledged or not.
    sent: Mutex<HashSet<String>>,
    acks: Mutex<Vec<Ack>>,
    /// Requests that got an answer other than 201.
    refused: Mutex<Vec<(u16, String)>>,
    /// Requests that found no server (down between a kill and the restart).
    refused_connection: AtomicUsize,
    /// Requests cut by a kill: sent, no (complete) answer.
    cut: AtomicUsize,
}

fn ack_of(subject: &str, body: &str) -> Ack {
    let v: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("201 not JSON ({e}): {body}"));
    assert_eq!(v["subject"], subject, "{body}");
    Ack {
        subject: subject.to_owned(),
        year: v["year"].as_i64().unwrap(),
        number: v["number"].as_str().unwrap().parse().unwrap(),
        at: v["registered_at"].as_str().unwrap().parse().unwrap(),
    }
}

/// One client: registers until told to stop, one request at a time.
async fn client_loop(
    inst: Arc<Installation>,
    token: Arc<String>,
    tag: &'static str,
    c: usize,
    stop: Arc<AtomicBool>,
    log: Arc<Log>,
) {
    let client = inst.client();
    let auth = format!("Bearer {token}");
    let mut k = 0u64;
    while !stop.load(Ordering::SeqCst) {
        k += 1;
        let subject = format!("Prova di arresto {tag} c{c} r{k}");
        let dati = json!({
            "flow": "E",
            "subject": subject,
            "correspondents": [{"name": "Mario Rossi", "fiscal_code": "RSSMRA80A01H501U"}],
        })
        .to_string();
        // A distinct document per request: the content-addressed store is
        // written under load too.
        let pdf = format!(
            "%PDF-1.7\n% {subject}\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        );
        let (content_type, body) = multipart(&[
            Part::Text("dati", &dati),
            Part::File("documento", "istanza.pdf", pdf.as_bytes()),
        ]);
        log.sent.lock().unwrap().insert(subject.clone());
        let sent = client
            .post(inst.url("/api/v1/protocollo"))
            .header("authorization", &auth)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    // Acknowledged: the client holds the number.
                    Ok(text) if status == 201 => {
                        log.acks.lock().unwrap().push(ack_of(&subject, &text));
                    }
                    Ok(text) => {
                        log.refused.lock().unwrap().push((status, text));
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    // The body was cut by the kill: not acknowledged.
                    Err(_) => {
                        log.cut.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            Err(e) => {
                if e.is_connect() {
                    log.refused_connection.fetch_add(1, Ordering::SeqCst);
                } else {
                    log.cut.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// The whole register of `year` through the API, in number order.
async fn read_register(inst: &Installation, token: &str, year: i64) -> Vec<Value> {
    let client = inst.client();
    let mut out = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut path = format!("/api/v1/protocollo?anno={year}&limite=200");
        if let Some(b) = before {
            path.push_str(&format!("&prima={b}"));
        }
        let r = client
            .get(inst.url(&path))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_i64() {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    out.sort_by_key(|v| v["number"].as_str().unwrap().parse::<u64>().unwrap());
    out
}

async fn run(backend: Backend, tag: &'static str) {
    let started = Instant::now();
    let seed = seed();
    println!("[{tag}] crash test seed {seed} (PALAZZO_CRASH_SEED={seed} replays the kill moments)");
    let mut rng = Rng(seed);
    let (inst, user) = Installation::create(backend).await;
    let inst = Arc::new(inst);
    let token = Arc::new(inst.api_key(user));

    let (mut server, _) = inst.start().await;
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Log::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            tokio::spawn(client_loop(
                inst.clone(),
                token.clone(),
                tag,
                c,
                stop.clone(),
                log.clone(),
            ))
        })
        .collect();

    let kills = kills();
    let acked = || log.acks.lock().unwrap().len();
    let mut restarts = Vec::new();
    for kill in 1..=kills {
        let since = acked();
        let delay = rng.between(KILL_AFTER_MS.0, KILL_AFTER_MS.1);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // Kill during registrations: at least one since the restart (a slow
        // machine may take longer than the delay to serve the first).
        let waiting = Instant::now();
        while acked() == since {
            assert!(
                waiting.elapsed() < Duration::from_secs(20),
                "no registration acknowledged in 20 s after restart {}:\n{}",
                kill - 1,
                inst.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let before = acked();
        // std's Child::kill is SIGKILL on Unix: no shutdown, no flush.
        server.kill().unwrap();
        server.wait().unwrap();
        let ready;
        (server, ready) = inst.start().await;
        restarts.push(ready);
        println!(
            "[{tag}] kill {kill}/{kills} after {delay} ms ({} acknowledged since the restart, {before} in all), ready again in {} ms",
            before - since,
            ready.as_millis()
        );
    }
    // Registrations after the last restart, then the clients stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }

    let acks = log.acks.lock().unwrap().clone();
    let sent = log.sent.lock().unwrap().clone();
    let refused = log.refused.lock().unwrap().clone();
    println!(
        "[{tag}] {} requests: {} acknowledged, {} cut by a kill, {} found the server down, {} refused",
        sent.len(),
        acks.len(),
        log.cut.load(Ordering::SeqCst),
        log.refused_connection.load(Ordering::SeqCst),
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "a registration was refused by a running server: {refused:?}"
    );

    // Read back through the API of the restarted server.
    let years: std::collections::BTreeSet<i64> = acks.iter().map(|a| a.year).collect();
    let mut present = 0;
    for year in years {
        let register = read_register(&inst, &token, year).await;
        let by_subject: BTreeMap<&str, &Value> = register
            .iter()
            .map(|v| (v["subject"].as_str().unwrap(), v))
            .collect();
        assert_eq!(
            by_subject.len(),
            register.len(),
            "one request registered twice in {year}"
        );
        // Numbers 1..N: no gap, no duplicate.
        let numbers: Vec<u64> = register
            .iter()
            .map(|v| v["number"].as_str().unwrap().parse().unwrap())
            .collect();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert!(
            numbers == expected,
            "register {year} is not 1..{}: {numbers:?}",
            numbers.len()
        );
        // Time order agrees with number order.
        let times: Vec<jiff::Timestamp> = register
            .iter()
            .map(|v| v["registered_at"].as_str().unwrap().parse().unwrap())
            .collect();
        for (i, w) in times.windows(2).enumerate() {
            assert!(
                w[0] < w[1],
                "number {} registered at {} is not before number {} at {}",
                i + 1,
                w[0],
                i + 2,
                w[1]
            );
        }
        // Every entry was sent by a client (in flight at a kill, or acknowledged).
        for v in &register {
            let s = v["subject"].as_str().unwrap();
            assert!(sent.contains(s), "an entry nobody sent: {v}");
        }
        // Every acknowledged registration is there, with its number, subject and time.
        for a in acks.iter().filter(|a| a.year == year) {
            let v = by_subject.get(a.subject.as_str()).unwrap_or_else(|| {
                panic!(
                    "acknowledged registration lost: n. {} {:?}",
                    a.number, a.subject
                )
            });
            let number: u64 = v["number"].as_str().unwrap().parse().unwrap();
            let at: jiff::Timestamp = v["registered_at"].as_str().unwrap().parse().unwrap();
            assert_eq!(
                (number, at),
                (a.number, a.at),
                "{:?} changed after acknowledgement",
                a.subject
            );
        }
        present += register.len();
    }
    println!(
        "[{tag}] register holds {present} entries: all {} acknowledged ones and {} that were in flight at a kill",
        acks.len(),
        present - acks.len()
    );

    // The restarted server's checkpointer signs what the crashes left
    // unsigned, within about a second (DECISIONS 12).
    let db = palazzo_services::db::Db::open_existing(&inst.url)
        .await
        .unwrap();
    let t = db
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap();
    let waiting = Instant::now();
    loop {
        let size = db.ledger_size(t.id).await.unwrap();
        let signed = db
            .latest_checkpoint(t.id)
            .await
            .unwrap()
            .map_or(0, |c| c.size);
        if signed == size {
            println!(
                "[{tag}] ledger of {size} events signed {} ms after the clients stopped",
                waiting.elapsed().as_millis()
            );
            break;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the checkpoint covers {signed} of {size} events 10 s after the last registration"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    db.close().await;

    // The last kill, then `palazzo verify` on what the crash left.
    server.kill().unwrap();
    server.wait().unwrap();
    let out = inst.palazzo(&["verify"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "palazzo verify failed:\n{text}");
    let slowest = restarts.iter().max().copied().unwrap_or_default();
    println!(
        "[{tag}] {} kills, verify OK, slowest restart {} ms, {:.1} s in all",
        kills + 1,
        slowest.as_millis(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_sigkill_during_registrations() {
    run(Backend::Sqlite, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_sigkill_during_registrations() {
    run(Backend::Postgres, "postgres").await;
}
