-- Palazzo SQLite schema, version 1.
-- Every table carries tenant_id (DESIGN: tenancy). Times are RFC 3339 UTC text.

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL,
    codice_catastale TEXT NOT NULL UNIQUE,
    codice_istat TEXT NOT NULL,
    codice_ipa TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    pec TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    street TEXT NOT NULL,
    cap TEXT NOT NULL,
    locality TEXT NOT NULL,
    province TEXT NOT NULL,
    region TEXT NOT NULL,
    population INTEGER NOT NULL,
    patron_saint TEXT,
    logo_svg TEXT,
    accessibility_url TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE tenant_hosts (
    host TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    position INTEGER NOT NULL
) STRICT;
CREATE INDEX tenant_hosts_tenant ON tenant_hosts(tenant_id);

CREATE TABLE offices (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    email TEXT,
    pec TEXT,
    phone TEXT NOT NULL,
    street TEXT NOT NULL,
    cap TEXT NOT NULL,
    locality TEXT NOT NULL,
    province TEXT NOT NULL,
    opening_hours TEXT NOT NULL,
    UNIQUE (tenant_id, slug)
) STRICT;

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    slug TEXT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    status_reason TEXT,
    active INTEGER NOT NULL,
    summary TEXT NOT NULL,
    audience TEXT NOT NULL,
    how_to TEXT NOT NULL,
    needed TEXT NOT NULL,
    achieved TEXT NOT NULL,
    times TEXT NOT NULL,
    costs TEXT,
    access TEXT NOT NULL,
    online_url TEXT,
    conditions TEXT NOT NULL,
    office_id INTEGER NOT NULL REFERENCES offices(id),
    topics TEXT NOT NULL,
    service_type TEXT NOT NULL,
    audience_type TEXT NOT NULL,
    UNIQUE (tenant_id, slug)
) STRICT;

CREATE TABLE faqs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL
) STRICT;
CREATE INDEX faqs_tenant ON faqs(tenant_id, position);

-- Anonymous ratings: no personal data (C.SI.2.5).
CREATE TABLE ratings (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    page TEXT NOT NULL,
    stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    answer INTEGER CHECK (answer BETWEEN 1 AND 5),
    comment TEXT,
    day TEXT NOT NULL
) STRICT;
CREATE INDEX ratings_page ON ratings(tenant_id, page);

CREATE TABLE pop_addresses (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    id INTEGER NOT NULL,
    street TEXT NOT NULL,
    civic TEXT NOT NULL,
    cap TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE pop_families (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    id INTEGER NOT NULL,
    address_id INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, address_id) REFERENCES pop_addresses(tenant_id, id)
) STRICT;

CREATE TABLE pop_persons (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    id INTEGER NOT NULL,
    family_id INTEGER NOT NULL,
    codice_fiscale TEXT NOT NULL,
    surname TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date TEXT NOT NULL,
    birthplace TEXT NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, codice_fiscale),
    FOREIGN KEY (tenant_id, family_id) REFERENCES pop_families(tenant_id, id)
) STRICT;

-- The ledger: one gap-free head per tenant (DECISIONS 7) and its leaves.
CREATE TABLE ledger_heads (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    size INTEGER NOT NULL
) STRICT;

CREATE TABLE ledger_events (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    seq INTEGER NOT NULL,
    tenant_slug TEXT NOT NULL,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    state_hash BLOB NOT NULL,
    leaf_hash BLOB NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;
CREATE INDEX ledger_events_subject ON ledger_events(tenant_id, subject, seq);

CREATE TABLE ledger_checkpoints (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    time TEXT NOT NULL,
    note TEXT NOT NULL,
    frontier BLOB NOT NULL,
    PRIMARY KEY (tenant_id, size)
) STRICT;

CREATE TABLE signing_keys (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    purpose TEXT NOT NULL,
    key_name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (tenant_id, purpose, public_key)
) STRICT;
