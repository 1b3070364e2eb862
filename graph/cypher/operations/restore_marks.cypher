// Put the duplicate marks at persons back as a snapshot holds them.
// params: $ids, $marks
CALL () {
  UNWIND $ids AS id
  MATCH (:Person {person_id: id})-[d:POSSIBLE_DUPLICATE|NOT_DUPLICATE]-(:Person)
  WITH DISTINCT d
  DELETE d
}
CALL () {
  UNWIND [mark IN $marks WHERE mark.type = 'POSSIBLE_DUPLICATE'] AS mark
  MATCH (a:Person {person_id: mark.a})
  MATCH (b:Person {person_id: mark.b})
  CREATE (a)-[d:POSSIBLE_DUPLICATE]->(b)
  SET d = mark.props
}
CALL () {
  UNWIND [mark IN $marks WHERE mark.type = 'NOT_DUPLICATE'] AS mark
  MATCH (a:Person {person_id: mark.a})
  MATCH (b:Person {person_id: mark.b})
  CREATE (a)-[d:NOT_DUPLICATE]->(b)
  SET d = mark.props
}
RETURN size($marks) AS restored
