// Open review items, each with what the queue shows of both sides: a record that may be a person
// (POSSIBLE_MATCH; with the person the record belongs to now) or two persons that may be one
// (POSSIBLE_DUPLICATE); of one province's persons or records when $province is given.
// params: $province
CALL () {
  MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'POSSIBLE_MATCH'}]->(p:Person {status: 'active'})
  WHERE l.item_id IS NOT NULL AND ($province IS NULL OR p.province = $province OR r.province = $province)
  OPTIONAL MATCH (r)-[:LINKED_TO {state: 'MATCH'}]->(home:Person)
  RETURN l.item_id AS id, 'possible_match' AS kind, l.probability AS probability, l.item_since AS since,
         r {.uid, .name, .birth_year, .birth_date, .sex, .personal_id, .pid_ok, .bhxh, .province, .source} AS left,
         p {.person_id, .name, .birth_year, .birth_date, .sex, .personal_id, .bhxh, .province, .sources} AS right,
         home.person_id AS linked_to, l.override_by AS override_by
  UNION ALL
  MATCH (a:Person {status: 'active'})-[d:POSSIBLE_DUPLICATE {status: 'open'}]-(b:Person {status: 'active'})
  WHERE a.person_id < b.person_id AND d.item_id IS NOT NULL
    AND ($province IS NULL OR a.province = $province OR b.province = $province)
  RETURN d.item_id AS id, 'possible_duplicate' AS kind, d.probability AS probability, d.item_since AS since,
         a {.person_id, .name, .birth_year, .birth_date, .sex, .personal_id, .bhxh, .province, .sources} AS left,
         b {.person_id, .name, .birth_year, .birth_date, .sex, .personal_id, .bhxh, .province, .sources} AS right,
         null AS linked_to, d.override_by AS override_by
}
RETURN id, kind, probability, toString(since) AS since, left, right, linked_to, override_by
