-- The ICD-10 categories (3 characters) of each active person diagnosed in a period, counted by set of
-- categories (each set sorted).
-- replaces: comorbidity
-- params: $start, $end, $province, $communes
WITH named AS (
  SELECT e.person_id, substr(unnest(e.codes), 1, 3) AS category
  FROM encounters e
  WHERE e.admitted_ms >= epoch_ms(CAST($start AS TIMESTAMP)) AND e.admitted_ms < epoch_ms(CAST($end AS TIMESTAMP))
), per_person AS (
  SELECT n.person_id, list_sort(list_distinct(list(n.category))) AS codes
  FROM named n JOIN persons p ON p.person_id = n.person_id
  WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR list_contains($communes, p.commune))
  GROUP BY n.person_id
)
SELECT codes, count(*) AS persons FROM per_person GROUP BY codes
