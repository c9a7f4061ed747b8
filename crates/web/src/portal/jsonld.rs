//! Structured data of a service card (recommendation R.SI.1.1): a
//! schema.org `GovernmentService` built with serde_json (always valid JSON,
//! unlike the model's own sample) and escaped so that it cannot close the
//! `<script>` element it lives in.

use palazzo_store::{Office, Service, Tenant};
use serde_json::json;

use super::pages::service_href;
use super::shell::safe_url;

/// The JSON-LD text for `<script type="application/ld+json">`.
pub fn government_service(
    service: &Service,
    tenant: &Tenant,
    office: Option<&Office>,
    base_url: &str,
) -> String {
    let d = &service.data;
    let t = &tenant.data;
    let card_url = format!("{base_url}{}", service_href(service));
    // An inactive service cannot be requested online: its card is the
    // service's address until it is active again.
    let online = match d.status {
        palazzo_domain::portal::ServiceStatus::Active => d.online_url.as_deref(),
        palazzo_domain::portal::ServiceStatus::Inactive { .. } => None,
    };
    let service_url = match online.and_then(safe_url) {
        Some(u) if u.starts_with('/') => format!("{base_url}{u}"),
        Some(u) => u.to_owned(),
        None => card_url.clone(),
    };
    let (place_name, address) = match office {
        Some(o) => (o.data.name.as_str(), &o.data.address),
        None => (t.name.as_str(), &t.address),
    };
    let value = json!({
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "name": d.title,
        "description": d.summary,
        "url": card_url,
        "serviceType": d.service_type,
        "serviceOperator": {
            "@type": "GovernmentOrganization",
            "name": t.name,
        },
        "areaServed": {
            "@type": "AdministrativeArea",
            "name": t.short_name,
        },
        "audience": {
            "@type": "Audience",
            "audienceType": d.audience_type,
        },
        "availableChannel": {
            "@type": "ServiceChannel",
            "name": d.title,
            "serviceUrl": service_url,
            "serviceLocation": {
                "@type": "Place",
                "name": place_name,
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": address.street,
                    "postalCode": address.cap.as_str(),
                    "addressLocality": address.locality,
                    "addressRegion": address.province,
                    "addressCountry": "IT",
                },
            },
        },
    });
    escape_for_script(&value.to_string())
}

/// Makes JSON safe inside `<script>`: `<`, `>` and `&` only ever occur
/// inside JSON strings, where `\u003c`… mean the same characters, so the
/// document is unchanged for a JSON parser and `</script>` or `<!--` can
/// never appear in the HTML.
pub fn escape_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_the_json_value() {
        let original = serde_json::json!({"name": "</script><!-- a & b >"});
        let escaped = escape_for_script(&original.to_string());
        assert!(!escaped.contains("</") && !escaped.contains('<') && !escaped.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, original);
    }
}
