// Create or update vaccines.
// params: $rows
UNWIND $rows AS row
MERGE (v:Vaccine {code: row.code})
SET v.name = coalesce(v.name, row.name)
