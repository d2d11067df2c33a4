-- Signed statements about each organisation's chain (see petal_domain::audit::seal):
-- checkpoints of the chain head, and the anchors retention leaves when it purges the oldest
-- events. Copies are also written to the object store.
CREATE TABLE audit_seals (
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    kind        TEXT NOT NULL CHECK (kind IN ('checkpoint', 'anchor')),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    hash        BLOB NOT NULL,
    signed_at   TEXT NOT NULL,
    signature   BLOB NOT NULL,
    PRIMARY KEY (org_id, kind, seq)
);

-- Seals are append-only.
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit seals are append-only');
END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit seals are append-only');
END;

-- Events stay append-only, except that retention may delete those an anchor covers.
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
    SELECT 1 FROM audit_seals s
    WHERE s.org_id = OLD.org_id AND s.kind = 'anchor' AND s.seq >= OLD.seq
)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
