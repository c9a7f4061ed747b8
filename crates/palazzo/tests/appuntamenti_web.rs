//! Appointment booking on the web and the API (issue 6, part 7) on both
//! backends: the whole flow without JavaScript from a service card (only
//! the competent office offered), a taken slot, tampered office, slot and
//! service fields, a reason over the limit, the booking by its code and
//! its cancellation, another comune's booking unreachable, the signed-in
//! citizen's data pre-filled and "I miei appuntamenti" with cancellation,
//! the office agenda with its marks, the calendar editor, and the JSON API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_testkit::browser::{enc, unescape};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};

const CIE: &str = "carta-identita-elettronica";
const ANAGRAFE: &str = "anagrafe-stato-civile";
const TOPIC: &str = "Carta d'identità elettronica";

/// Every `value` of the inputs named `name`, in order (HTML-unescaped).
fn values(body: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\" ");
    body.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &body[i..];
            let end = rest.find('>')?;
            let tag = &rest[..end];
            let v = tag.split("value=\"").nth(1)?;
            Some(unescape(&v[..v.find('"')?]))
        })
        .collect()
}

fn data_code(p: &Page) -> String {
    let at = p
        .body
        .find("data-code=\"")
        .unwrap_or_else(|| panic!("no data-code ({}): {}", p.status, p.body));
    let rest = &p.body[at + 11..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn step(p: &Page) -> u8 {
    let at = p.body.find("data-step=\"").expect("data-step");
    p.body[at + 11..at + 12].parse().unwrap()
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The flow's fields up to the summary, for the first free slot of the
/// office (with the service when given).
async fn first_slot(b: &mut Browser, service: Option<&str>, office: &str) -> String {
    let mut q = vec![("ufficio", office)];
    if let Some(s) = service {
        q.push(("servizio", s));
    }
    let p = b
        .get(&format!("/prenotazione-appuntamento?{}", query(&q)))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(step(&p), 2);
    values(&p.body, "orario")
        .into_iter()
        .next()
        .expect("a free time")
}

fn fields<'a>(office: &'a str, orario: &'a str, surname: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("servizio", CIE),
        ("ufficio", office),
        ("orario", orario),
        ("argomento", TOPIC),
        ("motivo", "Rinnovo della carta scaduta"),
        ("nome", "Maria"),
        ("cognome", surname),
        ("email", "maria@example.org"),
        ("telefono", "+39 333 1234567"),
    ]
}

/// Posts the summary's form: the token of the summary page when the
/// fields reach it, else the visitor's token from another form.
async fn confirm(b: &mut Browser, f: &[(&str, &str)]) -> Page {
    let summary = b
        .get(&format!("/prenotazione-appuntamento?{}", query(f)))
        .await;
    let csrf = match summary.csrf() {
        Some(c) => c,
        None => b.csrf_of("/accedi/amministratore").await,
    };
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(f);
    b.post("/prenotazione-appuntamento", &form).await
}

fn code_of(p: &Page) -> String {
    assert_eq!(p.status, 303, "{}", p.body);
    let loc = p.location().unwrap();
    assert!(loc.starts_with("/appuntamenti/"), "{loc}");
    loc.trim_start_matches("/appuntamenti/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let mut anon = Browser::new(&app, CASAMASSIMA);

    // Step 1: every office that takes bookings; from the CIE card only
    // the registry office.
    let p = anon.get("/prenotazione-appuntamento").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(step(&p), 1);
    let offices = values(&p.body, "ufficio");
    for o in [ANAGRAFE, "urbanistica", "tributi"] {
        assert!(offices.contains(&o.to_owned()), "{o} in {offices:?}");
    }
    let card = anon
        .get(&format!("/prenotazione-appuntamento?servizio={CIE}"))
        .await;
    assert_eq!(values(&card.body, "ufficio"), [ANAGRAFE]);
    assert!(card.body.contains("data-element=\"booking-service\""));
    // The card links here (C.SI.2.1).
    let services = anon.get("/servizi").await;
    assert!(
        services
            .body
            .contains("data-element=\"appointment-booking\"")
    );

    // Steps 2 to 5 through GET forms, no JavaScript.
    let orario = first_slot(&mut anon, Some(CIE), ANAGRAFE).await;
    let f = fields(ANAGRAFE, &orario, "Rossi");
    let upto = |n: usize| format!("/prenotazione-appuntamento?{}", query(&f[..n]));
    let p = anon.get(&upto(3)).await;
    assert_eq!(step(&p), 3, "{}", p.body);
    assert!(values(&p.body, "argomento").contains(&TOPIC.to_owned()));
    let p = anon.get(&upto(5)).await;
    assert_eq!(step(&p), 4, "{}", p.body);
    assert!(!p.body.contains("data-element=\"booking-prefilled\""));
    let p = anon.get(&upto(9)).await;
    assert_eq!(step(&p), 5, "{}", p.body);
    assert!(p.body.contains("data-element=\"booking-summary\""));
    assert!(p.body.contains("Rinnovo della carta scaduta"));
    // A reason over 500 characters stops at step 3, on GET and on POST.
    let long = "x".repeat(501);
    let mut too_long = f.clone();
    too_long[4] = ("motivo", &long);
    let p = anon
        .get(&format!("/prenotazione-appuntamento?{}", query(&too_long)))
        .await;
    assert_eq!((p.status, step(&p)), (422, 3));
    assert_eq!(data_code(&p), "motivo_troppo_lungo");
    let p = confirm(&mut anon, &too_long).await;
    assert_eq!(p.status, 422);
    assert_eq!(data_code(&p), "motivo_troppo_lungo");

    // Confirm: the booking and its code.
    let r = confirm(&mut anon, &f).await;
    let code = code_of(&r);
    let page = anon.get(r.location().unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-element=\"booking-confirmed\""));
    assert!(page.body.contains(&code));
    assert!(page.body.contains("data-state=\"prenotato\""));

    // The second desk, then the slot is taken.
    let second = confirm(&mut anon, &fields(ANAGRAFE, &orario, "Bianchi")).await;
    code_of(&second);
    let taken = confirm(&mut anon, &fields(ANAGRAFE, &orario, "Verdi")).await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert_eq!(data_code(&taken), "appuntamento_non_disponibile");
    assert_eq!(step(&taken), 2, "back to the choice of time");
    assert!(
        !values(&taken.body, "orario").contains(&orario),
        "no longer offered"
    );

    // Tampered fields.
    let later = first_slot(&mut anon, None, ANAGRAFE).await;
    for (field, value, code) in [
        ("ufficio", "servizi-demografici", "ufficio_non_prenotabile"),
        ("ufficio", "tributi", "ufficio_non_competente"),
        ("servizio", "non-esiste", "servizio_non_valido"),
        (
            "orario",
            "2026-13-01T08:00:00Z",
            "appuntamento_orario_non_valido",
        ),
        ("argomento", "Altro argomento", "argomento_non_valido"),
        ("email", "non-una-mail", "email_non_valida"),
    ] {
        let mut bad = fields(ANAGRAFE, &later, "Neri");
        for (k, v) in &mut bad {
            if *k == field {
                *v = value;
            }
        }
        let p = confirm(&mut anon, &bad).await;
        assert_eq!(p.status, 422, "{field}={value}: {}", p.body);
        assert_eq!(data_code(&p), code, "{field}={value}");
    }
    // A start ten minutes into a slot is not a slot.
    let off: jiff::Timestamp = later.parse().unwrap();
    let off = off
        .checked_add(jiff::SignedDuration::from_mins(10))
        .unwrap()
        .to_string();
    let p = confirm(&mut anon, &fields(ANAGRAFE, &off, "Neri")).await;
    assert_eq!(data_code(&p), "appuntamento_orario_non_valido");
    // A seat field is not the citizen's to choose: ignored.
    let mut with_seat = fields(ANAGRAFE, &later, "Neri");
    with_seat.push(("posto", "7"));
    let r = confirm(&mut anon, &with_seat).await;
    let neri = code_of(&r);
    let json = anon
        .api(
            "GET",
            &format!("/appuntamenti/prenotazioni/{neri}"),
            "",
            None,
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["seat"], 1);

    // Another comune does not know the code.
    let mut there = Browser::new(&app, ACQUAVIVA);
    assert_eq!(
        there.get(&format!("/appuntamenti/{code}")).await.status,
        404
    );
    let csrf = there.csrf_of("/accedi/amministratore").await;
    let r = there
        .post(
            &format!("/appuntamenti/{code}/annulla"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, 404);

    // Cancel by code: the seat is free again.
    let csrf = anon.csrf_of(&format!("/appuntamenti/{code}")).await;
    let r = anon
        .post(
            &format!("/appuntamenti/{}/annulla", code.to_lowercase()),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = anon.get(r.location().unwrap()).await;
    assert!(p.body.contains("data-state=\"annullato\""));
    assert!(!p.body.contains("data-element=\"booking-cancel\""));
    let again = anon
        .get(&format!(
            "/prenotazione-appuntamento?{}",
            query(&[("ufficio", ANAGRAFE)])
        ))
        .await;
    assert!(values(&again.body, "orario").contains(&orario));
    // The code form.
    let r = anon.get(&format!("/appuntamenti?codice={code}")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        anon.get("/appuntamenti?codice=AAAA-BBBB-CCCC-DDDD")
            .await
            .status,
        404
    );

    // A signed-in citizen: data from the profile, "I miei appuntamenti".
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let me = &residents[0];
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    citizen
        .demo_sign_in(&format!("cf:{}", me.codice_fiscale.as_str()))
        .await;
    let slot = first_slot(&mut citizen, None, "tributi").await;
    let base = [
        ("ufficio", "tributi"),
        ("orario", slot.as_str()),
        ("argomento", "IMU"),
        ("motivo", ""),
    ];
    let p = citizen
        .get(&format!("/prenotazione-appuntamento?{}", query(&base)))
        .await;
    assert_eq!(step(&p), 4, "{}", p.body);
    assert!(p.body.contains("data-element=\"booking-prefilled\""));
    assert_eq!(values(&p.body, "nome"), std::slice::from_ref(&me.name));
    assert_eq!(
        values(&p.body, "cognome"),
        std::slice::from_ref(&me.surname)
    );
    let mut mine = base.to_vec();
    mine.extend([
        ("nome", me.name.as_str()),
        ("cognome", me.surname.as_str()),
        ("email", "cittadino@example.org"),
    ]);
    let csrf = citizen.csrf_of("/area-personale").await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(&mine);
    let r = citizen.post("/prenotazione-appuntamento", &form).await;
    code_of(&r);
    let list = citizen.get("/area-personale/appuntamenti").await;
    assert_eq!(list.status, 200);
    let id = list
        .body
        .split("data-booking=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert!(list.body.contains("data-state=\"prenotato\""));
    // Another citizen cannot cancel it.
    let mut other = Browser::new(&app, CASAMASSIMA);
    other
        .demo_sign_in(&format!("cf:{}", residents[1].codice_fiscale.as_str()))
        .await;
    let csrf2 = other.csrf_of("/area-personale").await;
    let r = other
        .post(
            &format!("/area-personale/appuntamenti/{id}/annulla"),
            &[("csrf", csrf2.as_str())],
        )
        .await;
    assert_eq!(r.status, 404);
    let r = citizen
        .post(
            &format!("/area-personale/appuntamenti/{id}/annulla"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = citizen.get(r.location().unwrap()).await;
    assert!(list.body.contains("data-state=\"annullato\""));

    // The office agenda (the dirigente sees every office).
    let mut staff = Browser::new(&app, CASAMASSIMA);
    staff.demo_sign_in("dirigente").await;
    let day_rome = {
        let ts: jiff::Timestamp = orario.parse().unwrap();
        palazzo_domain::calendar::rome_date(ts).to_string()
    };
    let agenda = staff
        .get(&format!(
            "/backoffice/appuntamenti?ufficio={ANAGRAFE}&giorno={day_rome}"
        ))
        .await;
    assert_eq!(agenda.status, 200, "{}", agenda.body);
    assert!(agenda.body.contains("Bianchi"));
    let bianchi = agenda
        .body
        .split("data-booking=\"")
        .skip(1)
        .find(|s| {
            let row = &s[..s.find("</tr>").unwrap()];
            row.contains("Bianchi")
        })
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let csrf = agenda.csrf().unwrap();
    let r = staff
        .post(
            &format!("/backoffice/appuntamenti/{bianchi}/stato"),
            &[("csrf", csrf.as_str()), ("stato", "presentato")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let agenda = staff.get(r.location().unwrap()).await;
    assert!(agenda.body.contains(&format!(
        "data-booking=\"{bianchi}\" data-state=\"presentato\""
    )));
    let r = staff
        .post(
            &format!("/backoffice/appuntamenti/{bianchi}/stato"),
            &[("csrf", csrf.as_str()), ("stato", "sparito")],
        )
        .await;
    assert_eq!(r.status, 422);
    // A citizen is not staff.
    assert_eq!(citizen.get("/backoffice/appuntamenti").await.status, 403);

    // The calendar editor: tributi, Monday 10-12 every 15 minutes.
    let editor = staff
        .get("/backoffice/appuntamenti/calendario?ufficio=tributi")
        .await;
    assert_eq!(editor.status, 200, "{}", editor.body);
    assert!(editor.body.contains("data-element=\"calendar-editor\""));
    let csrf = editor.csrf().unwrap();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("ufficio", "tributi"),
        ("giorno_0", "lunedi"),
        ("dalle_0", "10:00"),
        ("alle_0", "12:00"),
        ("durata_0", "15"),
        ("posti_0", "1"),
        ("giorno_1", ""),
        ("dalle_1", ""),
        ("alle_1", ""),
        ("durata_1", ""),
        ("posti_1", ""),
        ("preavviso_ore", "0"),
        ("giorni_prenotabili", "30"),
        ("argomenti", "IMU\nTARI"),
    ];
    let r = staff
        .post("/backoffice/appuntamenti/calendario", &form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let slots = staff
        .api(
            "GET",
            "/appuntamenti/uffici/tributi/disponibilita",
            "",
            None,
        )
        .await;
    let slots: Vec<serde_json::Value> = serde_json::from_str(&slots.body).unwrap();
    assert!(!slots.is_empty());
    for s in &slots {
        let d: jiff::civil::Date = s["date"].as_str().unwrap().parse().unwrap();
        assert_eq!(d.weekday(), jiff::civil::Weekday::Monday);
        let t = s["time"].as_str().unwrap();
        assert!(("10:00".."11:46").contains(&t), "{t}");
    }
    form[3] = ("dalle_0", "25:00");
    let r = staff
        .post("/backoffice/appuntamenti/calendario", &form)
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(data_code(&r), "appuntamenti_orario_non_valido");
    // The clerk of an office does not edit calendars.
    let mut clerk = Browser::new(&app, CASAMASSIMA);
    clerk.demo_sign_in("operatore").await;
    assert_eq!(
        clerk
            .get("/backoffice/appuntamenti/calendario")
            .await
            .status,
        403
    );

    // The JSON API.
    let mut api = Browser::new(&app, CASAMASSIMA);
    let r = api
        .api(
            "GET",
            &format!("/appuntamenti/uffici?servizio={CIE}"),
            "",
            None,
        )
        .await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["slug"], ANAGRAFE);
    let free = api
        .api(
            "GET",
            &format!("/appuntamenti/uffici/{ANAGRAFE}/disponibilita"),
            "",
            None,
        )
        .await;
    let free: Vec<serde_json::Value> = serde_json::from_str(&free.body).unwrap();
    let start = free[0]["start"].as_str().unwrap().to_owned();
    let body = serde_json::json!({
        "office": ANAGRAFE, "start": start, "topic": TOPIC,
        "name": "Luca", "surname": "Api", "email": "luca@example.org"
    });
    let r = api
        .api("POST", "/appuntamenti", "", Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booked: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let api_code = booked["code"].as_str().unwrap().to_owned();
    let mut long = body.clone();
    long["reason"] = serde_json::Value::String("r".repeat(501));
    let r = api.api("POST", "/appuntamenti", "", Some(long)).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("motivo_troppo_lungo"));
    let r = api
        .api(
            "POST",
            &format!("/appuntamenti/prenotazioni/{api_code}/annulla"),
            "",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"state\":\"annullato\""));
    let r = api
        .api(
            "POST",
            &format!("/appuntamenti/prenotazioni/{api_code}/annulla"),
            "",
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("appuntamento_non_annullabile"));
    // The agenda needs a key of the office's staff.
    let path = format!("/appuntamenti/uffici/{ANAGRAFE}/agenda?giorno={day_rome}");
    assert_eq!(api.api("GET", &path, "", None).await.status, 401);
    let key = staff.api_key("agenda").await;
    let r = api.api("GET", &path, &key, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
    assert!(
        rows.iter()
            .any(|b| b["surname"] == "Bianchi" && b["state"] == "presentato")
    );
    // Another comune's API does not see this comune's bookings.
    let mut api_there = Browser::new(&app, ACQUAVIVA);
    let r = api_there
        .api(
            "GET",
            &format!("/appuntamenti/prenotazioni/{neri}"),
            "",
            None,
        )
        .await;
    assert_eq!(r.status, 404);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_web_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_web_postgres() {
    run(Backend::Postgres).await;
}
