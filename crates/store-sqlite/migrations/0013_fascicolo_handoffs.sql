-- Hand-offs of whole fascicoli and restricted areas (issue 4, part 4;
-- protocol-documents.md §5.3, TI-5, TI-6; CAD art. 41 c.2-quater).
--
-- 1. A hand-off targets either a registration or a fascicolo: one state
--    machine, one inbox per office, one waiting-time report (TI-5). SQLite
--    cannot relax a NOT NULL column, so `handoffs` is rebuilt. With foreign
--    keys on, renaming a table rewrites the references to it and dropping it
--    checks them, so `handoff_steps` (which references `handoffs`) is
--    rebuilt with it: its append-only triggers are dropped first and
--    created again at the end. Ids, rows and steps are copied unchanged, so
--    the ledger's recorded states still match.
DROP TRIGGER handoff_steps_append_only_update;
DROP TRIGGER handoff_steps_append_only_delete;
ALTER TABLE handoff_steps RENAME TO handoff_steps_0005;
ALTER TABLE handoffs RENAME TO handoffs_0005;

CREATE TABLE handoffs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    registration_id INTEGER REFERENCES protocol_entries(id),
    fascicolo_id INTEGER REFERENCES fascicoli(id),
    kind TEXT NOT NULL CHECK (kind IN ('competenza', 'conoscenza')),
    office_id INTEGER NOT NULL REFERENCES offices(id),
    user_id INTEGER REFERENCES users(id),
    parent_id INTEGER REFERENCES handoffs(id),
    state TEXT NOT NULL CHECK (state IN ('assegnato', 'accettato', 'rifiutato', 'inoltrato', 'chiuso')),
    assigned_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((registration_id IS NULL) <> (fascicolo_id IS NULL))
) STRICT;
INSERT INTO handoffs (id, tenant_id, registration_id, fascicolo_id, kind, office_id, user_id,
    parent_id, state, assigned_at, updated_at)
SELECT id, tenant_id, registration_id, NULL, kind, office_id, user_id, parent_id, state,
    assigned_at, updated_at
FROM handoffs_0005 ORDER BY id;

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
INSERT INTO handoff_steps (tenant_id, handoff_id, step, action, actor, at, note)
SELECT tenant_id, handoff_id, step, action, actor, at, note FROM handoff_steps_0005;

DROP TABLE handoff_steps_0005;
DROP TABLE handoffs_0005;

CREATE INDEX handoffs_inbox ON handoffs(tenant_id, office_id, state);
CREATE INDEX handoffs_registration ON handoffs(tenant_id, registration_id);
CREATE INDEX handoffs_fascicolo ON handoffs(tenant_id, fascicolo_id);
CREATE TRIGGER handoff_steps_append_only_update BEFORE UPDATE ON handoff_steps
BEGIN SELECT RAISE(ABORT, 'handoff_steps is append-only'); END;
CREATE TRIGGER handoff_steps_append_only_delete BEFORE DELETE ON handoff_steps
BEGIN SELECT RAISE(ABORT, 'handoff_steps is append-only'); END;

-- 2. Restricted areas (TI-6): a fascicolo marked riservato, with the offices
--    and users designated to read it besides its responsible office (JSON
--    `{"offices": [..], "users": [..], "at": .., "by": ..}`); NULL when it
--    is not restricted. A restricted fascicolo's sub-fascicoli are inside
--    the area too (the services walk the parents).
ALTER TABLE fascicoli ADD COLUMN restriction TEXT;
CREATE INDEX fascicoli_parent ON fascicoli(tenant_id, parent_id);
