//! The anagrafe for certificates (migration 0024; issue 5, part 1): the
//! stradario and the population register saved from an import.

use jiff_sqlx::ToSqlx;
use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
use palazzo_domain::ids::{self, Cap, CodiceCatastale};
use palazzo_store::rows::{corrupt, sex_column};
use palazzo_store::*;
use sqlx::{ColumnIndex, Executor, FromRow, IntoArguments, Row};

use crate::{Args, Conn, Db, DbRow, Dialect, Field, Param, SqlStore, SqlTx, db_err};

/// The columns of `pop_persons` that [`person_of`] reads.
pub(crate) const PERSON_COLUMNS: &str = "id, family_id, codice_fiscale, surname, name, sex, \
    birth_date, birthplace, relation, citizenship, marital_status, resident_since, provenance";

fn date_of<D: Dialect>(r: &DbRow<D>, col: &str) -> Result<Option<CivilDate>>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    Ok(r.try_get::<Option<jiff_sqlx::Date>, _>(col)
        .map_err(db_err)?
        .map(|d| d.to_jiff()))
}

/// A `pop_persons` row ([`PERSON_COLUMNS`]).
pub(crate) fn person_of<D: Dialect>(r: &DbRow<D>) -> Result<PopPerson>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    let get = |c: &str| -> Result<String> { r.try_get::<String, _>(c).map_err(db_err) };
    let cf = get("codice_fiscale")?;
    let place = get("birthplace")?;
    let citizenship = get("citizenship")?;
    let status = get("marital_status")?;
    Ok(PopPerson {
        id: r.try_get("id").map_err(db_err)?,
        family: r.try_get("family_id").map_err(db_err)?,
        codice_fiscale: cf
            .parse()
            .map_err(|e| corrupt("pop_persons.codice_fiscale", e))?,
        surname: get("surname")?,
        name: get("name")?,
        sex: ids::Sex::parse(&get("sex")?).map_err(|e| corrupt("pop_persons.sex", e))?,
        birth_date: date_of::<D>(r, "birth_date")?
            .ok_or_else(|| corrupt("pop_persons.birth_date", "missing"))?,
        birthplace: CodiceCatastale::parse(&place)
            .map_err(|e| corrupt("pop_persons.birthplace", e))?,
        relation: get("relation")?,
        citizenship: Cittadinanza::from_code(&citizenship)
            .ok_or_else(|| corrupt("pop_persons.citizenship", &citizenship))?,
        marital_status: StatoCivile::from_code(&status)
            .ok_or_else(|| corrupt("pop_persons.marital_status", &status))?,
        resident_since: date_of::<D>(r, "resident_since")?,
        provenance: r
            .try_get::<Option<String>, _>("provenance")
            .map_err(db_err)?
            .map(|p| CodiceCatastale::parse(&p).map_err(|e| corrupt("pop_persons.provenance", e)))
            .transpose()?,
    })
}

fn address_of<D: Dialect>(r: &DbRow<D>) -> Result<PopAddress>
where
    for<'a> &'a str: ColumnIndex<DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
{
    let cap: String = r.try_get("cap").map_err(db_err)?;
    Ok(PopAddress {
        id: r.try_get("id").map_err(db_err)?,
        street: r.try_get("street").map_err(db_err)?,
        civic: r.try_get("civic").map_err(db_err)?,
        cap: Cap::parse(&cap).map_err(|e| corrupt("pop_addresses.cap", e))?,
    })
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    (i64,): for<'r> FromRow<'r, DbRow<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<i64>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`Store::streets`].
    pub async fn streets(&self, tenant: TenantId) -> Result<Vec<Street>> {
        let rows = sqlx::query(
            "SELECT code, name FROM anagrafe_streets WHERE tenant_id = $1 ORDER BY name, code",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Street {
                    code: r.try_get("code").map_err(db_err)?,
                    name: r.try_get("name").map_err(db_err)?,
                })
            })
            .collect()
    }

    /// See [`Store::population_keys`].
    pub async fn population_keys(&self, tenant: TenantId) -> Result<PopulationKeys> {
        let persons = sqlx::query(
            "SELECT id, codice_fiscale FROM pop_persons WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let cf: String = r.try_get("codice_fiscale").map_err(db_err)?;
            Ok((
                r.try_get("id").map_err(db_err)?,
                cf.parse()
                    .map_err(|e| corrupt("pop_persons.codice_fiscale", e))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
        let families = sqlx::query(
            "SELECT id, code FROM pop_families WHERE tenant_id = $1 AND code IS NOT NULL ORDER BY id",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| Ok((r.try_get("id").map_err(db_err)?, r.try_get("code").map_err(db_err)?)))
        .collect::<Result<Vec<_>>>()?;
        let addresses = sqlx::query(
            "SELECT id, street, civic, cap FROM pop_addresses WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.0)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id").map_err(db_err)?,
                r.try_get("street").map_err(db_err)?,
                r.try_get("civic").map_err(db_err)?,
                r.try_get("cap").map_err(db_err)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
        let (max_family,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM pop_families WHERE tenant_id = $1")
                .bind(tenant.0)
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
        Ok(PopulationKeys {
            persons,
            families,
            addresses,
            max_family,
        })
    }

    /// See [`Store::family_members`].
    pub async fn family_members(&self, tenant: TenantId, family: i64) -> Result<Vec<PopPerson>> {
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM pop_persons WHERE tenant_id = $1 AND family_id = $2 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(family)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(person_of::<D>).collect()
    }

    /// See [`Store::family_address`].
    pub async fn family_address(
        &self,
        tenant: TenantId,
        family: i64,
    ) -> Result<Option<PopAddress>> {
        let row = sqlx::query(
            "SELECT a.id, a.street, a.civic, a.cap FROM pop_addresses a JOIN pop_families f \
             ON f.tenant_id = a.tenant_id AND f.address_id = a.id WHERE f.tenant_id = $1 AND f.id = $2",
        )
        .bind(tenant.0)
        .bind(family)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(address_of::<D>).transpose()
    }

    /// See [`Store::residences_of`].
    pub async fn residences_of(&self, tenant: TenantId, person: i64) -> Result<Vec<PopResidence>> {
        let rows = sqlx::query(
            "SELECT person_id, street, civic, cap, from_date, to_date FROM pop_residences \
             WHERE tenant_id = $1 AND person_id = $2 ORDER BY from_date",
        )
        .bind(tenant.0)
        .bind(person)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let cap: String = r.try_get("cap").map_err(db_err)?;
                Ok(PopResidence {
                    person: r.try_get("person_id").map_err(db_err)?,
                    street: r.try_get("street").map_err(db_err)?,
                    civic: r.try_get("civic").map_err(db_err)?,
                    cap: Cap::parse(&cap).map_err(|e| corrupt("pop_residences.cap", e))?,
                    from: date_of::<D>(r, "from_date")?
                        .ok_or_else(|| corrupt("pop_residences.from_date", "missing"))?,
                    to: date_of::<D>(r, "to_date")?
                        .ok_or_else(|| corrupt("pop_residences.to_date", "missing"))?,
                })
            })
            .collect()
    }
}

impl<D: Dialect> SqlTx<D>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = Db<D>>,
    Args<D>: IntoArguments<Db<D>>,
    for<'a> &'a str: ColumnIndex<DbRow<D>> + Param<'a, Db<D>>,
    for<'a> Option<&'a str>: Param<'a, Db<D>>,
    i64: Field<Db<D>>,
    String: Field<Db<D>>,
    Option<String>: Field<Db<D>>,
    Option<jiff_sqlx::Date>: Field<Db<D>>,
{
    /// See [`StoreTx::save_streets`].
    pub async fn save_streets(&mut self, tenant: TenantId, streets: &[Street]) -> Result<()> {
        for s in streets {
            sqlx::query(
                "INSERT INTO anagrafe_streets (tenant_id, code, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, code) DO UPDATE SET name = excluded.name",
            )
            .bind(tenant.0)
            .bind(s.code.as_str())
            .bind(s.name.as_str())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    /// See [`StoreTx::save_population`].
    pub async fn save_population(&mut self, tenant: TenantId, b: &PopulationBatch) -> Result<()> {
        for a in &b.addresses {
            sqlx::query(
                "INSERT INTO pop_addresses (tenant_id, id, street, civic, cap) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET street = excluded.street, \
                 civic = excluded.civic, cap = excluded.cap",
            )
            .bind(tenant.0)
            .bind(a.id)
            .bind(a.street.as_str())
            .bind(a.civic.as_str())
            .bind(a.cap.as_str())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        }
        for f in &b.families {
            sqlx::query(
                "INSERT INTO pop_families (tenant_id, id, address_id, code) VALUES ($1,$2,$3,$4) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET address_id = excluded.address_id, \
                 code = excluded.code",
            )
            .bind(tenant.0)
            .bind(f.id)
            .bind(f.address)
            .bind(f.code.as_deref())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        }
        for p in &b.persons {
            sqlx::query(
                "INSERT INTO pop_persons (tenant_id, id, family_id, codice_fiscale, surname, name, sex, \
                 birth_date, birthplace, relation, citizenship, marital_status, resident_since, provenance) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET family_id = excluded.family_id, \
                 codice_fiscale = excluded.codice_fiscale, surname = excluded.surname, \
                 name = excluded.name, sex = excluded.sex, birth_date = excluded.birth_date, \
                 birthplace = excluded.birthplace, relation = excluded.relation, \
                 citizenship = excluded.citizenship, marital_status = excluded.marital_status, \
                 resident_since = excluded.resident_since, provenance = excluded.provenance",
            )
            .bind(tenant.0)
            .bind(p.id)
            .bind(p.family)
            .bind(p.codice_fiscale.as_str())
            .bind(p.surname.as_str())
            .bind(p.name.as_str())
            .bind(sex_column(p.sex))
            .bind(Some(p.birth_date.to_sqlx()))
            .bind(p.birthplace.as_str())
            .bind(p.relation.as_str())
            .bind(p.citizenship.code())
            .bind(p.marital_status.code())
            .bind(p.resident_since.map(|d| d.to_sqlx()))
            .bind(p.provenance.as_ref().map(|c| c.as_str()))
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
            sqlx::query("DELETE FROM pop_residences WHERE tenant_id = $1 AND person_id = $2")
                .bind(tenant.0)
                .bind(p.id)
                .execute(&mut *self.conn())
                .await
                .map_err(db_err)?;
        }
        for r in &b.residences {
            sqlx::query(
                "INSERT INTO pop_residences (tenant_id, person_id, from_date, to_date, street, civic, cap) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7)",
            )
            .bind(tenant.0)
            .bind(r.person)
            .bind(Some(r.from.to_sqlx()))
            .bind(Some(r.to.to_sqlx()))
            .bind(r.street.as_str())
            .bind(r.civic.as_str())
            .bind(r.cap.as_str())
            .execute(&mut *self.conn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }
}
