-- The senders of incoming registrations by fiscal code (issue 4 item 7): the
-- citizen's "Le mie protocollazioni" and the receipt download look up the
-- registrations whose mittente has the citizen's codice fiscale without
-- scanning the register. A derived index of `protocol_entries.correspondents`
-- (JSON): one row per incoming registration and distinct fiscal code
-- (trimmed, upper case), written with the registration and never changed,
-- like the fixed fields it is derived from.
CREATE TABLE protocol_senders (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    fiscal_code TEXT NOT NULL,
    registration_id BIGINT NOT NULL REFERENCES protocol_entries(id),
    PRIMARY KEY (tenant_id, fiscal_code, registration_id)
);

-- The registrations made before this migration.
INSERT INTO protocol_senders (tenant_id, fiscal_code, registration_id)
SELECT e.tenant_id, upper(btrim(c->>'fiscal_code')), e.id
FROM protocol_entries e, jsonb_array_elements(e.correspondents::jsonb) c
WHERE e.flow = 'E'
  AND c->>'fiscal_code' IS NOT NULL
  AND btrim(c->>'fiscal_code') <> ''
ON CONFLICT DO NOTHING;

CREATE FUNCTION palazzo_protocol_senders_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'protocol_senders: rows cannot change or be deleted';
END;
$$;
CREATE TRIGGER protocol_senders_fixed BEFORE UPDATE OR DELETE ON protocol_senders
    FOR EACH ROW EXECUTE FUNCTION palazzo_protocol_senders_fixed();
