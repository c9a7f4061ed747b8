-- LOG-6 (protocol-documents.md §10): one API call, one ledger event. Filing
-- an online istanza, or a step of a pratica, writes several records in one
-- transaction (the registration, the fascicolo, the hand-off, the pratica
-- and the step of its history). The step of the history carries the state
-- hashes of the pratica, fascicolo and hand-off it wrote; the registration
-- filed with it carries the step's. The registration's one event
-- (`protocollo.registered`) then binds them all, or, for a step without a
-- document, the step's own event (`pratica.evento`) does. A JSON array of
-- {"subject", "state"} with the state as 64 lower-case hex digits; NULL
-- for rows without bindings and for rows stored before.
ALTER TABLE protocol_entries ADD COLUMN bindings TEXT;
ALTER TABLE pratica_eventi ADD COLUMN bindings TEXT;

-- Written once, in the transaction that files the records, never changed
-- (a step of the history is append-only already).
CREATE TRIGGER protocol_entries_bindings_once BEFORE UPDATE OF bindings
    ON protocol_entries WHEN OLD.bindings IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'protocol_entries: the bindings cannot change'); END;
