// Active children born in a window, with their unit and household (their doses: `child_doses`).
// params: $born_from, $born_to, $province, $communes
MATCH (p:Person {status: 'active'})
WHERE p.birth_date >= $born_from AND p.birth_date < $born_to
  AND ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
RETURN p.person_id AS person_id, p.name AS name, p.province AS province, p.commune AS commune, p.sex AS sex,
       p.birth_date AS birth_date, p.household_code AS household, p.phone AS phone
