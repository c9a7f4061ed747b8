//! Filling online istanze as a citizen would, for the tests of pratiche,
//! their times and the personal area: a valid value for every kind of
//! field, every step completed in order, every required attachment
//! uploaded (checked by content like any upload), every declaration
//! ticked.

use jiff::civil::Date;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::moduli::{self, FieldKind, RawAnswers};
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::pratiche::bozze::Nav;
use palazzo_services::pratiche::{StepOutcome, Submitted, Upload};
use palazzo_store::{BozzaId, TenantId};

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
