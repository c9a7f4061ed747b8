//! The canone unico on the web and the API (issue 7), on both backends:
//! the demo's first resident sees the year's canone beside the IMU and the
//! TARI — a permanent passo carrabile (4,6 m², charged as 5) at
//! Casamassima's standard tariff (19,200 inhabitants: 40 € per m² a year)
//! split over two due dates, and, when it begins this year, a dehors for
//! a fortnight (12,3 m², charged as 12,5, 0,70 € a day) — with the
//! working; asks for the permanent bill (a form with the CSRF token) whose
//! QR codes hold the rata unica and the two instalments, and for the
//! dehors' own notice; the API answers the same figures, a citizen only
//! their own; the office sees any taxpayer's and the coefficients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_testkit::browser::unescape;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};
use serde_json::Value;

/// The amounts of the QR codes of a notice's PDF, sorted, each checked to
/// be the comune's with a valid codice avviso.
fn qr_amounts(pdf: &[u8], org: &str) -> Vec<i64> {
    let mut amounts: Vec<i64> = palazzo_testkit::pdf_qr_codes(pdf)
        .iter()
        .map(|q| {
            let f: Vec<&str> = q.split('|').collect();
            assert_eq!((f[0], f[1], f[3]), ("PAGOPA", "002", org), "{q}");
            palazzo_domain::pagopa::CodiceAvviso::parse(f[2]).expect("a valid codice");
            f[4].parse().unwrap()
        })
        .collect();
    amounts.sort_unstable();
    amounts
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 4).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let org = t.data.codice_fiscale.as_str();
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let cf = residents[0].codice_fiscale.as_str().to_owned();
    let other = residents[1].codice_fiscale.as_str().to_owned();
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let year = today.year();
    // The demo's dehors begins in 20 days: this year's canone, or next
    // year's (then this year's page shows the passo carrabile only).
    let dehors_here = today
        .checked_add(jiff::Span::new().days(20))
        .unwrap()
        .year()
        == year;
    // By hand: passo carrabile 40 € × 1,000 × 0,420 × 5 m² = 84,00, in two
    // instalments of 42,00; dehors 0,70 € × 1,200 × 0,808 × 12,5 m² × 14
    // days = 118,776 → 118,78.
    let (permanenti, dehors) = (8_400_i64, 11_878_i64);
    let totale = permanenti + if dehors_here { dehors } else { 0 };
    let euro = |c: i64| format!("{},{:02} €", c / 100, c % 100);

    let mut me = Browser::new(&app, CASAMASSIMA);
    me.demo_sign_in(&format!("cf:{cf}")).await;
    let page = me
        .get(&format!("/area-personale/tributi?anno={year}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = unescape(&page.body);
    assert!(
        body.contains(r#"data-element="posizione-canone""#),
        "{body}"
    );
    assert_eq!(
        body.matches(r#"data-element="occupazione""#).count(),
        if dehors_here { 2 } else { 1 },
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"data-element="totale-canone">{}"#, euro(totale))),
        "{body}"
    );
    assert!(body.contains("superficie 5 m²"), "{body}");
    assert!(
        body.contains("Occupazioni permanenti, rata 2 di 2"),
        "{body}"
    );

    // The permanent bill, asked with the CSRF token: rata unica and two
    // instalments.
    let csrf = page.csrf().expect("a CSRF token");
    let action = format!("/area-personale/tributi/canone/{year}/avviso");
    assert!(page.body.contains(&action), "{}", page.body);
    let (status, _, _) = me.post_bytes(&action, &[]).await;
    assert_eq!(status, 403);
    let (status, headers, pdf) = me.post_bytes(&action, &[("csrf", &csrf)]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(qr_amounts(&pdf, org), vec![4_200, 4_200, 8_400]);
    // An occupation that is not there: not found, nothing issued.
    let (status, _, _) = me
        .post_bytes(
            &action,
            &[("csrf", &csrf), ("occupazione", "occupazione-X-20260101")],
        )
        .await;
    assert_eq!(status, 404);
    if dehors_here {
        let page = me
            .get(&format!("/area-personale/tributi?anno={year}"))
            .await;
        let body = unescape(&page.body);
        assert!(
            body.contains(r#"data-element="richiedi-avviso-occupazione""#),
            "{body}"
        );
        let start = today.checked_add(jiff::Span::new().days(20)).unwrap();
        let v = format!("occupazione-DEMO-CUP-2-{}", start.strftime("%Y%m%d"));
        let (status, _, pdf) = me
            .post_bytes(&action, &[("csrf", &csrf), ("occupazione", &v)])
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
        assert_eq!(qr_amounts(&pdf, org), vec![dehors]);
    }

    // The API: the same figures, the notices; another's refused.
    let key = app.resident_key(CASAMASSIMA, &cf).await;
    let r = me
        .api("GET", &format!("/tributi/canone/{year}"), &key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["totale"], totale);
    assert_eq!(v["permanenti"], permanenti);
    assert_eq!(v["occupazioni"][0]["calcolo"]["superficie_cm2"], 500);
    assert_eq!(
        v["avvisi"].as_array().unwrap().len(),
        if dehors_here { 4 } else { 3 }
    );
    let r = me
        .api(
            "GET",
            &format!("/tributi/contribuenti/{other}/canone/{year}"),
            &key,
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The office: the taxpayer's view with the buttons, the coefficients.
    let mut desk = Browser::new(&app, CASAMASSIMA);
    desk.demo_sign_in("tributi").await;
    let desk_key = desk.api_key("tributi").await;
    let r = desk
        .get(&format!("/backoffice/tributi?cf={cf}&anno={year}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = unescape(&r.body);
    assert!(
        body.contains(r#"data-element="posizione-canone""#),
        "{body}"
    );
    assert!(body.contains("/backoffice/tributi/canone/avviso"), "{body}");

    // The office records the receipt of the yearly bill's rata unica from
    // the page (a form with the CSRF token): the page shows it paid.
    let r = me
        .api("GET", &format!("/tributi/canone/{year}"), &key, None)
        .await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let unica = v["avvisi"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["versamento"] == "unica")
        .unwrap()["codice_avviso"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains(r#"data-element="avvisi-ufficio""#), "{body}");
    let action = format!("/backoffice/tributi/avvisi/{unica}/pagamento");
    assert!(body.contains(&action), "{body}");
    let desk_page = desk
        .get(&format!("/backoffice/tributi?cf={cf}&anno={year}"))
        .await;
    let desk_csrf = desk_page.csrf().expect("a CSRF token");
    let ys = year.to_string();
    // A day in the future, or a missing receipt: refused, nothing paid;
    // then the receipt of today.
    for (ricevuta, data, status, code) in [
        ("RIC-CUP-1", "31/12/2999", 422, "data_non_valida"),
        ("", "", 422, "ricevuta_non_valida"),
        ("RIC-CUP-1", "", 303, ""),
    ] {
        let fields = [
            ("csrf", desk_csrf.as_str()),
            ("cf", cf.as_str()),
            ("anno", ys.as_str()),
            ("ricevuta", ricevuta),
            ("data", data),
        ];
        let r = desk.post(&action, &fields).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.body.contains(code), "{}", r.body);
    }
    let page = unescape(
        &desk
            .get(&format!("/backoffice/tributi?cf={cf}&anno={year}"))
            .await
            .body,
    );
    assert!(
        page.contains(&format!(
            r#"data-element="pagato-canone">{}"#,
            euro(permanenti)
        )),
        "{page}"
    );
    assert!(!page.contains(&action), "{page}");
    let r = desk
        .api(
            "GET",
            &format!("/tributi/contribuenti/{cf}/canone/{year}"),
            &desk_key,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["totale"], totale);
    let r = desk
        .api("GET", "/tributi/tariffe-canone", &desk_key, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v[0]["anno"], year);
    assert_eq!(v[0]["categorie"][0]["permanente"], 420);
    // The IMU rates from the back office: a rate outside the law refused
    // next to its field with what was typed kept; then saved.
    let r = desk.get("/backoffice/tributi/aliquote?anno=2031").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut fields =
        palazzo_testkit::browser::form_fields(&r.body, "data-element=\"modulo-aliquote\"");
    let set = |fields: &mut Vec<(String, String)>, k: &str, v: &str| {
        if let Some(f) = fields.iter_mut().find(|(n, _)| n == k) {
            f.1 = v.to_owned();
        }
    };
    set(&mut fields, "delibera", "Delibera C.C. n. 9 del 20/03/2031");
    set(&mut fields, "altri_fabbricati", "10,x");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = desk.post("/backoffice/tributi/aliquote", &pairs).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains(r#"data-campo="altri_fabbricati""#),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Delibera C.C. n. 9 del 20/03/2031"),
        "{}",
        r.body
    );
    set(&mut fields, "altri_fabbricati", "10,6");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = desk.post("/backoffice/tributi/aliquote", &pairs).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = desk
        .api("GET", "/tributi/aliquote-imu", &desk_key, None)
        .await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let y2031 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["anno"] == 2031)
        .expect("the rates of 2031");
    assert_eq!(y2031["delibera"], "Delibera C.C. n. 9 del 20/03/2031");
    // The citizen cannot open the rates page.
    let r = me.get("/backoffice/tributi/aliquote").await;
    assert_ne!(r.status, 200);

    // The citizen cannot read the coefficients' API (the office's).
    let r = me.api("GET", "/tributi/tariffe-canone", &key, None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn canone_web_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn canone_web_postgres() {
    run(Backend::Postgres).await;
}
