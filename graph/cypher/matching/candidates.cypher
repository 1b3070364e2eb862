// Candidate source records for one person's demographics, found through the matching indexes
// (the blocking keys of the model), each with the person it is matched to and the properties the
// model compares (not the whole record: fewer values to send and decode per candidate; a test checks
// that every column the model reads is here). One row holding the list: the driver's cost is per row
// (half the client CPU of a row per candidate, measured with 75 candidates).
// params: $personal_id, $bhxh, $cmnd, $other_id, $phone, $family_key, $given_fold, $birth_year, $birth_date, $commune, $name_set, $limit
CALL () {
  MATCH (r:SourceRecord {personal_id: $personal_id}) RETURN r
  UNION
  MATCH (r:SourceRecord {bhxh: $bhxh}) RETURN r
  UNION
  MATCH (r:SourceRecord {cmnd: $cmnd}) RETURN r
  UNION
  MATCH (r:SourceRecord {other_id: $other_id}) RETURN r
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
RETURN collect({
  record: r {.uid, .personal_id, .pid_ok, .cmnd, .bhxh, .other_id, .other_system, .family_fold, .family_key, .middle_fold, .middle_last,
             .given_fold, .birth_date, .birth_year, .birth_ym, .birth_dm_swap, .sex, .phone, .commune, .province,
             .address_key, .postcode, .household_code},
  person_id: p.person_id
}) AS found
