-- v1: measurements, candidates, verdicts and attempts, keyed by source hash + device + library versions.
-- Every row keeps the full result as JSON (core.jsonable.to_json) next to the columns it is looked up by.

CREATE TABLE measurements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    path            TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    source_hash     TEXT NOT NULL,
    device          TEXT NOT NULL,
    torch_version   TEXT NOT NULL DEFAULT '',
    triton_version  TEXT NOT NULL DEFAULT '',
    cuda_version    TEXT NOT NULL DEFAULT '',
    median_us       REAL,
    created_at      REAL NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX measurements_by_key
    ON measurements (source_hash, device, torch_version, triton_version, cuda_version, created_at);
CREATE INDEX measurements_by_site ON measurements (path, symbol, created_at);

CREATE TABLE attempts (
    id              TEXT PRIMARY KEY,
    path            TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    source_hash     TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL DEFAULT '',
    started_at      REAL NOT NULL,
    finished_at     REAL,
    status          TEXT NOT NULL,
    best_candidate  TEXT,
    best_speedup    REAL,
    body            TEXT NOT NULL
);
CREATE INDEX attempts_by_site ON attempts (path, symbol, started_at);

CREATE TABLE candidates (
    id              TEXT PRIMARY KEY,
    attempt_id      TEXT NOT NULL REFERENCES attempts (id),
    round           INTEGER NOT NULL,
    provider        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    source_hash     TEXT NOT NULL,
    created_at      REAL NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX candidates_by_attempt ON candidates (attempt_id, round);

CREATE TABLE verdicts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id    TEXT NOT NULL REFERENCES candidates (id),
    attempt_id      TEXT NOT NULL REFERENCES attempts (id),
    passed          INTEGER NOT NULL,
    check_name      TEXT,
    median_us       REAL,
    created_at      REAL NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX verdicts_by_attempt ON verdicts (attempt_id);
