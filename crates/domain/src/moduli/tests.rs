//! Tests of the form engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::*;
use crate::Coded;
use crate::money::Cents;

/// Today in every test.
fn today() -> Date {
    date(2026, 3, 15)
}

/// A form with one field of every kind, all optional, in one step, plus a
/// second step.
const ALL_KINDS: &str = r#"
codice = "prova"
versione = 1
titolo = "Modulo di prova"

[[passi]]
id = "uno"
titolo = "Primo passo"

[[passi.campi]]
id = "testo"
etichetta = "Testo"
tipo = "testo"
lunghezza_min = 2
lunghezza_max = 10

[[passi.campi]]
id = "lungo"
etichetta = "Testo lungo"
tipo = "testo_lungo"
lunghezza_max = 20

[[passi.campi]]
id = "cf"
etichetta = "Codice fiscale"
tipo = "codice_fiscale"

[[passi.campi]]
id = "piva"
etichetta = "Partita IVA"
tipo = "partita_iva"

[[passi.campi]]
id = "data"
etichetta = "Data"
tipo = "data"

[[passi.campi]]
id = "passata"
etichetta = "Data passata"
tipo = "data"
data_non_futura = true
giorni_max_passato = 30

[[passi.campi]]
id = "futura"
etichetta = "Data futura"
tipo = "data"
data_non_passata = true
giorni_max_futuro = 10

[[passi.campi]]
id = "importo"
etichetta = "Importo"
tipo = "importo"
importo_max = "10.000,00"

[[passi.campi]]
id = "numero"
etichetta = "Numero"
tipo = "numero"
valore_min = 1
valore_max = 42

[[passi.campi]]
id = "email"
etichetta = "E-mail"
tipo = "email"

[[passi.campi]]
id = "telefono"
etichetta = "Telefono"
tipo = "telefono"

[[passi.campi]]
id = "scelta"
etichetta = "Scelta"
tipo = "scelta"
opzioni = [
  { valore = "a", etichetta = "Opzione A" },
  { valore = "b", etichetta = "Opzione B" },
]

[[passi.campi]]
id = "multipla"
etichetta = "Scelta multipla"
tipo = "scelta"
multipla = true
scelte_max = 2
opzioni = [
  { valore = "x", etichetta = "Ics" },
  { valore = "y", etichetta = "Ipsilon" },
  { valore = "z", etichetta = "Zeta" },
]

[[passi.campi]]
id = "sino"
etichetta = "Sì o no"
tipo = "si_no"

[[passi.campi]]
id = "particelle"
etichetta = "Particelle"
tipo = "particella_catastale"
righe_max = 3

[[passi.campi]]
id = "indirizzo"
etichetta = "Indirizzo"
tipo = "indirizzo"

[[passi.campi]]
id = "posizione"
etichetta = "Posizione"
tipo = "posizione"

[[passi]]
id = "due"
titolo = "Secondo passo"

[[passi.campi]]
id = "nota"
etichetta = "Nota"
tipo = "testo"
"#;

fn all_kinds() -> FormDefinition {
    FormDefinition::from_toml(ALL_KINDS).unwrap()
}

fn raw(pairs: &[(&str, &str)]) -> RawAnswers {
    let mut out = RawAnswers::new();
    for (k, v) in pairs {
        out.entry((*k).to_owned())
            .or_default()
            .push((*v).to_owned());
    }
    out
}

/// Parses step `uno` of [`ALL_KINDS`] with these pairs.
fn parse_one(pairs: &[(&str, &str)]) -> Result<Answers, FieldErrors> {
    parse_step(&all_kinds(), "uno", &raw(pairs), &Answers::new(), today())
}

/// The value of `field` after posting `text` to it.
fn ok(field: &str, text: &str) -> Value {
    let answers = parse_one(&[(field, text)]).unwrap_or_else(|e| panic!("{field}={text:?}: {e}"));
    answers.get(field).cloned().unwrap()
}

/// The single error code of posting `text` to `field`.
fn err(field: &str, text: &str) -> &'static str {
    let errors = parse_one(&[(field, text)]).unwrap_err();
    assert_eq!(errors.errors.len(), 1, "{errors}");
    assert_eq!(errors.errors[0].field, field);
    assert!(!errors.errors[0].message.is_empty());
    errors.errors[0].code
}

// ---------------------------------------------------------------------------
// Field kinds
// ---------------------------------------------------------------------------

#[test]
fn text_fields() {
    assert_eq!(ok("testo", "  Ciao  "), Value::Text("Ciao".into()));
    assert_eq!(err("testo", "x"), "modulo_testo_troppo_corto");
    assert_eq!(err("testo", "undici car."), "modulo_testo_troppo_lungo");
    // Length counts characters, not bytes.
    assert_eq!(ok("testo", "èèèèèèèèèè"), Value::Text("èèèèèèèèèè".into()));
    assert_eq!(err("testo", "a\nb"), "modulo_testo_non_valido");
    assert_eq!(
        ok("lungo", "riga 1\r\nriga 2"),
        Value::Text("riga 1\nriga 2".into())
    );
    assert_eq!(err("lungo", "a\u{7}b"), "modulo_testo_non_valido");
    assert_eq!(err("lungo", &"x".repeat(21)), "modulo_testo_troppo_lungo");
    // Whitespace only is empty, not a value.
    assert_eq!(parse_one(&[("testo", "   ")]).unwrap().get("testo"), None);
    let e = parse_one(&[("testo", "x")]).unwrap_err();
    assert_eq!(
        e.errors[0].message,
        "Il campo «Testo» deve contenere almeno 2 caratteri."
    );
}

#[test]
fn codice_fiscale_and_partita_iva() {
    assert_eq!(
        ok("cf", "rssmra85t10a562s"),
        Value::CodiceFiscale(crate::ids::CodiceFiscale::parse("RSSMRA85T10A562S").unwrap())
    );
    // Omocodia: letters in place of digits, with the right check character.
    let Value::CodiceFiscale(omocodic) = ok("cf", "RSSMRA85T10A56NH") else {
        panic!()
    };
    assert!(omocodic.is_omocodic());
    assert_eq!(
        err("cf", "RSSMRA85T10A562A"),
        "modulo_codice_fiscale_non_valido"
    );
    assert_eq!(
        err("cf", "RSSMRA85T10A56NS"),
        "modulo_codice_fiscale_non_valido"
    );
    assert_eq!(err("cf", "ABC"), "modulo_codice_fiscale_non_valido");
    let e = parse_one(&[("cf", "RSSMRA85T10A562A")]).unwrap_err();
    assert!(
        e.errors[0]
            .message
            .starts_with("Il campo «Codice fiscale» non è valido")
    );
    assert!(matches!(ok("piva", "06363391001"), Value::PartitaIva(_)));
    assert_eq!(err("piva", "06363391002"), "modulo_partita_iva_non_valida");
}

#[test]
fn dates_in_both_formats_and_leap_years() {
    assert_eq!(ok("data", "2024-02-29"), Value::Date(date(2024, 2, 29)));
    assert_eq!(ok("data", "29/02/2024"), Value::Date(date(2024, 2, 29)));
    assert_eq!(ok("data", "2/3/2026"), Value::Date(date(2026, 3, 2)));
    assert_eq!(ok("data", "29/02/2000"), Value::Date(date(2000, 2, 29)));
    for bad in [
        "29/02/2025",
        "2025-02-29",
        "29/02/1900",
        "31/04/2026",
        "00/01/2026",
        "2026-13-01",
        "2026-1-01",
        "26-01-01",
        "01/01/26",
        "1 gennaio 2026",
        "2026/01/01",
        "+2026-01-01",
        "",
    ] {
        if bad.is_empty() {
            continue;
        }
        assert_eq!(err("data", bad), "modulo_data_non_valida", "{bad}");
    }
    // Rules relative to today (15/03/2026).
    assert_eq!(ok("passata", "15/03/2026"), Value::Date(today()));
    assert_eq!(ok("passata", "13/02/2026"), Value::Date(date(2026, 2, 13)));
    assert_eq!(err("passata", "16/03/2026"), "modulo_data_futura");
    assert_eq!(err("passata", "12/02/2026"), "modulo_data_troppo_lontana");
    assert_eq!(ok("futura", "25/03/2026"), Value::Date(date(2026, 3, 25)));
    assert_eq!(err("futura", "14/03/2026"), "modulo_data_passata");
    assert_eq!(err("futura", "26/03/2026"), "modulo_data_troppo_lontana");
}

#[test]
fn amounts() {
    assert_eq!(
        ok("importo", "1.020,99"),
        Value::Cents(Cents::from_cents(102_099))
    );
    assert_eq!(
        ok("importo", "1020,99 €"),
        Value::Cents(Cents::from_cents(102_099))
    );
    assert_eq!(ok("importo", "0"), Value::Cents(Cents::ZERO));
    assert_eq!(
        ok("importo", "10.000"),
        Value::Cents(Cents::from_cents(1_000_000))
    );
    assert_eq!(
        err("importo", "10.000,01"),
        "modulo_importo_fuori_intervallo"
    );
    assert_eq!(err("importo", "-5,00"), "modulo_importo_negativo");
    assert_eq!(err("importo", "1,020.99"), "modulo_importo_non_valido");
    assert_eq!(err("importo", "1,999"), "modulo_importo_non_valido");
    assert_eq!(err("importo", "dieci"), "modulo_importo_non_valido");
}

#[test]
fn integers_emails_phones() {
    assert_eq!(ok("numero", "42"), Value::Integer(42));
    assert_eq!(ok("numero", "+1"), Value::Integer(1));
    assert_eq!(err("numero", "43"), "modulo_numero_fuori_intervallo");
    assert_eq!(err("numero", "0"), "modulo_numero_fuori_intervallo");
    for bad in ["4.2", "4,2", "1e1", "abc", "- 3", "99999999999999999999999"] {
        assert_eq!(err("numero", bad), "modulo_numero_non_valido", "{bad}");
    }
    assert!(matches!(
        ok("email", "mario.rossi@example.it"),
        Value::Email(_)
    ));
    assert_eq!(err("email", "mario.rossi"), "modulo_email_non_valida");
    assert_eq!(
        ok("telefono", "+39 080 123-4567"),
        Value::Telefono("+390801234567".into())
    );
    assert_eq!(
        ok("telefono", "(080) 1234567"),
        Value::Telefono("0801234567".into())
    );
    for bad in ["12345", "tel. 080", "+39 080 1234567 890 12", "++39080123"] {
        assert_eq!(err("telefono", bad), "modulo_telefono_non_valido", "{bad}");
    }
}

#[test]
fn choices_and_yes_no() {
    assert_eq!(ok("scelta", "b"), Value::Choice(vec!["b".into()]));
    // A tampered value that is not among the options.
    assert_eq!(err("scelta", "c"), "modulo_scelta_non_ammessa");
    assert_eq!(err("scelta", "Opzione A"), "modulo_scelta_non_ammessa");
    let two = parse_one(&[("scelta", "a"), ("scelta", "b")]).unwrap_err();
    assert_eq!(two.codes(), ["modulo_valori_multipli"]);
    // Multiple choice: kept in the definition's order, duplicates merged.
    let answers = parse_one(&[("multipla", "z"), ("multipla", "x"), ("multipla", "z")]).unwrap();
    assert_eq!(
        answers.get("multipla"),
        Some(&Value::Choice(vec!["x".into(), "z".into()]))
    );
    let three = parse_one(&[("multipla", "x"), ("multipla", "y"), ("multipla", "z")]).unwrap_err();
    assert_eq!(three.codes(), ["modulo_scelte_troppe"]);
    let tampered = parse_one(&[("multipla", "x"), ("multipla", "evil")]).unwrap_err();
    assert_eq!(tampered.codes(), ["modulo_scelta_non_ammessa"]);
    assert_eq!(ok("sino", "si"), Value::Bool(true));
    assert_eq!(ok("sino", "Sì"), Value::Bool(true));
    assert_eq!(ok("sino", "no"), Value::Bool(false));
    assert_eq!(err("sino", "forse"), "modulo_si_no_non_valido");
}

#[test]
fn cadastral_parcels() {
    let answers = parse_one(&[
        ("particelle.codice_catastale", "b923"),
        ("particelle.foglio", "12"),
        ("particelle.particella", "345"),
        ("particelle.subalterno", "6"),
        // An empty row in the middle is skipped.
        ("particelle.codice_catastale", ""),
        ("particelle.foglio", ""),
        ("particelle.particella", ""),
        ("particelle.subalterno", ""),
        ("particelle.codice_catastale", "B923"),
        ("particelle.foglio", "3"),
        ("particelle.particella", "77a"),
        ("particelle.subalterno", ""),
    ])
    .unwrap();
    let Some(Value::Particelle(list)) = answers.get("particelle") else {
        panic!("{answers:?}")
    };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].codice_catastale.as_str(), "B923");
    assert_eq!(list[0].subalterno.as_deref(), Some("6"));
    assert_eq!(list[1].particella, "77A");
    assert_eq!(list[1].subalterno, None);

    let bad_cc = parse_one(&[
        ("particelle.codice_catastale", "923"),
        ("particelle.foglio", "12"),
        ("particelle.particella", "345"),
    ])
    .unwrap_err();
    assert_eq!(bad_cc.codes(), ["modulo_codice_catastale_non_valido"]);
    let no_particella = parse_one(&[
        ("particelle.codice_catastale", "B923"),
        ("particelle.foglio", "12"),
    ])
    .unwrap_err();
    assert_eq!(no_particella.codes(), ["modulo_particella_non_valida"]);
    let bad_foglio = parse_one(&[
        ("particelle.codice_catastale", "B923"),
        ("particelle.foglio", "1 2"),
        ("particelle.particella", "345"),
    ])
    .unwrap_err();
    assert_eq!(bad_foglio.codes(), ["modulo_particella_non_valida"]);
    let mut four = Vec::new();
    for _ in 0..4 {
        four.extend([
            ("particelle.codice_catastale", "B923"),
            ("particelle.foglio", "1"),
            ("particelle.particella", "2"),
        ]);
    }
    assert_eq!(
        parse_one(&four).unwrap_err().codes(),
        ["modulo_particelle_troppe"]
    );
}

#[test]
fn addresses_and_places() {
    let answers = parse_one(&[
        ("indirizzo.via", "Via Roma"),
        ("indirizzo.civico", "12/A"),
        ("indirizzo.cap", "70010"),
        ("indirizzo.comune", "Casamassima"),
    ])
    .unwrap();
    let Some(Value::Indirizzo(i)) = answers.get("indirizzo") else {
        panic!()
    };
    assert_eq!(i.to_string(), "Via Roma 12/A, 70010 Casamassima");
    let no_cap = parse_one(&[
        ("indirizzo.via", "Via Roma"),
        ("indirizzo.civico", "12"),
        ("indirizzo.comune", "Casamassima"),
    ])
    .unwrap_err();
    assert_eq!(no_cap.codes(), ["modulo_indirizzo_incompleto"]);
    let bad_cap = parse_one(&[
        ("indirizzo.via", "Via Roma"),
        ("indirizzo.civico", "12"),
        ("indirizzo.cap", "7001"),
        ("indirizzo.comune", "Casamassima"),
    ])
    .unwrap_err();
    assert_eq!(bad_cap.codes(), ["modulo_cap_non_valido"]);

    // A place: coordinates only, address only (civico and CAP optional), or both.
    let pin = parse_one(&[("posizione.lat", "41,0123"), ("posizione.lon", "16.92")]).unwrap();
    assert_eq!(
        pin.get("posizione"),
        Some(&Value::Posizione(Posizione {
            indirizzo: None,
            lat: Some(41.0123),
            lon: Some(16.92)
        }))
    );
    let street = parse_one(&[
        ("posizione.via", "Via Bari"),
        ("posizione.comune", "Casamassima"),
    ])
    .unwrap();
    assert!(matches!(street.get("posizione"), Some(Value::Posizione(p)) if p.lat.is_none()));
    for (lat, lon) in [
        ("91", "16"),
        ("41", "181"),
        ("NaN", "1"),
        ("inf", "1"),
        ("41", ""),
    ] {
        let e = parse_one(&[("posizione.lat", lat), ("posizione.lon", lon)]).unwrap_err();
        assert_eq!(e.codes(), ["modulo_coordinate_non_valide"], "{lat} {lon}");
    }
    let only_civico = parse_one(&[("posizione.civico", "3")]).unwrap_err();
    assert_eq!(only_civico.codes(), ["modulo_indirizzo_incompleto"]);
}

#[test]
fn a_single_valued_field_posted_twice_is_refused() {
    let e = parse_one(&[("testo", "uno"), ("testo", "due")]).unwrap_err();
    assert_eq!(e.codes(), ["modulo_valori_multipli"]);
}

// ---------------------------------------------------------------------------
// Required fields, conditions, tampering
// ---------------------------------------------------------------------------

const CONDITIONAL: &str = r#"
codice = "condizioni"
versione = 2
titolo = "Condizioni"

[[passi]]
id = "primo"
titolo = "Primo"

[[passi.campi]]
id = "tipo"
etichetta = "Tipo"
tipo = "scelta"
obbligatorio = true
opzioni = [
  { valore = "privato", etichetta = "Privato" },
  { valore = "impresa", etichetta = "Impresa" },
]

[[passi.campi]]
id = "partita_iva"
etichetta = "Partita IVA"
tipo = "partita_iva"
obbligatorio = true
condizione = { campo = "tipo", uguale = "impresa" }

[[passi.campi]]
id = "delegato"
etichetta = "Delegato"
tipo = "si_no"
obbligatorio = true

[[passi]]
id = "impresa_dati"
titolo = "Impresa"
condizione = { campo = "tipo", uguale = "impresa" }

[[passi.campi]]
id = "denominazione"
etichetta = "Denominazione"
tipo = "testo"
obbligatorio = true

[[passi.campi]]
id = "pec"
etichetta = "PEC"
tipo = "email"
condizione = { almeno_una = [{ campo = "denominazione", compilato = true }, { campo = "delegato", uguale = "si" }] }

[[passi]]
id = "ultimo"
titolo = "Ultimo"

[[passi.campi]]
id = "note"
etichetta = "Note"
tipo = "testo_lungo"
condizione = { tutte = [{ campo = "tipo", in = ["privato", "impresa"] }, { campo = "partita_iva", compilato = false }] }

[[allegati]]
id = "procura"
etichetta = "Procura"
obbligatorio = true
tipi = ["p7m", "pdf"]
file_max = 2
condizione = { campo = "delegato", uguale = "si" }

[[allegati]]
id = "foto"
etichetta = "Foto"
tipi = ["jpeg"]

[[dichiarazioni]]
id = "veridicita"
testo = "Dichiaro di essere consapevole delle sanzioni penali (DPR 445/2000, art. 76)."

[[dichiarazioni]]
id = "impegno_impresa"
testo = "Mi impegno a comunicare ogni variazione dei dati dell'impresa."
condizione = { campo = "tipo", uguale = "impresa" }
"#;

fn conditional() -> FormDefinition {
    FormDefinition::from_toml(CONDITIONAL).unwrap()
}

#[test]
fn hidden_fields_are_dropped_and_not_required() {
    let def = conditional();
    // "privato": partita_iva is hidden, so not required, and a posted value
    // is dropped even if valid.
    let answers = parse_step(
        &def,
        "primo",
        &raw(&[
            ("tipo", "privato"),
            ("partita_iva", "06363391001"),
            ("delegato", "no"),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    assert_eq!(answers.get("partita_iva"), None);
    assert_eq!(
        answers.get("tipo"),
        Some(&Value::Choice(vec!["privato".into()]))
    );
    // A hidden invalid value is not even parsed.
    assert!(
        parse_step(
            &def,
            "primo",
            &raw(&[
                ("tipo", "privato"),
                ("partita_iva", "nonsense"),
                ("delegato", "no")
            ]),
            &Answers::new(),
            today(),
        )
        .is_ok()
    );
    // "impresa": the same field is visible and required.
    let e = parse_step(
        &def,
        "primo",
        &raw(&[("tipo", "impresa"), ("delegato", "no")]),
        &Answers::new(),
        today(),
    )
    .unwrap_err();
    assert_eq!(e.codes(), ["modulo_campo_obbligatorio"]);
    assert_eq!(e.errors[0].field, "partita_iva");
    assert_eq!(e.errors[0].step.as_deref(), Some("primo"));
    assert_eq!(
        e.errors[0].message,
        "Il campo «Partita IVA» è obbligatorio."
    );
    // Changing the answer later removes the now hidden value.
    let impresa = parse_step(
        &def,
        "primo",
        &raw(&[
            ("tipo", "impresa"),
            ("partita_iva", "06363391001"),
            ("delegato", "no"),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    assert!(impresa.get("partita_iva").is_some());
    let back = parse_step(
        &def,
        "primo",
        &raw(&[("tipo", "privato"), ("delegato", "no")]),
        &impresa,
        today(),
    )
    .unwrap();
    assert_eq!(back.get("partita_iva"), None);
}

#[test]
fn conditions_read_earlier_steps_with_any_all_and_filled() {
    let def = conditional();
    let first = parse_step(
        &def,
        "primo",
        &raw(&[
            ("tipo", "impresa"),
            ("partita_iva", "06363391001"),
            ("delegato", "no"),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    // pec is shown once denominazione (same step, before it) is filled.
    let second = parse_step(
        &def,
        "impresa_dati",
        &raw(&[("denominazione", "Rossi srl"), ("pec", "rossi@pec.it")]),
        &first,
        today(),
    )
    .unwrap();
    assert!(second.get("pec").is_some());
    let without = parse_step(
        &def,
        "impresa_dati",
        &raw(&[("pec", "rossi@pec.it")]),
        &first,
        today(),
    )
    .unwrap_err();
    assert_eq!(without.codes(), ["modulo_campo_obbligatorio"]);
    // note: tipo in [..] AND partita_iva not filled → hidden for the impresa.
    let last = parse_step(&def, "ultimo", &raw(&[("note", "x")]), &second, today()).unwrap();
    assert_eq!(last.get("note"), None);
    let privato = parse_step(
        &def,
        "primo",
        &raw(&[("tipo", "privato"), ("delegato", "si")]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    let last = parse_step(&def, "ultimo", &raw(&[("note", "x")]), &privato, today()).unwrap();
    assert_eq!(last.get("note"), Some(&Value::Text("x".into())));
    // The hidden step cannot be posted.
    let hidden = parse_step(
        &def,
        "impresa_dati",
        &raw(&[("denominazione", "x")]),
        &privato,
        today(),
    )
    .unwrap_err();
    assert_eq!(hidden.codes(), ["modulo_passo_non_disponibile"]);
    let unknown = parse_step(&def, "nessuno", &raw(&[]), &privato, today()).unwrap_err();
    assert_eq!(unknown.codes(), ["modulo_passo_sconosciuto"]);
}

#[test]
fn tampered_and_unknown_keys_are_refused_control_keys_ignored() {
    let def = conditional();
    let ok_raw = raw(&[
        ("tipo", "privato"),
        ("delegato", "no"),
        ("csrf", "token"),
        ("_step", "primo"),
        ("_azione", "avanti"),
    ]);
    assert!(parse_step(&def, "primo", &ok_raw, &Answers::new(), today()).is_ok());
    for key in [
        "admin",
        "denominazione",
        "tipo.via",
        "note",
        "_other",
        "TIPO",
        "veridicita",
    ] {
        let mut tampered = ok_raw.clone();
        tampered.insert(key.to_owned(), vec!["1".to_owned()]);
        let e = parse_step(&def, "primo", &tampered, &Answers::new(), today()).unwrap_err();
        assert_eq!(e.codes(), ["modulo_campo_sconosciuto"], "{key}");
        assert_eq!(e.errors[0].field, key);
    }
    // Sub-keys only for compound fields, and only their own parts.
    let kinds = all_kinds();
    for key in [
        "particelle.via",
        "indirizzo.lat",
        "posizione.foglio",
        "particelle",
    ] {
        let e =
            parse_step(&kinds, "uno", &raw(&[(key, "1")]), &Answers::new(), today()).unwrap_err();
        assert_eq!(e.codes(), ["modulo_campo_sconosciuto"], "{key}");
    }
}

// ---------------------------------------------------------------------------
// Final validation, declarations, pre-filling, raw round trip
// ---------------------------------------------------------------------------

fn filled_privato(delegato: &str) -> Answers {
    let def = conditional();
    let a = parse_step(
        &def,
        "primo",
        &raw(&[("tipo", "privato"), ("delegato", delegato)]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    parse_step(&def, "ultimo", &raw(&[]), &a, today()).unwrap()
}

#[test]
fn validate_all_checks_fields_attachments_and_declarations() {
    let def = conditional();
    let answers = filled_privato("si");
    let e = validate_all(&def, &answers, &[]).unwrap_err();
    assert_eq!(
        e.codes(),
        [
            "modulo_allegato_obbligatorio",
            "modulo_dichiarazione_mancante"
        ]
    );
    // The impresa declaration does not apply to a privato.
    assert!(e.for_field("impegno_impresa").next().is_none());

    let confirmed =
        parse_declarations(&def, &raw(&[("veridicita", "on"), ("csrf", "t")]), &answers).unwrap();
    assert_eq!(confirmed.get("veridicita"), Some(&Value::Bool(true)));
    assert!(validate_all(&def, &confirmed, &[("procura", 1)]).is_ok());
    let too_many = validate_all(&def, &confirmed, &[("procura", 3), ("foto", 1)]).unwrap_err();
    assert_eq!(too_many.codes(), ["modulo_allegati_troppi"]);
    let unknown = validate_all(&def, &confirmed, &[("procura", 1), ("virus", 1)]).unwrap_err();
    assert_eq!(unknown.codes(), ["modulo_allegato_sconosciuto"]);

    // Not a delegate: the procura is not required.
    let not_delegate =
        parse_declarations(&def, &raw(&[("veridicita", "si")]), &filled_privato("no")).unwrap();
    assert!(validate_all(&def, &not_delegate, &[]).is_ok());

    // A required field missing (e.g. a draft that skipped a step).
    let e = validate_all(&def, &Answers::new(), &[]).unwrap_err();
    assert_eq!(e.errors[0].code, "modulo_campo_obbligatorio");
    assert_eq!(e.errors[0].field, "tipo");
}

#[test]
fn declarations_must_be_ticked_and_are_the_only_keys() {
    let def = conditional();
    let answers = filled_privato("no");
    let e = parse_declarations(&def, &raw(&[]), &answers).unwrap_err();
    assert_eq!(e.codes(), ["modulo_dichiarazione_mancante"]);
    assert!(
        e.errors[0]
            .message
            .contains("Dichiaro di essere consapevole")
    );
    let e = parse_declarations(
        &def,
        &raw(&[("veridicita", "on"), ("tipo", "impresa")]),
        &answers,
    )
    .unwrap_err();
    assert_eq!(e.codes(), ["modulo_campo_sconosciuto"]);
    let e = parse_declarations(&def, &raw(&[("veridicita", "no")]), &answers).unwrap_err();
    assert_eq!(e.codes(), ["modulo_dichiarazione_mancante"]);
}

#[test]
fn prefill_once_only_and_user_answers_win() {
    let def = predefinito("autorizzazione-paesaggistica-semplificata").unwrap();
    let ctx = PrefillContext::new()
        .with(Prefill::ProfiloNome, "Mario")
        .with(Prefill::ProfiloCognome, "Rossi")
        .with(Prefill::ProfiloCodiceFiscale, "RSSMRA85T10A562S")
        .with(Prefill::ProfiloEmail, "mario.rossi@example.it")
        .with(Prefill::AnagrafeDataNascita, "1985-12-10")
        .with(Prefill::AnagrafeLuogoNascita, "Bari")
        .with_residenza(Indirizzo {
            via: "Via Roma".into(),
            civico: Some("1".into()),
            cap: Some(crate::ids::Cap::parse("70010").unwrap()),
            comune: "Casamassima".into(),
        });
    let mut prefilled = prefill_step(&def, "dichiarante", &ctx, &Answers::new());
    assert_eq!(prefilled["nome"], ["Mario"]);
    assert_eq!(prefilled["residenza.cap"], ["70010"]);
    assert!(!prefilled.contains_key("telefono"), "no value known");
    prefilled.insert("presenta_per".into(), vec!["in_proprio".into()]);
    let answers = parse_step(&def, "dichiarante", &prefilled, &Answers::new(), today()).unwrap();
    assert_eq!(
        answers.get("data_nascita"),
        Some(&Value::Date(date(1985, 12, 10)))
    );
    // Once answered, the user's value is kept: nothing is pre-filled again.
    assert!(prefill_step(&def, "dichiarante", &ctx, &answers).is_empty());
    // A plain-text field takes the address on one line.
    let generic = FormDefinition::from_toml(
        r#"
codice = "x"
versione = 1
titolo = "X"
[[passi]]
id = "p"
titolo = "P"
[[passi.campi]]
id = "dove"
etichetta = "Dove"
tipo = "testo"
precompila = "anagrafe.indirizzo_residenza"
"#,
    )
    .unwrap();
    assert_eq!(
        prefill_step(&generic, "p", &ctx, &Answers::new())["dove"],
        ["Via Roma 1, 70010 Casamassima"]
    );
}

#[test]
fn answers_go_back_to_raw_and_survive_json() {
    let def = all_kinds();
    let posted = raw(&[
        ("testo", "Ciao"),
        ("lungo", "a\nb"),
        ("cf", "RSSMRA85T10A56NH"),
        ("piva", "06363391001"),
        ("data", "02/03/2026"),
        ("importo", "1.020,99"),
        ("numero", "7"),
        ("email", "a@example.it"),
        ("telefono", "+39 080 1234567"),
        ("scelta", "a"),
        ("multipla", "y"),
        ("multipla", "x"),
        ("sino", "no"),
        ("particelle.codice_catastale", "B923"),
        ("particelle.foglio", "12"),
        ("particelle.particella", "345"),
        ("particelle.subalterno", ""),
        ("indirizzo.via", "Via Roma"),
        ("indirizzo.civico", "1"),
        ("indirizzo.cap", "70010"),
        ("indirizzo.comune", "Casamassima"),
        ("posizione.lat", "41.1"),
        ("posizione.lon", "16.8"),
    ]);
    let answers = parse_step(&def, "uno", &posted, &Answers::new(), today()).unwrap();
    assert_eq!(answers.values.len(), 15);
    let again = answers_to_raw(&def, "uno", &answers);
    let reparsed = parse_step(&def, "uno", &again, &Answers::new(), today()).unwrap();
    assert_eq!(reparsed, answers);
    let json = serde_json::to_string(&answers).unwrap();
    let back: Answers = serde_json::from_str(&json).unwrap();
    assert_eq!(back, answers);
    assert!(json.contains(r#""cents","valore":102099"#), "{json}");
    // A stored draft with an invalid codice fiscale is refused on load.
    let tampered = json.replace("RSSMRA85T10A56NH", "RSSMRA85T10A56NX");
    assert!(serde_json::from_str::<Answers>(&tampered).is_err());
}

// ---------------------------------------------------------------------------
// Navigation and summary
// ---------------------------------------------------------------------------

#[test]
fn navigation_follows_conditional_steps() {
    let def = conditional();
    let none = Answers::new();
    // Before any answer the conditional step is hidden.
    assert_eq!(step_position(&def, "primo", &none), Some((1, 2)));
    let privato = filled_privato("no");
    let ids = |steps: Vec<&Step>| steps.into_iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(visible_steps(&def, &privato)), ["primo", "ultimo"]);
    assert_eq!(next_step(&def, "primo", &privato).unwrap().id, "ultimo");
    assert_eq!(previous_step(&def, "ultimo", &privato).unwrap().id, "primo");
    assert_eq!(step_position(&def, "ultimo", &privato), Some((2, 2)));
    assert_eq!(step_position(&def, "impresa_dati", &privato), None);
    assert!(next_step(&def, "ultimo", &privato).is_none());
    assert!(previous_step(&def, "primo", &privato).is_none());

    let impresa = parse_step(
        &def,
        "primo",
        &raw(&[
            ("tipo", "impresa"),
            ("partita_iva", "06363391001"),
            ("delegato", "no"),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    assert_eq!(
        ids(visible_steps(&def, &impresa)),
        ["primo", "impresa_dati", "ultimo"]
    );
    assert_eq!(
        next_step(&def, "primo", &impresa).unwrap().id,
        "impresa_dati"
    );
    assert_eq!(step_position(&def, "ultimo", &impresa), Some((3, 3)));
    // Resuming a draft: the first step not completed.
    assert_eq!(first_incomplete_step(&def, &none).unwrap().id, "primo");
    assert_eq!(
        first_incomplete_step(&def, &impresa).unwrap().id,
        "impresa_dati"
    );
    assert_eq!(first_incomplete_step(&def, &privato), None);
    // A completed step whose required field went missing is incomplete again.
    let mut broken = privato.clone();
    broken.values.remove("delegato");
    assert_eq!(first_incomplete_step(&def, &broken).unwrap().id, "primo");
}

#[test]
fn summary_in_italian() {
    let def = all_kinds();
    let answers = parse_step(
        &def,
        "uno",
        &raw(&[
            ("data", "2026-03-02"),
            ("importo", "1020,99"),
            ("scelta", "b"),
            ("multipla", "z"),
            ("multipla", "x"),
            ("sino", "si"),
            ("particelle.codice_catastale", "B923"),
            ("particelle.foglio", "12"),
            ("particelle.particella", "345"),
            ("particelle.subalterno", "6"),
            ("particelle.codice_catastale", "B923"),
            ("particelle.foglio", "13"),
            ("particelle.particella", "1"),
            ("posizione.via", "Via Bari"),
            ("posizione.comune", "Casamassima"),
            ("posizione.lat", "41.5"),
            ("posizione.lon", "16.25"),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    let sections = summary(&def, &answers);
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].title, "Primo passo");
    assert!(sections[1].rows.is_empty());
    let row = |label: &str| {
        sections[0]
            .rows
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(row("Data"), "02/03/2026");
    assert_eq!(row("Importo"), "1.020,99 €");
    assert_eq!(row("Scelta"), "Opzione B");
    assert_eq!(row("Scelta multipla"), "Ics, Zeta");
    assert_eq!(row("Sì o no"), "Sì");
    assert_eq!(
        row("Particelle"),
        "Foglio 12, particella 345, sub. 6 (B923); Foglio 13, particella 1 (B923)"
    );
    assert_eq!(
        row("Posizione"),
        "Via Bari, Casamassima — coordinate 41,500000 N, 16,250000 E"
    );
    // Unanswered fields have no row; rows follow the definition's order.
    let labels: Vec<&str> = sections[0].rows.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Data",
            "Importo",
            "Scelta",
            "Scelta multipla",
            "Sì o no",
            "Particelle",
            "Posizione"
        ]
    );
}

#[test]
fn summary_leaves_out_hidden_answers() {
    let def = conditional();
    let impresa = parse_step(
        &def,
        "primo",
        &raw(&[
            ("tipo", "impresa"),
            ("partita_iva", "06363391001"),
            ("delegato", "no"),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    let with_step = parse_step(
        &def,
        "impresa_dati",
        &raw(&[("denominazione", "Rossi srl")]),
        &impresa,
        today(),
    )
    .unwrap();
    // Back to "privato": the impresa step and its answer disappear.
    let privato = parse_step(
        &def,
        "primo",
        &raw(&[("tipo", "privato"), ("delegato", "no")]),
        &with_step,
        today(),
    )
    .unwrap();
    assert!(privato.get("denominazione").is_some(), "kept in the draft");
    let titles: Vec<String> = summary(&def, &privato)
        .into_iter()
        .map(|s| s.title)
        .collect();
    assert_eq!(titles, ["Primo", "Ultimo"]);
    assert_eq!(privato.visible_only(&def).get("denominazione"), None);
}

// ---------------------------------------------------------------------------
// Definitions: formats and validation
// ---------------------------------------------------------------------------

#[test]
fn toml_and_json_round_trip() {
    let mut defs = predefiniti();
    defs.push(all_kinds());
    defs.push(conditional());
    for def in defs {
        let toml = def.to_toml().unwrap();
        assert_eq!(FormDefinition::from_toml(&toml).unwrap(), def, "{toml}");
        let json = def.to_json().unwrap();
        assert_eq!(FormDefinition::from_json(&json).unwrap(), def, "{json}");
    }
    let toml = all_kinds().to_toml().unwrap();
    assert!(toml.contains("importo_max = \"10.000,00\""), "{toml}");
}

#[test]
fn unknown_keys_and_bad_syntax_are_errors() {
    let typo = CONDITIONAL.replacen("obbligatorio = true", "obbligatoria = true", 1);
    let e = FormDefinition::from_toml(&typo).unwrap_err();
    assert_eq!(e.code(), "modulo_definizione_sintassi");
    assert!(
        e.message_it().contains("obbligatoria"),
        "{}",
        e.message_it()
    );
    let bad_kind = CONDITIONAL.replacen("tipo = \"si_no\"", "tipo = \"booleano\"", 1);
    assert_eq!(
        FormDefinition::from_toml(&bad_kind).unwrap_err().code(),
        "modulo_definizione_sintassi"
    );
    let options_on_text = ALL_KINDS.replacen(
        "tipo = \"testo\"\nlunghezza_min",
        "tipo = \"testo\"\nopzioni = [{ valore = \"a\", etichetta = \"A\" }]\nlunghezza_min",
        1,
    );
    assert_ne!(options_on_text, ALL_KINDS);
    assert!(FormDefinition::from_toml(&options_on_text).is_err());
    let two_keys = CONDITIONAL.replacen(
        "{ campo = \"tipo\", uguale = \"impresa\" }",
        "{ campo = \"tipo\", uguale = \"impresa\", compilato = true }",
        1,
    );
    assert!(FormDefinition::from_toml(&two_keys).is_err());
    assert_eq!(
        FormDefinition::from_json("{\"codice\": 1}")
            .unwrap_err()
            .code(),
        "modulo_definizione_sintassi"
    );
}

/// The codes `validate` reports after `edit` on a copy of [`CONDITIONAL`].
fn codes_after(edit: impl FnOnce(&mut FormDefinition)) -> Vec<&'static str> {
    let mut def = conditional();
    edit(&mut def);
    def.validate()
        .unwrap_err()
        .iter()
        .map(Coded::code)
        .collect()
}

fn field_mut<'a>(def: &'a mut FormDefinition, id: &str) -> &'a mut Field {
    def.steps
        .iter_mut()
        .flat_map(|s| s.fields.iter_mut())
        .find(|f| f.id == id)
        .unwrap()
}

#[test]
fn validate_catches_each_definition_error() {
    assert_eq!(conditional().validate(), Ok(()));
    assert_eq!(
        codes_after(|d| d.version = 0),
        ["modulo_versione_non_valida"]
    );
    assert_eq!(
        codes_after(|d| d.code = "Con Spazi".into()),
        ["modulo_codice_non_valido"]
    );
    assert_eq!(
        codes_after(|d| d.steps.clear()).first(),
        Some(&"modulo_senza_passi")
    );
    assert_eq!(
        codes_after(|d| d.steps[2].fields.clear()),
        ["modulo_passo_vuoto"]
    );
    assert_eq!(
        codes_after(|d| d.title = " ".into()),
        ["modulo_testo_vuoto"]
    );
    assert_eq!(
        codes_after(|d| field_mut(d, "denominazione").id = "tipo".into()),
        ["modulo_id_duplicato", "modulo_condizione_campo_sconosciuto"]
    );
    assert_eq!(
        codes_after(|d| d.attachments[0].id = "delegato".into()),
        ["modulo_id_duplicato"]
    );
    assert_eq!(
        codes_after(|d| d.declarations[0].id = "primo".into()),
        ["modulo_id_duplicato"]
    );
    assert_eq!(
        codes_after(|d| field_mut(d, "note").id = "Note.x".into()),
        ["modulo_id_non_valido"]
    );
    // Conditions: unknown field, later field, own field, impossible value, empty list.
    assert_eq!(
        codes_after(|d| d.steps[1].condition = Some(Condition::Filled {
            field: "nessuno".into(),
            filled: true
        })),
        ["modulo_condizione_campo_sconosciuto"]
    );
    assert_eq!(
        codes_after(
            |d| field_mut(d, "partita_iva").condition = Some(Condition::Filled {
                field: "delegato".into(),
                filled: true
            })
        ),
        ["modulo_condizione_campo_successivo"]
    );
    assert_eq!(
        codes_after(|d| d.steps[1].condition = Some(Condition::Filled {
            field: "denominazione".into(),
            filled: true
        })),
        ["modulo_condizione_campo_successivo"],
        "a step's condition cannot read its own fields"
    );
    assert_eq!(
        codes_after(
            |d| field_mut(d, "delegato").condition = Some(Condition::Equals {
                field: "delegato".into(),
                value: "si".into()
            })
        ),
        ["modulo_condizione_campo_successivo"]
    );
    assert_eq!(
        codes_after(|d| d.steps[1].condition = Some(Condition::Equals {
            field: "tipo".into(),
            value: "ente".into()
        })),
        ["modulo_condizione_valore_non_ammesso"]
    );
    assert_eq!(
        codes_after(|d| d.attachments[0].condition = Some(Condition::In {
            field: "delegato".into(),
            values: vec!["vero".into()]
        })),
        ["modulo_condizione_valore_non_ammesso"]
    );
    assert_eq!(
        codes_after(|d| d.declarations[1].condition = Some(Condition::Any(vec![]))),
        ["modulo_condizione_vuota"]
    );
    // Choices.
    let set_options = |d: &mut FormDefinition, options: Vec<ChoiceOption>| {
        if let FieldKind::Scelta { options: o, .. } = &mut field_mut(d, "tipo").kind {
            *o = options;
        }
    };
    // With no options, conditions comparing with "impresa" are impossible too.
    assert_eq!(
        codes_after(|d| set_options(d, vec![]))[0],
        "modulo_scelte_vuote"
    );
    let opt = |v: &str| ChoiceOption {
        value: v.into(),
        label: v.to_uppercase(),
    };
    assert_eq!(
        codes_after(|d| set_options(d, vec![opt("privato"), opt("impresa"), opt("privato")])),
        ["modulo_scelta_duplicata"]
    );
    // Rules: incoherent bounds and rules on the wrong kind.
    assert_eq!(
        codes_after(|d| {
            let r = &mut field_mut(d, "denominazione").rules;
            r.min_length = Some(10);
            r.max_length = Some(5);
        }),
        ["modulo_limiti_incoerenti"]
    );
    assert_eq!(
        codes_after(|d| field_mut(d, "denominazione").rules.max_value = Some(5)),
        ["modulo_regola_non_applicabile"]
    );
    assert_eq!(
        codes_after(|d| field_mut(d, "note").rules.not_future = true),
        ["modulo_regola_non_applicabile"]
    );
    assert_eq!(
        codes_after(|d| field_mut(d, "tipo").rules.max_choices = Some(2)),
        ["modulo_regola_non_applicabile"],
        "scelte_max needs multipla"
    );
    assert_eq!(
        codes_after(|d| {
            let f = field_mut(d, "partita_iva");
            f.kind = FieldKind::Numero;
            f.rules.min_value = Some(10);
            f.rules.max_value = Some(1);
        }),
        ["modulo_limiti_incoerenti"]
    );
    assert_eq!(
        codes_after(|d| {
            let f = field_mut(d, "partita_iva");
            f.kind = FieldKind::Data;
            f.rules.not_future = true;
            f.rules.not_past = true;
        }),
        ["modulo_limiti_incoerenti"]
    );
    assert_eq!(
        codes_after(|d| {
            let f = field_mut(d, "partita_iva");
            f.kind = FieldKind::Importo;
            f.rules.min_amount = Some(Cents::from_cents(-1));
        }),
        ["modulo_limiti_incoerenti"]
    );
    assert_eq!(
        codes_after(|d| field_mut(d, "denominazione").prefill = Some(Prefill::AnagrafeDataNascita)),
        ["modulo_precompilazione_non_applicabile"]
    );
    assert_eq!(
        codes_after(|d| d.attachments[0].media_types.clear()),
        ["modulo_allegato_limiti_non_validi"]
    );
    assert_eq!(
        codes_after(|d| d.attachments[1].max_files = 0),
        ["modulo_allegato_limiti_non_validi"]
    );
    // from_toml validates too.
    let zero = CONDITIONAL.replacen("versione = 2", "versione = 0", 1);
    let e = FormDefinition::from_toml(&zero).unwrap_err();
    assert_eq!(e.code(), "modulo_versione_non_valida");
    assert_eq!(
        e.message_it(),
        "La versione del modulo deve essere almeno 1."
    );
}

#[test]
fn media_types() {
    assert_eq!(
        MediaType::from_file_name("Relazione.PDF"),
        Some(MediaType::Pdf)
    );
    assert_eq!(
        MediaType::from_file_name("tavola.pdf.p7m"),
        Some(MediaType::P7m)
    );
    assert_eq!(MediaType::from_file_name("foto.jpg"), Some(MediaType::Jpeg));
    assert_eq!(MediaType::from_file_name("virus.exe"), None);
    assert_eq!(MediaType::from_file_name("senza_estensione"), None);
    let def = conditional();
    assert!(def.attachments[0].accepts(MediaType::P7m));
    assert!(!def.attachments[0].accepts(MediaType::Png));
    assert_eq!(def.attachments[1].max_bytes, 20 * 1024 * 1024, "default");
}

// ---------------------------------------------------------------------------
// Shipped definitions, end to end
// ---------------------------------------------------------------------------

#[test]
fn paesaggistica_procura_only_for_a_delegate() {
    let def = predefinito("autorizzazione-paesaggistica-semplificata").unwrap();
    let in_proprio = Answers {
        values: [(
            "presenta_per".to_owned(),
            Value::Choice(vec!["in_proprio".into()]),
        )]
        .into(),
        ..Answers::default()
    };
    let per_conto = Answers {
        values: [(
            "presenta_per".to_owned(),
            Value::Choice(vec!["per_conto".into()]),
        )]
        .into(),
        ..Answers::default()
    };
    let att = |a: &Answers| -> Vec<String> {
        applicable_attachments(&def, a)
            .into_iter()
            .map(|s| s.id.clone())
            .collect()
    };
    assert!(!att(&in_proprio).contains(&"procura".to_owned()));
    assert!(att(&per_conto).contains(&"procura".to_owned()));
    assert_eq!(
        visible_steps(&def, &in_proprio).len() + 1,
        visible_steps(&def, &per_conto).len()
    );
    assert_eq!(
        step_position(&def, "titolo_e_luogo", &in_proprio),
        Some((2, 6))
    );
    assert_eq!(
        step_position(&def, "titolo_e_luogo", &per_conto),
        Some((3, 7))
    );
    // The Allegato B item is a number from 1 to 42.
    let intervento = |voce: &str| {
        parse_step(
            &def,
            "intervento",
            &raw(&[
                ("voce_allegato_b", voce),
                (
                    "descrizione_intervento",
                    "Sostituzione degli infissi esterni con altri di diverso materiale.",
                ),
                ("rinnovo", "no"),
            ]),
            &in_proprio,
            today(),
        )
    };
    assert!(intervento("42").is_ok());
    assert_eq!(
        intervento("43").unwrap_err().codes(),
        ["modulo_numero_fuori_intervallo"]
    );
}

#[test]
fn disservizio_accepts_a_map_pin_and_up_to_five_images() {
    let def = predefinito("segnalazione-disservizio").unwrap();
    let answers = parse_step(
        &def,
        "segnalazione",
        &raw(&[
            ("categoria", "illuminazione_pubblica"),
            ("luogo.lat", "40.9512"),
            ("luogo.lon", "16.9201"),
            ("titolo_segnalazione", "Lampione spento"),
            (
                "descrizione",
                "Il lampione davanti al civico 3 è spento da una settimana.",
            ),
        ]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    assert_eq!(step_position(&def, "segnalazione", &answers), Some((1, 2)));
    let images = def.attachments.iter().find(|a| a.id == "immagini").unwrap();
    assert_eq!(images.max_files, 5);
    assert!(images.accepts(MediaType::Png) && !images.accepts(MediaType::Pdf));
}

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

fn all_keys() -> Vec<String> {
    let def = all_kinds();
    let mut keys = Vec::new();
    for f in def.fields() {
        if f.kind.sub_keys().is_empty() {
            keys.push(f.id.clone());
        } else {
            for s in f.kind.sub_keys() {
                keys.push(format!("{}.{s}", f.id));
            }
        }
    }
    keys
}

fn arb_raw() -> impl Strategy<Value = RawAnswers> {
    let keys = all_keys();
    let key = prop_oneof![
        4 => proptest::sample::select(keys),
        1 => "\\PC{0,12}",
    ];
    let value = prop_oneof![
        "\\PC{0,24}",
        "[0-9./,+-]{0,12}",
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}",
        Just("si".to_owned()),
        Just("a".to_owned()),
        Just("B923".to_owned()),
    ];
    proptest::collection::btree_map(key, proptest::collection::vec(value, 0..4), 0..12)
}

proptest! {
    #[test]
    fn parsing_never_panics_and_round_trips(posted in arb_raw()) {
        let def = all_kinds();
        if let Ok(answers) = parse_step(&def, "uno", &posted, &Answers::new(), today()) {
            // Whatever was accepted reads back to the same answers and
            // summarises without panicking.
            for (id, value) in &answers.values {
                prop_assert!(value.fits(&def.field(id).unwrap().kind), "{id}");
            }
            let again = answers_to_raw(&def, "uno", &answers);
            let reparsed = parse_step(&def, "uno", &again, &Answers::new(), today());
            prop_assert_eq!(reparsed.as_ref(), Ok(&answers));
            let _ = summary(&def, &answers);
        }
        let _ = parse_step(&def, "due", &posted, &Answers::new(), today());
        let _ = parse_declarations(&def, &posted, &Answers::new());
    }

    #[test]
    fn every_field_kind_survives_arbitrary_text(text in "\\PC{0,40}", field in proptest::sample::select(all_keys())) {
        let def = all_kinds();
        let posted = raw(&[(field.as_str(), text.as_str())]);
        let _ = parse_step(&def, "uno", &posted, &Answers::new(), today());
    }
}

#[test]
fn a_value_left_in_a_hidden_field_does_not_show_other_fields() {
    let def = FormDefinition::from_toml(
        r#"
codice = "catena"
versione = 1
titolo = "Catena"
[[passi]]
id = "p1"
titolo = "Uno"
[[passi.campi]]
id = "a"
etichetta = "A"
tipo = "si_no"
obbligatorio = true
[[passi]]
id = "p2"
titolo = "Due"
condizione = { campo = "a", uguale = "si" }
[[passi.campi]]
id = "b"
etichetta = "B"
tipo = "si_no"
obbligatorio = true
[[passi]]
id = "p3"
titolo = "Tre"
[[passi.campi]]
id = "c"
etichetta = "C"
tipo = "testo"
obbligatorio = true
condizione = { campo = "b", uguale = "si" }
[[passi.campi]]
id = "d"
etichetta = "D"
tipo = "testo"
[[allegati]]
id = "doc"
etichetta = "Documento"
obbligatorio = true
tipi = ["pdf"]
condizione = { campo = "b", uguale = "si" }
"#,
    )
    .unwrap();
    let a_si = parse_step(&def, "p1", &raw(&[("a", "si")]), &Answers::new(), today()).unwrap();
    let b_si = parse_step(&def, "p2", &raw(&[("b", "si")]), &a_si, today()).unwrap();
    let e = parse_step(&def, "p3", &raw(&[]), &b_si, today()).unwrap_err();
    assert_eq!(e.codes(), ["modulo_campo_obbligatorio"]);
    // The user goes back and answers "no": step 2 disappears, its answer
    // stays in the draft but no longer counts.
    let a_no = parse_step(&def, "p1", &raw(&[("a", "no")]), &b_si, today()).unwrap();
    assert_eq!(a_no.get("b"), Some(&Value::Bool(true)));
    let last = parse_step(&def, "p3", &raw(&[("c", "x"), ("d", "y")]), &a_no, today()).unwrap();
    assert_eq!(last.get("c"), None, "c is hidden");
    assert_eq!(last.get("d"), Some(&Value::Text("y".into())));
    assert!(
        validate_all(&def, &last, &[]).is_ok(),
        "neither c nor doc required"
    );
    assert!(applicable_attachments(&def, &last).is_empty());
    assert_eq!(first_incomplete_step(&def, &last), None);
    let step3 = def.step("p3").unwrap();
    let shown: Vec<&str> = visible_fields(&def, step3, &last)
        .into_iter()
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(shown, ["d"]);
    assert_eq!(last.visible_only(&def).get("b"), None);
    // Back to "si": the kept answer counts again and c is required.
    let a_si_again = parse_step(&def, "p1", &raw(&[("a", "si")]), &last, today()).unwrap();
    let e = validate_all(&def, &a_si_again, &[]).unwrap_err();
    assert_eq!(
        e.codes(),
        ["modulo_campo_obbligatorio", "modulo_allegato_obbligatorio"]
    );
}

#[test]
fn the_example_in_the_documentation_is_valid() {
    let doc = include_str!("../../../../docs/moduli.md");
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let def = FormDefinition::from_toml(&doc[start..end]).unwrap();
    assert_eq!(def.code, "richiesta-contributo");
    assert_eq!(def.steps.len(), 2);
    // Every code a definition check can give is documented.
    for code in [
        "modulo_definizione_sintassi",
        "modulo_versione_non_valida",
        "modulo_codice_non_valido",
        "modulo_senza_passi",
        "modulo_passo_vuoto",
        "modulo_id_non_valido",
        "modulo_id_duplicato",
        "modulo_testo_vuoto",
        "modulo_condizione_campo_sconosciuto",
        "modulo_condizione_campo_successivo",
        "modulo_condizione_valore_non_ammesso",
        "modulo_condizione_vuota",
        "modulo_scelte_vuote",
        "modulo_scelta_duplicata",
        "modulo_regola_non_applicabile",
        "modulo_limiti_incoerenti",
        "modulo_precompilazione_non_applicabile",
        "modulo_allegato_limiti_non_validi",
        "modulo_campo_sconosciuto",
        "modulo_scelta_non_ammessa",
    ] {
        assert!(doc.contains(&format!("`{code}`")), "{code}");
    }
}

#[test]
fn attachment_files_are_checked_by_kind_and_size() {
    let def = predefinito("segnalazione-disservizio").unwrap();
    let images = def.attachments.iter().find(|a| a.id == "immagini").unwrap();
    assert_eq!(images.check_file("buca.JPG", 1000), Ok(MediaType::Jpeg));
    assert_eq!(
        images.check_file("buca.png", images.max_bytes),
        Ok(MediaType::Png)
    );
    let (code, message) = images.check_file("buca.pdf", 1000).unwrap_err();
    assert_eq!(code, "modulo_allegato_tipo_non_ammesso");
    assert!(message.contains("JPEG, PNG"), "{message}");
    let (code, message) = images
        .check_file("buca.png", images.max_bytes + 1)
        .unwrap_err();
    assert_eq!(code, "modulo_allegato_troppo_grande");
    assert!(message.contains("10 MB"), "{message}");
    assert_eq!(
        images.check_file("senza_estensione", 1).unwrap_err().0,
        "modulo_allegato_tipo_non_ammesso"
    );
}

#[test]
fn a_draft_from_an_older_version_must_be_completed_again() {
    let def = conditional();
    let mut answers =
        parse_declarations(&def, &raw(&[("veridicita", "si")]), &filled_privato("no")).unwrap();
    assert!(validate_all(&def, &answers, &[]).is_ok());
    // The option chosen was removed, or the field changed kind.
    answers
        .values
        .insert("tipo".into(), Value::Choice(vec!["ente".into()]));
    let e = validate_all(&def, &answers, &[]).unwrap_err();
    assert_eq!(e.codes(), ["modulo_campo_da_aggiornare"]);
    answers
        .values
        .insert("delegato".into(), Value::Text("no".into()));
    answers
        .values
        .insert("tipo".into(), Value::Choice(vec!["privato".into()]));
    let e = validate_all(&def, &answers, &[]).unwrap_err();
    assert_eq!(e.codes(), ["modulo_campo_da_aggiornare"]);
    assert_eq!(e.errors[0].field, "delegato");
    assert!(
        Value::Choice(vec!["x".into(), "y".into()]).fits(&FieldKind::Scelta {
            options: vec![
                ChoiceOption {
                    value: "x".into(),
                    label: "X".into()
                },
                ChoiceOption {
                    value: "y".into(),
                    label: "Y".into()
                },
            ],
            multiple: true
        })
    );
    assert!(
        !Value::Choice(vec!["x".into(), "y".into()]).fits(&FieldKind::Scelta {
            options: vec![
                ChoiceOption {
                    value: "x".into(),
                    label: "X".into()
                },
                ChoiceOption {
                    value: "y".into(),
                    label: "Y".into()
                },
            ],
            multiple: false
        })
    );
}

/// A step sent back with errors shows every field its own answers require:
/// here the art. 142 category, asked for by the choice typed just above it
/// in the same step (without JavaScript the citizen would otherwise be told
/// to fill a field the page does not show).
#[test]
fn a_step_sent_back_shows_the_fields_its_answers_require() {
    let def = predefinito("autorizzazione-paesaggistica-semplificata").unwrap();
    let step = def.step("vincolo").unwrap();
    let today = date(2026, 3, 2);
    let none = Answers::default();
    let mut raw = RawAnswers::new();
    raw.insert("tipo_vincolo".into(), vec!["art142".into()]);
    let err = parse_step(&def, "vincolo", &raw, &none, today).unwrap_err();
    assert!(
        err.errors.iter().any(|e| e.field == "lettera_art142"),
        "{err:?}"
    );
    let shown: Vec<&str> = fields_to_fill(&def, step, &none, &raw, today)
        .iter()
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(shown, ["tipo_vincolo", "lettera_art142"]);
    // The other choice asks for the decree instead.
    raw.insert("tipo_vincolo".into(), vec!["art136".into()]);
    let shown: Vec<&str> = fields_to_fill(&def, step, &none, &raw, today)
        .iter()
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(shown, ["tipo_vincolo", "estremi_decreto"]);
    // Nothing typed and nothing saved: only the choice.
    assert_eq!(
        fields_to_fill(&def, step, &none, &RawAnswers::new(), today).len(),
        1
    );
}
