-- v3: whether an applied edit reached its file. `optimize --apply` records the edit, writes the file
-- (a temporary file, then a rename) and then sets landed_at; a run killed in between leaves it NULL, and
-- the next apply or undo of that file settles it from the file's text: the new text means it landed, the
-- original text means it never did (dropped_at is set and undo passes over it). Edits recorded before v3
-- stay NULL and are settled the same way.

ALTER TABLE applied_edits ADD COLUMN landed_at REAL;
ALTER TABLE applied_edits ADD COLUMN dropped_at REAL;
