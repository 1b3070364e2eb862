// A person's records (the MATCH ones) with the properties scoring reads.
// params: $person_id
MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'MATCH'}]->(p:Person {person_id: $person_id, status: 'active'})
RETURN r {.*} AS record, l.origin AS origin, coalesce(p.version, 0) AS version, p.province AS province
ORDER BY r.uid
