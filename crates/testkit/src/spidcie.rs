//! The real SPID/CIE OpenID Connect Federation of `testbeds/spid-cie/`
//! (spid-cie-oidc 1.6.3 from PyPI: a trust anchor with the SPID OP, and the
//! CIE OP in a second process) for integration tests, and a headless
//! citizen who signs in through it.
//!
//! [`Testbed::start`] runs `start.sh` on free ports in a fresh state
//! directory (it creates the Python venv on first use through `setup.sh`;
//! `scripts/test` does that up front) and [`Drop`] runs `stop.sh`. A test
//! then starts Palazzo with [`Testbed::configure`], registers its relying
//! party with [`Testbed::register`] and signs in with [`Citizen`].
//!
//! Everything is addressed as `127.0.0.1` (the OP looks entities up by the
//! exact request URL; `localhost` would not match).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use palazzo_services::federation::{
    FederationConfig, ProviderConfig, ProviderKind, TrustAnchorConfig,
};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::{TempDir, TestApp};

/// Password of the testbed's citizens (`mario.rossi`, `giulia.bianchi`,
/// `anna.esposito`).
pub const PASSWORD: &str = "cittadino-test";

/// The testbed directory of the repository.
pub fn testbed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbeds/spid-cie")
}

/// A running federation: trust anchor + SPID OP, and the CIE OP.
pub struct Testbed {
    /// State directory (databases, logs, `federation.json`).
    pub state: TempDir,
    /// Entity id of the trust anchor.
    pub trust_anchor: String,
    /// Its public federation JWK Set.
    pub trust_anchor_jwks: Value,
    /// Entity id of the SPID OP.
    pub spid: String,
    /// Entity id of the CIE OP.
    pub cie: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Testbed {
    /// Starts the federation (panics with the script's output when it
    /// cannot: a test that needs it never silently skips).
    pub fn start() -> Testbed {
        let state = TempDir::new("spidcie");
        let mut last = String::new();
        for _ in 0..3 {
            let (ta, cie) = (free_port(), free_port());
            let out = Command::new("bash")
                .arg(testbed_dir().join("start.sh"))
                .arg(state.path())
                .arg(ta.to_string())
                .arg(cie.to_string())
                .output()
                .expect("bash must be installed");
            if out.status.success() {
                let fed: Value = serde_json::from_str(
                    &std::fs::read_to_string(state.path().join("federation.json")).unwrap(),
                )
                .unwrap();
                let s = |v: &Value| v.as_str().unwrap().to_owned();
                return Testbed {
                    trust_anchor: s(&fed["trust_anchor"]),
                    trust_anchor_jwks: fed["trust_anchor_jwks"].clone(),
                    spid: s(&fed["openid_providers"]["spid"]),
                    cie: s(&fed["openid_providers"]["cie"]),
                    state,
                };
            }
            last = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        panic!("the SPID/CIE testbed did not start (testbeds/spid-cie/start.sh):\n{last}");
    }

    /// The `[federation]` settings of a Palazzo whose default comune is the
    /// relying party `public_base_url`, with both OPs and the trust anchor.
    pub fn federation_config(&self, public_base_url: &str) -> FederationConfig {
        FederationConfig {
            public_base_url: public_base_url.to_owned(),
            providers: vec![
                ProviderConfig {
                    kind: ProviderKind::Spid,
                    entity_id: self.spid.clone(),
                    label: "SPID di prova".into(),
                },
                ProviderConfig {
                    kind: ProviderKind::Cie,
                    entity_id: self.cie.clone(),
                    label: "CIE di prova".into(),
                },
            ],
            trust_anchors: vec![TrustAnchorConfig {
                entity_id: self.trust_anchor.clone(),
                jwks: self.trust_anchor_jwks.to_string(),
                jwks_file: None,
            }],
            ..FederationConfig::default()
        }
    }

    /// For [`TestApp::spawn_with`]: the federation of [`Self::federation_config`]
    /// with the entity id `http://<listening address>`.
    pub fn configure(&self) -> impl FnOnce(SocketAddr, &mut palazzo_web::WebConfig) + '_ {
        move |addr, web| web.federation = self.federation_config(&format!("http://{addr}"))
    }

    /// Registers a relying party at the trust anchor with its public
    /// federation JWK Set.
    pub fn register(&self, entity_id: &str, jwks: &Value) {
        let out = Command::new("python3")
            .arg(testbed_dir().join("register_rp.py"))
            .arg("--state")
            .arg(self.state.path())
            .arg(entity_id)
            .arg(jwks.to_string())
            .output()
            .expect("python3 must be installed");
        assert!(
            out.status.success(),
            "register_rp.py failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Registers the default comune of `app` (entity id `http://<addr>`).
    pub fn register_app(&self, app: &TestApp) -> String {
        let entity_id = format!("http://{}", app.addr);
        let slug = app
            .app
            .tenants()
            .into_iter()
            .find(|t| t.data.is_default)
            .unwrap()
            .data
            .slug
            .clone();
        let jwks = palazzo_web::auth::federation::federation_jwks(app.app.keys(), &slug).unwrap();
        self.register(&entity_id, &jwks);
        entity_id
    }

    /// The tail of the OP logs (for assertion messages).
    pub fn logs(&self) -> String {
        ["ta.log", "cie.log"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(self.state.path().join(f)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                format!(
                    "--- {f}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(testbed_dir().join("stop.sh"))
            .arg(self.state.path())
            .output();
    }
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// `Location`, if any.
    pub location: Option<String>,
    /// Every `Set-Cookie`.
    pub set_cookies: Vec<String>,
    /// Body.
    pub body: String,
}

/// A headless browser for one host (`127.0.0.1`, any port): keeps cookies
/// like a browser does (cookies ignore the port), follows no redirect by
/// itself.
pub struct Citizen {
    http: reqwest::Client,
    /// Cookies by name.
    pub cookies: BTreeMap<String, String>,
}

impl Default for Citizen {
    fn default() -> Self {
        Citizen::new()
    }
}

/// The `value` of the hidden input `name` in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.split("value=\"").nth(1)?;
    Some(v.split('"').next()?.replace("&amp;", "&"))
}

impl Citizen {
    /// A browser without cookies.
    pub fn new() -> Citizen {
        Citizen {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn answer(&mut self, r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies: Vec<String> = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = first.split_once('=') {
                let expired = c.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
                if expired {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies
                        .insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        Answer {
            status,
            location,
            set_cookies,
            body: r.text().await.unwrap_or_default(),
        }
    }

    /// GET `url` (absolute).
    pub async fn get(&mut self, url: &str) -> Answer {
        let r = self
            .http
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.answer(r).await
    }

    /// POST a form to `url` (absolute), with `Origin` set to `origin`.
    pub async fn post(&mut self, url: &str, origin: &str, form: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(url)
            .header(COOKIE, self.cookie_header())
            .header("origin", origin)
            .form(form)
            .send()
            .await
            .unwrap();
        self.answer(r).await
    }

    /// Goes through the OP from the authorization URL (`to_op`, where
    /// Palazzo sent the browser): login form, consent form. Returns the
    /// callback URL the OP sends the browser back to.
    pub async fn login_at_op(&mut self, to_op: &str, user: &str) -> String {
        let origin = origin_of(to_op);
        let form = self.get(to_op).await;
        assert_eq!(
            form.status, 200,
            "OP login form: {:?} {}",
            form.location, form.body
        );
        let csrf = hidden_input(&form.body, "csrfmiddlewaretoken").expect("csrf on login form");
        let request = hidden_input(&form.body, "authz_request_object").expect("request object");
        let posted = self
            .post(
                &format!("{origin}/oidc/op/authorization"),
                &origin,
                &[
                    ("username", user),
                    ("password", PASSWORD),
                    ("authz_request_object", &request),
                    ("csrfmiddlewaretoken", &csrf),
                ],
            )
            .await;
        assert_eq!(posted.status, 302, "OP login: {}", posted.body);
        let consent = absolute(&origin, posted.location.as_deref().unwrap());
        let page = self.get(&consent).await;
        assert_eq!(page.status, 200, "OP consent page: {}", page.body);
        let csrf = hidden_input(&page.body, "csrfmiddlewaretoken").expect("csrf on consent");
        let agreed = self
            .post(
                &consent,
                &origin,
                &[("agree", "True"), ("csrfmiddlewaretoken", &csrf)],
            )
            .await;
        assert_eq!(agreed.status, 302, "OP consent: {}", agreed.body);
        agreed.location.unwrap()
    }

    /// At the OP's login form, the "do not agree" path: the OP sends the
    /// browser back with `error=…`. Returns that callback URL.
    pub async fn refuse_at_op(&mut self, to_op: &str) -> String {
        let origin = origin_of(to_op);
        let form = self.get(to_op).await;
        assert_eq!(form.status, 200, "OP login form: {}", form.body);
        let at = form
            .body
            .find("/oidc/op/notconsent")
            .expect("notconsent link");
        let href = form.body[at..]
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let back = self.get(&absolute(&origin, &href)).await;
        assert!(
            back.status == 302 || back.status == 303,
            "notconsent: {}",
            back.body
        );
        back.location.unwrap()
    }
}

/// `scheme://host:port` of a URL.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split('/').next().unwrap();
    format!("{scheme}://{host}")
}

fn absolute(origin: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{origin}{location}")
    }
}
