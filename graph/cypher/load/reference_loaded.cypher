// How many administrative units are loaded (zero until reference data is loaded).
// params: none
MATCH (u:AdminUnit)
RETURN count(u) AS units
