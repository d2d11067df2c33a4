-- Remote screening engines: each organisation's settings, candidates kept away from every
-- engine, and the model that screened a result (PostgreSQL).

-- What an organisation chose: the engine screening its CVs (`local` unless an Admin chose a
-- remote one), whether reviewers see candidates without identity markers, and how many days
-- after their last activity jobs are purged (0 = never).
ALTER TABLE organisations
    ADD COLUMN screening_engine text NOT NULL DEFAULT 'local'
        CHECK (screening_engine IN ('local', 'anthropic', 'openai')),
    ADD COLUMN blind_review boolean NOT NULL DEFAULT false,
    ADD COLUMN retention_days integer NOT NULL DEFAULT 180
        CHECK (retention_days BETWEEN 0 AND 36500);

-- A candidate who asked for a person to review their CV: never sent to any engine.
ALTER TABLE documents ADD COLUMN manual_review boolean NOT NULL DEFAULT false;

-- The remote model behind a result (none for the local engine); `engine_version` holds the
-- local rules' version or the remote prompt's version.
ALTER TABLE results ADD COLUMN model text;
