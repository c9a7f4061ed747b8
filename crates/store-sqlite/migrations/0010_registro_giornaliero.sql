-- The registro giornaliero di protocollo (DPR 445/2000 art. 53 c.2; PR-9;
-- docs/registro-giornaliero.md) and the job table that produces it once a
-- day (DESIGN "Jobs").

-- One row per (tenant, kind, day): inserting it is the claim, so a job of a
-- day runs once even with several server processes (the unique key decides;
-- on PostgreSQL the loser's INSERT … ON CONFLICT DO NOTHING changes nothing).
-- A claim that failed, or whose owner died (stale `claimed_at`), is taken
-- over by an UPDATE guarded by the same conditions.
CREATE TABLE jobs (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    owner TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    claimed_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT,
    PRIMARY KEY (tenant_id, kind, day)
) STRICT;

-- RFC 3161 time-stamp tokens over signed checkpoints (DECISIONS 12: the
-- day's last checkpoint is timestamped). The token is the DER ContentInfo
-- as the TSA returned it; one per checkpoint.
CREATE TABLE checkpoint_timestamps (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    size INTEGER NOT NULL,
    imprint BLOB NOT NULL,
    token BLOB NOT NULL,
    gen_time TEXT NOT NULL,
    tsa_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, size)
) STRICT;

-- The registri giornalieri: one per (tenant, register, day), written once.
-- The PDF/A and XML live in the document store by fingerprint (`pdf`,
-- `xml`: JSON DocumentRef); the row is ledgered as
-- `protocollo.registro_giornaliero`.
CREATE TABLE registri_giornalieri (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    day TEXT NOT NULL,
    register TEXT NOT NULL,
    code TEXT NOT NULL,
    repertorio_number INTEGER NOT NULL,
    first_number INTEGER,
    last_number INTEGER,
    registrations INTEGER NOT NULL,
    modifications INTEGER NOT NULL,
    pdf TEXT NOT NULL,
    xml TEXT NOT NULL,
    checkpoint_size INTEGER,
    checkpoint_root BLOB,
    timestamped INTEGER NOT NULL,
    produced_at TEXT NOT NULL,
    produced_by TEXT NOT NULL,
    conservation_state TEXT NOT NULL,
    conservation_deadline TEXT NOT NULL,
    UNIQUE (tenant_id, register, day),
    UNIQUE (tenant_id, code)
) STRICT;
CREATE INDEX registri_giornalieri_day ON registri_giornalieri(tenant_id, day);

CREATE TRIGGER checkpoint_timestamps_fixed BEFORE UPDATE ON checkpoint_timestamps
BEGIN SELECT RAISE(ABORT, 'checkpoint_timestamps: a token never changes'); END;
CREATE TRIGGER checkpoint_timestamps_no_delete BEFORE DELETE ON checkpoint_timestamps
BEGIN SELECT RAISE(ABORT, 'checkpoint_timestamps: a token is never deleted'); END;
CREATE TRIGGER registri_giornalieri_no_delete BEFORE DELETE ON registri_giornalieri
BEGIN SELECT RAISE(ABORT, 'registri_giornalieri: a registro is never deleted'); END;
-- The content is frozen (LG §3: unmodifiable); only the conservation state moves.
CREATE TRIGGER registri_giornalieri_frozen BEFORE UPDATE ON registri_giornalieri
WHEN NEW.pdf IS NOT OLD.pdf OR NEW.xml IS NOT OLD.xml OR NEW.day IS NOT OLD.day
  OR NEW.register IS NOT OLD.register OR NEW.code IS NOT OLD.code
  OR NEW.checkpoint_size IS NOT OLD.checkpoint_size OR NEW.checkpoint_root IS NOT OLD.checkpoint_root
  OR NEW.first_number IS NOT OLD.first_number OR NEW.last_number IS NOT OLD.last_number
  OR NEW.registrations IS NOT OLD.registrations
BEGIN SELECT RAISE(ABORT, 'registri_giornalieri: the content of a registro is frozen'); END;
