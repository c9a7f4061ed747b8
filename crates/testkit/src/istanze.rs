//! Filling online istanze as a citizen would, for the tests of pratiche,
//! their times and the personal area: a valid value for every kind of
//! field, every step completed in order, every required attachment
//! uploaded (checked by content like any upload), every declaration
//! ticked.

use jiff::civil::Date;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::calendar::rome_date;
use palazzo_domain::ids::Email;
use palazzo_domain::moduli::{self, FieldKind, RawAnswers};
use palazzo_domain::procedimento::Azione;
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::pratiche::bozze::Nav;
use palazzo_services::pratiche::{ActInput, SHIPPED, StepOutcome, Submitted, Upload};
use palazzo_store::conformance::{office_fixture, service_fixture, tenant_fixture};
use palazzo_store::{
    BozzaId, NewUser, NoticeChannel, OfficeId, PraticaId, Store, StoreTx, TenantId, UserId,
};

use crate::{PgDatabase, TempDir};

/// The smallest file a PDF upload's content check accepts.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// The start of a 1×1 PNG (what an image upload's content check reads).
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Puts in `raw` a valid value for `field` (its sub-keys for compound
/// kinds), as of `today`.
pub fn fill_field(field: &moduli::Field, today: Date, raw: &mut RawAnswers) {
    let id = &field.id;
    let mut put = |k: String, v: &str| raw.entry(k).or_default().push(v.to_owned());
    match &field.kind {
        FieldKind::Testo | FieldKind::TestoLungo => {
            let n = field.rules.min_length.unwrap_or(1).max(12) as usize;
            put(
                id.clone(),
                &"Testo di prova ".repeat(n / 15 + 1)[..n.max(12)],
            );
        }
        FieldKind::CodiceFiscale => put(id.clone(), "VRDGLI80A41A662Y"),
        FieldKind::PartitaIva => put(id.clone(), "01234567897"),
        FieldKind::Data => put(id.clone(), &today.to_string()),
        FieldKind::Importo => put(id.clone(), "100,00"),
        FieldKind::Numero => {
            let v = field.rules.min_value.unwrap_or(1).max(1);
            let v = field.rules.max_value.map_or(v, |m| v.min(m));
            put(id.clone(), &v.to_string());
        }
        FieldKind::Email => put(id.clone(), "verdi@example.org"),
        FieldKind::Telefono => put(id.clone(), "+390801234567"),
        FieldKind::Scelta { options, .. } => put(id.clone(), &options[0].value),
        FieldKind::SiNo => put(id.clone(), "no"),
        FieldKind::ParticellaCatastale => {
            put(format!("{id}.codice_catastale"), "B923");
            put(format!("{id}.foglio"), "12");
            put(format!("{id}.particella"), "345");
            put(format!("{id}.subalterno"), "");
        }
        FieldKind::Indirizzo | FieldKind::Posizione => {
            put(format!("{id}.via"), "Via Roma");
            put(format!("{id}.civico"), "1");
            put(format!("{id}.cap"), "70010");
            put(format!("{id}.comune"), "Casamassima");
        }
    }
}

/// Completes draft `id` of `who`: every step in order (what is prefilled
/// or already typed is kept, every other field filled), then every
/// required attachment. Answers the draft's key.
pub async fn complete_draft(app: &App, tenant: TenantId, who: &Actor, id: BozzaId) -> String {
    let today = rome_date(jiff::Timestamp::now());
    let mut guard = 0;
    loop {
        guard += 1;
        assert!(guard < 30, "the form never ends");
        let view = app.bozza_view(tenant, who, id).await.expect("the draft");
        let Some(step) = view.resume_step() else {
            break;
        };
        let form = &view.definition.definition.form;
        let st = form.step(&step).expect("the step");
        let mut raw = view.raw_for(&step);
        // Every field of the step gets a value: the hidden ones are
        // dropped by the engine.
        for f in &st.fields {
            if !raw
                .keys()
                .any(|k| k == &f.id || k.starts_with(&format!("{}.", f.id)))
            {
                fill_field(f, today, &mut raw);
            }
        }
        match app
            .save_bozza_step(tenant, who, id, &step, &raw, Nav::Next)
            .await
            .expect("the step is saved")
        {
            StepOutcome::Go(_) => {}
            StepOutcome::Invalid(e) => panic!("step {step} of {}: {e:?}", form.code),
        }
    }
    let view = app.bozza_view(tenant, who, id).await.expect("the draft");
    let form = &view.definition.definition.form;
    for spec in moduli::applicable_attachments(form, &view.answers) {
        if !spec.required {
            continue;
        }
        let (name, bytes) = if spec.media_types.contains(&moduli::MediaType::Pdf) {
            ("documento.pdf", PDF)
        } else {
            ("foto.png", PNG)
        };
        app.upload_to_bozza(
            tenant,
            who,
            id,
            Upload {
                spec_id: spec.id.clone(),
                name: name.into(),
                bytes: bytes.to_vec(),
            },
        )
        .await
        .expect("the attachment");
    }
    view.bozza.data.key
}

/// Every declaration of `form`, ticked.
pub fn all_declarations(form: &moduli::FormDefinition) -> RawAnswers {
    form.declarations
        .iter()
        .map(|d| (d.id.clone(), vec!["si".to_owned()]))
        .collect()
}

/// Starts, completes and submits an istanza of service `slug` as `who`.
pub async fn file_istanza(app: &App, tenant: TenantId, who: &Actor, slug: &str) -> Submitted {
    let b = app
        .start_bozza(tenant, who, slug)
        .await
        .expect("the draft starts");
    let key = complete_draft(app, tenant, who, b.id).await;
    let view = app.bozza_view(tenant, who, b.id).await.expect("the draft");
    let declarations = all_declarations(&view.definition.definition.form);
    app.submit_bozza(tenant, who, b.id, &key, &declarations)
        .await
        .expect("the istanza is filed")
}

/// A comune on one backend with every shipped online service installed
/// on the office "urbanistica", and the people of the pratiche tests:
/// two residents (Giulia, Marco), the office's responsabile (Rita), a
/// dirigente (Dario) and the responsabile of another office (Olga, of
/// "tributi"). Shared by the services' pratiche and TEMPI-01 tests.
pub struct Comune {
    /// The application.
    pub app: App,
    /// The comune.
    pub tenant: TenantId,
    /// The competent office of every shipped service.
    pub office: OfficeId,
    /// A resident, the usual applicant.
    pub giulia: Actor,
    /// Another resident.
    pub marco: Actor,
    /// The responsabile of `office`.
    pub responsabile: Actor,
    /// A dirigente (every office).
    pub dirigente: Actor,
    /// The responsabile of another office.
    pub other_office: Actor,
    /// The key store (signing keys, seals).
    pub keys: KeyStore,
    _dir: TempDir,
    _pg: Option<PgDatabase>,
}

/// A signed-in user of `role` (in `office`, if any) named `name`.
#[must_use]
pub fn actor(user: UserId, role: Role, office: Option<i64>, name: &str) -> Actor {
    Actor {
        user: Some(user),
        admin: None,
        principal: Principal {
            grants: vec![Grant { role, office }],
        },
        name: Some(name.into()),
        acr: None,
    }
}

/// The input of a procedure action expecting `state`, with an optional
/// note and no files.
#[must_use]
pub fn act(action: Azione, state: &str, note: Option<&str>) -> ActInput {
    ActInput {
        action,
        expected_state: state.to_owned(),
        note: note.map(str::to_owned),
        files: Vec::new(),
    }
}

impl Comune {
    /// Creates the comune on `backend` (a fresh PostgreSQL database, or a
    /// SQLite file in a temporary directory).
    ///
    /// # Panics
    /// If any part of the set-up fails.
    pub async fn new(backend: Backend) -> Comune {
        let dir = TempDir::new("pratiche");
        let d = dir.path().to_owned();
        let (db, pg) = match backend {
            Backend::Postgres => {
                let pg = PgDatabase::create().await;
                (Db::open(&pg.url).await.expect("PostgreSQL"), Some(pg))
            }
            Backend::Sqlite => (
                Db::open_sqlite(&d.join("p.db")).await.expect("SQLite"),
                None,
            ),
        };
        let keys = KeyStore::new(d.join("keys"));
        let app = App::new(db, keys.clone()).await.expect("the app");
        let t = app.create_tenant(tenant_fixture(1)).await.expect("comune");
        let office = app
            .create_office(t.id, office_fixture("urbanistica"))
            .await
            .expect("office");
        let elsewhere = app
            .create_office(t.id, office_fixture("tributi"))
            .await
            .expect("office");
        for s in SHIPPED {
            app.create_service(t.id, service_fixture(s.service, office.id))
                .await
                .expect("service card");
        }
        app.install_demo_seals().expect("seals");
        assert_eq!(
            app.install_shipped_definitions(t.id)
                .await
                .expect("install"),
            SHIPPED.len()
        );
        assert_eq!(
            app.install_shipped_definitions(t.id)
                .await
                .expect("install"),
            0,
            "installed once"
        );
        let now = jiff::Timestamp::now();
        let person = |given: &str, cf: &str| NewUser {
            codice_fiscale: Some(cf.parse().expect("codice fiscale")),
            given_name: given.into(),
            family_name: "Verdi".into(),
            birth_date: Some(jiff::civil::date(1980, 1, 1)),
            birth_place: Some("Bari".into()),
            email: Some(Email::parse("verdi@example.org").expect("e-mail")),
            phone: Some("+390801234567".into()),
            notice_channel: NoticeChannel::Email,
        };
        let mut tx = app.db().begin().await.expect("tx");
        let mut insert = async |given: &str, cf: &str| {
            tx.insert_user(t.id, &person(given, cf), now)
                .await
                .expect("user")
                .id
        };
        let g = insert("Giulia", "VRDGLI80A41A662Y").await;
        let m = insert("Marco", "VRDMRC80A01A662Y").await;
        let r = insert("Rita", "RSSRTI70A41A662V").await;
        let dg = insert("Dario", "BNCDRA70A01A662V").await;
        let o = insert("Olga", "NRIGLO70A41A662Y").await;
        tx.commit().await.expect("commit");
        Comune {
            giulia: actor(g, Role::Cittadino, None, "Giulia Verdi"),
            marco: actor(m, Role::Cittadino, None, "Marco Verdi"),
            responsabile: actor(r, Role::Responsabile, Some(office.id.0), "Rita Verdi"),
            dirigente: actor(dg, Role::Dirigente, None, "Dario Verdi"),
            other_office: actor(o, Role::Responsabile, Some(elsewhere.id.0), "Olga Verdi"),
            app,
            tenant: t.id,
            office: office.id,
            keys,
            _dir: dir,
            _pg: pg,
        }
    }

    /// Giulia files an istanza of service `slug` ([`file_istanza`]).
    pub async fn file(&self, slug: &str) -> Submitted {
        file_istanza(&self.app, self.tenant, &self.giulia, slug).await
    }

    /// `who` acts on pratica `id`; returns the state reached.
    ///
    /// # Panics
    /// If the action is refused.
    pub async fn step(&self, who: &Actor, id: PraticaId, input: ActInput) -> String {
        self.app
            .act_on_pratica(self.tenant, who, id, input)
            .await
            .expect("the action")
            .pratica
            .data
            .state
    }
}
