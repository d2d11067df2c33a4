-- Querying the audit trail: newest first, filtered by action, actor or target, paged by
-- sequence number, answering from an index whatever the organisation's number of events.
CREATE INDEX audit_events_org_action ON audit_events (org_id, action, seq);
CREATE INDEX audit_events_org_actor ON audit_events (org_id, actor_id, seq);
CREATE INDEX audit_events_org_target ON audit_events (org_id, target_id, seq);
CREATE INDEX audit_events_org_time_seq ON audit_events (org_id, occurred_at, seq);
