// Record that a migration was applied, once.
// params: $id, $checksum
MERGE (m:HosoMigration {id: $id})
ON CREATE SET m.checksum = $checksum, m.applied_at = datetime()
RETURN m.id AS id
