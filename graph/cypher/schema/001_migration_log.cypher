// The record of applied migrations: one node per migration, keyed by its id.
CREATE CONSTRAINT migration_id IF NOT EXISTS
FOR (m:HosoMigration) REQUIRE m.id IS UNIQUE;
