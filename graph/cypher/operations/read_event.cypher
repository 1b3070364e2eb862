// One entry of the link history with what undoing it needs.
// params: $event_id
MATCH (e:LinkEvent {event_id: $event_id})
RETURN e {.event_id, .action, .actor, .snapshot, .state_after, .undone_by, .undoes, .person_ids} AS event
