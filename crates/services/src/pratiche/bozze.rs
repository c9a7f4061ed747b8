//! Drafts of online istanze (C.SE.1.6: saved at any moment and resumed;
//! C.SE.1.5: what the comune knows is prefilled; C.SE.1.8: steps visible,
//! the user can go back) and their attachments, checked by content.

use std::collections::BTreeMap;

use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::moduli::{
    self, Answers, FieldErrors, MediaType, Prefill, PrefillContext, RawAnswers,
};
use palazzo_store::*;
use serde::{Deserialize, Serialize};

use super::definizioni::StoredDefinition;
use crate::access::Actor;
use crate::documents::{Kind, detect};
use crate::{App, ServiceError, ServiceResult};

/// The most drafts one user keeps at once.
pub const MAX_DRAFTS: usize = 50;

/// What a draft stores: the typed answers of the steps completed, and the
/// raw values of a step saved with errors (so that nothing typed is lost).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct DraftState {
    /// The answers.
    #[serde(default)]
    pub answers: Answers,
    /// Step id → the raw values last posted there with errors.
    #[serde(default)]
    pub pending: BTreeMap<String, RawAnswers>,
}

impl DraftState {
    pub(crate) fn parse(json: &str) -> ServiceResult<DraftState> {
        serde_json::from_str(json).map_err(|e| ServiceError::Internal(format!("draft json: {e}")))
    }

    fn json(&self) -> ServiceResult<String> {
        serde_json::to_string(self).map_err(|e| ServiceError::Internal(format!("draft json: {e}")))
    }
}

/// A draft with its definition, answers and files.
#[derive(Debug, Clone)]
pub struct BozzaView {
    /// The draft.
    pub bozza: Bozza,
    /// The definition version it follows.
    pub definition: StoredDefinition,
    /// The answers so far.
    pub answers: Answers,
    /// Raw values of steps saved with errors.
    pub pending: BTreeMap<String, RawAnswers>,
    /// Its files.
    pub allegati: Vec<Allegato>,
    /// What the comune knows of the applicant (once-only prefill).
    pub prefill: PrefillContext,
}

impl BozzaView {
    /// The values to show in a step's inputs: what was posted with errors,
    /// else what was answered, with the prefilled values for fields not
    /// yet answered (C.SE.1.5).
    pub fn raw_for(&self, step: &str) -> RawAnswers {
        if let Some(p) = self.pending.get(step) {
            return p.clone();
        }
        let form = &self.definition.definition.form;
        let mut raw = moduli::answers_to_raw(form, step, &self.answers);
        for (k, v) in moduli::prefill_step(form, step, &self.prefill, &self.answers) {
            raw.entry(k).or_insert(v);
        }
        raw
    }

    /// The step to resume at: the first incomplete one, `None` when the
    /// summary is next.
    pub fn resume_step(&self) -> Option<String> {
        moduli::first_incomplete_step(&self.definition.definition.form, &self.answers)
            .map(|s| s.id.clone())
    }

    /// How many files each attachment slot holds.
    pub fn attachment_counts(&self) -> Vec<(&str, u32)> {
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for a in &self.allegati {
            *counts.entry(a.data.spec_id.as_str()).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}

/// Which way the user leaves a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// "Avanti": the step must be valid.
    Next,
    /// "Indietro": saved as it is, back one step.
    Back,
    /// "Salva bozza": saved as it is, stay.
    Save,
}

/// What happened to a posted step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// Saved; go to this step (`None`: the summary).
    Go(Option<String>),
    /// Saved as a draft with these errors; stay on the step.
    Invalid(FieldErrors),
}

/// A file given for a draft.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The form's attachment slot.
    pub spec_id: String,
    /// The file name as given.
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

/// The signed-in user of a citizen action.
pub(crate) fn citizen(actor: &Actor) -> ServiceResult<UserId> {
    actor.require(Permission::OwnProfile)?;
    actor.user.ok_or(ServiceError::Forbidden)
}

fn random_key() -> String {
    use base64::Engine as _;
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Does the content of a file match one of the accepted kinds?
fn content_matches(kind: Kind, accepted: &[MediaType]) -> bool {
    accepted.iter().any(|m| {
        matches!(
            (m, kind),
            (MediaType::Pdf, Kind::Pdf)
                | (MediaType::P7m, Kind::P7m)
                | (MediaType::Jpeg, Kind::Jpeg)
                | (MediaType::Png, Kind::Png)
                | (MediaType::Xml, Kind::Xml)
                | (MediaType::Tiff, Kind::Tiff)
        )
    })
}

impl App {
    /// What the comune knows of a user, for the once-only prefill: the
    /// identity and contacts of the profile (from SPID/CIE and the user's
    /// own settings).
    pub async fn prefill_context(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> ServiceResult<PrefillContext> {
        let Some(u) = self.db().user(tenant, user).await? else {
            return Ok(PrefillContext::new());
        };
        let d = &u.data;
        let mut ctx = PrefillContext::new()
            .with(Prefill::ProfiloNome, d.given_name.clone())
            .with(Prefill::ProfiloCognome, d.family_name.clone());
        if let Some(cf) = &d.codice_fiscale {
            ctx = ctx.with(Prefill::ProfiloCodiceFiscale, cf.as_str());
        }
        if let Some(e) = &d.email {
            ctx = ctx.with(Prefill::ProfiloEmail, e.as_str());
        }
        if let Some(p) = &d.phone {
            ctx = ctx.with(Prefill::ProfiloTelefono, p.clone());
        }
        if let Some(b) = d.birth_date {
            ctx = ctx.with(Prefill::AnagrafeDataNascita, b.to_string());
        }
        if let Some(p) = &d.birth_place {
            ctx = ctx.with(Prefill::AnagrafeLuogoNascita, p.clone());
        }
        Ok(ctx)
    }

    /// Starts a draft of an online service for the signed-in citizen.
    ///
    /// # Errors
    /// `servizio_non_online` when the service has no definition or is not
    /// active; `bozze_troppe` past [`MAX_DRAFTS`].
    pub async fn start_bozza(
        &self,
        tenant: TenantId,
        actor: &Actor,
        service: &str,
    ) -> ServiceResult<Bozza> {
        let user = citizen(actor)?;
        let portal = self.portal(tenant).await?;
        let card = portal.service(service).ok_or(ServiceError::NotFound)?;
        let def = self
            .service_definition(tenant, service, None)
            .await?
            .filter(|_| card.data.status == palazzo_domain::portal::ServiceStatus::Active)
            .ok_or_else(|| {
                invalid(
                    "servizio_non_online",
                    "Questo servizio non si può richiedere online.",
                )
            })?;
        if self.db().bozze_of(tenant, user).await?.len() >= MAX_DRAFTS {
            return Err(invalid(
                "bozze_troppe",
                format!("Hai già {MAX_DRAFTS} bozze: completane o eliminane qualcuna."),
            ));
        }
        let first = def
            .definition
            .form
            .steps
            .first()
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let mut tx = self.db().begin().await?;
        let b = tx
            .insert_bozza(
                tenant,
                &NewBozza {
                    user,
                    service_slug: service.to_owned(),
                    definition_version: def.version,
                    answers: DraftState::default().json()?,
                    step: first,
                    key: random_key(),
                },
                palazzo_store::rows::registration_time(),
            )
            .await?;
        tx.commit().await?;
        tracing::info!(bozza = b.id.0, service, "draft started");
        Ok(b)
    }

    /// A draft of the signed-in citizen (another user's draft does not
    /// exist for them).
    pub async fn bozza_view(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BozzaId,
    ) -> ServiceResult<BozzaView> {
        let user = citizen(actor)?;
        let bozza = self
            .db()
            .bozza(tenant, user, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let definition = self
            .service_definition(
                tenant,
                &bozza.data.service_slug,
                Some(bozza.data.definition_version),
            )
            .await?
            .ok_or(ServiceError::NotFound)?;
        let state = DraftState::parse(&bozza.data.answers)?;
        let allegati = self.db().allegati(tenant, AllegatoOwner::Bozza(id)).await?;
        let prefill = self.prefill_context(tenant, user).await?;
        Ok(BozzaView {
            bozza,
            definition,
            answers: state.answers,
            pending: state.pending,
            allegati,
            prefill,
        })
    }

    /// The drafts of the signed-in citizen, last saved first.
    pub async fn my_bozze(&self, tenant: TenantId, actor: &Actor) -> ServiceResult<Vec<Bozza>> {
        let user = citizen(actor)?;
        Ok(self.db().bozze_of(tenant, user).await?)
    }

    /// Saves a posted step of a draft. With [`Nav::Next`] the step must be
    /// valid; otherwise what was typed is kept even with errors (nothing
    /// is lost: the errors come back with the values).
    pub async fn save_bozza_step(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BozzaId,
        step: &str,
        raw: &RawAnswers,
        nav: Nav,
    ) -> ServiceResult<StepOutcome> {
        let user = citizen(actor)?;
        let view = self.bozza_view(tenant, actor, id).await?;
        let form = &view.definition.definition.form;
        if form.step(step).is_none() {
            return Err(invalid(
                "modulo_passo_sconosciuto",
                "Il passo indicato non esiste in questo modulo.",
            ));
        }
        let today = rome_date(jiff::Timestamp::now());
        let mut state = DraftState {
            answers: view.answers.clone(),
            pending: view.pending.clone(),
        };
        let parsed = moduli::parse_step(form, step, raw, &view.answers, today);
        let outcome = match parsed {
            Ok(answers) => {
                state.answers = answers;
                state.pending.remove(step);
                let to = match nav {
                    Nav::Next => {
                        moduli::next_step(form, step, &state.answers).map(|s| s.id.clone())
                    }
                    Nav::Back => moduli::previous_step(form, step, &state.answers)
                        .map(|s| s.id.clone())
                        .or_else(|| Some(step.to_owned())),
                    Nav::Save => Some(step.to_owned()),
                };
                StepOutcome::Go(to)
            }
            Err(errors) => {
                // Only the step's own keys are kept (a tampered key is an
                // error, not something to store).
                let known: RawAnswers = raw
                    .iter()
                    .filter(|(k, _)| !moduli::CONTROL_KEYS.contains(&k.as_str()))
                    .filter(|(k, _)| {
                        let field = k.split('.').next().unwrap_or(k);
                        form.step(step)
                            .is_some_and(|s| s.fields.iter().any(|f| f.id == field))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                state.pending.insert(step.to_owned(), known);
                match nav {
                    Nav::Back => StepOutcome::Go(
                        moduli::previous_step(form, step, &state.answers)
                            .map(|s| s.id.clone())
                            .or_else(|| Some(step.to_owned())),
                    ),
                    Nav::Next | Nav::Save => StepOutcome::Invalid(errors),
                }
            }
        };
        let at_step = match &outcome {
            StepOutcome::Go(Some(s)) => s.clone(),
            StepOutcome::Go(None) => "riepilogo".to_owned(),
            StepOutcome::Invalid(_) => step.to_owned(),
        };
        let mut tx = self.db().begin().await?;
        if !tx
            .update_bozza(
                tenant,
                user,
                id,
                &state.json()?,
                &at_step,
                palazzo_store::rows::registration_time(),
            )
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Attaches a file to a draft: the slot must exist and apply, the
    /// extension and the content must be of an accepted kind (checked by
    /// content, not by name), within the slot's size and count.
    pub async fn upload_to_bozza(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BozzaId,
        upload: Upload,
    ) -> ServiceResult<Allegato> {
        let view = self.bozza_view(tenant, actor, id).await?;
        let form = &view.definition.definition.form;
        let spec = moduli::applicable_attachments(form, &view.answers)
            .into_iter()
            .find(|a| a.id == upload.spec_id)
            .ok_or_else(|| {
                invalid(
                    "allegato_non_previsto",
                    "Questo allegato non è previsto dal modulo.",
                )
            })?;
        let size = u64::try_from(upload.bytes.len()).unwrap_or(u64::MAX);
        spec.check_file(&upload.name, size)
            .map_err(|(code, message)| invalid(code, message))?;
        let detected = detect(&upload.bytes)?;
        if !content_matches(detected.kind, &spec.media_types) {
            return Err(invalid(
                "allegato_tipo_non_ammesso",
                format!(
                    "Il contenuto del file «{}» non è di un tipo ammesso per «{}» ({}).",
                    upload.name,
                    spec.label,
                    spec.media_types
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let already = view
            .allegati
            .iter()
            .filter(|a| a.data.spec_id == spec.id)
            .count();
        if already >= usize::try_from(spec.max_files).unwrap_or(usize::MAX) {
            return Err(invalid(
                "allegato_troppi_file",
                format!(
                    "Per «{}» puoi allegare al massimo {} file.",
                    spec.label, spec.max_files
                ),
            ));
        }
        let name = crate::documents::clean_name(&upload.name)?;
        let stored = self.documents().put_bytes(&name, &upload.bytes).await?;
        let mut tx = self.db().begin().await?;
        let a = tx
            .insert_allegato(
                tenant,
                &NewAllegato {
                    owner: AllegatoOwner::Bozza(id),
                    spec_id: spec.id.clone(),
                    document: stored.to_ref(),
                    event_seq: None,
                },
                palazzo_store::rows::registration_time(),
            )
            .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Removes a file from a draft.
    pub async fn remove_from_bozza(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BozzaId,
        allegato: AllegatoId,
    ) -> ServiceResult<()> {
        // The draft must be the user's: the view checks it.
        self.bozza_view(tenant, actor, id).await?;
        let mut tx = self.db().begin().await?;
        if !tx
            .delete_allegato(tenant, AllegatoOwner::Bozza(id), allegato)
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a draft of the signed-in citizen.
    pub async fn discard_bozza(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BozzaId,
    ) -> ServiceResult<()> {
        let user = citizen(actor)?;
        let mut tx = self.db().begin().await?;
        if !tx.delete_bozza(tenant, user, id).await? {
            return Err(ServiceError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
