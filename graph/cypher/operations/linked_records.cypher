// The uids of every record linked to a person in any state (what merging it moves or drops).
// params: $person_id
MATCH (r:SourceRecord)-[:LINKED_TO]->(:Person {person_id: $person_id})
RETURN DISTINCT r.uid AS uid
