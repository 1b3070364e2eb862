// A citizen closes part of a record (or all of it); closing the same thing twice keeps the first closure.
// params: $closure_id, $person_id, $scope, $target, $created_by
MERGE (c:Closure {person_id: $person_id, scope: $scope, target: coalesce($target, '')})
  ON CREATE SET c.closure_id = $closure_id, c.created_by = $created_by, c.created_at = datetime()
RETURN c.closure_id AS closure_id
