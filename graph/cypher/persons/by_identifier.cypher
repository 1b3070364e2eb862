// Active persons whose golden personal id, social insurance number or CMND equals a value.
// params: $kind, $value
MATCH (p:Person {status: 'active'})
WHERE ($kind = 'personal_id' AND p.personal_id = $value) OR ($kind = 'bhxh' AND p.bhxh = $value)
   OR ($kind = 'cmnd' AND p.cmnd = $value)
RETURN p.person_id AS person_id
LIMIT 20
