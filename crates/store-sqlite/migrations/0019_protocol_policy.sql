-- The comune's classification policy for the register (issue 4, TI-2):
-- either a registration without a classification is refused
-- (`classification_mandatory` = 1), or it is allowed in the "da classificare"
-- state, to be classified within `classify_within_days` working days of the
-- registration date (office calendar of the comune). One row per comune; no
-- row means the default (allowed, 5 working days). Each change is ledgered
-- as `protocollo.politica` with its author.
CREATE TABLE protocol_policies (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    classification_mandatory INTEGER NOT NULL CHECK (classification_mandatory IN (0, 1)),
    classify_within_days INTEGER NOT NULL CHECK (classify_within_days BETWEEN 1 AND 60),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
) STRICT;
