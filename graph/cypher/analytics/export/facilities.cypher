// Analytics projection: every facility with its ownership, level and unit.
// params: none
MATCH (f:Facility)
OPTIONAL MATCH (f)-[:LOCATED_IN]->(u:AdminUnit)
RETURN f.code AS facility, f.name AS name, f.ownership AS ownership, f.level AS level, u.code AS unit,
       u.province_code AS province
