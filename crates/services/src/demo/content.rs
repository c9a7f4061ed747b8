//! The public content of the demo installation: two real comuni of the Bari
//! Area Vasta (Casamassima and Acquaviva delle Fonti) with their offices,
//! service cards (schede servizio, criterion C.SI.1.3), FAQ and street names.
//!
//! Facts about the comuni (codes, CAP, province, seat of the town hall) are
//! public. Contact details are **demo values** and look like it: phone
//! numbers `080 000 0xxx`, e-mail and PEC addresses built on the comune's
//! domain, a placeholder AgID accessibility declaration. Amounts that a
//! comune sets for itself (tariffs, diritti) are marked "importo indicativo,
//! verificare" in the text.
//!
//! Texts are plain Italian; paragraphs are separated by a blank line
//! (`"\n\n"`), with no markup.

use palazzo_domain::ids::{Cap, CodiceCatastale, CodiceFiscale, CodiceIpa, CodiceIstat, Email};
use palazzo_domain::portal::{ServiceCategory, ServiceStatus};
use palazzo_store::{Address, NewFaq, NewOffice, NewService, NewTenant, OfficeId};

pub use palazzo_domain::portal::TOPICS;

/// One demo comune, ready to be stored.
#[derive(Debug, Clone)]
pub struct DemoComune {
    /// The ente.
    pub tenant: NewTenant,
    /// Its offices (uffici), each with a unique slug.
    pub offices: Vec<NewOffice>,
    /// Its service cards, each naming the slug of its responsible office.
    pub services: Vec<DemoService>,
    /// Its FAQ entries, in display order.
    pub faqs: Vec<NewFaq>,
    /// Plausible street names for the synthetic population.
    pub streets: Vec<&'static str>,
}

/// A service card whose responsible office is named by slug, because office
/// ids exist only once the offices are stored.
#[derive(Debug, Clone)]
pub struct DemoService {
    /// Slug of the responsible office, one of [`DemoComune::offices`].
    pub office_slug: &'static str,
    /// The card; `service.office` is the placeholder `OfficeId(0)`, to be
    /// replaced by the id of the office named by `office_slug`.
    pub service: NewService,
}

/// Builds the two demo comuni: Casamassima (the default tenant) and
/// Acquaviva delle Fonti.
///
/// # Errors
/// A message naming the value that does not parse (a code, CAP or e-mail
/// written in this file): it would be a bug here, reported rather than
/// panicking.
pub fn comuni() -> Result<Vec<DemoComune>, String> {
    Ok(vec![build(&CASAMASSIMA)?, build(&ACQUAVIVA)?])
}

// ---------------------------------------------------------------------------
// Specifications (static data) and the builder that parses them
// ---------------------------------------------------------------------------

/// The functional role of an office; each comune maps roles to its own
/// office slugs, so that the shared service cards find their office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Anagrafe, stato civile, elettorale.
    Anagrafe,
    /// Tributi.
    Tributi,
    /// Servizi sociali.
    Sociali,
    /// Pubblica istruzione (and, where joined, culture).
    Scuola,
    /// Ufficio tecnico: urbanistica, edilizia, lavori pubblici.
    Tecnico,
    /// Polizia locale.
    Polizia,
    /// SUAP.
    Suap,
    /// URP (relations with the public).
    Urp,
}

/// Static description of a comune.
struct ComuneSpec {
    slug: &'static str,
    name: &'static str,
    short_name: &'static str,
    catastale: &'static str,
    istat: &'static str,
    ipa: &'static str,
    codice_fiscale: &'static str,
    pec: &'static str,
    email: &'static str,
    phone: &'static str,
    street: &'static str,
    cap: &'static str,
    province: &'static str,
    region: &'static str,
    population: u32,
    hostnames: &'static [&'static str],
    logo_svg: &'static str,
    accessibility_url: &'static str,
    is_default: bool,
    offices: &'static [OfficeSpec],
    roles: fn(Role) -> &'static str,
    /// Comune-specific cards, added after [`COMMON_SERVICES`].
    services: &'static [ServiceSpec],
    /// Comune-specific FAQ, added after [`COMMON_FAQS`].
    faqs: &'static [(&'static str, &'static str)],
    streets: &'static [&'static str],
}

/// Static description of an office.
struct OfficeSpec {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    email: &'static str,
    pec: Option<&'static str>,
    phone: &'static str,
    opening_hours: &'static str,
}

/// Static description of a service card. Texts may contain `{comune}`
/// (short name of the comune) and `{catastale}` (its codice catastale).
struct ServiceSpec {
    role: Role,
    slug: &'static str,
    category: ServiceCategory,
    title: &'static str,
    /// `Some(reason)` for an inactive service.
    inactive: Option<&'static str>,
    summary: &'static str,
    audience: &'static str,
    how_to: &'static str,
    needed: &'static str,
    achieved: &'static str,
    times: &'static str,
    costs: Option<&'static str>,
    access: &'static str,
    online: Option<&'static str>,
    conditions: &'static str,
    topics: &'static [&'static str],
    audience_type: &'static str,
}

/// Appended to the "Condizioni di servizio" of every card.
const PRIVACY_NOTE: &str = "I dati personali sono trattati secondo il Regolamento (UE) 2016/679 (GDPR) \
e il decreto legislativo 196/2003, solo per gestire la richiesta; l'informativa completa è \
pubblicata nella pagina Privacy del sito.";

fn fill(text: &str, spec: &ComuneSpec) -> String {
    text.replace("{comune}", spec.short_name)
        .replace("{catastale}", spec.catastale)
}

fn email(text: &str) -> Result<Email, String> {
    Email::parse(text).map_err(|e| format!("demo e-mail {text:?}: {e}"))
}

fn build(spec: &ComuneSpec) -> Result<DemoComune, String> {
    let cap = Cap::parse(spec.cap).map_err(|e| format!("demo CAP {:?}: {e}", spec.cap))?;
    let seat = Address {
        street: spec.street.to_owned(),
        cap,
        locality: spec.short_name.to_owned(),
        province: spec.province.to_owned(),
    };
    let tenant = NewTenant {
        slug: spec.slug.to_owned(),
        name: spec.name.to_owned(),
        short_name: spec.short_name.to_owned(),
        codice_catastale: CodiceCatastale::parse(spec.catastale)
            .map_err(|e| format!("demo codice catastale {:?}: {e}", spec.catastale))?,
        codice_istat: CodiceIstat::parse(spec.istat)
            .map_err(|e| format!("demo codice ISTAT {:?}: {e}", spec.istat))?,
        codice_ipa: CodiceIpa::parse(spec.ipa)
            .map_err(|e| format!("demo codice IPA {:?}: {e}", spec.ipa))?,
        codice_fiscale: CodiceFiscale::parse(spec.codice_fiscale)
            .map_err(|e| format!("demo codice fiscale {:?}: {e}", spec.codice_fiscale))?,
        pec: email(spec.pec)?,
        email: email(spec.email)?,
        phone: spec.phone.to_owned(),
        address: seat.clone(),
        region: spec.region.to_owned(),
        population: spec.population,
        // The calendar syntax exists ("MM-DD"), but the date of the patron
        // feast is not certain enough for the demo: see the module report.
        patron_saint: None,
        hostnames: spec.hostnames.iter().map(|h| (*h).to_owned()).collect(),
        logo_svg: Some(spec.logo_svg.to_owned()),
        accessibility_url: spec.accessibility_url.to_owned(),
        is_default: spec.is_default,
    };

    let mut offices = Vec::with_capacity(spec.offices.len());
    for o in spec.offices {
        offices.push(NewOffice {
            slug: o.slug.to_owned(),
            name: o.name.to_owned(),
            description: fill(o.description, spec),
            email: Some(email(o.email)?),
            pec: o.pec.map(email).transpose()?,
            phone: o.phone.to_owned(),
            address: seat.clone(),
            opening_hours: o.opening_hours.to_owned(),
        });
    }

    let services = COMMON_SERVICES
        .iter()
        .chain(spec.services.iter())
        .map(|s| DemoService {
            office_slug: (spec.roles)(s.role),
            service: NewService {
                slug: s.slug.to_owned(),
                category: s.category,
                title: fill(s.title, spec),
                status: match s.inactive {
                    None => ServiceStatus::Active,
                    Some(reason) => ServiceStatus::Inactive {
                        reason: fill(reason, spec),
                    },
                },
                summary: fill(s.summary, spec),
                audience: fill(s.audience, spec),
                how_to: fill(s.how_to, spec),
                needed: fill(s.needed, spec),
                achieved: fill(s.achieved, spec),
                times: fill(s.times, spec),
                costs: s.costs.map(|c| fill(c, spec)),
                access: fill(s.access, spec),
                online_url: s.online.map(str::to_owned),
                conditions: format!("{}\n\n{PRIVACY_NOTE}", fill(s.conditions, spec)),
                office: OfficeId(0),
                topics: s.topics.iter().map(|t| (*t).to_owned()).collect(),
                service_type: s.category.label().to_owned(),
                audience_type: s.audience_type.to_owned(),
            },
        })
        .collect();

    let faqs = COMMON_FAQS
        .iter()
        .chain(spec.faqs.iter())
        .zip(1_i64..)
        .map(|((q, a), position)| NewFaq {
            position,
            question: fill(q, spec),
            answer: fill(a, spec),
        })
        .collect();

    Ok(DemoComune {
        tenant,
        offices,
        services,
        faqs,
        streets: spec.streets.to_vec(),
    })
}

// ---------------------------------------------------------------------------
// Casamassima
// ---------------------------------------------------------------------------

static CASAMASSIMA: ComuneSpec = ComuneSpec {
    slug: "casamassima",
    name: "Comune di Casamassima",
    short_name: "Casamassima",
    catastale: "B923",
    istat: "072017",
    ipa: "c_b923",
    codice_fiscale: "80001870726",
    pec: "protocollo@pec.comune.casamassima.ba.it",
    email: "urp@comune.casamassima.ba.it",
    phone: "080 000 0100",
    street: "Piazza Aldo Moro, 2",
    cap: "70010",
    province: "BA",
    region: "Puglia",
    population: 19_200,
    hostnames: &["comune.casamassima.ba.it", "casamassima.localhost"],
    logo_svg: LOGO_CASAMASSIMA,
    accessibility_url: "https://form.agid.gov.it/view/00000000-0000-4000-8000-00000000b923",
    is_default: true,
    offices: CASAMASSIMA_OFFICES,
    roles: casamassima_role,
    services: CASAMASSIMA_SERVICES,
    faqs: CASAMASSIMA_FAQS,
    streets: CASAMASSIMA_STREETS,
};

fn casamassima_role(role: Role) -> &'static str {
    match role {
        Role::Anagrafe => "anagrafe-stato-civile",
        Role::Tributi => "tributi",
        Role::Sociali | Role::Scuola => "servizi-sociali",
        Role::Tecnico => "urbanistica",
        Role::Polizia => "polizia-locale",
        Role::Suap => "suap",
        Role::Urp => "urp",
    }
}

/// Our own drawing: an azure shield (Casamassima is known as "il paese
/// azzurro"), a silver chief and the initial. Not the official stemma.
const LOGO_CASAMASSIMA: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 140" width="120" height="140" role="img" aria-labelledby="stemma-casamassima-title"><title id="stemma-casamassima-title">Stemma stilizzato del Comune di Casamassima (disegno dimostrativo)</title><path d="M8 8 H112 V70 C112 104 88 124 60 134 C32 124 8 104 8 70 Z" fill="#1f5fa8" stroke="#0b2e55" stroke-width="4"/><path d="M10 10 H110 V38 H10 Z" fill="#f2f4f7"/><path d="M22 30 L30 16 L38 30 M52 30 L60 16 L68 30 M82 30 L90 16 L98 30" fill="none" stroke="#1f5fa8" stroke-width="4" stroke-linejoin="round"/><text x="60" y="100" text-anchor="middle" font-family="'Titillium Web', Arial, sans-serif" font-size="46" font-weight="700" fill="#ffffff">C</text></svg>"##;

static CASAMASSIMA_OFFICES: &[OfficeSpec] = &[
    OfficeSpec {
        slug: "anagrafe-stato-civile",
        name: "Servizi demografici: anagrafe, stato civile ed elettorale",
        description: "Tiene l'anagrafe della popolazione residente nell'ANPR e i registri di stato civile di {comune}. Rilascia la carta d'identità elettronica e i certificati, registra i cambi di residenza e di abitazione, riceve le dichiarazioni di nascita, morte, matrimonio e unione civile, cura le liste elettorali e gli albi di scrutatori e presidenti di seggio.",
        email: "anagrafe@comune.casamassima.ba.it",
        pec: Some("anagrafe@pec.comune.casamassima.ba.it"),
        phone: "080 000 0101",
        opening_hours: "Lunedì, mercoledì e venerdì 9:00–12:30; martedì e giovedì 9:00–12:30 e 16:00–18:00. La carta d'identità elettronica si rilascia solo su appuntamento.",
    },
    OfficeSpec {
        slug: "tributi",
        name: "Ufficio Tributi",
        description: "Gestisce le entrate tributarie del Comune: IMU, TARI e canone unico patrimoniale. Riceve le dichiarazioni, calcola e invia gli avvisi di pagamento, risponde alle richieste di rimborso, di rateizzazione e di riesame in autotutela.",
        email: "tributi@comune.casamassima.ba.it",
        pec: Some("tributi@pec.comune.casamassima.ba.it"),
        phone: "080 000 0102",
        opening_hours: "Martedì e giovedì 9:00–12:00; giovedì anche 16:00–18:00. Negli altri giorni su appuntamento.",
    },
    OfficeSpec {
        slug: "protocollo",
        name: "Ufficio Protocollo",
        description: "Riceve e registra nel protocollo informatico i documenti indirizzati al Comune, consegnati a mano, per posta o per PEC, e li assegna agli uffici competenti. Rilascia la ricevuta con il numero di protocollo.",
        email: "protocollo@comune.casamassima.ba.it",
        pec: Some("protocollo@pec.comune.casamassima.ba.it"),
        phone: "080 000 0103",
        opening_hours: "Dal lunedì al venerdì 9:00–12:30; martedì e giovedì anche 16:00–17:30.",
    },
    OfficeSpec {
        slug: "servizi-sociali",
        name: "Servizi sociali e pubblica istruzione",
        description: "Sostiene persone e famiglie in difficoltà, anziani e persone con disabilità, in collaborazione con l'Ambito territoriale sociale. Gestisce contributi economici, assegni di maternità, mensa e trasporto scolastico, centri estivi e rapporti con le scuole del territorio.",
        email: "servizisociali@comune.casamassima.ba.it",
        pec: Some("servizisociali@pec.comune.casamassima.ba.it"),
        phone: "080 000 0104",
        opening_hours: "Lunedì e mercoledì 9:00–12:00; giovedì 16:00–18:00. Colloqui con l'assistente sociale su appuntamento.",
    },
    OfficeSpec {
        slug: "urbanistica",
        name: "Ufficio tecnico: urbanistica ed edilizia privata",
        description: "Cura la pianificazione urbanistica e i titoli edilizi (permessi di costruire, SCIA, CILA), rilascia i certificati di destinazione urbanistica, le autorizzazioni per i passi carrabili e riceve le richieste di accesso agli atti edilizi.",
        email: "urbanistica@comune.casamassima.ba.it",
        pec: Some("urbanistica@pec.comune.casamassima.ba.it"),
        phone: "080 000 0105",
        opening_hours: "Martedì 9:00–12:00 e 16:00–18:00; giovedì 9:00–12:00. Per i tecnici su appuntamento.",
    },
    OfficeSpec {
        slug: "polizia-locale",
        name: "Comando di Polizia locale",
        description: "Vigila sulla circolazione stradale e sulla sicurezza urbana, rileva gli incidenti stradali, svolge gli accertamenti di residenza, rilascia i contrassegni per persone con disabilità e le concessioni temporanee di suolo pubblico, e gestisce le sanzioni del Codice della strada.",
        email: "polizialocale@comune.casamassima.ba.it",
        pec: Some("poliziamunicipale@pec.comune.casamassima.ba.it"),
        phone: "080 000 0106",
        opening_hours: "Sportello al pubblico dal lunedì al sabato 9:00–12:00. Servizio in strada tutti i giorni; per le emergenze chiamare il 112.",
    },
    OfficeSpec {
        slug: "suap",
        name: "Sportello unico per le attività produttive (SUAP)",
        description: "Punto unico di accesso per le imprese: riceve per via telematica le pratiche di avvio, modifica e cessazione delle attività commerciali, artigianali e produttive e coordina gli altri enti coinvolti.",
        email: "suap@comune.casamassima.ba.it",
        pec: Some("suap@pec.comune.casamassima.ba.it"),
        phone: "080 000 0107",
        opening_hours: "Mercoledì 9:00–12:00 e giovedì 16:00–18:00, su appuntamento. Le pratiche si presentano solo online.",
    },
    OfficeSpec {
        slug: "urp",
        name: "Ufficio relazioni con il pubblico (URP)",
        description: "Informa i cittadini sui servizi del Comune e li orienta tra gli uffici, riceve segnalazioni, reclami e suggerimenti, gestisce le richieste di accesso agli atti e di accesso civico.",
        email: "urp@comune.casamassima.ba.it",
        pec: Some("protocollo@pec.comune.casamassima.ba.it"),
        phone: "080 000 0108",
        opening_hours: "Dal lunedì al venerdì 9:00–13:00; martedì e giovedì anche 15:30–18:00.",
    },
];

static CASAMASSIMA_SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        role: Role::Scuola,
        slug: "trasporto-scolastico",
        category: ServiceCategory::EducazioneFormazione,
        title: "Iscriversi al trasporto scolastico",
        inactive: None,
        summary: "Iscrivi tuo figlio allo scuolabus comunale che collega le zone periferiche e di campagna alle scuole di Casamassima.",
        audience: "Ai genitori e ai tutori degli alunni residenti a Casamassima che frequentano le scuole statali dell'infanzia, primarie e secondarie di primo grado del territorio e abitano lontano dalla scuola, in particolare nelle zone rurali e nelle contrade.",
        how_to: "Presenta la domanda online dall'area personale nel periodo indicato dall'avviso annuale, scegliendo la fermata più vicina a casa.\n\nL'ufficio definisce i percorsi e comunica fermate e orari prima dell'inizio delle lezioni.\n\nPaga la quota con pagoPA alle scadenze indicate nella conferma di iscrizione.",
        needed: "SPID o CIE del genitore che presenta la domanda.\n\nIl codice fiscale dell'alunno, la scuola e la classe frequentate.\n\nL'indirizzo di casa e la fermata richiesta.\n\nL'attestazione ISEE in corso di validità, se chiedi una quota ridotta.",
        achieved: "Il posto sullo scuolabus per l'intero anno scolastico, con la fermata e gli orari assegnati e, se spetta, la quota ridotta in base all'ISEE.",
        times: "Le domande si presentano entro la scadenza dell'avviso, di norma entro il mese di luglio; le domande tardive sono accolte nei limiti dei posti disponibili. Il servizio segue il calendario scolastico regionale.",
        costs: Some(
            "Quota annuale a fasce ISEE stabilita dalla Giunta comunale (per esempio da 60,00 € a 180,00 € l'anno, con riduzione dal secondo figlio: importi indicativi, verificare l'avviso in vigore). Il pagamento avviene con pagoPA.",
        ),
        access: "Online dall'area personale con SPID o CIE. Per assistenza rivolgiti all'ufficio Servizi sociali e pubblica istruzione.",
        online: Some("/area-personale/trasporto-scolastico"),
        conditions: "Per gli alunni della scuola dell'infanzia e primaria un genitore o un adulto delegato deve essere presente alla fermata alla discesa. Comportamenti scorretti a bordo possono comportare la sospensione dal servizio. L'iscrizione è subordinata alla regolarità dei pagamenti degli anni precedenti.",
        topics: &["Istruzione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Tecnico,
        slug: "passo-carrabile",
        category: ServiceCategory::Autorizzazioni,
        title: "Richiedere l'autorizzazione per un passo carrabile",
        inactive: None,
        summary: "Ottieni l'autorizzazione e il cartello per l'accesso dei veicoli da una strada comunale alla tua proprietà, con divieto di sosta davanti all'ingresso.",
        audience: "Ai proprietari e agli altri aventi titolo di immobili con accesso carrabile su strade o aree pubbliche di Casamassima, compresi i condomini tramite l'amministratore.",
        how_to: "Presenta la domanda online dall'area personale con la planimetria e le fotografie dell'accesso.\n\nL'ufficio tecnico verifica, anche con un sopralluogo, che l'accesso rispetti l'articolo 22 del Codice della strada e l'articolo 46 del suo regolamento di attuazione (DPR 495/1992).\n\nDopo l'autorizzazione paghi il canone con pagoPA e ritiri il cartello numerato, da installare a tua cura.",
        needed: "Un documento d'identità e il titolo di proprietà o di disponibilità dell'immobile.\n\nLa planimetria con la posizione e la larghezza dell'accesso e le fotografie dello stato dei luoghi.\n\nIl pagamento dell'imposta di bollo sulla domanda e sull'autorizzazione.",
        achieved: "L'autorizzazione al passo carrabile e il segnale di divieto di sosta con il numero dell'autorizzazione, che rende sanzionabile chi parcheggia davanti all'accesso.",
        times: "Il procedimento si conclude entro 30 giorni dalla domanda completa. Il canone si paga ogni anno entro la scadenza fissata dal regolamento comunale.",
        costs: Some(
            "Imposta di bollo di 16,00 € sulla domanda e di 16,00 € sull'autorizzazione; costo del cartello (per esempio 25,00 €: importo indicativo, verificare); canone unico patrimoniale annuale calcolato sulla larghezza dell'accesso secondo le tariffe comunali.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello dell'ufficio tecnico su appuntamento.",
        online: Some("/area-personale/passo-carrabile"),
        conditions: "Un cartello esposto senza autorizzazione o non conforme è sanzionato dall'articolo 22 del Codice della strada. In caso di vendita dell'immobile l'autorizzazione va volturata; se l'accesso non è più usato va chiesta la revoca e il cartello va rimosso.",
        topics: &["Parcheggi", "Urbanizzazione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Polizia,
        slug: "pagamento-sanzioni-codice-della-strada",
        category: ServiceCategory::TributiFinanze,
        title: "Pagare una multa per violazione del Codice della strada",
        inactive: None,
        summary: "Paga online con pagoPA le sanzioni del Codice della strada accertate dalla Polizia locale, anche con la riduzione del 30% entro 5 giorni.",
        audience: "A chi ha ricevuto un preavviso o un verbale per una violazione del Codice della strada accertata dalla Polizia locale di Casamassima, e ai proprietari dei veicoli coinvolti.",
        how_to: "Accedi all'area personale oppure usa il codice avviso pagoPA indicato sul verbale: puoi pagare online, in banca, negli uffici postali, nei tabaccai e negli altri punti abilitati, anche dall'app IO.\n\nSe non eri alla guida, comunica entro 60 giorni i dati del conducente, per la decurtazione dei punti dalla sua patente.",
        needed: "Il numero del verbale o il codice avviso pagoPA e la targa del veicolo.",
        achieved: "La ricevuta di pagamento, che chiude il procedimento sanzionatorio.",
        times: "Con la riduzione del 30%: entro 5 giorni dalla contestazione o dalla notifica (articolo 202 del Codice della strada), salvo le violazioni per cui sono previste la confisca del veicolo o la sospensione della patente.\n\nIn misura ridotta (il minimo previsto): entro 60 giorni. Dopo 60 giorni la somma dovuta sale alla metà del massimo, più le spese.\n\nIn alternativa al pagamento puoi presentare ricorso al Prefetto entro 60 giorni o al Giudice di pace entro 30 giorni.",
        costs: Some(
            "L'importo della sanzione e le spese di notifica e di procedimento sono indicati sul verbale. Il prestatore di servizi di pagamento scelto può applicare una commissione.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure con il solo codice avviso pagoPA presso i prestatori di servizi di pagamento aderenti.",
        online: Some("/area-personale/pagamenti"),
        conditions: "Il pagamento in misura ridotta comporta la rinuncia al ricorso. Le somme non pagate sono riscosse coattivamente con le maggiorazioni previste dalla legge.",
        topics: &["Polizia"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Polizia,
        slug: "rapporto-incidente-stradale",
        category: ServiceCategory::GiustiziaSicurezza,
        title: "Richiedere copia del rapporto di incidente stradale",
        inactive: None,
        summary: "Ottieni copia degli atti relativi a un incidente stradale rilevato dalla Polizia locale, utile per il risarcimento dei danni.",
        audience: "Alle persone coinvolte nell'incidente, ai proprietari dei veicoli, agli eredi, alle compagnie di assicurazione e ai legali da loro incaricati.",
        how_to: "Presenta la richiesta online dall'area personale o al Comando di Polizia locale, indicando data, ora e luogo dell'incidente e i veicoli coinvolti.\n\nQuando gli atti sono disponibili ricevi un avviso e li scarichi dall'area personale, dopo il pagamento dei diritti con pagoPA.",
        needed: "Un documento d'identità.\n\nI dati dell'incidente (data, ora, luogo, targhe).\n\nLa dichiarazione della tua posizione (persona coinvolta, proprietario, erede, assicurazione) e, per chi agisce per altri, la delega o la procura.",
        achieved: "La copia del rapporto di incidente stradale con gli allegati disponibili: rilievi planimetrici, fotografie e dichiarazioni.",
        times: "Gli atti sono rilasciati entro 30 giorni dalla richiesta, al termine degli accertamenti. Se dall'incidente sono derivate lesioni per cui si procede penalmente, serve il nulla osta dell'autorità giudiziaria e i tempi si allungano.",
        costs: Some(
            "Diritti di rilascio secondo la tariffa comunale (per esempio 20,00 € per il rapporto e 1,00 € per ogni fotografia: importi indicativi, verificare), pagabili con pagoPA.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello del Comando di Polizia locale.",
        online: Some("/area-personale/incidenti-stradali"),
        conditions: "Gli atti contengono dati personali di altre persone: sono rilasciati solo a chi dimostra un interesse diretto, concreto e attuale, secondo la legge 241/1990.",
        topics: &["Polizia", "Giustizia"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Scuola,
        slug: "centri-estivi",
        category: ServiceCategory::CulturaTempoLibero,
        title: "Iscriversi ai centri estivi comunali",
        inactive: Some(
            "Le iscrizioni per quest'anno sono chiuse. Riapriranno con il prossimo avviso pubblico, di norma in primavera.",
        ),
        summary: "Iscrivi bambini e ragazzi dai 3 ai 14 anni alle attività estive ricreative, sportive e culturali organizzate con il Comune.",
        audience: "Alle famiglie residenti a Casamassima con figli dai 3 ai 14 anni.",
        how_to: "Quando l'avviso è aperto, presenta la domanda online dall'area personale indicando le settimane scelte.\n\nLa graduatoria tiene conto dell'ISEE e della condizione lavorativa dei genitori; l'esito è comunicato nell'area personale.",
        needed: "SPID o CIE del genitore.\n\nIl codice fiscale del minore.\n\nL'attestazione ISEE, per le riduzioni.\n\nLe eventuali certificazioni su allergie, intolleranze o bisogni educativi speciali.",
        achieved: "Il posto nel centro estivo per le settimane assegnate.",
        times: "Le domande si presentano entro la scadenza dell'avviso; le attività si svolgono tra la fine delle lezioni e la fine di luglio.",
        costs: Some(
            "Quota settimanale a fasce ISEE (per esempio da 20,00 € a 60,00 € a settimana: importi indicativi, verificare); i contributi statali o regionali, quando assegnati, riducono la quota.",
        ),
        access: "Online dall'area personale con SPID o CIE, quando l'avviso è aperto.",
        online: Some("/area-personale/centri-estivi"),
        conditions: "I posti sono limitati e l'ammissione segue la graduatoria. I minori con disabilità hanno diritto al supporto educativo necessario.",
        topics: &["Tempo libero", "Sport"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Anagrafe,
        slug: "albo-scrutatori",
        category: ServiceCategory::AnagrafeStatoCivile,
        title: "Iscriversi all'albo degli scrutatori di seggio",
        inactive: None,
        summary: "Chiedi di essere inserito nell'albo delle persone idonee a svolgere la funzione di scrutatore nei seggi elettorali.",
        audience: "Agli elettori iscritti nelle liste elettorali di Casamassima che hanno assolto gli obblighi scolastici e non si trovano in una condizione di incompatibilità: per esempio dipendenti dei Ministeri dell'Interno e dei Trasporti e delle Poste, appartenenti alle forze armate in servizio, medici di sanità pubblica, segretari comunali e dipendenti addetti agli uffici elettorali, candidati.",
        how_to: "Presenta la domanda online dall'area personale o all'ufficio elettorale entro il 30 novembre, dopo l'avviso pubblicato ogni anno a ottobre.\n\nLa Commissione elettorale comunale esamina le domande e aggiorna l'albo nel mese di gennaio.",
        needed: "Un documento d'identità e il titolo di studio posseduto.",
        achieved: "L'iscrizione nell'albo unico degli scrutatori. In occasione delle elezioni la Commissione elettorale nomina gli scrutatori tra gli iscritti; chi è nominato riceve l'onorario previsto dalla legge.",
        times: "Domande entro il 30 novembre; l'albo è aggiornato entro il mese di gennaio. L'iscrizione resta valida finché non chiedi la cancellazione, entro il mese di dicembre.",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure all'ufficio elettorale.",
        online: Some("/area-personale/albo-scrutatori"),
        conditions: "Chi, nominato, non si presenta al seggio senza giustificato motivo è soggetto alle sanzioni previste dalla legge elettorale e può essere cancellato dall'albo.",
        topics: &["Elezioni"],
        audience_type: "cittadini",
    },
];

static CASAMASSIMA_FAQS: &[(&str, &str)] = &[
    (
        "Dove si trova il Municipio di Casamassima?",
        "Il Municipio è in Piazza Aldo Moro, 2. Gli orari di ciascun ufficio sono indicati nella sua pagina, nella sezione Amministrazione > Uffici; per molti servizi è consigliato prenotare un appuntamento.",
    ),
    (
        "Come iscrivo mio figlio allo scuolabus?",
        "Con il servizio «Iscriversi al trasporto scolastico», dall'area personale, nel periodo indicato dall'avviso annuale (di norma entro luglio). Scegli la fermata più vicina a casa: prima dell'inizio delle lezioni ricevi fermata e orari.",
    ),
];

static CASAMASSIMA_STREETS: &[&str] = &[
    "Piazza Aldo Moro",
    "Corso Umberto I",
    "Corso Vittorio Emanuele II",
    "Via Roma",
    "Via Bari",
    "Via Noicattaro",
    "Via Sammichele",
    "Via Turi",
    "Via Acquaviva",
    "Via Adelfia",
    "Via Gioia del Colle",
    "Via Rutigliano",
    "Via Capurso",
    "Via Cellamare",
    "Via Conversano",
    "Via Valenzano",
    "Via Giuseppe Garibaldi",
    "Via Giuseppe Mazzini",
    "Via Camillo Benso di Cavour",
    "Via Dante Alighieri",
    "Via Alessandro Manzoni",
    "Via Giacomo Leopardi",
    "Via Ugo Foscolo",
    "Via Giovanni Pascoli",
    "Via Luigi Pirandello",
    "Via Giuseppe Verdi",
    "Via Vincenzo Bellini",
    "Via Niccolò Piccinni",
    "Via Saverio Mercadante",
    "Via Giacomo Matteotti",
    "Via Antonio Gramsci",
    "Via Giuseppe Di Vittorio",
    "Via Don Luigi Sturzo",
    "Via Alcide De Gasperi",
    "Via Sandro Pertini",
    "Via Luigi Einaudi",
    "Via Vittorio Veneto",
    "Via XX Settembre",
    "Via XXIV Maggio",
    "Via IV Novembre",
    "Via 25 Aprile",
    "Via Trieste",
    "Via Trento",
    "Via Gorizia",
    "Via Piave",
    "Via Monte Grappa",
    "Via Milano",
    "Via Torino",
    "Via Napoli",
    "Via Firenze",
    "Via Venezia",
    "Via Puglia",
    "Via Lucania",
    "Via Calabria",
    "Via Sicilia",
    "Via Sardegna",
    "Via San Francesco d'Assisi",
    "Via San Giovanni Bosco",
    "Via Papa Giovanni XXIII",
    "Via Padre Pio",
    "Via Giovanni Falcone",
    "Via Paolo Borsellino",
    "Via Cristoforo Colombo",
    "Via Guglielmo Marconi",
    "Via Galileo Galilei",
    "Via Enrico Fermi",
    "Via Leonardo da Vinci",
    "Via Michelangelo Buonarroti",
    "Via Tommaso Fiore",
    "Via Giuseppe Di Vagno",
    "Via delle Murge",
    "Via Santa Chiara",
    "Vico Castello",
];

// ---------------------------------------------------------------------------
// Acquaviva delle Fonti
// ---------------------------------------------------------------------------

static ACQUAVIVA: ComuneSpec = ComuneSpec {
    slug: "acquaviva",
    name: "Comune di Acquaviva delle Fonti",
    short_name: "Acquaviva delle Fonti",
    catastale: "A048",
    istat: "072001",
    ipa: "c_a048",
    codice_fiscale: "80002260729",
    pec: "protocollo@pec.comune.acquaviva-delle-fonti.ba.it",
    email: "urp@comune.acquaviva-delle-fonti.ba.it",
    phone: "080 000 0200",
    street: "Piazza dei Martiri del 1799, 1",
    cap: "70021",
    province: "BA",
    region: "Puglia",
    population: 20_000,
    hostnames: &["comune.acquaviva-delle-fonti.ba.it", "acquaviva.localhost"],
    logo_svg: LOGO_ACQUAVIVA,
    accessibility_url: "https://form.agid.gov.it/view/00000000-0000-4000-8000-00000000a048",
    is_default: false,
    offices: ACQUAVIVA_OFFICES,
    roles: acquaviva_role,
    services: ACQUAVIVA_SERVICES,
    faqs: ACQUAVIVA_FAQS,
    streets: ACQUAVIVA_STREETS,
};

fn acquaviva_role(role: Role) -> &'static str {
    match role {
        Role::Anagrafe => "servizi-demografici",
        Role::Tributi => "tributi",
        Role::Sociali => "servizi-sociali",
        Role::Scuola => "pubblica-istruzione",
        Role::Tecnico => "area-tecnica",
        Role::Polizia => "polizia-locale",
        Role::Suap => "suap",
        Role::Urp => "protocollo-urp",
    }
}

/// Our own drawing: a green shield crossed by three silver waves (the "acqua
/// viva" of the name) and the initials. Not the official stemma.
const LOGO_ACQUAVIVA: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 140" width="120" height="140" role="img" aria-labelledby="stemma-acquaviva-title"><title id="stemma-acquaviva-title">Stemma stilizzato del Comune di Acquaviva delle Fonti (disegno dimostrativo)</title><path d="M8 8 H112 V70 C112 104 88 124 60 134 C32 124 8 104 8 70 Z" fill="#2e7d4f" stroke="#16402a" stroke-width="4"/><path d="M14 86 Q26 78 38 86 T62 86 T86 86 T106 86 M18 98 Q30 90 42 98 T66 98 T90 98 T102 98 M26 110 Q38 102 50 110 T74 110 T94 110" fill="none" stroke="#e8f1f8" stroke-width="4" stroke-linecap="round"/><text x="60" y="64" text-anchor="middle" font-family="'Titillium Web', Arial, sans-serif" font-size="40" font-weight="700" fill="#ffffff">AF</text></svg>"##;

static ACQUAVIVA_OFFICES: &[OfficeSpec] = &[
    OfficeSpec {
        slug: "servizi-demografici",
        name: "Servizi demografici",
        description: "Anagrafe, stato civile, elettorale e leva di {comune}. Rilascia carte d'identità elettroniche e certificati, registra residenze e cambi di abitazione, riceve le dichiarazioni di stato civile e il deposito delle disposizioni anticipate di trattamento (DAT), aggiorna le liste elettorali e gli albi di seggio.",
        email: "demografici@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("demografici@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0201",
        opening_hours: "Dal lunedì al venerdì 8:30–12:00; martedì e giovedì anche 15:30–17:30. Carte d'identità e DAT solo su appuntamento.",
    },
    OfficeSpec {
        slug: "tributi",
        name: "Ufficio Entrate e tributi",
        description: "Gestisce IMU, TARI e canone unico patrimoniale: dichiarazioni, avvisi di pagamento, rimborsi, rateizzazioni, accertamenti e riesami in autotutela. Offre assistenza per il calcolo dell'IMU.",
        email: "tributi@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("tributi@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0202",
        opening_hours: "Lunedì e mercoledì 9:00–12:00; martedì 15:30–17:30. Nei mesi di giugno e dicembre apertura straordinaria anche il venerdì mattina.",
    },
    OfficeSpec {
        slug: "protocollo-urp",
        name: "Protocollo e Ufficio relazioni con il pubblico",
        description: "Registra nel protocollo informatico i documenti in arrivo e li assegna agli uffici; informa e orienta i cittadini sui servizi del Comune, raccoglie segnalazioni, reclami e suggerimenti e gestisce le richieste di accesso agli atti e di accesso civico.",
        email: "urp@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("protocollo@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0203",
        opening_hours: "Dal lunedì al venerdì 9:00–12:30; martedì e giovedì anche 15:30–17:30.",
    },
    OfficeSpec {
        slug: "servizi-sociali",
        name: "Servizi sociali",
        description: "Segretariato sociale e servizio sociale professionale: sostegno a persone e famiglie in difficoltà, anziani, minori e persone con disabilità, in collaborazione con l'Ambito territoriale sociale. Gestisce assegni di maternità, contributi per l'affitto e altre misure di sostegno al reddito.",
        email: "servizisociali@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("servizisociali@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0204",
        opening_hours: "Martedì e venerdì 9:00–12:00; giovedì 15:30–17:30. Colloqui con l'assistente sociale su appuntamento.",
    },
    OfficeSpec {
        slug: "pubblica-istruzione",
        name: "Pubblica istruzione, cultura e sport",
        description: "Cura i servizi per il diritto allo studio (mensa scolastica, contributi per i libri di testo), i rapporti con le scuole, la concessione di sale e spazi comunali e il sostegno alle iniziative culturali e sportive delle associazioni.",
        email: "istruzione@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("istruzione@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0205",
        opening_hours: "Lunedì, mercoledì e venerdì 9:00–12:00; mercoledì anche 15:30–17:30.",
    },
    OfficeSpec {
        slug: "area-tecnica",
        name: "Area tecnica: urbanistica, edilizia e lavori pubblici",
        description: "Pianificazione urbanistica, edilizia privata, certificati di destinazione urbanistica, lavori pubblici e manutenzioni, gestione dell'elenco degli operatori economici per gli affidamenti.",
        email: "areatecnica@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("areatecnica@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0206",
        opening_hours: "Martedì 9:00–12:00 e 15:30–17:30; giovedì 9:00–12:00. Ricevimento dei tecnici su appuntamento.",
    },
    OfficeSpec {
        slug: "polizia-locale",
        name: "Polizia locale",
        description: "Polizia stradale, sicurezza urbana, polizia amministrativa e commerciale, rilievo degli incidenti, accertamenti anagrafici. Rilascia i permessi per la zona a traffico limitato, i contrassegni per persone con disabilità e le concessioni temporanee di suolo pubblico.",
        email: "polizialocale@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("poliziamunicipale@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0207",
        opening_hours: "Sportello dal lunedì al sabato 8:30–12:30. Pattuglie in servizio tutti i giorni; per le emergenze chiamare il 112.",
    },
    OfficeSpec {
        slug: "suap",
        name: "SUAP e attività produttive",
        description: "Sportello unico per le attività produttive: riceve per via telematica le pratiche di commercio, artigianato, pubblici esercizi e agricoltura, e gestisce mercati, fiere e posteggi su aree pubbliche.",
        email: "suap@comune.acquaviva-delle-fonti.ba.it",
        pec: Some("suap@pec.comune.acquaviva-delle-fonti.ba.it"),
        phone: "080 000 0208",
        opening_hours: "Martedì e giovedì 9:00–12:00, su appuntamento. Le pratiche si presentano solo online.",
    },
];

static ACQUAVIVA_SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        role: Role::Polizia,
        slug: "permesso-ztl",
        category: ServiceCategory::MobilitaTrasporti,
        title: "Richiedere il permesso per la ZTL del centro storico",
        inactive: None,
        summary: "Richiedi il permesso per entrare con il veicolo nella zona a traffico limitato del centro storico di Acquaviva delle Fonti.",
        audience: "Ai residenti e ai domiciliati nella ZTL, ai titolari di attività con sede nella zona, a chi dispone di un posto auto privato all'interno, ai medici in visita domiciliare e a chi assiste familiari non autosufficienti che vi abitano.",
        how_to: "Presenta la domanda online dall'area personale indicando la categoria di permesso e fino a due targhe.\n\nIl permesso è digitale: la targa viene inserita nell'elenco dei veicoli autorizzati ai varchi elettronici, senza contrassegno cartaceo.\n\nPer gli accessi occasionali (carico e scarico, traslochi, ospiti) comunica la targa nei termini indicati dall'ordinanza sulla ZTL.",
        needed: "Un documento d'identità e la carta di circolazione dei veicoli.\n\nIl titolo che dà diritto al permesso: residenza o domicilio, contratto di locazione o proprietà del posto auto, visura camerale dell'attività, attestazione del medico o della condizione di assistenza.",
        achieved: "L'autorizzazione al transito e, dove previsto, alla sosta nella ZTL per i veicoli indicati, per il periodo richiesto.",
        times: "Il permesso è attivato entro 10 giorni lavorativi dalla domanda completa. I permessi dei residenti durano 2 anni e si rinnovano online prima della scadenza.",
        costs: Some(
            "Diritti di istruttoria per il rilascio (per esempio 10,00 € per i residenti: importo indicativo, verificare), pagabili con pagoPA. Per i titolari di contrassegno disabili il permesso è gratuito.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello della Polizia locale.",
        online: Some("/area-personale/permesso-ztl"),
        conditions: "Il transito non autorizzato attraverso i varchi attivi è sanzionato dall'articolo 7 del Codice della strada. Ogni cambio di targa o dei requisiti va comunicato subito; il permesso decade quando i requisiti vengono meno.",
        topics: &["ZTL", "Mobilità sostenibile"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Suap,
        slug: "vendita-diretta-prodotti-agricoli",
        category: ServiceCategory::AgricolturaPesca,
        title: "Comunicare la vendita diretta dei prodotti agricoli",
        inactive: None,
        summary: "Comunica al Comune l'avvio della vendita diretta dei prodotti della tua azienda agricola, in forma itinerante, su aree pubbliche o in locali aperti al pubblico.",
        audience: "Agli imprenditori agricoli, singoli o associati, iscritti nel Registro delle imprese, che vendono direttamente prodotti provenienti in prevalenza dalla propria azienda (articolo 4 del decreto legislativo 228/2001).",
        how_to: "Presenta la comunicazione al SUAP tramite il portale impresainungiorno.gov.it, firmata digitalmente, indicando i prodotti, le modalità di vendita e, per la vendita in locali aperti al pubblico, l'indirizzo dei locali.\n\nPer vendere su un posteggio nei mercati serve anche la concessione del posteggio.",
        needed: "Firma digitale e PEC dell'impresa.\n\nGli estremi dell'iscrizione nel Registro delle imprese.\n\nLa dichiarazione di non avere riportato le condanne che impediscono l'attività.\n\nPer i prodotti alimentari, la notifica sanitaria ai fini della registrazione (Regolamento CE 852/2004).",
        achieved: "Il diritto di vendere direttamente i tuoi prodotti dalla data di invio della comunicazione, senza un'ulteriore autorizzazione commerciale.",
        times: "La vendita può iniziare dalla data di invio della comunicazione. Il Comune può svolgere controlli sui requisiti in qualsiasi momento.",
        costs: Some(
            "Diritti di istruttoria SUAP secondo la tariffa comunale (importo indicativo, verificare) e imposta di bollo assolta in modo virtuale sul portale.",
        ),
        access: "Solo online, sul portale SUAP impresainungiorno.gov.it con firma digitale. Per informazioni puoi rivolgerti allo sportello SUAP su appuntamento.",
        online: None,
        conditions: "Se i ricavi della vendita di prodotti non provenienti dalla propria azienda superano i limiti fissati dall'articolo 4, comma 8, del decreto legislativo 228/2001, si applicano le norme generali sul commercio (decreto legislativo 114/1998).",
        topics: &["Agricoltura", "Prodotti alimentari"],
        audience_type: "imprese",
    },
    ServiceSpec {
        role: Role::Scuola,
        slug: "contributo-libri-di-testo",
        category: ServiceCategory::EducazioneFormazione,
        title: "Richiedere il contributo per i libri di testo",
        inactive: None,
        summary: "Chiedi il rimborso, totale o parziale, della spesa per i libri di testo degli studenti delle scuole secondarie.",
        audience: "Ai genitori degli studenti residenti ad Acquaviva delle Fonti iscritti alle scuole secondarie di primo e di secondo grado, statali o paritarie, con ISEE entro la soglia fissata dalla Regione Puglia (negli ultimi avvisi 10.632,94 €: importo indicativo, verificare).",
        how_to: "Quando la Regione e il Comune pubblicano l'avviso, presenta la domanda online dall'area personale indicando la scuola, la classe e la spesa sostenuta.\n\nIl Comune forma l'elenco degli aventi diritto e ripartisce i fondi assegnati dalla Regione.",
        needed: "SPID o CIE del genitore.\n\nL'attestazione ISEE in corso di validità.\n\nI dati dello studente e della scuola frequentata.\n\nI giustificativi della spesa (scontrini o fatture dei libri) e l'IBAN per l'accredito.",
        achieved: "Un contributo (buono libro) per la spesa dei libri di testo, la cui misura dipende dai fondi assegnati e dal numero delle domande (articolo 27 della legge 448/1998).",
        times: "Le domande si presentano nei termini dell'avviso, di norma tra settembre e novembre. Il contributo è pagato dopo il trasferimento dei fondi regionali.",
        costs: None,
        access: "Online dall'area personale con SPID o CIE; per assistenza all'ufficio Pubblica istruzione.",
        online: Some("/area-personale/libri-di-testo"),
        conditions: "Il contributo non è cumulabile con altri rimborsi per la stessa spesa. Il Comune controlla a campione le dichiarazioni ISEE e i giustificativi e recupera le somme non dovute.",
        topics: &["Istruzione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Anagrafe,
        slug: "disposizioni-anticipate-di-trattamento",
        category: ServiceCategory::AnagrafeStatoCivile,
        title: "Depositare le disposizioni anticipate di trattamento (DAT)",
        inactive: None,
        summary: "Consegna all'ufficio di stato civile le tue disposizioni anticipate di trattamento (il «testamento biologico») perché siano registrate.",
        audience: "Alle persone maggiorenni e capaci di intendere e di volere residenti ad Acquaviva delle Fonti che vogliono esprimere in anticipo le proprie volontà sui trattamenti sanitari, per il caso in cui non potessero più farlo (legge 219/2017).",
        how_to: "Scrivi le DAT, con data e firma; puoi nominare un fiduciario che ti rappresenti nei rapporti con i medici.\n\nPrenota un appuntamento e consegna le DAT personalmente all'ufficio di stato civile. L'ufficiale di stato civile non entra nel merito del contenuto: ne rilascia ricevuta e, se acconsenti, ne trasmette copia alla Banca dati nazionale delle DAT del Ministero della Salute.",
        needed: "Le DAT in originale, datate e firmate, in busta chiusa o aperta.\n\nUn documento d'identità.\n\nSe nomini un fiduciario, la sua accettazione firmata con copia del suo documento (può accettare anche in seguito).",
        achieved: "La ricevuta di deposito e la registrazione delle DAT. Puoi modificarle o revocarle in ogni momento, con le stesse forme.",
        times: "Il deposito avviene al momento, nel giorno dell'appuntamento.",
        costs: None,
        access: "Solo di persona, allo sportello dello stato civile, su appuntamento.",
        online: None,
        conditions: "Il deposito è gratuito: le DAT sono esenti dall'obbligo di registrazione, dall'imposta di bollo e da qualsiasi altro tributo (articolo 4, comma 6, della legge 219/2017). Il medico è tenuto a rispettarle, salvo i casi previsti dalla legge.",
        topics: &["Anagrafe"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Scuola,
        slug: "sale-e-spazi-comunali",
        category: ServiceCategory::CulturaTempoLibero,
        title: "Richiedere l'uso di sale e spazi comunali",
        inactive: None,
        summary: "Prenota sale e spazi del Comune per incontri, mostre, conferenze e iniziative culturali aperte al pubblico.",
        audience: "Ad associazioni, enti, scuole, partiti e gruppi, e ai cittadini che organizzano ad Acquaviva delle Fonti iniziative culturali, sociali o di interesse pubblico.",
        how_to: "Verifica le disponibilità e presenta la domanda online almeno 15 giorni prima dell'evento, indicando sala, date, orari, programma e numero previsto di partecipanti.\n\nDopo la concessione paghi la tariffa con pagoPA e concordi con l'ufficio la consegna delle chiavi e gli allestimenti.",
        needed: "I dati del richiedente e del responsabile dell'iniziativa.\n\nIl programma dell'evento ed eventualmente la richiesta di patrocinio.\n\nPer allestimenti e impianti propri, la copertura assicurativa e le dichiarazioni di conformità.",
        achieved: "La concessione d'uso della sala o dello spazio per le date richieste.",
        times: "L'ufficio risponde entro 10 giorni lavorativi dalla domanda completa.",
        costs: Some(
            "Tariffa giornaliera per sala stabilita dalla Giunta comunale (per esempio da 50,00 € a 150,00 € al giorno: importi indicativi, verificare), con riduzioni o esenzioni per le iniziative patrocinate dal Comune e per le scuole.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure all'ufficio Pubblica istruzione, cultura e sport.",
        online: Some("/area-personale/sale-comunali"),
        conditions: "Il concessionario risponde dei danni a persone e cose e deve restituire gli spazi in ordine. Non sono ammesse iniziative a scopo di lucro, salvo quanto previsto dal regolamento comunale.",
        topics: &["Tempo libero", "Associazioni"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Anagrafe,
        slug: "albo-presidenti-di-seggio",
        category: ServiceCategory::AnagrafeStatoCivile,
        title: "Iscriversi all'albo dei presidenti di seggio",
        inactive: None,
        summary: "Chiedi di essere inserito nell'albo delle persone idonee all'ufficio di presidente di seggio elettorale, tenuto dalla Corte d'appello di Bari.",
        audience: "Agli elettori di Acquaviva delle Fonti con diploma di scuola secondaria di secondo grado, che non abbiano superato i 70 anni di età e non si trovino in una delle condizioni di incompatibilità previste dalla legge.",
        how_to: "Presenta la domanda online dall'area personale o all'ufficio elettorale entro il 31 ottobre.\n\nIl Comune trasmette le domande alla Corte d'appello, che aggiorna l'albo (legge 53/1990).",
        needed: "Un documento d'identità, il titolo di studio e la professione.",
        achieved: "L'iscrizione nell'albo delle persone idonee all'ufficio di presidente di seggio. Le nomine sono fatte dal Presidente della Corte d'appello per ogni consultazione.",
        times: "Domande entro il 31 ottobre di ogni anno. L'iscrizione resta valida finché non chiedi la cancellazione.",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure all'ufficio elettorale dei Servizi demografici.",
        online: Some("/area-personale/albo-presidenti-seggio"),
        conditions: "Il presidente nominato che non si presenta senza giustificato motivo è punito con le sanzioni previste dalla legge elettorale. La rinuncia alla nomina è ammessa solo per gravi e documentati impedimenti.",
        topics: &["Elezioni"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Sociali,
        slug: "contributo-affitto",
        category: ServiceCategory::SaluteBenessereAssistenza,
        title: "Richiedere il contributo per il canone di locazione",
        inactive: Some(
            "Il bando di quest'anno è chiuso. Il servizio sarà riattivato con la pubblicazione del nuovo avviso, dopo il riparto dei fondi statali e regionali.",
        ),
        summary: "Chiedi un contributo per pagare l'affitto della casa in cui vivi, se il canone pesa troppo sul reddito della famiglia.",
        audience: "Ai titolari di un contratto di locazione registrato per un'abitazione non di lusso ad Acquaviva delle Fonti, residenti nell'alloggio, con reddito e ISEE entro i limiti dell'avviso (articolo 11 della legge 431/1998).",
        how_to: "Quando l'avviso è aperto, presenta la domanda online dall'area personale.\n\nIl Comune forma la graduatoria e ripartisce i fondi statali e regionali assegnati; l'esito è comunicato nell'area personale.",
        needed: "Il contratto di locazione registrato e le ricevute di pagamento dei canoni.\n\nL'attestazione ISEE in corso di validità.\n\nUn documento d'identità e, per i cittadini di Stati non UE, il titolo di soggiorno.\n\nL'IBAN per l'accredito.",
        achieved: "Un contributo annuale proporzionato al canone pagato, nei limiti dei fondi disponibili.",
        times: "Le domande si presentano entro la scadenza dell'avviso annuale. Il contributo è pagato dopo l'approvazione della graduatoria e il trasferimento dei fondi.",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS, quando l'avviso è aperto; per assistenza ai Servizi sociali.",
        online: Some("/area-personale/contributo-affitto"),
        conditions: "Il contributo non spetta a chi è titolare di diritti di proprietà su un alloggio adeguato alle esigenze della famiglia, nei casi indicati dall'avviso. Il Comune controlla le dichiarazioni e recupera le somme non dovute.",
        topics: &["Assistenza sociale"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Tecnico,
        slug: "elenco-operatori-economici",
        category: ServiceCategory::AppaltiPubblici,
        title: "Iscriversi all'elenco degli operatori economici",
        inactive: None,
        summary: "Iscrivi la tua impresa all'elenco da cui il Comune sceglie gli operatori da invitare agli affidamenti di lavori, servizi e forniture.",
        audience: "Alle imprese, ai professionisti e agli altri operatori economici che vogliono essere invitati alle procedure di affidamento del Comune di Acquaviva delle Fonti (decreto legislativo 36/2023).",
        how_to: "Accedi all'area riservata alle imprese, scegli le categorie di lavori, servizi o forniture che ti interessano e compila le dichiarazioni sul possesso dei requisiti.\n\nL'ufficio verifica la domanda e abilita l'operatore. L'iscrizione va aggiornata ogni volta che cambiano i dati dichiarati.",
        needed: "La firma digitale del legale rappresentante e la PEC dell'impresa.\n\nGli estremi dell'iscrizione alla Camera di commercio o all'albo professionale.\n\nLa dichiarazione sull'assenza delle cause di esclusione (articoli 94 e 95 del decreto legislativo 36/2023).\n\nPer i lavori, l'eventuale attestazione SOA.",
        achieved: "L'iscrizione nell'elenco per le categorie scelte. L'iscrizione non dà diritto a inviti o affidamenti: gli operatori sono scelti nel rispetto del principio di rotazione.",
        times: "La domanda è esaminata entro 30 giorni dalla presentazione completa. L'elenco è sempre aperto.",
        costs: None,
        access: "Solo online, dall'area personale dedicata alle imprese, con SPID, CIE o firma digitale del legale rappresentante.",
        online: Some("/area-personale/operatori-economici"),
        conditions: "Le dichiarazioni sono verificate al momento dell'affidamento. Le dichiarazioni false comportano l'esclusione, la segnalazione all'ANAC e le sanzioni penali previste dal DPR 445/2000.",
        topics: &["Imprese"],
        audience_type: "imprese",
    },
];

static ACQUAVIVA_FAQS: &[(&str, &str)] = &[
    (
        "Dove si trova la sede del Comune di Acquaviva delle Fonti?",
        "La sede del Comune è Palazzo De Mari, nel centro storico. L'indirizzo e gli orari di ciascun ufficio sono indicati nella sua pagina, nella sezione Amministrazione > Uffici; per molti servizi è consigliato prenotare un appuntamento.",
    ),
    (
        "Posso entrare in auto nel centro storico?",
        "Il centro storico è una zona a traffico limitato: possono entrare solo i veicoli autorizzati. Residenti, titolari di attività, medici e chi assiste familiari che vi abitano possono chiedere il permesso online con il servizio «Richiedere il permesso per la ZTL del centro storico». I titolari di contrassegno disabili possono far registrare la targa gratuitamente.",
    ),
];

static ACQUAVIVA_STREETS: &[&str] = &[
    "Piazza dei Martiri del 1799",
    "Piazza Vittorio Emanuele II",
    "Corso Vittorio Emanuele II",
    "Via Roma",
    "Via Bari",
    "Via Cassano",
    "Via Santeramo",
    "Via Gioia del Colle",
    "Via Sammichele",
    "Via Casamassima",
    "Via Adelfia",
    "Via Grumo",
    "Via Altamura",
    "Via Sant'Eustachio",
    "Via Maria Santissima di Costantinopoli",
    "Via Giuseppe Garibaldi",
    "Via Giuseppe Mazzini",
    "Via Cavour",
    "Via Dante Alighieri",
    "Via Francesco Petrarca",
    "Via Giovanni Boccaccio",
    "Via Torquato Tasso",
    "Via Ludovico Ariosto",
    "Via Giosuè Carducci",
    "Via Gabriele D'Annunzio",
    "Via Italo Svevo",
    "Via Grazia Deledda",
    "Via Giacomo Puccini",
    "Via Gioacchino Rossini",
    "Via Pietro Mascagni",
    "Via Umberto Giordano",
    "Via Aldo Moro",
    "Via Enrico Berlinguer",
    "Via Pietro Nenni",
    "Via Giacomo Matteotti",
    "Via Fratelli Rosselli",
    "Via Piero Gobetti",
    "Via Giovanni Amendola",
    "Via Benedetto Croce",
    "Via Gaetano Salvemini",
    "Via Giuseppe Di Vittorio",
    "Via 2 Giugno",
    "Via I Maggio",
    "Via XX Settembre",
    "Via Isonzo",
    "Via Carso",
    "Via Monte Sabotino",
    "Via Fiume",
    "Via Zara",
    "Via Genova",
    "Via Bologna",
    "Via Palermo",
    "Via Taranto",
    "Via Lecce",
    "Via Brindisi",
    "Via Foggia",
    "Via Matera",
    "Via Potenza",
    "Via Abruzzo",
    "Via Molise",
    "Via Campania",
    "Via Basilicata",
    "Via Madre Teresa di Calcutta",
    "Via Papa Giovanni Paolo II",
    "Via Don Tonino Bello",
    "Via Alessandro Volta",
    "Via Amerigo Vespucci",
    "Via Marco Polo",
    "Via Raffaello Sanzio",
    "Via Giotto",
    "Via Caravaggio",
    "Largo Seminario",
];

// ---------------------------------------------------------------------------
// Service cards shared by both comuni
// ---------------------------------------------------------------------------

static COMMON_SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        role: Role::Anagrafe,
        slug: "carta-identita-elettronica",
        category: ServiceCategory::AnagrafeStatoCivile,
        title: "Richiedere la carta d'identità elettronica (CIE)",
        inactive: None,
        summary: "Richiedi o rinnova la carta d'identità elettronica, il documento di riconoscimento che permette anche di accedere ai servizi online della pubblica amministrazione.",
        audience: "Ai cittadini italiani e stranieri residenti a {comune}, di qualsiasi età, che devono ottenere la prima carta d'identità o sostituirne una scaduta, in scadenza entro 180 giorni, deteriorata, smarrita o rubata.\n\nI cittadini italiani residenti all'estero (AIRE) possono rivolgersi al consolato competente. Per i cittadini stranieri la carta non è valida per l'espatrio.",
        how_to: "Prenota un appuntamento dall'area personale o dall'Agenda CIE del Ministero dell'Interno.\n\nIl giorno dell'appuntamento presentati di persona allo sportello con i documenti richiesti: l'operatore verifica i dati, acquisisce fotografia, impronte digitali e firma e registra l'eventuale consenso o diniego alla donazione di organi e tessuti.\n\nAl termine paghi il corrispettivo e ricevi la ricevuta della richiesta con la prima metà dei codici PIN e PUK; la seconda metà arriva insieme alla carta.\n\nPer i minori serve la presenza del minore e, per la validità all'espatrio, l'assenso di entrambi i genitori.",
        needed: "La carta d'identità precedente, oppure la denuncia di smarrimento o di furto presentata alle forze dell'ordine.\n\nUna fototessera recente a colori su sfondo chiaro, conforme agli standard ICAO.\n\nLa tessera sanitaria o il codice fiscale.\n\nPer i cittadini stranieri: passaporto o documento equipollente e permesso di soggiorno in corso di validità.\n\nPer i minori: la presenza dei genitori, o di uno di essi con l'assenso scritto dell'altro e la copia del suo documento.",
        achieved: "La carta d'identità elettronica, documento di riconoscimento valido in Italia e, per i cittadini italiani, documento di viaggio nei Paesi dell'Unione europea e in quelli che la riconoscono.\n\nLa CIE vale 3 anni per i minori di 3 anni, 5 anni dai 3 ai 18 anni e 10 anni per i maggiorenni, e scade nel giorno del compleanno del titolare. Con la CIE e i codici PIN e PUK puoi accedere ai servizi online con CieID.",
        times: "La carta è stampata e spedita dall'Istituto Poligrafico e Zecca dello Stato entro 6 giorni lavorativi dalla richiesta, all'indirizzo indicato o al Comune.\n\nPuoi chiedere il rinnovo a partire da 180 giorni prima della scadenza.",
        costs: Some(
            "22,21 € in totale: 16,79 € di corrispettivo per lo Stato (stampa e spedizione) e 5,42 € di diritti fissi e di segreteria del Comune. Per il duplicato in caso di smarrimento o deterioramento i diritti comunali sono più alti. Importi indicativi, verificare allo sportello. Si paga con pagoPA o con carta di pagamento allo sportello.",
        ),
        access: "Il servizio si svolge solo allo sportello, su appuntamento: prenota dall'area personale o dall'Agenda CIE del Ministero dell'Interno.",
        online: None,
        conditions: "La richiesta richiede la presenza della persona interessata, perché fotografia, impronte e firma sono acquisite allo sportello. Chi dichiara il falso è punito ai sensi degli articoli 75 e 76 del DPR 445/2000.",
        topics: &["Anagrafe"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Anagrafe,
        slug: "certificati-anagrafici",
        category: ServiceCategory::AnagrafeStatoCivile,
        title: "Richiedere un certificato anagrafico",
        inactive: None,
        summary: "Scarica subito online i certificati anagrafici (residenza, stato di famiglia, nascita e altri) con sigillo elettronico verificabile.",
        audience: "Online: ai residenti a {comune}, per sé e per i componenti della propria famiglia anagrafica.\n\nAllo sportello: a chiunque ne abbia bisogno, anche per i certificati di altre persone residenti, nei limiti previsti dalla legge.\n\nDal 1° gennaio 2012 i certificati non possono essere presentati alle pubbliche amministrazioni e ai gestori di pubblici servizi: con loro si usa l'autocertificazione (articolo 46 del DPR 445/2000). Il certificato serve nei rapporti tra privati, per esempio con banche, notai o assicurazioni.",
        how_to: "Accedi all'area personale con SPID, CIE o eIDAS, scegli il tipo di certificato, la persona a cui si riferisce e l'uso (in bollo o in esenzione), paga l'eventuale imposta di bollo con pagoPA e scarica il PDF.\n\nIn alternativa presentati allo sportello dei Servizi demografici con un documento di riconoscimento.",
        needed: "Per il servizio online: SPID, CIE o un'identità eIDAS.\n\nPer lo sportello: un documento di riconoscimento e i dati della persona a cui si riferisce il certificato.\n\nPer un certificato in bollo: il pagamento dell'imposta di bollo; per un certificato esente: la norma che prevede l'esenzione.",
        achieved: "Un certificato in formato PDF/A con sigillo elettronico e codice QR: chiunque può verificarne gratuitamente l'autenticità nella pagina Verifica del sito.\n\nSono disponibili, tra gli altri, i certificati di residenza, stato di famiglia, cittadinanza, esistenza in vita, nascita e stato civile, il certificato contestuale e lo storico di residenza.\n\nI certificati di stati che possono cambiare (residenza, stato di famiglia, cittadinanza, esistenza in vita, stato civile) valgono 6 mesi dal rilascio (articolo 41 del DPR 445/2000).",
        times: "Online il certificato è disponibile subito. Allo sportello è rilasciato al momento.",
        costs: Some(
            "Imposta di bollo di 16,00 € per i certificati in bollo, salvo i casi di esenzione previsti dalla legge, da indicare nella richiesta. Allo sportello si pagano anche i diritti di segreteria: 0,52 € per i certificati in bollo e 0,26 € per quelli in carta libera (importi indicativi, verificare). Online si paga con pagoPA.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS; oppure allo sportello dei Servizi demografici negli orari di apertura.",
        online: Some("/area-personale/certificati"),
        conditions: "Il servizio online rilascia certificati solo per il richiedente e per i componenti della sua famiglia anagrafica; per altre persone rivolgiti allo sportello. L'uso in esenzione dal bollo di un certificato che non ne ha diritto comporta le sanzioni previste dal DPR 642/1972.",
        topics: &["Anagrafe", "Residenza"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Anagrafe,
        slug: "cambio-di-residenza",
        category: ServiceCategory::AnagrafeStatoCivile,
        title: "Dichiarare il cambio di residenza o di abitazione",
        inactive: None,
        summary: "Comunica il trasferimento della residenza a {comune} da un altro comune o dall'estero, oppure il cambio di indirizzo all'interno del comune.",
        audience: "A chi si trasferisce a {comune} da un altro comune italiano o dall'estero, e a chi, già residente, cambia abitazione all'interno del comune.\n\nLa dichiarazione può essere resa da uno qualsiasi dei componenti maggiorenni della famiglia, per sé e per le persone che si trasferiscono con lui.",
        how_to: "Compila la dichiarazione online dall'area personale, indicando il nuovo indirizzo, le persone che si trasferiscono e il titolo per cui occupi l'abitazione.\n\nPuoi presentarla anche allo sportello, per raccomandata, per e-mail o per PEC, allegando la copia dei documenti d'identità di tutti i dichiaranti maggiorenni.\n\nDopo la registrazione la Polizia locale verifica che tu abiti effettivamente all'indirizzo dichiarato.",
        needed: "I documenti d'identità e i codici fiscali delle persone che si trasferiscono.\n\nI dati del titolo di occupazione dell'abitazione: proprietà, contratto di locazione o di comodato registrato, oppure dichiarazione di assenso del proprietario (articolo 5 del decreto-legge 47/2014).\n\nIl numero di patente e le targhe dei veicoli intestati, per l'aggiornamento automatico presso la Motorizzazione.\n\nPer i cittadini di Stati non UE: passaporto e permesso di soggiorno; per i cittadini UE: la documentazione sui requisiti di soggiorno prevista dal decreto legislativo 30/2007.",
        achieved: "L'iscrizione anagrafica o la registrazione del nuovo indirizzo, con effetto dalla data della dichiarazione. Il cambio è comunicato automaticamente, attraverso l'ANPR, agli altri enti, compresa la Motorizzazione per patente e carta di circolazione.",
        times: "La dichiarazione va resa entro 20 giorni dal trasferimento (articolo 13 del DPR 223/1989). L'ufficio la registra entro 2 giorni lavorativi dalla presentazione (articolo 18 del decreto-legge 5/2012).\n\nSe entro 45 giorni non ricevi una comunicazione di preavviso di rigetto, la residenza si intende confermata (silenzio-assenso).",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello dei Servizi demografici, per PEC o per raccomandata.",
        online: Some("/area-personale/cambio-di-residenza"),
        conditions: "La dichiarazione deve corrispondere alla situazione reale: se gli accertamenti danno esito negativo si ripristina la posizione anagrafica precedente. Chi dichiara il falso decade dai benefici ottenuti ed è punito ai sensi degli articoli 75 e 76 del DPR 445/2000. Non si può chiedere la residenza in un immobile occupato abusivamente (articolo 5 del decreto-legge 47/2014).",
        topics: &["Residenza", "Anagrafe"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Tributi,
        slug: "dichiarazione-tari",
        category: ServiceCategory::TributiFinanze,
        title: "Presentare la dichiarazione TARI",
        inactive: None,
        summary: "Dichiara l'inizio, la variazione o la cessazione dell'occupazione di un immobile ai fini della tassa sui rifiuti (TARI).",
        audience: "A chi occupa o detiene a qualsiasi titolo locali o aree scoperte a {comune} che possono produrre rifiuti urbani: famiglie (utenze domestiche) e attività economiche (utenze non domestiche).",
        how_to: "Compila la dichiarazione online dall'area personale indicando l'immobile, la data di inizio, variazione o cessazione, la superficie e, per le attività, il tipo di attività svolta.\n\nIn alternativa presentala all'Ufficio Tributi o inviala per PEC, firmata e con la copia del documento d'identità.",
        needed: "I dati catastali dell'immobile (foglio, particella, subalterno).\n\nLa superficie calpestabile dei locali e delle aree soggette.\n\nLa data di inizio o di fine dell'occupazione e il titolo (proprietà, locazione, comodato).\n\nPer le attività economiche: il codice ATECO e la partita IVA.\n\nPer le riduzioni: la documentazione che ne prova i requisiti, per esempio per il compostaggio domestico.",
        achieved: "L'iscrizione, la variazione o la cancellazione nella banca dati TARI. Ogni anno ricevi l'avviso di pagamento con gli importi dovuti e i codici pagoPA.",
        times: "La dichiarazione va presentata entro il 30 giugno dell'anno successivo a quello di inizio o di variazione dell'occupazione (articolo 1, comma 684, della legge 147/2013), salvo il termine più breve previsto dal regolamento comunale. Vale anche per gli anni successivi finché i dati non cambiano.",
        costs: Some(
            "La presentazione della dichiarazione è gratuita. La TARI dovuta si calcola con le tariffe approvate ogni anno dal Consiglio comunale; all'importo si aggiunge il tributo provinciale per l'esercizio delle funzioni ambientali (TEFA).",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, allo sportello dell'Ufficio Tributi o per PEC.",
        online: Some("/area-personale/istanze/dichiarazione-tari"),
        conditions: "La dichiarazione omessa o infedele comporta le sanzioni previste dall'articolo 1, commi 696 e 697, della legge 147/2013. Per le abitazioni dei residenti il numero degli occupanti è aggiornato automaticamente dai dati anagrafici.",
        topics: &["Tassa sui servizi", "Gestione rifiuti"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Tributi,
        slug: "imu-calcolo-e-pagamento",
        category: ServiceCategory::TributiFinanze,
        title: "Calcolare e pagare l'IMU",
        inactive: None,
        summary: "Calcola l'imposta municipale propria (IMU) dovuta sui tuoi immobili a {comune} e pagala con il modello F24 o con pagoPA.",
        audience: "Ai proprietari e ai titolari di diritti reali (usufrutto, uso, abitazione, enfiteusi, superficie) su fabbricati, aree fabbricabili e terreni agricoli situati a {comune}, e ai locatari finanziari.\n\nL'abitazione principale e le sue pertinenze non pagano l'IMU, salvo che siano di categoria catastale A/1, A/8 o A/9.",
        how_to: "Accedi all'area personale: il calcolatore propone gli immobili registrati, le aliquote deliberate per l'anno e l'importo dovuto per l'acconto e il saldo.\n\nPuoi pagare con il modello F24 (in banca, alla posta o con l'home banking) indicando il codice catastale del Comune, {catastale}, e il codice tributo, oppure con pagoPA.\n\nCodici tributo principali: 3912 abitazione principale di lusso e pertinenze, 3914 terreni, 3916 aree fabbricabili, 3918 altri fabbricati, 3925 fabbricati di categoria D (quota Stato), 3930 fabbricati di categoria D (quota Comune).",
        needed: "La rendita catastale degli immobili (dalla visura catastale) o il valore di mercato delle aree fabbricabili.\n\nLa quota e i mesi di possesso.\n\nLe aliquote approvate dal Comune per l'anno, già applicate dal calcolatore.",
        achieved: "Il calcolo dell'imposta dovuta e la ricevuta del pagamento. Per i fabbricati la base imponibile è la rendita catastale rivalutata del 5% e moltiplicata per il coefficiente della categoria (per esempio 160 per le abitazioni).",
        times: "Acconto entro il 16 giugno e saldo entro il 16 dicembre (articolo 1, comma 762, della legge 160/2019); puoi anche pagare tutto in un'unica soluzione entro il 16 giugno. Se la scadenza cade di sabato o in un giorno festivo, slitta al primo giorno lavorativo successivo.\n\nLa dichiarazione IMU, quando dovuta, si presenta entro il 30 giugno dell'anno successivo.",
        costs: Some(
            "L'imposta è dovuta secondo le aliquote deliberate ogni anno dal Consiglio comunale e pubblicate sul sito del Dipartimento delle finanze. Il calcolo online è gratuito e il pagamento con F24 non ha commissioni.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS; per assistenza allo sportello dell'Ufficio Tributi.",
        online: Some("/area-personale/tributi/imu"),
        conditions: "Chi paga in ritardo può regolarizzare spontaneamente con il ravvedimento operoso, versando una sanzione ridotta e gli interessi legali. Il Comune controlla i versamenti e notifica avvisi di accertamento per le somme non pagate.",
        topics: &["Imposte"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Scuola,
        slug: "iscrizione-mensa-scolastica",
        category: ServiceCategory::EducazioneFormazione,
        title: "Iscrivere un figlio alla mensa scolastica",
        inactive: None,
        summary: "Iscrivi tuo figlio al servizio di refezione delle scuole statali dell'infanzia e primarie di {comune} e gestisci il pagamento dei pasti.",
        audience: "Ai genitori e ai tutori degli alunni delle scuole statali dell'infanzia e delle classi a tempo pieno delle scuole primarie di {comune}.",
        how_to: "Nel periodo indicato dall'avviso annuale accedi all'area personale, compila la domanda indicando l'alunno, la scuola e la classe ed eventualmente chiedi una dieta speciale.\n\nDopo l'accettazione ricevi il codice utente: ricarichi il borsellino elettronico con pagoPA e il costo di ogni pasto consumato viene scalato automaticamente.\n\nLe assenze si segnalano dall'area personale entro l'orario indicato nel regolamento del servizio.",
        needed: "SPID o CIE del genitore che presenta la domanda.\n\nIl codice fiscale dell'alunno.\n\nL'attestazione ISEE in corso di validità, se chiedi una tariffa ridotta.\n\nIl certificato del pediatra o del medico per le diete sanitarie; una dichiarazione del genitore per le diete etico-religiose.",
        achieved: "L'iscrizione al servizio per l'intero anno scolastico, con il codice utente per ricariche e presenze e, se spetta, la tariffa ridotta in base all'ISEE.",
        times: "Le iscrizioni si presentano entro la scadenza dell'avviso annuale, di norma prima dell'inizio dell'anno scolastico. Il servizio segue il calendario scolastico, di solito da ottobre a maggio.",
        costs: Some(
            "Tariffa per pasto stabilita ogni anno dalla Giunta comunale a fasce ISEE (per esempio da 1,50 € a 3,50 € a pasto: importi indicativi, verificare l'avviso in vigore). Si paga con pagoPA.",
        ),
        access: "Online dall'area personale con SPID o CIE. Per assistenza rivolgiti all'ufficio che gestisce la pubblica istruzione.",
        online: Some("/area-personale/mensa-scolastica"),
        conditions: "L'iscrizione è subordinata alla regolarità dei pagamenti degli anni precedenti. I menù e le diete speciali seguono le indicazioni del Servizio igiene degli alimenti e nutrizione dell'ASL Bari.",
        topics: &["Istruzione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Polizia,
        slug: "contrassegno-disabili",
        category: ServiceCategory::MobilitaTrasporti,
        title: "Richiedere il contrassegno per persone con disabilità (CUDE)",
        inactive: None,
        summary: "Richiedi il contrassegno unificato disabili europeo, che consente di circolare e sostare negli spazi riservati e nelle zone a traffico limitato.",
        audience: "Alle persone residenti a {comune} con capacità di deambulazione impedita o sensibilmente ridotta e alle persone non vedenti (articolo 381 del DPR 495/1992), in modo permanente o temporaneo.",
        how_to: "Fai accertare i requisiti dall'Ufficio medico-legale dell'ASL, oppure usa il verbale della commissione di invalidità se indica espressamente il diritto al contrassegno.\n\nPresenta la domanda online dall'area personale o allo sportello della Polizia locale, anche tramite un familiare delegato.\n\nIl contrassegno va esposto in originale, ben visibile, sul parabrezza del veicolo al servizio della persona titolare.",
        needed: "La certificazione medica dell'ASL o il verbale di invalidità con l'indicazione dei requisiti.\n\nUna fototessera recente del titolare.\n\nUn documento d'identità del titolare e, se presenta la domanda un'altra persona, la delega con il documento del delegato.\n\nPer il rinnovo del contrassegno permanente: il certificato del medico curante che conferma la persistenza delle condizioni.",
        achieved: "Il contrassegno unificato disabili europeo (CUDE), valido in tutti i Paesi dell'Unione europea, personale e non legato a un veicolo. Il contrassegno permanente vale 5 anni; quello temporaneo vale per il periodo indicato dalla certificazione medica.\n\nSu richiesta, le targhe dei veicoli usati dal titolare sono registrate nella Piattaforma unica nazionale, per accedere alle ZTL di altri comuni.",
        times: "Il contrassegno è rilasciato entro 30 giorni dalla domanda completa. Il rinnovo va chiesto prima della scadenza.",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello della Polizia locale.",
        online: Some("/area-personale/contrassegno-disabili"),
        conditions: "Il rilascio è gratuito. Il contrassegno può essere usato solo quando il veicolo è al servizio della persona titolare; l'uso improprio è sanzionato dall'articolo 188 del Codice della strada e comporta il ritiro del contrassegno. In caso di decesso del titolare il contrassegno va restituito.",
        topics: &["Assistenza agli invalidi", "Parcheggi"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Urp,
        slug: "accesso-agli-atti",
        category: ServiceCategory::GiustiziaSicurezza,
        title: "Chiedere l'accesso agli atti e l'accesso civico",
        inactive: None,
        summary: "Chiedi di consultare o di avere copia di documenti, dati e informazioni del Comune di {comune}.",
        audience: "Accesso documentale (legge 241/1990): a chi ha un interesse diretto, concreto e attuale collegato al documento richiesto.\n\nAccesso civico semplice e generalizzato (decreto legislativo 33/2013): a chiunque, senza obbligo di motivazione.",
        how_to: "Compila la richiesta online dall'area personale indicando nel modo più preciso possibile i documenti o i dati che ti interessano e, per l'accesso documentale, il motivo.\n\nPuoi presentarla anche all'URP, per posta o per PEC.\n\nL'ufficio che detiene i documenti ti comunica l'esito; se ci sono controinteressati, li informa e attende le loro eventuali osservazioni.",
        needed: "Un documento d'identità (non serve se accedi con SPID, CIE o eIDAS).\n\nGli elementi che identificano i documenti: oggetto, numero, data, ufficio.\n\nPer l'accesso documentale: la motivazione e, se agisci per conto di altri, la delega o la procura.",
        achieved: "La visione dei documenti oppure la loro copia, digitale o cartacea, o i dati e le informazioni richieste. In caso di diniego, anche parziale, ricevi un provvedimento motivato.",
        times: "Il procedimento si conclude entro 30 giorni dalla richiesta (articolo 25 della legge 241/1990; articolo 5 del decreto legislativo 33/2013). I controinteressati hanno 10 giorni per presentare opposizione.\n\nContro il diniego o il silenzio sull'accesso civico puoi chiedere il riesame al Responsabile della prevenzione della corruzione e della trasparenza, che decide entro 20 giorni.",
        costs: Some(
            "La consultazione e le copie digitali sono gratuite. Per le copie cartacee si rimborsa il costo di riproduzione (per esempio 0,10 € a facciata A4: importo indicativo, verificare); le copie conformi all'originale sono soggette all'imposta di bollo.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure all'URP, per posta o per PEC.",
        online: Some("/area-personale/accesso-agli-atti"),
        conditions: "L'accesso può essere escluso o limitato nei casi previsti dall'articolo 24 della legge 241/1990 e dall'articolo 5-bis del decreto legislativo 33/2013, per esempio a tutela dei dati personali di altre persone.",
        topics: &["Accesso all'informazione", "Trasparenza amministrativa"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Suap,
        slug: "scia-esercizio-di-vicinato",
        category: ServiceCategory::ImpreseCommercio,
        title: "Aprire un negozio di vicinato (SCIA)",
        inactive: None,
        summary: "Presenta la segnalazione certificata di inizio attività (SCIA) per aprire, trasferire o ampliare un esercizio di vicinato a {comune}.",
        audience: "Alle imprese e ai singoli imprenditori che vogliono avviare, trasferire, ampliare o rilevare un esercizio di commercio al dettaglio in sede fissa con superficie di vendita fino a 250 metri quadrati (esercizio di vicinato nei comuni con più di 10.000 abitanti, articolo 4 del decreto legislativo 114/1998).",
        how_to: "Prepara la SCIA con gli allegati e presentala, firmata digitalmente, allo Sportello unico per le attività produttive (SUAP) tramite il portale impresainungiorno.gov.it, anche insieme alla comunicazione unica al Registro delle imprese.\n\nPuoi farti assistere da un intermediario (associazione di categoria, commercialista) con procura speciale.",
        needed: "La firma digitale e il domicilio digitale (PEC) dell'impresa.\n\nLa dichiarazione sul possesso dei requisiti morali e, per il settore alimentare, dei requisiti professionali (articolo 71 del decreto legislativo 59/2010).\n\nLa planimetria dei locali con l'indicazione della superficie di vendita e i dati sull'agibilità e sulla destinazione d'uso commerciale.\n\nPer il settore alimentare: la notifica sanitaria ai fini della registrazione (Regolamento CE 852/2004).",
        achieved: "Il diritto di avviare l'attività dalla data di presentazione della SCIA completa. Il SUAP rilascia la ricevuta e trasmette la pratica agli enti interessati (ASL, Camera di commercio).",
        times: "L'attività può iniziare subito. Entro 60 giorni il Comune verifica i requisiti e, se mancano, può vietare la prosecuzione dell'attività o chiedere di conformarsi (articolo 19 della legge 241/1990).",
        costs: Some(
            "Diritti di istruttoria SUAP secondo la tariffa comunale (per esempio 50,00 €: importo indicativo, verificare) e imposta di bollo di 16,00 € assolta in modo virtuale, oltre ai diritti dovuti agli altri enti coinvolti.",
        ),
        access: "Solo online, sul portale SUAP impresainungiorno.gov.it con firma digitale. Per informazioni puoi rivolgerti allo sportello SUAP su appuntamento.",
        online: None,
        conditions: "Le dichiarazioni false comportano il divieto di prosecuzione dell'attività e le sanzioni previste dall'articolo 19, comma 6, della legge 241/1990. Per superfici di vendita superiori a 250 metri quadrati servono le procedure per le medie e grandi strutture di vendita.",
        topics: &["Commercio al minuto", "Imprese"],
        audience_type: "imprese",
    },
    ServiceSpec {
        role: Role::Tecnico,
        slug: "certificato-di-destinazione-urbanistica",
        category: ServiceCategory::CatastoUrbanistica,
        title: "Richiedere il certificato di destinazione urbanistica (CDU)",
        inactive: None,
        summary: "Ottieni il certificato che indica le prescrizioni urbanistiche di un terreno, necessario per compravendite, successioni e divisioni.",
        audience: "Ai proprietari e ai titolari di diritti su terreni situati a {comune} e ai professionisti da loro incaricati, come notai e tecnici.",
        how_to: "Compila la richiesta online dall'area personale indicando foglio e particelle catastali, allega l'estratto di mappa e paga l'imposta di bollo e i diritti di segreteria con pagoPA.\n\nL'ufficio tecnico verifica le previsioni del piano urbanistico vigente e gli eventuali vincoli e rilascia il certificato.",
        needed: "Gli identificativi catastali dei terreni (foglio e particelle).\n\nL'estratto di mappa catastale aggiornato, con le particelle evidenziate.\n\nIl pagamento dell'imposta di bollo per la richiesta e per il certificato, salvo esenzioni, e dei diritti di segreteria.",
        achieved: "Il certificato di destinazione urbanistica dei terreni indicati (articolo 30 del DPR 380/2001). Il certificato vale un anno dal rilascio, se nel frattempo gli strumenti urbanistici non cambiano.",
        times: "Il certificato è rilasciato entro 30 giorni dalla richiesta (articolo 30, comma 3, del DPR 380/2001).",
        costs: Some(
            "Imposta di bollo di 16,00 € sulla richiesta e di 16,00 € sul certificato, salvo i casi di esenzione previsti dalla legge. Diritti di segreteria secondo la tariffa comunale, in base al numero di particelle (per esempio da 30,00 €: importo indicativo, verificare).",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello dell'ufficio tecnico su appuntamento.",
        online: Some("/area-personale/certificato-destinazione-urbanistica"),
        conditions: "Il certificato va allegato, a pena di nullità, agli atti di trasferimento o di costituzione di diritti reali su terreni (articolo 30, comma 2, del DPR 380/2001). Se non è rilasciato nei termini, può essere sostituito da una dichiarazione dell'alienante o di uno dei condividenti, come prevede il comma 4 dello stesso articolo.",
        topics: &["Urbanizzazione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Polizia,
        slug: "occupazione-suolo-pubblico",
        category: ServiceCategory::Autorizzazioni,
        title: "Richiedere l'occupazione temporanea di suolo pubblico",
        inactive: None,
        summary: "Chiedi l'autorizzazione a occupare temporaneamente strade, piazze o marciapiedi per lavori, traslochi, manifestazioni o tavolini all'aperto.",
        audience: "A cittadini, imprese e associazioni che devono occupare temporaneamente un'area pubblica di {comune}: ponteggi e cantieri, traslochi, banchetti, manifestazioni, tavolini e dehors dei pubblici esercizi.",
        how_to: "Presenta la domanda online dall'area personale, di norma almeno 15 giorni prima dell'occupazione, indicando luogo, superficie, date e motivo, con una planimetria dell'area.\n\nL'ufficio verifica la compatibilità con la circolazione e la sicurezza stradale e, se necessario, emette un'ordinanza di divieto di sosta o di transito.\n\nPrima dell'inizio dell'occupazione paghi il canone con pagoPA e scarichi la concessione dall'area personale.",
        needed: "Un documento d'identità del richiedente o i dati dell'impresa.\n\nLa planimetria o uno schizzo dell'area con le misure dell'occupazione.\n\nPer i cantieri: gli estremi del titolo edilizio e il nome dell'impresa esecutrice.\n\nIl pagamento dell'imposta di bollo sulla domanda e sulla concessione.",
        achieved: "La concessione per l'occupazione temporanea di suolo pubblico, da tenere sul posto durante l'occupazione, e l'eventuale ordinanza sulla circolazione.",
        times: "Il Comune risponde entro il termine previsto dal regolamento e comunque non oltre 30 giorni dalla domanda completa; le domande presentate in tempo sono decise prima della data richiesta.",
        costs: Some(
            "Imposta di bollo di 16,00 € sulla domanda e di 16,00 € sulla concessione. Canone unico patrimoniale (articolo 1, commi 816 e seguenti, della legge 160/2019), calcolato in base a superficie, durata e zona secondo le tariffe comunali: l'importo indicativo è mostrato al momento della domanda, verificare.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello della Polizia locale.",
        online: Some("/area-personale/occupazione-suolo-pubblico"),
        conditions: "L'occupazione senza concessione o oltre i limiti autorizzati è sanzionata dall'articolo 20 del Codice della strada e comporta il pagamento di un'indennità maggiorata. Al termine l'area va restituita pulita e integra.",
        topics: &["Urbanizzazione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Urp,
        slug: "segnalazione-disservizio",
        category: ServiceCategory::Ambiente,
        title: "Segnalare un disservizio",
        inactive: None,
        summary: "Segnala un guasto, un problema di manutenzione o un servizio comunale che non funziona: buche, illuminazione, rifiuti, verde pubblico.",
        audience: "A chiunque, residente o no, voglia segnalare al Comune di {comune} un problema su strade, illuminazione pubblica, verde, pulizia e raccolta dei rifiuti, segnaletica, oppure il cattivo funzionamento di un servizio comunale.",
        how_to: "Compila la segnalazione online: scegli la categoria, indica il luogo con l'indirizzo o sulla mappa, scrivi l'oggetto e una breve descrizione e allega, se puoi, fotografie o documenti.\n\nRicevi un numero di segnalazione e ne segui lo stato nell'area personale fino alla chiusura.\n\nPer emergenze e pericoli immediati chiama il 112 o la Polizia locale.",
        needed: "Il luogo del problema, una descrizione chiara e, se disponibili, fotografie.\n\nSe accedi con SPID, CIE o eIDAS i tuoi recapiti sono compilati automaticamente; senza accesso bastano nome, cognome ed e-mail per ricevere le risposte.",
        achieved: "La presa in carico della segnalazione da parte dell'ufficio competente e la comunicazione dell'esito dell'intervento.",
        times: "La segnalazione è presa in carico entro 3 giorni lavorativi e l'ufficio comunica l'esito entro 30 giorni. I tempi dell'intervento dipendono dal tipo di problema.",
        costs: None,
        access: "Online, anche senza autenticazione; con SPID, CIE o eIDAS puoi seguirla dall'area personale. Puoi segnalare anche per e-mail o di persona all'URP.",
        online: Some("/area-personale/istanze/segnalazione-disservizio"),
        conditions: "Le segnalazioni non sostituiscono le denunce all'autorità giudiziaria né le richieste di pronto intervento. Le segnalazioni offensive o prive di contenuto non sono prese in carico.",
        topics: &["Gestione rifiuti", "Urbanizzazione", "Spazio Verde"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Tecnico,
        slug: "autorizzazione-paesaggistica-semplificata",
        category: ServiceCategory::Autorizzazioni,
        title: "Richiedere l'autorizzazione paesaggistica semplificata",
        inactive: None,
        summary: "Chiedi l'autorizzazione paesaggistica con procedimento semplificato per gli interventi di lieve entità in aree vincolate (DPR 31/2017, Allegato B).",
        audience: "Ai proprietari, possessori o detentori di immobili in aree sottoposte a vincolo paesaggistico a {comune}, o ai tecnici che presentano la domanda per loro conto con procura, per gli interventi di lieve entità elencati nell'Allegato B al DPR 31/2017.",
        how_to: "Compila la domanda online dall'area personale: i tuoi dati sono già compilati, indichi l'immobile, il vincolo, l'intervento e il tecnico incaricato, alleghi la relazione paesaggistica semplificata, gli elaborati grafici e le fotografie.\n\nPuoi salvare la domanda come bozza e riprenderla quando vuoi. All'invio ricevi subito il numero di protocollo, il nome dell'ufficio e la data entro cui il procedimento deve concludersi.\n\nIl Comune può chiedere una sola volta, entro 10 giorni, le integrazioni necessarie; poi trasmette la proposta alla Soprintendenza, che si esprime entro 20 giorni.",
        needed: "La relazione paesaggistica semplificata (Allegato D al DPR 31/2017) firmata da un tecnico abilitato.\n\nGli elaborati grafici dell'intervento e la documentazione fotografica dello stato dei luoghi.\n\nI dati catastali dell'immobile e gli estremi del vincolo.\n\nLa procura speciale, se la domanda è presentata da un delegato.",
        achieved: "L'autorizzazione paesaggistica, valida 5 anni, oppure il provvedimento motivato di diniego. Il provvedimento è un documento informatico che scarichi dall'area personale.",
        times: "Il procedimento si conclude entro 60 giorni dal ricevimento della domanda (articolo 10 del DPR 31/2017). La richiesta di integrazioni sospende il termine. Il silenzio non vale come assenso: in materia paesaggistica è escluso (articolo 20, comma 4, della legge 241/1990).",
        costs: Some(
            "Imposta di bollo di 16,00 € sulla domanda e sul provvedimento, e diritti di istruttoria secondo la tariffa comunale (importi indicativi, verificare).",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS.",
        online: Some("/area-personale/istanze/autorizzazione-paesaggistica-semplificata"),
        conditions: "Le dichiarazioni false sono punite ai sensi degli articoli 75 e 76 del DPR 445/2000. Gli interventi dell'Allegato A al DPR 31/2017 non richiedono autorizzazione; quelli non compresi nell'Allegato B seguono il procedimento ordinario (articolo 146 del decreto legislativo 42/2004).",
        topics: &["Urbanizzazione", "Patrimonio culturale"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Urp,
        slug: "accesso-civico-semplice",
        category: ServiceCategory::Autorizzazioni,
        title: "Richiedere l'accesso civico semplice",
        inactive: None,
        summary: "Chiedi la pubblicazione di documenti, informazioni o dati che il Comune deve pubblicare in Amministrazione trasparente e non ha pubblicato.",
        audience: "A chiunque, senza dover motivare la richiesta (articolo 5, comma 1, del decreto legislativo 33/2013).",
        how_to: "Compila la richiesta online indicando i documenti, le informazioni o i dati che mancano in Amministrazione trasparente. Ricevi subito il numero di protocollo e segui la richiesta dall'area personale.",
        needed: "L'indicazione dei documenti, delle informazioni o dei dati di cui chiedi la pubblicazione.",
        achieved: "La pubblicazione di quanto richiesto in Amministrazione trasparente e la comunicazione del collegamento.",
        times: "Entro 30 giorni dalla richiesta (articolo 5, comma 6, del decreto legislativo 33/2013).",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS.",
        online: Some("/area-personale/istanze/accesso-civico-semplice"),
        conditions: "In caso di ritardo o mancata risposta puoi rivolgerti al titolare del potere sostitutivo.",
        topics: &["Trasparenza amministrativa", "Accesso all'informazione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Urp,
        slug: "accesso-civico-generalizzato",
        category: ServiceCategory::Autorizzazioni,
        title: "Richiedere l'accesso civico generalizzato (FOIA)",
        inactive: None,
        summary: "Chiedi dati e documenti del Comune ulteriori rispetto a quelli da pubblicare, nel rispetto dei limiti a tutela di interessi pubblici e privati.",
        audience: "A chiunque, senza dover motivare la richiesta (articolo 5, comma 2, del decreto legislativo 33/2013).",
        how_to: "Compila la richiesta online indicando i dati o i documenti che ti interessano. Se la richiesta riguarda altre persone (controinteressati), il Comune le informa e attende le loro eventuali opposizioni per 10 giorni.",
        needed: "L'indicazione, il più possibile precisa, dei dati o dei documenti richiesti.",
        achieved: "I dati o i documenti richiesti, oppure un provvedimento motivato di diniego totale o parziale.",
        times: "Entro 30 giorni dalla richiesta; il termine è sospeso per i 10 giorni concessi ai controinteressati (articolo 5, commi 5 e 6, del decreto legislativo 33/2013).",
        costs: Some(
            "Gratuito, salvo il rimborso del costo sostenuto per la riproduzione su supporti materiali.",
        ),
        access: "Online dall'area personale con SPID, CIE o eIDAS.",
        online: Some("/area-personale/istanze/accesso-civico-generalizzato"),
        conditions: "Contro il diniego o la mancata risposta puoi chiedere il riesame al responsabile della prevenzione della corruzione e della trasparenza.",
        topics: &["Trasparenza amministrativa", "Accesso all'informazione"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Urp,
        slug: "richiesta-assistenza",
        category: ServiceCategory::Autorizzazioni,
        title: "Richiedere assistenza",
        inactive: None,
        summary: "Chiedi aiuto all'Ufficio relazioni con il pubblico per usare un servizio del Comune o per una domanda che non trovi nelle FAQ.",
        audience: "A chiunque abbia bisogno di aiuto per usare i servizi del Comune di {comune}.",
        how_to: "Compila la richiesta online indicando il servizio e il problema. Ricevi una risposta per e-mail e la trovi nell'area personale.",
        needed: "Un indirizzo e-mail e la descrizione della richiesta.",
        achieved: "Una risposta dell'ufficio competente.",
        times: "Entro 30 giorni, di norma molto prima.",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS; oppure di persona o per telefono all'URP.",
        online: Some("/area-personale/istanze/richiesta-assistenza"),
        conditions: "Le richieste offensive o prive di contenuto non sono prese in carico.",
        topics: &["Comunicazione istituzionale"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Urp,
        slug: "istanza-generica",
        category: ServiceCategory::Autorizzazioni,
        title: "Presentare un'istanza al Comune",
        inactive: None,
        summary: "Invia al Comune una domanda, una comunicazione o un documento per cui non esiste un servizio online specifico: viene protocollata subito.",
        audience: "A cittadini, imprese e associazioni che devono presentare al Comune di {comune} un'istanza non prevista dagli altri servizi online.",
        how_to: "Scrivi l'oggetto e il testo dell'istanza, indica se vuoi l'ufficio destinatario e allega i documenti. All'invio ricevi il numero di protocollo.",
        needed: "Il testo dell'istanza e gli eventuali documenti, preferibilmente in PDF.",
        achieved: "La protocollazione dell'istanza e la sua assegnazione all'ufficio competente, che risponde entro i termini di legge.",
        times: "Il Comune risponde entro 30 giorni, salvo termini diversi previsti dalla legge per il tipo di richiesta (articolo 2 della legge 241/1990).",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS.",
        online: Some("/area-personale/istanze/istanza-generica"),
        conditions: "Le dichiarazioni false sono punite ai sensi degli articoli 75 e 76 del DPR 445/2000.",
        topics: &["Comunicazione istituzionale"],
        audience_type: "cittadini",
    },
    ServiceSpec {
        role: Role::Sociali,
        slug: "assegno-di-maternita",
        category: ServiceCategory::SaluteBenessereAssistenza,
        title: "Richiedere l'assegno di maternità dei Comuni",
        inactive: None,
        summary: "Chiedi il contributo per le madri senza indennità di maternità o con un'indennità di importo ridotto, per nascite, adozioni e affidamenti preadottivi.",
        audience: "Alle madri residenti a {comune}, cittadine italiane, dell'Unione europea o di Stati non UE con un titolo di soggiorno che dà diritto alla prestazione, che non ricevono l'indennità di maternità o la ricevono in misura inferiore all'assegno, con ISEE entro la soglia fissata ogni anno (articolo 74 del decreto legislativo 151/2001).",
        how_to: "Presenta la domanda online dall'area personale o allo sportello dei Servizi sociali entro 6 mesi dalla nascita o dall'ingresso del minore in famiglia.\n\nIl Comune verifica i requisiti e trasmette la concessione all'INPS, che paga l'assegno con bonifico sull'IBAN indicato.",
        needed: "L'attestazione ISEE in corso di validità, con il minore già compreso nel nucleo familiare.\n\nUn documento d'identità e, per le cittadine di Stati non UE, il titolo di soggiorno.\n\nL'IBAN di un conto intestato o cointestato alla richiedente.\n\nSe ricevi un'indennità di maternità inferiore all'assegno: la dichiarazione del datore di lavoro o dell'ente con l'importo percepito.",
        achieved: "Un assegno pagato dall'INPS in un'unica soluzione, pari a cinque mensilità dell'importo fissato ogni anno (per il 2025 circa 407 € al mese, con ISEE fino a circa 20.400 €: importi indicativi, verificare), oppure la differenza se ricevi già un'indennità di importo inferiore.",
        times: "La domanda va presentata entro 6 mesi dalla nascita o dall'ingresso in famiglia del minore adottato o in affidamento preadottivo. Il Comune comunica l'esito entro 30 giorni; il pagamento dell'INPS segue nei mesi successivi.",
        costs: None,
        access: "Online dall'area personale con SPID, CIE o eIDAS, oppure allo sportello dei Servizi sociali su appuntamento.",
        online: Some("/area-personale/assegno-di-maternita"),
        conditions: "L'assegno non spetta se la madre riceve già un trattamento di maternità di importo pari o superiore. Il Comune e l'INPS controllano le dichiarazioni ISEE; chi dichiara il falso deve restituire le somme ricevute ed è punito ai sensi del DPR 445/2000.",
        topics: &["Assistenza sociale", "Nascita"],
        audience_type: "cittadini",
    },
];

// ---------------------------------------------------------------------------
// FAQ shared by both comuni
// ---------------------------------------------------------------------------

static COMMON_FAQS: &[(&str, &str)] = &[
    (
        "Come accedo all'area personale?",
        "Con SPID, con la Carta d'identità elettronica (CieID) o, se sei cittadino di un altro Paese dell'Unione europea, con un'identità eIDAS. Usa il pulsante «Accedi all'area personale» in alto a destra in ogni pagina.\n\nNell'area personale trovi le tue pratiche con il loro stato, i pagamenti, i messaggi del Comune e i documenti rilasciati.",
    ),
    (
        "Devo presentare certificati a un altro ufficio pubblico?",
        "No. Dal 1° gennaio 2012 le pubbliche amministrazioni e i gestori di pubblici servizi non possono chiedere né accettare certificati: bastano le dichiarazioni sostitutive (autocertificazioni, articoli 46 e 47 del DPR 445/2000), che l'ufficio verifica direttamente.\n\nIl certificato serve invece nei rapporti con i privati, per esempio banche, notai e assicurazioni.",
    ),
    (
        "Come verifico che un certificato rilasciato dal Comune sia autentico?",
        "Ogni certificato rilasciato online porta un codice QR con sigillo elettronico. Apri la pagina Verifica del sito e inquadra il codice o carica il file PDF: la pagina indica se il documento è valido, scaduto, revocato o alterato. La verifica è gratuita e non richiede l'accesso.",
    ),
    (
        "Ho perso la carta d'identità: cosa devo fare?",
        "Denuncia lo smarrimento o il furto ai Carabinieri o alla Polizia di Stato, poi prenota un appuntamento all'anagrafe per chiedere una nuova carta d'identità elettronica, portando la denuncia, una fototessera e la tessera sanitaria. La nuova carta arriva entro 6 giorni lavorativi dalla richiesta.",
    ),
    (
        "Quando si paga l'IMU?",
        "L'acconto si paga entro il 16 giugno e il saldo entro il 16 dicembre; si può anche pagare tutto entro il 16 giugno. Sull'abitazione principale non si paga l'IMU, salvo le abitazioni di lusso (categorie A/1, A/8 e A/9). Nell'area personale trovi il calcolo con le aliquote del Comune di {comune}.",
    ),
    (
        "Come segnalo una buca, un lampione spento o rifiuti abbandonati?",
        "Con il servizio «Segnalare un disservizio», raggiungibile anche dal link «Segnala disservizio» a piè di pagina: indica il luogo sulla mappa o con l'indirizzo, descrivi il problema e allega una foto. Ricevi un numero per seguire la segnalazione. Per i pericoli immediati chiama il 112.",
    ),
    (
        "Come prenoto un appuntamento con un ufficio?",
        "Dalla pagina «Prenota appuntamento», raggiungibile dalla pagina Servizi, da ogni scheda servizio e dal piè di pagina: scegli l'ufficio, il giorno e l'orario tra quelli disponibili e indica il motivo. Ricevi una e-mail di conferma e puoi annullare l'appuntamento dall'area personale.",
    ),
    (
        "Cambio casa restando nello stesso comune: devo comunicarlo?",
        "Sì. Il cambio di abitazione si dichiara come il cambio di residenza, entro 20 giorni dal trasloco (articolo 13 del DPR 223/1989), online o allo sportello. L'indirizzo viene aggiornato anche su patente e carta di circolazione. Ricorda di presentare anche la dichiarazione TARI per la nuova abitazione.",
    ),
    (
        "Che cos'è l'accesso civico generalizzato?",
        "È il diritto di chiunque di chiedere dati e documenti del Comune, anche non pubblicati, senza dover motivare la richiesta (articolo 5 del decreto legislativo 33/2013). Il Comune risponde entro 30 giorni e può negare l'accesso solo per tutelare gli interessi pubblici o privati indicati dalla legge.",
    ),
    (
        "Come posso pagare i servizi comunali?",
        "Con pagoPA: online dall'area personale con carta o conto, oppure con il codice avviso presso banche, uffici postali, tabaccai e altri punti abilitati, anche dall'app IO. L'IMU si può pagare anche con il modello F24.",
    ),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn all() -> Vec<DemoComune> {
        comuni().expect("demo content parses")
    }

    #[test]
    fn vocabulary_has_the_64_model_terms() {
        assert_eq!(TOPICS.len(), 64);
        let unique: HashSet<&str> = TOPICS.iter().copied().collect();
        assert_eq!(unique.len(), 64);
    }

    #[test]
    fn both_comuni_parse_with_one_default() {
        let comuni = all();
        assert_eq!(comuni.len(), 2);
        assert_eq!(comuni[0].tenant.slug, "casamassima");
        assert_eq!(comuni[0].tenant.codice_catastale.as_str(), "B923");
        assert_eq!(comuni[0].tenant.codice_istat.as_str(), "072017");
        assert_eq!(comuni[0].tenant.address.cap.as_str(), "70010");
        assert_eq!(comuni[0].tenant.population, 19_200);
        assert_eq!(comuni[1].tenant.slug, "acquaviva");
        assert_eq!(comuni[1].tenant.codice_catastale.as_str(), "A048");
        assert_eq!(comuni[1].tenant.codice_istat.as_str(), "072001");
        assert_eq!(comuni[1].tenant.address.cap.as_str(), "70021");
        assert_eq!(comuni.iter().filter(|c| c.tenant.is_default).count(), 1);
        assert!(comuni[0].tenant.is_default);
        let mut hosts = HashSet::new();
        for c in &comuni {
            let t = &c.tenant;
            assert!(t.codice_fiscale.as_str().len() == 11);
            assert!(
                t.accessibility_url
                    .starts_with("https://form.agid.gov.it/view/")
            );
            let logo = t.logo_svg.as_deref().unwrap();
            assert!(logo.starts_with("<svg") && logo.ends_with("</svg>"));
            assert!(logo.contains("<title"));
            for h in &t.hostnames {
                assert_eq!(h, &h.to_lowercase());
                assert!(hosts.insert(h.clone()), "duplicate hostname {h}");
            }
            assert!(t.hostnames.iter().any(|h| h.starts_with("comune.")));
        }
    }

    #[test]
    fn offices_are_complete_and_unique() {
        for c in all() {
            assert!((6..=8).contains(&c.offices.len()), "{}", c.tenant.slug);
            let mut slugs = HashSet::new();
            for o in &c.offices {
                assert!(slugs.insert(o.slug.as_str()), "duplicate office {}", o.slug);
                for text in [&o.name, &o.description, &o.phone, &o.opening_hours] {
                    assert!(!text.trim().is_empty(), "office {}", o.slug);
                    assert!(!text.contains('{'), "unfilled placeholder in {}", o.slug);
                }
                assert!(o.phone.starts_with("080 000 "), "demo phone expected");
                assert!(o.email.is_some());
            }
        }
    }

    #[test]
    fn services_cover_the_catalogue() {
        for c in all() {
            let slug = &c.tenant.slug;
            assert!(
                c.services.len() >= 14,
                "{slug}: {} services",
                c.services.len()
            );
            let categories: HashSet<ServiceCategory> =
                c.services.iter().map(|s| s.service.category).collect();
            assert!(
                categories.len() >= 10,
                "{slug}: {} categories",
                categories.len()
            );
            let mut slugs = HashSet::new();
            let offices: HashSet<&str> = c.offices.iter().map(|o| o.slug.as_str()).collect();
            let mut inactive = 0;
            for ds in &c.services {
                let s = &ds.service;
                assert!(
                    slugs.insert(s.slug.as_str()),
                    "{slug}: duplicate service {}",
                    s.slug
                );
                assert!(
                    offices.contains(ds.office_slug),
                    "{slug}: office {}",
                    ds.office_slug
                );
                assert_eq!(s.office, OfficeId(0));
                for (name, text) in [
                    ("title", &s.title),
                    ("summary", &s.summary),
                    ("audience", &s.audience),
                    ("how_to", &s.how_to),
                    ("needed", &s.needed),
                    ("achieved", &s.achieved),
                    ("times", &s.times),
                    ("access", &s.access),
                    ("conditions", &s.conditions),
                    ("service_type", &s.service_type),
                    ("audience_type", &s.audience_type),
                ] {
                    assert!(text.trim().len() >= 3, "{slug}/{}: empty {name}", s.slug);
                    assert!(
                        !text.contains('{'),
                        "{slug}/{}: placeholder in {name}",
                        s.slug
                    );
                }
                assert!(
                    s.summary.chars().count() <= 200,
                    "{slug}/{}: summary too long",
                    s.slug
                );
                assert_eq!(s.service_type, s.category.label());
                assert!(["cittadini", "imprese"].contains(&s.audience_type.as_str()));
                if let Some(costs) = &s.costs {
                    assert!(costs.trim().len() >= 3);
                }
                if let Some(url) = &s.online_url {
                    assert!(url.starts_with("/area-personale/"), "{url}");
                }
                assert!(
                    (1..=3).contains(&s.topics.len()),
                    "{slug}/{}: topics",
                    s.slug
                );
                for t in &s.topics {
                    assert!(
                        TOPICS.contains(&t.as_str()),
                        "{slug}/{}: topic {t:?}",
                        s.slug
                    );
                }
                if let ServiceStatus::Inactive { reason } = &s.status {
                    inactive += 1;
                    assert!(reason.trim().len() >= 10);
                }
            }
            assert_eq!(inactive, 1, "{slug}: exactly one inactive service");
        }
    }

    #[test]
    fn paid_services_state_their_costs() {
        for c in all() {
            for ds in &c.services {
                let s = &ds.service;
                let paid = [&s.how_to, &s.needed, &s.access].iter().any(|t| {
                    t.contains("pagoPA") || t.contains("bollo") || t.contains("corrispettivo")
                });
                if paid {
                    assert!(s.costs.is_some(), "{}: paid but no costs", s.slug);
                }
            }
        }
    }

    #[test]
    fn the_two_comuni_differ() {
        let comuni = all();
        let slugs = |c: &DemoComune| -> HashSet<String> {
            c.services.iter().map(|s| s.service.slug.clone()).collect()
        };
        let (a, b) = (slugs(&comuni[0]), slugs(&comuni[1]));
        assert!(a.difference(&b).count() >= 4);
        assert!(b.difference(&a).count() >= 4);
        let offices = |c: &DemoComune| -> HashSet<String> {
            c.offices.iter().map(|o| o.slug.clone()).collect()
        };
        assert_ne!(offices(&comuni[0]), offices(&comuni[1]));
        assert_ne!(comuni[0].streets, comuni[1].streets);
        // The shared cards name their own comune.
        let cie = |c: &DemoComune| {
            c.services
                .iter()
                .find(|s| s.service.slug == "carta-identita-elettronica")
                .map(|s| s.service.audience.clone())
                .unwrap()
        };
        assert!(cie(&comuni[0]).contains("Casamassima"));
        assert!(cie(&comuni[1]).contains("Acquaviva delle Fonti"));
    }

    #[test]
    fn faqs_and_streets() {
        for c in all() {
            assert!((8..=12).contains(&c.faqs.len()), "{}", c.faqs.len());
            let positions: HashSet<i64> = c.faqs.iter().map(|f| f.position).collect();
            assert_eq!(positions.len(), c.faqs.len());
            for f in &c.faqs {
                assert!(f.question.ends_with('?'), "{}", f.question);
                assert!(f.answer.len() > 40);
                assert!(!f.answer.contains('{') && !f.question.contains('{'));
            }
            assert!(c.streets.len() >= 60);
            let unique: HashSet<&str> = c.streets.iter().copied().collect();
            assert_eq!(unique.len(), c.streets.len(), "duplicate street");
        }
    }
}
