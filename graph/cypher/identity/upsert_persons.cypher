// Create persons that do not exist yet (a person id is never reused).
// params: $rows
UNWIND $rows AS row
MERGE (p:Person {person_id: row.person_id})
ON CREATE SET p.created_at = datetime(), p.status = 'active'
