// Analytics projection: every active person with the fields the analyses group and list by; `registry`
// says whether the population registry knows the person.
// params: none
MATCH (p:Person {status: 'active'})
RETURN p.person_id AS person_id, p.name AS name, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_year AS birth_year, p.birth_date AS birth_date, p.household_code AS household, p.phone AS phone,
       'population' IN p.sources AS registry
