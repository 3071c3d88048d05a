-- v2: device calibrations (measured bandwidth and peaks) and applied edits, so `undo` can restore a file.
-- Also indexes verdicts by candidate: re-verifying a known candidate source is answered from the store.

CREATE TABLE calibrations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    device          TEXT NOT NULL,
    measured_at     REAL NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX calibrations_by_device ON calibrations (device, measured_at);

CREATE TABLE applied_edits (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    path            TEXT NOT NULL,
    attempt_id      TEXT,
    original_text   TEXT NOT NULL,
    original_hash   TEXT NOT NULL,
    new_hash        TEXT NOT NULL,
    applied_at      REAL NOT NULL,
    undone_at       REAL
);
CREATE INDEX applied_edits_by_path ON applied_edits (path, applied_at);

CREATE INDEX verdicts_by_candidate ON verdicts (candidate_id);
