// The uids and sources of a person's MATCH records.
// params: $person_id
MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(:Person {person_id: $person_id})
RETURN r.uid AS uid, r.source AS source
