//! Loading the anagrafe (issue 5, part 1): `palazzo anagrafe import`
//! merges a stradario or residents file (`docs/anagrafe-import.md`,
//! parsed by [`palazzo_domain::anagrafe`]) into the comune's register,
//! keeping every good row and reporting the bad ones.
//!
//! Residents are matched by codice fiscale, families by their register
//! code, addresses by (street, civic, CAP); what the file does not name is
//! left as it is (an import is a merge, not a replacement). Residents are
//! saved family by family in transactions of about [`BATCH_PERSONS`]
//! persons: an interrupted import is completed by running it again.

use std::collections::HashMap;

use palazzo_domain::access::Permission;
use palazzo_domain::anagrafe::{self, FileKind, ResidentRow, RowError};
use palazzo_domain::calendar::rome_date;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_store::{
    PopAddress, PopFamily, PopPerson, PopResidence, PopulationBatch, Store, StoreTx, Street,
    TenantId,
};

use crate::access::Actor;
use crate::{App, ServiceError, ServiceResult};

/// Persons per transaction (families are never split).
pub const BATCH_PERSONS: usize = 2_000;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Which file it was.
    pub kind: FileKind,
    /// Streets or residents saved (new or updated).
    pub saved: usize,
    /// Earlier residences saved.
    pub past_residences: usize,
    /// The refused rows, by line.
    pub errors: Vec<RowError>,
}

impl App {
    /// Imports a stradario or residents file into `tenant`'s register (the
    /// kind is told by its header). `progress(done, total)` is called as
    /// residents are saved. Needs [`Permission::ManageAnagrafe`].
    ///
    /// # Errors
    /// A file that is not one of the two formats
    /// (`intestazione_non_riconosciuta`, `file_non_utf8`, `file_vuoto`);
    /// storage failures. Bad rows are not errors: they are in the report.
    pub async fn import_anagrafe(
        &self,
        tenant: TenantId,
        actor: &Actor,
        bytes: &[u8],
        progress: impl Fn(usize, usize),
    ) -> ServiceResult<ImportReport> {
        actor.require(Permission::ManageAnagrafe)?;
        let kind = anagrafe::file_kind(bytes).map_err(file_error)?;
        let report = match kind {
            FileKind::Stradario => self.import_streets(tenant, bytes).await?,
            FileKind::Residenti => self.import_residents(tenant, bytes, progress).await?,
        };
        tracing::info!(
            tenant = tenant.0,
            kind = ?report.kind,
            saved = report.saved,
            refused = report.errors.len(),
            "anagrafe import"
        );
        Ok(report)
    }

    async fn import_streets(&self, tenant: TenantId, bytes: &[u8]) -> ServiceResult<ImportReport> {
        let parsed = anagrafe::parse_streets(bytes).map_err(file_error)?;
        let mut errors = parsed.errors;
        // A name the stradario already has under another code is refused
        // here, so that the good rows are still saved in one transaction.
        let existing: HashMap<String, String> = self
            .db()
            .streets(tenant)
            .await?
            .into_iter()
            .map(|s| (s.name.to_lowercase(), s.code))
            .collect();
        let mut streets = Vec::new();
        for row in parsed.rows {
            match existing.get(&row.name.to_lowercase()) {
                Some(code) if *code != row.code => errors.push(RowError {
                    line: row.line,
                    column: Some("denominazione"),
                    code: "via_ripetuta",
                    message: format!(
                        "la via «{}» è già nello stradario con il codice {code}",
                        row.name
                    ),
                }),
                _ => streets.push(Street {
                    code: row.code,
                    name: row.name,
                }),
            }
        }
        errors.sort_by_key(|e| e.line);
        let mut tx = self.db().begin().await?;
        tx.save_streets(tenant, &streets).await?;
        tx.commit().await?;
        Ok(ImportReport {
            kind: FileKind::Stradario,
            saved: streets.len(),
            past_residences: 0,
            errors,
        })
    }

    async fn import_residents(
        &self,
        tenant: TenantId,
        bytes: &[u8],
        progress: impl Fn(usize, usize),
    ) -> ServiceResult<ImportReport> {
        let streets: Vec<String> = self
            .db()
            .streets(tenant)
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let today = rome_date(jiff::Timestamp::now());
        let parsed = anagrafe::parse_residents(bytes, &streets, today).map_err(file_error)?;
        let keys = self.db().population_keys(tenant).await?;
        let mut ids = Ids::new(&keys);
        // Families in file order, each with its members.
        let mut order: Vec<&str> = Vec::new();
        let mut members: HashMap<&str, Vec<&ResidentRow>> = HashMap::new();
        for r in &parsed.rows.current {
            members
                .entry(r.family.as_str())
                .or_insert_with(|| {
                    order.push(r.family.as_str());
                    Vec::new()
                })
                .push(r);
        }
        let mut past: HashMap<CodiceFiscale, Vec<&anagrafe::PastResidenceRow>> = HashMap::new();
        for p in &parsed.rows.past {
            past.entry(p.codice_fiscale.canonical())
                .or_default()
                .push(p);
        }
        let total = parsed.rows.current.len();
        let (mut done, mut past_saved) = (0, 0);
        let mut batch = PopulationBatch::default();
        for family in order {
            let rows = members.get(family).map(Vec::as_slice).unwrap_or_default();
            let Some(first) = rows.first() else { continue };
            let address = ids.address(&mut batch, first);
            let family_id = ids.family(family);
            batch.families.push(PopFamily {
                id: family_id,
                address,
                code: Some(family.to_owned()),
            });
            for r in rows {
                let id = ids.person(&r.codice_fiscale);
                for p in past
                    .get(&r.codice_fiscale.canonical())
                    .into_iter()
                    .flatten()
                {
                    batch.residences.push(PopResidence {
                        person: id,
                        street: p.street.clone(),
                        civic: p.civic.clone(),
                        cap: p.cap.clone(),
                        from: p.from,
                        to: p.to,
                    });
                }
                batch.persons.push(PopPerson {
                    id,
                    family: family_id,
                    codice_fiscale: r.codice_fiscale.clone(),
                    surname: r.surname.clone(),
                    name: r.name.clone(),
                    sex: r.sex,
                    birth_date: r.birth_date,
                    birthplace: r.birthplace.clone(),
                    relation: r.relation.clone(),
                    citizenship: r.citizenship,
                    marital_status: r.marital_status,
                    resident_since: Some(r.since),
                    provenance: r.provenance.clone(),
                });
            }
            if batch.persons.len() >= BATCH_PERSONS {
                done += batch.persons.len();
                past_saved += batch.residences.len();
                self.save_batch(tenant, std::mem::take(&mut batch)).await?;
                progress(done, total);
            }
        }
        if !batch.persons.is_empty() {
            done += batch.persons.len();
            past_saved += batch.residences.len();
            self.save_batch(tenant, batch).await?;
        }
        progress(done, total);
        Ok(ImportReport {
            kind: FileKind::Residenti,
            saved: done,
            past_residences: past_saved,
            errors: parsed.errors,
        })
    }

    async fn save_batch(&self, tenant: TenantId, batch: PopulationBatch) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        tx.save_population(tenant, &batch).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn file_error(e: anagrafe::FileError) -> ServiceError {
    ServiceError::Invalid {
        code: e.code(),
        message: e.to_string(),
    }
}

/// Ids of the register: those already stored for the keys the file names,
/// new ones after the highest for the rest.
struct Ids {
    persons: HashMap<CodiceFiscale, i64>,
    families: HashMap<String, i64>,
    addresses: HashMap<(String, String, String), i64>,
    next_person: i64,
    next_family: i64,
    next_address: i64,
}

impl Ids {
    fn new(k: &palazzo_store::PopulationKeys) -> Ids {
        Ids {
            persons: k
                .persons
                .iter()
                .map(|(id, cf)| (cf.canonical(), *id))
                .collect(),
            families: k.families.iter().map(|(id, c)| (c.clone(), *id)).collect(),
            addresses: k
                .addresses
                .iter()
                .map(|(id, s, c, cap)| ((s.to_lowercase(), c.clone(), cap.clone()), *id))
                .collect(),
            next_person: k.persons.iter().map(|p| p.0).max().unwrap_or(0) + 1,
            next_family: k.max_family + 1,
            next_address: k.addresses.iter().map(|a| a.0).max().unwrap_or(0) + 1,
        }
    }

    fn person(&mut self, cf: &CodiceFiscale) -> i64 {
        *self.persons.entry(cf.canonical()).or_insert_with(|| {
            self.next_person += 1;
            self.next_person - 1
        })
    }

    fn family(&mut self, code: &str) -> i64 {
        *self.families.entry(code.to_owned()).or_insert_with(|| {
            self.next_family += 1;
            self.next_family - 1
        })
    }

    /// The address of a family's first row, added to `batch` when new.
    fn address(&mut self, batch: &mut PopulationBatch, r: &ResidentRow) -> i64 {
        let key = (
            r.street.to_lowercase(),
            r.civic.clone(),
            r.cap.as_str().to_owned(),
        );
        if let Some(id) = self.addresses.get(&key) {
            return *id;
        }
        let id = self.next_address;
        self.next_address += 1;
        self.addresses.insert(key, id);
        batch.addresses.push(PopAddress {
            id,
            street: r.street.clone(),
            civic: r.civic.clone(),
            cap: r.cap.clone(),
        });
        id
    }
}
