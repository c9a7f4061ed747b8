//! The authorization matrix (issue 3, part 8): every route of the router's
//! table ([`palazzo_web::route_table`]) is called as an anonymous visitor,
//! as a citizen, as a citizen signed in to the other comune, as each staff
//! role and as the platform administrator, on both backends, and the outcome
//! must match the route's declared [`Access`] and the persona's permissions.
//! Routes enter the router only through that table, so a new route cannot
//! escape the matrix; a route whose path parameters this test cannot fill
//! fails it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Permission, Principal, Role};
use palazzo_domain::totp;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use palazzo_web::routes::Access;

struct Persona {
    name: &'static str,
    /// How to sign in: a demo persona, break-glass, or nobody.
    login: Login,
    principal: Principal,
}

enum Login {
    Anonymous,
    Demo(String),
    /// Demo sign-in at the other comune; the cookie is then presented here.
    OtherComune(String),
    PlatformAdmin,
}

fn grants(roles: &[Role]) -> Principal {
    Principal {
        grants: roles
            .iter()
            .map(|&role| Grant {
                role,
                office: role.is_office_scoped().then_some(1),
            })
            .collect(),
    }
}

async fn personas(app: &TestApp) -> Vec<Persona> {
    let a = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let b = app.app.tenant_for_host(ACQUAVIVA).unwrap();
    let here = app.app.demo_residents(a.id, 1).await.unwrap();
    let there = app.app.demo_residents(b.id, 1).await.unwrap();
    let cf = |p: &palazzo_store::PopPerson| format!("cf:{}", p.codice_fiscale.as_str());
    let mut out = vec![
        Persona {
            name: "anonymous",
            login: Login::Anonymous,
            principal: Principal::anonymous(),
        },
        Persona {
            name: "citizen",
            login: Login::Demo(cf(&here[0])),
            principal: grants(&[Role::Cittadino]),
        },
        Persona {
            name: "citizen of the other comune",
            login: Login::OtherComune(cf(&there[0])),
            principal: Principal::anonymous(),
        },
    ];
    for (key, role) in [
        ("operatore", Role::Operatore),
        ("responsabile", Role::Responsabile),
        ("dirigente", Role::Dirigente),
        ("segretario", Role::Segretario),
        ("anagrafe", Role::UfficialeAnagrafe),
        ("tributi", Role::FunzionarioTributi),
        ("admin", Role::AdminComune),
    ] {
        out.push(Persona {
            name: role.code(),
            login: Login::Demo(key.into()),
            principal: grants(&[role]),
        });
    }
    out.push(Persona {
        name: "admin_piattaforma",
        login: Login::PlatformAdmin,
        principal: grants(&[Role::AdminPiattaforma]),
    });
    out
}

async fn sign_in(app: &TestApp, p: &Persona) -> Browser {
    let mut b = Browser::new(app, CASAMASSIMA);
    match &p.login {
        Login::Anonymous => {}
        Login::Demo(who) => {
            b.demo_sign_in(who).await;
        }
        Login::OtherComune(who) => {
            let mut other = Browser::new(app, ACQUAVIVA);
            other.demo_sign_in(who).await;
            assert!(other.cookies.contains_key("palazzo"));
            b.cookies = other.cookies.clone();
        }
        Login::PlatformAdmin => {
            let unix = jiff::Timestamp::now().as_second() as u64;
            let code = totp::code_at(&platform_secret(app).await, unix);
            let csrf = b.csrf_of("/accedi/amministratore").await;
            let r = b
                .post(
                    "/accedi/amministratore",
                    &[
                        ("csrf", &csrf),
                        ("username", "piattaforma"),
                        ("password", "una password lunga e sicura"),
                        ("code", &code),
                    ],
                )
                .await;
            assert_eq!(r.status, 303, "break-glass sign-in: {}", r.body);
        }
    }
    b
}

/// A fresh session for the persona. The break-glass form cannot be used
/// twice within one TOTP step (replay protection), so its session is opened
/// directly.
async fn resign_in(app: &TestApp, p: &Persona) -> Browser {
    if !matches!(p.login, Login::PlatformAdmin) {
        return sign_in(app, p).await;
    }
    use palazzo_store::Store;
    let admin = app
        .app
        .db()
        .local_admin_by_username("piattaforma")
        .await
        .unwrap()
        .unwrap();
    let tenant = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let who = palazzo_services::access::SignedIn {
        admin: Some(admin.id),
        provider: "local".into(),
        name: "Amministratore piattaforma".into(),
        ..Default::default()
    };
    let (token, _) = app.app.rotate_session(None, tenant.id, who).await.unwrap();
    let mut b = Browser::new(app, CASAMASSIMA);
    b.cookies.insert("palazzo".into(), token);
    b
}

async fn platform_secret(app: &TestApp) -> totp::TotpSecret {
    use palazzo_store::Store;
    let a = app
        .app
        .db()
        .local_admin_by_username("piattaforma")
        .await
        .unwrap()
        .unwrap();
    totp::TotpSecret::from_bytes(&a.data.totp_secret).unwrap()
}

/// A concrete path for a route template.
fn concrete(template: &str, snap: &palazzo_services::PortalSnapshot) -> String {
    let service = &snap.services[0];
    let office = &snap.offices[0];
    let fill = |seg: &str| -> String {
        match seg {
            "{topic}" => "anagrafe".into(),
            "{sub}" => match template {
                t if t.starts_with("/amministrazione") => "uffici".into(),
                t if t.starts_with("/novita") => "notizie".into(),
                _ => "luoghi".into(),
            },
            "{office}" => office.data.slug.clone(),
            "{category}" => service.data.category.slug().into(),
            "{service}" | "{slug}" => service.data.slug.clone(),
            "{hash}" => "0".into(),
            "{id}" => "1".into(),
            "{code}" => "EMERG-2026-01".into(),
            "{number}" | "{numero}" => "1".into(),
            "{anno}" => "2026".into(),
            "{n}" | "{seq}" => "0".into(),
            // A step of a draft that does not exist.
            "{step}" => "riepilogo".into(),
            "{v}" => "1".into(),
            "{formato}" => "pdf".into(),
            // Local taxes: a payment and a taxpayer.
            "{versamento}" => "acconto".into(),
            "{cf}" => "RSSMRA80A01H501U".into(),
            // A codice avviso never issued (valid check digits).
            "{codice}" => "301000000099999913".into(),
            // Online istanze: a file of a draft.
            "{aid}" => "1".into(),
            // A certificate id that was never issued (16 zero bytes).
            "{cti}" => "AAAAAAAAAAAAAAAAAAAAAA".into(),
            // A voice of the titolario that does not exist: the matrix
            // changes no titolario (the edit is refused after authorization).
            "{voce}" => "I.99".into(),
            "{*path}" => "css/palazzo.css".into(),
            s if s.starts_with('{') => panic!("the matrix cannot fill {s} in {template}: add it"),
            s => s.into(),
        }
    };
    template.split('/').map(fill).collect::<Vec<_>>().join("/")
}

fn is_sign_in_redirect(r: &Page) -> bool {
    r.status == 303
        && r.location()
            .is_some_and(|l| l.starts_with("/accedi?ritorno="))
}

/// Outcomes seen: (allowed, sent to sign in / 401, forbidden).
#[derive(Default, Debug)]
struct Tally(u32, u32, u32);

fn check(
    tally: &mut Tally,
    route: &str,
    persona: &str,
    access: Access,
    can: Option<bool>,
    signed_in: bool,
    r: &Page,
) {
    let what = format!(
        "{route} as {persona}: {} {}",
        r.status,
        r.location().unwrap_or("")
    );
    assert!(r.status < 500, "{what}: server error {}", r.body);
    match (access, can) {
        (Access::Public | Access::Demo | Access::Internal, _) | (Access::Needs(_), Some(true)) => {
            assert!(
                r.status != 401 && r.status != 403 && !is_sign_in_redirect(r),
                "{what}: should be allowed"
            );
            tally.0 += 1;
        }
        (Access::Needs(_), _) if !signed_in => {
            if route.contains("/api/") {
                assert_eq!(r.status, 401, "{what}");
            } else {
                assert!(is_sign_in_redirect(r), "{what}: should go to sign-in");
            }
            tally.1 += 1;
        }
        (Access::Needs(_), _) => {
            assert_eq!(r.status, 403, "{what}: should be forbidden");
            tally.2 += 1;
        }
    }
}

async fn matrix(backend: Backend) {
    let app = TestApp::spawn(backend, 20).await;
    app.app
        .create_local_admin(
            None,
            "piattaforma",
            "Amministratore piattaforma",
            "una password lunga e sicura",
        )
        .await
        .unwrap();
    let tenant = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(tenant.id).await.unwrap();
    let (_, table) = palazzo_web::route_table().into_parts();
    assert!(table.len() > 30, "the table lists every route");
    for spec in &table {
        assert!(
            spec.method == "GET" || spec.method == "POST",
            "{} {}: pages change state only through POST (CSRF)",
            spec.method,
            spec.path
        );
    }
    // Sign-out routes end the session: run them last, each with a fresh one.
    let mut ordered: Vec<_> = table.iter().collect();
    ordered.sort_by_key(|s| s.path.starts_with("/esci"));

    let mut tally = Tally::default();
    for p in personas(&app).await {
        let mut b = sign_in(&app, &p).await;
        let signed_in = !matches!(p.login, Login::Anonymous | Login::OtherComune(_));
        for spec in &ordered {
            let path = concrete(&spec.path, &snap);
            let can = match spec.access {
                Access::Needs(perm) => Some(p.principal.can(perm)),
                _ => None,
            };
            let r = if spec.method == "GET" {
                b.get(&path).await
            } else {
                if path.starts_with("/esci") {
                    b = resign_in(&app, &p).await;
                }
                // The persona's own valid CSRF token: authorization, not CSRF, decides.
                let csrf = b.csrf_of("/accedi/amministratore").await;
                b.post(&path, &[("csrf", &csrf)]).await
            };
            check(
                &mut tally,
                &spec.path,
                p.name,
                spec.access,
                can,
                signed_in,
                &r,
            );
        }
    }
    // Each kind of outcome occurred: the matrix is not vacuous.
    eprintln!("matrix outcomes (allowed, sign-in, forbidden): {tally:?}");
    assert!(tally.0 > 300 && tally.1 >= 14 && tally.2 >= 20, "{tally:?}");
    app.stop().await;
}

/// State-changing page routes refuse a POST without the CSRF token of the
/// session, and one from another site.
async fn csrf_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let a = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(a.id).await.unwrap();
    let resident = &app.app.demo_residents(a.id, 1).await.unwrap()[0];
    let mut b = Browser::new(&app, CASAMASSIMA);
    b.demo_sign_in(&format!("cf:{}", resident.codice_fiscale.as_str()))
        .await;
    let (_, table) = palazzo_web::route_table().into_parts();
    let mut checked = 0;
    for spec in table.iter().filter(|s| s.method == "POST") {
        let path = concrete(&spec.path, &snap);
        if path.starts_with("/api/") || path == "/valutazioni" {
            continue; // JSON API (CORS preflight) and the ticketed rating form
        }
        for token in [None, Some("x".repeat(43))] {
            let mut form = vec![];
            if let Some(t) = &token {
                form.push(("csrf", t.as_str()));
            }
            let r = b.post(&path, &form).await;
            assert_eq!(r.status, 403, "POST {path} with csrf {token:?}: {}", r.body);
            assert!(r.body.contains("csrf_invalid"), "{path}: {}", r.body);
        }
        checked += 1;
    }
    assert!(
        checked >= 7,
        "every state-changing page route was tried ({checked})"
    );
    // Still signed in: the refused posts changed nothing.
    assert_eq!(b.get("/area-personale").await.status, 200);
    // Anonymous forms use the double-submit cookie: no cookie, no post.
    let mut anon = Browser::new(&app, CASAMASSIMA);
    let r = anon
        .post("/accedi/amministratore", &[("csrf", &"y".repeat(43))])
        .await;
    assert_eq!(r.status, 403);
    app.stop().await;
}

mod sqlite {
    use super::*;
    #[tokio::test]
    async fn authorization_matrix() {
        matrix(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn csrf_on_every_state_change() {
        csrf_everywhere(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;
    #[tokio::test]
    async fn authorization_matrix() {
        matrix(Backend::Postgres).await
    }
    #[tokio::test]
    async fn csrf_on_every_state_change() {
        csrf_everywhere(Backend::Postgres).await
    }
}

#[test]
fn permissions_used_by_routes_exist_in_the_role_table() {
    let (_, table) = palazzo_web::route_table().into_parts();
    for spec in table {
        if let Access::Needs(p) = spec.access {
            assert!(
                palazzo_domain::access::ROLES
                    .iter()
                    .any(|r| r.permissions().contains(&p)),
                "{}: no role carries {p:?}",
                spec.path
            );
        }
    }
    let _ = Permission::OwnProfile;
}

/// The online-service editor (issue 6): every route is in the table, for
/// the comune's administrators only (the matrix above calls each one as
/// every persona).
#[test]
fn service_editor_routes_are_for_catalogue_managers() {
    let (_, table) = palazzo_web::route_table().into_parts();
    for (method, path) in [
        ("GET", "/backoffice/servizi-online"),
        ("GET", "/backoffice/servizi-online/nuovo"),
        ("GET", "/backoffice/servizi-online/{slug}/modifica"),
        ("GET", "/backoffice/servizi-online/{slug}/esporta"),
        ("POST", "/backoffice/servizi-online/editor"),
        ("POST", "/backoffice/servizi-online/importa"),
        ("GET", "/backoffice/schede-servizio"),
        ("POST", "/backoffice/schede-servizio"),
        ("GET", "/backoffice/schede-servizio/nuova"),
        ("GET", "/backoffice/schede-servizio/{slug}/modifica"),
        ("POST", "/backoffice/schede-servizio/{slug}/modifica"),
        ("GET", "/api/v1/schede-servizio/{slug}"),
        ("POST", "/api/v1/schede-servizio"),
        ("POST", "/api/v1/schede-servizio/{slug}"),
    ] {
        let spec = table
            .iter()
            .find(|s| s.method == method && s.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is not in the route table"));
        assert_eq!(
            spec.access,
            Access::Needs(Permission::ManageCatalogue),
            "{method} {path}"
        );
    }
}

/// Local taxes (issue 7): the citizen's own position for the citizen, the
/// taxpayers' positions and the rates for the funzionario responsabile.
#[test]
fn tax_routes_are_for_the_taxpayer_or_the_tributi_office() {
    let (_, table) = palazzo_web::route_table().into_parts();
    for (method, path, p) in [
        ("GET", "/area-personale/tributi", Permission::OwnProfile),
        (
            "GET",
            "/area-personale/tributi/imu/{anno}/f24/{versamento}",
            Permission::OwnProfile,
        ),
        ("GET", "/api/v1/tributi/imu/{anno}", Permission::OwnProfile),
        (
            "POST",
            "/area-personale/tributi/imu/{anno}/avviso/{versamento}",
            Permission::OwnProfile,
        ),
        (
            "POST",
            "/backoffice/tributi/avviso",
            Permission::ManageTaxes,
        ),
        ("GET", "/backoffice/tributi", Permission::ManageTaxes),
        (
            "POST",
            "/api/v1/tributi/avvisi/{codice}/pagamento",
            Permission::ManageTaxes,
        ),
        ("GET", "/backoffice/tributi/f24", Permission::ManageTaxes),
        (
            "GET",
            "/api/v1/tributi/contribuenti/{cf}/imu/{anno}",
            Permission::ManageTaxes,
        ),
        (
            "GET",
            "/api/v1/tributi/aliquote-imu",
            Permission::ManageTaxes,
        ),
        (
            "POST",
            "/api/v1/tributi/aliquote-imu",
            Permission::ManageTaxes,
        ),
        // TARI.
        (
            "POST",
            "/area-personale/tributi/tari/{anno}/avviso",
            Permission::OwnProfile,
        ),
        ("GET", "/api/v1/tributi/tari/{anno}", Permission::OwnProfile),
        ("GET", "/api/v1/tributi/tasi", Permission::OwnProfile),
        (
            "GET",
            "/api/v1/tributi/contribuenti/{cf}/tasi",
            Permission::ManageTaxes,
        ),
        (
            "POST",
            "/backoffice/tributi/tari/avviso",
            Permission::ManageTaxes,
        ),
        (
            "GET",
            "/api/v1/tributi/contribuenti/{cf}/tari/{anno}",
            Permission::ManageTaxes,
        ),
        (
            "GET",
            "/api/v1/tributi/tariffe-tari",
            Permission::ManageTaxes,
        ),
        (
            "POST",
            "/api/v1/tributi/tariffe-tari",
            Permission::ManageTaxes,
        ),
        (
            "POST",
            "/backoffice/tributi/avvisi/{codice}/pagamento",
            Permission::ManageTaxes,
        ),
        (
            "GET",
            "/backoffice/tributi/aliquote",
            Permission::ManageTaxes,
        ),
        (
            "POST",
            "/backoffice/tributi/aliquote",
            Permission::ManageTaxes,
        ),
        // Canone unico.
        (
            "POST",
            "/area-personale/tributi/canone/{anno}/avviso",
            Permission::OwnProfile,
        ),
        (
            "GET",
            "/api/v1/tributi/canone/{anno}",
            Permission::OwnProfile,
        ),
        (
            "POST",
            "/backoffice/tributi/canone/avviso",
            Permission::ManageTaxes,
        ),
        (
            "GET",
            "/api/v1/tributi/contribuenti/{cf}/canone/{anno}",
            Permission::ManageTaxes,
        ),
        (
            "GET",
            "/api/v1/tributi/tariffe-canone",
            Permission::ManageTaxes,
        ),
        (
            "POST",
            "/api/v1/tributi/tariffe-canone",
            Permission::ManageTaxes,
        ),
    ] {
        let spec = table
            .iter()
            .find(|s| s.method == method && s.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is not in the route table"));
        assert_eq!(spec.access, Access::Needs(p), "{method} {path}");
    }
}

/// Public routes that the matrix must find public: TEMPI-01 (issue 6), the
/// times of the procedures, published for anyone (counts and durations
/// only), as a page, its downloads and the API.
#[test]
fn public_routes_are_declared_public() {
    let (_, table) = palazzo_web::route_table().into_parts();
    for path in [
        "/servizi-online/tempi",
        "/servizi-online/tempi.csv",
        "/servizi-online/tempi.json",
        "/api/v1/servizi-online/tempi",
    ] {
        let spec = table
            .iter()
            .find(|s| s.path == path && s.method == "GET")
            .unwrap_or_else(|| panic!("GET {path} is in the route table"));
        assert_eq!(spec.access, Access::Public, "GET {path} is public");
    }
}
