// One try of a code: counted (at most $max_attempts per code), and the challenge used up when the code is
// right. `ok` is true only for the right code of an open, unexpired challenge of this purpose with a person.
// params: $id, $purpose, $code_hash, $max_attempts
MATCH (c:Challenge {id: $id})
WHERE c.state = 'open' AND c.purpose = $purpose AND c.expires_at > datetime() AND c.attempts < $max_attempts
SET c.attempts = c.attempts + 1
WITH c, c.code_hash = $code_hash AND c.person_id IS NOT NULL AS ok
SET c.state = CASE WHEN ok THEN 'used' ELSE c.state END
RETURN ok, CASE WHEN ok THEN c.person_id END AS person_id
