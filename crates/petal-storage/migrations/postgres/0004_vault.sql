-- The key hierarchy below the master key, jobs, and the documents they hold (PostgreSQL).

-- Keys wrapped by the master key (named by its key id, so rotation knows what to re-wrap).
-- `installation` is the key the per-purpose keys (sessions, second factors, codes, links)
-- are derived from.
CREATE TABLE installation_keys (
    name            text PRIMARY KEY,
    master_key_id   text NOT NULL,
    wrapped         bytea NOT NULL,
    created_at      timestamptz NOT NULL
);

-- One key per organisation, wrapped by the master key; it wraps the organisation's job keys.
CREATE TABLE org_keys (
    org_id          uuid PRIMARY KEY REFERENCES organisations (id),
    master_key_id   text NOT NULL,
    wrapped         bytea NOT NULL,
    created_at      timestamptz NOT NULL
);

-- A job's key lives in its row (wrapped by the organisation key): deleting the job destroys it.
CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organisations (id),
    created_by      uuid NOT NULL REFERENCES users (id),
    title           text NOT NULL,
    description     text NOT NULL,
    criteria        jsonb NOT NULL,
    status          text NOT NULL CHECK (status IN ('draft', 'processing', 'completed', 'failed')),
    wrapped_key     bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX jobs_org_created ON jobs (org_id, created_at);

-- Documents: the blob is in the object store under a random name; the client's file name is
-- sealed with the job key (it often holds the candidate's name).
CREATE TABLE documents (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organisations (id),
    job_id          uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    uploaded_by     uuid NOT NULL REFERENCES users (id),
    object_name     text NOT NULL UNIQUE,
    filename        bytea NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('pdf', 'docx', 'odt', 'rtf', 'txt')),
    size_bytes      bigint NOT NULL CHECK (size_bytes > 0),
    status          text NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX documents_job_created ON documents (job_id, created_at);
CREATE INDEX documents_org ON documents (org_id);
