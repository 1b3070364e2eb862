// The active person with a personal id, with the phones on file and province.
// params: $personal_id
MATCH (p:Person {personal_id: $personal_id})
WHERE p.status = 'active'
OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord {source: 'population'})
WITH p, [x IN collect(r.phone) WHERE x IS NOT NULL] + CASE WHEN p.phone IS NULL THEN [] ELSE [p.phone] END AS phones
RETURN p.person_id AS person_id, p.province AS province, phones
LIMIT 1
