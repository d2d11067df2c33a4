-- Security alerts and the per-address failure log behind password-spraying throttling.

CREATE TABLE security_alerts (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    kind        TEXT NOT NULL,
    user_id     BLOB REFERENCES users (id),
    ip          TEXT,
    created_at  TEXT NOT NULL,
    details     TEXT NOT NULL
);
CREATE INDEX security_alerts_org_time ON security_alerts (org_id, created_at);

-- Failed logins by client address, across organisations (an address is not tenant data).
CREATE TABLE login_failures (
    ip          TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX login_failures_ip_at ON login_failures (ip, at);
