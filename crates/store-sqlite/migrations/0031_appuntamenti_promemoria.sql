-- Appointment reminders (issue 6): the reminder e-mail repeats the public
-- code of the booking, which is otherwise kept only as its SHA-256. The
-- code is kept here from the booking until the reminder is queued, or
-- until the booking leaves 'prenotato' (cancelled, marked), whichever comes
-- first; then it is set to NULL. A booking made after its reminder moment
-- (docs/appuntamenti.md) never stores it: it gets no reminder.
ALTER TABLE appuntamenti ADD COLUMN reminder_code TEXT;
