// Accounts of the API and its audit trail.
CREATE CONSTRAINT user_username IF NOT EXISTS FOR (u:User) REQUIRE u.username IS UNIQUE;
CREATE INDEX audit_at IF NOT EXISTS FOR (a:AuditEntry) ON (a.at);
CREATE INDEX audit_person IF NOT EXISTS FOR (a:AuditEntry) ON (a.person_hash);
