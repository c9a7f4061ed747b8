//! The page shell (head, header, footer) shared by every portal template,
//! and small view helpers.

use std::borrow::Cow;

use palazzo_store::{Address, NewTenant, Tenant};

use crate::assets::{AssetUrls, URLS};
use crate::portal::rating::RatingBox;

/// Which main-menu entry a page belongs to (highlighted in the navbar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// None (home, FAQ, legal pages…).
    None,
    /// Amministrazione.
    Amministrazione,
    /// Novità.
    Novita,
    /// Servizi.
    Servizi,
    /// Vivere il Comune.
    Vivere,
}

/// One breadcrumb item; the last one has no link.
#[derive(Debug, Clone)]
pub struct Crumb {
    /// Text.
    pub label: String,
    /// Link, absent on the current page.
    pub href: Option<String>,
}

impl Crumb {
    /// A linked item.
    pub fn link(label: impl Into<String>, href: impl Into<String>) -> Self {
        Crumb {
            label: label.into(),
            href: Some(href.into()),
        }
    }

    /// The current page.
    pub fn here(label: impl Into<String>) -> Self {
        Crumb {
            label: label.into(),
            href: None,
        }
    }
}

/// One entry of the main menu (C.SI.1.6): exactly four, in this order, each
/// carrying its `data-element` once on the page.
#[derive(Debug, Clone)]
pub struct MenuItem {
    /// Link.
    pub href: &'static str,
    /// Label.
    pub label: String,
    /// `data-element` required by the conformity tool.
    pub data_element: &'static str,
    /// The current page is in this section.
    pub active: bool,
    /// The current page is this very entry (`aria-current="page"`).
    pub current: bool,
}

/// What the base template needs besides the page content.
pub struct Shell<'a> {
    /// The ente.
    pub tenant: &'a Tenant,
    /// Hashed URLs of the static files.
    pub urls: &'static AssetUrls,
    /// Page title (before " - Comune di …").
    pub title: Cow<'a, str>,
    /// `<meta name="description">`.
    pub description: Cow<'a, str>,
    /// Main-menu section.
    pub nav: Nav,
    /// Whether this page is exactly the first-level page of `nav`.
    pub nav_current: bool,
    /// Breadcrumb (empty on the home page).
    pub breadcrumb: Vec<Crumb>,
    /// The rating component, on the pages that carry it (DECISIONS 30).
    pub rating: Option<RatingBox>,
    /// JSON-LD for `<head>`, already escaped for a `<script>` element.
    pub jsonld: Option<String>,
    /// Request id, shown on error pages.
    pub request_id: Option<String>,
}

impl<'a> Shell<'a> {
    /// A shell with a title and nothing else.
    pub fn new(tenant: &'a Tenant, title: impl Into<Cow<'a, str>>) -> Self {
        Shell {
            tenant,
            urls: &URLS,
            title: title.into(),
            description: Cow::Borrowed(""),
            nav: Nav::None,
            nav_current: false,
            breadcrumb: Vec::new(),
            rating: None,
            jsonld: None,
            request_id: None,
        }
    }

    /// The ente's fields.
    pub fn t(&self) -> &NewTenant {
        &self.tenant.data
    }

    /// The four main-menu entries.
    pub fn menu(&self) -> [MenuItem; 4] {
        let item = |href, label: String, data_element, nav| MenuItem {
            href,
            label,
            data_element,
            active: self.nav == nav,
            current: self.nav == nav && self.nav_current,
        };
        [
            item(
                "/amministrazione",
                "Amministrazione".to_owned(),
                "management",
                Nav::Amministrazione,
            ),
            item("/novita", "Novità".to_owned(), "news", Nav::Novita),
            item(
                "/servizi",
                "Servizi".to_owned(),
                "all-services",
                Nav::Servizi,
            ),
            item(
                "/vivere-il-comune",
                format!("Vivere {}", self.t().short_name),
                "live",
                Nav::Vivere,
            ),
        ]
    }

    /// `<title>` text.
    pub fn full_title(&self) -> String {
        if self.title.is_empty() {
            self.t().name.clone()
        } else {
            format!("{} - {}", self.title, self.t().name)
        }
    }

    /// The meta description (the ente's name when the page has none).
    pub fn meta_description(&self) -> Cow<'_, str> {
        if self.description.is_empty() {
            Cow::Owned(format!("Sito istituzionale del {}", self.t().name))
        } else {
            Cow::Borrowed(&self.description)
        }
    }

    /// One-line address of the town hall.
    pub fn address_line(&self) -> String {
        address_line(&self.t().address)
    }

    /// `tel:` link target for the switchboard.
    pub fn phone_href(&self) -> String {
        tel_href(&self.t().phone)
    }

    /// The accessibility declaration link, only if it is an http(s) URL.
    pub fn accessibility_href(&self) -> &str {
        safe_url(&self.t().accessibility_url).unwrap_or("https://form.agid.gov.it/")
    }
}

/// "Piazza Aldo Moro, 2 - 70010 Casamassima (BA)".
pub fn address_line(a: &Address) -> String {
    let province = if a.province.is_empty() {
        String::new()
    } else {
        format!(" ({})", a.province)
    };
    format!("{} - {} {}{}", a.street, a.cap, a.locality, province)
}

/// `tel:+39080…` from a phone number as written for people.
pub fn tel_href(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    format!("tel:{digits}")
}

/// The URL when it is absolute http(s) or a site-relative path; `None`
/// otherwise (no `javascript:` or `data:` links from stored content).
pub fn safe_url(url: &str) -> Option<&str> {
    let u = url.trim();
    palazzo_domain::portal::is_safe_link(u).then_some(u)
}

/// Splits plain text into paragraphs at blank lines; single line breaks
/// inside a paragraph become spaces.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A URL slug: lower case ASCII, accents folded, other runs → `-`.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = fold_accent(c);
        if c.is_ascii_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Folds the accented letters of Italian (and a few neighbours) to ASCII.
pub fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        '’' | '‘' => '\'',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_paragraphs() {
        assert_eq!(
            slugify("Accesso all'informazione"),
            "accesso-all-informazione"
        );
        assert_eq!(slugify("Mobilità sostenibile"), "mobilita-sostenibile");
        assert_eq!(slugify("  ZTL "), "ztl");
        assert_eq!(
            paragraphs("a\nb\n\n\nc  \n"),
            vec!["a b".to_owned(), "c".to_owned()]
        );
        assert!(paragraphs(" \n ").is_empty());
    }

    #[test]
    fn only_web_urls_are_linked() {
        assert_eq!(
            safe_url("https://form.agid.gov.it/view/x"),
            Some("https://form.agid.gov.it/view/x")
        );
        assert_eq!(safe_url("/servizi"), Some("/servizi"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("//evil.example"), None);
        assert_eq!(safe_url("data:text/html,x"), None);
        assert_eq!(tel_href("080 675 3111"), "tel:0806753111");
    }
}
