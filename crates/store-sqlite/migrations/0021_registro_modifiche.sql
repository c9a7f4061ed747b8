-- The registro giornaliero reports every change made that day (issue 4
-- part 6; DPR 445/2000 art. 53; LG 2021 §3; PR-9): besides the
-- classification and office changes and the annulments (`modifications`),
-- the new versions of documents (SYS-3, migration 0015) and the notices of
-- annulment received from senders (migration 0017). Registri produced
-- before this migration listed neither: their count is 0, and the ledger
-- state of a registro leaves out a count that is 0, so their recorded hash
-- still holds.
ALTER TABLE registri_giornalieri ADD COLUMN document_versions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE registri_giornalieri ADD COLUMN annulment_notices INTEGER NOT NULL DEFAULT 0;

-- The day's changes, versions and notices are read by time.
CREATE INDEX protocol_changes_time ON protocol_changes(tenant_id, at);
CREATE INDEX protocol_document_versions_time ON protocol_document_versions(tenant_id, created_at);
CREATE INDEX protocol_annulment_notices_time ON protocol_annulment_notices(tenant_id, received_at);
