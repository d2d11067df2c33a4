-- Security alerts and the per-address failure log behind password-spraying throttling.

CREATE TABLE security_alerts (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organisations (id),
    kind        text NOT NULL,
    user_id     uuid REFERENCES users (id),
    ip          text,
    created_at  timestamptz NOT NULL,
    details     jsonb NOT NULL
);
CREATE INDEX security_alerts_org_time ON security_alerts (org_id, created_at);

-- Failed logins by client address, across organisations (an address is not tenant data).
CREATE TABLE login_failures (
    ip          text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX login_failures_ip_at ON login_failures (ip, at);
