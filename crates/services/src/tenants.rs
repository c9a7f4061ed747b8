//! Enti, offices, service cards and FAQ: the use cases that change them.
//! Each one runs one transaction that writes the record and appends its
//! ledger event, then refreshes the portal cache.

use palazzo_store::{
    Faq, NewFaq, NewOffice, NewService, NewTenant, Office, Service, Store, StoreTx, Tenant,
    TenantId,
};

use crate::ledger::record;
use crate::portal::normalize_host;
use crate::{App, ServiceError, ServiceResult};

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

fn required(value: &str, code: &'static str, field: &str) -> ServiceResult<()> {
    if value.trim().is_empty() {
        return Err(invalid(code, format!("Il campo «{field}» è obbligatorio.")));
    }
    Ok(())
}

/// A slug: 1–60 characters of lower-case letters, digits and hyphens.
pub fn check_slug(slug: &str) -> ServiceResult<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 60
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "slug_format",
            "L'identificativo può contenere solo lettere minuscole, cifre e trattini.",
        ))
    }
}

fn check_tenant(t: &mut NewTenant) -> ServiceResult<()> {
    check_slug(&t.slug)?;
    required(&t.name, "tenant_name_required", "Nome dell'ente")?;
    required(&t.short_name, "tenant_short_name_required", "Nome breve")?;
    if t.hostnames.is_empty() {
        return Err(invalid(
            "tenant_hostnames_required",
            "Indica almeno un nome host per l'ente.",
        ));
    }
    for h in &mut t.hostnames {
        let n = normalize_host(h);
        let ok = !n.is_empty()
            && n.len() <= 253
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(invalid(
                "tenant_hostname_format",
                format!("Nome host non valido: {h}"),
            ));
        }
        *h = n;
    }
    if let Some(svg) = &t.logo_svg {
        let head = svg.trim_start();
        if !(head.starts_with("<svg") || head.starts_with("<?xml")) || svg.len() > 200_000 {
            return Err(invalid(
                "tenant_logo_format",
                "Il logo deve essere un file SVG di al massimo 200 kB.",
            ));
        }
        if svg.to_ascii_lowercase().contains("<script") {
            return Err(invalid(
                "tenant_logo_script",
                "Il logo SVG non può contenere script.",
            ));
        }
    }
    if let Some(rule) = &t.patron_saint {
        palazzo_domain::calendar::PatronSaint::parse(rule)
            .map_err(|e| ServiceError::invalid(&e))?;
    }
    Ok(())
}

fn check_service(s: &NewService) -> ServiceResult<()> {
    check_slug(&s.slug)?;
    for (value, code, field) in [
        (&s.title, "service_title_required", "Titolo"),
        (&s.summary, "service_summary_required", "Descrizione breve"),
        (&s.audience, "service_audience_required", "A chi è rivolto"),
        (&s.how_to, "service_how_to_required", "Come fare"),
        (&s.needed, "service_needed_required", "Cosa serve"),
        (&s.achieved, "service_achieved_required", "Cosa si ottiene"),
        (&s.times, "service_times_required", "Tempi e scadenze"),
        (&s.access, "service_access_required", "Accedi al servizio"),
        (
            &s.conditions,
            "service_conditions_required",
            "Condizioni di servizio",
        ),
        (&s.service_type, "service_type_required", "Tipo di servizio"),
        (
            &s.audience_type,
            "service_audience_type_required",
            "Tipo di destinatari",
        ),
    ] {
        required(value, code, field)?;
    }
    if s.title.chars().count() > 160 {
        return Err(invalid(
            "service_title_length",
            "Il titolo può contenere al massimo 160 caratteri.",
        ));
    }
    if s.summary.chars().count() > 300 {
        return Err(invalid(
            "service_summary_length",
            "La descrizione breve può contenere al massimo 300 caratteri.",
        ));
    }
    if s.topics.is_empty() {
        return Err(invalid(
            "service_topics_required",
            "Indica almeno un argomento.",
        ));
    }
    // C.SI.1.5: every argomento comes from the model's controlled vocabulary.
    if let Some(t) = s
        .topics
        .iter()
        .find(|t| palazzo_domain::portal::topic(t) != Some(t.as_str()))
    {
        return Err(invalid(
            "service_topic_unknown",
            format!("L'argomento «{t}» non fa parte del vocabolario del modello Comuni."),
        ));
    }
    Ok(())
}

impl App {
    /// Creates an ente, its ledger key and its first ledger event.
    #[tracing::instrument(skip_all, fields(slug = %t.slug))]
    pub async fn create_tenant(&self, mut t: NewTenant) -> ServiceResult<Tenant> {
        check_tenant(&mut t)?;
        let mut tx = self.db().begin().await?;
        let tenant = tx.insert_tenant(&t).await?;
        record(&mut tx, &tenant, "tenant.created", &tenant).await?;
        tx.commit().await?;
        self.ensure_ledger_key(&tenant).await?;
        self.reload_tenants().await?;
        self.ledger_changed(tenant.id);
        Ok(tenant)
    }

    /// Replaces an ente's data.
    #[tracing::instrument(skip_all, fields(tenant = t.id.0))]
    pub async fn update_tenant(&self, mut t: Tenant) -> ServiceResult<Tenant> {
        check_tenant(&mut t.data)?;
        // The slug names the ledger, its key and its files: it never changes.
        if self.tenant(t.id)?.data.slug != t.data.slug {
            return Err(invalid(
                "tenant_slug_immutable",
                "L'identificativo dell'ente non può essere modificato.",
            ));
        }
        let mut tx = self.db().begin().await?;
        tx.update_tenant(&t).await?;
        record(&mut tx, &t, "tenant.updated", &t).await?;
        tx.commit().await?;
        self.reload_tenants().await?;
        self.ledger_changed(t.id);
        Ok(t)
    }

    pub(crate) fn tenant(&self, id: TenantId) -> ServiceResult<Tenant> {
        self.tenants()
            .into_iter()
            .find(|t| t.id == id)
            .map(|t| (*t).clone())
            .ok_or(ServiceError::NotFound)
    }

    /// Adds an office (ufficio) to an ente.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0, slug = %o.slug))]
    pub async fn create_office(&self, tenant: TenantId, o: NewOffice) -> ServiceResult<Office> {
        check_slug(&o.slug)?;
        required(&o.name, "office_name_required", "Nome dell'ufficio")?;
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        let office = tx.insert_office(tenant, &o).await?;
        record(&mut tx, &t, "office.created", &office).await?;
        tx.commit().await?;
        self.after_change(tenant);
        Ok(office)
    }

    /// Adds a service card to an ente's catalogue.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0, slug = %s.slug))]
    pub async fn create_service(&self, tenant: TenantId, s: NewService) -> ServiceResult<Service> {
        check_service(&s)?;
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        let service = tx.insert_service(tenant, &s).await?;
        record(&mut tx, &t, "service.created", &service).await?;
        tx.commit().await?;
        self.after_change(tenant);
        Ok(service)
    }

    /// Replaces a service card.
    #[tracing::instrument(skip_all, fields(tenant = s.tenant.0, service = s.id.0))]
    pub async fn update_service(&self, s: Service) -> ServiceResult<Service> {
        check_service(&s.data)?;
        let t = self.tenant(s.tenant)?;
        let mut tx = self.db().begin().await?;
        tx.update_service(&s).await?;
        record(&mut tx, &t, "service.updated", &s).await?;
        tx.commit().await?;
        self.after_change(s.tenant);
        Ok(s)
    }

    /// Adds an FAQ entry.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn create_faq(&self, tenant: TenantId, f: NewFaq) -> ServiceResult<Faq> {
        required(&f.question, "faq_question_required", "Domanda")?;
        required(&f.answer, "faq_answer_required", "Risposta")?;
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        let faq = tx.insert_faq(tenant, &f).await?;
        record(&mut tx, &t, "faq.created", &faq).await?;
        tx.commit().await?;
        self.after_change(tenant);
        Ok(faq)
    }

    fn after_change(&self, tenant: TenantId) {
        self.invalidate_portal(tenant);
        self.ledger_changed(tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_topics_must_come_from_the_model_vocabulary() {
        let mut s = palazzo_store::conformance::service_fixture("x", palazzo_store::OfficeId(1));
        assert!(check_service(&s).is_ok());
        s.topics = vec!["Calcetto".into()];
        assert_eq!(
            check_service(&s).err().map(|e| e.code()),
            Some("service_topic_unknown")
        );
        s.topics = vec!["anagrafe".into()];
        assert!(
            check_service(&s).is_err(),
            "the model's exact spelling is required"
        );
        s.topics = vec![];
        assert_eq!(
            check_service(&s).err().map(|e| e.code()),
            Some("service_topics_required")
        );
    }

    #[test]
    fn slugs() {
        assert!(check_slug("carta-identita-2").is_ok());
        for bad in [
            "",
            "-x",
            "x-",
            "Maiuscole",
            "con spazio",
            "à",
            &"a".repeat(61),
        ] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
