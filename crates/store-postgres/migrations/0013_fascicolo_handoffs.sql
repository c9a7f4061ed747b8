-- Hand-offs of whole fascicoli and restricted areas (issue 4, part 4;
-- protocol-documents.md §5.3, TI-5, TI-6; CAD art. 41 c.2-quater).
--
-- 1. A hand-off targets either a registration or a fascicolo: one state
--    machine, one inbox per office, one waiting-time report (TI-5).
ALTER TABLE handoffs ALTER COLUMN registration_id DROP NOT NULL;
ALTER TABLE handoffs ADD COLUMN fascicolo_id BIGINT REFERENCES fascicoli(id);
ALTER TABLE handoffs ADD CONSTRAINT handoffs_one_subject
    CHECK ((registration_id IS NULL) <> (fascicolo_id IS NULL));
CREATE INDEX handoffs_fascicolo ON handoffs(tenant_id, fascicolo_id);

-- 2. Restricted areas (TI-6): a fascicolo marked riservato, with the offices
--    and users designated to read it besides its responsible office (JSON
--    `{"offices": [..], "users": [..], "at": .., "by": ..}`); NULL when it
--    is not restricted. A restricted fascicolo's sub-fascicoli are inside
--    the area too (the services walk the parents).
ALTER TABLE fascicoli ADD COLUMN restriction TEXT;
CREATE INDEX fascicoli_parent ON fascicoli(tenant_id, parent_id);
