// The doses received by the active children born in a window, from any source: one row per child,
// vaccine, dose number and date.
// params: $born_from, $born_to, $province, $communes
MATCH (p:Person {status: 'active'})
WHERE p.birth_date >= $born_from AND p.birth_date < $born_to
  AND ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:RECEIVED]->(i:Immunization)-[:OF_VACCINE]->(v:Vaccine)
RETURN DISTINCT p.person_id AS person_id, v.code AS vaccine, i.dose AS dose, toString(i.date) AS date
