// What an operation changes, as it stands: every link of the records (with all its properties), each
// person's status and the id it was merged into, and the duplicate marks at the persons. Taken before
// and after each operation, so that undoing it restores the state before exactly.
// params: $uids, $ids
CALL () {
  UNWIND $uids AS uid
  MATCH (r:SourceRecord {uid: uid})-[l:LINKED_TO]->(p:Person)
  RETURN collect({uid: uid, person_id: p.person_id, props: properties(l)}) AS links
}
CALL () {
  UNWIND $ids AS id
  MATCH (p:Person {person_id: id})
  OPTIONAL MATCH (p)-[:MERGED_INTO]->(s:Person)
  RETURN collect({person_id: id, status: p.status, merged_into: s.person_id, province: p.province,
                  version: coalesce(p.version, 0)}) AS persons
}
CALL () {
  UNWIND $ids AS id
  MATCH (:Person {person_id: id})-[d:POSSIBLE_DUPLICATE|NOT_DUPLICATE]-(:Person)
  WITH DISTINCT d
  RETURN collect({type: type(d), a: startNode(d).person_id, b: endNode(d).person_id, props: properties(d)}) AS marks
}
RETURN links, persons, marks
