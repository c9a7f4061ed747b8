//! `palazzo appuntamenti …` end to end on a demo installation: the demo
//! offices have calendars (printed as TOML), a calendar file sets an
//! office's week, a bad file exits 2 with a coded Italian message, the
//! agenda of a day lists its bookings, and `promemoria` queues the
//! reminders due at the moment given, once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::appuntamenti::RawDetails;
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::appuntamenti::BookingRequest;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_testkit::{cli, cli::text};

#[tokio::test]
async fn calendars_and_agenda_from_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "appuntamenti-cli", 5);
    let dir = &demo.dir;
    let with = |args: &[&str]| demo.run(args);

    // The demo's registry office: Monday to Friday, 20 minutes, two desks.
    let out = with(&[
        "appuntamenti",
        "calendario",
        "--ufficio",
        "anagrafe-stato-civile",
        "--mostra",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let shown: palazzo_domain::appuntamenti::CalendarSpec =
        toml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(shown.fasce.len(), 5);
    assert!(
        shown
            .fasce
            .iter()
            .all(|w| w.durata_minuti == 20 && w.posti == 2)
    );

    // A calendar file for the tax office.
    let file = dir.path().join("tributi.toml");
    std::fs::write(
        &file,
        r#"
preavviso_ore = 0
giorni_prenotabili = 30
argomenti = ["IMU", "TARI"]
chiusure = ["2026-12-24"]

[[fasce]]
giorno = "mercoledì"
dalle = "09:00"
alle = "11:00"
durata_minuti = 30
posti = 1
"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = with(&[
        "appuntamenti",
        "calendario",
        "--ufficio",
        "tributi",
        "--file",
        f,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = with(&[
        "appuntamenti",
        "calendario",
        "--ufficio",
        "tributi",
        "--mostra",
    ]);
    let shown: palazzo_domain::appuntamenti::CalendarSpec =
        toml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(shown.fasce.len(), 1);
    assert_eq!(shown.fasce[0].giorno, "mercoledi", "canonical form");
    assert_eq!(shown.argomenti, ["IMU", "TARI"]);

    // Bad input: exit 2, a code and an Italian message; nothing changes.
    std::fs::write(
        &file,
        "[[fasce]]\ngiorno = \"mercoledi\"\ndalle = \"11:00\"\nalle = \"10:00\"\ndurata_minuti = 30\n",
    )
    .unwrap();
    let out = with(&[
        "appuntamenti",
        "calendario",
        "--ufficio",
        "tributi",
        "--file",
        f,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("appuntamenti_fascia_vuota"),
        "{}",
        text(&out)
    );
    std::fs::write(&file, "fasce = 3\n").unwrap();
    let out = with(&[
        "appuntamenti",
        "calendario",
        "--ufficio",
        "tributi",
        "--file",
        f,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("calendario_toml_non_valido"));
    let out = with(&[
        "appuntamenti",
        "calendario",
        "--ufficio",
        "nessuno",
        "--file",
        f,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = with(&[
        "appuntamenti",
        "agenda",
        "--ufficio",
        "tributi",
        "--giorno",
        "2026-02-30",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("appuntamenti_data_non_valida"));

    // A booking, then the agenda of its day lists it.
    let url = format!("sqlite:{}", dir.path().join("palazzo.db").display());
    let app = App::new(
        Db::open(&url).await.unwrap(),
        KeyStore::new(dir.path().join("keys")),
    )
    .await
    .unwrap();
    let t = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap()
        .id;
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let until = today.checked_add(jiff::Span::new().days(30)).unwrap();
    let slot = app
        .free_slots(t, "tributi", today, until)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(slot.slot.date.weekday(), jiff::civil::Weekday::Wednesday);
    let booked_at = jiff::Timestamp::now();
    app.book_appointment(
        t,
        &Actor::anonymous(),
        &BookingRequest {
            office: "tributi".into(),
            start: Some(slot.slot.start),
            service: None,
            details: RawDetails {
                topic: "TARI".into(),
                reason: String::new(),
                name: "Anna".into(),
                surname: "Agenda".into(),
                email: "anna@example.org".into(),
                phone: String::new(),
            },
        },
    )
    .await
    .unwrap();
    app.db().close().await;
    let day = slot.slot.date.to_string();
    let out = with(&[
        "appuntamenti",
        "agenda",
        "--ufficio",
        "tributi",
        "--giorno",
        &day,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("Prenotati: 1"), "{s}");
    assert!(
        s.contains("Anna Agenda") && s.contains("prenotato") && s.contains("TARI"),
        "{s}"
    );

    // Reminders: nothing before the moment; at it, the booking (if it was
    // made before its moment, as a booking days ahead is), then nothing.
    let moment = palazzo_services::appuntamenti::reminder_moment(slot.slot.date).unwrap();
    let early = moment
        .checked_sub(jiff::SignedDuration::from_mins(1))
        .unwrap()
        .to_string();
    let out = with(&["appuntamenti", "promemoria", "--ora", &early]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Promemoria accodati: 0"),
        "{}",
        text(&out)
    );
    let at = moment
        .checked_add(jiff::SignedDuration::from_mins(1))
        .unwrap()
        .max(booked_at)
        .to_string();
    let out = with(&["appuntamenti", "promemoria", "--ora", &at]);
    assert!(out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    let expected = usize::from(booked_at < moment);
    assert!(
        s.contains(&format!("Promemoria accodati: {expected}")),
        "{s}"
    );
    if expected == 1 {
        assert!(s.contains("anna@example.org"), "{s}");
    }
    let out = with(&["appuntamenti", "promemoria", "--ora", &at]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Promemoria accodati: 0"),
        "once: {}",
        text(&out)
    );
    let out = with(&["appuntamenti", "promemoria", "--ora", "domani"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
