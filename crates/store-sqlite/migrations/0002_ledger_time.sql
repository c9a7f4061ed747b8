-- The time of each tenant's last ledger event, so that a new event's time is
-- never before the previous one even if the clock steps back (DECISIONS 8:
-- number order and time order agree).
ALTER TABLE ledger_heads ADD COLUMN last_time TEXT NOT NULL DEFAULT '1970-01-01T00:00:00Z';

-- The ledger is append-only. These triggers stop accidental or careless
-- changes; they are not the security boundary (someone with full database
-- access can drop them): `palazzo verify` is.
CREATE TRIGGER ledger_events_append_only_update BEFORE UPDATE ON ledger_events
BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only'); END;
CREATE TRIGGER ledger_events_append_only_delete BEFORE DELETE ON ledger_events
BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only'); END;
CREATE TRIGGER ledger_checkpoints_append_only_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;
CREATE TRIGGER ledger_checkpoints_append_only_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;
