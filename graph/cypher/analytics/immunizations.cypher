// Children born in a window with every dose they received (from any source), their unit and household.
// params: $born_from, $born_to, $province, $communes
MATCH (p:Person {status: 'active'})
WHERE p.birth_date >= $born_from AND p.birth_date < $born_to
  AND ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
CALL (p) {
  OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:RECEIVED]->(i:Immunization)
                 -[:OF_VACCINE]->(v:Vaccine)
  RETURN collect(DISTINCT {vaccine: v.code, dose: i.dose, date: toString(i.date)}) AS doses
}
RETURN p.person_id AS person_id, p.name AS name, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_date AS birth_date, p.household_code AS household, p.phone AS phone,
       [d IN doses WHERE d.vaccine IS NOT NULL] AS doses
