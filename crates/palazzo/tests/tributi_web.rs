//! Local taxes on the web and the API (issue 7, part 7), on both backends:
//! a resident with units bought and sold during the year sees their IMU
//! in the personal area (F24 lines, due dates, the working of each unit)
//! and downloads the F24 of the acconto; the API answers the same
//! figures; the funzionario searches any taxpayer, a citizen only
//! themself; bad input is a 422 in Italian.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::Aliquota;
use palazzo_domain::tributi::imu::Aliquote;
use palazzo_services::access::Actor;
use palazzo_testkit::browser::unescape;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};
use serde_json::Value;

fn funzionario() -> Actor {
    Actor {
        principal: Principal {
            grants: vec![Grant {
                role: Role::FunzionarioTributi,
                office: None,
            }],
        },
        name: Some("test".into()),
        ..Default::default()
    }
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 10).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    // Residents after the two the demo gives units of its own.
    let residents = app.app.demo_residents(t.id, 4).await.unwrap();
    let cf = residents[2].codice_fiscale.as_str().to_owned();
    let other_cf = residents[3].codice_fiscale.as_str().to_owned();
    // The demo's first resident (before this test changes the rates): a flat sold in May, half a flat bought
    // in September, a shop all year, home and garage exempt — by hand at
    // the demo's rates (10,6‰ this year, 10,4‰ last year for the
    // acconto), all on 3918:
    // A/3 684 € × 1,05 × 160 = 114.912 €, January–May: year 507,53;
    //     first half (Jan–May) 497,95.
    // A/2 800 € × 1,05 × 160 = 134.400 €, ½, September–December: 237,44;
    //     first half nothing.
    // C/1 1.500 € × 1,05 × 55 = 86.625 €, all year: 918,23; first half
    //     450,45.
    // Year 1.663,19 → 1.663 €; acconto 948,40 → 948 €; saldo 715 €.
    let demo_cf = residents[0].codice_fiscale.as_str().to_owned();
    let mut demo = Browser::new(&app, CASAMASSIMA);
    demo.demo_sign_in(&format!("cf:{demo_cf}")).await;
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year();
    let r = demo
        .get(&format!("/area-personale/tributi?anno={year}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert_eq!(
        body.matches(r#"data-element="immobile""#).count(),
        5,
        "{body}"
    );
    assert!(
        body.contains(r#"data-element="totale-acconto">948,00 €"#),
        "{body}"
    );
    assert!(
        body.contains(r#"data-element="totale-saldo">715,00 €"#),
        "{body}"
    );
    assert!(
        body.to_lowercase().contains("abitazione principale"),
        "{body}"
    );

    let office = funzionario();
    // Next year: its due dates are ahead whenever the test runs, so its
    // pagoPA notices can be issued (pagoPA takes no debt due in the past).
    let y = year + 1;
    let (due_acconto, due_saldo) = palazzo_domain::tributi::imu::scadenze(y);
    let day = |d: jiff::civil::Date| d.strftime("%d/%m/%Y").to_string();
    let units = "codice;foglio;particella;subalterno;indirizzo;tipo;categoria;valore;dal\n\
                 W1;5;50;1;Via Pace 2;fabbricato;A/2;1.000,00;\n\
                 W2;5;50;2;Via Pace 2;fabbricato;C/6;100,00;\n";
    app.app
        .import_tributi(t.id, &office, units.as_bytes(), |_, _| {})
        .await
        .unwrap();
    // The A/2 all year; half the garage from 16 March to 14 September.
    let titles = format!(
        "codice_unita;codice_fiscale;dal;al;quota;condizione;condizione_dal;condizione_al;residenti\n\
         W1;{cf};01/01/2015;;100;;;;\n\
         W2;{cf};16/03/{y};14/09/{y};1/2;;;;\n"
    );
    let r = app
        .app
        .import_tributi(t.id, &office, titles.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    for (anno, altri) in [(y - 1, 960), (y, 1060)] {
        app.app
            .set_imu_rates(
                t.id,
                &office,
                Aliquote {
                    anno,
                    delibera: format!("Delibera C.C. n. 4 del 10/03/{anno}"),
                    altri_fabbricati: Aliquota(altri),
                    ..Aliquote::di_base(anno)
                },
            )
            .await
            .unwrap();
    }

    // Anonymous visitors are sent to sign in.
    let mut anon = Browser::new(&app, CASAMASSIMA);
    let r = anon.get(&format!("/area-personale/tributi?anno={y}")).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The resident's page: 3918 with both units, acconto 833 €, saldo
    // 992 € (the same figures as the services test, by hand: A/2 1.780,80
    // for the year and 806,40 for January–June at 9,6‰; half the C/6 for
    // March–August 44,52, March–June 26,88), due dates, the working.
    let mut me = Browser::new(&app, CASAMASSIMA);
    me.demo_sign_in(&format!("cf:{cf}")).await;
    let r = me.get(&format!("/area-personale/tributi?anno={y}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert!(body.contains(r#"data-codice="3918""#), "{body}");
    assert!(
        body.contains(r#"data-element="totale-acconto">833,00 €"#),
        "{body}"
    );
    assert!(
        body.contains(r#"data-element="totale-saldo">992,00 €"#),
        "{body}"
    );
    assert!(
        body.contains(&format!("Acconto entro il {}", day(due_acconto))),
        "{body}"
    );
    assert!(
        body.contains(&format!("Saldo entro il {}", day(due_saldo))),
        "{body}"
    );
    assert!(
        body.contains("Foglio 5 particella 50 sub 2, Via Pace 2"),
        "{body}"
    );
    assert!(
        body.contains(&format!("Delibera C.C. n. 4 del 10/03/{y}")),
        "{body}"
    );
    assert!(body.contains(r#"data-element="passaggi""#), "{body}");
    assert!(body.contains(r#"aria-current="page">Tributi"#), "{body}");
    let f24 = format!("/area-personale/tributi/imu/{y}/f24/acconto");
    assert!(body.contains(&f24), "{body}");

    // The F24 of the acconto.
    let (status, headers, pdf) = me.get_bytes(&f24).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("f24-imu-{y}-acconto")),
    );
    assert_eq!(headers["cache-control"], "private, no-store");
    let text = palazzo_testkit::pdf_text(&pdf);
    assert!(text.contains("3918") && text.contains("833,00"), "{text}");
    assert!(text.contains(&cf), "{text}");

    // Bad input: a year that is not one, a payment that is not one, a
    // year before the IMU.
    let r = me.get("/area-personale/tributi?anno=20x6").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(unescape(&r.body).contains("L'anno indicato non è valido"));
    let r = me
        .get(&format!("/area-personale/tributi/imu/{y}/f24/tutto"))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = me.get("/area-personale/tributi?anno=2019").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(unescape(&r.body).contains("dal 2020"), "{}", r.body);

    // The API: the same figures, own position only.
    let key = app.resident_key(CASAMASSIMA, &cf).await;
    let r = me
        .api("GET", &format!("/tributi/imu/{y}"), &key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["codice_fiscale"], cf.as_str());
    assert_eq!(v["scadenza_acconto"], due_acconto.to_string());
    assert_eq!(v["calcolo"]["acconto"], 83_300);
    assert_eq!(v["calcolo"]["saldo"], 99_200);
    assert_eq!(v["calcolo"]["righe"][0]["codice"], "3918");
    let r = me
        .api(
            "GET",
            &format!("/tributi/contribuenti/{other_cf}/imu/{y}"),
            &key,
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The funzionario: any taxpayer, on the page and over the API.
    let mut desk = Browser::new(&app, CASAMASSIMA);
    desk.demo_sign_in("tributi").await;
    let r = desk.get("/backoffice").await;
    assert!(
        r.body.contains(r#"href="/backoffice/tributi""#),
        "{}",
        r.body
    );
    let r = desk.get("/backoffice/tributi").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("posizione-imu"));
    let r = desk
        .get(&format!(
            "/backoffice/tributi?cf={}&anno={y}",
            cf.to_lowercase()
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert!(body.contains(&format!(r#"data-cf="{cf}""#)), "{body}");
    assert!(
        body.contains(r#"data-element="totale-saldo">992,00 €"#),
        "{body}"
    );
    let (status, _, pdf) = desk
        .get_bytes(&format!(
            "/backoffice/tributi/f24?cf={cf}&anno={y}&versamento=saldo"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(palazzo_testkit::pdf_text(&pdf).contains("992,00"));
    let r = desk
        .get(&format!("/backoffice/tributi?cf=NONVALIDO&anno={y}"))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(unescape(&r.body).contains("Il codice fiscale «NONVALIDO» non è valido"));
    let desk_key = desk.api_key("tributi").await;
    let r = desk
        .api(
            "GET",
            &format!("/tributi/contribuenti/{cf}/imu/{y}"),
            &desk_key,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["calcolo"]["saldo"], 99_200);
    let r = desk
        .api("GET", "/tributi/aliquote-imu", &desk_key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v[0]["anno"], y);
    assert_eq!(v[0]["altri_fabbricati"], 1060);
    assert_eq!(v[1]["detrazione"], Cents::from_cents(20_000).cents());
    // The funzionario has no personal tax page of their own here.
    let r = desk.get("/area-personale/tributi").await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The pagoPA notice of the saldo, asked from the citizen's page (a
    // form with the CSRF token): a PDF whose QR code holds a valid codice
    // avviso, the comune's codice fiscale and the amount.
    let page = me.get(&format!("/area-personale/tributi?anno={y}")).await;
    let csrf = page.csrf().expect("a CSRF token on the tax page");
    let action = format!("/area-personale/tributi/imu/{y}/avviso/saldo");
    assert!(page.body.contains(&action), "{}", page.body);
    let (status, headers, pdf) = me.post_bytes(&action, &[("csrf", &csrf)]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers["content-type"], "application/pdf");
    let qr = palazzo_testkit::pdf_qr_codes(&pdf);
    assert_eq!(qr.len(), 1, "{qr:?}");
    let fields: Vec<&str> = qr[0].split('|').collect();
    assert_eq!(fields[..2], ["PAGOPA", "002"]);
    let codice = palazzo_domain::pagopa::CodiceAvviso::parse(fields[2]).expect("a valid codice");
    assert_eq!(fields[3], t.data.codice_fiscale.as_str());
    assert_eq!(fields[4], "99200");
    // Without the token: refused, nothing issued.
    let (status, _, _) = me
        .post_bytes(
            &format!("/area-personale/tributi/imu/{y}/avviso/acconto"),
            &[],
        )
        .await;
    assert_eq!(status, 403);
    // The page says it is to be paid, with its number.
    let body = unescape(
        &me.get(&format!("/area-personale/tributi?anno={y}"))
            .await
            .body,
    );
    assert!(body.contains("da pagare"), "{body}");
    let printed: String = codice
        .to_string()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(body.contains(&printed), "{body}");

    // The office records the payment (the receipt pagoPA sent): the
    // citizen's page shows it paid.
    let r = desk
        .api(
            "POST",
            &format!("/tributi/avvisi/{codice}/pagamento"),
            &desk_key,
            Some(serde_json::json!({"ricevuta": "RIC-42"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(
        &me.get(&format!("/area-personale/tributi?anno={y}"))
            .await
            .body,
    );
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    assert!(
        body.contains(&format!("Pagato il {}", day(today))),
        "{body}"
    );
    // A payment already recorded with another receipt is refused.
    let r = desk
        .api(
            "POST",
            &format!("/tributi/avvisi/{codice}/pagamento"),
            &desk_key,
            Some(serde_json::json!({"ricevuta": "ALTRA"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);

    app.stop().await;
}

#[tokio::test]
async fn tributi_web_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn tributi_web_postgres() {
    run(Backend::Postgres).await;
}

/// The anonymous IMU calculator of the portal, at the demo comune's rates
/// (10,6‰ this year, 10,4‰ the year before): an A/2 with a rendita of
/// 1.000 € held all year: base 168.000 €, year 1.780,80 → 1.781 €,
/// acconto 873,60 → 874 €, saldo 907 €; as abitazione principale, exempt.
async fn calculator(backend: Backend) {
    let app = TestApp::spawn(backend, 3).await;
    let mut anon = Browser::new(&app, CASAMASSIMA);
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year();
    let r = anon.get("/servizi").await;
    assert!(
        r.body.contains(r#"href="/servizi/calcolo-imu""#),
        "{}",
        r.body
    );
    let r = anon.get("/servizi/calcolo-imu").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"data-element="calcolatore-imu""#));
    assert!(!r.body.contains("posizione-imu"));
    let base = format!(
        "/servizi/calcolo-imu?anno={year}&categoria=A%2F2&rendita=1.000%2C00&quota=100&mesi=12"
    );
    let r = anon.get(&format!("{base}&condizione=")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert!(
        body.contains(r#"data-element="totale-acconto">874,00 €"#),
        "{body}"
    );
    assert!(
        body.contains(r#"data-element="totale-saldo">907,00 €"#),
        "{body}"
    );
    assert!(body.contains("× 1,05 × 160"), "{body}");
    assert!(!body.contains("richiedi-avviso"), "{body}");
    let r = anon
        .get(&format!("{base}&condizione=abitazione_principale"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert!(body.contains(r#"data-element="nessun-immobile""#), "{body}");
    assert!(body.contains("esente"), "{body}");
    // Bad input: a 422 in Italian, the form kept.
    for (query, message) in [
        ("categoria=Z%2F9&rendita=100", "categoria catastale"),
        ("categoria=A%2F2&rendita=cento", "rendita catastale"),
        ("categoria=A%2F2&rendita=100&mesi=13", "da 1 a 12"),
        (
            "categoria=A%2F2&rendita=100&condizione=villa",
            "situazioni proposte",
        ),
    ] {
        let r = anon.get(&format!("/servizi/calcolo-imu?{query}")).await;
        assert_eq!(r.status, 422, "{query}: {}", r.body);
        let body = unescape(&r.body);
        assert!(body.contains(message), "{query}: {body}");
        assert!(body.contains(r#"data-element="errore""#), "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn calcolo_imu_sqlite() {
    calculator(Backend::Sqlite).await;
}

#[tokio::test]
async fn calcolo_imu_postgres() {
    calculator(Backend::Postgres).await;
}
