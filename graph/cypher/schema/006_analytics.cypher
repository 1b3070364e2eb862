// Lookups the analyses filter persons by: birth date (cohorts), province and commune.
CREATE INDEX person_birth_date IF NOT EXISTS FOR (p:Person) ON (p.birth_date);
CREATE INDEX person_province IF NOT EXISTS FOR (p:Person) ON (p.province);
CREATE INDEX person_commune IF NOT EXISTS FOR (p:Person) ON (p.commune);
