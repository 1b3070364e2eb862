// Create or update ICD-10 codes with their block and chapter (IN_GROUP, code -> block -> chapter); name is
// WHO's English title, name_vi the Vietnamese one where HoSo ships it (else null).
// params: $rows
UNWIND $rows AS row
MERGE (d:Disease {icd10: row.icd10})
SET d.name = row.name, d.name_vi = row.name_vi
WITH d, row
MERGE (block:DiseaseGroup {code: row.block})
SET block.name = row.block_name, block.level = 'block'
MERGE (chapter:DiseaseGroup {code: row.chapter})
SET chapter.name = row.chapter_name, chapter.name_vi = row.chapter_name_vi, chapter.level = 'chapter'
MERGE (d)-[:IN_GROUP]->(block)
MERGE (block)-[:IN_GROUP]->(chapter)
