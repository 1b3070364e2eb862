// One POSSIBLE_DUPLICATE item: both persons' golden records and the weights of the link between them.
// params: $a, $b
MATCH (a:Person {person_id: $a})-[d:POSSIBLE_DUPLICATE {status: 'open'}]-(b:Person {person_id: $b})
RETURN a {.*} AS left, b {.*} AS right, d.probability AS probability, d.weights AS weights,
       coalesce(a.version, 0) AS left_version, coalesce(b.version, 0) AS right_version
