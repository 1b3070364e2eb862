// Append an entry to the link history: who, when, what, why, before and after, about which persons.
// params: $event_id, $actor, $action, $reason, $before, $after, $person_ids, $uids
CREATE (e:LinkEvent {event_id: $event_id, at: datetime(), actor: $actor, action: $action, reason: $reason,
                     before: $before, after: $after, uids: $uids})
WITH e
UNWIND $person_ids AS id
MATCH (p:Person {person_id: id})
MERGE (e)-[:ABOUT]->(p)
