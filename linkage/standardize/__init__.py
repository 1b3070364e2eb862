"""Pure standardisation functions shared by batch and real-time linkage.

- `text`: NFC, tone-mark placement, diacritics-free keys, legacy encodings;
- `names`: family, middle and given parts, family-name equivalences;
- `dates`: dates of birth with their precision; hospital compact dates;
- `phones`: one phone form with the 2018 prefix move;
- `icd10`: ICD-10 code form and existence.
"""
