-- The time of each tenant's last ledger event, so that a new event's time is
-- never before the previous one even if a clock steps back or two instances
-- disagree (DECISIONS 8: number order and time order agree).
ALTER TABLE ledger_heads ADD COLUMN last_time TIMESTAMPTZ NOT NULL DEFAULT 'epoch';

-- The ledger is append-only. This trigger stops accidental or careless
-- changes; it is not the security boundary (a superuser can drop it):
-- `palazzo verify` is.
CREATE FUNCTION palazzo_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION palazzo_append_only();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION palazzo_append_only();
