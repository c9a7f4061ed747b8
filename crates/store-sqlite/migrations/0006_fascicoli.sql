-- Titolario per ente and fascicoli (issue 4, part 3; protocol-documents.md
-- §5.3, §7, TI-3, TI-4).
--
-- Each ente has its own titolario, in versions: version 1 is the 2005
-- titolario for comuni; every edit by the administrator (add, rename,
-- close a voice) writes a whole new version. Versions are never changed or
-- deleted, so a document or fascicolo classified under a voice keeps it
-- (TI-3: closing a class never reclassifies), and `PianoDiClassificazione`
-- names one immutable version.
CREATE TABLE titolario_versions (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
) STRICT;

-- The voices of a version: titoli (classe NULL) and classes. A closed voice
-- stays in later versions, marked closed, so its code is never reused.
CREATE TABLE titolario_classes (
    tenant_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    titolo INTEGER NOT NULL,
    classe INTEGER,
    name TEXT NOT NULL,
    closed INTEGER NOT NULL CHECK (closed IN (0, 1)),
    PRIMARY KEY (tenant_id, version, code),
    FOREIGN KEY (tenant_id, version) REFERENCES titolario_versions(tenant_id, version)
) STRICT;

CREATE TRIGGER titolario_versions_append_only_update BEFORE UPDATE ON titolario_versions
BEGIN SELECT RAISE(ABORT, 'titolario_versions is append-only'); END;
CREATE TRIGGER titolario_versions_append_only_delete BEFORE DELETE ON titolario_versions
BEGIN SELECT RAISE(ABORT, 'titolario_versions is append-only'); END;
CREATE TRIGGER titolario_classes_append_only_update BEFORE UPDATE ON titolario_classes
BEGIN SELECT RAISE(ABORT, 'titolario_classes is append-only'); END;
CREATE TRIGGER titolario_classes_append_only_delete BEFORE DELETE ON titolario_classes
BEGIN SELECT RAISE(ABORT, 'titolario_classes is append-only'); END;

-- One gap-free counter per (ente, year, class) (DECISIONS 7): the n of
-- `YYYY-<titolo>.<classe>-<n>`, taken with `UPDATE … RETURNING` in the
-- transaction that stores the fascicolo.
CREATE TABLE fascicolo_counters (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    year INTEGER NOT NULL,
    classification TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year, classification)
) STRICT;

-- CAD art. 41 c.2-ter: owner (the ente), participating administrations,
-- responsabile del procedimento, oggetto, the documents, the identifier.
CREATE TABLE fascicoli (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    year INTEGER NOT NULL,
    classification TEXT NOT NULL,
    titolario_version INTEGER NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('affare', 'attivita', 'persona_fisica', 'persona_giuridica', 'procedimento')),
    subject TEXT NOT NULL,
    office_id INTEGER NOT NULL REFERENCES offices(id),
    responsible TEXT NOT NULL,
    participants TEXT NOT NULL,
    holder TEXT,
    parent_id INTEGER REFERENCES fascicoli(id),
    opened_on TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    closed_on TEXT,
    closed_at TEXT,
    closed_by TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, code),
    UNIQUE (tenant_id, year, classification, number)
) STRICT;
CREATE INDEX fascicoli_search ON fascicoli(tenant_id, classification, year);

-- The documents of a fascicolo (many-to-many: a registration can be filed
-- in several fascicoli). The rows are the `IndiceDocumenti`.
CREATE TABLE fascicolo_documents (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    fascicolo_id INTEGER NOT NULL REFERENCES fascicoli(id),
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, fascicolo_id, registration_id)
) STRICT;
CREATE INDEX fascicolo_documents_registration ON fascicolo_documents(tenant_id, registration_id);
