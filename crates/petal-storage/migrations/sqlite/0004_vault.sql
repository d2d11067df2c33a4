-- The key hierarchy below the master key, jobs, and the documents they hold (SQLite).

-- Keys wrapped by the master key (named by its key id, so rotation knows what to re-wrap).
-- `installation` is the key the per-purpose keys (sessions, second factors, codes, links)
-- are derived from.
CREATE TABLE installation_keys (
    name            TEXT PRIMARY KEY NOT NULL,
    master_key_id   TEXT NOT NULL,
    wrapped         BLOB NOT NULL,
    created_at      TEXT NOT NULL
);

-- One key per organisation, wrapped by the master key; it wraps the organisation's job keys.
CREATE TABLE org_keys (
    org_id          BLOB PRIMARY KEY NOT NULL REFERENCES organisations (id),
    master_key_id   TEXT NOT NULL,
    wrapped         BLOB NOT NULL,
    created_at      TEXT NOT NULL
);

-- A job's key lives in its row (wrapped by the organisation key): deleting the job destroys it.
CREATE TABLE jobs (
    id              BLOB PRIMARY KEY NOT NULL,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    created_by      BLOB NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    criteria        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'processing', 'completed', 'failed')),
    wrapped_key     BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX jobs_org_created ON jobs (org_id, created_at);

-- Documents: the blob is in the object store under a random name; the client's file name is
-- sealed with the job key (it often holds the candidate's name).
CREATE TABLE documents (
    id              BLOB PRIMARY KEY NOT NULL,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    job_id          BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    uploaded_by     BLOB NOT NULL REFERENCES users (id),
    object_name     TEXT NOT NULL UNIQUE,
    filename        BLOB NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('pdf', 'docx', 'odt', 'rtf', 'txt')),
    size_bytes      INTEGER NOT NULL CHECK (size_bytes > 0),
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX documents_job_created ON documents (job_id, created_at);
CREATE INDEX documents_org ON documents (org_id);
