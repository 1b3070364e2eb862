// Reviewers' NO_MATCH decisions about the given records (a record that must never be linked to a
// person), read by index for the records of one batch.
// params: $uids
UNWIND $uids AS uid
MATCH (r:SourceRecord {uid: uid})-[:LINKED_TO {state: 'NO_MATCH'}]->(p:Person)
RETURN r.uid AS uid, p.person_id AS person_id
