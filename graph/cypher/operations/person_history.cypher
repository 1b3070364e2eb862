// The link history of a person, newest first.
// params: $person_id
MATCH (e:LinkEvent)-[:ABOUT]->(:Person {person_id: $person_id})
RETURN e {.event_id, .actor, .action, .reason, .before, .after, .uids, .item_id, .undone_by, .undoes,
          at: toString(e.at)} AS event
ORDER BY e.at DESC
