//! The citizen's desk in the personal area (issue 6, part 5; modello
//! Comuni, second-level navigation of the area personale: Messaggi,
//! Attività, I miei servizi, Pratiche, Notifiche, Impostazioni).
//!
//! Nothing here is stored of its own: every list is read from the records
//! the citizen already has (pratiche and their history, drafts, bookings,
//! certificates, sign-ins, the e-mails the comune queued for them), so the
//! desk can never disagree with them.
//!
//! - **Messaggi**: what the comune wrote to the citizen — the text of every
//!   public step of an office on their pratiche (requests, notices,
//!   measures, messages) and the e-mails about their bookings — each with
//!   the address it was also e-mailed to ("ti abbiamo scritto").
//! - **Attività**: what the citizen did, newest first.
//! - **Notifiche**: what waits for them: an integration or observations
//!   asked for (with the date by which to answer), drafts to complete,
//!   appointments to come, certificates waiting for their bollo.
//! - **I miei servizi**: the services they used, how often and when last.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::procedimento::Azione;
use palazzo_store::{BookingState, Mail, MailState, TenantId};

use crate::access::Actor;
use crate::{App, ServiceResult};

/// At most this many activities are listed (the newest).
pub const MAX_ATTIVITA: usize = 200;

/// How far apart (seconds) an e-mail and the step it reports may be
/// queued: both are written in the step's transaction.
const SAME_STEP_SECONDS: i64 = 120;

/// Something the comune wrote to the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messaggio {
    /// When.
    pub at: Timestamp,
    /// Who wrote (the office).
    pub mittente: String,
    /// What about (the pratica's subject, the e-mail's subject).
    pub oggetto: String,
    /// The text.
    pub testo: String,
    /// Where to read it in context.
    pub link: String,
    /// The address it was also e-mailed to, once sent or queued.
    pub email: Option<String>,
}

/// Something the citizen did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attivita {
    /// When.
    pub at: Timestamp,
    /// What, in Italian.
    pub descrizione: String,
    /// Where to see it, if anywhere.
    pub link: Option<String>,
}

/// Something that waits for the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifica {
    /// A stable code (`integrazione_richiesta`, `osservazioni_richieste`,
    /// `bozza_da_completare`, `appuntamento`, `bollo_da_assolvere`).
    pub codice: &'static str,
    /// What, in Italian.
    pub testo: String,
    /// By when (Europe/Rome), if there is a date.
    pub entro: Option<Date>,
    /// Where to act.
    pub link: String,
}

/// A service the citizen used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServizioUsato {
    /// The service card's slug (or `certificati`, `appuntamenti`).
    pub servizio: String,
    /// Its title.
    pub titolo: String,
    /// How many times.
    pub volte: usize,
    /// The last time.
    pub ultima: Timestamp,
    /// Where to use it again.
    pub link: String,
}

/// The citizen's desk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scrivania {
    /// Newest first.
    pub messaggi: Vec<Messaggio>,
    /// Newest first, at most [`MAX_ATTIVITA`].
    pub attivita: Vec<Attivita>,
    /// Nearest date first; undated last.
    pub notifiche: Vec<Notifica>,
    /// Last used first.
    pub servizi: Vec<ServizioUsato>,
}

/// The e-mail, among `mails`, that reports something written at `at`.
fn emailed(mails: &[Mail], at: Timestamp) -> Option<String> {
    mails
        .iter()
        .filter(|m| m.state != MailState::Failed)
        .find(|m| m.created_at.duration_since(at).as_secs().abs() <= SAME_STEP_SECONDS)
        .map(|m| m.data.recipient.clone())
}

fn rome_time(t: Timestamp) -> String {
    t.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string()
}

impl App {
    /// The signed-in citizen's desk: messages, activities, notices and the
    /// services they used, from their own records only.
    ///
    /// # Errors
    /// As [`Actor::require`] (a citizen's own profile); store errors.
    pub async fn my_desk(&self, tenant: TenantId, actor: &Actor) -> ServiceResult<Scrivania> {
        crate::pratiche::bozze::citizen(actor)?;
        let portal = self.portal(tenant).await?;
        let title_of = |slug: &str| {
            portal
                .service(slug)
                .map_or_else(|| slug.to_owned(), |s| s.data.title.clone())
        };
        let office_name = |id| {
            portal
                .office(id)
                .map_or_else(|| "Comune".to_owned(), |o| o.data.name.clone())
        };
        let now = Timestamp::now();
        let today = rome_date(now);
        let mut desk = Scrivania::default();
        let mut used: BTreeMap<String, ServizioUsato> = BTreeMap::new();
        let mut use_service = |slug: &str, titolo: String, at: Timestamp, link: String| {
            let e = used.entry(slug.to_owned()).or_insert(ServizioUsato {
                servizio: slug.to_owned(),
                titolo,
                volte: 0,
                ultima: at,
                link,
            });
            e.volte += 1;
            e.ultima = e.ultima.max(at);
        };

        // Pratiche: their public history, and what they wait for.
        for p in self.my_pratiche(tenant, actor).await? {
            let link = format!("/area-personale/pratiche/{}", p.id.0);
            let title = title_of(&p.data.service_slug);
            use_service(
                &p.data.service_slug,
                title.clone(),
                p.data.submitted_at,
                format!("/area-personale/istanze/{}", p.data.service_slug),
            );
            let mails = self.mails_about(tenant, "pratica", p.id.0).await?;
            let view = self.my_pratica(tenant, actor, p.id).await?;
            for e in &view.eventi {
                let d = &e.data;
                if d.role == "cittadino" {
                    let what = if d.action == "presentazione" {
                        format!("Hai presentato «{title}»")
                    } else {
                        let action = serde_json::from_value::<Azione>(serde_json::Value::String(
                            d.action.clone(),
                        ))
                        .ok();
                        match action {
                            Some(Azione::Integrazione) => {
                                format!("Hai inviato l'integrazione per «{title}»")
                            }
                            Some(Azione::Osservazioni) => {
                                format!("Hai inviato le osservazioni per «{title}»")
                            }
                            Some(Azione::Ritiro) => format!("Hai ritirato «{title}»"),
                            _ => format!("Hai scritto all'ufficio per «{title}»"),
                        }
                    };
                    desk.attivita.push(Attivita {
                        at: d.at,
                        descrizione: what,
                        link: Some(link.clone()),
                    });
                } else if let Some(note) = d.note.as_ref().filter(|n| !n.trim().is_empty()) {
                    desk.messaggi.push(Messaggio {
                        at: d.at,
                        mittente: view.office.clone(),
                        oggetto: p.data.subject.clone(),
                        testo: note.clone(),
                        link: link.clone(),
                        email: emailed(&mails, d.at),
                    });
                }
            }
            let asked = |a: Azione| view.actions.contains(&a);
            let until = view.clock.paused_until;
            if asked(Azione::Integrazione) {
                desk.notifiche.push(Notifica {
                    codice: "integrazione_richiesta",
                    testo: format!("L'ufficio ti chiede un'integrazione per «{title}»."),
                    entro: until,
                    link: link.clone(),
                });
            } else if asked(Azione::Osservazioni) {
                desk.notifiche.push(Notifica {
                    codice: "osservazioni_richieste",
                    testo: format!(
                        "Puoi presentare osservazioni sui motivi ostativi per «{title}» (art. 10-bis L. 241/1990)."
                    ),
                    entro: until,
                    link: link.clone(),
                });
            }
        }

        // Drafts to complete.
        for b in self.my_bozze(tenant, actor).await? {
            let title = title_of(&b.data.service_slug);
            let link = format!("/area-personale/istanze/bozze/{}/{}", b.id.0, b.data.step);
            desk.attivita.push(Attivita {
                at: b.updated_at,
                descrizione: format!("Hai salvato una bozza di «{title}»"),
                link: Some(link.clone()),
            });
            desk.notifiche.push(Notifica {
                codice: "bozza_da_completare",
                testo: format!("La bozza di «{title}» non è ancora stata inviata."),
                entro: None,
                link,
            });
        }

        // Appointments, and the e-mails about them.
        for b in self.my_bookings(tenant, actor).await? {
            let office = office_name(b.data.office);
            let when = rome_time(b.data.slot_start);
            let link = "/area-personale/appuntamenti".to_owned();
            use_service(
                "appuntamenti",
                "Prenotazione appuntamenti".into(),
                b.data.created_at,
                "/prenotazione-appuntamento".into(),
            );
            desk.attivita.push(Attivita {
                at: b.data.created_at,
                descrizione: format!("Hai prenotato un appuntamento con {office} per il {when}"),
                link: Some(link.clone()),
            });
            if b.state == BookingState::Prenotato && b.data.slot_start > now {
                desk.notifiche.push(Notifica {
                    codice: "appuntamento",
                    testo: format!("Appuntamento con {office} il {when}: {}.", b.data.topic),
                    entro: Some(b.data.slot_date),
                    link: link.clone(),
                });
            }
            for m in self.mails_about(tenant, "appuntamento", b.id.0).await? {
                if m.state == MailState::Failed {
                    continue;
                }
                desk.messaggi.push(Messaggio {
                    at: m.created_at,
                    mittente: office.clone(),
                    oggetto: m.data.subject.clone(),
                    testo: m.data.text_body.clone(),
                    link: link.clone(),
                    email: Some(m.data.recipient.clone()),
                });
            }
        }

        // Certificates.
        for c in self.my_certificates(tenant, actor).await? {
            let kind = palazzo_domain::certificati::TipoCertificato::from_code(&c.data.doc_type)
                .map_or_else(|| c.data.doc_type.clone(), |d| d.title().to_owned());
            use_service(
                "certificati",
                "Certificati anagrafici".into(),
                c.data.issued_at,
                "/area-personale/certificati".into(),
            );
            desk.attivita.push(Attivita {
                at: c.data.issued_at,
                descrizione: format!("Hai richiesto il certificato: {kind}"),
                link: Some("/area-personale/certificati".into()),
            });
            if !c.releasable() && c.revocation.is_none() {
                desk.notifiche.push(Notifica {
                    codice: "bollo_da_assolvere",
                    testo: format!("Il certificato «{kind}» è pronto: manca l'imposta di bollo."),
                    entro: None,
                    link: "/area-personale/certificati".into(),
                });
            }
        }

        // Sign-ins.
        for s in self.my_sign_ins(tenant, actor).await? {
            let how = match s.provider.as_str() {
                "spid" => "SPID",
                "cie" => "CIE",
                "demo" => "l'accesso dimostrativo",
                _ => "le credenziali dell'ente",
            };
            desk.attivita.push(Attivita {
                at: s.time,
                descrizione: format!("Hai effettuato l'accesso con {how}"),
                link: None,
            });
        }

        desk.messaggi.sort_by_key(|m| std::cmp::Reverse(m.at));
        desk.attivita.sort_by_key(|a| std::cmp::Reverse(a.at));
        desk.attivita.truncate(MAX_ATTIVITA);
        // Dated notices first, the nearest (or overdue) first.
        desk.notifiche
            .sort_by_key(|n| (n.entro.is_none(), n.entro.unwrap_or(today)));
        desk.servizi = used.into_values().collect();
        desk.servizi.sort_by_key(|s| std::cmp::Reverse(s.ultima));
        Ok(desk)
    }
}
