-- Changes to the modifiable fields of a registration (issue 4 part 1, DPR
-- 445/2000 art. 53, PR-3): classification and competent office may change
-- after registration, and every change keeps its author, its time and the
-- values before and after. `changed_at`/`changed_by` on the entry name the
-- last change and are part of the state the ledger binds, so the author of
-- each change is in the ledger; the history below is append-only.
ALTER TABLE protocol_entries ADD COLUMN changed_at TEXT;
ALTER TABLE protocol_entries ADD COLUMN changed_by TEXT;

CREATE TABLE protocol_changes (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    old_classification TEXT,
    new_classification TEXT,
    old_office_id INTEGER,
    new_office_id INTEGER,
    PRIMARY KEY (tenant_id, registration_id, seq)
) STRICT;
CREATE TRIGGER protocol_changes_append_only_update BEFORE UPDATE ON protocol_changes
BEGIN SELECT RAISE(ABORT, 'protocol_changes is append-only'); END;
CREATE TRIGGER protocol_changes_append_only_delete BEFORE DELETE ON protocol_changes
BEGIN SELECT RAISE(ABORT, 'protocol_changes is append-only'); END;
