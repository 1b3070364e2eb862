// How many active persons there are, and how many open review items.
// params: none
CALL () { MATCH (p:Person {status: 'active'}) RETURN count(p) AS persons }
CALL () { MATCH ()-[l:LINKED_TO {state: 'POSSIBLE_MATCH'}]->() RETURN count(l) AS possible_matches }
CALL () { MATCH ()-[d:POSSIBLE_DUPLICATE {status: 'open'}]-() RETURN count(d) / 2 AS possible_duplicates }
RETURN persons, possible_matches, possible_duplicates
