// Write automatic links; a reviewer's (MANUAL) link is never overwritten, and an automatic MATCH
// to another person is replaced so that a record keeps at most one MATCH.
// params: $rows, $model_version, $run_id
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MATCH (p:Person {person_id: row.person_id})
OPTIONAL MATCH (r)-[manual:LINKED_TO {origin: 'MANUAL'}]->(p)
WITH r, p, row, manual
WHERE manual IS NULL
  AND (row.state <> 'MATCH' OR NOT EXISTS { (r)-[:LINKED_TO {state: 'MATCH', origin: 'MANUAL'}]->() })
CALL (r, p, row) {
  WITH r, p, row
  WHERE row.state = 'MATCH'
  MATCH (r)-[old:LINKED_TO {state: 'MATCH', origin: 'AUTO'}]->(other:Person)
  WHERE other <> p
  DELETE old
}
MERGE (r)-[l:LINKED_TO]->(p)
SET l.state = row.state, l.origin = 'AUTO', l.probability = row.probability,
    l.match_weight = row.match_weight, l.weights = row.weights, l.model_version = $model_version,
    l.run_id = $run_id, l.updated_at = datetime(), l.version = coalesce(l.version, 0) + 1
RETURN count(l) AS written
