-- Foundation schema (SQLite). Keep in step with ../../postgres/.
CREATE TABLE divisions (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    urban_rural_code TEXT,
    lon DOUBLE,
    lat DOUBLE,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
CREATE INDEX divisions_parent_idx ON divisions (parent_code);
CREATE INDEX divisions_level_idx ON divisions (level, code);

CREATE TABLE division_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    code TEXT NOT NULL,
    event TEXT NOT NULL,
    old_name TEXT,
    new_name TEXT,
    source TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX division_history_code_idx ON division_history (code);

CREATE TABLE boundaries (
    division_code TEXT PRIMARY KEY NOT NULL,
    geojson TEXT NOT NULL,
    source TEXT NOT NULL
);

CREATE TABLE programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    county_code TEXT NOT NULL,
    start_year INTEGER NOT NULL,
    end_year INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE zones (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    program_id BIGINT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    theme TEXT NOT NULL,
    area TEXT NOT NULL,
    goals TEXT NOT NULL,
    geometry TEXT NOT NULL,
    geometry_note TEXT,
    allow_overlap BOOLEAN NOT NULL DEFAULT 0,
    sort_order INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX zones_program_idx ON zones (program_id);

CREATE TABLE zone_overrides (
    zone_id BIGINT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    division_code TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (zone_id, division_code)
);

CREATE TABLE zone_members (
    zone_id BIGINT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    division_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    distance_km DOUBLE,
    PRIMARY KEY (zone_id, division_code)
);
CREATE INDEX zone_members_division_idx ON zone_members (division_code);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
