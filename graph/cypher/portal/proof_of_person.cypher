// What a citizen proves who they are against: the active person with this personal id, its birth date
// and year, the phones on file (the golden record's and those of its population-registry records), and
// the citizen account that already reads it, if any. No row when no active person has the id.
// params: $personal_id
MATCH (p:Person {personal_id: $personal_id})
WHERE p.status = 'active'
OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord {source: 'population'})
WITH p, [x IN collect(r.phone) WHERE x IS NOT NULL] + CASE WHEN p.phone IS NULL THEN [] ELSE [p.phone] END AS phones
OPTIONAL MATCH (u:User {role: 'citizen', person_id: p.person_id})
RETURN p.person_id AS person_id, toString(p.birth_date) AS birth_date, p.birth_year AS birth_year, phones,
       u.username AS account
LIMIT 1
