-- A hand-off continues in at most one other (issue 4, part 4): a forward
-- makes one new hand-off whose parent is the forwarded one, and a refused
-- hand-off is re-assigned from its desk at most once. The unique index
-- makes the second of two simultaneous re-assignments fail instead of
-- creating two continuations (NULL parents, first assignments, are
-- distinct and unaffected).
CREATE UNIQUE INDEX handoffs_one_continuation ON handoffs(tenant_id, parent_id);
