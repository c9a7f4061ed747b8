-- The e-mail outbox (issue 6): one row per message to a citizen, inserted
-- in the transaction of the business action that causes it and sent later
-- by the mail worker (transactional outbox). A worker claims due rows by
-- raising attempts and moving next_attempt_at to the end of its lease.
-- last_error holds the server's answer, never a secret.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT,
    reply_to TEXT,
    related_kind TEXT,
    related_id INTEGER,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    message_id TEXT,
    CHECK ((related_kind IS NULL) = (related_id IS NULL)),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX mail_outbox_tenant ON mail_outbox(tenant_id, state, id);
CREATE INDEX mail_outbox_related ON mail_outbox(tenant_id, related_kind, related_id)
    WHERE related_kind IS NOT NULL;
