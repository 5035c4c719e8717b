-- Dispatched cadres (SPEC C7): skills, the cadre roster, twinning, village needs, dispatch
-- batches with their rules and last plan, residencies with work logs, attendance and leave
-- (SQLite). Keep in step with ../../postgres/.

-- The skill list ("configurable": rows are added or renamed by import or `ringline cadres
-- skills`). Keys are what the optimiser compares; zh/en are the labels people read and type.
CREATE TABLE skills (
    key TEXT PRIMARY KEY NOT NULL,
    zh TEXT NOT NULL,
    en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);
INSERT INTO skills (key, zh, en, sort_order) VALUES
    ('agriculture', '农业种植', 'agriculture', 10),
    ('animal_husbandry', '畜牧养殖', 'animal husbandry', 20),
    ('e_commerce', '电子商务', 'e-commerce', 30),
    ('finance', '财务金融', 'finance', 40),
    ('law', '法律服务', 'law', 50),
    ('party_affairs', '党务工作', 'party affairs', 60),
    ('tourism', '乡村旅游', 'rural tourism', 70),
    ('cooperative', '合作经济', 'cooperatives and collective economy', 80),
    ('construction', '村庄规划建设', 'village planning and construction', 90),
    ('governance', '基层治理', 'grassroots governance', 100);

CREATE TABLE cadres (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    -- Citizen ID number (GB 11643-1999), 18 characters; personal data, masked on display.
    id_number TEXT NOT NULL UNIQUE,
    -- male | female, derived from the ID number.
    sex TEXT NOT NULL,
    -- From the ID number; ages are computed on a batch's reference date.
    birth_date DATE NOT NULL,
    -- Personal data, masked on display.
    phone TEXT,
    -- The source (派出单位): a county unit, or a town (a town cadre); exactly one.
    source_unit_id BIGINT REFERENCES units (id),
    source_town TEXT REFERENCES divisions (code),
    -- Where the cadre comes from; never sent there.
    home_village TEXT REFERENCES divisions (code),
    -- Scope key: the source town, or the source unit's division.
    division_code TEXT NOT NULL,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((source_unit_id IS NULL) <> (source_town IS NULL))
);
CREATE INDEX cadres_division_idx ON cadres (division_code);
CREATE INDEX cadres_unit_idx ON cadres (source_unit_id);

CREATE TABLE cadre_skills (
    cadre_id BIGINT NOT NULL REFERENCES cadres (id) ON DELETE CASCADE,
    skill TEXT NOT NULL REFERENCES skills (key),
    PRIMARY KEY (cadre_id, skill)
);
CREATE INDEX cadre_skills_skill_idx ON cadre_skills (skill);

-- Twinning (结对帮扶): a county unit paired with a village. Scope key: the village.
CREATE TABLE twinning (
    unit_id BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_id, village_code)
);
CREATE INDEX twinning_village_idx ON twinning (village_code);

-- A village's need for a skill, priority 1 (low) to 3 (most urgent). Scope key: the village.
CREATE TABLE village_needs (
    village_code TEXT NOT NULL REFERENCES divisions (code),
    skill TEXT NOT NULL REFERENCES skills (key),
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 3),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (village_code, skill)
);

-- A dispatch batch (选派批次) of one county: the hard rules and the stated score.
CREATE TABLE dispatch_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    county_code TEXT NOT NULL REFERENCES divisions (code),
    min_size INTEGER NOT NULL CHECK (min_size >= 0),
    max_size INTEGER NOT NULL CHECK (max_size >= 0),
    per_village INTEGER NOT NULL DEFAULT 1 CHECK (per_village >= 0),
    -- Only cadres of this age or younger on reference_date go; NULL = any age (the override).
    young_max_age INTEGER,
    reference_date DATE NOT NULL,
    -- Length of the residencies confirm creates, in months.
    term_months INTEGER NOT NULL DEFAULT 24 CHECK (term_months > 0),
    -- The stated score: priority × per_priority_point per matched skill, + twinning_bonus.
    per_priority_point INTEGER NOT NULL DEFAULT 10,
    twinning_bonus INTEGER NOT NULL DEFAULT 5,
    -- The last run: when, and when it was infeasible the reason as "key: message" (the
    -- optimiser's stable key, then its English message). NULL planned_at: never run, or the
    -- plan was cleared by a change of settings or rules.
    planned_at TIMESTAMP,
    plan_error TEXT,
    -- NULL: a draft; set: confirmed (residencies created, no more runs). Who created and
    -- confirmed the batch is in the audit log.
    confirmed_at TIMESTAMP,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dispatch_batches_county_idx ON dispatch_batches (county_code);

-- Pairs the user pinned (must be in the plan) or forbade (must not be).
CREATE TABLE batch_rules (
    batch_id BIGINT NOT NULL REFERENCES dispatch_batches (id) ON DELETE CASCADE,
    cadre_id BIGINT NOT NULL REFERENCES cadres (id) ON DELETE CASCADE,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    -- pin | forbid
    kind TEXT NOT NULL CHECK (kind IN ('pin', 'forbid')),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (batch_id, cadre_id, village_code)
);

-- The batch's last computed plan, replaced on every run; kept when the batch is confirmed.
CREATE TABLE batch_pairs (
    batch_id BIGINT NOT NULL REFERENCES dispatch_batches (id) ON DELETE CASCADE,
    cadre_id BIGINT NOT NULL REFERENCES cadres (id) ON DELETE CASCADE,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    score BIGINT NOT NULL,
    -- ringline_core::dispatch::ScoreBreakdown as JSON.
    breakdown_json TEXT NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (batch_id, cadre_id)
);

-- A cadre stationed in a village (驻村). Scope key: the village.
CREATE TABLE residencies (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    batch_id BIGINT NOT NULL REFERENCES dispatch_batches (id),
    cadre_id BIGINT NOT NULL REFERENCES cadres (id),
    village_code TEXT NOT NULL REFERENCES divisions (code),
    start_date DATE NOT NULL,
    -- Last day of the term (inclusive).
    end_date DATE NOT NULL,
    -- excellent | competent | basically_competent | incompetent (优秀 称职 基本称职 不称职)
    evaluation TEXT CHECK (evaluation IN ('excellent', 'competent', 'basically_competent', 'incompetent')),
    evaluation_comment TEXT,
    evaluated_at TIMESTAMP,
    evaluated_by TEXT,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    CHECK (end_date >= start_date),
    UNIQUE (batch_id, cadre_id)
);
CREATE INDEX residencies_village_idx ON residencies (village_code);
CREATE INDEX residencies_cadre_idx ON residencies (cadre_id);

-- Work log (驻村日志): what the cadre did on a day.
CREATE TABLE work_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    residency_id BIGINT NOT NULL REFERENCES residencies (id) ON DELETE CASCADE,
    date DATE NOT NULL,
    content TEXT NOT NULL,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX work_logs_residency_idx ON work_logs (residency_id, date);

-- Days in the village per month (rule: at least 20).
CREATE TABLE attendance (
    residency_id BIGINT NOT NULL REFERENCES residencies (id) ON DELETE CASCADE,
    -- YYYY-MM
    month TEXT NOT NULL CHECK (length(month) = 7),
    days INTEGER NOT NULL CHECK (days BETWEEN 0 AND 31),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (residency_id, month)
);

-- Leave: up to 3 days approved by the town, longer by the county.
CREATE TABLE leave_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    residency_id BIGINT NOT NULL REFERENCES residencies (id) ON DELETE CASCADE,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    -- Calendar days, both ends included.
    days INTEGER NOT NULL CHECK (days >= 1),
    reason TEXT NOT NULL DEFAULT '',
    -- pending | approved | rejected
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    -- town | county
    approver_level TEXT NOT NULL CHECK (approver_level IN ('town', 'county')),
    requested_at TIMESTAMP NOT NULL,
    requested_by TEXT NOT NULL DEFAULT '',
    decided_by TEXT,
    decided_at TIMESTAMP,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (end_date >= start_date)
);
CREATE INDEX leave_requests_residency_idx ON leave_requests (residency_id);
CREATE INDEX leave_requests_status_idx ON leave_requests (status, approver_level);
