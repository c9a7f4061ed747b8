-- Received notices of annulment (Allegato 6 §3.1, AnnullamentoProtocollazione):
-- the sender annulled a registration whose message we received and
-- registered. The receiving AOO is informed and decides; the notice is kept
-- with our registration (its reason, the sender's act, the received XML in
-- the document store, who received it and when), at most one per
-- registration, never changed (ledgered as protocollo.annullamento_ricevuto).
CREATE TABLE protocol_annulment_notices (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    registration_id BIGINT NOT NULL REFERENCES protocol_entries(id),
    received_at TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL,
    act TEXT NOT NULL,
    document TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, registration_id)
);

CREATE FUNCTION palazzo_annulment_notices_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'protocol_annulment_notices: a notice never changes and is never deleted';
END;
$$;
CREATE TRIGGER protocol_annulment_notices_fixed BEFORE UPDATE OR DELETE ON protocol_annulment_notices
    FOR EACH ROW EXECUTE FUNCTION palazzo_annulment_notices_fixed();
