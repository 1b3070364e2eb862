// Create or update administrative units of both code lists, each PART_OF its parent.
// params: $rows
UNWIND $rows AS row
MERGE (u:AdminUnit {uid: row.uid})
SET u.code = row.code, u.level = row.level, u.code_list = row.code_list, u.name = row.name,
    u.lat = row.lat, u.lon = row.lon, u.province_code = row.province_code
WITH u, row
WHERE row.parent_uid IS NOT NULL
MATCH (parent:AdminUnit {uid: row.parent_uid})
MERGE (u)-[:PART_OF]->(parent)
