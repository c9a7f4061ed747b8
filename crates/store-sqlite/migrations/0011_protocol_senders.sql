-- The senders of incoming registrations by fiscal code (issue 4 item 7): the
-- citizen's "Le mie protocollazioni" and the receipt download look up the
-- registrations whose mittente has the citizen's codice fiscale without
-- scanning the register. A derived index of `protocol_entries.correspondents`
-- (JSON): one row per incoming registration and distinct fiscal code
-- (trimmed, upper case), written with the registration and never changed,
-- like the fixed fields it is derived from.
CREATE TABLE protocol_senders (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    fiscal_code TEXT NOT NULL,
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    PRIMARY KEY (tenant_id, fiscal_code, registration_id)
) STRICT, WITHOUT ROWID;

-- The registrations made before this migration.
INSERT OR IGNORE INTO protocol_senders (tenant_id, fiscal_code, registration_id)
SELECT e.tenant_id, upper(trim(json_extract(c.value, '$.fiscal_code'))), e.id
FROM protocol_entries e, json_each(e.correspondents) c
WHERE e.flow = 'E'
  AND json_extract(c.value, '$.fiscal_code') IS NOT NULL
  AND trim(json_extract(c.value, '$.fiscal_code')) <> '';

CREATE TRIGGER protocol_senders_fixed BEFORE UPDATE ON protocol_senders
BEGIN SELECT RAISE(ABORT, 'protocol_senders: rows cannot change'); END;
CREATE TRIGGER protocol_senders_no_delete BEFORE DELETE ON protocol_senders
BEGIN SELECT RAISE(ABORT, 'protocol_senders: rows are never deleted'); END;
