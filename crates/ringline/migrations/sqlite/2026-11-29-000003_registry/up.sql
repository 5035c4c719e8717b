-- Registry (SPEC C3): units, party organizations, party members (SQLite).
-- Keep in step with ../../postgres/.
CREATE TABLE units (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    -- agency | soe | non_public_enterprise | social_organization | cooperative | market
    -- | village_committee | other
    kind TEXT NOT NULL,
    -- Unified social credit code (GB 32100-2015), upper case; NULL when the unit has none.
    credit_code TEXT UNIQUE,
    -- TRUE when the code fails the GB 32100 check (early pilot codes are accepted with a warning).
    credit_code_unverified BOOLEAN NOT NULL DEFAULT FALSE,
    -- Where the unit is: a village/community or town code.
    division_code TEXT NOT NULL REFERENCES divisions (code),
    address TEXT NOT NULL DEFAULT '',
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    headcount INTEGER,
    -- Number of party members the unit reports (may differ from the registry's count).
    party_member_count INTEGER,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX units_division_idx ON units (division_code);
CREATE INDEX units_name_idx ON units (name);

CREATE TABLE party_orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    -- Organization code; a village's party branch uses the village's 12-digit code.
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- committee | general_branch | branch
    kind TEXT NOT NULL,
    parent_id BIGINT REFERENCES party_orgs (id),
    -- own | joint | instructor
    mode TEXT NOT NULL,
    -- The host: a unit, or a village (division code); exactly one.
    unit_id BIGINT REFERENCES units (id),
    village_code TEXT REFERENCES divisions (code),
    -- Where the organization is (the host unit's division or the village): the scope key.
    division_code TEXT NOT NULL REFERENCES divisions (code),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((unit_id IS NULL) <> (village_code IS NULL))
);
CREATE INDEX party_orgs_division_idx ON party_orgs (division_code);
CREATE INDEX party_orgs_parent_idx ON party_orgs (parent_id);
CREATE INDEX party_orgs_name_idx ON party_orgs (name);

-- The units an organization covers: its host, and the other units of a joint organization or of
-- an instructor's remit. Coverage (SPEC C3) is computed from this table.
CREATE TABLE party_org_units (
    party_org_id BIGINT NOT NULL REFERENCES party_orgs (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    PRIMARY KEY (party_org_id, unit_id)
);
CREATE INDEX party_org_units_unit_idx ON party_org_units (unit_id);

CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    -- Citizen ID number (GB 11643-1999), 18 characters; personal data, masked on display.
    id_number TEXT NOT NULL UNIQUE,
    -- male | female, derived from the ID number.
    sex TEXT NOT NULL,
    birth_date DATE NOT NULL,
    -- Personal data, masked on display.
    phone TEXT,
    -- full | probationary
    status TEXT NOT NULL,
    join_date DATE,
    party_org_id BIGINT NOT NULL REFERENCES party_orgs (id),
    employer TEXT NOT NULL DEFAULT '',
    employer_unit_id BIGINT REFERENCES units (id),
    home_community TEXT REFERENCES divisions (code),
    -- The party organization's division, copied for scope filtering.
    division_code TEXT NOT NULL,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX members_division_idx ON members (division_code);
CREATE INDEX members_org_idx ON members (party_org_id);
CREATE INDEX members_employer_idx ON members (employer_unit_id);
