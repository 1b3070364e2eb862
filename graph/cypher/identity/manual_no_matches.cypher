// Reviewers' NO_MATCH decisions: a record that must never be linked to a person.
// params: none
MATCH (r:SourceRecord)-[:LINKED_TO {state: 'NO_MATCH'}]->(p:Person)
RETURN r.uid AS uid, p.person_id AS person_id
