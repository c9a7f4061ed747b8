//! The certificate catalogue (issue 5, part 2; procedures.md §3.4,
//! ANA-02, ANA-03, ANA-05; DECISIONS 17).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::date;
use palazzo_domain::certificati::*;

#[test]
fn catalogue_is_the_issue_list_with_stable_codes() {
    let codes: Vec<&str> = TipoCertificato::ALL.iter().map(|t| t.code()).collect();
    assert_eq!(
        codes,
        [
            "residenza",
            "stato_famiglia",
            "residenza_stato_famiglia",
            "nascita",
            "cittadinanza",
            "esistenza_in_vita",
            "stato_civile",
            "storico_residenza"
        ]
    );
    for t in TipoCertificato::ALL {
        assert_eq!(TipoCertificato::from_code(t.code()), Some(t));
        assert!(t.title().starts_with("Certificato"), "{t:?}");
        assert!(!t.certifies().is_empty() && t.legal_basis().contains("223"));
    }
    assert_eq!(TipoCertificato::from_code("matrimonio"), None);
}

/// DPR 445/2000 art. 41 as DECISIONS 17 pins it: six calendar months for
/// states that can change, none for facts that cannot.
#[test]
fn validity() {
    use TipoCertificato::*;
    for t in [
        Residenza,
        StatoFamiglia,
        ResidenzaStatoFamiglia,
        Cittadinanza,
        EsistenzaInVita,
        StatoCivile,
    ] {
        assert_eq!(t.validity(), Validita::SeiMesi, "{t:?}");
        assert_eq!(
            t.validity().expires(date(2026, 11, 27)),
            Some(date(2027, 5, 27))
        );
    }
    for t in [Nascita, StoricoResidenza] {
        assert_eq!(t.validity().expires(date(2026, 11, 27)), None, "{t:?}");
    }
    // Clamped to the end of a shorter month.
    assert_eq!(
        Validita::SeiMesi.expires(date(2026, 8, 31)),
        Some(date(2027, 2, 28))
    );
    assert_eq!(
        Validita::SeiMesi.expires(date(2027, 8, 31)),
        Some(date(2028, 2, 29))
    );
}

/// ANA-02/ANA-03: €16 unless an exempt use is chosen, printed with its
/// reference; the civil-status certificate (nascita) is always exempt.
#[test]
fn bollo_and_exemptions() {
    assert_eq!(BOLLO.cents(), 1600);
    assert_eq!(Uso::Bollo.bollo().cents(), 1600);
    let school = Uso::from_code("scuola").unwrap();
    assert_eq!(school.bollo().cents(), 0);
    assert!(
        school.printed().contains("Tabella B, art. 11"),
        "{}",
        school.printed()
    );
    assert!(Uso::Bollo.printed().contains("16,00"));
    assert_eq!(Uso::from_code("gratis"), None);
    let mut codes: Vec<&str> = ESENZIONI.iter().map(|e| e.code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), ESENZIONI.len(), "codes are unique");
    assert!(!codes.contains(&"bollo"));
    assert!(
        ESENZIONI
            .iter()
            .all(|e| !e.label.is_empty() && !e.legal_ref.is_empty())
    );
    // A birth certificate asked "in bollo" is exempt all the same.
    let u = Uso::Bollo.for_type(TipoCertificato::Nascita);
    assert_eq!(u.bollo().cents(), 0);
    assert!(u.printed().contains("L. 405/1990"));
    assert_eq!(Uso::Bollo.for_type(TipoCertificato::Residenza), Uso::Bollo);
    assert_eq!(school.for_type(TipoCertificato::Residenza), school);
}

#[test]
fn citizenship_certificate_is_for_italians_only_and_the_sentence() {
    assert!(!TipoCertificato::Cittadinanza.issuable_to(false));
    assert!(TipoCertificato::Cittadinanza.issuable_to(true));
    assert!(TipoCertificato::Residenza.issuable_to(false));
    assert!(L183_SENTENCE.starts_with(
        "Il presente certificato non può essere prodotto agli organi della pubblica amministrazione"
    ));
}
