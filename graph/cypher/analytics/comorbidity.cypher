// ICD-10 categories (3 characters) of each active person diagnosed in a period, for the comorbidity network.
// params: $start, $end, $province, $communes
MATCH (e:Encounter)
WHERE e.admitted_at >= datetime($start) AND e.admitted_at < datetime($end)
MATCH (e)-[:DIAGNOSED]->(d:Disease)
MATCH (e)<-[:HAD_ENCOUNTER]-(:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'})
WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
WITH p, collect(DISTINCT substring(d.icd10, 0, 3)) AS codes
RETURN codes, count(*) AS persons
