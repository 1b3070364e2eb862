// Write automatic links; a reviewer's (MANUAL) link is never overwritten, and an automatic MATCH
// to another person is replaced so that a record keeps at most one MATCH.
// params: $rows, $model_version, $run_id
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MATCH (p:Person {person_id: row.person_id})
WHERE NOT EXISTS { (r)-[:LINKED_TO {origin: 'MANUAL'}]->(p) }
  AND (row.state <> 'MATCH' OR NOT EXISTS { (r)-[:LINKED_TO {state: 'MATCH', origin: 'MANUAL'}]->() })
OPTIONAL MATCH (r)-[old:LINKED_TO {state: 'MATCH', origin: 'AUTO'}]->(other:Person)
WHERE row.state = 'MATCH' AND other <> p
DELETE old
WITH DISTINCT r, p, row
MERGE (r)-[l:LINKED_TO]->(p)
SET l.state = row.state, l.origin = 'AUTO', l.probability = row.probability,
    l.match_weight = row.match_weight, l.weights = row.weights, l.model_version = $model_version,
    l.run_id = $run_id, l.updated_at = datetime(), l.version = coalesce(l.version, 0) + 1,
    p.golden_dirty = true
RETURN count(l) AS written
