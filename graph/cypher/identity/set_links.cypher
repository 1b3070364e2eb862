// Write automatic links; a reviewer's (MANUAL) link is never overwritten, and an automatic MATCH
// to another person is replaced so that a record keeps at most one MATCH. A POSSIBLE_MATCH is an open
// review item and keeps its item id while it stays open; `pair_uid` is the person's record the
// numbers come from. A record that comes to a person it was not matched to (or was before a rebuild
// took its links down: `feed_previous`) is a `record_linked` event of the change feed.
// params: $rows, $model_version, $run_id, $feed_tx
UNWIND $rows AS row
MATCH (r:SourceRecord {uid: row.uid})
MATCH (p:Person {person_id: row.person_id})
WHERE NOT EXISTS { (r)-[:LINKED_TO {origin: 'MANUAL'}]->(p) }
  AND (row.state <> 'MATCH' OR NOT EXISTS { (r)-[:LINKED_TO {state: 'MATCH', origin: 'MANUAL'}]->() })
OPTIONAL MATCH (r)-[old:LINKED_TO {state: 'MATCH', origin: 'AUTO'}]->(other:Person)
WHERE row.state = 'MATCH' AND other <> p
WITH r, p, row, collect(old) AS olds, head(collect(other.person_id)) AS moved_from
WITH r, p, row, olds, coalesce(moved_from, r.feed_previous) AS previous,
     EXISTS { (r)-[:LINKED_TO {state: 'MATCH'}]->(p) } AS already
FOREACH (o IN olds | DELETE o)
MERGE (r)-[l:LINKED_TO]->(p)
SET l.state = row.state, l.origin = 'AUTO', l.probability = row.probability,
    l.match_weight = row.match_weight, l.weights = row.weights, l.pair_uid = row.pair_uid,
    l.model_version = $model_version, l.run_id = $run_id, l.updated_at = datetime(),
    l.version = coalesce(l.version, 0) + 1, p.golden_dirty = true,
    l.item_id = CASE WHEN row.state = 'POSSIBLE_MATCH' THEN coalesce(l.item_id, 'pm-' + randomUUID()) END,
    l.item_since = CASE WHEN row.state = 'POSSIBLE_MATCH' THEN coalesce(l.item_since, datetime()) END,
    r.feed_previous = CASE WHEN row.state = 'MATCH' THEN null ELSE r.feed_previous END
WITH r, p, row, previous, already, l
CALL (r, p, row, previous, already) {
  WITH r, p, row, previous, already
  WHERE row.state = 'MATCH' AND NOT already AND (previous IS NULL OR previous <> p.person_id)
  CREATE (:PersonEvent {pending: $feed_tx, order: 0, at: datetime(), type: 'record_linked', uid: r.uid,
                        person_id: p.person_id, other_person_id: previous, province: coalesce(p.province, r.province)})
}
RETURN count(l) AS written
