-- Online istanze and their procedures (issue 6): the versioned definition
-- of each online service (form + procedure, JSON), the citizens' drafts and
-- their attachments, the pratiche filed and their append-only history.
CREATE TABLE service_definitions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    service_slug TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, service_slug, version)
) STRICT;

CREATE TRIGGER service_definitions_fixed BEFORE UPDATE ON service_definitions
BEGIN SELECT RAISE(ABORT, 'service_definitions: a saved version cannot change'); END;

-- C.SE.1.6: drafts, saved at any moment. `bozza_key` is the idempotency key
-- of the submission.
CREATE TABLE pratica_bozze (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    service_slug TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    answers TEXT NOT NULL,
    step TEXT NOT NULL,
    bozza_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, bozza_key)
) STRICT;
CREATE INDEX pratica_bozze_user ON pratica_bozze(tenant_id, user_id, updated_at);

CREATE TABLE pratiche (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    service_slug TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    applicant_user_id INTEGER REFERENCES users(id),
    applicant_cf TEXT,
    applicant_name TEXT NOT NULL,
    applicant_email TEXT,
    subject TEXT NOT NULL,
    answers TEXT NOT NULL,
    registration_id INTEGER NOT NULL REFERENCES protocol_entries(id),
    fascicolo_id INTEGER REFERENCES fascicoli(id),
    office_id INTEGER NOT NULL REFERENCES offices(id),
    responsabile_user_id INTEGER REFERENCES users(id),
    received_on TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    state TEXT NOT NULL,
    deadline TEXT,
    pratica_key TEXT NOT NULL,
    closed_at TEXT,
    UNIQUE (tenant_id, pratica_key)
) STRICT;
CREATE INDEX pratiche_applicant ON pratiche(tenant_id, applicant_user_id, id);
CREATE INDEX pratiche_office ON pratiche(tenant_id, office_id, closed_at, deadline);

-- What was filed never changes; only the procedure's own columns do.
CREATE TRIGGER pratiche_filed BEFORE UPDATE ON pratiche
    WHEN NEW.service_slug IS NOT OLD.service_slug
      OR NEW.definition_version IS NOT OLD.definition_version
      OR NEW.applicant_user_id IS NOT OLD.applicant_user_id
      OR NEW.applicant_cf IS NOT OLD.applicant_cf
      OR NEW.applicant_name IS NOT OLD.applicant_name
      OR NEW.subject IS NOT OLD.subject OR NEW.answers IS NOT OLD.answers
      OR NEW.registration_id IS NOT OLD.registration_id
      OR NEW.received_on IS NOT OLD.received_on
      OR NEW.submitted_at IS NOT OLD.submitted_at
      OR NEW.pratica_key IS NOT OLD.pratica_key
BEGIN SELECT RAISE(ABORT, 'pratiche: what was filed cannot change'); END;

CREATE TABLE pratica_eventi (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    pratica_id INTEGER NOT NULL REFERENCES pratiche(id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    on_date TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT,
    payload TEXT NOT NULL,
    registration_id INTEGER REFERENCES protocol_entries(id),
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    PRIMARY KEY (tenant_id, pratica_id, seq)
) STRICT;

CREATE TRIGGER pratica_eventi_append_only BEFORE UPDATE ON pratica_eventi
BEGIN SELECT RAISE(ABORT, 'pratica_eventi: the history is append-only'); END;
CREATE TRIGGER pratica_eventi_no_delete BEFORE DELETE ON pratica_eventi
BEGIN SELECT RAISE(ABORT, 'pratica_eventi: the history is append-only'); END;

-- Files of drafts and pratiche, in the document store by SHA-256. Exactly
-- one owner.
CREATE TABLE pratica_allegati (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    bozza_id INTEGER REFERENCES pratica_bozze(id) ON DELETE CASCADE,
    pratica_id INTEGER REFERENCES pratiche(id),
    spec_id TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 BLOB NOT NULL CHECK (length(sha256) = 32),
    event_seq INTEGER,
    uploaded_at TEXT NOT NULL,
    CHECK ((bozza_id IS NULL) <> (pratica_id IS NULL))
) STRICT;
CREATE INDEX pratica_allegati_bozza ON pratica_allegati(tenant_id, bozza_id) WHERE bozza_id IS NOT NULL;
CREATE INDEX pratica_allegati_pratica ON pratica_allegati(tenant_id, pratica_id) WHERE pratica_id IS NOT NULL;
