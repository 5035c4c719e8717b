-- Economy record kinds (SQLite): collective income rows and income targets get an id of their
-- own, as every other record kind has, so a record keeps its address (pages, API, audit log,
-- undo record) when its village, year or source is corrected. The natural keys stay unique.
-- Keep in step with ../../postgres/.

CREATE TABLE collective_income_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    -- ringline_core::economy::IncomeSource: operating | contracting_leasing | investment_returns
    -- | services | subsidies | other
    source TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_code, year, source)
);
INSERT INTO collective_income_new (village_code, year, source, amount_fen, illustrative, updated_at)
    SELECT village_code, year, source, amount_fen, illustrative, updated_at FROM collective_income
    ORDER BY village_code, year, source;
DROP TABLE collective_income;
ALTER TABLE collective_income_new RENAME TO collective_income;
CREATE INDEX collective_income_year_idx ON collective_income (year);

CREATE TABLE income_targets_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    village_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    target_fen BIGINT NOT NULL CHECK (target_fen >= 0),
    illustrative BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_code, year)
);
INSERT INTO income_targets_new (village_code, year, target_fen, illustrative, updated_at)
    SELECT village_code, year, target_fen, illustrative, updated_at FROM income_targets
    ORDER BY village_code, year;
DROP TABLE income_targets;
ALTER TABLE income_targets_new RENAME TO income_targets;
