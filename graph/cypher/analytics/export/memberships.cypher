// Analytics projection: household memberships of active persons (one row per MEMBER_OF).
// params: $ids
CALL () {  // every active person, or only those of $ids (an incremental refresh)
  WITH $ids AS ids WHERE ids IS NULL
  MATCH (p:Person {status: 'active'}) RETURN p
  UNION ALL
  UNWIND coalesce($ids, []) AS id
  MATCH (p:Person {person_id: id, status: 'active'}) RETURN p
}
MATCH (h:Household)<-[:MEMBER_OF]-(p)
RETURN h.code AS household, p.person_id AS person_id
