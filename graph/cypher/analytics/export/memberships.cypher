// Analytics projection: household memberships of active persons (one row per MEMBER_OF).
// params: none
MATCH (h:Household)<-[:MEMBER_OF]-(p:Person {status: 'active'})
RETURN h.code AS household, p.person_id AS person_id
