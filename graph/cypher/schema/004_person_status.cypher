// Lookups for person status and pending golden-record work.
CREATE INDEX person_status IF NOT EXISTS FOR (p:Person) ON (p.status);
CREATE INDEX person_golden_dirty IF NOT EXISTS FOR (p:Person) ON (p.golden_dirty);
