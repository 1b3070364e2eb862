// Administrative units of one code list and level, with name, parent province and coordinates.
// params: $code_list, $level
MATCH (u:AdminUnit {code_list: $code_list, level: $level})
RETURN u.code AS code, u.name AS name, u.province_code AS province, u.lat AS lat, u.lon AS lon
