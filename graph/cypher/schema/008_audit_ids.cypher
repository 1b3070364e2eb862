// Audit entries are shipped from each API process's spool in batches; the id makes a re-shipped
// batch (after a crash between the commit and the spool's removal) change nothing.
CREATE CONSTRAINT audit_entry_id IF NOT EXISTS FOR (a:AuditEntry) REQUIRE a.id IS UNIQUE;
