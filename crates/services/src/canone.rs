//! Canone unico patrimoniale for the occupation of public land (issue 7;
//! L. 160/2019 cc.816-836, `taxes-pagopa.md` §3): the coefficients a
//! comune approves for a year (zones, categories, due dates, delibera), a
//! taxpayer's canone computed from their occupations, the pagoPA notices,
//! and the bulk load of the occupations (`palazzo tributi import`).
//!
//! A permanent occupation pays for its days of the year, split over the
//! coefficients' due dates — one bill for all the taxpayer's permanent
//! occupations of the year (rata unica and instalments). A temporary one
//! (less than a year) pays once for all its days, due on its first day:
//! one notice of its own (the regolamenti's "prima del rilascio della
//! concessione"). Who sees what is as for the IMU ([`App::imu_position`]).
//! The canone is paid only through pagoPA (it is an entrata patrimoniale,
//! not a tax of the F24: art. 2-bis DL 193/2016), so what was paid is what
//! the notices say.

use palazzo_domain::access::Permission;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::canone::{self, CalcoloCanone, TariffeCanone};
use palazzo_domain::tributi::occupazioni;
use palazzo_domain::tributi::situazione::{self, Dovuto, Pagamento, Situazione};
use palazzo_domain::tributi::tari::split;
use palazzo_store::{
    Avviso, NewAvviso, NewOccupazioneCanone, OccupazioneCanone, Recorded, StatoAvviso, Store,
    StoreTx, TariffeCanoneRecord, TenantId,
};

use crate::access::Actor;
use crate::avvisi::Bolletta;
use crate::tributi::{BATCH_ROWS, TributiImportReport};
use crate::{App, ServiceError, ServiceResult};

/// The ledger event kind of a change of the canone coefficients.
pub const EVENT_TARIFFE_CANONE: &str = "tributi.tariffe_canone";

/// The `tributo` of the canone's notices.
pub const TRIBUTO_CANONE: &str = "CANONE";

/// The notices' `versamento` prefix of a temporary occupation's notice.
const TEMPORANEA: &str = "occupazione-";

/// One occupation of a position with its computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupazioneCalcolata {
    /// The occupation.
    pub occupazione: OccupazioneCanone,
    /// Its canone, when the year's coefficients price its zone and
    /// category.
    pub calcolo: Option<CalcoloCanone>,
    /// Why it was not computed.
    pub nota: Option<String>,
    /// For an occupation paid by a notice of its own (a temporary one, a
    /// permanent one in the year it begins): that notice's `versamento`;
    /// `None` for a permanent one paid with the yearly bill.
    pub versamento: Option<String>,
}

/// A payment of a canone position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RataCanone {
    /// The notices' `versamento`: `unica`, `rata-<n>` (the permanent
    /// occupations' yearly canone) or `occupazione-<codice>-<aaaammgg>` (a
    /// temporary one).
    pub versamento: String,
    /// What it is, in Italian.
    pub etichetta: String,
    /// Due date.
    pub scadenza: jiff::civil::Date,
    /// Amount.
    pub importo: Cents,
}

/// A taxpayer's canone unico for one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosizioneCanone {
    /// The taxpayer, as asked.
    pub codice_fiscale: CodiceFiscale,
    /// The year.
    pub anno: i16,
    /// The comune's coefficients of the year; `None` until it enters them
    /// (the position then has no figures).
    pub tariffe: Option<TariffeCanone>,
    /// The occupations of the year (permanent ones in it at some time,
    /// temporary ones beginning in it), each computed.
    pub occupazioni: Vec<OccupazioneCalcolata>,
    /// The permanent occupations' canone.
    pub permanenti: Cents,
    /// The temporary occupations' canone.
    pub temporanee: Cents,
    /// The year's canone.
    pub totale: Cents,
    /// The payments: the permanent canone's instalments, then each
    /// temporary occupation, by due date.
    pub rate: Vec<RataCanone>,
    /// The pagoPA notices of the year's canone (not the annulled ones),
    /// oldest first.
    pub avvisi: Vec<Avviso>,
    /// What was paid and what remains, with the ravvedimento of what is
    /// past due.
    pub situazione: Situazione,
}

impl PosizioneCanone {
    /// Whether some occupation could not be computed (its zone or
    /// category is missing from the coefficients).
    #[must_use]
    pub fn incompleta(&self) -> bool {
        self.occupazioni.iter().any(|o| o.calcolo.is_none())
    }
}

fn temporanea_code(o: &OccupazioneCanone) -> String {
    format!(
        "{TEMPORANEA}{}-{}",
        o.data.codice,
        o.data.dal.strftime("%Y%m%d")
    )
}

/// The bill a payment belongs to: the yearly bill of the permanent
/// occupations (`unica`, `rata-<n>`) or a temporary occupation's own.
fn bill_of(versamento: &str) -> &str {
    if versamento.starts_with(TEMPORANEA) {
        versamento
    } else {
        "permanenti"
    }
}

/// The year's days.
fn year_bounds(anno: i16) -> ServiceResult<(jiff::civil::Date, jiff::civil::Date)> {
    match (
        jiff::civil::Date::new(anno, 1, 1),
        jiff::civil::Date::new(anno, 12, 31),
    ) {
        (Ok(f), Ok(l)) => Ok((f, l)),
        _ => Err(ServiceError::refused(
            "anno_non_valido",
            format!("L'anno {anno} non è valido."),
        )),
    }
}

impl App {
    /// The canone unico of a taxpayer for `anno` (L. 160/2019 cc.816-836):
    /// each occupation of the year computed with the comune's coefficients
    /// and the standard tariff of its size (cc.826-827, by the tenant's
    /// population), the permanent canone split over the due dates, each
    /// temporary occupation due on its first day. Who may ask: as
    /// [`App::imu_position`].
    ///
    /// # Errors
    /// As [`App::imu_position`].
    pub async fn canone_position(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
    ) -> ServiceResult<PosizioneCanone> {
        let codice_fiscale = self.taxpayer(tenant, actor, cf).await?;
        self.canone_position_of(tenant, codice_fiscale, anno).await
    }

    /// [`App::canone_position`] once the taxpayer is known.
    pub(crate) async fn canone_position_of(
        &self,
        tenant: TenantId,
        codice_fiscale: CodiceFiscale,
        anno: i16,
    ) -> ServiceResult<PosizioneCanone> {
        let (first, last) = year_bounds(anno)?;
        let abitanti = self.tenant(tenant)?.data.population;
        let tariffe = self
            .db()
            .tariffe_canone(tenant, anno)
            .await?
            .map(|r| r.tariffe);
        let in_year: Vec<OccupazioneCanone> = self
            .db()
            .occupazioni_of(tenant, &codice_fiscale)
            .await?
            .into_iter()
            .filter(|o| {
                if o.data.permanente {
                    o.data.dal <= last && o.data.al.is_none_or(|al| al >= first)
                } else {
                    o.data.dal.year() == anno
                }
            })
            .collect();
        let mut occupazioni = Vec::with_capacity(in_year.len());
        let (mut permanenti, mut temporanee, mut annuale) = (0_i64, 0_i64, 0_i64);
        let mut proprie = Vec::new();
        for o in in_year {
            // A temporary occupation, and a permanent one in the year it
            // begins (the regolamenti: the first year's canone at the
            // release of the concession), pay by a notice of their own due
            // on their first day; the others by the yearly bill.
            let versamento =
                (!o.data.permanente || o.data.dal.year() == anno).then(|| temporanea_code(&o));
            let (calcolo, nota) = match &tariffe {
                None => (None, None),
                Some(t) => {
                    let d = &o.data;
                    match t.occupazione(
                        &d.descrizione,
                        &d.zona,
                        &d.categoria,
                        d.permanente,
                        d.superficie_cm2,
                        d.dal,
                        d.al,
                    ) {
                        Ok(occ) => (
                            Some(
                                canone::calcola(&occ, anno, abitanti)
                                    .map_err(|e| ServiceError::invalid(&e))?,
                            ),
                            None,
                        ),
                        Err(nota) => (None, Some(nota)),
                    }
                }
            };
            if let Some(c) = &calcolo {
                if o.data.permanente {
                    permanenti += c.importo.cents();
                } else {
                    temporanee += c.importo.cents();
                }
                match &versamento {
                    None => annuale += c.importo.cents(),
                    Some(v) if c.importo > Cents::ZERO => proprie.push(RataCanone {
                        versamento: v.clone(),
                        etichetta: if o.data.permanente {
                            format!(
                                "Occupazione permanente {} ({}), primo anno",
                                o.data.codice, o.data.descrizione
                            )
                        } else {
                            format!(
                                "Occupazione temporanea {} ({})",
                                o.data.codice, o.data.descrizione
                            )
                        },
                        scadenza: o.data.dal,
                        importo: c.importo,
                    }),
                    Some(_) => {}
                }
            }
            occupazioni.push(OccupazioneCalcolata {
                occupazione: o,
                calcolo,
                nota,
                versamento,
            });
        }
        let permanenti = Cents::from_cents(permanenti);
        let annuale = Cents::from_cents(annuale);
        let mut rate: Vec<RataCanone> = match &tariffe {
            Some(t) if annuale > Cents::ZERO => {
                let n = t.scadenze.len();
                split(annuale, n)
                    .into_iter()
                    .zip(&t.scadenze)
                    .enumerate()
                    .map(|(i, (importo, scadenza))| RataCanone {
                        versamento: if n == 1 {
                            "unica".into()
                        } else {
                            format!("rata-{}", i + 1)
                        },
                        etichetta: if n == 1 {
                            "Occupazioni permanenti, rata unica".into()
                        } else {
                            format!("Occupazioni permanenti, rata {} di {n}", i + 1)
                        },
                        scadenza: *scadenza,
                        importo,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        rate.extend(proprie);
        rate.sort_by_key(|r| r.scadenza);
        let avvisi: Vec<Avviso> = self
            .db()
            .avvisi_of(tenant, &codice_fiscale)
            .await?
            .into_iter()
            .filter(|a| {
                a.data.tributo == TRIBUTO_CANONE
                    && a.data.anno == anno
                    && a.stato != StatoAvviso::Annullato
            })
            .collect();
        let dovuti: Vec<Dovuto> = rate
            .iter()
            .map(|r| Dovuto {
                etichetta: r.etichetta.clone(),
                scadenza: r.scadenza,
                importo: r.importo,
                gruppo: Some(bill_of(&r.versamento).to_owned()),
            })
            .collect();
        // The canone is paid through pagoPA only: no F24 lines. A notice
        // paid covers its own bill first.
        let pagamenti: Vec<_> = self
            .payments_of(tenant, &codice_fiscale, anno, &[], &avvisi)
            .await?
            .into_iter()
            .map(|p| Pagamento {
                gruppo: p.gruppo.as_deref().map(|g| bill_of(g).to_owned()),
                ..p
            })
            .collect();
        let mut situazione = situazione::situazione(
            &dovuti,
            &pagamenti,
            palazzo_domain::calendar::rome_date(jiff::Timestamp::now()),
            &palazzo_domain::calendar::Calendar::new(),
        );
        // The canone is no tax: no ravvedimento operoso (D.Lgs. 472/1997
        // art. 13 is for tributi); its late-payment charges are the
        // regolamento's (c.821), applied by the office. What is past due is
        // the amount itself.
        for r in &mut situazione.rate {
            r.ravvedimento = None;
        }
        situazione.da_versare_oggi = situazione.scaduto;
        Ok(PosizioneCanone {
            codice_fiscale,
            anno,
            tariffe,
            occupazioni,
            permanenti,
            temporanee: Cents::from_cents(temporanee),
            totale: Cents::from_cents(permanenti.cents() + temporanee),
            rate,
            avvisi,
            situazione,
        })
    }

    /// The canone coefficients of every year the comune entered, newest
    /// first. Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// As [`Actor::require`]; storage failures.
    pub async fn canone_tariffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<TariffeCanoneRecord>> {
        actor.require(Permission::ManageTaxes)?;
        Ok(self.db().tariffe_canone_all(tenant).await?)
    }

    /// Enters (or corrects) the canone coefficients of a year with their
    /// delibera, checked ([`TariffeCanone::valida`]), in one ledger event
    /// (`tributi.tariffe_canone` on `tariffe-canone:<anno>`). Saving the
    /// same coefficients again writes nothing. Needs
    /// [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// `delibera_mancante`; `anno_non_valido` (before 2021, when the
    /// canone began: c.816); `tributi_tariffe_canone` naming the problem.
    pub async fn set_canone_tariffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
        tariffe: TariffeCanone,
    ) -> ServiceResult<TariffeCanoneRecord> {
        actor.require(Permission::ManageTaxes)?;
        if tariffe.delibera.trim().is_empty() {
            return Err(ServiceError::refused(
                "delibera_mancante",
                "Indica la delibera che ha approvato i coefficienti (ad esempio «Delibera C.C. n. \
                 5 del 30/03/2026»).",
            ));
        }
        if !(2021..=2100).contains(&tariffe.anno) {
            return Err(ServiceError::refused(
                "anno_non_valido",
                "Il canone unico esiste dal 2021 (L. 160/2019 c.816): indica un anno dal 2021.",
            ));
        }
        tariffe.valida().map_err(|e| ServiceError::invalid(&e))?;
        let t = self.tenant(tenant)?;
        let record = TariffeCanoneRecord {
            tariffe: TariffeCanone {
                delibera: tariffe.delibera.trim().to_owned(),
                ..tariffe
            },
            updated_at: jiff::Timestamp::now(),
            updated_by: actor.who(),
        };
        if let Some(old) = self
            .db()
            .tariffe_canone(tenant, record.tariffe.anno)
            .await?
            && old.tariffe == record.tariffe
        {
            return Ok(old);
        }
        let mut tx = self.db().begin().await?;
        tx.set_tariffe_canone(tenant, &record).await?;
        crate::ledger::record(&mut tx, &t, EVENT_TARIFFE_CANONE, &record).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(
            tenant = tenant.0,
            anno = record.tariffe.anno,
            by = %record.updated_by,
            subject = %record.subject(),
            "canone unico coefficients saved"
        );
        Ok(record)
    }

    /// Loads an occupations file: good rows saved in transactions of
    /// [`BATCH_ROWS`] (matched by code, taxpayer and first day: a file
    /// loaded again replaces what it names), bad rows reported.
    pub(crate) async fn import_occupazioni(
        &self,
        tenant: TenantId,
        bytes: &[u8],
        progress: impl Fn(usize, usize),
    ) -> ServiceResult<TributiImportReport> {
        let parsed = occupazioni::parse_occupazioni(bytes)
            .map_err(|e| ServiceError::refused(e.code(), format!("File non importato: {e}.")))?;
        let rows: Vec<NewOccupazioneCanone> = parsed.rows.into_iter().map(|r| r.dati).collect();
        for (i, batch) in rows.chunks(BATCH_ROWS).enumerate() {
            let mut tx = self.db().begin().await?;
            for o in batch {
                tx.upsert_occupazione(tenant, o).await?;
            }
            tx.commit().await?;
            progress(i * BATCH_ROWS + batch.len(), rows.len());
        }
        Ok(TributiImportReport {
            kind: palazzo_domain::tributi::import::FileKind::Occupazioni,
            saved: rows.len(),
            already: 0,
            errors: parsed.errors,
        })
    }

    /// The canone bill of a taxpayer for `anno`, issued on first request
    /// (who may ask: as [`App::canone_position`]): with `occupazione`
    /// `None`, the permanent occupations' yearly canone (rata unica and
    /// instalments); with the `versamento` of a temporary occupation, its
    /// notice. Asking again gives the same notices; when the amounts
    /// changed and nothing was paid, the old notices are annulled and new
    /// ones issued; when nothing is due any more, they are annulled.
    ///
    /// # Errors
    /// `pagopa_non_configurato`, `tariffe_canone_mancanti`,
    /// `coefficienti_mancanti` (an occupation whose zone or category the
    /// coefficients lack), `nulla_da_versare`, `scadenza_passata`; 404 for
    /// an occupation that is not the taxpayer's; as
    /// [`App::canone_position`].
    pub async fn canone_avviso(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
        occupazione: Option<&str>,
    ) -> ServiceResult<Bolletta> {
        let p = self.canone_position(tenant, actor, cf, anno).await?;
        self.canone_bill(tenant, p, occupazione, &actor.who(), true)
            .await
    }

    /// The taxpayers with a permanent occupation in `anno`, by codice
    /// fiscale: who the year's bills go to. Needs
    /// [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// Storage failures.
    pub async fn canone_taxpayers(
        &self,
        tenant: TenantId,
        actor: &Actor,
        anno: i16,
    ) -> ServiceResult<Vec<CodiceFiscale>> {
        actor.require(Permission::ManageTaxes)?;
        let db = self.db();
        crate::tributi::all_taxpayers(|after| async move {
            db.contribuenti_canone(tenant, anno, &after, 5_000).await
        })
        .await
    }

    /// A taxpayer's yearly canone bill for the batch (`palazzo tributi
    /// avvisi --tax CANONE`): as [`App::canone_avviso`] for the tributi
    /// office, with the PDF only when `render`. Needs
    /// [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// As [`App::canone_avviso`].
    pub async fn canone_bill_for(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: &CodiceFiscale,
        anno: i16,
        render: bool,
    ) -> ServiceResult<Bolletta> {
        actor.require(Permission::ManageTaxes)?;
        let p = self.canone_position_of(tenant, cf.clone(), anno).await?;
        self.canone_bill(tenant, p, None, &actor.who(), render)
            .await
    }

    async fn canone_bill(
        &self,
        tenant: TenantId,
        p: PosizioneCanone,
        occupazione: Option<&str>,
        who: &str,
        render: bool,
    ) -> ServiceResult<Bolletta> {
        let t = self.tenant(tenant)?;
        let ente = self.pagopa_ente_or_refuse(tenant).await?;
        if p.tariffe.is_none() {
            return Err(ServiceError::refused(
                "tariffe_canone_mancanti",
                format!(
                    "Il Comune non ha ancora approvato i coefficienti del canone unico del {}: \
                     l'avviso non può essere emesso.",
                    p.anno
                ),
            ));
        }
        // The payments of the bill asked for, and the bill's notices.
        let (payments, label): (Vec<&RataCanone>, String) = match occupazione {
            None => {
                if let Some(nota) = p
                    .occupazioni
                    .iter()
                    .filter(|o| o.occupazione.data.permanente && o.versamento.is_none())
                    .find_map(|o| o.nota.clone())
                {
                    return Err(ServiceError::refused("coefficienti_mancanti", nota));
                }
                (
                    p.rate
                        .iter()
                        .filter(|r| !r.versamento.starts_with(TEMPORANEA))
                        .collect(),
                    format!("il canone unico {} delle occupazioni permanenti", p.anno),
                )
            }
            Some(v) => {
                let Some(o) = p
                    .occupazioni
                    .iter()
                    .find(|o| o.versamento.as_deref() == Some(v))
                else {
                    return Err(ServiceError::NotFound);
                };
                if let Some(nota) = &o.nota {
                    return Err(ServiceError::refused("coefficienti_mancanti", nota.clone()));
                }
                (
                    p.rate.iter().filter(|r| r.versamento == v).collect(),
                    format!(
                        "il canone dell'occupazione temporanea {}",
                        o.occupazione.data.codice
                    ),
                )
            }
        };
        let of_bill = |versamento: &str| match occupazione {
            None => !versamento.starts_with(TEMPORANEA),
            Some(v) => versamento == v,
        };
        // A notice of an occupation no longer billed on its own (deleted,
        // or now permanent and in the yearly bill) leaves pagoPA unless
        // paid: otherwise it would be asked twice.
        let orphans: Vec<Avviso> = p
            .avvisi
            .iter()
            .filter(|a| {
                a.stato == StatoAvviso::Emesso
                    && a.data.versamento.starts_with(TEMPORANEA)
                    && !p
                        .occupazioni
                        .iter()
                        .any(|o| o.versamento.as_deref() == Some(a.data.versamento.as_str()))
            })
            .cloned()
            .collect();
        if !orphans.is_empty() {
            self.issue(&t, &ente, orphans, &[]).await?;
        }
        let live: Vec<Avviso> = p
            .avvisi
            .iter()
            .filter(|a| of_bill(&a.data.versamento))
            .cloned()
            .collect();
        let paid = live.iter().any(|a| a.stato == StatoAvviso::Pagato);
        let total: i64 = payments.iter().map(|r| r.importo.cents()).sum();
        if total <= 0 {
            if !paid && !live.is_empty() {
                self.issue(&t, &ente, live, &[]).await?;
            }
            return Err(ServiceError::refused(
                "nulla_da_versare",
                format!("Per {label} non c'è nulla da versare."),
            ));
        }
        let new = |versamento: String, importo: Cents, scadenza| NewAvviso {
            codice_fiscale: p.codice_fiscale.clone(),
            tributo: TRIBUTO_CANONE.into(),
            anno: p.anno,
            versamento,
            importo,
            tefa: Cents::ZERO,
            scadenza,
            created_by: who.to_owned(),
        };
        let mut wanted: Vec<NewAvviso> = Vec::new();
        // An instalment of nothing (a few cents split over many due dates)
        // cannot be a pagoPA option: so small a bill is paid at once.
        let payable = payments.iter().all(|r| r.importo > Cents::ZERO);
        if let [only] = payments.as_slice() {
            wanted.push(new(only.versamento.clone(), only.importo, only.scadenza));
        } else if let Some(first) = payments.first()
            && !payable
        {
            wanted.push(new(
                "unica".into(),
                Cents::from_cents(total),
                first.scadenza,
            ));
        } else if let Some(first) = payments.first() {
            // The yearly canone in instalments: the rata unica of the whole
            // on the first due date, then each instalment.
            wanted.push(new(
                "unica".into(),
                Cents::from_cents(total),
                first.scadenza,
            ));
            for r in &payments {
                wanted.push(new(r.versamento.clone(), r.importo, r.scadenza));
            }
        }
        self.settle_bill(
            &t,
            &ente,
            &p.codice_fiscale,
            &label,
            live,
            &wanted,
            paid,
            render,
        )
        .await
    }
}
