-- Appointment booking (issue 6, part 7; C.SI.2.1, C.SE.2.2).
--
-- appuntamenti_calendari: the booking calendar of an office, as the
-- canonical JSON of palazzo_domain::appuntamenti::CalendarSpec (weekly
-- windows, seats, validity, closures, notice, horizon, services, topics).
--
-- appuntamenti: one row per booking of one seat of one slot. The slot start
-- is a UTC instant (RFC 3339 text, whole minutes, so text equality is
-- instant equality); slot_date is its Europe/Rome civil date (the agenda's
-- day). Only the SHA-256 of the public code is kept. No double booking: the
-- partial unique index over the active bookings (every state but
-- 'annullato') lets exactly one of two concurrent bookings of a seat in.
CREATE TABLE appuntamenti_calendari (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    office_id INTEGER NOT NULL REFERENCES offices(id),
    spec TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, office_id)
) STRICT;

CREATE TABLE appuntamenti (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    office_id INTEGER NOT NULL REFERENCES offices(id),
    slot_start TEXT NOT NULL,
    slot_end TEXT NOT NULL,
    slot_date TEXT NOT NULL,
    seat INTEGER NOT NULL CHECK (seat >= 1),
    service_slug TEXT,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (length(reason) <= 500),
    name TEXT NOT NULL,
    surname TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    user_id INTEGER REFERENCES users(id),
    code_sha256 BLOB NOT NULL CHECK (length(code_sha256) = 32),
    state TEXT NOT NULL DEFAULT 'prenotato'
        CHECK (state IN ('prenotato', 'annullato', 'presentato', 'assente')),
    created_at TEXT NOT NULL,
    changed_at TEXT,
    changed_by TEXT,
    reminder_sent_at TEXT,
    UNIQUE (tenant_id, code_sha256)
) STRICT;
CREATE UNIQUE INDEX appuntamenti_posto ON appuntamenti(tenant_id, office_id, slot_start, seat)
    WHERE state <> 'annullato';
CREATE INDEX appuntamenti_giorno ON appuntamenti(tenant_id, office_id, slot_date);
CREATE INDEX appuntamenti_utente ON appuntamenti(tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX appuntamenti_promemoria ON appuntamenti(tenant_id, slot_date)
    WHERE state = 'prenotato' AND reminder_sent_at IS NULL;
