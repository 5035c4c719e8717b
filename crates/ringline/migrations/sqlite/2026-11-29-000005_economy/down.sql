DROP TABLE income_targets;
DROP TABLE collective_income;
DROP TABLE brands;
DROP TABLE development_chains;
DROP TABLE lead_products;
