// Post-2025 units of one level with coordinates, optionally only those of one province (for the map).
// params: $level, $province
MATCH (u:AdminUnit {code_list: 'post2025', level: $level})
WHERE $province IS NULL OR u.province_code = $province OR u.code = $province
RETURN u.code AS code, u.name AS name, u.province_code AS province, u.lat AS lat, u.lon AS lon
ORDER BY code
