-- Sign-in and access (issue 3): people who sign in, their identity links,
-- sign-in history, role grants, break-glass administrators and sessions.

-- A person known to the comune through a sign-in. Citizens are keyed on the
-- codice fiscale of their verified identity; staff from the comune's own
-- provider may have none.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    codice_fiscale TEXT,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    birth_date TEXT,
    birth_place TEXT,
    email TEXT,
    phone TEXT,
    notice_channel TEXT NOT NULL CHECK (notice_channel IN ('email', 'sms', 'posta', 'app')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, codice_fiscale)
) STRICT;

-- How a user signs in: one row per (issuer, subject) (identity-stack A.2).
CREATE TABLE identity_links (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    provider TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (tenant_id, issuer, subject)
) STRICT;
CREATE INDEX identity_links_user ON identity_links(tenant_id, user_id);

-- Every sign-in, shown to the user in the personal area.
CREATE TABLE sign_ins (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    time TEXT NOT NULL,
    provider TEXT NOT NULL,
    acr TEXT
) STRICT;
CREATE INDEX sign_ins_user ON sign_ins(tenant_id, user_id, time);

-- Roles held in a comune. office_id 0 = not office-scoped.
CREATE TABLE role_grants (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    office_id INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('admin', 'idp')),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role, office_id)
) STRICT;

-- Break-glass administrators (DECISIONS 23): password + mandatory TOTP.
-- tenant_id NULL = administrator of the platform.
CREATE TABLE local_admins (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER REFERENCES tenants(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_phc TEXT NOT NULL,
    totp_secret BLOB NOT NULL,
    totp_last_step INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL,
    locked_until TEXT,
    created_at TEXT NOT NULL
) STRICT;

-- Server-side sessions. The cookie holds a random token; only its SHA-256
-- is stored, so a copy of the database cannot be used to take over sessions.
CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER REFERENCES users(id),
    admin_id INTEGER REFERENCES local_admins(id),
    csrf TEXT NOT NULL,
    provider TEXT,
    acr TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(tenant_id, user_id);
CREATE INDEX sessions_admin ON sessions(admin_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);
