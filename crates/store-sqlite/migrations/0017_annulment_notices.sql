-- Received notices of annulment (Allegato 6 §3.1, AnnullamentoProtocollazione):
-- the sender annulled a registration whose message we received and
-- registered. The receiving AOO is informed and decides; the notice is kept
-- with our registration (its reason, the sender's act, the received XML in
-- the document store, who received it and when), at most one per
-- registration, never changed (ledgered as protocollo.annullamento_ricevuto).
CREATE TABLE protocol_annulment_notices (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    received_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    act TEXT NOT NULL,
    document TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, registration_id)
) STRICT;

CREATE TRIGGER protocol_annulment_notices_fixed BEFORE UPDATE ON protocol_annulment_notices
BEGIN SELECT RAISE(ABORT, 'protocol_annulment_notices: a notice never changes'); END;
CREATE TRIGGER protocol_annulment_notices_no_delete BEFORE DELETE ON protocol_annulment_notices
BEGIN SELECT RAISE(ABORT, 'protocol_annulment_notices: a notice is never deleted'); END;
