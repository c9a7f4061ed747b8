-- The emergency register (DPR 445/2000 art. 63; PR-10).
--
-- One row per use of a registro di emergenza within the AOO (the tenant):
-- its code, unique within the AOO so that (code, emergency number) identifies
-- a document uniquely (art. 63 c.4), the cause, the start of the interruption
-- and, once closed, when the service was restored.
CREATE TABLE emergency_sessions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    cause TEXT NOT NULL,
    started_at TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    ended_at TEXT,
    closed_by TEXT,
    closed_at TEXT,
    UNIQUE (tenant_id, code)
) STRICT;

-- Every authorisation of the responsabile (art. 63 c.1-2), append-only.
CREATE TABLE emergency_authorisations (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    session_id INTEGER NOT NULL REFERENCES emergency_sessions(id),
    seq INTEGER NOT NULL,
    authorised_by TEXT NOT NULL,
    act TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, seq)
) STRICT;

-- Only the closure may be added to a session, once; nothing is deleted.
-- `palazzo verify` catches the rest (each session's state is in the ledger).
CREATE TRIGGER emergency_sessions_fixed BEFORE UPDATE ON emergency_sessions
WHEN OLD.ended_at IS NOT NULL OR NEW.tenant_id IS NOT OLD.tenant_id OR NEW.code IS NOT OLD.code
    OR NEW.cause IS NOT OLD.cause OR NEW.started_at IS NOT OLD.started_at
    OR NEW.opened_by IS NOT OLD.opened_by OR NEW.opened_at IS NOT OLD.opened_at
BEGIN SELECT RAISE(ABORT, 'emergency_sessions: fixed fields cannot change'); END;
CREATE TRIGGER emergency_sessions_no_delete BEFORE DELETE ON emergency_sessions
BEGIN SELECT RAISE(ABORT, 'emergency_sessions: sessions are never deleted'); END;
CREATE TRIGGER emergency_authorisations_fixed BEFORE UPDATE ON emergency_authorisations
BEGIN SELECT RAISE(ABORT, 'emergency_authorisations: authorisations cannot change'); END;
CREATE TRIGGER emergency_authorisations_no_delete BEFORE DELETE ON emergency_authorisations
BEGIN SELECT RAISE(ABORT, 'emergency_authorisations: authorisations are never deleted'); END;

-- The correlation emergency -> ordinary kept for ever (art. 63 c.5): read
-- from the fixed `emergency` field of the registration that recovered the
-- entry, indexed both ways, and unique, so an emergency number is recovered
-- at most once even by concurrent imports.
ALTER TABLE protocol_entries ADD COLUMN emergency_register TEXT
    GENERATED ALWAYS AS (json_extract(emergency, '$.register')) VIRTUAL;
ALTER TABLE protocol_entries ADD COLUMN emergency_number INTEGER
    GENERATED ALWAYS AS (json_extract(emergency, '$.number')) VIRTUAL;
CREATE UNIQUE INDEX protocol_entries_emergency
    ON protocol_entries(tenant_id, emergency_register, emergency_number)
    WHERE emergency IS NOT NULL;
