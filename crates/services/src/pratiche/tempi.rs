//! TEMPI-01: the actual times of the procedures, per online service and
//! quarter, computed from the stored pratiche and their history for
//! publication (art. 1 c.28 L. 190/2012; art. 35 d.lgs. 33/2013; art. 2
//! c.4-bis L. 241/1990, "dato ulteriore" until its DPCM exists).
//!
//! [`App::tempi_procedimenti`] is the one computation behind every output
//! (the public page, its CSV and JSON downloads, the JSON API and
//! `palazzo pratiche tempi`): for each pratica of the comune it recomputes
//! the legal clock from the dated history ([`pratica_summary`]) and hands
//! the summaries to [`palazzo_domain::procedimento::tempi::aggregate`].
//! Only counts and durations come out: no name, no subject, no id.
//!
//! What counts as what (see also docs/istanze.md):
//! - *avviati*: pratiche received (protocol date) in the quarter;
//! - *conclusi*: pratiche with a final measure (accolta, respinta,
//!   improcedibile, divieto) or silenzio-assenso, in the quarter of that
//!   date; a SCIA whose control window closed without a divieto is
//!   concluded on the window's last day, and a silenzio-assenso the clock
//!   has reached counts even before the office records it
//!   ([`tacit_conclusion`]); a withdrawn pratica is started but never
//!   concluded;
//! - *durata*: net days from receipt to the measure, the suspensions
//!   (integration, 10-bis, opinions) not counted ([`Clock::days_elapsed_net`]);
//! - *entro il termine*: the measure came by the deadline; silenzio-assenso
//!   and a SCIA closed without a divieto always are (the law forms the
//!   outcome at the term);
//! - integration requests, 10-bis notices and requests to the substitute
//!   power are counted from the history.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::calendar::{Calendar, rome_date};
use palazzo_domain::procedimento::tempi::{self, PraticaSummary, TempiRow};
use palazzo_domain::procedimento::{Clock, ClockEvent, Esito, ProcedureDefinition};
use palazzo_store::*;
use serde::Serialize;

use super::definizioni::StoredDefinition;
use super::procedura::clock_events;
use crate::registro_giornaliero::tenant_calendar;
use crate::{App, ServiceResult};

/// Pratiche read per page.
const PAGE: i64 = 500;

/// One row of the published table: the domain's row with the service's
/// title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TempiServizio {
    /// The service card's title (the slug when the card is gone).
    pub service_title: String,
    /// The figures.
    #[serde(flatten)]
    pub row: TempiRow,
}

impl TempiServizio {
    /// Concluded after the deadline.
    #[must_use]
    pub fn concluded_late(&self) -> u32 {
        self.row
            .concluded
            .saturating_sub(self.row.concluded_in_term)
    }
}

/// The TEMPI-01 table of a comune.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TempiReport {
    /// The comune's name.
    pub comune: String,
    /// The day the open pratiche were looked at (Rome).
    pub as_of: Date,
    /// Only this year's quarters, if asked.
    pub year: Option<i16>,
    /// The years that have figures, newest first (for a year picker).
    pub years: Vec<i16>,
    /// Per service (by slug) then quarter.
    pub rows: Vec<TempiServizio>,
}

impl TempiReport {
    /// The table as CSV (the domain's columns, [`tempi::to_csv`]).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let rows: Vec<TempiRow> = self.rows.iter().map(|r| r.row.clone()).collect();
        tempi::to_csv(&rows)
    }
}

/// What TEMPI-01 needs of one pratica, from its procedure and the clock
/// events of its history on `today`; `None` when the clock cannot be
/// computed (an inconsistent history, logged by the caller).
#[must_use]
pub fn pratica_summary(
    service: &str,
    procedure: &ProcedureDefinition,
    calendar: &Calendar,
    events: &[ClockEvent],
    today: Date,
) -> Option<PraticaSummary> {
    let clock: Clock = procedure.clock(calendar, events, today).ok()?;
    let count = |f: fn(&ClockEvent) -> bool| {
        u32::try_from(events.iter().filter(|e| f(e)).count()).unwrap_or(u32::MAX)
    };
    // A tacit conclusion formed before a recorded measure wins: a refusal
    // after the silence is ineffective (art. 2 c.8-bis L. 241/1990), and
    // the SCIA had concluded when its window closed.
    let tacit_at = tacit_conclusion(&clock, today);
    let recorded = clock
        .decided
        .filter(|(d, _)| tacit_at.is_none_or(|(t, _)| *d <= t));
    let decided = recorded.or(tacit_at);
    let silenzio = matches!(decided, Some((_, Esito::SilenzioAssenso)));
    // A tacit conclusion is formed at the term, so always within it.
    let tacit = recorded.is_none() && decided.is_some();
    let net_days = match (recorded, decided) {
        (Some(_), _) => Some(clock.days_elapsed_net),
        // Tacit: from the start of the term to that day, the suspended
        // days (all within the term) not counted.
        (None, Some((d, _))) => Some(
            i64::from(clock.term_start.until(d).map_or(0, |s| s.get_days())) - clock.suspended_days,
        ),
        (None, None) => None,
    };
    Some(PraticaSummary {
        procedure_code: service.to_owned(),
        received: clock.received,
        concluded: decided.map(|(d, _)| d),
        net_days: net_days.map(|n| u32::try_from(n.max(0)).unwrap_or(0)),
        in_term: decided.is_some() && (tacit || silenzio || !clock.overdue),
        silenzio_assenso: silenzio,
        integration_requests: count(|e| matches!(e, ClockEvent::IntegrationRequested { .. })),
        preavvisi_10bis: u32::try_from(clock.preavvisi.len()).unwrap_or(u32::MAX),
        sostitutivo_requests: count(|e| matches!(e, ClockEvent::SostitutivoRequested { .. })),
    })
}

/// A conclusion the law forms without a measure, when none was recorded
/// and the applicant had not withdrawn before it:
/// - a SCIA whose control window closed without a divieto (art. 19 c.3
///   L. 241/1990): the procedure ends on the window's last day, as an
///   acceptance within the term (the activity stays lawful);
/// - a silenzio-assenso reached (art. 20 c.1) that no one has yet recorded
///   with "Registra silenzio-assenso": accepted the day after the
///   deadline.
fn tacit_conclusion(clock: &Clock, today: Date) -> Option<(Date, Esito)> {
    let not_withdrawn_by = |d: Date| clock.withdrawn.is_none_or(|w| w > d);
    let not_decided_by = |d: Date| clock.decided.is_none_or(|(at, _)| at > d);
    if let Some(end) = clock.scia_control_end {
        return (end < today && not_withdrawn_by(end) && not_decided_by(end))
            .then_some((end, Esito::Accolta));
    }
    match clock.silenzio_assenso_date {
        Some(d) if clock.silenzio_assenso_reached && not_withdrawn_by(d) => {
            Some((d, Esito::SilenzioAssenso))
        }
        _ => None,
    }
}

impl App {
    /// TEMPI-01 for comune `tenant` on `now`: every pratica summarised from
    /// its stored history ([`pratica_summary`]) and aggregated per service
    /// and quarter; with `year`, only that year's quarters. Public data:
    /// counts and durations only.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn tempi_procedimenti(
        &self,
        tenant: TenantId,
        year: Option<i16>,
        now: Timestamp,
    ) -> ServiceResult<TempiReport> {
        let t = self.tenant(tenant)?;
        let calendar = tenant_calendar(&t);
        let today = rome_date(now);
        let mut definitions: HashMap<(String, u32), Option<StoredDefinition>> = HashMap::new();
        let mut summaries = Vec::new();
        let mut after = PraticaId(0);
        loop {
            let page = self.db().pratiche_by_id(tenant, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for p in page {
                let key = (p.data.service_slug.clone(), p.data.definition_version);
                let def = match definitions.get(&key) {
                    Some(d) => d.clone(),
                    None => {
                        let d = self.service_definition(tenant, &key.0, Some(key.1)).await?;
                        definitions.insert(key, d.clone());
                        d
                    }
                };
                let Some(def) = def else { continue };
                let events = clock_events(&self.db().pratica_eventi(tenant, p.id).await?);
                match pratica_summary(
                    &p.data.service_slug,
                    &def.definition.procedure,
                    &calendar,
                    &events,
                    today,
                ) {
                    Some(s) => summaries.push(s),
                    None => tracing::warn!(pratica = p.id.0, "TEMPI-01: clock not computable"),
                }
            }
        }
        let all = tempi::aggregate(&summaries);
        let mut years: Vec<i16> = all.iter().map(|r| r.quarter.year).collect();
        years.sort_unstable_by(|a, b| b.cmp(a));
        years.dedup();
        let snap = self.portal(tenant).await?;
        let rows = all
            .into_iter()
            .filter(|r| year.is_none_or(|y| r.quarter.year == y))
            .map(|row| TempiServizio {
                service_title: snap
                    .service(&row.procedure_code)
                    .map_or_else(|| row.procedure_code.clone(), |s| s.data.title.clone()),
                row,
            })
            .collect();
        Ok(TempiReport {
            comune: t.data.name.clone(),
            as_of: today,
            year,
            years,
            rows,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;
    use palazzo_domain::procedimento::ProcedureDefinition;

    use super::*;

    #[test]
    fn summary_of_a_history() {
        let def = ProcedureDefinition::ordinario(30);
        let cal = Calendar::new();
        // Received Monday 2 March 2026 (deadline 1 April), integration
        // asked on 10 March and given on 22 March (12 days suspended:
        // deadline 13 April), accepted on 20 April: 49 gross days, 37 net,
        // late.
        let events = vec![
            ClockEvent::Received {
                date: date(2026, 3, 2),
            },
            ClockEvent::IntegrationRequested {
                date: date(2026, 3, 10),
            },
            ClockEvent::IntegrationAnswered {
                date: date(2026, 3, 22),
            },
            ClockEvent::Decided {
                date: date(2026, 4, 20),
                esito: Esito::Accolta,
            },
        ];
        let s = pratica_summary("x", &def, &cal, &events, date(2026, 6, 1)).unwrap();
        assert_eq!(s.received, date(2026, 3, 2));
        assert_eq!(s.concluded, Some(date(2026, 4, 20)));
        assert_eq!(s.net_days, Some(37));
        assert!(!s.in_term);
        assert_eq!(s.integration_requests, 1);
        // Accepted on 10 April instead: 27 net days, in term.
        let mut early = events.clone();
        early[3] = ClockEvent::Decided {
            date: date(2026, 4, 10),
            esito: Esito::Accolta,
        };
        let s = pratica_summary("x", &def, &cal, &early, date(2026, 6, 1)).unwrap();
        assert_eq!((s.net_days, s.in_term), (Some(27), true));
        // Open: not concluded, no duration.
        let s = pratica_summary("x", &def, &cal, &events[..3], date(2026, 6, 1)).unwrap();
        assert_eq!((s.concluded, s.net_days, s.in_term), (None, None, false));
        // Withdrawn: not concluded either.
        let mut withdrawn = events[..1].to_vec();
        withdrawn.push(ClockEvent::Withdrawn {
            date: date(2026, 3, 5),
        });
        let s = pratica_summary("x", &def, &cal, &withdrawn, date(2026, 6, 1)).unwrap();
        assert_eq!(s.concluded, None);
        // No receipt: no summary.
        assert!(pratica_summary("x", &def, &cal, &[], date(2026, 6, 1)).is_none());
    }

    #[test]
    fn a_scia_closes_with_its_control_window() {
        // SCIA filed Monday 2 February 2026: the 60-day control window
        // (art. 19 c.3) ends on Friday 3 April 2026.
        let def = ProcedureDefinition::scia(60);
        let cal = Calendar::new();
        let filed = vec![ClockEvent::Received {
            date: date(2026, 2, 2),
        }];
        // While the window runs: not concluded.
        let s = pratica_summary("scia", &def, &cal, &filed, date(2026, 4, 3)).unwrap();
        assert_eq!((s.concluded, s.net_days, s.in_term), (None, None, false));
        // The day after it closed without a divieto: concluded on its last
        // day, within the term, 60 net days, not a silenzio-assenso.
        let s = pratica_summary("scia", &def, &cal, &filed, date(2026, 4, 4)).unwrap();
        assert_eq!(s.concluded, Some(date(2026, 4, 3)));
        assert_eq!((s.net_days, s.in_term), (Some(60), true));
        assert!(!s.silenzio_assenso);
        // A divieto on 20 March concludes it then, 46 days after filing.
        let mut forbidden = filed.clone();
        forbidden.push(ClockEvent::Decided {
            date: date(2026, 3, 20),
            esito: Esito::Divieto,
        });
        let s = pratica_summary("scia", &def, &cal, &forbidden, date(2026, 6, 1)).unwrap();
        assert_eq!(
            (s.concluded, s.net_days, s.in_term),
            (Some(date(2026, 3, 20)), Some(46), true)
        );
        // Withdrawn during the window: never concluded; withdrawn after
        // it: it had concluded already.
        let mut early = filed.clone();
        early.push(ClockEvent::Withdrawn {
            date: date(2026, 3, 1),
        });
        let s = pratica_summary("scia", &def, &cal, &early, date(2026, 6, 1)).unwrap();
        assert_eq!(s.concluded, None);
        let mut late = filed.clone();
        late.push(ClockEvent::Withdrawn {
            date: date(2026, 5, 1),
        });
        let s = pratica_summary("scia", &def, &cal, &late, date(2026, 6, 1)).unwrap();
        assert_eq!(s.concluded, Some(date(2026, 4, 3)));
    }

    #[test]
    fn a_silence_not_yet_recorded_concludes_the_day_after_the_term() {
        // Received Monday 2 March 2026, 30 days: deadline Wednesday 1
        // April, silence means acceptance on 2 April (art. 20 c.1).
        let def = ProcedureDefinition::silenzio_assenso(30);
        let cal = Calendar::new();
        let filed = vec![ClockEvent::Received {
            date: date(2026, 3, 2),
        }];
        let s = pratica_summary("x", &def, &cal, &filed, date(2026, 4, 1)).unwrap();
        assert_eq!(s.concluded, None);
        let s = pratica_summary("x", &def, &cal, &filed, date(2026, 6, 1)).unwrap();
        assert_eq!(s.concluded, Some(date(2026, 4, 2)));
        assert_eq!(
            (s.net_days, s.in_term, s.silenzio_assenso),
            (Some(31), true, true)
        );
        // An express refusal by the deadline blocks the silence.
        let mut refused = filed.clone();
        refused.push(ClockEvent::Decided {
            date: date(2026, 3, 31),
            esito: Esito::Respinta,
        });
        let s = pratica_summary("x", &def, &cal, &refused, date(2026, 6, 1)).unwrap();
        assert_eq!(s.concluded, Some(date(2026, 3, 31)));
        assert!(!s.silenzio_assenso);
        // A refusal recorded after the silence is ineffective (art. 2
        // c.8-bis): still a silenzio-assenso on 2 April, within the term.
        let mut late = filed.clone();
        late.push(ClockEvent::Decided {
            date: date(2026, 4, 20),
            esito: Esito::Respinta,
        });
        let s = pratica_summary("x", &def, &cal, &late, date(2026, 6, 1)).unwrap();
        assert_eq!(s.concluded, Some(date(2026, 4, 2)));
        assert_eq!(
            (s.net_days, s.in_term, s.silenzio_assenso),
            (Some(31), true, true)
        );
        // The silence recorded by the office later is the same silence.
        let mut recorded = filed.clone();
        recorded.push(ClockEvent::Decided {
            date: date(2026, 4, 20),
            esito: Esito::SilenzioAssenso,
        });
        let s = pratica_summary("x", &def, &cal, &recorded, date(2026, 6, 1)).unwrap();
        assert_eq!(
            (s.concluded, s.net_days),
            (Some(date(2026, 4, 2)), Some(31))
        );
    }
}
