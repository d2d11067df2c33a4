-- Second factors, pending logins and sessions (SQLite).

-- Backup codes, stored as keyed hashes; each works once.
CREATE TABLE backup_codes (
    user_id     BLOB NOT NULL REFERENCES users (id),
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    code_hash   BLOB NOT NULL,
    used_at     TEXT,
    PRIMARY KEY (user_id, code_hash)
);

-- A password that was accepted, waiting for its second factor: the `mfa_token`.
CREATE TABLE login_challenges (
    id              BLOB PRIMARY KEY NOT NULL,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    user_id         BLOB NOT NULL REFERENCES users (id),
    token_hash      BLOB NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    consumed_at     TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    -- A WebAuthn ceremony in progress (server-side state, so any replica can finish it).
    webauthn_state  TEXT
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

-- A signed-in session. The JWT names the session; this row decides whether it is alive.
CREATE TABLE sessions (
    id              BLOB PRIMARY KEY NOT NULL,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    user_id         BLOB NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    -- When the password and a second factor were last checked (login or step-up).
    reauth_at       TEXT NOT NULL,
    csrf_hash       BLOB NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    revoked_at      TEXT,
    revoked_reason  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One-time SMS codes (keyed hashes), 5 minutes, single use, 5 wrong guesses at most.
CREATE TABLE sms_codes (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    user_id     BLOB NOT NULL REFERENCES users (id),
    code_hash   BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    wrong_guesses INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sms_codes_user ON sms_codes (user_id, created_at);

-- WebAuthn passkeys (the credential as serialised by webauthn-rs: public key and counter).
CREATE TABLE passkeys (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    user_id     BLOB NOT NULL REFERENCES users (id),
    credential  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX passkeys_user ON passkeys (user_id);
