//! The local SMTP server of the tests (`testbeds/smtp`): aiosmtpd from PyPI
//! in a venv made by `testbeds/smtp/setup.sh` (called by `scripts/test`,
//! which exports its python as `PALAZZO_SMTP_PYTHON`; run here when the
//! variable is missing), one `server.py` per test on a free loopback port.
//! Every message it receives is written, with its envelope, to a directory;
//! [`SmtpServer::wait_for`] reads them back, parsed with `mail-parser`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mail_parser::MessageParser;

use crate::TempDir;

/// The venv's python (`PALAZZO_SMTP_PYTHON`, else `testbeds/smtp/setup.sh`).
pub fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_python).clone()
}

fn find_python() -> PathBuf {
    if let Ok(p) = std::env::var("PALAZZO_SMTP_PYTHON") {
        return PathBuf::from(p);
    }
    let out = Command::new("bash")
        .arg(crate::pki::repo().join("testbeds/smtp/setup.sh"))
        .output()
        .expect("bash must be installed");
    assert!(
        out.status.success(),
        "testbeds/smtp/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A free TCP port on 127.0.0.1 (bound and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// The message bytes, exactly as received.
    pub raw: Vec<u8>,
    /// The decoded `Subject`.
    pub subject: Option<String>,
    /// The `From` display name, decoded.
    pub from_name: Option<String>,
    /// The `From` address.
    pub from_address: Option<String>,
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The `Reply-To` address.
    pub reply_to: Option<String>,
    /// The `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The first text/plain body, decoded.
    pub text: Option<String>,
    /// The first text/html body, decoded.
    pub html: Option<String>,
    /// The raw `Auto-Submitted` header value, trimmed.
    pub auto_submitted: Option<String>,
    /// Whether the message has a `Date` header that parses.
    pub has_date: bool,
}

impl ReceivedMail {
    /// Parses a message (panics when `mail-parser` cannot).
    pub fn parse(mail_from: String, rcpt_tos: Vec<String>, raw: Vec<u8>) -> ReceivedMail {
        let msg = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("unparseable message: {}", String::from_utf8_lossy(&raw)));
        let from = msg.from().and_then(|a| a.first());
        let received = ReceivedMail {
            subject: msg.subject().map(str::to_owned),
            from_name: from.and_then(|a| a.name()).map(str::to_owned),
            from_address: from.and_then(|a| a.address()).map(str::to_owned),
            to: msg
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            reply_to: msg
                .reply_to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_owned),
            message_id: msg.message_id().map(str::to_owned),
            text: msg.body_text(0).map(|t| t.into_owned()),
            html: msg.body_html(0).map(|t| t.into_owned()),
            auto_submitted: msg
                .header_raw("Auto-Submitted")
                .map(|v| v.trim().to_owned()),
            has_date: msg.date().is_some_and(|d| d.is_valid()),
            mail_from: String::new(),
            rcpt_tos: Vec::new(),
            raw: Vec::new(),
        };
        ReceivedMail {
            mail_from,
            rcpt_tos,
            raw,
            ..received
        }
    }
}

/// A running aiosmtpd server; stopped on drop.
pub struct SmtpServer {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    out: TempDir,
    refused: Vec<String>,
}

impl SmtpServer {
    /// Starts a server on a free port (panics when it cannot: a test that
    /// needs it never silently skips).
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port(), &[])
    }

    /// Starts a server on `port` that refuses the `refused` recipients
    /// permanently (550 at `RCPT TO`).
    pub fn start_on(port: u16, refused: &[&str]) -> SmtpServer {
        let mut s = SmtpServer {
            child: None,
            port,
            out: TempDir::new("smtp"),
            refused: refused.iter().map(|r| (*r).to_owned()).collect(),
        };
        s.restart();
        s
    }

    /// `smtp://127.0.0.1:<port>`, for `[mail] smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server (its port then refuses connections); the messages
    /// received so far stay readable.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, keeping the messages received.
    pub fn restart(&mut self) {
        self.stop();
        let mut cmd = Command::new(python());
        cmd.arg(crate::pki::repo().join("testbeds/smtp/server.py"))
            .arg(self.port.to_string())
            .arg(self.out.path());
        for r in &self.refused {
            cmd.arg("--refuse").arg(r);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the smtp venv's python");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the SMTP server prints a ready line");
        assert_eq!(
            line.trim(),
            format!("READY {}", self.port),
            "testbeds/smtp/server.py did not start"
        );
        self.child = Some(child);
    }

    /// The messages received so far, in order of arrival.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.out.path())
            .expect("the output directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(p).expect("a message file"))
                        .expect("a JSON message file");
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(v["data"].as_str().expect("data"))
                    .expect("base64 data");
                ReceivedMail::parse(
                    v["mail_from"].as_str().unwrap_or_default().to_owned(),
                    v["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    raw,
                )
            })
            .collect()
    }

    /// Waits until at least `n` messages have arrived (panics after
    /// `timeout`), then returns all of them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < timeout,
                "expected {n} messages within {timeout:?}, got {}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
