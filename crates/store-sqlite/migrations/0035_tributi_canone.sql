-- Canone unico patrimoniale (issue 7; taxes-pagopa.md §3, L. 160/2019
-- cc.816-836).
--
-- tributi_occupazioni: who occupies which public land (the concession's
-- code in the comune), what for (descrizione, and the category's code of
-- the year's coefficients), where (indirizzo, and the zone's code), on
-- how many hundredths of a square metre, permanently (permanente = 1: by
-- the year) or for a time (by the day), from when to when, under which
-- act. One row per occupation, taxpayer and first day: loading the same
-- file again replaces, never doubles. The codice fiscale is stored as
-- given (an omocodic code is another person).
--
-- tributi_tariffe_canone: the coefficients of a year with their delibera
-- and the due dates of the permanent occupations (JSON of
-- palazzo_domain::tributi::canone::TariffeCanone).
CREATE TABLE tributi_occupazioni (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    codice TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    dal TEXT NOT NULL,
    al TEXT,
    descrizione TEXT NOT NULL,
    indirizzo TEXT NOT NULL,
    zona TEXT NOT NULL,
    categoria TEXT NOT NULL,
    permanente INTEGER NOT NULL,
    superficie_cm2 INTEGER NOT NULL CHECK (superficie_cm2 > 0),
    atto TEXT NOT NULL,
    UNIQUE (tenant_id, codice, codice_fiscale, dal)
) STRICT;

CREATE INDEX tributi_occupazioni_cf ON tributi_occupazioni (tenant_id, codice_fiscale);

CREATE TABLE tributi_tariffe_canone (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    anno INTEGER NOT NULL,
    tariffe TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, anno)
) STRICT;
