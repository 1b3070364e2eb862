// Put persons' status back: a person active in the snapshot is active again (its MERGED_INTO goes); a
// person the snapshot did not hold (one the undone operation created) is retired into `merged_into`.
// params: $persons
UNWIND $persons AS row
MATCH (p:Person {person_id: row.person_id})
OPTIONAL MATCH (p)-[m:MERGED_INTO]->(:Person)
DELETE m
SET p.status = row.status, p.retired_at = CASE WHEN row.status = 'active' THEN null ELSE datetime() END,
    p.golden_dirty = true
WITH p, row
CALL (p, row) {
  WITH p, row
  MATCH (s:Person {person_id: row.merged_into})
  WHERE row.status = 'retired'
  MERGE (p)-[m:MERGED_INTO]->(s)
  SET m.at = datetime(), m.by = row.actor, m.reason = row.reason
}
RETURN count(p) AS restored
