//! The IMU calculator against an independent oracle (DECISIONS 33): the
//! year's tax is recomputed here from a day-by-day possession table — for
//! every month, the taxpayer's days against everyone else's, the month
//! going to whoever held it longer and, on equal days, to the one who
//! acquired it during the month (L. 160/2019 c.761) — and summed with one
//! integer denominator. Then: acconto = first-half tax at the previous
//! year's rates, saldo = the year's tax at the current rates − acconto,
//! each in whole euro per F24 line (c.762, L. 296/2006 c.166).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::civil::{Date, date};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::imu::{
    Aliquote, Categoria, CodiceTributo, Immobile, Oggetto, Possesso, Valore, calcola,
};
use palazzo_domain::tributi::{Aliquota, Quota, round_euro};
use proptest::prelude::*;

const SHARES: [(u32, u32); 6] = [(1, 1), (1, 2), (1, 3), (1, 4), (2, 3), (3, 4)];

/// Per month: the share the taxpayer is taxed on (0 if the month is not
/// theirs), by counting days.
fn oracle_months(year: i16, periods: &[(Date, Option<Date>, u32, u32)]) -> [(u32, u32); 12] {
    let mut out = [(0, 1); 12];
    for (m, slot) in out.iter_mut().enumerate() {
        let first = date(year, i8::try_from(m + 1).unwrap(), 1);
        // Per period: its days in the month, and the others' days.
        for (s, e, n, d) in periods {
            let mut mine = 0;
            let mut others = 0;
            let mut day = first;
            while day.month() == first.month() {
                if *s <= day && e.is_none_or(|e| day <= e) {
                    mine += 1;
                } else {
                    others += 1;
                }
                day = day.tomorrow().unwrap();
            }
            let acquired_here = s.year() == year && s.month() == first.month() && s.day() > 1;
            if mine > others || (mine == others && mine > 0 && acquired_here) {
                // Periods never overlap, and at most one can hold a
                // month by the majority rule.
                *slot = (*n, *d);
            }
        }
    }
    out
}

/// Tax in units of 1 / (100 × 100,000 × 12 × 12) cent for `months`.
fn oracle_tax(rendita: i64, molt: i128, rate: u32, months: &[(u32, u32)]) -> i128 {
    months
        .iter()
        .map(|(n, d)| {
            i128::from(rendita)
                * 105
                * molt
                * i128::from(rate)
                * i128::from(*n)
                * (12 / i128::from(*d))
        })
        .sum()
}

fn cents_half_up(num: i128, den: i128) -> i64 {
    i64::try_from((2 * num + den) / (2 * den)).unwrap()
}

fn periods_strategy() -> impl Strategy<Value = Vec<(Date, Option<Date>, u32, u32)>> {
    // Up to three disjoint periods in 2026, each a start day and a length;
    // the last may be open.
    prop::collection::vec((0i64..365, 1i64..200, 0usize..6), 1..4).prop_map(|raw| {
        let mut out = Vec::new();
        let mut cursor = date(2025, 12, 1);
        for (gap, len, share) in raw {
            let start = cursor
                .checked_add(jiff::Span::new().days(gap % 120))
                .unwrap();
            let end = start.checked_add(jiff::Span::new().days(len)).unwrap();
            let (n, d) = SHARES[share];
            out.push((start, Some(end), n, d));
            cursor = end.checked_add(jiff::Span::new().days(1)).unwrap();
        }
        if let Some(last) = out.last_mut()
            && last.0.year() <= 2026
        {
            last.1 = None;
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn imu_matches_the_day_by_day_oracle(
        periods in periods_strategy(),
        rendita in 1i64..500_000,
        cat in prop::sample::select(vec!["A/2", "A/10", "B/1", "C/1", "C/3", "C/6", "D/1", "D/5", "D/8"]),
        rate_now in 0u32..=1060,
        rate_before in 0u32..=1060,
        d_now in 760u32..=1060,
        d_before in 760u32..=1060,
    ) {
        let categoria = Categoria::parse(cat).unwrap();
        let molt = i128::from(categoria.moltiplicatore().unwrap());
        let im = Immobile {
            id: "u".into(),
            descrizione: "u".into(),
            oggetto: Oggetto::Fabbricato {
                categoria,
                rendite: vec![Valore { dal: date(1990, 1, 1), importo: Cents::from_cents(rendita) }],
            },
            possessi: periods
                .iter()
                .map(|(s, e, n, d)| Possesso { dal: *s, al: *e, quota: Quota::new(*n, *d).unwrap() })
                .collect(),
            periodi: vec![],
        };
        let mk = |anno, altri, d| Aliquote {
            altri_fabbricati: Aliquota(altri),
            gruppo_d: Aliquota(d),
            versamento_minimo: Cents::ZERO,
            ..Aliquote::di_base(anno)
        };
        let now = mk(2026, rate_now, d_now);
        let before = mk(2025, rate_before, d_before);
        let calc = calcola(2026, &[im], &now, Some(&before)).unwrap();

        let months = oracle_months(2026, &periods);
        let taxed: Vec<(u32, u32)> = months.iter().copied().filter(|(n, _)| *n > 0).collect();
        let first: Vec<(u32, u32)> = months[..6].iter().copied().filter(|(n, _)| *n > 0).collect();
        let den: i128 = 100 * 100_000 * 12 * 12;
        // The lines and their rates, now and in the previous year.
        let lines: Vec<(CodiceTributo, u32, u32)> = if categoria.gruppo() == 'D' {
            vec![
                (CodiceTributo::GruppoDStato, 760, 760),
                (CodiceTributo::GruppoDComune, d_now - 760, d_before - 760),
            ]
        } else {
            vec![(CodiceTributo::AltriFabbricati, rate_now, rate_before)]
        };
        for (code, r_now, r_before) in lines {
            let year = cents_half_up(oracle_tax(rendita, molt, r_now, &taxed), den);
            let acc = cents_half_up(oracle_tax(rendita, molt, r_before, &first), den);
            let line = calc.righe.iter().find(|r| r.codice == code);
            if taxed.is_empty() || (year == 0 && acc == 0) {
                prop_assert!(line.is_none_or(|l| l.annuo.cents() == 0 && l.acconto.cents() == 0), "{calc:?}");
                continue;
            }
            let line = line.expect("the line");
            prop_assert_eq!(line.annuo.cents(), year, "year tax of {:?}", code);
            prop_assert_eq!(line.acconto_calcolato.cents(), acc, "first half of {:?}", code);
            let acc_euro = round_euro(Cents::from_cents(acc));
            let year_euro = round_euro(Cents::from_cents(year));
            prop_assert_eq!(line.acconto, acc_euro);
            prop_assert_eq!(line.unica_soluzione, year_euro);
            prop_assert_eq!(line.saldo.cents(), (year_euro.cents() - acc_euro.cents()).max(0));
            prop_assert_eq!(line.credito.cents(), (acc_euro.cents() - year_euro.cents()).max(0));
        }
    }
}
