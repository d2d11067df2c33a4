-- Organisations, users, invites and the audit trail (PostgreSQL).

CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organisations (id),
    email       text NOT NULL UNIQUE,
    name        text NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    status      text NOT NULL CHECK (status IN ('active', 'deactivated')),
    created_at  timestamptz NOT NULL,
    -- Argon2id PHC string.
    password_hash   text NOT NULL,
    -- TOTP secret sealed with a key derived from the master key (user id as associated data);
    -- set at setup, enabled once a first code is verified.
    totp_secret     bytea,
    -- A replacement authenticator being set up from a signed-in session.
    totp_pending_secret bytea,
    totp_enabled_at timestamptz,
    -- The last accepted TOTP step: a code at or before it is refused (no replay).
    totp_last_step  bigint,
    -- Phone for SMS codes, sealed like the TOTP secret: pending until a code proves it.
    phone_pending   bytea,
    phone           bytea,
    phone_verified_at timestamptz,
    failed_logins   bigint NOT NULL DEFAULT 0,
    locked_until    timestamptz
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE invites (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organisations (id),
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    token_hash  bytea NOT NULL UNIQUE,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE INDEX invites_org ON invites (org_id);

-- The head of each organisation's chain: the last sequence number and hash appended. Appenders
-- update this row first, which serialises appends per organisation.
CREATE TABLE audit_heads (
    org_id      uuid PRIMARY KEY REFERENCES organisations (id),
    seq         bigint NOT NULL CHECK (seq >= 0),
    hash        bytea NOT NULL
);

CREATE TABLE audit_events (
    org_id      uuid NOT NULL REFERENCES organisations (id),
    seq         bigint NOT NULL CHECK (seq >= 1),
    id          uuid NOT NULL UNIQUE,
    occurred_at timestamptz NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    uuid,
    actor_role  text,
    ip          text,
    user_agent  text,
    request_id  text,
    action      text NOT NULL,
    target_kind text,
    target_id   text,
    outcome     text NOT NULL,
    details     jsonb NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, occurred_at);

-- The trail is append-only.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- A head only moves forward, one event at a time, and is never removed.
CREATE FUNCTION audit_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'audit heads only move forward';
    END IF;
    IF NEW.org_id <> OLD.org_id OR NEW.seq NOT IN (OLD.seq, OLD.seq + 1) THEN
        RAISE EXCEPTION 'audit heads only move forward';
    END IF;

    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward_only();

