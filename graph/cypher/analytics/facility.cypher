// One facility by code, with its name, ownership and unit.
// params: $code
MATCH (f:Facility {code: $code})
OPTIONAL MATCH (f)-[:LOCATED_IN]->(u:AdminUnit)
RETURN f.code AS code, f.name AS name, f.ownership AS ownership, u.code AS unit, u.province_code AS province
