-- LOG-6 (protocol-documents.md §10): every API call that changes protocol
-- or fascicolo state appends exactly one ledger event. Two calls change two
-- records at once: registering an entry with its segnatura (outgoing, or
-- received with an interoperable message) and forwarding a hand-off (the
-- forwarded one and its continuation). The second record's state hash is
-- written on the first, whose one event then binds both (64 lower-case hex
-- digits; NULL for rows stored before, whose second record has an event of
-- its own). A forwarded hand-off also names its continuation, so that
-- `palazzo verify` misses it if it is deleted.
ALTER TABLE protocol_entries ADD COLUMN segnatura_state TEXT;
ALTER TABLE handoffs ADD COLUMN continuation_id INTEGER;
ALTER TABLE handoffs ADD COLUMN continuation_state TEXT;

-- Each binding is written once, in the transaction that creates the bound
-- record, and never changes after.
CREATE TRIGGER protocol_entries_segnatura_once BEFORE UPDATE OF segnatura_state
    ON protocol_entries WHEN OLD.segnatura_state IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'protocol_entries: the segnatura binding cannot change'); END;
CREATE TRIGGER handoffs_continuation_once BEFORE UPDATE OF continuation_id, continuation_state
    ON handoffs WHEN OLD.continuation_id IS NOT NULL OR OLD.continuation_state IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'handoffs: the continuation binding cannot change'); END;
