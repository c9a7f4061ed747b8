//! The F24 semplificato lines of a local-tax payment (section "IMU e altri
//! tributi locali", sezione EL; `taxes-pagopa.md` §5.1), built from a
//! computed IMU: codice tributo, codice ente (the comune's codice
//! catastale), the "Ravv.", "Immob. variati", "Acc." and "Saldo" boxes,
//! number of properties, year, detrazione and the amount in whole euro
//! (L. 296/2006 c.166, each line on its own).
//!
//! The F24 semplificato holds at most [`RIGHI_PER_MODELLO`] lines; more
//! lines need more forms ([`moduli`]).

use serde::{Deserialize, Serialize};

use super::imu::{CalcoloImu, CodiceTributo};
use crate::money::Cents;

/// Lines in the "motivo del pagamento" section of one F24 semplificato.
pub const RIGHI_PER_MODELLO: usize = 10;

/// Which payment of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Versamento {
    /// The acconto by 16 June (box "Acc.").
    Acconto,
    /// The saldo by 16 December (box "Saldo").
    Saldo,
    /// The whole year by 16 June (both boxes, c.762).
    UnicaSoluzione,
}

impl Versamento {
    /// Reads `acconto`, `saldo`, `unica` / `unica_soluzione`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Versamento> {
        match s.trim().to_ascii_lowercase().as_str() {
            "acconto" => Some(Versamento::Acconto),
            "saldo" => Some(Versamento::Saldo),
            "unica" | "unica_soluzione" | "unica-soluzione" => Some(Versamento::UnicaSoluzione),
            _ => None,
        }
    }

    /// `Acconto`, `Saldo`, `Unica soluzione`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Versamento::Acconto => "Acconto",
            Versamento::Saldo => "Saldo",
            Versamento::UnicaSoluzione => "Unica soluzione",
        }
    }
}

/// One line of the F24 semplificato.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RigoF24 {
    /// "EL" (enti locali).
    pub sezione: &'static str,
    /// The codice tributo.
    pub codice_tributo: String,
    /// The comune's codice catastale (B923 for Casamassima).
    pub codice_ente: String,
    /// Ravvedimento.
    pub ravvedimento: bool,
    /// Immobili variati.
    pub immobili_variati: bool,
    /// Acconto box.
    pub acconto: bool,
    /// Saldo box.
    pub saldo: bool,
    /// Numero immobili (3 digits at most).
    pub numero_immobili: u16,
    /// Anno di riferimento.
    pub anno: i16,
    /// Detrazione (3912 only).
    pub detrazione: Cents,
    /// Importo a debito versato, whole euro.
    pub importo: Cents,
}

/// The lines to pay `versamento` of `calc` to the comune `codice_ente`:
/// one per codice tributo with something to pay, in code order.
#[must_use]
pub fn da_imu(calc: &CalcoloImu, versamento: Versamento, codice_ente: &str) -> Vec<RigoF24> {
    calc.righe
        .iter()
        .filter_map(|r| {
            let (importo, detrazione) = match versamento {
                Versamento::Acconto => (r.acconto, r.detrazione_acconto),
                Versamento::Saldo => (
                    r.saldo,
                    Cents::from_cents(r.detrazione.cents() - r.detrazione_acconto.cents()),
                ),
                Versamento::UnicaSoluzione => (r.unica_soluzione, r.detrazione),
            };
            (importo > Cents::ZERO).then(|| RigoF24 {
                sezione: "EL",
                codice_tributo: r.codice.code().to_owned(),
                codice_ente: codice_ente.to_owned(),
                ravvedimento: false,
                immobili_variati: r.immobili_variati,
                acconto: versamento != Versamento::Saldo,
                saldo: versamento != Versamento::Acconto,
                numero_immobili: r.numero_immobili.min(999),
                anno: calc.anno,
                detrazione: if r.codice == CodiceTributo::AbitazionePrincipale {
                    detrazione
                } else {
                    Cents::ZERO
                },
                importo,
            })
        })
        .collect()
}

/// The lines split into forms of [`RIGHI_PER_MODELLO`] each.
#[must_use]
pub fn moduli(righi: &[RigoF24]) -> Vec<&[RigoF24]> {
    righi.chunks(RIGHI_PER_MODELLO).collect()
}

/// The total of some lines.
#[must_use]
pub fn totale(righi: &[RigoF24]) -> Cents {
    Cents::from_cents(righi.iter().map(|r| r.importo.cents()).sum())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::tributi::Quota;
    use crate::tributi::imu::{
        Aliquote, Categoria, Condizione, Immobile, Oggetto, Periodo, Possesso, Valore, calcola,
    };

    #[test]
    fn lines_of_acconto_saldo_and_single_payment() {
        let unit = |id: &str, cat: &str, rendita: i64, periodi: Vec<Periodo>| Immobile {
            id: id.into(),
            descrizione: id.into(),
            oggetto: Oggetto::Fabbricato {
                categoria: Categoria::parse(cat).unwrap(),
                rendite: vec![Valore {
                    dal: date(2000, 1, 1),
                    importo: Cents::from_cents(rendita),
                }],
            },
            possessi: vec![Possesso {
                dal: date(2015, 1, 1),
                al: None,
                quota: Quota::INTERA,
            }],
            periodi,
        };
        let home = Periodo {
            dal: date(2015, 1, 1),
            al: None,
            condizione: Condizione::AbitazionePrincipale { residenti: 1 },
        };
        let r = Aliquote::di_base(2026);
        let calc = calcola(
            2026,
            &[
                unit("villa", "A/1", 200_000, vec![home]),
                unit("negozio", "C/1", 150_000, vec![]),
                unit("capannone", "D/1", 300_000, vec![]),
            ],
            &r,
            Some(&r),
        )
        .unwrap();
        let acc = da_imu(&calc, Versamento::Acconto, "B923");
        let codes: Vec<&str> = acc.iter().map(|l| l.codice_tributo.as_str()).collect();
        assert_eq!(codes, ["3912", "3918", "3925", "3930"]);
        assert!(
            acc.iter()
                .all(|l| l.acconto && !l.saldo && l.codice_ente == "B923")
        );
        // 3912: 336,000 × 5‰ = 1,680 − 200 = 1,480; acconto 840 − 100.
        assert_eq!(acc[0].importo, Cents::from_cents(74_000));
        assert_eq!(acc[0].detrazione, Cents::from_cents(10_000));
        assert_eq!(acc[1].detrazione, Cents::ZERO);
        let saldo = da_imu(&calc, Versamento::Saldo, "B923");
        assert_eq!(saldo[0].importo, Cents::from_cents(74_000));
        assert_eq!(saldo[0].detrazione, Cents::from_cents(10_000));
        let unica = da_imu(&calc, Versamento::UnicaSoluzione, "B923");
        assert!(unica.iter().all(|l| l.acconto && l.saldo));
        // Acconto + saldo = the single payment, line by line.
        for ((a, s), u) in acc.iter().zip(&saldo).zip(&unica) {
            assert_eq!(a.importo.cents() + s.importo.cents(), u.importo.cents());
        }
        assert_eq!(
            totale(&unica).cents(),
            calc.righe
                .iter()
                .map(|r| r.unica_soluzione.cents())
                .sum::<i64>()
        );
        assert_eq!(moduli(&unica).len(), 1);
        assert_eq!(Versamento::parse("Saldo"), Some(Versamento::Saldo));
        assert_eq!(Versamento::parse("x"), None);
    }
}
