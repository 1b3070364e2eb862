// The post-2025 communes that are the default successors of the pre-2025 communes of each pre-2025 district.
// params: $district
MATCH (d:AdminUnit {code_list: 'pre2025', level: 'district'})
WHERE $district IS NULL OR d.code = $district
MATCH (d)<-[:PART_OF]-(:AdminUnit {level: 'commune'})-[s:SUCCEEDED_BY {is_default: true}]->(new:AdminUnit)
RETURN d.code AS district, d.name AS name, collect(DISTINCT new.code) AS communes
