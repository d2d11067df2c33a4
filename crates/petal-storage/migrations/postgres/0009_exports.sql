-- Exports of all of an organisation's data: built in the background into one encrypted ZIP
-- in the object store, then fetched through a signed link. After a day the ZIP is deleted and
-- its key destroyed (status `expired`).
CREATE TABLE exports (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organisations (id),
    requested_by    uuid NOT NULL REFERENCES users (id),
    status          text NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'expired')),
    documents_total bigint NOT NULL DEFAULT 0,
    documents_done  bigint NOT NULL DEFAULT 0,
    object_name     text UNIQUE,
    size_bytes      bigint,
    wrapped_key     bytea NOT NULL,
    requested_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
CREATE INDEX exports_org ON exports (org_id, requested_at);
