//! The IMU rates of a year entered from the back office (issue 7: "rates
//! and tariffs per comune and year are data the admin enters, with the
//! delibera reference"): `GET /backoffice/tributi/aliquote[?anno=AAAA]`
//! lists the years entered and shows the form, prefilled with the year's
//! rates (or the law's base rates); `POST /backoffice/tributi/aliquote`
//! saves them through [`palazzo_services::App::set_imu_rates`] — the same
//! checks, the same ledger event as the API and the CLI. Every problem is
//! shown next to its field with a 422, and what was typed is kept.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use palazzo_domain::access::Permission;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::Aliquota;
use palazzo_domain::tributi::imu::{Aliquote, NOMI_ALIQUOTE};
use palazzo_services::ServiceError;
use palazzo_store::Tenant;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, page};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

/// The page.
pub const PATH: &str = "/backoffice/tributi/aliquote";

/// The page routes.
pub fn router() -> Routes {
    let office = Access::Needs(Permission::ManageTaxes);
    Routes::new()
        .get(PATH, office, show)
        .post(PATH, office, save)
}

/// One input of the form: name, label, value as typed, its problem.
struct Campo {
    nome: &'static str,
    etichetta: &'static str,
    valore: String,
    errore: Option<String>,
}

/// A year entered: year, delibera, when and by whom.
struct Anno {
    anno: i16,
    delibera: String,
    aggiornate: String,
}

#[derive(Template)]
#[template(path = "tributi/aliquote.html")]
struct AliquoteTemplate<'a> {
    shell: Shell<'a>,
    anni: Vec<Anno>,
    /// The year, as typed.
    anno: String,
    /// Year and delibera.
    intestazione: Vec<Campo>,
    aliquote: Vec<Campo>,
    /// Detrazione and minimum.
    importi: Vec<Campo>,
    ex_tasi: bool,
    /// The problem of the whole (a rate outside the law's range…).
    errore: Option<String>,
    salvate: bool,
    csrf: String,
}

/// The form as posted (every field a string: what was typed is shown
/// again).
#[derive(Debug, Default, Deserialize)]
struct RatesForm {
    #[serde(default)]
    anno: String,
    #[serde(default)]
    delibera: String,
    #[serde(default)]
    abitazione_principale: String,
    #[serde(default)]
    rurali_strumentali: String,
    #[serde(default)]
    beni_merce: String,
    #[serde(default)]
    terreni: String,
    #[serde(default)]
    gruppo_d: String,
    #[serde(default)]
    altri_fabbricati: String,
    #[serde(default)]
    aree_fabbricabili: String,
    #[serde(default)]
    detrazione: String,
    #[serde(default)]
    versamento_minimo: String,
    #[serde(default)]
    maggiorazione_ex_tasi: Option<String>,
}

impl RatesForm {
    fn rate(&self, nome: &str) -> &str {
        match nome {
            "abitazione_principale" => &self.abitazione_principale,
            "rurali_strumentali" => &self.rurali_strumentali,
            "beni_merce" => &self.beni_merce,
            "terreni" => &self.terreni,
            "gruppo_d" => &self.gruppo_d,
            "altri_fabbricati" => &self.altri_fabbricati,
            _ => &self.aree_fabbricabili,
        }
    }

    /// The form of stored (or base) rates.
    fn of(a: &Aliquote) -> RatesForm {
        let mut a = a.clone();
        let mut f = RatesForm {
            anno: a.anno.to_string(),
            delibera: a.delibera.clone(),
            detrazione: euro(a.detrazione),
            versamento_minimo: euro(a.versamento_minimo),
            maggiorazione_ex_tasi: a.maggiorazione_ex_tasi.then(|| "1".to_owned()),
            ..RatesForm::default()
        };
        for (nome, _) in NOMI_ALIQUOTE {
            let v = a.per_nome(nome).map(|r| per_mille(*r)).unwrap_or_default();
            match nome {
                "abitazione_principale" => f.abitazione_principale = v,
                "rurali_strumentali" => f.rurali_strumentali = v,
                "beni_merce" => f.beni_merce = v,
                "terreni" => f.terreni = v,
                "gruppo_d" => f.gruppo_d = v,
                "altri_fabbricati" => f.altri_fabbricati = v,
                _ => f.aree_fabbricabili = v,
            }
        }
        f
    }
}

/// `10,6` for 10,6‰.
fn per_mille(a: Aliquota) -> String {
    let (int, frac) = (a.0 / 100, a.0 % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int},{}", f / 10),
        f => format!("{int},{f:02}"),
    }
}

/// `200,00`.
fn euro(c: Cents) -> String {
    format!("{},{:02}", c.cents() / 100, c.cents() % 100)
}

fn this_year() -> i16 {
    palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year()
}

/// The page with `f` in the form and its problems.
#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    f: &RatesForm,
    errors: &[(&str, String)],
    errore: Option<String>,
    salvate: bool,
    status: StatusCode,
) -> Result<Response, ServiceError> {
    let title = "Aliquote IMU";
    let mut shell = Shell::new(t, title);
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area del personale", "/backoffice"),
        Crumb::link("Tributi", crate::tributi::OFFICE_PATH),
        Crumb::here(title),
    ];
    let error_of = |nome: &str| {
        errors
            .iter()
            .find(|(n, _)| *n == nome)
            .map(|(_, e)| e.clone())
    };
    let campo = |nome: &'static str, etichetta: &'static str, valore: &str| Campo {
        nome,
        etichetta,
        valore: valore.to_owned(),
        errore: error_of(nome),
    };
    let anni = state
        .app()
        .imu_rates(t.id, &auth.actor)
        .await?
        .into_iter()
        .map(|r| Anno {
            anno: r.aliquote.anno,
            delibera: r.aliquote.delibera,
            aggiornate: format!(
                "{} ({})",
                palazzo_domain::calendar::rome_date(r.updated_at).strftime("%d/%m/%Y"),
                r.updated_by
            ),
        })
        .collect();
    let tpl = AliquoteTemplate {
        shell,
        anni,
        anno: f.anno.trim().to_owned(),
        intestazione: vec![
            campo("anno", "Anno", &f.anno),
            campo(
                "delibera",
                "Delibera (ad esempio «Delibera C.C. n. 12 del 28/03/2026»)",
                &f.delibera,
            ),
        ],
        aliquote: NOMI_ALIQUOTE
            .iter()
            .map(|(nome, etichetta)| campo(nome, etichetta, f.rate(nome)))
            .collect(),
        importi: vec![
            campo(
                "detrazione",
                "Detrazione per l'abitazione principale, in euro (c. 749)",
                &f.detrazione,
            ),
            campo(
                "versamento_minimo",
                "Versamento minimo annuo, in euro (regolamento)",
                &f.versamento_minimo,
            ),
        ],
        ex_tasi: f.maggiorazione_ex_tasi.is_some(),
        errore,
        salvate,
        csrf: auth.csrf().to_owned(),
    };
    let html = tpl
        .render()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(page(html, status))
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    anno: Option<String>,
    fatto: Option<String>,
}

/// Handles `GET /backoffice/tributi/aliquote[?anno=AAAA]`.
async fn show(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let q = q.map(|Query(q)| q).unwrap_or_default();
        let anno = q
            .anno
            .as_deref()
            .and_then(|a| a.trim().parse::<i16>().ok())
            .filter(|a| (2020..=2100).contains(a))
            .unwrap_or_else(this_year);
        let stored = state
            .app()
            .imu_rates(t.id, &auth.actor)
            .await?
            .into_iter()
            .find(|r| r.aliquote.anno == anno);
        let f = RatesForm::of(&stored.map_or_else(|| Aliquote::di_base(anno), |r| r.aliquote));
        render(
            &state,
            &t,
            &auth,
            &f,
            &[],
            None,
            q.fatto.is_some(),
            StatusCode::OK,
        )
        .await
    };
    run.await
        .unwrap_or_else(|e| needs(crate::tributi::OFFICE_PATH, e))
}

/// The rates of the form, or each field's problem.
fn parse(f: &RatesForm) -> Result<Aliquote, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let anno = match f.anno.trim().parse::<i16>() {
        Ok(a) if (2020..=2100).contains(&a) => a,
        _ => {
            errors.push((
                "anno",
                "Indica un anno dal 2020 (l'IMU di L. 160/2019).".to_owned(),
            ));
            this_year()
        }
    };
    let mut a = Aliquote {
        delibera: f.delibera.trim().to_owned(),
        maggiorazione_ex_tasi: f.maggiorazione_ex_tasi.is_some(),
        ..Aliquote::di_base(anno)
    };
    if a.delibera.is_empty() {
        errors.push((
            "delibera",
            "Indica la delibera che ha approvato le aliquote.".to_owned(),
        ));
    }
    for (nome, _) in NOMI_ALIQUOTE {
        match Aliquota::parse_per_mille(f.rate(nome)) {
            Ok(r) => {
                if let Some(slot) = a.per_nome(nome) {
                    *slot = r;
                }
            }
            Err(e) => errors.push((nome, palazzo_domain::error::Coded::message_it(&e))),
        }
    }
    for (nome, value, slot) in [
        ("detrazione", &f.detrazione, &mut a.detrazione),
        (
            "versamento_minimo",
            &f.versamento_minimo,
            &mut a.versamento_minimo,
        ),
    ] {
        match Cents::parse_it(value) {
            Ok(c) if c >= Cents::ZERO => *slot = c,
            _ => errors.push((
                nome,
                format!(
                    "«{}» non è un importo in euro (ad esempio 200,00).",
                    value.trim()
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(a)
    } else {
        Err(errors)
    }
}

/// Handles `POST /backoffice/tributi/aliquote`.
async fn save(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    form: Result<Form<RatesForm>, FormRejection>,
) -> Response {
    let run = async {
        auth.actor.require(Permission::ManageTaxes)?;
        let Form(f) = form.map_err(|_| {
            ServiceError::refused("richiesta_non_valida", "Il modulo inviato non è valido.")
        })?;
        let aliquote = match parse(&f) {
            Ok(a) => a,
            Err(errors) => {
                return render(
                    &state,
                    &t,
                    &auth,
                    &f,
                    &errors,
                    Some("Correggi i campi indicati.".to_owned()),
                    false,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
        let anno = aliquote.anno;
        match state.app().set_imu_rates(t.id, &auth.actor, aliquote).await {
            Ok(_) => Ok(Redirect::to(&format!("{PATH}?anno={anno}&fatto=1")).into_response()),
            Err(ServiceError::Invalid { message, .. }) => {
                render(
                    &state,
                    &t,
                    &auth,
                    &f,
                    &[],
                    Some(message),
                    false,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => Err(e),
        }
    };
    run.await
        .unwrap_or_else(|e| needs(crate::tributi::OFFICE_PATH, e))
}
