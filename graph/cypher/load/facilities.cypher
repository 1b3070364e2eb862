// Create or update facilities; a known commune or province places them in a unit. A name from a facility
// list wins; a name made from the code (a commune's station) only fills a facility without one.
// params: $rows
UNWIND $rows AS row
MERGE (f:Facility {code: row.code})
SET f.name = coalesce(row.name, f.name, row.fallback_name), f.level = coalesce(row.level, f.level),
    f.ownership = coalesce(row.ownership, f.ownership)
WITH f, row
WHERE row.unit_uid IS NOT NULL
MATCH (u:AdminUnit {uid: row.unit_uid})
MERGE (f)-[:LOCATED_IN]->(u)
