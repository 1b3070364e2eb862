// ICD-10 categories (3 characters) of each active person diagnosed in a period, for the comorbidity network.
// params: $start, $end, $province
MATCH (e:Encounter)
WHERE e.admitted_at >= datetime($start) AND e.admitted_at < datetime($end)
MATCH (e)-[:DIAGNOSED]->(d:Disease)
MATCH (e)<-[:HAD_ENCOUNTER]-(:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'})
WHERE $province IS NULL OR p.province = $province
WITH p, collect(DISTINCT substring(d.icd10, 0, 3)) AS codes
RETURN codes, count(*) AS persons
