// Clinical facts hanging off source records, reference data (units, facilities, diseases, vaccines),
// households, and the lookups analytics and profiles use.
CREATE CONSTRAINT encounter_key IF NOT EXISTS FOR (e:Encounter) REQUIRE e.key IS UNIQUE;
CREATE CONSTRAINT immunization_key IF NOT EXISTS FOR (i:Immunization) REQUIRE i.key IS UNIQUE;
CREATE CONSTRAINT condition_key IF NOT EXISTS FOR (c:Condition) REQUIRE c.key IS UNIQUE;
CREATE CONSTRAINT observation_key IF NOT EXISTS FOR (o:Observation) REQUIRE o.key IS UNIQUE;
CREATE CONSTRAINT facility_code IF NOT EXISTS FOR (f:Facility) REQUIRE f.code IS UNIQUE;
CREATE CONSTRAINT disease_icd10 IF NOT EXISTS FOR (d:Disease) REQUIRE d.icd10 IS UNIQUE;
CREATE CONSTRAINT disease_group_code IF NOT EXISTS FOR (g:DiseaseGroup) REQUIRE g.code IS UNIQUE;
CREATE CONSTRAINT vaccine_code IF NOT EXISTS FOR (v:Vaccine) REQUIRE v.code IS UNIQUE;
CREATE CONSTRAINT household_code IF NOT EXISTS FOR (h:Household) REQUIRE h.code IS UNIQUE;
CREATE CONSTRAINT admin_unit_uid IF NOT EXISTS FOR (u:AdminUnit) REQUIRE u.uid IS UNIQUE;
CREATE INDEX admin_unit_code IF NOT EXISTS FOR (u:AdminUnit) ON (u.code_list, u.level, u.code);
CREATE INDEX encounter_admitted IF NOT EXISTS FOR (e:Encounter) ON (e.admitted_at);
CREATE INDEX immunization_date IF NOT EXISTS FOR (i:Immunization) ON (i.date);
CREATE INDEX observation_code IF NOT EXISTS FOR (o:Observation) ON (o.code);
CREATE INDEX condition_code IF NOT EXISTS FOR (c:Condition) ON (c.category, c.code);
