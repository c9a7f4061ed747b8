//! The TARI on the web and the API (issue 7), on both backends: the demo's
//! first resident sees the year's TARI beside the IMU — two utenze (the
//! family home with garage and composting, half a flat from 10
//! September), TARI and TEFA, the rata unica and two instalments with the
//! working — asks for the bill's pagoPA notice (a form with the CSRF
//! token) whose QR codes hold the three codici and amounts; the office
//! records the first instalment's payment and the page shows it paid and
//! what remains; the API answers the same figures, a citizen only their
//! own; the office sees any taxpayer's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_testkit::browser::unescape;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};
use serde_json::Value;

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 4).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let cf = residents[0].codice_fiscale.as_str().to_owned();
    let other = residents[1].codice_fiscale.as_str().to_owned();
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year();
    let leap = jiff::civil::Date::new(year, 2, 29).is_ok();
    // By hand, the demo's tariffs (docs: demo/tributi.rs):
    // home, 3 occupants, 95 + 18 m²: fixed 113 × 0,4460 = 50,40; variable
    // 75,03; composting 20% of it = 15,01; TARI 110,42, TEFA 5,52.
    // Half a flat, 2 occupants, 80 m², from 10 September: 113 days of 365
    // (366): fixed 33,60 × 113/365 = 10,40 (10,37), variable 62,50 ×
    // 113/365 = 19,35 (19,30); TARI 29,75 (29,67), TEFA 1,49 (1,48).
    let (tari, tefa) = if leap {
        (11_042 + 2_967, 552 + 148)
    } else {
        (11_042 + 2_975, 552 + 149)
    };
    let totale = tari + tefa;
    let euro = |c: i64| format!("{},{:02} €", c / 100, c % 100);
    // Two instalments, the odd cent on the first.
    let rata = |i: i64| {
        (tari / 2 + if i == 0 { tari % 2 } else { 0 })
            + (tefa / 2 + if i == 0 { tefa % 2 } else { 0 })
    };

    let mut me = Browser::new(&app, CASAMASSIMA);
    me.demo_sign_in(&format!("cf:{cf}")).await;
    let page = me
        .get(&format!("/area-personale/tributi?anno={year}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = unescape(&page.body);
    assert!(body.contains(r#"data-element="posizione-tari""#), "{body}");
    assert_eq!(
        body.matches(r#"data-element="utenza""#).count(),
        2,
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"data-element="totale-tari">{}"#, euro(totale))),
        "{body}"
    );
    assert!(body.contains("Compostaggio domestico"), "{body}");
    assert!(body.contains("113 giorni su"), "{body}");
    assert!(body.contains("Rata 2 di 2"), "{body}");

    // The demo's F24 flows: once its due date is past, this year's IMU
    // acconto is paid.
    let (acconto, _) = palazzo_domain::tributi::imu::scadenze(year);
    if palazzo_domain::calendar::rome_date(jiff::Timestamp::now()) > acconto {
        assert!(
            body.contains(r#"<tr data-versamento="acconto">"#)
                && body.contains(r#"<span class="badge bg-success">Pagato</span>"#),
            "{body}"
        );
    }
    // Last year's TARI: the first instalment paid by F24, the second past
    // due, with the ravvedimento of today.
    let last = unescape(
        &me.get(&format!("/area-personale/tributi?anno={}", year - 1))
            .await
            .body,
    );
    assert!(last.contains(r#"data-element="versamenti""#), "{last}");
    assert!(last.contains("F24, codice tributo 3944"), "{last}");
    assert!(last.contains(r#"data-element="scaduto""#), "{last}");
    assert!(
        last.contains("<th scope=\"row\">Rata 2 di 2</th>"),
        "{last}"
    );
    assert!(last.contains(r#"data-element="da-versare-oggi""#), "{last}");

    // The TASI history: the demo's two payments of 2019.
    assert!(body.contains(r#"data-element="storico-tasi""#), "{body}");
    assert!(body.contains("versato 86,00 €"), "{body}");

    // The bill's notice, asked with the CSRF token: three QR codes.
    let csrf = page.csrf().expect("a CSRF token");
    let action = format!("/area-personale/tributi/tari/{year}/avviso");
    assert!(page.body.contains(&action), "{}", page.body);
    let (status, _, _) = me.post_bytes(&action, &[]).await;
    assert_eq!(status, 403);
    let (status, headers, pdf) = me.post_bytes(&action, &[("csrf", &csrf)]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers["content-type"], "application/pdf");
    let org = t.data.codice_fiscale.as_str();
    let mut amounts: Vec<String> = palazzo_testkit::pdf_qr_codes(&pdf)
        .iter()
        .map(|q| {
            let f: Vec<&str> = q.split('|').collect();
            assert_eq!((f[0], f[1], f[3]), ("PAGOPA", "002", org), "{q}");
            palazzo_domain::pagopa::CodiceAvviso::parse(f[2]).expect("a valid codice");
            f[4].to_owned()
        })
        .collect();
    amounts.sort();
    let mut expected = vec![totale.to_string(), rata(0).to_string(), rata(1).to_string()];
    expected.sort();
    assert_eq!(amounts, expected);

    // The API: the same figures, the notices; another's refused.
    let key = app.resident_key(CASAMASSIMA, &cf).await;
    let r = me
        .api("GET", &format!("/tributi/tari/{year}"), &key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["totale"], totale);
    assert_eq!(v["tefa"], tefa);
    assert_eq!(v["utenze"].as_array().unwrap().len(), 2);
    assert_eq!(v["avvisi"].as_array().unwrap().len(), 3);
    assert_eq!(v["avvisi"][1]["versamento"], "rata-1");
    let rata1 = v["avvisi"][1]["codice_avviso"].as_str().unwrap().to_owned();
    let r = me
        .api(
            "GET",
            &format!("/tributi/contribuenti/{other}/tari/{year}"),
            &key,
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = me.api("GET", "/tributi/tasi", &key, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["anni"][0]["anno"], 2019);
    assert_eq!(v["anni"][0]["versato"], 8_600);
    let r = me
        .api(
            "GET",
            &format!("/tributi/contribuenti/{other}/tasi"),
            &key,
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = me.api("GET", "/tributi/tari/20x6", &key, None).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // The office records the first instalment's payment.
    let mut desk = Browser::new(&app, CASAMASSIMA);
    desk.demo_sign_in("tributi").await;
    let desk_key = desk.api_key("tributi").await;
    let r = desk
        .api(
            "POST",
            &format!("/tributi/avvisi/{rata1}/pagamento"),
            &desk_key,
            Some(serde_json::json!({"ricevuta": "RIC-TARI-1"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(
        &me.get(&format!("/area-personale/tributi?anno={year}"))
            .await
            .body,
    );
    assert!(body.contains("Pagato il"), "{body}");
    assert!(
        body.contains(&format!(
            r#"data-element="residuo-tari">{}"#,
            euro(totale - rata(0))
        )),
        "{body}"
    );
    // Paid by instalments: the rata unica is no longer due.
    assert!(body.contains("Non più dovuta"), "{body}");

    // The office's view of the taxpayer, and the tariffs over the API.
    let r = desk
        .get(&format!("/backoffice/tributi?cf={cf}&anno={year}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert!(body.contains(r#"data-element="posizione-tari""#), "{body}");
    assert!(body.contains("/backoffice/tributi/tari/avviso"), "{body}");
    let r = desk
        .api(
            "GET",
            &format!("/tributi/contribuenti/{cf}/tari/{year}"),
            &desk_key,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["pagato"], rata(0));
    let r = desk
        .api("GET", "/tributi/tariffe-tari", &desk_key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v[0]["anno"], year);
    assert_eq!(v[0]["domestiche"][2], serde_json::json!([4460, 750300]));
    assert_eq!(v[0]["tefa"], 500);
    app.stop().await;
}

#[tokio::test]
async fn tari_web_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn tari_web_postgres() {
    run(Backend::Postgres).await;
}
