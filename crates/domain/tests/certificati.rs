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

mod composition {
    use jiff::civil::{Date, date};
    use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
    use palazzo_domain::cbor;
    use palazzo_domain::certificati::*;
    use palazzo_domain::ids::Sex;

    fn person(
        cf: &str,
        cognome: &str,
        nome: &str,
        sesso: Sex,
        nascita: Date,
        rapporto: &str,
    ) -> Soggetto {
        Soggetto {
            codice_fiscale: cf.into(),
            cognome: cognome.into(),
            nome: nome.into(),
            sesso,
            nascita,
            luogo_nascita: "Bari (BA)".into(),
            cittadinanza: Cittadinanza::ITALIANA,
            stato_civile: StatoCivile::Coniugato,
            rapporto: rapporto.into(),
        }
    }

    fn request(tipo: TipoCertificato) -> Richiesta {
        let anna = person(
            "BNCNNA82E70F262G",
            "Bianchi",
            "Anna",
            Sex::F,
            date(1982, 5, 30),
            "intestatario",
        );
        let mario = person(
            "RSSMRA80A01A662A",
            "Rossi",
            "Mario",
            Sex::M,
            date(1980, 1, 1),
            "coniuge",
        );
        Richiesta {
            tipo,
            uso: Uso::from_code("scuola").unwrap(),
            comune: "Casamassima".into(),
            codice_catastale: "B923".into(),
            provincia: "BA".into(),
            rilascio: date(2026, 11, 27),
            intestatario: anna.clone(),
            famiglia: vec![anna, mario],
            indirizzo: "Via Roma 12".into(),
            cap: "70010".into(),
            residente_dal: Some(date(2010, 3, 15)),
            provenienza: Some("Bari (BA)".into()),
            residenze: vec![
                Periodo {
                    dal: date(2005, 2, 1),
                    al: date(2010, 3, 14),
                    indirizzo: "Piazza Aldo Moro 3".into(),
                },
                Periodo {
                    dal: date(2001, 1, 1),
                    al: date(2005, 1, 31),
                    indirizzo: "Via Bari 1".into(),
                },
            ],
        }
    }

    fn value<'a>(c: &'a Contenuto, label: &str) -> Vec<&'a str> {
        c.pairs
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn each_type_prints_its_facts() {
        let c = compose(&request(TipoCertificato::Residenza)).unwrap();
        assert_eq!(value(&c, "Cognome"), ["Bianchi"]);
        assert_eq!(value(&c, "Codice fiscale"), ["BNCNNA82E70F262G"]);
        assert_eq!(value(&c, "Data di nascita"), ["30/05/1982"]);
        assert_eq!(
            value(&c, "Residenza"),
            ["Via Roma 12 - 70010 Casamassima (BA)"]
        );
        assert!(
            c.paragraphs[0].contains("nata a Bari (BA) il 30/05/1982 risulta iscritta"),
            "{:?}",
            c.paragraphs
        );

        let c = compose(&request(TipoCertificato::StatoFamiglia)).unwrap();
        assert_eq!(
            value(&c, "Intestatario"),
            ["Bianchi Anna, nata a Bari (BA) il 30/05/1982"]
        );
        assert_eq!(
            value(&c, "Coniuge"),
            ["Rossi Mario, nato a Bari (BA) il 01/01/1980"]
        );
        assert!(value(&c, "Residenza").is_empty());

        let c = compose(&request(TipoCertificato::ResidenzaStatoFamiglia)).unwrap();
        assert_eq!(value(&c, "Residenza").len(), 1);
        assert_eq!(value(&c, "Coniuge").len(), 1);

        let c = compose(&request(TipoCertificato::StatoCivile)).unwrap();
        assert_eq!(value(&c, "Stato civile"), ["coniugata"]);

        let c = compose(&request(TipoCertificato::Cittadinanza)).unwrap();
        assert_eq!(value(&c, "Cittadinanza"), ["italiana"]);

        let c = compose(&request(TipoCertificato::EsistenzaInVita)).unwrap();
        assert_eq!(value(&c, "Esistente in vita alla data del"), ["27/11/2026"]);

        // The storico lists the periods oldest first, then the current one.
        let c = compose(&request(TipoCertificato::StoricoResidenza)).unwrap();
        let labels: Vec<&str> = c.pairs.iter().skip(5).map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Dal 01/01/2001 al 31/01/2005",
                "Dal 01/02/2005 al 14/03/2010",
                "Dal 15/03/2010",
                "Provenienza"
            ]
        );
        assert_eq!(c.scadenza, None, "the storico does not expire");
    }

    /// ANA-02: every certificate prints the L. 183/2011 sentence, the use
    /// and the issue date; validity per DECISIONS 17.
    #[test]
    fn every_certificate_prints_the_sentence_the_use_and_the_dates() {
        for t in TipoCertificato::ALL {
            let c = compose(&request(t)).unwrap();
            let text = c.paragraphs.join("\n");
            assert!(text.contains(L183_SENTENCE), "{t:?}");
            assert!(text.contains("Rilasciato il 27/11/2026"), "{t:?}");
            match t {
                TipoCertificato::Nascita => {
                    assert!(text.contains("L. 405/1990"), "{t:?}: always exempt");
                    assert_eq!(c.uso.code(), "stato_civile");
                }
                _ => assert!(text.contains("Tabella B, art. 11"), "{t:?}: {text}"),
            }
            assert_eq!(
                c.scadenza.is_some(),
                t.validity() == Validita::SeiMesi,
                "{t:?}"
            );
            if let Some(d) = c.scadenza {
                assert_eq!(d, date(2027, 5, 27));
                assert!(text.contains("fino al 27/05/2027"));
            }
        }
    }

    #[test]
    fn refusals() {
        let mut r = request(TipoCertificato::Cittadinanza);
        r.intestatario.cittadinanza = Cittadinanza::from_code("AL").unwrap();
        r.famiglia[0].cittadinanza = r.intestatario.cittadinanza;
        assert_eq!(compose(&r).unwrap_err(), CompositionError::NonItalian);
        r.tipo = TipoCertificato::Residenza;
        assert!(
            compose(&r).is_ok(),
            "other certificates are issued to foreigners"
        );
        r.famiglia.remove(0);
        assert_eq!(
            compose(&r).unwrap_err(),
            CompositionError::HolderNotInFamily
        );
    }

    /// R9: the record is deterministic CBOR that decodes to itself, holds
    /// the printed pairs, and changes with any fact.
    #[test]
    fn the_record_is_deterministic_and_binds_every_fact() {
        let c = compose(&request(TipoCertificato::ResidenzaStatoFamiglia)).unwrap();
        let bytes = c.record_bytes().unwrap();
        assert_eq!(
            compose(&request(TipoCertificato::ResidenzaStatoFamiglia))
                .unwrap()
                .record_bytes()
                .unwrap(),
            bytes
        );
        let decoded = cbor::decode(&bytes).unwrap();
        assert_eq!(cbor::encode(&decoded).unwrap(), bytes, "canonical");
        let printed = decoded.get("stampato").unwrap().as_array().unwrap();
        assert_eq!(printed.len(), c.pairs.len());
        assert_eq!(
            decoded.get("tipo").unwrap().as_text(),
            Some("residenza_stato_famiglia")
        );
        let changes: [fn(&mut Richiesta); 6] = [
            |r| r.famiglia[1].nome = "Marco".into(),
            |r| r.indirizzo = "Via Roma 13".into(),
            |r| r.rilascio = date(2026, 11, 28),
            |r| r.uso = Uso::Bollo,
            |r| r.residenze.truncate(1),
            |r| r.famiglia[1].stato_civile = StatoCivile::Vedovo,
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut r = request(TipoCertificato::ResidenzaStatoFamiglia);
            change(&mut r);
            assert_ne!(
                compose(&r).unwrap().record_bytes().unwrap(),
                bytes,
                "change {i}"
            );
        }
    }
}
