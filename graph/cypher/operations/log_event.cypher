// Append an entry to the link history: who, when, what, why, before and after, about which persons;
// with the snapshots before and after (for undo) and the review item it closed, if any.
// params: $event_id, $actor, $action, $reason, $before, $after, $person_ids, $uids, $snapshot, $state_after, $item_id, $undoes
CREATE (e:LinkEvent {event_id: $event_id, at: datetime(), actor: $actor, action: $action, reason: $reason,
                     before: $before, after: $after, uids: $uids, person_ids: $person_ids, snapshot: $snapshot,
                     state_after: $state_after, item_id: $item_id, undoes: $undoes})
WITH e
CALL (e) {
  MATCH (undone:LinkEvent {event_id: $undoes})
  SET undone.undone_by = e.event_id
}
WITH e
UNWIND $person_ids AS id
MATCH (p:Person {person_id: id})
MERGE (e)-[:ABOUT]->(p)
