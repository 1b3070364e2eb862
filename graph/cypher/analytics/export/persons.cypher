// Analytics projection: every active person with the fields the analyses group and list by; `registry`
// says whether the population registry knows the person.
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
RETURN p.person_id AS person_id, p.name AS name, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_year AS birth_year, p.birth_date AS birth_date, p.household_code AS household, p.phone AS phone,
       'population' IN p.sources AS registry
