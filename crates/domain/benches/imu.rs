//! IMU positions per second (issue 7, "Speed": all the IMU positions of a
//! comune of 100,000 cadastral units in under one second).
//!
//! `cargo bench -p palazzo-domain --bench imu` builds a synthetic comune
//! of `PALAZZO_BENCH_UNITS` (default 100,000) units owned by about 60,000
//! taxpayers — main homes with pertinenze (exempt, and some A/1-A/8), let
//! dwellings, shops, offices, group-D buildings, building land and
//! farmland; a fifth bought or sold during the year, a third held in
//! shares, some inagibili or at canone concordato — and computes every
//! taxpayer's year (acconto at the previous year's rates, saldo, the F24
//! lines) on one thread, then on every core, then once more on one thread
//! with the working of every object (`calcola` instead of
//! `calcola_importi`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use jiff::civil::date;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::imu::{
    Aliquote, Categoria, Condizione, Immobile, Oggetto, Periodo, Possesso, Valore, calcola,
    calcola_importi,
};
use palazzo_domain::tributi::{Aliquota, Quota};

/// A small deterministic generator (xorshift64*), so every run computes
/// the same comune.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn building(cat: &str, rendita: i64) -> Oggetto {
    Oggetto::Fabbricato {
        categoria: Categoria::parse(cat).unwrap(),
        rendite: vec![Valore {
            dal: date(2000, 1, 1),
            importo: Cents::from_cents(rendita),
        }],
    }
}

fn comune(units: usize) -> Vec<Vec<Immobile>> {
    let mut rng = Rng(0x5EED_CA5A_3A55_1A00);
    let mut taxpayers = Vec::new();
    let mut made = 0;
    while made < units {
        let mut mine = Vec::new();
        let home_cat = if rng.below(50) == 0 { "A/1" } else { "A/2" };
        let n = 1 + rng.below(3) as usize;
        for k in 0..n {
            let (oggetto, periodi) = match (k, rng.below(10)) {
                (0, _) => (
                    building(home_cat, 40_000 + rng.below(120_000) as i64),
                    vec![Periodo {
                        dal: date(2010, 1, 1),
                        al: None,
                        condizione: Condizione::AbitazionePrincipale {
                            residenti: 1 + rng.below(2) as u8,
                        },
                    }],
                ),
                (_, 0..=2) => (
                    building("C/6", 5_000 + rng.below(20_000) as i64),
                    vec![Periodo {
                        dal: date(2010, 1, 1),
                        al: None,
                        condizione: Condizione::Pertinenza,
                    }],
                ),
                (_, 3..=5) => {
                    let mut p = Vec::new();
                    if rng.below(5) == 0 {
                        p.push(Periodo {
                            dal: date(2020, 1, 1),
                            al: None,
                            condizione: Condizione::CanoneConcordato,
                        });
                    }
                    if rng.below(20) == 0 {
                        p.push(Periodo {
                            dal: date(2026, 3, 10),
                            al: Some(date(2026, 9, 30)),
                            condizione: Condizione::Inagibile,
                        });
                    }
                    (building("A/3", 30_000 + rng.below(90_000) as i64), p)
                }
                (_, 6) => (building("C/1", 50_000 + rng.below(300_000) as i64), vec![]),
                (_, 7) => (building("A/10", 60_000 + rng.below(200_000) as i64), vec![]),
                (_, 8) => (
                    if rng.below(2) == 0 {
                        building("D/1", 200_000 + rng.below(2_000_000) as i64)
                    } else {
                        Oggetto::AreaFabbricabile {
                            valori: vec![Valore {
                                dal: date(2000, 1, 1),
                                importo: Cents::from_cents(
                                    2_000_000 + rng.below(20_000_000) as i64,
                                ),
                            }],
                        }
                    },
                    vec![],
                ),
                _ => (
                    Oggetto::TerrenoAgricolo {
                        redditi: vec![Valore {
                            dal: date(2000, 1, 1),
                            importo: Cents::from_cents(1_000 + rng.below(50_000) as i64),
                        }],
                    },
                    vec![],
                ),
            };
            let quota = match rng.below(3) {
                0 => Quota::new(1, 2).unwrap(),
                _ => Quota::INTERA,
            };
            let possessi = if rng.below(5) == 0 {
                // Bought or sold during the year.
                let day = date(2026, 1, 1)
                    .checked_add(jiff::Span::new().days(rng.below(365) as i64))
                    .unwrap();
                if rng.below(2) == 0 {
                    vec![Possesso {
                        dal: day,
                        al: None,
                        quota,
                    }]
                } else {
                    vec![Possesso {
                        dal: date(2012, 5, 4),
                        al: Some(day),
                        quota,
                    }]
                }
            } else {
                vec![Possesso {
                    dal: date(2012, 5, 4),
                    al: None,
                    quota,
                }]
            };
            mine.push(Immobile {
                id: format!("U{made}"),
                descrizione: format!(
                    "Foglio {} particella {} sub {}",
                    made / 1000,
                    made % 1000,
                    k + 1
                ),
                oggetto,
                possessi,
                periodi,
            });
            made += 1;
        }
        taxpayers.push(mine);
    }
    taxpayers
}

fn rates(anno: i16) -> Aliquote {
    Aliquote {
        abitazione_principale: Aliquota(600),
        altri_fabbricati: Aliquota(1060),
        gruppo_d: Aliquota(1060),
        aree_fabbricabili: Aliquota(1060),
        terreni: Aliquota(860),
        delibera: format!("Delibera C.C. n. 57/{}", anno - 1),
        ..Aliquote::di_base(anno)
    }
}

fn main() {
    let units: usize = std::env::var("PALAZZO_BENCH_UNITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let comune = comune(units);
    let now = rates(2026);
    let before = rates(2025);
    let run = |slice: &[Vec<Immobile>]| {
        let mut total = 0i64;
        for t in slice {
            let calc = calcola_importi(2026, t, &now, Some(&before)).unwrap();
            total += calc.totale_annuo.cents();
            black_box(&calc);
        }
        total
    };
    // Warm-up.
    black_box(run(&comune[..comune.len().min(2_000)]));
    let start = Instant::now();
    let total = run(&comune);
    let one = start.elapsed();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let chunk = comune.len().div_ceil(cores);
    let parallel: i64 = std::thread::scope(|s| {
        let handles: Vec<_> = comune.chunks(chunk).map(|c| s.spawn(|| run(c))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let all = start.elapsed();
    assert_eq!(total, parallel, "the same comune, the same tax");
    // With the working ("come è calcolato") of every object, as a
    // citizen's page shows it.
    let start = Instant::now();
    let mut with_text = 0i64;
    for t in &comune {
        let calc = calcola(2026, t, &now, Some(&before)).unwrap();
        with_text += calc.totale_annuo.cents();
        black_box(&calc);
    }
    let working = start.elapsed();
    assert_eq!(total, with_text, "the working changes no amount");
    println!(
        "IMU positions: {} taxpayers, {} units, year total {}",
        comune.len(),
        units,
        Cents::from_cents(total)
    );
    println!(
        "  one thread:   {:>8.3} s  {:>10.0} units/s  {:>10.0} positions/s",
        one.as_secs_f64(),
        units as f64 / one.as_secs_f64(),
        comune.len() as f64 / one.as_secs_f64()
    );
    println!(
        "  {cores} threads:    {:>8.3} s  {:>10.0} units/s",
        all.as_secs_f64(),
        units as f64 / all.as_secs_f64()
    );
    println!(
        "  with working: {:>8.3} s  {:>10.0} units/s (one thread)",
        working.as_secs_f64(),
        units as f64 / working.as_secs_f64()
    );
}
