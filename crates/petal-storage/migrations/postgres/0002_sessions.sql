-- Second factors, pending logins and sessions (PostgreSQL).

-- Backup codes, stored as keyed hashes; each works once.
CREATE TABLE backup_codes (
    user_id     uuid NOT NULL REFERENCES users (id),
    org_id      uuid NOT NULL REFERENCES organisations (id),
    code_hash   bytea NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- A password that was accepted, waiting for its second factor: the `mfa_token`.
CREATE TABLE login_challenges (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organisations (id),
    user_id         uuid NOT NULL REFERENCES users (id),
    token_hash      bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    consumed_at     timestamptz,
    failed_attempts bigint NOT NULL DEFAULT 0,
    -- A WebAuthn ceremony in progress (server-side state, so any replica can finish it).
    webauthn_state  text
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

-- A signed-in session. The JWT names the session; this row decides whether it is alive.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organisations (id),
    user_id         uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    -- When the password and a second factor were last checked (login or step-up).
    reauth_at       timestamptz NOT NULL,
    csrf_hash       bytea NOT NULL,
    ip              text,
    user_agent      text,
    revoked_at      timestamptz,
    revoked_reason  text
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One-time SMS codes (keyed hashes), 5 minutes, single use, 5 wrong guesses at most.
CREATE TABLE sms_codes (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organisations (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    code_hash   bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    wrong_guesses bigint NOT NULL DEFAULT 0
);
CREATE INDEX sms_codes_user ON sms_codes (user_id, created_at);

-- WebAuthn passkeys (the credential as serialised by webauthn-rs: public key and counter).
CREATE TABLE passkeys (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organisations (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    credential  text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX passkeys_user ON passkeys (user_id);
