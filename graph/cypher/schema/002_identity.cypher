// Source records, persons and their links: keys, lookups for matching, and link states.
CREATE CONSTRAINT source_record_uid IF NOT EXISTS
FOR (r:SourceRecord) REQUIRE r.uid IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS
FOR (p:Person) REQUIRE p.person_id IS UNIQUE;
CREATE CONSTRAINT link_event_id IF NOT EXISTS
FOR (e:LinkEvent) REQUIRE e.event_id IS UNIQUE;
CREATE CONSTRAINT link_run_id IF NOT EXISTS
FOR (r:LinkRun) REQUIRE r.run_id IS UNIQUE;
CREATE CONSTRAINT batch_id IF NOT EXISTS
FOR (b:Batch) REQUIRE b.batch_id IS UNIQUE;
CREATE INDEX source_record_personal_id IF NOT EXISTS FOR (r:SourceRecord) ON (r.personal_id);
CREATE INDEX source_record_bhxh IF NOT EXISTS FOR (r:SourceRecord) ON (r.bhxh);
CREATE INDEX source_record_cmnd IF NOT EXISTS FOR (r:SourceRecord) ON (r.cmnd);
CREATE INDEX source_record_phone IF NOT EXISTS FOR (r:SourceRecord) ON (r.phone);
CREATE INDEX source_record_name_birth IF NOT EXISTS FOR (r:SourceRecord) ON (r.family_key, r.given_fold, r.birth_year);
CREATE INDEX source_record_given_birth IF NOT EXISTS FOR (r:SourceRecord) ON (r.given_fold, r.birth_date);
CREATE INDEX source_record_birth_commune IF NOT EXISTS FOR (r:SourceRecord) ON (r.birth_date, r.commune);
CREATE INDEX source_record_family_birth IF NOT EXISTS FOR (r:SourceRecord) ON (r.family_key, r.birth_date);
CREATE INDEX source_record_name_set IF NOT EXISTS FOR (r:SourceRecord) ON (r.name_set, r.birth_year);
CREATE INDEX source_record_batch IF NOT EXISTS FOR (r:SourceRecord) ON (r.batch_id);
CREATE INDEX person_personal_id IF NOT EXISTS FOR (p:Person) ON (p.personal_id);
CREATE INDEX person_bhxh IF NOT EXISTS FOR (p:Person) ON (p.bhxh);
CREATE INDEX person_name_fold IF NOT EXISTS FOR (p:Person) ON (p.name_fold);
CREATE INDEX linked_to_state IF NOT EXISTS FOR ()-[l:LINKED_TO]-() ON (l.state);
