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
ALTER TABLE handoffs ADD COLUMN continuation_id BIGINT;
ALTER TABLE handoffs ADD COLUMN continuation_state TEXT;

-- Each binding is written once, in the transaction that creates the bound
-- record, and never changes after.
CREATE FUNCTION palazzo_binding_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'protocol_entries' THEN
        IF OLD.segnatura_state IS NOT NULL
           AND NEW.segnatura_state IS DISTINCT FROM OLD.segnatura_state THEN
            RAISE EXCEPTION 'protocol_entries: the segnatura binding cannot change';
        END IF;
    ELSIF (OLD.continuation_id IS NOT NULL OR OLD.continuation_state IS NOT NULL)
          AND (NEW.continuation_id, NEW.continuation_state)
              IS DISTINCT FROM (OLD.continuation_id, OLD.continuation_state) THEN
        RAISE EXCEPTION 'handoffs: the continuation binding cannot change';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER protocol_entries_segnatura_once BEFORE UPDATE ON protocol_entries
    FOR EACH ROW EXECUTE FUNCTION palazzo_binding_once();
CREATE TRIGGER handoffs_continuation_once BEFORE UPDATE ON handoffs
    FOR EACH ROW EXECUTE FUNCTION palazzo_binding_once();
