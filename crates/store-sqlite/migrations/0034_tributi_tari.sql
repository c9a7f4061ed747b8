-- TARI and TEFA (issue 7; taxes-pagopa.md §2.2).
--
-- tributi_utenze: who occupies which premises (utenza code of the comune),
-- from when to when, as a home or a business (utenza: JSON of
-- palazzo_domain::tributi::tari::Utenza, with occupants, category and
-- surfaces), with the codes of the regolamento's reductions it has
-- (riduzioni: JSON array). One row per utenza, taxpayer and first day:
-- loading the same file again replaces, never doubles. The codice fiscale
-- is stored as given (an omocodic code is another person).
--
-- tributi_tariffe_tari: the tariffs of a year with their delibera, TEFA
-- percentage, due dates and reductions (JSON of tari::TariffeTari).
--
-- pagopa_enti gains the province that receives the TEFA on the same
-- notice as a second beneficiary (its codice fiscale, IBAN and name);
-- tributi_avvisi the TEFA share of a notice's amount (cents, 0 for the
-- taxes without one).
--
-- tributi_versamenti: the F24 lines the comune received for its taxes
-- (one per line of a flow, unique by the flow's reference: loading a flow
-- again never counts a payment twice), with the codice tributo, the tax
-- year, the day and amount (cents) and the "Ravv." box.
CREATE TABLE tributi_utenze (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    codice TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    dal TEXT NOT NULL,
    al TEXT,
    indirizzo TEXT NOT NULL,
    catasto TEXT NOT NULL,
    utenza TEXT NOT NULL,
    riduzioni TEXT NOT NULL,
    UNIQUE (tenant_id, codice, codice_fiscale, dal)
) STRICT;

CREATE INDEX tributi_utenze_cf ON tributi_utenze (tenant_id, codice_fiscale);

CREATE TABLE tributi_tariffe_tari (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    anno INTEGER NOT NULL,
    tariffe TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, anno)
) STRICT;

ALTER TABLE pagopa_enti ADD COLUMN tefa_codice_fiscale TEXT;
ALTER TABLE pagopa_enti ADD COLUMN tefa_iban TEXT;
ALTER TABLE pagopa_enti ADD COLUMN tefa_nome TEXT;

ALTER TABLE tributi_avvisi ADD COLUMN tefa INTEGER NOT NULL DEFAULT 0;

CREATE TABLE tributi_versamenti (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    riferimento TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    anno INTEGER NOT NULL,
    codice_tributo TEXT NOT NULL,
    data TEXT NOT NULL,
    importo INTEGER NOT NULL,
    ravvedimento INTEGER NOT NULL,
    UNIQUE (tenant_id, riferimento)
) STRICT;

CREATE INDEX tributi_versamenti_cf ON tributi_versamenti (tenant_id, codice_fiscale, anno);
