-- Active persons by unit, sex and birth year; `registry` counts those the population registry knows.
-- replaces: population, population_in_province
-- params: $province, $communes
SELECT province, commune, sex, birth_year, count(*) AS persons,
       sum(CASE WHEN registry THEN 1 ELSE 0 END) AS registry
FROM persons
WHERE ($province IS NULL OR province = $province) AND ($communes IS NULL OR list_contains($communes, commune))
GROUP BY province, commune, sex, birth_year
