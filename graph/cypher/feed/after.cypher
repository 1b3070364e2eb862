// The change-feed events numbered after $after, oldest first, at most $limit; a province limits them
// to the persons of that province (at the time of the event).
// params: $after, $limit, $province
MATCH (e:PersonEvent)
WHERE e.seq > $after AND ($province IS NULL OR e.province = $province)
RETURN e {.seq, .type, .person_id, .other_person_id, .uid, at: toString(e.at)} AS event
ORDER BY e.seq
LIMIT $limit
