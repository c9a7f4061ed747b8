//! The staff OpenID provider of the tests: npm `oidc-provider` started from
//! `testbeds/oidc-provider/start.sh` on a free loopback port, stopped (by its
//! PID, through `stop.sh`) on drop. See `testbeds/oidc-provider/README.md`
//! for its accounts, groups, client and forms.

use std::collections::BTreeMap;
use std::path::PathBuf;

use palazzo_services::staff_oidc::StaffOidcConfig;

use crate::TempDir;

/// Password of every staff account of the testbed.
pub const STAFF_PASSWORD: &str = "staff-test";
/// Client id registered in the testbed.
pub const CLIENT_ID: &str = "palazzo";
/// Its secret.
pub const CLIENT_SECRET: &str = "palazzo-test-secret";

/// A running `oidc-provider`.
pub struct OidcProvider {
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    state: TempDir,
}

fn testbed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testbeds/oidc-provider")
}

impl OidcProvider {
    /// Starts a fresh provider (in memory: its own keys, no sessions) on a
    /// free port. Panics with the script's output when it cannot start:
    /// `scripts/test` installs Node and runs `npm ci` for the testbed.
    pub async fn start() -> OidcProvider {
        let state = TempDir::new("oidc-provider");
        let mut last = String::new();
        // A port taken between our probe and the start is retried.
        for _ in 0..5 {
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port()
            };
            let out = tokio::process::Command::new(testbed().join("start.sh"))
                .arg(state.path())
                .arg(port.to_string())
                .arg("http://127.0.0.1:1/unused")
                .output()
                .await
                .expect("cannot run testbeds/oidc-provider/start.sh");
            if out.status.success() {
                return OidcProvider {
                    issuer: format!("http://127.0.0.1:{port}"),
                    state,
                };
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("oidc-provider did not start: {last}");
    }

    /// Adds redirect and post-logout redirect URIs to client `palazzo`
    /// (`POST /test/clients`).
    pub async fn register(&self, redirect_uris: &[String], post_logout_redirect_uris: &[String]) {
        let r = reqwest::Client::new()
            .post(format!("{}/test/clients", self.issuer))
            .json(&serde_json::json!({
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204, "{}", r.text().await.unwrap());
    }

    /// A Palazzo staff configuration for this provider with the testbed's
    /// groups mapped as in `docs/identity.md` (`palazzo:ufficio:tecnico` is
    /// deliberately left unmapped).
    pub fn staff_config(&self) -> StaffOidcConfig {
        let roles: BTreeMap<String, String> = [
            ("palazzo:operatore:protocollo", "operatore:protocollo"),
            ("palazzo:dirigente", "dirigente"),
            ("palazzo:admin", "admin_comune"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        serde_json::from_value(serde_json::json!({
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "extra_scopes": ["groups"],
            "roles": roles,
        }))
        .unwrap()
    }

    /// Plays the staff member at the provider: from the authorization URL
    /// Palazzo redirected to, fills the login form as `login` and confirms
    /// the consent page; returns the URL the provider finally sends the
    /// browser to (Palazzo's callback, with `code` or `error`).
    pub async fn sign_in(&self, authorize_url: &str, login: &str, password: &str) -> String {
        self.walk(authorize_url, Some((login, password))).await
    }

    /// Like [`OidcProvider::sign_in`], but cancels at the login page (the
    /// provider answers `error=access_denied`).
    pub async fn abort(&self, authorize_url: &str) -> String {
        self.walk(authorize_url, None).await
    }

    async fn walk(&self, authorize_url: &str, creds: Option<(&str, &str)>) -> String {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let mut next = (authorize_url.to_owned(), None::<Vec<(String, String)>>);
        for _ in 0..20 {
            let (url, form) = next;
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let cookie = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let req = match &form {
                Some(f) => client.post(&url).form(f),
                None => client.get(&url),
            };
            let r = req.header("cookie", cookie).send().await.unwrap();
            for c in r.headers().get_all("set-cookie") {
                let first = c.to_str().unwrap().split(';').next().unwrap_or("");
                if let Some((k, v)) = first.split_once('=') {
                    jar.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
            let status = r.status().as_u16();
            if let Some(loc) = r.headers().get("location") {
                let loc = loc.to_str().unwrap();
                let abs = if loc.starts_with('/') {
                    format!("{}{loc}", self.issuer)
                } else {
                    loc.to_owned()
                };
                next = (abs, None);
                continue;
            }
            let body = r.text().await.unwrap();
            assert_eq!(status, 200, "oidc-provider at {url}: {body}");
            let action = body
                .split("action=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("no form at {url}: {body}"))
                .to_owned();
            next = if let Some(uid) = action.strip_suffix("/login") {
                match creds {
                    Some((login, password)) => (
                        format!("{}{action}", self.issuer),
                        Some(vec![
                            ("login".to_owned(), login.to_owned()),
                            ("password".to_owned(), password.to_owned()),
                        ]),
                    ),
                    None => (format!("{}{uid}/abort", self.issuer), Some(Vec::new())),
                }
            } else if action.ends_with("/confirm") {
                (format!("{}{action}", self.issuer), Some(Vec::new()))
            } else {
                panic!("unexpected form {action} at {url}: {body}")
            };
        }
        panic!("oidc-provider: too many steps from {authorize_url}");
    }

    /// The provider's log so far (for failing tests).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("oidc-provider.log")).unwrap_or_default()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = std::process::Command::new(testbed().join("stop.sh"))
            .arg(self.state.path())
            .output();
    }
}
