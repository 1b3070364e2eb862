// Candidate source records for one person's demographics, found through the matching indexes
// (the blocking keys of the model), each with the person it is matched to.
// params: $personal_id, $bhxh, $cmnd, $phone, $family_key, $given_fold, $birth_year, $birth_date, $commune, $name_set, $limit
CALL () {
  MATCH (r:SourceRecord {personal_id: $personal_id}) RETURN r
  UNION
  MATCH (r:SourceRecord {bhxh: $bhxh}) RETURN r
  UNION
  MATCH (r:SourceRecord {cmnd: $cmnd}) RETURN r
  UNION
  MATCH (r:SourceRecord {phone: $phone}) RETURN r
  UNION
  MATCH (r:SourceRecord {family_key: $family_key, given_fold: $given_fold, birth_year: $birth_year}) RETURN r
  UNION
  MATCH (r:SourceRecord {given_fold: $given_fold, birth_date: $birth_date}) RETURN r
  UNION
  MATCH (r:SourceRecord {birth_date: $birth_date, commune: $commune}) RETURN r
  UNION
  MATCH (r:SourceRecord {family_key: $family_key, birth_date: $birth_date}) RETURN r
  UNION
  MATCH (r:SourceRecord {name_set: $name_set, birth_year: $birth_year}) RETURN r
}
WITH r LIMIT $limit
MATCH (r)-[:LINKED_TO {state: 'MATCH'}]->(p:Person)
RETURN r {.*} AS record, p.person_id AS person_id
