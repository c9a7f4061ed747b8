-- The registro giornaliero di protocollo (DPR 445/2000 art. 53 c.2; PR-9;
-- docs/registro-giornaliero.md) and the job table that produces it once a
-- day (DESIGN "Jobs").

-- One row per (tenant, kind, day): inserting it is the claim, so a job of a
-- day runs once even with several server processes (the unique key decides;
-- on PostgreSQL the loser's INSERT … ON CONFLICT DO NOTHING changes nothing).
-- A claim that failed, or whose owner died (stale `claimed_at`), is taken
-- over by an UPDATE guarded by the same conditions.
CREATE TABLE jobs (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    owner TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    error TEXT,
    PRIMARY KEY (tenant_id, kind, day)
);

-- RFC 3161 time-stamp tokens over signed checkpoints (DECISIONS 12: the
-- day's last checkpoint is timestamped). The token is the DER ContentInfo
-- as the TSA returned it; one per checkpoint.
CREATE TABLE checkpoint_timestamps (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    size BIGINT NOT NULL,
    imprint BYTEA NOT NULL,
    token BYTEA NOT NULL,
    gen_time TIMESTAMPTZ NOT NULL,
    tsa_url TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, size)
);

-- The registri giornalieri: one per (tenant, register, day), written once.
-- The PDF/A and XML live in the document store by fingerprint (`pdf`,
-- `xml`: JSON DocumentRef); the row is ledgered as
-- `protocollo.registro_giornaliero`.
CREATE TABLE registri_giornalieri (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    day TEXT NOT NULL,
    register TEXT NOT NULL,
    code TEXT NOT NULL,
    repertorio_number BIGINT NOT NULL,
    first_number BIGINT,
    last_number BIGINT,
    registrations BIGINT NOT NULL,
    modifications BIGINT NOT NULL,
    pdf TEXT NOT NULL,
    xml TEXT NOT NULL,
    checkpoint_size BIGINT,
    checkpoint_root BYTEA,
    timestamped BOOLEAN NOT NULL,
    produced_at TIMESTAMPTZ NOT NULL,
    produced_by TEXT NOT NULL,
    conservation_state TEXT NOT NULL,
    conservation_deadline TEXT NOT NULL,
    UNIQUE (tenant_id, register, day),
    UNIQUE (tenant_id, code)
);
CREATE INDEX registri_giornalieri_day ON registri_giornalieri(tenant_id, day);

CREATE FUNCTION palazzo_checkpoint_timestamp_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'checkpoint_timestamps: a token never changes';
END;
$$;
CREATE TRIGGER checkpoint_timestamps_fixed BEFORE UPDATE OR DELETE ON checkpoint_timestamps
    FOR EACH ROW EXECUTE FUNCTION palazzo_checkpoint_timestamp_fixed();

-- The content is frozen (LG §3: unmodifiable); only the conservation state moves.
CREATE FUNCTION palazzo_registro_giornaliero_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'registri_giornalieri: a registro is never deleted';
    END IF;
    IF NEW.pdf IS DISTINCT FROM OLD.pdf OR NEW.xml IS DISTINCT FROM OLD.xml
       OR NEW.day IS DISTINCT FROM OLD.day OR NEW.register IS DISTINCT FROM OLD.register
       OR NEW.code IS DISTINCT FROM OLD.code
       OR NEW.checkpoint_size IS DISTINCT FROM OLD.checkpoint_size
       OR NEW.checkpoint_root IS DISTINCT FROM OLD.checkpoint_root
       OR NEW.first_number IS DISTINCT FROM OLD.first_number
       OR NEW.last_number IS DISTINCT FROM OLD.last_number
       OR NEW.registrations IS DISTINCT FROM OLD.registrations THEN
        RAISE EXCEPTION 'registri_giornalieri: the content of a registro is frozen';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER registri_giornalieri_frozen BEFORE UPDATE OR DELETE ON registri_giornalieri
    FOR EACH ROW EXECUTE FUNCTION palazzo_registro_giornaliero_frozen();
