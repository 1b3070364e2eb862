// Link each pre-2025 commune to the post-2025 communes that succeeded it (default first).
// params: $rows
UNWIND $rows AS row
MATCH (old:AdminUnit {uid: row.old_uid})
MATCH (new:AdminUnit {uid: row.new_uid})
MERGE (old)-[s:SUCCEEDED_BY]->(new)
SET s.is_default = row.is_default, s.since = date('2025-07-01')
