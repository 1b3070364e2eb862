// Analytics projection: every ICD-10 code with its name, block and chapter.
// params: none
MATCH (d:Disease)
OPTIONAL MATCH (d)-[:IN_GROUP]->(block:DiseaseGroup)-[:IN_GROUP]->(chapter:DiseaseGroup)
RETURN d.icd10 AS icd10, d.name AS name, block.code AS block, block.name AS block_name, chapter.code AS chapter,
       chapter.name AS chapter_name
