// Mark pairs of persons that may be one (unless a reviewer said they are not): each open mark is a
// review item with its own id.
// params: $rows, $run_id
UNWIND $rows AS row
MATCH (a:Person {person_id: row.a})
MATCH (b:Person {person_id: row.b})
WHERE a <> b AND NOT EXISTS { (a)-[:NOT_DUPLICATE]-(b) }
MERGE (a)-[d:POSSIBLE_DUPLICATE]-(b)
ON CREATE SET d.created_at = datetime(), d.status = 'open', d.version = 1
SET d.probability = row.probability, d.weights = row.weights, d.run_id = $run_id,
    d.item_id = coalesce(d.item_id, 'pd-' + randomUUID()), d.item_since = coalesce(d.item_since, datetime())
RETURN count(d) AS written
