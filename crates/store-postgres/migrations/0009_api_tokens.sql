-- API keys for the JSON API (issue 4, part 8): a staff member's personal
-- bearer token. Only the SHA-256 of the token is stored; the token acts with
-- the user's roles at the time of each call, so revoking a role revokes it
-- for the key too.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash BYTEA NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens(tenant_id, user_id);
