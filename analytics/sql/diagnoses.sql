-- Each active person diagnosed in a period, once per ICD-10 code, with the first visit of the period that
-- names it, the person's unit, sex, birth year and household, and the code's block and chapter.
-- replaces: diagnoses, diagnoses_in_province, diagnoses_in_communes
-- params: $start, $end, $province, $communes, $prefixes
WITH named AS (
  SELECT person_id, unnest(codes) AS icd10, admitted_ms
  FROM encounters
  WHERE admitted_ms >= epoch_ms(CAST($start AS TIMESTAMP)) AND admitted_ms < epoch_ms(CAST($end AS TIMESTAMP))
), cases AS (
  SELECT person_id, icd10, min(admitted_ms) AS first_ms
  FROM named
  WHERE $prefixes IS NULL OR (len($prefixes) > 0 AND regexp_matches(icd10, '^(' || array_to_string(list_transform($prefixes, lambda prefix: regexp_escape(prefix)), '|') || ')'))
  GROUP BY person_id, icd10
)
SELECT p.person_id, p.province, p.commune, p.sex, p.birth_year, p.household, c.icd10, d.name, d.block,
       d.block_name, d.chapter, d.chapter_name, c.first_ms
FROM cases c
JOIN persons p ON p.person_id = c.person_id
LEFT JOIN diseases d ON d.icd10 = c.icd10
WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR list_contains($communes, p.commune))
