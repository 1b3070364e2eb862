-- Active persons reporting a risk factor (e.g. smoking) in their commune health record.
-- replaces: risk_factors
-- params: $factor, $province, $communes
SELECT DISTINCT p.person_id, p.commune, p.household
FROM risk_factors r JOIN persons p ON p.person_id = r.person_id
WHERE r.code = $factor
  AND ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR list_contains($communes, p.commune))
