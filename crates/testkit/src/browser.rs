//! A minimal cookie-keeping HTTP client for tests: what a browser does with
//! `Set-Cookie`, redirects left to the test, and the CSRF token of the last
//! page read from its hidden `csrf` field.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};

use crate::TestApp;

/// One answer.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as text.
    pub body: String,
}

impl Page {
    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The value of the first `<input name="csrf" value="…">` of the page.
    pub fn csrf(&self) -> Option<String> {
        let i = self.body.find("name=\"csrf\" value=\"")?;
        let rest = &self.body[i + "name=\"csrf\" value=\"".len()..];
        rest.split('"').next().map(str::to_owned)
    }

    /// The `Set-Cookie` headers of the answer.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

/// A visitor of one host of a [`TestApp`], with a cookie jar.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    /// Cookies by name.
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A visitor of `host` (e.g. [`crate::CASAMASSIMA`]).
    pub fn new(app: &TestApp, host: &str) -> Browser {
        Browser {
            client: app.client(),
            base: app.url(host, ""),
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

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for c in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                let gone = v.is_empty() || c.to_ascii_lowercase().contains("max-age=0");
                if gone {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies
                        .insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        let body = r.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    /// GET a path.
    pub async fn get(&mut self, path: &str) -> Page {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            req = req.header(COOKIE, self.cookie_header());
        }
        let r = req.send().await.unwrap();
        self.finish(r).await
    }

    /// GET a path as bytes (a PDF download), with the cookies.
    pub async fn get_bytes(&mut self, path: &str) -> (u16, HeaderMap, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            req = req.header(COOKIE, self.cookie_header());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    /// POST a urlencoded form and read the answer as bytes.
    pub async fn post_bytes(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, HeaderMap, Vec<u8>) {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if !self.cookies.is_empty() {
            req = req.header(COOKIE, self.cookie_header());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    /// POST a urlencoded form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if !self.cookies.is_empty() {
            req = req.header(COOKIE, self.cookie_header());
        }
        let r = req.send().await.unwrap();
        self.finish(r).await
    }

    /// Sends any request, with the cookies, extra headers and a body.
    pub async fn request(
        &mut self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Page {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if !self.cookies.is_empty() {
            req = req.header(COOKIE, self.cookie_header());
        }
        let r = req.send().await.unwrap();
        self.finish(r).await
    }

    /// POST a `multipart/form-data` body (see [`multipart`]), with extra headers.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[Part<'_>],
        headers: &[(&str, &str)],
    ) -> Page {
        let (content_type, body) = multipart(parts);
        let mut h = vec![("content-type", content_type.as_str())];
        h.extend_from_slice(headers);
        self.request(reqwest::Method::POST, path, &h, body).await
    }

    /// Signs in through the demonstration page as `persona` (`cf:<codice
    /// fiscale>` or a staff persona key such as `admin`), returning the
    /// final answer of the POST (a 303).
    pub async fn demo_sign_in(&mut self, persona: &str) -> Page {
        let form = self.get("/accedi/demo").await;
        assert_eq!(form.status, 200, "demo sign-in page: {}", form.body);
        let csrf = form.csrf().expect("csrf field on the demo page");
        let r = self
            .post("/accedi/demo", &[("csrf", &csrf), ("persona", persona)])
            .await;
        assert_eq!(r.status, 303, "demo sign-in as {persona}: {}", r.body);
        r
    }

    /// The CSRF token of a page (GET it and read the hidden field).
    pub async fn csrf_of(&mut self, path: &str) -> String {
        let p = self.get(path).await;
        p.csrf()
            .unwrap_or_else(|| panic!("no csrf field on {path} ({}): {}", p.status, p.body))
    }

    /// Creates a personal API key (`pzk_…`) on the back-office page
    /// «Chiavi per l'API», as the signed-in staff member, and reads it from
    /// the page; checks that it is shown once.
    pub async fn api_key(&mut self, label: &str) -> String {
        let csrf = self.csrf_of("/backoffice/chiavi-api").await;
        let page = self
            .post(
                "/backoffice/chiavi-api",
                &[("csrf", &csrf), ("nome", label), ("giorni", "30")],
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let token = page
            .body
            .split("data-element=\"api-token\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("the new key is shown")
            .to_owned();
        assert!(token.starts_with("pzk_") && token.len() == 47, "{token}");
        // Shown once: the list does not show it again.
        let again = self.get("/backoffice/chiavi-api").await;
        assert!(again.body.contains(label) && !again.body.contains(&token));
        token
    }

    /// Calls `/api/v1{path}` with a bearer key (none when `token` is
    /// empty) and an optional JSON body.
    pub async fn api(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Page {
        let auth = format!("Bearer {token}");
        let mut headers = Vec::new();
        if !token.is_empty() {
            headers.push(("authorization", auth.as_str()));
        }
        let bytes = match &body {
            Some(v) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(v).unwrap()
            }
            None => Vec::new(),
        };
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.request(m, &format!("/api/v1{path}"), &headers, bytes)
            .await
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    /// A text field: name, value.
    Text(&'a str, &'a str),
    /// A file: field name, file name, content.
    File(&'a str, &'a str, &'a [u8]),
}

/// Encodes a `multipart/form-data` body (RFC 7578): the content type with
/// its boundary, and the bytes.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "palazzo-test-boundary-7d1f0c";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(name, file, content) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(content);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Undoes the HTML escaping askama applies to text and attribute values.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#43;", "+")
        .replace("&#x2b;", "+")
        .replace("&amp;", "&")
}

/// The value of ` attr="…"` in a tag.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + end]))
}

/// The successful controls of the form marked `marker`, as a browser would
/// post them (submit buttons left out).
pub fn form_fields(body: &str, marker: &str) -> Vec<(String, String)> {
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {body}"));
    let form_start = body[..start].rfind("<form").unwrap();
    let form = &body[form_start..form_start + body[form_start..].find("</form>").unwrap()];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..=end];
        if tag.starts_with("<input") {
            let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
            if let Some(name) = attr(tag, "name") {
                match kind.as_str() {
                    "checkbox" | "radio" => {
                        if tag.contains(" checked") {
                            out.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
                        }
                    }
                    "submit" | "file" => {}
                    _ => out.push((name, attr(tag, "value").unwrap_or_default())),
                }
            }
        } else if tag.starts_with("<textarea") {
            let close = rest.find("</textarea>").unwrap();
            if let Some(name) = attr(tag, "name") {
                out.push((name, unescape(&rest[end + 1..close])));
            }
        } else if tag.starts_with("<select") {
            let close = rest.find("</select>").unwrap();
            let inner = &rest[end + 1..close];
            let options: Vec<&str> = inner
                .match_indices("<option")
                .map(|(i, _)| &inner[i..i + inner[i..].find('>').unwrap() + 1])
                .collect();
            let chosen = options
                .iter()
                .find(|o| o.contains(" selected"))
                .or(options.first());
            if let (Some(name), Some(o)) = (attr(tag, "name"), chosen) {
                out.push((name, attr(o, "value").unwrap_or_default()));
            }
        }
        rest = &rest[end + 1..];
    }
    out
}
