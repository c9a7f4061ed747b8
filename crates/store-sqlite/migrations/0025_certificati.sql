-- Issued anagrafe certificates (issue 5, part 3; DECISIONS 16-20): one row
-- per sealed certificate. The PDF is in the document store under
-- pdf_sha256 (exactly those bytes are released, DECISIONS 20); the status
-- bit (status_list = year of issue, status_idx random in it) is set by a
-- revocation. The sealed columns never change: only the settlement of the
-- bollo (ANA-03) and the revocation are written later, once each.
CREATE TABLE certificati (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    cti BLOB NOT NULL CHECK (length(cti) = 16),
    doc_type TEXT NOT NULL,
    holder_cf TEXT NOT NULL,
    holder_surname TEXT NOT NULL,
    uso TEXT NOT NULL,
    bollo_cents INTEGER NOT NULL CHECK (bollo_cents >= 0),
    issued_at TEXT NOT NULL,
    valid_until TEXT,
    pdf_sha256 BLOB NOT NULL CHECK (length(pdf_sha256) = 32),
    pdf_size INTEGER NOT NULL,
    kid TEXT NOT NULL,
    status_list INTEGER NOT NULL,
    status_idx INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('online', 'sportello')),
    bollo_method TEXT,
    bollo_reference TEXT,
    bollo_recorded_at TEXT,
    bollo_recorded_by TEXT,
    revoked_at TEXT,
    revoked_by TEXT,
    revocation_reason TEXT,
    UNIQUE (tenant_id, cti),
    UNIQUE (tenant_id, status_list, status_idx)
) STRICT;
CREATE INDEX certificati_holder ON certificati(tenant_id, holder_cf, id);
CREATE INDEX certificati_revoked ON certificati(tenant_id, status_list) WHERE revoked_at IS NOT NULL;

CREATE TRIGGER certificati_sealed BEFORE UPDATE ON certificati
    WHEN NEW.cti IS NOT OLD.cti OR NEW.doc_type IS NOT OLD.doc_type
      OR NEW.holder_cf IS NOT OLD.holder_cf OR NEW.holder_surname IS NOT OLD.holder_surname
      OR NEW.uso IS NOT OLD.uso OR NEW.bollo_cents IS NOT OLD.bollo_cents
      OR NEW.issued_at IS NOT OLD.issued_at OR NEW.valid_until IS NOT OLD.valid_until
      OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256 OR NEW.pdf_size IS NOT OLD.pdf_size
      OR NEW.kid IS NOT OLD.kid OR NEW.status_list IS NOT OLD.status_list
      OR NEW.status_idx IS NOT OLD.status_idx OR NEW.requested_by IS NOT OLD.requested_by
      OR NEW.channel IS NOT OLD.channel
      OR (OLD.bollo_method IS NOT NULL AND (NEW.bollo_method IS NOT OLD.bollo_method
          OR NEW.bollo_reference IS NOT OLD.bollo_reference
          OR NEW.bollo_recorded_at IS NOT OLD.bollo_recorded_at
          OR NEW.bollo_recorded_by IS NOT OLD.bollo_recorded_by))
      OR (OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS NOT OLD.revoked_at
          OR NEW.revoked_by IS NOT OLD.revoked_by
          OR NEW.revocation_reason IS NOT OLD.revocation_reason))
BEGIN SELECT RAISE(ABORT, 'certificati: a sealed certificate cannot change'); END;
