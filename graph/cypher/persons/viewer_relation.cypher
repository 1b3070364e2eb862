// The surviving person of an id (itself when active, else the end of its MERGED_INTO chain) and how
// a viewer (a citizen's own person) relates to it: self, parent of a child under 18, or the same
// household where the person is a child under 18 (an adult child's record is their own). No row when the id is unknown.
// params: $viewer, $person_id, $adult_year
MATCH (asked:Person {person_id: $person_id})
OPTIONAL MATCH (asked)-[:MERGED_INTO*1..10]->(survivor:Person {status: 'active'})
WITH coalesce(survivor, asked) AS p
OPTIONAL MATCH (me:Person {person_id: $viewer})
RETURN p.person_id AS person_id,
       p.province AS province,
       $viewer = p.person_id AS self,
       EXISTS { (me)-[:PARENT_OF]->(p) WHERE coalesce(p.birth_year, 0) > $adult_year } AS parent,
       EXISTS { (me)-[:MEMBER_OF]->(:Household)<-[m:MEMBER_OF {relation: 'Con'}]-(p)
                WHERE coalesce(p.birth_year, 0) > $adult_year } AS dependant
