"""Pure standardisation functions shared by batch and real-time linkage.

- `text`: NFC, tone-mark placement, diacritics-free keys, legacy encodings;
- `names`: family, middle and given parts, family-name equivalences;
- `dates`: dates of birth with their precision; hospital compact dates;
- `phones`: one phone form with the 2018 prefix move;
- `ids`: what a personal id (CCCD) encodes, insurance numbers, ids one keystroke apart;
- `icd10`: ICD-10 code form, existence and Vietnamese names;
- `admin_units`: Vietnam's administrative units before and after the 1 July 2025 reform;
- `table`: a batch's records as the linkage table the model reads.
"""

from linkage.standardize.admin_units import AdminUnit, AdminUnits, load_admin_units
from linkage.standardize.dates import parse_birth_date, parse_compact, parse_compact_datetime
from linkage.standardize.icd10 import (
    VIETNAM_RETAINED,
    icd10_description,
    icd10_name_vi,
    is_known_icd10,
    normalise_icd10,
)
from linkage.standardize.ids import compatible_ids, one_keystroke_apart
from linkage.standardize.names import split_name
from linkage.standardize.phones import normalise_phone, old_form
from linkage.standardize.table import (
    LINKAGE_COLUMNS,
    NAME_KEYED,
    birth_keys,
    name_keys,
    place_newborns,
    standardise,
    standardise_one,
    with_name_keys,
)
from linkage.standardize.text import EncodingProblem, fold, nfc, repair_text

__all__ = [
    "LINKAGE_COLUMNS",
    "NAME_KEYED",
    "VIETNAM_RETAINED",
    "AdminUnit",
    "AdminUnits",
    "EncodingProblem",
    "birth_keys",
    "compatible_ids",
    "fold",
    "icd10_description",
    "icd10_name_vi",
    "is_known_icd10",
    "load_admin_units",
    "name_keys",
    "nfc",
    "normalise_icd10",
    "normalise_phone",
    "old_form",
    "one_keystroke_apart",
    "parse_birth_date",
    "parse_compact",
    "parse_compact_datetime",
    "place_newborns",
    "repair_text",
    "split_name",
    "standardise",
    "standardise_one",
    "with_name_keys",
]
