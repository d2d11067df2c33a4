-- Organisations, users, invites and the audit trail (SQLite).
-- Ids are 16-byte UUID blobs, times are RFC 3339 text, JSON is text.

CREATE TABLE organisations (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    status      TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
    created_at  TEXT NOT NULL,
    -- Argon2id PHC string.
    password_hash   TEXT NOT NULL,
    -- TOTP secret sealed with a key derived from the master key (user id as associated data);
    -- set at setup, enabled once a first code is verified.
    totp_secret     BLOB,
    -- A replacement authenticator being set up from a signed-in session.
    totp_pending_secret BLOB,
    totp_enabled_at TEXT,
    -- The last accepted TOTP step: a code at or before it is refused (no replay).
    totp_last_step  INTEGER,
    -- Phone for SMS codes, sealed like the TOTP secret: pending until a code proves it.
    phone_pending   BLOB,
    phone           BLOB,
    phone_verified_at TEXT,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE invites (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    token_hash  BLOB NOT NULL UNIQUE,
    created_by  BLOB REFERENCES users (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    accepted_at TEXT
);
CREATE INDEX invites_org ON invites (org_id);

-- The head of each organisation's chain: the last sequence number and hash appended.
CREATE TABLE audit_heads (
    org_id      BLOB PRIMARY KEY NOT NULL REFERENCES organisations (id),
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    hash        BLOB NOT NULL
);

CREATE TABLE audit_events (
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    id          BLOB NOT NULL UNIQUE,
    occurred_at TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    BLOB,
    actor_role  TEXT,
    ip          TEXT,
    user_agent  TEXT,
    request_id  TEXT,
    action      TEXT NOT NULL,
    target_kind TEXT,
    target_id   TEXT,
    outcome     TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, occurred_at);

-- The trail is append-only.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- A head only moves forward, one event at a time, and is never removed.
CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE ON audit_heads
WHEN NEW.org_id IS NOT OLD.org_id OR NEW.seq NOT IN (OLD.seq, OLD.seq + 1)
BEGIN
    SELECT RAISE(ABORT, 'audit heads only move forward');
END;
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN
    SELECT RAISE(ABORT, 'audit heads only move forward');
END;

