-- The doses received by the active children born in a window: one row per child, vaccine, dose number and date.
-- replaces: child_doses
-- params: $born_from, $born_to, $province, $communes
SELECT DISTINCT i.person_id, i.vaccine, i.dose, i.date
FROM immunizations i
SEMI JOIN persons p ON p.person_id = i.person_id
  AND p.birth_date >= $born_from AND p.birth_date < $born_to
  AND ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR list_contains($communes, p.commune))
