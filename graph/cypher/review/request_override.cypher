// A reviewer's override of an item's conflicts, waiting for a second reviewer to confirm it.
// params: $item_id, $actor, $reason
CALL () {
  MATCH ()-[l:LINKED_TO {item_id: $item_id}]->()
  SET l.override_by = $actor, l.override_reason = $reason, l.override_at = datetime()
  RETURN count(l) AS n
  UNION ALL
  MATCH ()-[d:POSSIBLE_DUPLICATE {item_id: $item_id}]->()
  SET d.override_by = $actor, d.override_reason = $reason, d.override_at = datetime()
  RETURN count(d) AS n
}
RETURN sum(n) AS marked
