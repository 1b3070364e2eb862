// Lookups the analyses filter persons by (birth date, province, commune), and citizens' correction tasks.
CREATE INDEX person_birth_date IF NOT EXISTS FOR (p:Person) ON (p.birth_date);
CREATE INDEX person_province IF NOT EXISTS FOR (p:Person) ON (p.province);
CREATE INDEX person_commune IF NOT EXISTS FOR (p:Person) ON (p.commune);
CREATE CONSTRAINT correction_task_id IF NOT EXISTS FOR (t:CorrectionRequest) REQUIRE t.task_id IS UNIQUE;
