//! Enti, offices, service cards and FAQ: the use cases that change them.
//! Each one runs one transaction that writes the record and appends its
//! ledger event, then refreshes the portal cache.

use palazzo_domain::access::Permission;
use palazzo_domain::portal::ServiceStatus;
use palazzo_store::{
    Faq, NewFaq, NewOffice, NewService, NewTenant, Office, Service, Store, StoreError, StoreTx,
    Tenant, TenantId,
};

use crate::access::Actor;
use crate::import::ServiceEntry;
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

/// One problem of a service card: the field it concerns (the card's JSON
/// name), a stable code and the Italian message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardProblem {
    /// The field, e.g. `title`, `topics`, `status_reason`.
    pub field: &'static str,
    /// Stable machine code.
    pub code: &'static str,
    /// Italian message for the user.
    pub message: String,
}

/// Every problem of a service card, in the order of the card's fields
/// (C.SI.1.3: the sections every scheda servizio must fill, the reason of an
/// inactive service; C.SI.1.5: the argomenti from the model's vocabulary,
/// each once; an online address the portal can link). Empty when the card
/// can be saved from the back office, the API or the CLI.
pub fn service_card_problems(s: &NewService) -> Vec<CardProblem> {
    card_problems(s, true)
}

/// The problems of a card; `strict` adds the rules the back office, the API
/// and the CLI enforce but ente files written before them need not meet
/// (an inactive card's reason, an `https://` or portal-path online address,
/// argomenti listed once): the portal already hides an unsafe link.
fn card_problems(s: &NewService, strict: bool) -> Vec<CardProblem> {
    let mut out = Vec::new();
    let mut push = |field: &'static str, code: &'static str, message: String| {
        out.push(CardProblem {
            field,
            code,
            message,
        });
    };
    if let Err(ServiceError::Invalid { code, message }) = check_slug(&s.slug) {
        push("slug", code, message);
    }
    if s.title.trim().is_empty() {
        push(
            "title",
            "service_title_required",
            "Il campo «Titolo» è obbligatorio.".into(),
        );
    } else if s.title.chars().count() > 160 {
        push(
            "title",
            "service_title_length",
            "Il titolo può contenere al massimo 160 caratteri.".into(),
        );
    }
    if let ServiceStatus::Inactive { reason } = &s.status
        && strict
        && reason.trim().is_empty()
    {
        // C.SI.1.3: an inactive service says why on its card.
        push(
            "status_reason",
            "service_status_reason_required",
            "Indica il motivo per cui il servizio non è attivo.".into(),
        );
    }
    if s.summary.trim().is_empty() {
        push(
            "summary",
            "service_summary_required",
            "Il campo «Descrizione breve» è obbligatorio.".into(),
        );
    } else if s.summary.chars().count() > 300 {
        push(
            "summary",
            "service_summary_length",
            "La descrizione breve può contenere al massimo 300 caratteri.".into(),
        );
    }
    for (field, value, code, label) in [
        (
            "audience",
            &s.audience,
            "service_audience_required",
            "A chi è rivolto",
        ),
        ("how_to", &s.how_to, "service_how_to_required", "Come fare"),
        ("needed", &s.needed, "service_needed_required", "Cosa serve"),
        (
            "achieved",
            &s.achieved,
            "service_achieved_required",
            "Cosa si ottiene",
        ),
        (
            "times",
            &s.times,
            "service_times_required",
            "Tempi e scadenze",
        ),
        (
            "access",
            &s.access,
            "service_access_required",
            "Accedi al servizio",
        ),
        (
            "conditions",
            &s.conditions,
            "service_conditions_required",
            "Condizioni di servizio",
        ),
    ] {
        if value.trim().is_empty() {
            push(field, code, format!("Il campo «{label}» è obbligatorio."));
        }
    }
    if let Some(url) = s.online_url.as_deref().filter(|_| strict) {
        // A path of this portal or an absolute https address (no plain
        // http, no spaces): anything else never reaches a citizen's browser
        // from a card.
        if url.chars().count() > 500 {
            push(
                "online_url",
                "service_online_url_length",
                "L'indirizzo del servizio online può contenere al massimo 500 caratteri.".into(),
            );
        } else if !palazzo_domain::portal::is_safe_link(url)
            || url
                .get(..7)
                .is_some_and(|h| h.eq_ignore_ascii_case("http://"))
            || url.chars().any(char::is_whitespace)
        {
            push(
                "online_url",
                "service_online_url_format",
                "L'indirizzo del servizio online deve essere un percorso del portale (che inizia con /) o un indirizzo https://."
                    .into(),
            );
        }
    }
    if s.topics.is_empty() {
        push(
            "topics",
            "service_topics_required",
            "Indica almeno un argomento.".into(),
        );
    }
    // C.SI.1.5: every argomento comes from the model's controlled vocabulary.
    if let Some(t) = s
        .topics
        .iter()
        .find(|t| palazzo_domain::portal::topic(t) != Some(t.as_str()))
    {
        push(
            "topics",
            "service_topic_unknown",
            format!("L'argomento «{t}» non fa parte del vocabolario del modello Comuni."),
        );
    }
    if strict
        && let Some((_, t)) = s
            .topics
            .iter()
            .enumerate()
            .find(|(i, t)| s.topics[..*i].contains(t))
    {
        push(
            "topics",
            "service_topic_duplicate",
            format!("L'argomento «{t}» è indicato più di una volta."),
        );
    }
    for (field, value, code, label) in [
        (
            "service_type",
            &s.service_type,
            "service_type_required",
            "Tipo di servizio",
        ),
        (
            "audience_type",
            &s.audience_type,
            "service_audience_type_required",
            "Tipo di destinatari",
        ),
    ] {
        if value.trim().is_empty() {
            push(field, code, format!("Il campo «{label}» è obbligatorio."));
        }
    }
    out
}

/// The version tag of a stored card: the hex SHA-256 of its ledger state,
/// so it changes with every saved change. Editors send back the tag they
/// started from ([`App::save_service_card`]'s `seen`; the API's `ETag`).
pub fn service_card_tag(s: &Service) -> ServiceResult<String> {
    Ok(crate::ledger::state_hash(s)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The card with its texts trimmed (the form trims what it posts).
fn trimmed(mut s: NewService) -> NewService {
    for t in [
        &mut s.title,
        &mut s.summary,
        &mut s.audience,
        &mut s.how_to,
        &mut s.needed,
        &mut s.achieved,
        &mut s.times,
        &mut s.access,
        &mut s.conditions,
        &mut s.service_type,
        &mut s.audience_type,
    ] {
        *t = t.trim().to_owned();
    }
    for t in [&mut s.costs, &mut s.online_url] {
        *t = t
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
    }
    if let ServiceStatus::Inactive { reason } = &mut s.status {
        *reason = reason.trim().to_owned();
    }
    s
}

fn check_service(s: &NewService) -> ServiceResult<()> {
    match card_problems(s, false).into_iter().next() {
        Some(p) => Err(invalid(p.code, p.message)),
        None => Ok(()),
    }
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

    /// Every problem of a card as the back office, the API and the CLI
    /// post it: [`service_card_problems`] and its office (`ufficio`), which
    /// must be one of the comune's.
    pub async fn service_card_entry_problems(
        &self,
        tenant: TenantId,
        entry: &ServiceEntry,
    ) -> ServiceResult<Vec<CardProblem>> {
        Ok(self.card_entry_checked(tenant, entry).await?.0)
    }

    /// The problems of `entry` and its office, when it names one of the
    /// comune's (one read of the offices for both).
    async fn card_entry_checked(
        &self,
        tenant: TenantId,
        entry: &ServiceEntry,
    ) -> ServiceResult<(Vec<CardProblem>, Option<Office>)> {
        let mut problems = service_card_problems(&entry.scheda);
        let office = if entry.ufficio.trim().is_empty() {
            problems.push(CardProblem {
                field: "ufficio",
                code: "service_office_required",
                message: "Indica l'ufficio responsabile.".into(),
            });
            None
        } else {
            let office = self
                .db()
                .offices(tenant)
                .await?
                .into_iter()
                .find(|o| o.data.slug == entry.ufficio);
            if office.is_none() {
                problems.push(CardProblem {
                    field: "ufficio",
                    code: "service_office_unknown",
                    message: format!("L'ufficio «{}» non esiste.", entry.ufficio),
                });
            }
            office
        };
        Ok((problems, office))
    }

    /// The back office's, the API's and the CLI's save of a service card
    /// ([`Permission::ManageCatalogue`]): creates the card when `editing`
    /// is `None` (its slug must be new), else replaces the card `editing`,
    /// whose slug never changes (the online service's definitions, its
    /// pratiche and the portal's addresses name it). The office is named by
    /// slug, as in the ente file. `seen`, when given, is the
    /// [`service_card_tag`] of the card the editor started from: if the card
    /// changed since, nothing is saved (`service_card_changed`). A card
    /// unchanged but for surrounding blanks writes nothing; a change is one
    /// ledger event (`service.created` / `service.updated`).
    #[tracing::instrument(skip_all, fields(tenant = tenant.0, slug = %entry.scheda.slug))]
    pub async fn save_service_card(
        &self,
        tenant: TenantId,
        actor: &Actor,
        editing: Option<&str>,
        seen: Option<&str>,
        entry: ServiceEntry,
    ) -> ServiceResult<Service> {
        actor.require(Permission::ManageCatalogue)?;
        let services = self.db().services(tenant).await?;
        let current = match editing {
            Some(slug) => Some(
                services
                    .iter()
                    .find(|s| s.data.slug == slug)
                    .ok_or(ServiceError::NotFound)?,
            ),
            None => None,
        };
        let (problems, office) = self.card_entry_checked(tenant, &entry).await?;
        if let Some(p) = problems.into_iter().next() {
            return Err(invalid(p.code, p.message));
        }
        // No office is one of the problems above.
        let office = office.ok_or(ServiceError::NotFound)?;
        if let (Some(c), Some(seen)) = (current, seen)
            && service_card_tag(c)? != seen
        {
            return Err(invalid(
                "service_card_changed",
                "Nel frattempo la scheda è stata modificata da un'altra persona: riapri la scheda, controlla le modifiche e riprova.",
            ));
        }
        let mut card = trimmed(entry.scheda);
        card.office = office.id;
        let slug_taken = || {
            invalid(
                "service_slug_taken",
                format!(
                    "Esiste già una scheda con l'identificativo «{}».",
                    card.slug
                ),
            )
        };
        let saved = match current {
            None => {
                if services.iter().any(|s| s.data.slug == card.slug) {
                    return Err(slug_taken());
                }
                // Two creations of the same slug at once: the second meets
                // the unique index and gets the same answer.
                match self.create_service(tenant, card.clone()).await {
                    Err(ServiceError::Store(StoreError::Conflict(_))) => return Err(slug_taken()),
                    other => other?,
                }
            }
            Some(s) if s.data.slug != card.slug => {
                return Err(invalid(
                    "service_slug_immutable",
                    "L'identificativo di una scheda non può essere modificato: il servizio online, le pratiche e gli indirizzi del portale lo usano.",
                ));
            }
            Some(s) if trimmed(s.data.clone()) == card => return Ok(s.clone()),
            Some(s) => {
                let mut s = s.clone();
                s.data = card;
                self.update_service(s).await?
            }
        };
        tracing::info!(
            service = saved.id.0,
            operator = %crate::protocollo::operator(actor),
            created = editing.is_none(),
            "service card saved"
        );
        Ok(saved)
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
    fn the_back_office_rules_are_stricter_than_an_older_ente_file() {
        let mut s = palazzo_store::conformance::service_fixture("x", palazzo_store::OfficeId(1));
        assert!(service_card_problems(&s).is_empty());
        s.online_url = Some("http://vecchio.example/servizio".into());
        s.status = ServiceStatus::Inactive {
            reason: "  ".into(),
        };
        s.topics = vec!["Anagrafe".into(), "Anagrafe".into()];
        // An ente file written before these rules still imports.
        assert!(check_service(&s).is_ok());
        let codes: Vec<&str> = service_card_problems(&s).iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [
                "service_status_reason_required",
                "service_online_url_format",
                "service_topic_duplicate"
            ]
        );
        for (url, code) in [
            ("/\\evil.example", Some("service_online_url_format")),
            ("//evil.example", Some("service_online_url_format")),
            ("javascript:alert(1)", Some("service_online_url_format")),
            ("/a b", Some("service_online_url_format")),
            ("HTTPS://A.IT/x", None),
            ("/area-personale/istanze/x", None),
        ] {
            let mut c =
                palazzo_store::conformance::service_fixture("x", palazzo_store::OfficeId(1));
            c.online_url = Some(url.into());
            assert_eq!(
                service_card_problems(&c).first().map(|p| p.code),
                code,
                "{url}"
            );
        }
        let mut long = palazzo_store::conformance::service_fixture("x", palazzo_store::OfficeId(1));
        long.online_url = Some(format!("/{}", "a".repeat(500)));
        assert_eq!(
            service_card_problems(&long).first().map(|p| p.code),
            Some("service_online_url_length")
        );
    }

    #[test]
    fn every_problem_at_once_in_card_order() {
        let mut s =
            palazzo_store::conformance::service_fixture("Bad Slug", palazzo_store::OfficeId(1));
        s.title = "t".repeat(161);
        s.summary = " ".into();
        s.conditions = String::new();
        s.topics = vec![];
        let fields: Vec<&str> = service_card_problems(&s).iter().map(|p| p.field).collect();
        assert_eq!(fields, ["slug", "title", "summary", "conditions", "topics"]);
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
