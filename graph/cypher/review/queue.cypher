// Open review items: records that may be a person (POSSIBLE_MATCH) and persons that may be one
// (POSSIBLE_DUPLICATE), most uncertain first, then oldest; filtered by province and source.
// params: $province, $source, $skip, $limit
CALL () {
  MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'POSSIBLE_MATCH'}]->(p:Person {status: 'active'})
  WHERE ($province IS NULL OR p.province = $province OR r.province = $province)
    AND ($source IS NULL OR r.source = $source)
  RETURN 'possible_match' AS kind, r.uid AS left, p.person_id AS right, l.probability AS probability,
         l.updated_at AS since
  UNION ALL
  MATCH (a:Person {status: 'active'})-[d:POSSIBLE_DUPLICATE {status: 'open'}]-(b:Person {status: 'active'})
  WHERE a.person_id < b.person_id AND ($province IS NULL OR a.province = $province OR b.province = $province)
    AND $source IS NULL
  RETURN 'possible_duplicate' AS kind, a.person_id AS left, b.person_id AS right, d.probability AS probability,
         d.created_at AS since
}
WITH kind, left, right, probability, since
ORDER BY abs(coalesce(probability, 0.5) - 0.5), since
WITH collect({kind: kind, left: left, right: right, probability: probability, since: toString(since)}) AS items
RETURN size(items) AS count, items[$skip..($skip + $limit)] AS data
