-- Remote screening engines: each organisation's settings, candidates kept away from every
-- engine, and the model that screened a result (SQLite).

-- What an organisation chose: the engine screening its CVs (`local` unless an Admin chose a
-- remote one), whether reviewers see candidates without identity markers, and how many days
-- after their last activity jobs are purged (0 = never).
ALTER TABLE organisations ADD COLUMN screening_engine TEXT NOT NULL DEFAULT 'local'
    CHECK (screening_engine IN ('local', 'anthropic', 'openai'));
ALTER TABLE organisations ADD COLUMN blind_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 180
    CHECK (retention_days BETWEEN 0 AND 36500);

-- A candidate who asked for a person to review their CV: never sent to any engine.
ALTER TABLE documents ADD COLUMN manual_review INTEGER NOT NULL DEFAULT 0;

-- The remote model behind a result (none for the local engine); `engine_version` holds the
-- local rules' version or the remote prompt's version.
ALTER TABLE results ADD COLUMN model TEXT;
