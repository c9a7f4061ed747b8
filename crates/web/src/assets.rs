//! Static files embedded in the binary at build time (DECISIONS 1): Bootstrap
//! Italia's CSS, JS bundle, icon sprite and fonts, plus our own `fonts.css`,
//! `palazzo.css`, `noscript.css` and `palazzo.js`. See `build.rs`.
//!
//! URLs carry the first 8 hex digits of the SHA-256 of the content
//! (`/static/<hash8>/<path>`), so a response for the current hash never
//! changes and is cached for a year (`immutable`); an old hash still gets the
//! current file, without the long cache lifetime.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path below `/static/<hash>/`, e.g. `css/bootstrap-italia.min.css`.
    pub path: &'static str,
    /// First 8 hex digits of the SHA-256 of `body`.
    pub hash: &'static str,
    /// Strong ETag, quoted.
    pub etag: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes as shipped by the package (or written by us).
    pub body: &'static [u8],
    /// The same bytes gzip-compressed at build time, when that pays off.
    pub gzip: Option<&'static [u8]>,
}

/// Hashed URLs of the files that every page links.
#[derive(Debug)]
pub struct AssetUrls {
    /// Bootstrap Italia CSS.
    pub bootstrap_css: &'static str,
    /// Bootstrap Italia JS bundle (with Popper, Splide…), loaded with `defer`.
    pub bootstrap_js: &'static str,
    /// The `it-*` icon sprite.
    pub sprites: &'static str,
    /// Our `@font-face` rules.
    pub fonts_css: &'static str,
    /// Our small stylesheet.
    pub palazzo_css: &'static str,
    /// Stylesheet loaded inside `<noscript>`.
    pub noscript_css: &'static str,
    /// Our progressive-enhancement script.
    pub palazzo_js: &'static str,
    /// Titillium Web regular (preloaded).
    pub font_regular: &'static str,
    /// Titillium Web bold (preloaded).
    pub font_bold: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded file at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &ASSETS[i])
}

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Handles `GET /static/{hash}/{*path}`.
pub async fn serve_static(
    Path((hash, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let asset = find(&path).ok_or(WebError::NotFound)?;
    Ok(respond(asset, hash == asset.hash, &headers))
}

/// Builds the response for an asset: 304 on a matching `If-None-Match`,
/// gzip when the client accepts it.
pub fn respond(asset: &'static Asset, current: bool, headers: &HeaderMap) -> Response {
    let cache = if current { IMMUTABLE } else { REVALIDATE };
    let gzip = asset.gzip.filter(|_| accepts_gzip(headers));
    let etag = if gzip.is_some() {
        gzip_etag(asset)
    } else {
        HeaderValue::from_static(asset.etag)
    };
    if if_none_match(headers, &etag) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        let h = res.headers_mut();
        h.insert(header::ETAG, etag);
        h.insert(header::CACHE_CONTROL, cache);
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        return res;
    }
    let body = gzip.unwrap_or(asset.body);
    let mut res = Response::new(Body::from(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(header::ETAG, etag);
    if asset.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzip.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    res
}

fn gzip_etag(asset: &Asset) -> HeaderValue {
    // `"<hash>"` → `"<hash>-gz"`: a different representation needs its own tag.
    let inner = asset.etag.trim_matches('"');
    HeaderValue::from_str(&format!("\"{inner}-gz\"")).unwrap_or(HeaderValue::from_static("\"gz\""))
}

/// Whether `Accept-Encoding` allows gzip (a `q=0` refusal is honoured).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|item| {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    let p = p.trim();
                    p.strip_prefix("q=")
                        .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
                });
                (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
            })
        })
}

/// Whether `If-None-Match` lists `etag` (or `*`).
pub fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_has_what_pages_need() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
        for url in [
            URLS.bootstrap_css,
            URLS.bootstrap_js,
            URLS.sprites,
            URLS.fonts_css,
            URLS.palazzo_css,
        ] {
            let rest = url.strip_prefix("/static/").unwrap();
            let (hash, path) = rest.split_once('/').unwrap();
            let asset = find(path).unwrap();
            assert_eq!(asset.hash, hash);
        }
        assert!(
            ASSETS
                .iter()
                .any(|a| a.path.ends_with(".woff2") && a.path.contains("Lora"))
        );
        assert!(
            ASSETS
                .iter()
                .any(|a| a.path.ends_with(".woff2") && a.path.contains("Roboto_Mono"))
        );
        assert!(
            ASSETS
                .iter()
                .any(|a| a.path.ends_with(".woff") && a.path.contains("Titillium"))
        );
    }

    #[test]
    fn bootstrap_italia_css_declares_its_version() {
        let css = find("css/bootstrap-italia.min.css").unwrap();
        let text = std::str::from_utf8(css.body).unwrap();
        assert!(text.contains("--bootstrap-italia-version"));
        assert!(BOOTSTRAP_ITALIA_VERSION.starts_with("2."));
        assert!(text.contains(BOOTSTRAP_ITALIA_VERSION));
    }

    #[test]
    fn fonts_css_points_to_embedded_fonts() {
        let css = std::str::from_utf8(find("fonts.css").unwrap().body).unwrap();
        for family in ["Titillium Web", "Lora", "Roboto Mono"] {
            assert!(
                css.contains(&format!("font-family:\"{family}\"")),
                "{family}"
            );
        }
        for url in css.split("url(\"").skip(1) {
            let url = &url[..url.find('"').unwrap()];
            let rest = url.strip_prefix("/static/").unwrap();
            let (hash, path) = rest.split_once('/').unwrap();
            assert_eq!(find(path).unwrap().hash, hash, "{url}");
        }
    }

    #[test]
    fn gzip_negotiation() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn etag_matching() {
        let tag = HeaderValue::from_static("\"abc\"");
        let mut h = HeaderMap::new();
        assert!(!if_none_match(&h, &tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(if_none_match(&h, &tag));
    }
}
