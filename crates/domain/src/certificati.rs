//! The catalogue of the anagrafe certificates Palazzo issues online (issue
//! 5, part 2; `procedures.md` §3.4, ANA-01…ANA-05; DECISIONS 16–20): each
//! type with its title, the facts it certifies, its legal basis and its
//! validity; the sentence of L. 183/2011; the bollo and the uses exempt
//! from it, printed with their legal reference.

use jiff::civil::Date;

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
