// Closures of a record's parts by the citizen, and grants looked up by the record they open.
CREATE CONSTRAINT closure_id IF NOT EXISTS FOR (c:Closure) REQUIRE c.closure_id IS UNIQUE;
CREATE INDEX closure_person IF NOT EXISTS FOR (c:Closure) ON (c.person_id);
CREATE INDEX access_grant_person IF NOT EXISTS FOR (g:AccessGrant) ON (g.person_id);
