-- Active children born in a window, with their unit and household.
-- replaces: children
-- params: $born_from, $born_to, $province, $communes
SELECT person_id, name, province, commune, sex, birth_date, household, phone
FROM persons
WHERE birth_date >= $born_from AND birth_date < $born_to
  AND ($province IS NULL OR province = $province) AND ($communes IS NULL OR list_contains($communes, commune))
