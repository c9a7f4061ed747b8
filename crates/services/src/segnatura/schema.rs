//! The structure `segnatura_protocollo.xsd` v3.0 requires of a received
//! segnatura, checked in Rust (the runtime never calls an XSD validator;
//! the tests compare with `xmlschema` on the official schema).
//!
//! The content models are transcribed from the XSD as a small table:
//! element sequences with occurrence bounds and choices, the qualified
//! attributes (`attributeFormDefault="qualified"`: `prot:nomeFile`), and
//! the simple types with a pattern (`NumeroRegistrazione` `[0-9]{7,}`,
//! `CodiceRegistro`, `PartitaIVA`, `CodiceFiscale`, CAP, ISTAT code, dates,
//! times, booleans, base64). `ds:Signature` must be the last child; its
//! content is checked by the signature verification.

use base64::Engine as _;
use roxmltree::Node;

use super::{NS_DS, NS_PROT};

#[derive(Clone, Copy)]
enum Text {
    Any,
    Date,
    Time,
    Bool,
    True,
    Int,
    Base64,
    Pattern(fn(&str) -> bool),
    OneOf(&'static [&'static str]),
}

struct Attr {
    name: &'static str,
    required: bool,
    ty: Text,
}

enum Content {
    Elements(&'static [P]),
    Simple(Text),
    /// `ds:Signature`: verified elsewhere.
    Signature,
}

struct Ty {
    attrs: &'static [Attr],
    content: Content,
}

enum P {
    E {
        name: &'static str,
        min: u32,
        max: u32,
        ty: &'static Ty,
    },
    Choice(&'static [&'static [P]]),
}

const N: u32 = u32::MAX;

const fn e(name: &'static str, min: u32, max: u32, ty: &'static Ty) -> P {
    P::E { name, min, max, ty }
}

const fn simple(ty: Text) -> Ty {
    Ty {
        attrs: &[],
        content: Content::Simple(ty),
    }
}

const fn a(name: &'static str, required: bool, ty: Text) -> Attr {
    Attr { name, required, ty }
}

fn digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn codice_registro(s: &str) -> bool {
    (1..=16).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

fn numero(s: &str) -> bool {
    digits(s, 7, usize::MAX)
}

fn piva(s: &str) -> bool {
    digits(s, 11, 11)
}

fn six_digits(s: &str) -> bool {
    digits(s, 6, 6)
}

fn codice_fiscale(s: &str) -> bool {
    let b = s.as_bytes();
    let omo = |c: u8| c.is_ascii_digit() || b"LMNPQRSTUV".contains(&c);
    let up = |c: u8| c.is_ascii_uppercase();
    b.len() == 16
        && b[..6].iter().all(|&c| up(c))
        && b[6..8].iter().all(|&c| omo(c))
        && b"ABCDEHLMPRST".contains(&b[8])
        && b[9..11].iter().all(|&c| omo(c))
        && up(b[11])
        && b[12..15].iter().all(|&c| omo(c))
        && up(b[15])
}

/// `xs:date` (with optional time zone).
fn is_date(s: &str) -> bool {
    let (d, tz) = s.split_at(s.len().min(10));
    d.parse::<jiff::civil::Date>().is_ok() && d.len() == 10 && is_tz(tz)
}

fn is_tz(tz: &str) -> bool {
    tz.is_empty()
        || tz == "Z"
        || (tz.len() == 6
            && (tz.starts_with('+') || tz.starts_with('-'))
            && digits(&tz[1..3], 2, 2)
            && &tz[3..4] == ":"
            && digits(&tz[4..6], 2, 2))
}

/// `xs:time` (`hh:mm:ss[.fff][tz]`).
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (h, m, sec) = (&s[0..2], &s[3..5], &s[6..8]);
    if !(digits(h, 2, 2) && digits(m, 2, 2) && digits(sec, 2, 2)) {
        return false;
    }
    let mut rest = &s[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    h <= "24" && m <= "59" && sec <= "60" && is_tz(rest)
}

impl Text {
    fn check(self, raw: &str) -> bool {
        let v = raw.trim();
        match self {
            Text::Any => true,
            Text::Date => is_date(v),
            Text::Time => is_time(v),
            Text::Bool => matches!(v, "true" | "false" | "1" | "0"),
            Text::True => matches!(v, "true" | "1"),
            Text::Int => {
                let d = v.strip_prefix(['+', '-']).unwrap_or(v);
                !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
            }
            Text::Base64 => {
                let compact: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .is_ok()
            }
            Text::Pattern(f) => f(raw),
            Text::OneOf(list) => list.contains(&v),
        }
    }
}

static STRING: Ty = simple(Text::Any);
static CODICE_IPA: Ty = Ty {
    attrs: &[a("descrizione", false, Text::Any)],
    content: Content::Simple(Text::Any),
};
static IDENTIFICATORE: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("CodiceAmministrazione", 1, 1, &CODICE_IPA),
        e("CodiceAOO", 1, 1, &CODICE_IPA),
        e(
            "CodiceRegistro",
            1,
            1,
            &simple(Text::Pattern(codice_registro)),
        ),
        e("NumeroRegistrazione", 1, 1, &simple(Text::Pattern(numero))),
        e("DataRegistrazione", 1, 1, &simple(Text::Date)),
        e("OraRegistrazione", 0, 1, &simple(Text::Time)),
    ]),
};
static LIVELLO: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Livello", 1, 1, &CODICE_IPA),
        e("SubLivello", 0, 1, &LIVELLO),
    ]),
};
static CLASSIFICA: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Denominazione", 1, 1, &STRING),
        P::Choice(&[
            &[e("CodiceFlat", 1, 1, &STRING)],
            &[e("CodicePath", 1, 1, &LIVELLO)],
        ]),
    ]),
};
static FASCICOLO: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Denominazione", 1, 1, &STRING),
        e("CodiceFascicolo", 1, 1, &STRING),
    ]),
};
static RISERVATO: Ty = Ty {
    attrs: &[a("note", false, Text::Any)],
    content: Content::Simple(Text::Bool),
};
static INTESTAZIONE: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Identificatore", 1, 1, &IDENTIFICATORE),
        e("PrimaRegistrazione", 0, 1, &IDENTIFICATORE),
        e("Oggetto", 1, 1, &STRING),
        e("Classifica", 1, 1, &CLASSIFICA),
        e("Fascicolo", 0, 1, &FASCICOLO),
        e("Riservato", 0, 1, &RISERVATO),
    ]),
};
static RIFERIMENTI: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Identificatore", 1, 1, &IDENTIFICATORE),
        e("PrimaRegistrazione", 0, 1, &IDENTIFICATORE),
        e("Oggetto", 1, 1, &STRING),
        e("Classifica", 1, 1, &CLASSIFICA),
        e("Fascicolo", 0, 1, &FASCICOLO),
    ]),
};
static TOPONIMO: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[e("dug", 1, 1, &STRING), e("duf", 1, 1, &STRING)]),
};
static INDIRIZZO_POSTALE: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Toponimo", 1, 1, &TOPONIMO),
        e("Civico", 1, 1, &STRING),
        e("CAP", 1, 1, &simple(Text::Pattern(six_digits))),
        e(
            "Comune",
            1,
            1,
            &Ty {
                attrs: &[a("CodiceISTAT", true, Text::Pattern(six_digits))],
                content: Content::Simple(Text::Any),
            },
        ),
        e(
            "Nazione",
            1,
            1,
            &Ty {
                attrs: &[a("codice3166", false, Text::Any)],
                content: Content::Simple(Text::Any),
            },
        ),
    ]),
};
static INDIRIZZO_TELEMATICO: Ty = Ty {
    attrs: &[
        a("tipo", false, Text::OneOf(&["smtp", "url", "other"])),
        a("note", false, Text::Any),
    ],
    content: Content::Simple(Text::Any),
};
static CONTATTI: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("IndirizzoPostale", 0, N, &INDIRIZZO_POSTALE),
        e("IndirizzoTelematico", 0, N, &INDIRIZZO_TELEMATICO),
        e("Telefono", 0, N, &STRING),
    ]),
};
static PERSONA_FISICA: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Nome", 1, 1, &STRING),
        e("Cognome", 1, 1, &STRING),
        e("Titolo", 0, 1, &STRING),
        e(
            "CodiceFiscale",
            0,
            1,
            &simple(Text::Pattern(codice_fiscale)),
        ),
        e("Contatti", 0, 1, &CONTATTI),
    ]),
};
static AMMINISTRAZIONE: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("DenominazioneAmministrazione", 1, 1, &STRING),
        e("CFAmministrazione", 0, 1, &simple(Text::Pattern(piva))),
        e("CodiceIPAAmministrazione", 1, 1, &CODICE_IPA),
        e("ContattiAmministrazione", 0, 1, &CONTATTI),
        e("CodiceIPAAOO", 0, 1, &CODICE_IPA),
        e("ContattiAOO", 0, 1, &CONTATTI),
        e("CodiceIPAUO", 0, 1, &CODICE_IPA),
        e("ContattiUO", 0, 1, &CONTATTI),
        e("PersonaFisica", 0, N, &PERSONA_FISICA),
    ]),
};
static AMMINISTRAZIONE_ESTERA: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("DenominazioneAmministrazione", 1, 1, &STRING),
        e("DenominazioneUfficio", 0, 1, &STRING),
        e("ContattiAmministrazione", 0, 1, &CONTATTI),
    ]),
};
static PERSONA_GIURIDICA: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Denominazione", 1, 1, &STRING),
        e("PIVAoCF", 0, 1, &simple(Text::Pattern(piva))),
        e("ContattiPersonaGiuridica", 0, 1, &CONTATTI),
        e("PersonaFisica", 0, N, &PERSONA_FISICA),
    ]),
};
const SOGGETTO: &[P] = &[P::Choice(&[
    &[e("Amministrazione", 1, 1, &AMMINISTRAZIONE)],
    &[e("PersonaGiuridica", 1, 1, &PERSONA_GIURIDICA)],
    &[e("PersonaFisica", 1, 1, &PERSONA_FISICA)],
    &[e("AmministrazioneEstera", 1, 1, &AMMINISTRAZIONE_ESTERA)],
])];
static MITTENTE: Ty = Ty {
    attrs: &[],
    content: Content::Elements(SOGGETTO),
};
static DESTINATARIO: Ty = Ty {
    attrs: &[
        a("confermaRicezione", false, Text::Bool),
        a("perConoscenza", false, Text::Bool),
    ],
    content: Content::Elements(SOGGETTO),
};
static SIGN: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[P::Choice(&[
        &[e("UnDetached", 1, 1, &simple(Text::True))],
        &[e(
            "Detached",
            1,
            N,
            &Ty {
                attrs: &[
                    a("nomeFile", true, Text::Any),
                    a("mimeType", false, Text::Any),
                    a("order", true, Text::Int),
                ],
                content: Content::Simple(Text::True),
            },
        )],
    ])]),
};
static COLLOCAZIONE: Ty = Ty {
    attrs: &[
        a("timeToLive", false, Text::Int),
        a("userId", false, Text::Any),
        a("password", false, Text::Any),
    ],
    content: Content::Elements(&[e("HostValue", 1, 1, &STRING), e("PathValue", 1, 1, &STRING)]),
};
static DOCUMENTO: Ty = Ty {
    attrs: &[
        a("nomeFile", true, Text::Any),
        a("mimeType", true, Text::Any),
    ],
    content: Content::Elements(&[
        e("Descrizione", 0, 1, &STRING),
        e(
            "Impronta",
            1,
            1,
            &Ty {
                attrs: &[a("algoritmo", false, Text::Any)],
                content: Content::Simple(Text::Base64),
            },
        ),
        e("CollocazioneTelematica", 0, 1, &COLLOCAZIONE),
        e("firmatoDigitalmente", 0, 1, &SIGN),
        e("sigillatoElettronicamente", 0, 1, &SIGN),
        e("marcaturaTemporale", 0, 1, &SIGN),
    ]),
};
static DESCRIZIONE: Ty = Ty {
    attrs: &[],
    content: Content::Elements(&[
        e("Mittente", 1, 1, &MITTENTE),
        e("Destinatario", 1, N, &DESTINATARIO),
        e("DocumentoPrimario", 1, 1, &DOCUMENTO),
        e("Allegato", 0, N, &DOCUMENTO),
    ]),
};
static SIGNATURE: Ty = Ty {
    attrs: &[],
    content: Content::Signature,
};
static SEGNATURA: Ty = Ty {
    attrs: &[
        a("versione", true, Text::OneOf(&["3.0.0"])),
        a("lang", true, Text::OneOf(&["it"])),
    ],
    content: Content::Elements(&[
        e("Intestazione", 1, 1, &INTESTAZIONE),
        e("Riferimenti", 0, 1, &RIFERIMENTI),
        e("Descrizione", 1, 1, &DESCRIZIONE),
        e("ds:Signature", 1, 1, &SIGNATURE),
    ]),
};

/// Checks a `SegnaturaInformatica` root (its name is checked by the
/// caller) against the schema's content models. `Err` names the first
/// element found wrong, in Italian.
pub(crate) fn check_segnatura(root: Node<'_, '_>) -> Result<(), String> {
    check(root, &SEGNATURA, "SegnaturaInformatica")
}

fn matches(n: Node<'_, '_>, name: &str) -> bool {
    match name.strip_prefix("ds:") {
        Some(local) => n.has_tag_name((NS_DS, local)),
        None => n.has_tag_name((NS_PROT, name)),
    }
}

fn check(n: Node<'_, '_>, ty: &Ty, path: &str) -> Result<(), String> {
    if matches!(ty.content, Content::Signature) {
        return Ok(());
    }
    // Attributes: declared ones only, qualified (attributeFormDefault).
    for at in n.attributes() {
        let known = at.namespace() == Some(NS_PROT) && ty.attrs.iter().any(|d| d.name == at.name());
        if !known {
            return Err(format!("{path}: attributo non previsto \"{}\"", at.name()));
        }
    }
    for d in ty.attrs {
        match n.attribute((NS_PROT, d.name)) {
            None if d.required => {
                return Err(format!("{path}: manca l'attributo prot:{}", d.name));
            }
            Some(v) if !d.ty.check(v) => {
                return Err(format!(
                    "{path}: valore non valido dell'attributo prot:{}",
                    d.name
                ));
            }
            _ => {}
        }
    }
    match &ty.content {
        Content::Signature => Ok(()),
        Content::Simple(t) => {
            if n.children().any(|c| c.is_element()) {
                return Err(format!("{path}: elementi non previsti"));
            }
            let text: String = n.children().filter_map(|c| c.text()).collect();
            if t.check(&text) {
                Ok(())
            } else {
                Err(format!("{path}: valore non valido"))
            }
        }
        Content::Elements(particles) => {
            if n.children()
                .any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty())
            {
                return Err(format!("{path}: testo non previsto"));
            }
            let children: Vec<Node<'_, '_>> = n.children().filter(|c| c.is_element()).collect();
            let used = seq(particles, &children, 0, path)?;
            match children.get(used) {
                None => Ok(()),
                Some(extra) => Err(format!(
                    "{path}: elemento non previsto o fuori posto \"{}\"",
                    extra.tag_name().name()
                )),
            }
        }
    }
}

/// Matches `particles` from `children[pos]`; returns the position after.
fn seq(
    particles: &[P],
    children: &[Node<'_, '_>],
    mut pos: usize,
    path: &str,
) -> Result<usize, String> {
    for p in particles {
        match p {
            P::E { name, min, max, ty } => {
                let mut count = 0u32;
                while count < *max
                    && let Some(c) = children.get(pos)
                    && matches(*c, name)
                {
                    check(*c, ty, &format!("{path}/{name}"))?;
                    pos += 1;
                    count += 1;
                }
                if count < *min {
                    return Err(format!("{path}: manca l'elemento {name}"));
                }
            }
            P::Choice(alternatives) => {
                let first = children.get(pos);
                let alt = alternatives.iter().find(|alt| match (alt.first(), first) {
                    (Some(P::E { name, .. }), Some(c)) => matches(*c, name),
                    _ => false,
                });
                match alt {
                    Some(alt) => pos = seq(alt, children, pos, path)?,
                    None => return Err(format!("{path}: manca uno degli elementi alternativi")),
                }
            }
        }
    }
    Ok(pos)
}
