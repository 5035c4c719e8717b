-- Economy record kinds (PostgreSQL): collective income rows and income targets get an id of
-- their own, as every other record kind has, so a record keeps its address (pages, API, audit
-- log, undo record) when its village, year or source is corrected. The natural keys stay
-- unique. Keep in step with ../../sqlite/.

ALTER TABLE collective_income DROP CONSTRAINT collective_income_pkey;
ALTER TABLE collective_income ADD COLUMN id BIGSERIAL PRIMARY KEY;
ALTER TABLE collective_income ADD CONSTRAINT collective_income_village_year_source_key
    UNIQUE (village_code, year, source);

ALTER TABLE income_targets DROP CONSTRAINT income_targets_pkey;
ALTER TABLE income_targets ADD COLUMN id BIGSERIAL PRIMARY KEY;
ALTER TABLE income_targets ADD CONSTRAINT income_targets_village_year_key UNIQUE (village_code, year);
