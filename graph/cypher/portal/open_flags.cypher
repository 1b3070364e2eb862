// Flags nobody has looked into yet, oldest first: reads citizens flagged, and every break-the-glass read.
// A province's officer ($province) sees that province's; a national one (null) every flag.
// params: $limit, $province
MATCH (f:AccessFlag {status: 'open'})
WHERE $province IS NULL OR f.province = $province
OPTIONAL MATCH (fac:Facility {code: f.facility})
RETURN f {.flag_id, .kind, .entry_id, .note, .flagged_by, .username, .role, .facility, .endpoint, .province,
          created_at: toString(f.created_at), accessed_at: toString(f.accessed_at), facility_name: fac.name} AS flag
ORDER BY f.created_at
LIMIT $limit
