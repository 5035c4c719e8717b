-- Record kinds: retirement of units and members (kept, with history), the undo record of
-- applied imports (SQLite). Keep in step with ../../postgres/.

-- A retired unit (deregistered, merged, moved away, entered in error) is kept and leaves lists
-- and coverage.
ALTER TABLE units ADD COLUMN retired_on DATE;
ALTER TABLE units ADD COLUMN retire_reason TEXT;

-- A member who left the register (transferred out, deceased, membership suspended) is kept and
-- leaves lists and counts; member_events keeps every such change with its date.
ALTER TABLE members ADD COLUMN left_on DATE;
ALTER TABLE members ADD COLUMN left_reason TEXT;
CREATE INDEX members_left_idx ON members (left_on);

CREATE TABLE member_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id),
    -- transferred_out | deceased | suspended | reinstated
    event TEXT NOT NULL,
    on_date DATE NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX member_events_member_idx ON member_events (member_id);

-- Applied imports: what each created or replaced, so it can be undone while no later change
-- touched its records. before_json holds unmasked values: read only by the undo.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    user_id BIGINT,
    username TEXT NOT NULL,
    -- The importer's area: a significant code prefix, zone:ID, or '' for everything.
    scope TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP
);

CREATE TABLE import_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    run_id BIGINT NOT NULL REFERENCES import_runs (id),
    record_id TEXT NOT NULL,
    -- NULL: the import created the record.
    before_json TEXT,
    after_json TEXT NOT NULL
);
CREATE INDEX import_changes_run_idx ON import_changes (run_id);

-- A dissolved party organization (撤销, merged, entered in error) is kept, once it has no members
-- and no subordinate organizations, and leaves lists and coverage.
ALTER TABLE party_orgs ADD COLUMN dissolved_on DATE;
ALTER TABLE party_orgs ADD COLUMN dissolve_reason TEXT;
