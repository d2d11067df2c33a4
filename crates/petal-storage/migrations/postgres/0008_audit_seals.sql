-- Signed statements about each organisation's chain (see petal_domain::audit::seal):
-- checkpoints of the chain head, and the anchors retention leaves when it purges the oldest
-- events. Copies are also written to the object store.
CREATE TABLE audit_seals (
    org_id      uuid NOT NULL REFERENCES organisations (id),
    kind        text NOT NULL CHECK (kind IN ('checkpoint', 'anchor')),
    seq         bigint NOT NULL CHECK (seq >= 1),
    hash        bytea NOT NULL,
    signed_at   timestamptz NOT NULL,
    signature   bytea NOT NULL,
    PRIMARY KEY (org_id, kind, seq)
);

-- Seals are append-only.
CREATE FUNCTION audit_seals_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit seals are append-only';
END;
$$;
CREATE TRIGGER audit_seals_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_seals_refuse_change();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seals_refuse_change();

-- Events stay append-only, except that retention may delete those an anchor covers.
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM audit_seals s
        WHERE s.org_id = OLD.org_id AND s.kind = 'anchor' AND s.seq >= OLD.seq
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
