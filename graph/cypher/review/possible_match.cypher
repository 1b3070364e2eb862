// One open POSSIBLE_MATCH item by its id: the record, the person (golden record) and its records, the
// person the record belongs to now, the stored numbers and the person's record they came from.
// params: $item_id
MATCH (r:SourceRecord)-[l:LINKED_TO {item_id: $item_id}]->(p:Person {status: 'active'})
WHERE l.state = 'POSSIBLE_MATCH'
OPTIONAL MATCH (r)-[:LINKED_TO {state: 'MATCH'}]->(home:Person)
CALL (p) {
  MATCH (o:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p)
  RETURN collect(o {.*}) AS records
}
RETURN r {.*} AS record, p {.*} AS person, records, home.person_id AS linked_to, l.probability AS probability,
       l.match_weight AS match_weight, l.weights AS weights, l.pair_uid AS pair_uid, toString(l.item_since) AS since,
       coalesce(p.version, 0) AS version, l.override_by AS override_by, l.override_reason AS override_reason
