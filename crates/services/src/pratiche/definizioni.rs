//! The definition of an online service: form + procedure + filing rules,
//! versioned per comune (migration 0028), with the definitions Palazzo
//! ships for the services of issue 6 (part 6).

use std::sync::Arc;

use palazzo_domain::moduli::{self, FormDefinition};
use palazzo_domain::procedimento::ProcedureDefinition;
use palazzo_store::*;
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::ledger::record;
use crate::protocollo::operator;
use crate::{App, ServiceError, ServiceResult};
use palazzo_domain::access::Permission;

/// Everything an online service needs besides its card: the form the
/// citizen fills, the procedure the office works, the titolario class of
/// its fascicoli and the protocol subject. The competent office is the
/// card's (`Service::office`, C.SI.2.2).
///
/// The file format (TOML or JSON) uses Italian keys, like the form's own
/// (`docs/moduli.md`, `docs/procedimenti.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefinition {
    /// The service card's slug.
    #[serde(rename = "servizio")]
    pub service: String,
    /// The titolario class of the fascicoli opened for its pratiche, e.g.
    /// `VI.3`.
    #[serde(rename = "classificazione")]
    pub classification: String,
    /// The protocol subject ("oggetto") of an istanza; `{richiedente}` is
    /// replaced by the applicant's name.
    #[serde(rename = "oggetto")]
    pub subject: String,
    /// The form.
    #[serde(rename = "modulo")]
    pub form: FormDefinition,
    /// The procedure.
    #[serde(rename = "procedimento")]
    pub procedure: ProcedureDefinition,
}

fn definition_error(code: &'static str, message: String) -> ServiceError {
    ServiceError::Invalid { code, message }
}

impl ServiceDefinition {
    /// Reads a definition file in TOML.
    ///
    /// # Errors
    /// `servizio_definizione_non_valida` with the parser's message.
    pub fn from_toml(text: &str) -> ServiceResult<ServiceDefinition> {
        toml::from_str(text).map_err(|e| {
            definition_error(
                "servizio_definizione_non_valida",
                format!("Il file di definizione non è valido: {}", e.message()),
            )
        })
    }

    /// Reads a definition file in JSON.
    ///
    /// # Errors
    /// `servizio_definizione_non_valida` with the parser's message.
    pub fn from_json(text: &str) -> ServiceResult<ServiceDefinition> {
        serde_json::from_str(text).map_err(|e| {
            definition_error(
                "servizio_definizione_non_valida",
                format!("Il file di definizione non è valido: {e}"),
            )
        })
    }

    /// The definition as TOML.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] if it cannot be written.
    pub fn to_toml(&self) -> ServiceResult<String> {
        toml::to_string_pretty(self).map_err(|e| ServiceError::Internal(format!("toml: {e}")))
    }

    /// The definition as JSON.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] if it cannot be written.
    pub fn to_json(&self) -> ServiceResult<String> {
        serde_json::to_string_pretty(self).map_err(|e| ServiceError::Internal(format!("json: {e}")))
    }

    /// Checks the whole definition: the form, the procedure (PROC-05:
    /// silenzio-assenso is refused for the excluded matters), a valid
    /// titolario class syntax and a subject.
    ///
    /// # Errors
    /// The first problem found, with every problem in the message.
    pub fn validate(&self) -> ServiceResult<()> {
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        if let Err(errors) = self.form.validate() {
            for e in errors {
                problems.push((
                    palazzo_domain::Coded::code(&e),
                    palazzo_domain::Coded::message_it(&e),
                ));
            }
        }
        if let Err(errors) = self.procedure.validate() {
            for e in errors {
                problems.push((
                    palazzo_domain::Coded::code(&e),
                    palazzo_domain::Coded::message_it(&e),
                ));
            }
        }
        if self.subject.trim().is_empty() || self.subject.chars().count() > 300 {
            problems.push((
                "servizio_oggetto",
                "L'oggetto di protocollo è obbligatorio (al massimo 300 caratteri).".into(),
            ));
        }
        if palazzo_domain::titolario::ClassKey::parse(&self.classification).is_err() {
            problems.push((
                "servizio_classificazione",
                format!(
                    "La classificazione «{}» non è una voce del titolario (es. VI.3).",
                    self.classification
                ),
            ));
        }
        match problems.first() {
            None => Ok(()),
            Some((code, _)) => Err(definition_error(
                code,
                problems
                    .iter()
                    .map(|(_, m)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
        }
    }

    /// The protocol subject for an applicant.
    pub fn subject_for(&self, applicant: &str) -> String {
        self.subject.replace("{richiedente}", applicant)
    }
}

/// A service Palazzo ships with its definition (issue 6, part 6).
#[derive(Debug, Clone, Copy)]
pub struct ShippedService {
    /// The card's slug in the demo catalogue.
    pub service: &'static str,
    /// The shipped form's code (`moduli::predefinito`).
    pub form: &'static str,
    /// The procedure.
    pub procedure: fn() -> ProcedureDefinition,
    /// The titolario class (Titolario 2005 per i Comuni).
    pub classification: &'static str,
    /// The protocol subject.
    pub subject: &'static str,
}

fn ordinario_30() -> ProcedureDefinition {
    ProcedureDefinition::ordinario(30)
}

fn scia_commercio() -> ProcedureDefinition {
    // Art. 19 c.3 L. 241/1990: 60 days to check a non-building SCIA.
    ProcedureDefinition::scia(60)
}

/// The shipped services, with their procedure and class.
pub const SHIPPED: &[ShippedService] = &[
    ShippedService {
        service: "autorizzazione-paesaggistica-semplificata",
        form: "autorizzazione-paesaggistica-semplificata",
        procedure: ProcedureDefinition::autorizzazione_paesaggistica_semplificata,
        classification: "VI.3",
        subject: "Autorizzazione paesaggistica semplificata (DPR 31/2017) – {richiedente}",
    },
    ShippedService {
        service: "scia-esercizio-di-vicinato",
        form: "scia",
        procedure: scia_commercio,
        classification: "VIII.4",
        subject: "SCIA – {richiedente}",
    },
    ShippedService {
        service: "dichiarazione-tari",
        form: "dichiarazione-tari",
        procedure: ordinario_30,
        classification: "IV.3",
        subject: "Dichiarazione TARI – {richiedente}",
    },
    ShippedService {
        service: "accesso-civico-semplice",
        form: "accesso-civico-semplice",
        procedure: ProcedureDefinition::accesso_civico_semplice,
        classification: "I.6",
        subject: "Accesso civico semplice (art. 5 c.1 D.Lgs. 33/2013) – {richiedente}",
    },
    ShippedService {
        service: "accesso-civico-generalizzato",
        form: "accesso-civico-generalizzato",
        procedure: ProcedureDefinition::accesso_civico_generalizzato,
        classification: "I.6",
        subject: "Accesso civico generalizzato (art. 5 c.2 D.Lgs. 33/2013) – {richiedente}",
    },
    ShippedService {
        service: "segnalazione-disservizio",
        form: "segnalazione-disservizio",
        procedure: ordinario_30,
        classification: "I.8",
        subject: "Segnalazione di disservizio – {richiedente}",
    },
    ShippedService {
        service: "richiesta-assistenza",
        form: "richiesta-assistenza",
        procedure: ordinario_30,
        classification: "I.8",
        subject: "Richiesta di assistenza – {richiedente}",
    },
    ShippedService {
        service: "istanza-generica",
        form: "istanza-generica",
        procedure: ordinario_30,
        classification: "I.8",
        subject: "Istanza – {richiedente}",
    },
];

impl ShippedService {
    /// The shipped definition.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] if the shipped form is missing (a bug).
    pub fn definition(&self) -> ServiceResult<ServiceDefinition> {
        let form = moduli::predefinito(self.form)
            .ok_or_else(|| ServiceError::Internal(format!("shipped form {} missing", self.form)))?;
        Ok(ServiceDefinition {
            service: self.service.to_owned(),
            classification: self.classification.to_owned(),
            subject: self.subject.to_owned(),
            form,
            procedure: (self.procedure)(),
        })
    }
}

/// A definition as stored: its version and the parsed definition.
#[derive(Debug, Clone)]
pub struct StoredDefinition {
    /// The version (1, 2, …).
    pub version: u32,
    /// The definition.
    pub definition: Arc<ServiceDefinition>,
}

fn parse_stored(r: &ServiceDefinitionRecord) -> ServiceResult<StoredDefinition> {
    let definition = serde_json::from_str::<ServiceDefinition>(&r.data.definition)
        .map_err(|e| ServiceError::Internal(format!("stored definition {}: {e}", r.id.0)))?;
    Ok(StoredDefinition {
        version: r.data.version,
        definition: Arc::new(definition),
    })
}

impl App {
    /// The current definition of an online service (`None`: the service is
    /// not online), or a given version.
    pub async fn service_definition(
        &self,
        tenant: TenantId,
        service: &str,
        version: Option<u32>,
    ) -> ServiceResult<Option<StoredDefinition>> {
        self.db()
            .service_definition(tenant, service, version)
            .await?
            .as_ref()
            .map(parse_stored)
            .transpose()
    }

    /// The current definition of every online service of a comune.
    pub async fn service_definitions(
        &self,
        tenant: TenantId,
    ) -> ServiceResult<Vec<StoredDefinition>> {
        self.db()
            .current_service_definitions(tenant)
            .await?
            .iter()
            .map(parse_stored)
            .collect()
    }

    /// Saves a new version of a service's definition (admins of the comune,
    /// [`Permission::ManageCatalogue`]): validated, for a service of the
    /// catalogue, numbered after the last one (the form's `versione` is set
    /// to it), ledgered as `servizio_online.definito`.
    pub async fn save_service_definition(
        &self,
        tenant: TenantId,
        actor: &Actor,
        mut def: ServiceDefinition,
    ) -> ServiceResult<StoredDefinition> {
        actor.require(Permission::ManageCatalogue)?;
        self.store_service_definition(tenant, &operator(actor), &mut def)
            .await
    }

    async fn store_service_definition(
        &self,
        tenant: TenantId,
        by: &str,
        def: &mut ServiceDefinition,
    ) -> ServiceResult<StoredDefinition> {
        if self.portal(tenant).await?.service(&def.service).is_none() {
            return Err(definition_error(
                "servizio_sconosciuto",
                format!(
                    "Il servizio «{}» non è nel catalogo del Comune.",
                    def.service
                ),
            ));
        }
        let last = self
            .db()
            .service_definition(tenant, &def.service, None)
            .await?
            .map_or(0, |r| r.data.version);
        def.form.version = last + 1;
        def.validate()?;
        let t = self.tenant(tenant)?;
        let json = def.to_json()?;
        let mut tx = self.db().begin().await?;
        let rec = tx
            .insert_service_definition(
                tenant,
                &NewServiceDefinition {
                    service_slug: def.service.clone(),
                    version: def.form.version,
                    definition: json,
                    created_by: by.to_owned(),
                    created_at: palazzo_store::rows::registration_time(),
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => definition_error(
                    "servizio_definizione_concorrente",
                    "Un'altra versione è stata salvata nel frattempo: ricarica e riprova.".into(),
                ),
                e => e.into(),
            })?;
        record(&mut tx, &t, "servizio_online.definito", &rec).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        parse_stored(&rec)
    }

    /// Installs the shipped definitions ([`SHIPPED`]) for the services of
    /// the catalogue that have none yet (the demo, a new comune). Returns
    /// how many were installed.
    pub async fn install_shipped_definitions(&self, tenant: TenantId) -> ServiceResult<usize> {
        let portal = self.portal(tenant).await?;
        let mut installed = 0;
        for s in SHIPPED {
            if portal.service(s.service).is_none()
                || self
                    .db()
                    .service_definition(tenant, s.service, None)
                    .await?
                    .is_some()
            {
                continue;
            }
            let mut def = s.definition()?;
            self.store_service_definition(tenant, "sistema", &mut def)
                .await?;
            installed += 1;
        }
        Ok(installed)
    }
}
