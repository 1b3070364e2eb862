// Parents of each person: the mother named (by personal id) on its birth certificate, and the head
// and spouse of the household where it is a child (Con).
// params: $ids
UNWIND $ids AS id
MATCH (child:Person {person_id: id})
CALL (child) {
  MATCH (child)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord)
  WHERE r.mother_pid IS NOT NULL
  MATCH (mother:Person {personal_id: r.mother_pid, status: 'active'})
  WHERE mother <> child
  MERGE (mother)-[rel:PARENT_OF]->(child)
  SET rel.source = 'birth_certificate'
}
CALL (child) {
  MATCH (child)-[:MEMBER_OF {relation: 'Con'}]->(h:Household)<-[m:MEMBER_OF]-(parent:Person)
  WHERE m.relation IN ['Chủ hộ', 'Vợ', 'Chồng'] AND parent <> child
  MERGE (parent)-[rel:PARENT_OF]->(child)
  ON CREATE SET rel.source = 'household'
}
