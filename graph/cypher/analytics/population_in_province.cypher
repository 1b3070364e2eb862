// Active persons by unit, sex and birth year; `registry` counts those the population registry knows
// (the denominators of the statistical reports).
// For one province (and optionally some of its communes), from the province index.
// params: $province, $communes
MATCH (p:Person {province: $province})
USING INDEX p:Person(province)
WHERE p.status = 'active' AND ($communes IS NULL OR p.commune IN $communes)
RETURN p.province AS province, p.commune AS commune, p.sex AS sex, p.birth_year AS birth_year,
       count(*) AS persons, sum(CASE WHEN 'population' IN p.sources THEN 1 ELSE 0 END) AS registry
