// Active persons with a disease of the given ICD-10 prefixes, from a visit diagnosis or from the chronic
// conditions of their commune health record, with the visits that mention it and their last visit of any kind.
// params: $prefixes, $province, $communes
MATCH (d:Disease)
WHERE any(prefix IN $prefixes WHERE d.icd10 STARTS WITH prefix)
CALL (d) {
  MATCH (d)<-[:DIAGNOSED]-(e:Encounter)<-[:HAD_ENCOUNTER]-(:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person)
  RETURN p, e.admitted_at AS at, false AS recorded
  UNION ALL
  MATCH (d)<-[:IS_DISEASE]-(c:Condition {category: 'chronic'})<-[:REPORTED]-(:SourceRecord)
        -[:LINKED_TO {state: 'MATCH'}]->(p:Person)
  RETURN p, null AS at, true AS recorded
}
WITH p, d, at, recorded
WHERE p.status = 'active' AND ($province IS NULL OR p.province = $province)
  AND ($communes IS NULL OR p.commune IN $communes)
WITH p, d.icd10 AS icd10, count(at) AS visits, min(at) AS first_at, max(recorded) AS recorded
CALL (p) {
  OPTIONAL MATCH (p)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->(any:Encounter)
  RETURN max(any.admitted_at) AS last_seen
}
RETURN p.person_id AS person_id, p.name AS name, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_year AS birth_year, p.household_code AS household, p.phone AS phone, icd10, visits, recorded,
       first_at.epochMillis AS first_ms, last_seen.epochMillis AS last_seen_ms
