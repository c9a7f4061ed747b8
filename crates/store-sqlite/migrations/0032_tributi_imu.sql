-- Local taxes, IMU (issue 7; taxes-pagopa.md §2).
--
-- tributi_unita: the cadastral units (and pieces of land) of the comune,
-- one per cadastre code; oggetto is the JSON of
-- palazzo_domain::tributi::imu::Oggetto (category and rendite over time,
-- or the land's values).
--
-- tributi_titolarita: who holds a unit, for which period and share
-- (possesso: JSON of imu::Possesso, whose first day is also the column
-- dal), with the unit's situations for that taxpayer (periodi: JSON of
-- Vec<imu::Periodo>). One row per unit, taxpayer (codice fiscale in its
-- canonical, non-omocodic form) and first day: loading the same data
-- again replaces it, never doubles a share.
--
-- tributi_aliquote_imu: the rates a comune set for a year with their
-- delibera (JSON of imu::Aliquote).
CREATE TABLE tributi_unita (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    codice TEXT NOT NULL,
    foglio TEXT NOT NULL,
    particella TEXT NOT NULL,
    subalterno TEXT NOT NULL,
    indirizzo TEXT NOT NULL,
    oggetto TEXT NOT NULL,
    UNIQUE (tenant_id, codice)
) STRICT;

CREATE INDEX tributi_unita_catasto ON tributi_unita (tenant_id, foglio, particella, subalterno);

CREATE TABLE tributi_titolarita (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    unita_id INTEGER NOT NULL REFERENCES tributi_unita(id),
    codice_fiscale TEXT NOT NULL,
    dal TEXT NOT NULL,
    possesso TEXT NOT NULL,
    periodi TEXT NOT NULL,
    UNIQUE (tenant_id, unita_id, codice_fiscale, dal)
) STRICT;

CREATE INDEX tributi_titolarita_cf ON tributi_titolarita (tenant_id, codice_fiscale);
CREATE INDEX tributi_titolarita_unita ON tributi_titolarita (unita_id);

CREATE TABLE tributi_aliquote_imu (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    anno INTEGER NOT NULL,
    aliquote TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, anno)
) STRICT;
