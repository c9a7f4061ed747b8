-- pagoPA notices of local taxes (issue 7; taxes-pagopa.md §4).
--
-- pagopa_enti: the comune's pagoPA data — its segregation code (the two
-- digits after the aux digit 3 of every codice avviso), its CBILL code, the
-- IBAN its pagoPA payments are credited to, the postal current account when
-- it has one.
--
-- tributi_iuv: the next IUV number of each comune. Taken and incremented
-- in the transaction that stores the notice, never decremented: with the
-- UNIQUE constraints below, an IUV is never issued twice.
--
-- tributi_avvisi: each notice: its codice avviso (18 digits), the taxpayer,
-- the tax, year and payment it is for, the amount (cents) and due date; its
-- state (emesso, pagato, annullato) with the receipt of the payment; the
-- debt position on GPD (iupd) when the comune is connected to it. The
-- codice fiscale is stored as given: an omocodic code is another person than
-- the code it was derived from.
CREATE TABLE pagopa_enti (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    segregazione INTEGER NOT NULL,
    cbill TEXT NOT NULL,
    iban TEXT NOT NULL,
    conto_postale TEXT,
    intestatario TEXT
) STRICT;

CREATE TABLE tributi_iuv (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    prossimo INTEGER NOT NULL
) STRICT;

CREATE TABLE tributi_avvisi (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    iuv_base INTEGER NOT NULL,
    codice_avviso TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    tributo TEXT NOT NULL,
    anno INTEGER NOT NULL,
    versamento TEXT NOT NULL,
    importo INTEGER NOT NULL,
    scadenza TEXT NOT NULL,
    stato TEXT NOT NULL,
    iupd TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    pagato_il TEXT,
    ricevuta TEXT,
    UNIQUE (tenant_id, iuv_base),
    UNIQUE (tenant_id, codice_avviso)
) STRICT;

CREATE INDEX tributi_avvisi_cf ON tributi_avvisi (tenant_id, codice_fiscale, tributo, anno);

-- At most one live notice per taxpayer, tax, year and payment: two requests
-- at once (a double click) cannot both issue one.
CREATE UNIQUE INDEX tributi_avvisi_vivo ON tributi_avvisi
    (tenant_id, codice_fiscale, tributo, anno, versamento) WHERE stato <> 'annullato';
