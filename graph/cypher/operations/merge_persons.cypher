// Merge one person into another: every record link moves to the survivor (as a reviewer's MATCH),
// the retired id points to it with MERGED_INTO, and their duplicate marks are settled. An open review
// item of a moved link stays open under its id.
// params: $survivor, $retired, $actor, $reason
MATCH (keep:Person {person_id: $survivor, status: 'active'})
MATCH (gone:Person {person_id: $retired, status: 'active'})
CALL (keep, gone) {
  MATCH (r:SourceRecord)-[old:LINKED_TO]->(gone)
  WITH keep, r, old, old.state AS state, old.probability AS probability, old.item_id AS item,
       old.item_since AS since
  DELETE old
  WITH keep, r, state, probability, item, since
  WHERE state <> 'NO_MATCH'
  MERGE (r)-[l:LINKED_TO]->(keep)
  SET l.state = CASE WHEN state = 'MATCH' THEN 'MATCH' ELSE coalesce(l.state, state) END,
      l.origin = CASE WHEN state = 'MATCH' THEN 'MANUAL' ELSE coalesce(l.origin, 'AUTO') END,
      l.probability = coalesce(l.probability, probability), l.reviewer = $actor, l.updated_at = datetime()
  SET l.item_id = CASE WHEN l.state = 'POSSIBLE_MATCH' THEN coalesce(l.item_id, item, 'pm-' + randomUUID()) END,
      l.item_since = CASE WHEN l.state = 'POSSIBLE_MATCH' THEN coalesce(l.item_since, since, datetime()) END
}
CALL (keep, gone) {
  MATCH (gone)-[d:POSSIBLE_DUPLICATE|NOT_DUPLICATE]-()
  DELETE d
}
SET gone.status = 'retired', gone.retired_at = datetime(), keep.golden_dirty = true
MERGE (gone)-[m:MERGED_INTO]->(keep)
SET m.at = datetime(), m.by = $actor, m.reason = $reason
RETURN keep.person_id AS survivor
