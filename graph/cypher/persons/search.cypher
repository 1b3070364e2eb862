// Find active persons by exact ids, by name (diacritics-free, prefix), birth date and commune;
// optionally within one province. Paged.
// params: $personal_id, $bhxh, $name_fold, $birth_date, $commune, $province, $skip, $limit
MATCH (p:Person {status: 'active'})
WHERE ($personal_id IS NULL OR p.personal_id = $personal_id)
  AND ($bhxh IS NULL OR p.bhxh = $bhxh)
  AND ($name_fold IS NULL OR p.name_fold STARTS WITH $name_fold)
  AND ($birth_date IS NULL OR p.birth_date = $birth_date)
  AND ($commune IS NULL OR p.commune = $commune)
  AND ($province IS NULL OR p.province = $province)
WITH p ORDER BY p.name_fold, p.person_id
WITH collect(p) AS found
RETURN size(found) AS count,
       [x IN found[$skip..($skip + $limit)] | x {.person_id, .name, .birth_date, .birth_year, .sex, .commune,
                                                  .province, .record_count}] AS data
