//! The local pagoPA GPD simulator of the tests (`testbeds/gpd`, see
//! `docs/pagopa-gpd-simulator.md`): openapi-core and Werkzeug from PyPI in
//! a venv made by `testbeds/gpd/setup.sh` (called by `scripts/test`, which
//! exports its python as `PALAZZO_GPD_PYTHON`; run here when the variable is
//! missing), one `server.py` per test on a free loopback port. It serves the
//! published GPD contract under its base path, validates every request and
//! response against it and enforces GPD's rules; a response of its own that
//! breaks the contract is a 500 and a `CONTRACT VIOLATION` line in its log.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::TempDir;

/// The contract's base path (that of both published servers).
pub const BASE_PATH: &str = "/gpd/debt-positions-service/v1";

/// The contract's API key header (its `ApiKey` security scheme).
pub const API_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// The venv's python (`PALAZZO_GPD_PYTHON`, else `testbeds/gpd/setup.sh`).
pub fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_python).clone()
}

fn find_python() -> PathBuf {
    if let Ok(p) = std::env::var("PALAZZO_GPD_PYTHON") {
        return PathBuf::from(p);
    }
    let out = Command::new("bash")
        .arg(crate::pki::repo().join("testbeds/gpd/setup.sh"))
        .output()
        .expect("bash must be installed");
    assert!(
        out.status.success(),
        "testbeds/gpd/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A running GPD simulator; stopped on drop.
pub struct GpdSimulator {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The API key it expects in `Ocp-Apim-Subscription-Key`.
    pub api_key: String,
    dir: TempDir,
}

impl GpdSimulator {
    /// Starts a simulator on a free port with a key of its own (panics when
    /// it cannot: a test that needs it never silently skips).
    pub fn start() -> GpdSimulator {
        let key = format!(
            "gpd-test-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        );
        GpdSimulator::start_with_key(&key)
    }

    /// Starts a simulator that expects `api_key`.
    pub fn start_with_key(api_key: &str) -> GpdSimulator {
        let dir = TempDir::new("gpd");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("the log file");
        let mut child = Command::new(python())
            .arg(crate::pki::repo().join("testbeds/gpd/server.py"))
            .args(["--port", "0", "--quiet", "--api-key", api_key])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("the gpd venv's python");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the GPD simulator prints a ready line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("testbeds/gpd/server.py did not start: {line:?}\n{log}");
        };
        GpdSimulator {
            child: Some(child),
            port,
            api_key: api_key.to_owned(),
            dir,
        }
    }

    /// The base URL a GPD client is given:
    /// `http://127.0.0.1:<port>/gpd/debt-positions-service/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}{BASE_PATH}", self.port)
    }

    /// The root of the test-only endpoints: `http://127.0.0.1:<port>/__simulator`.
    pub fn simulator_url(&self) -> String {
        format!("http://127.0.0.1:{}/__simulator", self.port)
    }

    /// A payment through pagoPA of the option `nav` of `organization`
    /// (test-only endpoint): returns the HTTP status and the JSON answer
    /// (the option as `PaymentsModelResponse`, or a `ProblemJson`: 409
    /// when already paid, 422 when not payable, 404 for an unknown NAV).
    /// `body` may give `amount`, `paymentDate`, `pspCompany`, `idReceipt`.
    pub async fn pay(&self, organization: &str, nav: &str, body: Value) -> (u16, Value) {
        self.sim_post(&format!("/pay/{organization}/{nav}"), body)
            .await
    }

    /// Moves the simulator's clock to `now` (RFC 3339 with an offset).
    pub async fn set_clock(&self, now: &str) {
        let (status, body) = self
            .sim_post("/clock", serde_json::json!({ "now": now }))
            .await;
        assert_eq!(status, 200, "setting the GPD simulator's clock: {body}");
    }

    async fn sim_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.simulator_url()))
            .json(&body)
            .send()
            .await
            .expect("the GPD simulator answers");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// What the simulator logged (stderr): errors and `CONTRACT VIOLATION`
    /// lines.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Panics when the simulator produced a response that violates the
    /// contract (a simulator bug, answered with a 500).
    pub fn assert_no_contract_violation(&self) {
        let log = self.log();
        assert!(
            !log.contains("CONTRACT VIOLATION"),
            "the GPD simulator broke its contract:\n{log}"
        );
    }

    /// Stops the simulator.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for GpdSimulator {
    fn drop(&mut self) {
        self.stop();
    }
}
