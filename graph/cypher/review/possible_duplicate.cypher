// One open POSSIBLE_DUPLICATE item by its id: both persons' golden records and records, and the
// stored numbers.
// params: $item_id
MATCH (a:Person {status: 'active'})-[d:POSSIBLE_DUPLICATE {item_id: $item_id}]-(b:Person {status: 'active'})
WHERE d.status = 'open' AND a.person_id < b.person_id
CALL (a) {
  MATCH (o:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(a)
  RETURN collect(o {.*}) AS left_records
}
CALL (b) {
  MATCH (o:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(b)
  RETURN collect(o {.*}) AS right_records
}
RETURN a {.*} AS left, b {.*} AS right, left_records, right_records, d.probability AS probability,
       d.weights AS weights, toString(d.item_since) AS since, coalesce(a.version, 0) AS left_version,
       coalesce(b.version, 0) AS right_version, d.override_by AS override_by, d.override_reason AS override_reason
