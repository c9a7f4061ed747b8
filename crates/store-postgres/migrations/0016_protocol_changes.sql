-- Changes to the modifiable fields of a registration (issue 4 part 1, DPR
-- 445/2000 art. 53, PR-3): classification and competent office may change
-- after registration, and every change keeps its author, its time and the
-- values before and after. `changed_at`/`changed_by` on the entry name the
-- last change and are part of the state the ledger binds, so the author of
-- each change is in the ledger; the history below is append-only.
ALTER TABLE protocol_entries ADD COLUMN changed_at TIMESTAMPTZ;
ALTER TABLE protocol_entries ADD COLUMN changed_by TEXT;

CREATE TABLE protocol_changes (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    registration_id BIGINT NOT NULL REFERENCES protocol_entries(id),
    seq BIGINT NOT NULL CHECK (seq >= 1),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    old_classification TEXT,
    new_classification TEXT,
    old_office_id BIGINT,
    new_office_id BIGINT,
    PRIMARY KEY (tenant_id, registration_id, seq)
);
CREATE TRIGGER protocol_changes_append_only BEFORE UPDATE OR DELETE ON protocol_changes
    FOR EACH ROW EXECUTE FUNCTION palazzo_append_only();
