// Wait until every index is online, so that tests and loads start on a usable schema.
// params: $seconds
CALL db.awaitIndexes($seconds)
