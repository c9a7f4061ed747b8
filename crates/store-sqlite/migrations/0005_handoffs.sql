-- Hand-offs between offices (tracciabilità interna, issue 4 part 4):
-- a registration is assigned to an office (or a person) per competenza or
-- per conoscenza; each step of the assignment is appended, never rewritten
-- (TI-5), so the whole route of a document can be shown and measured.
CREATE TABLE handoffs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    kind TEXT NOT NULL CHECK (kind IN ('competenza', 'conoscenza')),
    office_id INTEGER NOT NULL REFERENCES offices(id),
    user_id INTEGER REFERENCES users(id),
    parent_id INTEGER REFERENCES handoffs(id),
    state TEXT NOT NULL CHECK (state IN ('assegnato', 'accettato', 'rifiutato', 'inoltrato', 'chiuso')),
    assigned_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX handoffs_inbox ON handoffs(tenant_id, office_id, state);
CREATE INDEX handoffs_registration ON handoffs(tenant_id, registration_id);

CREATE TABLE handoff_steps (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    handoff_id INTEGER NOT NULL REFERENCES handoffs(id),
    step INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (tenant_id, handoff_id, step)
) STRICT;
CREATE TRIGGER handoff_steps_append_only_update BEFORE UPDATE ON handoff_steps
BEGIN SELECT RAISE(ABORT, 'handoff_steps is append-only'); END;
CREATE TRIGGER handoff_steps_append_only_delete BEFORE DELETE ON handoff_steps
BEGIN SELECT RAISE(ABORT, 'handoff_steps is append-only'); END;
