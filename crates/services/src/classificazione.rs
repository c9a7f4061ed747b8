//! The comune's classification policy for its register (issue 4, TI-2).
//!
//! "Protocol registration without a classification is rejected, or allowed
//! only as a policy-controlled 'da classificare' state with a deadline"
//! (protocol-documents.md, TI-2). Each comune chooses:
//!
//! - **obbligatoria**: the desk, the API, the bulk import and the emergency
//!   recovery refuse a registration without a class
//!   (`classificazione_obbligatoria`), and a class once given cannot be
//!   removed, only changed;
//! - **differita** (the default): an entry may be registered "da
//!   classificare"; it must be classified within N working days of its
//!   registration date (the comune's office calendar: national holidays and
//!   the patron saint), and the register shows what is pending and what is
//!   late.
//!
//! A protocol message received through interoperability (Allegato 6) is
//! registered by the system on receipt, before anybody can read it: it
//! enters "da classificare" with the deadline in either mode, because
//! refusing it would refuse the message (art. 53 c.5 wants every received
//! document registered).
//!
//! The deadline is computed from the registration date and the policy in
//! force when it is read: shortening the term makes pending entries late at
//! once, as the comune decided.

use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_store::*;

use crate::access::Actor;
use crate::ledger::record;
use crate::protocollo::operator;
use crate::registro_giornaliero::tenant_calendar;
use crate::{App, ServiceError, ServiceResult};

/// An entry still "da classificare" with its deadline (TI-2).
#[derive(Debug, Clone)]
pub struct Unclassified {
    /// The entry.
    pub registration: Registration,
    /// The last day to classify it.
    pub deadline: Date,
    /// The deadline has passed (today, Europe/Rome, is after it).
    pub overdue: bool,
}

/// The refusal of a registration without a class under the "obbligatoria"
/// policy.
pub(crate) fn mandatory_refusal() -> ServiceError {
    ServiceError::Invalid {
        code: "classificazione_obbligatoria",
        message: "Il Comune richiede la classificazione al momento della registrazione: \
                  indica la voce del titolario."
            .into(),
    }
}

/// The last day to classify `reg` under `policy` with the office calendar of
/// `tenant`: `classify_within_days` working days after the registration
/// date. `None` when nothing is due (classified or annulled).
pub fn classification_deadline(
    tenant: &Tenant,
    policy: &ProtocolPolicy,
    reg: &Registration,
) -> Option<Date> {
    if reg.data.classification.is_some() || reg.annulment.is_some() {
        return None;
    }
    tenant_calendar(tenant)
        .add_working_days(
            rome_date(reg.registered_at),
            u32::from(policy.classify_within_days),
        )
        .ok()
}

impl App {
    /// The policy in force for a comune (the default when never set).
    pub(crate) async fn policy_in_force(&self, tenant: TenantId) -> ServiceResult<ProtocolPolicy> {
        Ok(self.db().protocol_policy(tenant).await?.unwrap_or_default())
    }

    /// The comune's classification policy, for any staff member: it is a
    /// rule of the comune's document management, shown with the register
    /// and with the titolario (whose keeper, the comune's administrator,
    /// may set it without reading the register).
    pub async fn protocol_policy(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<ProtocolPolicy> {
        actor.require(Permission::BackOffice)?;
        self.policy_in_force(tenant).await
    }

    /// Sets the comune's classification policy (TI-2): the administrator of
    /// the comune or the responsabile della gestione documentale, who also
    /// keep the titolario. Ledgered as `protocollo.politica`.
    pub async fn set_protocol_policy(
        &self,
        tenant: TenantId,
        actor: &Actor,
        classification_mandatory: bool,
        classify_within_days: u16,
    ) -> ServiceResult<ProtocolPolicy> {
        actor.require(Permission::ManageTitolario)?;
        if !(1..=ProtocolPolicy::MAX_DAYS).contains(&classify_within_days) {
            return Err(ServiceError::Invalid {
                code: "politica_giorni",
                message: format!(
                    "Il termine per classificare va da 1 a {} giorni lavorativi.",
                    ProtocolPolicy::MAX_DAYS
                ),
            });
        }
        let t = self.tenant(tenant)?;
        let policy = ProtocolPolicy {
            classification_mandatory,
            classify_within_days,
            // Microseconds, as every backend stores them.
            updated_at: Some(palazzo_store::rows::registration_time()),
            updated_by: Some(operator(actor)),
        };
        let mut tx = self.db().begin().await?;
        tx.set_protocol_policy(tenant, &policy).await?;
        record(&mut tx, &t, "protocollo.politica", &policy).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(
            mandatory = classification_mandatory,
            days = classify_within_days,
            "classification policy set"
        );
        Ok(policy)
    }

    /// The entries of the general register still "da classificare", oldest
    /// deadline first, at most `limit`, each with its deadline.
    pub async fn unclassified_protocol(
        &self,
        tenant: TenantId,
        actor: &Actor,
        limit: u32,
    ) -> ServiceResult<Vec<Unclassified>> {
        actor.require(Permission::ReadProtocol)?;
        let t = self.tenant(tenant)?;
        let policy = self.policy_in_force(tenant).await?;
        let q = RegistrationSearch {
            register: palazzo_domain::protocollo::RegisterCode::general()
                .as_str()
                .to_owned(),
            unclassified: true,
            ..RegistrationSearch::default()
        };
        let today = rome_date(jiff::Timestamp::now());
        let mut out: Vec<Unclassified> = self
            .db()
            .search_registrations(tenant, &q, limit)
            .await?
            .into_iter()
            .filter_map(|reg| {
                let deadline = classification_deadline(&t, &policy, &reg)?;
                Some(Unclassified {
                    registration: reg,
                    deadline,
                    overdue: today > deadline,
                })
            })
            .collect();
        out.sort_by_key(|u| (u.deadline, u.registration.id.0));
        Ok(out)
    }

    /// TI-2 at registration: under the "obbligatoria" policy a registration
    /// needs a class.
    pub(crate) async fn check_classification_policy(
        &self,
        tenant: TenantId,
        classification: Option<&str>,
    ) -> ServiceResult<()> {
        let given = classification.is_some_and(|c| !c.trim().is_empty());
        if !given && self.policy_in_force(tenant).await?.classification_mandatory {
            return Err(mandatory_refusal());
        }
        Ok(())
    }
}
