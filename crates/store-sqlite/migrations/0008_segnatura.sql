-- The segnatura di protocollo of a registration (Allegato 6): the signed
-- SegnaturaInformatica XML Palazzo wrote for an outgoing entry, or the one
-- received with an incoming protocol message. The XML is in the document
-- store; this row binds its fingerprint to the registration and is written
-- in the registration's own transaction (art. 53 c.3, PR-2). For a received
-- message the sender's Identificatore is kept, unique per tenant, so the
-- same message is registered once and an annulment can find it.
CREATE TABLE protocol_segnature (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    kind TEXT NOT NULL CHECK (kind IN ('emessa', 'ricevuta')),
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sender_ipa TEXT,
    sender_aoo TEXT,
    sender_register TEXT,
    sender_number TEXT,
    sender_date TEXT,
    PRIMARY KEY (tenant_id, registration_id)
) STRICT;
CREATE UNIQUE INDEX protocol_segnature_sender ON protocol_segnature(
    tenant_id, sender_ipa, sender_aoo, sender_register, sender_number, sender_date)
    WHERE sender_ipa IS NOT NULL;

CREATE TRIGGER protocol_segnature_fixed BEFORE UPDATE ON protocol_segnature
BEGIN SELECT RAISE(ABORT, 'protocol_segnature: a segnatura never changes'); END;
CREATE TRIGGER protocol_segnature_no_delete BEFORE DELETE ON protocol_segnature
BEGIN SELECT RAISE(ABORT, 'protocol_segnature: a segnatura is never deleted'); END;
