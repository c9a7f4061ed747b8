//! Sign-in and access end to end over HTTP, on both backends: sessions and
//! their cookies, the personal area (first access, contacts, GDPR export,
//! sign-ins), sign-out everywhere, break-glass administrators (TOTP, replay,
//! lock-out, ledger) and role administration (ledgered).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::totp;
use palazzo_store::Store;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, TestApp};

async fn first_resident(app: &TestApp, host: &str, n: usize) -> palazzo_store::PopPerson {
    let t = app.app.tenant_for_host(host).unwrap();
    app.app
        .demo_residents(t.id, 10)
        .await
        .unwrap()
        .swap_remove(n)
}

async fn citizen_area(backend: Backend) {
    let app = TestApp::spawn(backend, 10).await;
    let me = first_resident(&app, CASAMASSIMA, 0).await;
    let other = first_resident(&app, CASAMASSIMA, 1).await;
    let mut b = Browser::new(&app, CASAMASSIMA);

    // Anonymous: sent to sign in, and back afterwards.
    let r = b.get("/area-personale").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/accedi?ritorno=%2Farea-personale"));
    let r = b.get("/accedi?ritorno=%2Farea-personale").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("/accedi/demo?ritorno=%2Farea-personale"),
        "{}",
        r.body
    );

    // The demo page sets the anonymous CSRF cookie (Strict, HttpOnly).
    let page = b.get("/accedi/demo").await;
    let anon = page.set_cookies().join("\n");
    assert!(
        anon.contains("palazzo_csrf=")
            && anon.contains("SameSite=Strict")
            && anon.contains("HttpOnly"),
        "{anon}"
    );
    let csrf = page.csrf().unwrap();
    let persona = format!("cf:{}", me.codice_fiscale.as_str());
    let r = b
        .post(
            "/accedi/demo",
            &[
                ("csrf", &csrf),
                ("persona", &persona),
                ("ritorno", "/servizi"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location(),
        Some("/servizi"),
        "back where the citizen started"
    );
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("palazzo="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert!(
        !cookie.to_ascii_lowercase().contains("domain="),
        "host-only cookie"
    );
    let first_token = b.cookies["palazzo"].clone();

    // The personal area shows this citizen, never another.
    let area = b.get("/area-personale").await;
    assert_eq!(area.status, 200);
    assert!(area.body.contains(me.codice_fiscale.as_str()));
    assert!(area.body.contains(&me.name));
    assert!(!area.body.contains(other.codice_fiscale.as_str()));
    assert!(area.body.contains("Completa il tuo profilo"));
    assert!(
        area.body.contains("SPID livello 2"),
        "the sign-in is listed"
    );
    assert_eq!(area.headers["cache-control"], "no-store");

    // Contacts: a bad e-mail is refused with a code and loses nothing.
    let csrf = area.csrf().unwrap();
    let r = b
        .post(
            "/area-personale/contatti",
            &[
                ("csrf", &csrf),
                ("email", "non-una-mail"),
                ("phone", ""),
                ("channel", "email"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("non-una-mail"), "the input is kept");
    let r = b
        .post(
            "/area-personale/contatti",
            &[
                ("csrf", &csrf),
                ("email", ""),
                ("phone", ""),
                ("channel", "sms"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("notice_channel_needs_phone"));
    let r = b
        .post(
            "/area-personale/contatti",
            &[
                ("csrf", &csrf),
                ("email", "Mario.Rossi@Example.it"),
                ("phone", "+39 333 1234567"),
                ("channel", "sms"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let area = b.get("/area-personale?salvato=1").await;
    assert!(area.body.contains("+39 333 1234567"));
    assert!(area.body.contains("value=\"sms\" checked"));
    assert!(!area.body.contains("Completa il tuo profilo"));

    // GDPR access: everything held, as a download.
    let r = b.get("/area-personale/dati.json").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["profilo"]["codice_fiscale"], me.codice_fiscale.as_str());
    assert_eq!(v["profilo"]["telefono"], "+39 333 1234567");
    assert_eq!(v["profilo"]["canale_comunicazioni"], "sms");
    assert_eq!(v["accessi"].as_array().unwrap().len(), 1);
    assert_eq!(v["identita_digitali"][0]["tipo"], "demo");

    // A second sign-in (another device) gets another session; the first
    // sign-in's token is not reused (rotation).
    let mut phone = Browser::new(&app, CASAMASSIMA);
    phone.demo_sign_in(&persona).await;
    assert_ne!(phone.cookies["palazzo"], first_token);
    let area = phone.get("/area-personale").await;
    assert!(
        area.body.contains("+39 333 1234567"),
        "the same profile, once-only"
    );

    // The session is host-only: presented to the other comune it is nobody.
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    elsewhere.cookies = b.cookies.clone();
    assert_eq!(elsewhere.get("/area-personale").await.status, 303);

    // Sign-out everywhere ends both sessions.
    let csrf = b.csrf_of("/area-personale").await;
    let r = b.post("/esci/ovunque", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with("palazzo=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(
        phone.get("/area-personale").await.status,
        303,
        "the other device is signed out too"
    );
    let mut replay = Browser::new(&app, CASAMASSIMA);
    replay.cookies.insert("palazzo".into(), first_token);
    assert_eq!(
        replay.get("/area-personale").await.status,
        303,
        "an ended session's token is dead"
    );
    app.stop().await;
}

async fn break_glass(backend: Backend) {
    let app = TestApp::spawn(backend, 0).await;
    let created = app
        .app
        .create_local_admin(
            Some("casamassima"),
            "anna",
            "Anna Verdi",
            "una password lunga e sicura",
        )
        .await
        .unwrap();
    let secret = totp::TotpSecret::parse_base32(&created.totp_base32).unwrap();
    let tenant = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let ledger_before = app.app.db().ledger_size(tenant.id).await.unwrap();
    let now = || jiff::Timestamp::now().as_second() as u64;
    async fn try_login(b: &mut Browser, pw: &str, code: &str) -> palazzo_testkit::Page {
        let csrf = b.csrf_of("/accedi/amministratore").await;
        b.post(
            "/accedi/amministratore",
            &[
                ("csrf", &csrf),
                ("username", "anna"),
                ("password", pw),
                ("code", code),
            ],
        )
        .await
    }

    let mut b = Browser::new(&app, CASAMASSIMA);
    // Wrong code, then wrong password: the same message, a code, no session.
    let wrong = format!(
        "{:06}",
        (totp::hotp(&secret, totp::step_of(now())) + 1) % 1_000_000
    );
    let r = try_login(&mut b, "una password lunga e sicura", &wrong).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("admin_login_failed"));
    assert!(!b.cookies.contains_key("palazzo"));
    let code = totp::code_at(&secret, now());
    let r = try_login(&mut b, "password sbagliata!!", &code).await;
    assert_eq!(r.status, 422);
    // Right password and code: signed in, as administrator of this comune.
    let r = try_login(&mut b, "una password lunga e sicura", &code).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some("/backoffice"));
    let bo = b.get("/backoffice").await;
    assert!(bo.body.contains("Amministratore del Comune"), "{}", bo.body);
    assert_eq!(b.get("/backoffice/ruoli").await.status, 200);
    // The same code again is a replay.
    let mut b2 = Browser::new(&app, CASAMASSIMA);
    let r = try_login(&mut b2, "una password lunga e sicura", &code).await;
    assert_eq!(r.status, 422, "a TOTP code is accepted once");
    // The administrator of Casamassima is nobody at Acquaviva.
    let mut other = Browser::new(&app, ACQUAVIVA);
    let next = totp::code_at(&secret, now() + 30);
    let r = try_login(&mut other, "una password lunga e sicura", &next).await;
    assert_eq!(r.status, 422);
    // Every attempt is in the ledger.
    let events = app
        .app
        .db()
        .ledger_events(
            tenant.id,
            ledger_before,
            app.app.db().ledger_size(tenant.id).await.unwrap(),
        )
        .await
        .unwrap();
    let attempts = events.iter().filter(|e| e.kind == "admin.sign_in").count();
    assert_eq!(attempts, 4, "three refused and one accepted at Casamassima");
    assert!(events.iter().all(|e| e.subject == "admin:anna"));

    // One code sent twice at the same moment: exactly one sign-in.
    let created = app
        .app
        .create_local_admin(
            Some("casamassima"),
            "bruno",
            "Bruno Neri",
            "una password lunga e sicura",
        )
        .await
        .unwrap();
    let bruno = totp::TotpSecret::parse_base32(&created.totp_base32).unwrap();
    let code = totp::code_at(&bruno, now());
    let (mut x, mut y) = (
        Browser::new(&app, CASAMASSIMA),
        Browser::new(&app, CASAMASSIMA),
    );
    let (cx, cy) = (
        x.csrf_of("/accedi/amministratore").await,
        y.csrf_of("/accedi/amministratore").await,
    );
    let pw = "una password lunga e sicura";
    let fx = [
        ("csrf", cx.as_str()),
        ("username", "bruno"),
        ("password", pw),
        ("code", code.as_str()),
    ];
    let fy = [
        ("csrf", cy.as_str()),
        ("username", "bruno"),
        ("password", pw),
        ("code", code.as_str()),
    ];
    let (rx, ry) = tokio::join!(
        x.post("/accedi/amministratore", &fx),
        y.post("/accedi/amministratore", &fy)
    );
    let mut statuses = [rx.status, ry.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 422], "one code, one sign-in");

    // A name that cannot be an account is refused and never ledgered.
    let size = app.app.db().ledger_size(tenant.id).await.unwrap();
    let mut d = Browser::new(&app, CASAMASSIMA);
    let csrf = d.csrf_of("/accedi/amministratore").await;
    let r = d
        .post(
            "/accedi/amministratore",
            &[
                ("csrf", &csrf),
                ("username", "La Mia Password!"),
                ("password", "x"),
                ("code", "123456"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(app.app.db().ledger_size(tenant.id).await.unwrap(), size);

    // Lock-out after consecutive failures: even the right code is refused.
    let mut c = Browser::new(&app, CASAMASSIMA);
    for _ in 0..3 {
        let r = try_login(&mut c, "password sbagliata!!", "000000").await;
        assert_eq!(r.status, 422);
    }
    let admin = app
        .app
        .db()
        .local_admin_by_username("anna")
        .await
        .unwrap()
        .unwrap();
    assert!(
        admin.locked_until.is_some(),
        "locked after five consecutive failures"
    );
    let r = try_login(
        &mut c,
        "una password lunga e sicura",
        &totp::code_at(&secret, now() + 30),
    )
    .await;
    assert_eq!(r.status, 422, "locked out");
    // Rate limit per client: the window fills up.
    let mut statuses = vec![];
    for _ in 0..6 {
        statuses.push(try_login(&mut c, "x", "000000").await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    app.stop().await;
}

async fn roles_admin(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let tenant = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let resident = first_resident(&app, CASAMASSIMA, 0).await;
    let cf = resident.codice_fiscale.as_str().to_owned();
    // The resident signs in once, then the comune's admin makes them operatore.
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    citizen.demo_sign_in(&format!("cf:{cf}")).await;
    assert_eq!(citizen.get("/backoffice").await.status, 403);

    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let page = admin.get("/backoffice/ruoli").await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("value=\"admin_piattaforma\""),
        "only platform admins grant the platform role"
    );
    let csrf = page.csrf().unwrap();
    let office = app.app.portal(tenant.id).await.unwrap().offices[0]
        .id
        .0
        .to_string();
    let before = app.app.db().ledger_size(tenant.id).await.unwrap();
    // An office-scoped role without office is refused.
    let r = admin
        .post(
            "/backoffice/ruoli/assegna",
            &[
                ("csrf", &csrf),
                ("codice_fiscale", &cf),
                ("ruolo", "operatore"),
                ("ufficio", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("role_needs_office"));
    // The platform role cannot be granted by a comune admin.
    let r = admin
        .post(
            "/backoffice/ruoli/assegna",
            &[
                ("csrf", &csrf),
                ("codice_fiscale", &cf),
                ("ruolo", "admin_piattaforma"),
                ("ufficio", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post(
            "/backoffice/ruoli/assegna",
            &[
                ("csrf", &csrf),
                ("codice_fiscale", &cf),
                ("ruolo", "operatore"),
                ("ufficio", &office),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/backoffice/ruoli?esito=assegnato"));
    // Takes effect on the citizen's next request, same session.
    let bo = citizen.get("/backoffice").await;
    assert_eq!(bo.status, 200);
    assert!(bo.body.contains("Operatore"));
    assert_eq!(citizen.get("/backoffice/ruoli").await.status, 403);
    // Revoke.
    let user = app
        .app
        .db()
        .user_by_codice_fiscale(tenant.id, &resident.codice_fiscale)
        .await
        .unwrap()
        .unwrap();
    let r = admin
        .post(
            "/backoffice/ruoli/revoca",
            &[
                ("csrf", &csrf),
                ("utente", &user.id.0.to_string()),
                ("ruolo", "operatore"),
                ("ufficio", &office),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(citizen.get("/backoffice").await.status, 403);
    let size = app.app.db().ledger_size(tenant.id).await.unwrap();
    let events = app
        .app
        .db()
        .ledger_events(tenant.id, before, size)
        .await
        .unwrap();
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| e.subject == format!("user:{}", user.id.0))
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["role.granted", "role.revoked"]);
    // Sign-ins, profiles and role changes leave a ledger that verifies.
    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.events > 0);
    app.stop().await;
}

mod sqlite {
    use super::*;
    #[tokio::test]
    async fn citizen_area() {
        super::citizen_area(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn break_glass() {
        super::break_glass(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn roles_admin() {
        super::roles_admin(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;
    #[tokio::test]
    async fn citizen_area() {
        super::citizen_area(Backend::Postgres).await
    }
    #[tokio::test]
    async fn break_glass() {
        super::break_glass(Backend::Postgres).await
    }
    #[tokio::test]
    async fn roles_admin() {
        super::roles_admin(Backend::Postgres).await
    }
}
