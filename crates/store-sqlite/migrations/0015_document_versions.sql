-- New versions of the documents of a registration (SYS-3; Allegato 5
-- TracciatureModificheDocumento): each version is a new object in the
-- document store, referenced by its SHA-256; the registration's own
-- documents (version 1) are fixed fields of protocol_entries and never
-- change (PR-3). Rows are append-only: a version is never rewritten or
-- deleted, so every earlier version stays retrievable by id and hash.
CREATE TABLE protocol_document_versions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    document_index INTEGER NOT NULL CHECK (document_index >= 0),
    version INTEGER NOT NULL CHECK (version >= 2),
    kind TEXT NOT NULL CHECK (kind IN ('rettifica', 'integrazione', 'annotazione')),
    file TEXT NOT NULL,
    previous_sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, registration_id, document_index, version)
) STRICT;

CREATE TRIGGER protocol_document_versions_fixed BEFORE UPDATE ON protocol_document_versions
BEGIN SELECT RAISE(ABORT, 'protocol_document_versions: a version never changes'); END;
CREATE TRIGGER protocol_document_versions_no_delete BEFORE DELETE ON protocol_document_versions
BEGIN SELECT RAISE(ABORT, 'protocol_document_versions: a version is never deleted'); END;
