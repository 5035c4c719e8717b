-- Industry and collective economy (SPEC C4, C5): lead products, development chains, brands,
-- collective income by source, income targets (SQLite). Keep in step with ../../postgres/.
-- Amounts are in fen (1 CNY = 100 fen) so sums are exact; see ringline_core::economy::Cny.

-- Lead products (一村一品): per village and year.
CREATE TABLE lead_products (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    name TEXT NOT NULL,
    -- planting | livestock | processing | tourism | e_commerce | other
    category TEXT NOT NULL,
    -- Scale as a number with its unit (亩, 头, 只, 户, 吨 …); NULL when not reported.
    scale DOUBLE PRECISION,
    scale_unit TEXT NOT NULL DEFAULT '',
    output_value_fen BIGINT CHECK (output_value_fen >= 0),
    households INTEGER CHECK (households >= 0),
    income_per_household_fen BIGINT CHECK (income_per_household_fen >= 0),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_code, year, name)
);
CREATE INDEX lead_products_year_idx ON lead_products (year);

-- Development chains (党支部+协会+公司+市场): one per village and product; each link is the
-- village's party branch or a registered unit, NULL while missing. Completeness = links present.
CREATE TABLE development_chains (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    product TEXT NOT NULL,
    branch_org_id BIGINT REFERENCES party_orgs (id),
    association_unit_id BIGINT REFERENCES units (id),
    company_unit_id BIGINT REFERENCES units (id),
    market_unit_id BIGINT REFERENCES units (id),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_code, product)
);

-- Party-building brands (党建品牌). The owner is a unit or a village, exactly one.
CREATE TABLE brands (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    owner_unit_id BIGINT REFERENCES units (id),
    owner_village TEXT REFERENCES divisions (code),
    -- Scope key: the owner unit's division or the village.
    division_code TEXT NOT NULL,
    zone_id BIGINT REFERENCES zones (id) ON DELETE SET NULL,
    -- county | city | province | national
    level TEXT NOT NULL,
    year INTEGER NOT NULL,
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (name, year),
    CHECK ((owner_unit_id IS NULL) <> (owner_village IS NULL))
);
CREATE INDEX brands_division_idx ON brands (division_code);

-- Collective income of a village collective (村集体经济收入) by year and source, in fen.
CREATE TABLE collective_income (
    village_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    -- ringline_core::economy::IncomeSource: operating | contracting_leasing | investment_returns
    -- | services | subsidies | other
    source TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (village_code, year, source)
);
CREATE INDEX collective_income_year_idx ON collective_income (year);

-- Yearly income targets per village, in fen.
CREATE TABLE income_targets (
    village_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    target_fen BIGINT NOT NULL CHECK (target_fen >= 0),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (village_code, year)
);
