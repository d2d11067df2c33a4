-- Exports of all of an organisation's data: built in the background into one encrypted ZIP
-- in the object store, then fetched through a signed link. After a day the ZIP is deleted and
-- its key destroyed (status `expired`).
CREATE TABLE exports (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    requested_by    BLOB NOT NULL REFERENCES users (id),
    status          TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'expired')),
    documents_total INTEGER NOT NULL DEFAULT 0,
    documents_done  INTEGER NOT NULL DEFAULT 0,
    object_name     TEXT UNIQUE,
    size_bytes      INTEGER,
    wrapped_key     BLOB NOT NULL,
    requested_at    TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX exports_org ON exports (org_id, requested_at);
