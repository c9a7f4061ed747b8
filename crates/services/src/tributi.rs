//! Local taxes (issue 7): a taxpayer's IMU position computed from the
//! comune's cadastral units, titolarità and rates; the rates of each year
//! with their delibera; the bulk load of units and titolarità
//! (`palazzo tributi import`, `docs/tributi-import.md`).
//!
//! Who sees what: a signed-in citizen sees their own position (matched by
//! the codice fiscale of their SPID/CIE identity, exactly: an omocodic code
//! is another person than the code it derives from);
//! the funzionario responsabile ([`Permission::ManageTaxes`]) sees any
//! taxpayer's, loads the data and enters the rates. The rates are a
//! decision of the council (L. 160/2019 c.757, the prospetto delle
//! aliquote): each change is a ledger event checked by `palazzo verify`.

use std::collections::BTreeMap;

use palazzo_domain::access::Permission;
use palazzo_domain::csv::RowError;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::tributi::f24::{self, Versamento};
use palazzo_domain::tributi::import::{self, FileKind};
use palazzo_domain::tributi::imu::{self, Aliquote, CalcoloImu, Immobile};
use palazzo_domain::tributi::situazione::Dovuto;
use palazzo_store::{
    AliquoteImuRecord, NewTitolarita, NewUnita, Recorded, Store, StoreTx, TenantId, Titolarita,
    Unita,
};

use crate::access::Actor;
use crate::{App, ServiceError, ServiceResult};

/// Units or titolarità per transaction of an import.
pub const BATCH_ROWS: usize = 2_000;

/// The ledger event kind of a change of the IMU rates.
pub const EVENT_ALIQUOTE_IMU: &str = "tributi.aliquote_imu";

/// A taxpayer's IMU for one year, with what it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosizioneImu {
    /// The taxpayer, as asked.
    pub codice_fiscale: CodiceFiscale,
    /// The year.
    pub anno: i16,
    /// The units the taxpayer held at some time, with their titolarità.
    pub unita: Vec<(Unita, Vec<Titolarita>)>,
    /// The rates of the year used for the saldo.
    pub aliquote: Aliquote,
    /// The comune has not entered the year's rates: the law's base rates
    /// were used (and the figures are an estimate).
    pub aliquote_di_base: bool,
    /// The computation, with its working.
    pub calcolo: CalcoloImu,
    /// The pagoPA notices of the year's IMU issued to the taxpayer (not
    /// the annulled ones), oldest first.
    pub avvisi: Vec<palazzo_store::Avviso>,
    /// What was paid (F24 lines of the flows, paid notices) and what
    /// remains of the acconto and the saldo, with the ravvedimento of what
    /// is past due.
    pub situazione: palazzo_domain::tributi::situazione::Situazione,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TributiImportReport {
    /// Which file it was.
    pub kind: FileKind,
    /// Rows saved (new or replaced).
    pub saved: usize,
    /// Payments already loaded before (the same reference): not counted
    /// again.
    pub already: usize,
    /// The refused rows, by line.
    pub errors: Vec<RowError>,
}

/// A pre-filled F24 and whose it is.
#[derive(Debug, Clone)]
pub struct F24File {
    /// The taxpayer.
    pub codice_fiscale: CodiceFiscale,
    /// The PDF.
    pub pdf: Vec<u8>,
}

fn file_error(e: &import::FileError) -> ServiceError {
    ServiceError::refused(e.code(), format!("File non importato: {e}."))
}

/// The units of `titoli` as the calculator's objects: one per unit, with
/// every possession period and situation the taxpayer has on it.
#[must_use]
pub fn immobili(unita: &[(Unita, Vec<Titolarita>)]) -> Vec<Immobile> {
    unita
        .iter()
        .map(|(u, titoli)| Immobile {
            id: u.data.codice.clone(),
            descrizione: u.descrizione(),
            oggetto: u.data.oggetto.clone(),
            possessi: titoli.iter().map(|t| t.data.possesso).collect(),
            periodi: titoli
                .iter()
                .flat_map(|t| t.data.periodi.iter().copied())
                .collect(),
        })
        .collect()
}

/// A taxpayer's local taxes of a year at once (the visura): the IMU, the
/// TARI and the canone unico of the year — the last two with their own
/// outcome, so that one that cannot be computed does not hide the others —
/// and the TASI history.
#[derive(Debug)]
pub struct Visura {
    /// The taxpayer.
    pub codice_fiscale: CodiceFiscale,
    /// The IMU.
    pub imu: PosizioneImu,
    /// The TARI, or why it cannot be computed.
    pub tari: ServiceResult<crate::tari::PosizioneTari>,
    /// The canone unico, or why it cannot be computed.
    pub canone: ServiceResult<crate::canone::PosizioneCanone>,
    /// The TASI years with payments, newest first.
    pub tasi: Vec<crate::tari::AnnoTasi>,
}

/// Every taxpayer a paged query lists (`page(after)`: the next codici
/// fiscali above `after`, in order; empty at the end).
pub(crate) async fn all_taxpayers<F, Fut>(page: F) -> ServiceResult<Vec<CodiceFiscale>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = palazzo_store::Result<Vec<CodiceFiscale>>>,
{
    let mut out: Vec<CodiceFiscale> = Vec::new();
    loop {
        let after = out.last().map_or(String::new(), |c| c.as_str().to_owned());
        let next = page(after).await?;
        if next.is_empty() {
            return Ok(out);
        }
        out.extend(next);
    }
}

impl App {
    /// Whose taxes `actor` asks for: anyone's for the tributi office
    /// (`cf` required), their own for a signed-in citizen (`cf`, when
    /// given, must be theirs).
    pub(crate) async fn taxpayer(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
    ) -> ServiceResult<CodiceFiscale> {
        if actor.principal.can(Permission::ManageTaxes) {
            return cf.cloned().ok_or_else(|| {
                ServiceError::refused(
                    "codice_fiscale_mancante",
                    "Indica il codice fiscale del contribuente.",
                )
            });
        }
        actor.require(Permission::OwnProfile)?;
        let user = self
            .db()
            .user(tenant, actor.require_user()?)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let own = user.data.codice_fiscale.ok_or_else(|| {
            ServiceError::refused(
                "codice_fiscale_assente",
                "Per vedere la tua posizione tributaria accedi con SPID o CIE.",
            )
        })?;
        match cf {
            // Exactly: an omocodic code is another person.
            Some(cf) if *cf != own => Err(ServiceError::Forbidden),
            _ => Ok(own),
        }
    }

    /// The rates of `anno` (the law's base rates, and `true`, when the
    /// comune entered none) and of the year before, for the acconto (c.762).
    async fn rates_for(
        &self,
        tenant: TenantId,
        anno: i16,
    ) -> ServiceResult<(Aliquote, bool, Option<Aliquote>)> {
        let (aliquote, di_base) = match self.db().aliquote_imu(tenant, anno).await? {
            Some(r) => (r.aliquote, false),
            None => (Aliquote::di_base(anno), true),
        };
        let precedenti = self
            .db()
            .aliquote_imu(tenant, anno - 1)
            .await?
            .map(|r| r.aliquote);
        Ok((aliquote, di_base, precedenti))
    }

    /// The IMU of a taxpayer for `anno` (L. 160/2019 cc.738-783): their
    /// units and titolarità, the comune's rates of the year (the law's
    /// base rates when none were entered) and of the year before for the
    /// acconto (c.762), computed with the working.
    ///
    /// # Errors
    /// `codice_fiscale_mancante` (office without a taxpayer),
    /// `codice_fiscale_assente` (a citizen signed in without one),
    /// [`ServiceError::Forbidden`] for another taxpayer's position; the
    /// calculator's errors (`tributi_anno` before 2020).
    pub async fn imu_position(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
    ) -> ServiceResult<PosizioneImu> {
        let codice_fiscale = self.taxpayer(tenant, actor, cf).await?;
        self.imu_position_of(tenant, codice_fiscale, anno).await
    }

    /// A taxpayer's IMU, TARI and canone unico of `anno` and TASI history
    /// (who may ask: as [`App::imu_position`]), the taxpayer resolved
    /// once.
    ///
    /// # Errors
    /// As [`App::imu_position`].
    pub async fn visura(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
    ) -> ServiceResult<Visura> {
        let codice_fiscale = self.taxpayer(tenant, actor, cf).await?;
        let imu = self
            .imu_position_of(tenant, codice_fiscale.clone(), anno)
            .await?;
        let tari = self
            .tari_position_of(tenant, codice_fiscale.clone(), anno)
            .await;
        let canone = self
            .canone_position_of(tenant, codice_fiscale.clone(), anno)
            .await;
        let tasi = self.tasi_history_of(tenant, &codice_fiscale).await?;
        Ok(Visura {
            codice_fiscale,
            imu,
            tari,
            canone,
            tasi,
        })
    }

    /// [`App::imu_position`] once the taxpayer is known.
    pub(crate) async fn imu_position_of(
        &self,
        tenant: TenantId,
        codice_fiscale: CodiceFiscale,
        anno: i16,
    ) -> ServiceResult<PosizioneImu> {
        imu::Regole::di(anno).map_err(|e| ServiceError::invalid(&e))?;
        let titoli = self.db().titolarita_of(tenant, &codice_fiscale).await?;
        let mut by_unit: BTreeMap<i64, Vec<Titolarita>> = BTreeMap::new();
        for t in titoli {
            by_unit.entry(t.data.unita.0).or_default().push(t);
        }
        let mut unita = Vec::with_capacity(by_unit.len());
        for (id, titoli) in by_unit {
            let u = self
                .db()
                .tributi_unita(tenant, palazzo_store::UnitaId(id))
                .await?
                .ok_or_else(|| {
                    ServiceError::Internal(format!("titolarità of missing unit {id}"))
                })?;
            unita.push((u, titoli));
        }
        let (aliquote, aliquote_di_base, precedenti) = self.rates_for(tenant, anno).await?;
        let mut calcolo = imu::calcola(anno, &immobili(&unita), &aliquote, precedenti.as_ref())
            .map_err(|e| ServiceError::invalid(&e))?;
        if aliquote_di_base {
            calcolo.note.insert(
                0,
                format!(
                    "Il Comune non ha ancora pubblicato le aliquote del {anno}: il calcolo usa le \
                     aliquote di base della legge (L. 160/2019 cc. 748-754) ed è una stima."
                ),
            );
        }
        let avvisi: Vec<palazzo_store::Avviso> = self
            .db()
            .avvisi_of(tenant, &codice_fiscale)
            .await?
            .into_iter()
            .filter(|a| {
                a.data.tributo == "IMU"
                    && a.data.anno == anno
                    && a.stato != palazzo_store::StatoAvviso::Annullato
            })
            .collect();
        // The acconto and the saldo as the F24 pays them (whole euro per
        // line, c.166); nothing below the minimum.
        let (acc, sal) = imu::scadenze(anno);
        let dovuti: Vec<Dovuto> = if calcolo.sotto_minimo {
            Vec::new()
        } else {
            [
                ("Acconto", acc, calcolo.acconto),
                ("Saldo", sal, calcolo.saldo),
            ]
            .into_iter()
            .filter(|(_, _, c)| *c > palazzo_domain::money::Cents::ZERO)
            .map(|(etichetta, scadenza, importo)| Dovuto {
                etichetta: etichetta.into(),
                scadenza,
                importo,
                gruppo: None,
            })
            .collect()
        };
        let pagamenti = self
            .payments_of(tenant, &codice_fiscale, anno, &["IMU"], &avvisi)
            .await?;
        let situazione = palazzo_domain::tributi::situazione::situazione(
            &dovuti,
            &pagamenti,
            palazzo_domain::calendar::rome_date(jiff::Timestamp::now()),
            &palazzo_domain::calendar::Calendar::new(),
        );
        Ok(PosizioneImu {
            situazione,
            codice_fiscale,
            anno,
            unita,
            aliquote,
            aliquote_di_base,
            calcolo,
            avvisi,
        })
    }

    /// The F24 semplificato of a taxpayer's IMU payment of `anno`
    /// (acconto, saldo or the whole year at once), pre-filled with the
    /// taxpayer, one line per codice tributo with the comune's codice
    /// catastale, the boxes, the number of properties and the amount in
    /// whole euro (`taxes-pagopa.md` §5.1). Who may ask: as
    /// [`App::imu_position`].
    ///
    /// # Errors
    /// `nulla_da_versare` when the payment is nothing (or the year is
    /// below the minimum); as [`App::imu_position`].
    pub async fn imu_f24(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cf: Option<&CodiceFiscale>,
        anno: i16,
        versamento: Versamento,
    ) -> ServiceResult<F24File> {
        let p = self.imu_position(tenant, actor, cf, anno).await?;
        let t = self.tenant(tenant)?;
        let righi = f24::da_imu(&p.calcolo, versamento, t.data.codice_catastale.as_str());
        if p.calcolo.sotto_minimo || righi.is_empty() {
            return Err(ServiceError::refused(
                "nulla_da_versare",
                format!(
                    "Per l'IMU {anno} ({}) non c'è nulla da versare.",
                    versamento.label().to_lowercase()
                ),
            ));
        }
        // The name as the register or the identity provider knows it.
        let (cognome, nome) = match self.db().resident(tenant, &p.codice_fiscale).await? {
            Some(r) => (r.surname, Some(r.name)),
            None => match actor.user {
                Some(u) if !actor.principal.can(Permission::ManageTaxes) => {
                    match self.db().user(tenant, u).await? {
                        Some(u) => (u.data.family_name, Some(u.data.given_name)),
                        None => (String::new(), None),
                    }
                }
                _ => (String::new(), None),
            },
        };
        let form = palazzo_pdf::f24::F24 {
            contribuente: palazzo_pdf::f24::Contribuente {
                codice_fiscale: p.codice_fiscale.as_str().to_owned(),
                cognome,
                nome,
                nascita: None,
            },
            identificativo_operazione: None,
            righi: righi
                .iter()
                .map(|r| palazzo_pdf::f24::Rigo {
                    sezione: r.sezione.to_owned(),
                    codice_tributo: r.codice_tributo.clone(),
                    codice_ente: r.codice_ente.clone(),
                    ravvedimento: r.ravvedimento,
                    immobili_variati: r.immobili_variati,
                    acconto: r.acconto,
                    saldo: r.saldo,
                    numero_immobili: r.numero_immobili,
                    rateazione: String::new(),
                    anno: r.anno,
                    detrazione: r.detrazione.cents().unsigned_abs(),
                    debito: r.importo.cents().unsigned_abs(),
                    credito: 0,
                })
                .collect(),
        };
        let info = palazzo_pdf::Info {
            title: format!("F24 IMU {anno} — {}", versamento.label()),
            subject: format!("Modello F24 semplificato precompilato, IMU {anno}"),
            author: t.data.name.clone(),
            language: "it-IT".into(),
            created: jiff::Timestamp::now(),
        };
        let pdf = palazzo_pdf::f24::render(&form, &info)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(F24File {
            codice_fiscale: p.codice_fiscale,
            pdf,
        })
    }

    /// The anonymous IMU calculator of the portal (issue 7, part 2): one
    /// building held from 1 January for `mesi` months with `quota`, in an
    /// optional situation, at the comune's rates of `anno` (the law's base
    /// rates when none were entered, said in a note) and of the year before
    /// for the acconto. Nothing is stored; anyone may use it.
    ///
    /// # Errors
    /// `mesi_non_validi` (not 1–12); the calculator's errors
    /// (`tributi_anno`, …).
    pub async fn imu_calculator(
        &self,
        tenant: TenantId,
        anno: i16,
        oggetto: imu::Oggetto,
        quota: palazzo_domain::tributi::Quota,
        mesi: u8,
        condizione: Option<imu::Condizione>,
    ) -> ServiceResult<(CalcoloImu, bool)> {
        imu::Regole::di(anno).map_err(|e| ServiceError::invalid(&e))?;
        if !(1..=12).contains(&mesi) {
            return Err(ServiceError::refused(
                "mesi_non_validi",
                "I mesi di possesso vanno da 1 a 12.",
            ));
        }
        let dal = jiff::civil::date(anno, 1, 1);
        let al = jiff::civil::date(anno, i8::try_from(mesi).unwrap_or(12), 1).last_of_month();
        let immobile = Immobile {
            id: "calcolo".into(),
            descrizione: "L'immobile indicato".into(),
            oggetto,
            possessi: vec![imu::Possesso {
                dal,
                al: Some(al),
                quota,
            }],
            periodi: condizione
                .map(|c| imu::Periodo {
                    dal,
                    al: Some(al),
                    condizione: c,
                })
                .into_iter()
                .collect(),
        };
        let (aliquote, di_base, precedenti) = self.rates_for(tenant, anno).await?;
        let calcolo = imu::calcola(anno, &[immobile], &aliquote, precedenti.as_ref())
            .map_err(|e| ServiceError::invalid(&e))?;
        Ok((calcolo, di_base))
    }

    /// The IMU rates of every year the comune entered, newest first.
    /// Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// As [`Actor::require`]; storage failures.
    pub async fn imu_rates(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<AliquoteImuRecord>> {
        actor.require(Permission::ManageTaxes)?;
        Ok(self.db().aliquote_imu_all(tenant).await?)
    }

    /// Enters (or corrects) the IMU rates of a year with their delibera,
    /// checked against the ranges of the law (cc.748-755), in one ledger
    /// event. Saving the same rates again writes nothing. Needs
    /// [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// `delibera_mancante`; `tributi_anno` before 2020; the range errors
    /// of [`Aliquote::valida`].
    pub async fn set_imu_rates(
        &self,
        tenant: TenantId,
        actor: &Actor,
        aliquote: Aliquote,
    ) -> ServiceResult<AliquoteImuRecord> {
        actor.require(Permission::ManageTaxes)?;
        if aliquote.delibera.trim().is_empty() {
            return Err(ServiceError::refused(
                "delibera_mancante",
                "Indica la delibera che ha approvato le aliquote (ad esempio «Delibera C.C. n. 12 \
                 del 28/03/2026»).",
            ));
        }
        imu::Regole::di(aliquote.anno).map_err(|e| ServiceError::invalid(&e))?;
        aliquote.valida().map_err(|e| ServiceError::invalid(&e))?;
        let t = self.tenant(tenant)?;
        let record = AliquoteImuRecord {
            aliquote: Aliquote {
                delibera: aliquote.delibera.trim().to_owned(),
                ..aliquote
            },
            updated_at: jiff::Timestamp::now(),
            updated_by: actor.who(),
        };
        if let Some(old) = self.db().aliquote_imu(tenant, record.aliquote.anno).await?
            && old.aliquote == record.aliquote
        {
            return Ok(old);
        }
        let mut tx = self.db().begin().await?;
        tx.set_aliquote_imu(tenant, &record).await?;
        crate::ledger::record(&mut tx, &t, EVENT_ALIQUOTE_IMU, &record).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(
            tenant = tenant.0,
            anno = record.aliquote.anno,
            by = %record.updated_by,
            subject = %record.subject(),
            "IMU rates saved"
        );
        Ok(record)
    }

    /// Loads a units, titolarità or TARI utenze file (`docs/tributi-import.md`; the kind
    /// is told by its header): good rows are saved in transactions of
    /// [`BATCH_ROWS`], bad ones reported. Units are matched by their code,
    /// titolarità by unit, taxpayer and first day: loading a file again
    /// replaces what it names and keeps the rest. `progress(done, total)`
    /// is called after each transaction. Needs [`Permission::ManageTaxes`].
    ///
    /// # Errors
    /// A file of neither kind (`intestazione_non_riconosciuta`,
    /// `file_non_utf8`, `file_vuoto`); storage failures (the transactions
    /// committed before stay: running the file again completes it).
    pub async fn import_tributi(
        &self,
        tenant: TenantId,
        actor: &Actor,
        bytes: &[u8],
        progress: impl Fn(usize, usize),
    ) -> ServiceResult<TributiImportReport> {
        actor.require(Permission::ManageTaxes)?;
        let kind = import::file_kind(bytes).map_err(|e| file_error(&e))?;
        let report = match kind {
            FileKind::Unita => {
                let parsed = import::parse_unita(bytes).map_err(|e| file_error(&e))?;
                let units: Vec<NewUnita> = parsed
                    .rows
                    .into_iter()
                    .map(|r| NewUnita {
                        codice: r.codice,
                        foglio: r.foglio,
                        particella: r.particella,
                        subalterno: r.subalterno,
                        indirizzo: r.indirizzo,
                        oggetto: r.oggetto,
                    })
                    .collect();
                for (i, batch) in units.chunks(BATCH_ROWS).enumerate() {
                    let mut tx = self.db().begin().await?;
                    for u in batch {
                        tx.upsert_tributi_unita(tenant, u).await?;
                    }
                    tx.commit().await?;
                    progress(i * BATCH_ROWS + batch.len(), units.len());
                }
                TributiImportReport {
                    kind,
                    saved: units.len(),
                    already: 0,
                    errors: parsed.errors,
                }
            }
            FileKind::Utenze => self.import_utenze(tenant, bytes, progress).await?,
            FileKind::Versamenti => self.import_versamenti(tenant, bytes, progress).await?,
            FileKind::Occupazioni => self.import_occupazioni(tenant, bytes, progress).await?,
            FileKind::Titolarita => {
                let parsed = import::parse_titolarita(bytes).map_err(|e| file_error(&e))?;
                let mut errors = parsed.errors;
                let mut ids: BTreeMap<String, Option<palazzo_store::UnitaId>> = BTreeMap::new();
                let mut rows = Vec::with_capacity(parsed.rows.len());
                for r in parsed.rows {
                    let id = match ids.get(&r.codice_unita) {
                        Some(id) => *id,
                        None => {
                            let id = self
                                .db()
                                .tributi_unita_by_codice(tenant, &r.codice_unita)
                                .await?
                                .map(|u| u.id);
                            ids.insert(r.codice_unita.clone(), id);
                            id
                        }
                    };
                    match id {
                        Some(unita) => rows.push(NewTitolarita {
                            unita,
                            codice_fiscale: r.codice_fiscale,
                            possesso: r.possesso,
                            periodi: r.periodi,
                        }),
                        None => errors.push(RowError {
                            line: r.line,
                            column: Some("codice_unita"),
                            code: "unita_sconosciuta",
                            message: format!(
                                "l'unità «{}» non è tra quelle caricate: importa prima il file \
                                 delle unità immobiliari",
                                r.codice_unita
                            ),
                        }),
                    }
                }
                errors.sort_by_key(|e| e.line);
                for (i, batch) in rows.chunks(BATCH_ROWS).enumerate() {
                    let mut tx = self.db().begin().await?;
                    for t in batch {
                        tx.upsert_titolarita(tenant, t).await?;
                    }
                    tx.commit().await?;
                    progress(i * BATCH_ROWS + batch.len(), rows.len());
                }
                TributiImportReport {
                    kind,
                    saved: rows.len(),
                    already: 0,
                    errors,
                }
            }
        };
        tracing::info!(
            tenant = tenant.0,
            kind = ?report.kind,
            saved = report.saved,
            refused = report.errors.len(),
            "tributi import"
        );
        Ok(report)
    }
}
