-- Hand-offs to a named person and refused hand-offs back at their desk
-- (issue 4, part 4; TI-5; docs/fascicoli.md "Hand-offs").
--
-- 1. The desk a hand-off was assigned from: an office or a person, never
--    both; NULL for the hand-offs stored before this migration (their
--    ledgered states do not name a desk and still match). A refused
--    hand-off comes back to this desk, flagged "Rifiutata", until the desk
--    re-assigns it (a new hand-off whose parent is the refused one) or
--    takes note of it (a `preso_atto` step): both are derived from the
--    append-only rows, nothing here is rewritten.
ALTER TABLE handoffs ADD COLUMN desk_office_id INTEGER REFERENCES offices(id);
ALTER TABLE handoffs ADD COLUMN desk_user_id INTEGER REFERENCES users(id);

-- 2. The personal inbox ("Le mie assegnazioni"), the desks' returned
--    hand-offs, and the continuations of a hand-off.
CREATE INDEX handoffs_user ON handoffs(tenant_id, user_id, state);
CREATE INDEX handoffs_desk_office ON handoffs(tenant_id, desk_office_id, state);
CREATE INDEX handoffs_desk_user ON handoffs(tenant_id, desk_user_id, state);
CREATE INDEX handoffs_parent ON handoffs(tenant_id, parent_id);
