-- The protocollo informatico (issue 4): one gap-free counter per (tenant,
-- register, year) (DECISIONS 7) and the registrations.

CREATE TABLE protocol_counters (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    register TEXT NOT NULL,
    year INTEGER NOT NULL,
    value INTEGER NOT NULL,
    last_time TEXT NOT NULL,
    PRIMARY KEY (tenant_id, register, year)
) STRICT;

-- Fixed fields (art. 53 c.1 a–f) never change after registration; only the
-- classification and the assignment do, and an annulment (art. 54) only adds
-- its own columns. The triggers below stop careless changes; `palazzo verify`
-- catches the rest (each registration's state is bound to the ledger).
CREATE TABLE protocol_entries (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    register TEXT NOT NULL,
    year INTEGER NOT NULL,
    number INTEGER NOT NULL,
    registered_at TEXT NOT NULL,
    flow TEXT NOT NULL CHECK (flow IN ('E', 'U', 'I')),
    subject TEXT NOT NULL,
    correspondents TEXT NOT NULL,
    received_number TEXT,
    received_date TEXT,
    primary_document TEXT NOT NULL,
    attachments TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    emergency TEXT,
    classification TEXT,
    office_id INTEGER,
    annulled_at TEXT,
    annulled_by TEXT,
    annul_reason TEXT,
    annul_act TEXT,
    UNIQUE (tenant_id, register, year, number)
) STRICT;
CREATE INDEX protocol_entries_time ON protocol_entries(tenant_id, registered_at);

CREATE TRIGGER protocol_entries_fixed BEFORE UPDATE OF tenant_id, register, year, number,
    registered_at, flow, subject, correspondents, received_number, received_date,
    primary_document, attachments, registered_by, emergency ON protocol_entries
BEGIN SELECT RAISE(ABORT, 'protocol_entries: fixed fields cannot change'); END;
CREATE TRIGGER protocol_entries_no_delete BEFORE DELETE ON protocol_entries
BEGIN SELECT RAISE(ABORT, 'protocol_entries: registrations are never deleted'); END;
