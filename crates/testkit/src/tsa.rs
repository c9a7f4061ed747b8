//! The local RFC 3161 time-stamp authority of the tests (`testbeds/tsa`):
//! a test CA and TSA certificate made by `testbeds/tsa/setup.sh` (called by
//! `scripts/test`, which exports its directory as `PALAZZO_TSA_PKI`; run
//! here when the variable is missing) and one `server.py` per test,
//! answering with `openssl ts -reply` on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::TempDir;

/// The PKI directory (`ca.crt`, `tsa.crt`, …).
pub fn pki_dir() -> PathBuf {
    if let Ok(d) = std::env::var("PALAZZO_TSA_PKI") {
        return PathBuf::from(d);
    }
    let out = Command::new("bash")
        .arg(crate::pki::repo().join("testbeds/tsa/setup.sh"))
        .output()
        .expect("bash must be installed");
    assert!(
        out.status.success(),
        "testbeds/tsa/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A running test TSA; stopped on drop.
pub struct Tsa {
    child: Child,
    /// Its URL, `http://127.0.0.1:<port>/`.
    pub url: String,
    /// The PKI directory.
    pub pki: PathBuf,
}

impl Tsa {
    /// Starts a TSA (panics when it cannot: a test that needs it never
    /// silently skips).
    pub fn start() -> Tsa {
        let pki = pki_dir();
        let mut child = Command::new("python3")
            .arg(crate::pki::repo().join("testbeds/tsa/server.py"))
            .arg(&pki)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 must be installed");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the TSA prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("testbeds/tsa/server.py did not start: {line:?}"))
            .to_owned();
        Tsa {
            child,
            url: format!("http://127.0.0.1:{port}/"),
            pki,
        }
    }

    /// Verifies a DER time-stamp token over `data` with `openssl ts -verify`
    /// against the test CA; returns (verified, openssl's output).
    pub fn verify_token(&self, token_der: &[u8], data: &[u8]) -> (bool, String) {
        let dir = TempDir::new("tsa-verify");
        let (t, d) = (dir.path().join("token.der"), dir.path().join("data"));
        std::fs::write(&t, token_der).unwrap();
        std::fs::write(&d, data).unwrap();
        verify_with_openssl(&self.pki, &t, &d)
    }
}

/// `openssl ts -verify -token_in -in TOKEN -data DATA -CAfile ca.crt -untrusted tsa.crt`.
pub fn verify_with_openssl(pki: &Path, token: &Path, data: &Path) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(token)
        .arg("-data")
        .arg(data)
        .arg("-CAfile")
        .arg(pki.join("ca.crt"))
        .arg("-untrusted")
        .arg(pki.join("tsa.crt"))
        .output()
        .expect("openssl CLI on PATH");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
