//! The answers between AOO (Allegato 6 §3.1–3.3; `pec_message.xsd`, ns
//! `http://www.agid.gov.it/protocollo/pec/`): `ConfermaRicezione` after
//! registering an incoming message (carrying both Identificatori: ours and
//! the sender's), `NotificaEccezione` with the WSDL anomaly code, and
//! `AnnullamentoProtocollazione` (the sender's notice that it annulled a
//! registration). The roots carry `pec:versione="3.0.0" pec:lang="it"`
//! (the schema's `attributeFormDefault="qualified"`); the `Identificatore`
//! children are in the `prot:` namespace (`prot:IdentificatoreType`).
//! These messages have no signature in the schema.

use palazzo_store::{Registration, SenderIdentifier, Tenant};

use super::xml::Writer;
use super::{NS_PEC, NS_PROT, XML_DECLARATION};

/// The `Identificatore` of one of our registrations.
pub fn identificatore_of(tenant: &Tenant, aoo: &str, reg: &Registration) -> SenderIdentifier {
    SenderIdentifier {
        amministrazione: tenant.data.codice_ipa.as_str().to_owned(),
        aoo: aoo.to_owned(),
        registro: reg.data.register.as_str().to_owned(),
        numero: reg.number.to_string(),
        data: palazzo_domain::calendar::rome_date(reg.registered_at),
    }
}

/// Writes `prot:IdentificatoreType` content under `element`.
pub(crate) fn identificatore(w: &mut Writer, element: &str, id: &SenderIdentifier) {
    w.open(element, &[]);
    w.leaf("prot:CodiceAmministrazione", &[], &id.amministrazione);
    w.leaf("prot:CodiceAOO", &[], &id.aoo);
    w.leaf("prot:CodiceRegistro", &[], &id.registro);
    w.leaf("prot:NumeroRegistrazione", &[], &id.numero);
    w.leaf("prot:DataRegistrazione", &[], &id.data.to_string());
    w.close(element);
}

fn root(w: &mut Writer, name: &str) {
    w.open(
        name,
        &[
            ("xmlns:pec", NS_PEC),
            ("xmlns:prot", NS_PROT),
            ("pec:versione", "3.0.0"),
            ("pec:lang", "it"),
        ],
    );
}

/// What the received message was, in a `MessaggioRicevuto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ricevuto<'a> {
    /// Its identifier (and first registration, if it was a re-sending).
    Identificatore(&'a SenderIdentifier, Option<&'a SenderIdentifier>),
    /// A description, when no identifier could be read.
    Descrizione(&'a str),
}

fn messaggio_ricevuto(w: &mut Writer, r: &Ricevuto<'_>) {
    w.open("pec:MessaggioRicevuto", &[]);
    match r {
        Ricevuto::Identificatore(id, prima) => {
            identificatore(w, "pec:Identificatore", id);
            if let Some(p) = prima {
                identificatore(w, "pec:PrimaRegistrazione", p);
            }
        }
        Ricevuto::Descrizione(d) => w.leaf("pec:DescrizioneMessaggio", &[], d),
    }
    w.close("pec:MessaggioRicevuto");
}

fn finish(w: Writer) -> String {
    // Texts that XML cannot carry are dropped by the writer's refusal; the
    // inputs here were read from XML or written by us.
    format!("{XML_DECLARATION}{}", w.finish().unwrap_or_default())
}

/// `pec:ConfermaRicezione`: our registration (`ours`) of the message the
/// sender registered as `received`.
pub fn conferma_ricezione(ours: &SenderIdentifier, received: &Ricevuto<'_>) -> String {
    let mut w = Writer::new();
    root(&mut w, "pec:ConfermaRicezione");
    identificatore(&mut w, "pec:Identificatore", ours);
    messaggio_ricevuto(&mut w, received);
    w.close("pec:ConfermaRicezione");
    finish(w)
}

/// `pec:NotificaEccezione`: the message is refused; `motivo` starts with
/// the WSDL anomaly code (`002_AnomaliaImpronte: …`).
pub fn notifica_eccezione(
    ours: Option<&SenderIdentifier>,
    received: &Ricevuto<'_>,
    motivo: &str,
) -> String {
    let mut w = Writer::new();
    root(&mut w, "pec:NotificaEccezione");
    if let Some(id) = ours {
        identificatore(&mut w, "pec:Identificatore", id);
    }
    messaggio_ricevuto(&mut w, received);
    w.leaf("pec:Motivo", &[], motivo);
    w.close("pec:NotificaEccezione");
    finish(w)
}

/// `pec:AnnullamentoProtocollazione`: the sender annulled its registration
/// `id` (art. 54), with the reason and the act that authorised it.
pub fn annullamento(id: &SenderIdentifier, motivo: &str, provvedimento: &str) -> String {
    let mut w = Writer::new();
    root(&mut w, "pec:AnnullamentoProtocollazione");
    identificatore(&mut w, "pec:Identificatore", id);
    w.leaf("pec:Motivo", &[], motivo);
    w.leaf("pec:Provvedimento", &[], provvedimento);
    w.close("pec:AnnullamentoProtocollazione");
    finish(w)
}
