//! TARI (issue 7; `taxes-pagopa.md` §2.2): the tariffs a comune approves
//! for a year (delibera, TEFA, due dates, reductions), a taxpayer's TARI
//! position computed from their utenze, and the bulk load of the utenze
//! (`palazzo tributi import`, `docs/tributi-import.md`).
//!
//! Who sees what is as for the IMU ([`App::imu_position`]): a citizen their
//! own position, the tributi office anyone's. The tariffs are a decision of
//! the council (L. 147/2013 c.683): each change is one ledger event
//! (`tributi.tariffe_tari`, subject `tariffe-tari:<anno>`), checked by
//! `palazzo verify`.

use palazzo_domain::access::Permission;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::situazione::{self, Dovuto, Pagamento, Situazione};
use palazzo_domain::tributi::tari::{self, CalcoloTari, RataTari, Riduzione, TariffeTari};
use palazzo_domain::tributi::{utenze, versamenti};
use palazzo_store::{
    Avviso, NewAvviso, NewUtenzaTari, Recorded, StatoAvviso, Store, StoreTx, TariffeTariRecord,
    TenantId, UtenzaTari, VersamentoF24,
};

use serde::Serialize;

use crate::access::Actor;
use crate::avvisi::Bolletta;
use crate::tributi::{BATCH_ROWS, TributiImportReport};
use crate::{App, ServiceError, ServiceResult};

/// The ledger event kind of a change of the TARI tariffs.
pub const EVENT_TARIFFE_TARI: &str = "tributi.tariffe_tari";

/// One utenza of a position with its computation for the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtenzaCalcolata {
    /// The utenza.
    pub utenza: UtenzaTari,
    /// Its TARI and TEFA for the days of the year it was occupied.
    pub calcolo: CalcoloTari,
}

/// A taxpayer's TARI for one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosizioneTari {
    /// The taxpayer, as asked.
    pub codice_fiscale: CodiceFiscale,
    /// The year.
    pub anno: i16,
    /// The comune's tariffs of the year; `None` until it enters them (the
    /// position then has no figures).
    pub tariffe: Option<TariffeTari>,
    /// The utenze occupied at some time of the year, each computed.
    pub utenze: Vec<UtenzaCalcolata>,
    /// The year's TARI (sum of the utenze).
    pub tari: Cents,
    /// The year's TEFA.
    pub tefa: Cents,
    /// TARI + TEFA.
    pub totale: Cents,
    /// The instalments of the bill: the year's TARI and TEFA split over the
    /// tariffs' due dates, the cents that do not divide on the first.
    pub rate: Vec<RataTari>,
    /// The pagoPA notices of the year's TARI (not the annulled ones),
    /// oldest first.
    pub avvisi: Vec<Avviso>,
    /// What was paid (F24 lines of TARI and TEFA, paid notices) and what
    /// remains, instalment by instalment, with the ravvedimento of what is
    /// past due.
    pub situazione: Situazione,
}

impl PosizioneTari {
    /// What was paid of the year's TARI and TEFA.
    #[must_use]
    pub fn pagato(&self) -> Cents {
        self.situazione.pagato
    }

    /// What remains to pay.
    #[must_use]
    pub fn residuo(&self) -> Cents {
        self.situazione.residuo
    }
}

/// The reductions of `codici` the tariffs define, and a note for each
/// they do not.
fn riduzioni_of(tariffe: &TariffeTari, codici: &[String]) -> (Vec<Riduzione>, Vec<String>) {
    let mut found = Vec::new();
    let mut notes = Vec::new();
    for c in codici {
        match tariffe.riduzione(c) {
            Some(r) => found.push(r.clone()),
            None => notes.push(format!(
                "La riduzione «{c}» non è prevista dalle tariffe del {}: non applicata \
                 (rivolgiti all'ufficio tributi)",
                tariffe.anno
            )),
        }
    }
    (found, notes)
}

impl App {
    /// The payments of a taxpayer's tax year: the F24 lines of `taxes`'
    /// codes that are tax (not an accertamento's interest or sanctions),
    /// and the pagoPA notices of `avvisi` that were paid.
    pub(crate) async fn payments_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
        anno: i16,
        taxes: &[&str],
        avvisi: &[Avviso],
    ) -> ServiceResult<Vec<Pagamento>> {
        let mut out: Vec<Pagamento> = self
            .db()
            .versamenti_of(tenant, cf, anno)
            .await?
            .into_iter()
            .filter(|v| {
                versamenti::tributo_of(&v.codice_tributo)
                    .is_some_and(|(t, tax)| tax && taxes.contains(&t))
            })
            .map(|v| Pagamento {
                data: v.data,
                importo: v.importo,
                ravvedimento: v.ravvedimento,
                fonte: format!("F24, codice tributo {}", v.codice_tributo),
                gruppo: None,
            })
            .collect();
        out.extend(
            avvisi
                .iter()
                .filter(|a| a.stato == StatoAvviso::Pagato)
                .map(|a| Pagamento {
                    data: a
                        .pagato_il
                        .map_or(a.data.scadenza, palazzo_domain::calendar::rome_date),
                    importo: a.data.importo,
                    ravvedimento: false,
                    fonte: format!("pagoPA, avviso n. {}", a.codice_avviso.printed()),
                    gruppo: Some(a.data.versamento.clone()),
                }),
        );
        Ok(out)
    }

    /// The TARI of a taxpayer for `anno` (L. 147/2013 cc.639-705, DPR
    /// 158/1999): each utenza occupied in the year computed for its days
    /// with the comune's tariffs and the reductions it has, TEFA on top,
    /// the bill's instalments on the tariffs' due dates. Who may ask: as
    /// [`App::imu_position`].
    ///
    /// # Errors
    /// As [`App::imu_position`]; `tributi_categoria_tari` for a utenza of a
    /// category the tariffs do not price.
    pub async fn tari_position(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
    ) -> ServiceResult<PosizioneTari> {
        let codice_fiscale = self.taxpayer(tenant, actor, cf).await?;
        self.tari_position_of(tenant, codice_fiscale, anno).await
    }

    /// [`App::tari_position`] once the taxpayer is known.
    pub(crate) async fn tari_position_of(
        &self,
        tenant: TenantId,
        codice_fiscale: CodiceFiscale,
        anno: i16,
    ) -> ServiceResult<PosizioneTari> {
        let (first, last) = match (
            jiff::civil::Date::new(anno, 1, 1),
            jiff::civil::Date::new(anno, 12, 31),
        ) {
            (Ok(f), Ok(l)) => (f, l),
            _ => {
                return Err(ServiceError::refused(
                    "anno_non_valido",
                    format!("L'anno {anno} non è valido."),
                ));
            }
        };
        let tariffe = self
            .db()
            .tariffe_tari(tenant, anno)
            .await?
            .map(|r| r.tariffe);
        let in_year: Vec<UtenzaTari> = self
            .db()
            .utenze_tari_of(tenant, &codice_fiscale)
            .await?
            .into_iter()
            .filter(|u| u.data.dal <= last && u.data.al.is_none_or(|al| al >= first))
            .collect();
        let mut utenze = Vec::with_capacity(in_year.len());
        let (mut tari_sum, mut tefa_sum) = (0_i64, 0_i64);
        if let Some(t) = &tariffe {
            for u in in_year {
                let (riduzioni, notes) = riduzioni_of(t, &u.data.riduzioni);
                let mut calcolo =
                    tari::calcola(&u.data.utenza, u.data.dal, u.data.al, t, &riduzioni)
                        .map_err(|e| ServiceError::invalid(&e))?;
                calcolo.passaggi.extend(notes);
                tari_sum += calcolo.tari.cents();
                tefa_sum += calcolo.tefa.cents();
                utenze.push(UtenzaCalcolata { utenza: u, calcolo });
            }
        }
        let (tari, tefa) = (Cents::from_cents(tari_sum), Cents::from_cents(tefa_sum));
        let rate = match &tariffe {
            Some(t) if tari_sum > 0 => {
                let n = t.scadenze.len();
                tari::split(tari, n)
                    .into_iter()
                    .zip(tari::split(tefa, n))
                    .zip(&t.scadenze)
                    .enumerate()
                    .map(|(i, ((tari, tefa), scadenza))| RataTari {
                        numero: u8::try_from(i + 1).unwrap_or(u8::MAX),
                        scadenza: *scadenza,
                        tari,
                        tefa,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let avvisi: Vec<Avviso> = self
            .db()
            .avvisi_of(tenant, &codice_fiscale)
            .await?
            .into_iter()
            .filter(|a| {
                a.data.tributo == "TARI" && a.data.anno == anno && a.stato != StatoAvviso::Annullato
            })
            .collect();
        let n = rate.len();
        let dovuti: Vec<Dovuto> = rate
            .iter()
            .map(|r| Dovuto {
                etichetta: if n == 1 {
                    "Rata unica".into()
                } else {
                    format!("Rata {} di {n}", r.numero)
                },
                scadenza: r.scadenza,
                importo: Cents::from_cents(r.tari.cents() + r.tefa.cents()),
                gruppo: None,
            })
            .collect();
        let pagamenti = self
            .payments_of(tenant, &codice_fiscale, anno, &["TARI", "TEFA"], &avvisi)
            .await?;
        let situazione = situazione::situazione(
            &dovuti,
            &pagamenti,
            palazzo_domain::calendar::rome_date(jiff::Timestamp::now()),
            &palazzo_domain::calendar::Calendar::new(),
        );
        Ok(PosizioneTari {
            situazione,
            codice_fiscale,
            anno,
            tariffe,
            utenze,
            tari,
            tefa,
            totale: Cents::from_cents(tari_sum + tefa_sum),
            rate,
            avvisi,
        })
    }

    /// The TARI tariffs of every year the comune entered, newest first.
    /// Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// As [`Actor::require`]; storage failures.
    pub async fn tari_tariffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<TariffeTariRecord>> {
        actor.require(Permission::ManageTaxes)?;
        Ok(self.db().tariffe_tari_all(tenant).await?)
    }

    /// Enters (or corrects) the TARI tariffs of a year with their
    /// delibera, checked ([`TariffeTari::valida`]), in one ledger event.
    /// Saving the same tariffs again writes nothing. Needs
    /// [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// `delibera_mancante`; `tributi_tariffe_tari` naming the problem.
    pub async fn set_tari_tariffs(
        &self,
        tenant: TenantId,
        actor: &Actor,
        tariffe: TariffeTari,
    ) -> ServiceResult<TariffeTariRecord> {
        actor.require(Permission::ManageTaxes)?;
        if tariffe.delibera.trim().is_empty() {
            return Err(ServiceError::refused(
                "delibera_mancante",
                "Indica la delibera che ha approvato le tariffe (ad esempio «Delibera C.C. n. 10 \
                 del 28/03/2026»).",
            ));
        }
        if !(2014..=2100).contains(&tariffe.anno) {
            return Err(ServiceError::refused(
                "anno_non_valido",
                "La TARI esiste dal 2014 (L. 147/2013): indica un anno dal 2014.",
            ));
        }
        tariffe.valida().map_err(|e| ServiceError::invalid(&e))?;
        let t = self.tenant(tenant)?;
        let record = TariffeTariRecord {
            tariffe: TariffeTari {
                delibera: tariffe.delibera.trim().to_owned(),
                ..tariffe
            },
            updated_at: jiff::Timestamp::now(),
            updated_by: actor.who(),
        };
        if let Some(old) = self.db().tariffe_tari(tenant, record.tariffe.anno).await?
            && old.tariffe == record.tariffe
        {
            return Ok(old);
        }
        let mut tx = self.db().begin().await?;
        tx.set_tariffe_tari(tenant, &record).await?;
        crate::ledger::record(&mut tx, &t, EVENT_TARIFFE_TARI, &record).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(
            tenant = tenant.0,
            anno = record.tariffe.anno,
            by = %record.updated_by,
            subject = %record.subject(),
            "TARI tariffs saved"
        );
        Ok(record)
    }

    /// Loads a TARI utenze file: good rows saved in transactions of
    /// [`BATCH_ROWS`] (matched by code, taxpayer and first day: a file
    /// loaded again replaces what it names), bad rows reported.
    pub(crate) async fn import_utenze(
        &self,
        tenant: TenantId,
        bytes: &[u8],
        progress: impl Fn(usize, usize),
    ) -> ServiceResult<TributiImportReport> {
        let parsed = utenze::parse_utenze(bytes)
            .map_err(|e| ServiceError::refused(e.code(), format!("File non importato: {e}.")))?;
        let rows: Vec<NewUtenzaTari> = parsed
            .rows
            .into_iter()
            .map(|r| NewUtenzaTari {
                codice: r.codice,
                codice_fiscale: r.codice_fiscale,
                indirizzo: r.indirizzo,
                catasto: r.catasto,
                utenza: r.utenza,
                dal: r.dal,
                al: r.al,
                riduzioni: r.riduzioni,
            })
            .collect();
        for (i, batch) in rows.chunks(BATCH_ROWS).enumerate() {
            let mut tx = self.db().begin().await?;
            for u in batch {
                tx.upsert_utenza_tari(tenant, u).await?;
            }
            tx.commit().await?;
            progress(i * BATCH_ROWS + batch.len(), rows.len());
        }
        Ok(TributiImportReport {
            kind: palazzo_domain::tributi::import::FileKind::Utenze,
            saved: rows.len(),
            already: 0,
            errors: parsed.errors,
        })
    }

    /// Loads a payments file (F24 lines of the flows): each new reference
    /// stored, one already stored skipped (a flow loaded twice never
    /// counts a payment twice), bad rows reported.
    pub(crate) async fn import_versamenti(
        &self,
        tenant: TenantId,
        bytes: &[u8],
        progress: impl Fn(usize, usize),
    ) -> ServiceResult<TributiImportReport> {
        let parsed = versamenti::parse_versamenti(bytes)
            .map_err(|e| ServiceError::refused(e.code(), format!("File non importato: {e}.")))?;
        let rows: Vec<VersamentoF24> = parsed
            .rows
            .into_iter()
            .map(|r| VersamentoF24 {
                riferimento: r.riferimento,
                codice_fiscale: r.codice_fiscale,
                anno: r.anno,
                codice_tributo: r.codice_tributo,
                data: r.data,
                importo: r.importo,
                ravvedimento: r.ravvedimento,
            })
            .collect();
        let mut saved = 0;
        for (i, batch) in rows.chunks(BATCH_ROWS).enumerate() {
            let mut tx = self.db().begin().await?;
            for v in batch {
                if tx.insert_versamento(tenant, v).await? {
                    saved += 1;
                }
            }
            tx.commit().await?;
            progress(i * BATCH_ROWS + batch.len(), rows.len());
        }
        Ok(TributiImportReport {
            kind: palazzo_domain::tributi::import::FileKind::Versamenti,
            saved,
            already: rows.len() - saved,
            errors: parsed.errors,
        })
    }
}

/// The notices a position's bill must hold: the rata unica of the whole
/// amount on the first due date and, with two due dates or more, one
/// notice per instalment (`taxes-pagopa.md` §4.5: single payment plus
/// partial options), each with its TEFA share.
fn wanted(p: &PosizioneTari, who: &str) -> Vec<NewAvviso> {
    let Some(first) = p.rate.first() else {
        return Vec::new();
    };
    let new = |versamento: String, importo: Cents, tefa: Cents, scadenza| NewAvviso {
        codice_fiscale: p.codice_fiscale.clone(),
        tributo: "TARI".into(),
        anno: p.anno,
        versamento,
        importo,
        tefa,
        scadenza,
        created_by: who.to_owned(),
    };
    let mut out = vec![new("unica".into(), p.totale, p.tefa, first.scadenza)];
    // An instalment whose TARI or TEFA share is nothing cannot be a pagoPA
    // option with two transfers (each at least a cent): so small a bill
    // is paid at once.
    let payable = p
        .rate
        .iter()
        .all(|r| r.tari > Cents::ZERO && (p.tefa == Cents::ZERO || r.tefa > Cents::ZERO));
    if p.rate.len() >= 2 && payable {
        for r in &p.rate {
            out.push(new(
                format!("rata-{}", r.numero),
                Cents::from_cents(r.tari.cents() + r.tefa.cents()),
                r.tefa,
                r.scadenza,
            ));
        }
    }
    out
}

impl App {
    /// The TARI bill of a taxpayer for `anno`, issued on first request
    /// (who may ask: as [`App::tari_position`]): the pagoPA notices of the
    /// rata unica and of each instalment, TARI to the comune and TEFA to
    /// the province on each (Decreto MEF 21/10/2020), published on GPD as
    /// one position when the installation is connected. Asking again gives
    /// the same notices; when the amounts changed and nothing was paid, the
    /// old notices are annulled and new ones issued.
    ///
    /// # Errors
    /// `pagopa_non_configurato`, `tefa_non_configurata`,
    /// `tariffe_tari_mancanti`, `nulla_da_versare`, `scadenza_passata` (a
    /// new bill whose first due date is past); as [`App::tari_position`].
    pub async fn tari_avviso(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
    ) -> ServiceResult<Bolletta> {
        let p = self.tari_position(tenant, actor, cf, anno).await?;
        self.tari_bill(tenant, p, &actor.who(), true).await
    }

    /// The taxpayers with a utenza in `anno`, by codice fiscale: who the
    /// year's bills go to. Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// Storage failures.
    pub async fn tari_taxpayers(
        &self,
        tenant: TenantId,
        actor: &Actor,
        anno: i16,
    ) -> ServiceResult<Vec<CodiceFiscale>> {
        actor.require(Permission::ManageTaxes)?;
        let db = self.db();
        crate::tributi::all_taxpayers(|after| async move {
            db.contribuenti_tari(tenant, anno, &after, 5_000).await
        })
        .await
    }

    /// A taxpayer's TARI bill for the batch (`palazzo tributi avvisi`):
    /// as [`App::tari_avviso`] for the tributi office, with the PDF only
    /// when `render`. Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// As [`App::tari_avviso`].
    pub async fn tari_bill_for(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: &CodiceFiscale,
        anno: i16,
        render: bool,
    ) -> ServiceResult<Bolletta> {
        actor.require(Permission::ManageTaxes)?;
        let p = self.tari_position_of(tenant, cf.clone(), anno).await?;
        self.tari_bill(tenant, p, &actor.who(), render).await
    }

    async fn tari_bill(
        &self,
        tenant: TenantId,
        p: PosizioneTari,
        who: &str,
        render: bool,
    ) -> ServiceResult<Bolletta> {
        let t = self.tenant(tenant)?;
        let ente = self.pagopa_ente_or_refuse(tenant).await?;
        if p.tariffe.is_none() {
            return Err(ServiceError::refused(
                "tariffe_tari_mancanti",
                format!(
                    "Il Comune non ha ancora approvato le tariffe TARI del {}: l'avviso non può \
                     essere emesso.",
                    p.anno
                ),
            ));
        }
        let paid = p.situazione.pagato > Cents::ZERO
            || p.avvisi.iter().any(|a| a.stato == StatoAvviso::Pagato);
        if p.totale <= Cents::ZERO {
            // A bill issued before the data changed (a utenza closed back
            // in time) asks for nothing any more: its notices leave pagoPA.
            if !paid && !p.avvisi.is_empty() {
                self.issue(&t, &ente, p.avvisi.clone(), &[]).await?;
            }
            return Err(ServiceError::refused(
                "nulla_da_versare",
                format!("Per la TARI {} non c'è nulla da versare.", p.anno),
            ));
        }
        if p.tefa > Cents::ZERO && ente.tefa.is_none() {
            return Err(crate::avvisi::tefa_non_configurata());
        }
        let wanted = wanted(&p, who);
        let label = format!("la TARI {}", p.anno);
        self.settle_bill(
            &t,
            &ente,
            &p.codice_fiscale,
            &label,
            p.avvisi,
            &wanted,
            paid,
            render,
        )
        .await
    }
}

/// A year of the TASI (2014-2019), as the payments received show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnoTasi {
    /// The year.
    pub anno: i16,
    /// The F24 lines of the TASI codes (3958-3963) for it.
    pub versamenti: Vec<VersamentoF24>,
    /// Their total (tax codes only: 3958-3961).
    pub versato: Cents,
}

/// The years of the TASI: from 2014 (L. 147/2013 c.639) to 2019 (abolished
/// from 2020, L. 160/2019 c.738).
pub const ANNI_TASI: std::ops::RangeInclusive<i16> = 2014..=2019;

impl App {
    /// A taxpayer's TASI history (`taxes-pagopa.md` §2.1: years 2014-2019
    /// as read-only history, from the F24 flows the comune received): each
    /// year with payments, newest first. Who may ask: as
    /// [`App::imu_position`].
    ///
    /// # Errors
    /// As [`App::imu_position`]'s taxpayer checks.
    pub async fn tasi_history(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
    ) -> ServiceResult<(CodiceFiscale, Vec<AnnoTasi>)> {
        let cf = self.taxpayer(tenant, actor, cf).await?;
        let anni = self.tasi_history_of(tenant, &cf).await?;
        Ok((cf, anni))
    }

    /// [`App::tasi_history`] once the taxpayer is known: one read of the
    /// payments of the years 2014-2019.
    pub(crate) async fn tasi_history_of(
        &self,
        tenant: TenantId,
        cf: &CodiceFiscale,
    ) -> ServiceResult<Vec<AnnoTasi>> {
        let mut out: Vec<AnnoTasi> = Vec::new();
        let lines = self
            .db()
            .versamenti_anni(tenant, cf, *ANNI_TASI.start(), *ANNI_TASI.end())
            .await?;
        // Newest year first.
        for v in lines.into_iter().rev() {
            let Some((tributo, tax)) = versamenti::tributo_of(&v.codice_tributo) else {
                continue;
            };
            if tributo != "TASI" {
                continue;
            }
            if out.last().is_none_or(|a| a.anno != v.anno) {
                out.push(AnnoTasi {
                    anno: v.anno,
                    versamenti: Vec::new(),
                    versato: Cents::ZERO,
                });
            }
            if let Some(a) = out.last_mut() {
                if tax {
                    a.versato = Cents::from_cents(a.versato.cents() + v.importo.cents());
                }
                a.versamenti.push(v);
            }
        }
        // Each year's lines by date, as they were paid.
        for a in &mut out {
            a.versamenti.reverse();
        }
        Ok(out)
    }
}
