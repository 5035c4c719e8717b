DROP TABLE members;
DROP TABLE party_org_units;
DROP TABLE party_orgs;
DROP TABLE units;
