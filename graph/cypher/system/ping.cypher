// Prove the server answers a real query.
// params: none
RETURN 1 AS ok
