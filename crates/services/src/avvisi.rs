//! pagoPA notices of local taxes (issue 7, part 4; `taxes-pagopa.md` §4):
//! the comune's pagoPA data, the IUV counter, the avviso di pagamento of a
//! taxpayer's IMU payment (PDF with the QR code and, with a postal account,
//! the Poste Data Matrix), its debt position on GPD when the installation
//! is connected, and the payments that mark it paid.
//!
//! **IUV numbers are unique forever per comune**: each notice takes the
//! next number of the comune's counter in the transaction that stores it
//! (`StoreTx::next_iuv`), the counter never goes back, and the codice avviso
//! and the number are UNIQUE in the table. Asking again for the same payment
//! of the same amount gives the same notice; a different amount (the data
//! changed) annuls the old notice (and its GPD position) and issues a new
//! one.
//!
//! Ledger: `tributi.avviso_emesso`, `tributi.avviso_annullato` and
//! `tributi.avviso_pagato`, subject `avviso:<codice>`, state as
//! [`Avviso`]'s `Recorded` impl; `palazzo verify` compares them.

use jiff::Timestamp;
use palazzo_domain::access::Permission;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::money::Cents;
use palazzo_domain::pagopa::{CodiceAvviso, poste_data_matrix, qr_payload};
use palazzo_domain::tributi::f24::{self, Versamento};
use palazzo_domain::tributi::imu::{self, CodiceTributo};
use palazzo_store::{
    Avviso, NewAvviso, PagopaEnte, Recorded, StatoAvviso, Store, StoreTx, TenantId,
};

use crate::access::Actor;
use crate::pagopa::gpd::{Beneficiary, DebtorType, GpdClient, LocalTaxPosition, Notice};
use crate::{App, ServiceError, ServiceResult};

/// The pagoPA taxonomy code of the IMU (Tassonomia dei servizi di incasso:
/// ente type 01 comune, area 01 tributi, service 101 IMU, reason IM).
pub const TASSONOMIA_IMU: &str = "9/0101101IM/";

/// The pagoPA taxonomy code of the TARI (comune, tributi, TARI, tassa);
/// like [`TASSONOMIA_IMU`], to check against the comune's entry in the
/// Tassonomia dei servizi di incasso.
pub const TASSONOMIA_TARI: &str = "9/0101108TS/";

/// The pagoPA taxonomy code of the canone unico patrimoniale (comune,
/// entrate patrimoniali, occupazione di suolo pubblico); like
/// [`TASSONOMIA_IMU`], to check against the comune's entry.
pub const TASSONOMIA_CANONE: &str = "9/0102101TS/";

/// The pagoPA taxonomy code of the TEFA transfer to the province (ente
/// type 02 provincia, tributi).
pub const TASSONOMIA_TEFA: &str = "9/0201108TS/";

/// Ledger event kinds.
pub const EVENT_EMESSO: &str = "tributi.avviso_emesso";
/// See [`EVENT_EMESSO`].
pub const EVENT_ANNULLATO: &str = "tributi.avviso_annullato";
/// See [`EVENT_EMESSO`].
pub const EVENT_PAGATO: &str = "tributi.avviso_pagato";

/// A notice and its PDF.
#[derive(Debug, Clone)]
pub struct AvvisoFile {
    /// The stored notice.
    pub avviso: Avviso,
    /// The avviso di pagamento.
    pub pdf: Vec<u8>,
}

/// The code of a payment in the notices' `versamento` column.
#[must_use]
pub fn versamento_code(v: Versamento) -> &'static str {
    match v {
        Versamento::Acconto => "acconto",
        Versamento::Saldo => "saldo",
        Versamento::UnicaSoluzione => "unica",
    }
}

/// An Italian IBAN's shape: `IT`, 27 letters and digits (spaces ignored).
fn italian_iban(iban: &str) -> bool {
    let iban = iban.replace(' ', "");
    iban.len() == 27 && iban.starts_with("IT") && iban.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_ente(e: &PagopaEnte) -> ServiceResult<()> {
    let bad = |code, message: &str| Err(ServiceError::refused(code, message));
    // taxes-pagopa.md §4.1: 00-49 are assigned to intermediaries; 96-99
    // are reserved for central services (CIE, ANPR, SUAP, ACI).
    if e.segregazione > 49 {
        return bad(
            "segregazione_non_valida",
            "Il codice di segregazione assegnato da PagoPA ha due cifre, da 00 a 49.",
        );
    }
    if e.cbill.len() != 5 || !e.cbill.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return bad(
            "cbill_non_valido",
            "Il codice CBILL è di 5 caratteri alfanumerici.",
        );
    }
    if !italian_iban(&e.iban) {
        return bad(
            "iban_non_valido",
            "L'IBAN di accredito deve essere un IBAN italiano di 27 caratteri.",
        );
    }
    if let Some(p) = &e.tefa {
        if p.codice_fiscale.len() != 11 || !p.codice_fiscale.bytes().all(|b| b.is_ascii_digit()) {
            return bad(
                "tefa_codice_fiscale_non_valido",
                "Il codice fiscale della Provincia che riceve la TEFA ha 11 cifre.",
            );
        }
        if !italian_iban(&p.iban) {
            return bad(
                "tefa_iban_non_valido",
                "L'IBAN di accredito della TEFA deve essere un IBAN italiano di 27 caratteri.",
            );
        }
        if p.nome.trim().is_empty() {
            return bad(
                "tefa_nome_mancante",
                "Indica la denominazione della Provincia che riceve la TEFA.",
            );
        }
    }
    if let Some(c) = &e.conto_postale
        && (c.is_empty() || c.len() > 12 || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        return bad(
            "conto_postale_non_valido",
            "Il conto corrente postale ha da 1 a 12 cifre.",
        );
    }
    Ok(())
}

impl App {
    /// Connects the installation to pagoPA's GPD (`[gpd]`), or disconnects
    /// it: notices are then published there as they are issued.
    pub fn set_gpd(&self, gpd: Option<GpdClient>) {
        if let Ok(mut slot) = self.inner.gpd.write() {
            *slot = gpd;
        }
    }

    pub(crate) fn gpd(&self) -> Option<GpdClient> {
        self.inner.gpd.read().ok().and_then(|g| g.clone())
    }

    /// The comune's pagoPA data, or `pagopa_non_configurato`.
    pub(crate) async fn pagopa_ente_or_refuse(
        &self,
        tenant: TenantId,
    ) -> ServiceResult<PagopaEnte> {
        self.db().pagopa_ente(tenant).await?.ok_or_else(|| {
            ServiceError::refused(
                "pagopa_non_configurato",
                "Il Comune non ha ancora attivato i pagamenti pagoPA: usa il modello F24.",
            )
        })
    }

    /// Enters the comune's pagoPA data (segregation code, CBILL, IBAN,
    /// postal account). Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// `segregazione_non_valida`, `cbill_non_valido`, `iban_non_valido`,
    /// `conto_postale_non_valido`.
    pub async fn set_pagopa_ente(
        &self,
        tenant: TenantId,
        actor: &Actor,
        mut e: PagopaEnte,
    ) -> ServiceResult<()> {
        actor.require(Permission::ManageTaxes)?;
        e.iban = e.iban.replace(' ', "").to_uppercase();
        if let Some(p) = &mut e.tefa {
            p.iban = p.iban.replace(' ', "").to_uppercase();
            p.codice_fiscale = p.codice_fiscale.trim().to_owned();
            p.nome = p.nome.trim().to_owned();
        }
        e.cbill = e.cbill.trim().to_uppercase();
        check_ente(&e)?;
        let mut tx = self.db().begin().await?;
        tx.set_pagopa_ente(tenant, &e).await?;
        tx.commit().await?;
        tracing::info!(tenant = tenant.0, by = %actor.who(), "pagoPA data saved");
        Ok(())
    }

    /// The avviso di pagamento of a taxpayer's IMU payment of `anno`, issued
    /// on first request (who may ask: as [`App::imu_position`]). The amount
    /// is the F24's, whole euro per line (c.166); the State's share of group
    /// D is paid only by F24, so a payment with it has no pagoPA notice.
    ///
    /// # Errors
    /// `pagopa_non_configurato`; `nulla_da_versare`; `quota_stato_solo_f24`;
    /// `scadenza_passata` (a notice not yet issued whose due date is past);
    /// GPD's errors when the installation is connected (the notice is kept
    /// and published on the next request); as [`App::imu_position`].
    pub async fn imu_avviso(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
        versamento: Versamento,
    ) -> ServiceResult<AvvisoFile> {
        let p = self.imu_position(tenant, actor, cf, anno).await?;
        let t = self.tenant(tenant)?;
        let ente = self.pagopa_ente_or_refuse(tenant).await?;
        let righi = f24::da_imu(&p.calcolo, versamento, t.data.codice_catastale.as_str());
        if righi
            .iter()
            .any(|r| r.codice_tributo == CodiceTributo::GruppoDStato.code())
        {
            return Err(ServiceError::refused(
                "quota_stato_solo_f24",
                "Questo versamento comprende la quota dello Stato sui fabbricati del gruppo D \
                 (codice 3925), che si versa solo con il modello F24: usa l'F24.",
            ));
        }
        let importo = f24::totale(&righi);
        if p.calcolo.sotto_minimo || importo <= Cents::ZERO {
            return Err(ServiceError::refused(
                "nulla_da_versare",
                format!(
                    "Per l'IMU {anno} ({}) non c'è nulla da versare.",
                    versamento.label().to_lowercase()
                ),
            ));
        }
        let (acc, sal) = imu::scadenze(anno);
        let scadenza = if versamento == Versamento::Saldo {
            sal
        } else {
            acc
        };
        let today = palazzo_domain::calendar::rome_date(Timestamp::now());
        let code = versamento_code(versamento);
        // The position holds the year's live IMU notices already.
        let live = &p.avvisi;
        // The year is paid either in one payment or in acconto and saldo
        // (c.762), never both ways.
        let single = versamento == Versamento::UnicaSoluzione;
        if live
            .iter()
            .any(|a| (a.data.versamento == "unica") != single)
        {
            return Err(ServiceError::refused(
                "versamento_incompatibile",
                if single {
                    "Per quest'anno è già stato emesso l'avviso dell'acconto o del saldo: paga con \
                     quelli."
                } else {
                    "Per quest'anno è già stato emesso l'avviso in unica soluzione: paga con quello."
                },
            ));
        }
        let current = live.iter().find(|a| a.data.versamento == code).cloned();
        let mut avviso = match current {
            Some(a) if a.stato == StatoAvviso::Pagato || a.data.importo == importo => a,
            // pagoPA takes no debt due in the past (GPD: dueDate ≥ today);
            // paying late takes the ravvedimento's sanction and interest,
            // on the F24 with "Ravv." ticked.
            _ if scadenza < today => {
                return Err(ServiceError::refused(
                    "scadenza_passata",
                    format!(
                        "La scadenza del {} è passata: per versare ora, con il ravvedimento \
                         operoso, usa il modello F24.",
                        scadenza.strftime("%d/%m/%Y")
                    ),
                ));
            }
            stale => {
                let new = NewAvviso {
                    codice_fiscale: p.codice_fiscale.clone(),
                    tributo: "IMU".into(),
                    anno,
                    versamento: code.into(),
                    importo,
                    tefa: Cents::ZERO,
                    scadenza,
                    created_by: actor.who(),
                };
                match self
                    .issue(&t, &ente, stale.into_iter().collect(), &[new])
                    .await
                    .map(|mut v| v.remove(0))
                {
                    Ok(a) => a,
                    // Another request issued it at the same moment: that one.
                    Err(ServiceError::Store(palazzo_store::StoreError::Conflict(_))) => self
                        .db()
                        .avvisi_of(tenant, &p.codice_fiscale)
                        .await?
                        .into_iter()
                        .find(|a| {
                            a.data.tributo == "IMU"
                                && a.data.anno == anno
                                && a.data.versamento == code
                                && a.stato != StatoAvviso::Annullato
                        })
                        .ok_or_else(|| {
                            ServiceError::Internal("notice conflict without a notice".into())
                        })?,
                    Err(e) => return Err(e),
                }
            }
        };
        let nome = self.debtor_name(tenant, &p.codice_fiscale).await?;
        if avviso.stato == StatoAvviso::Emesso
            && avviso.iupd.is_none()
            && let Some(gpd) = self.gpd()
        {
            avviso = self
                .publish(&gpd, &t, &ente, vec![avviso], &nome)
                .await?
                .remove(0);
        }
        let pdf = render_avviso(&t, &ente, std::slice::from_ref(&avviso), nome)?;
        Ok(AvvisoFile { avviso, pdf })
    }

    /// Stores new notices, each with the next IUV of the comune (annulling
    /// `stale`, the notices they replace), with their ledger events, in one
    /// transaction.
    pub(crate) async fn issue(
        &self,
        t: &palazzo_store::Tenant,
        ente: &PagopaEnte,
        stale: Vec<Avviso>,
        new: &[NewAvviso],
    ) -> ServiceResult<Vec<Avviso>> {
        // The old position leaves pagoPA first: if it cannot (GPD down, or
        // already paid there), the old notices stay as they are. The
        // notices of one bill share their position.
        if let Some(gpd) = self.gpd() {
            let mut iupds: Vec<&str> = stale.iter().filter_map(|a| a.iupd.as_deref()).collect();
            iupds.dedup();
            for iupd in iupds {
                gpd.invalidate_position(t.data.codice_fiscale.as_str(), iupd)
                    .await?;
            }
        }
        let mut tx = self.db().begin().await?;
        for old in &stale {
            let annulled = Avviso {
                stato: StatoAvviso::Annullato,
                ..old.clone()
            };
            if !tx
                .update_avviso(t.id, &annulled, StatoAvviso::Emesso)
                .await?
            {
                return Err(ServiceError::refused(
                    "avviso_cambiato",
                    "L'avviso è cambiato nel frattempo (forse è stato pagato): ricarica la pagina.",
                ));
            }
            crate::ledger::record(&mut tx, t, EVENT_ANNULLATO, &annulled).await?;
        }
        let now = Timestamp::now();
        let mut issued = Vec::with_capacity(new.len());
        for n in new {
            let base = tx.next_iuv(t.id).await?;
            let codice = CodiceAvviso::aux3(ente.segregazione, base)
                .map_err(|e| ServiceError::Internal(format!("codice avviso: {e}")))?;
            let avviso = tx.insert_avviso(t.id, base, &codice, n, now).await?;
            crate::ledger::record(&mut tx, t, EVENT_EMESSO, &avviso).await?;
            issued.push(avviso);
        }
        tx.commit().await?;
        self.ledger_changed(t.id);
        for avviso in &issued {
            tracing::info!(
                tenant = t.id.0,
                subject = %avviso.subject(),
                importo = avviso.data.importo.cents(),
                "pagoPA notice issued"
            );
        }
        Ok(issued)
    }

    /// Creates and publishes the debt position of a bill on GPD: its first
    /// notice is the single payment, the others its instalments; a notice
    /// with TEFA pays it to the province as a second beneficiary.
    pub(crate) async fn publish(
        &self,
        gpd: &GpdClient,
        t: &palazzo_store::Tenant,
        ente: &PagopaEnte,
        notices: Vec<Avviso>,
        name: &str,
    ) -> ServiceResult<Vec<Avviso>> {
        let Some(avviso) = notices.first() else {
            return Ok(notices);
        };
        let org = t.data.codice_fiscale.as_str();
        let iupd = format!("{org}-{}", avviso.codice_avviso);
        let cf = &avviso.data.codice_fiscale;
        let n = notices.len() - 1;
        // The legal deadline: payable through the whole due day (Rome).
        let notice = |a: &Avviso, tefa: bool| -> ServiceResult<Notice> {
            let due = a
                .data
                .scadenza
                .at(23, 59, 59, 0)
                .to_zoned(palazzo_domain::calendar::rome_time_zone())
                .map_err(|e| ServiceError::Internal(e.to_string()))?
                .timestamp();
            Ok(Notice {
                codice: a.codice_avviso,
                description: causale(a, n),
                due_date: due,
                shares: if tefa {
                    vec![
                        Cents::from_cents(a.data.importo.cents() - a.data.tefa.cents()),
                        a.data.tefa,
                    ]
                } else {
                    vec![a.data.importo]
                },
            })
        };
        let with_tefa = notices.iter().any(|a| a.data.tefa > Cents::ZERO);
        let mut beneficiaries = vec![Beneficiary {
            organization_fiscal_code: None,
            company_name: None,
            iban: ente.iban.clone(),
            category: tassonomia(&avviso.data.tributo).into(),
            remittance_information: causale(avviso, 0),
        }];
        if with_tefa {
            let p = ente.tefa.as_ref().ok_or_else(tefa_non_configurata)?;
            beneficiaries.push(Beneficiary {
                organization_fiscal_code: Some(p.codice_fiscale.clone()),
                company_name: Some(p.nome.clone()),
                iban: p.iban.clone(),
                category: TASSONOMIA_TEFA.into(),
                remittance_information: format!("TEFA {} - {}", avviso.data.anno, cf.as_str()),
            });
        }
        let single = notice(avviso, with_tefa)?;
        let instalments = notices[1..]
            .iter()
            .map(|a| notice(a, with_tefa))
            .collect::<ServiceResult<Vec<_>>>()?;
        let position = LocalTaxPosition {
            iupd: iupd.clone(),
            debtor_type: if cf.as_str().len() == 11 {
                DebtorType::G
            } else {
                DebtorType::F
            },
            fiscal_code: cf.as_str().to_owned(),
            full_name: if name.trim().is_empty() {
                cf.as_str().to_owned()
            } else {
                name.to_owned()
            },
            email: None,
            company_name: t.data.name.clone(),
            office_name: Some("Ufficio Tributi".into()),
            validity_date: None,
            switch_to_expired: false,
            beneficiaries,
            single,
            instalments,
        };
        let model = position
            .to_position()
            .map_err(|e| ServiceError::Internal(format!("GPD position: {e}")))?;
        match gpd.create_position(org, &model, true).await {
            Ok(_) => {}
            // Created by an earlier request whose answer was lost: ours
            // when it holds this notice's code.
            Err(crate::pagopa::gpd::GpdError::Conflict(_))
                if gpd.get_position(org, &iupd).await.is_ok_and(|p| {
                    p.payment_option.iter().any(|o| {
                        o.nav.as_deref() == Some(avviso.codice_avviso.to_string().as_str())
                    })
                }) => {}
            Err(e) => return Err(e.into()),
        }
        let mut tx = self.db().begin().await?;
        for a in &notices {
            tx.set_avviso_iupd(t.id, a.id, &iupd).await?;
        }
        tx.commit().await?;
        Ok(notices
            .into_iter()
            .map(|a| Avviso {
                iupd: Some(iupd.clone()),
                ..a
            })
            .collect())
    }

    /// The taxpayer's name as the register knows it (empty when unknown).
    pub(crate) async fn debtor_name(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> ServiceResult<String> {
        Ok(self
            .db()
            .resident(tenant, cf)
            .await?
            .map(|r| format!("{} {}", r.name, r.surname))
            .unwrap_or_default())
    }

    /// Records the payment of a notice (a receipt from pagoPA, or a payment
    /// the tributi office recorded): the notice becomes `pagato`, in one
    /// ledger event. The same receipt again changes nothing. Needs
    /// [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown codice;
    /// `avviso_annullato`; `avviso_gia_pagato` (another receipt).
    pub async fn record_avviso_payment(
        &self,
        tenant: TenantId,
        actor: &Actor,
        codice: &CodiceAvviso,
        pagato_il: Timestamp,
        ricevuta: &str,
    ) -> ServiceResult<Avviso> {
        actor.require(Permission::ManageTaxes)?;
        self.mark_paid(tenant, codice, pagato_il, ricevuta).await
    }

    async fn mark_paid(
        &self,
        tenant: TenantId,
        codice: &CodiceAvviso,
        pagato_il: Timestamp,
        ricevuta: &str,
    ) -> ServiceResult<Avviso> {
        let t = self.tenant(tenant)?;
        let a = self
            .db()
            .avviso_by_codice(tenant, &codice.to_string())
            .await?
            .ok_or(ServiceError::NotFound)?;
        match a.stato {
            StatoAvviso::Annullato => {
                return Err(ServiceError::refused(
                    "avviso_annullato",
                    "L'avviso è stato annullato e sostituito: il pagamento va verificato \
                     dall'ufficio tributi.",
                ));
            }
            StatoAvviso::Pagato if a.ricevuta.as_deref() == Some(ricevuta) => return Ok(a),
            StatoAvviso::Pagato => {
                return Err(ServiceError::refused(
                    "avviso_gia_pagato",
                    "L'avviso risulta già pagato con un'altra ricevuta.",
                ));
            }
            StatoAvviso::Emesso => {}
        }
        let paid = Avviso {
            stato: StatoAvviso::Pagato,
            pagato_il: Some(pagato_il),
            ricevuta: Some(ricevuta.to_owned()),
            ..a
        };
        let mut tx = self.db().begin().await?;
        if !tx.update_avviso(tenant, &paid, StatoAvviso::Emesso).await? {
            // Changed since it was read (paid or annulled at the same
            // moment): answer as for its new state.
            drop(tx);
            return Box::pin(self.mark_paid(tenant, codice, pagato_il, ricevuta)).await;
        }
        crate::ledger::record(&mut tx, &t, EVENT_PAGATO, &paid).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(tenant = tenant.0, subject = %paid.subject(), "pagoPA notice paid");
        Ok(paid)
    }

    /// Every `every`, reads the payments of every comune's notices from GPD
    /// ([`App::sync_gpd_payments`]) until `shutdown`; nothing when GPD is
    /// not configured.
    pub async fn run_gpd_sync(
        &self,
        every: std::time::Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let system = Actor {
            principal: palazzo_domain::access::Principal {
                grants: vec![palazzo_domain::access::Grant {
                    role: palazzo_domain::access::Role::FunzionarioTributi,
                    office: None,
                }],
            },
            name: Some("pagoPA".into()),
            ..Default::default()
        };
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            if self.gpd().is_none() {
                continue;
            }
            for t in self.tenants() {
                match self.sync_gpd_payments(t.id, &system).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(tenant = t.id.0, paid = n, "pagoPA payments recorded"),
                    Err(e) => {
                        tracing::warn!(tenant = t.id.0, error = %e, "pagoPA payments not read")
                    }
                }
            }
        }
    }

    /// Reads from GPD the payments of the comune's published notices and
    /// records each new one ([`App::record_avviso_payment`]'s effect).
    /// Returns how many notices became paid. Needs
    /// [`Permission::ManageTaxes`]; nothing when GPD is not configured.
    ///
    /// # Errors
    /// Storage failures (a notice GPD does not answer for is skipped and
    /// logged).
    pub async fn sync_gpd_payments(&self, tenant: TenantId, actor: &Actor) -> ServiceResult<usize> {
        actor.require(Permission::ManageTaxes)?;
        let Some(gpd) = self.gpd() else {
            return Ok(0);
        };
        let t = self.tenant(tenant)?;
        let org = t.data.codice_fiscale.as_str();
        let mut paid = 0;
        let mut after = palazzo_store::AvvisoId(0);
        loop {
            let page = self.db().avvisi_page(tenant, after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            // The notices of a bill share their GPD position: read it once
            // for all of them (a bill split across two pages is read once
            // per page).
            let mut bills: std::collections::BTreeMap<String, Vec<Avviso>> =
                std::collections::BTreeMap::new();
            for a in page {
                if let (StatoAvviso::Emesso, Some(iupd)) = (a.stato, a.iupd.clone()) {
                    bills.entry(iupd).or_default().push(a);
                }
            }
            for (iupd, notices) in bills {
                let position = match gpd.get_position(org, &iupd).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(tenant = tenant.0, iupd, error = %e, "GPD position not read");
                        continue;
                    }
                };
                for a in notices {
                    let nav = a.codice_avviso.to_string();
                    let Some(option) = position
                        .payment_option
                        .iter()
                        .find(|o| o.nav.as_deref() == Some(nav.as_str()))
                    else {
                        continue;
                    };
                    if !matches!(
                        option.status,
                        Some(
                            crate::pagopa::gpd::PaymentOptionStatus::Paid
                                | crate::pagopa::gpd::PaymentOptionStatus::PartiallyReported
                                | crate::pagopa::gpd::PaymentOptionStatus::Reported
                        )
                    ) {
                        continue;
                    }
                    let when = option.payment_date.unwrap_or_else(Timestamp::now);
                    let receipt = option.id_receipt.clone().unwrap_or_else(|| nav.clone());
                    match self
                        .mark_paid(tenant, &a.codice_avviso, when, &receipt)
                        .await
                    {
                        Ok(_) => paid += 1,
                        Err(e) => tracing::warn!(
                            tenant = tenant.0,
                            subject = %a.subject(),
                            code = e.code(),
                            "pagoPA payment not recorded: the office must check it"
                        ),
                    }
                }
            }
        }
        Ok(paid)
    }
}

/// A bill (documento di riscossione): its pagoPA notices — the single
/// payment first, then the instalments — and the avviso di pagamento.
#[derive(Debug, Clone)]
pub struct Bolletta {
    /// The notices, single payment first.
    pub avvisi: Vec<Avviso>,
    /// The PDF (empty when not asked for).
    pub pdf: Vec<u8>,
    /// Whether this call issued the notices (false: they were already).
    pub emessa: bool,
}

impl App {
    /// The avviso di pagamento of a bill's notices (rata unica first).
    ///
    /// # Errors
    /// `pagopa_non_configurato`; rendering failures.
    pub async fn bill_pdf(&self, tenant: TenantId, avvisi: &[Avviso]) -> ServiceResult<Vec<u8>> {
        let t = self.tenant(tenant)?;
        let ente = self.pagopa_ente_or_refuse(tenant).await?;
        let Some(first) = avvisi.first() else {
            return Err(ServiceError::NotFound);
        };
        let nome = self.debtor_name(tenant, &first.data.codice_fiscale).await?;
        render_avviso(&t, &ente, avvisi, nome)
    }

    /// Brings a bill to what it must hold: `live`, its notices issued so
    /// far, are kept when they are `wanted` (same payments, amounts and
    /// due dates) or something was paid on them; otherwise they are
    /// annulled and `wanted` issued (never over payments received without
    /// a bill: `versamenti_presenti`; never due in the past:
    /// `scadenza_passata`, pagoPA takes no such debt). New notices are
    /// published on GPD as one position when the installation is
    /// connected; the PDF is rendered when `render`. `label` names the bill
    /// in messages ("la TARI 2026").
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn settle_bill(
        &self,
        t: &palazzo_store::Tenant,
        ente: &PagopaEnte,
        cf: &palazzo_domain::ids::CodiceFiscale,
        label: &str,
        live: Vec<Avviso>,
        wanted: &[NewAvviso],
        paid: bool,
        render: bool,
    ) -> ServiceResult<Bolletta> {
        // What pagoPA and the Bollettino PA can carry: from a cent to
        // 99.999.999,99 € (ten digits of cents).
        if let Some(w) = wanted
            .iter()
            .find(|w| w.importo <= Cents::ZERO || w.importo.cents() > 9_999_999_999)
        {
            return Err(ServiceError::refused(
                "importo_fuori_limite",
                format!(
                    "L'importo di {} per {label} non può essere pagato con un avviso pagoPA: \
                     rivolgiti all'ufficio tributi.",
                    w.importo
                ),
            ));
        }
        let same = live.len() == wanted.len()
            && live.iter().zip(wanted).all(|(a, w)| {
                a.data.versamento == w.versamento
                    && a.data.importo == w.importo
                    && a.data.tefa == w.tefa
                    && a.data.scadenza == w.scadenza
            });
        let (mut avvisi, emessa) = if same || (paid && !live.is_empty()) {
            (live, false)
        } else if paid {
            // Paid in part by F24 without a bill: a bill of the whole
            // amount would ask again for what was paid.
            return Err(ServiceError::refused(
                "versamenti_presenti",
                format!(
                    "Per {label} risultano già versamenti: l'avviso per quanto resta da pagare lo \
                     emette l'ufficio tributi."
                ),
            ));
        } else {
            let today = palazzo_domain::calendar::rome_date(Timestamp::now());
            if let Some(w) = wanted.first()
                && w.scadenza < today
            {
                // pagoPA takes no debt due in the past (GPD: dueDate ≥
                // today): the comune sets new due dates first.
                return Err(ServiceError::refused(
                    "scadenza_passata",
                    format!(
                        "La scadenza del {} è passata: l'avviso per {label} va emesso con nuove \
                         scadenze (rivolgiti all'ufficio tributi).",
                        w.scadenza.strftime("%d/%m/%Y")
                    ),
                ));
            }
            match self.issue(t, ente, live, wanted).await {
                Ok(issued) => (issued, true),
                // Another request issued them at the same moment: those.
                Err(ServiceError::Store(palazzo_store::StoreError::Conflict(_))) => {
                    let mut again: Vec<Avviso> = self
                        .db()
                        .avvisi_of(t.id, cf)
                        .await?
                        .into_iter()
                        .filter(|a| {
                            a.stato != StatoAvviso::Annullato
                                && wanted.iter().any(|w| {
                                    w.tributo == a.data.tributo
                                        && w.anno == a.data.anno
                                        && w.versamento == a.data.versamento
                                })
                        })
                        .collect();
                    again.sort_by_key(|a| {
                        wanted
                            .iter()
                            .position(|w| w.versamento == a.data.versamento)
                    });
                    (again, false)
                }
                Err(e) => return Err(e),
            }
        };
        let nome = self.debtor_name(t.id, cf).await?;
        if avvisi
            .iter()
            .any(|a| a.stato == StatoAvviso::Emesso && a.iupd.is_none())
            && !paid
            && let Some(gpd) = self.gpd()
        {
            avvisi = self.publish(&gpd, t, ente, avvisi, &nome).await?;
        }
        let pdf = if render {
            render_avviso(t, ente, &avvisi, nome)?
        } else {
            Vec::new()
        };
        Ok(Bolletta {
            avvisi,
            pdf,
            emessa,
        })
    }
}

/// The causale of a notice: `IMU 2026 - acconto`, `TARI 2026 - rata unica`,
/// `TARI 2026 - rata 2 di 3` (`of`: the bill's instalments).
fn causale(a: &Avviso, of: usize) -> String {
    let d = &a.data;
    let what = match d.versamento.as_str() {
        "unica" if d.tributo == "IMU" => "unica soluzione".to_owned(),
        "unica" => "rata unica".to_owned(),
        v => match (v.strip_prefix("rata-"), v.strip_prefix("occupazione-")) {
            (Some(k), _) => format!("rata {k} di {of}"),
            // `occupazione-<codice>-<aaaammgg>`: the concession's code.
            (_, Some(rest)) => format!(
                "occupazione temporanea {}",
                rest.rsplit_once('-').map_or(rest, |(c, _)| c)
            ),
            _ => v.to_owned(),
        },
    };
    let tributo = if d.tributo == crate::canone::TRIBUTO_CANONE {
        "Canone unico"
    } else {
        d.tributo.as_str()
    };
    format!("{tributo} {} - {what}", d.anno)
}

/// The pagoPA taxonomy code of a tax's notices.
fn tassonomia(tributo: &str) -> &'static str {
    match tributo {
        "TARI" => TASSONOMIA_TARI,
        crate::canone::TRIBUTO_CANONE => TASSONOMIA_CANONE,
        _ => TASSONOMIA_IMU,
    }
}

pub(crate) fn tefa_non_configurata() -> ServiceError {
    ServiceError::refused(
        "tefa_non_configurata",
        "Per gli avvisi TARI servono i dati della Provincia che riceve la TEFA (codice fiscale, \
         IBAN e denominazione) tra i dati pagoPA del Comune.",
    )
}

/// The avviso di pagamento of a bill to `nome` (the pagoPA layout): its
/// first notice is the single payment, the others its instalments.
pub(crate) fn render_avviso(
    t: &palazzo_store::Tenant,
    ente: &PagopaEnte,
    notices: &[Avviso],
    nome: String,
) -> ServiceResult<Vec<u8>> {
    use palazzo_pdf::avviso as pdf;
    let Some(a) = notices.first() else {
        return Err(ServiceError::Internal("a notice without payments".into()));
    };
    let cf_ente = t.data.codice_fiscale.as_str();
    let oggetto = match a.data.tributo.as_str() {
        "TARI" => format!("TARI {} - Tassa sui rifiuti, con TEFA", a.data.anno),
        crate::canone::TRIBUTO_CANONE if notices.len() > 1 => format!(
            "Canone unico patrimoniale {} - occupazioni permanenti",
            a.data.anno
        ),
        _ => causale(a, 0),
    };
    let pagamento = |a: &Avviso| -> ServiceResult<pdf::Pagamento> {
        let data_matrix = match &ente.conto_postale {
            Some(conto) => Some(
                poste_data_matrix(
                    a.codice_avviso,
                    conto,
                    a.data.importo,
                    cf_ente,
                    a.data.codice_fiscale.as_str(),
                    &nome,
                    &oggetto,
                )
                .map_err(|e| ServiceError::Internal(format!("data matrix: {e}")))?,
            ),
            None => None,
        };
        Ok(pdf::Pagamento {
            importo: a.data.importo.cents().unsigned_abs(),
            scadenza: a.data.scadenza,
            codice_avviso: a.codice_avviso.to_string(),
            qr: qr_payload(a.codice_avviso, cf_ente, a.data.importo),
            data_matrix,
        })
    };
    let unica = pagamento(a)?;
    let rate = notices[1..]
        .iter()
        .map(pagamento)
        .collect::<ServiceResult<Vec<_>>>()?;
    let avviso = pdf::Avviso {
        oggetto: oggetto.clone(),
        ente: pdf::EnteCreditore {
            nome: t.data.name.clone(),
            settore: Some("Ufficio Tributi".into()),
            codice_fiscale: cf_ente.to_owned(),
            cbill: ente.cbill.clone(),
            conto_postale: ente.conto_postale.as_ref().map(|n| pdf::ContoPostale {
                numero: n.clone(),
                intestatario: ente
                    .intestatario
                    .clone()
                    .unwrap_or_else(|| t.data.name.clone()),
            }),
        },
        destinatario: pdf::Destinatario {
            codice_fiscale: a.data.codice_fiscale.as_str().to_owned(),
            nome: nome.clone(),
            indirizzo: Vec::new(),
        },
        unica,
        rate,
    };
    let info = palazzo_pdf::Info {
        title: format!("Avviso di pagamento pagoPA — {oggetto}"),
        subject: format!("Avviso pagoPA n. {}", a.codice_avviso),
        author: t.data.name.clone(),
        language: "it-IT".into(),
        created: a.created_at,
    };
    pdf::render(&avviso, &info).map_err(|e| ServiceError::Internal(e.to_string()))
}
