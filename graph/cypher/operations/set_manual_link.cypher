// A reviewer's link decision: MATCH moves the record to the person (its other MATCH goes); NO_MATCH
// keeps it away from the person for good. Either closes the review item the link was. Persons touched
// are marked for a golden-record refresh.
// params: $uid, $person_id, $state, $actor, $reason
MATCH (r:SourceRecord {uid: $uid})
MATCH (p:Person {person_id: $person_id})
CALL (r, p) {
  WITH r, p
  WHERE $state = 'MATCH'
  MATCH (r)-[old:LINKED_TO {state: 'MATCH'}]->(other:Person)
  WHERE other <> p
  SET other.golden_dirty = true
  DELETE old
}
MERGE (r)-[l:LINKED_TO]->(p)
SET l.state = $state, l.origin = 'MANUAL', l.reviewer = $actor, l.reason = $reason, l.updated_at = datetime(),
    l.version = coalesce(l.version, 0) + 1, p.golden_dirty = true, l.item_id = null, l.item_since = null,
    r.feed_previous = null
RETURN l.state AS state
