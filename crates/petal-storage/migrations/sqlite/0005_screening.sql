-- Screening: the work queue, results and human decisions (SQLite).

-- A job created from a description alone holds proposed criteria until a recruiter confirms
-- them; nothing is screened before. Jobs created before this have confirmed criteria.
ALTER TABLE jobs ADD COLUMN criteria_confirmed INTEGER NOT NULL DEFAULT 1;

-- Why a document failed (a code such as `extraction_failed`, never content).
ALTER TABLE documents ADD COLUMN failure TEXT;
-- Progress counts a job's documents by status.
CREATE INDEX documents_job_status ON documents (job_id, status);

-- One task per document waiting to be screened. A worker claims a task by setting `lease`
-- and pushing `run_after` to the end of its lease; a crashed worker's task becomes due again
-- when the lease runs out. Finishing deletes the row, in the transaction that stores the
-- result, and only while the lease is still the worker's.
CREATE TABLE tasks (
    document_id     BLOB PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    job_id          BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_after       TEXT NOT NULL,
    lease           BLOB,
    created_at      TEXT NOT NULL
);
CREATE INDEX tasks_due ON tasks (run_after, document_id);
CREATE INDEX tasks_job ON tasks (job_id);

-- Documents uploaded before screening existed are queued now.
INSERT INTO tasks (document_id, org_id, job_id, attempts, run_after, created_at)
    SELECT id, org_id, job_id, 0, created_at, created_at FROM documents WHERE status = 'uploaded';
UPDATE documents SET status = 'queued' WHERE status = 'uploaded';
UPDATE jobs SET status = 'processing' WHERE id IN (SELECT job_id FROM tasks);

-- One result per document. Score and rank order are plain (the list is sorted by them); the
-- candidate, profile, verdicts and evidence are sealed with the job key.
CREATE TABLE results (
    document_id     BLOB PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    job_id          BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    score           INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    ranked          INTEGER NOT NULL,
    engine          TEXT NOT NULL,
    engine_version  TEXT NOT NULL,
    criteria_hash   TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    email_index     BLOB,
    screened_at     TEXT NOT NULL
);
CREATE INDEX results_job ON results (job_id);
CREATE INDEX results_email ON results (org_id, email_index);

-- A person's decision on a candidate; the note is sealed with the job key.
CREATE TABLE decisions (
    document_id     BLOB PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    job_id          BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    decision        TEXT NOT NULL CHECK (decision IN ('advance', 'hold', 'reject')),
    note            BLOB NOT NULL,
    decided_by      BLOB NOT NULL REFERENCES users (id),
    decided_at      TEXT NOT NULL
);
CREATE INDEX decisions_job ON decisions (job_id);
