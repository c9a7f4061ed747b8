//! The L. 241/1990 procedure engine: term arithmetic, suspensions, 10-bis,
//! silenzio-assenso, SCIA, DPR 31/2017 phases, state machine, TEMPI-01.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use palazzo_domain::Coded;
use palazzo_domain::calendar::{Calendar, PatronSaint};
use palazzo_domain::procedimento::tempi::{self, PraticaSummary, Quarter};
use palazzo_domain::procedimento::{
    Azione, ClockEvent, Esito, Materia, ProcedureDefinition, ProcedureError, Ruolo, SOPRINTENDENZA,
    late_measure_sentence, stati, validita_paesaggistica,
};
use proptest::prelude::*;

fn cal() -> Calendar {
    Calendar::new()
}

fn received(d: Date) -> ClockEvent {
    ClockEvent::Received { date: d }
}

fn deadline(def: &ProcedureDefinition, events: &[ClockEvent], today: Date) -> Date {
    def.clock(&cal(), events, today).unwrap().deadline
}

fn code<T>(result: Result<T, ProcedureError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

// --- PROC-03: term arithmetic ----------------------------------------------

#[test]
fn thirty_days_from_monday_2_march_2026_is_1_april() {
    let def = ProcedureDefinition::ordinario(30);
    let clock = def
        .clock(&cal(), &[received(date(2026, 3, 2))], date(2026, 3, 10))
        .unwrap();
    assert_eq!(clock.deadline, date(2026, 4, 1));
    assert_eq!(clock.suspended_days, 0);
    assert_eq!(clock.days_elapsed_net, 8);
    assert_eq!(clock.days_left, Some(22));
    assert!(!clock.overdue);
    assert_eq!(clock.paused_until, None);
}

#[test]
fn a_deadline_on_a_festivo_moves_to_the_next_non_festivo_day() {
    let def = ProcedureDefinition::ordinario(30);
    let cases = [
        // Sunday 29 March → Monday 30 March.
        (date(2026, 2, 27), date(2026, 3, 30)),
        // Saturday 25 April (Liberazione) → Sunday 26 → Monday 27 April.
        (date(2026, 3, 26), date(2026, 4, 27)),
        // Tuesday 2 June (Festa della Repubblica) → Wednesday 3 June.
        (date(2026, 5, 3), date(2026, 6, 3)),
        // Easter Monday 6 April 2026 → Tuesday 7 April.
        (date(2026, 3, 7), date(2026, 4, 7)),
        // Saturday is not festivo: 30 days from 1 April is Saturday 1 May?
        // No: 1 May is a holiday; 2 May (Saturday) is a valid end.
        (date(2026, 4, 1), date(2026, 5, 2)),
    ];
    for (from, expected) in cases {
        assert_eq!(
            deadline(&def, &[received(from)], from),
            expected,
            "from {from}"
        );
    }
}

#[test]
fn the_patron_saint_moves_the_deadline() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [received(date(2026, 4, 13))];
    // Wednesday 13 May 2026 is an ordinary day...
    assert_eq!(
        deadline(&def, &events, date(2026, 4, 13)),
        date(2026, 5, 13)
    );
    // ...unless it is the comune's patron saint.
    let with_patron = Calendar::new().with_patron_saint(PatronSaint::parse("05-13").unwrap());
    let clock = def.clock(&with_patron, &events, date(2026, 4, 13)).unwrap();
    assert_eq!(clock.deadline, date(2026, 5, 14));
}

// --- Art. 2 c.7 integration --------------------------------------------------

#[test]
fn a_12_day_integration_moves_the_deadline_by_12_days() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 22),
        },
    ];
    let clock = def.clock(&cal(), &events, date(2026, 3, 25)).unwrap();
    assert_eq!(clock.suspended_days, 12);
    assert_eq!(clock.deadline, date(2026, 4, 13));
    // 23 gross days, 12 suspended: the clock resumed with the days left.
    assert_eq!(clock.days_elapsed_net, 11);
    assert_eq!(clock.paused_until, None);
}

#[test]
fn pause_convention_counts_r_minus_s_days() {
    // A pause from S to R suspends R − S days: one day for S = R − 1.
    let def = ProcedureDefinition::ordinario(30);
    for length in [1_i64, 2, 7, 29, 30] {
        let s = date(2026, 3, 10);
        let r = s.checked_add(jiff::Span::new().days(length)).unwrap();
        let events = [
            received(date(2026, 3, 2)),
            ClockEvent::IntegrationRequested { date: s },
            ClockEvent::IntegrationAnswered { date: r },
        ];
        let clock = def.clock(&cal(), &events, r).unwrap();
        assert_eq!(clock.suspended_days, length);
        // On S itself the clock is paused; on R it runs again.
        let paused = def.clock(&cal(), &events[..2], s).unwrap();
        assert!(paused.paused_until.is_some());
        assert_eq!(clock.paused_until, None);
    }
}

#[test]
fn an_unanswered_integration_ends_by_itself_after_30_days() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
    ];
    let during = def.clock(&cal(), &events, date(2026, 3, 20)).unwrap();
    assert_eq!(during.paused_until, Some(date(2026, 4, 9)));
    let after = def.clock(&cal(), &events, date(2026, 4, 20)).unwrap();
    assert_eq!(after.paused_until, None);
    assert_eq!(after.suspended_days, 30);
    // 1 April + 30 = Friday 1 May (holiday) → Saturday 2 May.
    assert_eq!(after.deadline, date(2026, 5, 2));
    assert!(!after.improcedibile);
    // A late answer does not extend the pause beyond 30 days.
    let mut late = events.to_vec();
    late.push(ClockEvent::IntegrationAnswered {
        date: date(2026, 4, 15),
    });
    assert_eq!(
        def.clock(&cal(), &late, date(2026, 4, 20))
            .unwrap()
            .suspended_days,
        30
    );
}

#[test]
fn a_second_integration_request_is_refused() {
    let def = ProcedureDefinition::ordinario(30);
    let events = vec![
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 12),
        },
    ];
    // Through the state machine: back in istruttoria, a second request.
    let second = def.transition(
        &cal(),
        stati::IN_ISTRUTTORIA,
        Azione::RichiestaIntegrazione,
        Ruolo::Responsabile,
        date(2026, 3, 15),
        &events,
    );
    assert_eq!(code(second), "procedura_integrazione_gia_richiesta");
    // And as events.
    let mut twice = events.clone();
    twice.push(ClockEvent::IntegrationRequested {
        date: date(2026, 3, 15),
    });
    assert_eq!(
        code(def.clock(&cal(), &twice, date(2026, 3, 16))),
        "procedura_integrazione_gia_richiesta"
    );
    // The first request was fine.
    let first = def
        .transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::RichiestaIntegrazione,
            Ruolo::Responsabile,
            date(2026, 3, 10),
            &events[..1],
        )
        .unwrap();
    assert_eq!(first.to, stati::SOSPESA_INTEGRAZIONE);
    assert_eq!(
        first.event,
        Some(ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10)
        })
    );
}

#[test]
fn interruption_gives_a_fresh_full_term_from_the_answer() {
    let mut def = ProcedureDefinition::ordinario(30);
    def.interruption = true;
    let events = [
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 22),
        },
    ];
    let clock = def.clock(&cal(), &events, date(2026, 3, 25)).unwrap();
    assert_eq!(clock.term_start, date(2026, 3, 22));
    assert_eq!(clock.deadline, date(2026, 4, 21));
    // Without the flag the same events only suspend (13 April).
    def.interruption = false;
    assert_eq!(
        deadline(&def, &events, date(2026, 3, 25)),
        date(2026, 4, 13)
    );
    // While waiting, the clock is paused.
    def.interruption = true;
    let waiting = def.clock(&cal(), &events[..2], date(2026, 3, 15)).unwrap();
    assert_eq!(waiting.paused_until, Some(date(2026, 4, 9)));
}

// --- Art. 10-bis ---------------------------------------------------------------

fn preavviso(on: Date) -> ClockEvent {
    ClockEvent::PreavvisoRigetto {
        date: on,
        received: on,
    }
}

#[test]
fn preavviso_with_observations_on_day_4_pauses_14_days() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [
        received(date(2026, 3, 2)),
        preavviso(date(2026, 3, 20)),
        ClockEvent::Osservazioni {
            date: date(2026, 3, 24),
        },
    ];
    let clock = def.clock(&cal(), &events, date(2026, 3, 25)).unwrap();
    assert_eq!(clock.suspended_days, 14);
    assert_eq!(clock.deadline, date(2026, 4, 15));
    assert_eq!(clock.paused_until, Some(date(2026, 4, 3)));
}

#[test]
fn preavviso_without_observations_pauses_10_days() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [received(date(2026, 3, 2)), preavviso(date(2026, 3, 20))];
    let clock = def.clock(&cal(), &events, date(2026, 4, 5)).unwrap();
    assert_eq!(clock.suspended_days, 10);
    // 1 April + 10 = Saturday 11 April (not festivo).
    assert_eq!(clock.deadline, date(2026, 4, 11));
    assert_eq!(clock.preavvisi[0].window_end, date(2026, 3, 30));
}

#[test]
fn refusal_waits_for_the_10_bis_window() {
    let def = ProcedureDefinition::ordinario(30);
    let base = vec![received(date(2026, 3, 2))];
    let refuse = |events: &[ClockEvent], state: &str, today: Date| {
        def.transition(
            &cal(),
            state,
            Azione::Rigetto,
            Ruolo::Dirigente,
            today,
            events,
        )
    };
    // No notice at all.
    assert_eq!(
        code(refuse(&base, stati::IN_ISTRUTTORIA, date(2026, 3, 20))),
        "procedura_rigetto_senza_preavviso"
    );
    // Notice received 20 March; observations possible until 30 March.
    let mut with_notice = base.clone();
    with_notice.push(preavviso(date(2026, 3, 20)));
    let early = refuse(&with_notice, stati::PREAVVISO_RIGETTO, date(2026, 3, 30));
    assert_eq!(
        early,
        Err(ProcedureError::RigettoPrimaDelTermine {
            from: date(2026, 3, 31)
        })
    );
    let ok = refuse(&with_notice, stati::PREAVVISO_RIGETTO, date(2026, 3, 31)).unwrap();
    assert_eq!(ok.to, stati::RESPINTA);
    assert_eq!(
        ok.event,
        Some(ClockEvent::Decided {
            date: date(2026, 3, 31),
            esito: Esito::Respinta
        })
    );
    // With observations on 24 March, the refusal waits for 3 April.
    let mut with_obs = with_notice.clone();
    with_obs.push(ClockEvent::Osservazioni {
        date: date(2026, 3, 24),
    });
    assert_eq!(
        code(refuse(&with_obs, stati::IN_ISTRUTTORIA, date(2026, 4, 3))),
        "procedura_rigetto_prima_del_termine"
    );
    assert!(refuse(&with_obs, stati::IN_ISTRUTTORIA, date(2026, 4, 4)).is_ok());
}

#[test]
fn exempt_procedures_refuse_without_10_bis() {
    let mut def = ProcedureDefinition::ordinario(30);
    def.preavviso_rigetto_applies = false;
    let def = def.with_default_machine();
    let events = [received(date(2026, 3, 2))];
    assert!(
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::Rigetto,
            Ruolo::Responsabile,
            date(2026, 3, 3),
            &events
        )
        .is_ok()
    );
    // And the notice itself is not part of its machine.
    assert_eq!(
        code(def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::PreavvisoRigetto,
            Ruolo::Responsabile,
            date(2026, 3, 3),
            &events
        )),
        "procedura_transizione_non_ammessa"
    );
}

// --- State machine -------------------------------------------------------------

#[test]
fn machine_rejects_wrong_state_and_wrong_role() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [received(date(2026, 3, 2))];
    let accept = |state: &str, role: Ruolo| {
        def.transition(
            &cal(),
            state,
            Azione::Accoglimento,
            role,
            date(2026, 3, 5),
            &events,
        )
    };
    assert_eq!(
        accept(stati::PRESENTATA, Ruolo::Responsabile),
        Err(ProcedureError::TransizioneNonAmmessa {
            state: stati::PRESENTATA.to_owned(),
            action: Azione::Accoglimento,
        })
    );
    assert_eq!(
        code(accept(stati::IN_ISTRUTTORIA, Ruolo::Cittadino)),
        "procedura_ruolo_non_ammesso"
    );
    let ok = accept(stati::IN_ISTRUTTORIA, Ruolo::Dirigente).unwrap();
    assert_eq!(ok.to, stati::ACCOLTA);
    // A closed pratica takes no more decisions.
    assert_eq!(
        code(accept(stati::ACCOLTA, Ruolo::Dirigente)),
        "procedura_transizione_non_ammessa"
    );
    let err = accept(stati::ACCOLTA, Ruolo::Dirigente).unwrap_err();
    assert!(
        err.message_it().contains("accoglimento"),
        "{}",
        err.message_it()
    );
}

#[test]
fn resuming_is_refused_while_the_pause_runs() {
    let def = ProcedureDefinition::ordinario(30);
    let events = [received(date(2026, 3, 2)), preavviso(date(2026, 3, 20))];
    let resume = |today| {
        def.transition(
            &cal(),
            stati::PREAVVISO_RIGETTO,
            Azione::RipresaIstruttoria,
            Ruolo::Sistema,
            today,
            &events,
        )
    };
    assert_eq!(
        resume(date(2026, 3, 29)),
        Err(ProcedureError::SospensioneInCorso {
            until: date(2026, 3, 30)
        })
    );
    assert_eq!(resume(date(2026, 3, 30)).unwrap().to, stati::IN_ISTRUTTORIA);
}

#[test]
fn every_preset_is_valid_and_uses_only_declared_states() {
    let presets = [
        ProcedureDefinition::ordinario(30),
        ProcedureDefinition::ordinario(90),
        ProcedureDefinition::silenzio_assenso(60),
        ProcedureDefinition::scia(60),
        ProcedureDefinition::scia(30),
        ProcedureDefinition::autorizzazione_paesaggistica_semplificata(),
        ProcedureDefinition::autorizzazione_paesaggistica_ordinaria(45),
        ProcedureDefinition::autorizzazione_paesaggistica_ordinaria(60),
        ProcedureDefinition::accesso_civico_generalizzato(),
        ProcedureDefinition::accesso_civico_semplice(),
    ];
    for def in presets {
        assert_eq!(def.validate(), Ok(()), "{}", def.code);
        assert!(!def.transitions.is_empty());
    }
}

#[test]
fn validation_reports_coded_errors() {
    let mut def = ProcedureDefinition::ordinario(0);
    def.code = String::new();
    def.transitions[0].to = "inesistente".to_owned();
    def.transitions[1].roles.clear();
    let errors = def.validate().unwrap_err();
    let codes: Vec<_> = errors.iter().map(Coded::code).collect();
    assert!(codes.contains(&"procedura_codice_mancante"), "{codes:?}");
    assert!(codes.contains(&"procedura_termine_nullo"), "{codes:?}");
    assert!(codes.contains(&"procedura_stato_sconosciuto"), "{codes:?}");
    assert!(
        codes.contains(&"procedura_transizione_senza_ruoli"),
        "{codes:?}"
    );

    let mut spaced = ProcedureDefinition::ordinario(30);
    spaced.code = "Accesso, civico".to_owned();
    assert_eq!(
        spaced.validate().unwrap_err().first().map(Coded::code),
        Some("procedura_codice_non_valido")
    );

    let mut long = ProcedureDefinition::ordinario(181);
    assert_eq!(
        long.validate(),
        Err(vec![ProcedureError::TermineOltre180 { days: 181 }])
    );
    long.term_by_special_law = true;
    assert_eq!(long.validate(), Ok(()));
    assert_eq!(ProcedureDefinition::ordinario(180).validate(), Ok(()));

    let mut dup = ProcedureDefinition::ordinario(30);
    let first = dup.transitions[0].clone();
    dup.transitions.push(first);
    assert_eq!(
        dup.validate().unwrap_err().first().map(Coded::code),
        Some("procedura_transizione_duplicata")
    );

    let mut scia = ProcedureDefinition::scia(60);
    scia.scia = Some(palazzo_domain::procedimento::Scia { control_days: 45 });
    assert_eq!(
        scia.validate().unwrap_err().first().map(Coded::code),
        Some("procedura_scia_termine_controllo")
    );

    let mut integration = ProcedureDefinition::ordinario(30);
    integration.integration.max_days = 31;
    assert_eq!(
        integration.validate().unwrap_err().first().map(Coded::code),
        Some("procedura_integrazione_durata_non_valida")
    );
}

#[test]
fn definitions_round_trip_through_json_and_reject_unknown_fields() {
    for def in [
        ProcedureDefinition::autorizzazione_paesaggistica_semplificata(),
        ProcedureDefinition::accesso_civico_generalizzato(),
        ProcedureDefinition::scia(30),
    ] {
        let json = serde_json::to_string(&def).unwrap();
        let back: ProcedureDefinition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, def);
    }
    let json = serde_json::to_value(ProcedureDefinition::ordinario(30)).unwrap();
    let mut obj = json.as_object().unwrap().clone();
    obj.insert("termine".to_owned(), serde_json::json!(30));
    assert!(serde_json::from_value::<ProcedureDefinition>(serde_json::Value::Object(obj)).is_err());
    // Defaults: term 30, 10-bis on, integration 30 days.
    let minimal = serde_json::json!({
        "code": "x", "title": "X", "legal_ref": "L. 241/1990", "materia": "altro",
        "initial_state": "presentata", "states": ["presentata"], "transitions": []
    });
    let def: ProcedureDefinition = serde_json::from_value(minimal).unwrap();
    assert_eq!(def.term_days, 30);
    assert!(def.preavviso_rigetto_applies);
    assert_eq!(def.integration.max_days, 30);
    assert_eq!(def.validate(), Ok(()));
    // Events serialise with a kind tag.
    let event = serde_json::to_value(ClockEvent::Osservazioni {
        date: date(2026, 3, 24),
    })
    .unwrap();
    assert_eq!(
        event,
        serde_json::json!({"kind": "osservazioni", "date": "2026-03-24"})
    );
}

// --- PROC-05 silenzio-assenso --------------------------------------------------

#[test]
fn silenzio_assenso_is_reached_the_day_after_the_deadline() {
    let def = ProcedureDefinition::silenzio_assenso(30);
    let events = vec![received(date(2026, 3, 2))];
    let on_deadline = def.clock(&cal(), &events, date(2026, 4, 1)).unwrap();
    assert_eq!(on_deadline.silenzio_assenso_date, Some(date(2026, 4, 2)));
    assert!(!on_deadline.silenzio_assenso_reached);
    let after = def.clock(&cal(), &events, date(2026, 4, 2)).unwrap();
    assert!(after.silenzio_assenso_reached);

    let record = |today| {
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::SilenzioAssenso,
            Ruolo::Sistema,
            today,
            &events,
        )
    };
    assert_eq!(
        record(date(2026, 4, 1)),
        Err(ProcedureError::SilenzioAssensoNonMaturato {
            from: Some(date(2026, 4, 2))
        })
    );
    assert_eq!(
        record(date(2026, 4, 2)).unwrap().to,
        stati::ACCOLTA_SILENZIO_ASSENSO
    );

    // A refusal notified by the deadline prevents it.
    let mut refused = events.clone();
    refused.push(ClockEvent::Decided {
        date: date(2026, 3, 31),
        esito: Esito::Respinta,
    });
    assert!(
        !def.clock(&cal(), &refused, date(2026, 4, 10))
            .unwrap()
            .silenzio_assenso_reached
    );
    // An ordinary procedure never reaches it.
    let ordinary = ProcedureDefinition::ordinario(30)
        .clock(&cal(), &events, date(2026, 5, 1))
        .unwrap();
    assert_eq!(ordinary.silenzio_assenso_date, None);
    assert!(!ordinary.silenzio_assenso_reached);
}

#[test]
fn silenzio_assenso_is_invalid_for_landscape_and_other_excluded_matters() {
    for materia in [
        Materia::Paesaggio,
        Materia::BeniCulturali,
        Materia::Ambiente,
        Materia::Salute,
        Materia::Immigrazione,
    ] {
        let mut def = ProcedureDefinition::silenzio_assenso(30);
        def.materia = materia;
        let errors = def.validate().unwrap_err();
        assert_eq!(
            errors,
            vec![ProcedureError::SilenzioAssensoMateriaEsclusa { materia }]
        );
        assert_eq!(
            errors[0].code(),
            "procedura_silenzio_assenso_materia_esclusa"
        );
        assert!(errors[0].message_it().contains("art. 20, c. 4"));
    }
    let mut building = ProcedureDefinition::silenzio_assenso(30);
    building.materia = Materia::Edilizia;
    assert_eq!(building.validate(), Ok(()));
}

// --- PROC-06 SCIA --------------------------------------------------------------

#[test]
fn scia_divieto_until_day_60_then_autotutela_for_12_months() {
    let def = ProcedureDefinition::scia(60);
    assert_eq!(def.initial_state, stati::EFFICACE);
    // Filed Monday 12 January 2026; day 60 is Friday 13 March.
    let events = [received(date(2026, 1, 12))];
    let clock = def.clock(&cal(), &events, date(2026, 1, 12)).unwrap();
    assert_eq!(clock.scia_control_end, Some(date(2026, 3, 13)));
    assert_eq!(clock.autotutela_limit, Some(date(2027, 3, 13)));
    let act = |action, today| {
        def.transition(
            &cal(),
            stati::EFFICACE,
            action,
            Ruolo::Responsabile,
            today,
            &events,
        )
    };
    assert_eq!(
        act(Azione::DivietoProsecuzione, date(2026, 3, 13))
            .unwrap()
            .to,
        stati::DIVIETO_PROSECUZIONE
    );
    assert_eq!(
        act(Azione::DivietoProsecuzione, date(2026, 3, 14)),
        Err(ProcedureError::SciaControlloScaduto {
            limit: date(2026, 3, 13)
        })
    );
    assert!(act(Azione::Autotutela, date(2027, 3, 13)).is_ok());
    assert_eq!(
        code(act(Azione::Autotutela, date(2027, 3, 15))),
        "procedura_autotutela_scaduta"
    );
    // A SCIA is never "overdue" just because the window passed.
    assert!(
        !def.clock(&cal(), &events, date(2026, 6, 1))
            .unwrap()
            .overdue
    );
}

#[test]
fn building_scia_has_a_30_day_window() {
    let def = ProcedureDefinition::scia(30);
    let events = [received(date(2026, 1, 12))];
    let act = |today| {
        def.transition(
            &cal(),
            stati::EFFICACE,
            Azione::DivietoProsecuzione,
            Ruolo::Dirigente,
            today,
            &events,
        )
    };
    assert!(act(date(2026, 2, 11)).is_ok());
    assert_eq!(
        code(act(date(2026, 2, 12))),
        "procedura_scia_controllo_scaduto"
    );
}

// --- PROC-07 / PROC-08 -----------------------------------------------------------

#[test]
fn late_measures_state_both_terms() {
    let def = ProcedureDefinition::ordinario(30);
    let mut events = vec![
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 22),
        },
    ];
    let on_time = {
        let mut e = events.clone();
        e.push(ClockEvent::Decided {
            date: date(2026, 4, 13),
            esito: Esito::Accolta,
        });
        def.clock(&cal(), &e, date(2026, 5, 1)).unwrap()
    };
    assert_eq!(on_time.late_statement, None);
    assert!(!on_time.overdue);
    events.push(ClockEvent::Decided {
        date: date(2026, 4, 20),
        esito: Esito::Accolta,
    });
    let late = def.clock(&cal(), &events, date(2026, 5, 1)).unwrap();
    // 49 gross days, 12 suspended.
    assert_eq!(late.days_elapsed_net, 37);
    assert!(late.overdue);
    assert_eq!(
        late.late_statement.as_deref(),
        Some("termine previsto: 30 giorni; termine impiegato: 37 giorni")
    );
    assert_eq!(late.days_left, None);
    assert_eq!(
        late_measure_sentence(45, 50),
        "termine previsto: 45 giorni; termine impiegato: 50 giorni"
    );
}

#[test]
fn potere_sostitutivo_has_half_the_term_rounded_up() {
    // Odd term: 45 days → 23.
    let def = ProcedureDefinition::ordinario(45);
    let events = vec![received(date(2026, 3, 2))];
    assert_eq!(deadline(&def, &events, date(2026, 3, 2)), date(2026, 4, 16));
    let ask = |events: &[ClockEvent], today| {
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::RichiestaPotereSostitutivo,
            Ruolo::Cittadino,
            today,
            events,
        )
    };
    assert_eq!(
        ask(&events, date(2026, 4, 16)),
        Err(ProcedureError::SostitutivoPrimaDellaScadenza {
            deadline: date(2026, 4, 16)
        })
    );
    let t = ask(&events, date(2026, 4, 20)).unwrap();
    assert_eq!(t.to, stati::IN_ISTRUTTORIA);
    let mut with_request = events.clone();
    with_request.push(t.event.unwrap());
    let clock = def.clock(&cal(), &with_request, date(2026, 4, 21)).unwrap();
    assert_eq!(clock.sostitutivo_deadline, Some(date(2026, 5, 13)));
    assert_eq!(
        code(ask(&with_request, date(2026, 4, 22))),
        "procedura_sostitutivo_gia_richiesto"
    );

    // Term 31 → 16 days; term 30 → 15 days.
    for (term, half) in [(31_u32, 16_i16), (30, 15), (1, 1)] {
        let def = ProcedureDefinition::ordinario(term);
        let events = [
            received(date(2026, 1, 1)),
            ClockEvent::SostitutivoRequested {
                date: date(2026, 9, 1),
            },
        ];
        let got = def
            .clock(&cal(), &events, date(2026, 9, 2))
            .unwrap()
            .sostitutivo_deadline;
        // 1 September 2026 is a Tuesday: +15/16 lands on a Wednesday/Thursday,
        // +1 on a Wednesday — no festivo shift.
        assert_eq!(
            got,
            Some(date(2026, 9, 1 + i8::try_from(half).unwrap())),
            "term {term}"
        );
    }
}

// --- Accesso civico --------------------------------------------------------------

#[test]
fn controinteressati_suspend_the_foia_term_for_up_to_10_days() {
    let def = ProcedureDefinition::accesso_civico_generalizzato();
    let notified = ClockEvent::ControinteressatiNotified {
        date: date(2026, 3, 5),
        received: date(2026, 3, 7),
    };
    let events = vec![received(date(2026, 3, 2)), notified];
    // No opposition: suspended from 5 March to 17 March (received + 10).
    let clock = def.clock(&cal(), &events, date(2026, 3, 20)).unwrap();
    assert_eq!(clock.suspended_days, 12);
    assert_eq!(clock.deadline, date(2026, 4, 13));
    // Opposition on 10 March: 5 days; 1 April + 5 = Easter Monday → 7 April.
    let mut opposed = events.clone();
    opposed.push(ClockEvent::Opposizione {
        date: date(2026, 3, 10),
    });
    assert_eq!(
        deadline(&def, &opposed, date(2026, 3, 20)),
        date(2026, 4, 7)
    );
    // FOIA refusals need no 10-bis; semplice has no controinteressati.
    assert!(
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::Rigetto,
            Ruolo::Responsabile,
            date(2026, 3, 20),
            &events
        )
        .is_ok()
    );
    // Art. 5 c.6: released no earlier than 15 days after the acceptance
    // reaches the controinteressato (a "not before" date, never shifted).
    let rule = def.controinteressati.unwrap();
    assert_eq!(
        rule.release_not_before(date(2026, 4, 10)).unwrap(),
        date(2026, 4, 25)
    );
    let semplice = ProcedureDefinition::accesso_civico_semplice();
    assert_eq!(
        code(semplice.clock(&cal(), &events, date(2026, 3, 20))),
        "procedura_controinteressati_non_previsti"
    );
    assert_eq!(
        deadline(&semplice, &events[..1], date(2026, 3, 2)),
        date(2026, 4, 1)
    );
}

// --- PAE-02 DPR 31/2017 --------------------------------------------------------

fn sent(on: Date) -> ClockEvent {
    ClockEvent::PareriRequested {
        date: on,
        body: SOPRINTENDENZA.to_owned(),
    }
}

#[test]
fn dpr_31_2017_full_path_with_soprintendenza_silence() {
    let def = ProcedureDefinition::autorizzazione_paesaggistica_semplificata();
    let mut events = vec![received(date(2026, 3, 2))];
    // The one request for documents, within 10 days.
    let t = def
        .transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::RichiestaIntegrazione,
            Ruolo::Responsabile,
            date(2026, 3, 5),
            &events,
        )
        .unwrap();
    events.push(t.event.unwrap());
    events.push(ClockEvent::IntegrationAnswered {
        date: date(2026, 3, 15),
    });
    let clock = def.clock(&cal(), &events, date(2026, 3, 16)).unwrap();
    let phases = clock.phases.clone().unwrap();
    // 20 days net of the 10 suspended: 2 March + 30 = 1 April.
    assert_eq!(phases.send_by, date(2026, 4, 1));
    // 60 + 10: 11 May.
    assert_eq!(clock.deadline, date(2026, 5, 11));
    assert_eq!(phases.total_by, clock.deadline);
    assert_eq!(phases.sent, None);

    // Sent 31 March; opinion due by 20 April.
    let t = def
        .transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::RichiestaParere,
            Ruolo::Responsabile,
            date(2026, 3, 31),
            &events,
        )
        .unwrap();
    assert_eq!(t.to, stati::IN_ATTESA_PARERE);
    assert_eq!(t.event, Some(sent(date(2026, 3, 31))));
    events.push(t.event.unwrap());
    let on_20 = def.clock(&cal(), &events, date(2026, 4, 20)).unwrap();
    let p20 = on_20.phases.unwrap();
    assert_eq!(p20.opinion_by, Some(date(2026, 4, 20)));
    assert_eq!(p20.soprintendenza_silence_from, Some(date(2026, 4, 21)));
    assert!(!p20.soprintendenza_silence_reached);
    assert_eq!(p20.decision_by, Some(date(2026, 4, 30)));
    assert!(!p20.alarm);
    // Deciding before the silence is refused.
    assert_eq!(
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::Accoglimento,
            Ruolo::Dirigente,
            date(2026, 4, 20),
            &events
        ),
        Err(ProcedureError::ParereMancante {
            available_from: Some(date(2026, 4, 21))
        })
    );
    assert_eq!(
        code(def.transition(
            &cal(),
            stati::IN_ATTESA_PARERE,
            Azione::SilenzioParere,
            Ruolo::Sistema,
            date(2026, 4, 20),
            &events
        )),
        "procedura_parere_mancante"
    );
    // At sent + 21 the silence is reached and recorded.
    let on_21 = def.clock(&cal(), &events, date(2026, 4, 21)).unwrap();
    assert!(on_21.phases.unwrap().soprintendenza_silence_reached);
    let t = def
        .transition(
            &cal(),
            stati::IN_ATTESA_PARERE,
            Azione::SilenzioParere,
            Ruolo::Sistema,
            date(2026, 4, 21),
            &events,
        )
        .unwrap();
    assert_eq!(t.to, stati::IN_ISTRUTTORIA);
    let t = def
        .transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::Accoglimento,
            Ruolo::Dirigente,
            date(2026, 4, 24),
            &events,
        )
        .unwrap();
    assert_eq!(t.to, stati::ACCOLTA);
    // A late opinion (after the silence) is ineffective.
    let mut late = events.clone();
    late.push(ClockEvent::ParereReceived {
        date: date(2026, 4, 23),
        body: SOPRINTENDENZA.to_owned(),
        favourable: false,
    });
    let p = def
        .clock(&cal(), &late, date(2026, 4, 24))
        .unwrap()
        .phases
        .unwrap();
    assert_eq!(p.opinion, None);
    assert!(p.soprintendenza_silence_reached);
}

#[test]
fn dpr_31_2017_alarm_when_a_phase_would_pass_60_days() {
    let def = ProcedureDefinition::autorizzazione_paesaggistica_semplificata();
    let events = [received(date(2026, 3, 2)), sent(date(2026, 4, 30))];
    // 30 April + 20 = 20 May; + 10 = 30 May > 1 May (the 60th day).
    let clock = def.clock(&cal(), &events, date(2026, 5, 1)).unwrap();
    assert_eq!(clock.deadline, date(2026, 5, 2));
    let phases = clock.phases.unwrap();
    assert_eq!(phases.send_by, date(2026, 3, 23));
    assert!(phases.alarm);
    // Sent on time: no alarm.
    let on_time = [received(date(2026, 3, 2)), sent(date(2026, 3, 20))];
    assert!(
        !def.clock(&cal(), &on_time, date(2026, 3, 21))
            .unwrap()
            .phases
            .unwrap()
            .alarm
    );
}

#[test]
fn dpr_31_2017_integration_window_and_improcedibile() {
    let def = ProcedureDefinition::autorizzazione_paesaggistica_semplificata();
    let events = vec![received(date(2026, 3, 2))];
    let request = |today| {
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            Azione::RichiestaIntegrazione,
            Ruolo::Operatore,
            today,
            &events,
        )
    };
    assert!(request(date(2026, 3, 12)).is_ok());
    assert_eq!(
        request(date(2026, 3, 13)),
        Err(ProcedureError::IntegrazioneFuoriTermine {
            limit: date(2026, 3, 12)
        })
    );
    // Requested 5 March, never answered: improcedibile from 4 April.
    let mut waiting = events.clone();
    waiting.push(ClockEvent::IntegrationRequested {
        date: date(2026, 3, 5),
    });
    assert!(
        !def.clock(&cal(), &waiting, date(2026, 4, 3))
            .unwrap()
            .improcedibile
    );
    assert!(
        def.clock(&cal(), &waiting, date(2026, 4, 4))
            .unwrap()
            .improcedibile
    );
    let lapse = |today| {
        def.transition(
            &cal(),
            stati::SOSPESA_INTEGRAZIONE,
            Azione::DecorrenzaIntegrazione,
            Ruolo::Sistema,
            today,
            &waiting,
        )
    };
    assert_eq!(
        code(lapse(date(2026, 4, 3))),
        "procedura_sospensione_in_corso"
    );
    let t = lapse(date(2026, 4, 4)).unwrap();
    assert_eq!(t.to, stati::IMPROCEDIBILE);
    assert_eq!(
        t.event,
        Some(ClockEvent::Decided {
            date: date(2026, 4, 4),
            esito: Esito::Improcedibile
        })
    );
    // In an ordinary procedure the lapse resumes the inquiry instead.
    let ordinary = ProcedureDefinition::ordinario(30);
    let t = ordinary
        .transition(
            &cal(),
            stati::SOSPESA_INTEGRAZIONE,
            Azione::DecorrenzaIntegrazione,
            Ruolo::Sistema,
            date(2026, 4, 4),
            &waiting,
        )
        .unwrap();
    assert_eq!(t.to, stati::IN_ISTRUTTORIA);
    assert_eq!(t.event, None);
}

#[test]
fn negative_binding_opinion_needs_10_bis_before_refusal() {
    let def = ProcedureDefinition::autorizzazione_paesaggistica_semplificata();
    let mut events = vec![
        received(date(2026, 3, 2)),
        sent(date(2026, 3, 20)),
        ClockEvent::ParereReceived {
            date: date(2026, 4, 1),
            body: SOPRINTENDENZA.to_owned(),
            favourable: false,
        },
    ];
    let decide = |action, events: &[ClockEvent], today| {
        def.transition(
            &cal(),
            stati::IN_ISTRUTTORIA,
            action,
            Ruolo::Dirigente,
            today,
            events,
        )
    };
    assert_eq!(
        code(decide(Azione::Accoglimento, &events, date(2026, 4, 2))),
        "procedura_decisione_difforme_dal_parere"
    );
    assert_eq!(
        code(decide(Azione::Rigetto, &events, date(2026, 4, 2))),
        "procedura_rigetto_senza_preavviso"
    );
    events.push(preavviso(date(2026, 4, 2)));
    // Window ends 12 April (Sunday) → 13 April; refusal from 14 April.
    assert_eq!(
        code(decide(Azione::Rigetto, &events, date(2026, 4, 13))),
        "procedura_rigetto_prima_del_termine"
    );
    assert!(decide(Azione::Rigetto, &events, date(2026, 4, 14)).is_ok());
}

// --- PAE-01 art. 146 -------------------------------------------------------------

#[test]
fn art_146_fallback_term_is_configurable() {
    let events = [received(date(2026, 2, 2)), sent(date(2026, 3, 2))];
    let with = |x| {
        ProcedureDefinition::autorizzazione_paesaggistica_ordinaria(x)
            .clock(&cal(), &events, date(2026, 3, 3))
            .unwrap()
            .phases
            .unwrap()
    };
    let p45 = with(45);
    assert_eq!(p45.send_by, date(2026, 3, 14));
    assert_eq!(p45.opinion_by, Some(date(2026, 4, 16)));
    assert_eq!(p45.soprintendenza_silence_from, Some(date(2026, 4, 17)));
    assert_eq!(p45.decision_by, Some(date(2026, 5, 6)));
    // 60 days: 1 May (holiday) → 2 May; the button from 3 May.
    let p60 = with(60);
    assert_eq!(p60.opinion_by, Some(date(2026, 4, 16)));
    assert_eq!(p60.soprintendenza_silence_from, Some(date(2026, 5, 3)));
    // The opinion arriving late still counts under art. 146.
    let late = [
        received(date(2026, 2, 2)),
        sent(date(2026, 3, 2)),
        ClockEvent::ParereReceived {
            date: date(2026, 4, 20),
            body: SOPRINTENDENZA.to_owned(),
            favourable: true,
        },
    ];
    let p = ProcedureDefinition::autorizzazione_paesaggistica_ordinaria(60)
        .clock(&cal(), &late, date(2026, 4, 21))
        .unwrap()
        .phases
        .unwrap();
    assert_eq!(p.opinion, Some(date(2026, 4, 20)));
    assert_eq!(p.decision_by, Some(date(2026, 5, 11)));
}

#[test]
fn pae_03_validity_five_years_plus_one() {
    let v = validita_paesaggistica(date(2026, 3, 10)).unwrap();
    assert_eq!(v.valid_until, date(2031, 3, 10));
    assert_eq!(v.works_completion_limit, date(2032, 3, 10));
    let leap = validita_paesaggistica(date(2024, 2, 29)).unwrap();
    assert_eq!(leap.valid_until, date(2029, 2, 28));
    assert_eq!(leap.works_completion_limit, date(2030, 2, 28));
}

// --- Event consistency -----------------------------------------------------------

#[test]
fn inconsistent_events_are_coded_errors() {
    let def = ProcedureDefinition::ordinario(30);
    let today = date(2026, 4, 1);
    assert_eq!(
        code(def.clock(&cal(), &[], today)),
        "procedura_ricezione_mancante"
    );
    let twice = [received(date(2026, 3, 2)), received(date(2026, 3, 3))];
    assert_eq!(
        code(def.clock(&cal(), &twice, today)),
        "procedura_ricezione_duplicata"
    );
    let before = [
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 1),
        },
    ];
    assert_eq!(
        code(def.clock(&cal(), &before, today)),
        "procedura_evento_anteriore_ricezione"
    );
    let answer = [
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 5),
        },
    ];
    assert_eq!(
        code(def.clock(&cal(), &answer, today)),
        "procedura_integrazione_non_richiesta"
    );
    let obs = [
        received(date(2026, 3, 2)),
        ClockEvent::Osservazioni {
            date: date(2026, 3, 5),
        },
    ];
    assert_eq!(
        code(def.clock(&cal(), &obs, today)),
        "procedura_osservazioni_senza_preavviso"
    );
    // Events are sorted by date: order in the slice does not matter.
    let shuffled = [
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 22),
        },
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
    ];
    assert_eq!(deadline(&def, &shuffled, today), date(2026, 4, 13));
}

#[test]
fn overlapping_pauses_are_not_counted_twice() {
    let def = ProcedureDefinition::ordinario(30);
    // Integration 10→22 March and a 10-bis received 20 March (→ 30 March).
    let events = [
        received(date(2026, 3, 2)),
        ClockEvent::IntegrationRequested {
            date: date(2026, 3, 10),
        },
        ClockEvent::IntegrationAnswered {
            date: date(2026, 3, 22),
        },
        preavviso(date(2026, 3, 20)),
    ];
    let clock = def.clock(&cal(), &events, date(2026, 4, 2)).unwrap();
    // Union 10 March → 30 March = 20 days, not 12 + 10.
    assert_eq!(clock.suspended_days, 20);
    assert_eq!(clock.deadline, date(2026, 4, 21));
}

// --- TEMPI-01 ------------------------------------------------------------------

fn summary(
    code: &str,
    received: Date,
    concluded: Option<Date>,
    net: Option<u32>,
    in_term: bool,
) -> PraticaSummary {
    PraticaSummary {
        procedure_code: code.to_owned(),
        received,
        concluded,
        net_days: net,
        in_term,
        silenzio_assenso: false,
        integration_requests: 0,
        preavvisi_10bis: 0,
        sostitutivo_requests: 0,
    }
}

#[test]
fn tempi_aggregates_per_type_and_quarter() {
    let mut silenzio = summary(
        "a",
        date(2026, 3, 1),
        Some(date(2026, 3, 25)),
        Some(31),
        true,
    );
    silenzio.silenzio_assenso = true;
    let mut open = summary("a", date(2026, 2, 1), None, None, false);
    open.preavvisi_10bis = 1;
    open.sostitutivo_requests = 1;
    let mut late = summary(
        "a",
        date(2026, 2, 1),
        Some(date(2026, 3, 20)),
        Some(40),
        false,
    );
    late.preavvisi_10bis = 2;
    late.integration_requests = 1;
    let pratiche = vec![
        summary(
            "a",
            date(2026, 1, 10),
            Some(date(2026, 2, 5)),
            Some(20),
            true,
        ),
        late,
        silenzio,
        summary(
            "a",
            date(2026, 3, 15),
            Some(date(2026, 3, 31)),
            Some(10),
            true,
        ),
        // Received in Q1, concluded in Q2.
        summary(
            "a",
            date(2026, 3, 30),
            Some(date(2026, 4, 10)),
            Some(11),
            true,
        ),
        open,
        summary(
            "b",
            date(2026, 5, 1),
            Some(date(2026, 5, 20)),
            Some(19),
            true,
        ),
    ];
    let rows = tempi::aggregate(&pratiche);
    assert_eq!(rows.len(), 3);
    let q1 = &rows[0];
    assert_eq!(
        (q1.procedure_code.as_str(), q1.quarter),
        (
            "a",
            Quarter {
                year: 2026,
                quarter: 1
            }
        )
    );
    assert_eq!(q1.started, 6);
    assert_eq!(q1.concluded, 4);
    assert_eq!(q1.concluded_in_term, 3);
    assert_eq!(q1.pct_in_term, Some(75.0));
    // Net days 10, 20, 31, 40: mean 25.25, median (20 + 31) / 2 = 25.5.
    assert_eq!(q1.mean_net_days, Some(25.25));
    assert_eq!(q1.median_net_days, Some(25.5));
    assert_eq!(q1.max_net_days, Some(40));
    assert_eq!(q1.silenzio_assenso_count, 1);
    assert_eq!(q1.preavvisi_10bis, 3);
    assert_eq!(q1.integration_requests, 1);
    assert_eq!(q1.sostitutivo_requests, 1);
    let q2 = &rows[1];
    assert_eq!(
        q2.quarter,
        Quarter {
            year: 2026,
            quarter: 2
        }
    );
    assert_eq!((q2.started, q2.concluded), (0, 1));
    assert_eq!(q2.median_net_days, Some(11.0));
    assert_eq!(rows[2].procedure_code, "b");
    assert_eq!(rows[2].pct_in_term, Some(100.0));

    // Odd count and a repeating fraction: 1 of 3 in term = 33.33 %.
    let odd = tempi::aggregate(&[
        summary("c", date(2026, 7, 1), Some(date(2026, 7, 2)), Some(1), true),
        summary(
            "c",
            date(2026, 7, 1),
            Some(date(2026, 7, 3)),
            Some(2),
            false,
        ),
        summary(
            "c",
            date(2026, 7, 1),
            Some(date(2026, 7, 9)),
            Some(8),
            false,
        ),
    ]);
    assert_eq!(odd[0].pct_in_term, Some(33.33));
    assert_eq!(odd[0].median_net_days, Some(2.0));
    assert_eq!(odd[0].mean_net_days, Some(3.67));

    let csv = tempi::to_csv(&rows);
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1], "a,2026-T1,6,4,3,75.00,25.25,25.50,40,1,1,3,1");
}

// --- Properties --------------------------------------------------------------------

fn arb_date() -> impl Strategy<Value = Date> {
    (2020_i16..2031, 1_i8..=12, 1_i8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

fn plus(d: Date, days: u32) -> Date {
    d.checked_add(jiff::Span::new().days(i64::from(days)))
        .unwrap()
}

proptest! {
    #[test]
    fn deadline_is_term_plus_suspension_plus_at_most_3_festivo_days(
        start in arb_date(),
        term in 1_u32..=180,
        integration in proptest::option::of((0_u32..60, 0_u32..40)),
        notice in proptest::option::of((0_u32..90, proptest::option::of(0_u32..15))),
    ) {
        let def = ProcedureDefinition::ordinario(term);
        let mut events = vec![received(start)];
        if let Some((at, len)) = integration {
            events.push(ClockEvent::IntegrationRequested { date: plus(start, at) });
            events.push(ClockEvent::IntegrationAnswered { date: plus(start, at + len) });
        }
        if let Some((at, obs)) = notice {
            events.push(preavviso(plus(start, at)));
            if let Some(obs) = obs {
                events.push(ClockEvent::Osservazioni { date: plus(start, at + obs) });
            }
        }
        let today = plus(start, 400);
        let clock = def.clock(&cal(), &events, today).unwrap();
        let span = start.until(clock.deadline).unwrap().get_days();
        let net = i64::from(span) - clock.suspended_days;
        prop_assert!(net >= i64::from(term) && net <= i64::from(term) + 3, "net {} term {}", net, term);
        prop_assert!(!cal().is_festivo(clock.deadline));

        // Adding a suspension never moves the deadline earlier.
        let without_notice: Vec<_> = events
            .iter()
            .filter(|e| !matches!(e, ClockEvent::PreavvisoRigetto { .. } | ClockEvent::Osservazioni { .. }))
            .cloned()
            .collect();
        let smaller = def.clock(&cal(), &without_notice, today).unwrap();
        prop_assert!(smaller.deadline <= clock.deadline);
        let bare = def.clock(&cal(), &events[..1], today).unwrap();
        prop_assert!(bare.deadline <= smaller.deadline);
        prop_assert!(clock.suspended_days >= smaller.suspended_days);
    }

    #[test]
    fn suspended_days_never_exceed_the_caps(
        start in arb_date(),
        at in 0_u32..60,
        len in 0_u32..90,
    ) {
        let def = ProcedureDefinition::ordinario(30);
        let events = [
            received(start),
            ClockEvent::IntegrationRequested { date: plus(start, at) },
            ClockEvent::IntegrationAnswered { date: plus(start, at + len) },
        ];
        let clock = def.clock(&cal(), &events, plus(start, 400)).unwrap();
        prop_assert_eq!(clock.suspended_days, i64::from(len.min(30)));
    }
}
