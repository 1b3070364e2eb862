// As `diagnoses`, for communes (a commune, or a pre-2025 district's successors): starts from their
// persons (by index) and follows their records to the visits of the period.
// params: $start, $end, $communes, $prefixes
MATCH (p:Person)
USING INDEX p:Person(commune)
WHERE p.commune IN $communes AND p.status = 'active'
MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->(e:Encounter)
WHERE e.admitted_at >= datetime($start) AND e.admitted_at < datetime($end)
MATCH (e)-[:DIAGNOSED]->(d:Disease)
WHERE $prefixes IS NULL OR any(prefix IN $prefixes WHERE d.icd10 STARTS WITH prefix)
WITH p, d, min(e.admitted_at) AS first
OPTIONAL MATCH (d)-[:IN_GROUP]->(block:DiseaseGroup)-[:IN_GROUP]->(chapter:DiseaseGroup)
RETURN p.person_id AS person_id, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_year AS birth_year, p.household_code AS household, d.icd10 AS icd10, d.name AS name,
       block.code AS block, block.name AS block_name, chapter.code AS chapter, chapter.name AS chapter_name,
       first.epochMillis AS first_ms
