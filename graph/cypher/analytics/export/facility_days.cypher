// Analytics projection: visits and doses given at each facility, per day (all of them, linked or not);
// of the facilities $facilities only, when given (an incremental refresh).
// params: $facilities
MATCH (f:Facility)
WHERE $facilities IS NULL OR f.code IN $facilities
CALL (f) {
  MATCH (f)<-[:AT]-(e:Encounter)
  RETURN date(e.admitted_at) AS day, count(*) AS encounters, 0 AS doses
  UNION ALL
  MATCH (f)<-[:AT]-(i:Immunization)
  RETURN i.date AS day, 0 AS encounters, count(*) AS doses
}
RETURN f.code AS facility, toString(day) AS day, sum(encounters) AS encounters, sum(doses) AS doses
