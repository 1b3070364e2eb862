// Analytics projection: every facility with its ownership, level and unit; of the facilities
// $facilities only, when given (an incremental refresh).
// params: $facilities
MATCH (f:Facility)
WHERE $facilities IS NULL OR f.code IN $facilities
OPTIONAL MATCH (f)-[:LOCATED_IN]->(u:AdminUnit)
RETURN f.code AS facility, f.name AS name, f.ownership AS ownership, f.level AS level, u.code AS unit,
       u.province_code AS province
