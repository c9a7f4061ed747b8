//! TEMPI-01: procedure times per type and quarter (art. 1 c.28 L.
//! 190/2012; art. 2 c.4-bis L. 241/1990, not yet operational for lack of
//! the DPCM, so published as "dato ulteriore").
//!
//! Attribution: `started` counts in the quarter of receipt; everything
//! about the outcome (concluded, in term, durations, silenzio-assenso)
//! counts in the quarter of conclusion. The integration requests, the
//! 10-bis notices and the requests to the substitute power carry no date
//! in a summary: they
//! count in the quarter of conclusion, or of receipt while the pratica is
//! open.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Quarter {
    /// Year.
    pub year: i16,
    /// 1..=4.
    pub quarter: u8,
}

impl Quarter {
    /// The quarter containing `date`.
    #[must_use]
    pub fn of(date: Date) -> Self {
        // month() is 1..=12, so the quotient is 0..=3.
        let quarter = u8::try_from((date.month() - 1) / 3 + 1).unwrap_or(1);
        Quarter {
            year: date.year(),
            quarter,
        }
    }

    /// As printed: `2026-T1`.
    #[must_use]
    pub fn label(self) -> String {
        format!("{}-T{}", self.year, self.quarter)
    }
}

/// What TEMPI-01 needs to know about one pratica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PraticaSummary {
    /// The procedure type's code.
    pub procedure_code: String,
    /// Receipt date.
    pub received: Date,
    /// Conclusion date (express measure or silenzio-assenso), if concluded.
    pub concluded: Option<Date>,
    /// Net days receipt → measure, minus suspensions ([`super::Clock::days_elapsed_net`]).
    pub net_days: Option<u32>,
    /// Concluded within the deadline.
    pub in_term: bool,
    /// Concluded by silenzio-assenso.
    pub silenzio_assenso: bool,
    /// Number of integration requests (suspensions, art. 2 c.7).
    pub integration_requests: u32,
    /// Number of 10-bis notices.
    pub preavvisi_10bis: u32,
    /// Number of requests to the substitute power.
    pub sostitutivo_requests: u32,
}

/// One row of the TEMPI-01 table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TempiRow {
    /// Procedure type.
    pub procedure_code: String,
    /// Quarter.
    pub quarter: Quarter,
    /// Pratiche received in the quarter.
    pub started: u32,
    /// Pratiche concluded in the quarter.
    pub concluded: u32,
    /// Of which within the term.
    pub concluded_in_term: u32,
    /// `concluded_in_term / concluded × 100`, 2 decimals; `None` with no
    /// conclusions.
    pub pct_in_term: Option<f64>,
    /// Mean net days of the concluded ones, 2 decimals.
    pub mean_net_days: Option<f64>,
    /// Median net days (mean of the two middle values for an even count).
    pub median_net_days: Option<f64>,
    /// Longest net duration.
    pub max_net_days: Option<u32>,
    /// Concluded by silenzio-assenso.
    pub silenzio_assenso_count: u32,
    /// Integration requests (suspensions, art. 2 c.7).
    pub integration_requests: u32,
    /// 10-bis notices.
    pub preavvisi_10bis: u32,
    /// Requests to the substitute power.
    pub sostitutivo_requests: u32,
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[derive(Default)]
struct Acc {
    started: u32,
    concluded: u32,
    in_term: u32,
    net: Vec<u32>,
    silenzio: u32,
    integrazioni: u32,
    preavvisi: u32,
    sostitutivo: u32,
}

/// TEMPI-01: the table per procedure type and quarter, sorted by type then
/// quarter. Pure.
#[must_use]
pub fn aggregate(pratiche: &[PraticaSummary]) -> Vec<TempiRow> {
    let mut table: BTreeMap<(String, Quarter), Acc> = BTreeMap::new();
    for p in pratiche {
        let code = p.procedure_code.clone();
        table
            .entry((code.clone(), Quarter::of(p.received)))
            .or_default()
            .started += 1;
        let outcome_quarter = Quarter::of(p.concluded.unwrap_or(p.received));
        let acc = table.entry((code, outcome_quarter)).or_default();
        acc.integrazioni += p.integration_requests;
        acc.preavvisi += p.preavvisi_10bis;
        acc.sostitutivo += p.sostitutivo_requests;
        if p.concluded.is_some() {
            acc.concluded += 1;
            acc.in_term += u32::from(p.in_term);
            acc.silenzio += u32::from(p.silenzio_assenso);
            if let Some(net) = p.net_days {
                acc.net.push(net);
            }
        }
    }
    table
        .into_iter()
        .map(|((procedure_code, quarter), mut acc)| {
            acc.net.sort_unstable();
            let n = acc.net.len();
            let mean = (n > 0)
                .then(|| round2(acc.net.iter().map(|d| f64::from(*d)).sum::<f64>() / n as f64));
            let median = match n {
                0 => None,
                _ if n % 2 == 1 => acc.net.get(n / 2).map(|d| f64::from(*d)),
                _ => match (acc.net.get(n / 2 - 1), acc.net.get(n / 2)) {
                    (Some(a), Some(b)) => Some(round2((f64::from(*a) + f64::from(*b)) / 2.0)),
                    _ => None,
                },
            };
            TempiRow {
                procedure_code,
                quarter,
                started: acc.started,
                concluded: acc.concluded,
                concluded_in_term: acc.in_term,
                pct_in_term: (acc.concluded > 0)
                    .then(|| round2(f64::from(acc.in_term) * 100.0 / f64::from(acc.concluded))),
                mean_net_days: mean,
                median_net_days: median,
                max_net_days: acc.net.last().copied(),
                silenzio_assenso_count: acc.silenzio,
                integration_requests: acc.integrazioni,
                preavvisi_10bis: acc.preavvisi,
                sostitutivo_requests: acc.sostitutivo,
            }
        })
        .collect()
}

/// The table as CSV (header + one line per row; decimals with a dot),
/// for AT › Attività e procedimenti.
#[must_use]
pub fn to_csv(rows: &[TempiRow]) -> String {
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    let mut out = String::from(
        "procedimento,trimestre,avviati,conclusi,conclusi_nei_termini,percentuale_nei_termini,\
durata_media_netta,durata_mediana_netta,durata_massima_netta,silenzio_assenso,\
richieste_integrazione,preavvisi_10bis,richieste_potere_sostitutivo\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.procedure_code,
            r.quarter.label(),
            r.started,
            r.concluded,
            r.concluded_in_term,
            opt(r.pct_in_term),
            opt(r.mean_net_days),
            opt(r.median_net_days),
            r.max_net_days.map(|d| d.to_string()).unwrap_or_default(),
            r.silenzio_assenso_count,
            r.integration_requests,
            r.preavvisi_10bis,
            r.sostitutivo_requests,
        ));
    }
    out
}
