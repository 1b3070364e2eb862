// The migrations already applied, with the checksum of the text that was run.
// params: none
MATCH (m:HosoMigration)
RETURN m.id AS id, m.checksum AS checksum, m.applied_at AS applied_at
ORDER BY m.id
