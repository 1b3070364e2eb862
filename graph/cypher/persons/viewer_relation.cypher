// How a citizen (their own person) relates to a person: self, parent of, or the same household
// where the person is a child under 18.
// params: $viewer, $person_id, $adult_year
MATCH (p:Person {person_id: $person_id})
OPTIONAL MATCH (me:Person {person_id: $viewer})
RETURN p.province AS province,
       $viewer = $person_id AS self,
       EXISTS { (me)-[:PARENT_OF]->(p) } AS parent,
       EXISTS { (me)-[:MEMBER_OF]->(:Household)<-[m:MEMBER_OF {relation: 'Con'}]-(p)
                WHERE coalesce(p.birth_year, 0) > $adult_year } AS dependant
