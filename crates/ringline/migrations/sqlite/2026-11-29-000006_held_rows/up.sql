-- Held import rows (ARCHITECTURE, invariants): a row of a kind keyed by personal data
-- (members, cadres: the citizen ID number) whose number belongs to a record outside the
-- importer's scope. The importer was answered exactly as for a new record and nothing was
-- written to the record; a user whose scope covers both the record and the row transfers the
-- record (the row applied as an update) or discards the row. (SQLite; keep in step with
-- ../../postgres/.)
CREATE TABLE held_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    -- members | cadres
    kind TEXT NOT NULL,
    -- The stored record the row's ID number belongs to (members.id or cadres.id; no foreign
    -- key over two tables: a transfer checks that it still holds the number).
    record_id BIGINT NOT NULL,
    -- Where the record was when the row was held (its scope key), and where the row would put
    -- it: a user sees the held row only when both lie in their scope.
    record_division TEXT NOT NULL,
    row_division TEXT NOT NULL,
    -- The checked row as JSON (personal data: masked on display, never logged).
    row_json TEXT NOT NULL,
    -- The file and its row (as the importer sees it), who imported it and when.
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    held_by TEXT NOT NULL,
    held_at TIMESTAMP NOT NULL,
    -- A later import of a row for the same record and place replaces the earlier one.
    UNIQUE (kind, record_id, row_division)
);
CREATE INDEX held_rows_record_division_idx ON held_rows (record_division);
