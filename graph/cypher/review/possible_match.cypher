// One POSSIBLE_MATCH item: the record, the person (golden record) and the weights of each field.
// params: $uid, $person_id
MATCH (r:SourceRecord {uid: $uid})-[l:LINKED_TO {state: 'POSSIBLE_MATCH'}]->(p:Person {person_id: $person_id})
RETURN r {.*} AS record, p {.*} AS person, l.probability AS probability, l.match_weight AS match_weight,
       l.weights AS weights, coalesce(p.version, 0) AS version
