-- Household size distribution per commune (active members of each household).
-- replaces: household_sizes
-- params: $province, $communes
WITH sizes AS (
  SELECT m.household, p.province, p.commune, count(*) AS size
  FROM memberships m JOIN persons p ON p.person_id = m.person_id
  WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR list_contains($communes, p.commune))
  GROUP BY m.household, p.province, p.commune
)
SELECT province, commune, size, count(*) AS households FROM sizes GROUP BY province, commune, size
