//! The segnatura in the application: the AOO seal in the key store, the
//! sealing step of an outgoing registration (inside its transaction,
//! art. 53 c.3 and Allegato 6 §3.1 steps C–E, PR-2), the signed XML of a
//! registration for download, and the receiver (PR-8): a protocol message
//! (segnatura + files) checked, registered as incoming and answered with
//! `ConfermaRicezione` or `NotificaEccezione`. Transport-agnostic: PEC or
//! SOAP adapters hand the segnatura and the files to
//! [`App::receive_protocol_message`].

use std::sync::Arc;

use palazzo_domain::access::Permission;
use palazzo_domain::protocollo::Flow;
use palazzo_store::*;

use super::messaggi::{self, Ricevuto};
use super::ricezione::{self, Anomalia, Messaggio, Rifiuto};
use super::verifica;
use super::{SealKey, der, invalid};
use crate::access::Actor;
use crate::db::DbTx;
use crate::keys::{
    SEAL_AOO_FILE, SEAL_CERT_FILE, SEAL_CERT_HISTORY_FILE, SEAL_KEY_FILE, X509Signer,
};
use crate::ledger::state_hash;
use crate::protocollo::RegistrationInput;
use crate::signatures::cades::{self, ProblemKind};
use crate::{App, ServiceError, ServiceResult};

/// The media type the segnatura XML is stored with.
const XML_MEDIA_TYPE: &str = "application/xml";

/// The AOO seal of a tenant: the AOO's IPA code and its signer.
#[derive(Clone)]
pub struct AooSeal {
    /// IPA code of the AOO (`CodiceAOO`).
    pub aoo: String,
    signer: Arc<dyn X509Signer>,
}

impl std::fmt::Debug for AooSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AooSeal")
            .field("aoo", &self.aoo)
            .finish_non_exhaustive()
    }
}

impl AooSeal {
    /// A seal from any signer (an HSM, a remote service, a test key).
    pub fn new(aoo: &str, signer: Arc<dyn X509Signer>) -> AooSeal {
        AooSeal {
            aoo: aoo.to_owned(),
            signer,
        }
    }

    /// The signer.
    pub fn signer(&self) -> &dyn X509Signer {
        self.signer.as_ref()
    }
}

fn seal_missing() -> ServiceError {
    invalid(
        "segnatura_sigillo_mancante",
        "Il sigillo elettronico dell'AOO non è installato: una registrazione in uscita richiede la segnatura firmata (Allegato 6). Installa la chiave e il certificato rilasciato da un prestatore di servizi fiduciari con «palazzo protocollo sigillo».",
    )
}

/// Checks an AOO code (`CodiceIPA`): non-empty, printable, at most 64.
fn check_aoo(aoo: &str) -> ServiceResult<&str> {
    let aoo = aoo.trim();
    if aoo.is_empty() || aoo.len() > 64 || aoo.chars().any(|c| c.is_control()) {
        return Err(invalid(
            "segnatura_codice_aoo",
            "Il codice IPA dell'area organizzativa omogenea (AOO) è obbligatorio.",
        ));
    }
    Ok(aoo)
}

/// What the receiver did with a message.
#[derive(Debug, Clone)]
pub enum Esito {
    /// Registered as incoming (or already registered: `duplicate`), answered
    /// with a `ConfermaRicezione`.
    Registrata {
        /// Our registration.
        registration: Box<Registration>,
        /// The same message had already been registered.
        duplicate: bool,
        /// The `ConfermaRicezione` XML.
        risposta: String,
    },
    /// Refused, answered with a `NotificaEccezione`.
    Eccezione {
        /// The refusal.
        rifiuto: Rifiuto,
        /// The `NotificaEccezione` XML.
        risposta: String,
    },
    /// The sender annulled a registration we had received; ours is
    /// `registration` (its annulment, if any, is our own act, art. 54).
    /// The notice is recorded with it (`notice`, ledgered once).
    Annullamento {
        /// Our registration of the annulled message.
        registration: Box<Registration>,
        /// Reason given by the sender.
        motivo: String,
        /// The sender's authorising act.
        provvedimento: String,
        /// The recorded notice (the first one, when sent again).
        notice: Box<AnnulmentNotice>,
        /// The notice had already been received.
        duplicate: bool,
    },
}

/// A file received with a segnatura: its name and bytes, or `None` when the
/// transport could not read it (→ `003_DocumentoAllegatiNonLeggibili`).
#[derive(Debug, Clone)]
pub struct FileRicevuto {
    /// The file name (`prot:nomeFile`).
    pub name: String,
    /// The bytes, if readable.
    pub bytes: Option<Vec<u8>>,
}

/// What the registration transaction does about the segnatura.
pub(crate) enum SegnaturaStep {
    /// Seal outgoing entries (`Flow::Uscita`); nothing for the others.
    ByFlow,
    /// Store a received segnatura with the incoming entry.
    Received {
        document: DocumentRef,
        sender: SenderIdentifier,
    },
}

/// The sealing or recording, once the seal is loaded (before the
/// transaction: no file I/O while the counter row is held).
pub(crate) enum SegnaturaPlan {
    None,
    Seal(AooSeal),
    Received {
        document: DocumentRef,
        sender: SenderIdentifier,
    },
}

impl App {
    /// The AOO seal of a tenant from the key store (`keys/<ente>/`
    /// [`SEAL_KEY_FILE`], [`SEAL_CERT_FILE`], [`SEAL_AOO_FILE`]).
    ///
    /// Errors: `segnatura_sigillo_mancante` when the key, the certificate
    /// or the AOO code is not installed (Palazzo never makes up a
    /// self-signed seal); `segnatura_chiave`, `segnatura_certificato`,
    /// `segnatura_chiave_certificato` for unreadable files.
    pub fn aoo_seal(&self, tenant_slug: &str) -> ServiceResult<AooSeal> {
        let keys = self.keys();
        let (Some(key), Some(cert), Some(aoo)) = (
            keys.read_file(tenant_slug, SEAL_KEY_FILE)?,
            keys.read_file(tenant_slug, SEAL_CERT_FILE)?,
            keys.read_file(tenant_slug, SEAL_AOO_FILE)?,
        ) else {
            return Err(seal_missing());
        };
        let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| seal_missing());
        let seal = SealKey::from_pem(&text(key)?, &text(cert)?)?;
        let aoo = text(aoo)?;
        Ok(AooSeal::new(check_aoo(&aoo)?, Arc::new(seal)))
    }

    /// The certificates of a PEM file in the tenant's key store (DER; none
    /// when the file is missing or unreadable).
    fn pem_file_certificates(&self, tenant_slug: &str, file: &str) -> Vec<Vec<u8>> {
        self.keys()
            .read_file(tenant_slug, file)
            .ok()
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| super::xades::pem_certificates(&t))
            .unwrap_or_default()
    }

    /// The tenant's seal certificates (the installed one first, then those
    /// it replaced, newest last; empty without a seal) and the root CA of
    /// the installed chain (`None` when the chain stops before a
    /// self-issued CA). Read from the certificate files only: checking a
    /// PAdES seal never loads the private key.
    pub fn seal_certificates_and_root(
        &self,
        tenant_slug: &str,
    ) -> (
        Vec<crate::signatures::Certificate>,
        Option<crate::signatures::Certificate>,
    ) {
        use crate::signatures::Certificate;
        let chain = self.pem_file_certificates(tenant_slug, SEAL_CERT_FILE);
        let history = self.pem_file_certificates(tenant_slug, SEAL_CERT_HISTORY_FILE);
        let own = chain
            .first()
            .into_iter()
            .chain(&history)
            .filter_map(|d| Certificate::parse(d).ok())
            .collect();
        let root = chain
            .last()
            .and_then(|d| Certificate::parse(d).ok())
            .filter(|c| c.self_issued() && c.is_ca());
        (own, root)
    }

    /// The tenant's seal certificates: [`App::seal_certificates_and_root`]
    /// without the root.
    pub fn seal_certificates(&self, tenant_slug: &str) -> Vec<crate::signatures::Certificate> {
        self.seal_certificates_and_root(tenant_slug).0
    }

    /// Installs the AOO seal of a tenant in the key store (mode 0600): a
    /// PKCS#8 key, its certificate followed by the chain (PEM), the AOO's
    /// IPA code. Refuses a key that does not match the certificate and a
    /// self-signed certificate (DECISIONS 14: the seal is chained to a CA;
    /// `segnatura_certificato_autofirmato`).
    pub fn install_aoo_seal(
        &self,
        tenant_slug: &str,
        key_pem: &str,
        cert_pem: &str,
        aoo: &str,
    ) -> ServiceResult<()> {
        let seal = SealKey::from_pem(key_pem, cert_pem)?;
        let aoo = check_aoo(aoo)?;
        let fields = der::cert_fields(seal.certificate_der()).ok_or_else(|| {
            invalid(
                "segnatura_certificato",
                "Il certificato del sigillo dell'AOO non è leggibile.",
            )
        })?;
        if fields.issuer == fields.subject {
            return Err(invalid(
                "segnatura_certificato_autofirmato",
                "Il certificato del sigillo è autofirmato: serve un certificato rilasciato da un'autorità di certificazione (per le prove, la CA locale di «palazzo demo»).",
            ));
        }
        let keys = self.keys();
        // The seal being replaced stays recognisable: PDFs it sealed are
        // still the comune's (`App::seal_certificates`).
        if let Some(old) = keys.read_file(tenant_slug, SEAL_CERT_FILE)?
            && let Some(first) = String::from_utf8(old)
                .ok()
                .and_then(|t| super::xades::pem_certificates(&t))
                .and_then(|c| c.into_iter().next())
            && first != seal.certificate_der()
        {
            let mut history = keys
                .read_file(tenant_slug, SEAL_CERT_HISTORY_FILE)?
                .unwrap_or_default();
            history.extend_from_slice(crate::keys::pem("CERTIFICATE", &first).as_bytes());
            keys.install_file(tenant_slug, SEAL_CERT_HISTORY_FILE, &history)?;
        }
        keys.install_file(tenant_slug, SEAL_KEY_FILE, key_pem.as_bytes())?;
        keys.install_file(tenant_slug, SEAL_CERT_FILE, cert_pem.as_bytes())?;
        keys.install_file(tenant_slug, SEAL_AOO_FILE, format!("{aoo}\n").as_bytes())?;
        tracing::info!(tenant = tenant_slug, aoo, "AOO seal installed");
        Ok(())
    }

    pub(crate) fn segnatura_plan(
        &self,
        tenant: &Tenant,
        flow: Flow,
        step: SegnaturaStep,
    ) -> ServiceResult<SegnaturaPlan> {
        Ok(match step {
            SegnaturaStep::ByFlow if flow == Flow::Uscita => {
                SegnaturaPlan::Seal(self.aoo_seal(&tenant.data.slug)?)
            }
            SegnaturaStep::ByFlow => SegnaturaPlan::None,
            SegnaturaStep::Received { document, sender } => {
                SegnaturaPlan::Received { document, sender }
            }
        })
    }

    /// Inside the registration's transaction, with its number and time
    /// (`reg`): builds and seals the segnatura of an outgoing entry (or
    /// takes the received one), stores the XML in the document store and
    /// its record with the registration, and binds the record's state hash
    /// on `reg` (stored and in memory), so that the registration's one
    /// `protocollo.registered` event, recorded after this, binds the
    /// segnatura too (Allegato 6 §3.1 steps C–E atomic; PR-2; LOG-6). Any
    /// failure aborts the transaction, so no number is consumed. A stored
    /// XML whose transaction then rolls back stays as an unreferenced
    /// content-addressed object.
    pub(crate) async fn segnatura_in_tx(
        &self,
        tx: &mut DbTx,
        tenant: &Tenant,
        reg: &mut Registration,
        plan: &SegnaturaPlan,
        titolario: Option<&palazzo_store::TitolarioVersion>,
    ) -> ServiceResult<()> {
        let (document, kind, sender) = match plan {
            SegnaturaPlan::None => return Ok(()),
            SegnaturaPlan::Seal(seal) => {
                let unsigned = match titolario {
                    Some(v) => super::build_with_titolario(tenant, &seal.aoo, reg, v)?,
                    None => super::build(tenant, &seal.aoo, reg)?,
                };
                let xml = super::sign(&unsigned, seal.signer(), reg.registered_at)?;
                let name = format!("segnatura-{}-{}.xml", reg.year, reg.number);
                let stored = self.documents().put_bytes(&name, xml.as_bytes()).await?;
                let mut document = stored.to_ref();
                document.media_type = XML_MEDIA_TYPE.to_owned();
                (document, SegnaturaKind::Emessa, None)
            }
            SegnaturaPlan::Received { document, sender } => (
                document.clone(),
                SegnaturaKind::Ricevuta,
                Some(sender.clone()),
            ),
        };
        let rec = tx
            .insert_segnatura(
                tenant.id,
                &NewSegnatura {
                    registration: reg.id,
                    kind,
                    document,
                    sender,
                },
                reg.registered_at,
            )
            .await?;
        let bound = state_hash(&rec)?;
        tx.bind_registration_segnatura(tenant.id, reg.id, bound)
            .await?;
        reg.segnatura_state = Some(bound);
        Ok(())
    }

    /// The segnatura record of a registration (no XML), for staff who may
    /// read the register: what the document page shows.
    pub async fn protocol_segnatura_record(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<Option<SegnaturaRecord>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self.db().segnatura(tenant, registration).await?)
    }

    /// The segnatura of a registration and its XML bytes, for staff who
    /// may read the register.
    pub async fn protocol_segnatura(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<Option<(SegnaturaRecord, Vec<u8>)>> {
        actor.require(Permission::ReadProtocol)?;
        let Some(rec) = self.db().segnatura(tenant, registration).await? else {
            return Ok(None);
        };
        let bytes = self.documents().get(&rec.data.document.sha256).await?;
        Ok(Some((rec, bytes)))
    }

    /// Receives a protocol message (Allegato 6 §3.1, PR-8): `segnatura` is
    /// the XML (a `SegnaturaInformatica`, or an
    /// `AnnullamentoProtocollazione`), `files` the documents that came with
    /// it. Checks, in order: XML and schema structure (`000_Irricevibile`),
    /// signature and the signer's certificate against the ente's trust
    /// list at the `SigningTime` (`001_ValidazioneFirma`), readable files
    /// (`003_DocumentoAllegatiNonLeggibili`), every impronta
    /// (`002_AnomaliaImpronte`), the signatures of signed documents
    /// (CAdES `.p7m`: `004`, their time-stamps `005`, seals `006`); then registers it as incoming, with the
    /// sender AOO as mittente and the sender's number and date as the
    /// received ones, and answers with `ConfermaRicezione`. A message
    /// already registered (same sender identifier) is confirmed again,
    /// never registered twice. An annulment is recorded with our
    /// registration of the annulled message (`Esito::Annullamento`, once);
    /// one of an identifier we never received gives
    /// `007_ErroreIdentificatoreNonTrovato`.
    ///
    /// Refusals are answers (`Esito::Eccezione`), not errors; errors are
    /// for the actor's permissions and the infrastructure.
    pub async fn receive_protocol_message(
        &self,
        tenant: TenantId,
        actor: &Actor,
        segnatura: &[u8],
        files: &[FileRicevuto],
    ) -> ServiceResult<Esito> {
        actor.require(Permission::RegisterProtocol)?;
        let t = self.tenant(tenant)?;
        let aoo = self.aoo_seal(&t.data.slug).map(|s| s.aoo).ok();
        let refuse = |rifiuto: Rifiuto| {
            let received = match &rifiuto.identificatore {
                Some(id) => Ricevuto::Identificatore(id, None),
                None => Ricevuto::Descrizione("Messaggio di protocollo non identificabile"),
            };
            let risposta = messaggi::notifica_eccezione(None, &received, &rifiuto.motivo());
            tracing::info!(code = rifiuto.anomalia.code(), detail = %rifiuto.dettaglio, "protocol message refused");
            Ok(Esito::Eccezione { rifiuto, risposta })
        };
        let msg = match ricezione::analizza(segnatura) {
            Ok(m) => m,
            Err(r) => return refuse(r),
        };
        let s = match msg {
            Messaggio::Annullamento {
                identificatore,
                motivo,
                provvedimento,
            } => {
                return match self
                    .db()
                    .registration_by_sender(tenant, &identificatore)
                    .await?
                {
                    Some(reg) => {
                        let (notice, duplicate) = self
                            .record_received_annulment(
                                &t,
                                actor,
                                &reg,
                                segnatura,
                                &motivo,
                                &provvedimento,
                            )
                            .await?;
                        Ok(Esito::Annullamento {
                            registration: Box::new(reg),
                            motivo,
                            provvedimento,
                            notice: Box::new(notice),
                            duplicate,
                        })
                    }
                    None => refuse(Rifiuto {
                        anomalia: Anomalia::ErroreIdentificatoreNonTrovato,
                        dettaglio:
                            "Nessuna registrazione in entrata corrisponde all'identificatore."
                                .into(),
                        identificatore: Some(identificatore),
                    }),
                };
            }
            Messaggio::Segnatura(s) => s,
        };
        let with_id = |anomalia: Anomalia, dettaglio: String| Rifiuto {
            anomalia,
            dettaglio,
            identificatore: Some(s.identificatore.clone()),
        };
        let ipa = t.data.codice_ipa.as_str();
        if !s.destinatari_ipa.iter().any(|d| d.trim() == ipa) {
            return refuse(with_id(
                Anomalia::Irricevibile,
                format!("il messaggio non è indirizzato a questa amministrazione ({ipa})."),
            ));
        }
        // The sender's certificate: trusted by this ente, valid at the
        // SigningTime, allowed to sign (PR-8, 001).
        let anchors = self.trust_anchors(&t.data.slug)?;
        let now = jiff::Timestamp::now();
        if let Err(d) = verifica::check_trust(&s.firma, &anchors, now) {
            return refuse(with_id(
                Anomalia::ValidazioneFirma,
                format!("il certificato di firma non è accettato: {d}."),
            ));
        }
        // 003 before 002: a file that could not be read has no impronta.
        let declared: Vec<&ricezione::DeclaredDocument> = std::iter::once(&s.primario)
            .chain(s.allegati.iter())
            .collect();
        for d in &declared {
            if files
                .iter()
                .any(|f| f.name == d.nome_file && f.bytes.is_none())
            {
                return refuse(with_id(
                    Anomalia::DocumentoAllegatiNonLeggibili,
                    format!("il file \"{}\" non è leggibile.", d.nome_file),
                ));
            }
        }
        let readable: Vec<(&str, &[u8])> = files
            .iter()
            .filter_map(|f| f.bytes.as_deref().map(|b| (f.name.as_str(), b)))
            .collect();
        let owned: Vec<ricezione::DeclaredDocument> =
            declared.iter().map(|d| (*d).clone()).collect();
        if ricezione::check_impronte(&owned, &readable).is_err() {
            return refuse(with_id(
                Anomalia::AnomaliaImpronte,
                "un documento manca o non corrisponde all'impronta dichiarata.".into(),
            ));
        }
        // Signed documents (CAdES .p7m): signature 004, time-stamp 005,
        // seal 006 (Allegato 6 §3.1, optional checks that Palazzo makes).
        for d in &declared {
            let Some(bytes) = readable
                .iter()
                .find(|(n, _)| *n == d.nome_file)
                .map(|(_, b)| *b)
            else {
                continue;
            };
            let Some(problem) = cades::verify(bytes, &anchors, now).and_then(|r| r.problem())
            else {
                continue;
            };
            let anomalia = match problem.kind {
                ProblemKind::Firma => Anomalia::DocumentoAllegatiErroreValidazioneFirma,
                ProblemKind::MarcaTemporale => {
                    Anomalia::DocumentoAllegatiErroreValidazioneMarcaTemporale
                }
                ProblemKind::Sigillo => Anomalia::DocumentoAllegatiErroreValidazioneSigillo,
            };
            return refuse(with_id(
                anomalia,
                format!("il file \"{}\": {}.", d.nome_file, problem.detail),
            ));
        }
        let ours = |reg: &Registration| {
            messaggi::identificatore_of(&t, aoo.as_deref().unwrap_or(ipa), reg)
        };
        let confirm = |reg: &Registration| {
            messaggi::conferma_ricezione(
                &ours(reg),
                &Ricevuto::Identificatore(&s.identificatore, s.prima_registrazione.as_ref()),
            )
        };
        if let Some(reg) = self
            .db()
            .registration_by_sender(tenant, &s.identificatore)
            .await?
        {
            let risposta = confirm(&reg);
            return Ok(Esito::Registrata {
                registration: Box::new(reg),
                duplicate: true,
                risposta,
            });
        }
        // Store the documents (the type allow-list refuses what we cannot
        // keep: an unreadable document for us, 003) and the segnatura.
        let mut stored = Vec::new();
        for d in &declared {
            let bytes = readable
                .iter()
                .find(|(n, _)| *n == d.nome_file)
                .map(|(_, b)| *b)
                .unwrap_or_default();
            match self.documents().put_bytes(&d.nome_file, bytes).await {
                Ok(doc) => stored.push(doc.to_ref()),
                Err(ServiceError::Invalid { message, .. }) => {
                    return refuse(with_id(
                        Anomalia::DocumentoAllegatiNonLeggibili,
                        format!("il file \"{}\" non è accettato: {message}", d.nome_file),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let mut segnatura_doc = self
            .documents()
            .put_bytes("segnatura.xml", segnatura)
            .await?
            .to_ref();
        segnatura_doc.media_type = XML_MEDIA_TYPE.to_owned();
        let mut docs = stored.into_iter();
        let Some(primary) = docs.next() else {
            return Err(ServiceError::Internal("no primary document".into()));
        };
        let input = RegistrationInput {
            register: None,
            flow: Flow::Entrata,
            subject: s.oggetto.clone(),
            correspondents: vec![s.mittente.clone()],
            received_number: Some(s.identificatore.numero.clone()),
            received_date: Some(s.identificatore.data),
            primary,
            attachments: docs.collect(),
            classification: None,
            office: None,
            emergency: None,
        };
        let step = SegnaturaStep::Received {
            document: segnatura_doc,
            sender: s.identificatore.clone(),
        };
        let reg = match self
            .register_protocol_with(tenant, actor, input, step)
            .await
        {
            Ok(reg) => reg,
            Err(ServiceError::Invalid { code, message }) => {
                return refuse(with_id(
                    Anomalia::Irricevibile,
                    format!("la registrazione non è possibile ({code}: {message})."),
                ));
            }
            Err(e) => return Err(e),
        };
        let risposta = confirm(&reg);
        tracing::info!(number = %reg.number, sender = %s.identificatore.numero, "protocol message registered");
        Ok(Esito::Registrata {
            registration: Box::new(reg),
            duplicate: false,
            risposta,
        })
    }
}
