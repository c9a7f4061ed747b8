//! The portal pages: their addresses ([`Page`]), the second-level titles of
//! criterion C.SI.1.7, and the view models rendered by the templates.

use askama::Template;
use palazzo_domain::portal::{ServiceCategory, ServiceStatus};
use palazzo_services::PortalSnapshot;
use palazzo_store::{Faq, Office, Service};

use super::jsonld;
use super::search;
use super::shell::{Crumb, Nav, Shell, address_line, paragraphs, safe_url, slugify, tel_href};
use super::vocabulary::{self, LICENSE_BODY, LICENSE_TITLE, TRANSPARENCY_SECTIONS, topic_href};
use crate::error::WebError;

/// Services per page of the "Servizi" list.
pub const SERVICES_PER_PAGE: usize = 12;

/// A first-level section with fixed second-level pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionId {
    /// `/amministrazione`.
    Amministrazione,
    /// `/novita`.
    Novita,
    /// `/vivere-il-comune`.
    Vivere,
}

/// A second-level page of a fixed section.
#[derive(Debug)]
pub struct SubPage {
    /// URL segment.
    pub slug: &'static str,
    /// Title, exactly as C.SI.1.7 wants it.
    pub title: &'static str,
    /// One-sentence description.
    pub description: &'static str,
    /// `data-element` of the link on the first-level page.
    pub data_element: &'static str,
}

/// A fixed first-level section.
#[derive(Debug)]
pub struct Section {
    /// Which one.
    pub id: SectionId,
    /// URL path.
    pub path: &'static str,
    /// Title (Vivere gets the comune's name appended at render time).
    pub title: &'static str,
    /// Lead paragraph.
    pub lead: &'static str,
    /// Main-menu entry.
    pub nav: Nav,
    /// Second-level pages, in the model's order.
    pub subs: &'static [SubPage],
}

const fn sub(
    slug: &'static str,
    title: &'static str,
    description: &'static str,
    data_element: &'static str,
) -> SubPage {
    SubPage {
        slug,
        title,
        description,
        data_element,
    }
}

/// Amministrazione, with its seven second-level pages (C.SI.1.7).
pub static AMMINISTRAZIONE: Section = Section {
    id: SectionId::Amministrazione,
    path: "/amministrazione",
    title: "Amministrazione",
    lead: "Tutte le informazioni sulla struttura amministrativa del Comune: organi di governo, uffici, personale e documenti.",
    nav: Nav::Amministrazione,
    subs: &[
        sub(
            "organi-di-governo",
            "Organi di governo",
            "Il sindaco, la giunta e il consiglio comunale: composizione, competenze e contatti.",
            "management-category-link",
        ),
        sub(
            "aree-amministrative",
            "Aree amministrative",
            "Le aree in cui è organizzata la struttura del Comune e i loro responsabili.",
            "management-category-link",
        ),
        sub(
            "uffici",
            "Uffici",
            "Gli uffici comunali: di cosa si occupano, dove si trovano, orari e contatti.",
            "management-category-link",
        ),
        sub(
            "enti-e-fondazioni",
            "Enti e fondazioni",
            "Gli enti, le società e le fondazioni partecipati o controllati dal Comune.",
            "management-category-link",
        ),
        sub(
            "politici",
            "Politici",
            "Le persone che ricoprono incarichi politici nel Comune.",
            "management-category-link",
        ),
        sub(
            "personale-amministrativo",
            "Personale amministrativo",
            "Il personale che lavora negli uffici del Comune e i suoi incarichi.",
            "management-category-link",
        ),
        sub(
            "documenti-e-dati",
            "Documenti e dati",
            "Documenti, atti, modulistica e dati pubblicati dal Comune.",
            "management-category-link",
        ),
    ],
};

/// Novità, with its three second-level pages.
pub static NOVITA: Section = Section {
    id: SectionId::Novita,
    path: "/novita",
    title: "Novità",
    lead: "Notizie, comunicati e avvisi del Comune.",
    nav: Nav::Novita,
    subs: &[
        sub(
            "notizie",
            "Notizie",
            "Le notizie sulla vita del Comune e della comunità.",
            "news-category-link",
        ),
        sub(
            "comunicati",
            "Comunicati",
            "I comunicati stampa del Comune.",
            "news-category-link",
        ),
        sub(
            "avvisi",
            "Avvisi",
            "Gli avvisi del Comune ai cittadini e alle imprese.",
            "news-category-link",
        ),
    ],
};

/// Vivere il Comune, with its two second-level pages.
pub static VIVERE: Section = Section {
    id: SectionId::Vivere,
    path: "/vivere-il-comune",
    title: "Vivere",
    lead: "Luoghi da visitare ed eventi in programma nel territorio comunale.",
    nav: Nav::Vivere,
    subs: &[
        sub(
            "luoghi",
            "Luoghi",
            "I luoghi di interesse del territorio: edifici pubblici, monumenti, spazi verdi e impianti.",
            "live-button-locations",
        ),
        sub(
            "eventi",
            "Eventi",
            "Gli eventi culturali, sportivi e istituzionali in programma.",
            "live-button-events",
        ),
    ],
};

impl SectionId {
    /// The section's definition.
    pub fn section(self) -> &'static Section {
        match self {
            SectionId::Amministrazione => &AMMINISTRAZIONE,
            SectionId::Novita => &NOVITA,
            SectionId::Vivere => &VIVERE,
        }
    }
}

/// Index of the "Uffici" page in [`AMMINISTRAZIONE`].
const UFFICI: usize = 2;

/// Every portal page address. [`Page::parse`] and [`Page::path`] are
/// inverse on canonical paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/`.
    Home,
    /// `/argomenti`.
    Topics,
    /// `/argomenti/<slug>`.
    Topic(String),
    /// A fixed first-level page.
    Section(SectionId),
    /// One of its second-level pages (index into `subs`).
    Sub(SectionId, usize),
    /// `/amministrazione/uffici/<slug>`.
    Office(String),
    /// `/servizi`.
    Services,
    /// `/servizi/<category>`.
    Category(ServiceCategory),
    /// `/servizi/<category>/<service>`.
    Service(ServiceCategory, String),
    /// `/domande-frequenti`.
    Faq,
    /// `/privacy`.
    Privacy,
    /// `/note-legali`.
    LegalNotes,
    /// `/amministrazione-trasparente`.
    Transparency,
    /// `/area-personale`.
    PersonalArea,
    /// `/cerca`.
    Search,
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 120
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Page {
    /// The page at `path` (no query string), if it is a portal page.
    pub fn parse(path: &str) -> Option<Page> {
        let trimmed = path.strip_prefix('/')?;
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let parts: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        let section_page = |id: SectionId, rest: &[&str]| -> Option<Page> {
            let section = id.section();
            match rest {
                [] => Some(Page::Section(id)),
                [slug] => section
                    .subs
                    .iter()
                    .position(|s| s.slug == *slug)
                    .map(|i| Page::Sub(id, i)),
                ["uffici", office] if id == SectionId::Amministrazione && is_slug(office) => {
                    Some(Page::Office((*office).to_owned()))
                }
                _ => None,
            }
        };
        match parts.as_slice() {
            [] => Some(Page::Home),
            ["argomenti"] => Some(Page::Topics),
            ["argomenti", slug] if is_slug(slug) => Some(Page::Topic((*slug).to_owned())),
            ["amministrazione", rest @ ..] => section_page(SectionId::Amministrazione, rest),
            ["novita", rest @ ..] => section_page(SectionId::Novita, rest),
            ["vivere-il-comune", rest @ ..] => section_page(SectionId::Vivere, rest),
            ["servizi"] => Some(Page::Services),
            ["servizi", cat] => ServiceCategory::from_slug(cat).map(Page::Category),
            ["servizi", cat, slug] if is_slug(slug) => {
                ServiceCategory::from_slug(cat).map(|c| Page::Service(c, (*slug).to_owned()))
            }
            ["domande-frequenti"] => Some(Page::Faq),
            ["privacy"] => Some(Page::Privacy),
            ["note-legali"] => Some(Page::LegalNotes),
            ["amministrazione-trasparente"] => Some(Page::Transparency),
            ["area-personale"] => Some(Page::PersonalArea),
            ["cerca"] => Some(Page::Search),
            _ => None,
        }
    }

    /// The canonical path.
    pub fn path(&self) -> String {
        match self {
            Page::Home => "/".to_owned(),
            Page::Topics => "/argomenti".to_owned(),
            Page::Topic(slug) => format!("/argomenti/{slug}"),
            Page::Section(id) => id.section().path.to_owned(),
            Page::Sub(id, i) => {
                let s = id.section();
                format!("{}/{}", s.path, s.subs.get(*i).map_or("", |p| p.slug))
            }
            Page::Office(slug) => format!("/amministrazione/uffici/{slug}"),
            Page::Services => "/servizi".to_owned(),
            Page::Category(c) => format!("/servizi/{}", c.slug()),
            Page::Service(c, slug) => format!("/servizi/{}/{slug}", c.slug()),
            Page::Faq => "/domande-frequenti".to_owned(),
            Page::Privacy => "/privacy".to_owned(),
            Page::LegalNotes => "/note-legali".to_owned(),
            Page::Transparency => "/amministrazione-trasparente".to_owned(),
            Page::PersonalArea => "/area-personale".to_owned(),
            Page::Search => "/cerca".to_owned(),
        }
    }

    /// Whether the page carries the rating component: every first- and
    /// second-level page, every service card, the home page and the FAQ
    /// (DECISIONS 30); not the legal pages, the personal area, search,
    /// booking or transparency.
    pub fn has_rating(&self) -> bool {
        matches!(
            self,
            Page::Home
                | Page::Section(_)
                | Page::Sub(..)
                | Page::Services
                | Page::Category(_)
                | Page::Service(..)
                | Page::Faq
        )
    }

    /// Whether the page exists in the portal of `snap` (what [`render`]
    /// answers without a 404): a service card, an office or a topic must be
    /// in the snapshot; the fixed pages always exist.
    pub fn exists_in(&self, snap: &PortalSnapshot) -> bool {
        match self {
            Page::Sub(id, i) => *i < id.section().subs.len(),
            Page::Office(slug) => snap.office_by_slug(slug).is_some(),
            Page::Service(c, slug) => snap.service(slug).is_some_and(|s| s.data.category == *c),
            Page::Topic(slug) => topic_name(snap, slug).is_some(),
            Page::Home
            | Page::Topics
            | Page::Section(_)
            | Page::Services
            | Page::Category(_)
            | Page::Faq
            | Page::Privacy
            | Page::LegalNotes
            | Page::Transparency
            | Page::PersonalArea
            | Page::Search => true,
        }
    }
}

// ---------------------------------------------------------------------------
// View models

/// A card linking to another page.
#[derive(Debug, Clone)]
pub struct LinkCard {
    /// Link.
    pub href: String,
    /// Title (the link text).
    pub title: String,
    /// Short text.
    pub text: String,
    /// `data-element` on the link, if the model asks for one.
    pub data_element: Option<&'static str>,
}

/// A service in a list.
#[derive(Debug, Clone)]
pub struct ServiceItem {
    /// Card URL.
    pub href: String,
    /// Title.
    pub title: String,
    /// Short description.
    pub summary: String,
    /// Category label.
    pub category: &'static str,
    /// Category URL.
    pub category_href: String,
    /// Whether it is inactive.
    pub inactive: bool,
}

impl ServiceItem {
    fn of(s: &Service) -> Self {
        ServiceItem {
            href: service_href(s),
            title: s.data.title.clone(),
            summary: s.data.summary.clone(),
            category: s.data.category.label(),
            category_href: format!("/servizi/{}", s.data.category.slug()),
            inactive: matches!(s.data.status, ServiceStatus::Inactive { .. }),
        }
    }
}

/// The card URL of a service.
pub fn service_href(s: &Service) -> String {
    format!("/servizi/{}/{}", s.data.category.slug(), s.data.slug)
}

/// An office's contacts, as shown on cards.
#[derive(Debug, Clone)]
pub struct OfficeView {
    /// Office page.
    pub href: String,
    /// Name.
    pub name: String,
    /// Description paragraphs.
    pub description: Vec<String>,
    /// One-line address.
    pub address: String,
    /// Phone as written.
    pub phone: String,
    /// `tel:` link.
    pub phone_href: String,
    /// E-mail.
    pub email: Option<String>,
    /// PEC.
    pub pec: Option<String>,
    /// Opening hours.
    pub hours: String,
}

impl OfficeView {
    fn of(o: &Office) -> Self {
        OfficeView {
            href: format!("/amministrazione/uffici/{}", o.data.slug),
            name: o.data.name.clone(),
            description: paragraphs(&o.data.description),
            address: address_line(&o.data.address),
            phone: o.data.phone.clone(),
            phone_href: tel_href(&o.data.phone),
            email: o.data.email.as_ref().map(ToString::to_string),
            pec: o.data.pec.as_ref().map(ToString::to_string),
            hours: o.data.opening_hours.clone(),
        }
    }
}

/// One section of a service card.
#[derive(Debug, Clone)]
pub struct CardSection {
    /// Anchor id.
    pub id: &'static str,
    /// Heading, identical to its page-index label.
    pub title: &'static str,
    /// `text`, `access`, `contacts` or `topics`.
    pub kind: &'static str,
    /// `data-element` of the content block (text sections).
    pub data_element: &'static str,
    /// Paragraphs (text sections).
    pub paragraphs: Vec<String>,
}

/// A topic link.
#[derive(Debug, Clone)]
pub struct TopicLink {
    /// Label.
    pub name: String,
    /// Topic page.
    pub href: String,
    /// Number of services with this topic.
    pub count: usize,
}

/// A pager entry.
#[derive(Debug, Clone)]
pub struct PagerLink {
    /// Page number, 1-based.
    pub number: usize,
    /// Link.
    pub href: String,
    /// Whether it is the current page.
    pub current: bool,
}

/// A search hit.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// Link.
    pub href: String,
    /// Title.
    pub title: String,
    /// Text excerpt.
    pub text: String,
    /// "Servizio" or "Domanda frequente".
    pub kind: &'static str,
}

/// The FAQ entry view.
#[derive(Debug, Clone)]
pub struct FaqView {
    /// Anchor.
    pub id: String,
    /// Question.
    pub question: String,
    /// Answer paragraphs.
    pub answer: Vec<String>,
}

impl FaqView {
    fn of(f: &Faq) -> Self {
        FaqView {
            id: format!("faq-{}", f.id),
            question: f.data.question.clone(),
            answer: paragraphs(&f.data.answer),
        }
    }
}

// ---------------------------------------------------------------------------
// Templates

/// `/`.
#[derive(Template)]
#[template(path = "portal/home.html")]
pub struct HomeTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Featured services.
    pub services: Vec<ServiceItem>,
    /// Topics used by the services.
    pub topics: Vec<TopicLink>,
    /// First-level sections.
    pub sections: Vec<LinkCard>,
}

/// First-level pages with fixed second-level links.
#[derive(Template)]
#[template(path = "portal/section.html")]
pub struct SectionTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// H1.
    pub title: String,
    /// Lead.
    pub lead: &'static str,
    /// Second-level links.
    pub links: Vec<LinkCard>,
}

/// Second-level pages without published content yet.
#[derive(Template)]
#[template(path = "portal/subsection.html")]
pub struct SubsectionTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// H1.
    pub title: &'static str,
    /// Lead.
    pub description: &'static str,
}

/// `/amministrazione/uffici`.
#[derive(Template)]
#[template(path = "portal/offices.html")]
pub struct OfficesTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Lead.
    pub description: &'static str,
    /// Offices.
    pub offices: Vec<OfficeView>,
}

/// `/amministrazione/uffici/<slug>`.
#[derive(Template)]
#[template(path = "portal/office.html")]
pub struct OfficeTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// The office.
    pub office: OfficeView,
    /// Services it delivers.
    pub services: Vec<ServiceItem>,
}

/// `/servizi`.
#[derive(Template)]
#[template(path = "portal/services.html")]
pub struct ServicesTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Category links with counts.
    pub categories: Vec<LinkCard>,
    /// This page of services.
    pub services: Vec<ServiceItem>,
    /// Total services.
    pub total: usize,
    /// Pager.
    pub pager: Vec<PagerLink>,
}

/// `/servizi/<category>`.
#[derive(Template)]
#[template(path = "portal/category.html")]
pub struct CategoryTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Category label.
    pub title: &'static str,
    /// Its services.
    pub services: Vec<ServiceItem>,
}

/// `/servizi/<category>/<service>`: the scheda servizio (C.SI.1.3).
#[derive(Template)]
#[template(path = "portal/service.html")]
pub struct ServiceTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Title.
    pub title: String,
    /// Whether the service is active.
    pub active: bool,
    /// Reason when inactive.
    pub inactive_reason: Option<String>,
    /// Short description.
    pub summary: String,
    /// Sections, in the order of C.SI.1.3.
    pub sections: Vec<CardSection>,
    /// Access text paragraphs.
    pub access: Vec<String>,
    /// Online access URL.
    pub online_url: Option<String>,
    /// Booking link for this service.
    pub booking_href: String,
    /// Responsible office.
    pub office: Option<OfficeView>,
    /// Topics.
    pub topics: Vec<TopicLink>,
}

/// `/argomenti`.
#[derive(Template)]
#[template(path = "portal/topics.html")]
pub struct TopicsTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Topics.
    pub topics: Vec<TopicLink>,
}

/// `/argomenti/<slug>`.
#[derive(Template)]
#[template(path = "portal/topic.html")]
pub struct TopicTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Topic name.
    pub name: String,
    /// Services with this topic.
    pub services: Vec<ServiceItem>,
}

/// `/domande-frequenti`.
#[derive(Template)]
#[template(path = "portal/faq.html")]
pub struct FaqTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Entries.
    pub faqs: Vec<FaqView>,
}

/// `/privacy`.
#[derive(Template)]
#[template(path = "portal/privacy.html")]
pub struct PrivacyTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
}

/// `/note-legali`.
#[derive(Template)]
#[template(path = "portal/legal_notes.html")]
pub struct LegalNotesTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// Section title checked by C.SI.3.4.
    pub license_title: &'static str,
    /// Paragraphs checked by C.SI.3.4.
    pub license_body: [&'static str; 2],
}

/// `/amministrazione-trasparente`.
#[derive(Template)]
#[template(path = "portal/transparency.html")]
pub struct TransparencyTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// (name, anchor) of the 22 sections.
    pub sections: Vec<(&'static str, &'static str)>,
}

/// `/area-personale`.
#[derive(Template)]
#[template(path = "portal/personal_area.html")]
pub struct PersonalAreaTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
}

/// `/cerca`.
#[derive(Template)]
#[template(path = "portal/search.html")]
pub struct SearchTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// The query as typed (trimmed).
    pub query: String,
    /// Results.
    pub hits: Vec<SearchHit>,
}

/// Error pages.
#[derive(Template)]
#[template(path = "portal/error.html")]
pub struct ErrorTemplate<'a> {
    /// Layout.
    pub shell: Shell<'a>,
    /// HTTP status.
    pub status: u16,
    /// Stable code.
    pub code: &'static str,
    /// Italian message.
    pub message: String,
}

/// Error page when no tenant is known (no header/footer data).
#[derive(Template)]
#[template(path = "bare_error.html")]
pub struct BareErrorTemplate<'a> {
    /// Static URLs.
    pub urls: &'static crate::assets::AssetUrls,
    /// HTTP status.
    pub status: u16,
    /// Stable code.
    pub code: &'static str,
    /// Italian message.
    pub message: &'a str,
    /// Request id.
    pub request_id: &'a str,
}

// ---------------------------------------------------------------------------
// Rendering

/// Query parameters that change a page.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    /// `pagina` of the services list.
    pub page: usize,
    /// `q` of the search page.
    pub q: String,
}

/// Everything a page render needs.
pub struct RenderInput<'a> {
    /// The tenant's snapshot.
    pub snap: &'a PortalSnapshot,
    /// `https://host` for absolute URLs (JSON-LD).
    pub base_url: &'a str,
    /// Query parameters.
    pub query: &'a PageQuery,
    /// The snapshot's search index, if at hand (search page).
    pub search: Option<&'a search::SearchIndex>,
}

fn topic_links(services: &[&Service]) -> Vec<TopicLink> {
    let mut topics: Vec<TopicLink> = Vec::new();
    for s in services {
        for t in &s.data.topics {
            let name = vocabulary::topic(t).map_or_else(|| t.trim().to_owned(), str::to_owned);
            if name.is_empty() {
                continue;
            }
            match topics.iter_mut().find(|x| x.name == name) {
                Some(x) => x.count += 1,
                None => topics.push(TopicLink {
                    href: topic_href(&name),
                    name,
                    count: 1,
                }),
            }
        }
    }
    topics
}

/// The name of the topic whose slug is `slug`: a model term, or a topic
/// used by a service of the catalogue.
fn topic_name(snap: &PortalSnapshot, slug: &str) -> Option<String> {
    vocabulary::topic_by_slug(slug)
        .map(str::to_owned)
        .or_else(|| {
            let used: Vec<&Service> = snap.services.iter().collect();
            topic_links(&used)
                .into_iter()
                .find(|t| slugify(&t.name) == slug)
                .map(|t| t.name)
        })
}

/// Topics used by the catalogue that belong to the model vocabulary, sorted.
fn used_model_topics(snap: &PortalSnapshot) -> Vec<TopicLink> {
    let all: Vec<&Service> = snap.services.iter().collect();
    let mut topics: Vec<TopicLink> = topic_links(&all)
        .into_iter()
        .filter(|t| vocabulary::topic(&t.name).is_some())
        .collect();
    topics.sort_by_key(|t| t.name.to_lowercase());
    topics
}

/// Renders a page into HTML. `shell` comes prepared with the tenant and the
/// rating component; this fills title, breadcrumb and content.
pub fn render(
    page: &Page,
    mut shell: Shell<'_>,
    input: &RenderInput<'_>,
) -> Result<String, WebError> {
    let snap = input.snap;
    let home = || Crumb::link("Home", "/");
    let html = match page {
        Page::Home => {
            shell.title = "".into();
            shell.description = format!("Sito istituzionale del {}: servizi, uffici, notizie e informazioni per cittadini e imprese.", snap.tenant.data.name).into();
            let services = snap.services.iter().take(6).map(ServiceItem::of).collect();
            let mut topics = used_model_topics(snap);
            topics.truncate(12);
            let short = &snap.tenant.data.short_name;
            let sections = vec![
                card("/amministrazione", "Amministrazione", AMMINISTRAZIONE.lead),
                card("/novita", "Novità", NOVITA.lead),
                card(
                    "/servizi",
                    "Servizi",
                    "Tutti i servizi del Comune per cittadini e imprese, divisi per categoria.",
                ),
                card("/vivere-il-comune", &format!("Vivere {short}"), VIVERE.lead),
            ];
            HomeTemplate {
                shell,
                services,
                topics,
                sections,
            }
            .render()?
        }
        Page::Section(id) => {
            let section = id.section();
            let title = section_title(section, snap);
            shell.title = title.clone().into();
            shell.description = section.lead.into();
            shell.nav = section.nav;
            shell.nav_current = true;
            shell.breadcrumb = vec![home(), Crumb::here(title.clone())];
            let links = section
                .subs
                .iter()
                .map(|s| LinkCard {
                    href: format!("{}/{}", section.path, s.slug),
                    title: s.title.to_owned(),
                    text: s.description.to_owned(),
                    data_element: Some(s.data_element),
                })
                .collect();
            SectionTemplate {
                shell,
                title,
                lead: section.lead,
                links,
            }
            .render()?
        }
        Page::Sub(id, i) => {
            let section = id.section();
            let sub = section.subs.get(*i).ok_or(WebError::NotFound)?;
            shell.title = sub.title.into();
            shell.description = sub.description.into();
            shell.nav = section.nav;
            shell.breadcrumb = vec![
                home(),
                Crumb::link(section_title(section, snap), section.path),
                Crumb::here(sub.title),
            ];
            if *id == SectionId::Amministrazione && *i == UFFICI {
                let offices = snap.offices.iter().map(OfficeView::of).collect();
                OfficesTemplate {
                    shell,
                    description: sub.description,
                    offices,
                }
                .render()?
            } else {
                SubsectionTemplate {
                    shell,
                    title: sub.title,
                    description: sub.description,
                }
                .render()?
            }
        }
        Page::Office(slug) => {
            let office = snap.office_by_slug(slug).ok_or(WebError::NotFound)?;
            let view = OfficeView::of(office);
            shell.title = view.name.clone().into();
            shell.description = format!("Contatti e orari: {}", view.name).into();
            shell.nav = Nav::Amministrazione;
            shell.breadcrumb = vec![
                home(),
                Crumb::link("Amministrazione", "/amministrazione"),
                Crumb::link("Uffici", "/amministrazione/uffici"),
                Crumb::here(view.name.clone()),
            ];
            let services = snap
                .services
                .iter()
                .filter(|s| s.data.office == office.id)
                .map(ServiceItem::of)
                .collect();
            OfficeTemplate {
                shell,
                office: view,
                services,
            }
            .render()?
        }
        Page::Services => {
            shell.title = "Servizi".into();
            shell.description =
                "Tutti i servizi del Comune per cittadini e imprese, divisi per categoria.".into();
            shell.nav = Nav::Servizi;
            shell.nav_current = true;
            shell.breadcrumb = vec![home(), Crumb::here("Servizi")];
            let categories = ServiceCategory::ALL
                .iter()
                .map(|c| {
                    let n = snap.services_in(*c).count();
                    LinkCard {
                        href: format!("/servizi/{}", c.slug()),
                        title: c.label().to_owned(),
                        text: match n {
                            0 => "Nessun servizio pubblicato".to_owned(),
                            1 => "1 servizio".to_owned(),
                            n => format!("{n} servizi"),
                        },
                        data_element: Some("service-category-link"),
                    }
                })
                .collect();
            let total = snap.services.len();
            let pages = total.div_ceil(SERVICES_PER_PAGE).max(1);
            let current = input.query.page.clamp(1, pages);
            let services = snap
                .services
                .iter()
                .skip((current - 1) * SERVICES_PER_PAGE)
                .take(SERVICES_PER_PAGE)
                .map(ServiceItem::of)
                .collect();
            let pager = (1..=pages)
                .map(|number| PagerLink {
                    number,
                    href: if number == 1 {
                        "/servizi".to_owned()
                    } else {
                        format!("/servizi?pagina={number}")
                    },
                    current: number == current,
                })
                .collect();
            ServicesTemplate {
                shell,
                categories,
                services,
                total,
                pager,
            }
            .render()?
        }
        Page::Category(c) => {
            shell.title = c.label().into();
            shell.description = format!("Servizi della categoria {}", c.label()).into();
            shell.nav = Nav::Servizi;
            shell.breadcrumb = vec![
                home(),
                Crumb::link("Servizi", "/servizi"),
                Crumb::here(c.label()),
            ];
            let services = snap.services_in(*c).map(ServiceItem::of).collect();
            CategoryTemplate {
                shell,
                title: c.label(),
                services,
            }
            .render()?
        }
        Page::Service(c, slug) => {
            let service = snap
                .service(slug)
                .filter(|s| s.data.category == *c)
                .ok_or(WebError::NotFound)?;
            return render_service(service, shell, input);
        }
        Page::Topics => {
            shell.title = "Argomenti".into();
            shell.description = "Tutti gli argomenti trattati nel sito.".into();
            shell.breadcrumb = vec![home(), Crumb::here("Argomenti")];
            let mut topics = used_model_topics(snap);
            if topics.is_empty() {
                topics = vocabulary::TOPICS
                    .iter()
                    .map(|t| TopicLink {
                        name: (*t).to_owned(),
                        href: topic_href(t),
                        count: 0,
                    })
                    .collect();
            }
            TopicsTemplate { shell, topics }.render()?
        }
        Page::Topic(slug) => {
            let name = topic_name(snap, slug).ok_or(WebError::NotFound)?;
            shell.title = name.clone().into();
            shell.description = format!("Servizi sull'argomento {name}").into();
            shell.breadcrumb = vec![
                home(),
                Crumb::link("Argomenti", "/argomenti"),
                Crumb::here(name.clone()),
            ];
            let services = snap
                .services
                .iter()
                .filter(|s| s.data.topics.iter().any(|t| slugify(t) == *slug))
                .map(ServiceItem::of)
                .collect();
            TopicTemplate {
                shell,
                name,
                services,
            }
            .render()?
        }
        Page::Faq => {
            shell.title = "Domande frequenti".into();
            shell.description = "Le risposte alle domande più frequenti dei cittadini.".into();
            shell.breadcrumb = vec![home(), Crumb::here("Domande frequenti")];
            let faqs = snap.faqs.iter().map(FaqView::of).collect();
            FaqTemplate { shell, faqs }.render()?
        }
        Page::Privacy => {
            shell.title = "Informativa privacy".into();
            shell.breadcrumb = vec![home(), Crumb::here("Informativa privacy")];
            PrivacyTemplate { shell }.render()?
        }
        Page::LegalNotes => {
            shell.title = "Note legali".into();
            shell.breadcrumb = vec![home(), Crumb::here("Note legali")];
            LegalNotesTemplate {
                shell,
                license_title: LICENSE_TITLE,
                license_body: LICENSE_BODY,
            }
            .render()?
        }
        Page::Transparency => {
            shell.title = "Amministrazione trasparente".into();
            shell.description = "Amministrazione trasparente (d.lgs. 33/2013).".into();
            shell.breadcrumb = vec![home(), Crumb::here("Amministrazione trasparente")];
            TransparencyTemplate {
                shell,
                sections: TRANSPARENCY_SECTIONS.to_vec(),
            }
            .render()?
        }
        Page::PersonalArea => {
            shell.title = "Area personale".into();
            shell.breadcrumb = vec![home(), Crumb::here("Area personale")];
            PersonalAreaTemplate { shell }.render()?
        }
        Page::Search => {
            shell.title = "Cerca".into();
            shell.breadcrumb = vec![home(), Crumb::here("Cerca")];
            let query: String = input.query.q.trim().chars().take(100).collect();
            let hits = match input.search {
                Some(index) => index.search(&query),
                None => search::search(snap, &query),
            };
            SearchTemplate { shell, query, hits }.render()?
        }
    };
    Ok(html)
}

fn card(href: &str, title: &str, text: &str) -> LinkCard {
    LinkCard {
        href: href.to_owned(),
        title: title.to_owned(),
        text: text.to_owned(),
        data_element: None,
    }
}

fn section_title(section: &Section, snap: &PortalSnapshot) -> String {
    if section.id == SectionId::Vivere {
        format!("Vivere {}", snap.tenant.data.short_name)
    } else {
        section.title.to_owned()
    }
}

fn text_section(
    id: &'static str,
    title: &'static str,
    data_element: &'static str,
    text: &str,
) -> CardSection {
    CardSection {
        id,
        title,
        kind: "text",
        data_element,
        paragraphs: paragraphs(text),
    }
}

fn special_section(id: &'static str, title: &'static str, kind: &'static str) -> CardSection {
    CardSection {
        id,
        title,
        kind,
        data_element: "",
        paragraphs: Vec::new(),
    }
}

/// Renders the scheda servizio with every C.SI.1.3 section in order.
fn render_service(
    service: &Service,
    mut shell: Shell<'_>,
    input: &RenderInput<'_>,
) -> Result<String, WebError> {
    let snap = input.snap;
    let d = &service.data;
    shell.title = d.title.clone().into();
    shell.description = d.summary.clone().into();
    shell.nav = Nav::Servizi;
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Servizi", "/servizi"),
        Crumb::link(
            d.category.label(),
            format!("/servizi/{}", d.category.slug()),
        ),
        Crumb::here(d.title.clone()),
    ];
    let office = snap.office(d.office);
    shell.jsonld = Some(jsonld::government_service(
        service,
        &snap.tenant,
        office,
        input.base_url,
    ));

    let mut sections = vec![
        text_section(
            "a-chi-e-rivolto",
            "A chi è rivolto",
            "service-addressed",
            &d.audience,
        ),
        text_section("come-fare", "Come fare", "service-how-to", &d.how_to),
        text_section("cosa-serve", "Cosa serve", "service-needed", &d.needed),
        text_section(
            "cosa-si-ottiene",
            "Cosa si ottiene",
            "service-achieved",
            &d.achieved,
        ),
        text_section(
            "tempi-e-scadenze",
            "Tempi e scadenze",
            "service-calendar-text",
            &d.times,
        ),
    ];
    if let Some(costs) = d.costs.as_deref().filter(|c| !c.trim().is_empty()) {
        sections.push(text_section(
            "quanto-costa",
            "Quanto costa",
            "service-cost",
            costs,
        ));
    }
    sections.push(special_section(
        "accedi-al-servizio",
        "Accedi al servizio",
        "access",
    ));
    sections.push(text_section(
        "condizioni-di-servizio",
        "Condizioni di servizio",
        "service-file",
        &d.conditions,
    ));
    sections.push(special_section("contatti", "Contatti", "contacts"));
    sections.push(special_section("argomenti", "Argomenti", "topics"));

    let (active, inactive_reason) = match &d.status {
        ServiceStatus::Active => (true, None),
        ServiceStatus::Inactive { reason } => (false, Some(reason.clone())),
    };
    let topics = d
        .topics
        .iter()
        .map(|t| {
            let name = vocabulary::topic(t).map_or_else(|| t.trim().to_owned(), str::to_owned);
            TopicLink {
                href: topic_href(&name),
                name,
                count: 1,
            }
        })
        .filter(|t| !t.name.is_empty())
        .collect();
    ServiceTemplate {
        shell,
        title: d.title.clone(),
        active,
        inactive_reason,
        summary: d.summary.clone(),
        sections,
        access: paragraphs(&d.access),
        // Not while the service is inactive: the request would be refused.
        online_url: d
            .online_url
            .as_deref()
            .filter(|_| active)
            .and_then(safe_url)
            .map(str::to_owned),
        booking_href: format!("/prenotazione-appuntamento?servizio={}", d.slug),
        office: office.map(OfficeView::of),
        topics,
    }
    .render()
    .map_err(WebError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_path_are_inverse() {
        let pages = [
            Page::Home,
            Page::Topics,
            Page::Topic("anagrafe".into()),
            Page::Section(SectionId::Amministrazione),
            Page::Sub(SectionId::Amministrazione, UFFICI),
            Page::Sub(SectionId::Novita, 0),
            Page::Sub(SectionId::Vivere, 1),
            Page::Office("ufficio-anagrafe".into()),
            Page::Services,
            Page::Category(ServiceCategory::Ambiente),
            Page::Service(
                ServiceCategory::AnagrafeStatoCivile,
                "carta-identita".into(),
            ),
            Page::Faq,
            Page::Privacy,
            Page::LegalNotes,
            Page::Transparency,
            Page::PersonalArea,
            Page::Search,
        ];
        for p in pages {
            assert_eq!(Page::parse(&p.path()), Some(p.clone()), "{p:?}");
        }
        assert_eq!(Page::parse("/servizi/"), Some(Page::Services));
        assert_eq!(Page::parse("/servizi/nope"), None);
        assert_eq!(Page::parse("/amministrazione/uffici/Bad_Slug"), None);
        assert_eq!(Page::parse("servizi"), None);
        assert_eq!(Page::parse("//evil.example"), None);
        assert_eq!(AMMINISTRAZIONE.subs[UFFICI].slug, "uffici");
    }

    #[test]
    fn second_level_titles_match_c_si_1_7() {
        let titles = |s: &Section| s.subs.iter().map(|p| p.title).collect::<Vec<_>>();
        assert_eq!(
            titles(&AMMINISTRAZIONE),
            [
                "Organi di governo",
                "Aree amministrative",
                "Uffici",
                "Enti e fondazioni",
                "Politici",
                "Personale amministrativo",
                "Documenti e dati"
            ]
        );
        assert_eq!(titles(&NOVITA), ["Notizie", "Comunicati", "Avvisi"]);
        assert_eq!(titles(&VIVERE), ["Luoghi", "Eventi"]);
    }
}
