// Active persons by unit, sex and birth year; `registry` counts those the population registry knows
// (the denominators of the statistical reports).
// params: $province, $communes
MATCH (p:Person {status: 'active'})
WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
RETURN p.province AS province, p.commune AS commune, p.sex AS sex, p.birth_year AS birth_year,
       count(*) AS persons, sum(CASE WHEN 'population' IN p.sources THEN 1 ELSE 0 END) AS registry
