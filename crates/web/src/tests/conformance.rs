//! The modello Comuni markup checklist (`domain/portal-modello-comuni.md`
//! §3), asserted on rendered pages the way the national conformity tool
//! reads them, plus accessibility and CSP hygiene that axe-core and the
//! browser would otherwise catch later.

use std::collections::{HashMap, HashSet};

use palazzo_domain::portal::{ServiceCategory, ServiceStatus};
use palazzo_services::PortalSnapshot;
use scraper::{ElementRef, Html, Selector};

use super::fixture::{BASE_URL, SECRET, snapshot};
use crate::assets;
use crate::portal::pages::{self, AMMINISTRAZIONE, NOVITA, Page, PageQuery, SectionId, VIVERE};
use crate::portal::rating::RatingState;
use crate::portal::shell::slugify;
use crate::portal::ticket;
use crate::portal::vocabulary::{
    LICENSE_BODY, RATING_NEGATIVE_ANSWERS, RATING_POSITIVE_ANSWERS, TOPICS, TRANSPARENCY_SECTIONS,
};
use crate::portal::{RenderOptions, render_page};

const NOW: u64 = 1_790_000_000;

fn render_with(snap: &PortalSnapshot, page: &Page, opts: &RenderOptions) -> Html {
    let html = render_page(snap, &SECRET, BASE_URL, page, opts, NOW)
        .unwrap_or_else(|e| panic!("{page:?}: {e}"));
    Html::parse_document(&html)
}

fn render(snap: &PortalSnapshot, page: &Page) -> Html {
    render_with(snap, page, &RenderOptions::default())
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"))
}

fn all<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(css)).collect()
}

fn one<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
    let found = all(doc, css);
    assert_eq!(found.len(), 1, "exactly one {css}, found {}", found.len());
    found[0]
}

/// Text as cheerio's `.text().trim()` gives it, with whitespace collapsed.
fn text(el: ElementRef<'_>) -> String {
    el.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn attr<'a>(el: ElementRef<'a>, name: &str) -> &'a str {
    el.value()
        .attr(name)
        .unwrap_or_else(|| panic!("missing {name} on <{}>", el.value().name()))
}

fn de(name: &str) -> String {
    format!("[data-element=\"{name}\"]")
}

/// Every page of the fixture portal.
fn every_page(snap: &PortalSnapshot) -> Vec<Page> {
    let mut pages = vec![
        Page::Home,
        Page::Topics,
        Page::Services,
        Page::Faq,
        Page::Privacy,
        Page::LegalNotes,
    ];
    pages.extend([Page::Transparency, Page::PersonalArea, Page::Search]);
    for id in [
        SectionId::Amministrazione,
        SectionId::Novita,
        SectionId::Vivere,
    ] {
        pages.push(Page::Section(id));
        for i in 0..id.section().subs.len() {
            pages.push(Page::Sub(id, i));
        }
    }
    pages.extend(ServiceCategory::ALL.iter().map(|c| Page::Category(*c)));
    pages.extend(
        snap.services
            .iter()
            .map(|s| Page::Service(s.data.category, s.data.slug.clone())),
    );
    pages.extend(
        snap.offices
            .iter()
            .map(|o| Page::Office(o.data.slug.clone())),
    );
    pages.push(Page::Topic(slugify(&snap.services[0].data.topics[0])));
    pages
}

#[test]
fn main_menu_has_the_four_entries_once_and_in_order() {
    let snap = snapshot();
    for page in every_page(&snap) {
        let doc = render(&snap, &page);
        let nav = one(&doc, "ul[data-element=\"main-navigation\"]");
        let items: Vec<(String, String)> = nav
            .select(&sel("a"))
            .map(|a| (attr(a, "data-element").to_owned(), text(a)))
            .collect();
        assert_eq!(
            items,
            [
                ("management".to_owned(), "Amministrazione".to_owned()),
                ("news".to_owned(), "Novità".to_owned()),
                ("all-services".to_owned(), "Servizi".to_owned()),
                ("live".to_owned(), "Vivere Casamassima".to_owned()),
            ],
            "{page:?}"
        );
        // The tool counts every element carrying these attributes.
        for name in ["management", "news", "all-services", "live"] {
            let found = one(&doc, &de(name));
            assert!(
                attr(found, "href").starts_with('/'),
                "{page:?}: {name} must be internal"
            );
        }
        assert!(all(&doc, &de("custom-submenu")).is_empty());
        let login = one(&doc, &format!("a{}", de("personal-area-login")));
        assert_eq!(attr(login, "href"), "/area-personale");
    }
}

#[test]
fn footer_carries_the_mandatory_links() {
    let snap = snapshot();
    let doc = render(&snap, &Page::Home);
    let footer = one(&doc, "footer");
    let in_footer = |name: &str| -> ElementRef<'_> {
        let found: Vec<ElementRef<'_>> = footer.select(&sel(&format!("a{}", de(name)))).collect();
        assert_eq!(found.len(), 1, "footer a[data-element={name}]");
        found[0]
    };
    let faq = in_footer("faq");
    assert_eq!(attr(faq, "href"), "/domande-frequenti");
    assert!(text(faq).to_lowercase().contains("faq"));
    let report = in_footer("report-inefficiency");
    assert_eq!(text(report).to_lowercase(), "segnala disservizio");
    assert_eq!(
        attr(report, "href"),
        format!("mailto:{}", snap.tenant.data.email)
    );
    assert_eq!(attr(in_footer("privacy-policy-link"), "href"), "/privacy");
    assert_eq!(attr(in_footer("legal-notes"), "href"), "/note-legali");
    assert!(attr(in_footer("accessibility-link"), "href").starts_with("https://form.agid.gov.it/"));
    in_footer("contacts");
    let footer_text = text(footer);
    let t = &snap.tenant.data;
    for needle in [
        t.pec.as_str(),
        t.codice_fiscale.as_str(),
        t.address.street.as_str(),
        t.phone.as_str(),
        t.email.as_str(),
        "Amministrazione trasparente",
        "Finanziato dall'Unione Europea - NextGenerationEU",
    ] {
        assert!(footer_text.contains(needle), "footer lacks {needle:?}");
    }
    assert!(
        footer
            .select(&sel("a[href=\"/amministrazione-trasparente\"]"))
            .next()
            .is_some()
    );
    assert!(
        footer
            .select(&sel("a[href=\"/prenotazione-appuntamento\"]"))
            .next()
            .is_some()
    );
    // Every footer data-element appears once in the whole page.
    for name in [
        "faq",
        "report-inefficiency",
        "privacy-policy-link",
        "legal-notes",
        "accessibility-link",
    ] {
        assert_eq!(all(&doc, &de(name)).len(), 1, "{name}");
    }
}

#[test]
fn second_level_titles_match_c_si_1_7_and_their_pages_exist() {
    let snap = snapshot();
    let check = |page: Page, data_element: &str, expected: Vec<String>| {
        let doc = render(&snap, &page);
        let links = all(&doc, &format!("a{}", de(data_element)));
        let titles: Vec<String> = links.iter().map(|a| text(*a)).collect();
        assert_eq!(titles, expected, "{page:?}");
        for a in links {
            let target = Page::parse(attr(a, "href"))
                .unwrap_or_else(|| panic!("{} is not a page", attr(a, "href")));
            let _ = render(&snap, &target);
        }
    };
    let titles = |s: &pages::Section| {
        s.subs
            .iter()
            .map(|p| p.title.to_owned())
            .collect::<Vec<_>>()
    };
    check(
        Page::Section(SectionId::Amministrazione),
        "management-category-link",
        titles(&AMMINISTRAZIONE),
    );
    check(
        Page::Section(SectionId::Novita),
        "news-category-link",
        titles(&NOVITA),
    );
    check(
        Page::Services,
        "service-category-link",
        ServiceCategory::ALL
            .iter()
            .map(|c| c.label().to_owned())
            .collect(),
    );
    check(
        Page::Section(SectionId::Vivere),
        "live-button-locations",
        vec!["Luoghi".to_owned()],
    );
    check(
        Page::Section(SectionId::Vivere),
        "live-button-events",
        vec!["Eventi".to_owned()],
    );
    assert_eq!(titles(&VIVERE), ["Luoghi", "Eventi"]);

    // "Uffici" lists the offices with their contacts.
    let doc = render(&snap, &Page::Sub(SectionId::Amministrazione, 2));
    let body = text(one(&doc, "main"));
    for o in &snap.offices {
        assert!(body.contains(&o.data.name), "{}", o.data.name);
        assert!(body.contains(&o.data.phone));
    }
    // Other second-level pages say honestly that nothing is published.
    let doc = render(&snap, &Page::Sub(SectionId::Novita, 0));
    assert!(text(one(&doc, "main")).contains("Nessun contenuto pubblicato"));
}

#[test]
fn services_page_reaches_every_card_through_the_pager() {
    let snap = snapshot();
    let first = render(&snap, &Page::Services);
    assert!(!all(&first, &format!("a{}", de("appointment-booking"))).is_empty());
    let pager: Vec<String> = all(&first, &format!("a{}", de("pager-link")))
        .iter()
        .map(|a| attr(*a, "href").to_owned())
        .collect();
    assert!(
        !pager.is_empty(),
        "pager-link or load-other-cards is required"
    );
    let mut seen = HashSet::new();
    for href in &pager {
        let page_no = href
            .split("pagina=")
            .nth(1)
            .map_or(1, |n| n.parse().unwrap());
        let opts = RenderOptions {
            query: PageQuery {
                page: page_no,
                ..PageQuery::default()
            },
            ..RenderOptions::default()
        };
        let doc = render_with(&snap, &Page::Services, &opts);
        for a in all(&doc, &format!("a{}", de("service-link"))) {
            let href = attr(a, "href");
            assert!(
                matches!(Page::parse(href), Some(Page::Service(..))),
                "{href}"
            );
            seen.insert(href.to_owned());
        }
    }
    assert_eq!(seen.len(), snap.services.len());
    assert!(seen.len() >= 10);
}

const INDEX: [&str; 8] = [
    "A chi è rivolto",
    "Come fare",
    "Cosa serve",
    "Cosa si ottiene",
    "Tempi e scadenze",
    "Accedi al servizio",
    "Condizioni di servizio",
    "Contatti",
];

#[test]
fn service_cards_follow_c_si_1_3() {
    let snap = snapshot();
    for s in &snap.services {
        let d = &s.data;
        let page = Page::Service(d.category, d.slug.clone());
        let doc = render(&snap, &page);

        // Breadcrumb: Home / Servizi / <Categoria> / <Servizio>, read like
        // the tool does (li text, lower case, "/" removed).
        let crumbs: Vec<String> = one(&doc, &de("breadcrumb"))
            .select(&sel("li"))
            .map(|li| text(li).to_lowercase().replace('/', "").trim().to_owned())
            .collect();
        let title = d.title.to_lowercase().replace('/', "");
        assert_eq!(
            crumbs,
            [
                "home".to_owned(),
                "servizi".to_owned(),
                d.category.label().to_lowercase(),
                title
            ]
        );

        assert_eq!(
            text(one(&doc, &format!("h1{}", de("service-title")))),
            d.title
        );
        let status = text(one(&doc, &de("service-status"))).to_lowercase();
        assert!(status.contains("attivo"), "{status}");
        assert!(text(one(&doc, &de("service-description"))).chars().count() >= 3);

        // Page index: labels equal the section headings, in order, and the
        // eight mandatory ones appear in the order of the model.
        let index: Vec<ElementRef<'_>> = all(&doc, "ul[data-element=\"page-index\"] > li > a");
        let labels: Vec<String> = index.iter().map(|a| text(*a)).collect();
        let headings: Vec<String> = index
            .iter()
            .map(|a| {
                let id = attr(*a, "href").trim_start_matches('#').to_owned();
                text(one(&doc, &format!("section[id=\"{id}\"] > h2")))
            })
            .collect();
        assert_eq!(labels, headings, "{}", d.slug);
        let mandatory: Vec<&str> = labels
            .iter()
            .map(String::as_str)
            .filter(|l| INDEX.contains(l))
            .collect();
        assert_eq!(mandatory, INDEX, "{}", d.slug);

        // Content of each section, as the tool checks it (a <p> of ≥ 3 chars).
        for name in [
            "service-addressed",
            "service-how-to",
            "service-needed",
            "service-achieved",
            "service-calendar-text",
            "service-file",
        ] {
            let block = one(&doc, &de(name));
            let p: Vec<String> = block.select(&sel("p")).map(text).collect();
            assert!(
                p.iter().any(|p| p.chars().count() >= 3),
                "{}: {name}",
                d.slug
            );
        }
        assert!(
            text(one(&doc, &de("service-generic-access")))
                .chars()
                .count()
                >= 3
        );
        // The online button only while the service can be requested.
        assert_eq!(
            all(&doc, &de("service-online-access")).len(),
            usize::from(d.online_url.is_some() && d.status == ServiceStatus::Active),
            "{}",
            d.slug
        );
        assert!(text(one(&doc, &de("service-area"))).chars().count() >= 3);
        assert!(!all(&doc, &format!("a{}", de("service-topic"))).is_empty());
        assert_eq!(
            all(&doc, &de("service-cost")).len(),
            usize::from(d.costs.is_some())
        );
        let booking = one(&doc, &format!("a{}", de("appointment-booking")));
        assert_eq!(
            attr(booking, "href"),
            format!("/prenotazione-appuntamento?servizio={}", d.slug)
        );

        // The responsible office's contacts are on the card (C.SI.2.2).
        let office = snap.office(d.office).unwrap();
        let area = text(one(&doc, &de("service-area")));
        assert!(area.contains(&office.data.name) && area.contains(&office.data.phone));
    }
}

#[test]
fn inactive_services_say_so_with_the_reason() {
    let snap = snapshot();
    let s = snap
        .services
        .iter()
        .find(|s| {
            matches!(
                s.data.status,
                palazzo_domain::portal::ServiceStatus::Inactive { .. }
            )
        })
        .unwrap();
    let doc = render(&snap, &Page::Service(s.data.category, s.data.slug.clone()));
    let status = text(one(&doc, &de("service-status")));
    assert!(
        status.contains("Servizio non attivo")
            && status.contains("Servizio sospeso per manutenzione")
    );
}

#[test]
fn json_ld_is_a_valid_government_service() {
    let snap = snapshot();
    for s in &snap.services {
        let doc = render(&snap, &Page::Service(s.data.category, s.data.slug.clone()));
        let script = one(
            &doc,
            "head script[type=\"application/ld+json\"][data-element=\"metatag\"]",
        );
        let raw = script.inner_html();
        assert!(!raw.contains("</"), "{raw}");
        let v: serde_json::Value =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}: {raw}", s.data.slug));
        assert_eq!(v["@type"], "GovernmentService");
        assert_eq!(v["name"], s.data.title.as_str());
        for pointer in [
            "/name",
            "/serviceType",
            "/serviceOperator/name",
            "/areaServed/name",
            "/audience/audienceType",
            "/availableChannel/serviceUrl",
            "/availableChannel/serviceLocation/name",
            "/availableChannel/serviceLocation/address/streetAddress",
            "/availableChannel/serviceLocation/address/postalCode",
            "/availableChannel/serviceLocation/address/addressLocality",
        ] {
            let value = v
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_else(|| panic!("{pointer}"));
            assert!(!value.is_empty(), "{pointer}");
        }
        assert!(
            v["availableChannel"]["serviceUrl"]
                .as_str()
                .unwrap()
                .starts_with("http")
        );
    }
    // No other page carries it.
    let doc = render(&snap, &Page::Services);
    assert!(all(&doc, &de("metatag")).is_empty());
}

#[test]
fn rating_component_is_on_first_and_second_level_pages_and_cards() {
    let snap = snapshot();
    for page in every_page(&snap) {
        let doc = render(&snap, &page);
        let containers = all(&doc, &de("feedback"));
        if !page.has_rating() {
            assert!(containers.is_empty(), "{page:?} must not carry the rating");
            continue;
        }
        assert_eq!(containers.len(), 1, "{page:?}");
        let container = containers[0];
        let within = |css: &str| container.select(&sel(css)).collect::<Vec<_>>();
        let title = within(&format!("h2{}", de("feedback-title")));
        assert_eq!(title.len(), 1);
        assert_eq!(
            text(title[0]),
            "Quanto sono chiare le informazioni su questa pagina?"
        );
        for n in 1..=5 {
            let label = one(&doc, &format!("label{}", de(&format!("feedback-rate-{n}"))));
            let input = one(&doc, &format!("input[id=\"{}\"]", attr(label, "for")));
            assert_eq!(attr(input, "type"), "radio");
            assert_eq!(attr(input, "name"), "stars");
            assert_eq!(attr(input, "value"), n.to_string());
        }
        for (side, question, answers) in [
            (
                "negative",
                "Dove hai incontrato le maggiori difficoltà?",
                RATING_NEGATIVE_ANSWERS,
            ),
            (
                "positive",
                "Quali sono stati gli aspetti che hai preferito?",
                RATING_POSITIVE_ANSWERS,
            ),
        ] {
            let fieldset = one(
                &doc,
                &format!("fieldset{}", de(&format!("feedback-rating-{side}"))),
            );
            let q: Vec<String> = fieldset
                .select(&sel(&de("feedback-rating-question")))
                .map(text)
                .collect();
            assert_eq!(q, [question]);
            let labels: Vec<ElementRef<'_>> = fieldset
                .select(&sel(&format!("label{}", de("feedback-rating-answer"))))
                .collect();
            assert_eq!(labels.iter().map(|l| text(*l)).collect::<Vec<_>>(), answers);
            for l in labels {
                one(
                    &doc,
                    &format!("input[type=\"radio\"][id=\"{}\"]", attr(l, "for")),
                );
            }
        }
        let comment = within(&format!("input{}", de("feedback-input-text")));
        assert_eq!(comment.len(), 1);
        assert_eq!(attr(comment[0], "maxlength"), "200");

        // A plain form: works without JavaScript.
        let form = one(&doc, "form[action=\"/valutazioni\"]");
        assert_eq!(attr(form, "method"), "post");
        let page_field = one(&doc, "input[type=\"hidden\"][name=\"page\"]");
        assert_eq!(attr(page_field, "value"), page.path());
        let ticket_field = one(&doc, "input[type=\"hidden\"][name=\"ticket\"]");
        ticket::verify(
            &SECRET,
            snap.tenant.id,
            &page.path(),
            attr(ticket_field, "value"),
            NOW,
        )
        .unwrap();
        let honeypot = one(&doc, ".d-none input[name=\"sito_web\"]");
        assert_eq!(attr(honeypot, "value"), "");
        one(
            &doc,
            "form[action=\"/valutazioni\"] button[type=\"submit\"]",
        );
    }
}

#[test]
fn rating_thanks_and_refusal_states() {
    let snap = snapshot();
    let thanks = RenderOptions {
        rating: Some(RatingState::Thanks),
        ..RenderOptions::default()
    };
    let doc = render_with(&snap, &Page::Services, &thanks);
    assert!(text(one(&doc, &de("feedback"))).contains("Grazie"));
    assert!(all(&doc, "form[action=\"/valutazioni\"]").is_empty());

    let refused = RenderOptions {
        rating: Some(RatingState::Refused {
            message: "Scegli un punteggio da 1 a 5 stelle.".into(),
            stars: Some(2),
            answer: Some(3),
            comment: "<b>ciao</b>".into(),
        }),
        ..RenderOptions::default()
    };
    let doc = render_with(&snap, &Page::Services, &refused);
    assert_eq!(
        text(one(
            &doc,
            "[data-element=\"feedback\"] .alert-danger[role=\"alert\"]"
        )),
        "Scegli un punteggio da 1 a 5 stelle."
    );
    assert_eq!(
        attr(one(&doc, "input[name=\"stars\"][checked]"), "value"),
        "2"
    );
    assert_eq!(
        attr(
            one(&doc, "input[name=\"answer_negative\"][checked]"),
            "value"
        ),
        "3"
    );
    assert!(all(&doc, "input[name=\"answer_positive\"][checked]").is_empty());
    assert_eq!(attr(one(&doc, "#rating-comment"), "value"), "<b>ciao</b>");
}

#[test]
fn topics_come_from_the_model_vocabulary() {
    let snap = snapshot();
    let home = render(&snap, &Page::Home);
    let all_topics = one(&home, &format!("a{}", de("all-topics")));
    assert_eq!(Page::parse(attr(all_topics, "href")), Some(Page::Topics));
    let doc = render(&snap, &Page::Topics);
    let topics: Vec<String> = all(&doc, &de("topic-element"))
        .iter()
        .map(|e| text(*e))
        .collect();
    assert!(!topics.is_empty());
    for t in &topics {
        assert!(TOPICS.contains(&t.as_str()), "{t} is not a model topic");
    }
    // Every topic link of every card leads to an existing page.
    for s in &snap.services {
        let doc = render(&snap, &Page::Service(s.data.category, s.data.slug.clone()));
        for a in all(&doc, &de("service-topic")) {
            let page = Page::parse(attr(a, "href")).unwrap();
            let _ = render(&snap, &page);
        }
    }
}

#[test]
fn legal_notes_carry_the_exact_licence_text() {
    let snap = snapshot();
    let doc = render(&snap, &Page::LegalNotes);
    assert_eq!(
        text(one(&doc, &de("legal-notes-section"))).to_lowercase(),
        "licenza dei contenuti"
    );
    // The tool joins the texts with a space, collapses whitespace and
    // replaces ' with ’ before comparing with its constant.
    let body = all(&doc, &de("legal-notes-body"))
        .iter()
        .map(|e| text(*e))
        .collect::<Vec<_>>()
        .join(" ");
    let body = body.to_lowercase().replace('\'', "’");
    let expected = "In applicazione del principio open by default ai sensi dell’articolo 52 del decreto legislativo 7 marzo 2005, n. 82 (CAD) e salvo dove diversamente specificato (compresi i contenuti incorporati di terzi), i dati, i documenti e le informazioni pubblicati sul sito sono rilasciati con licenza CC-BY 4.0. Gli utenti sono quindi liberi di condividere (riprodurre, distribuire, comunicare al pubblico, esporre in pubblico), rappresentare, eseguire e recitare questo materiale con qualsiasi mezzo e formato e modificare (trasformare il materiale e utilizzarlo per opere derivate) per qualsiasi fine, anche commerciale con il solo onere di attribuzione, senza apporre restrizioni aggiuntive.";
    assert_eq!(body, expected.to_lowercase());
    assert_eq!(LICENSE_BODY.join(" "), expected);
}

#[test]
fn transparency_lists_the_22_sections() {
    let snap = snapshot();
    let doc = render(&snap, &Page::Transparency);
    let h2: Vec<String> = all(&doc, "main section > h2")
        .iter()
        .map(|e| text(*e))
        .collect();
    let expected: Vec<String> = TRANSPARENCY_SECTIONS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    assert_eq!(h2, expected);
}

#[test]
fn search_finds_services_and_faq() {
    let snap = snapshot();
    let service = &snap.services[3].data;
    let word = service
        .title
        .split_whitespace()
        .find(|w| w.len() > 4)
        .unwrap();
    let opts = RenderOptions {
        query: PageQuery {
            q: word.to_owned(),
            ..PageQuery::default()
        },
        ..RenderOptions::default()
    };
    let doc = render_with(&snap, &Page::Search, &opts);
    let hits: Vec<String> = all(&doc, "main li h3 a")
        .iter()
        .map(|a| attr(*a, "href").to_owned())
        .collect();
    assert!(
        hits.contains(&pages::service_href(&snap.services[3])),
        "{word}: {hits:?}"
    );
    let faq_word = snap.faqs[0]
        .data
        .question
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap();
    let opts = RenderOptions {
        query: PageQuery {
            q: faq_word.to_owned(),
            ..PageQuery::default()
        },
        ..RenderOptions::default()
    };
    let doc = render_with(&snap, &Page::Search, &opts);
    assert!(
        all(&doc, "main li h3 a")
            .iter()
            .any(|a| attr(*a, "href").starts_with("/domande-frequenti#faq-"))
    );
}

/// Class names defined by the embedded Bootstrap Italia stylesheet.
fn bootstrap_classes() -> HashSet<String> {
    let css =
        std::str::from_utf8(assets::find("css/bootstrap-italia.min.css").unwrap().body).unwrap();
    let bytes = css.as_bytes();
    let mut out = HashSet::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'.'
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'-')
        {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'-' || bytes[end] == b'_')
            {
                end += 1;
            }
            out.insert(css[start..end].to_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn pages_use_bootstrap_italia_classes_and_fonts() {
    let snap = snapshot();
    let bi = bootstrap_classes();
    for page in every_page(&snap) {
        let doc = render(&snap, &page);
        let mut classes = HashSet::new();
        for el in all(&doc, "[class]") {
            classes.extend(el.value().classes().map(str::to_owned));
        }
        let foreign: Vec<&String> = classes.iter().filter(|c| !bi.contains(*c)).collect();
        for c in &foreign {
            assert!(
                c.starts_with("palazzo-"),
                "{page:?}: class {c} is neither Bootstrap Italia nor ours"
            );
        }
        let ratio = (classes.len() - foreign.len()) as f64 / classes.len() as f64;
        assert!(
            ratio >= 0.3,
            "{page:?}: only {ratio:.2} of the classes are Bootstrap Italia's"
        );
        let links: Vec<&str> = all(&doc, "head link[rel=\"stylesheet\"]")
            .iter()
            .map(|l| attr(*l, "href"))
            .collect();
        assert_eq!(
            links.first().copied(),
            Some(assets::URLS.bootstrap_css),
            "{page:?}"
        );
        assert!(links.contains(&assets::URLS.fonts_css));
    }
}

#[test]
fn pages_are_accessible_and_csp_clean() {
    let snap = snapshot();
    for page in every_page(&snap) {
        let doc = render(&snap, &page);
        assert_eq!(attr(one(&doc, "html"), "lang"), "it");
        assert!(!text(one(&doc, "head title")).is_empty());
        one(&doc, "main#main-container");
        one(&doc, "footer#footer");
        one(&doc, "header");
        for skip in all(&doc, ".skiplinks a") {
            let target = attr(skip, "href").trim_start_matches('#');
            one(&doc, &format!("[id=\"{target}\"]"));
        }
        assert_eq!(all(&doc, "h1").len(), 1, "{page:?}: one h1");
        // Headings never skip a level going down (axe heading-order).
        let mut last = 0u8;
        for h in all(&doc, "h1, h2, h3, h4, h5, h6") {
            let level = h.value().name()[1..].parse::<u8>().unwrap();
            assert!(
                level <= last + 1,
                "{page:?}: <{}> \"{}\" after h{last}",
                h.value().name(),
                text(h)
            );
            last = level;
        }
        // Unique ids.
        let mut ids = HashMap::new();
        for el in all(&doc, "[id]") {
            *ids.entry(attr(el, "id").to_owned()).or_insert(0) += 1;
        }
        assert!(
            ids.values().all(|n| *n == 1),
            "{page:?}: duplicate ids {ids:?}"
        );
        // Every control has a label.
        for input in all(&doc, "input:not([type=\"hidden\"]), select, textarea") {
            let labelled = input.value().attr("aria-label").is_some()
                || input
                    .value()
                    .attr("id")
                    .is_some_and(|id| !all(&doc, &format!("label[for=\"{id}\"]")).is_empty());
            assert!(labelled, "{page:?}: unlabelled {:?}", input.value());
        }
        // Links have text or a label; images have alt.
        for a in all(&doc, "a") {
            assert!(
                !text(a).is_empty() || a.value().attr("aria-label").is_some(),
                "{page:?}: empty link {:?}",
                a.value()
            );
        }
        for img in all(&doc, "img") {
            attr(img, "alt");
        }
        // CSP: no inline script, style or event handler.
        for script in all(&doc, "script") {
            let json = script.value().attr("type") == Some("application/ld+json");
            assert!(
                json || script.value().attr("src").is_some(),
                "{page:?}: inline script"
            );
        }
        assert!(
            all(&doc, "style, [style]").is_empty(),
            "{page:?}: inline style"
        );
        for el in all(&doc, "*") {
            assert!(
                el.value().attrs().all(|(name, _)| !name.starts_with("on")),
                "{page:?}: event handler attribute"
            );
        }
    }
}

#[test]
fn unknown_slugs_are_not_found() {
    let snap = snapshot();
    let opts = RenderOptions::default();
    for page in [
        Page::Service(ServiceCategory::Ambiente, "does-not-exist".into()),
        Page::Office("nessuno".into()),
        Page::Topic("calcio".into()),
    ] {
        let err = render_page(&snap, &SECRET, BASE_URL, &page, &opts, NOW).unwrap_err();
        assert_eq!(err.code(), "not_found", "{page:?}");
    }
    // A card asked under the wrong category is not found either.
    let s = &snap.services[0].data;
    let other = ServiceCategory::ALL
        .iter()
        .copied()
        .find(|c| *c != s.category)
        .unwrap();
    assert!(
        render_page(
            &snap,
            &SECRET,
            BASE_URL,
            &Page::Service(other, s.slug.clone()),
            &opts,
            NOW
        )
        .is_err()
    );
}

/// `Page::exists_in` (which the rating endpoints trust) agrees with what
/// the renderer answers, for every page and for made-up ones.
#[test]
fn page_existence_matches_rendering() {
    let snap = snapshot();
    let opts = RenderOptions::default();
    let s = &snap.services[0].data;
    let other = ServiceCategory::ALL
        .iter()
        .copied()
        .find(|c| *c != s.category)
        .unwrap();
    let mut pages = every_page(&snap);
    pages.extend([
        Page::Service(ServiceCategory::Ambiente, "zzz-non-esiste".into()),
        Page::Service(other, s.slug.clone()),
        Page::Office("nessuno".into()),
        Page::Topic("calcio".into()),
        Page::Topic("anagrafe".into()),
    ]);
    for page in pages {
        let rendered = render_page(&snap, &SECRET, BASE_URL, &page, &opts, NOW).is_ok();
        assert_eq!(page.exists_in(&snap), rendered, "{page:?}");
    }
}

#[test]
fn error_page_shows_code_and_request_id() {
    let snap = snapshot();
    let tenant = crate::CurrentTenant(std::sync::Arc::new(snap.tenant.clone()));
    let info = crate::error::ErrorInfo::from_status(axum::http::StatusCode::NOT_FOUND);
    let html = crate::middleware::errors::html_page(Some(&tenant), 404, &info, "abc123");
    let doc = Html::parse_document(&html);
    let main = text(one(&doc, "main"));
    assert!(
        main.contains("not_found")
            && main.contains("abc123")
            && main.contains("La pagina richiesta non esiste.")
    );
    assert_eq!(text(one(&doc, "h1")), "Pagina non trovata");
    one(&doc, &de("management"));
    let bare = crate::middleware::errors::html_page(None, 503, &info, "xyz");
    assert!(bare.contains("xyz") && bare.contains("lang=\"it\""));
}

/// Writes rendered pages to `$PALAZZO_DUMP_PAGES` (for a look in a browser
/// or a validator run); does nothing unless the variable is set.
#[test]
fn dump_pages_when_asked() {
    let Ok(dir) = std::env::var("PALAZZO_DUMP_PAGES") else {
        return;
    };
    let snap = snapshot();
    std::fs::create_dir_all(&dir).unwrap();
    for page in every_page(&snap) {
        let html = render_page(
            &snap,
            &SECRET,
            BASE_URL,
            &page,
            &RenderOptions::default(),
            NOW,
        )
        .unwrap();
        let name = if page.path() == "/" {
            "index".to_owned()
        } else {
            page.path().trim_start_matches('/').replace('/', "__")
        };
        std::fs::write(format!("{dir}/{name}.html"), html).unwrap();
    }
}
