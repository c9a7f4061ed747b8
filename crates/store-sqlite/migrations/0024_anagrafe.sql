-- The anagrafe for certificates (issue 5, part 1; docs/anagrafe-import.md):
-- the stradario, the register's family codes, marital status, citizenship,
-- residence start and provenance, and earlier residences in the comune.
CREATE TABLE anagrafe_streets (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, code)
) STRICT;
CREATE UNIQUE INDEX anagrafe_streets_name ON anagrafe_streets(tenant_id, lower(name));

-- NULL for families stored before (the demo's synthetic register).
ALTER TABLE pop_families ADD COLUMN code TEXT;
CREATE UNIQUE INDEX pop_families_code ON pop_families(tenant_id, code);

-- ISO 3166-1 alpha-2 (palazzo_domain::anagrafe::Cittadinanza) and the
-- StatoCivile code; residents stored before get the neutral values.
ALTER TABLE pop_persons ADD COLUMN citizenship TEXT NOT NULL DEFAULT 'IT';
ALTER TABLE pop_persons ADD COLUMN marital_status TEXT NOT NULL DEFAULT 'non_classificabile';
ALTER TABLE pop_persons ADD COLUMN resident_since TEXT;
-- Codice catastale of the comune of previous residence; NULL by birth.
ALTER TABLE pop_persons ADD COLUMN provenance TEXT;

CREATE TABLE pop_residences (
    tenant_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    street TEXT NOT NULL,
    civic TEXT NOT NULL,
    cap TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, from_date),
    FOREIGN KEY (tenant_id, person_id) REFERENCES pop_persons(tenant_id, id)
) STRICT;
