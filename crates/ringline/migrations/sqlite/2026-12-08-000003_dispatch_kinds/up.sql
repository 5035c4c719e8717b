-- The dispatch kinds on the record-kind description (SQLite). Keep in step with ../../postgres/.

-- A skill label renamed keeps its old labels as accepted aliases: a file or form written with
-- the old label still names the skill. An alias is never a current label of another skill.
CREATE TABLE skill_aliases (
    alias TEXT PRIMARY KEY NOT NULL,
    skill TEXT NOT NULL REFERENCES skills (key)
);
CREATE INDEX skill_aliases_skill_idx ON skill_aliases (skill);

-- A cadre who leaves the roster (transferred, retired, entered in error) is kept with the date
-- and reason: residencies refer to the cadre.
ALTER TABLE cadres ADD COLUMN retired_on DATE;
ALTER TABLE cadres ADD COLUMN retire_reason TEXT;

-- The town confirms the days a cadre reports in the village; a changed figure is unconfirmed
-- again.
ALTER TABLE attendance ADD COLUMN confirmed_by TEXT;
ALTER TABLE attendance ADD COLUMN confirmed_at TIMESTAMP;
