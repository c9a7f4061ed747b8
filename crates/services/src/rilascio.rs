//! Issuing, releasing and revoking anagrafe certificates (issue 5, parts 3
//! and 4): who may ask (DECISIONS 19), the bollo (ANA-03, DECISIONS 20),
//! the certificate records and their ledger events, the status lists and
//! the online status (DECISIONS 18), the retrieval of the original with the
//! `cti` and the holder's surname (`domain/sealed-certificates.md` §5.1).
//!
//! A certificate is composed from the register, sealed and rendered once
//! ([`crate::certificati::seal_certificate`]); its PDF goes to the document
//! store under its SHA-256 and exactly those bytes are released, at once
//! when its use is exempt, once the bollo is settled otherwise.

use std::time::Instant;

use palazzo_domain::access::Permission;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::certificati::{TipoCertificato, Uso};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_seal::claims::StatusRef;
use palazzo_seal::status::{StatusList, StatusListToken};
use palazzo_seal::verify::Verdict;
use palazzo_store::{
    BolloPayment, Certificate, Channel, NewCertificate, Revocation, Store, StoreError, StoreTx,
    Tenant, TenantId,
};
use rand::{Rng as _, RngCore as _};

use crate::access::Actor;
use crate::certificati::{Issuance, cti_text, request_from_register, seal_certificate};
use crate::keys::hex;
use crate::{App, ServiceError, ServiceResult, ledger};

/// Entries of a status list: one list per comune and year of issue, each
/// certificate at a random bit (herd privacy: the index tells nothing
/// about the order of issue).
pub const STATUS_LIST_ENTRIES: u64 = 1 << 20;

/// How long a status list may be cached (the token's `ttl`, seconds).
pub const STATUS_LIST_TTL: u64 = 3_600;

/// Retrievals of an original one client may attempt per window.
pub const RETRIEVALS_PER_CLIENT: u32 = 10;

/// Retrievals of one certificate anybody may attempt per window (stops
/// guessing the surname from many addresses).
pub const RETRIEVALS_PER_CERTIFICATE: u32 = 10;

/// `typ` of a signed online status (DECISIONS 18).
pub const STATUS_TYP: &str = "application/palazzo-status+cwt";

/// What is asked for.
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    /// The holder.
    pub holder: CodiceFiscale,
    /// The type.
    pub tipo: TipoCertificato,
    /// The use chosen (a type always exempt is exempt whatever is chosen).
    pub uso: Uso,
    /// The comune's public address (`https://…`, no trailing slash), for
    /// the verification and status-list URLs sealed in the certificate.
    pub base_url: String,
}

/// The online status of a certificate (`/verifica/<cti>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateStatus {
    /// `valid`, `expired`, `revoked` or `not_found` (DECISIONS 18).
    pub verdict: Verdict,
    /// The record, when there is one.
    pub certificate: Option<Certificate>,
}

/// The comune's public address, sealed in its certificates (verification
/// URL, status list URI): `https://` (or `http://` when the installation is
/// not behind TLS, as in the demo) and its first host name. The web layer
/// and the CLI both use it, so a certificate names the same status list
/// whichever issued it.
pub fn base_url(tenant: &Tenant, behind_tls: bool) -> String {
    let host = tenant
        .data
        .hostnames
        .first()
        .map_or("localhost", String::as_str);
    format!("{}://{host}", if behind_tls { "https" } else { "http" })
}

/// The URL of status list `list` of a comune (DECISIONS 18).
pub fn status_list_url(base_url: &str, list: i64) -> String {
    format!("{base_url}/.well-known/palazzo/status-list/{list}")
}

fn refused(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

/// Folds a surname for comparison: letters only, upper case, accents kept
/// as their base letter (`D'Angelò` = `DANGELO`).
fn fold_surname(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let base = match c {
                'à' | 'á' | 'À' | 'Á' => 'A',
                'è' | 'é' | 'È' | 'É' => 'E',
                'ì' | 'í' | 'Ì' | 'Í' => 'I',
                'ò' | 'ó' | 'Ò' | 'Ó' => 'O',
                'ù' | 'ú' | 'Ù' | 'Ú' => 'U',
                c if c.is_alphabetic() => c,
                _ => return None,
            };
            Some(base.to_uppercase().next().unwrap_or(base))
        })
        .collect()
}

impl App {
    /// How `actor` may ask for a certificate of `holder` (DECISIONS 19):
    /// at the desk with [`Permission::IssueCertificates`], for anyone;
    /// online, as a signed-in resident, for themself and the members of
    /// their famiglia anagrafica.
    async fn certificate_channel(
        &self,
        tenant: TenantId,
        actor: &Actor,
        holder: &CodiceFiscale,
    ) -> ServiceResult<Channel> {
        if actor.principal.can(Permission::IssueCertificates) {
            return Ok(Channel::Sportello);
        }
        actor.require(Permission::OwnProfile)?;
        let me = self.own_residence(tenant, actor).await?;
        if me.codice_fiscale == *holder
            || self
                .db()
                .family_members(tenant, me.family)
                .await?
                .iter()
                .any(|p| p.codice_fiscale == *holder)
        {
            Ok(Channel::Online)
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// The signed-in citizen as a resident of `tenant`.
    async fn own_residence(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<palazzo_store::PopPerson> {
        let user = self
            .db()
            .user(tenant, actor.require_user()?)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let cf = user.data.codice_fiscale.ok_or_else(|| {
            refused(
                "codice_fiscale_assente",
                "Per chiedere un certificato online accedi con SPID o CIE.",
            )
        })?;
        self.db().resident(tenant, &cf).await?.ok_or_else(|| {
            refused(
                "non_residente",
                "I certificati anagrafici online sono riservati ai residenti del Comune: \
                 per gli altri casi rivolgiti all'ufficio anagrafe.",
            )
        })
    }

    /// The members of the signed-in resident's famiglia anagrafica, the
    /// resident first (the holders they may ask certificates for).
    ///
    /// # Errors
    /// `non_residente` when the citizen is not a resident; as
    /// [`Actor::require`].
    pub async fn certificate_holders(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<palazzo_store::PopPerson>> {
        actor.require(Permission::OwnProfile)?;
        let me = self.own_residence(tenant, actor).await?;
        let mut family = self.db().family_members(tenant, me.family).await?;
        family.sort_by_key(|p| p.codice_fiscale != me.codice_fiscale);
        Ok(family)
    }

    /// Issues a certificate (issue 5, part 3): composes it from the
    /// register, seals it with the comune's current PZ1 key, renders it,
    /// stores the PDF and the record, and ledgers `certificato.rilasciato`.
    /// An exempt certificate can be downloaded at once; one in bollo only
    /// once the bollo is settled (ANA-03).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for a holder outside the resident's
    /// family (DECISIONS 19); `non_residente` when the holder (or the
    /// citizen asking) is not a resident; the composition's refusals
    /// (`cittadinanza_non_italiana`, …); storage failures.
    pub async fn issue_certificate(
        &self,
        tenant: TenantId,
        actor: &Actor,
        request: &CertificateRequest,
    ) -> ServiceResult<Certificate> {
        let channel = self
            .certificate_channel(tenant, actor, &request.holder)
            .await?;
        let t = self.tenant(tenant)?;
        let uso = request.uso.for_type(request.tipo);
        // The key first: the comune's first key is made on first use, and
        // its period in the trust list starts at its creation, so a seal
        // dated before it would be `unknown_key` (R7).
        let signer = self.seal_signer(&t).await?;
        let at = palazzo_store::rows::registration_time();
        let richiesta = match request_from_register(
            self.db(),
            &t,
            &request.holder,
            request.tipo,
            uso,
            rome_date(at),
        )
        .await
        {
            Err(ServiceError::NotFound) => {
                return Err(refused(
                    "non_residente",
                    "La persona indicata non risulta residente nel Comune.",
                ));
            }
            r => r?,
        };
        // The comune's X.509 seal for the PAdES seal of the file (ANA-04,
        // DECISIONS 14): the same key and certificate as the AOO seal.
        let x509 = self.aoo_seal(&t.data.slug).map_err(|e| {
            if e.code() == "segnatura_sigillo_mancante" {
                tracing::error!(tenant = %t.data.slug, "certificate refused: no X.509 seal installed");
                refused(
                    "certificato_sigillo_mancante",
                    "Il sigillo elettronico del Comune non è installato: i certificati non \
                     possono essere rilasciati senza. L'amministratore lo installa con \
                     «palazzo protocollo sigillo».",
                )
            } else {
                e
            }
        })?;
        let kid = hex(&palazzo_seal::cose::kid_of(
            palazzo_seal::cose::SealSigner::spki_der(&signer),
        ));
        let list = i64::from(rome_date(at).year());
        // A random bit may already be taken: seal again with another one.
        for _ in 0..5 {
            let mut cti = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut cti);
            let idx = rand::thread_rng().gen_range(0..STATUS_LIST_ENTRIES);
            let sealed = seal_certificate(
                &self.inner().certificate_templates,
                &t,
                &richiesta,
                &signer,
                &Issuance {
                    cti,
                    at,
                    status: Some(StatusRef {
                        idx,
                        uri: status_list_url(&request.base_url, list),
                    }),
                    base_url: &request.base_url,
                    pades: Some(x509.signer()),
                },
            )?;
            self.documents()
                .put_bytes("certificato.pdf", &sealed.pdf)
                .await?;
            let new = NewCertificate {
                cti,
                doc_type: request.tipo.code().to_owned(),
                holder_cf: request.holder.clone(),
                holder_surname: richiesta.intestatario.cognome.clone(),
                uso: uso.code().to_owned(),
                bollo_cents: uso.bollo().cents(),
                issued_at: at,
                valid_until: sealed.content.scadenza,
                pdf_sha256: *sealed.pdf_sha256.bytes(),
                pdf_size: sealed.pdf.len() as u64,
                kid: kid.clone(),
                status_list: list,
                status_idx: i64::try_from(idx)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
                requested_by: actor.who(),
                channel,
            };
            let mut tx = self.db().begin().await?;
            let cert = match tx.insert_certificate(tenant, &new).await {
                Ok(c) => c,
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            ledger::record(&mut tx, &t, "certificato.rilasciato", &cert).await?;
            tx.commit().await?;
            self.ledger_changed(tenant);
            tracing::info!(
                tenant = %t.data.slug,
                cti = %cti_text(&cti),
                tipo = request.tipo.code(),
                channel = channel.code(),
                "certificate issued"
            );
            return Ok(cert);
        }
        Err(ServiceError::Internal(
            "no free status bit after five tries".into(),
        ))
    }

    /// The certificates the signed-in resident asked for or holds, newest
    /// first (the personal area).
    ///
    /// # Errors
    /// As [`App::certificate_holders`].
    pub async fn my_certificates(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Certificate>> {
        let family = self.certificate_holders(tenant, actor).await?;
        let me = actor.who();
        let mut out = Vec::new();
        for (i, p) in family.iter().enumerate() {
            out.extend(
                self.db()
                    .certificates_of(tenant, &p.codice_fiscale)
                    .await?
                    .into_iter()
                    // The resident's own certificates, and those they asked
                    // for a family member.
                    .filter(|c| i == 0 || c.data.requested_by == me),
            );
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.data.issued_at));
        Ok(out)
    }

    /// The certificates of a holder (the desk).
    ///
    /// # Errors
    /// Needs [`Permission::IssueCertificates`].
    pub async fn certificates_of_holder(
        &self,
        tenant: TenantId,
        actor: &Actor,
        holder: &CodiceFiscale,
    ) -> ServiceResult<Vec<Certificate>> {
        actor.require(Permission::IssueCertificates)?;
        Ok(self.db().certificates_of(tenant, holder).await?)
    }

    /// A certificate by its `cti` as `actor` may see it: the desk, the
    /// holder, or whoever asked for it.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] otherwise (never telling that it exists).
    pub async fn certificate(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cti: &[u8],
    ) -> ServiceResult<Certificate> {
        let desk = actor.principal.can(Permission::IssueCertificates);
        if !desk {
            // Authorisation first: a visitor learns nothing of what exists.
            actor.require(Permission::OwnProfile)?;
        }
        let cert = self
            .db()
            .certificate_by_cti(tenant, cti)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if desk || cert.data.requested_by == actor.who() {
            return Ok(cert);
        }
        let user = self
            .db()
            .user(tenant, actor.require_user()?)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if user.data.codice_fiscale.as_ref() == Some(&cert.data.holder_cf) {
            Ok(cert)
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// The PDF of a certificate for `actor` (see [`App::certificate`]):
    /// exactly the bytes sealed (DECISIONS 20).
    ///
    /// # Errors
    /// `bollo_da_assolvere` while its bollo is due (ANA-03);
    /// `certificato_revocato` once revoked; as [`App::certificate`].
    pub async fn certificate_pdf(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cti: &[u8],
    ) -> ServiceResult<(Certificate, Vec<u8>)> {
        let cert = self.certificate(tenant, actor, cti).await?;
        let pdf = self.releasable_pdf(&cert).await?;
        Ok((cert, pdf))
    }

    async fn releasable_pdf(&self, cert: &Certificate) -> ServiceResult<Vec<u8>> {
        if cert.revocation.is_some() {
            return Err(refused(
                "certificato_revocato",
                "Il certificato è stato revocato e non può più essere scaricato.",
            ));
        }
        if !cert.releasable() {
            return Err(refused(
                "bollo_da_assolvere",
                "Il certificato è in bollo: si può scaricare dopo il pagamento dell'imposta \
                 di bollo di 16,00 euro.",
            ));
        }
        let pdf = self
            .documents()
            .get(&palazzo_domain::protocollo::Impronta::from_digest(
                cert.data.pdf_sha256,
            ))
            .await?;
        if *palazzo_domain::protocollo::Impronta::of(&pdf).bytes() != cert.data.pdf_sha256 {
            return Err(ServiceError::Internal(
                "stored certificate does not match its hash".into(),
            ));
        }
        Ok(pdf)
    }

    /// The original PDF for anyone who has the `cti` and the holder's
    /// surname (`domain/sealed-certificates.md` §5.1, R12), at most
    /// [`RETRIEVALS_PER_CLIENT`] attempts per client and
    /// [`RETRIEVALS_PER_CERTIFICATE`] per certificate in a window.
    ///
    /// # Errors
    /// [`ServiceError::RateLimited`]; [`ServiceError::NotFound`] for an
    /// unknown `cti` or a wrong surname (the same answer); as
    /// [`App::certificate_pdf`] for a certificate not releasable.
    pub async fn retrieve_certificate(
        &self,
        tenant: TenantId,
        cti: &[u8],
        surname: &str,
        client: &str,
    ) -> ServiceResult<(Certificate, Vec<u8>)> {
        let now = Instant::now();
        let limiter = &self.inner().sign_in_limiter;
        if !limiter.hit(
            format!("certificato-client:{client}"),
            RETRIEVALS_PER_CLIENT,
            now,
        ) || !limiter.hit(
            format!("certificato:{}:{}", tenant.0, hex(cti)),
            RETRIEVALS_PER_CERTIFICATE,
            now,
        ) {
            tracing::warn!(tenant = tenant.0, "certificate retrieval rate-limited");
            return Err(ServiceError::RateLimited);
        }
        let cert = self
            .db()
            .certificate_by_cti(tenant, cti)
            .await?
            .filter(|c| {
                let given = fold_surname(surname);
                !given.is_empty() && given == fold_surname(&c.data.holder_surname)
            })
            .ok_or(ServiceError::NotFound)?;
        let pdf = self.releasable_pdf(&cert).await?;
        Ok((cert, pdf))
    }

    /// Records the bollo of a certificate as paid with a paper marca da
    /// bollo (its 14-digit identifier), at the desk (ANA-03). Ledgered as
    /// `certificato.bollo_assolto`.
    ///
    /// # Errors
    /// Needs [`Permission::IssueCertificates`]; `marca_non_valida`;
    /// `bollo_non_dovuto` for an exempt or already settled certificate.
    pub async fn settle_certificate_bollo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cti: &[u8],
        marca: &str,
    ) -> ServiceResult<Certificate> {
        actor.require(Permission::IssueCertificates)?;
        let marca = marca.trim();
        if marca.len() != 14 || !marca.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused(
                "marca_non_valida",
                "L'identificativo della marca da bollo è di 14 cifre.",
            ));
        }
        let t = self.tenant(tenant)?;
        let cert = self
            .db()
            .certificate_by_cti(tenant, cti)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if cert.releasable() {
            return Err(refused(
                "bollo_non_dovuto",
                "Per questo certificato il bollo non è dovuto o è già stato assolto.",
            ));
        }
        let payment = BolloPayment {
            method: "contrassegno".into(),
            reference: marca.to_owned(),
            recorded_at: palazzo_store::rows::registration_time(),
            recorded_by: actor.who(),
        };
        let mut tx = self.db().begin().await?;
        if !tx
            .settle_certificate_bollo(tenant, cert.id, &payment)
            .await?
        {
            return Err(refused(
                "bollo_non_dovuto",
                "Per questo certificato il bollo non è dovuto o è già stato assolto.",
            ));
        }
        let cert = Certificate {
            bollo_paid: Some(payment),
            ..cert
        };
        ledger::record(&mut tx, &t, "certificato.bollo_assolto", &cert).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(cert)
    }

    /// Revokes a certificate (`palazzo certificates revoke`): its bit is set
    /// in the comune's status list and the online status answers
    /// `revoked`. Final; ledgered as `certificato.revocato`.
    ///
    /// # Errors
    /// Needs [`Permission::IssueCertificates`]; `motivo_mancante`;
    /// `gia_revocato`; [`ServiceError::NotFound`].
    pub async fn revoke_certificate(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cti: &[u8],
        reason: &str,
    ) -> ServiceResult<Certificate> {
        actor.require(Permission::IssueCertificates)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control)
        {
            return Err(refused(
                "motivo_mancante",
                "Indica il motivo della revoca (al massimo 500 caratteri).",
            ));
        }
        let t = self.tenant(tenant)?;
        let cert = self
            .db()
            .certificate_by_cti(tenant, cti)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let revocation = Revocation {
            at: palazzo_store::rows::registration_time(),
            by: actor.who(),
            reason: reason.to_owned(),
        };
        let mut tx = self.db().begin().await?;
        if !tx.revoke_certificate(tenant, cert.id, &revocation).await? {
            return Err(refused(
                "gia_revocato",
                "Il certificato è già stato revocato.",
            ));
        }
        let cert = Certificate {
            revocation: Some(revocation),
            ..cert
        };
        ledger::record(&mut tx, &t, "certificato.revocato", &cert).await?;
        tx.commit().await?;
        self.inner().status_lists.forget(tenant);
        self.ledger_changed(tenant);
        tracing::info!(tenant = %t.data.slug, cti = %cti_text(&cert.data.cti), "certificate revoked");
        Ok(cert)
    }

    /// The online status of a certificate (DECISIONS 18): `not_found`,
    /// `revoked`, `expired` (after its last valid day in Rome) or `valid`.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn certificate_status(
        &self,
        tenant: TenantId,
        cti: &[u8],
    ) -> ServiceResult<CertificateStatus> {
        let cert = self.db().certificate_by_cti(tenant, cti).await?;
        let today = rome_date(jiff::Timestamp::now());
        let verdict = match &cert {
            None => Verdict::NotFound,
            Some(c) if c.revocation.is_some() => Verdict::Revoked,
            Some(c) if c.data.valid_until.is_some_and(|d| d < today) => Verdict::Expired,
            Some(_) => Verdict::Valid,
        };
        Ok(CertificateStatus {
            verdict,
            certificate: cert,
        })
    }

    /// The online status signed with the comune's list key (COSE_Sign1,
    /// `typ` [`STATUS_TYP`]): a map {`cti`, `status` (the verdict code),
    /// `iat` of the certificate, `pdf_sha256`, `checked_at`}, so that an
    /// answer can be kept as proof (R12).
    ///
    /// # Errors
    /// Key store failures.
    pub fn signed_certificate_status(
        &self,
        tenant: &Tenant,
        cti: &[u8],
        status: &CertificateStatus,
    ) -> ServiceResult<Vec<u8>> {
        use palazzo_domain::cbor::{self, Value};
        let mut map = vec![
            (Value::text("cti"), Value::Bytes(cti.to_vec())),
            (Value::text("status"), Value::text(status.verdict.code())),
            (
                Value::text("checked_at"),
                Value::Unsigned(u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0)),
            ),
            (
                Value::text("iss"),
                Value::text(format!("IT-{}", tenant.data.codice_catastale.as_str())),
            ),
        ];
        if let Some(c) = &status.certificate {
            map.push((
                Value::text("iat"),
                Value::Unsigned(u64::try_from(c.data.issued_at.as_second()).unwrap_or(0)),
            ));
            map.push((
                Value::text("pdf_sha256"),
                Value::Bytes(c.data.pdf_sha256.to_vec()),
            ));
        }
        let payload = cbor::encode(&Value::Map(map))
            .map_err(|e| ServiceError::Internal(format!("status: {e}")))?;
        palazzo_seal::cose::sign1(&self.trust_list_signer(tenant)?, &payload, Some(STATUS_TYP))
            .map_err(|e| ServiceError::Internal(format!("status: {e}")))
    }

    /// Status list `list` of a comune (DECISIONS 18,
    /// `/.well-known/palazzo/status-list/<n>`): the revoked bits of the
    /// certificates issued in year `list`, as a Status List Token signed
    /// with the list key.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for a list outside 2000–9999; storage
    /// or key failures.
    pub async fn status_list(
        &self,
        tenant: &Tenant,
        list: i64,
        base_url: &str,
    ) -> ServiceResult<Vec<u8>> {
        if !(2000..=9999).contains(&list) {
            return Err(ServiceError::NotFound);
        }
        let key = (tenant.id, list, base_url.to_owned());
        let cache = &self.inner().status_lists;
        if let Some(bytes) = cache.get(&key) {
            return Ok(bytes);
        }
        // Read before the records: a revocation committed meanwhile makes
        // this list stale, and `put` then keeps it out of the cache.
        let generation = cache.generation(tenant.id);
        let internal =
            |e: palazzo_seal::SealError| ServiceError::Internal(format!("status list: {e}"));
        let mut bits = StatusList::new(STATUS_LIST_ENTRIES).map_err(internal)?;
        for idx in self.db().revoked_indices(tenant.id, list).await? {
            bits.revoke(u64::try_from(idx).map_err(|e| ServiceError::Internal(e.to_string()))?)
                .map_err(internal)?;
        }
        let bytes = StatusListToken {
            issuer: format!("IT-{}", tenant.data.codice_catastale.as_str()),
            uri: status_list_url(base_url, list),
            issued_at: u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0),
            expires_at: None,
            ttl: Some(STATUS_LIST_TTL),
            list: bits,
        }
        .sign(&self.trust_list_signer(tenant)?)
        .map_err(internal)?;
        // Only lists that can hold certificates (up to this year) are kept:
        // requests for future years cannot crowd out the real ones.
        if list <= i64::from(rome_date(jiff::Timestamp::now()).year()) {
            cache.put(key, &bytes, generation);
        }
        Ok(bytes)
    }
}

/// How long a signed status list is served from memory: well within its
/// `ttl` ([`STATUS_LIST_TTL`]), so that a verifier never sees a stale
/// token, and short enough that a revocation made by another instance of
/// a multi-server installation shows within minutes (this instance
/// forgets its lists at once on a revocation).
const STATUS_LIST_CACHE_AGE: std::time::Duration = std::time::Duration::from_secs(300);

/// At most this many signed lists are kept (comuni × years × addresses).
const STATUS_LIST_CACHE_MAX: usize = 1024;

/// Key of a cached status list: the comune, the list (year), the base URL
/// it names.
type StatusListKey = (TenantId, i64, String);

/// The signed status lists served recently: the public endpoint
/// (`/.well-known/palazzo/status-list/<n>`) must not cost a 128 KiB
/// compression and a signature per request.
#[derive(Default)]
pub(crate) struct StatusListCache {
    inner: std::sync::Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    entries: std::collections::HashMap<StatusListKey, (std::time::Instant, Vec<u8>)>,
    /// Bumped by each revocation of the comune.
    generations: std::collections::HashMap<TenantId, u64>,
}

impl StatusListCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &StatusListKey) -> Option<Vec<u8>> {
        self.lock()
            .entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < STATUS_LIST_CACHE_AGE)
            .map(|(_, bytes)| bytes.clone())
    }

    /// The comune's revocation generation, read before its records.
    fn generation(&self, tenant: TenantId) -> u64 {
        self.lock().generations.get(&tenant).copied().unwrap_or(0)
    }

    /// Keeps a list built from records read at `generation`, unless a
    /// revocation came since.
    fn put(&self, key: StatusListKey, bytes: &[u8], generation: u64) {
        let mut c = self.lock();
        if c.generations.get(&key.0).copied().unwrap_or(0) != generation {
            return;
        }
        if c.entries.len() >= STATUS_LIST_CACHE_MAX {
            c.entries
                .retain(|_, (at, _)| at.elapsed() < STATUS_LIST_CACHE_AGE);
            if c.entries.len() >= STATUS_LIST_CACHE_MAX
                && let Some(oldest) = c
                    .entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                c.entries.remove(&oldest);
            }
        }
        c.entries
            .insert(key, (std::time::Instant::now(), bytes.to_vec()));
    }

    /// Forgets a comune's lists (after a revocation).
    fn forget(&self, tenant: TenantId) {
        let mut c = self.lock();
        *c.generations.entry(tenant).or_insert(0) += 1;
        c.entries.retain(|(t, _, _), _| *t != tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_fold_to_letters() {
        assert_eq!(fold_surname("D'Angelò"), "DANGELO");
        assert_eq!(fold_surname(" de  luca "), "DELUCA");
        assert_eq!(fold_surname("DE LUCA"), fold_surname("De Luca"));
        assert_ne!(fold_surname("Rossi"), fold_surname("Russo"));
        assert_eq!(fold_surname("--"), "");
    }
}
