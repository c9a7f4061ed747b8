//! The catalogue of the anagrafe certificates Palazzo issues online (issue
//! 5, part 2; `procedures.md` §3.4, ANA-01…ANA-05; DECISIONS 16–20): each
//! type with its title, the facts it certifies, its legal basis and its
//! validity; the sentence of L. 183/2011; the bollo and the uses exempt
//! from it, printed with their legal reference.

use jiff::civil::Date;

use crate::cbor::Value;
use crate::money::Cents;

/// The sentence every certificate must carry, on pain of nullity (DPR
/// 445/2000 art. 40 c. 02, added by L. 183/2011 art. 15; ANA-02).
pub const L183_SENTENCE: &str = "Il presente certificato non può essere prodotto agli organi \
della pubblica amministrazione o ai privati gestori di pubblici servizi.";

/// The imposta di bollo on a certificate (DPR 642/1972, Tariffa parte I
/// art. 4; €16.00 since D.L. 43/2013).
pub const BOLLO: Cents = Cents::from_cents(1600);

/// A certificate type of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TipoCertificato {
    /// Certificato di residenza.
    Residenza,
    /// Certificato di stato di famiglia.
    StatoFamiglia,
    /// Certificato contestuale di residenza e stato di famiglia (ANA-05).
    ResidenzaStatoFamiglia,
    /// Certificato anagrafico di nascita.
    Nascita,
    /// Certificato di cittadinanza italiana (not for foreigners).
    Cittadinanza,
    /// Certificato di esistenza in vita.
    EsistenzaInVita,
    /// Certificato di stato civile.
    StatoCivile,
    /// Certificato storico di residenza.
    StoricoResidenza,
}

/// How long a certificate is valid (DPR 445/2000 art. 41; DECISIONS 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validita {
    /// Six calendar months from the issue date: states that can change.
    SeiMesi,
    /// Unlimited: facts that cannot change (birth; the residences up to
    /// the certificate's date).
    Illimitata,
}

impl Validita {
    /// The last day of validity of a certificate issued on `issued`, or
    /// `None` when unlimited. Six calendar months, clamped to the end of a
    /// shorter month (31 August → 28/29 February).
    pub fn expires(self, issued: Date) -> Option<Date> {
        match self {
            Validita::SeiMesi => issued.checked_add(jiff::Span::new().months(6)).ok(),
            Validita::Illimitata => None,
        }
    }

    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            Validita::SeiMesi => "sei mesi dalla data di rilascio (DPR 445/2000, art. 41)",
            Validita::Illimitata => {
                "illimitata: attesta fatti non soggetti a modificazioni (DPR 445/2000, art. 41)"
            }
        }
    }
}

impl TipoCertificato {
    /// Every type, in the order of the catalogue page.
    pub const ALL: [TipoCertificato; 8] = [
        TipoCertificato::Residenza,
        TipoCertificato::StatoFamiglia,
        TipoCertificato::ResidenzaStatoFamiglia,
        TipoCertificato::Nascita,
        TipoCertificato::Cittadinanza,
        TipoCertificato::EsistenzaInVita,
        TipoCertificato::StatoCivile,
        TipoCertificato::StoricoResidenza,
    ];

    /// The code in URLs, the database and the seal's document type
    /// (DECISIONS 16, private claim key 2).
    pub fn code(self) -> &'static str {
        match self {
            TipoCertificato::Residenza => "residenza",
            TipoCertificato::StatoFamiglia => "stato_famiglia",
            TipoCertificato::ResidenzaStatoFamiglia => "residenza_stato_famiglia",
            TipoCertificato::Nascita => "nascita",
            TipoCertificato::Cittadinanza => "cittadinanza",
            TipoCertificato::EsistenzaInVita => "esistenza_in_vita",
            TipoCertificato::StatoCivile => "stato_civile",
            TipoCertificato::StoricoResidenza => "storico_residenza",
        }
    }

    /// The type for a code.
    pub fn from_code(code: &str) -> Option<TipoCertificato> {
        TipoCertificato::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The title printed on the certificate.
    pub fn title(self) -> &'static str {
        match self {
            TipoCertificato::Residenza => "Certificato di residenza",
            TipoCertificato::StatoFamiglia => "Certificato di stato di famiglia",
            TipoCertificato::ResidenzaStatoFamiglia => {
                "Certificato contestuale di residenza e stato di famiglia"
            }
            TipoCertificato::Nascita => "Certificato anagrafico di nascita",
            TipoCertificato::Cittadinanza => "Certificato di cittadinanza italiana",
            TipoCertificato::EsistenzaInVita => "Certificato di esistenza in vita",
            TipoCertificato::StatoCivile => "Certificato di stato civile",
            TipoCertificato::StoricoResidenza => "Certificato storico di residenza",
        }
    }

    /// What it certifies, in one sentence (the service card and the
    /// certificate's preamble).
    pub fn certifies(self) -> &'static str {
        match self {
            TipoCertificato::Residenza => "la residenza anagrafica nel Comune, con l'indirizzo",
            TipoCertificato::StatoFamiglia => {
                "la composizione della famiglia anagrafica, con i rapporti con l'intestatario"
            }
            TipoCertificato::ResidenzaStatoFamiglia => {
                "in un solo documento la residenza e la composizione della famiglia anagrafica"
            }
            TipoCertificato::Nascita => "la data e il luogo di nascita",
            TipoCertificato::Cittadinanza => "il possesso della cittadinanza italiana",
            TipoCertificato::EsistenzaInVita => "l'esistenza in vita alla data del rilascio",
            TipoCertificato::StatoCivile => {
                "lo stato civile (celibe o nubile, coniugato, vedovo, divorziato, unito civilmente)"
            }
            TipoCertificato::StoricoResidenza => {
                "gli indirizzi di residenza nel Comune nel tempo, fino alla data del rilascio"
            }
        }
    }

    /// The legal basis printed on the certificate.
    pub fn legal_basis(self) -> &'static str {
        match self {
            TipoCertificato::StoricoResidenza => {
                "DPR 30 maggio 1989, n. 223, artt. 33 e 35; DPR 28 dicembre 2000, n. 445"
            }
            _ => "DPR 30 maggio 1989, n. 223, art. 33; DPR 28 dicembre 2000, n. 445",
        }
    }

    /// Its validity (DECISIONS 17: the storico certifies residences up to
    /// its date, which cannot change).
    pub fn validity(self) -> Validita {
        match self {
            TipoCertificato::Nascita | TipoCertificato::StoricoResidenza => Validita::Illimitata,
            _ => Validita::SeiMesi,
        }
    }

    /// Whether the type is always exempt from bollo whatever the use, with
    /// the reason printed: civil-status certificates are (L. 405/1990
    /// art. 7; procedures.md §3.4).
    pub fn always_exempt(self) -> Option<&'static Esenzione> {
        match self {
            TipoCertificato::Nascita => ESENZIONI.iter().find(|e| e.code == "stato_civile"),
            _ => None,
        }
    }

    /// Whether the type may be issued to a person of `italian` citizenship
    /// or not (the certificate of Italian citizenship is not issued to
    /// foreigners, procedures.md §3.4).
    pub fn issuable_to(self, italian: bool) -> bool {
        italian || self != TipoCertificato::Cittadinanza
    }
}

/// A use exempt from the bollo (DPR 642/1972 Tab. B or a special law),
/// chosen by the applicant and printed with its reference (ANA-02, ANA-03).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Esenzione {
    /// Stable code (the comune's own table; procedures.md §3.4).
    pub code: &'static str,
    /// As offered to the applicant and printed: "Uso …".
    pub label: &'static str,
    /// The legal reference printed with it.
    pub legal_ref: &'static str,
}

/// The uses exempt from bollo (procedures.md §3.4, S19 Melegnano, Terni).
pub const ESENZIONI: &[Esenzione] = &[
    Esenzione {
        code: "tributi",
        label: "accertamento e riscossione di imposte e tasse",
        legal_ref: "DPR 642/1972, Tabella B, art. 5",
    },
    Esenzione {
        code: "previdenza",
        label: "assegni familiari, pensioni, assicurazioni sociali obbligatorie, Servizio sanitario nazionale",
        legal_ref: "DPR 642/1972, Tabella B, art. 9",
    },
    Esenzione {
        code: "assistenza",
        label: "beneficenza e assistenza",
        legal_ref: "DPR 642/1972, Tabella B, art. 8",
    },
    Esenzione {
        code: "scuola",
        label: "iscrizione a scuole, asili nido, borse di studio",
        legal_ref: "DPR 642/1972, Tabella B, art. 11",
    },
    Esenzione {
        code: "adozione",
        label: "adozione e affidamento di minori",
        legal_ref: "DPR 642/1972, Tabella B, art. 13; L. 184/1983, art. 82",
    },
    Esenzione {
        code: "ufficio",
        label: "atti richiesti d'ufficio",
        legal_ref: "DPR 642/1972, Tabella B, art. 16",
    },
    Esenzione {
        code: "penale",
        label: "procedimento penale",
        legal_ref: "DPR 642/1972, Tabella B, art. 3",
    },
    Esenzione {
        code: "abbonamenti",
        label: "abbonamenti e tessere di trasporto",
        legal_ref: "DPR 642/1972, Tabella B, art. 24",
    },
    Esenzione {
        code: "agricoltura",
        label: "agevolazioni per la proprietà contadina e calamità naturali",
        legal_ref: "DPR 642/1972, Tabella B, art. 21-bis",
    },
    Esenzione {
        code: "onlus",
        label: "organizzazioni non lucrative di utilità sociale (ONLUS) ed enti del Terzo settore",
        legal_ref: "DPR 642/1972, Tabella B, art. 27-bis",
    },
    Esenzione {
        code: "elettorale",
        label: "materia elettorale",
        legal_ref: "DPR 642/1972, Tabella B, art. 1",
    },
    Esenzione {
        code: "separazione_divorzio",
        label: "procedimenti di separazione e divorzio",
        legal_ref: "L. 74/1987, art. 19",
    },
    Esenzione {
        code: "stato_civile",
        label: "certificato di stato civile",
        legal_ref: "L. 405/1990, art. 7",
    },
];

/// The use stated by the applicant (ANA-02): in bollo, or an exempt use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uso {
    /// Subject to the €16 bollo (ANA-03: issued only once it is paid).
    Bollo,
    /// An exempt use.
    Esente(&'static Esenzione),
}

impl Uso {
    /// The use for a code: `bollo`, or an exemption's code.
    pub fn from_code(code: &str) -> Option<Uso> {
        if code == "bollo" {
            return Some(Uso::Bollo);
        }
        ESENZIONI.iter().find(|e| e.code == code).map(Uso::Esente)
    }

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Uso::Bollo => "bollo",
            Uso::Esente(e) => e.code,
        }
    }

    /// The use that applies to a certificate of type `t` asked for `self`:
    /// a type always exempt is exempt whatever was chosen.
    pub fn for_type(self, t: TipoCertificato) -> Uso {
        t.always_exempt().map_or(self, Uso::Esente)
    }

    /// The bollo due.
    pub fn bollo(self) -> Cents {
        match self {
            Uso::Bollo => BOLLO,
            Uso::Esente(_) => Cents::ZERO,
        }
    }

    /// As printed on the certificate (ANA-02).
    pub fn printed(self) -> String {
        match self {
            Uso::Bollo => "Certificato in bollo (imposta di bollo di € 16,00 assolta in modo virtuale, DPR 642/1972)".to_owned(),
            Uso::Esente(e) => format!("Esente da bollo: uso {} ({})", e.label, e.legal_ref),
        }
    }
}

// ---------------------------------------------------------------------------
// Composing a certificate from the register (issue 5, parts 2 and 3)
// ---------------------------------------------------------------------------

/// A person as a certificate prints them, with places already turned into
/// their printed names (`Bari (BA)`, `Albania`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soggetto {
    /// Codice fiscale.
    pub codice_fiscale: String,
    /// Surname.
    pub cognome: String,
    /// Given name(s).
    pub nome: String,
    /// Sex (the gender of the printed words).
    pub sesso: crate::ids::Sex,
    /// Date of birth.
    pub nascita: Date,
    /// Place of birth, as printed.
    pub luogo_nascita: String,
    /// Citizenship.
    pub cittadinanza: crate::anagrafe::Cittadinanza,
    /// Marital status.
    pub stato_civile: crate::anagrafe::StatoCivile,
    /// Relation to the head of the family, as in the register.
    pub rapporto: String,
}

impl Soggetto {
    fn full_name(&self) -> String {
        format!("{} {}", self.cognome, self.nome)
    }

    fn born(&self) -> &'static str {
        if self.sesso == crate::ids::Sex::F {
            "nata"
        } else {
            "nato"
        }
    }

    fn record(&self) -> Value {
        Value::Map(vec![
            (
                Value::text("codice_fiscale"),
                Value::text(&self.codice_fiscale),
            ),
            (Value::text("cognome"), Value::text(&self.cognome)),
            (Value::text("nome"), Value::text(&self.nome)),
            (Value::text("sesso"), Value::text(self.sesso.as_str())),
            (
                Value::text("nascita"),
                Value::text(self.nascita.to_string()),
            ),
            (
                Value::text("luogo_nascita"),
                Value::text(&self.luogo_nascita),
            ),
            (
                Value::text("cittadinanza"),
                Value::text(self.cittadinanza.code()),
            ),
            (
                Value::text("stato_civile"),
                Value::text(self.stato_civile.code()),
            ),
            (Value::text("rapporto"), Value::text(&self.rapporto)),
        ])
    }
}

/// An earlier residence in the comune, as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periodo {
    /// From.
    pub dal: Date,
    /// To.
    pub al: Date,
    /// The address, as printed (`Via Roma 12`).
    pub indirizzo: String,
}

/// Everything a certificate is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Richiesta {
    /// The type.
    pub tipo: TipoCertificato,
    /// The use stated by the applicant (before [`Uso::for_type`]).
    pub uso: Uso,
    /// The issuing comune's name, e.g. `Casamassima`.
    pub comune: String,
    /// Its codice catastale (the seal's `iss` is `IT-` + this).
    pub codice_catastale: String,
    /// Its province abbreviation, e.g. `BA`.
    pub provincia: String,
    /// The issue date (Europe/Rome).
    pub rilascio: Date,
    /// The holder.
    pub intestatario: Soggetto,
    /// The holder's famiglia anagrafica, the holder included, in register
    /// order.
    pub famiglia: Vec<Soggetto>,
    /// The address of residence, as printed (`Via Roma 12`).
    pub indirizzo: String,
    /// Its CAP.
    pub cap: String,
    /// Resident at this address since.
    pub residente_dal: Option<Date>,
    /// Where the holder came from (printed place), if by immigration.
    pub provenienza: Option<String>,
    /// Earlier residences in the comune, in any order.
    pub residenze: Vec<Periodo>,
}

/// A composed certificate: what is printed and sealed, and the canonical
/// record whose SHA-256 the seal carries (DECISIONS 16, R9).
#[derive(Debug, Clone, PartialEq)]
pub struct Contenuto {
    /// The [label, value] pairs, exactly as printed, in order (the seal's
    /// private claim key 3; R8).
    pub pairs: Vec<(String, String)>,
    /// The paragraphs after the pairs: what is certified, the use and the
    /// bollo, the validity, the L. 183/2011 sentence (ANA-02).
    pub paragraphs: Vec<String>,
    /// The use that applies.
    pub uso: Uso,
    /// The last day of validity (DPR 445/2000 art. 41), if limited.
    pub scadenza: Option<Date>,
    /// The canonical record (deterministic CBOR when encoded).
    pub record: Value,
}

impl Contenuto {
    /// The record's bytes: RFC 8949 core deterministic encoding.
    ///
    /// # Errors
    /// Never for a record built by [`compose`] (its keys are distinct).
    pub fn record_bytes(&self) -> Result<Vec<u8>, crate::cbor::CborError> {
        crate::cbor::encode(&self.record)
    }
}

/// Why a certificate cannot be composed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompositionError {
    /// The certificate of Italian citizenship asked for a foreigner.
    #[error("the holder is not an Italian citizen")]
    NonItalian,
    /// The holder is not among the members of the family given.
    #[error("the holder is not in the family")]
    HolderNotInFamily,
}

impl crate::Coded for CompositionError {
    fn code(&self) -> &'static str {
        match self {
            CompositionError::NonItalian => "cittadinanza_non_italiana",
            CompositionError::HolderNotInFamily => "famiglia_incoerente",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CompositionError::NonItalian => {
                "Il certificato di cittadinanza italiana si rilascia solo a chi ha la cittadinanza italiana."
                    .into()
            }
            CompositionError::HolderNotInFamily => {
                "I dati della famiglia anagrafica non sono coerenti: rivolgersi all'ufficio anagrafe."
                    .into()
            }
        }
    }
}

/// The relation as printed, capitalised (`figlio` → `Figlio`).
fn relation_label(r: &str) -> String {
    let mut c = r.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Composes a certificate (issue 5, parts 2 and 3): the printed pairs and
/// paragraphs of its type and the canonical record they come from.
///
/// # Errors
/// [`CompositionError`] when the type cannot be issued to the holder.
pub fn compose(r: &Richiesta) -> Result<Contenuto, CompositionError> {
    use crate::anagrafe::italian;
    let h = &r.intestatario;
    if !r.tipo.issuable_to(h.cittadinanza.is_italian()) {
        return Err(CompositionError::NonItalian);
    }
    if !r
        .famiglia
        .iter()
        .any(|m| m.codice_fiscale == h.codice_fiscale)
    {
        return Err(CompositionError::HolderNotInFamily);
    }
    let uso = r.uso.for_type(r.tipo);
    let scadenza = r.tipo.validity().expires(r.rilascio);
    let address = format!("{} - {} {} ({})", r.indirizzo, r.cap, r.comune, r.provincia);
    let mut pairs: Vec<(String, String)> = vec![
        ("Cognome".into(), h.cognome.clone()),
        ("Nome".into(), h.nome.clone()),
        ("Codice fiscale".into(), h.codice_fiscale.clone()),
        ("Luogo di nascita".into(), h.luogo_nascita.clone()),
        ("Data di nascita".into(), italian(h.nascita)),
    ];
    let members = |pairs: &mut Vec<(String, String)>| {
        for m in &r.famiglia {
            pairs.push((
                relation_label(&m.rapporto),
                format!(
                    "{}, {} a {} il {}",
                    m.full_name(),
                    m.born(),
                    m.luogo_nascita,
                    italian(m.nascita)
                ),
            ));
        }
    };
    let who = format!(
        "{} {} a {} il {}",
        h.full_name(),
        h.born(),
        h.luogo_nascita,
        italian(h.nascita)
    );
    let mut paragraphs = Vec::new();
    use TipoCertificato::*;
    match r.tipo {
        Residenza => {
            pairs.push(("Residenza".into(), address.clone()));
            paragraphs.push(format!(
                "{who} risulta {} nell'anagrafe della popolazione residente di questo Comune con residenza in {address}.",
                if h.sesso == crate::ids::Sex::F { "iscritta" } else { "iscritto" }
            ));
        }
        StatoFamiglia => {
            members(&mut pairs);
            paragraphs.push(format!(
                "La famiglia anagrafica di {} è composta come sopra indicato.",
                h.full_name()
            ));
        }
        ResidenzaStatoFamiglia => {
            pairs.push(("Residenza".into(), address.clone()));
            members(&mut pairs);
            paragraphs.push(format!(
                "{who} risulta residente in questo Comune in {address}; la sua famiglia anagrafica è composta come sopra indicato."
            ));
        }
        Nascita => {
            paragraphs.push(format!(
                "Dagli atti anagrafici risulta che {} è {} a {} il {}.",
                h.full_name(),
                h.born(),
                h.luogo_nascita,
                italian(h.nascita)
            ));
        }
        Cittadinanza => {
            pairs.push(("Cittadinanza".into(), h.cittadinanza.adjective().into()));
            paragraphs.push(format!("{who} è in possesso della cittadinanza italiana."));
        }
        EsistenzaInVita => {
            pairs.push((
                "Esistente in vita alla data del".into(),
                italian(r.rilascio),
            ));
            paragraphs.push(format!(
                "{who} è in vita alla data del presente certificato."
            ));
        }
        StatoCivile => {
            pairs.push(("Stato civile".into(), h.stato_civile.label(h.sesso).into()));
            paragraphs.push(format!(
                "Dagli atti anagrafici risulta che lo stato civile di {} è: {}.",
                h.full_name(),
                h.stato_civile.label(h.sesso)
            ));
        }
        StoricoResidenza => {
            let mut periods = r.residenze.clone();
            periods.sort_by_key(|p| p.dal);
            for p in &periods {
                pairs.push((
                    format!("Dal {} al {}", italian(p.dal), italian(p.al)),
                    p.indirizzo.clone(),
                ));
            }
            let since = r.residente_dal.map_or_else(|| "—".to_owned(), italian);
            pairs.push((format!("Dal {since}"), address.clone()));
            if let Some(from) = &r.provenienza {
                pairs.push(("Provenienza".into(), from.clone()));
            }
            paragraphs.push(format!(
                "{who} ha avuto nel Comune le residenze sopra indicate, fino alla data del presente certificato."
            ));
        }
    }
    paragraphs.push(format!("Uso: {}.", uso.printed()));
    paragraphs.push(format!(
        "Rilasciato il {}. Validità: {}{}.",
        italian(r.rilascio),
        r.tipo.validity().label(),
        scadenza.map_or_else(String::new, |d| format!(", fino al {}", italian(d)))
    ));
    paragraphs.push(L183_SENTENCE.to_owned());
    let text = |s: &str| Value::text(s);
    let record = Value::Map(vec![
        (text("versione"), Value::Unsigned(1)),
        (text("tipo"), text(r.tipo.code())),
        (
            text("comune"),
            Value::Map(vec![
                (text("nome"), text(&r.comune)),
                (text("codice_catastale"), text(&r.codice_catastale)),
                (text("provincia"), text(&r.provincia)),
            ]),
        ),
        (text("rilascio"), text(&r.rilascio.to_string())),
        (
            text("scadenza"),
            scadenza.map_or(Value::Null, |d| text(&d.to_string())),
        ),
        (text("uso"), text(uso.code())),
        (text("bollo_centesimi"), Value::int(uso.bollo().cents())),
        (text("intestatario"), h.record()),
        (
            text("famiglia"),
            Value::Array(r.famiglia.iter().map(Soggetto::record).collect()),
        ),
        (
            text("residenza"),
            Value::Map(vec![
                (text("indirizzo"), text(&r.indirizzo)),
                (text("cap"), text(&r.cap)),
                (
                    text("dal"),
                    r.residente_dal
                        .map_or(Value::Null, |d| text(&d.to_string())),
                ),
                (
                    text("provenienza"),
                    r.provenienza.as_deref().map_or(Value::Null, text),
                ),
            ]),
        ),
        (
            text("residenze_precedenti"),
            Value::Array(
                r.residenze
                    .iter()
                    .map(|p| {
                        Value::Map(vec![
                            (text("dal"), text(&p.dal.to_string())),
                            (text("al"), text(&p.al.to_string())),
                            (text("indirizzo"), text(&p.indirizzo)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            text("stampato"),
            Value::Array(
                pairs
                    .iter()
                    .map(|(l, v)| Value::Array(vec![text(l), text(v)]))
                    .collect(),
            ),
        ),
    ]);
    Ok(Contenuto {
        pairs,
        paragraphs,
        uso,
        scadenza,
        record,
    })
}
