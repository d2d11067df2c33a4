-- A passkey step-up in progress on a session: the WebAuthn ceremony state between its start
-- and its finish (taken, and cleared, by the finish).
ALTER TABLE sessions ADD COLUMN reauth_webauthn_state TEXT;
