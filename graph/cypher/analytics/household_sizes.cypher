// Household size distribution per commune (active members of each household).
// params: $province, $communes
MATCH (h:Household)<-[:MEMBER_OF]-(p:Person {status: 'active'})
WHERE ($province IS NULL OR p.province = $province) AND ($communes IS NULL OR p.commune IN $communes)
WITH h, p.province AS province, p.commune AS commune, count(p) AS size
RETURN province, commune, size, count(h) AS households
