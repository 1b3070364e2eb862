// Encounters and immunizations given at each facility in a period, with the facility's ownership and unit.
// params: $start, $end, $province, $facility
MATCH (f:Facility)
WHERE $facility IS NULL OR f.code = $facility
OPTIONAL MATCH (f)-[:LOCATED_IN]->(u:AdminUnit)
WITH f, u WHERE $province IS NULL OR u.province_code = $province OR u.code = $province
CALL (f) {
  OPTIONAL MATCH (f)<-[:AT]-(e:Encounter)
  WHERE e.admitted_at >= datetime($start) AND e.admitted_at < datetime($end)
  RETURN count(e) AS encounters
}
CALL (f) {
  OPTIONAL MATCH (f)<-[:AT]-(i:Immunization)
  WHERE i.date >= date(datetime($start)) AND i.date < date(datetime($end))
  RETURN count(i) AS doses
}
RETURN f.code AS facility, f.name AS name, f.ownership AS ownership, f.level AS level,
       u.code AS unit, u.province_code AS province, encounters, doses
