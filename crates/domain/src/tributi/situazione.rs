//! What a taxpayer paid of a year's tax and what remains (issue 7, part 3;
//! `taxes-pagopa.md` §5.2-5.3): the instalments due, the payments received
//! (F24 flows, pagoPA receipts), each instalment's paid and open amount,
//! and for an instalment past its due date the ravvedimento operoso to pay
//! it today — sanction and legal interest to the day.
//!
//! Payments are applied in date order to the instalments in due-date order
//! (the oldest debt first: a single payment of acconto and saldo covers
//! both). A payment made with "Ravv." ticked holds the tax with its
//! sanction and interest on the same line (Ris. AdE 35/E/2016 for the
//! IMU): only the tax's share of it covers the instalment — the amount in
//! the proportion of the tax to the tax plus the ravvedimento computed for
//! that day. What is paid beyond the year's tax is an excess (a refund or
//! a compensation for the office).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::ravvedimento::{self, Ravvedimento};
use crate::calendar::Calendar;
use crate::money::Cents;

/// An instalment due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dovuto {
    /// What it is, e.g. `Acconto`, `Rata 2 di 3`.
    pub etichetta: String,
    /// Its due date.
    pub scadenza: Date,
    /// The amount.
    pub importo: Cents,
    /// The bill it belongs to, when payments name theirs (the canone's
    /// yearly bill and each temporary occupation's notice): a payment of a
    /// group covers that group's instalments first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gruppo: Option<String>,
}

/// A payment received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagamento {
    /// When it was paid.
    pub data: Date,
    /// The amount paid (with sanction and interest when `ravvedimento`).
    pub importo: Cents,
    /// Paid with "Ravv." ticked: sanction and interest included.
    pub ravvedimento: bool,
    /// Where it comes from, e.g. `F24 del 16/06/2026` or `pagoPA`.
    pub fonte: String,
    /// The bill it pays, when known (see [`Dovuto::gruppo`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gruppo: Option<String>,
}

/// An instalment with what was paid of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatoRata {
    /// The instalment.
    pub dovuto: Dovuto,
    /// Tax paid towards it.
    pub pagato: Cents,
    /// Tax still open.
    pub residuo: Cents,
    /// Open and past its due date (moved past Saturdays and festivi).
    pub scaduta: bool,
    /// For an open instalment past due: the ravvedimento to pay it on the
    /// day the situation is computed for (none when the legal rate of a
    /// year is not known yet).
    pub ravvedimento: Option<Ravvedimento>,
}

/// A year's tax: instalments, payments and what remains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Situazione {
    /// Each instalment, in due-date order.
    pub rate: Vec<StatoRata>,
    /// The payments considered, in date order.
    pub pagamenti: Vec<Pagamento>,
    /// The year's tax.
    pub dovuto: Cents,
    /// The tax paid (sanctions and interest of ravvedimenti excluded).
    pub pagato: Cents,
    /// The tax still open.
    pub residuo: Cents,
    /// Of it, past due.
    pub scaduto: Cents,
    /// What to pay today for the past-due part: tax, sanction and
    /// interest.
    pub da_versare_oggi: Cents,
    /// Paid beyond the tax.
    pub eccedenza: Cents,
}

/// The tax share of a payment with ravvedimento for an instalment of which
/// `open` is unpaid: the largest tax (at most `open`) whose tax, sanction
/// and interest of that day, each rounded to the cent as the payer
/// computes them, fit in `amount` — so that a ravvedimento split on two
/// lines (TARI and TEFA) covers the instalment to the cent.
fn tax_share(amount: Cents, open: Cents, scadenza: Date, data: Date, calendar: &Calendar) -> Cents {
    let cost = |s: i64| share_total(s, scadenza, data, calendar);
    // The cost grows with the tax: binary search of the last share that
    // fits.
    let (mut lo, mut hi) = (0_i64, amount.cents().min(open.cents()));
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        if cost(mid) <= amount.cents() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Cents::from_cents(lo)
}

/// The situation of `dovuti` after `pagamenti`, on day `oggi`.
#[must_use]
pub fn situazione(
    dovuti: &[Dovuto],
    pagamenti: &[Pagamento],
    oggi: Date,
    calendar: &Calendar,
) -> Situazione {
    let mut rate: Vec<Dovuto> = dovuti.to_vec();
    rate.sort_by_key(|d| d.scadenza);
    let mut pagamenti: Vec<Pagamento> = pagamenti.to_vec();
    pagamenti.sort_by_key(|p| p.data);
    let mut paid = vec![0_i64; rate.len()];
    let mut eccedenza = 0_i64;
    for p in &pagamenti {
        let mut left = p.importo.cents();
        // A payment of a bill covers that bill's instalments first, then
        // the others, oldest first.
        let order: Vec<usize> = {
            let mine = |d: &Dovuto| p.gruppo.is_some() && d.gruppo == p.gruppo;
            let (first, rest): (Vec<usize>, Vec<usize>) =
                (0..rate.len()).partition(|&i| mine(&rate[i]));
            first.into_iter().chain(rest).collect()
        };
        for (i, d) in order.into_iter().map(|i| (i, &rate[i])) {
            if left <= 0 {
                break;
            }
            let open = d.importo.cents() - paid[i];
            if open <= 0 {
                continue;
            }
            if p.ravvedimento && p.data > d.scadenza {
                // The line holds the tax and its sanction and interest:
                // the tax's share covers the instalment, the rest is spent.
                let share = tax_share(
                    Cents::from_cents(left),
                    Cents::from_cents(open),
                    d.scadenza,
                    p.data,
                    calendar,
                )
                .cents();
                paid[i] += share;
                left = if share < open {
                    0
                } else {
                    left - share_total(share, d.scadenza, p.data, calendar)
                };
            } else {
                let take = left.min(open);
                paid[i] += take;
                left -= take;
            }
        }
        eccedenza += left.max(0);
    }
    let mut out = Vec::with_capacity(rate.len());
    let (mut scaduto, mut oggi_tot) = (0_i64, 0_i64);
    for (d, paid) in rate.into_iter().zip(paid) {
        let residuo = (d.importo.cents() - paid).max(0);
        let due = calendar
            .shift_term_end(d.scadenza, crate::calendar::TermRule::TaxPayment)
            .unwrap_or(d.scadenza);
        let scaduta = residuo > 0 && oggi > due;
        let ravvedimento = if scaduta {
            ravvedimento::calcola(Cents::from_cents(residuo), d.scadenza, oggi, calendar).ok()
        } else {
            None
        };
        if scaduta {
            scaduto += residuo;
            oggi_tot += ravvedimento.as_ref().map_or(residuo, |r| r.totale.cents());
        }
        out.push(StatoRata {
            dovuto: d,
            pagato: Cents::from_cents(paid),
            residuo: Cents::from_cents(residuo),
            scaduta,
            ravvedimento,
        });
    }
    let dovuto: i64 = out.iter().map(|r| r.dovuto.importo.cents()).sum();
    let pagato: i64 = out.iter().map(|r| r.pagato.cents()).sum();
    Situazione {
        dovuto: Cents::from_cents(dovuto),
        pagato: Cents::from_cents(pagato),
        residuo: Cents::from_cents(dovuto - pagato),
        scaduto: Cents::from_cents(scaduto),
        da_versare_oggi: Cents::from_cents(oggi_tot),
        eccedenza: Cents::from_cents(eccedenza),
        rate: out,
        pagamenti,
    }
}

/// What paying `share` of tax due on `scadenza` on `data` with
/// ravvedimento costs: the tax with its sanction and interest.
fn share_total(share: i64, scadenza: Date, data: Date, calendar: &Calendar) -> i64 {
    if share <= 0 {
        return 0;
    }
    ravvedimento::calcola(Cents::from_cents(share), scadenza, data, calendar)
        .map_or(share, |r| r.totale.cents())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::date;

    use super::*;

    fn dovuto(etichetta: &str, scadenza: Date, cents: i64) -> Dovuto {
        Dovuto {
            etichetta: etichetta.into(),
            scadenza,
            importo: Cents::from_cents(cents),
            gruppo: None,
        }
    }

    fn paid(data: Date, cents: i64, ravvedimento: bool) -> Pagamento {
        Pagamento {
            data,
            importo: Cents::from_cents(cents),
            ravvedimento,
            fonte: "F24".into(),
            gruppo: None,
        }
    }

    fn imu_2025() -> Vec<Dovuto> {
        vec![
            dovuto("Saldo", date(2025, 12, 16), 50_000),
            dovuto("Acconto", date(2025, 6, 16), 50_000),
        ]
    }

    #[test]
    fn a_single_payment_covers_both_instalments() {
        let cal = Calendar::new();
        let s = situazione(
            &imu_2025(),
            &[paid(date(2025, 6, 16), 100_000, false)],
            date(2026, 1, 10),
            &cal,
        );
        assert_eq!(s.rate[0].dovuto.etichetta, "Acconto");
        assert_eq!(
            (s.pagato, s.residuo, s.scaduto),
            (Cents::from_cents(100_000), Cents::ZERO, Cents::ZERO)
        );
        assert!(
            s.rate
                .iter()
                .all(|r| !r.scaduta && r.ravvedimento.is_none())
        );
        assert_eq!(s.eccedenza, Cents::ZERO);
    }

    #[test]
    fn example_i16_a_late_acconto_with_ravvedimento_covers_it() {
        // I-16: 500 € due 16/06/2025 paid 16/07/2025 with ravvedimento:
        // 6,25 sanction + 0,82 interest = 507,07. The acconto is covered,
        // nothing is left over.
        let cal = Calendar::new();
        let s = situazione(
            &imu_2025(),
            &[paid(date(2025, 7, 16), 50_707, true)],
            date(2025, 9, 1),
            &cal,
        );
        assert_eq!(s.rate[0].pagato, Cents::from_cents(50_000));
        assert_eq!(s.rate[0].residuo, Cents::ZERO);
        assert_eq!(s.rate[1].pagato, Cents::ZERO);
        assert_eq!(s.eccedenza, Cents::ZERO);
        // Before the saldo's due date nothing is past due.
        assert_eq!(s.scaduto, Cents::ZERO);
    }

    #[test]
    fn an_unpaid_saldo_shows_the_ravvedimento_of_today() {
        // The acconto paid on time, the saldo (500 €, 16/12/2025) not: on
        // 15/01/2026 it is 30 days late — the same band and sanction as
        // I-16 (25% × 1/2 × 1/10 = 1,25% → 6,25), interest at 2,00% for
        // the 15 days of 2025 (0,41) and 1,60% for the 15 of 2026 (0,33).
        let cal = Calendar::new();
        let s = situazione(
            &imu_2025(),
            &[paid(date(2025, 6, 16), 50_000, false)],
            date(2026, 1, 15),
            &cal,
        );
        let saldo = &s.rate[1];
        assert!(saldo.scaduta);
        assert_eq!(saldo.residuo, Cents::from_cents(50_000));
        let r = saldo.ravvedimento.as_ref().unwrap();
        assert_eq!(r.giorni, 30);
        assert_eq!(r.sanzione, Cents::from_cents(625));
        assert_eq!(r.interessi, Cents::from_cents(41 + 33));
        assert_eq!(s.scaduto, Cents::from_cents(50_000));
        assert_eq!(s.da_versare_oggi, Cents::from_cents(50_000 + 625 + 74));
        assert_eq!(s.residuo, Cents::from_cents(50_000));
    }

    #[test]
    fn partial_and_excess_payments() {
        let cal = Calendar::new();
        // 300 € by the acconto's date, 800 € later: the acconto is
        // covered first, then the saldo, 100 € paid beyond the tax.
        let s = situazione(
            &imu_2025(),
            &[
                paid(date(2025, 12, 1), 80_000, false),
                paid(date(2025, 6, 10), 30_000, false),
            ],
            date(2026, 2, 1),
            &cal,
        );
        assert_eq!(s.pagamenti[0].importo, Cents::from_cents(30_000));
        assert_eq!(s.rate[0].pagato, Cents::from_cents(50_000));
        assert_eq!(s.rate[1].pagato, Cents::from_cents(50_000));
        assert_eq!(s.eccedenza, Cents::from_cents(10_000));
        // Only 300 € paid: 200 € of the acconto and the saldo open, past
        // due on 1/2/2026.
        let s = situazione(
            &imu_2025(),
            &[paid(date(2025, 6, 10), 30_000, false)],
            date(2026, 2, 1),
            &cal,
        );
        assert_eq!(s.rate[0].residuo, Cents::from_cents(20_000));
        assert_eq!(s.scaduto, Cents::from_cents(70_000));
        assert!(s.da_versare_oggi > s.scaduto);
    }

    #[test]
    fn a_ravvedimento_split_on_two_lines_covers_the_instalment() {
        // A TARI instalment of 95,24 + TEFA 4,76 due 16/06/2025, paid a
        // month late on two lines (3944 and TEFA), each with its own
        // ravvedimento as the payer computes it: the instalment is covered
        // to the cent, nothing left open or over.
        let cal = Calendar::new();
        let due = date(2025, 6, 16);
        let on = date(2025, 7, 16);
        let line = |tax: i64| {
            ravvedimento::calcola(Cents::from_cents(tax), due, on, &cal)
                .unwrap()
                .totale
                .cents()
        };
        let s = situazione(
            &[dovuto("Rata 1 di 2", due, 10_000)],
            &[paid(on, line(9_524), true), paid(on, line(476), true)],
            date(2025, 9, 1),
            &cal,
        );
        assert_eq!(s.rate[0].pagato, Cents::from_cents(10_000));
        assert_eq!(
            (s.residuo, s.scaduto, s.eccedenza),
            (Cents::ZERO, Cents::ZERO, Cents::ZERO)
        );
    }

    #[test]
    fn a_due_date_on_a_sunday_moves_to_monday() {
        // 16/06/2024 was a Sunday: on Monday 17 the acconto is not late.
        let cal = Calendar::new();
        let s = situazione(
            &[dovuto("Acconto", date(2024, 6, 16), 10_000)],
            &[],
            date(2024, 6, 17),
            &cal,
        );
        assert!(!s.rate[0].scaduta);
        let s = situazione(
            &[dovuto("Acconto", date(2024, 6, 16), 10_000)],
            &[],
            date(2024, 6, 18),
            &cal,
        );
        assert!(s.rate[0].scaduta);
    }

    #[test]
    fn a_bill_payment_covers_its_own_bill_first() {
        // The canone: the yearly bill in two instalments and a temporary
        // occupation's notice between them; the occupation's notice paid
        // covers the occupation, not the oldest instalment.
        let with = |d: Dovuto, g: &str| Dovuto {
            gruppo: Some(g.into()),
            ..d
        };
        let dovuti = [
            with(dovuto("Rata 1", date(2026, 3, 31), 4_200), "permanenti"),
            with(dovuto("Occupazione", date(2026, 6, 1), 41_741), "occ"),
            with(dovuto("Rata 2", date(2026, 7, 31), 4_200), "permanenti"),
        ];
        let p = Pagamento {
            gruppo: Some("occ".into()),
            ..paid(date(2026, 5, 20), 41_741, false)
        };
        let s = situazione(
            &dovuti,
            std::slice::from_ref(&p),
            date(2026, 5, 21),
            &Calendar::new(),
        );
        let open: Vec<i64> = s.rate.iter().map(|r| r.residuo.cents()).collect();
        assert_eq!(open, vec![4_200, 0, 4_200]);
        // Beyond its bill, a payment goes to the oldest open instalment.
        let more = Pagamento {
            importo: Cents::from_cents(41_741 + 1_000),
            ..p
        };
        let s = situazione(&dovuti, &[more], date(2026, 5, 21), &Calendar::new());
        let open: Vec<i64> = s.rate.iter().map(|r| r.residuo.cents()).collect();
        assert_eq!(open, vec![3_200, 0, 4_200]);
        // Without a group: the oldest first, as always.
        let s = situazione(
            &dovuti,
            &[paid(date(2026, 5, 20), 41_741, false)],
            date(2026, 5, 21),
            &Calendar::new(),
        );
        let open: Vec<i64> = s.rate.iter().map(|r| r.residuo.cents()).collect();
        assert_eq!(open, vec![0, 4_200, 4_200]);
    }
}
