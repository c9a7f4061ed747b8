-- API keys for the JSON API (issue 4, part 8): a staff member's personal
-- bearer token. Only the SHA-256 of the token is stored; the token acts with
-- the user's roles at the time of each call, so revoking a role revokes it
-- for the key too.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens(tenant_id, user_id);
