// Active persons reporting a risk factor (e.g. smoking) in their commune health record.
// params: $factor, $province, $communes
MATCH (c:Condition {category: 'risk_factor', code: $factor})<-[:REPORTED]-(:SourceRecord)
      -[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'})
WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
RETURN DISTINCT p.person_id AS person_id, p.commune AS commune, p.household_code AS household
