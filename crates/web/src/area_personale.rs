//! The citizen's desk in the personal area (issue 6, part 5): the
//! second-level navigation of the modello Comuni (Messaggi, Attività,
//! I miei servizi, Pratiche, Notifiche, Impostazioni) and the four pages
//! read from [`palazzo_services::area_personale`]. Pratiche, appointments,
//! certificates and the settings (recapiti e preferenze) have their own
//! pages already; the navigation links them all.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::area_personale::Scrivania;
use palazzo_store::Tenant;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, page, rome};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

/// The routes of this module (with the session and CSRF middleware).
pub fn router() -> Routes {
    let own = Access::Needs(Permission::OwnProfile);
    Routes::new()
        .get("/area-personale/messaggi", own, messaggi)
        .get("/area-personale/attivita", own, attivita)
        .get("/area-personale/servizi", own, servizi)
        .get("/area-personale/notifiche", own, notifiche)
}

/// One entry of the personal area's second-level navigation.
pub struct NavItem {
    /// The label.
    pub label: &'static str,
    /// The path.
    pub href: &'static str,
    /// The page shown is this one.
    pub current: bool,
}

/// The second-level navigation of the personal area (modello Comuni),
/// with `here` marked as the current page.
pub fn nav(here: &str) -> Vec<NavItem> {
    [
        ("Scrivania", "/area-personale"),
        ("Messaggi", "/area-personale/messaggi"),
        ("Attività", "/area-personale/attivita"),
        ("I miei servizi", "/area-personale/servizi"),
        ("Pratiche", "/area-personale/pratiche"),
        ("Tributi", "/area-personale/tributi"),
        ("Notifiche", "/area-personale/notifiche"),
        ("Impostazioni", "/area-personale#contatti"),
    ]
    .into_iter()
    .map(|(label, href)| NavItem {
        label,
        href,
        current: href == here,
    })
    .collect()
}

struct MessaggioRow {
    at: String,
    mittente: String,
    oggetto: String,
    testo: String,
    link: String,
    email: Option<String>,
}

struct AttivitaRow {
    at: String,
    descrizione: String,
    link: Option<String>,
}

struct NotificaRow {
    codice: &'static str,
    testo: String,
    entro: Option<String>,
    link: String,
}

struct ServizioRow {
    titolo: String,
    volte: usize,
    ultima: String,
    link: String,
}

#[derive(Template)]
#[template(path = "area_personale/scrivania.html")]
struct DeskTemplate<'a> {
    shell: Shell<'a>,
    nav: Vec<NavItem>,
    /// `messaggi`, `attivita`, `servizi` or `notifiche`.
    section: &'static str,
    messaggi: Vec<MessaggioRow>,
    attivita: Vec<AttivitaRow>,
    notifiche: Vec<NotificaRow>,
    servizi: Vec<ServizioRow>,
}

/// Renders one section of the desk.
async fn render(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    section: &'static str,
    title: &'static str,
    path: &'static str,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::OwnProfile)?;
    let desk: Scrivania = state.app().my_desk(t.id, &auth.actor).await?;
    let mut shell = Shell::new(t, title);
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area personale", "/area-personale"),
        Crumb::here(title),
    ];
    let date = |d: jiff::civil::Date| d.strftime("%d/%m/%Y").to_string();
    let tpl = DeskTemplate {
        shell,
        nav: nav(path),
        section,
        messaggi: desk
            .messaggi
            .into_iter()
            .map(|m| MessaggioRow {
                at: rome(m.at),
                mittente: m.mittente,
                oggetto: m.oggetto,
                testo: m.testo,
                link: m.link,
                email: m.email,
            })
            .collect(),
        attivita: desk
            .attivita
            .into_iter()
            .map(|a| AttivitaRow {
                at: rome(a.at),
                descrizione: a.descrizione,
                link: a.link,
            })
            .collect(),
        notifiche: desk
            .notifiche
            .into_iter()
            .map(|n| NotificaRow {
                codice: n.codice,
                testo: n.testo,
                entro: n.entro.map(date),
                link: n.link,
            })
            .collect(),
        servizi: desk
            .servizi
            .into_iter()
            .map(|s| ServizioRow {
                titolo: s.titolo,
                volte: s.volte,
                ultima: rome(s.ultima),
                link: s.link,
            })
            .collect(),
    };
    let html = tpl
        .render()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(page(html, StatusCode::OK))
}

macro_rules! section {
    ($name:ident, $code:literal, $title:literal, $path:literal) => {
        #[doc = concat!("Handles `GET ", $path, "`.")]
        async fn $name(
            State(state): State<AppState>,
            CurrentTenant(t): CurrentTenant,
            Extension(auth): Extension<Auth>,
        ) -> Response {
            render(&state, &t, &auth, $code, $title, $path)
                .await
                .unwrap_or_else(|e| needs($path, e))
        }
    };
}

section!(messaggi, "messaggi", "Messaggi", "/area-personale/messaggi");
section!(attivita, "attivita", "Attività", "/area-personale/attivita");
section!(
    servizi,
    "servizi",
    "I miei servizi",
    "/area-personale/servizi"
);
section!(
    notifiche,
    "notifiche",
    "Notifiche",
    "/area-personale/notifiche"
);
