// Each active person diagnosed in a period, once per ICD-10 code, with the first day of that code in
// the period, the person's unit, sex and birth year, the household (for clustering), and the code's
// ICD-10 block and chapter.
// params: $start, $end, $province, $communes, $prefixes
MATCH (e:Encounter)
WHERE e.admitted_at >= datetime($start) AND e.admitted_at < datetime($end)
MATCH (e)-[:DIAGNOSED]->(d:Disease)
WHERE $prefixes IS NULL OR any(prefix IN $prefixes WHERE d.icd10 STARTS WITH prefix)
MATCH (e)<-[:HAD_ENCOUNTER]-(:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person {status: 'active'})
WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
WITH p, d, min(e.admitted_at) AS first
OPTIONAL MATCH (d)-[:IN_GROUP]->(block:DiseaseGroup)-[:IN_GROUP]->(chapter:DiseaseGroup)
RETURN p.person_id AS person_id, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_year AS birth_year, p.household_code AS household, d.icd10 AS icd10, d.name AS name,
       block.code AS block, block.name AS block_name, chapter.code AS chapter, chapter.name AS chapter_name,
       first.epochMillis AS first_ms
