//! Received notices of annulment (Allegato 6 §3.1,
//! `AnnullamentoProtocollazione`): the sender annulled a registration whose
//! message we received. The receiving AOO is informed and decides whether to
//! annul its own registration (art. 54, a separate act of ours); Palazzo
//! records the notice with our registration (reason, act, the received XML,
//! who received it and when), ledgered once as
//! `protocollo.annullamento_ricevuto`, and shows it wherever the
//! registration is shown.

use palazzo_domain::access::Permission;
use palazzo_store::*;

use crate::access::Actor;
use crate::ledger::record;
use crate::protocollo::operator;
use crate::{App, ServiceResult};

impl App {
    /// Records the sender's notice that it annulled the registration of
    /// the message we registered as `registration`; `xml` is the received
    /// `AnnullamentoProtocollazione`, kept in the document store. Returns
    /// the notice and whether it had already been received (a notice sent
    /// twice is recorded, and ledgered, once: the first one is returned).
    pub(crate) async fn record_received_annulment(
        &self,
        tenant: &Tenant,
        actor: &Actor,
        registration: &Registration,
        xml: &[u8],
        reason: &str,
        act: &str,
    ) -> ServiceResult<(AnnulmentNotice, bool)> {
        if let Some(n) = self
            .db()
            .annulment_notice(tenant.id, registration.id)
            .await?
        {
            return Ok((n, true));
        }
        let mut document = self
            .documents()
            .put_bytes("annullamento.xml", xml)
            .await?
            .to_ref();
        document.media_type = "application/xml".to_owned();
        let notice = NewAnnulmentNotice {
            registration: registration.id,
            reason: reason.trim().to_owned(),
            act: act.trim().to_owned(),
            document,
            recorded_by: operator(actor),
        };
        // Microseconds, as every backend stores them (the ledger state must
        // hash the same after a round trip).
        let at = palazzo_store::rows::registration_time();
        let mut tx = self.db().begin().await?;
        let Some(stored) = tx.insert_annulment_notice(tenant.id, &notice, at).await? else {
            // Recorded meanwhile by a concurrent receipt of the same notice.
            drop(tx);
            let n = self
                .db()
                .annulment_notice(tenant.id, registration.id)
                .await?
                .ok_or(crate::ServiceError::NotFound)?;
            return Ok((n, true));
        };
        record(&mut tx, tenant, "protocollo.annullamento_ricevuto", &stored).await?;
        tx.commit().await?;
        self.ledger_changed(tenant.id);
        tracing::info!(number = %registration.number, year = registration.year, "sender's annulment notice recorded");
        Ok((stored, false))
    }

    /// The received notice of annulment of a registration, if any, for
    /// staff who may read the register (the document page, the API).
    pub async fn protocol_annulment_notice(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<Option<AnnulmentNotice>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self.db().annulment_notice(tenant, registration).await?)
    }
}
